#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_event_subscription
short_description: Manage an RDS event notification subscription
version_added: 0.2.0
description:
  - Creates, updates and deletes an RDS event subscription, which sends the RDS events of the chosen
    categories and sources (for example the failure and maintenance events of an Aurora cluster or of its
    instances) to an SNS topic.
  - The topic, source type, event categories and whether the subscription is enabled are changed with
    ModifyEventSubscription; sources are added and removed one by one. Every change is V(online).
  - Each event category is checked against those RDS offers for O(source_type) before anything is created or
    changed (see O(event_categories)).
  - With O(sns_topic_kms_key_id), the SNS topic is made to encrypt the events at rest with that key before the
    subscription is created or changed.
  - Idempotent, with check mode and diff mode; every change is reported with its impact.
author:
  - Vitality platform team (@vitality)
options:
  name:
    description:
      - The subscription name.
    type: str
    required: true
    aliases: [subscription_name]
  state:
    description:
      - V(present) creates or updates the subscription; V(absent) deletes it.
      - Omitted, V(present).
    type: str
    choices: [present, absent]
    default: present
  sns_topic_arn:
    description:
      - ARN of the SNS topic the events are sent to. Required to create the subscription.
      - Omitted, an existing subscription's topic is not compared, and creating the subscription fails.
    type: str
  source_type:
    description:
      - The kind of source the events come from.
      - Omitted, a new subscription sends the events of every source type, and an existing subscription's source type is
        not compared.
    type: str
    choices:
      - db-instance
      - db-cluster
      - db-parameter-group
      - db-security-group
      - db-snapshot
      - db-cluster-snapshot
      - db-proxy
      - blue-green-deployment
      - custom-engine-version
  source_ids:
    description:
      - Identifiers of the sources (of O(source_type)) whose events are sent, for example cluster or
        instance identifiers. An empty list means every source of that type; omitted, the sources are left
        as they are.
    type: list
    elements: str
  event_categories:
    description:
      - Event categories to send, for example V(failure) and V(maintenance). An empty list means every
        category; omitted, the categories are left as they are.
      - The valid categories depend on O(source_type) (C(aws rds describe-event-categories)). When the
        subscription is created, or its categories or source type change, each category is checked before any
        change is made. A category the module knows for that source type (the lists of the Amazon Aurora User
        Guide, U(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Events.Messages.html)) is
        accepted at once; any other is looked up with DescribeEventCategories, and the module fails, naming the
        categories RDS offers, when RDS does not offer it or its list cannot be read.
    type: list
    elements: str
  sns_topic_kms_key_id:
    description:
      - The KMS key the SNS topic O(sns_topic_arn) must encrypt messages at rest with (the topic's
        C(KmsMasterKeyId) attribute), given as a key ID, key ARN, alias name (C(alias/...)) or alias ARN of a symmetric
        customer managed key whose key policy lets C(events.rds.amazonaws.com) use C(kms:GenerateDataKey*) and
        C(kms:Decrypt).
      - The topic's attributes are read, and C(KmsMasterKeyId) is set (SetTopicAttributes, impact V(online))
        when it differs, before the subscription is created or changed. The key is described first and refused
        when it is AWS managed, not symmetric or not enabled.
      - The AWS managed key C(alias/aws/sns) is refused before any AWS call, as its key policy cannot be changed to
        let RDS use it, so RDS could not publish to the topic
        (U(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)).
      - Omitted, the topic's encryption is left as it is.
    type: str
  enabled:
    description:
      - Whether the subscription sends notifications.
      - Omitted, V(true).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
  - With O(sns_topic_kms_key_id), the module also needs C(sns:GetTopicAttributes), C(sns:SetTopicAttributes) and
    C(kms:DescribeKey).
"""

EXAMPLES = r"""
- name: Send the cluster's failure and maintenance events to the on-call topic
  vitality.aurora.aurora_event_subscription:
    name: vitality-prod-aurora-cluster-events
    sns_topic_arn: arn:aws:sns:us-east-1:123456789012:vitality-prod-db-events
    source_type: db-cluster
    source_ids: [vitality-prod-aurora]
    event_categories: [failure, maintenance]
    tags:
      Stack: vitality-prod

- name: The same, to a topic encrypted with a customer managed key that RDS may use
  vitality.aurora.aurora_event_subscription:
    name: vitality-prod-aurora-cluster-events
    sns_topic_arn: arn:aws:sns:us-east-1:123456789012:vitality-prod-db-events
    sns_topic_kms_key_id: alias/vitality-prod-db-events
    source_type: db-cluster
    source_ids: [vitality-prod-aurora]
    event_categories: [failover, failure, maintenance]

