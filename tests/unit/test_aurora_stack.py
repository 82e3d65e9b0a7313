"""aurora_stack: main()'s flows (plan, saved plan, problems, report_existing) and the Apply executor.

Two fakes answer in AWS's shapes:

* ``CannedApi`` stands in for AwsApi with canned answers (call/describe_one/paginate/create) and records
  every call: enough for the flows that only read.
* ``World`` is a stateful fake of the ec2 and rds boto3 clients, in FAKE time, under the real AwsApi: a
  modified instance is "modifying" for ``World.MODIFY`` fake seconds and then available with its new class,
  a failover moves the writer after ``World.FAILOVER`` seconds, and so on. Every request is checked against
  botocore's model of the operation. The apply runs with the same fake clock, so no test sleeps, and the
  fake time a run took, the mutating calls it made (in order) and the instances' outages are all asserted.
"""

import copy
import functools
import heapq
import itertools
import json

import boto3
import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters
from test_alarm_plan import ALARM_SETTINGS

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi, tags_to_dict
from ansible_collections.vitality.aurora.plugins.module_utils.plan import STACK, digest
from ansible_collections.vitality.aurora.plugins.module_utils.stack_plan import plan_stack, read_stack
from ansible_collections.vitality.aurora.plugins.modules import aurora_stack as m
from canned_api import CannedApi

ACCOUNT = "123456789012"
APP_SG = "sg-app"
DB_SG = "sg-db"
TAGS = {"Stack": "s", "ManagedBy": "vitality.aurora"}
LARGE, XLARGE = "db.r6g.large", "db.r6g.xlarge"


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def given(**extra):
    """The module's options, as the role passes them."""
    options = {
        "vpc_name": "vpc",
        "private_subnet_names": ["a", "b"],
        "app_security_group_name": "app",
        "security_group": {
            "name": "db",
            "description": "database",
            "app_port": 5432,
            "app_rule_description": "from app",
            "extra_ingress": [],
            "egress": [],
            "tags": dict(TAGS, Name="db"),
        },
        "subnet_group": {"name": "subnets", "description": "private", "tags": dict(TAGS)},
        "parameter_group": {
            "name": "pg",
            "family": "aurora-postgresql16",
            "description": "parameters",
            "parameters": {"rds.force_ssl": 1},
            "tags": dict(TAGS),
        },
        "cluster": {
            "db_cluster_identifier": "c",
            "engine_version": "16.6",
            "port": 5432,
            "db_subnet_group_name": "subnets",
            "db_cluster_parameter_group_name": "pg",
            "backup_retention_period": 7,
            "deletion_protection": True,
            "tags": dict(TAGS),
        },
        "instances": {
            "writer_identifier": "w",
            "reader_identifier_prefix": "r-",
            "reader_count": 2,
            "db_instance_class": LARGE,
            "enable_performance_insights": False,
            "tags": dict(TAGS),
        },
    }
    options.update(extra)
    return options


def validated(options):
    """The params main() works on: the argument spec's validation and defaults."""
    result = ArgumentSpecValidator(m.ARGUMENT_SPEC).validate(copy.deepcopy(options))
    assert result.error_messages == []
    return result.validated_parameters


# --- canned answers (reads only) --------------------------------------------------------------------------------------


def instance(identifier, zone, tier, role, **extra):
    described = {
        "DBInstanceIdentifier": identifier,
        "DBInstanceArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:db:{identifier}",
        "DBClusterIdentifier": "c",
        "Engine": "aurora-postgresql",
        "DBInstanceStatus": "available",
        "DBInstanceClass": LARGE,
        "AvailabilityZone": zone,
        "PromotionTier": tier,
        "PubliclyAccessible": False,
        "PerformanceInsightsEnabled": False,
        "MonitoringInterval": 0,
        "TagList": tag_list(dict(TAGS, Role=role)),
    }
    described.update(extra)
    return described


def in_sync_answers():
    ec2 = {
        "describe_vpcs": {"Vpcs": [{"VpcId": "vpc-1"}]},
        "describe_subnets": {
            "Subnets": [
                {"SubnetId": "subnet-b", "AvailabilityZone": "us-east-1d", "Tags": tag_list({"Name": "b"})},
                {"SubnetId": "subnet-a", "AvailabilityZone": "us-east-1c", "Tags": tag_list({"Name": "a"})},
            ]
        },
        "describe_security_groups": {
            "SecurityGroups": [
                {"GroupName": "app", "GroupId": APP_SG},
                {
                    "GroupName": "db",
                    "GroupId": DB_SG,
                    "IpPermissions": [
                        {
                            "IpProtocol": "tcp",
                            "FromPort": 5432,
                            "ToPort": 5432,
                            "UserIdGroupPairs": [{"GroupId": APP_SG, "Description": "from app"}],
                        }
                    ],
                    "IpPermissionsEgress": [],
                    "Tags": tag_list(dict(TAGS, Name="db")),
                },
            ]
        },
    }
    rds = {
        "describe_db_subnet_groups": {
            "DBSubnetGroups": [
                {
                    "DBSubnetGroupName": "subnets",
                    "DBSubnetGroupArn": "arn:subnets",
                    "DBSubnetGroupDescription": "private",
                    "Subnets": [{"SubnetIdentifier": "subnet-a"}, {"SubnetIdentifier": "subnet-b"}],
                }
            ]
        },
        "list_tags_for_resource": {"TagList": tag_list(TAGS)},
        "describe_db_cluster_parameter_groups": {
            "DBClusterParameterGroups": [
                {
                    "DBClusterParameterGroupName": "pg",
                    "DBClusterParameterGroupArn": "arn:pg",
                    "DBParameterGroupFamily": "aurora-postgresql16",
                }
            ]
        },
        "describe_db_cluster_parameters": {
            "Parameters": [{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "Source": "user"}]
        },
        "describe_db_clusters": {
            "DBClusters": [
                {
                    "DBClusterIdentifier": "c",
                    "DBClusterArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:c",
                    "Status": "available",
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "16.6",
                    "Port": 5432,
                    "StorageEncrypted": True,
                    "DBSubnetGroup": "subnets",
                    "DBClusterParameterGroup": "pg",
                    "VpcSecurityGroups": [{"VpcSecurityGroupId": DB_SG}],
                    "BackupRetentionPeriod": 7,
                    "DeletionProtection": True,
                    "Endpoint": "c.cluster",
                    "ReaderEndpoint": "c.cluster-ro",
                    "MasterUserSecret": {
                        "SecretArn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-c"
                    },
                    "TagList": tag_list(TAGS),
                    "DBClusterMembers": [
                        {"DBInstanceIdentifier": "w", "IsClusterWriter": True},
                        {"DBInstanceIdentifier": "r-1", "IsClusterWriter": False},
                        {"DBInstanceIdentifier": "r-2", "IsClusterWriter": False},
                    ],
                }
            ]
        },
        "describe_db_instances": {
            "DBInstances": [
                instance("w", "us-east-1c", 0, "writer"),
                instance("r-1", "us-east-1d", 1, "reader"),
                instance("r-2", "us-east-1d", 2, "reader"),
            ]
        },
    }
    return ec2, rds


def cluster_answer(rds):
    return rds["describe_db_clusters"]["DBClusters"][0]


def mutating(*apis):
    return [name for api in apis for name, _r in api.requests if not name.startswith(("describe_", "list_"))]


class FakePreflight:
    """The pre-change checks (tested on their own in test_preflight.py): records what they were given; refuses
    with ``errors``."""

    errors = []
    given = []

    def __init__(self, checks, rds, kms, region):
        FakePreflight.given.append(checks)
        self.warnings = []

    def run(self):
        self.errors = list(FakePreflight.errors)
        return self


@pytest.fixture(autouse=True)
def preflight(monkeypatch):
    monkeypatch.setattr(FakePreflight, "errors", [])
    monkeypatch.setattr(FakePreflight, "given", [])
    monkeypatch.setattr(m, "Preflight", FakePreflight)
    return FakePreflight


class Exited(Exception):
    def __init__(self, result):
        super().__init__("exit_json")
        self.result = result


class Failed(Exception):
    def __init__(self, msg, result):
        super().__init__(msg)
        self.msg = msg
        self.result = result


class StackModule:
    """AnsibleAWSModule as main() uses it: the argument spec's own validation and defaults; exit_json and
    fail_json end the run (Exited, Failed) with the result Ansible would report."""

    given = {}
    check_mode = False
    region = "us-east-1"

    def __init__(self, argument_spec=None, supports_check_mode=True):
        self.params = validated(self.given)
        self.warnings = []

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, msg, **result):
        raise Failed(msg, result)

    def fail_json_aws(self, exception, msg=None, **result):
        raise Failed(f"{msg}: {exception}", result)

    def warn(self, warning):
        self.warnings.append(warning)


def run_main(monkeypatch, apis, options, check_mode=False):
    """main() over ``apis`` (service -> AwsApi double); the Exited result, or the Failed failure."""
    monkeypatch.setattr(StackModule, "given", options)
    monkeypatch.setattr(StackModule, "check_mode", check_mode)
    monkeypatch.setattr(m, "AnsibleAWSModule", StackModule)
    monkeypatch.setattr(m, "AwsApi", lambda module, service, client=None: apis[service])
    try:
        m.main()
    except Exited as exited:
        return exited.result
    except Failed as failed:
        return failed
    raise AssertionError("main() neither exited nor failed")


def canned_main(monkeypatch, options, change=None, check_mode=False):
    ec2_answers, rds_answers = in_sync_answers()
    if change:
        change(ec2_answers, rds_answers)
    apis = {"ec2": CannedApi(ec2_answers), "rds": CannedApi(rds_answers)}
    return run_main(monkeypatch, apis, options, check_mode), apis


# --- main(): plan mode and the result's shape -------------------------------------------------------------------------


def retention_one(ec2, rds):
    cluster_answer(rds)["BackupRetentionPeriod"] = 1


