#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_stack
short_description: Compare a whole Aurora PostgreSQL stack with its desired state in one pass, or create it
version_added: 0.2.0
description:
  - Reads the network, the database security group, the DB subnet group, the cluster parameter group, the cluster
    and its instances in one process (at most ten AWS calls, all reads), and compares each with its desired state
    the way the modules that converge them do. The cluster, instance and parameter comparisons are the very code
    of M(vitality.aurora.aurora_cluster), M(vitality.aurora.aurora_instance) and
    M(vitality.aurora.aurora_cluster_parameter_group).
  - Stops at the first resource that differs, is missing or is not C(available), and names it in RV(drift).
  - With O(create_when_absent=true), when none of the stack exists (no database security group, DB subnet group,
    cluster parameter group, nor a cluster of this identifier or of this C(Stack) tag), creates all of it in this
    one process, with the requests of the modules that converge each resource, and does not wait for the cluster
    and its instances (RV(created)). A create that meets a resource made meanwhile (by another run, or by its own
    retried request) stops there, with RV(created=false), and the per-resource modules then converge what exists.
  - A create that fails (an AWS error, with or without a part of the stack already created in this run) fails the
    module with a message naming the resource it failed at, the AWS error, each resource created in this run and
    left in place (kind and identifier, also in RV(created_resources)) and those not created, and the two ways
    forward. Nothing is rolled back; a re-run finds what exists and converges it without a duplicate, and the
    teardown (C(playbooks/destroy.yml)) removes it.
  - With O(report_existing=true), it only reads which of the stack's resources exist (RV(existing)), and compares
    nothing and creates nothing. The role runs it so after a failed converge.
  - The M(vitality.aurora.aurora_cluster) role runs it first, and skips its converge tasks when RV(in_sync) or
    RV(created) is true.
  - Settings it does not compare (a named KMS key, Enhanced Monitoring, a security group rule it does not model) make
    RV(in_sync) false with the reason in RV(unchecked), so that the modules that converge the stack decide.
  - Check mode compares only, and never creates.
  - It never modifies a resource that exists. With O(cluster.update_password=always) and a self-managed master
    password (O(cluster.manage_master_user_password=false)), an existing cluster is therefore never in sync, as AWS
    never returns the password to compare it; RV(drift) names C(master_user_password) (its values hidden) on every
    run, and the M(vitality.aurora.aurora_cluster) task, given the same O(cluster.update_password), applies it.
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
      - The database security group, as the role converges it with M(amazon.aws.ec2_security_group) (rules and tags
        purged).
    type: dict
    required: true
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      description:
        description: Its description, used when it is created (AWS cannot change it).
        type: str
        required: true
      app_port:
        description: The database port, admitted from the application's security group.
        type: int
        required: true
      app_rule_description:
        description: The description of that rule.
        type: str
      extra_ingress:
        description: More ingress rules, in M(amazon.aws.ec2_security_group)'s format.
        type: list
        elements: dict
        default: []
      egress:
        description: The egress rules, in the same format; none by default.
        type: list
        elements: dict
        default: []
      tags:
        description: Its tags.
        type: dict
  subnet_group:
    description: The DB subnet group, over the private subnets found (tags purged).
    type: dict
    required: true
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      description:
        description: Its description.
        type: str
        required: true
      tags:
        description: Its tags.
        type: dict
  parameter_group:
    description: The cluster parameter group (parameters and tags purged).
    type: dict
    required: true
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      family:
        description: Its family.
        type: str
        required: true
      description:
        description: Its description, used when it is created.
        type: str
        required: true
      parameters:
        description: The user-set parameters, name to value.
        type: dict
        default: {}
      tags:
        description: Its tags.
        type: dict
  cluster:
    description:
      - The cluster, with the options of M(vitality.aurora.aurora_cluster) of the same names (tags purged); its
        security group is the database security group found or created here.
    type: dict
    required: true
    suboptions:
      db_cluster_identifier:
        description: The cluster identifier.
        type: str
        required: true
      engine:
        description: The engine.
        type: str
        choices: [aurora-postgresql]
        default: aurora-postgresql
      engine_version:
        description: The engine version.
        type: str
        required: true
      port:
        description: The database port.
        type: int
      database_name:
        description: The initial database.
        type: str
      master_username:
        description: The master user.
        type: str
      manage_master_user_password:
        description: Whether AWS Secrets Manager holds the master password.
        type: bool
        default: true
      update_password:
        description:
          - When O(master_user_password) is sent to AWS, as in M(vitality.aurora.aurora_cluster). Omitting it is
            V(on_create).
          - V(on_create) sends it only in the request that creates the cluster; a changed password is not a
            difference, so an existing cluster can be in sync.
          - V(always) makes an existing cluster with a self-managed password a difference on every run (RV(drift)
            names C(master_user_password), its values hidden, and RV(in_sync) is false), so that the role's
            M(vitality.aurora.aurora_cluster) task applies it. Creating the stack sends the password once, with the
            cluster's create request, whatever this says.
          - Ignored with O(cluster.manage_master_user_password=true).
        type: str
        choices: [always, on_create]
        default: on_create
      master_user_secret_kms_key_id:
        description: The KMS key of the secret.
        type: str
      storage_encrypted:
        description: Whether storage is encrypted.
        type: bool
        default: true
      kms_key_id:
        description: The KMS key of the storage.
        type: str
      db_subnet_group_name:
        description: The DB subnet group.
        type: str
      db_cluster_parameter_group_name:
        description: The cluster parameter group.
        type: str
      backup_retention_period:
        description: Days of automated backups.
        type: int
      preferred_backup_window:
        description: The daily backup window.
        type: str
      preferred_maintenance_window:
        description: The weekly maintenance window.
        type: str
      copy_tags_to_snapshot:
        description: Whether snapshots get the cluster's tags.
        type: bool
      deletion_protection:
        description: Whether deletion protection is on.
        type: bool
      enable_iam_database_authentication:
        description: Whether IAM database authentication is on.
        type: bool
      enable_cloudwatch_logs_exports:
        description: The log types exported to CloudWatch Logs.
        type: list
        elements: str
      apply_immediately:
        description: Whether deferrable changes apply now rather than in the maintenance window.
        type: bool
        default: false
      tags:
        description: The cluster's tags.
        type: dict
  master_user_password:
    description:
      - The master password, when O(cluster.manage_master_user_password=false); sent only to create the cluster, as
        this module never modifies an existing one (see O(cluster.update_password)).
      - It never appears in the result.
    type: str
  instances:
    description:
      - The writer and the readers, laid out over the subnets' Availability Zones as the
        P(vitality.aurora.instance_layout#filter) filter does, each with the options of
        M(vitality.aurora.aurora_instance) of the same names (tags purged).
    type: dict
    required: true
    suboptions:
      writer_identifier:
        description: The writer's identifier.
        type: str
        required: true
      reader_identifier_prefix:
        description: Readers are named this prefix and their number.
        type: str
        required: true
      reader_count:
        description: How many readers.
        type: int
        default: 0
      allow_rolling_reboot:
        description: Whether an instance waiting for a reboot to apply parameters is a difference (the role then reboots it).
        type: bool
        default: false
      db_instance_class:
        description: The instance class.
        type: str
        required: true
      auto_minor_version_upgrade:
        description: Whether AWS applies minor versions in the maintenance window.
        type: bool
      enable_performance_insights:
        description: Whether Performance Insights is on.
        type: bool
      performance_insights_retention_period:
        description: Its retention, in days.
        type: int
      performance_insights_kms_key_id:
        description: Its KMS key.
        type: str
      monitoring_interval:
        description: The Enhanced Monitoring interval, 0 for none.
        type: int
        default: 0
      apply_immediately:
        description: Whether deferrable changes apply now rather than in the maintenance window.
        type: bool
        default: false
      tags:
        description: The tags of every instance; each also gets C(Role) (C(writer) or C(reader)), as the role tags them.
        type: dict
  create_when_absent:
    description:
      - Create the whole stack in this one pass when none of it exists (never in check mode).
      - Before the first create, the same read-only checks as M(vitality.aurora.aurora_preflight) run (engine version
        offered, instance class orderable, cluster parameters known and allowed, KMS keys enabled and symmetric, log
        types exported); any refusal fails the module with every reason and nothing created.
      - Omitted, V(false), the stack is only compared.
    type: bool
    default: false
  variable_prefix:
    description:
      - Prefix of the names the pre-create checks' errors give the settings (the role passes V(aurora_cluster_), so an
        error names C(aurora_cluster_engine_version)); omitted, the errors name the option as the preflight module does.
    type: str
    default: ""
  report_existing:
    description:
      - Only list which of the stack's resources exist (RV(existing)) and compare nothing, create nothing (RV(in_sync)
        is then false). Of the options, only the names are used; the required ones must still be given.
      - Reads the VPC (to find the database security group in it), the database security group, the DB subnet group,
        the cluster parameter group, the cluster and the instances of the cluster.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Compare the dev stack with its desired state
  vitality.aurora.aurora_stack:
    vpc_name: vitality-dev-app-vpc
    private_subnet_names: [vitality-dev-private-us-east-1c, vitality-dev-private-us-east-1d]
    app_security_group_name: vitality-dev-app-sg
    security_group:
      name: vitality-dev-db
      description: "vitality-dev Aurora PostgreSQL: port 5432 from the application only"
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
      description: vitality-dev Aurora PostgreSQL cluster parameters
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
    create_when_absent: true
  register: stack

