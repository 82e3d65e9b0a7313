"""aurora_stack's comparison on canned AWS descriptions (the same shapes AWS returns)."""

import copy
import json

import pytest

from ansible_collections.vitality.aurora.plugins.module_utils import security_group_rules as rules
from ansible_collections.vitality.aurora.plugins.modules import aurora_stack as m

APP_SG = "sg-app"
DB_SG = "sg-db"
TAGS = {"Stack": "s", "ManagedBy": "vitality.aurora"}


class CannedApi:
    """call()/paginate() answering from a dict of method -> response; records the calls."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []
        self.requests = []

    def call(self, method, not_found=(), context="", **params):
        self.calls.append(method)
        self.requests.append((method, params))
        return copy.deepcopy(self.answers.get(method))

    def create(self, method, exists, already_exists=(), context="", **params):
        """None, as AwsApi.create answers, when the canned answer is a resource that exists already."""
        response = self.call(method, **params)
        return None if response == "exists" else response

    def describe_one(self, method, result_key, not_found=(), context="", **params):
        """The first canned resource whose identifier matches the one asked for, as AWS filters by it."""
        found = (self.call(method, **params) or {}).get(result_key) or []
        found = [item for item in found if all(item.get(key, value) == value for key, value in params.items())]
        return found[0] if found else None

    def paginate(self, method, result_key, not_found=(), context="", **params):
        self.calls.append(method)
        return copy.deepcopy((self.answers.get(method) or {}).get(result_key) or [])


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def params():
    return {
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
        "subnet_group": {"name": "subnets", "description": "private", "tags": TAGS},
        "parameter_group": {
            "name": "pg",
            "family": "aurora-postgresql16",
            "description": "parameters",
            "parameters": {"rds.force_ssl": 1},
            "tags": TAGS,
        },
        "cluster": {
            "db_cluster_identifier": "c",
            "engine": "aurora-postgresql",
            "engine_version": "16.6",
            "manage_master_user_password": True,
            "port": 5432,
            "db_subnet_group_name": "subnets",
            "db_cluster_parameter_group_name": "pg",
            "backup_retention_period": 7,
            "deletion_protection": True,
            "apply_immediately": False,
            "tags": TAGS,
        },
        "instances": {
            "writer_identifier": "w",
            "reader_identifier_prefix": "r-",
            "reader_count": 1,
            "allow_rolling_reboot": False,
            "db_instance_class": "db.r6g.large",
            "enable_performance_insights": False,
            "monitoring_interval": 0,
            "apply_immediately": False,
            "tags": TAGS,
        },
    }


def instance(identifier, zone, tier, role, **extra):
    described = {
        "DBInstanceIdentifier": identifier,
        "DBClusterIdentifier": "c",
        "Engine": "aurora-postgresql",
        "DBInstanceStatus": "available",
        "DBInstanceClass": "db.r6g.large",
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
                    "DBSubnetGroupArn": "arn:sg",
                    "DBSubnetGroupDescription": "private",
                    "Subnets": [{"SubnetIdentifier": "subnet-a"}, {"SubnetIdentifier": "subnet-b"}],
                }
            ]
        },
        "list_tags_for_resource": {"TagList": tag_list(TAGS)},
        "describe_db_cluster_parameter_groups": {
            "DBClusterParameterGroups": [
                {"DBClusterParameterGroupArn": "arn:pg", "DBParameterGroupFamily": "aurora-postgresql16"}
            ]
        },
        "describe_db_cluster_parameters": {
            "Parameters": [{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "Source": "user"}]
        },
        "describe_db_clusters": {
            "DBClusters": [
                {
                    "DBClusterIdentifier": "c",
                    "Status": "available",
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "16.6",
                    "Port": 5432,
                    "DBSubnetGroup": "subnets",
                    "DBClusterParameterGroup": "pg",
                    "VpcSecurityGroups": [{"VpcSecurityGroupId": DB_SG}],
                    "BackupRetentionPeriod": 7,
                    "DeletionProtection": True,
                    "Endpoint": "c.cluster",
                    "ReaderEndpoint": "c.cluster-ro",
                    "MasterUserSecret": {"SecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:rds!cluster-c"},
                    "TagList": tag_list(TAGS),
                    "DBClusterMembers": [
                        {"DBInstanceIdentifier": "w", "IsClusterWriter": True},
                        {"DBInstanceIdentifier": "r-1", "IsClusterWriter": False},
                    ],
                }
            ]
        },
        "describe_db_instances": {
            "DBInstances": [instance("w", "us-east-1c", 0, "writer"), instance("r-1", "us-east-1d", 1, "reader")]
        },
    }
    return ec2, rds


def compare(ec2_answers, rds_answers, wanted=None):
    ec2, rds = CannedApi(ec2_answers), CannedApi(rds_answers)
    found, drift, unchecked = m.compare_stack(ec2, rds, wanted or params())
    return found, drift, unchecked, ec2.calls + rds.calls


def test_a_stack_as_desired_is_in_sync_in_ten_reads():
    found, drift, unchecked, calls = compare(*in_sync_answers())
    assert (drift, unchecked) == ([], [])
    assert len(calls) == 10
    assert found["writer"] == "w" and found["readers"] == ["r-1"]
    assert found["security_group_id"] == DB_SG
    assert found["endpoints"] == {"writer": "c.cluster", "reader": "c.cluster-ro", "port": 5432}
    assert [s["availability_zone"] for s in found["network"]["subnets"]] == ["us-east-1c", "us-east-1d"]


def drift_after(change, wanted=None):
    ec2, rds = in_sync_answers()
    change(ec2, rds)
    _found, drift, unchecked, _calls = compare(ec2, rds, wanted)
    assert unchecked == []
    assert len(drift) == 1
    return drift[0]["resource"], drift[0]["attribute"]


def db_group(ec2):
    return ec2["describe_security_groups"]["SecurityGroups"][1]


def cluster(rds):
    return rds["describe_db_clusters"]["DBClusters"][0]


def writer(rds):
    return rds["describe_db_instances"]["DBInstances"][0]


DRIFTS = {
    "ssh opened": (
        lambda ec2, rds: db_group(ec2)["IpPermissions"].append(
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
        ),
        ("security group db", "ingress"),
    ),
    "rule description": (
        lambda ec2, rds: db_group(ec2)["IpPermissions"][0]["UserIdGroupPairs"][0].update(Description="x"),
        ("security group db", "ingress"),
    ),
    "egress opened": (
        lambda ec2, rds: db_group(ec2)["IpPermissionsEgress"].append(
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ),
        ("security group db", "egress"),
    ),
    "group tag": (
        lambda ec2, rds: db_group(ec2)["Tags"].append({"Key": "x", "Value": "y"}),
        ("security group db", "tags"),
    ),
    "group missing": (
        lambda ec2, rds: ec2["describe_security_groups"]["SecurityGroups"].pop(),
        ("security group db", "exists"),
    ),
    "subnet removed": (
        lambda ec2, rds: rds["describe_db_subnet_groups"]["DBSubnetGroups"][0]["Subnets"].pop(),
        ("DB subnet group subnets", "subnets"),
    ),
    "tls off": (
        lambda ec2, rds: rds["describe_db_cluster_parameters"]["Parameters"][0].update(ParameterValue="0"),
        ("parameter group pg", "parameters"),
    ),
    "parameter added": (
        lambda ec2, rds: rds["describe_db_cluster_parameters"]["Parameters"].append(
            {"ParameterName": "log_statement", "ParameterValue": "all", "Source": "user"}
        ),
        ("parameter group pg", "parameters"),
    ),
    "retention": (
        lambda ec2, rds: cluster(rds).update(BackupRetentionPeriod=1),
        ("cluster c", "backup_retention_period"),
    ),
    "cluster modifying": (lambda ec2, rds: cluster(rds).update(Status="modifying"), ("cluster c", "status")),
    "older minor": (lambda ec2, rds: cluster(rds).update(EngineVersion="16.4"), ("cluster c", "engine_version")),
    "cluster tag": (lambda ec2, rds: cluster(rds)["TagList"].pop(), ("cluster c", "tags")),
    "class": (
        lambda ec2, rds: writer(rds).update(DBInstanceClass="db.r6g.xlarge"),
        ("instance w", "db_instance_class"),
    ),
    "tier": (lambda ec2, rds: writer(rds).update(PromotionTier=4), ("instance w", "promotion_tier")),
    "public": (lambda ec2, rds: writer(rds).update(PubliclyAccessible=True), ("instance w", "publicly_accessible")),
    "role tag": (lambda ec2, rds: writer(rds)["TagList"].pop(), ("instance w", "tags")),
    "reader missing": (lambda ec2, rds: rds["describe_db_instances"]["DBInstances"].pop(), ("instance r-1", "exists")),
    "extra reader": (
        lambda ec2, rds: rds["describe_db_instances"]["DBInstances"].append(instance("r-2", "us-east-1d", 2, "reader")),
        ("cluster c", "readers"),
    ),
    "writer moved": (
        lambda ec2, rds: [
            member.update(IsClusterWriter=not member["IsClusterWriter"]) for member in cluster(rds)["DBClusterMembers"]
        ],
        ("cluster c", "writer"),
    ),
}


@pytest.mark.parametrize("name", sorted(DRIFTS))
def test_each_drift_is_found_and_named(name):
    change, expected = DRIFTS[name]
    assert drift_after(change) == expected


def test_a_newer_running_minor_is_in_sync_with_the_notice():
    ec2, rds = in_sync_answers()
    cluster(rds)["EngineVersion"] = "16.8"
    found, drift, unchecked, _calls = compare(ec2, rds)
    assert (drift, unchecked) == ([], [])
    assert "16.8" in found["engine_version_notice"]


def test_pending_reboot_is_drift_only_when_rolling_reboots_are_allowed():
    def pending(ec2, rds):
        cluster(rds)["DBClusterMembers"][1]["DBClusterParameterGroupStatus"] = "pending-reboot"

    ec2, rds = in_sync_answers()
    pending(ec2, rds)
    assert compare(ec2, rds)[1] == []
    wanted = params()
    wanted["instances"]["allow_rolling_reboot"] = True
    assert drift_after(pending, wanted) == ("instance r-1", "parameters")


def test_what_is_not_compared_here_is_left_to_the_modules():
    wanted = params()
    wanted["cluster"]["kms_key_id"] = "alias/db"
    found, drift, unchecked, _calls = compare(*in_sync_answers(), wanted)
    assert drift == [] and unchecked and "kms_key_id" in unchecked[0]
    wanted = params()
    wanted["security_group"]["extra_ingress"] = [{"proto": "tcp", "ports": [5432], "group_name": "bastion"}]
    assert "group_name" in compare(*in_sync_answers(), wanted)[2][0]


def test_missing_network_stops_before_any_rds_call():
    ec2, rds = in_sync_answers()
    ec2["describe_vpcs"]["Vpcs"] = []
    found, drift, _unchecked, calls = compare(ec2, rds)
    assert drift[0]["resource"] == "VPC vpc" and "network" not in found
    assert calls == ["describe_vpcs"]


def test_rules_in_the_modules_format_flatten_like_aws_describes_them():
    wanted = rules.flatten_rules(
        [
            {"proto": "tcp", "ports": ["5432", "6000-6001"], "cidr_ip": ["10.0.0.0/16"], "rule_desc": "d"},
            {"proto": "all", "cidr_ipv6": "::1/128"},
            {"proto": 6, "from_port": 1, "to_port": 2, "group_id": "sg-1"},
        ]
    )
    described = rules.flatten_permissions(
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "d"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 6000,
                "ToPort": 6001,
                "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "d"}],
            },
            {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::1/128"}]},
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2, "UserIdGroupPairs": [{"GroupId": "sg-1"}]},
        ]
    )
    assert wanted == described


class FailingModule:
    def fail_json(self, msg):
        raise AssertionError(msg)


def empty_stack_answers():
    """The network exists; nothing of the stack does. Creates answer as AWS does."""
    ec2, rds = in_sync_answers()
    ec2["describe_security_groups"]["SecurityGroups"].pop()
    ec2["create_security_group"] = {"GroupId": "sg-new"}
    rds.update(
        describe_db_subnet_groups={"DBSubnetGroups": []},
        describe_db_cluster_parameter_groups={"DBClusterParameterGroups": []},
        describe_db_clusters={"DBClusters": []},
        describe_db_instances={"DBInstances": []},
        describe_db_cluster_parameters={"Parameters": []},
        create_db_subnet_group={"DBSubnetGroup": {}},
        create_db_cluster_parameter_group={"DBClusterParameterGroup": {}},
        create_db_cluster={"DBCluster": {}},
        create_db_instance={"DBInstance": {}},
    )
    return ec2, rds


def create(ec2_answers, rds_answers):
    ec2, rds = CannedApi(ec2_answers), CannedApi(rds_answers)
    found, drift, _unchecked = m.compare_stack(ec2, rds, params())
    if not m.nothing_of_the_stack_exists(rds, params(), drift):
        return None, ec2, rds
    try:
        return m.create_stack(FailingModule(), ec2, rds, params(), found["network"]), ec2, rds
    except m.MadeMeanwhile as stopped:
        return str(stopped), ec2, rds


def requests(api, method):
    return [request for name, request in api.requests if name == method]


def test_an_absent_stack_is_created_in_order_with_the_modules_requests():
    (group_id, plan), ec2, rds = create(*empty_stack_answers())
    assert group_id == "sg-new"
    created = [name for name, _request in ec2.requests + rds.requests if name.startswith(("create_", "modify_"))]
    assert created == [
        "create_security_group",
        "create_db_subnet_group",
        "create_db_cluster_parameter_group",
        "modify_db_cluster_parameter_group",
        "create_db_cluster",
        "create_db_instance",
        "create_db_instance",
    ]
    (ingress,) = requests(ec2, "authorize_security_group_ingress")
    assert ingress["IpPermissions"] == [
        {
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "UserIdGroupPairs": [{"GroupId": APP_SG, "Description": "from app"}],
        }
    ]
    (revoked,) = requests(ec2, "revoke_security_group_egress")
    assert revoked["IpPermissions"] == [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    assert requests(ec2, "authorize_security_group_egress") == []
    (subnets,) = requests(rds, "create_db_subnet_group")
    assert sorted(subnets["SubnetIds"]) == ["subnet-a", "subnet-b"]
    (modified,) = requests(rds, "modify_db_cluster_parameter_group")
    assert [(p["ParameterName"], p["ParameterValue"]) for p in modified["Parameters"]] == [("rds.force_ssl", "1")]
    (cluster,) = requests(rds, "create_db_cluster")
    assert cluster["VpcSecurityGroupIds"] == ["sg-new"]
    assert cluster["ManageMasterUserPassword"] is True and "MasterUserPassword" not in cluster
    assert (cluster["DBSubnetGroupName"], cluster["DBClusterParameterGroupName"]) == ("subnets", "pg")
    writer, reader = requests(rds, "create_db_instance")
    assert (writer["DBInstanceIdentifier"], writer["AvailabilityZone"], writer["PromotionTier"]) == (
        "w",
        "us-east-1c",
        0,
    )
    assert (reader["DBInstanceIdentifier"], reader["AvailabilityZone"], reader["PromotionTier"]) == (
        "r-1",
        "us-east-1d",
        1,
    )
    assert {"Key": "Role", "Value": "reader"} in reader["Tags"] and reader["PubliclyAccessible"] is False
    assert [entry["resource"] for entry in plan] == [
        "security group db (sg-new)",
        "DB subnet group subnets",
        "parameter group pg",
        "cluster c",
        "instance w",
        "instance r-1",
    ]


@pytest.mark.parametrize(
    "existing",
    ["subnet group", "parameter group", "cluster", "cluster of the stack under another identifier"],
)
def test_any_part_of_the_stack_existing_leaves_it_all_to_the_modules(existing):
    ec2, rds = empty_stack_answers()
    if existing == "subnet group":
        rds["describe_db_subnet_groups"] = {"DBSubnetGroups": [{"DBSubnetGroupName": "subnets"}]}
    elif existing == "parameter group":
        rds["describe_db_cluster_parameter_groups"] = {
            "DBClusterParameterGroups": [{"DBClusterParameterGroupName": "pg"}]
        }
    elif existing == "cluster":
        rds["describe_db_clusters"] = {"DBClusters": [{"DBClusterIdentifier": "c"}]}
    else:
        rds["describe_db_clusters"] = {"DBClusters": [{"DBClusterIdentifier": "old", "TagList": tag_list(TAGS)}]}
    result, ec2_api, rds_api = create(ec2, rds)
    assert result is None
    assert [name for name, _r in ec2_api.requests + rds_api.requests if not name.startswith("describe_")] == []


def test_a_create_that_meets_a_resource_made_meanwhile_stops_there():
    ec2, rds = empty_stack_answers()
    rds["create_db_cluster_parameter_group"] = "exists"
    stopped, _ec2_api, rds_api = create(ec2, rds)
    assert stopped == "parameter group pg"
    assert requests(rds_api, "create_db_cluster") == []


def test_a_parameter_the_family_lacks_fails_the_create_as_the_module_does():
    ec2, rds = empty_stack_answers()
    # AWS lists the family's parameters (engine defaults among them): the catalogue is complete.
    rds["describe_db_cluster_parameters"] = {
        "Parameters": [{"ParameterName": "log_statement", "Source": "engine-default", "ApplyType": "dynamic"}]
    }
    with pytest.raises(AssertionError, match=r"parameters\.rds\.force_ssl is not a parameter of parameter group pg"):
        create(ec2, rds)


# --- cluster.update_password: aurora_stack never modifies an existing cluster, so `always` is a difference ---

PASSWORD = "N3w-Self-Managed-Passw0rd"


def self_managed(update_password):
    """Answers and wanted state of an in-sync stack whose cluster has a self-managed master password."""
    ec2, rds = in_sync_answers()
    del cluster(rds)["MasterUserSecret"]
    cluster(rds)["StorageEncrypted"] = True  # the argument spec's default, which main() applies
    wanted = params()
    wanted["cluster"].update(manage_master_user_password=False, update_password=update_password)
    wanted["master_user_password"] = PASSWORD
    return ec2, rds, wanted


def test_on_create_leaves_a_self_managed_password_in_sync():
    ec2, rds, wanted = self_managed("on_create")
    _found, drift, unchecked, _calls = compare(ec2, rds, wanted)
    assert (drift, unchecked) == ([], [])


def test_always_makes_a_self_managed_password_a_difference_its_values_hidden():
    ec2, rds, wanted = self_managed("always")
    found, drift, unchecked, _calls = compare(ec2, rds, wanted)
    assert unchecked == []
    assert drift == [
        {"resource": "cluster c", "attribute": "master_user_password", "before": "(hidden)", "after": "(hidden)"}
    ]
    assert PASSWORD not in json.dumps([found, drift])


def test_always_leaves_a_password_kept_in_secrets_manager_alone():
    wanted = params()
    wanted["cluster"]["update_password"] = "always"
    assert compare(*in_sync_answers(), wanted)[1:3] == ([], [])


class FakePreflight:
    """The pre-create checks (tested on their own in test_preflight.py): records what they were given; refuses with
    ``errors``."""

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


class StackModule:
    """AnsibleAWSModule as main() uses it: the argument spec's own validation and defaults, exit_json ends the run."""

    given = {}
    region = "us-east-1"

    def __init__(self, argument_spec, supports_check_mode):
        from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

        validated = ArgumentSpecValidator(argument_spec).validate(self.given)
        assert validated.error_messages == []
        self.params = validated.validated_parameters
        self.check_mode = False

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, msg, **result):
        raise AssertionError(msg)


