"""Aurora Global Database for prod against the local AWS: inventories/prod builds the primary (us-east-1) and a
secondary cluster in us-west-2, members of vitality-prod-global; a second run changes nothing; day-2 changes and drift
reach the secondary; a major upgrade by blue/green is refused; the secondary's removal is refused without its
confirmation and, confirmed, detaches before it deletes; the creates survive lost answers.

Engine upgrades, each on a global database of its own (fresh_prod: an upgrade cannot be undone, so these tests change
nothing the others see): a minor version upgrades the us-west-2 secondary, then the primary, call for planned call in
each Region; a major version (16 to 17) makes the new family's group in both Regions, sends one ModifyGlobalCluster,
sets our groups back on both clusters and deletes the old ones; each re-run changes nothing. A re-run during an
upgrade under way (Status "upgrading", which moto never shows) is tested in tests/unit/test_global_plan.py.

The secondary Region follows the primary's operations rules (secondary_ops.py): its own events topic (encrypted with
a key of us-west-2), the cluster and instance event subscriptions, the alarms (the reader rules and
AuroraGlobalDBReplicationLag), Enhanced Monitoring and Performance Insights; drift there is set back; the removal
deletes the subscriptions and alarms and keeps the topic.

A writer moved to us-west-2 by the switchover or the failover runbook (playbooks/switchover.yml, playbooks/failover.yml,
on moto's SwitchoverGlobalCluster and FailoverGlobalCluster of scripts/moto_server_ext.py) is adopted: provision re-run
changes nothing and its outputs name the Region that writes; the switchover runbook moves it back.
The adoption's details are tested on described members in tests/unit/test_global_plan.py.
"""

import json
import subprocess

import pytest
from botocore.exceptions import ClientError
from test_documented_commands import commands_run_by, localised

from aws_proxy import AwsProxy, fault
from local_aws import REPO_ROOT, PlaybookResult, RecordedAws, ansible_env, parse_recap, printed_plan
from local_aws import run_playbook as run_local

ACCOUNT = "123456789012"
PRIMARY = "vitality-prod-aurora"
GLOBAL = "vitality-prod-global"
SECONDARY_REGION = "us-west-2"
SECONDARY = f"vitality-prod-{SECONDARY_REGION}"
SECONDARY_READER = f"{SECONDARY}-reader-1"
SECONDARY_KEY = f"alias/{SECONDARY}"
READS = ("Describe", "List", "Get")
# The baseline's parts both Regions follow (events, alarms, monitoring) stay on; the others (autoscaling, backup) only
# slow these runs.
LEAN = {
    "aurora_cluster_autoscaling_enabled": False,
    "aurora_cluster_backup_plan_enabled": False,
    "aurora_cluster_backup_copy_region": "",
    "aurora_cluster_reader_count": 0,
}
TOPIC = "vitality-prod-db-events"
WEST_TOPIC_ARN = f"arn:aws:sns:{SECONDARY_REGION}:{ACCOUNT}:{TOPIC}"
WEST_SUBSCRIPTIONS = {f"{SECONDARY}-cluster-events": [SECONDARY], f"{SECONDARY}-instance-events": [SECONDARY_READER]}
WEST_ALARM_PREFIX = f"vitality.aurora/{SECONDARY}/"
# The reader rules of alarm_plan for the secondary's reader, the cluster's deadlocks and its lag behind us-east-1.
WEST_ALARMS = sorted(
    [f"{WEST_ALARM_PREFIX}Deadlocks", f"{WEST_ALARM_PREFIX}AuroraGlobalDBReplicationLag"]
    + [
        f"{WEST_ALARM_PREFIX}{SECONDARY_READER}/{metric}"
        for metric in (
            "CPUUtilization",
            "FreeableMemory",
            "DatabaseConnections",
            "FreeLocalStorage",
            "AuroraReplicaLag",
        )
    ]
)

# A day-2 change of prod with the secondary: a class of its own, a parameter (both Regions' groups), applied now. The
# tests after it keep it (moto answers ResetDBClusterParameterGroup with HTTP 500).
DAY2 = {
    "aurora_cluster_secondary_instance_class": "db.r6g.xlarge",
    "aurora_cluster_parameters": {"log_min_duration_statement": 1000},
    "aurora_cluster_apply_immediately": True,
}


def mutating(calls):
    return [action for action, unused_params in calls if not action.startswith(READS)]


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as aws:
        yield aws


@pytest.fixture(scope="module")
def run_playbook(local_aws):
    def run(playbook, inventory, **kwargs):
        return run_local(playbook, inventory, local_aws=local_aws, **kwargs)

    return run