- name: Converge each resource only when something differs and the stack was not just created
  ansible.builtin.include_tasks: converge.yml
  when: not stack.in_sync and not stack.created
"""

RETURN = r"""
errors:
  description: Every refusal of the pre-create checks (see O(create_when_absent)), when they stopped the create.
  returned: failure, when the pre-create checks refused the stack
  type: list
  elements: str
  sample: ["aurora_cluster_engine_version='16.99' is not an Aurora PostgreSQL version offered in us-east-1"]
in_sync:
  description: Whether every resource exists, is available and matches its desired state.
  returned: always
  type: bool
drift:
  description:
    - What differs on the first resource found differing (the check stops there).
    - A master password to send with O(cluster.update_password=always) is C(attribute=master_user_password), with
      the placeholder "(hidden)" as before and after.
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
created:
  description: Whether this run created the stack (O(create_when_absent)); its instances are then still being created.
  returned: always
  type: bool
created_resources:
  description:
    - Each resource this run created, in the order it was created. When the one-pass create fails part-way, the
      failure returns it too, with what exists because of this run (a security group whose rule could not be added,
      a parameter group whose parameters could not be set, are listed).
  returned: always (also when creating the stack failed)
  type: list
  elements: dict
  contains:
    kind:
      description: >-
        C(security_group), C(db_subnet_group), C(db_cluster_parameter_group), C(db_cluster) or C(db_instance).
      type: str
    id:
      description: Its identifier (the group ID of the security group; the name or identifier of the others).
      type: str
    name:
      description: The security group's name.
      type: str
      returned: for the security group
    label:
      description: Kind and identifier in words, as the failure message names it.
      type: str
  sample:
    - {kind: security_group, id: sg-0123456789abcdef0, name: vitality-dev-db,
       label: security group sg-0123456789abcdef0 (vitality-dev-db)}
    - {kind: db_subnet_group, id: vitality-dev-db-subnets, label: DB subnet group vitality-dev-db-subnets}
