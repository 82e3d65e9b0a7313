"""The Aurora Global Database's secondary Region follows the primary's operations rules (secondary_ops.py): its own SNS
topic (the primary's name and key rule, a key of its Region), the primary's cluster and instance event subscriptions
with the secondary's sources, the reader alarms and the global replication lag to that topic; nothing when in sync;
drift converged; the secondary's removal deletes its subscriptions and alarms and keeps the topic. The Enhanced
Monitoring role trusts both Regions' instances. Planned on described answers: pure, no AWS call."""

from __future__ import annotations

import copy

from ansible_collections.vitality.aurora.plugins.module_utils import baseline_plan as b
from ansible_collections.vitality.aurora.plugins.module_utils import secondary_ops as s
from ansible_collections.vitality.aurora.plugins.module_utils.plan import NOW, STACK, Action
from canned_api import CannedApi

ACCOUNT = "123456789012"
WEST = "us-west-2"
PRIMARY = "vitality-prod-aurora"
SECONDARY = f"vitality-prod-{WEST}"
READER = f"{SECONDARY}-reader-1"
TOPIC = "vitality-prod-db-events"
WEST_TOPIC_ARN = f"arn:aws:sns:{WEST}:{ACCOUNT}:{TOPIC}"
KEY_ARN = f"arn:aws:kms:{WEST}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TAGS = {"Project": "vitality"}
CATEGORIES = ["failover", "failure", "maintenance"]
ALARMS = {
    "period": 60,
    "evaluation_periods": 5,
    "cpu_percent": 80.0,
    "freeable_memory_percent": 10.0,
    "connections_percent": 80.0,
    "replica_lag_ms": 1000.0,
    "deadlocks_per_second": 0.0,
    "free_local_storage_gib": 2.0,
    "acu_utilization_percent": 90.0,
    "max_connections": None,
    "serverless_max_capacity": None,
}


def baseline(kms_key_id=""):
    """The primary's baseline as aurora_stack.baseline_desired completes it (prod's inventory)."""
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC}"
    return {
        "account_id": ACCOUNT,
        "partition": "aws",
        "region": "us-east-1",
        "cluster_identifier": PRIMARY,
        "tags": dict(TAGS),
        "monitoring_role": {"name": "vitality-prod-rds-monitoring"},
        "monitoring_regions": [WEST],
        "backup": None,
        "event_topic": {
            "name": TOPIC,
            "display_name": f"{PRIMARY} events",
            "key_alias": f"alias/{TOPIC}",
            "kms_key_id": kms_key_id,
            "creates_key": not kms_key_id,
        },
        "event_subscriptions": [
            {
                "name": f"{PRIMARY}-cluster-events",
                "source_type": "db-cluster",
                "source_ids": [PRIMARY],
                "categories": list(CATEGORIES),
                "topic_arn": topic_arn,
            },
            {
                "name": f"{PRIMARY}-instance-events",
                "source_type": "db-instance",
                "source_ids": [f"{PRIMARY}-writer"],
                "categories": list(CATEGORIES),
                "topic_arn": topic_arn,
            },
            {
                "name": f"{PRIMARY}-parameter-group-events",
                "source_type": "db-parameter-group",
                "source_ids": ["default.aurora-postgresql16"],
                "categories": ["configuration change"],
                "topic_arn": topic_arn,
            },
        ],
        "alarms": dict(ALARMS, cluster_identifier=PRIMARY, topic_arn=topic_arn, tags=dict(TAGS)),
    }


def west():
    return s.secondary_desired(baseline(), WEST, SECONDARY, PRIMARY)


MEMBERS = [{"id": READER, "instance_class": "db.r6g.large", "writer": False}]
NOTHING = {"event_topic_key": None, "event_topic": None, "event_subscriptions": {}, "alarms": {}}


