# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operations baseline of an Aurora Global Database's secondary Region: its RDS events topic, event subscriptions
and CloudWatch alarms, by the primary's rules, read and planned in the one planner run, carried out by aurora_stack
with that Region's clients (runner ``stack``, each action marked with the Region).

RDS event subscriptions and CloudWatch alarms are regional and publish to an SNS topic of their own Region, so the
secondary Region gets its own topic, under the primary's topic name (another Region, no clash), encrypted with a
customer managed key of that Region, ``alias/<topic name>``, with the primary's key policy: RDS cannot publish through
the AWS managed key alias/aws/sns (its policy is fixed), and a key of the primary's Region cannot encrypt a topic of
another. So the secondary's topic always has the role's own key, also when the primary's topic has the user's key.
Its event subscriptions are the primary's cluster and instance ones (same categories, same tags), named after the
secondary cluster (``<secondary>-cluster-events``, ``<secondary>-instance-events``) with its cluster and readers as
sources; the primary's DB parameter group subscription has no counterpart (the secondary's readers use the default
DB parameter group of their Region). Its alarms are alarm_plan's for a cluster whose instances are all readers (a
secondary has no writer of its own), plus AuroraGlobalDBReplicationLag of the secondary cluster, with the readers'
replica lag threshold.

With the user's own topic (event_topic_arn) there is no topic of the secondary's Region to publish to: the secondary
then gets no subscriptions and no alarms (the primary's topic cannot take them).

The secondary's removal deletes its subscriptions and alarms, and keeps its topic and the topic's key (the on-call
subscriptions to the topic survive a secondary removed and added back; the key is kept as the storage key is).
"""

from __future__ import annotations

import json

from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict

from ansible_collections.vitality.aurora.plugins.module_utils.alarm_plan import (
    DELETE_BATCH,
    alarm_prefix,
    condition_words,
    plan_alarms,
    read_alarms,
)
from ansible_collections.vitality.aurora.plugins.module_utils.api import concurrently
from ansible_collections.vitality.aurora.plugins.module_utils.baseline_plan import (
    NOT_FOUND,
    find_backup_plan,
    plan_key,
    plan_subscription,
    plan_topic,
    plan_topic_encryption,
    read_backup_selection,
    read_subscriptions,
    read_topic,
    read_topic_key,
    topic_arn,
    topic_key,
    topic_key_request,
)
from ansible_collections.vitality.aurora.plugins.module_utils.changes import plan_changes
from ansible_collections.vitality.aurora.plugins.module_utils.global_plan import in_region
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    ATTRIBUTES,
    desired_state,
    effective_state,
)
from ansible_collections.vitality.aurora.plugins.module_utils.plan import NOW, ONLINE, STACK, Action

# The readers' settings of the operations baseline, converged on the secondary's readers as on the primary's
# instances (the class is global_plan.plan_readers').
MONITORING = (
    "monitoring_interval",
    "monitoring_role_arn",
    "enable_performance_insights",
    "performance_insights_retention_period",
)

# The primary's subscriptions that have a counterpart in the secondary's Region.
SOURCE_TYPES = ("db-cluster", "db-instance")
# The resources of these actions, carried out by apply_operation with the secondary Region's clients.
RESOURCES = ("event_topic_key", "event_topic", "event_subscription", "alarm", "alarms")
SERVICES = ("sns", "cloudwatch")


def subscription_name(name, primary_identifier, identifier):
    """The primary's subscription name with the secondary's identifier in place of the primary's."""
    if name.startswith(primary_identifier):
        return identifier + name[len(primary_identifier) :]
    return f"{identifier}-{name}"


def secondary_desired(baseline, region, identifier, primary_identifier):
    """The baseline_plan ``desired`` of the secondary's Region (its topic, subscriptions and alarms), from the primary's
    (aurora_stack.baseline_desired); None when the primary has no topic of the role's to follow."""
    if not baseline or not baseline.get("event_topic"):
        return None
    name = baseline["event_topic"]["name"]
    desired = {
        "account_id": baseline["account_id"],
        "partition": baseline["partition"],
        "region": region,
        "cluster_identifier": identifier,
        "tags": baseline.get("tags") or {},
        "monitoring_role": None,
        "backup": None,
        # Always the role's own key of that Region (the module docstring says why).
        "event_topic": {
            "name": name,
            "display_name": f"{identifier} events",
            "key_alias": f"alias/{name}",
            "kms_key_id": None,
            "creates_key": True,
        },
        "event_subscriptions": None,
        "alarms": None,
    }
    topic = topic_arn(desired)
    if baseline.get("event_subscriptions") is not None:
        desired["event_subscriptions"] = [
            {
                "name": subscription_name(s["name"], primary_identifier, identifier),
                "source_type": s["source_type"],
                # The instances' are the readers after the plan (plan_operations fills them in).
                "source_ids": [identifier] if s["source_type"] == "db-cluster" else [],
                "categories": list(s["categories"]),
                "topic_arn": topic,
            }
            for s in baseline["event_subscriptions"]
            if s["source_type"] in SOURCE_TYPES
        ]
    if baseline.get("alarms"):
        desired["alarms"] = dict(
            baseline["alarms"],
            cluster_identifier=identifier,
            topic_arn=topic,
            global_replication_lag=True,
        )
        desired["alarms"].pop("alarm_plan", None)
    return desired


def removal_desired(baseline, identifier, primary_identifier):
    """What the secondary's removal reads: every subscription it may have (by the role's names) and its alarms."""
    names = [f"{identifier}-cluster-events", f"{identifier}-instance-events"]
    for s in (baseline or {}).get("event_subscriptions") or []:
        if s["source_type"] in SOURCE_TYPES:
            names.append(subscription_name(s["name"], primary_identifier, identifier))
    return {
        "cluster_identifier": identifier,
        "event_subscriptions": [{"name": name, "categories": []} for name in sorted(set(names))],
    }


# -- reading -------------------------------------------------------------------------------------


def read_operations(apis, desired, removal=False):
    """The secondary Region's topic key, topic, subscriptions and alarms, each a chain, side by side (api.concurrently).
    ``apis``: that Region's {"kms", "sns", "rds", "cloudwatch"}. A removal reads the subscriptions and alarms only."""
    found = {"event_topic_key": None, "event_topic": None, "event_subscriptions": {}, "alarms": {}}
    jobs = []
    if not removal:
        jobs.append(("event_topic_key", lambda: read_topic_key(apis["kms"], desired)))
        jobs.append(("event_topic", lambda: read_topic(apis["sns"], desired)))
    if desired.get("event_subscriptions"):
        jobs.append(("event_subscriptions", lambda: read_subscriptions(apis["rds"], desired)))
    if removal or desired.get("alarms"):
        jobs.append(("alarms", lambda: read_alarms(apis["cloudwatch"], desired["cluster_identifier"])))
    found.update({name: value if value is not None else found[name] for name, value in concurrently(jobs).items()})
    return found


# -- planning ------------------------------------------------------------------------------------


def readers_after(stack, region_actions, identifier):
    """The secondary's instances once its planned instance steps are made: [{id, instance_class, writer: False}]."""
    classes = {
        i.get("DBInstanceIdentifier"): i.get("DBInstanceClass")
        for i in (stack or {}).get("instances") or []
        if i.get("DBInstanceStatus") != "deleting" and i.get("DBInstanceIdentifier")
    }
    for action in region_actions:
        if action.resource != "instance":
            continue
        if action.change == "create":
            classes[action.name] = (action.request.get("params") or {}).get("db_instance_class")
        elif action.change == "delete":
            classes.pop(action.name, None)
        elif action.change == "modify" and action.when == NOW:
            for change in action.changes:
                if change.get("attribute") == "db_instance_class":
                    classes[action.name] = change.get("after")
    # A secondary cluster has no writer: every instance is a reader (after a switchover too, by the same rules).
    return [{"id": name, "instance_class": classes[name], "writer": False} for name in sorted(classes)]


def plan_reader_monitoring(stack, readers, region):
    """Enhanced Monitoring and Performance Insights of the secondary's existing readers set back to the primary's
    settings (``readers``: global_plan.wanted_readers): one ModifyDBInstance each that differs, online, applied now.
    A setting missing from the description is unknown (moto leaves Performance Insights out): no change."""
    have = {i.get("DBInstanceIdentifier"): i for i in (stack or {}).get("instances") or []}
    attributes = [a for a in ATTRIBUTES if a.option in MONITORING]
    actions = []
    for reader in readers:
        identifier = reader["db_instance_identifier"]
        instance = have.get(identifier)
        if instance is None or instance.get("DBInstanceStatus") == "deleting":
            continue
        wanted = {k: v for k, v in desired_state(reader).items() if k in MONITORING}
        changes = plan_changes(attributes, effective_state(instance), wanted)
        if not changes:
            continue
        actions.append(
            Action(
                "instance",
                identifier,
                "modify",
                [{k: c[k] for k in ("attribute", "before", "after")} for c in changes],
                impact=ONLINE,
                calls=["ModifyDBInstance"],
                note="as the primary's instances: Enhanced Monitoring and Performance Insights",
                request={"changes": changes, "params": reader},
            )
        )
    return in_region(actions, region)


def plan_operations(current, desired, members, region):
    """(actions, alarms wanted, alarms skipped): the topic's key, the topic, its encryption and the subscriptions,
    then the alarms, as the primary's are planned (baseline_plan, alarm_plan). Pure: no AWS call."""
    actions = plan_key("event_topic_key", STACK, current.get("event_topic_key"), topic_key_request(desired))
    actions += plan_topic(current.get("event_topic"), desired)
    subscriptions = desired.get("event_subscriptions")
    if subscriptions is not None:
        readers = [m["id"] for m in members]
        subscriptions = [dict(s, source_ids=readers) if s["source_type"] == "db-instance" else s for s in subscriptions]
        desired["event_subscriptions"] = subscriptions
        kept = [s for s in subscriptions if s["categories"]]
        first = kept[0] if kept else None
        actions += plan_topic_encryption(current.get("event_topic"), desired, first)
        existing = current.get("event_subscriptions") or {}
        for subscription in subscriptions:
            own_key = topic_key(desired) if first is not None and subscription["name"] == first["name"] else None
            actions += plan_subscription(existing.get(subscription["name"]), desired, subscription, own_key)
    wanted, skipped = [], []
    if desired.get("alarms"):
        alarm_actions, wanted, skipped = plan_alarms(current.get("alarms"), desired["alarms"], members)
        actions += alarm_actions
    return in_region(actions, region), wanted, skipped


def plan_operations_removal(current, identifier, region):
    """The secondary's subscriptions and alarms deleted with it; its topic and the topic's key are kept."""
    actions = []
    for name in sorted((current or {}).get("event_subscriptions") or {}):
        actions.append(
            Action(
                "event_subscription",
                name,
                "delete",
                [{"attribute": "subscription", "before": name, "after": None}],
                impact=ONLINE,
                calls=["DeleteEventSubscription"],
                note="its source, the secondary cluster, is removed",
            )
        )
    alarms = (current or {}).get("alarms") or {}
    names = sorted(alarms)
    for start in range(0, len(names), DELETE_BATCH):
        batch = names[start : start + DELETE_BATCH]
        actions.append(
            Action(
                "alarms",
                f"{alarm_prefix(identifier)}*",
                "delete",
                [{"attribute": name, "before": condition_words(alarms[name]), "after": None} for name in batch],
                impact=ONLINE,
                calls=["DeleteAlarms"],
                note="the secondary cluster and its instances are removed",
                request={"names": batch},
            )
        )
    return in_region(actions, region)


def operations_outputs(desired, wanted, skipped):
    """The outputs' global_database.operations: the secondary Region's topic, subscriptions and alarms."""
    if desired is None:
        return None
    return {
        "event_topic_arn": topic_arn(desired),
        "event_topic_kms_key": desired["event_topic"]["key_alias"],
        "event_subscriptions": [s["name"] for s in desired.get("event_subscriptions") or [] if s["categories"]],
        "alarm_prefix": alarm_prefix(desired["cluster_identifier"]),
        "alarms": [alarm["name"] for alarm in wanted],
        "alarms_skipped": [dict(entry) for entry in skipped],
    }


# -- applying ------------------------------------------------------------------------------------


class Operations:
    """Carries out the secondary Region's topic, key, subscription and alarm steps with that Region's clients.

    ``current``: read_operations' answer (the ARNs of what exists); ``warnings``: the run's list of warnings;
    ``topic_arns``: {name: ARN} of topics made before this run's steps (the stack Region's, by the role's task).

    aurora_stack also runs the stack Region's topic key, event subscription and AWS Backup (vaults, copy key, plan,
    selection) steps with it (the baseline's clients and read)."""

    def __init__(self, apis, current, warnings, topic_arns=None):
        self.apis = apis
        self.current = current or {}
        self.warnings = warnings
        key = self.current.get("event_topic_key") or {}
        self.key_id = key.get("arn") or key.get("key_id")
        copy_key = self.current.get("backup_copy_key") or {}
        self.copy_key_id = copy_key.get("arn") or copy_key.get("key_id")
        # The ARNs of the vaults and the plan, as read or as made by this run's steps.
        self.backup_arns = {
            resource: (self.current.get(resource) or {}).get("arn")
            for resource in ("backup_vault", "backup_copy_vault", "backup_plan")
        }
        # The plan's ID, as read or as made by this run's plan step: its rule updates and the selection use it.
        self.backup_plan_id = (self.current.get("backup_plan") or {}).get("id")
        self.topic_arns = dict(topic_arns or {})

    def run(self, action):
        method = getattr(self, f"{action.resource}_step")
        method(action)

    # the topic's key, and the backup copy vault's key in the copy Region: what amazon.aws.kms_key does, call for
    # planned call

    def event_topic_key_step(self, action):
        self.key_id = self.key_step(action, self.apis["kms"], self.key_id)

    def backup_copy_key_step(self, action):
        self.copy_key_id = self.key_step(action, self.apis["kms_copy"], self.copy_key_id)

    @staticmethod
    def key_step(action, kms, key_id):
        """One planned step of a key found by its alias; the key's ARN, the one CreateKey answered when it made it."""
        request, context = action.request, action.label()
        if action.change == "create":
            # No idempotency token: a lost answer leaves a key without the alias, and the next run makes another
            # (as kms_key does); the alias is what finds the key. Without a policy, the key's default one.
            policy = {"Policy": json.dumps(request["policy"])} if "policy" in request else {}
            made = kms.call(
                "create_key",
                Description=request["description"],
                Tags=[{"TagKey": k, "TagValue": str(v)} for k, v in sorted(request["tags"].items())],
                context=context,
                **policy,
            )
            return made["KeyMetadata"].get("Arn") or made["KeyMetadata"]["KeyId"]
        if action.change == "create alias":
            kms.create(
                "create_alias",
                exists=lambda: (
                    kms.call("describe_key", not_found=NOT_FOUND["kms_key"], KeyId=request["alias"]) is not None
                ),
                already_exists=("AlreadyExistsException",),
                context=context,
                AliasName=request["alias"],
                TargetKeyId=key_id,
            )
        elif action.change == "enable rotation":
            kms.call("enable_key_rotation", KeyId=key_id, context=context)
        elif action.change == "cancel deletion":
            kms.call("cancel_key_deletion", KeyId=key_id, context=context)
        elif action.change == "enable":
            kms.call("enable_key", KeyId=key_id, context=context)
        elif action.change == "update description":
            kms.call("update_key_description", KeyId=key_id, Description=request["description"], context=context)
        elif action.change == "update key policy":
            kms.call(
                "put_key_policy",
                KeyId=key_id,
                PolicyName="default",
                Policy=json.dumps(request["policy"]),
                context=context,
            )
        elif action.change == "set tags":
            kms.call("tag_resource", KeyId=key_id, Tags=Operations.tags(action, "TagKey", "TagValue"), context=context)
        elif action.change == "remove tags":
            kms.call("untag_resource", KeyId=key_id, TagKeys=Operations.removed(action), context=context)
        else:
            raise ValueError(f"no step for {action.label()}: {action.change}")
        return key_id

    # the topic: what community.aws.sns_topic does

    def topic(self, name):
        """The topic's ARN: the one read, or the one CreateTopic answered in this run."""
        return self.topic_arns.get(name) or (self.current.get("event_topic") or {}).get("arn")

    def event_topic_step(self, action):
        sns, context = self.apis["sns"], action.label()
        if action.change == "create":
            # CreateTopic is idempotent by name: a retried request whose answer was lost gets the same topic.
            made = sns.call(
                "create_topic",
                Name=action.name,
                Tags=[{"Key": k, "Value": str(v)} for k, v in sorted(action.request["tags"].items())],
                context=context,
            )
            self.topic_arns[action.name] = made["TopicArn"]
            return
        arn = self.topic(action.name)
        if action.change == "set display name":
            sns.call(
                "set_topic_attributes",
                TopicArn=arn,
                AttributeName="DisplayName",
                AttributeValue=action.request["display_name"],
                context=context,
            )
        elif action.change == "set policy":
            sns.call(
                "set_topic_attributes",
                TopicArn=arn,
                AttributeName="Policy",
                AttributeValue=json.dumps(action.request["policy"]),
                context=context,
            )
        elif action.change == "set encryption key":
            sns.call(
                "set_topic_attributes",
                TopicArn=arn,
                AttributeName="KmsMasterKeyId",
                AttributeValue=action.changes[0]["after"],
                context=context,
            )
        elif action.change == "set tags":
            sns.call("tag_resource", ResourceArn=arn, Tags=self.tags(action, "Key", "Value"), context=context)
        elif action.change == "remove tags":
            sns.call("untag_resource", ResourceArn=arn, TagKeys=self.removed(action), context=context)
        else:
            raise ValueError(f"no step for {action.label()}: {action.change}")

    # the subscriptions: what aurora_event_subscription does

    def read_subscription(self, name):
        return self.apis["rds"].describe_one(
            "describe_event_subscriptions",
            "EventSubscriptionsList",
            not_found=NOT_FOUND["event_subscription"],
            context=f"event subscription {name}",
            SubscriptionName=name,
        )

    def event_subscription_step(self, action):
        rds, request, name, context = self.apis["rds"], action.request, action.name, action.label()
        if action.change == "create":
            # The name is the idempotency: a retried request whose answer was lost meets SubscriptionAlreadyExist.
            made = rds.create(
                "create_event_subscription",
                exists=lambda: self.read_subscription(name) is not None,
                already_exists=("SubscriptionAlreadyExist", "SubscriptionAlreadyExistFault"),
                context=context,
                SubscriptionName=name,
                SnsTopicArn=request["sns_topic_arn"],
                SourceType=request["source_type"],
                SourceIds=list(request["source_ids"]),
                EventCategories=list(request["event_categories"]),
                Enabled=True,
                Tags=[{"Key": k, "Value": str(v)} for k, v in sorted(request["tags"].items())],
            )
            if made is None:
                self.warnings.append(f"{context} was found made meanwhile (a retried request whose answer was lost)")
        elif action.change == "delete":
            rds.call(
                "delete_event_subscription",
                SubscriptionName=name,
                not_found=NOT_FOUND["event_subscription"],
                context=context,
            )
        elif action.change == "add sources":
            before, after = action.changes[0]["before"], action.changes[0]["after"]
            for source in sorted(set(after) - set(before)):
                rds.call(
                    "add_source_identifier_to_subscription",
                    SubscriptionName=name,
                    SourceIdentifier=source,
                    context=context,
                )
        elif action.change == "remove sources":
            before, after = action.changes[0]["before"], action.changes[0]["after"]
            for source in sorted(set(before) - set(after)):
                rds.call(
                    "remove_source_identifier_from_subscription",
                    SubscriptionName=name,
                    SourceIdentifier=source,
                    context=context,
                )
        elif action.change in ("set tags", "remove tags"):
            arn = ((self.current.get("event_subscriptions") or {}).get(name) or {}).get("EventSubscriptionArn")
            if action.change == "set tags":
                rds.call(
                    "add_tags_to_resource", ResourceName=arn, Tags=self.tags(action, "Key", "Value"), context=context
                )
            else:
                rds.call("remove_tags_from_resource", ResourceName=arn, TagKeys=self.removed(action), context=context)
        else:
            # modify, change topic, change source type, update categories, enable: one ModifyEventSubscription.
            rds.call(
                "modify_event_subscription",
                SubscriptionName=name,
                SnsTopicArn=request["sns_topic_arn"],
                SourceType=request["source_type"],
                EventCategories=list(request["event_categories"]),
                Enabled=True,
                context=context,
            )

    # AWS Backup's vaults and plan: what amazon.aws.backup_vault and backup_plan do, call for planned call

    def backup_vault_step(self, action):
        self.vault_step(action, self.apis["backup"], "backup_vault")

    def backup_copy_vault_step(self, action):
        # The key given (aurora_cluster_backup_copy_kms_key_arn), else the role's key in the copy Region.
        key = action.request.get("encryption_key_arn") or self.copy_key_id
        self.vault_step(action, self.apis["backup_copy"], "backup_copy_vault", key)

    def vault_step(self, action, backup, resource, key=None):
        request, context = action.request, action.label()
        name = request["backup_vault_name"]
        if action.change == "create":
            # botocore fills CreatorRequestId, the idempotency token, once per call and sends it unchanged on each
            # retry: a retry of a create whose answer was lost is answered with that create's vault. A vault of the
            # name made meanwhile (another run) is found by reading it. AWS fixes the vault's key here.
            made = backup.create(
                "create_backup_vault",
                exists=lambda: self.read_vault(backup, name) is not None,
                already_exists=("AlreadyExistsException",),
                context=context,
                BackupVaultName=name,
                BackupVaultTags={k: str(v) for k, v in sorted(request["tags"].items())},
                **({"EncryptionKeyArn": key} if key else {}),
            )
            if made is None:
                self.warnings.append(f"{context} was found made meanwhile (by another run)")
                made = self.read_vault(backup, name) or {}
            self.backup_arns[resource] = made.get("BackupVaultArn")
        elif action.change in ("set tags", "remove tags"):
            self.tag_step(action, backup, self.backup_arns[resource])
        else:
            raise ValueError(f"no step for {context}: {action.change}")

    @staticmethod
    def read_vault(backup, name):
        return backup.call(
            "describe_backup_vault",
            not_found=NOT_FOUND["backup_vault"],
            context=f"backup vault {name}",
            BackupVaultName=name,
        )

    def backup_plan_step(self, action):
        backup, request, context = self.apis["backup"], action.request, action.label()
        name = request["backup_plan_name"]
        # The API's names of the planner's rule (rule_name -> RuleName, lifecycle.delete_after_days -> ...).
        document = {
            "BackupPlanName": name,
            "Rules": [snake_dict_to_camel_dict(rule, capitalize_first=True) for rule in request["rules"]],
        }
        if action.change == "create":
            # CreatorRequestId, as for the vaults: botocore's retry of a create whose answer was lost is answered with
            # that create's plan. AWS keeps plan names unique: another run's plan of the name is found by listing.
            made = backup.create(
                "create_backup_plan",
                exists=lambda: find_backup_plan(backup, name) is not None,
                already_exists=("AlreadyExistsException",),
                context=context,
                BackupPlan=document,
                BackupPlanTags={k: str(v) for k, v in sorted(request["tags"].items())},
            )
            if made is None:
                made = find_backup_plan(backup, name)
                if made is None:
                    # Else the selection, later in this run, would fail naming a plan it cannot find.
                    raise ValueError(
                        f"{context}: AWS answered that the plan exists, but no plan of that name is listed (yet); "
                        "re-run provision: it plans again from what exists then"
                    )
                self.warnings.append(f"{context} was found made meanwhile (by another run)")
            self.backup_arns["backup_plan"] = made.get("BackupPlanArn")
            # The selection's step, later in this run, selects the cluster in this plan.
            self.backup_plan_id = made.get("BackupPlanId")
        elif action.change == "update rule":
            backup.call("update_backup_plan", BackupPlanId=self.backup_plan_id, BackupPlan=document, context=context)
        elif action.change in ("set tags", "remove tags"):
            self.tag_step(action, backup, self.backup_arns["backup_plan"])
        else:
            raise ValueError(f"no step for {context}: {action.change}")

    def tag_step(self, action, backup, arn):
        """AWS Backup's tags of a vault or a plan: TagResource with a map, UntagResource with the keys."""
        if not arn:
            raise ValueError(f"{action.label()}: its ARN is not known to change its tags")
        if action.change == "set tags":
            tags = {t["Key"]: str(t["Value"]) for t in self.tags(action, "Key", "Value")}
            backup.call("tag_resource", ResourceArn=arn, Tags=tags, context=action.label())
        else:
            backup.call("untag_resource", ResourceArn=arn, TagKeyList=self.removed(action), context=action.label())

    # the backup selection: what amazon.aws.backup_selection does, once the cluster it names exists

    def backup_selection_step(self, action):
        backup, request, context = self.apis["backup"], action.request, action.label()
        name = request["selection_name"]
        # The plan's ID as this call's plan read it, or as the plan step before it made it.
        plan_id = self.backup_plan_id
        if not plan_id:
            raise ValueError(
                f"{context}: backup plan {request['backup_plan_name']} was not found to select the cluster in"
            )
        if action.change == "delete to replace":
            selection_id = (self.current.get("backup_selection") or {}).get("SelectionId")
            backup.call(
                "delete_backup_selection",
                BackupPlanId=plan_id,
                SelectionId=selection_id,
                not_found=NOT_FOUND["backup_selection"],
                context=context,
            )
            return
        if action.change not in ("create", "create again"):
            raise ValueError(f"no step for {context}: {action.change}")
        # botocore fills CreatorRequestId, the idempotency token, once per call and sends it unchanged on each retry:
        # a retry of a create whose answer was lost is answered with that create's selection. A selection of the name
        # made meanwhile (another run) is found by reading it.
        made = backup.create(
            "create_backup_selection",
            exists=lambda: read_backup_selection(backup, name, plan_id) is not None,
            already_exists=("AlreadyExistsException",),
            context=context,
            BackupPlanId=plan_id,
            BackupSelection={
                "SelectionName": name,
                "IamRoleArn": request["iam_role_arn"],
                "Resources": list(request["resources"]),
            },
        )
        if made is None:
            self.warnings.append(f"{context} was found made meanwhile (by another run)")

    # the alarms

    def alarm_step(self, action):
        # PutMetricAlarm creates the alarm or replaces its whole definition: the same request for both.
        self.apis["cloudwatch"].call("put_metric_alarm", context=action.label(), **action.request["put"])

    def alarms_step(self, action):
        self.apis["cloudwatch"].call("delete_alarms", AlarmNames=list(action.request["names"]), context=action.label())

    @staticmethod
    def tags(action, key_name, value_name):
        return [
            {key_name: c["attribute"][len("tags.") :], value_name: c["after"]}
            for c in action.changes
            if c["after"] is not None
        ]

    @staticmethod
    def removed(action):
        return [c["attribute"][len("tags.") :] for c in action.changes if c["after"] is None]


__all__ = [
    "RESOURCES",
    "SERVICES",
    "Operations",
    "operations_outputs",
    "plan_operations",
    "plan_operations_removal",
    "plan_reader_monitoring",
    "read_operations",
    "readers_after",
    "removal_desired",
    "secondary_desired",
]