class Exited(Exception):
    def __init__(self, result):
        super().__init__("exit_json")
        self.result = result


def run_main(monkeypatch, ec2_answers, rds_answers, given):
    apis = {"ec2": CannedApi(ec2_answers), "rds": CannedApi(rds_answers)}
    monkeypatch.setattr(StackModule, "given", given)
    monkeypatch.setattr(m, "AnsibleAWSModule", StackModule)
    monkeypatch.setattr(m, "AwsApi", lambda module, service: apis[service])
    with pytest.raises(Exited) as exited:
        m.main()
    return exited.value.result, apis


def test_the_module_reports_always_as_not_in_sync_without_any_call_that_modifies(monkeypatch):
    ec2, rds, wanted = self_managed("always")
    result, apis = run_main(monkeypatch, ec2, rds, wanted)
    assert (result["in_sync"], result["changed"], result["created"]) == (False, False, False)
    assert result["drift"][0]["attribute"] == "master_user_password"
    assert [
        name for name, _r in apis["ec2"].requests + apis["rds"].requests if not name.startswith(("describe_", "list_"))
    ] == []
    assert PASSWORD not in json.dumps(result, default=str)


def test_update_password_defaults_to_on_create(monkeypatch):
    assert m.ARGUMENT_SPEC["master_user_password"]["no_log"] is True
    assert m.ARGUMENT_SPEC["cluster"]["options"]["update_password"]["default"] == "on_create"
    ec2, rds, wanted = self_managed("on_create")
    del wanted["cluster"]["update_password"]
    result, _apis = run_main(monkeypatch, ec2, rds, wanted)
    assert result["in_sync"] is True and result["drift"] == []


