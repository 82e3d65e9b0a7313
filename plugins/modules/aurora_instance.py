#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_instance
short_description: Manage a DB instance of an Aurora PostgreSQL cluster
version_added: 0.1.0
description:
  - Creates, updates and deletes a DB instance in an existing Aurora PostgreSQL cluster.
  - The first instance created in a cluster becomes its writer; later ones are readers.
  - Instances are never publicly accessible; an instance found public is made private.
  - Idempotent, with check mode and diff mode; every change is reported with its impact
    (V(online), V(pending-reboot), V(reboot), V(impossible-in-place)).
author:
  - Vitality platform team (@vitality)
options:
  db_instance_identifier:
    description:
      - The instance identifier.
    type: str
    required: true
    aliases: [id]
  db_cluster_identifier:
    description:
      - The cluster the instance belongs to. Required with O(state=present).
      - Omitted, only with O(state=absent); with O(state=present) the run fails before any AWS call.
    type: str
  state:
    description:
      - V(present) creates or updates the instance; V(absent) deletes it.
      - Omitted, V(present).
    type: str
    choices: [present, absent]
    default: present
  engine:
    description:
      - The engine, which must be the cluster's.
      - Omitted, V(aurora-postgresql), the only engine the module manages.
    type: str
    choices: [aurora-postgresql]
    default: aurora-postgresql
  db_instance_class:
    description:
      - The instance class, for example V(db.r6g.large). Required to create the instance.
      - Changing it restarts the instance (impact V(reboot)).
      - Omitted, an existing instance's class is not compared, and creating the instance fails.
    type: str
  availability_zone:
    description:
      - The Availability Zone to create the instance in. AWS cannot move an instance afterwards.
      - Omitted, AWS chooses the zone of a new instance, and an existing instance's is not compared.
    type: str
  promotion_tier:
    description:
      - Failover priority, 0 (first) to 15 (last).
      - Omitted, a new instance gets AWS's default tier, V(1), and an existing instance's is not compared.
    type: int
  db_parameter_group_name:
    description:
      - The DB (instance) parameter group. Changing it takes effect at the next reboot.
      - Omitted, a new instance gets the engine's default DB parameter group, and an existing instance's is not
        compared.
    type: str
  auto_minor_version_upgrade:
    description:
      - Let AWS apply minor engine upgrades in the maintenance window.
      - Omitted, on for a new instance (AWS's default), and an existing instance's setting is not compared.
    type: bool
  preferred_maintenance_window:
    description:
      - Weekly maintenance window of the instance, C(ddd:hh24:mi-ddd:hh24:mi) in UTC.
      - Omitted, AWS chooses the window of a new instance, and an existing instance's is not compared.
    type: str
  ca_certificate_identifier:
    description:
      - The certificate authority for the server certificate, for example V(rds-ca-rsa2048-g1).
      - Omitted, a new instance gets AWS's default certificate authority, and an existing instance's is not compared.
    type: str
  enable_performance_insights:
    description:
      - Turn on Performance Insights (impact V(online)).
      - When AWS's description of the instance does not say whether it is on, the setting is left as it is
        rather than reported as a change on every run.
      - Omitted, off for a new instance (AWS's default), and an existing instance's setting is not compared.
    type: bool
  performance_insights_retention_period:
    description:
      - Days Performance Insights data is kept, 7 or a multiple of 31 up to 713, or 731.
      - Ignored while O(enable_performance_insights=false).
      - Omitted, AWS's default of 7 days when Performance Insights is turned on, and an existing instance's period is
        not compared.
    type: int
  performance_insights_kms_key_id:
    description:
      - KMS key for Performance Insights data, its ARN or key ID (an alias cannot be compared with the key
        ARN AWS reports).
      - AWS takes the key when Performance Insights is turned on; changing it afterwards is
        V(impossible-in-place) (turn Performance Insights off, then on with the new key).
      - Ignored while O(enable_performance_insights=false).
      - Omitted or empty, the account's C(aws/rds) key when Performance Insights is turned on, and an existing
        instance's key is not compared.
    type: str
  monitoring_interval:
    description:
      - Enhanced Monitoring interval in seconds (0 turns it off; 1, 5, 10, 15, 30 or 60).
      - Omitted, Enhanced Monitoring is off on a new instance (AWS's default, V(0)), and an existing instance's interval
        is not compared.
    type: int
  monitoring_role_arn:
    description:
      - IAM role that lets RDS send Enhanced Monitoring metrics to CloudWatch Logs. Required when
        O(monitoring_interval) is above 0.
      - Omitted, no role is sent; with O(monitoring_interval) above 0 the run then fails before any AWS call.
    type: str
  apply_immediately:
    description:
      - Apply changes now rather than in the next maintenance window.
      - With a class change, the module waits until the new class is in place, not only until the instance
        reports available.
      - Omitted, V(false); the changes AWS can hold wait for the next maintenance window.
    type: bool
    default: false
  apply_pending_reboot:
    description:
      - Reboot the instance when parameter changes (of its instance or cluster parameter group) wait for a
        reboot, and wait until it is available again. Nothing happens when no change is pending.
      - Omitted, V(false); parameter changes that wait for a reboot keep waiting.
    type: bool
    default: false
  wait:
    description:
      - Wait until the instance is available (or gone, with O(state=absent)).
      - Omitted, V(true).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait before failing with the state last seen.
      - Omitted, V(3600) seconds.
    type: int
    default: 3600
extends_documentation_fragment:
  - vitality.aurora.waiting
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Create the writer of the Vitality cluster
  vitality.aurora.aurora_instance:
    db_instance_identifier: vitality-dev-aurora-writer
    db_cluster_identifier: vitality-dev-aurora
    db_instance_class: db.r6g.large
    promotion_tier: 0
    tags:
      Project: vitality

- name: Create a reader with Performance Insights and Enhanced Monitoring
  vitality.aurora.aurora_instance:
    db_instance_identifier: vitality-prod-aurora-reader-1
    db_cluster_identifier: vitality-prod-aurora
    db_instance_class: db.r6g.large
    promotion_tier: 1
    enable_performance_insights: true
    performance_insights_retention_period: 31
    monitoring_interval: 60
    monitoring_role_arn: arn:aws:iam::123456789012:role/vitality-prod-rds-monitoring

- name: Remove a reader
  vitality.aurora.aurora_instance:
    db_instance_identifier: vitality-prod-aurora-reader-2
    state: absent
"""

RETURN = r"""
instance:
  description:
    - The instance as AWS describes it, snake_cased, with C(tags) as a dictionary; its C(pending_modified_values) are
      returned apart, in RV(pending_modified_values).
  returned: when O(state=present) and the instance exists (not in check mode before creation)
  type: dict
  sample:
    db_instance_identifier: vitality-dev-aurora-writer
    db_cluster_identifier: vitality-dev-aurora
    db_instance_class: db.r6g.large
    db_instance_status: available
    publicly_accessible: false
    availability_zone: us-east-1c
changes:
  description:
    - What the run changed, or in check mode would change, each with its impact; empty when nothing changes.
    - Also returned when the run fails on a change AWS cannot make in place, with that change among them.
  returned: always
  type: list
  elements: dict
  contains:
    attribute:
      description:
        - What changes - an option name (for example C(db_instance_class)), C(tags), C(parameters) for the reboot of
          O(apply_pending_reboot), or C(instance) for the instance itself when it is created or deleted.
      type: str
      returned: always
      sample: db_instance_class
    before:
      description: The value before the run; null when the instance is created.
      type: raw
      returned: always
      sample: db.r6g.large
    after:
      description: The value after the run; null when the instance is deleted.
      type: raw
      returned: always
      sample: db.r6g.xlarge
    impact:
      description:
        - What the change does to the running instance - V(online), V(pending-reboot), V(reboot) or
          V(impossible-in-place).
      type: str
      returned: always
      sample: reboot
    when:
      description:
        - When the change takes effect - V(now) with O(apply_immediately=true), otherwise V(maintenance-window).
      type: str
      returned: for the changes AWS can hold for the maintenance window (for example the instance class)
      sample: now
  sample:
    - attribute: db_instance_class
      before: db.r6g.large
      after: db.r6g.xlarge
      impact: reboot
      when: now
pending_modified_values:
  description: Changes AWS has accepted but applies later (maintenance window or reboot), snake_cased; empty if none.
  returned: when O(state=present), except when the run fails
  type: dict
  sample: {"db_instance_class": "db.r6g.xlarge"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import (
    AwsApi,
    apply_rds_tags,
    drop_none,
    tag_changes,
    tags_to_dict,
    to_snake,
)
from ansible_collections.vitality.aurora.plugins.module_utils.changes import (
    ONLINE,
    REBOOT,
    diff_of,
    impossible,
    impossible_message,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    INSTANCE_NOT_FOUND,
    create_request,
    desired_state,
    modify_request,
    planned_changes,
    waits_for_reboot,
)
from ansible_collections.vitality.aurora.plugins.module_utils.naming import identifier_error
from ansible_collections.vitality.aurora.plugins.module_utils.validation import instance_class_error
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    check_wait_options,
    wait_or_fail,
)

NOT_FOUND = INSTANCE_NOT_FOUND
ALREADY_EXISTS = ("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault")
REMEDY = (
    "Create a new instance with the new setting in the cluster, then remove this one; for the Performance "
    "Insights KMS key, turn Performance Insights off, then on again with the new key."
)
PERFORMANCE_INSIGHTS_RETENTION = (7, *range(31, 31 * 23 + 1, 31), 731)


def read_instance(api, identifier):
    return api.describe_one(
        "describe_db_instances",
        "DBInstances",
        DBInstanceIdentifier=identifier,
        not_found=NOT_FOUND,
        context=f"instance {identifier}",
    )


def wait_until(module, api, identifier, done, wanted):
    if not module.params["wait"]:
        return read_instance(api, identifier)
    return wait_or_fail(
        module,
        lambda: read_instance(api, identifier),
        done,
        what=f"instance {identifier}",
        wanted=wanted,
    )


def is_available(instance):
    return instance is not None and instance.get("DBInstanceStatus") == "available"


def result_of(instance):
    result = to_snake(instance)
    result.pop("pending_modified_values", None)
    return result


def pending_of(instance):
    return to_snake((instance or {}).get("PendingModifiedValues") or {})


def ensure_present(module, api):
    params = module.params
    identifier = params["db_instance_identifier"]
    context = f"instance {identifier}"
    instance = read_instance(api, identifier)

    if instance is None:
        if not params["db_instance_class"]:
            module.fail_json(msg=f"db_instance_class is required to create {context}")
        changes = [{"attribute": "instance", "before": None, "after": identifier, "impact": ONLINE}]
        diff = {"before": {}, "after": drop_none(desired_state(params))}
        if module.check_mode:
            module.exit_json(changed=True, changes=changes, diff=diff, pending_modified_values={})
        created = api.create(
            "create_db_instance",
            exists=lambda: read_instance(api, identifier) is not None,
            already_exists=ALREADY_EXISTS,
            context=context,
            **create_request(params),
        )
        if created is not None:
            instance = wait_until(module, api, identifier, is_available, "available")
            module.exit_json(
                changed=True,
                changes=changes,
                diff=diff,
                instance=result_of(instance),
                pending_modified_values=pending_of(instance),
            )
        # Created first by another run, or by our own retried request: converge what exists.
        instance = read_instance(api, identifier)

    changes = planned_changes(instance, params)
    blocked = impossible(changes)
    if blocked:
        module.fail_json(msg=impossible_message(context, blocked, REMEDY), changes=changes)

    current_tags = tags_to_dict(instance.get("TagList"))
    to_set, to_remove = tag_changes(current_tags, params["tags"], params["purge_tags"])
    if to_set or to_remove:
        changes.append({"attribute": "tags", "before": current_tags, "after": params["tags"], "impact": ONLINE})

    attribute_changes = [c for c in changes if c["attribute"] != "tags"]
    reboot_needed = params["apply_pending_reboot"] and pending_reboot(api, instance)
    if reboot_needed:
        changes.append({"attribute": "parameters", "before": "pending-reboot", "after": "in-sync", "impact": REBOOT})

    if not changes:
        module.exit_json(
            changed=False, changes=[], instance=result_of(instance), pending_modified_values=pending_of(instance)
        )
    if module.check_mode:
        module.exit_json(
            changed=True,
            changes=changes,
            diff=diff_of(changes),
            instance=result_of(instance),
            pending_modified_values=pending_of(instance),
        )

    if (attribute_changes or reboot_needed) and not is_available(instance):
        # AWS refuses to modify or reboot an instance that is still creating or modifying.
        instance = wait_until(module, api, identifier, is_available, "available")
    if attribute_changes:
        api.call("modify_db_instance", context=context, **modify_request(params, attribute_changes))
    apply_rds_tags(api, instance["DBInstanceArn"], to_set, to_remove, context)
    if attribute_changes:
        instance = wait_until(
            module, api, identifier, applied(attribute_changes, params), "available with the change applied"
        )
    if reboot_needed:
        api.call("reboot_db_instance", DBInstanceIdentifier=identifier, context=context)
        instance = wait_until(module, api, identifier, is_available, "available after the reboot")
    if not attribute_changes and not reboot_needed:
        instance = read_instance(api, identifier)
    module.exit_json(
        changed=True,
        changes=changes,
        diff=diff_of(changes),
        instance=result_of(instance),
        pending_modified_values=pending_of(instance),
    )


def applied(attribute_changes, params):
    """When the run is done with a modification.

    "available" alone is not enough: AWS may still report the instance available
    for a moment after accepting a class change. With apply_immediately the new
    class must be in place; otherwise it is left pending for the maintenance window.
    """
    class_change = next((c for c in attribute_changes if c["attribute"] == "db_instance_class"), None)

    def done(instance):
        if not is_available(instance):
            return False
        if class_change is None or not params["apply_immediately"]:
            return True
        pending = instance.get("PendingModifiedValues") or {}
        return instance.get("DBInstanceClass") == class_change["after"] and "DBInstanceClass" not in pending

    return done


def pending_reboot(api, instance):
    """Whether parameter changes wait for this instance to reboot (instance or cluster parameter group)."""
    if waits_for_reboot(instance, None):
        return True
    cluster_id = instance.get("DBClusterIdentifier")
    if not cluster_id:
        return False
    response = api.call(
        "describe_db_clusters",
        DBClusterIdentifier=cluster_id,
        not_found=("DBClusterNotFoundFault",),
        context=f"cluster {cluster_id}",
    )
    clusters = (response or {}).get("DBClusters") or []
    return bool(clusters) and waits_for_reboot(instance, clusters[0])


def ensure_absent(module, api):
    identifier = module.params["db_instance_identifier"]
    context = f"instance {identifier}"
    instance = read_instance(api, identifier)
    if instance is None:
        module.exit_json(changed=False, changes=[])
    if instance.get("DBInstanceStatus") != "deleting":
        changes = [{"attribute": "instance", "before": identifier, "after": None, "impact": ONLINE}]
        diff = {"before": {"db_instance_identifier": identifier}, "after": {}}
        if module.check_mode:
            module.exit_json(changed=True, changes=changes, diff=diff)
        # An Aurora instance's data lives in the cluster volume; the cluster's final snapshot keeps it.
        api.call("delete_db_instance", DBInstanceIdentifier=identifier, not_found=NOT_FOUND, context=context)
    else:
        changes, diff = [], {"before": {}, "after": {}}
    wait_until(module, api, identifier, lambda i: i is None, "deleted")
    module.exit_json(changed=bool(changes), changes=changes, diff=diff)


def validate(module):
    params = module.params
    error = identifier_error("db_instance_identifier", params["db_instance_identifier"], "instance")
    if error:
        module.fail_json(msg=error)
    if params["state"] == "present" and not params["db_cluster_identifier"]:
        module.fail_json(msg="db_cluster_identifier is required with state=present")
    if params["db_instance_class"]:
        error = instance_class_error("db_instance_class", params["db_instance_class"])
        if error:
            module.fail_json(msg=error)
    if params["promotion_tier"] is not None and not 0 <= params["promotion_tier"] <= 15:
        module.fail_json(msg=f"promotion_tier={params['promotion_tier']} is out of range: 0 to 15")
    if params["monitoring_interval"] not in (None, 0, 1, 5, 10, 15, 30, 60):
        module.fail_json(
            msg=f"monitoring_interval={params['monitoring_interval']} is invalid: one of 0, 1, 5, 10, 15, 30, 60"
        )
    if params["monitoring_interval"] and not params["monitoring_role_arn"]:
        module.fail_json(msg="monitoring_interval > 0 needs monitoring_role_arn")
    retention = params["performance_insights_retention_period"]
    if retention is not None and retention not in PERFORMANCE_INSIGHTS_RETENTION:
        module.fail_json(
            msg=f"performance_insights_retention_period={retention} is invalid: 7, a multiple of 31 up to 713, or 731"
        )


def main():
    argument_spec = dict(
        db_instance_identifier=dict(type="str", required=True, aliases=["id"]),
        db_cluster_identifier=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        engine=dict(type="str", choices=["aurora-postgresql"], default="aurora-postgresql"),
        db_instance_class=dict(type="str"),
        availability_zone=dict(type="str"),
        promotion_tier=dict(type="int"),
        db_parameter_group_name=dict(type="str"),
        auto_minor_version_upgrade=dict(type="bool"),
        preferred_maintenance_window=dict(type="str"),
        ca_certificate_identifier=dict(type="str"),
        enable_performance_insights=dict(type="bool"),
        performance_insights_retention_period=dict(type="int"),
        performance_insights_kms_key_id=dict(type="str"),
        monitoring_interval=dict(type="int"),
        monitoring_role_arn=dict(type="str"),
        apply_immediately=dict(type="bool", default=False),
        apply_pending_reboot=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    check_wait_options(module)
    validate(module)
    api = AwsApi(module, "rds")
    if module.params["state"] == "absent":
        ensure_absent(module, api)
    ensure_present(module, api)


if __name__ == "__main__":
    main()
