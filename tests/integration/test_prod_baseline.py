"""The prod stack against the local AWS: its topology (a writer and two readers across the private AZs),
its operations baseline (Performance Insights, Enhanced Monitoring and its IAM role, the AWS Backup
vault, plan and selection, RDS event notifications of the cluster, the instances and their parameter
group to an SNS topic encrypted with a customer managed KMS key, CloudWatch alarms of the cluster and of
each instance to that topic), day-2 changes of the baseline (alarms following the readers), the guards on
destroy and the teardown, and dev without the baseline.  One prod converge serves them all.

The local AWS is moto with the calls it lacks added (scripts/moto_server_ext.py). moto leaves
PerformanceInsightsEnabled (and, after a create, the retention) out of DescribeDBInstances, so what
the role asked for is read from the requests moto records.
"""

import json
import re
import urllib.parse
import urllib.request

import pytest

from local_aws import RecordedAws, printed_plan
from local_aws import run_playbook as run_local

ACCOUNT = "123456789012"
CLUSTER = "vitality-prod-aurora"
WRITER = f"{CLUSTER}-writer"
READERS = [f"{CLUSTER}-reader-1", f"{CLUSTER}-reader-2"]
MONITORING_ROLE = "vitality-prod-rds-monitoring"
BACKUP_ROLE = "vitality-prod-aws-backup"
BACKUP_PLAN = "vitality-prod-aurora"
TOPIC = "vitality-prod-db-events"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC}"
TOPIC_KEY_ALIAS = f"alias/{TOPIC}"
CLUSTER_EVENTS = f"{CLUSTER}-cluster-events"
INSTANCE_EVENTS = f"{CLUSTER}-instance-events"
PARAMETER_GROUP_EVENTS = f"{CLUSTER}-parameter-group-events"
# inventories/prod: the cluster's and the instances' categories, and the parameter group's only one.
PROD_CATEGORIES = ["configuration change", "failover", "failure", "maintenance", "notification"]
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
ALARM_PREFIX = f"vitality.aurora/{CLUSTER}/"
INSTANCE_METRICS = ["CPUUtilization", "DatabaseConnections", "FreeLocalStorage", "FreeableMemory"]
READS = ("Describe", "List", "Get")
BACKUP_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
# inventories/prod copies each recovery point to a vault of the same name in us-west-2, under a key of that Region.
COPY_REGION = "us-west-2"
COPY_VAULT_ARN = f"arn:aws:backup:{COPY_REGION}:{ACCOUNT}:backup-vault:{BACKUP_PLAN}"
COPY_KEY_ALIAS = f"alias/{BACKUP_PLAN}-backup-copies"


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as aws:
        yield aws


# prod's Aurora Global Database has its own tests (test_global_database.py): here its secondary only slows the runs.
WITHOUT_SECONDARY = {"aurora_cluster_secondary_region": ""}


@pytest.fixture(scope="module")
def run_playbook(local_aws):
    def run(playbook, inventory, **kwargs):
        extra = kwargs.pop("extra_vars", None) or {}
        extra = (
            {**WITHOUT_SECONDARY, **extra} if isinstance(extra, dict) else f"{extra} aurora_cluster_secondary_region="
        )
        return run_local(playbook, inventory, local_aws=local_aws, extra_vars=extra, **kwargs)

    return run


@pytest.fixture(scope="module")
def prod(local_aws, run_playbook):
    local_aws.reset_and_seed()
    local_aws.record_from_now()
    first = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert first.returncode == 0, first.stdout[-6000:]
    return {"first": first, "calls": local_aws.calls()}


def tags_of(tag_list):
    return {t["Key"]: t["Value"] for t in tag_list}


def subscriptions(rds):
    return {s["CustSubscriptionId"]: s for s in rds.describe_event_subscriptions()["EventSubscriptionsList"]}


def alarms(local_aws, prefix=ALARM_PREFIX):
    """The alarms under the prefix, by name, read back through boto3."""
    found = local_aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
    return {alarm["AlarmName"]: alarm for alarm in found}


def instance_alarms(instance, reader=True):
    return [
        f"{ALARM_PREFIX}{instance}/{metric}" for metric in INSTANCE_METRICS + (["AuroraReplicaLag"] if reader else [])
    ]


def mutating(calls):
    return [action for action, unused_params in calls if not action.startswith(READS)]


def backup_plan(backup, name=BACKUP_PLAN):
    plans = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == name]
    return backup.get_backup_plan(BackupPlanId=plans[0]["BackupPlanId"]) if plans else None


