"""baseline_plan: the operations baseline read once and planned as Actions, against fake AWS answers.

The fake API answers each read with a canned response that is checked against botocore's model of the
operation's output (the shape AWS documents), and records every call, so the tests pin both what is read
and what is planned.
"""

import copy
import json
from datetime import UTC, datetime
from urllib.parse import quote

import boto3
import pytest
from botocore.validate import ParamValidator

from ansible_collections.vitality.aurora.plugins.module_utils import baseline_plan as b
from ansible_collections.vitality.aurora.plugins.module_utils import secondary_ops
from canned_api import CannedApi

ACCOUNT = "123456789012"
CLUSTER = "vitality-prod-aurora"
TAGS = {"ManagedBy": "vitality.aurora", "Stack": "vitality-prod"}
TOPIC_NAME = "vitality-prod-db-events"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC_NAME}"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VAULT_ARN = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:vitality-prod-aurora"
PLAN_ARN = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-plan:plan-id-1"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def desired():
    return {
        "account_id": ACCOUNT,
        "partition": "aws",
        "region": "us-east-1",
        "cluster_identifier": CLUSTER,
        "tags": dict(TAGS),
        "monitoring_role": {"name": "vitality-prod-rds-monitoring"},
        "backup": {
            "role_name": "vitality-prod-aws-backup",
            "vault_name": "vitality-prod-aurora",
            "plan_name": "vitality-prod-aurora",
            "schedule": "cron(0 1 ? * * *)",
            "start_window_minutes": 60,
            "retention_days": 35,
        },
        "event_topic": {
            "name": TOPIC_NAME,
            "display_name": f"{CLUSTER} events",
            "creates_key": True,
            "key_alias": f"alias/{TOPIC_NAME}",
            "kms_key_id": "",
        },
        "event_subscriptions": [
            {
                "name": f"{CLUSTER}-cluster-events",
                "source_type": "db-cluster",
                "source_ids": [CLUSTER],
                "categories": ["failover", "failure", "maintenance"],
                "topic_arn": TOPIC_ARN,
            },
            {
                "name": f"{CLUSTER}-instance-events",
                "source_type": "db-instance",
                "source_ids": [f"{CLUSTER}-writer", f"{CLUSTER}-reader-1"],
                "categories": ["failover", "failure", "maintenance"],
                "topic_arn": TOPIC_ARN,
            },
            {
                "name": f"{CLUSTER}-parameter-group-events",
                "source_type": "db-parameter-group",
                "source_ids": ["default.aurora-postgresql16"],
                "categories": [],
                "topic_arn": TOPIC_ARN,
            },
        ],
    }


class NotFound:
    def __init__(self, code):
        self.code = code


class FakeApi:
    """AwsApi's call/paginate over canned answers {method: answer or callable(params)}; records each call."""

    def __init__(self, service, answers, log):
        self.service = service
        self.answers = answers
        self.log = log
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        self.model = client.meta.service_model
        self.operations = client.meta.method_to_api_mapping

    def answer(self, method, not_found, params):
        operation = self.model.operation_model(self.operations[method])
        self.log.append((self.service, operation.name, params))
        answer = self.answers[method]
        answer = answer(params) if callable(answer) else answer
        if isinstance(answer, NotFound):
            assert answer.code in not_found, f"{operation.name}: {answer.code} is not a not-found code here"
            return None
        report = ParamValidator().validate(answer, operation.output_shape)
        assert not report.has_errors(), report.generate_report()
        return copy.deepcopy(answer)

    def call(self, method, not_found=(), context="", **params):
        return self.answer(method, not_found, params)

    def paginate(self, method, result_key, not_found=(), context="", **params):
        response = self.answer(method, not_found, params)
        return None if response is None else response.get(result_key) or []


def policy_string(document):
    """IAM sends policy documents URL-encoded (boto3 then decodes them to dicts)."""
    return quote(json.dumps(document))