@pytest.fixture(scope="module")
def prod(local_aws, run_playbook):
    local_aws.reset_and_seed()
    local_aws.record_from_now()
    first = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=LEAN)
    assert first.returncode == 0, first.stdout[-6000:]
    # The outputs file as the build wrote it (later tests' runs rewrite it).
    outputs = json.loads((local_aws.outputs_dir / "vitality-prod.json").read_text())
    return {"first": first, "calls": local_aws.calls(), "outputs": outputs}


def global_cluster(local_aws):
    found = local_aws.client("rds").describe_global_clusters()["GlobalClusters"]
    return next((g for g in found if g["GlobalClusterIdentifier"] == GLOBAL), None)


def test_prod_builds_the_primary_and_a_secondary_in_us_west_2(prod, local_aws):
    east, west = local_aws.client("rds"), local_aws.client("rds", SECONDARY_REGION)
    primary = east.describe_db_clusters(DBClusterIdentifier=PRIMARY)["DBClusters"][0]
    secondary = west.describe_db_clusters(DBClusterIdentifier=SECONDARY)["DBClusters"][0]
    members = {m["DBClusterArn"]: m["IsWriter"] for m in global_cluster(local_aws)["GlobalClusterMembers"]}
    assert members == {primary["DBClusterArn"]: True, secondary["DBClusterArn"]: False}
    assert [m["DBInstanceIdentifier"] for m in secondary["DBClusterMembers"]] == [SECONDARY_READER]
    # The secondary's network: the subnets of us-west-2's VPC, a security group admitting the app SG only.
    ec2 = local_aws.client("ec2", SECONDARY_REGION)
    group = west.describe_db_subnet_groups(DBSubnetGroupName=secondary["DBSubnetGroup"])["DBSubnetGroups"][0]
    zones = sorted(s["SubnetAvailabilityZone"]["Name"] for s in group["Subnets"])
    assert zones == ["us-west-2a", "us-west-2b"]
    (sg_id,) = [g["VpcSecurityGroupId"] for g in secondary["VpcSecurityGroups"]]
    sg = ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"][0]
    app = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["vitality-prod-app-sg"]}])[
        "SecurityGroups"
    ][0]
    sources = [pair["GroupId"] for rule in sg["IpPermissions"] for pair in rule.get("UserIdGroupPairs", [])]
    assert sources == [app["GroupId"]]
    assert [rule.get("IpRanges") for rule in sg["IpPermissions"]] == [[]]
    # Encrypted with a key of us-west-2, protected from deletion, IAM authentication as the primary.
    key = local_aws.client("kms", SECONDARY_REGION).describe_key(KeyId=SECONDARY_KEY)["KeyMetadata"]
    assert secondary["StorageEncrypted"] is True
    assert secondary["KmsKeyId"] in (key["Arn"], key["KeyId"])
    assert ":us-west-2:" in key["Arn"]
    assert secondary["DeletionProtection"] is True
    assert secondary["IAMDatabaseAuthenticationEnabled"] == primary["IAMDatabaseAuthenticationEnabled"]


def west_operations(local_aws):
    """The secondary Region's topic, subscriptions and alarms, read back with boto3 in us-west-2."""
    sns = local_aws.client("sns", SECONDARY_REGION)
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    subscriptions = {
        s["CustSubscriptionId"]: s
        for s in local_aws.client("rds", SECONDARY_REGION).describe_event_subscriptions()["EventSubscriptionsList"]
    }
    alarms = {
        a["AlarmName"]: a
        for a in local_aws.client("cloudwatch", SECONDARY_REGION).describe_alarms(AlarmNamePrefix=WEST_ALARM_PREFIX)[
            "MetricAlarms"
        ]
    }
    return topics, subscriptions, alarms


