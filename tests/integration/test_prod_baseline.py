"""The prod operations baseline against the local AWS: Performance Insights, Enhanced Monitoring and its
IAM role, the AWS Backup vault, plan and selection, RDS event notifications to SNS; day-2 changes of
them, their teardown, and dev without them.

The local AWS is moto with the calls it lacks added (scripts/moto_server_ext.py). moto leaves
PerformanceInsightsEnabled (and, after a create, the retention) out of DescribeDBInstances, so what
the role asked for is read from the requests moto records.
"""

import base64
import json
import urllib.parse
import urllib.request

import pytest

from local_aws import LocalAws
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
CLUSTER_EVENTS = f"{CLUSTER}-cluster-events"
INSTANCE_EVENTS = f"{CLUSTER}-instance-events"
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
BACKUP_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"


class RecordedAws(LocalAws):
    """A local AWS of this module's own whose query-protocol requests moto records (in a temporary directory)."""

    def __init__(self, recording):
        super().__init__(extra_env={"MOTO_ENABLE_RECORDING": "True", "MOTO_RECORDER_FILEPATH": str(recording)})

    def _post(self, path):
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint_url}{path}", method="POST"), timeout=10).read()

    def record_from_now(self):
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")

    def calls(self):
        with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/recorder/download-recording", timeout=10) as answer:
            lines = answer.read().decode().splitlines()
        calls = []
        for line in lines:
            request = json.loads(line)
            body = request.get("body") or ""
            if request.get("body_encoded"):
                body = base64.b64decode(body).decode()
            params = {key: values[0] for key, values in urllib.parse.parse_qs(body).items()}
            if "Action" in params:
                calls.append((params.pop("Action"), params))
        return calls


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
    first = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert first.returncode == 0, first.stdout[-6000:]
    return {"first": first, "calls": local_aws.calls()}


def tags_of(tag_list):
    return {t["Key"]: t["Value"] for t in tag_list}


def subscriptions(rds):
    return {s["CustSubscriptionId"]: s for s in rds.describe_event_subscriptions()["EventSubscriptionsList"]}


def backup_plan(backup, name=BACKUP_PLAN):
    plans = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == name]
    return backup.get_backup_plan(BackupPlanId=plans[0]["BackupPlanId"]) if plans else None


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


def test_failure_and_maintenance_events_of_cluster_and_instances_go_to_the_topic(prod, local_aws):
    sns = local_aws.client("sns")
    assert TOPIC_ARN in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"])
    rds_statement = [s for s in policy["Statement"] if s["Principal"] == {"Service": "events.rds.amazonaws.com"}]
    assert rds_statement and rds_statement[0]["Action"] == "sns:Publish"
    found = subscriptions(local_aws.client("rds"))
    cluster_events, instance_events = found[CLUSTER_EVENTS], found[INSTANCE_EVENTS]
    assert cluster_events["SourceType"] == "db-cluster"
    assert cluster_events["SourceIdsList"] == [CLUSTER]
    assert instance_events["SourceType"] == "db-instance"
    assert sorted(instance_events["SourceIdsList"]) == sorted([WRITER, *READERS])
    for subscription in (cluster_events, instance_events):
        assert subscription["SnsTopicArn"] == TOPIC_ARN
        assert sorted(subscription["EventCategoriesList"]) == ["failure", "maintenance"]
        assert subscription["Enabled"] is True
    tags = local_aws.client("rds").list_tags_for_resource(ResourceName=cluster_events["EventSubscriptionArn"])
    assert tags_of(tags["TagList"])["Stack"] == "vitality-prod"


def test_second_run_changes_nothing(prod, run_playbook):
    again = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert again.returncode == 0, again.stdout[-4000:]
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-8000:]


def plan_of(result):
    text = result.stdout.split("Show the plan, each change with its impact", 1)[1].split("\n}\n", 1)[0]
    quoted = [line.strip() for line in text.splitlines() if line.strip().startswith('"') and '"msg"' not in line]
    return [line.rstrip(",").strip('"') for line in quoted]