def in_sync(desired):
    """The answers of a secondary Region whose topic, key, subscriptions and alarms are as planned."""
    key = b.topic_key_request(desired)
    topic = b.topic_request(desired)
    _actions, wanted, _skipped = s.plan_operations(copy.deepcopy(NOTHING), copy.deepcopy(desired), MEMBERS, WEST)
    readers = [m["id"] for m in MEMBERS]
    return {
        "event_topic_key": {
            "arn": KEY_ARN,
            "key_id": KEY_ARN.rsplit("/", 1)[-1],
            "state": "Enabled",
            "description": key["description"],
            "tags": dict(TAGS),
            "policy": key["policy"],
            "rotation": True,
        },
        "event_topic": {
            "arn": WEST_TOPIC_ARN,
            "kms_master_key_id": f"alias/{TOPIC}",
            "display_name": topic["display_name"],
            "policy": topic["policy"],
            "tags": dict(TAGS),
        },
        "event_subscriptions": {
            sub["name"]: {
                "CustSubscriptionId": sub["name"],
                "EventSubscriptionArn": f"arn:aws:rds:{WEST}:{ACCOUNT}:es:{sub['name']}",
                "SnsTopicArn": WEST_TOPIC_ARN,
                "SourceType": sub["source_type"],
                "SourceIdsList": readers if sub["source_type"] == "db-instance" else [SECONDARY],
                "EventCategoriesList": list(sub["categories"]),
                "Enabled": True,
                "tags": dict(TAGS),
            }
            for sub in desired["event_subscriptions"]
        },
        "alarms": {alarm["name"]: dict(alarm["request"]) for alarm in wanted},
    }


def rows(actions):
    return [(a.resource, a.name, a.change, a.region, a.runner, a.calls) for a in actions]


def test_the_secondary_follows_the_primary_rules_in_its_region():
    desired = west()
    assert desired["region"] == WEST and desired["cluster_identifier"] == SECONDARY
    # The primary's topic name (another Region, no clash) and its key rule: the role's key alias/<topic> there.
    assert desired["event_topic"] == {
        "name": TOPIC,
        "display_name": f"{SECONDARY} events",
        "key_alias": f"alias/{TOPIC}",
        "kms_key_id": None,
        "creates_key": True,
    }
    assert b.topic_arn(desired) == WEST_TOPIC_ARN
    # The cluster's and the instances' subscriptions, the primary's categories; no parameter group counterpart.
    assert [
        (x["name"], x["source_type"], x["source_ids"], x["categories"], x["topic_arn"])
        for x in desired["event_subscriptions"]
    ] == [
        (f"{SECONDARY}-cluster-events", "db-cluster", [SECONDARY], CATEGORIES, WEST_TOPIC_ARN),
        (f"{SECONDARY}-instance-events", "db-instance", [], CATEGORIES, WEST_TOPIC_ARN),
    ]
    assert desired["alarms"]["cluster_identifier"] == SECONDARY and desired["alarms"]["topic_arn"] == WEST_TOPIC_ARN
    assert desired["alarms"]["global_replication_lag"] is True
    # The key policy and topic policy name the secondary's Region.
    assert f"arn:aws:rds:{WEST}:{ACCOUNT}:es:*" in str(b.topic_policy(desired))


def test_with_the_users_key_on_the_primary_topic_the_secondary_still_has_the_roles_key_of_its_region():
    # A key of us-east-1 cannot encrypt a topic of us-west-2, and RDS cannot publish through alias/aws/sns.
    desired = s.secondary_desired(baseline(kms_key_id="arn:aws:kms:us-east-1:1:key/k"), WEST, SECONDARY, PRIMARY)
    assert desired["event_topic"]["creates_key"] is True and desired["event_topic"]["kms_key_id"] is None


def test_with_the_users_own_topic_or_no_baseline_the_secondary_gets_nothing():
    own = baseline()
    own["event_topic"] = None
    assert s.secondary_desired(own, WEST, SECONDARY, PRIMARY) is None
    assert s.secondary_desired(None, WEST, SECONDARY, PRIMARY) is None