def test_the_secondary_region_gets_its_own_topic_subscriptions_alarms_and_monitoring(prod, local_aws):
    topics, subscriptions, alarms = west_operations(local_aws)
    # Its own topic in us-west-2 (event subscriptions and alarms publish in their Region), encrypted with a customer
    # managed key of us-west-2 under the primary's rule (alias/<topic>): RDS cannot use alias/aws/sns.
    assert topics == [WEST_TOPIC_ARN]
    sns = local_aws.client("sns", SECONDARY_REGION)
    attributes = sns.get_topic_attributes(TopicArn=WEST_TOPIC_ARN)["Attributes"]
    key = local_aws.client("kms", SECONDARY_REGION).describe_key(KeyId=f"alias/{TOPIC}")["KeyMetadata"]
    assert ":us-west-2:" in key["Arn"] and key["KeyManager"] == "CUSTOMER"
    assert attributes["KmsMasterKeyId"] in (f"alias/{TOPIC}", key["Arn"], key["KeyId"])
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=WEST_TOPIC_ARN)["Tags"]}
    assert tags.get("Project") == "vitality"
    # The primary's cluster and instance subscriptions: same categories, sources the secondary cluster and its reader.
    primary = {
        s["CustSubscriptionId"]: s
        for s in local_aws.client("rds").describe_event_subscriptions()["EventSubscriptionsList"]
    }
    assert {name: sorted(s["SourceIdsList"]) for name, s in subscriptions.items()} == WEST_SUBSCRIPTIONS
    for kind in ("cluster", "instance"):
        west, east = subscriptions[f"{SECONDARY}-{kind}-events"], primary[f"{PRIMARY}-{kind}-events"]
        assert west["SnsTopicArn"] == WEST_TOPIC_ARN
        assert sorted(west["EventCategoriesList"]) == sorted(east["EventCategoriesList"])
        assert west["Enabled"] is True
    # The alarms: a reader's, the cluster's, and the lag behind the primary Region, all to the us-west-2 topic.
    assert sorted(alarms) == WEST_ALARMS
    assert {arn for a in alarms.values() for arn in a["AlarmActions"] + a["OKActions"]} == {WEST_TOPIC_ARN}
    lag = alarms[f"{WEST_ALARM_PREFIX}AuroraGlobalDBReplicationLag"]
    assert lag["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": SECONDARY}]
    assert lag["Threshold"] == 1000.0 and lag["ComparisonOperator"] == "GreaterThanThreshold"
    # Enhanced Monitoring (the one IAM role, trusted for both Regions' instances) and Performance Insights, as the
    # primary's instances have them.
    reader = local_aws.client("rds", SECONDARY_REGION).describe_db_instances(DBInstanceIdentifier=SECONDARY_READER)[
        "DBInstances"
    ][0]
    assert reader.get("MonitoringInterval") == 30
    role = reader.get("MonitoringRoleArn")
    assert role and role.endswith(":role/vitality-prod-rds-monitoring"), role
    # moto leaves PerformanceInsightsEnabled out of DescribeDBInstances (as test_prod_baseline says): the request.
    (created,) = [
        p for a, p in prod["calls"] if a == "CreateDBInstance" and p["DBInstanceIdentifier"] == SECONDARY_READER
    ]
    assert created["EnablePerformanceInsights"] == "true" and created["PerformanceInsightsRetentionPeriod"] == "31"
    assert reader.get("PerformanceInsightsEnabled", True) is True
    trust = local_aws.client("iam").get_role(RoleName=role.split("/")[-1])["Role"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert sorted(statement["Condition"]["ArnLike"]["aws:SourceArn"]) == [
        f"arn:aws:rds:{region}:{ACCOUNT}:db:*" for region in ("us-east-1", SECONDARY_REGION)
    ]


def test_every_mutating_call_of_the_build_is_planned_and_the_global_steps_come_in_order(prod):
    order = mutating(prod["calls"])
    assert order.index("CreateGlobalCluster") < order.index("CreateDBCluster", order.index("CreateGlobalCluster"))
    creates = [params.get("DBClusterIdentifier") for action, params in prod["calls"] if action == "CreateDBCluster"]
    assert creates == [PRIMARY, SECONDARY]
    (secondary_create,) = [
        p for a, p in prod["calls"] if a == "CreateDBCluster" and p["DBClusterIdentifier"] == SECONDARY
    ]
    assert secondary_create["GlobalClusterIdentifier"] == GLOBAL
    assert not {"MasterUsername", "MasterUserPassword", "ManageMasterUserPassword"} & set(secondary_create)
    (source,) = [p["SourceDBClusterIdentifier"] for a, p in prod["calls"] if a == "CreateGlobalCluster"]
    assert source.endswith(f":cluster:{PRIMARY}")
    plan = prod["first"].stdout
    assert f"global cluster {GLOBAL}: create" in plan and "no replacement, no downtime" in plan
    assert f"cluster {SECONDARY} in us-west-2: create" in plan


def test_a_second_run_changes_nothing(prod, local_aws, run_playbook):
    local_aws.record_from_now()
    again = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=LEAN)
    assert again.returncode == 0, again.stdout[-6000:]
    assert again.changed() == 0
    assert mutating(local_aws.calls()) == []


def writer_region(local_aws):
    members = global_cluster(local_aws)["GlobalClusterMembers"]
    writer = next(m["DBClusterArn"] for m in members if m.get("IsWriter"))
    return writer.split(":")[3]


