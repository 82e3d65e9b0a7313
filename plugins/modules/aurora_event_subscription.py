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
    type: str
    choices: [present, absent]
    default: present
  sns_topic_arn:
    description:
      - ARN of the SNS topic the events are sent to. Required to create the subscription.
    type: str
  source_type:
    description:
      - The kind of source the events come from. Without it, events of every source type are sent.
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
      - The valid categories depend on O(source_type) (C(aws rds describe-event-categories)).
    type: list
    elements: str
  enabled:
    description:
      - Whether the subscription sends notifications.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
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
  description: What the run changed, or in check mode would change, each with its impact.
  returned: always
  type: list
  elements: dict
  sample:
    - attribute: event_categories
      before: [failure]
      after: [failure, maintenance]
      impact: online
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import (
    AwsApi,
    apply_rds_tags,
    dict_to_tags,
    drop_none,
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

ATTRIBUTES = [
    Attribute("sns_topic_arn", "SnsTopicArn", "SnsTopicArn"),
    Attribute("source_type", "SourceType", "SourceType"),
    Attribute("event_categories", "EventCategoriesList", "EventCategories", unordered=True, default_when_absent=[]),
    Attribute("enabled", "Enabled", "Enabled"),
]
# Sources are not changed by ModifyEventSubscription but one at a time, by
# AddSourceIdentifierToSubscription and RemoveSourceIdentifierFromSubscription (see converge()).
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


def create(module, api):
    params = module.params
    name = params["name"]
    changes = [{"attribute": "subscription", "before": None, "after": name, "impact": ONLINE}]
    diff = {"before": {}, "after": drop_none(desired_state(params))}
    if module.check_mode:
        module.exit_json(changed=True, changes=changes, diff=diff)
    api.create(
        "create_event_subscription",
        exists=lambda: read_subscription(api, name) is not None,
        already_exists=ALREADY_EXISTS,
        context=f"event subscription {name}",
        **create_request(params),
    )
    subscription = read_subscription(api, name)
    return subscription, changes


def converge(module, api, subscription):
    params = module.params
    name = params["name"]
    context = f"event subscription {name}"
    changes = plan_changes([*ATTRIBUTES, SOURCES], subscription, desired_state(params))
    to_add, to_remove = source_changes(subscription, params["source_ids"])
    current_tags = read_tags(api, subscription)
    to_set, to_untag = tag_changes(current_tags, params["tags"], params["purge_tags"])
    if to_set or to_untag:
        changes.append({"attribute": "tags", "before": current_tags, "after": params["tags"], "impact": ONLINE})
    if not changes or module.check_mode:
        return subscription, current_tags, changes

    modify = modify_params(ATTRIBUTES, changes)
    if modify:
        api.call("modify_event_subscription", SubscriptionName=name, context=context, **modify)
    for source_id in to_add:
        api.call(
            "add_source_identifier_to_subscription", SubscriptionName=name, SourceIdentifier=source_id, context=context
        )
    for source_id in to_remove:
        api.call(
            "remove_source_identifier_from_subscription",
            SubscriptionName=name,
            SourceIdentifier=source_id,
            not_found=("SourceNotFound", "SourceNotFoundFault"),
            context=context,
        )
    apply_rds_tags(api, subscription["EventSubscriptionArn"], to_set, to_untag, context)
    return read_subscription(api, name), (params["tags"] if params["tags"] is not None else current_tags), changes


def ensure_present(module, api):
    params = module.params
    subscription = read_subscription(api, params["name"])
    if subscription is None:
        if not params["sns_topic_arn"]:
            module.fail_json(msg=f"sns_topic_arn is required to create event subscription {params['name']}")
        subscription, changes = create(module, api)
        tags = read_tags(api, subscription) if subscription else {}
        module.exit_json(changed=True, changes=changes, subscription=result_of(subscription, tags))
    subscription, tags, changes = converge(module, api, subscription)
    module.exit_json(
        changed=bool(changes),
        changes=changes,
        diff=diff_of(changes),
        subscription=result_of(subscription, tags),
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
    params = module.params
    if params["source_ids"] and not params["source_type"]:
        module.fail_json(msg="source_ids needs source_type: the kind of source the identifiers name")


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["subscription_name"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        sns_topic_arn=dict(type="str"),
        source_type=dict(
            type="str",
            choices=[
                "db-instance",
                "db-cluster",
                "db-parameter-group",
                "db-security-group",
                "db-snapshot",
                "db-cluster-snapshot",
                "db-proxy",
                "blue-green-deployment",
                "custom-engine-version",
            ],
        ),
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
    ensure_present(module, api)


if __name__ == "__main__":
    main()
