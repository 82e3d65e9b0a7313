#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_stack_drift
short_description: Compare a whole Aurora PostgreSQL stack with its desired state in one pass
version_added: 0.2.0
description:
  - Reads the network, the database security group, the DB subnet group, the cluster parameter group, the cluster
    and its instances in one process (at most ten AWS calls, all reads), and compares each with its desired state
    the way the modules that converge them do. The cluster, instance and parameter comparisons are the very code
    of M(vitality.aurora.aurora_cluster), M(vitality.aurora.aurora_instance) and
    M(vitality.aurora.aurora_cluster_parameter_group).
  - Stops at the first resource that differs, is missing or is not C(available), and names it in RV(drift).
  - The M(vitality.aurora.aurora_cluster) role runs it first and skips its converge tasks when RV(in_sync) is true,
    which makes a re-run with nothing to do one module call.
  - Settings it does not compare (a named KMS key, a monitoring role, a security group rule it does not model) make
    RV(in_sync) false with the reason in RV(unchecked), so that the modules that converge the stack decide.
  - Never changes anything; check mode runs it the same way.
author:
  - Vitality platform team (@vitality)
options:
  vpc_name:
    description: The Name tag of the VPC; exactly one VPC must carry it.
    type: str
    required: true
  private_subnet_names:
    description: Name tags of the private subnets of the DB subnet group, in two or more Availability Zones.
    type: list
    elements: str
    required: true
  app_security_group_name:
    description: The application's security group, the only source allowed to the database port.
    type: str
    required: true
  security_group:
    description:
      - The database security group as the role converges it with M(amazon.aws.ec2_security_group) (rules and
        tags purged), with keys C(name), C(app_port), C(app_rule_description), C(extra_ingress) and C(egress) (rules in
        that module's format) and C(tags).
    type: dict
    required: true
  subnet_group:
    description: The DB subnet group, with keys C(name), C(description) and C(tags) (tags purged).
    type: dict
    required: true
  parameter_group:
    description: The cluster parameter group, with keys C(name), C(family), C(parameters) and C(tags) (both purged).
    type: dict
    required: true
  cluster:
    description:
      - The options M(vitality.aurora.aurora_cluster) is given for the cluster (tags purged), without the waiting and
        restore options; C(vpc_security_group_ids) is the database security group found here.
    type: dict
    required: true
  instances:
    description:
      - C(writer_identifier), C(reader_identifier_prefix) and C(reader_count) lay the instances out over the
        subnets' Availability Zones as the P(vitality.aurora.instance_layout#filter) filter does;
        C(allow_rolling_reboot) says whether an instance waiting for a reboot is a difference.
      - Every other key is an option M(vitality.aurora.aurora_instance) is given for each instance (tags purged);
        each instance's tags are the C(tags) given here plus C(Role) (C(writer) or C(reader)), as the role tags them.
    type: dict
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Compare the dev stack with its desired state
  vitality.aurora.aurora_stack_drift:
    vpc_name: vitality-dev-app-vpc
    private_subnet_names: [vitality-dev-private-us-east-1c, vitality-dev-private-us-east-1d]
    app_security_group_name: vitality-dev-app-sg
    security_group:
      name: vitality-dev-db
      app_port: 5432
      app_rule_description: PostgreSQL from the application
      extra_ingress: []
      egress: []
      tags: {Stack: vitality-dev, Name: vitality-dev-db}
    subnet_group:
      name: vitality-dev-db-subnets
      description: vitality-dev Aurora PostgreSQL private subnets
      tags: {Stack: vitality-dev}
    parameter_group:
      name: vitality-dev-aurora-pg16
      family: aurora-postgresql16
      parameters: {rds.force_ssl: 1}
      tags: {Stack: vitality-dev}
    cluster:
      db_cluster_identifier: vitality-dev-aurora
      engine_version: "16.6"
      db_subnet_group_name: vitality-dev-db-subnets
      db_cluster_parameter_group_name: vitality-dev-aurora-pg16
      backup_retention_period: 1
      tags: {Stack: vitality-dev}
    instances:
      writer_identifier: vitality-dev-aurora-writer
      reader_identifier_prefix: vitality-dev-aurora-reader-
      reader_count: 0
      db_instance_class: db.r6g.large
      tags: {Stack: vitality-dev}
  register: drift

- name: Converge only when something differs
  ansible.builtin.include_tasks: converge.yml
  when: not drift.in_sync
"""

RETURN = r"""
in_sync:
  description: Whether every resource exists, is available and matches its desired state.
  returned: always
  type: bool
drift:
  description: What differs on the first resource found differing (the check stops there).
  returned: always
  type: list
  elements: dict
  sample:
    - resource: security group vitality-dev-db
      attribute: ingress
      before: [tcp 5432 group sg-0123 (PostgreSQL from the application), tcp 22 cidr 10.0.0.0/8]
      after: [tcp 5432 group sg-0123 (PostgreSQL from the application)]
unchecked:
  description: Why the stack could not be compared here (then RV(in_sync) is false).
  returned: always
  type: list
  elements: str
network:
  description: The network found, when all of it was found.
  returned: when the VPC, the subnets and the application security group were found
  type: dict
  contains:
    vpc_id:
      description: The VPC.
      type: str
    subnets:
      description: The private subnets (C(subnet_id), C(availability_zone)), by Availability Zone.
      type: list
      elements: dict
    app_security_group_id:
      description: The application's security group.
      type: str
security_group_id:
  description: The database security group, when it exists.
  returned: when the database security group exists
  type: str
cluster:
  description: The cluster as AWS describes it, snake_cased, when the check reached it and it exists.
  returned: when in sync
  type: dict
writer:
  description: The writer's identifier.
  returned: when in sync
  type: str
readers:
  description: The readers' identifiers.
  returned: when in sync
  type: list
  elements: str
endpoints:
  description: C(writer) and C(reader) endpoints and C(port).
  returned: when in sync
  type: dict
engine_version_notice:
  description: Why the running engine version, newer than the configured one, is kept.
  returned: when the cluster runs a newer minor version than the configured C(engine_version)
  type: str
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi, tag_changes, tags_to_dict, to_snake
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    describe_members,
    plan_cluster_changes,
    read_cluster,
    read_members,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    planned_changes,
    waits_for_reboot,
)
from ansible_collections.vitality.aurora.plugins.module_utils.layout import instance_layout
from ansible_collections.vitality.aurora.plugins.module_utils.parameter_settings import (
    parameter_value,
    plan_parameter_changes,
    read_group,
    user_parameters,
)
from ansible_collections.vitality.aurora.plugins.module_utils.security_group_rules import (
    UnsupportedRule,
    describe_rule,
    flatten_permissions,
    flatten_rules,
)