def test_prod_has_a_writer_and_two_readers_outside_its_az(prod, local_aws):
    rds = local_aws.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    roles = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in cluster["DBClusterMembers"]}
    assert roles == {WRITER: True, READERS[0]: False, READERS[1]: False}
    instances = {i["DBInstanceIdentifier"]: i for i in rds.describe_db_instances()["DBInstances"]}
    writer_az = instances[WRITER]["AvailabilityZone"]
    assert writer_az in ("us-east-1c", "us-east-1d")
    for reader in READERS:
        assert instances[reader]["AvailabilityZone"] in ("us-east-1c", "us-east-1d")
        assert instances[reader]["AvailabilityZone"] != writer_az
        assert instances[reader]["PubliclyAccessible"] is False
        assert instances[reader]["DBInstanceClass"] == "db.r6g.large"
    tiers = {name: instances[name]["PromotionTier"] for name in [WRITER, *READERS]}
    assert tiers == {WRITER: 0, READERS[0]: 1, READERS[1]: 2}


def test_prod_autoscales_its_readers_from_two_to_five_at_sixty_percent_cpu(prod, local_aws):
    resource = f"cluster:{CLUSTER}"
    scaling = local_aws.client("application-autoscaling")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="rds", ResourceIds=[resource])["ScalableTargets"]
    assert (target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"]) == (
        "rds:cluster:ReadReplicaCount",
        2,
        5,
    )
    found = scaling.describe_scaling_policies(ServiceNamespace="rds", ResourceId=resource)["ScalingPolicies"]
    (policy,) = [p for p in found if p["ResourceId"] == resource]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert (policy["PolicyType"], config["PredefinedMetricSpecification"]["PredefinedMetricType"]) == (
        "TargetTrackingScaling",
        "RDSReaderAverageCPUUtilization",
    )
    assert config["TargetValue"] == 60.0
    # Registered once the instances were made (AWS needs the writer), then the policy; each a step of the plan.
    order = mutating(prod["calls"])
    last_instance = max(i for i, a in enumerate(order) if a == "CreateDBInstance")
    assert last_instance < order.index("RegisterScalableTarget") < order.index("PutScalingPolicy")
    assert [line.split(": ", 1)[0] for line in plan_of(prod["first"]) if "scal" in line.split(":", 1)[0]] == [
        f"scalable target {resource}",
        "scaling policy vitality.aurora-readers",
    ]


def test_prod_cluster_is_protected_encrypted_and_keeps_two_weeks_of_backups(prod, local_aws):
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["DeletionProtection"] is True
    assert cluster["BackupRetentionPeriod"] >= 14
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    assert cluster["StorageEncrypted"] is True


def test_every_instance_is_created_with_performance_insights_and_enhanced_monitoring(prod, local_aws):
    role_arn = local_aws.client("iam").get_role(RoleName=MONITORING_ROLE)["Role"]["Arn"]
    created = {
        params["DBInstanceIdentifier"]: params for action, params in prod["calls"] if action == "CreateDBInstance"
    }
    assert sorted(created) == sorted([WRITER, *READERS])
    for params in created.values():
        assert params["EnablePerformanceInsights"] == "true"
        assert params["PerformanceInsightsRetentionPeriod"] == "31"
        assert params["MonitoringInterval"] == "30"
        assert params["MonitoringRoleArn"] == role_arn
    for instance in local_aws.client("rds").describe_db_instances()["DBInstances"]:
        assert instance["MonitoringInterval"] == 30
        assert instance["MonitoringRoleArn"] == role_arn
        # Where moto reports Performance Insights at all, it is what was asked for.
        assert instance.get("PerformanceInsightsEnabled", True) is True
        assert instance.get("PerformanceInsightsRetentionPeriod", 31) == 31


def test_monitoring_role_trusts_rds_monitoring_with_the_managed_policy(prod, local_aws):
    iam = local_aws.client("iam")
    role = iam.get_role(RoleName=MONITORING_ROLE)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(urllib.parse.unquote(trust))
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "monitoring.rds.amazonaws.com"}]
    assert [s["Action"] for s in trust["Statement"]] == ["sts:AssumeRole"]
    # Confused-deputy protection: RDS assumes it only for this account's DB instances in the region.
    assert [s["Condition"] for s in trust["Statement"]] == [
        {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:db:*"},
        }
    ]
    attached = iam.list_attached_role_policies(RoleName=MONITORING_ROLE)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [MONITORING_POLICY]
    assert tags_of(iam.list_role_tags(RoleName=MONITORING_ROLE)["Tags"])["Stack"] == "vitality-prod"
    assert iam.list_instance_profiles_for_role(RoleName=MONITORING_ROLE)["InstanceProfiles"] == []