def role(name, trust, description, tags=None):
    tags = TAGS if tags is None else tags
    found = {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROAEXAMPLEROLEID" + name[-4:].upper(),
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "CreateDate": CREATED,
        "AssumeRolePolicyDocument": policy_string(trust),
        "Description": description,
        "MaxSessionDuration": 3600,
    }
    if tags:
        found["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return found


def subscription(entry, **overrides):
    found = {
        "CustomerAwsId": ACCOUNT,
        "CustSubscriptionId": entry["name"],
        "SnsTopicArn": entry["topic_arn"],
        "Status": "active",
        "SubscriptionCreationTime": "2024-01-01 00:00:00.000",
        "SourceType": entry["source_type"],
        "SourceIdsList": list(entry["source_ids"]),
        "EventCategoriesList": list(entry["categories"]),
        "Enabled": True,
        "EventSubscriptionArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:es:{entry['name']}",
    }
    found.update(overrides)
    return found


class World:
    """The AWS answers of a prod stack whose baseline is in sync; tests change what they need."""

    def __init__(self):
        want = desired()
        monitoring = b.monitoring_role_request(want)
        backup_role = b.backup_role_request(want)
        self.roles = {
            monitoring["name"]: role(
                monitoring["name"], monitoring["assume_role_policy_document"], monitoring["description"]
            ),
            backup_role["name"]: role(
                backup_role["name"], backup_role["assume_role_policy_document"], backup_role["description"]
            ),
        }
        self.attached = {
            monitoring["name"]: list(monitoring["managed_policies"]),
            backup_role["name"]: list(backup_role["managed_policies"]),
        }
        self.vault = {
            "BackupVaultName": "vitality-prod-aurora",
            "BackupVaultArn": VAULT_ARN,
            "NumberOfRecoveryPoints": 3,
        }
        self.vault_tags = dict(TAGS)
        self.plan_rules = [
            {
                "RuleName": "scheduled",
                "TargetBackupVaultName": "vitality-prod-aurora",
                "ScheduleExpression": "cron(0 1 ? * * *)",
                "StartWindowMinutes": 60,
                "CompletionWindowMinutes": 10080,
                "Lifecycle": {"DeleteAfterDays": 35},
                "RuleId": "rule-1",
                "EnableContinuousBackup": False,
                "ScheduleExpressionTimezone": "Etc/UTC",
            }
        ]
        self.plan_exists = True
        self.plan_tags = dict(TAGS)
        self.selection = {
            "SelectionName": "vitality-prod-aurora",
            "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-aws-backup",
            "Resources": [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{CLUSTER}"],
            "ListOfTags": [],
            "NotResources": [],
            "Conditions": {"StringEquals": [], "StringLike": [], "StringNotEquals": [], "StringNotLike": []},
        }
        key = b.topic_key_request(want)
        self.key = {
            "KeyId": KEY_ARN.rsplit("/", maxsplit=1)[-1],
            "Arn": KEY_ARN,
            "Description": key["description"],
            "KeyState": "Enabled",
            "Enabled": True,
            "KeyManager": "CUSTOMER",
            "KeySpec": "SYMMETRIC_DEFAULT",
        }
        self.key_policy = key["policy"]
        self.key_rotation = True
        self.key_tags = dict(TAGS)
        topic = b.topic_request(want)
        self.topic = {
            "TopicArn": TOPIC_ARN,
            "DisplayName": topic["display_name"],
            "Policy": json.dumps(topic["policy"]),
            "KmsMasterKeyId": f"alias/{TOPIC_NAME}",
            "Owner": ACCOUNT,
        }
        self.topic_tags = dict(TAGS)
        self.subscriptions = [subscription(entry) for entry in want["event_subscriptions"] if entry["categories"]]
        self.subscription_tags = {s["EventSubscriptionArn"]: dict(TAGS) for s in self.subscriptions}
        self.alarms = []
        self.log = []

    def apis(self):
        def get_role(params):
            found = self.roles.get(params["RoleName"])
            return {"Role": found} if found else NotFound("NoSuchEntity")

        def key(params):
            return {"KeyMetadata": self.key} if self.key else NotFound("NotFoundException")

        def topic(params):
            return {"Attributes": self.topic} if self.topic else NotFound("NotFound")

        def plans(params):
            if not self.plan_exists:
                return {"BackupPlansList": []}
            return {
                "BackupPlansList": [
                    {
                        "BackupPlanArn": PLAN_ARN,
                        "BackupPlanId": "plan-id-1",
                        "BackupPlanName": "vitality-prod-aurora",
                        "VersionId": "v1",
                    },
                    {
                        "BackupPlanArn": PLAN_ARN + "x",
                        "BackupPlanId": "other",
                        "BackupPlanName": "other",
                        "VersionId": "v1",
                    },
                ]
            }

        def tags(params):
            return {"Tags": self.vault_tags if params["ResourceArn"] == VAULT_ARN else self.plan_tags}

        def selections(params):
            if not self.selection:
                return {"BackupSelectionsList": []}
            return {
                "BackupSelectionsList": [
                    {
                        "SelectionId": "sel-1",
                        "SelectionName": self.selection["SelectionName"],
                        "BackupPlanId": "plan-id-1",
                    }
                ]
            }

        return {
            "cloudwatch": FakeApi(
                "cloudwatch",
                {"describe_alarms": lambda p: {"MetricAlarms": self.alarms, "CompositeAlarms": []}},
                self.log,
            ),
            "iam": FakeApi(
                "iam",
                {
                    "get_role": get_role,
                    "list_attached_role_policies": lambda p: {
                        "AttachedPolicies": [
                            {"PolicyName": a.split("/")[-1], "PolicyArn": a} for a in self.attached[p["RoleName"]]
                        ]
                    },
                },
                self.log,
            ),
            "kms": FakeApi(
                "kms",
                {
                    "describe_key": key,
                    "list_resource_tags": lambda p: {
                        "Tags": [{"TagKey": k, "TagValue": v} for k, v in self.key_tags.items()],
                        "Truncated": False,
                    },
                    "get_key_policy": lambda p: {"Policy": json.dumps(self.key_policy), "PolicyName": "default"},
                    "get_key_rotation_status": lambda p: {"KeyRotationEnabled": self.key_rotation, "KeyId": KEY_ARN},
                },
                self.log,
            ),
            "sns": FakeApi(
                "sns",
                {
                    "get_topic_attributes": topic,
                    "list_tags_for_resource": lambda p: {
                        "Tags": [{"Key": k, "Value": v} for k, v in self.topic_tags.items()]
                    },
                },
                self.log,
            ),
            "rds": FakeApi(
                "rds",
                {
                    "describe_event_subscriptions": lambda p: {"EventSubscriptionsList": self.subscriptions},
                    "list_tags_for_resource": lambda p: {
                        "TagList": [
                            {"Key": k, "Value": v} for k, v in self.subscription_tags[p["ResourceName"]].items()
                        ]
                    },
                },
                self.log,
            ),
            "backup": FakeApi(
                "backup",
                {
                    "describe_backup_vault": lambda p: (
                        self.vault if self.vault else NotFound("ResourceNotFoundException")
                    ),
                    "list_tags": tags,
                    "list_backup_plans": plans,
                    "get_backup_plan": lambda p: {
                        "BackupPlan": {"BackupPlanName": "vitality-prod-aurora", "Rules": self.plan_rules},
                        "BackupPlanId": "plan-id-1",
                        "BackupPlanArn": PLAN_ARN,
                        "VersionId": "v1",
                    },
                    "list_backup_selections": selections,
                    "get_backup_selection": lambda p: {
                        "BackupSelection": self.selection,
                        "SelectionId": "sel-1",
                        "BackupPlanId": "plan-id-1",
                    },
                },
                self.log,
            ),
        }

    def plan(self, want=None):
        want = want or desired()
        current = b.read_baseline(self.apis(), want)
        return b.plan_baseline(current, want)

    def calls(self):
        """The operations called. Each resource's reads run in order, and the resources side by side
        (api.concurrently): across resources the order is not fixed, so the calls are listed sorted."""
        return sorted(operation for _service, operation, _params in self.log)


def summary(actions):
    return [(a.resource, a.name, a.change, a.calls) for a in actions]


# -- nothing to do -------------------------------------------------------------------------


def test_in_sync_plans_nothing_with_the_reads_listed():
    world = World()
    assert world.plan() == []
    assert world.calls() == sorted(
        [
            "GetRole",
            "ListAttachedRolePolicies",
            "DescribeKey",
            "ListResourceTags",
            "GetKeyPolicy",
            "GetKeyRotationStatus",
            "GetTopicAttributes",
            "ListTagsForResource",
            "DescribeEventSubscriptions",
            "ListTagsForResource",
            "ListTagsForResource",
            "GetRole",
            "ListAttachedRolePolicies",
            "DescribeBackupVault",
            "ListTags",
            "ListBackupPlans",
            "GetBackupPlan",
            "ListTags",
            "ListBackupSelections",
            "GetBackupSelection",
        ]
    )
    # The subscription with no category is looked for among those listed, its tags never read.
    tagged = [
        params["ResourceName"] for service, op, params in world.log if service == "rds" and op == "ListTagsForResource"
    ]
    assert tagged == [s["EventSubscriptionArn"] for s in world.subscriptions]


def test_baseline_off_reads_nothing():
    world = World()
    want = desired()
    want.update(monitoring_role=None, backup=None, event_topic=None, event_subscriptions=None)
    assert world.plan(want) == []
    assert world.log == []


def test_topic_given_by_arn_reads_only_the_subscriptions():
    world = World()
    want = desired()
    want.update(monitoring_role=None, backup=None, event_topic=None)
    assert world.plan(want) == []
    assert world.calls() == ["DescribeEventSubscriptions", "ListTagsForResource", "ListTagsForResource"]


def test_iam_policy_documents_decoded_by_boto3_are_read_as_they_are():
    assert b.policy_document({"Version": "2012-10-17"}) == {"Version": "2012-10-17"}
    assert b.policy_document(quote('{"a": 1}')) == {"a": 1}
    assert b.policy_document('{"a": 1}') == {"a": 1}


# -- nothing exists ------------------------------------------------------------------------


def empty_world():
    world = World()
    world.roles = {}
    world.vault = None
    world.plan_exists = False
    world.selection = None
    world.key = None
    world.topic = None
    world.subscriptions = []
    return world


def test_nothing_exists_creates_everything_in_order():
    world = empty_world()
    actions = world.plan()
    assert summary(actions) == [
        ("monitoring_role", "vitality-prod-rds-monitoring", "create", ["CreateRole"]),
        ("monitoring_role", "vitality-prod-rds-monitoring", "attach policy", ["AttachRolePolicy"]),
        ("event_topic_key", f"alias/{TOPIC_NAME}", "create", ["CreateKey"]),
        ("event_topic_key", f"alias/{TOPIC_NAME}", "create alias", ["CreateAlias"]),
        ("event_topic_key", f"alias/{TOPIC_NAME}", "enable rotation", ["EnableKeyRotation"]),
        ("event_topic", TOPIC_NAME, "create", ["CreateTopic"]),
        ("event_topic", TOPIC_NAME, "set display name", ["SetTopicAttributes"]),
        ("event_topic", TOPIC_NAME, "set policy", ["SetTopicAttributes"]),
        ("event_topic", TOPIC_NAME, "set encryption key", ["SetTopicAttributes"]),
        ("event_subscription", f"{CLUSTER}-cluster-events", "create", ["CreateEventSubscription"]),
        ("event_subscription", f"{CLUSTER}-instance-events", "create", ["CreateEventSubscription"]),
        ("backup_role", "vitality-prod-aws-backup", "create", ["CreateRole"]),
        ("backup_role", "vitality-prod-aws-backup", "attach policy", ["AttachRolePolicy"]),
        ("backup_vault", "vitality-prod-aurora", "create", ["CreateBackupVault"]),
        ("backup_plan", "vitality-prod-aurora", "create", ["CreateBackupPlan"]),
        ("backup_selection", "vitality-prod-aurora", "create", ["CreateBackupSelection"]),
    ]
    assert {a.impact for a in actions} == {"online"}
    runners = [a.runner for a in actions]
    # The backup role is the role's amazon.aws.iam_role task's; the vault, the plan and the selection are aurora_stack's
    # own steps (the selection after the cluster). The topic's own key too, like the topic's encryption set to it.
    assert runners == (
        ["monitoring_role"] * 2 + ["stack"] * 3 + ["event_topic"] * 3 + ["stack"] * 3 + ["backup"] * 2 + ["stack"] * 3
    )
    # Nothing exists: no read beyond the one that finds it missing (and the list of plans).
    assert world.calls() == sorted(
        [
            "GetRole",
            "DescribeKey",
            "GetTopicAttributes",
            "DescribeEventSubscriptions",
            "GetRole",
            "DescribeBackupVault",
            "ListBackupPlans",
        ]
    )
    encryption = actions[8]
    assert encryption.changes == [{"attribute": "KmsMasterKeyId", "before": None, "after": f"alias/{TOPIC_NAME}"}]
    assert encryption.request["name"] == f"{CLUSTER}-cluster-events"
    assert encryption.request["sns_topic_kms_key_id"] == f"alias/{TOPIC_NAME}"
    selection = actions[-1]
    assert selection.request["iam_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-aws-backup"
    assert selection.request["resources"] == [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{CLUSTER}"]


def test_create_requests_carry_what_the_tasks_send():
    actions = empty_world().plan()
    role = actions[0].request
    assert role["description"] == f"Lets RDS publish the Enhanced Monitoring metrics of {CLUSTER}"
    assert role["managed_policies"] == ["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"]
    statement = role["assume_role_policy_document"]["Statement"][0]
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:rds:us-east-1:{ACCOUNT}:db:*"
    assert role["tags"] == TAGS
    backup_role = next(a for a in actions if a.resource == "backup_role").request
    assert backup_role["managed_policies"] == [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    ]
    assert backup_role["assume_role_policy_document"]["Statement"][0]["Principal"] == {
        "Service": "backup.amazonaws.com"
    }
    plan = next(a for a in actions if a.resource == "backup_plan").request
    assert plan["rules"] == [
        {
            "rule_name": "scheduled",
            "target_backup_vault_name": "vitality-prod-aurora",
            "schedule_expression": "cron(0 1 ? * * *)",
            "start_window_minutes": 60,
            "lifecycle": {"delete_after_days": 35},
            # Sent as the plan compares them: what AWS would default.
            "completion_window_minutes": 10080,
            "schedule_expression_timezone": "Etc/UTC",
            "enable_continuous_backup": False,
        }
    ]
    key = actions[2]
    assert key.request["description"] == f"{CLUSTER} RDS event notifications (SNS topic {TOPIC_NAME})"
    assert key.request["enable_key_rotation"] is True
    assert [s["Sid"] for s in key.request["policy"]["Statement"]] == ["AccountAdministersTheKey", "RdsEventsUseTheKey"]
    assert {
        "attribute": "key policy",
        "before": None,
        "after": ["AccountAdministersTheKey", "RdsEventsUseTheKey if aws:SourceAccount"],
    } in key.changes
    topic = next(a for a in actions if a.resource == "event_topic").request
    assert topic["display_name"] == f"{CLUSTER} events"
    assert topic["policy"]["Statement"][1]["Resource"] == TOPIC_ARN
    assert topic["purge_subscriptions"] is False


# -- IAM roles -----------------------------------------------------------------------------


def test_trust_policy_drift_updates_it():
    world = World()
    name = "vitality-prod-rds-monitoring"
    loose = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    world.roles[name]["AssumeRolePolicyDocument"] = policy_string(loose)
    actions = world.plan()
    assert summary(actions) == [("monitoring_role", name, "update trust policy", ["UpdateAssumeRolePolicy"])]
    assert actions[0].changes == [
        {
            "attribute": "trust policy",
            "before": ["Allow monitoring.rds.amazonaws.com sts:AssumeRole"],
            "after": ["Allow monitoring.rds.amazonaws.com sts:AssumeRole if aws:SourceAccount,aws:SourceArn"],
        }
    ]


def test_missing_managed_policy_is_attached_and_a_foreign_one_detached():
    world = World()
    name = "vitality-prod-aws-backup"
    world.attached[name] = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    actions = world.plan()
    assert summary(actions) == [
        ("backup_role", name, "detach policy", ["DetachRolePolicy"]),
        ("backup_role", name, "attach policy", ["AttachRolePolicy"]),
    ]
    assert actions[1].changes == [
        {
            "attribute": "managed policy",
            "before": None,
            "after": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        }
    ]


def test_role_tags_set_and_removed_are_two_actions():
    world = World()
    name = "vitality-prod-rds-monitoring"
    world.roles[name]["Tags"] = [
        {"Key": "Stack", "Value": "old"},
        {"Key": "Owner", "Value": "me"},
        {"Key": "aws:cloudformation:x", "Value": "y"},
    ]
    actions = world.plan()
    assert summary(actions) == [
        ("monitoring_role", name, "remove tags", ["UntagRole"]),
        ("monitoring_role", name, "set tags", ["TagRole"]),
    ]
    assert actions[0].changes == [{"attribute": "tags.Owner", "before": "me", "after": None}]
    assert actions[1].changes == [
        {"attribute": "tags.ManagedBy", "before": None, "after": "vitality.aurora"},
        {"attribute": "tags.Stack", "before": "old", "after": "vitality-prod"},
    ]


def test_role_without_tags_or_description_in_getrole():
    world = World()
    name = "vitality-prod-rds-monitoring"
    del world.roles[name]["Tags"]
    del world.roles[name]["Description"]
    actions = world.plan()
    assert summary(actions) == [
        ("monitoring_role", name, "set tags", ["TagRole"]),
        ("monitoring_role", name, "update description", ["UpdateRole"]),
    ]


def test_trust_policy_missing_from_the_answer_is_unknown_not_a_change():
    world = World()
    del world.roles["vitality-prod-rds-monitoring"]["AssumeRolePolicyDocument"]
    assert world.plan() == []


def test_backup_selection_uses_the_roles_real_arn():
    world = World()
    name = "vitality-prod-aws-backup"
    world.roles[name]["Arn"] = f"arn:aws:iam::{ACCOUNT}:role/service/{name}"
    actions = world.plan()
    assert summary(actions) == [
        ("backup_selection", "vitality-prod-aurora", "delete to replace", ["DeleteBackupSelection"]),
        ("backup_selection", "vitality-prod-aurora", "create again", ["CreateBackupSelection"]),
    ]
    assert actions[0].changes == [
        {
            "attribute": "iam_role_arn",
            "before": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "after": f"arn:aws:iam::{ACCOUNT}:role/service/{name}",
        }
    ]


def carry_out_selection(world, want=None):
    """The plan's selection steps carried out by secondary_ops.Operations (aurora_stack's own), on a recording
    client: the requests made, in order."""
    want = want or desired()
    current = b.read_baseline(world.apis(), want)
    steps = [a for a in b.plan_baseline(current, want) if a.resource == "backup_selection"]
    backup = CannedApi({"create_backup_selection": {"SelectionId": "sel-2", "BackupPlanId": "plan-id-1"}})
    warnings = []
    operations = secondary_ops.Operations({"backup": backup}, current, warnings)
    for action in steps:
        assert action.runner == "stack"
        operations.run(action)
    assert warnings == []
    return steps, backup.requests


def test_the_backup_selection_is_made_call_for_planned_call_in_the_plan_read():
    world = World()
    world.selection = None
    steps, requests = carry_out_selection(world)
    assert [call for a in steps for call in a.calls] == ["CreateBackupSelection"]
    assert requests == [
        (
            "create_backup_selection",
            {
                "BackupPlanId": "plan-id-1",
                "BackupSelection": {
                    "SelectionName": "vitality-prod-aurora",
                    "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-aws-backup",
                    "Resources": [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{CLUSTER}"],
                },
            },
        )
    ]


def test_a_selection_that_differs_is_deleted_by_its_id_then_made_again():
    world = World()
    world.selection["Resources"] = [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:other"]
    steps, requests = carry_out_selection(world)
    assert [call for a in steps for call in a.calls] == ["DeleteBackupSelection", "CreateBackupSelection"]
    assert [(method, params.get("SelectionId")) for method, params in requests] == [
        ("delete_backup_selection", "sel-1"),
        ("create_backup_selection", None),
    ]
    assert requests[1][1]["BackupSelection"]["Resources"] == [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{CLUSTER}"]


def test_a_selection_step_without_the_plan_it_belongs_to_stops_before_any_call():
    world = World()
    world.selection = None
    want = desired()
    current = b.read_baseline(world.apis(), want)
    (step,) = [a for a in b.plan_baseline(current, want) if a.resource == "backup_selection"]
    backup = CannedApi({})
    with pytest.raises(ValueError, match="backup plan vitality-prod-aurora was not found"):
        secondary_ops.Operations({"backup": backup}, dict(current, backup_plan=None), []).run(step)
    assert backup.requests == []


# -- AWS Backup ----------------------------------------------------------------------------


def test_retention_and_schedule_drift_update_the_rule():
    world = World()
    world.plan_rules[0]["Lifecycle"] = {"DeleteAfterDays": 7}
    world.plan_rules[0]["ScheduleExpression"] = "cron(0 5 ? * * *)"
    actions = world.plan()
    assert summary(actions) == [("backup_plan", "vitality-prod-aurora", "update rule", ["UpdateBackupPlan"])]
    assert actions[0].changes == [
        {"attribute": "rule scheduled: lifecycle.delete_after_days", "before": 7, "after": 35},
        {
            "attribute": "rule scheduled: schedule_expression",
            "before": "cron(0 5 ? * * *)",
            "after": "cron(0 1 ? * * *)",
        },
    ]


def test_a_rule_key_aws_adds_is_a_change_as_backup_plan_sees_it():
    # amazon.aws.backup_plan compares the rules as JSON: a key it does not send makes it update the plan.
    world = World()
    world.plan_rules[0]["Lifecycle"]["OptInToArchiveForSupportedResources"] = False
    actions = world.plan()
    assert summary(actions) == [("backup_plan", "vitality-prod-aurora", "update rule", ["UpdateBackupPlan"])]
    assert actions[0].changes == [
        {
            "attribute": "rule scheduled: lifecycle.opt_in_to_archive_for_supported_resources",
            "before": False,
            "after": None,
        }
    ]


def test_the_plan_carries_the_stacks_tags_and_no_other():
    world = World()
    world.plan_tags = {"Owner": "me"}
    actions = world.plan()
    assert summary(actions) == [
        ("backup_plan", "vitality-prod-aurora", "remove tags", ["UntagResource"]),
        ("backup_plan", "vitality-prod-aurora", "set tags", ["TagResource"]),
    ]
    assert actions[0].changes == [{"attribute": "tags.Owner", "before": "me", "after": None}]
    assert {c["attribute"]: c["after"] for c in actions[1].changes} == {f"tags.{k}": str(v) for k, v in TAGS.items()}


def test_vault_tags_drift():
    world = World()
    world.vault_tags = {"Stack": "vitality-prod", "Old": "x"}
    actions = world.plan()
    assert summary(actions) == [
        ("backup_vault", "vitality-prod-aurora", "remove tags", ["UntagResource"]),
        ("backup_vault", "vitality-prod-aurora", "set tags", ["TagResource"]),
    ]


def test_vault_not_found_answered_as_access_denied_is_created():
    world = World()
    world.vault = None
    original = world.apis

    def apis():
        found = original()
        found["backup"].answers["describe_backup_vault"] = NotFound("AccessDeniedException")
        return found

    world.apis = apis
    assert summary(world.plan()) == [("backup_vault", "vitality-prod-aurora", "create", ["CreateBackupVault"])]


def test_selection_of_another_resource_is_replaced():
    world = World()
    world.selection["Resources"] = [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:other"]
    actions = world.plan()
    assert [a.calls for a in actions] == [["DeleteBackupSelection"], ["CreateBackupSelection"]]
    assert actions[0].changes[0]["attribute"] == "Resources"


def test_plan_missing_creates_plan_and_selection_without_reading_selections():
    world = World()
    world.plan_exists = False
    actions = world.plan()
    assert summary(actions) == [
        ("backup_plan", "vitality-prod-aurora", "create", ["CreateBackupPlan"]),
        ("backup_selection", "vitality-prod-aurora", "create", ["CreateBackupSelection"]),
    ]
    assert "ListBackupSelections" not in world.calls()


# -- the key and the topic -----------------------------------------------------------------


def test_key_drift_each_in_its_own_action():
    world = World()
    world.key["KeyState"] = "Disabled"
    world.key_rotation = False
    world.key_policy = {"Version": "2012-10-17", "Statement": [world.key_policy["Statement"][0]]}
    world.key_tags = {}
    actions = world.plan()
    alias = f"alias/{TOPIC_NAME}"
    assert summary(actions) == [
        ("event_topic_key", alias, "enable", ["EnableKey"]),
        ("event_topic_key", alias, "set tags", ["TagResource"]),
        ("event_topic_key", alias, "update key policy", ["PutKeyPolicy"]),
        ("event_topic_key", alias, "enable rotation", ["EnableKeyRotation"]),
    ]
    assert actions[2].changes == [
        {
            "attribute": "key policy",
            "before": ["AccountAdministersTheKey"],
            "after": ["AccountAdministersTheKey", "RdsEventsUseTheKey if aws:SourceAccount"],
        }
    ]


def test_key_pending_deletion_is_cancelled_then_enabled():
    world = World()
    world.key["KeyState"] = "PendingDeletion"
    actions = world.plan()
    assert [a.calls for a in actions] == [["CancelKeyDeletion"], ["EnableKey"]]


def test_user_key_reads_no_kms():
    world = World()
    want = desired()
    want["event_topic"].update(creates_key=False, kms_key_id="arn:aws:kms:us-east-1:123456789012:key/user")
    actions = world.plan(want)
    assert not any(service == "kms" for service, _op, _p in world.log)
    assert summary(actions) == [("event_topic", TOPIC_NAME, "set encryption key", ["SetTopicAttributes"])]
    assert actions[0].runner == "stack"
    assert actions[0].changes == [
        {
            "attribute": "KmsMasterKeyId",
            "before": f"alias/{TOPIC_NAME}",
            "after": "arn:aws:kms:us-east-1:123456789012:key/user",
        }
    ]


def test_topic_key_removed_is_set_again():
    world = World()
    del world.topic["KmsMasterKeyId"]
    actions = world.plan()
    assert summary(actions) == [("event_topic", TOPIC_NAME, "set encryption key", ["SetTopicAttributes"])]


def test_topic_policy_display_name_and_tags_drift():
    world = World()
    world.topic["DisplayName"] = "old"
    world.topic["Policy"] = json.dumps({"Version": "2012-10-17", "Statement": []})
    world.topic_tags = {"Stack": "vitality-prod", "Extra": "1"}
    actions = world.plan()
    assert summary(actions) == [
        ("event_topic", TOPIC_NAME, "set display name", ["SetTopicAttributes"]),
        ("event_topic", TOPIC_NAME, "set policy", ["SetTopicAttributes"]),
        ("event_topic", TOPIC_NAME, "set tags", ["TagResource"]),
        ("event_topic", TOPIC_NAME, "remove tags", ["UntagResource"]),
    ]
    assert actions[0].changes == [{"attribute": "display name", "before": "old", "after": f"{CLUSTER} events"}]


def test_topic_attributes_missing_from_the_answer_are_unknown():
    world = World()
    del world.topic["DisplayName"]
    del world.topic["Policy"]
    assert world.plan() == []


# -- event subscriptions -------------------------------------------------------------------


def sub_name(kind):
    return f"{CLUSTER}-{kind}-events"


def test_subscription_categories_drift():
    world = World()
    world.subscriptions[0]["EventCategoriesList"] = ["failure"]
    actions = world.plan()
    assert summary(actions) == [
        ("event_subscription", sub_name("cluster"), "update categories", ["ModifyEventSubscription"])
    ]
    assert actions[0].changes == [
        {"attribute": "event_categories", "before": ["failure"], "after": ["failover", "failure", "maintenance"]}
    ]
    # The first subscription kept carries the topic's key, as the stack's apply sends it.
    assert actions[0].request["sns_topic_kms_key_id"] == f"alias/{TOPIC_NAME}"


def test_subscription_disabled_and_on_another_topic_is_one_modify():
    world = World()
    world.subscriptions[1].update(Enabled=False, SnsTopicArn=TOPIC_ARN + "-old")
    actions = world.plan()
    assert summary(actions) == [("event_subscription", sub_name("instance"), "modify", ["ModifyEventSubscription"])]
    assert actions[0].changes == [
        {"attribute": "sns_topic_arn", "before": TOPIC_ARN + "-old", "after": TOPIC_ARN},
        {"attribute": "enabled", "before": False, "after": True},
    ]
    assert "sns_topic_kms_key_id" not in actions[0].request


def test_subscription_sources_added_and_removed():
    world = World()
    wanted = sorted(world.subscriptions[1]["SourceIdsList"])
    world.subscriptions[1]["SourceIdsList"] = [f"{CLUSTER}-writer", f"{CLUSTER}-reader-2", f"{CLUSTER}-reader-3"]
    actions = world.plan()
    assert summary(actions) == [
        ("event_subscription", sub_name("instance"), "add sources", ["AddSourceIdentifierToSubscription"]),
        ("event_subscription", sub_name("instance"), "remove sources", ["RemoveSourceIdentifierFromSubscription"] * 2),
    ]
    added, removed = (action.changes[0] for action in actions)
    # Each step says the list before and after it: the removal starts from the list the addition left.
    assert added["after"] == removed["before"]
    assert removed["after"] == wanted


def test_subscription_tags_drift():
    world = World()
    arn = world.subscriptions[0]["EventSubscriptionArn"]
    world.subscription_tags[arn] = {"Stack": "vitality-prod", "Gone": "x"}
    actions = world.plan()
    assert summary(actions) == [
        ("event_subscription", sub_name("cluster"), "remove tags", ["RemoveTagsFromResource"]),
        ("event_subscription", sub_name("cluster"), "set tags", ["AddTagsToResource"]),
    ]
    assert actions[1].changes == [{"attribute": "tags.ManagedBy", "before": None, "after": "vitality.aurora"}]


def test_subscription_without_categories_is_deleted_when_it_exists():
    world = World()
    entry = desired()["event_subscriptions"][2]
    world.subscriptions.append(subscription(entry, EventCategoriesList=["configuration change"]))
    actions = world.plan()
    assert summary(actions) == [
        ("event_subscription", sub_name("parameter-group"), "delete", ["DeleteEventSubscription"])
    ]
    assert actions[0].request == {"name": sub_name("parameter-group"), "state": "absent"}
    # Its tags are not read: it goes.
    assert world.calls().count("ListTagsForResource") == 3  # the topic's and the two kept subscriptions'


def test_subscription_fields_missing_from_the_answer_are_unknown():
    world = World()
    for found in world.subscriptions:
        del found["Enabled"]
        del found["SnsTopicArn"]
    assert world.plan() == []


def test_subscriptions_of_other_stacks_are_ignored():
    world = World()
    other = {
        "name": "other-cluster-events",
        "source_type": "db-cluster",
        "source_ids": ["other"],
        "categories": ["failure"],
        "topic_arn": TOPIC_ARN,
    }
    world.subscriptions.append(subscription(other))
    assert world.plan() == []
    assert world.calls().count("ListTagsForResource") == 3


def test_no_subscription_kept_sets_no_key():
    world = World()
    want = desired()
    for entry in want["event_subscriptions"]:
        entry["categories"] = []
    del world.topic["KmsMasterKeyId"]
    actions = world.plan(want)
    assert summary(actions) == [
        ("event_subscription", sub_name("cluster"), "delete", ["DeleteEventSubscription"]),
        ("event_subscription", sub_name("instance"), "delete", ["DeleteEventSubscription"]),
    ]


@pytest.mark.parametrize(
    "function",
    [b.monitoring_trust, b.backup_trust, b.topic_policy, b.topic_key_policy],
)
def test_documents_are_json_and_name_the_account(function):
    document = function(desired())
    assert ACCOUNT in json.dumps(document)
    assert document["Version"] == "2012-10-17"


# -- CloudWatch alarms: the key and the topic let them publish ------------------------------------

ALARMS = {"period": 60, "evaluation_periods": 5, "cpu_percent": 80.0}


def with_alarms():
    want = desired()
    want["alarms"] = dict(ALARMS)
    return want


def test_with_alarms_the_key_lets_cloudwatch_use_it_and_the_topic_lets_this_accounts_alarms_publish():
    want = with_alarms()
    key = {s["Sid"]: s for s in b.topic_key_policy(want)["Statement"]}
    assert list(key) == ["AccountAdministersTheKey", "RdsEventsUseTheKey", "CloudWatchAlarmsUseTheKey"]
    assert key["CloudWatchAlarmsUseTheKey"] == {
        "Sid": "CloudWatchAlarmsUseTheKey",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
    }
    topic = {s["Sid"]: s for s in b.topic_policy(want)["Statement"]}
    assert list(topic) == ["AccountManagesTheTopic", "RdsPublishesEvents", "CloudWatchAlarmsPublish"]
    assert topic["CloudWatchAlarmsPublish"] == {
        "Sid": "CloudWatchAlarmsPublish",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": TOPIC_ARN,
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
    }


def test_without_alarms_neither_policy_names_cloudwatch():
    assert "cloudwatch" not in json.dumps(b.topic_key_policy(desired()))
    assert "cloudwatch" not in json.dumps(b.topic_policy(desired()))


def test_turning_alarms_on_plans_the_key_and_topic_policy_changes_of_an_existing_stack_and_reads_the_alarms_once():
    world = World()  # key and topic as they were made without alarms
    actions = world.plan(with_alarms())
    alias = f"alias/{TOPIC_NAME}"
    assert summary(actions) == [
        ("event_topic_key", alias, "update key policy", ["PutKeyPolicy"]),
        ("event_topic", TOPIC_NAME, "set policy", ["SetTopicAttributes"]),
    ]
    assert actions[0].changes == [
        {
            "attribute": "key policy",
            "before": ["AccountAdministersTheKey", "RdsEventsUseTheKey if aws:SourceAccount"],
            "after": [
                "AccountAdministersTheKey",
                "RdsEventsUseTheKey if aws:SourceAccount",
                "CloudWatchAlarmsUseTheKey",
            ],
        }
    ]
    assert actions[1].changes == [
        {
            "attribute": "policy",
            "before": ["AccountManagesTheTopic", "RdsPublishesEvents if aws:SourceAccount,aws:SourceArn"],
            "after": [
                "AccountManagesTheTopic",
                "RdsPublishesEvents if aws:SourceAccount,aws:SourceArn",
                "CloudWatchAlarmsPublish if aws:SourceAccount,aws:SourceArn",
            ],
        }
    ]
    assert actions[0].request["policy"] == b.topic_key_policy(with_alarms())
    assert actions[1].request["policy"] == b.topic_policy(with_alarms())
    reads = world.calls()
    assert reads.count("DescribeAlarms") == 1
    assert [params for service, op, params in world.log if op == "DescribeAlarms"] == [
        {"AlarmNamePrefix": f"vitality.aurora/{CLUSTER}/"}
    ]


def test_alarms_off_read_no_alarm():
    world = World()
    world.plan()
    assert "DescribeAlarms" not in world.calls()


# -- the amazon.aws tasks' parameters --------------------------------------------------------


def test_module_args_are_the_requests_the_plan_compares_and_creates():
    """What the role's tasks send is what the plan compared: a create action's request, resource by resource."""
    want = desired()
    actions = empty_world().plan(want)
    args = b.module_args(want)
    created = {a.resource: a.request for a in actions if a.change == "create"}
    # Only the role's amazon.aws tasks' resources: AWS Backup's vaults, copy key and plan are aurora_stack's own steps.
    assert set(args) == {"monitoring_role", "event_topic", "backup_role"}
    for resource, request in args.items():
        assert request == created[resource], resource
    assert args["monitoring_role"]["assume_role_policy_document"] == b.monitoring_trust(want)
    assert created["event_topic_key"]["policy"] == b.topic_key_policy(want)
    assert args["event_topic"]["policy"] == b.topic_policy(want)


def test_module_args_leave_out_what_the_inventory_does_not_make():
    want = desired()
    want["event_topic"].update(creates_key=False, kms_key_id="arn:aws:kms:us-east-1:123456789012:key/user")
    want["monitoring_role"] = None
    want["backup"]["copy_region"] = {
        "region": "us-west-2",
        "vault_name": "vitality-prod-aurora-copies",
        "retention_days": 35,
        "kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/copies",
    }
    args = b.module_args(want)
    # The user's topic key: no key task; no monitoring role asked for; the copy Region's key and vault are aurora_stack's.
    assert set(args) == {"event_topic", "backup_role"}
    actions = {(a.resource, a.change): a for a in b.plan_baseline({}, want)}
    copy_vault = actions[("backup_copy_vault", "create")].request
    assert copy_vault["encryption_key_arn"] == "arn:aws:kms:us-west-2:123456789012:key/copies"
    assert copy_vault["region"] == "us-west-2"
    copy = actions[("backup_plan", "create")].request["rules"][0]["copy_actions"][0]
    assert copy["destination_backup_vault_arn"] == (
        "arn:aws:backup:us-west-2:123456789012:backup-vault:vitality-prod-aurora-copies"
    )
    assert ("backup_copy_key", "create") not in actions
    del want["backup"]["copy_region"]["kms_key_arn"]
    actions = {(a.resource, a.change): a for a in b.plan_baseline({}, want)}
    assert actions[("backup_copy_key", "create")].request["region"] == "us-west-2"
    assert "encryption_key_arn" not in actions[("backup_copy_vault", "create")].request
    want.update(backup=None, event_topic=None)
    assert b.module_args(want) == {}


def test_backup_selection_is_made_with_the_backup_roles_arn_as_read():
    """A role found under a path keeps it: the selection aurora_stack makes is the one the plan compared."""
    world = World()
    name = "vitality-prod-aws-backup"
    world.roles[name]["Arn"] = f"arn:aws:iam::{ACCOUNT}:role/service/{name}"
    world.plan_exists = False
    world.selection = None
    (create,) = [a for a in world.plan() if a.resource == "backup_selection"]
    assert create.request["iam_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/service/{name}"
    assert create.runner == "stack"
    # A role not made yet: its ARN as IAM will give it (no path).
    (create,) = [a for a in empty_world().plan() if a.resource == "backup_selection"]
    assert create.request["iam_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{name}"