# Settings whose comparison needs more than these reads (a KMS alias lookup, the monitoring role):
# when one is given, the converging modules decide.
UNCHECKED_CLUSTER_OPTIONS = ("kms_key_id", "master_user_secret_kms_key_id")
UNCHECKED_INSTANCE_OPTIONS = ("performance_insights_kms_key_id", "monitoring_role_arn")
LAYOUT_KEYS = ("writer_identifier", "reader_identifier_prefix", "reader_count", "allow_rolling_reboot")


class Drift(Exception):
    """The first difference found: the check stops there."""

    def __init__(self, resource, attribute, before=None, after=None):
        super().__init__(f"{resource}: {attribute}")
        self.entry = {"resource": resource, "attribute": attribute, "before": before, "after": after}


class Unchecked(Exception):
    """Something this check does not compare: the converging modules must decide."""


def tags_drift(resource, current, desired):
    to_set, to_remove = tag_changes(current, desired, purge=True)
    if to_set or to_remove:
        raise Drift(resource, "tags", current, desired)


def find_network(ec2, params):
    vpcs = ec2.call("describe_vpcs", Filters=[{"Name": "tag:Name", "Values": [params["vpc_name"]]}])["Vpcs"]
    if len(vpcs) != 1:
        raise Drift(f"VPC {params['vpc_name']}", "count", len(vpcs), 1)
    vpc_id = vpcs[0]["VpcId"]
    names = params["private_subnet_names"]
    subnets = ec2.call(
        "describe_subnets",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:Name", "Values": names}],
    )["Subnets"]
    found = sorted(tags_to_dict(s.get("Tags")).get("Name") for s in subnets)
    zones = {s["AvailabilityZone"] for s in subnets}
    if sorted(set(names)) != sorted(set(found)) or len(zones) < 2:
        raise Drift("private subnets", "names and zones", found, sorted(names))
    groups = ec2.call(
        "describe_security_groups",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": [params["app_security_group_name"], params["security_group"]["name"]]},
        ],
    )["SecurityGroups"]
    by_name = {g["GroupName"]: g for g in groups}
    app = by_name.get(params["app_security_group_name"])
    if app is None:
        raise Drift(f"security group {params['app_security_group_name']}", "exists", False, True)
    network = {
        "vpc_id": vpc_id,
        "subnets": [
            {"subnet_id": s["SubnetId"], "availability_zone": s["AvailabilityZone"]}
            for s in sorted(subnets, key=lambda s: (s["AvailabilityZone"], s["SubnetId"]))
        ],
        "app_security_group_id": app["GroupId"],
    }
    return network, by_name.get(params["security_group"]["name"])