def test_backup_plan_schedules_the_cluster_with_its_retention(prod, local_aws):
    backup = local_aws.client("backup")
    plan = backup_plan(backup)
    (rule,) = plan["BackupPlan"]["Rules"]
    assert rule["ScheduleExpression"] == "cron(0 1 ? * * *)"
    assert rule["StartWindowMinutes"] == 60
    assert rule["Lifecycle"]["DeleteAfterDays"] == 35
    assert rule["TargetBackupVaultName"] == BACKUP_PLAN
    assert backup.describe_backup_vault(BackupVaultName=BACKUP_PLAN)["BackupVaultName"] == BACKUP_PLAN
    # The plan carries the stack's tags, as its vault does.
    assert backup.list_tags(ResourceArn=plan["BackupPlanArn"])["Tags"]["Stack"] == "vitality-prod"
    (listed,) = backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
    selection = backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=listed["SelectionId"])
    cluster_arn = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0][
        "DBClusterArn"
    ]
    assert selection["BackupSelection"]["Resources"] == [cluster_arn]
    iam = local_aws.client("iam")
    assert selection["BackupSelection"]["IamRoleArn"] == iam.get_role(RoleName=BACKUP_ROLE)["Role"]["Arn"]
    attached = iam.list_attached_role_policies(RoleName=BACKUP_ROLE)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [BACKUP_POLICY]
    trust = iam.get_role(RoleName=BACKUP_ROLE)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(urllib.parse.unquote(trust))
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "backup.amazonaws.com"}]
    assert [s["Condition"] for s in trust["Statement"]] == [{"StringEquals": {"aws:SourceAccount": ACCOUNT}}]


def test_each_recovery_point_is_copied_to_a_vault_of_the_copy_region_under_a_key_of_that_region(prod, local_aws):
    (rule,) = backup_plan(local_aws.client("backup"))["BackupPlan"]["Rules"]
    assert rule["CopyActions"] == [{"DestinationBackupVaultArn": COPY_VAULT_ARN, "Lifecycle": {"DeleteAfterDays": 35}}]
    copy_backup = local_aws.client("backup", region=COPY_REGION)
    vault = copy_backup.describe_backup_vault(BackupVaultName=BACKUP_PLAN)
    assert vault["BackupVaultArn"] == COPY_VAULT_ARN
    kms = local_aws.client("kms", region=COPY_REGION)
    key = kms.describe_key(KeyId=COPY_KEY_ALIAS)["KeyMetadata"]
    assert vault["EncryptionKeyArn"] == key["Arn"] and key["Arn"].startswith(f"arn:aws:kms:{COPY_REGION}:")
    assert key["KeyManager"] == "CUSTOMER" and key["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    assert copy_backup.list_tags(ResourceArn=COPY_VAULT_ARN)["Tags"]["Stack"] == "vitality-prod"


def test_a_copy_vault_under_another_key_stops_the_run_before_any_change(prod, local_aws, run_playbook):
    other = local_aws.client("kms", region=COPY_REGION).create_key(Description="not the copy vault's")["KeyMetadata"]
    local_aws.record_from_now()
    refused = run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        extra_vars={
            "aurora_cluster_backup_copy_kms_key_arn": other["Arn"],
            "aurora_cluster_backup_copy_retention_days": 90,
        },
    )
    assert refused.returncode != 0
    assert (
        f"backup copy vault {BACKUP_PLAN}: change encryption key is impossible-in-place" in refused.stdout
        and "aurora_cluster_backup_copy_kms_key_arn" in refused.stdout
        and "Nothing was changed." in refused.stdout
    ), refused.stdout[-5000:]
    assert mutating(local_aws.calls()) == []
    (rule,) = backup_plan(local_aws.client("backup"))["BackupPlan"]["Rules"]
    assert rule["CopyActions"][0]["Lifecycle"] == {"DeleteAfterDays": 35}