def test_creating_the_stack_sends_the_password_once_whatever_update_password_says(monkeypatch):
    ec2, rds = empty_stack_answers()
    wanted = params()
    wanted["cluster"].update(manage_master_user_password=False, update_password="always")
    wanted.update(master_user_password=PASSWORD, create_when_absent=True)
    result, apis = run_main(monkeypatch, ec2, rds, wanted)
    assert result["created"] is True
    (created,) = requests(apis["rds"], "create_db_cluster")
    assert created["MasterUserPassword"] == PASSWORD and "ManageMasterUserPassword" not in created
    assert requests(apis["rds"], "modify_db_cluster") == []
    assert PASSWORD not in json.dumps(result, default=str)


# --- a one-pass create that fails part-way names what it created and what it did not ---


class OperationNames:
    """botocore's method_to_api_mapping: create_db_cluster -> CreateDBCluster."""

    def get(self, method, default=None):
        return "".join(word.capitalize() for word in method.split("_")).replace("Db", "DB")


class CannedClient:
    """A boto3 client answering from canned responses, through the real AwsApi; the calls in ``failing`` raise
    AWS's error, as botocore raises it once its retries are spent."""

    def __init__(self, answers, failing=None):
        self.answers = answers
        self.failing = failing or {}
        self.calls = []
        self.meta = type("Meta", (), {"method_to_api_mapping": OperationNames()})()

    def _answer(self, method, params):
        self.calls.append(method)
        code, message, only = self.failing.get(method, (None, None, None))
        if code and all(params.get(key) == value for key, value in (only or {}).items()):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": code, "Message": message}}, OperationNames().get(method))
        answer = copy.deepcopy(self.answers.get(method) or {})
        names = [f["Values"] for f in params.get("Filters") or [] if f["Name"] == "group-name"]
        if method == "describe_security_groups" and names:  # AWS filters by name
            answer["SecurityGroups"] = [g for g in answer["SecurityGroups"] if g["GroupName"] in names[0]]
        return answer

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda **params: self._answer(method, params)

    def get_paginator(self, method):
        client = self

        class Pages:
            def paginate(self, **params):
                return [client._answer(method, params)]

        return Pages()