- name: Send the configuration changes of a DB parameter group
  vitality.aurora.aurora_event_subscription:
    name: vitality-prod-aurora-parameter-group-events
    sns_topic_arn: arn:aws:sns:us-east-1:123456789012:vitality-prod-db-events
    source_type: db-parameter-group
    source_ids: [default.aurora-postgresql16]
    event_categories: [configuration change]

- name: Remove the subscription
  vitality.aurora.aurora_event_subscription:
    name: vitality-prod-aurora-cluster-events
    state: absent
"""

RETURN = r"""
subscription:
  description: The subscription as AWS describes it, snake_cased, with C(tags) as a dictionary.
  returned: when O(state=present) and the subscription exists (not in check mode before creation)
  type: dict
  sample:
    cust_subscription_id: vitality-prod-aurora-cluster-events
    event_subscription_arn: arn:aws:rds:us-east-1:123456789012:es:vitality-prod-aurora-cluster-events
    sns_topic_arn: arn:aws:sns:us-east-1:123456789012:vitality-prod-db-events
    source_type: db-cluster
    source_ids_list: [vitality-prod-aurora]
    event_categories_list: [failure, maintenance]
    enabled: true
    status: active
    tags:
      Stack: vitality-prod
changes:
  description: What the run changed, or in check mode would change, each with its impact; empty when nothing changes.
  returned: always
  type: list
  elements: dict
  contains:
    attribute:
      description:
        - What changes - C(sns_topic_arn), C(source_type), C(event_categories), C(enabled), C(source_ids), C(tags),
          C(sns_topic_kms_key_id) (the topic's encryption), or C(subscription) for the subscription itself when it is
          created or deleted.
      type: str
      returned: always
      sample: event_categories
    before:
      description: The value before the run; null when the subscription is created.
      type: raw
      returned: always
      sample: [failure]
    after:
      description: The value after the run; null when the subscription is deleted.
      type: raw
      returned: always
      sample: [failure, maintenance]
    impact:
      description: Always V(online).
      type: str
      returned: always
      sample: online
  sample:
    - attribute: event_categories
      before: [failure]
      after: [failure, maintenance]
      impact: online
    - attribute: sns_topic_kms_key_id
      before: null
      after: alias/vitality-prod-db-events
      impact: online
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import (
    AwsApi,
    apply_rds_tags,
    dict_to_tags,
    drop_none,
    error_code,
    tag_changes,
    tags_to_dict,
    to_snake,
)
from ansible_collections.vitality.aurora.plugins.module_utils.changes import (
    ONLINE,
    Attribute,
    diff_of,
    modify_params,
    plan_changes,
)

NOT_FOUND = ("SubscriptionNotFound", "SubscriptionNotFoundFault")
ALREADY_EXISTS = ("SubscriptionAlreadyExist", "SubscriptionAlreadyExistFault")
SOURCE_TYPES = [
    "db-instance",
    "db-cluster",
    "db-parameter-group",
    "db-security-group",
    "db-snapshot",
    "db-cluster-snapshot",
    "db-proxy",
    "blue-green-deployment",
    "custom-engine-version",
]

# The event categories RDS offers per source type, as the Amazon Aurora User Guide lists them ("Amazon RDS
# event categories and event messages for Aurora",
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Events.Messages.html) and as
# DescribeEventCategories answers them (aws rds describe-event-categories). A category listed here is accepted
# without an AWS call; any other is looked up with DescribeEventCategories, the authority, so a category AWS adds
# later still works. The lists are deliberately no longer than the sources agree on.
KNOWN_EVENT_CATEGORIES = {
    "db-cluster": (
        "configuration change",
        "creation",
        "deletion",
        "failover",
        "failure",
        "global-failover",
        "maintenance",
        "migration",
        "notification",
        "serverless",
    ),
    "db-instance": (
        "availability",
        "backtrack",
        "backup",
        "configuration change",
        "creation",
        "deletion",
        "failover",
        "failure",
        "low storage",
        "maintenance",
        "notification",
        "read replica",
        "recovery",
        "restoration",
        "security patching",
    ),
    "db-parameter-group": ("configuration change",),
    "db-security-group": ("configuration change", "failure"),
    "db-cluster-snapshot": ("backup", "notification"),
    "db-snapshot": ("creation", "deletion", "notification", "restoration"),
}

