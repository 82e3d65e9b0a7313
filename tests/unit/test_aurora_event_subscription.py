"""aurora_event_subscription against botocore's Stubber: create, no-op, modify, sources, tags, check mode, delete,
the check of event categories, and the topic's encryption.

moto 5.2.5 implements neither ModifyEventSubscription nor the source identifier calls; the
local AWS of the integration tests adds them (scripts/moto_server_ext.py), and these tests pin
the exact requests the module makes to AWS.
"""

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.modules import aurora_event_subscription as m

NAME = "vitality-prod-aurora-instance-events"
ARN = f"arn:aws:rds:us-east-1:123456789012:es:{NAME}"
TOPIC = "arn:aws:sns:us-east-1:123456789012:vitality-prod-db-events"


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, check_mode=False, **overrides):
        self.check_mode = check_mode
        self.params = {
            "name": NAME,
            "state": "present",
            "sns_topic_arn": TOPIC,
            "source_type": "db-instance",
            "source_ids": ["w", "r-1"],
            "event_categories": ["failure", "maintenance"],
            "enabled": True,
            "tags": {"Stack": "vitality-prod"},
            "purge_tags": True,
            "sns_topic_kms_key_id": None,
        }
        self.params.update(overrides)

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)

    def fail_json_aws(self, exception, msg):
        raise Failed(f"{msg}: {exception}")

    def warn(self, message):
        self.warnings = [*getattr(self, "warnings", []), message]


def described(**fields):
    subscription = {
        "CustSubscriptionId": NAME,
        "EventSubscriptionArn": ARN,
        "SnsTopicArn": TOPIC,
        "SourceType": "db-instance",
        "SourceIdsList": ["r-1", "w"],
        "EventCategoriesList": ["maintenance", "failure"],
        "Enabled": True,
        "Status": "active",
    }
    subscription.update(fields)
    return subscription


@pytest.fixture
def rds():
    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_describe(stubber, subscription):
    if subscription is None:
        stubber.add_client_error(
            "describe_event_subscriptions",
            service_error_code="SubscriptionNotFound",
            http_status_code=404,
            expected_params={"SubscriptionName": NAME},
        )
    else:
        stubber.add_response(
            "describe_event_subscriptions", {"EventSubscriptionsList": [subscription]}, {"SubscriptionName": NAME}
        )


def expect_tags(stubber, tags):
    stubber.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": k, "Value": v} for k, v in tags.items()]},
        {"ResourceName": ARN},
    )


def run(module, client, what=m.ensure_present):
    with pytest.raises(Exited) as exited:
        what(module, AwsApi(module, "rds", client=client))
    return exited.value.result


def test_create_sends_everything_in_one_call(rds):
    client, stubber = rds
    expect_describe(stubber, None)
    stubber.add_response(
        "create_event_subscription",
        {"EventSubscription": described()},
        {
            "SubscriptionName": NAME,
            "SnsTopicArn": TOPIC,
            "SourceType": "db-instance",
            "EventCategories": ["failure", "maintenance"],
            "SourceIds": ["w", "r-1"],
            "Enabled": True,
            "Tags": [{"Key": "Stack", "Value": "vitality-prod"}],
        },
    )
    expect_describe(stubber, described())
    expect_tags(stubber, {"Stack": "vitality-prod"})
    result = run(FakeModule(), client)
    assert result["changed"] is True
    assert result["changes"] == [{"attribute": "subscription", "before": None, "after": NAME, "impact": "online"}]
    assert result["subscription"]["event_subscription_arn"] == ARN
    assert result["subscription"]["source_ids_list"] == ["r-1", "w"]
    assert result["subscription"]["tags"] == {"Stack": "vitality-prod"}


def test_same_settings_in_another_order_change_nothing(rds):
    client, stubber = rds
    expect_describe(stubber, described())
    expect_tags(stubber, {"Stack": "vitality-prod"})
    result = run(FakeModule(), client)
    assert result["changed"] is False
    assert result["changes"] == []