failed_at:
  description: The resource whose create failed (C(kind), C(id), C(label)).
  returned: when creating the stack failed
  type: dict
not_created:
  description: The resources of the stack not created because the create stopped (same keys as RV(created_resources)).
  returned: when creating the stack failed
  type: list
  elements: dict
existing:
  description:
    - With O(report_existing=true), each of the stack's resources that exists (same keys as RV(created_resources)),
      whoever created it.
    - The database security group is looked up in the VPC of O(vpc_name) only; when that VPC is not found, it is
      not listed.
  returned: when O(report_existing=true)
  type: list
  elements: dict
changes:
  description: When RV(created), each resource created, in the role's plan format.
  returned: always
  type: list
  elements: dict
  sample:
    - resource: cluster vitality-dev-aurora
      changes: [{attribute: cluster, before: null, after: vitality-dev-aurora, impact: online}]
engine_version_notice:
  description: Why the running engine version, newer than the configured one, is kept.
  returned: when the cluster runs a newer minor version than the configured C(engine_version)
  type: str
"""

import re
import traceback
from contextlib import contextmanager

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import (
    AwsApi,
    dict_to_tags,
    tag_changes,
    tags_to_dict,
    to_snake,
)
from ansible_collections.vitality.aurora.plugins.module_utils.changes import ONLINE
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    SETTING_OPTIONS,
    clusters_tagged,
    describe_members,
    plan_cluster_changes,
    read_cluster,
    read_members,
)
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    create_request as cluster_create_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    create_request as instance_create_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    planned_changes,
    waits_for_reboot,
)
from ansible_collections.vitality.aurora.plugins.module_utils.layout import instance_layout
from ansible_collections.vitality.aurora.plugins.module_utils.parameter_settings import (
    apply_parameter_changes,
    classify,
    desired_parameters,
    parameter_catalog,
    plan_parameter_changes,
    public_change,
    read_group,
    user_parameters,
)
from ansible_collections.vitality.aurora.plugins.module_utils.preflight import FAILURE_PREFIX as PREFLIGHT_FAILURE
from ansible_collections.vitality.aurora.plugins.module_utils.preflight import Preflight
from ansible_collections.vitality.aurora.plugins.module_utils.security_group_rules import (
    UnsupportedRule,
    describe_rule,
    flatten_permissions,
    flatten_rules,
    to_permission,
)

# Settings whose comparison needs more than these reads (a KMS alias lookup): when one is given,
# the converging modules decide.
UNCHECKED_CLUSTER_OPTIONS = ("kms_key_id", "master_user_secret_kms_key_id")
UNCHECKED_INSTANCE_OPTIONS = ("performance_insights_kms_key_id",)
LAYOUT_KEYS = ("writer_identifier", "reader_identifier_prefix", "reader_count", "allow_rolling_reboot")

TAGS = dict(type="dict")
ARGUMENT_SPEC = dict(
    vpc_name=dict(type="str", required=True),
    private_subnet_names=dict(type="list", elements="str", required=True),
    app_security_group_name=dict(type="str", required=True),
    security_group=dict(
        type="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            description=dict(type="str", required=True),
            app_port=dict(type="int", required=True),
            app_rule_description=dict(type="str"),
            extra_ingress=dict(type="list", elements="dict", default=[]),
            egress=dict(type="list", elements="dict", default=[]),
            tags=TAGS,
        ),
    ),
    subnet_group=dict(
        type="dict",
        required=True,
        options=dict(name=dict(type="str", required=True), description=dict(type="str", required=True), tags=TAGS),
    ),
    parameter_group=dict(
        type="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            family=dict(type="str", required=True),
            description=dict(type="str", required=True),
            parameters=dict(type="dict", default={}),
            tags=TAGS,
        ),
    ),
    cluster=dict(
        type="dict",
        required=True,
        options=dict(
            db_cluster_identifier=dict(type="str", required=True),
            engine=dict(type="str", choices=["aurora-postgresql"], default="aurora-postgresql"),
            engine_version=dict(type="str", required=True),
            tags=TAGS,
            **SETTING_OPTIONS,
        ),
    ),
    master_user_password=dict(type="str", no_log=True),
    instances=dict(
        type="dict",
        required=True,
        options=dict(
            writer_identifier=dict(type="str", required=True),
            reader_identifier_prefix=dict(type="str", required=True),
            reader_count=dict(type="int", default=0),
            allow_rolling_reboot=dict(type="bool", default=False),
            db_instance_class=dict(type="str", required=True),
            auto_minor_version_upgrade=dict(type="bool"),
            enable_performance_insights=dict(type="bool"),
            performance_insights_retention_period=dict(type="int"),
            performance_insights_kms_key_id=dict(type="str"),
            monitoring_interval=dict(type="int", default=0),
            apply_immediately=dict(type="bool", default=False),
            tags=TAGS,
        ),
    ),
    create_when_absent=dict(type="bool", default=False),
    report_existing=dict(type="bool", default=False),
    variable_prefix=dict(type="str", default=""),
)


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


def wanted_rules(spec, app_group_id):
    """(ingress, egress) of the database security group, flattened; Unchecked for a rule not modelled here."""
    app_rule = {
        "proto": "tcp",
        "ports": [spec["app_port"]],
        "group_id": app_group_id,
        "rule_desc": spec.get("app_rule_description"),
    }
    try:
        return flatten_rules([app_rule] + list(spec.get("extra_ingress") or [])), flatten_rules(spec.get("egress"))
    except UnsupportedRule as e:
        raise Unchecked(f"security group {spec['name']}: {e}") from e


def check_security_group(spec, group, app_group_id):
    resource = f"security group {spec['name']}"
    if group is None:
        raise Drift(resource, "exists", False, True)
    wanted_ingress, wanted_egress = wanted_rules(spec, app_group_id)
    for attribute, wanted, permissions in (
        ("ingress", wanted_ingress, group.get("IpPermissions")),
        ("egress", wanted_egress, group.get("IpPermissionsEgress")),
    ):
        have = flatten_permissions(permissions)
        if have != wanted:
            raise Drift(resource, attribute, sorted(map(describe_rule, have)), sorted(map(describe_rule, wanted)))
    tags_drift(resource, tags_to_dict(group.get("Tags")), spec.get("tags"))


def read_subnet_group(rds, name):
    return rds.describe_one(
        "describe_db_subnet_groups",
        "DBSubnetGroups",
        DBSubnetGroupName=name,
        not_found=("DBSubnetGroupNotFoundFault",),
        context=f"DB subnet group {name}",
    )


def check_subnet_group(rds, spec, subnet_ids):
    name = spec["name"]
    resource = f"DB subnet group {name}"
    group = read_subnet_group(rds, name)
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
    desired = desired_parameters(spec.get("parameters"))
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
    params = dict(spec, vpc_security_group_ids=[security_group_id])
    changes, major_upgrade, notice, error = plan_cluster_changes(cluster, params)
    if error or major_upgrade or changes:
        first = (changes or [major_upgrade or {"attribute": "engine_version"}])[0]
        raise Drift(resource, first["attribute"], first.get("before"), first.get("after"))
    tags_drift(resource, tags_to_dict(cluster.get("TagList")), spec.get("tags"))
    return cluster, notice


def instances_wanted(spec, cluster_identifier, zones):
    """Each instance of the layout with the aurora_instance options it is converged (or created) with."""
    settings = {key: value for key, value in spec.items() if key not in LAYOUT_KEYS}
    layout = instance_layout(zones, spec["writer_identifier"], spec["reader_identifier_prefix"], spec["reader_count"])
    return [
        dict(
            settings,
            engine="aurora-postgresql",
            db_instance_identifier=entry["id"],
            db_cluster_identifier=cluster_identifier,
            availability_zone=entry["az"],
            promotion_tier=entry["tier"],
            tags=dict(settings.get("tags") or {}, Role=entry["role"]),
        )
        for entry in layout
    ]


def check_instances(rds, spec, cluster, zones):
    named = [option for option in UNCHECKED_INSTANCE_OPTIONS if spec.get(option)]
    if named or int(spec.get("monitoring_interval") or 0) > 0:
        raise Unchecked(f"instances: {', '.join(named) or 'monitoring_interval'} compared by aurora_instance only")
    identifier = cluster["DBClusterIdentifier"]
    members = read_members(rds, identifier)
    by_id = {i.get("DBInstanceIdentifier"): i for i in members}
    wanted = instances_wanted(spec, identifier, zones)
    wanted_ids = {params["db_instance_identifier"] for params in wanted}
    # The role removes readers numbered beyond reader_count; instances named otherwise are left alone.
    numbered = re.compile(re.escape(spec["reader_identifier_prefix"]) + r"[0-9]+$")
    extra = sorted(i for i in by_id if i not in wanted_ids and numbered.match(i))
    if extra:
        raise Drift(f"cluster {identifier}", "readers", sorted(by_id), sorted(wanted_ids))
    for params in wanted:
        resource = f"instance {params['db_instance_identifier']}"
        instance = by_id.get(params["db_instance_identifier"])
        if instance is None:
            raise Drift(resource, "exists", False, True)
        if instance.get("DBInstanceStatus") != "available":
            raise Drift(resource, "status", instance.get("DBInstanceStatus"), "available")
        changes = planned_changes(instance, params)
        if changes:
            first = changes[0]
            raise Drift(resource, first["attribute"], first["before"], first["after"])
        tags_drift(resource, tags_to_dict(instance.get("TagList")), params["tags"])
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


class MadeMeanwhile(Exception):
    """A create met a resource made meanwhile: the per-resource modules converge what exists."""


class CreateFailed(Exception):
    """A call of the one-pass create failed: what AwsApi, or a check, would have ended the module with."""

    def __init__(self, msg, exception=None, result=None):
        super().__init__(msg)
        self.msg = msg or ""
        self.exception = exception
        self.result = result or {}

    def text(self):
        """The failure in words, as AnsibleAWSModule.fail_json_aws words it: the call, then AWS's error."""
        if self.exception is None:
            return self.msg
        detail = str(getattr(self.exception, "message", None) or self.exception)
        return f"{self.msg}: {detail}" if self.msg else detail