def test_events_of_cluster_instances_and_parameter_group_go_to_the_topic(prod, local_aws):
    sns = local_aws.client("sns")
    assert TOPIC_ARN in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"])
    rds_statement = [s for s in policy["Statement"] if s["Principal"] == {"Service": "events.rds.amazonaws.com"}]
    assert rds_statement and rds_statement[0]["Action"] == "sns:Publish"
    found = subscriptions(local_aws.client("rds"))
    assert sorted(found) == sorted([CLUSTER_EVENTS, INSTANCE_EVENTS, PARAMETER_GROUP_EVENTS])
    cluster_events, instance_events = found[CLUSTER_EVENTS], found[INSTANCE_EVENTS]
    assert cluster_events["SourceType"] == "db-cluster"
    assert cluster_events["SourceIdsList"] == [CLUSTER]
    assert instance_events["SourceType"] == "db-instance"
    assert sorted(instance_events["SourceIdsList"]) == sorted([WRITER, *READERS])
    for subscription in (cluster_events, instance_events):
        assert sorted(subscription["EventCategoriesList"]) == PROD_CATEGORIES
    # RDS has no source type for cluster parameter groups: the instances' DB parameter group (the family's default).
    parameter_group_events = found[PARAMETER_GROUP_EVENTS]
    assert parameter_group_events["SourceType"] == "db-parameter-group"
    assert parameter_group_events["SourceIdsList"] == ["default.aurora-postgresql16"]
    assert parameter_group_events["EventCategoriesList"] == ["configuration change"]
    for subscription in found.values():
        assert subscription["SnsTopicArn"] == TOPIC_ARN
        assert subscription["Enabled"] is True
        tags = local_aws.client("rds").list_tags_for_resource(ResourceName=subscription["EventSubscriptionArn"])
        assert tags_of(tags["TagList"])["Stack"] == "vitality-prod"


def topic_key(kms, alias=TOPIC_KEY_ALIAS):
    (found,) = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == alias]
    return kms.describe_key(KeyId=found["TargetKeyId"])["KeyMetadata"]