def test_changes_go_to_modify_then_sources_one_at_a_time_then_tags(rds):
    client, stubber = rds
    current = described(SourceIdsList=["w", "r-2"], EventCategoriesList=["failure"], Enabled=False)
    expect_describe(stubber, current)
    expect_tags(stubber, {"Stack": "vitality-prod", "Old": "x"})
    stubber.add_response(
        "modify_event_subscription",
        {"EventSubscription": described()},
        {"SubscriptionName": NAME, "EventCategories": ["failure", "maintenance"], "Enabled": True},
    )
    stubber.add_response(
        "add_source_identifier_to_subscription",
        {"EventSubscription": described()},
        {"SubscriptionName": NAME, "SourceIdentifier": "r-1"},
    )
    stubber.add_response(
        "remove_source_identifier_from_subscription",
        {"EventSubscription": described()},
        {"SubscriptionName": NAME, "SourceIdentifier": "r-2"},
    )
    stubber.add_response("remove_tags_from_resource", {}, {"ResourceName": ARN, "TagKeys": ["Old"]})
    expect_describe(stubber, described())
    result = run(FakeModule(), client)
    assert result["changed"] is True
    changes = {c["attribute"]: c for c in result["changes"]}
    assert set(changes) == {"event_categories", "enabled", "source_ids", "tags"}
    assert changes["source_ids"]["before"] == ["r-2", "w"]
    assert changes["source_ids"]["after"] == ["r-1", "w"]
    assert all(c["impact"] == "online" for c in result["changes"])
    assert result["diff"]["after"]["event_categories"] == ["failure", "maintenance"]


def test_a_source_already_gone_is_not_an_error(rds):
    client, stubber = rds
    expect_describe(stubber, described(SourceIdsList=["w", "r-1", "r-3"]))
    expect_tags(stubber, {"Stack": "vitality-prod"})
    stubber.add_client_error(
        "remove_source_identifier_from_subscription",
        service_error_code="SourceNotFound",
        http_status_code=404,
        expected_params={"SubscriptionName": NAME, "SourceIdentifier": "r-3"},
    )
    expect_describe(stubber, described())
    assert run(FakeModule(), client)["changed"] is True


def test_check_mode_reads_only(rds):
    client, stubber = rds
    expect_describe(stubber, described(EventCategoriesList=["failure"]))
    expect_tags(stubber, {"Stack": "vitality-prod"})
    result = run(FakeModule(check_mode=True), client)
    assert result["changed"] is True
    assert [c["attribute"] for c in result["changes"]] == ["event_categories"]


def test_check_mode_plans_a_creation_without_calling_create(rds):
    client, stubber = rds
    expect_describe(stubber, None)
    result = run(FakeModule(check_mode=True), client)
    assert result["changed"] is True
    assert result["diff"]["after"]["source_type"] == "db-instance"


def test_omitted_sources_and_categories_are_left_alone(rds):
    client, stubber = rds
    expect_describe(stubber, described(SourceIdsList=["other"], EventCategoriesList=["notification"]))
    expect_tags(stubber, {"Stack": "vitality-prod"})
    assert run(FakeModule(source_ids=None, event_categories=None), client)["changed"] is False


def test_create_needs_a_topic(rds):
    client, stubber = rds
    expect_describe(stubber, None)
    with pytest.raises(Failed, match="sns_topic_arn is required"):
        m.ensure_present(FakeModule(sns_topic_arn=None), AwsApi(FakeModule(), "rds", client=client))


def test_delete_and_delete_again(rds):
    client, stubber = rds
    expect_describe(stubber, described())
    stubber.add_response("delete_event_subscription", {"EventSubscription": described()}, {"SubscriptionName": NAME})
    expect_describe(stubber, None)
    assert run(FakeModule(state="absent"), client, m.ensure_absent)["changed"] is True
    assert run(FakeModule(state="absent"), client, m.ensure_absent) == {"changed": False, "changes": []}


def test_source_ids_need_a_source_type():
    with pytest.raises(Failed, match="source_ids needs source_type"):
        m.validate(FakeModule(source_type=None))


def test_source_changes():
    assert m.source_changes({"SourceIdsList": ["a", "b"]}, ["b", "c"]) == (["c"], ["a"])
    assert m.source_changes({}, ["a"]) == (["a"], [])
    assert m.source_changes({"SourceIdsList": ["a"]}, None) == ([], [])


# -- event categories -------------------------------------------------------------------------

CREATE_PARAMS = {
    "SubscriptionName": NAME,
    "SnsTopicArn": TOPIC,
    "SourceType": "db-instance",
    "SourceIds": ["w", "r-1"],
    "Enabled": True,
    "Tags": [{"Key": "Stack", "Value": "vitality-prod"}],
}


def expect_categories(stubber, source_type, categories):
    stubber.add_response(
        "describe_event_categories",
        {"EventCategoriesMapList": [{"SourceType": source_type, "EventCategories": categories}]},
        {"SourceType": source_type},
    )