def test_a_stack_in_sync_plans_nothing_in_eight_reads(monkeypatch):
    result, apis = canned_main(monkeypatch, given(mode="plan"))
    assert (result["changed"], result["done"], result["plan"]["actions"], result["runners"]) == (False, [], [], [])
    assert apis["ec2"].calls == ["describe_vpcs", "describe_subnets", "describe_security_groups"]
    # The subnet group's, the parameter group's and the cluster's reads run side by side: listed sorted.
    assert sorted(apis["rds"].calls) == [
        "describe_db_cluster_parameter_groups",
        "describe_db_cluster_parameters",
        "describe_db_clusters",
        "describe_db_instances",
        "describe_db_subnet_groups",
        "list_tags_for_resource",
        "list_tags_for_resource",
    ]
    assert result["outputs"] == {
        "cluster": result["outputs"]["cluster"],
        # No global database: none asked for, and the cluster names no global cluster.
        "global_database": None,
        "writer": "w",
        "readers": ["r-1", "r-2"],
        "endpoints": {"writer": "c.cluster", "reader": "c.cluster-ro", "port": 5432},
        "security_group_id": DB_SG,
        # The canned cluster reports no StorageType: Standard, as AWS's default; its instances no CA.
        "storage_type": "aurora",
        "certificates": [
            {"instance": name, "ca_certificate_identifier": None, "valid_till": None} for name in ("r-1", "r-2", "w")
        ],
        # None asked for and the cluster reports none: not read.
        "custom_endpoints": {},
    }
    assert result["outputs"]["cluster"]["db_cluster_identifier"] == "c"


def test_plan_mode_returns_the_versioned_plan_and_the_facts_and_changes_nothing(monkeypatch, preflight):
    result, apis = canned_main(monkeypatch, given(mode="plan"), retention_one)
    document = result["plan"]
    assert set(result) == {
        "changed",
        "applied",
        "done",
        "plan",
        "network",
        "account",
        "runners",
        "instance_layout",
        "module_args",
        "outputs",
        "throttled_calls",
    }
    assert (result["changed"], result["applied"], result["done"], result["runners"]) == (True, False, [], [STACK])
    # The amazon.aws tasks' parameters: the network and rules the plan compared, no baseline part (none is on).
    network, args = result["network"], result["module_args"]
    assert set(args) == {"security_group", "subnet_group"}
    assert args["subnet_group"]["subnets"] == [subnet["subnet_id"] for subnet in network["subnets"]]
    assert args["security_group"]["vpc_id"] == network["vpc_id"]
    assert args["security_group"]["rules"][0]["group_id"] == network["app_security_group_id"]
    # The fake clients never answer "slow down".
    assert result["throttled_calls"] == {"total": 0, "by_operation": {}}
    assert {k: v for k, v in document.items() if k not in ("created_at", "inputs_digest", "actions_digest")} == {
        "schema": "vitality.aurora/plan",
        "schema_version": 1,
        "stack": "c",
        "changes": 1,
        "worst_impact": "online",
        "actions": [
            {
                "order": 1,
                "resource": "cluster",
                "name": "c",
                "change": "modify",
                "changes": [{"attribute": "backup_retention_period", "before": 1, "after": 7}],
                "impact": "online",
                "when": "now",
                "unavailability": "none",
                "runner": STACK,
                "calls": ["ModifyDBCluster"],
                "note": "",
            }
        ],
        "lines": ["1. cluster c: modify (backup_retention_period 1 -> 7) [online]"],
    }
    assert document["actions_digest"] == digest(document["actions"])
    assert mutating(apis["ec2"], apis["rds"]) == []
    assert len(preflight.given) == 1  # the cluster changes: AWS's refusals are looked for before any plan is shown
    # The settings' digest: the same for the same settings, another for other settings.
    again, _apis = canned_main(monkeypatch, given(), retention_one, check_mode=True)
    assert again["plan"]["inputs_digest"] == document["inputs_digest"]
    other = given(mode="plan")
    other["cluster"]["backup_retention_period"] = 14
    changed, _apis = canned_main(monkeypatch, other, retention_one)
    assert changed["plan"]["inputs_digest"] != document["inputs_digest"]
    assert result["account"] == {"account_id": ACCOUNT, "partition": "aws"}
    assert result["network"] == {
        "vpc_id": "vpc-1",
        "subnets": [
            {"subnet_id": "subnet-a", "availability_zone": "us-east-1c"},
            {"subnet_id": "subnet-b", "availability_zone": "us-east-1d"},
        ],
        "app_security_group_id": APP_SG,
    }
    assert result["instance_layout"] == [
        {"id": "w", "az": "us-east-1c", "tier": 0, "role": "writer"},
        {"id": "r-1", "az": "us-east-1d", "tier": 1, "role": "reader"},
        {"id": "r-2", "az": "us-east-1d", "tier": 2, "role": "reader"},
    ]


def test_the_inputs_digest_ignores_how_to_run_but_not_what_to_make():
    base = validated(given())
    how = validated(given(mode="plan", report_existing=False, master_user_password="x"))
    assert m.settings_digest(base) == m.settings_digest(how)
    other = validated(given(stack_name="other"))
    assert m.settings_digest(base) != m.settings_digest(other)


def test_check_mode_plans_and_changes_nothing(monkeypatch):
    result, apis = canned_main(monkeypatch, given(), retention_one, check_mode=True)
    assert (result["changed"], result["done"], len(result["plan"]["actions"])) == (True, [], 1)
    assert mutating(apis["ec2"], apis["rds"]) == []


def test_an_engine_version_kept_is_noticed(monkeypatch):
    result, _apis = canned_main(
        monkeypatch, given(mode="plan"), lambda ec2, rds: cluster_answer(rds).update(EngineVersion="16.8")
    )
    assert result["engine_version_notice"] == "running 16.8, newer than the configured 16.6 within major 16; kept"
    assert result["plan"]["actions"] == []


def test_a_network_not_found_fails_naming_the_variable(monkeypatch):
    def no_vpc(ec2, rds):
        ec2["describe_vpcs"]["Vpcs"] = []

    failed, apis = canned_main(monkeypatch, given(variable_prefix="aurora_cluster_"), no_vpc)
    assert failed.msg == (
        "aurora_cluster_vpc_name=vpc: expected exactly one VPC tagged Name=vpc in the region in use, found 0; "
        "is the region the one the network is in?"
    )
    assert apis["ec2"].calls == ["describe_vpcs"]
    # The RDS reads ran beside the network's (read_stack's chains run side by side); nothing was changed.
    assert all(call.startswith(("describe_", "list_")) for call in apis["rds"].calls)


def test_a_self_managed_password_is_needed_to_go_on(monkeypatch):
    options = given()
    options["cluster"]["manage_master_user_password"] = False
    failed, apis = canned_main(monkeypatch, options)
    assert failed.msg == "cluster.manage_master_user_password=false needs master_user_password"
    assert apis["rds"].calls == []


# --- main(): problems stop the run before any change ------------------------------------------------------------------


def test_an_impossible_change_fails_naming_it_with_no_mutating_call(monkeypatch):
    options = given()
    options["cluster"]["storage_encrypted"] = False
    failed, apis = canned_main(monkeypatch, options, retention_one)
    problem = (
        "cluster c: storage_encrypted is True, the inventory says False (impossible-in-place: AWS cannot change it "
        "on an existing cluster; restore a snapshot into a new cluster)"
    )
    assert failed.msg == problem + ". Nothing was changed."
    assert (failed.result["errors"], failed.result["changed"]) == ([problem], False)
    # The plan is still shown, the impossible step in it.
    assert [(a["change"], a["impact"]) for a in failed.result["plan"]["actions"]] == [
        ("change storage_encrypted", "impossible-in-place"),
        ("modify", "online"),
    ]
    assert mutating(apis["ec2"], apis["rds"]) == []


def test_a_major_upgrade_fails_the_plan_too(monkeypatch):
    options = given(mode="plan")
    options["cluster"]["engine_version"] = "17.2"
    failed, apis = canned_main(monkeypatch, options)
    assert failed.msg.startswith(
        "engine_version=17.2: cluster c runs 16.6, the inventory says 17.2, a major version upgrade (impossible-in-place"
    )
    assert failed.msg.endswith(". Nothing was changed.")
    assert mutating(apis["ec2"], apis["rds"]) == []


def test_refusals_of_the_preflight_fail_with_every_refusal_and_no_mutating_call(monkeypatch, preflight):
    refusals = [
        "aurora_cluster_instance_class='db.r6g.xlarge' is not orderable",
        "aurora_cluster_parameters.x is unknown",
    ]
    monkeypatch.setattr(preflight, "errors", refusals)
    options = given(variable_prefix="aurora_cluster_")
    options["instances"]["db_instance_class"] = XLARGE
    failed, apis = canned_main(monkeypatch, options)
    assert failed.msg == "Invalid settings, nothing was changed: " + "; ".join(refusals)
    assert failed.result["errors"] == refusals
    assert mutating(apis["ec2"], apis["rds"]) == []
    (checks,) = preflight.given
    assert checks["instance_classes"] == [XLARGE]
    assert checks["engine_version"] == "16.6" and checks["variable_prefix"] == "aurora_cluster_"


def test_a_plan_touching_only_generic_resources_needs_no_preflight(monkeypatch, preflight):
    def ssh_open(ec2, rds):
        ec2["describe_security_groups"]["SecurityGroups"][1]["IpPermissions"].append(
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        )

    result, _apis = canned_main(monkeypatch, given(mode="plan"), ssh_open)
    assert result["runners"] == ["security_group_revoke"]
    assert preflight.given == []


# --- main(): report_existing ------------------------------------------------------------------------------------------