class Failed(Exception):
    def __init__(self, msg, result):
        super().__init__(msg)
        self.msg = msg
        self.result = result


class CreatingModule(StackModule):
    """StackModule whose failure keeps the result it was given, as Ansible would report it."""

    def fail_json(self, msg, **result):
        raise Failed(msg, result)

    def fail_json_aws(self, exception, msg=None, **result):
        raise Failed(f"{msg}: {exception}", result)


def create_through_main(monkeypatch, failing, wanted=None, answers=None):
    """main() with create_when_absent over real AwsApi clients answering from canned AWS; (outcome, clients)."""
    from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi

    ec2_answers, rds_answers = answers or empty_stack_answers()
    clients = {"ec2": CannedClient(ec2_answers, failing), "rds": CannedClient(rds_answers, failing)}
    monkeypatch.setattr(CreatingModule, "given", dict(wanted or params(), create_when_absent=True))
    monkeypatch.setattr(m, "AnsibleAWSModule", CreatingModule)
    monkeypatch.setattr(m, "AwsApi", lambda module, service: AwsApi(module, service, client=clients[service]))
    try:
        m.main()
    except Exited as exited:
        return exited.result, clients
    except Failed as failed:
        return failed, clients
    raise AssertionError("main() neither exited nor failed")


def creates(clients):
    return [c for c in clients["ec2"].calls + clients["rds"].calls if c.startswith(("create_", "modify_"))]