def check_security_group(spec, group, app_group_id):
    resource = f"security group {spec['name']}"
    if group is None:
        raise Drift(resource, "exists", False, True)
    app_rule = {
        "proto": "tcp",
        "ports": [spec["app_port"]],
        "group_id": app_group_id,
        "rule_desc": spec.get("app_rule_description"),
    }
    try:
        wanted_ingress = flatten_rules([app_rule] + list(spec.get("extra_ingress") or []))
        wanted_egress = flatten_rules(spec.get("egress") or [])
    except UnsupportedRule as e:
        raise Unchecked(f"{resource}: {e}") from e
    for attribute, wanted, permissions in (
        ("ingress", wanted_ingress, group.get("IpPermissions")),
        ("egress", wanted_egress, group.get("IpPermissionsEgress")),
    ):
        have = flatten_permissions(permissions)
        if have != wanted:
            raise Drift(resource, attribute, sorted(map(describe_rule, have)), sorted(map(describe_rule, wanted)))
    tags_drift(resource, tags_to_dict(group.get("Tags")), spec.get("tags"))


def check_subnet_group(rds, spec, subnet_ids):
    name = spec["name"]
    resource = f"DB subnet group {name}"
    group = rds.describe_one(
        "describe_db_subnet_groups",
        "DBSubnetGroups",
        DBSubnetGroupName=name,
        not_found=("DBSubnetGroupNotFoundFault",),
        context=resource,
    )
    if group is None:
        raise Drift(resource, "exists", False, True)
    have = sorted(s.get("SubnetIdentifier") for s in group.get("Subnets") or [])
    if have != sorted(subnet_ids):
        raise Drift(resource, "subnets", have, sorted(subnet_ids))
    if spec.get("description") is not None and group.get("DBSubnetGroupDescription") != spec["description"]:
        raise Drift(resource, "description", group.get("DBSubnetGroupDescription"), spec["description"])
    tags = rds.call("list_tags_for_resource", ResourceName=group["DBSubnetGroupArn"], context=resource)
    tags_drift(resource, tags_to_dict(tags.get("TagList")), spec.get("tags"))


def check_parameter_group(rds, spec):
    name = spec["name"]
    resource = f"parameter group {name}"
    group = read_group(rds, name)
    if group is None:
        raise Drift(resource, "exists", False, True)
    if group.get("DBParameterGroupFamily") not in (None, spec["family"]):
        raise Drift(resource, "family", group.get("DBParameterGroupFamily"), spec["family"])
    desired = {key: parameter_value(value) for key, value in (spec.get("parameters") or {}).items()}
    changes = plan_parameter_changes(user_parameters(rds, name), desired, purge=True)
    if changes:
        before = {c["name"]: c["before"] for c in changes}
        raise Drift(resource, "parameters", before, {c["name"]: c["after"] for c in changes})
    tags = rds.call("list_tags_for_resource", ResourceName=group["DBClusterParameterGroupArn"], context=resource)
    tags_drift(resource, tags_to_dict(tags.get("TagList")), spec.get("tags"))


def check_cluster(rds, spec, security_group_id):
    identifier = spec["db_cluster_identifier"]
    resource = f"cluster {identifier}"
    named = [option for option in UNCHECKED_CLUSTER_OPTIONS if spec.get(option)]
    if named:
        raise Unchecked(f"{resource}: {', '.join(named)} compared by aurora_cluster only")
    cluster = read_cluster(rds, identifier)
    if cluster is None:
        raise Drift(resource, "exists", False, True)
    if cluster.get("Status") != "available":
        raise Drift(resource, "status", cluster.get("Status"), "available")
    params = dict(spec, engine=spec.get("engine") or "aurora-postgresql", vpc_security_group_ids=[security_group_id])
    changes, major_upgrade, notice, error = plan_cluster_changes(cluster, params)
    if error or major_upgrade or changes:
        first = (changes or [major_upgrade or {"attribute": "engine_version"}])[0]
        raise Drift(resource, first["attribute"], first.get("before"), first.get("after"))
    tags_drift(resource, tags_to_dict(cluster.get("TagList")), spec.get("tags"))
    return cluster, notice