def test_report_existing_lists_what_of_the_stack_exists_and_plans_nothing(monkeypatch):
    def some(ec2, rds):
        cluster_answer(rds)["Status"] = "creating"  # whatever its state, it exists
        rds["describe_db_cluster_parameter_groups"] = {"DBClusterParameterGroups": []}
        # AWS answers the lookup by name with the database security group alone.
        ec2["describe_security_groups"]["SecurityGroups"] = ec2["describe_security_groups"]["SecurityGroups"][1:]

    result, apis = canned_main(monkeypatch, given(report_existing=True), some)
    assert result == {
        "changed": False,
        "existing": [
            {"kind": "security_group", "id": DB_SG, "name": "db", "label": f"security group {DB_SG} (db)"},
            {"kind": "db_subnet_group", "id": "subnets", "label": "DB subnet group subnets"},
            {"kind": "db_cluster", "id": "c", "label": "DB cluster c"},
            {"kind": "db_instance", "id": "r-1", "label": "DB instance r-1"},
            {"kind": "db_instance", "id": "r-2", "label": "DB instance r-2"},
            {"kind": "db_instance", "id": "w", "label": "DB instance w"},
        ],
    }
    assert apis["ec2"].calls == ["describe_vpcs", "describe_security_groups"]
    assert apis["rds"].calls == [
        "describe_db_subnet_groups",
        "describe_db_cluster_parameter_groups",
        "describe_db_clusters",
        "describe_db_instances",
    ]


def test_report_existing_with_a_global_database_lists_the_global_cluster_and_the_secondary_in_its_region():
    """After a failure half way through a global build: the global cluster and what of the secondary exists in
    us-west-2 (here its cluster and reader, not yet its parameter group) are listed beside the primary's resources."""
    ec2_answers, rds_answers = in_sync_answers()
    secondary = "c-us-west-2"
    rds_answers["describe_global_clusters"] = {
        "GlobalClusters": [
            {
                "GlobalClusterIdentifier": "c-global",
                "GlobalClusterMembers": [
                    {"DBClusterArn": "arn:aws:rds:us-east-1:123456789012:cluster:c", "IsWriter": True},
                    {"DBClusterArn": f"arn:aws:rds:us-west-2:123456789012:cluster:{secondary}", "IsWriter": False},
                ],
            }
        ]
    }
    west_ec2 = CannedApi({"describe_vpcs": {"Vpcs": []}})
    west_rds = CannedApi(
        {
            "describe_db_subnet_groups": {"DBSubnetGroups": [{"DBSubnetGroupName": "subnets"}]},
            "describe_db_cluster_parameter_groups": {"DBClusterParameterGroups": []},
            "describe_db_clusters": {"DBClusters": [{"DBClusterIdentifier": secondary}]},
            "describe_db_instances": {"DBInstances": [{"DBInstanceIdentifier": f"{secondary}-reader-1"}]},
        }
    )
    params = given(
        report_existing=True,
        global_database={
            "name": "c",
            "region": "us-west-2",
            "vpc_name": "west",
            "private_subnet_names": ["wa", "wb"],
            "app_security_group_name": "app",
        },
    )
    asked = []

    def region_apis(region):
        asked.append(region)
        return {"ec2": west_ec2, "rds": west_rds}

    existing = m.existing_resources(
        CannedApi(ec2_answers), CannedApi(rds_answers), params, own_region="us-east-1", region_apis=region_apis
    )
    assert asked == ["us-west-2"]
    labels = [entry["label"] for entry in existing]
    assert labels[-4:] == [
        "global cluster c-global",
        "DB subnet group subnets in us-west-2",
        f"DB cluster {secondary} in us-west-2",
        f"DB instance {secondary}-reader-1 in us-west-2",
    ]
    assert [entry.get("region") for entry in existing[-3:]] == ["us-west-2"] * 3
    # The VPC of the secondary is looked up by the inventory's name there; none found, no security group is read.
    assert west_ec2.requests == [("describe_vpcs", {"Filters": [{"Name": "tag:Name", "Values": ["west"]}]})]


def test_report_existing_without_a_global_database_reads_no_global_cluster():
    ec2_answers, rds_answers = in_sync_answers()
    rds = CannedApi(rds_answers)
    m.existing_resources(CannedApi(ec2_answers), rds, given(report_existing=True), "us-east-1", lambda region: {})
    assert "describe_global_clusters" not in rds.calls


# --- the World: AWS in fake time --------------------------------------------------------------------------------------

SESSION = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
MODELS = {service: SESSION.client(service) for service in ("ec2", "rds", "cloudwatch")}
CATALOG = {"rds.force_ssl": "dynamic", "log_statement": "dynamic", "shared_preload_libraries": "static"}
DEFAULT_EGRESS = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