# The two runbooks that move the writer role and keep the global database: a managed switchover, and a failover with
# its confirmation (on AWS the former primary rejoins as a secondary once its Region is back; moto keeps it a member).
RUNBOOKS = {
    "switchover": ("playbooks/switchover.yml", {}),
    "failover": ("playbooks/failover.yml", {"aurora_cluster_failover_confirm": GLOBAL}),
}


@pytest.mark.parametrize("runbook", sorted(RUNBOOKS))
def test_after_a_switchover_or_failover_provision_changes_nothing_and_names_the_region_that_writes(
    prod, local_aws, run_playbook, runbook
):
    playbook, confirm = RUNBOOKS[runbook]
    switched = run_playbook(
        playbook,
        "inventories/prod",
        extra_vars={"aurora_cluster_switchover_target_region": "us-west-2", **confirm},
    )
    assert switched.returncode == 0, switched.stdout[-6000:]
    assert writer_region(local_aws) == "us-west-2"
    # The inventory unchanged: the stack's own cluster is now a secondary, and nothing fails back on its own. The
    # first run after the switchover rewrites the outputs file only (it names the writer in us-west-2 now; the runbook
    # wrote its own, <name>-switchover.json); the next one changes nothing.
    local_aws.record_from_now()
    again = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=LEAN)
    assert again.returncode == 0, again.stdout[-6000:]
    assert mutating(local_aws.calls()) == []
    assert writer_region(local_aws) == "us-west-2"
    assert '"writer_region": "us-west-2"' in again.stdout
    outputs_task = (
        "TASK [vitality.aurora.aurora_cluster : Write the outputs file, readable by its owner only] ***\nchanged:"
    )
    assert again.changed() == 1 and outputs_task in again.stdout, again.stdout[-6000:]
    local_aws.record_from_now()
    steady = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=LEAN)
    assert steady.returncode == 0 and steady.changed() == 0, steady.stdout[-6000:]
    assert mutating(local_aws.calls()) == []
    back = run_playbook(
        "playbooks/switchover.yml",
        "inventories/prod",
        extra_vars={"aurora_cluster_switchover_target_region": "us-east-1"},
    )
    assert back.returncode == 0, back.stdout[-6000:]
    assert writer_region(local_aws) == "us-east-1"
    local_aws.record_from_now()
    home = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=LEAN)
    assert home.returncode == 0, home.stdout[-6000:]
    assert mutating(local_aws.calls()) == []
    assert '"writer_region": "us-east-1"' in home.stdout


def test_day2_changes_reach_the_secondary_and_drift_there_is_converged(prod, local_aws, run_playbook):
    ec2 = local_aws.client("ec2", SECONDARY_REGION)
    west = local_aws.client("rds", SECONDARY_REGION)
    secondary = west.describe_db_clusters(DBClusterIdentifier=SECONDARY)["DBClusters"][0]
    (sg_id,) = [g["VpcSecurityGroupId"] for g in secondary["VpcSecurityGroups"]]
    # Someone opens the secondary's database to a network by hand.
    ec2.authorize_security_group_ingress(
        GroupId=sg_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.21.9.0/24"}]}
        ],
    )
    # ... and changes the secondary reader's monitoring, its cluster subscription and its reader's CPU alarm there.
    west.modify_db_instance(DBInstanceIdentifier=SECONDARY_READER, MonitoringInterval=60, ApplyImmediately=True)
    west.modify_event_subscription(SubscriptionName=f"{SECONDARY}-cluster-events", EventCategories=["failure"])
    cloudwatch = local_aws.client("cloudwatch", SECONDARY_REGION)
    cpu = f"{WEST_ALARM_PREFIX}{SECONDARY_READER}/CPUUtilization"
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[cpu])["MetricAlarms"]
    fields = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "MetricName", "Namespace")
    fields += ("Statistic", "Dimensions", "Period", "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator")
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in fields if k in alarm}, Threshold=99.0)
    changes = dict(LEAN, **DAY2)
    local_aws.record_from_now()
    day2 = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=changes)
    assert day2.returncode == 0, day2.stdout[-6000:]
    calls = mutating(local_aws.calls())
    assert calls == [
        "ModifyDBClusterParameterGroup",
        # In us-west-2: its security group, then its parameter group, then its reader.
        "RevokeSecurityGroupIngress",
        "ModifyDBClusterParameterGroup",
        "ModifyDBInstance",
        # The drift of its reader's monitoring and of its subscription set back; its CPU alarm's too, and its memory
        # and connections alarms follow the reader's new class (db.r6g.xlarge).
        "ModifyDBInstance",
        "ModifyEventSubscription",
        "PutMetricAlarm",
        "PutMetricAlarm",
        "PutMetricAlarm",
    ], calls
    topics, subscriptions, alarms = west_operations(local_aws)
    assert sorted(subscriptions[f"{SECONDARY}-cluster-events"]["EventCategoriesList"]) == sorted(
        local_aws.client("rds").describe_event_subscriptions(SubscriptionName=f"{PRIMARY}-cluster-events")[
            "EventSubscriptionsList"
        ][0]["EventCategoriesList"]
    )
    assert alarms[cpu]["Threshold"] == 80.0
    reader = west.describe_db_instances(DBInstanceIdentifier=SECONDARY_READER)["DBInstances"][0]
    assert reader["MonitoringInterval"] == 30
    assert f"security group vitality-prod-db in {SECONDARY_REGION}: revoke ingress" in day2.stdout
    assert west.describe_db_instances(DBInstanceIdentifier=SECONDARY_READER)["DBInstances"][0]["DBInstanceClass"] == (
        "db.r6g.xlarge"
    )
    west_parameters = west.describe_db_cluster_parameters(
        DBClusterParameterGroupName=secondary["DBClusterParameterGroup"], Source="user"
    )["Parameters"]
    assert {p["ParameterName"]: p.get("ParameterValue") for p in west_parameters}.get(
        "log_min_duration_statement"
    ) == "1000"
    sg = ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"][0]
    assert all(not rule.get("IpRanges") for rule in sg["IpPermissions"])
    local_aws.record_from_now()
    again = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=changes)
    assert again.returncode == 0 and again.changed() == 0, again.stdout[-4000:]
    assert mutating(local_aws.calls()) == []