QUOTA = ("DBClusterParameterGroupQuotaExceeded", "The quota of cluster parameter groups is reached.", None)
SG_ENTRY = {"kind": "security_group", "id": "sg-new", "name": "db", "label": "security group sg-new (db)"}
SUBNETS_ENTRY = {"kind": "db_subnet_group", "id": "subnets", "label": "DB subnet group subnets"}
PG_ENTRY = {"kind": "db_cluster_parameter_group", "id": "pg", "label": "DB cluster parameter group pg"}
CLUSTER_ENTRY = {"kind": "db_cluster", "id": "c", "label": "DB cluster c"}
WRITER_ENTRY = {"kind": "db_instance", "id": "w", "label": "DB instance w"}
READER_ENTRY = {"kind": "db_instance", "id": "r-1", "label": "DB instance r-1"}


def test_a_failed_create_names_what_it_created_and_left_and_what_it_did_not(monkeypatch):
    failed, clients = create_through_main(monkeypatch, {"create_db_cluster_parameter_group": QUOTA})
    assert isinstance(failed, Failed), failed
    assert failed.msg == (
        "Creating the stack failed at the DB cluster parameter group pg: AWS rds CreateDBClusterParameterGroup failed"
        " for parameter group pg: An error occurred (DBClusterParameterGroupQuotaExceeded) when calling the"
        " CreateDBClusterParameterGroup operation: The quota of cluster parameter groups is reached."
        " Created in this run and left in place: security group sg-new (db), DB subnet group subnets."
        " Not created: DB cluster parameter group pg, DB cluster c, DB instance w, DB instance r-1."
        " Re-run provision to converge them (nothing is duplicated), or run playbooks/destroy.yml to remove them."
    )
    result = failed.result
    assert [(e["kind"], e["id"]) for e in result["created_resources"]] == [
        ("security_group", "sg-new"),
        ("db_subnet_group", "subnets"),
    ]
    assert result["created_resources"] == [SG_ENTRY, SUBNETS_ENTRY]
    assert result["not_created"] == [PG_ENTRY, CLUSTER_ENTRY, WRITER_ENTRY, READER_ENTRY]
    assert result["failed_at"] == PG_ENTRY
    assert (result["changed"], result["created"], result["in_sync"]) == (True, False, False)
    assert result["error"]["code"] == "DBClusterParameterGroupQuotaExceeded"
    assert "ClientError" in result["exception"]
    # Nothing after the failed call was attempted.
    assert creates(clients) == ["create_security_group", "create_db_subnet_group", "create_db_cluster_parameter_group"]