class Clock:
    """time.monotonic and time.sleep, faked: sleeping only moves the clock."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.now += seconds


def polled(duration, max_delay=20.0):
    """The fake seconds wait_for takes to see a change that ends ``duration`` seconds after it starts polling."""
    waited, delay = 0.0, 1.0
    while waited < duration:
        waited += delay
        delay = min(delay * 2, max_delay)
    return waited


def not_found(code, operation):
    return ClientError({"Error": {"Code": code, "Message": f"{code} (fake)"}}, operation)


class FakeClient:
    """A boto3 client of one service whose calls the World answers."""

    def __init__(self, world, service):
        self.world = world
        self.service = service
        self.meta = MODELS[service].meta

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda **request: self.world.answer(self.service, method, request)

    def get_paginator(self, method):
        client = self

        class Pages:
            """One page: what build_full_result() gives of it."""

            def __init__(self, request=None):
                self.request = request

            def paginate(self, **request):
                return Pages(request)

            def build_full_result(self):
                return client.world.answer(client.service, method, self.request)

        return Pages()


class World:
    """The VPC, the stack and its timing, answering ec2 and rds calls as AWS does, in fake time.

    ``outages`` lists each instance's time out of service: (identifier, start, end, was it the writer).
    ``mutations`` lists each call that changes something: (fake time, operation, identifier).
    """

    CREATE = 300.0
    MODIFY = 60.0
    REBOOT = 40.0
    FAILOVER = 30.0
    DELETE = 120.0
    CLUSTER_MODIFY = 20.0

    def __init__(self, clock):
        self.clock = clock
        self.timers = []
        self.sequence = itertools.count()
        self.calls = []
        self.mutations = []
        self.outages = []
        self.failing = {}
        self.answer_lost = {}
        self.stuck = set()
        self.group_ids = iter(["sg-new", "sg-new-2"])
        self.security_groups = {"app": {"GroupName": "app", "GroupId": APP_SG, "VpcId": "vpc-1"}}
        self.subnet_groups = {}
        self.parameter_groups = {}
        self.parameters = {}
        self.tags = {}
        self.clusters = {}
        self.instances = {}
        self.alarms = {}

    def client(self, service):
        return FakeClient(self, service)

    # time

    def later(self, seconds, then):
        heapq.heappush(self.timers, (self.clock.now + seconds, next(self.sequence), then))

    def settle(self):
        while self.timers and self.timers[0][0] <= self.clock.now:
            _due, _n, then = heapq.heappop(self.timers)
            then()

    def out_of_service(self, identifier, status, seconds, then=None):
        """The instance is ``status`` for ``seconds`` (forever when stuck), then available."""
        described = self.instances[identifier]
        described["DBInstanceStatus"] = status
        cluster = self.clusters.get(described["DBClusterIdentifier"]) or {}
        end = float("inf") if identifier in self.stuck else self.clock.now + seconds
        self.outages.append((identifier, self.clock.now, end, cluster.get("_writer") == identifier))

        def back():
            described["DBInstanceStatus"] = "available"
            if then:
                then()

        if identifier not in self.stuck:
            self.later(seconds, back)

    def cluster_status(self, identifier, status, seconds, then=None):
        cluster = self.clusters[identifier]
        cluster["Status"] = status

        def back():
            cluster["Status"] = "available"
            if then:
                then()

        self.later(seconds, back)

    # the calls

    def answer(self, service, method, request):
        model = MODELS[service].meta
        operation = model.method_to_api_mapping[method]
        validate_parameters(request, model.service_model.operation_model(operation).input_shape)
        self.settle()
        self.calls.append((self.clock.now, operation, copy.deepcopy(request)))
        if not method.startswith(("describe_", "list_")):
            subject = next(
                (
                    request[key]
                    for key in (
                        "DBInstanceIdentifier",
                        "DBClusterIdentifier",
                        "DBClusterParameterGroupName",
                        "DBSubnetGroupName",
                        "GroupName",
                        "GroupId",
                        "ResourceName",
                        "AlarmName",
                    )
                    if key in request
                ),
                None,
            )
            self.mutations.append((self.clock.now, operation, subject))
        if method in self.failing:
            code, message = self.failing[method]
            raise ClientError({"Error": {"Code": code, "Message": message}}, operation)
        if method in self.answer_lost:
            # The call took effect, its answer was lost, and botocore's retry met what it had made.
            getattr(self, method)(**request)
            raise ClientError({"Error": {"Code": self.answer_lost.pop(method), "Message": "exists"}}, operation)
        return getattr(self, method)(**request)

    # ec2

    def describe_vpcs(self, Filters):
        return {"Vpcs": [{"VpcId": "vpc-1", "Tags": tag_list({"Name": "vpc"})}]}

    def describe_subnets(self, Filters):
        return {
            "Subnets": [
                {"SubnetId": "subnet-b", "AvailabilityZone": "us-east-1d", "Tags": tag_list({"Name": "b"})},
                {"SubnetId": "subnet-a", "AvailabilityZone": "us-east-1c", "Tags": tag_list({"Name": "a"})},
            ]
        }

    def describe_security_groups(self, Filters):
        names = next(f["Values"] for f in Filters if f["Name"] == "group-name")
        return {"SecurityGroups": [copy.deepcopy(g) for n, g in self.security_groups.items() if n in names]}

    def create_security_group(self, GroupName, Description, VpcId, TagSpecifications):
        group_id = next(self.group_ids)
        self.security_groups[GroupName] = {
            "GroupName": GroupName,
            "GroupId": group_id,
            "Description": Description,
            "VpcId": VpcId,
            "IpPermissions": [],
            "IpPermissionsEgress": [copy.deepcopy(DEFAULT_EGRESS)],
            "Tags": TagSpecifications[0]["Tags"],
        }
        return {"GroupId": group_id}

    def group(self, group_id):
        return next(g for g in self.security_groups.values() if g["GroupId"] == group_id)

    def authorize_security_group_ingress(self, GroupId, IpPermissions):
        self.group(GroupId)["IpPermissions"].extend(IpPermissions)
        return {"Return": True}

    def authorize_security_group_egress(self, GroupId, IpPermissions):
        self.group(GroupId)["IpPermissionsEgress"].extend(IpPermissions)
        return {"Return": True}

    def revoke_security_group_egress(self, GroupId, IpPermissions):
        group = self.group(GroupId)
        group["IpPermissionsEgress"] = [p for p in group["IpPermissionsEgress"] if p not in IpPermissions]
        return {"Return": True}

    # rds: tags

    def list_tags_for_resource(self, ResourceName):
        return {"TagList": tag_list(self.tags.get(ResourceName, {}))}

    def add_tags_to_resource(self, ResourceName, Tags):
        self.tags.setdefault(ResourceName, {}).update(tags_to_dict(Tags))
        return {}

    def remove_tags_from_resource(self, ResourceName, TagKeys):
        for key in TagKeys:
            self.tags.get(ResourceName, {}).pop(key, None)
        return {}

    # rds: subnet group, parameter group

    def describe_db_subnet_groups(self, DBSubnetGroupName):
        if DBSubnetGroupName not in self.subnet_groups:
            raise not_found("DBSubnetGroupNotFoundFault", "DescribeDBSubnetGroups")
        return {"DBSubnetGroups": [copy.deepcopy(self.subnet_groups[DBSubnetGroupName])]}

    def create_db_subnet_group(self, DBSubnetGroupName, DBSubnetGroupDescription, SubnetIds, Tags):
        arn = f"arn:aws:rds:us-east-1:{ACCOUNT}:subgrp:{DBSubnetGroupName}"
        self.subnet_groups[DBSubnetGroupName] = {
            "DBSubnetGroupName": DBSubnetGroupName,
            "DBSubnetGroupArn": arn,
            "DBSubnetGroupDescription": DBSubnetGroupDescription,
            "Subnets": [{"SubnetIdentifier": s} for s in SubnetIds],
        }
        self.tags[arn] = tags_to_dict(Tags)
        return {"DBSubnetGroup": copy.deepcopy(self.subnet_groups[DBSubnetGroupName])}

    def describe_db_cluster_parameter_groups(self, DBClusterParameterGroupName):
        if DBClusterParameterGroupName not in self.parameter_groups:
            raise not_found("DBParameterGroupNotFound", "DescribeDBClusterParameterGroups")
        return {"DBClusterParameterGroups": [copy.deepcopy(self.parameter_groups[DBClusterParameterGroupName])]}

    def create_db_cluster_parameter_group(self, DBClusterParameterGroupName, DBParameterGroupFamily, Description, Tags):
        arn = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster-pg:{DBClusterParameterGroupName}"
        self.parameter_groups[DBClusterParameterGroupName] = {
            "DBClusterParameterGroupName": DBClusterParameterGroupName,
            "DBClusterParameterGroupArn": arn,
            "DBParameterGroupFamily": DBParameterGroupFamily,
            "Description": Description,
        }
        self.parameters[DBClusterParameterGroupName] = {}
        self.tags[arn] = tags_to_dict(Tags)
        return {"DBClusterParameterGroup": copy.deepcopy(self.parameter_groups[DBClusterParameterGroupName])}

    def describe_db_cluster_parameters(self, DBClusterParameterGroupName, Source=None):
        user = self.parameters[DBClusterParameterGroupName]
        listed = [
            {
                "ParameterName": name,
                "ParameterValue": value,
                "Source": "user",
                "ApplyType": CATALOG.get(name, "dynamic"),
            }
            for name, value in sorted(user.items())
        ]
        if Source != "user":
            listed += [
                {"ParameterName": name, "Source": "engine-default", "ApplyType": kind, "IsModifiable": True}
                for name, kind in sorted(CATALOG.items())
                if name not in user
            ]
        return {"Parameters": listed}

    def modify_db_cluster_parameter_group(self, DBClusterParameterGroupName, Parameters):
        assert len(Parameters) <= 20
        self.parameters[DBClusterParameterGroupName].update(
            {p["ParameterName"]: p["ParameterValue"] for p in Parameters}
        )
        if any(p["ApplyMethod"] == "pending-reboot" for p in Parameters):
            for described in self.instances.values():
                if self.clusters[described["DBClusterIdentifier"]]["DBClusterParameterGroup"] == (
                    DBClusterParameterGroupName
                ):
                    described["_parameters"] = "pending-reboot"
        return {"DBClusterParameterGroupName": DBClusterParameterGroupName}

    def reset_db_cluster_parameter_group(self, DBClusterParameterGroupName, Parameters):
        for p in Parameters:
            self.parameters[DBClusterParameterGroupName].pop(p["ParameterName"], None)
        return {"DBClusterParameterGroupName": DBClusterParameterGroupName}

    def delete_db_cluster_parameter_group(self, DBClusterParameterGroupName):
        in_use = [c for c in self.clusters.values() if c["DBClusterParameterGroup"] == DBClusterParameterGroupName]
        if in_use:
            raise ClientError(
                {"Error": {"Code": "InvalidDBParameterGroupState", "Message": "in use"}},
                "DeleteDBClusterParameterGroup",
            )
        arn = self.parameter_groups.pop(DBClusterParameterGroupName)["DBClusterParameterGroupArn"]
        self.parameters.pop(DBClusterParameterGroupName)
        self.tags.pop(arn, None)
        return {}

    # rds: the cluster

    def describe_cluster(self, cluster):
        described = {k: copy.deepcopy(v) for k, v in cluster.items() if not k.startswith("_")}
        described["TagList"] = tag_list(self.tags.get(cluster["DBClusterArn"], {}))
        described["DBClusterMembers"] = [
            {
                "DBInstanceIdentifier": i,
                "IsClusterWriter": i == cluster["_writer"],
                "DBClusterParameterGroupStatus": self.instances[i]["_parameters"],
                "PromotionTier": self.instances[i]["PromotionTier"],
            }
            for i in sorted(self.instances)
            if self.instances[i]["DBClusterIdentifier"] == cluster["DBClusterIdentifier"]
        ]
        return described

    def describe_db_clusters(self, DBClusterIdentifier=None):
        if DBClusterIdentifier is None:
            return {"DBClusters": [self.describe_cluster(c) for c in self.clusters.values()]}
        if DBClusterIdentifier not in self.clusters:
            raise not_found("DBClusterNotFoundFault", "DescribeDBClusters")
        return {"DBClusters": [self.describe_cluster(self.clusters[DBClusterIdentifier])]}

    def create_db_cluster(self, **request):
        identifier = request["DBClusterIdentifier"]
        arn = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{identifier}"
        self.clusters[identifier] = {
            "DBClusterIdentifier": identifier,
            "DBClusterArn": arn,
            "Status": "creating",
            "Engine": request["Engine"],
            "EngineVersion": request["EngineVersion"],
            "Port": request.get("Port", 5432),
            "StorageEncrypted": request.get("StorageEncrypted", False),
            "DBSubnetGroup": request["DBSubnetGroupName"],
            "DBClusterParameterGroup": request["DBClusterParameterGroupName"],
            "VpcSecurityGroups": [
                {"VpcSecurityGroupId": g, "Status": "active"} for g in request["VpcSecurityGroupIds"]
            ],
            "BackupRetentionPeriod": request.get("BackupRetentionPeriod", 1),
            "DeletionProtection": request.get("DeletionProtection", False),
            "IAMDatabaseAuthenticationEnabled": request.get("EnableIAMDatabaseAuthentication", False),
            "Endpoint": f"{identifier}.cluster",
            "ReaderEndpoint": f"{identifier}.cluster-ro",
            "PreferredMaintenanceWindow": "sat:03:00-sat:03:30",
            "_writer": None,
        }
        if request.get("ManageMasterUserPassword"):
            self.clusters[identifier]["MasterUserSecret"] = {"SecretArn": f"arn:secret:{identifier}"}
        self.tags[arn] = tags_to_dict(request.get("Tags"))
        self.cluster_status(identifier, "creating", self.CREATE)
        return {"DBCluster": self.describe_cluster(self.clusters[identifier])}

    def members(self, identifier):
        return [i for i, d in self.instances.items() if d["DBClusterIdentifier"] == identifier]

    def modify_db_cluster(self, DBClusterIdentifier, ApplyImmediately, **changes):
        cluster = self.clusters[DBClusterIdentifier]
        assert cluster["Status"] == "available", "ModifyDBCluster on a cluster that is not available"
        restart = "Port" in changes or ("EngineVersion" in changes and ApplyImmediately)
        for key, attribute in (
            ("Port", "Port"),
            ("BackupRetentionPeriod", "BackupRetentionPeriod"),
            ("DeletionProtection", "DeletionProtection"),
            ("DBClusterParameterGroupName", "DBClusterParameterGroup"),
        ):
            if key in changes:
                cluster[attribute] = changes[key]
        if "VpcSecurityGroupIds" in changes:
            cluster["VpcSecurityGroups"] = [{"VpcSecurityGroupId": g} for g in changes["VpcSecurityGroupIds"]]
        for key, attribute in (
            ("EngineVersion", "EngineVersion"),
            ("EnableIAMDatabaseAuthentication", "IAMDatabaseAuthenticationEnabled"),
        ):
            if key in changes:
                if ApplyImmediately:
                    cluster[attribute] = changes[key]
                else:
                    cluster.setdefault("PendingModifiedValues", {})[attribute] = changes[key]
        if restart:
            for identifier in self.members(DBClusterIdentifier):
                self.out_of_service(identifier, "rebooting", self.REBOOT, self.restarted(identifier))
            self.cluster_status(DBClusterIdentifier, "modifying", self.REBOOT)
        else:
            self.cluster_status(DBClusterIdentifier, "modifying", self.CLUSTER_MODIFY)
        return {"DBCluster": self.describe_cluster(cluster)}

    def failover_db_cluster(self, DBClusterIdentifier, TargetDBInstanceIdentifier):
        cluster = self.clusters[DBClusterIdentifier]
        assert cluster["Status"] == "available", "FailoverDBCluster on a cluster that is not available"
        assert self.instances[TargetDBInstanceIdentifier]["DBInstanceStatus"] == "available"

        def moved():
            cluster["_writer"] = TargetDBInstanceIdentifier

        self.cluster_status(DBClusterIdentifier, "failing-over", self.FAILOVER, moved)
        return {"DBCluster": self.describe_cluster(cluster)}

    # rds: instances

    def describe_instance(self, identifier):
        described = {k: copy.deepcopy(v) for k, v in self.instances[identifier].items() if not k.startswith("_")}
        described["TagList"] = tag_list(self.tags.get(described["DBInstanceArn"], {}))
        return described

    def describe_db_instances(self, DBInstanceIdentifier=None, Filters=None):
        if DBInstanceIdentifier is not None:
            if DBInstanceIdentifier not in self.instances:
                raise not_found("DBInstanceNotFound", "DescribeDBInstances")
            return {"DBInstances": [self.describe_instance(DBInstanceIdentifier)]}
        (cluster,) = next(f["Values"] for f in Filters if f["Name"] == "db-cluster-id")
        return {"DBInstances": [self.describe_instance(i) for i in sorted(self.members(cluster))]}

    def create_db_instance(self, **request):
        identifier = request["DBInstanceIdentifier"]
        cluster = self.clusters[request["DBClusterIdentifier"]]
        arn = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:{identifier}"
        self.instances[identifier] = {
            "DBInstanceIdentifier": identifier,
            "DBInstanceArn": arn,
            "DBClusterIdentifier": request["DBClusterIdentifier"],
            "Engine": request["Engine"],
            "DBInstanceStatus": "creating",
            "DBInstanceClass": request["DBInstanceClass"],
            "AvailabilityZone": request["AvailabilityZone"],
            "PromotionTier": request["PromotionTier"],
            "PubliclyAccessible": request["PubliclyAccessible"],
            "PerformanceInsightsEnabled": request.get("EnablePerformanceInsights", False),
            "MonitoringInterval": request.get("MonitoringInterval", 0),
            "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
            "DBParameterGroups": [
                {"DBParameterGroupName": "default.aurora-postgresql16", "ParameterApplyStatus": "in-sync"}
            ],
            "_parameters": "in-sync",
        }
        self.tags[arn] = tags_to_dict(request.get("Tags"))
        if cluster["_writer"] is None:
            cluster["_writer"] = identifier
        self.later(self.CREATE, lambda: self.instances[identifier].update(DBInstanceStatus="available"))
        return {"DBInstance": self.describe_instance(identifier)}

    def restarted(self, identifier):
        def then():
            described = self.instances[identifier]
            pending = described.pop("PendingModifiedValues", {})
            described.update(pending)
            described["_parameters"] = "in-sync"

        return then

    def modify_db_instance(self, DBInstanceIdentifier, ApplyImmediately, **changes):
        described = self.instances[DBInstanceIdentifier]
        assert described["DBInstanceStatus"] == "available", (
            f"ModifyDBInstance on {DBInstanceIdentifier}, not available"
        )
        if "DBInstanceClass" in changes:
            described["PendingModifiedValues"] = {"DBInstanceClass": changes.pop("DBInstanceClass")}
            if ApplyImmediately:
                self.out_of_service(
                    DBInstanceIdentifier, "modifying", self.MODIFY, self.restarted(DBInstanceIdentifier)
                )
        described.update(changes)
        return {"DBInstance": self.describe_instance(DBInstanceIdentifier)}

    def reboot_db_instance(self, DBInstanceIdentifier):
        assert self.instances[DBInstanceIdentifier]["DBInstanceStatus"] == "available"
        self.out_of_service(DBInstanceIdentifier, "rebooting", self.REBOOT, self.restarted(DBInstanceIdentifier))
        return {"DBInstance": self.describe_instance(DBInstanceIdentifier)}

    def delete_db_instance(self, DBInstanceIdentifier):
        self.instances[DBInstanceIdentifier]["DBInstanceStatus"] = "deleting"
        self.later(self.DELETE, lambda: self.instances.pop(DBInstanceIdentifier))
        return {"DBInstance": self.describe_instance(DBInstanceIdentifier)}

    # cloudwatch

    def describe_alarms(self, AlarmNamePrefix):
        listed = [copy.deepcopy(a) for name, a in sorted(self.alarms.items()) if name.startswith(AlarmNamePrefix)]
        return {"MetricAlarms": listed, "CompositeAlarms": []}

    def put_metric_alarm(self, **request):
        alarm = {key: value for key, value in request.items() if key != "Tags"}
        alarm.update(AlarmArn=f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{request['AlarmName']}", StateValue="OK")
        self.alarms[request["AlarmName"]] = alarm
        return {}

    def delete_alarms(self, AlarmNames):
        assert len(AlarmNames) <= 100
        for name in AlarmNames:
            self.alarms.pop(name, None)
        return {}

    # what the tests look at

    def made(self, since=0.0):
        """The mutating calls (operation, identifier) made at or after ``since``."""
        return [(operation, subject) for at, operation, subject in self.mutations if at >= since]

    def overlapping_outages(self):
        return [
            (a[0], b[0])
            for a, b in itertools.combinations(self.outages, 2)
            if a[1] < b[2] and b[1] < a[2]  # half-open intervals [start, end)
        ]


def stack_world(clock=None, readers=2):
    """A World holding the stack of given(), in sync and available."""
    world = World(clock or Clock())
    world.security_groups["db"] = {
        "GroupName": "db",
        "GroupId": DB_SG,
        "VpcId": "vpc-1",
        "IpPermissions": [
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": APP_SG, "Description": "from app"}],
            }
        ],
        "IpPermissionsEgress": [],
        "Tags": tag_list(dict(TAGS, Name="db")),
    }
    world.create_db_subnet_group("subnets", "private", ["subnet-a", "subnet-b"], tag_list(TAGS))
    world.create_db_cluster_parameter_group("pg", "aurora-postgresql16", "parameters", tag_list(TAGS))
    world.parameters["pg"]["rds.force_ssl"] = "1"
    world.create_db_cluster(
        DBClusterIdentifier="c",
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        Port=5432,
        StorageEncrypted=True,
        DBSubnetGroupName="subnets",
        DBClusterParameterGroupName="pg",
        VpcSecurityGroupIds=[DB_SG],
        BackupRetentionPeriod=7,
        DeletionProtection=True,
        ManageMasterUserPassword=True,
        Tags=tag_list(TAGS),
    )
    layout = [("w", "us-east-1c", 0, "writer")] + [(f"r-{n}", "us-east-1d", n, "reader") for n in range(1, readers + 1)]
    for identifier, zone, tier, role in layout:
        world.create_db_instance(
            DBInstanceIdentifier=identifier,
            DBClusterIdentifier="c",
            Engine="aurora-postgresql",
            DBInstanceClass=LARGE,
            AvailabilityZone=zone,
            PromotionTier=tier,
            PubliclyAccessible=False,
            EnablePerformanceInsights=False,
            MonitoringInterval=0,
            Tags=tag_list(dict(TAGS, Role=role)),
        )
    world.timers.clear()
    world.clusters["c"]["Status"] = "available"
    for described in world.instances.values():
        described["DBInstanceStatus"] = "available"
    world.tags[world.clusters["c"]["DBClusterArn"]] = dict(TAGS)
    return world


def empty_world(clock=None):
    return World(clock or Clock())


class ApplyModule:
    """The module as the Apply sees it outside main(): its params, and failures that raise."""

    region = "us-east-1"
    check_mode = False

    def __init__(self, params):
        self.params = params

    def fail_json(self, msg, **result):
        raise Failed(msg, result)

    def fail_json_aws(self, exception, msg=None, **result):
        raise Failed(f"{msg}: {exception}", result)


def apis_of(world, module):
    return AwsApi(module, "ec2", client=world.client("ec2")), AwsApi(module, "rds", client=world.client("rds"))


def plan_of(world, options):
    """(params, snapshot, actions) as main() makes them, read from the World through the real AwsApi."""
    params = validated(options)
    ec2, rds = apis_of(world, ApplyModule(params))
    snapshot = read_stack(ec2, rds, params)
    actions, problems, _notice = plan_stack(snapshot, params)
    assert problems == []
    return params, snapshot, actions


def apply(world, options):
    """Plan from the World, then carry out the plan's own steps with the World's fake clock."""
    params, snapshot, actions = plan_of(world, options)
    module = ApplyModule(params)
    ec2, rds = apis_of(world, module)
    applier = m.Apply(module, ec2, rds, params, snapshot, clock=world.clock, sleep=world.clock.sleep)
    started = len(world.mutations)
    with m.failures_raised(module, ec2, rds):
        applier.run(actions)
    return actions, applier, [(op, subject) for _at, op, subject in world.mutations[started:]]


def planned_calls(actions):
    return [call for a in actions if a.runner == STACK and a.impact != "impossible-in-place" for call in a.calls]


def replanned(world, options):
    """What is still planned for the stack's own steps once the apply is done."""
    _params, _snapshot, actions = plan_of(world, options)
    return [a.line() for a in actions if a.runner == STACK]