def test_a_major_upgrade_by_blue_green_of_a_global_database_is_refused_with_no_call(prod, local_aws, run_playbook):
    # prod's inventory chooses blue-green for a major upgrade: AWS offers no blue/green deployment of a global database.
    local_aws.record_from_now()
    refused = run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        extra_vars=dict(
            LEAN, **DAY2, aurora_cluster_engine_version="17.4", aurora_cluster_allow_major_version_upgrade=True
        ),
    )
    assert refused.returncode != 0
    assert "does not support blue/green deployments for an Aurora global database" in refused.stdout
    assert (
        "aurora_cluster_major_upgrade_strategy=in-place" in refused.stdout and "nothing was changed" in refused.stdout
    )
    assert mutating(local_aws.calls()) == []


def test_outputs_name_the_global_cluster_the_secondary_and_the_writer_region(prod, local_aws):
    outputs = prod["outputs"]
    west = local_aws.client("rds", SECONDARY_REGION).describe_db_clusters(DBClusterIdentifier=SECONDARY)["DBClusters"][
        0
    ]
    assert outputs["global_cluster_identifier"] == GLOBAL
    assert (outputs["writer_region"], outputs["secondary_region"]) == ("us-east-1", SECONDARY_REGION)
    assert outputs["secondary_cluster_arn"] == west["DBClusterArn"]
    assert outputs["secondary_reader_endpoint"] == west["ReaderEndpoint"]
    # The topic the secondary's subscriptions and alarms publish to (read back in us-west-2 above).
    assert outputs["secondary_event_topic_arn"] == WEST_TOPIC_ARN


def test_removal_without_confirmation_is_refused_with_no_call(prod, local_aws, run_playbook):
    local_aws.record_from_now()
    refused = run_playbook(
        "playbooks/provision.yml", "inventories/prod", extra_vars=dict(LEAN, **DAY2, aurora_cluster_secondary_region="")
    )
    assert refused.returncode != 0
    assert "aurora_cluster_secondary_remove_confirm" in refused.stdout and "impossible-in-place" in refused.stdout
    assert mutating(local_aws.calls()) == []
    assert global_cluster(local_aws) is not None