def test_the_topic_is_encrypted_with_a_customer_managed_key_rds_may_use(prod, local_aws):
    attributes = local_aws.client("sns").get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]
    assert attributes["KmsMasterKeyId"] == TOPIC_KEY_ALIAS
    kms = local_aws.client("kms")
    key = topic_key(kms)
    assert key["KeyManager"] == "CUSTOMER"
    assert key["KeySpec"] == "SYMMETRIC_DEFAULT" and key["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]}
    assert tags["Stack"] == "vitality-prod" and tags["Environment"] == "prod"
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    statements = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert statements["AccountAdministersTheKey"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert statements["AccountAdministersTheKey"]["Action"] == "kms:*"
    rds = statements["RdsEventsUseTheKey"]
    assert rds["Effect"] == "Allow"
    assert rds["Principal"] == {"Service": "events.rds.amazonaws.com"}
    assert sorted(rds["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert rds["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    # The alarms publish to the same topic: CloudWatch may use the key too.
    cloudwatch = statements["CloudWatchAlarmsUseTheKey"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert len(statements) == 3


def test_each_instance_and_the_cluster_have_their_alarms_paging_the_topic(prod, local_aws):
    found = alarms(local_aws)
    assert sorted(found) == sorted(
        [f"{ALARM_PREFIX}Deadlocks"]
        + instance_alarms(WRITER, reader=False)
        + [n for r in READERS for n in instance_alarms(r)]
    )
    for alarm in found.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [TOPIC_ARN]
        assert alarm["Namespace"] == "AWS/RDS" and alarm["ActionsEnabled"] is True
        (dimension,) = alarm["Dimensions"]
        if alarm["MetricName"] == "Deadlocks":
            assert dimension == {"Name": "DBClusterIdentifier", "Value": CLUSTER}
        else:
            assert dimension == {"Name": "DBInstanceIdentifier", "Value": alarm["AlarmName"].split("/")[2]}
    # db.r6g.large: 16 GiB, so 10 % of it; max_connections 1802, so 80 % of it.
    assert found[f"{ALARM_PREFIX}{WRITER}/FreeableMemory"]["Threshold"] == 1717986918.0
    assert found[f"{ALARM_PREFIX}{WRITER}/FreeableMemory"]["ComparisonOperator"] == "LessThanThreshold"
    assert found[f"{ALARM_PREFIX}{READERS[0]}/DatabaseConnections"]["Threshold"] == 1441.0
    assert found[f"{ALARM_PREFIX}{READERS[1]}/AuroraReplicaLag"]["Threshold"] == 1000.0
    cloudwatch = local_aws.client("cloudwatch")
    tags = cloudwatch.list_tags_for_resource(ResourceARN=found[f"{ALARM_PREFIX}Deadlocks"]["AlarmArn"])["Tags"]
    assert tags_of(tags)["Stack"] == "vitality-prod"
    # The apply made exactly the planned puts, after the instances were created and before the subscriptions.
    planned = [
        line.split(": ", 1)[0].split(" ", 2)[2]
        for line in plan_of(prod["first"])
        if line.startswith("CloudWatch alarm ")
    ]
    put = [params["AlarmName"] for action, params in prod["calls"] if action == "PutMetricAlarm"]
    assert put == planned and len(put) == 15
    order = mutating(prod["calls"])
    assert order.index("PutMetricAlarm") > max(i for i, a in enumerate(order) if a == "CreateDBInstance")
    assert len(order) - order[::-1].index("PutMetricAlarm") <= order.index("CreateEventSubscription")
    # The topic lets this account's alarms publish.
    policy = json.loads(local_aws.client("sns").get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"])
    (statement,) = [s for s in policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }


def test_second_run_changes_nothing(prod, local_aws, run_playbook):
    local_aws.record_from_now()
    again = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert again.returncode == 0, again.stdout[-4000:]
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-8000:]
    calls = local_aws.calls()
    assert mutating(calls) == []
    # The alarms are read with one call, by their prefix.
    assert [params for action, params in calls if "Alarm" in action] == [{"AlarmNamePrefix": ALARM_PREFIX}]


def plan_of(result):
    """The plan's lines without the header and without their numbers ("3. cluster ..." -> "cluster ...")."""
    header, *lines = printed_plan(result.stdout)
    assert header in ("Plan", "Plan (check mode: nothing was changed)"), header
    return [re.sub(r"^\d+\. ", "", line) for line in lines]


def test_day2_check_mode_plans_baseline_changes_and_calls_nothing_mutating(prod, local_aws, run_playbook):
    local_aws.record_from_now()
    planned = run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        check=True,
        diff=True,
        extra_vars={
            "aurora_cluster_cluster_event_categories": ["failure"],
            "aurora_cluster_backup_retention_days": 60,
            "aurora_cluster_backup_copy_retention_days": 90,
            "aurora_cluster_alarm_cpu_percent": 90,
        },
    )
    assert planned.returncode == 0, planned.stdout[-5000:]
    assert printed_plan(planned.stdout)[0] == "Plan (check mode: nothing was changed)"
    plan = plan_of(planned)
    before = "[" + ", ".join(PROD_CATEGORIES) + "]"
    # Exactly the baseline changes, each online, and nothing else of the stack.
    assert sorted(plan) == sorted(
        [
            f"event subscription {CLUSTER_EVENTS}: update categories (event_categories {before} -> [failure]) [online]",
            f"backup plan {BACKUP_PLAN}: update rule ("
            f"rule scheduled: copy_actions [{{destination_backup_vault_arn={COPY_VAULT_ARN}, lifecycle={{delete_after_days=35}}}}]"
            f" -> [{{destination_backup_vault_arn={COPY_VAULT_ARN}, lifecycle={{delete_after_days=90}}}}]; "
            "rule scheduled: lifecycle.delete_after_days 35 -> 60) [online]",
        ]
        + [
            f"CloudWatch alarm {ALARM_PREFIX}{name}/CPUUtilization: change threshold (threshold 80 -> 90) [online]"
            for name in [WRITER, *READERS]
        ]
    ), plan
    assert mutating(local_aws.calls()) == []
    assert sorted(subscriptions(local_aws.client("rds"))[CLUSTER_EVENTS]["EventCategoriesList"]) == PROD_CATEGORIES
    assert {a["Threshold"] for n, a in alarms(local_aws).items() if n.endswith("/CPUUtilization")} == {80.0}


def test_turning_the_alarms_off_plans_cloudwatch_out_of_the_key_and_topic_policies_and_leaves_the_alarms(
    prod, local_aws, run_playbook
):
    local_aws.record_from_now()
    planned = run_playbook(
        "playbooks/provision.yml", "inventories/prod", check=True, extra_vars={"aurora_cluster_alarms_enabled": False}
    )
    assert planned.returncode == 0, planned.stdout[-5000:]
    key_before = "[AccountAdministersTheKey, RdsEventsUseTheKey if aws:SourceAccount, CloudWatchAlarmsUseTheKey]"
    topic_before = (
        "[AccountManagesTheTopic, RdsPublishesEvents if aws:SourceAccount,aws:SourceArn, "
        "CloudWatchAlarmsPublish if aws:SourceAccount,aws:SourceArn]"
    )
    # The topic's policy is the role's sns_topic task, before the stack's steps; its key's, aurora_stack's own.
    assert plan_of(planned) == [
        f"SNS topic {TOPIC}: set policy (policy {topic_before} -> "
        "[AccountManagesTheTopic, RdsPublishesEvents if aws:SourceAccount,aws:SourceArn]) [online]",
        f"KMS key {TOPIC_KEY_ALIAS}: update key policy (key policy {key_before} -> "
        "[AccountAdministersTheKey, RdsEventsUseTheKey if aws:SourceAccount]) [online]",
    ]
    calls = local_aws.calls()
    assert mutating(calls) == []
    # Off, the alarms are neither read nor changed.
    assert [action for action, unused_params in calls if "Alarm" in action] == []
    assert len(alarms(local_aws)) == 15


def test_day2_changes_converge_and_a_new_reader_gets_the_baseline(prod, local_aws, run_playbook):
    settings = {
        "aurora_cluster_reader_count": 3,
        "aurora_cluster_cluster_event_categories": ["failure"],
        "aurora_cluster_backup_retention_days": 60,
    }
    local_aws.record_from_now()
    changed = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=settings)
    assert changed.returncode == 0, changed.stdout[-6000:]
    reader_3 = f"{CLUSTER}-reader-3"
    created = [p for a, p in local_aws.calls() if a == "CreateDBInstance"]
    assert [p["DBInstanceIdentifier"] for p in created] == [reader_3]
    assert created[0]["EnablePerformanceInsights"] == "true"
    assert created[0]["PerformanceInsightsRetentionPeriod"] == "31"
    assert created[0]["MonitoringInterval"] == "30"
    assert created[0]["MonitoringRoleArn"] == local_aws.client("iam").get_role(RoleName=MONITORING_ROLE)["Role"]["Arn"]
    found = subscriptions(local_aws.client("rds"))
    assert sorted(found[INSTANCE_EVENTS]["SourceIdsList"]) == sorted([WRITER, *READERS, reader_3])
    assert found[CLUSTER_EVENTS]["EventCategoriesList"] == ["failure"]
    assert backup_plan(local_aws.client("backup"))["BackupPlan"]["Rules"][0]["Lifecycle"]["DeleteAfterDays"] == 60
    # The new reader got its alarms, after it was made; no other alarm changed.
    assert sorted(p["AlarmName"] for a, p in local_aws.calls() if a == "PutMetricAlarm") == sorted(
        instance_alarms(reader_3)
    )
    assert set(instance_alarms(reader_3)) <= set(alarms(local_aws))
    plan = plan_of(changed)
    before = "[" + ", ".join(PROD_CATEGORIES) + "]"
    three, four = sorted([WRITER, *READERS]), sorted([WRITER, *READERS, reader_3])
    wanted = [
        f"event subscription {CLUSTER_EVENTS}: update categories (event_categories {before} -> [failure]) [online]",
        f"event subscription {INSTANCE_EVENTS}: add sources (source_ids [{', '.join(three)}] -> [{', '.join(four)}]) "
        "[online]",
        f"backup plan {BACKUP_PLAN}: update rule (rule scheduled: lifecycle.delete_after_days 35 -> 60) [online]",
    ]
    for line in wanted:
        assert line in plan, (line, plan)
    (new_reader,) = [line for line in plan if line.startswith(f"instance {reader_3}: create ")]
    assert "(db_instance_class (none) -> db.r6g.large) [online]. reader in us-east-1" in new_reader, new_reader
    new_alarms = [line.split(": ", 1)[0] for line in plan if line.startswith("CloudWatch alarm ")]
    assert new_alarms == [f"CloudWatch alarm {name}" for name in sorted(instance_alarms(reader_3), key=alarm_order)]
    # The autoscaler's minimum follows the reader count, once the new reader exists.
    (minimum,) = [line for line in plan if line.startswith("scalable target ")]
    assert minimum.startswith(f"scalable target cluster:{CLUSTER}: update (min_readers 2 -> 3) [online]"), minimum
    assert plan.index(minimum) > plan.index(new_reader)
    assert len(plan) == 4 + 5 + 1, plan
    again = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=settings)
    assert again.returncode == 0, again.stdout[-6000:]
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-8000:]
    assert printed_plan(again.stdout)[1:] == ["no change"], printed_plan(again.stdout)

    local_aws.record_from_now()
    back = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert back.returncode == 0, back.stdout[-6000:]
    assert [p["DBInstanceIdentifier"] for a, p in local_aws.calls() if a == "DeleteDBInstance"] == [reader_3]
    # The reader's alarms went with it, in one DeleteAlarms after the instance was deleted; the others stayed.
    back_calls = mutating(local_aws.calls())
    assert back_calls.count("DeleteAlarms") == 1
    assert back_calls.index("DeleteAlarms") > back_calls.index("DeleteDBInstance")
    (deleted,) = [p["AlarmNames"] for a, p in local_aws.calls() if a == "DeleteAlarms"]
    assert sorted(deleted) == sorted(instance_alarms(reader_3))
    assert not [name for name in alarms(local_aws) if f"/{reader_3}/" in name]
    assert len(alarms(local_aws)) == 15
    assert sorted(
        i["DBInstanceIdentifier"] for i in local_aws.client("rds").describe_db_instances()["DBInstances"]
    ) == (three)
    found = subscriptions(local_aws.client("rds"))
    assert sorted(found[INSTANCE_EVENTS]["SourceIdsList"]) == three
    assert sorted(found[CLUSTER_EVENTS]["EventCategoriesList"]) == PROD_CATEGORIES
    assert backup_plan(local_aws.client("backup"))["BackupPlan"]["Rules"][0]["Lifecycle"]["DeleteAfterDays"] == 35
    # Back to the inventory: the reader beyond reader_count goes, and so do the day-2 baseline changes.
    back_plan = plan_of(back)
    assert len(back_plan) == 6, back_plan
    # The backup plan's rule needs nothing of the stack: the role's backup_plan task, before the stack's steps.
    assert back_plan[0].startswith(
        f"backup plan {BACKUP_PLAN}: update rule (rule scheduled: lifecycle.delete_after_days 60 -> 35) [online]"
    ), back_plan
    # Of the stack's steps, a lower minimum first: else the autoscaler would add a reader back for the one deleted.
    assert back_plan[1].startswith(f"scalable target cluster:{CLUSTER}: update (min_readers 3 -> 2) [online]"), (
        back_plan
    )
    assert back_plan[2].startswith(f"instance {reader_3}: delete (instance {reader_3} -> (none)) [online]"), back_plan
    assert back_plan[3].startswith(f"CloudWatch alarms {ALARM_PREFIX}*: delete ({ALARM_PREFIX}{reader_3}/"), back_plan
    for line in [
        f"event subscription {CLUSTER_EVENTS}: update categories (event_categories [failure] -> {before}) [online]",
        f"event subscription {INSTANCE_EVENTS}: remove sources (source_ids [{', '.join(four)}] -> "
        f"[{', '.join(three)}]) [online]",
    ]:
        assert line in back_plan, (line, back_plan)


def test_a_reader_aws_added_gets_its_alarms_and_is_left_in_the_cluster(prod, local_aws, run_playbook):
    # Made the way reader autoscaling makes its readers, outside the inventory.
    autoscaled = "application-autoscaling-5f1c6b0e-2d4a-4c8e-9b1a-3e7d2c9f0a11"
    local_aws.client("rds").create_db_instance(
        DBInstanceIdentifier=autoscaled,
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    local_aws.record_from_now()
    converged = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert converged.returncode == 0, converged.stdout[-6000:]
    # Covered like the role's readers: converged to prod's instance settings (it was made bare), then its alarms.
    *plan, notice = plan_of(converged)
    # Left to the autoscaler: the plan's output says so, after the steps.
    assert notice.startswith(f"Reader autoscaling is on: 1 reader made by Application Auto Scaling ({autoscaled})")
    assert plan[0].startswith(f"instance {autoscaled}: modify ("), plan
    assert [line.split(": ", 1)[0] for line in plan[1:]] == [
        f"CloudWatch alarm {name}" for name in sorted(instance_alarms(autoscaled), key=alarm_order)
    ]
    assert mutating(local_aws.calls()) == ["ModifyDBInstance"] + ["PutMetricAlarm"] * 5
    assert [p["DBInstanceIdentifier"] for a, p in local_aws.calls() if a == "ModifyDBInstance"] == [autoscaled]
    assert set(instance_alarms(autoscaled)) <= set(alarms(local_aws))
    instances = [i["DBInstanceIdentifier"] for i in local_aws.client("rds").describe_db_instances()["DBInstances"]]
    assert autoscaled in instances


def alarm_order(name):
    """An instance's alarms in the plan's order."""
    metric = name.rsplit("/", 1)[-1]
    return ["CPUUtilization", "FreeableMemory", "DatabaseConnections", "FreeLocalStorage", "AuroraReplicaLag"].index(
        metric
    )


def test_destroy_needs_confirmation_and_honours_deletion_protection(prod, local_aws, run_playbook):
    unconfirmed = run_playbook("playbooks/destroy.yml", "inventories/prod")
    assert unconfirmed.returncode != 0
    assert f"aurora_cluster_destroy_confirm={CLUSTER}" in unconfirmed.stdout

    protected = run_playbook(
        "playbooks/destroy.yml", "inventories/prod", extra_vars={"aurora_cluster_destroy_confirm": CLUSTER}
    )
    assert protected.returncode != 0
    assert "deletion protection on" in protected.stdout
    rds = local_aws.client("rds")
    assert len(rds.describe_db_instances()["DBInstances"]) == 4  # with the reader AWS added
    assert rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["DeletionProtection"] is True
    assert len(alarms(local_aws)) == 20


def destroy_prod(run_playbook):
    """playbooks/destroy.yml on prod, confirmed, deletion protection turned off."""
    return run_playbook(
        "playbooks/destroy.yml",
        "inventories/prod",
        extra_vars={
            "aurora_cluster_destroy_confirm": CLUSTER,
            "aurora_cluster_destroy_disable_deletion_protection": True,
        },
    )


def test_destroy_removes_the_baseline_but_keeps_topic_and_vault(prod, local_aws, run_playbook):
    done = destroy_prod(run_playbook)
    assert done.returncode == 0, done.stdout[-6000:]
    rds = local_aws.client("rds")
    assert rds.describe_db_clusters()["DBClusters"] == []
    snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert [s for s in snapshots if s["DBClusterSnapshotIdentifier"].startswith(f"{CLUSTER}-final-")]
    assert subscriptions(rds) == {}
    assert alarms(local_aws) == {}
    backup = local_aws.client("backup")
    assert backup_plan(backup) is None
    assert backup.describe_backup_vault(BackupVaultName=BACKUP_PLAN)["BackupVaultName"] == BACKUP_PLAN
    roles = [r["RoleName"] for r in local_aws.client("iam").list_roles()["Roles"]]
    assert MONITORING_ROLE not in roles and BACKUP_ROLE not in roles
    assert TOPIC_ARN in [t["TopicArn"] for t in local_aws.client("sns").list_topics()["Topics"]]
    # The topic's messages are encrypted with its key: the key stays with the topic.
    assert topic_key(local_aws.client("kms"))["KeyState"] == "Enabled"
    # The copies outlive the stack too: their vault, and the key they are encrypted with.
    assert local_aws.client("backup", region=COPY_REGION).describe_backup_vault(BackupVaultName=BACKUP_PLAN)
    copy_key = local_aws.client("kms", region=COPY_REGION).describe_key(KeyId=COPY_KEY_ALIAS)["KeyMetadata"]
    assert copy_key["KeyState"] == "Enabled"

    again = run_playbook(
        "playbooks/destroy.yml",
        "inventories/prod",
        extra_vars={"aurora_cluster_destroy_confirm": CLUSTER},
    )
    assert again.returncode == 0, again.stdout[-4000:]
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-6000:]


def test_a_destroyed_stack_is_provisioned_again_with_a_new_backup_plan_selecting_it(local_aws, run_playbook):
    """After the destroy above (topic, its key and the vaults kept), provision makes the stack again: a new backup plan
    of the same name, selecting the new cluster, and its alarms, the kept topic and vaults adopted."""
    backup = local_aws.client("backup")
    deleted = [p["BackupPlanId"] for p in backup.list_backup_plans(IncludeDeleted=True)["BackupPlansList"]]
    assert backup_plan(backup) is None and deleted  # the destroy's doing
    made = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert made.returncode == 0, made.stdout[-6000:]
    plan = backup_plan(backup)
    assert plan is not None and plan["BackupPlanId"] not in deleted
    (selection,) = backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
    chosen = backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=selection["SelectionId"])
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert chosen["BackupSelection"]["Resources"] == [cluster["DBClusterArn"]]
    assert len(alarms(local_aws)) == 15
    assert [t["TopicArn"] for t in local_aws.client("sns").list_topics()["Topics"]] == [TOPIC_ARN]
    gone = destroy_prod(run_playbook)
    assert gone.returncode == 0, gone.stdout[-6000:]
    assert alarms(local_aws) == {} and backup_plan(backup) is None