def test_a_failure_after_a_resource_was_made_lists_it_as_created(monkeypatch):
    # The group exists; setting its parameters failed.
    denied = ("InvalidParameterValue", "Invalid parameter value.", None)
    failed, _clients = create_through_main(monkeypatch, {"modify_db_cluster_parameter_group": denied})
    assert failed.msg.startswith(
        "Creating the stack failed at the DB cluster parameter group pg: AWS rds ModifyDBClusterParameterGroup failed"
    )
    assert failed.result["created_resources"] == [SG_ENTRY, SUBNETS_ENTRY, PG_ENTRY]
    assert failed.result["failed_at"] == PG_ENTRY
    assert (
        "Created in this run and left in place: security group sg-new (db), DB subnet group subnets, DB cluster"
        " parameter group pg. Not created: DB cluster c, DB instance w, DB instance r-1." in failed.msg
    )
    # So is the security group whose rule could not be added.
    denied = ("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group is reached.", None)
    failed, clients = create_through_main(monkeypatch, {"authorize_security_group_ingress": denied})
    assert failed.result["created_resources"] == [SG_ENTRY]
    assert failed.msg.startswith("Creating the stack failed at the security group sg-new (db): AWS ec2")
    assert creates(clients) == ["create_security_group"]


def test_a_failed_instance_names_the_cluster_and_the_writer_made_before_it(monkeypatch):
    quota = ("InstanceQuotaExceeded", "The DB instance quota is reached.", {"DBInstanceIdentifier": "r-1"})
    failed, _clients = create_through_main(monkeypatch, {"create_db_instance": quota})
    assert failed.result["created_resources"] == [SG_ENTRY, SUBNETS_ENTRY, PG_ENTRY, CLUSTER_ENTRY, WRITER_ENTRY]
    assert failed.result["not_created"] == [READER_ENTRY]
    assert failed.msg.startswith("Creating the stack failed at the DB instance r-1: AWS rds CreateDBInstance failed")
    assert " Not created: DB instance r-1. Re-run provision" in failed.msg