def test_known_categories_need_no_aws_call(rds):
    # The Stubber fails on any call it was not told about: no DescribeEventCategories here.
    client, stubber = rds
    expect_describe(stubber, None)
    stubber.add_response(
        "create_event_subscription",
        {"EventSubscription": described()},
        {**CREATE_PARAMS, "EventCategories": ["failover", "failure", "configuration change"]},
    )
    expect_describe(stubber, described())
    expect_tags(stubber, {"Stack": "vitality-prod"})
    module = FakeModule(event_categories=["failover", "failure", "configuration change"])
    assert run(module, client)["changed"] is True


def test_a_category_the_module_does_not_know_is_asked_of_rds(rds):
    client, stubber = rds
    expect_describe(stubber, None)
    expect_categories(stubber, "db-instance", ["failure", "brand new"])
    stubber.add_response(
        "create_event_subscription",
        {"EventSubscription": described()},
        {**CREATE_PARAMS, "EventCategories": ["failure", "brand new"]},
    )
    expect_describe(stubber, described())
    expect_tags(stubber, {"Stack": "vitality-prod"})
    assert run(FakeModule(event_categories=["failure", "brand new"]), client)["changed"] is True


def test_a_category_rds_does_not_offer_fails_before_any_change(rds):
    client, stubber = rds
    expect_describe(stubber, None)
    expect_categories(stubber, "db-instance", ["failure", "maintenance", "notification"])
    with pytest.raises(Failed) as failed:
        m.ensure_present(
            FakeModule(event_categories=["failure", "failrue"]), AwsApi(FakeModule(), "rds", client=client)
        )
    message = str(failed.value)
    assert "'failrue'" in message and "db-instance" in message
    assert "it offers failure, maintenance, notification" in message
    assert "Nothing was changed" in message


def test_a_category_checked_where_rds_cannot_say_fails_naming_the_known_ones(rds):
    client, stubber = rds
    expect_describe(stubber, None)
    stubber.add_client_error("describe_event_categories", service_error_code="AccessDenied", http_status_code=403)
    with pytest.raises(Failed) as failed:
        m.ensure_present(FakeModule(event_categories=["failrue"]), AwsApi(FakeModule(), "rds", client=client))
    message = str(failed.value)
    assert "'failrue'" in message and "could not be read" in message and "DescribeEventCategories" in message
    assert "availability, backtrack, backup" in message


def test_changing_categories_checks_them_before_modify(rds):
    client, stubber = rds
    expect_describe(stubber, described(EventCategoriesList=["failure"]))
    expect_tags(stubber, {"Stack": "vitality-prod"})
    expect_categories(stubber, "db-instance", ["failure"])
    with pytest.raises(Failed, match="'nope'"):
        m.ensure_present(FakeModule(event_categories=["failure", "nope"]), AwsApi(FakeModule(), "rds", client=client))


def test_categories_already_in_place_are_not_checked_again(rds):
    client, stubber = rds
    expect_describe(stubber, described(EventCategoriesList=["some other"]))
    expect_tags(stubber, {"Stack": "vitality-prod"})
    assert run(FakeModule(event_categories=["some other"]), client)["changed"] is False


def test_parameter_group_events_are_configuration_changes():
    assert m.KNOWN_EVENT_CATEGORIES["db-parameter-group"] == ("configuration change",)
    for source_type in m.KNOWN_EVENT_CATEGORIES:
        assert source_type in m.SOURCE_TYPES


def test_categories_need_a_source_type():
    with pytest.raises(Failed, match="event_categories needs source_type"):
        m.validate(FakeModule(source_type=None, source_ids=None))


# -- the topic's encryption -----------------------------------------------------------------------

KEY = "alias/vitality-prod-db-events"


def stubbed(service):
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    return client, Stubber(client)


@pytest.fixture
def sns_kms():
    sns, sns_stub = stubbed("sns")
    kms, kms_stub = stubbed("kms")
    with sns_stub, kms_stub:
        yield sns, sns_stub, kms, kms_stub
        sns_stub.assert_no_pending_responses()
        kms_stub.assert_no_pending_responses()


def expect_topic(stubber, key=None):
    attributes = {"TopicArn": TOPIC, **({"KmsMasterKeyId": key} if key else {})}
    stubber.add_response("get_topic_attributes", {"Attributes": attributes}, {"TopicArn": TOPIC})


def expect_key(stubber, key_id=KEY, **metadata):
    stubber.add_response(
        "describe_key",
        {
            "KeyMetadata": {
                "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
                "KeyManager": "CUSTOMER",
                "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyState": "Enabled",
                **metadata,
            }
        },
        {"KeyId": key_id},
    )