def test_day2_check_mode_plans_baseline_changes_and_calls_nothing_mutating(prod, local_aws, run_playbook):
    local_aws.record_from_now()
    planned = run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        check=True,
        diff=True,
        extra_vars={"aurora_cluster_event_categories": ["failure"], "aurora_cluster_backup_retention_days": 60},
    )
    assert planned.returncode == 0, planned.stdout[-5000:]
    plan = plan_of(planned)
    assert f"event subscription {CLUSTER_EVENTS}: event_categories [failure, maintenance] -> [failure] [online]" in plan
    assert f"backup plan {BACKUP_PLAN}: schedule and retention [online]" in plan
    mutating = [a for a, unused_params in local_aws.calls() if not a.startswith(("Describe", "List", "Get"))]
    assert mutating == [], mutating
    assert sorted(subscriptions(local_aws.client("rds"))[CLUSTER_EVENTS]["EventCategoriesList"]) == [
        "failure",
        "maintenance",
    ]


def test_day2_changes_converge_and_a_new_reader_gets_the_baseline(prod, local_aws, run_playbook):
    settings = {
        "aurora_cluster_reader_count": 3,
        "aurora_cluster_event_categories": ["failure"],
        "aurora_cluster_backup_retention_days": 60,
    }
    local_aws.record_from_now()
    changed = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=settings)
    assert changed.returncode == 0, changed.stdout[-6000:]
    reader_3 = f"{CLUSTER}-reader-3"
    created = [p for a, p in local_aws.calls() if a == "CreateDBInstance"]
    assert [p["DBInstanceIdentifier"] for p in created] == [reader_3]
    assert created[0]["EnablePerformanceInsights"] == "true"
    assert created[0]["MonitoringInterval"] == "30"
    found = subscriptions(local_aws.client("rds"))
    assert sorted(found[INSTANCE_EVENTS]["SourceIdsList"]) == sorted([WRITER, *READERS, reader_3])
    assert found[CLUSTER_EVENTS]["EventCategoriesList"] == ["failure"]
    assert backup_plan(local_aws.client("backup"))["BackupPlan"]["Rules"][0]["Lifecycle"]["DeleteAfterDays"] == 60
    plan = plan_of(changed)
    assert f"event subscription {INSTANCE_EVENTS}: source_ids" in " ".join(plan)
    again = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=settings)
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-8000:]

    back = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert back.returncode == 0, back.stdout[-6000:]
    found = subscriptions(local_aws.client("rds"))
    assert sorted(found[INSTANCE_EVENTS]["SourceIdsList"]) == sorted([WRITER, *READERS])
    assert sorted(found[CLUSTER_EVENTS]["EventCategoriesList"]) == ["failure", "maintenance"]


def test_destroy_removes_the_baseline_but_keeps_topic_and_vault(prod, local_aws, run_playbook):
    done = run_playbook(
        "playbooks/destroy.yml",
        "inventories/prod",
        extra_vars={
            "aurora_cluster_destroy_confirm": CLUSTER,
            "aurora_cluster_destroy_disable_deletion_protection": True,
        },
    )
    assert done.returncode == 0, done.stdout[-6000:]
    assert subscriptions(local_aws.client("rds")) == {}
    backup = local_aws.client("backup")
    assert backup_plan(backup) is None
    assert backup.describe_backup_vault(BackupVaultName=BACKUP_PLAN)["BackupVaultName"] == BACKUP_PLAN
    roles = [r["RoleName"] for r in local_aws.client("iam").list_roles()["Roles"]]
    assert MONITORING_ROLE not in roles and BACKUP_ROLE not in roles
    assert TOPIC_ARN in [t["TopicArn"] for t in local_aws.client("sns").list_topics()["Topics"]]

    again = run_playbook(
        "playbooks/destroy.yml",
        "inventories/prod",
        extra_vars={"aurora_cluster_destroy_confirm": CLUSTER},
    )
    assert again.returncode == 0, again.stdout[-4000:]
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-6000:]


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
    assert [r for r in local_aws.client("iam").list_roles()["Roles"] if r["RoleName"].startswith("vitality-dev")] == []
    assert [s for s in subscriptions(local_aws.client("rds")) if s.startswith("vitality-dev")] == []
    plans = local_aws.client("backup").list_backup_plans()["BackupPlansList"]
    assert [p for p in plans if p["BackupPlanName"].startswith("vitality-dev")] == []