def test_removal_with_confirmation_detaches_then_deletes(prod, local_aws, run_playbook):
    local_aws.record_from_now()
    removed = run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        extra_vars=dict(
            LEAN, **DAY2, aurora_cluster_secondary_region="", aurora_cluster_secondary_remove_confirm=SECONDARY
        ),
    )
    assert removed.returncode == 0, removed.stdout[-6000:]
    order = mutating(local_aws.calls())
    assert order == [
        # The Enhanced Monitoring role trusts the instances of us-east-1 only again.
        "UpdateAssumeRolePolicy",
        "RemoveFromGlobalCluster",
        "ModifyDBCluster",
        "DeleteDBInstance",
        "DeleteDBCluster",
        "RemoveFromGlobalCluster",
        "DeleteGlobalCluster",
        # The secondary's subscriptions and alarms go with it (nothing left paging about a cluster that is gone).
        "DeleteEventSubscription",
        "DeleteEventSubscription",
        "DeleteAlarms",
    ], order
    topics, subscriptions, alarms = west_operations(local_aws)
    assert subscriptions == {} and alarms == {}
    # Kept, as documented: the topic (with the on-call's subscriptions to it) and its key.
    assert topics == [WEST_TOPIC_ARN]
    assert global_cluster(local_aws) is None
    west = local_aws.client("rds", SECONDARY_REGION)
    assert west.describe_db_clusters()["DBClusters"] == []
    assert west.describe_db_instances()["DBInstances"] == []
    # Kept, as documented: the security group, subnet group, parameter group and key in us-west-2.
    assert [g["DBSubnetGroupName"] for g in west.describe_db_subnet_groups()["DBSubnetGroups"]] == [
        "vitality-prod-db-subnets"
    ]
    primary = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=PRIMARY)["DBClusters"][0]
    assert primary["Status"] == "available"


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        yield running


def test_the_global_and_secondary_creates_survive_lost_answers(prod, local_aws, proxy):
    # After the removal above, the secondary is added back while the proxy drops the answers of the global cluster's,
    # the secondary cluster's and its reader's creates (each applied by the local AWS first): botocore retries, meets
    # what its first request made, and the role re-reads it by identifier and goes on.
    proxy.set_rules(
        fault("drop-after", action="CreateGlobalCluster"),
        fault("drop-after", action="CreateDBCluster"),
        fault("drop-after", action="CreateDBInstance"),
        # The secondary's subscriptions, made again (its topic was kept): found by name after a lost answer.
        fault("drop-after", action="CreateEventSubscription"),
    )
    front = proxy.front(local_aws)
    rebuilt = front.run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=dict(LEAN, **DAY2))
    proxy.set_rules()
    if rebuilt.returncode != 0:
        rebuilt = front.run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=dict(LEAN, **DAY2))
    assert rebuilt.returncode == 0, rebuilt.stdout[-6000:]
    west = local_aws.client("rds", SECONDARY_REGION)
    assert [c["DBClusterIdentifier"] for c in west.describe_db_clusters()["DBClusters"]] == [SECONDARY]
    assert [i["DBInstanceIdentifier"] for i in west.describe_db_instances()["DBInstances"]] == [SECONDARY_READER]
    members = [m["IsWriter"] for m in global_cluster(local_aws)["GlobalClusterMembers"]]
    assert sorted(members) == [False, True]
    topics, subscriptions, alarms = west_operations(local_aws)
    assert {name: sorted(x["SourceIdsList"]) for name, x in subscriptions.items()} == WEST_SUBSCRIPTIONS
    assert sorted(alarms) == WEST_ALARMS and topics == [WEST_TOPIC_ARN]
    local_aws.record_from_now()
    again = local_aws.run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=dict(LEAN, **DAY2))
    assert again.returncode == 0 and again.changed() == 0, again.stdout[-4000:]
    assert mutating(local_aws.calls()) == []


def test_a_failed_step_in_us_west_2_names_what_exists_in_both_regions(prod, local_aws, proxy):
    # A second secondary reader whose CreateDBInstance fails (HTTP 500, no retry: AWS did not act). The rescue reads
    # back what exists, the global cluster and the secondary's resources in us-west-2 included, and names them.
    proxy.set_rules(fault("500", action="CreateDBInstance"))
    front = proxy.front(local_aws)
    failed = front.run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        extra_vars=dict(
            LEAN,
            **DAY2,
            aurora_cluster_secondary_reader_count=2,
            aurora_cluster_aws_retry_config={"retries": {"mode": "standard", "total_max_attempts": 1}},
        ),
    )
    proxy.set_rules()
    assert failed.returncode != 0, failed.stdout[-4000:]
    message = next(line for line in failed.stdout.splitlines() if "these exist now: " in line)
    named = message.split("these exist now: ", 1)[1].split(". Re-run provision", 1)[0].split(", ")
    west = local_aws.client("rds", SECONDARY_REGION)
    in_west = [f"DB cluster {c['DBClusterIdentifier']} in us-west-2" for c in west.describe_db_clusters()["DBClusters"]]
    in_west += [
        f"DB instance {i['DBInstanceIdentifier']} in us-west-2" for i in west.describe_db_instances()["DBInstances"]
    ]
    assert in_west == [f"DB cluster {SECONDARY} in us-west-2", f"DB instance {SECONDARY_READER} in us-west-2"]
    assert f"global cluster {GLOBAL}" in named and set(in_west) <= set(named), message
    assert f"DB cluster {PRIMARY}" in named, message