def test_a_create_failing_at_its_first_call_says_nothing_was_created(monkeypatch):
    quota = ("SecurityGroupLimitExceeded", "The maximum number of security groups is reached.", None)
    failed, _clients = create_through_main(monkeypatch, {"create_security_group": quota})
    assert failed.msg == (
        "Creating the stack failed at the security group db: AWS ec2 CreateSecurityGroup failed for security group db:"
        " An error occurred (SecurityGroupLimitExceeded) when calling the CreateSecurityGroup operation: The maximum"
        " number of security groups is reached. Nothing of the stack was created in this run; re-run provision once"
        " the cause is fixed."
    )
    assert (failed.result["created_resources"], failed.result["changed"]) == ([], False)
    assert len(failed.result["not_created"]) == 6


def test_a_parameter_the_family_lacks_fails_the_create_naming_what_it_left(monkeypatch):
    ec2, rds = empty_stack_answers()
    rds["describe_db_cluster_parameters"] = {
        "Parameters": [{"ParameterName": "log_statement", "Source": "engine-default", "ApplyType": "dynamic"}]
    }
    failed, _clients = create_through_main(monkeypatch, {}, answers=(ec2, rds))
    assert failed.msg.startswith(
        "Creating the stack failed at the DB cluster parameter group pg: parameters.rds.force_ssl is not a parameter"
        " of parameter group pg. Created in this run and left in place: security group sg-new (db), DB subnet group"
        " subnets, DB cluster parameter group pg."
    )