# --- the Apply executor -----------------------------------------------------------------------------------------------


def test_the_world_holds_a_stack_in_sync_with_the_options():
    world = stack_world()
    assert plan_of(world, given())[2] == []
    assert world.mutations == []


def class_change_options(apply_immediately=True, readers=2):
    options = given()
    options["instances"].update(db_instance_class=XLARGE, apply_immediately=apply_immediately, reader_count=readers)
    return options


def test_a_class_change_rolls_one_instance_at_a_time_with_failover_and_failback():
    world = stack_world()
    options = class_change_options()
    actions, applier, made = apply(world, options)
    assert made == [
        ("ModifyDBInstance", "r-1"),
        ("ModifyDBInstance", "r-2"),
        ("FailoverDBCluster", "c"),
        ("ModifyDBInstance", "w"),
        ("FailoverDBCluster", "c"),
    ]
    assert [operation for operation, _subject in made] == planned_calls(actions)
    assert [r["TargetDBInstanceIdentifier"] for _t, op, r in world.calls if op == "FailoverDBCluster"] == ["r-1", "w"]
    # Each modification waits until it is applied, each failover until the writer has moved: 3 x 71 s + 2 x 31 s.
    assert world.clock.now == 3 * polled(World.MODIFY) + 2 * polled(World.FAILOVER) == 275
    # One instance out of service at a time, and never the writer.
    assert list(world.outages) == [
        ("r-1", 0, 60, False),
        ("r-2", 71, 131, False),
        ("w", 173, 233, False),
    ]
    assert world.overlapping_outages() == []
    assert applier.done == [1, 2, 3, 4, 5]
    assert world.clusters["c"]["_writer"] == "w"
    assert replanned(world, options) == []