# --- engine upgrades in AWS's order: each on a global database of its own (an upgrade cannot be undone) ----------

MINOR_TARGET = "16.8"
MAJOR_TARGET = "17.4"
EAST = "us-east-1"
MAJOR = {
    "aurora_cluster_engine_version": MAJOR_TARGET,
    "aurora_cluster_allow_major_version_upgrade": True,
    # prod's inventory chooses blue-green, which AWS does not offer for a global database.
    "aurora_cluster_major_upgrade_strategy": "in-place",
}


# The upgrades' own tests: their plans and calls are the upgrade's steps, so the events and alarms are off too (the
# parameter-group event subscription following the new group is the operations baseline's, tested apart).
UPGRADE_LEAN = {**LEAN, "aurora_cluster_event_notifications_enabled": False, "aurora_cluster_alarms_enabled": False}


@pytest.fixture
def fresh_prod(tmp_path):
    """prod's global database, built on the inventory's 16.6 on a local AWS of its own."""
    with RecordedAws(tmp_path / "moto_recording") as aws:
        aws.reset_and_seed()
        built = aws.run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=UPGRADE_LEAN)
        assert built.returncode == 0, built.stdout[-6000:]
        yield aws


def guide_commands():
    """The user guide's block of global database upgrades ("Upgrading the global database"): minor, then major."""
    commands = commands_run_by("tests/integration/test_global_database.py")
    assert len(commands) == 4 and all("inventories/prod" in c for c in commands), commands
    return commands


def run_as_written(aws, command, tmp_path):
    """A command of the guide as written, against this local AWS, with the baseline's parts off (UPGRADE_LEAN) and
    the database part off (no PostgreSQL at a local AWS's endpoint)."""
    local = ["-e", f"aurora_cluster_outputs_file={tmp_path}/out.json", "-e", f"aurora_cluster_report_dir={tmp_path}/r"]
    local += ["-e", "aurora_database_enabled=false", "-e", json.dumps(UPGRADE_LEAN)]
    args = localised(command, aws.endpoint_url) + local
    env = ansible_env(aws.endpoint_url)
    proc = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)  # noqa: S603
    return PlaybookResult(args, proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout))


def plan_lines(result):
    """The printed plan's steps, without their numbers."""
    return [line.split(". ", 1)[1] for line in printed_plan(result.stdout)[1:] if ". " in line]


def mutating_in_regions(aws):
    return [
        (
            action,
            params.get("DBClusterIdentifier")
            or params.get("GlobalClusterIdentifier")
            or params.get("DBClusterParameterGroupName"),
            region,
        )
        for action, params, region in aws.calls(regions=True)
        if not action.startswith(READS)
    ]


def versions(aws):
    east, west = aws.client("rds"), aws.client("rds", SECONDARY_REGION)
    return {
        PRIMARY: east.describe_db_clusters(DBClusterIdentifier=PRIMARY)["DBClusters"][0]["EngineVersion"],
        SECONDARY: west.describe_db_clusters(DBClusterIdentifier=SECONDARY)["DBClusters"][0]["EngineVersion"],
        GLOBAL: global_cluster(aws)["EngineVersion"],
    }


def test_a_minor_upgrade_upgrades_the_secondary_then_the_primary_as_planned(fresh_prod, tmp_path):
    aws = fresh_prod
    plan, apply, *_major = guide_commands()
    assert f"aurora_cluster_engine_version={MINOR_TARGET}" in apply
    aws.record_from_now()
    check = run_as_written(aws, plan, tmp_path)
    assert check.returncode == 0, check.stdout[-6000:]
    assert mutating(aws.calls()) == []
    lines = plan_lines(check)
    assert [line.split(" [")[0] for line in lines] == [
        f"cluster {SECONDARY} in {SECONDARY_REGION}: minor version upgrade (engine_version 16.6 -> {MINOR_TARGET})",
        f"cluster {PRIMARY}: minor version upgrade (engine_version 16.6 -> {MINOR_TARGET})",
    ], lines
    assert all("[all-instances-restart]" in line for line in lines)
    # The local AWS refuses the primary first, as AWS's order says (scripts/moto_server_ext.py): the order matters.
    with pytest.raises(ClientError, match="InvalidParameterCombination"):
        aws.client("rds").modify_db_cluster(
            DBClusterIdentifier=PRIMARY, EngineVersion=MINOR_TARGET, ApplyImmediately=True
        )
    aws.record_from_now()
    applied = run_as_written(aws, apply, tmp_path)
    assert applied.returncode == 0, applied.stdout[-6000:]
    # Exactly the planned calls, in the plan's order and Regions: the secondary is on 16.8 before the primary is asked.
    assert mutating_in_regions(aws) == [
        ("ModifyDBCluster", SECONDARY, SECONDARY_REGION),
        ("ModifyDBCluster", PRIMARY, EAST),
    ]
    assert versions(aws) == {PRIMARY: MINOR_TARGET, SECONDARY: MINOR_TARGET, GLOBAL: MINOR_TARGET}
    aws.record_from_now()
    again = run_as_written(aws, apply, tmp_path)
    assert again.returncode == 0 and again.changed() == 0, again.stdout[-6000:]
    assert mutating(aws.calls()) == []