def test_dev_keeps_the_cheaper_settings(local_aws, run_playbook):
    local_aws.record_from_now()
    dev = run_playbook("playbooks/provision.yml", "inventories/dev")
    assert dev.returncode == 0, dev.stdout[-6000:]
    calls = local_aws.calls()
    (created,) = [p for a, p in calls if a == "CreateDBInstance"]
    assert created["EnablePerformanceInsights"] == "false"
    assert "PerformanceInsightsRetentionPeriod" not in created
    assert created["MonitoringInterval"] == "0"
    assert "MonitoringRoleArn" not in created
    actions = {a for a, unused_params in calls}
    assert not actions & {"CreateRole", "CreateTopic", "CreateEventSubscription"}
    # Alarms off in dev: none made, none even read.
    assert not {a for a in actions if "Alarm" in a}, actions
    assert alarms(local_aws, "vitality.aurora/vitality-dev-aurora/") == {}
    assert [r for r in local_aws.client("iam").list_roles()["Roles"] if r["RoleName"].startswith("vitality-dev")] == []
    aliases = [a["AliasName"] for a in local_aws.client("kms").list_aliases()["Aliases"]]
    assert [a for a in aliases if a.startswith("alias/vitality-dev")] == []
    assert [s for s in subscriptions(local_aws.client("rds")) if s.startswith("vitality-dev")] == []
    plans = local_aws.client("backup").list_backup_plans()["BackupPlansList"]
    assert [p for p in plans if p["BackupPlanName"].startswith("vitality-dev")] == []