# The AWS managed key of SNS: its key policy cannot be changed, so no AWS service (RDS included) may use it to
# publish to a topic it encrypts (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, "Enable
# compatibility between event sources from AWS services and encrypted topics").
AWS_MANAGED_SNS_KEY = "alias/aws/sns"
TOPIC_NOT_FOUND = ("NotFound", "NotFoundException")

ATTRIBUTES = [
    Attribute("sns_topic_arn", "SnsTopicArn", "SnsTopicArn"),
    Attribute("source_type", "SourceType", "SourceType"),
    Attribute("event_categories", "EventCategoriesList", "EventCategories", unordered=True, default_when_absent=[]),
    Attribute("enabled", "Enabled", "Enabled"),
]
# Sources are not changed by ModifyEventSubscription but one at a time, by
# AddSourceIdentifierToSubscription and RemoveSourceIdentifierFromSubscription (see apply_converge()).
SOURCES = Attribute("source_ids", "SourceIdsList", "SourceIds", unordered=True, default_when_absent=[])


def read_subscription(api, name):
    response = api.call(
        "describe_event_subscriptions", SubscriptionName=name, not_found=NOT_FOUND, context=f"event subscription {name}"
    )
    subscriptions = (response or {}).get("EventSubscriptionsList") or []
    return subscriptions[0] if subscriptions else None


def read_tags(api, subscription):
    response = api.call(
        "list_tags_for_resource",
        ResourceName=subscription["EventSubscriptionArn"],
        context=f"event subscription {subscription.get('CustSubscriptionId')}",
    )
    return tags_to_dict((response or {}).get("TagList"))


def desired_state(params):
    return {attribute.option: params.get(attribute.option) for attribute in [*ATTRIBUTES, SOURCES]}


def source_changes(current, wanted):
    """(sources to add, sources to remove); ``wanted=None`` leaves the sources alone."""
    if wanted is None:
        return [], []
    have = current.get("SourceIdsList") or []
    return sorted(set(wanted) - set(have)), sorted(set(have) - set(wanted))


def create_request(params):
    request = {
        "SubscriptionName": params["name"],
        "SnsTopicArn": params["sns_topic_arn"],
        "SourceType": params["source_type"],
        "EventCategories": params["event_categories"] or None,
        "SourceIds": params["source_ids"] or None,
        "Enabled": params["enabled"],
        "Tags": dict_to_tags(params["tags"]) if params["tags"] else None,
    }
    return drop_none(request)


def result_of(subscription, tags):
    result = to_snake(subscription)
    result["tags"] = tags
    return result


# -- event categories ----------------------------------------------------------------------


def offered_categories(api, source_type):
    """(the categories RDS offers for ``source_type``, None) or (None, why they could not be read)."""
    try:
        response = api.client.describe_event_categories(SourceType=source_type)
    except (BotoCoreError, ClientError) as e:
        return None, f"{api.operation_name('describe_event_categories')}: {e}"
    offered = set()
    for entry in response.get("EventCategoriesMapList") or []:
        if entry.get("SourceType") in (None, source_type):
            offered.update(entry.get("EventCategories") or [])
    return offered, None


def check_event_categories(module, api):
    """Fail, before anything is created or changed, on a category RDS does not offer for the source type."""
    params = module.params
    source_type, wanted = params["source_type"], params["event_categories"]
    if not source_type or not wanted:
        return
    known = KNOWN_EVENT_CATEGORIES.get(source_type, ())
    unknown = [category for category in wanted if category not in known]
    if not unknown:
        return
    offered, error = offered_categories(api, source_type)
    if offered is None:
        listed = ", ".join(known) if known else "none"
        module.fail_json(
            msg=(
                f"event_categories {', '.join(repr(c) for c in unknown)} of event subscription {params['name']}: not "
                f"a category this module knows for source type {source_type} ({listed}), and RDS's own list could "
                f"not be read ({error}); nothing was changed"
            )
        )
    invalid = [category for category in unknown if category not in offered]
    if invalid:
        module.fail_json(
            msg=(
                f"event_categories {', '.join(repr(c) for c in invalid)} of event subscription {params['name']}: RDS "
                f"offers no such category for source type {source_type}; it offers {', '.join(sorted(offered))}. "
                "Nothing was changed"
            )
        )


# -- the topic's encryption ----------------------------------------------------------------


def aws_managed_sns_key(key_id):
    return key_id == AWS_MANAGED_SNS_KEY or key_id.endswith(":" + AWS_MANAGED_SNS_KEY)