def check_instances(rds, spec, cluster, zones):
    settings = {key: value for key, value in spec.items() if key not in LAYOUT_KEYS}
    named = [option for option in UNCHECKED_INSTANCE_OPTIONS if settings.get(option)]
    if named or int(settings.get("monitoring_interval") or 0) > 0:
        raise Unchecked(f"instances: {', '.join(named) or 'monitoring_interval'} compared by aurora_instance only")
    identifier = cluster["DBClusterIdentifier"]
    members = read_members(rds, identifier)
    by_id = {i.get("DBInstanceIdentifier"): i for i in members}
    layout = instance_layout(
        zones, spec["writer_identifier"], spec["reader_identifier_prefix"], int(spec.get("reader_count") or 0)
    )
    wanted_ids = {entry["id"] for entry in layout}
    # The role removes readers numbered beyond reader_count; instances named otherwise are left alone.
    numbered = re.compile(re.escape(spec["reader_identifier_prefix"]) + r"[0-9]+$")
    extra = sorted(i for i in by_id if i not in wanted_ids and numbered.match(i))
    if extra:
        raise Drift(f"cluster {identifier}", "readers", sorted(by_id), sorted(wanted_ids))
    for entry in layout:
        resource = f"instance {entry['id']}"
        instance = by_id.get(entry["id"])
        if instance is None:
            raise Drift(resource, "exists", False, True)
        if instance.get("DBInstanceStatus") != "available":
            raise Drift(resource, "status", instance.get("DBInstanceStatus"), "available")
        params = dict(
            settings,
            engine="aurora-postgresql",
            db_instance_identifier=entry["id"],
            db_cluster_identifier=identifier,
            availability_zone=entry["az"],
            promotion_tier=entry["tier"],
            apply_immediately=bool(settings.get("apply_immediately")),
        )
        changes = planned_changes(instance, params)
        if changes:
            first = changes[0]
            raise Drift(resource, first["attribute"], first["before"], first["after"])
        tags = dict(settings.get("tags") or {}, Role=entry["role"])
        tags_drift(resource, tags_to_dict(instance.get("TagList")), tags)
        if spec.get("allow_rolling_reboot") and waits_for_reboot(instance, cluster):
            raise Drift(resource, "parameters", "pending-reboot", "in-sync")
    described = describe_members(cluster, members)
    writers = [i["db_instance_identifier"] for i in described if i["role"] == "writer"]
    if writers != [spec["writer_identifier"]]:
        raise Drift(f"cluster {identifier}", "writer", writers[0] if writers else None, spec["writer_identifier"])
    return described


def compare_stack(ec2, rds, params):
    """(result, drift, unchecked): what was found, the first difference and what could not be compared."""
    found = {}
    try:
        network, db_group = find_network(ec2, params)
        found["network"] = network
        if db_group is not None:
            found["security_group_id"] = db_group["GroupId"]
        check_security_group(params["security_group"], db_group, network["app_security_group_id"])
        check_subnet_group(rds, params["subnet_group"], [s["subnet_id"] for s in network["subnets"]])
        check_parameter_group(rds, params["parameter_group"])
        cluster, notice = check_cluster(rds, params["cluster"], db_group["GroupId"])
        if notice:
            found["engine_version_notice"] = notice
        instances = check_instances(
            rds, params["instances"], cluster, [s["availability_zone"] for s in network["subnets"]]
        )
    except Drift as drift:
        return found, [drift.entry], []
    except Unchecked as reason:
        return found, [], [str(reason)]
    found.update(
        cluster=to_snake(cluster),
        writer=params["instances"]["writer_identifier"],
        readers=[i["db_instance_identifier"] for i in instances if i["role"] == "reader"],
        endpoints={
            "writer": cluster.get("Endpoint"),
            "reader": cluster.get("ReaderEndpoint"),
            "port": cluster.get("Port"),
        },
    )
    return found, [], []


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            vpc_name=dict(type="str", required=True),
            private_subnet_names=dict(type="list", elements="str", required=True),
            app_security_group_name=dict(type="str", required=True),
            security_group=dict(type="dict", required=True),
            subnet_group=dict(type="dict", required=True),
            parameter_group=dict(type="dict", required=True),
            cluster=dict(type="dict", required=True),
            instances=dict(type="dict", required=True),
        ),
        supports_check_mode=True,
    )
    ec2 = AwsApi(module, "ec2")
    rds = AwsApi(module, "rds")
    found, drift, unchecked = compare_stack(ec2, rds, module.params)
    module.exit_json(changed=False, in_sync=not drift and not unchecked, drift=drift, unchecked=unchecked, **found)


if __name__ == "__main__":
    main()