def test_a_first_build_plans_the_key_topic_subscriptions_and_alarms_in_us_west_2():
    actions, wanted, skipped = s.plan_operations(copy.deepcopy(NOTHING), west(), MEMBERS, WEST)
    assert skipped == []
    prefix = f"vitality.aurora/{SECONDARY}/"
    assert rows(actions) == [
        ("event_topic_key", f"alias/{TOPIC}", "create", WEST, STACK, ["CreateKey"]),
        ("event_topic_key", f"alias/{TOPIC}", "create alias", WEST, STACK, ["CreateAlias"]),
        ("event_topic_key", f"alias/{TOPIC}", "enable rotation", WEST, STACK, ["EnableKeyRotation"]),
        ("event_topic", TOPIC, "create", WEST, STACK, ["CreateTopic"]),
        ("event_topic", TOPIC, "set display name", WEST, STACK, ["SetTopicAttributes"]),
        ("event_topic", TOPIC, "set policy", WEST, STACK, ["SetTopicAttributes"]),
        ("event_topic", TOPIC, "set encryption key", WEST, STACK, ["SetTopicAttributes"]),
        ("event_subscription", f"{SECONDARY}-cluster-events", "create", WEST, STACK, ["CreateEventSubscription"]),
        ("event_subscription", f"{SECONDARY}-instance-events", "create", WEST, STACK, ["CreateEventSubscription"]),
        ("alarm", f"{prefix}Deadlocks", "create", WEST, STACK, ["PutMetricAlarm"]),
        ("alarm", f"{prefix}AuroraGlobalDBReplicationLag", "create", WEST, STACK, ["PutMetricAlarm"]),
    ] + [
        ("alarm", f"{prefix}{READER}/{metric}", "create", WEST, STACK, ["PutMetricAlarm"])
        for metric in (
            "CPUUtilization",
            "FreeableMemory",
            "DatabaseConnections",
            "FreeLocalStorage",
            "AuroraReplicaLag",
        )
    ]
    instance_events = actions[8].request
    assert instance_events["source_ids"] == [READER] and instance_events["sns_topic_arn"] == WEST_TOPIC_ARN
    assert actions[6].changes == [{"attribute": "KmsMasterKeyId", "before": None, "after": f"alias/{TOPIC}"}]
    lag = next(a for a in wanted if a["metric"] == "AuroraGlobalDBReplicationLag")["request"]
    assert lag["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": SECONDARY}]
    assert lag["Threshold"] == 1000.0 and lag["AlarmActions"] == [WEST_TOPIC_ARN]
    assert all(" in us-west-2" in a.line() for a in actions)


def test_the_outputs_name_the_us_west_2_topic_its_subscriptions_and_the_planned_alarms():
    actions, wanted, skipped = s.plan_operations(copy.deepcopy(NOTHING), west(), MEMBERS, WEST)
    outputs = s.operations_outputs(west(), wanted, skipped)
    prefix = f"vitality.aurora/{SECONDARY}/"
    assert outputs["event_topic_arn"] == WEST_TOPIC_ARN and outputs["event_topic_kms_key"] == f"alias/{TOPIC}"
    assert outputs["event_subscriptions"] == [f"{SECONDARY}-cluster-events", f"{SECONDARY}-instance-events"]
    assert outputs["alarm_prefix"] == prefix
    assert outputs["alarms"] == [a.name for a in actions if a.resource == "alarm"]
    assert outputs["alarms_skipped"] == []
    assert s.operations_outputs(None, [], []) is None


def test_in_sync_plans_nothing():
    desired = west()
    actions, _wanted, _skipped = s.plan_operations(in_sync(desired), desired, MEMBERS, WEST)
    assert actions == []


def test_drift_in_us_west_2_is_converged():
    desired = west()
    current = in_sync(desired)
    current["event_subscriptions"][f"{SECONDARY}-cluster-events"]["EventCategoriesList"] = ["failure"]
    current["event_subscriptions"][f"{SECONDARY}-instance-events"]["SourceIdsList"] = []
    cpu = f"vitality.aurora/{SECONDARY}/{READER}/CPUUtilization"
    current["alarms"][cpu]["Threshold"] = 99.0
    current["event_topic"]["kms_master_key_id"] = None
    actions, _wanted, _skipped = s.plan_operations(current, desired, MEMBERS, WEST)
    assert [(a.resource, a.name, a.change, a.region, a.calls) for a in actions] == [
        ("event_topic", TOPIC, "set encryption key", WEST, ["SetTopicAttributes"]),
        ("event_subscription", f"{SECONDARY}-cluster-events", "update categories", WEST, ["ModifyEventSubscription"]),
        (
            "event_subscription",
            f"{SECONDARY}-instance-events",
            "add sources",
            WEST,
            ["AddSourceIdentifierToSubscription"],
        ),
        ("alarm", cpu, "change threshold", WEST, ["PutMetricAlarm"]),
    ]


def test_a_second_reader_gets_its_alarms_and_joins_the_instance_subscription():
    desired = west()
    current = in_sync(desired)
    second = f"{SECONDARY}-reader-2"
    members = MEMBERS + [{"id": second, "instance_class": "db.r6g.large", "writer": False}]
    actions, _wanted, _skipped = s.plan_operations(current, desired, members, WEST)
    assert actions[0].change == "add sources" and actions[0].changes[0]["after"] == [READER, second]
    assert [a.name.rsplit("/", 1)[-1] for a in actions[1:]] == [
        "CPUUtilization",
        "FreeableMemory",
        "DatabaseConnections",
        "FreeLocalStorage",
        "AuroraReplicaLag",
    ]