def test_a_created_stack_returns_every_resource_it_created(monkeypatch):
    result, _clients = create_through_main(monkeypatch, {})
    assert result["created"] is True
    assert result["created_resources"] == [SG_ENTRY, SUBNETS_ENTRY, PG_ENTRY, CLUSTER_ENTRY, WRITER_ENTRY, READER_ENTRY]


def test_a_create_that_meets_a_resource_made_meanwhile_still_hands_over(monkeypatch):
    made = ("DBClusterAlreadyExistsFault", "DB cluster already exists", None)
    result, clients = create_through_main(monkeypatch, {"create_db_cluster": made})
    assert (result["created"], result["in_sync"]) == (False, False)
    assert result["unchecked"] == ["not created in one pass: cluster c"]
    assert "create_db_instance" not in creates(clients)


def test_report_existing_lists_what_of_the_stack_exists_and_compares_nothing(monkeypatch):
    ec2, rds = in_sync_answers()
    cluster(rds)["Status"] = "creating"  # whatever its state, it exists
    rds["describe_db_cluster_parameter_groups"] = {"DBClusterParameterGroups": []}
    # AWS answers the lookup by name with the database security group alone.
    ec2["describe_security_groups"]["SecurityGroups"] = [db_group(ec2)]
    result, apis = run_main(monkeypatch, ec2, rds, dict(params(), report_existing=True))
    assert result["existing"] == [
        {"kind": "security_group", "id": DB_SG, "name": "db", "label": f"security group {DB_SG} (db)"},
        SUBNETS_ENTRY,
        CLUSTER_ENTRY,
        READER_ENTRY,
        WRITER_ENTRY,
    ]
    assert (result["in_sync"], result["changed"], result["drift"]) == (False, False, [])
    assert apis["ec2"].calls == ["describe_vpcs", "describe_security_groups"]
    assert apis["rds"].calls == [
        "describe_db_subnet_groups",
        "describe_db_cluster_parameter_groups",
        "describe_db_clusters",
        "describe_db_instances",
    ]


def test_a_stack_aws_would_refuse_is_not_created_and_every_refusal_is_named(monkeypatch, preflight):
    refusals = ["aurora_cluster_engine_version='16.99' is not offered", "aurora_cluster_parameters.x is unknown"]
    monkeypatch.setattr(preflight, "errors", refusals)
    wanted = dict(params(), variable_prefix="aurora_cluster_")
    failed, clients = create_through_main(monkeypatch, {}, wanted=wanted)
    assert isinstance(failed, Failed), failed
    assert failed.msg == "Invalid settings, nothing was changed: " + "; ".join(refusals)
    assert failed.result["errors"] == refusals
    assert creates(clients) == []
    (checks,) = preflight.given
    assert checks["engine_version"] == wanted["cluster"]["engine_version"]
    assert checks["instance_classes"] == [wanted["instances"]["db_instance_class"]]
    assert checks["parameter_group_family"] == wanted["parameter_group"]["family"]
    assert checks["parameters"] == wanted["parameter_group"]["parameters"]
    assert checks["variable_prefix"] == "aurora_cluster_"


def test_the_pre_create_checks_are_not_run_when_nothing_is_created(monkeypatch, preflight):
    ec2, rds = empty_stack_answers()
    result, unused = run_main(monkeypatch, ec2, rds, params())  # create_when_absent is off
    assert result["created"] is False
    assert preflight.given == []