class RaisingModule:
    """The module as the create sees it: a failure raises CreateFailed, so that what was created can be named."""

    def __init__(self, module):
        self._module = module

    def fail_json(self, msg, **result):
        raise CreateFailed(msg, result=result)

    def fail_json_aws(self, exception, msg=None, **result):
        raise CreateFailed(msg, exception=exception, result=result)

    def __getattr__(self, name):
        return getattr(self._module, name)


@contextmanager
def failures_raised(module, *apis):
    """While creating, the AwsApi clients raise CreateFailed instead of failing the module."""
    raising = RaisingModule(module)
    saved = [(api, getattr(api, "module", None)) for api in apis]
    for api, _module in saved:
        api.module = raising
    try:
        yield raising
    finally:
        for api, original in saved:
            api.module = original


# The kinds of the stack's resources, as the results and the messages name them.
KINDS = {
    "security_group": "security group",
    "db_subnet_group": "DB subnet group",
    "db_cluster_parameter_group": "DB cluster parameter group",
    "db_cluster": "DB cluster",
    "db_instance": "DB instance",
}


def resource_entry(kind, identifier, name=None):
    """{kind, id, label} (and name, for the security group, whose ID AWS gives it); id is None before it exists."""
    words = f"{KINDS[kind]} {identifier or name}" + (f" ({name})" if identifier and name else "")
    entry = {"kind": kind, "id": identifier, "label": words}
    if name is not None:
        entry["name"] = name
    return entry