def test_a_class_change_of_a_lone_writer_restarts_it_in_place():
    world = stack_world(readers=0)
    options = class_change_options(readers=0)
    actions, _applier, made = apply(world, options)
    assert made == [("ModifyDBInstance", "w")]
    assert [a.impact for a in actions] == ["writer-restart"]
    assert world.outages == [("w", 0, 60, True)]
    assert world.clock.now == polled(World.MODIFY)
    assert replanned(world, options) == []


def test_a_class_change_for_the_window_is_requested_of_each_instance_without_failover_or_wait():
    world = stack_world()
    options = class_change_options(apply_immediately=False)
    actions, _applier, made = apply(world, options)
    assert made == [("ModifyDBInstance", "r-1"), ("ModifyDBInstance", "r-2"), ("ModifyDBInstance", "w")]
    assert [operation for operation, _subject in made] == planned_calls(actions)
    assert {r["ApplyImmediately"] for _t, op, r in world.calls if op == "ModifyDBInstance"} == {False}
    assert (world.outages, world.clock.now) == ([], 0)
    # What AWS holds for the window counts as done.
    assert replanned(world, options) == []


def test_a_static_parameter_with_rolling_reboots_is_set_then_rolled():
    world = stack_world()
    options = given()
    options["parameter_group"]["parameters"]["shared_preload_libraries"] = "pg_stat_statements"
    options["instances"]["allow_rolling_reboot"] = True
    actions, _applier, made = apply(world, options)
    assert made == [
        ("ModifyDBClusterParameterGroup", "pg"),
        ("RebootDBInstance", "r-1"),
        ("RebootDBInstance", "r-2"),
        ("FailoverDBCluster", "c"),
        ("RebootDBInstance", "w"),
        ("FailoverDBCluster", "c"),
    ]
    assert [operation for operation, _subject in made] == planned_calls(actions)
    (request,) = [r for _t, op, r in world.calls if op == "ModifyDBClusterParameterGroup"]
    assert request["Parameters"] == [
        {
            "ParameterName": "shared_preload_libraries",
            "ParameterValue": "pg_stat_statements",
            "ApplyMethod": "pending-reboot",
        }
    ]
    assert world.overlapping_outages() == []
    assert not any(writer for _i, _s, _e, writer in world.outages)
    assert world.clock.now == 3 * polled(World.REBOOT) + 2 * polled(World.FAILOVER)
    assert {d["_parameters"] for d in world.instances.values()} == {"in-sync"}
    assert replanned(world, options) == []


def test_a_port_change_restarts_every_instance_once_and_waits_for_all_of_them():
    world = stack_world()
    options = given()
    options["parameter_group"]["parameters"]["shared_preload_libraries"] = "pg_stat_statements"
    options["instances"]["allow_rolling_reboot"] = True
    options["cluster"]["port"] = 5433
    actions, _applier, made = apply(world, options)
    assert made == [("ModifyDBClusterParameterGroup", "pg"), ("ModifyDBCluster", "c")]
    assert [operation for operation, _subject in made] == planned_calls(actions)
    assert sorted(i for i, *_rest in world.outages) == ["r-1", "r-2", "w"]  # together: the cluster's restart
    assert world.clock.now == polled(World.REBOOT)
    assert world.clusters["c"]["Port"] == 5433
    assert replanned(world, options) == []


def test_a_writer_aws_moved_is_given_back_first():
    world = stack_world()
    world.clusters["c"]["_writer"] = "r-2"
    actions, _applier, made = apply(world, given())
    assert made == [("FailoverDBCluster", "c")]
    assert world.clusters["c"]["_writer"] == "w"
    assert world.clock.now == polled(World.FAILOVER)


def test_fewer_readers_are_deleted_highest_first_each_waited_for():
    world = stack_world()
    options = given()
    options["instances"]["reader_count"] = 0
    actions, _applier, made = apply(world, options)
    assert made == [("DeleteDBInstance", "r-2"), ("DeleteDBInstance", "r-1")]
    assert world.clock.now == 2 * polled(World.DELETE)
    assert sorted(world.instances) == ["w"]
    assert replanned(world, options) == []


def test_a_new_reader_is_created_and_waited_for_at_the_end():
    world = stack_world()
    options = given()
    options["instances"]["reader_count"] = 3
    actions, applier, made = apply(world, options)
    assert made == [("CreateDBInstance", "r-3")]
    (request,) = [r for _t, op, r in world.calls if op == "CreateDBInstance"]
    assert (request["AvailabilityZone"], request["PromotionTier"]) == ("us-east-1d", 3)
    assert {"Key": "Role", "Value": "reader"} in request["Tags"]
    assert world.clock.now == polled(World.CREATE)
    assert applier.progress.created == [{"kind": "db_instance", "id": "r-3", "label": "DB instance r-3"}]
    assert replanned(world, options) == []


def test_cluster_settings_and_tags_are_applied_to_the_right_resources():
    world = stack_world()
    world.clusters["c"]["BackupRetentionPeriod"] = 1
    world.tags[world.clusters["c"]["DBClusterArn"]]["Old"] = "x"
    world.tags[world.instances["r-1"]["DBInstanceArn"]].pop("Role")
    world.tags[world.parameter_groups["pg"]["DBClusterParameterGroupArn"]]["Stack"] = "other"
    options = given()
    actions, _applier, made = apply(world, options)
    assert made == [
        ("AddTagsToResource", world.parameter_groups["pg"]["DBClusterParameterGroupArn"]),
        ("ModifyDBCluster", "c"),
        ("RemoveTagsFromResource", world.clusters["c"]["DBClusterArn"]),
        ("AddTagsToResource", world.instances["r-1"]["DBInstanceArn"]),
    ]
    assert [operation for operation, _subject in made] == planned_calls(actions)
    (request,) = [r for _t, op, r in world.calls if op == "ModifyDBCluster"]
    assert request == {"DBClusterIdentifier": "c", "BackupRetentionPeriod": 7, "ApplyImmediately": False}
    assert world.clock.now == polled(World.CLUSTER_MODIFY)
    assert replanned(world, options) == []


def test_an_allowed_major_upgrade_creates_the_new_group_upgrades_with_it_then_deletes_the_old_one():
    world = stack_world()
    options = given()
    options["parameter_group"].update(name="pg17", family="aurora-postgresql17")
    options["cluster"].update(
        engine_version="17.2", allow_major_version_upgrade=True, db_cluster_parameter_group_name="pg17"
    )
    actions, _applier, made = apply(world, options)
    assert made == [
        ("CreateDBClusterParameterGroup", "pg17"),
        ("ModifyDBClusterParameterGroup", "pg17"),
        ("ModifyDBCluster", "c"),
        ("DeleteDBClusterParameterGroup", "pg"),
    ]
    assert [operation for operation, _subject in made] == planned_calls(actions)
    (request,) = [r for _t, op, r in world.calls if op == "ModifyDBCluster"]
    assert request == {
        "DBClusterIdentifier": "c",
        "EngineVersion": "17.2",
        "AllowMajorVersionUpgrade": True,
        "DBClusterParameterGroupName": "pg17",
        "ApplyImmediately": True,
    }
    # Every instance restarts together, once, and the run waits for all of them.
    assert sorted(i for i, *_rest in world.outages) == ["r-1", "r-2", "w"]
    assert world.clock.now == polled(World.REBOOT)
    assert sorted(world.parameter_groups) == ["pg17"]
    assert replanned(world, options) == []


def test_the_whole_stack_is_created_in_order_and_then_is_in_sync():
    world = empty_world()
    options = given()
    actions, applier, made = apply(world, options)
    assert [operation for operation, _subject in made] == planned_calls(actions)
    assert made == [
        ("CreateSecurityGroup", "db"),
        ("AuthorizeSecurityGroupIngress", "sg-new"),
        ("RevokeSecurityGroupEgress", "sg-new"),
        ("CreateDBSubnetGroup", "subnets"),
        ("CreateDBClusterParameterGroup", "pg"),
        ("ModifyDBClusterParameterGroup", "pg"),
        ("CreateDBCluster", "c"),
        ("CreateDBInstance", "w"),
        ("CreateDBInstance", "r-1"),
        ("CreateDBInstance", "r-2"),
    ]
    (created,) = [r for _t, op, r in world.calls if op == "CreateDBCluster"]
    assert created["VpcSecurityGroupIds"] == ["sg-new"] and created["ManageMasterUserPassword"] is True
    # Created in one pass, waited for once, at the end.
    assert world.clock.now == polled(World.CREATE)
    assert [e["label"] for e in applier.progress.created] == [
        "security group sg-new (db)",
        "DB subnet group subnets",
        "DB cluster parameter group pg",
        "DB cluster c",
        "DB instance w",
        "DB instance r-1",
        "DB instance r-2",
    ]
    assert plan_of(world, options)[2] == []