def run_with_topic(module, rds_client, sns, kms):
    with pytest.raises(Exited) as exited:
        m.ensure_present(
            module,
            AwsApi(module, "rds", client=rds_client),
            sns=AwsApi(module, "sns", client=sns),
            kms=AwsApi(module, "kms", client=kms),
        )
    return exited.value.result


def test_the_topic_is_encrypted_before_the_subscription_is_created(rds, sns_kms):
    client, stubber = rds
    sns, sns_stub, kms, kms_stub = sns_kms
    order = []
    sns.meta.events.register("before-parameter-build.sns.*", lambda model, **kw: order.append(model.name))
    client.meta.events.register("before-parameter-build.rds.*", lambda model, **kw: order.append(model.name))
    expect_describe(stubber, None)
    expect_topic(sns_stub, key=None)
    expect_key(kms_stub)
    sns_stub.add_response(
        "set_topic_attributes",
        {},
        {"TopicArn": TOPIC, "AttributeName": "KmsMasterKeyId", "AttributeValue": KEY},
    )
    stubber.add_response(
        "create_event_subscription",
        {"EventSubscription": described()},
        {**CREATE_PARAMS, "EventCategories": ["failure", "maintenance"]},
    )
    expect_describe(stubber, described())
    expect_tags(stubber, {"Stack": "vitality-prod"})
    result = run_with_topic(FakeModule(sns_topic_kms_key_id=KEY), client, sns, kms)
    assert result["changes"][0] == {
        "attribute": "sns_topic_kms_key_id",
        "before": None,
        "after": KEY,
        "impact": "online",
    }
    assert order.index("SetTopicAttributes") < order.index("CreateEventSubscription")


def test_a_topic_already_on_the_key_is_only_read(rds, sns_kms):
    client, stubber = rds
    sns, sns_stub, kms, kms_stub = sns_kms
    expect_describe(stubber, described())
    expect_tags(stubber, {"Stack": "vitality-prod"})
    expect_topic(sns_stub, key=KEY)
    result = run_with_topic(FakeModule(sns_topic_kms_key_id=KEY), client, sns, kms)
    assert result["changed"] is False


def test_check_mode_plans_the_key_of_a_topic_and_key_not_yet_created(rds, sns_kms):
    client, stubber = rds
    sns, sns_stub, kms, kms_stub = sns_kms
    expect_describe(stubber, None)
    sns_stub.add_client_error("get_topic_attributes", service_error_code="NotFound", http_status_code=404)
    kms_stub.add_client_error("describe_key", service_error_code="NotFoundException", http_status_code=400)
    result = run_with_topic(FakeModule(check_mode=True, sns_topic_kms_key_id=KEY), client, sns, kms)
    assert [c["attribute"] for c in result["changes"]] == ["sns_topic_kms_key_id", "subscription"]
    assert result["diff"]["after"]["sns_topic_kms_key_id"] == KEY


def test_a_missing_topic_fails_outside_check_mode(rds, sns_kms):
    client, stubber = rds
    sns, sns_stub, kms, kms_stub = sns_kms
    expect_describe(stubber, None)
    sns_stub.add_client_error("get_topic_attributes", service_error_code="NotFound", http_status_code=404)
    with pytest.raises(Failed, match="does not exist"):
        run_with_topic(FakeModule(sns_topic_kms_key_id=KEY), client, sns, kms)


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ({"KeyManager": "AWS"}, "AWS managed key"),
        ({"KeySpec": "RSA_2048"}, "symmetric"),
        ({"KeyState": "PendingDeletion"}, "PendingDeletion"),
    ],
)
def test_a_key_rds_could_not_use_is_refused_before_any_change(rds, sns_kms, metadata, reason):
    client, stubber = rds
    sns, sns_stub, kms, kms_stub = sns_kms
    expect_describe(stubber, None)
    expect_topic(sns_stub, key=None)
    expect_key(kms_stub, **metadata)
    with pytest.raises(Failed, match=reason):
        run_with_topic(FakeModule(sns_topic_kms_key_id=KEY), client, sns, kms)


@pytest.mark.parametrize("key", ["alias/aws/sns", "arn:aws:kms:us-east-1:123456789012:alias/aws/sns"])
def test_the_aws_managed_sns_key_is_refused_before_any_aws_call(key):
    with pytest.raises(Failed, match="AWS managed key of SNS"):
        m.validate(FakeModule(sns_topic_kms_key_id=key))


def test_a_key_needs_its_topic():
    with pytest.raises(Failed, match="needs sns_topic_arn"):
        m.validate(FakeModule(sns_topic_kms_key_id=KEY, sns_topic_arn=None))