def entry_key(entry):
    return entry["kind"], entry.get("name") or entry["id"]


class Progress:
    """What the one-pass create has made so far, and the resource it is at."""

    def __init__(self, planned=()):
        self.planned = list(planned)
        self.created = []
        self.at = None

    def start(self, entry):
        self.at = entry

    def made(self, entry):
        self.created.append(entry)
        self.at = entry


def planned_resources(params, zones):
    """Every resource the one-pass create makes, in order, none of them existing yet."""
    identifier = params["cluster"]["db_cluster_identifier"]
    return [
        resource_entry("security_group", None, params["security_group"]["name"]),
        resource_entry("db_subnet_group", params["subnet_group"]["name"]),
        resource_entry("db_cluster_parameter_group", params["parameter_group"]["name"]),
        resource_entry("db_cluster", identifier),
    ] + [
        resource_entry("db_instance", instance["db_instance_identifier"])
        for instance in instances_wanted(params["instances"], identifier, zones)
    ]


def creation_failure(progress, error):
    """(msg, result) of a one-pass create that failed: where, AWS's error, what it left and the ways forward."""
    created = list(progress.created)
    made = {entry_key(entry) for entry in created}
    not_created = [entry for entry in progress.planned if entry_key(entry) not in made]
    where = f" at the {progress.at['label']}" if progress.at else ""
    msg = f"Creating the stack failed{where}: {error.rstrip().rstrip('.')}."
    if created:
        msg += f" Created in this run and left in place: {', '.join(e['label'] for e in created)}."
        if not_created:
            msg += f" Not created: {', '.join(e['label'] for e in not_created)}."
        msg += (
            " Re-run provision to converge them (nothing is duplicated), or run playbooks/destroy.yml to remove them."
        )
    else:
        msg += " Nothing of the stack was created in this run; re-run provision once the cause is fixed."
    result = dict(
        changed=bool(created),
        created=False,
        created_resources=created,
        not_created=not_created,
        failed_at=progress.at,
        in_sync=False,
        drift=[],
        unchecked=[],
        changes=[],
    )
    return msg, result