def test_a_new_security_group_whose_egress_is_the_default_makes_the_calls_planned():
    world = empty_world()
    options = given()
    options["security_group"]["egress"] = [{"proto": "all", "cidr_ip": "0.0.0.0/0"}]
    actions, _applier, made = apply(world, options)
    assert [operation for operation, _subject in made] == planned_calls(actions)


def test_a_wait_that_times_out_fails_naming_the_step():
    world = stack_world()
    world.stuck.add("r-1")
    options = class_change_options()
    options["wait_timeout"] = 100
    with pytest.raises(m.CreateFailed) as failed:
        apply(world, options)
    assert failed.value.text() == (
        "Timed out after 100s waiting for instance r-1 to be available with the change applied; its last state was "
        "'modifying'"
    )
    assert world.made() == [("ModifyDBInstance", "r-1")]
    assert world.clock.now == 100


# --- main() applying, over the World ----------------------------------------------------------------------------------


class Unreachable:
    """The client of a service the World does not answer: main() may make one, but never call it."""

    def __init__(self, service):
        self.service = service

    def __getattr__(self, method):
        raise AssertionError(f"{self.service}.{method} called: the World does not answer it")


def world_main(monkeypatch, world, options, check_mode=False):
    """main() over the World through the real AwsApi, its Apply on the World's fake clock."""
    clients = {service: world.client(service) for service in ("ec2", "rds", "cloudwatch")}
    monkeypatch.setattr(
        m, "Apply", functools.partial(m.Apply, clock=world.clock, sleep=world.clock.sleep), raising=True
    )
    monkeypatch.setattr(StackModule, "given", options)
    monkeypatch.setattr(StackModule, "check_mode", check_mode)
    monkeypatch.setattr(m, "AnsibleAWSModule", StackModule)
    real = AwsApi
    monkeypatch.setattr(
        m, "AwsApi", lambda module, service: real(module, service, client=clients.get(service) or Unreachable(service))
    )
    try:
        m.main()
    except Exited as exited:
        return exited.result
    except Failed as failed:
        return failed
    raise AssertionError("main() neither exited nor failed")


def test_main_applies_the_rolling_class_change_and_returns_what_it_did(monkeypatch):
    world = stack_world()
    result = world_main(monkeypatch, world, class_change_options())
    assert (result["changed"], result["done"]) == (True, [1, 2, 3, 4, 5])
    assert [op for op, _s in world.made()] == [
        "ModifyDBInstance",
        "ModifyDBInstance",
        "FailoverDBCluster",
        "ModifyDBInstance",
        "FailoverDBCluster",
    ]
    assert [call for step in result["plan"]["actions"] for call in step["calls"]] == [op for op, _s in world.made()]
    assert result["outputs"]["writer"] == "w" and result["outputs"]["readers"] == ["r-1", "r-2"]
    assert world.overlapping_outages() == []
    assert world.clock.now == 275


def test_main_in_plan_mode_or_check_mode_makes_no_mutating_call(monkeypatch):
    for mode, check in (("plan", False), ("apply", True)):
        world = stack_world()
        result = world_main(monkeypatch, world, dict(class_change_options(), mode=mode), check_mode=check)
        assert (result["changed"], result["done"], len(result["plan"]["actions"])) == (True, [], 5)
        assert world.made() == [] and world.clock.now == 0


def test_converge_carries_out_a_plan_of_its_own_steps_in_the_same_call_then_reads_the_result(monkeypatch):
    world = stack_world()
    result = world_main(monkeypatch, world, dict(class_change_options(), mode="converge", report=True))
    assert (result["changed"], result["applied"], result["done"]) == (True, True, [1, 2, 3, 4, 5])
    # Exactly the planned calls, in order, from the one read the plan was made from.
    assert [call for step in result["plan"]["actions"] for call in step["calls"]] == [op for op, _s in world.made()]
    assert [op for op, _s in world.made()] == [
        "ModifyDBInstance",
        "ModifyDBInstance",
        "FailoverDBCluster",
        "ModifyDBInstance",
        "FailoverDBCluster",
    ]
    # The outputs and the report are the stack as the call left it: every instance on the new class, nothing planned.
    assert result["outputs"]["writer"] == "w" and result["outputs"]["readers"] == ["r-1", "r-2"]
    assert {i["DBInstanceClass"] for i in world.instances.values()} == {XLARGE}
    facts = {row["fact"]: row["value"] for section in result["report"]["facts"] for row in section["rows"]}
    assert facts["The plan against the inventory now"] == "no change"


def test_converge_returns_a_plan_with_a_step_of_another_runner_without_any_change(monkeypatch):
    world = stack_world()
    # The database security group lost its rule: adding it back is the role's amazon.aws task, which runs first.
    world.security_groups["db"]["IpPermissions"] = []
    result = world_main(monkeypatch, world, dict(class_change_options(), mode="converge"))
    assert "security_group" in result["runners"] and "stack" in result["runners"]
    assert (result["changed"], result["applied"], result["done"]) == (False, False, [])
    assert world.made() == [] and world.clock.now == 0


def test_converge_in_check_mode_only_plans(monkeypatch):
    world = stack_world()
    result = world_main(monkeypatch, world, dict(class_change_options(), mode="converge"), check_mode=True)
    assert (result["changed"], result["applied"], result["done"], len(result["plan"]["actions"])) == (
        False,
        False,
        [],
        5,
    )
    assert world.made() == [] and world.clock.now == 0


def test_main_creating_the_stack_failing_at_the_cluster_names_what_it_created(monkeypatch):
    world = empty_world()
    world.failing["create_db_cluster"] = ("DBClusterQuotaExceededFault", "The cluster quota is reached.")
    failed = world_main(monkeypatch, world, given())
    assert isinstance(failed, Failed), failed
    assert failed.msg == (
        "Creating the stack failed at the DB cluster c: AWS rds CreateDBCluster failed for cluster c: An error "
        "occurred (DBClusterQuotaExceededFault) when calling the CreateDBCluster operation: The cluster quota is "
        "reached. Created in this run and left in place: security group sg-new (db), DB subnet group subnets, DB "
        "cluster parameter group pg. Not created: DB cluster c, DB instance w, DB instance r-1, DB instance r-2. "
        "Re-run provision to converge them (nothing is duplicated), or run playbooks/destroy.yml to remove them."
    )
    result = failed.result
    assert [e["label"] for e in result["created_resources"]] == [
        "security group sg-new (db)",
        "DB subnet group subnets",
        "DB cluster parameter group pg",
    ]
    assert [e["label"] for e in result["not_created"]] == [
        "DB cluster c",
        "DB instance w",
        "DB instance r-1",
        "DB instance r-2",
    ]
    assert result["failed_at"] == {"kind": "db_cluster", "id": "c", "label": "DB cluster c"}
    assert result["changed"] is True and result["error"]["code"] == "DBClusterQuotaExceededFault"
    assert "ClientError" in result["exception"] and result["done"] == [1, 2, 3]
    # Nothing after the failed call was tried.
    assert [op for op, _s in world.made()][-1] == "CreateDBCluster"
    assert "CreateDBInstance" not in [op for op, _s in world.made()]


def test_main_groups_whose_create_answer_was_lost_still_get_their_rules_and_parameters(monkeypatch):
    world = empty_world()
    world.answer_lost["create_security_group"] = "InvalidGroup.Duplicate"
    world.answer_lost["create_db_cluster_parameter_group"] = "DBParameterGroupAlreadyExists"
    result = world_main(monkeypatch, world, given())
    assert not isinstance(result, Failed), result
    group = world.security_groups["db"]
    assert [(p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]]) for p in group["IpPermissions"]] == [
        (5432, [APP_SG])
    ]
    assert group["IpPermissionsEgress"] == []
    assert world.parameters["pg"] == {"rds.force_ssl": "1"}
    # One group of each, and the stack built on them.
    assert [op for op, _s in world.made()].count("CreateSecurityGroup") == 1
    assert world.clusters["c"]["DBClusterParameterGroup"] == "pg"


def test_main_creating_the_stack_failing_at_its_first_call_says_nothing_was_created(monkeypatch):
    world = empty_world()
    world.failing["create_security_group"] = ("SecurityGroupLimitExceeded", "Too many groups.")
    failed = world_main(monkeypatch, world, given())
    assert failed.msg == (
        "Creating the stack failed at the security group db: AWS ec2 CreateSecurityGroup failed for security group "
        "db: An error occurred (SecurityGroupLimitExceeded) when calling the CreateSecurityGroup operation: Too many "
        "groups. Nothing of the stack was created in this run; re-run provision once the cause is fixed."
    )
    assert (failed.result["created_resources"], failed.result["changed"]) == ([], False)


def test_main_a_wait_timeout_fails_naming_the_step_and_what_was_done(monkeypatch):
    world = stack_world()
    world.stuck.add("r-2")
    failed = world_main(monkeypatch, world, dict(class_change_options(), wait_timeout=100))
    assert isinstance(failed, Failed), failed
    assert failed.msg == (
        "Applying the plan failed at step 2 (instance r-2: modify): Timed out after 100s waiting for instance r-2 to "
        "be available with the change applied; its last state was 'modifying'. Steps done: 1. Re-run provision: it "
        "plans again from what exists now."
    )
    assert (failed.result["done"], failed.result["changed"]) == ([1], True)
    assert world.made() == [("ModifyDBInstance", "r-1"), ("ModifyDBInstance", "r-2")]
    assert world.clock.now == polled(World.MODIFY) + 100