def check_key(module, kms, key_id):
    """Refuse a key RDS could not use: AWS managed, not symmetric, or not enabled. Reads only."""
    try:
        metadata = kms.client.describe_key(KeyId=key_id)["KeyMetadata"]
    except ClientError as e:
        code = error_code(e)
        if code == "NotFoundException" and module.check_mode:
            return  # planned in the same check-mode run, not created yet
        if code == "NotFoundException":
            module.fail_json(msg=f"sns_topic_kms_key_id {key_id}: no such KMS key; nothing was changed")
        if code == "AccessDeniedException":
            module.warn(f"sns_topic_kms_key_id {key_id}: kms:DescribeKey was denied, so the key was not checked")
            return
        kms.fail(e, "describe_key", f"sns_topic_kms_key_id {key_id}")
    except BotoCoreError as e:
        kms.fail(e, "describe_key", f"sns_topic_kms_key_id {key_id}")
    problems = []
    if metadata.get("KeyManager") == "AWS":
        problems.append("it is an AWS managed key, whose key policy cannot let RDS use it")
    if metadata.get("KeySpec", metadata.get("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT")) != "SYMMETRIC_DEFAULT":
        problems.append("SNS encrypts only with symmetric encryption keys")
    if metadata.get("KeyState", "Enabled") != "Enabled":
        problems.append(f"its state is {metadata.get('KeyState')}")
    if problems:
        module.fail_json(
            msg=f"sns_topic_kms_key_id {key_id}: {'; '.join(problems)}. Use an enabled, symmetric customer managed "
            "key whose key policy lets events.rds.amazonaws.com use it; nothing was changed"
        )


def topic_key_change(module, sns, kms):
    """The change of the topic's KmsMasterKeyId that O(sns_topic_kms_key_id) asks for, or None. Reads only."""
    params = module.params
    wanted, topic = params["sns_topic_kms_key_id"], params["sns_topic_arn"]
    if wanted is None:
        return None
    response = sns.call("get_topic_attributes", TopicArn=topic, not_found=TOPIC_NOT_FOUND, context=f"SNS topic {topic}")
    if response is None and not module.check_mode:
        module.fail_json(msg=f"SNS topic {topic} does not exist; create it before subscribing to it")
    have = ((response or {}).get("Attributes") or {}).get("KmsMasterKeyId") or None
    if have == wanted:
        return None
    check_key(module, kms, wanted)
    return {"attribute": "sns_topic_kms_key_id", "before": have, "after": wanted, "impact": ONLINE}


def apply_topic_key(sns, params):
    topic = params["sns_topic_arn"]
    sns.call(
        "set_topic_attributes",
        TopicArn=topic,
        AttributeName="KmsMasterKeyId",
        AttributeValue=params["sns_topic_kms_key_id"],
        context=f"SNS topic {topic}",
    )


# -- the subscription ----------------------------------------------------------------------


def create(module, api):
    params = module.params
    name = params["name"]
    api.create(
        "create_event_subscription",
        exists=lambda: read_subscription(api, name) is not None,
        already_exists=ALREADY_EXISTS,
        context=f"event subscription {name}",
        **create_request(params),
    )
    return read_subscription(api, name)


class Converge:
    """What an existing subscription needs: its changes (planned by reading only), then applied."""

    def __init__(self, module, api, subscription):
        params = module.params
        self.subscription = subscription
        self.changes = plan_changes([*ATTRIBUTES, SOURCES], subscription, desired_state(params))
        self.to_add, self.to_remove = source_changes(subscription, params["source_ids"])
        self.current_tags = read_tags(api, subscription)
        self.to_set, self.to_untag = tag_changes(self.current_tags, params["tags"], params["purge_tags"])
        if self.to_set or self.to_untag:
            self.changes.append(
                {"attribute": "tags", "before": self.current_tags, "after": params["tags"], "impact": ONLINE}
            )

    def sends_categories(self):
        return any(change["attribute"] in ("event_categories", "source_type") for change in self.changes)

    def apply(self, module, api):
        params = module.params
        name = params["name"]
        context = f"event subscription {name}"
        if not self.changes:
            return self.subscription, self.current_tags
        modify = modify_params(ATTRIBUTES, self.changes)
        if modify:
            api.call("modify_event_subscription", SubscriptionName=name, context=context, **modify)
        for source_id in self.to_add:
            api.call(
                "add_source_identifier_to_subscription",
                SubscriptionName=name,
                SourceIdentifier=source_id,
                context=context,
            )
        for source_id in self.to_remove:
            api.call(
                "remove_source_identifier_from_subscription",
                SubscriptionName=name,
                SourceIdentifier=source_id,
                not_found=("SourceNotFound", "SourceNotFoundFault"),
                context=context,
            )
        apply_rds_tags(api, self.subscription["EventSubscriptionArn"], self.to_set, self.to_untag, context)
        tags = params["tags"] if params["tags"] is not None else self.current_tags
        return read_subscription(api, name), tags