def fail_creation(module, progress, error, failure=None, trace=None):
    msg, result = creation_failure(progress, error)
    if failure is not None:
        result.update(failure.result)
        response = getattr(failure.exception, "response", None)
        if response:
            result.update(camel_dict_to_snake_dict(response))
    module.fail_json(msg=msg, exception=trace, **result)


# The rule AWS gives every new VPC security group.
DEFAULT_EGRESS = ("-1", None, None, "cidr", "0.0.0.0/0", None)


def create_or_stop(api, method, exists, already_exists, context, **request):
    """The create call's response; MadeMeanwhile when the resource turned out to exist."""
    response = api.create(method, exists=exists, already_exists=already_exists, context=context, **request)
    if response is None:
        raise MadeMeanwhile(context)
    return response


def created_entry(resource, attribute, name):
    return {
        "resource": resource,
        "changes": [{"attribute": attribute, "before": None, "after": name, "impact": ONLINE}],
    }


def nothing_of_the_stack_exists(rds, params, drift):
    """The comparison stopped at a missing database security group, and nothing else of the stack exists."""
    if not drift or drift[0]["attribute"] != "exists" or not drift[0]["resource"].startswith("security group "):
        return False
    if read_subnet_group(rds, params["subnet_group"]["name"]):
        return False
    if read_group(rds, params["parameter_group"]["name"]):
        return False
    if read_cluster(rds, params["cluster"]["db_cluster_identifier"]):
        return False
    stack = (params["cluster"].get("tags") or {}).get("Stack")
    return not (stack and clusters_tagged(rds, {"Stack": stack}))


def existing_resources(ec2, rds, params):
    """Each of the stack's resources that exists now, whoever made it (O(report_existing))."""
    existing = []
    vpc_name = params["vpc_name"]
    vpcs = ec2.call("describe_vpcs", Filters=[{"Name": "tag:Name", "Values": [vpc_name]}], context=f"VPC {vpc_name}")
    vpcs = (vpcs or {}).get("Vpcs") or []
    if len(vpcs) == 1:
        name = params["security_group"]["name"]
        groups = ec2.call(
            "describe_security_groups",
            Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}, {"Name": "group-name", "Values": [name]}],
            context=f"security group {name}",
        )
        existing += [
            resource_entry("security_group", group["GroupId"], group.get("GroupName", name))
            for group in (groups or {}).get("SecurityGroups") or []
        ]
    if read_subnet_group(rds, params["subnet_group"]["name"]):
        existing.append(resource_entry("db_subnet_group", params["subnet_group"]["name"]))
    if read_group(rds, params["parameter_group"]["name"]):
        existing.append(resource_entry("db_cluster_parameter_group", params["parameter_group"]["name"]))
    identifier = params["cluster"]["db_cluster_identifier"]
    if read_cluster(rds, identifier):
        existing.append(resource_entry("db_cluster", identifier))
        members = sorted(i.get("DBInstanceIdentifier") for i in read_members(rds, identifier) or [])
        existing += [resource_entry("db_instance", member) for member in members]
    return existing


