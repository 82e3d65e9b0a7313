#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_cluster
short_description: Manage an Aurora PostgreSQL DB cluster, with a plan that says what each change costs
version_added: 0.1.0
description:
  - Creates, updates and deletes an Amazon Aurora PostgreSQL DB cluster. Instances are managed with
    M(vitality.aurora.aurora_instance).
  - Idempotent; a re-run with the same inputs makes no modifying AWS call.
  - Every change is reported in RV(changes) with its impact (V(online), V(pending-reboot), V(reboot),
    V(impossible-in-place)). In check mode that list is the plan, and nothing is changed.
  - Attributes AWS cannot change on an existing cluster (database name, master user name, storage
    encryption and its KMS key, subnet group, engine) fail the run with the way forward; the module never
    replaces a cluster.
  - A running engine version newer than O(engine_version) within the same major version (for example after
    an automatic minor upgrade) is not a change, and never a downgrade.
  - A higher major version in O(engine_version) is a major version upgrade, impact V(major-upgrade). It runs only
    with O(allow_major_version_upgrade=true), at once, with the new family's parameter group in
    O(db_cluster_parameter_group_name), and the module waits until the cluster runs the new version.
  - The master password is managed in AWS Secrets Manager by default. A password of your own
    (O(manage_master_user_password=false)) is sent when the cluster is created; a changed one is applied only with
    O(update_password=always), and then on every run, as AWS cannot say whether it changed.
author:
  - Vitality platform team (@vitality)