def test_the_readers_after_the_plan_follow_its_instance_steps():
    stack = {
        "instances": [
            {"DBInstanceIdentifier": READER, "DBInstanceClass": "db.r6g.large", "DBInstanceStatus": "available"},
            {"DBInstanceIdentifier": "gone", "DBInstanceClass": "db.r6g.large", "DBInstanceStatus": "deleting"},
        ]
    }
    second = f"{SECONDARY}-reader-2"
    created = Action("instance", second, "create", [], request={"params": {"db_instance_class": "db.r6g.xlarge"}})
    resized = Action(
        "instance",
        READER,
        "modify",
        [{"attribute": "db_instance_class", "before": "db.r6g.large", "after": "db.r6g.2xlarge"}],
    )
    resized.when = NOW
    assert s.readers_after(stack, [created, resized], SECONDARY) == [
        {"id": READER, "instance_class": "db.r6g.2xlarge", "writer": False},
        {"id": second, "instance_class": "db.r6g.xlarge", "writer": False},
    ]


def test_the_removal_deletes_the_subscriptions_and_alarms_and_keeps_the_topic():
    current = in_sync(west())
    actions = s.plan_operations_removal(current, SECONDARY, WEST)
    assert [(a.resource, a.name, a.change, a.region, a.runner, a.calls) for a in actions] == [
        ("event_subscription", f"{SECONDARY}-cluster-events", "delete", WEST, STACK, ["DeleteEventSubscription"]),
        ("event_subscription", f"{SECONDARY}-instance-events", "delete", WEST, STACK, ["DeleteEventSubscription"]),
        ("alarms", f"vitality.aurora/{SECONDARY}/*", "delete", WEST, STACK, ["DeleteAlarms"]),
    ]
    assert sorted(actions[-1].request["names"]) == sorted(current["alarms"])
    assert s.plan_operations_removal(copy.deepcopy(NOTHING), SECONDARY, WEST) == []


def test_the_removal_reads_the_role_s_subscription_names_whatever_the_baseline_now_says():
    assert [x["name"] for x in s.removal_desired(None, SECONDARY, PRIMARY)["event_subscriptions"]] == [
        f"{SECONDARY}-cluster-events",
        f"{SECONDARY}-instance-events",
    ]