def test_a_major_upgrade_is_one_modify_global_cluster_between_the_groups_of_both_regions(fresh_prod, tmp_path):
    aws = fresh_prod
    *_minor, plan, apply = guide_commands()
    assert all(f"{name}={str(value).lower()}" in apply for name, value in MAJOR.items())
    new_group, old_group = "vitality-prod-aurora-pg17", "vitality-prod-aurora-pg16"
    aws.record_from_now()
    check = run_as_written(aws, plan, tmp_path)
    assert check.returncode == 0, check.stdout[-6000:]
    assert mutating(aws.calls()) == []
    lines = plan_lines(check)
    assert [line.split(" (")[0] for line in lines] == [
        f"parameter group {new_group}: create",
        f"parameter group {new_group} in {SECONDARY_REGION}: create",
        f"global cluster {GLOBAL}: major version upgrade",
        f"cluster {SECONDARY} in {SECONDARY_REGION}: set its parameter group back",
        f"cluster {PRIMARY}: set its parameter group back",
        f"parameter group {old_group} in {SECONDARY_REGION}: delete",
        f"parameter group {old_group}: delete",
    ], lines
    assert f"(engine_version 16.6 -> {MAJOR_TARGET}) [all-instances-restart]" in lines[2]
    assert (
        f"(db_cluster_parameter_group_name default.aurora-postgresql17 -> {new_group}) [pending-reboot, next-restart]"
        in lines[3]
    )
    # As AWS: a member's major version changes with ModifyGlobalCluster only, and only with AllowMajorVersionUpgrade.
    with pytest.raises(ClientError, match="InvalidParameterCombination"):
        aws.client("rds").modify_db_cluster(
            DBClusterIdentifier=PRIMARY,
            EngineVersion=MAJOR_TARGET,
            AllowMajorVersionUpgrade=True,
            ApplyImmediately=True,
        )
    with pytest.raises(ClientError, match="InvalidParameterCombination"):
        aws.client("rds").modify_global_cluster(GlobalClusterIdentifier=GLOBAL, EngineVersion=MAJOR_TARGET)
    aws.record_from_now()
    applied = run_as_written(aws, apply, tmp_path)
    assert applied.returncode == 0, applied.stdout[-6000:]
    assert mutating_in_regions(aws) == [
        ("CreateDBClusterParameterGroup", new_group, EAST),
        ("ModifyDBClusterParameterGroup", new_group, EAST),
        ("CreateDBClusterParameterGroup", new_group, SECONDARY_REGION),
        ("ModifyDBClusterParameterGroup", new_group, SECONDARY_REGION),
        ("ModifyGlobalCluster", GLOBAL, EAST),
        ("ModifyDBCluster", SECONDARY, SECONDARY_REGION),
        ("ModifyDBCluster", PRIMARY, EAST),
        ("DeleteDBClusterParameterGroup", old_group, SECONDARY_REGION),
        ("DeleteDBClusterParameterGroup", old_group, EAST),
    ]
    (upgrade,) = [p for a, p in aws.calls() if a == "ModifyGlobalCluster"]
    assert (upgrade["EngineVersion"], upgrade["AllowMajorVersionUpgrade"]) == (MAJOR_TARGET, "true")
    assert versions(aws) == {PRIMARY: MAJOR_TARGET, SECONDARY: MAJOR_TARGET, GLOBAL: MAJOR_TARGET}
    # Our group of the new family on both clusters, the old family's gone in both Regions.
    for region, identifier in ((EAST, PRIMARY), (SECONDARY_REGION, SECONDARY)):
        rds = aws.client("rds", region)
        cluster = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]
        assert cluster["DBClusterParameterGroup"] == new_group
        groups = {
            g["DBClusterParameterGroupName"]: g["DBParameterGroupFamily"]
            for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        }
        assert groups.get(new_group) == "aurora-postgresql17" and old_group not in groups
    aws.record_from_now()
    again = run_as_written(aws, apply, tmp_path)
    assert again.returncode == 0 and again.changed() == 0, again.stdout[-6000:]
    assert mutating(aws.calls()) == []