options:
  db_cluster_identifier:
    description:
      - The cluster identifier.
    type: str
    required: true
    aliases: [id]
  state:
    description:
      - V(present) creates or updates the cluster; V(absent) deletes it.
      - Omitted, V(present).
    type: str
    choices: [present, absent]
    default: present
  engine:
    description:
      - The database engine.
      - Omitted, V(aurora-postgresql), the only engine the module manages.
    type: str
    choices: [aurora-postgresql]
    default: aurora-postgresql
  engine_version:
    description:
      - The engine version, a major (V(16)) or a minor (V(16.6)) version.
      - A newer running minor version of the same major is kept. A higher minor version is an upgrade.
      - A higher major version is a major version upgrade (see O(allow_major_version_upgrade)); it needs the
        target minor version, for example V(17.4). A lower major version fails.
      - Omitted, a new cluster runs AWS's default version of O(engine), and an existing cluster's version is not
        compared.
    type: str
  allow_major_version_upgrade:
    description:
      - Allow a major version upgrade when O(engine_version) names a higher major version than the cluster runs.
      - Omitted, V(false); such a change is planned (in check mode) but fails the run before any change is made.
      - The upgrade is applied at once, whatever O(apply_immediately) says, and every instance restarts.
    type: bool
    default: false
  db_instance_parameter_group_name:
    description:
      - The DB parameter group of the new major version's family for every instance, sent with a major version
        upgrade only.
      - Omitted, AWS gives the instances the new family's default DB parameter group.
    type: str
  port:
    description:
      - The port the cluster listens on.
      - Omitted, a new cluster listens on AWS's default port, V(5432), and an existing cluster's port is not compared.
    type: int
  database_name:
    description:
      - The name of the database created with the cluster. Cannot change afterwards.
      - Omitted, a new cluster has no database but PostgreSQL's own C(postgres), and an existing cluster's is not
        compared.
    type: str
  master_username:
    description:
      - The master user name. Cannot change afterwards.
      - Omitted, none is sent; AWS refuses to create a cluster without one (a restored cluster takes the snapshot's),
        and an existing cluster's is not compared.
    type: str
  manage_master_user_password:
    description:
      - Let RDS generate the master password and keep it in AWS Secrets Manager.
      - Set to V(false) and give O(master_user_password) to manage the password yourself.
      - Omitted, V(true).
    type: bool
    default: true
  master_user_password:
    description:
      - The master password, when O(manage_master_user_password=false).
      - Set when the cluster is created, or when the cluster moves from a managed password to this one, and on every
        run with O(update_password=always). AWS never returns it, so it is never compared.
      - It never appears in the result, the diff or an error message.
      - Omitted, no password is sent; with O(manage_master_user_password=false) the run then fails before any AWS call.
    type: str
  update_password:
    description:
      - When O(master_user_password) is sent to AWS. Omitted, V(on_create).
      - V(on_create) sends it only when the cluster is created, and when the cluster moves from a password kept in
        Secrets Manager to this one (AWS needs the password for that move). A changed O(master_user_password) is not
        applied, and a re-run reports no change.
      - V(always) also sends it to an existing cluster whose password is self-managed, with ModifyDBCluster and
        ApplyImmediately, so a new password takes effect at once; on Aurora this needs no reboot and causes no
        outage. AWS never returns a password, so the module cannot tell whether it differs, and every run with
        V(always), check mode included, plans the change and reports C(changed). RV(changes) lists it as
        C(master_user_password) with impact V(online) and the placeholder "(hidden)" as its before and after values,
        and a note that says so. Use V(always) for the run that changes the password, not on every run.
      - With V(always), when the same run has changes held for the maintenance window (O(apply_immediately=false)),
        the password is sent first in a request of its own, so that those changes stay held; the module then waits
        until the cluster is available again, whatever O(wait) says, as AWS modifies no cluster that is modifying.
      - Ignored with O(manage_master_user_password=true), where RDS keeps the password in Secrets Manager.
    type: str
    choices: [always, on_create]
    default: on_create
  master_user_secret_kms_key_id:
    description:
      - KMS key for the Secrets Manager secret that holds the master password.
      - Omitted, the account's C(aws/secretsmanager) key for a new secret; an existing secret's key is not compared.
    type: str
  storage_encrypted:
    description:
      - Encrypt the cluster storage. Cannot change afterwards.
      - Omitted, V(true).
    type: bool
    default: true
  kms_key_id:
    description:
      - KMS key (ID, ARN or alias) for storage encryption. Cannot change afterwards.
      - Omitted, the account's C(aws/rds) key for a new encrypted cluster; an existing cluster's key is not compared.
    type: str
  db_subnet_group_name:
    description:
      - The DB subnet group. Cannot change afterwards.
      - Omitted, a new cluster goes in the account's default DB subnet group, and an existing cluster's is not compared.
    type: str
  vpc_security_group_ids:
    description:
      - The VPC security groups of the cluster.
      - Omitted, a new cluster gets the VPC's default security group, and an existing cluster's groups are not compared.
    type: list
    elements: str
  db_cluster_parameter_group_name:
    description:
      - The cluster parameter group. Changing it takes effect when the instances reboot.
      - Omitted, a new cluster gets the engine's default cluster parameter group, and an existing cluster's group is not
        compared.
    type: str
  backup_retention_period:
    description:
      - Days automated backups are kept, 1 to 35.
      - Omitted, a new cluster keeps backups for AWS's default of 1 day, and an existing cluster's period is not
        compared.
    type: int
  preferred_backup_window:
    description:
      - Daily backup window, C(hh24:mi-hh24:mi) in UTC.
      - Omitted, AWS chooses the window of a new cluster, and an existing cluster's is not compared.
    type: str
  preferred_maintenance_window:
    description:
      - Weekly maintenance window, C(ddd:hh24:mi-ddd:hh24:mi) in UTC.
      - Omitted, AWS chooses the window of a new cluster, and an existing cluster's is not compared.
    type: str
  copy_tags_to_snapshot:
    description:
      - Copy the cluster's tags to its snapshots.
      - Omitted, off for a new cluster (AWS's default), and an existing cluster's setting is not compared.
    type: bool
  deletion_protection:
    description:
      - Refuse deletion of the cluster while on.
      - Omitted, off for a new cluster (AWS's default), and an existing cluster's setting is not compared.
    type: bool
  enable_iam_database_authentication:
    description:
      - Allow IAM database authentication.
      - Omitted, off for a new cluster (AWS's default), and an existing cluster's setting is not compared.
    type: bool
  enable_cloudwatch_logs_exports:
    description:
      - Log types exported to CloudWatch Logs, for example V(postgresql).
      - Omitted, a new cluster exports no log, and an existing cluster's exports are not compared; an empty list turns
        every export off.
    type: list
    elements: str
  serverless_v2_scaling_configuration:
    description:
      - The cluster's Aurora Serverless v2 capacity range, which every V(db.serverless) instance in it scales within
        (C(ServerlessV2ScalingConfiguration)). Changing it is V(online); parameter defaults AWS derives from the
        capacity follow when each Serverless v2 instance next restarts.
      - Omitted, or given without O(serverless_v2_scaling_configuration.min_capacity) and
        O(serverless_v2_scaling_configuration.max_capacity), none is sent, and an existing cluster's range is not
        compared (AWS cannot remove a range once set).
    type: dict
    suboptions:
      min_capacity:
        description:
          - The least Aurora capacity units (ACU) of each instance, in steps of 0.5; V(0) pauses idle instances, on
            engine versions that offer automatic pause (Aurora PostgreSQL 16.3, 15.7, 14.12, 13.15 and later).
          - Given with O(serverless_v2_scaling_configuration.max_capacity), or neither; omitted, no range.
        type: float
      max_capacity:
        description:
          - The most ACU of each instance, in steps of 0.5, from 1 to 256 (128 on older platform versions).
          - Given with O(serverless_v2_scaling_configuration.min_capacity), or neither; omitted, no range.
        type: float
      seconds_until_auto_pause:
        description:
          - With a minimum of 0, the seconds an instance without user connections stays up before it pauses (300 to
            86400). Refused with another minimum.
          - Omitted, AWS's default of 300 with a minimum of 0, and compared as such.
        type: int
  storage_type:
    description:
      - The storage configuration, V(aurora) (Aurora Standard) or V(aurora-iopt1) (Aurora I/O-Optimized); a cluster
        that reports none is Standard. A switch is online (no restart); AWS allows a switch to V(aurora-iopt1) once
        every 30 days.
      - Omitted, AWS's default (Standard) for a new cluster, and an existing cluster's is not compared.
    type: str
    choices: [aurora, aurora-iopt1]
  apply_immediately:
    description:
      - Apply changes now rather than in the next maintenance window.
      - Omitted, V(false); the changes AWS can hold wait for the next maintenance window.
    type: bool
    default: false
  restore_from_snapshot:
    description:
      - When the cluster does not exist, create it by restoring this cluster snapshot (identifier or ARN)
        instead of creating an empty one. The database name and master user come from the snapshot; the other
        options are applied to the restored cluster. Ignored when the cluster exists.
      - Omitted, a missing cluster is created empty, unless O(restore_from_cluster) is given.
    type: str
  restore_from_cluster:
    description:
      - When the cluster does not exist, create it by a point-in-time restore of this source cluster.
        Ignored when the cluster exists.
      - Omitted, no point-in-time restore; a missing cluster is created empty, unless O(restore_from_snapshot) is given.
    type: str
  restore_to_time:
    description:
      - With O(restore_from_cluster), the UTC time to restore to, for example V(2026-11-25T06:00:00Z).
        Omitted, the latest restorable time.
    type: str
  skip_final_snapshot:
    description:
      - With O(state=absent), delete without a final snapshot.
      - Omitted, V(false); a final snapshot is taken (see O(final_snapshot_identifier)).
    type: bool
    default: false
  final_snapshot_identifier:
    description:
      - With O(state=absent), the final snapshot's identifier. With O(tags), the snapshot carries those tags.
      - Omitted, the cluster identifier followed by C(-final-) and the UTC time, so that two deletions never collide.
    type: str
  disable_deletion_protection:
    description:
      - With O(state=absent), turn deletion protection off before deleting.
      - Omitted, V(false); a protected cluster is not deleted and the run fails.
    type: bool
    default: false
  delete_instances:
    description:
      - With O(state=absent), delete the cluster's instances first. Every deletion is asked for before any is waited
        for (AWS deletes them side by side, minutes each), then the cluster is deleted once none is left. The
        instances' deletions are in RV(changes), in check mode too. This wait happens whatever O(wait) says, since AWS
        deletes a cluster only once it has no instance.
      - Omitted, V(false); a cluster that still has instances is not deleted and the run fails, naming them.
    type: bool
    default: false
  wait:
    description:
      - Wait until the cluster is available (or gone, with O(state=absent)).
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
  - Supports check mode and diff mode. The master password never appears in the result or the diff.
  - With O(update_password=always) and O(manage_master_user_password=false), every run reports C(changed) and sends the
    password again, as AWS gives no way to compare it.
  - Instances are never publicly accessible; see M(vitality.aurora.aurora_instance).
"""

EXAMPLES = r"""
- name: Create the Vitality Aurora PostgreSQL 16 cluster with a password kept in Secrets Manager
  vitality.aurora.aurora_cluster:
    db_cluster_identifier: vitality-dev-aurora
    engine_version: "16.6"
    port: 5432
    database_name: dbname
    master_username: admin1
    db_subnet_group_name: vitality-dev-db-subnets
    vpc_security_group_ids: [sg-0123456789abcdef0]
    db_cluster_parameter_group_name: vitality-dev-aurora-pg16
    backup_retention_period: 7
    preferred_backup_window: "03:00-04:00"
    preferred_maintenance_window: "sun:05:00-sun:06:00"
    copy_tags_to_snapshot: true
    deletion_protection: true
    enable_cloudwatch_logs_exports: [postgresql]
    tags:
      Project: vitality

- name: Show what a change of backup retention would do, without doing it
  vitality.aurora.aurora_cluster:
    db_cluster_identifier: vitality-dev-aurora
    backup_retention_period: 14
  check_mode: true
  register: plan

- name: Recreate the cluster from its latest final snapshot (disaster recovery)
  vitality.aurora.aurora_cluster:
    db_cluster_identifier: vitality-dev-aurora
    restore_from_snapshot: vitality-dev-aurora-final-20261125-061500
    db_subnet_group_name: vitality-dev-db-subnets
    vpc_security_group_ids: [sg-0123456789abcdef0]
    db_cluster_parameter_group_name: vitality-dev-aurora-pg16

- name: Apply a new self-managed master password now (reports changed on every run with update_password=always)
  vitality.aurora.aurora_cluster:
    db_cluster_identifier: vitality-dev-aurora
    manage_master_user_password: false
    master_user_password: "{{ vault_aurora_master_password }}"
    update_password: always

- name: Delete the cluster, keeping a final snapshot
  vitality.aurora.aurora_cluster:
    db_cluster_identifier: vitality-dev-aurora
    state: absent

- name: Delete the instances side by side, then the cluster
  vitality.aurora.aurora_cluster:
    db_cluster_identifier: vitality-prod-aurora
    state: absent
    delete_instances: true
    disable_deletion_protection: true
"""

RETURN = r"""
cluster:
  description:
    - The cluster as AWS describes it, snake_cased, with C(tags) as a dictionary; its C(pending_modified_values) are
      returned apart, in RV(pending_modified_values).
  returned: when O(state=present) and the cluster exists (not in check mode before creation)
  type: dict
  sample:
    db_cluster_identifier: vitality-dev-aurora
    status: available
    engine: aurora-postgresql
    engine_version: "16.6"
    endpoint: vitality-dev-aurora.cluster-abc.us-east-1.rds.amazonaws.com
    reader_endpoint: vitality-dev-aurora.cluster-ro-abc.us-east-1.rds.amazonaws.com
    port: 5432
    master_user_secret:
      secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-abc
changes:
  description:
    - What the run changed, or in check mode would change, each with its impact; empty when nothing changes.
    - A master password sent with O(update_password=always) is listed as C(master_user_password), with the placeholder
      "(hidden)" as before and after, C(when=now) and a C(note) saying it is sent on every run; never the password.
    - Also returned when the run fails on a change it refuses (impossible in place, a major version upgrade not
      allowed, an engine version that cannot be reached), with that change among them.
  returned: always
  type: list
  elements: dict
  contains:
    attribute:
      description:
        - What changes - an option name (for example C(backup_retention_period), C(engine_version)), C(tags),
          C(master_user_password), or C(cluster) for the cluster itself when it is created, restored or deleted, or
          C(instance) for each of its instances deleted with O(delete_instances=true) (C(before) names it).
      type: str
      returned: always
      sample: backup_retention_period
    before:
      description: The value before the run; null when the cluster is created.
      type: raw
      returned: always
      sample: 7
    after:
      description: The value after the run; null when the cluster is deleted.
      type: raw
      returned: always
      sample: 14
    impact:
      description:
        - What the change does to the running database - V(online), V(pending-reboot), V(reboot), V(major-upgrade) or
          V(impossible-in-place).
      type: str
      returned: always
      sample: online
    when:
      description:
        - When the change takes effect - V(now), or V(maintenance-window) when it waits for the next maintenance
          window (O(apply_immediately=false)).
      type: str
      returned: >-
        for the changes AWS can hold for the maintenance window, the master password and a major version upgrade
      sample: maintenance-window
    note:
      description: Why the change is as it is (a password sent on every run, a major version upgrade not allowed).
      type: str
      returned: for the master password with O(update_password=always), and a major version upgrade not allowed
      sample: "not allowed: set allow_major_version_upgrade (role: aurora_cluster_allow_major_version_upgrade)"
    downtime:
      description: What a major version upgrade makes unavailable, and for how long.
      type: str
      returned: for a major version upgrade (C(impact=major-upgrade) on C(engine_version))
      sample: >-
        every instance restarts at once: the cluster is unavailable until the upgrade ends (typically 10 to 30
        minutes; take a snapshot first)
    restored_from:
      description: The snapshot or source cluster a created cluster is restored from.
      type: str
      returned: when the cluster is restored (O(restore_from_snapshot) or O(restore_from_cluster))
      sample: vitality-dev-aurora-final-20261125-061500
    final_snapshot_identifier:
      description: On deletion, the final snapshot taken; null with O(skip_final_snapshot=true).
      type: str
      returned: for the deletion of the cluster (O(state=absent))
      sample: vitality-dev-aurora-final-20261125-061500
  sample:
    - attribute: backup_retention_period
      before: 7
      after: 14
      impact: online
    - attribute: master_user_password
      before: (hidden)
      after: (hidden)
      impact: online
      when: now
      note: >-
        update_password=always: AWS never returns the password to compare it, so it is sent, and reported as a
        change, on every run
pending_modified_values:
  description: Changes AWS has accepted but applies later (maintenance window or reboot), snake_cased; empty if none.
  returned: when O(state=present), except when the run fails
  type: dict
  sample: {"engine_version": "16.8"}
engine_version_notice:
  description: Set when the running engine version differs from O(engine_version) but is kept.
  returned: when O(state=present) and the cluster runs a newer minor version of the major version of O(engine_version)
  type: str
  sample: running 16.8, newer than the configured 16.6 within major 16; kept
final_snapshot_identifier:
  description: The final snapshot taken, or in check mode to be taken, on deletion.
  returned: when O(state=absent) deletes the cluster and O(skip_final_snapshot=false)
  type: str
  sample: vitality-dev-aurora-final-20261125-061500
"""

import datetime

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
    IMPOSSIBLE,
    MAJOR_UPGRADE,
    ONLINE,
    diff_of,
    impossible,
    impossible_message,
)
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    MAJOR_UPGRADE_DOWNTIME,
    SETTING_OPTIONS,
    create_request,
    desired_state,
    effective_state,
    key_matches,
    master_secret_key,
    modify_request,
    plan_cluster_changes,
    read_cluster,
    read_members,
    restore_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import INSTANCE_NOT_FOUND
from ansible_collections.vitality.aurora.plugins.module_utils.naming import engine_major, identifier_error
from ansible_collections.vitality.aurora.plugins.module_utils.validation import (
    capacity_names,
    password_error,
    serverless_v2_errors,
    window_errors,
)
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    check_wait_options,
    wait_or_fail,
)

NOT_FOUND = ("DBClusterNotFoundFault",)
ALREADY_EXISTS = ("DBClusterAlreadyExistsFault",)
RESTORE_REMEDY = (
    "Create a new cluster from a snapshot (restore) with the new setting, move clients, then remove the old one."
)


def check_immutable_keys(module, kms, cluster):
    """Storage and secret KMS keys: compared only when the user names one."""
    changes = []
    wanted = module.params["kms_key_id"]
    if wanted and not key_matches(cluster.get("KmsKeyId"), resolve_key(kms, wanted)):
        changes.append(
            {"attribute": "kms_key_id", "before": cluster.get("KmsKeyId"), "after": wanted, "impact": IMPOSSIBLE}
        )
    wanted_secret_key = module.params["master_user_secret_kms_key_id"]
    if wanted_secret_key and module.params["manage_master_user_password"] and cluster.get("MasterUserSecret"):
        if not key_matches(master_secret_key(cluster), resolve_key(kms, wanted_secret_key)):
            changes.append(
                {
                    "attribute": "master_user_secret_kms_key_id",
                    "before": master_secret_key(cluster),
                    "after": wanted_secret_key,
                    "impact": ONLINE,
                }
            )
    return changes


def resolve_key(kms, key):
    """Aliases name keys indirectly; ask KMS for the ARN so they compare with what RDS reports."""
    if "alias/" not in key:
        return key
    response = kms().call("describe_key", KeyId=key, context=f"KMS key {key}")
    return response["KeyMetadata"]["Arn"]


def wait_available(module, api, identifier):
    if not module.params["wait"]:
        return read_cluster(api, identifier)
    return wait_modifiable(module, api, identifier)


def wait_modifiable(module, api, identifier):
    """Wait, whatever wait says, until the cluster is available: AWS modifies no cluster that is modifying."""
    return wait_or_fail(
        module,
        lambda: read_cluster(api, identifier),
        lambda c: c is not None and c.get("Status") == "available",
        what=f"cluster {identifier}",
        wanted="available",
    )


def wait_gone(module, api, identifier):
    if not module.params["wait"]:
        return
    wait_or_fail(
        module,
        lambda: read_cluster(api, identifier),
        lambda c: c is None,
        what=f"cluster {identifier}",
        wanted="deleted",
    )


def result_of(cluster):
    result = to_snake(cluster)
    result.pop("pending_modified_values", None)
    return result


def pending_of(cluster):
    return to_snake((cluster or {}).get("PendingModifiedValues") or {})


def public_diff(changes):
    return diff_of([c for c in changes if c["attribute"] != "master_user_password"])


def ensure_present(module, api, kms):
    params = module.params
    identifier = params["db_cluster_identifier"]
    cluster = read_cluster(api, identifier)
    restored = []

    if cluster is None:
        changes = [{"attribute": "cluster", "before": None, "after": identifier, "impact": ONLINE}]
        desired = {k: v for k, v in desired_state(params).items() if v is not None}
        desired["engine_version"] = params["engine_version"]
        diff = {"before": {}, "after": drop_none(desired)}
        if module.check_mode:
            module.exit_json(changed=True, changes=changes, diff=diff, pending_modified_values={})
        if params["restore_from_snapshot"] or params["restore_from_cluster"]:
            method, request = restore_request(identifier, params)
            changes = [
                {
                    "attribute": "cluster",
                    "before": None,
                    "after": identifier,
                    "impact": ONLINE,
                    "restored_from": params["restore_from_snapshot"] or params["restore_from_cluster"],
                }
            ]
            if module.check_mode:
                module.exit_json(changed=True, changes=changes, diff=diff, pending_modified_values={})
            api.create(
                method,
                exists=lambda: read_cluster(api, identifier) is not None,
                already_exists=ALREADY_EXISTS,
                context=f"cluster {identifier}",
                **request,
            )
            # A restored cluster carries the snapshot's settings: converge the rest like any existing cluster.
            cluster = wait_available(module, api, identifier)
            restored = changes
        created = (
            None
            if restored
            else api.create(
                "create_db_cluster",
                exists=lambda: read_cluster(api, identifier) is not None,
                already_exists=ALREADY_EXISTS,
                context=f"cluster {identifier}",
                **create_request(identifier, params),
            )
        )
        if created is not None:
            cluster = wait_available(module, api, identifier)
            module.exit_json(
                changed=True,
                changes=changes,
                diff=diff,
                cluster=result_of(cluster),
                pending_modified_values=pending_of(cluster),
            )
        # Another run (or our own request, retried after a lost response) created it first:
        # converge the cluster that exists instead of failing or creating a second one.
        cluster = cluster if restored else read_cluster(api, identifier)

    changes, major_upgrade, notice, version_error = plan_cluster_changes(cluster, params)
    if version_error:
        module.fail_json(
            msg=version_error,
            changes=[
                {
                    "attribute": "engine_version",
                    "before": effective_state(cluster).get("EngineVersion"),
                    "after": params["engine_version"],
                    "impact": IMPOSSIBLE,
                }
            ],
        )
    if major_upgrade:
        changes = plan_major_upgrade(module, major_upgrade, changes, check_mode=module.check_mode)
    changes.extend(check_immutable_keys(module, kms, cluster))

    blocked = impossible(changes)
    if blocked:
        module.fail_json(
            msg=impossible_message(f"cluster {identifier}", blocked, RESTORE_REMEDY),
            changes=changes,
        )
    manage_change = next((c for c in changes if c["attribute"] == "manage_master_user_password"), None)
    if manage_change and manage_change["after"] is False and not params["master_user_password"]:
        module.fail_json(
            msg=(
                "manage_master_user_password=false: the cluster's password is managed in Secrets Manager; give "
                "master_user_password to take it over, or keep manage_master_user_password=true"
            )
        )

    current_tags = tags_to_dict(cluster.get("TagList"))
    to_set, to_remove = tag_changes(current_tags, params["tags"], params["purge_tags"])
    if to_set or to_remove:
        changes.append({"attribute": "tags", "before": current_tags, "after": params["tags"], "impact": ONLINE})

    changes = restored + changes
    extra = {"engine_version_notice": notice} if notice else {}
    if not changes:
        module.exit_json(
            changed=False, changes=[], cluster=result_of(cluster), pending_modified_values=pending_of(cluster), **extra
        )
    if module.check_mode:
        module.exit_json(
            changed=True,
            changes=changes,
            diff=public_diff(changes),
            cluster=result_of(cluster),
            pending_modified_values=pending_of(cluster),
            **extra,
        )

    context = f"cluster {identifier}"
    if major_upgrade:
        cluster = apply_major_upgrade(module, api, cluster, major_upgrade)
    attribute_changes = [c for c in changes if c["attribute"] != "tags" and c["impact"] != MAJOR_UPGRADE]
    if attribute_changes and cluster.get("Status") != "available":
        # AWS refuses to modify a cluster that is still creating or modifying.
        cluster = wait_available(module, api, identifier)
    password = [c for c in attribute_changes if c["attribute"] == "master_user_password"]
    if password and any(c.get("when") == "maintenance-window" for c in attribute_changes):
        # ApplyImmediately applies every change of its request: the password goes alone, first, so that
        # the changes held for the maintenance window stay held.
        api.call("modify_db_cluster", context=context, **modify_request(identifier, password, params))
        attribute_changes = [c for c in attribute_changes if c["attribute"] != "master_user_password"]
        cluster = wait_modifiable(module, api, identifier)
    if attribute_changes:
        api.call("modify_db_cluster", context=context, **modify_request(identifier, attribute_changes, params))
    apply_rds_tags(api, cluster["DBClusterArn"], to_set, to_remove, context)
    cluster = wait_available(module, api, identifier) if attribute_changes else read_cluster(api, identifier)
    module.exit_json(
        changed=True,
        changes=changes,
        diff=public_diff(changes),
        cluster=result_of(cluster),
        pending_modified_values=pending_of(cluster),
        **extra,
    )


def plan_major_upgrade(module, upgrade, changes, check_mode):
    """The changes with the major upgrade first; fails (outside check mode) unless it is allowed.

    The new family's parameter group travels in the upgrade's own request, so its change is
    part of the upgrade, not a pending-reboot change of its own.
    """
    params = module.params
    for change in changes:
        if change["attribute"] == "db_cluster_parameter_group_name":
            change.update(impact=MAJOR_UPGRADE, when="now")
    planned = [upgrade] + changes
    if not params["allow_major_version_upgrade"]:
        upgrade["note"] = (
            "not allowed: set allow_major_version_upgrade (role: aurora_cluster_allow_major_version_upgrade)"
        )
        if not check_mode:
            module.fail_json(
                msg=(
                    f"engine_version={upgrade['after']!r}: the cluster runs {upgrade['before']}; this is a major "
                    f"version upgrade ({MAJOR_UPGRADE_DOWNTIME}). Nothing was changed. Allow it with "
                    "allow_major_version_upgrade=true (role variable aurora_cluster_allow_major_version_upgrade)."
                ),
                changes=planned,
            )
    elif not params["db_cluster_parameter_group_name"]:
        module.fail_json(
            msg=(
                f"engine_version={upgrade['after']!r}: a major version upgrade needs db_cluster_parameter_group_name, "
                f"a cluster parameter group of family aurora-postgresql{engine_major(upgrade['after'])}"
            ),
            changes=planned,
        )
    return planned


def apply_major_upgrade(module, api, cluster, upgrade):
    """Upgrade the engine's major version with the new family's parameter groups; wait until it runs."""
    params = module.params
    identifier = cluster["DBClusterIdentifier"]
    if cluster.get("Status") != "available":
        cluster = wait_available(module, api, identifier)
    request = drop_none(
        {
            "DBClusterIdentifier": identifier,
            "EngineVersion": upgrade["after"],
            "AllowMajorVersionUpgrade": True,
            "DBClusterParameterGroupName": params["db_cluster_parameter_group_name"],
            "DBInstanceParameterGroupName": params["db_instance_parameter_group_name"],
            # A major upgrade cannot wait for the maintenance window: the rest of the run depends on it.
            "ApplyImmediately": True,
        }
    )
    api.call("modify_db_cluster", context=f"cluster {identifier}", **request)
    if not params["wait"]:
        return read_cluster(api, identifier)
    return wait_or_fail(
        module,
        lambda: read_cluster(api, identifier),
        lambda c: c is not None and c.get("Status") == "available" and c.get("EngineVersion") == upgrade["after"],
        what=f"cluster {identifier}",
        wanted=f"available on engine version {upgrade['after']}",
    )


def final_snapshot_name(params, now=None):
    if params["final_snapshot_identifier"]:
        return params["final_snapshot_identifier"]
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return f"{params['db_cluster_identifier']}-final-{now.strftime('%Y%m%d-%H%M%S')}"


def ensure_absent(module, api):
    params = module.params
    identifier = params["db_cluster_identifier"]
    context = f"cluster {identifier}"
    cluster = read_cluster(api, identifier)
    if cluster is None:
        module.exit_json(changed=False, changes=[])
    if cluster.get("Status") == "deleting":
        wait_gone(module, api, identifier)
        module.exit_json(changed=False, changes=[])

    members = sorted(m.get("DBInstanceIdentifier") for m in cluster.get("DBClusterMembers") or [])
    if members and not params["delete_instances"]:
        module.fail_json(
            msg=f"{context} still has instances {', '.join(members)}; delete them first, or set delete_instances=true"
        )
    changes = [{"attribute": "instance", "before": name, "after": None, "impact": ONLINE} for name in members]
    if cluster.get("DeletionProtection"):
        if not params["disable_deletion_protection"]:
            module.fail_json(
                msg=(
                    f"{context} has deletion protection on, so it was not deleted. Turn it off explicitly "
                    "(disable_deletion_protection=true) to delete it."
                )
            )
        changes.append({"attribute": "deletion_protection", "before": True, "after": False, "impact": ONLINE})

    snapshot = None if params["skip_final_snapshot"] else final_snapshot_name(params)
    changes.append(
        {
            "attribute": "cluster",
            "before": identifier,
            "after": None,
            "impact": ONLINE,
            "final_snapshot_identifier": snapshot,
        }
    )
    result = {"final_snapshot_identifier": snapshot} if snapshot else {}
    diff = {"before": {"db_cluster_identifier": identifier}, "after": {}}
    if module.check_mode:
        module.exit_json(changed=True, changes=changes, diff=diff, **result)

    if members:
        delete_members(module, api, identifier)
    if cluster.get("DeletionProtection"):
        api.call(
            "modify_db_cluster",
            DBClusterIdentifier=identifier,
            DeletionProtection=False,
            ApplyImmediately=True,
            context=context,
        )
    request = {"DBClusterIdentifier": identifier}
    if snapshot:
        request["FinalDBSnapshotIdentifier"] = snapshot
    else:
        request["SkipFinalSnapshot"] = True
    api.call("delete_db_cluster", context=context, not_found=NOT_FOUND, **request)
    wait_gone(module, api, identifier)
    if snapshot and params["tags"]:
        tag_final_snapshot(module, api, snapshot, params["tags"])
    module.exit_json(changed=True, changes=changes, diff=diff, **result)


def delete_members(module, api, identifier):
    """Delete every instance of the cluster, then wait until none is left: all deletions are asked for first, so AWS
    deletes them side by side and the wait lasts about one deletion, not one per instance."""
    for instance in read_members(api, identifier) or []:
        name = instance.get("DBInstanceIdentifier")
        if instance.get("DBInstanceStatus") != "deleting":
            # An Aurora instance's data lives in the cluster volume; the cluster's final snapshot keeps it.
            api.call(
                "delete_db_instance",
                DBInstanceIdentifier=name,
                not_found=INSTANCE_NOT_FOUND,
                context=f"instance {name}",
            )
    wait_or_fail(
        module,
        lambda: read_members(api, identifier),
        lambda instances: not instances,
        what=f"the instances of cluster {identifier}",
        wanted="deleted",
    )


def tag_final_snapshot(module, api, snapshot, tags):
    """Give the final snapshot the stack's tags, whether or not the cluster copied its own."""
    context = f"final snapshot {snapshot}"

    def read():
        response = api.call(
            "describe_db_cluster_snapshots",
            DBClusterSnapshotIdentifier=snapshot,
            not_found=("DBClusterSnapshotNotFoundFault",),
            context=context,
        )
        found = (response or {}).get("DBClusterSnapshots") or []
        return found[0] if found else None

    described = wait_or_fail(
        module,
        read,
        lambda s: s is not None,
        what=context,
        wanted="created",
    )
    to_set = tag_changes(tags_to_dict(described.get("TagList")), tags, purge=False)[0]
    apply_rds_tags(api, described["DBClusterSnapshotArn"], to_set, [], context)


def validate(module):
    params = module.params
    error = identifier_error("db_cluster_identifier", params["db_cluster_identifier"], "cluster")
    if error:
        module.fail_json(msg=error)
    if params["state"] != "present":
        return
    if params["manage_master_user_password"] and params["master_user_password"]:
        module.fail_json(
            msg="master_user_password is set while manage_master_user_password=true; give one or the other"
        )
    if not params["manage_master_user_password"] and not params["master_user_password"]:
        module.fail_json(msg="manage_master_user_password=false needs master_user_password")
    if params["backup_retention_period"] is not None and not 1 <= params["backup_retention_period"] <= 35:
        module.fail_json(
            msg=f"backup_retention_period={params['backup_retention_period']} is out of range: 1 to 35 days"
        )
    errors = window_errors(
        "preferred_backup_window",
        params["preferred_backup_window"],
        "preferred_maintenance_window",
        params["preferred_maintenance_window"],
    )
    if params["master_user_password"]:
        errors.append(password_error("master_user_password", params["master_user_password"]))
    capacity = params["serverless_v2_scaling_configuration"] or {}
    errors += serverless_v2_errors(
        capacity_names("serverless_v2_scaling_configuration.", "engine_version"),
        capacity.get("min_capacity"),
        capacity.get("max_capacity"),
        capacity.get("seconds_until_auto_pause"),
        params["engine_version"],
        [],
    )
    errors = [error for error in errors if error]
    if errors:
        module.fail_json(msg="; ".join(errors))
    if params["port"] is not None and not 1150 <= params["port"] <= 65535:
        module.fail_json(msg=f"port={params['port']} is out of range: Aurora accepts 1150 to 65535")


def main():
    argument_spec = dict(
        db_cluster_identifier=dict(type="str", required=True, aliases=["id"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        engine=dict(type="str", choices=["aurora-postgresql"], default="aurora-postgresql"),
        engine_version=dict(type="str"),
        allow_major_version_upgrade=dict(type="bool", default=False),
        db_instance_parameter_group_name=dict(type="str"),
        master_user_password=dict(type="str", no_log=True),
        vpc_security_group_ids=dict(type="list", elements="str"),
        restore_from_snapshot=dict(type="str"),
        restore_from_cluster=dict(type="str"),
        restore_to_time=dict(type="str"),
        skip_final_snapshot=dict(type="bool", default=False),
        final_snapshot_identifier=dict(type="str"),
        disable_deletion_protection=dict(type="bool", default=False),
        delete_instances=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        **SETTING_OPTIONS,
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("restore_from_snapshot", "restore_from_cluster")],
        required_by={"restore_to_time": "restore_from_cluster"},
    )
    check_wait_options(module)
    validate(module)
    api = AwsApi(module, "rds")
    if module.params["state"] == "absent":
        ensure_absent(module, api)
    kms_api = []

    def kms():
        # Only a KMS alias needs this client; create it on first use.
        if not kms_api:
            kms_api.append(AwsApi(module, "kms"))
        return kms_api[0]

    ensure_present(module, api, kms)


if __name__ == "__main__":
    main()