def test_the_monitoring_role_trusts_the_instances_of_both_regions():
    desired = baseline()
    condition = b.monitoring_trust(desired)["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert condition == [f"arn:aws:rds:us-east-1:{ACCOUNT}:db:*", f"arn:aws:rds:{WEST}:{ACCOUNT}:db:*"]
    for regions in ([], [""], ["us-east-1"]):
        desired["monitoring_regions"] = regions
        condition = b.monitoring_trust(desired)["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]
        assert condition == f"arn:aws:rds:us-east-1:{ACCOUNT}:db:*"


def reader_params(**changes):
    params = {
        "db_instance_identifier": READER,
        "db_cluster_identifier": SECONDARY,
        "enable_performance_insights": True,
        "performance_insights_retention_period": 31,
        "monitoring_interval": 30,
        "monitoring_role_arn": f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-rds-monitoring",
        "db_instance_class": "db.r6g.large",
    }
    params.update(changes)
    return params


def test_the_readers_monitoring_and_performance_insights_drift_is_set_back_in_us_west_2():
    described = {
        "DBInstanceIdentifier": READER,
        "DBInstanceStatus": "available",
        "MonitoringInterval": 60,
        "MonitoringRoleArn": f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-rds-monitoring",
        "PerformanceInsightsEnabled": True,
        "PerformanceInsightsRetentionPeriod": 7,
    }
    (action,) = s.plan_reader_monitoring({"instances": [described]}, [reader_params()], WEST)
    assert (action.resource, action.name, action.change, action.region, action.runner, action.calls) == (
        "instance",
        READER,
        "modify",
        WEST,
        STACK,
        ["ModifyDBInstance"],
    )
    assert action.changes == [
        {"attribute": "performance_insights_retention_period", "before": 7, "after": 31},
        {"attribute": "monitoring_interval", "before": 60, "after": 30},
    ]
    # In sync, or Performance Insights left out of the description (moto): no change; a reader to create: not here.
    described.update(MonitoringInterval=30, PerformanceInsightsRetentionPeriod=31)
    assert s.plan_reader_monitoring({"instances": [described]}, [reader_params()], WEST) == []
    del described["PerformanceInsightsEnabled"]
    assert (
        s.plan_reader_monitoring(
            {"instances": [described]}, [reader_params(performance_insights_retention_period=62)], WEST
        )
        == []
    )
    assert s.plan_reader_monitoring({"instances": []}, [reader_params()], WEST) == []


def test_a_first_build_is_carried_out_call_for_planned_call_on_a_topic_made_before_the_steps():
    """The stack Region's case (aurora_stack): the topic was made by the role's task before this call, so the plan
    read none; the key's step and the subscriptions name the ARN the role's topic has (topic_arns)."""
    desired = west()
    actions, _wanted, _skipped = s.plan_operations(copy.deepcopy(NOTHING), desired, MEMBERS, WEST)
    # The topic's steps after its create (made by the role's task in the stack's Region), and the subscriptions.
    steps = [
        a
        for a in actions
        if (a.resource == "event_topic" and a.change != "create") or a.resource == "event_subscription"
    ]
    apis = {"rds": CannedApi({}), "sns": CannedApi({}), "kms": CannedApi({}), "cloudwatch": CannedApi({})}
    operations = s.Operations(apis, {}, [], topic_arns={TOPIC: WEST_TOPIC_ARN})
    for action in steps:
        operations.run(action)
    attributes = [p for m, p in apis["sns"].requests if m == "set_topic_attributes"]
    assert {p["TopicArn"] for p in attributes} == {WEST_TOPIC_ARN}
    assert {"AttributeName": "KmsMasterKeyId", "AttributeValue": f"alias/{TOPIC}"}.items() <= attributes[-1].items()
    made = [p for m, p in apis["rds"].requests if m == "create_event_subscription"]
    assert [p["SubscriptionName"] for p in made] == [f"{SECONDARY}-cluster-events", f"{SECONDARY}-instance-events"]
    assert {p["SnsTopicArn"] for p in made} == {WEST_TOPIC_ARN} and made[1]["SourceIds"] == [READER]
    # One request per planned call, none other.
    planned = [call for a in steps for call in a.calls]
    made_calls = [m for api in apis.values() for m, _p in api.requests]
    assert len(made_calls) == len(planned)


def carried_out(current, actions):
    """Each action run by Operations on recording clients: [(service, method, request)] in order."""
    apis = {service: CannedApi({}) for service in ("rds", "sns", "kms", "cloudwatch")}
    operations = s.Operations(apis, current, [])
    made = []
    for action in actions:
        before = {service: len(api.requests) for service, api in apis.items()}
        operations.run(action)
        made += [(service, m, p) for service, api in apis.items() for m, p in api.requests[before[service] :]]
    return made


def test_drift_is_set_back_one_request_per_planned_call():
    desired = west()
    current = in_sync(desired)
    current["event_subscriptions"][f"{SECONDARY}-cluster-events"]["EventCategoriesList"] = ["failure"]
    current["event_subscriptions"][f"{SECONDARY}-instance-events"]["SourceIdsList"] = ["gone"]
    actions, _wanted, _skipped = s.plan_operations(current, desired, MEMBERS, WEST)
    made = carried_out(current, actions)
    assert [m for _service, m, _p in made] == [
        "modify_event_subscription",
        "add_source_identifier_to_subscription",
        "remove_source_identifier_from_subscription",
    ]
    assert [call for a in actions for call in a.calls] == [
        "ModifyEventSubscription",
        "AddSourceIdentifierToSubscription",
        "RemoveSourceIdentifierFromSubscription",
    ]
    modify, add, remove = (p for _service, _m, p in made)
    assert sorted(modify["EventCategories"]) == sorted(CATEGORIES) and modify["SnsTopicArn"] == WEST_TOPIC_ARN
    assert (add["SourceIdentifier"], remove["SourceIdentifier"]) == (READER, "gone")
    assert {add["SubscriptionName"], remove["SubscriptionName"]} == {f"{SECONDARY}-instance-events"}


def test_the_removal_is_carried_out_as_planned():
    current = in_sync(west())
    actions = s.plan_operations_removal(current, SECONDARY, WEST)
    made = carried_out(current, actions)
    assert [(service, m) for service, m, _p in made] == [
        ("rds", "delete_event_subscription"),
        ("rds", "delete_event_subscription"),
        ("cloudwatch", "delete_alarms"),
    ]
    assert sorted(made[-1][2]["AlarmNames"]) == sorted(current["alarms"])