def create_security_group(ec2, spec, network, progress=None):
    name = spec["name"]
    context = f"security group {name}"
    ingress, egress = wanted_rules(spec, network["app_security_group_id"])

    def exists():
        groups = ec2.call(
            "describe_security_groups",
            Filters=[{"Name": "vpc-id", "Values": [network["vpc_id"]]}, {"Name": "group-name", "Values": [name]}],
            context=context,
        )["SecurityGroups"]
        return bool(groups)

    group_id = create_or_stop(
        ec2,
        "create_security_group",
        exists=exists,
        already_exists=("InvalidGroup.Duplicate",),
        context=context,
        GroupName=name,
        Description=spec["description"],
        VpcId=network["vpc_id"],
        TagSpecifications=[{"ResourceType": "security-group", "Tags": dict_to_tags(spec.get("tags"))}],
    )["GroupId"]
    if progress is not None:
        progress.made(resource_entry("security_group", group_id, name))
    # A retried request whose first answer was lost meets its own rule: that is success.
    ec2.call(
        "authorize_security_group_ingress",
        GroupId=group_id,
        IpPermissions=[to_permission(rule) for rule in sorted(ingress, key=str)],
        not_found=("InvalidPermission.Duplicate",),
        context=context,
    )
    if DEFAULT_EGRESS not in egress:
        ec2.call(
            "revoke_security_group_egress",
            GroupId=group_id,
            IpPermissions=[to_permission(DEFAULT_EGRESS)],
            not_found=("InvalidPermission.NotFound",),
            context=context,
        )
    if egress - {DEFAULT_EGRESS}:
        ec2.call(
            "authorize_security_group_egress",
            GroupId=group_id,
            IpPermissions=[to_permission(rule) for rule in sorted(egress - {DEFAULT_EGRESS}, key=str)],
            not_found=("InvalidPermission.Duplicate",),
            context=context,
        )
    return group_id


def create_subnet_group(rds, spec, subnet_ids):
    name = spec["name"]
    context = f"DB subnet group {name}"
    create_or_stop(
        rds,
        "create_db_subnet_group",
        exists=lambda: read_subnet_group(rds, name) is not None,
        already_exists=("DBSubnetGroupAlreadyExists", "DBSubnetGroupAlreadyExistsFault"),
        DBSubnetGroupName=name,
        DBSubnetGroupDescription=spec["description"],
        SubnetIds=subnet_ids,
        Tags=dict_to_tags(spec.get("tags")),
        context=context,
    )


def create_parameter_group(module, rds, spec, progress=None):
    name = spec["name"]
    context = f"parameter group {name}"
    create_or_stop(
        rds,
        "create_db_cluster_parameter_group",
        exists=lambda: read_group(rds, name) is not None,
        already_exists=("DBParameterGroupAlreadyExists", "DBParameterGroupAlreadyExistsFault"),
        DBClusterParameterGroupName=name,
        DBParameterGroupFamily=spec["family"],
        Description=spec["description"],
        Tags=dict_to_tags(spec.get("tags")),
        context=context,
    )
    if progress is not None:
        progress.made(resource_entry("db_cluster_parameter_group", name))
    desired = desired_parameters(spec.get("parameters"))
    changes = plan_parameter_changes({}, desired, purge=False)
    if changes:
        catalog, complete = parameter_catalog(rds, name)
        problems = classify(changes, catalog, complete, name)
        if problems:
            module.fail_json(msg="; ".join(problems))
        apply_parameter_changes(rds, name, changes)
    return changes


def create_stack(module, ec2, rds, params, network, progress=None):
    """Create every resource of the stack, in order, without waiting; the plan entries of what was created.

    ``progress`` (a Progress) learns each resource as it comes to exist, so that a failure can name them.
    """
    progress = progress if progress is not None else Progress()
    progress.start(resource_entry("security_group", None, params["security_group"]["name"]))
    group_id = create_security_group(ec2, params["security_group"], network, progress)
    plan = [
        created_entry(f"security group {params['security_group']['name']} ({group_id})", "security_group", group_id)
    ]
    subnet_group = params["subnet_group"]["name"]
    progress.start(resource_entry("db_subnet_group", subnet_group))
    create_subnet_group(rds, params["subnet_group"], [s["subnet_id"] for s in network["subnets"]])
    progress.made(resource_entry("db_subnet_group", subnet_group))
    plan.append(created_entry(f"DB subnet group {subnet_group}", "subnet_group", subnet_group))
    parameter_group = params["parameter_group"]["name"]
    progress.start(resource_entry("db_cluster_parameter_group", parameter_group))
    parameters = create_parameter_group(module, rds, params["parameter_group"], progress)
    plan.append(created_entry(f"parameter group {parameter_group}", "parameter_group", parameter_group))
    plan[-1]["changes"].extend(public_change(change) for change in parameters)

    cluster = dict(
        params["cluster"],
        vpc_security_group_ids=[group_id],
        master_user_password=params.get("master_user_password"),
    )
    identifier = cluster["db_cluster_identifier"]
    progress.start(resource_entry("db_cluster", identifier))
    create_or_stop(
        rds,
        "create_db_cluster",
        exists=lambda: read_cluster(rds, identifier) is not None,
        already_exists=("DBClusterAlreadyExistsFault",),
        context=f"cluster {identifier}",
        **cluster_create_request(identifier, cluster),
    )
    progress.made(resource_entry("db_cluster", identifier))
    plan.append(created_entry(f"cluster {identifier}", "cluster", identifier))

    zones = [s["availability_zone"] for s in network["subnets"]]
    for instance in instances_wanted(params["instances"], identifier, zones):
        instance_id = instance["db_instance_identifier"]
        progress.start(resource_entry("db_instance", instance_id))
        create_or_stop(
            rds,
            "create_db_instance",
            exists=lambda instance_id=instance_id: (
                instance_id in {i.get("DBInstanceIdentifier") for i in read_members(rds, identifier) or []}
            ),
            already_exists=("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"),
            context=f"instance {instance_id}",
            **instance_create_request(instance),
        )
        progress.made(resource_entry("db_instance", instance_id))
        plan.append(created_entry(f"instance {instance_id}", "instance", instance_id))
    return group_id, plan