def ensure_present(module, api, sns=None, kms=None):
    """Create or converge the subscription; with ``sns`` (and ``kms``), the topic's encryption first.

    Everything is read and checked (categories, key) before the first change is made.
    """
    params = module.params
    name = params["name"]
    subscription = read_subscription(api, name)
    if subscription is None and not params["sns_topic_arn"]:
        module.fail_json(msg=f"sns_topic_arn is required to create event subscription {name}")
    converge = Converge(module, api, subscription) if subscription is not None else None
    if converge is None:
        changes = [{"attribute": "subscription", "before": None, "after": name, "impact": ONLINE}]
    else:
        changes = list(converge.changes)
    if converge is None or converge.sends_categories():
        check_event_categories(module, api)
    key_change = topic_key_change(module, sns, kms) if sns is not None else None
    if key_change:
        changes.insert(0, key_change)

    if module.check_mode:
        if converge is None:
            diff = {"before": {}, "after": drop_none(desired_state(params))}
            if key_change:
                diff["before"]["sns_topic_kms_key_id"] = key_change["before"]
                diff["after"]["sns_topic_kms_key_id"] = key_change["after"]
            module.exit_json(changed=True, changes=changes, diff=diff)
        module.exit_json(
            changed=bool(changes),
            changes=changes,
            diff=diff_of(changes),
            subscription=result_of(subscription, converge.current_tags),
        )

    if key_change:
        apply_topic_key(sns, params)
    if converge is None:
        subscription = create(module, api)
        tags = read_tags(api, subscription) if subscription else {}
        module.exit_json(changed=True, changes=changes, subscription=result_of(subscription, tags))
    subscription, tags = converge.apply(module, api)
    module.exit_json(
        changed=bool(changes), changes=changes, diff=diff_of(changes), subscription=result_of(subscription, tags)
    )


def ensure_absent(module, api):
    name = module.params["name"]
    subscription = read_subscription(api, name)
    if subscription is None:
        module.exit_json(changed=False, changes=[])
    changes = [{"attribute": "subscription", "before": name, "after": None, "impact": ONLINE}]
    diff = {"before": {"name": name}, "after": {}}
    if not module.check_mode:
        api.call(
            "delete_event_subscription",
            SubscriptionName=name,
            not_found=NOT_FOUND,
            context=f"event subscription {name}",
        )
    module.exit_json(changed=True, changes=changes, diff=diff)


def validate(module):
    """The rules that need no AWS call."""
    params = module.params
    if params["source_ids"] and not params["source_type"]:
        module.fail_json(msg="source_ids needs source_type: the kind of source the identifiers name")
    if params["event_categories"] and not params["source_type"]:
        module.fail_json(msg="event_categories needs source_type: RDS offers categories per source type")
    key_id = params.get("sns_topic_kms_key_id")
    if key_id is not None and params["state"] == "present":
        if not key_id.strip():
            module.fail_json(msg="sns_topic_kms_key_id is empty: name a KMS key, or leave the option out")
        if not params["sns_topic_arn"]:
            module.fail_json(msg="sns_topic_kms_key_id needs sns_topic_arn: the topic to encrypt")
        if aws_managed_sns_key(key_id):
            module.fail_json(
                msg=(
                    f"sns_topic_kms_key_id={key_id} is the AWS managed key of SNS: its key policy cannot let "
                    "events.rds.amazonaws.com use it, so RDS could not publish to the topic. Use a customer managed "
                    "key whose key policy allows events.rds.amazonaws.com kms:GenerateDataKey* and kms:Decrypt "
                    "(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html); nothing was changed"
                )
            )


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["subscription_name"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        sns_topic_arn=dict(type="str"),
        sns_topic_kms_key_id=dict(type="str"),
        source_type=dict(type="str", choices=SOURCE_TYPES),
        source_ids=dict(type="list", elements="str"),
        event_categories=dict(type="list", elements="str"),
        enabled=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    api = AwsApi(module, "rds")
    if module.params["state"] == "absent":
        ensure_absent(module, api)
    if module.params["sns_topic_kms_key_id"] is not None:
        ensure_present(module, api, sns=AwsApi(module, "sns"), kms=AwsApi(module, "kms"))
    ensure_present(module, api)


if __name__ == "__main__":
    main()