def test_main_a_failed_call_mid_plan_names_the_step(monkeypatch):
    world = stack_world()
    world.failing["failover_db_cluster"] = ("InvalidDBClusterStateFault", "The cluster is busy.")
    failed = world_main(monkeypatch, world, class_change_options())
    assert failed.msg.startswith(
        "Applying the plan failed at step 3 (cluster c: failover): AWS rds FailoverDBCluster failed for cluster c: "
    )
    assert failed.msg.endswith("Steps done: 1, 2. Re-run provision: it plans again from what exists now.")
    assert failed.result["error"]["code"] == "InvalidDBClusterStateFault"


# --- main(): a saved plan ---------------------------------------------------------------------------------------------


def saved_plan(monkeypatch, world, options):
    result = world_main(monkeypatch, world, dict(options, mode="plan"))
    return json.loads(json.dumps(result["plan"]))  # as the role saves it and reads it back


def test_a_saved_plan_that_still_matches_is_applied(monkeypatch):
    world = stack_world()
    options = class_change_options()
    saved = saved_plan(monkeypatch, world, options)
    result = world_main(monkeypatch, world, dict(options, saved_plan=saved))
    assert result["done"] == [1, 2, 3, 4, 5]


def test_a_saved_plan_checked_in_plan_mode_names_what_differs_and_changes_nothing(monkeypatch):
    world = stack_world()
    options = given()
    options["cluster"]["backup_retention_period"] = 14
    saved = saved_plan(monkeypatch, world, options)
    world.instances["r-1"]["DBInstanceClass"] = "db.t4g.medium"  # someone changed it meanwhile
    failed = world_main(monkeypatch, world, dict(options, mode="plan", saved_plan=saved))
    assert isinstance(failed, Failed), failed
    assert failed.msg == (
        "The saved plan no longer matches the stack or the inventory, so nothing was changed: the stack has changed "
        "since it was made (now also planned: instance r-1: modify (db_instance_class db.t4g.medium -> "
        "db.r6g.large) [reboot, maintenance-window] - r-1 restarts in its maintenance window sun:05:00-sun:05:30. "
        "set aurora_cluster_apply_immediately=true to roll it now, one instance at a time). Make a new plan "
        "(--check) and review it."
    )
    assert failed.result["changed"] is False and failed.result["plan"]["changes"] == 2
    assert world.made() == []


def test_a_saved_plan_of_other_inputs_is_refused_in_plan_mode(monkeypatch):
    world = stack_world()
    saved = saved_plan(monkeypatch, world, given())
    options = given()
    options["instances"]["tags"] = dict(TAGS, Team="db")
    failed = world_main(monkeypatch, world, dict(options, mode="plan", saved_plan=saved))
    assert "the inventory's settings have changed since it was made" in failed.msg
    assert world.made() == []


def test_a_saved_plan_whose_stack_steps_differ_is_refused_when_applying(monkeypatch):
    world = stack_world()
    options = given()
    options["cluster"]["backup_retention_period"] = 14
    saved = saved_plan(monkeypatch, world, options)
    world.clusters["c"]["_writer"] = "r-1"  # AWS failed over meanwhile
    failed = world_main(monkeypatch, world, dict(options, saved_plan=saved))
    assert isinstance(failed, Failed), failed
    assert failed.msg.startswith("The saved plan no longer matches the stack or the inventory, so nothing was changed")
    assert "the stack's own steps differ from the plan" in failed.msg
    assert world.made() == []


def test_a_saved_plan_refused_when_applying_names_the_step_that_differs(monkeypatch):
    world = stack_world()
    options = given()
    options["cluster"]["backup_retention_period"] = 14
    saved = saved_plan(monkeypatch, world, options)
    world.clusters["c"]["_writer"] = "r-1"
    failed = world_main(monkeypatch, world, dict(options, saved_plan=saved))
    assert "cluster c: failover (writer r-1 -> w)" in failed.msg


# --- main() with the CloudWatch alarms --------------------------------------------------------------------------------

TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:c-db-events"


def with_alarms(options=None, **instances):
    options = copy.deepcopy(options or given())
    options["instances"].update(instances)
    options["baseline"] = {"alarms": dict(ALARM_SETTINGS), "event_topic_arn": TOPIC}
    return options


def made_after(world, count):
    """The mutating calls (operation, identifier) after the first ``count`` (fake time may not have moved)."""
    return [(operation, subject) for _at, operation, subject in world.mutations[count:]]


def world_reads(world, since=0):
    return [operation for _at, operation, _request in world.calls[since:]]


def test_main_puts_each_instances_alarms_after_the_stack_and_a_second_run_reads_them_once(monkeypatch):
    world = stack_world()
    result = world_main(monkeypatch, world, with_alarms())
    assert result["changed"] is True
    steps = result["plan"]["actions"]
    assert {(step["resource"], step["change"], step["runner"]) for step in steps} == {("alarm", "create", "stack")}
    assert [step["name"] for step in steps] == [alarm["name"] for alarm in result["alarms"]["alarms"]]
    assert len(steps) == 1 + 4 + 5 + 5
    assert [op for op, _s in world.made()] == ["PutMetricAlarm"] * 15 == [c for step in steps for c in step["calls"]]
    for alarm in world.alarms.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [TOPIC]
    assert "vitality.aurora/c/w/AuroraReplicaLag" not in world.alarms
    assert "vitality.aurora/c/r-2/AuroraReplicaLag" in world.alarms
    assert result["alarms"]["skipped"] == []

    before = len(world.calls)
    again = world_main(monkeypatch, world, with_alarms())
    assert (again["changed"], again["plan"]["actions"]) == (False, [])
    assert world_reads(world, before).count("DescribeAlarms") == 1
    assert [op for op, _s in world.made()] == ["PutMetricAlarm"] * 15


def test_main_a_reader_removed_takes_its_alarms_with_it_after_it_is_deleted(monkeypatch):
    world = stack_world()
    world_main(monkeypatch, world, with_alarms())
    started = len(world.mutations)
    result = world_main(monkeypatch, world, with_alarms(reader_count=1))
    summary = [(step["resource"], step["name"], step["change"]) for step in result["plan"]["actions"]]
    assert summary == [("instance", "r-2", "delete"), ("alarms", "vitality.aurora/c/*", "delete")]
    gone = [
        f"vitality.aurora/c/r-2/{metric}"
        for metric in (
            "AuroraReplicaLag",
            "CPUUtilization",
            "DatabaseConnections",
            "FreeLocalStorage",
            "FreeableMemory",
        )
    ]
    assert [change["attribute"] for change in result["plan"]["actions"][1]["changes"]] == gone
    assert made_after(world, started) == [("DeleteDBInstance", "r-2"), ("DeleteAlarms", None)]
    assert not [name for name in world.alarms if "/r-2/" in name]
    assert len(world.alarms) == 10


def test_main_a_class_change_now_moves_the_thresholds_after_the_rolling_change(monkeypatch):
    world = stack_world()
    world_main(monkeypatch, world, with_alarms())
    started = len(world.mutations)
    result = world_main(monkeypatch, world, with_alarms(class_change_options()))
    made = [op for op, _s in made_after(world, started)]
    assert (
        made
        == [
            "ModifyDBInstance",
            "ModifyDBInstance",
            "FailoverDBCluster",
            "ModifyDBInstance",
            "FailoverDBCluster",
        ]
        + ["PutMetricAlarm"] * 6
    )
    assert made == [call for step in result["plan"]["actions"] for call in step["calls"]]
    assert world.alarms["vitality.aurora/c/w/FreeableMemory"]["Threshold"] == 3435973836.0
    assert world.alarms["vitality.aurora/c/r-1/DatabaseConnections"]["Threshold"] == 2883.0
    assert world_main(monkeypatch, world, with_alarms(class_change_options()))["plan"]["actions"] == []


def test_main_in_check_mode_plans_the_alarms_and_puts_none(monkeypatch):
    world = stack_world()
    result = world_main(monkeypatch, world, with_alarms(), check_mode=True)
    assert (result["changed"], result["done"], len(result["plan"]["actions"])) == (True, [], 15)
    assert world.made() == [] and world.alarms == {}


def test_main_alarms_without_a_topic_fail_before_any_change(monkeypatch):
    world = stack_world()
    options = with_alarms()
    options["baseline"]["event_topic_arn"] = ""
    failed = world_main(monkeypatch, world, options)
    assert isinstance(failed, Failed)
    assert "baseline.alarms needs an SNS topic" in failed.msg
    assert world.made() == []


def test_main_a_failed_alarm_put_names_the_step_not_a_create_of_the_stack(monkeypatch):
    world = stack_world()
    world.failing["put_metric_alarm"] = ("LimitExceeded", "too many alarms")
    failed = world_main(monkeypatch, world, with_alarms())
    assert isinstance(failed, Failed)
    assert failed.msg.startswith(
        "Applying the plan failed at step 1 (CloudWatch alarm vitality.aurora/c/Deadlocks: create)"
    )
    assert "too many alarms" in failed.msg


def test_main_a_serverless_writer_gets_memory_and_connections_alarms_from_the_clusters_max_capacity(monkeypatch):
    options = with_alarms(db_instance_class="db.serverless", reader_count=0, apply_immediately=True)
    options["cluster"]["serverless_v2_scaling_configuration"] = {"min_capacity": 0.5, "max_capacity": 4}
    world = stack_world(readers=0)
    result = world_main(monkeypatch, world, options)
    # The class change is made now: the alarms follow the class the writer has after it.
    assert world.instances["w"]["DBInstanceClass"] == "db.serverless"
    assert result["alarms"]["skipped"] == []
    # 4 ACU x 2 GiB = 8 GiB: 10 % of it free is the memory alarm's floor.
    assert world.alarms["vitality.aurora/c/w/FreeableMemory"]["Threshold"] == float(int(8 * 1024**3 * 0.10))
    assert "vitality.aurora/c/w/ACUUtilization" in world.alarms
    assert "vitality.aurora/c/w/DatabaseConnections" in world.alarms