def create_in_one_pass(module, ec2, rds, params, network):
    """(security group ID, plan, created resources) of the stack created; None when a resource was made meanwhile.

    A failed create fails the module naming what this run created and left in place, and what it did not create.
    """
    zones = [s["availability_zone"] for s in network["subnets"]]
    progress = Progress(planned_resources(params, zones))
    try:
        with failures_raised(module, ec2, rds) as raising:
            group_id, plan = create_stack(raising, ec2, rds, params, network, progress)
    except CreateFailed as failure:
        fail_creation(module, progress, failure.text(), failure, traceback.format_exc())
    except (MadeMeanwhile, Unchecked):
        raise
    except Exception as error:  # noqa: BLE001 - whatever stopped the create, what it made must be named
        fail_creation(module, progress, f"{type(error).__name__}: {error}", trace=traceback.format_exc())
    return group_id, plan, progress.created


def refuse_what_aws_would_refuse(module, rds, params):
    """The preflight checks on the stack about to be created: fail with every refusal before any create call."""
    cluster, instances = params["cluster"], params["instances"]
    keys = {
        "kms_key_id": cluster.get("kms_key_id") if cluster.get("storage_encrypted") is not False else "",
        "master_user_secret_kms_key_id": (
            cluster.get("master_user_secret_kms_key_id") if cluster.get("manage_master_user_password") else ""
        ),
        "performance_insights_kms_key_id": (
            instances.get("performance_insights_kms_key_id") if instances.get("enable_performance_insights") else ""
        ),
    }
    prefix = params["variable_prefix"]
    checks = {
        "engine": cluster["engine"],
        "engine_version": cluster["engine_version"],
        "parameter_group_family": params["parameter_group"]["family"],
        "instance_classes": [instances["db_instance_class"]],
        "parameters": params["parameter_group"]["parameters"],
        "kms_keys": {f"{prefix}{name}": key for name, key in keys.items() if key},
        "cloudwatch_logs_exports": cluster.get("enable_cloudwatch_logs_exports") or [],
        "variable_prefix": prefix,
    }
    kms = AwsApi(module, "kms") if checks["kms_keys"] else None
    preflight = Preflight(checks, rds, kms, module.region).run()
    for warning in preflight.warnings:
        module.warn(warning)
    if preflight.errors:
        module.fail_json(msg=PREFLIGHT_FAILURE + "; ".join(preflight.errors), errors=preflight.errors, changed=False)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    ec2 = AwsApi(module, "ec2")
    rds = AwsApi(module, "rds")
    params = module.params
    if params["report_existing"]:
        module.exit_json(
            changed=False,
            in_sync=False,
            created=False,
            changes=[],
            drift=[],
            unchecked=["report_existing: the stack was not compared"],
            created_resources=[],
            existing=existing_resources(ec2, rds, params),
        )
    if not params["cluster"]["manage_master_user_password"] and not params["master_user_password"]:
        module.fail_json(msg="cluster.manage_master_user_password=false needs master_user_password")
    found, drift, unchecked = compare_stack(ec2, rds, params)
    created, plan, created_resources = False, [], []
    if (
        params["create_when_absent"]
        and not module.check_mode
        and "network" in found
        and nothing_of_the_stack_exists(rds, params, drift)
    ):
        refuse_what_aws_would_refuse(module, rds, params)
        try:
            found["security_group_id"], plan, created_resources = create_in_one_pass(
                module, ec2, rds, params, found["network"]
            )
            created = True
        except (MadeMeanwhile, Unchecked) as reason:
            unchecked = [f"not created in one pass: {reason}"]
    module.exit_json(
        changed=created,
        in_sync=not drift and not unchecked,
        created=created,
        changes=plan,
        created_resources=created_resources,
        drift=drift,
        unchecked=unchecked,
        **found,
    )


if __name__ == "__main__":
    main()
