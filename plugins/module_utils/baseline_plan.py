# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operations baseline in the one planner: read it once, plan it as Actions (plan.py).

The baseline is what the role builds beside the Aurora stack: with amazon.aws / community.aws modules, the
Enhanced Monitoring role, the AWS Backup role and the SNS topic of the RDS events; with aurora_stack's own steps
(runner ``stack``, secondary_ops.Operations), the topic's own KMS key, the event subscriptions, AWS Backup's vault,
copy key, copy vault and plan, and the backup plan's selection of the cluster. This file predicts, call by call, what each of
them would change, so that a run with nothing to do runs none of them.

``read_baseline(apis, desired)`` reads the current state (``apis``: {"iam", "backup", "sns", "kms", "rds", "cloudwatch",
"backup_copy", "kms_copy"}, each an api.AwsApi, the last two in the backup copy Region; only the services ``desired``
needs are used). ``plan_baseline(current, desired)`` is
pure: no AWS call. The documents the tasks send (trust policies, key and topic policies, descriptions,
the backup rule) are built here, one function each (``monitoring_role_request``, ``backup_trust``,
``topic_policy``, ...), and each Action carries in ``request`` the module parameters of its runner, so the
role can pass them from the plan instead of building them again in Jinja.

``desired`` (built by the role from its typed variables)::

    {
      "account_id": "123456789012", "partition": "aws", "region": "us-east-1",
      "cluster_identifier": "vitality-prod-aurora",
      "tags": {...},                      # every resource's tags; tags not listed are removed (purge)
      "monitoring_role": {"name": ...} or None,   # None: monitoring off, or the user gave a role ARN
      "monitoring_regions": ["us-west-2"] or absent,   # the global database's secondary Region, whose readers the
                                          # role monitors too
      "backup": {"role_name", "vault_name", "plan_name", "schedule", "start_window_minutes",
                 "retention_days",
                 "copy_region": {"region", "vault_name", "retention_days", "kms_key_arn"} or None,
                                          # a vault of the stack in another Region, encrypted with kms_key_arn or
                                          # else the role's own key there (alias/<vault_name>-backup-copies)
                 "copy_account": {"vault_arn", "retention_days"} or None} or None,
      "event_topic": {"name", "display_name", "creates_key": bool, "key_alias", "kms_key_id"} or None,
                                          # None: notifications off, or the user gave a topic ARN
      "event_subscriptions": [{"name", "source_type", "source_ids", "categories", "topic_arn"}] or None,
                                          # categories []: the subscription must not exist
      "alarms": {...} or None,            # the CloudWatch alarms (alarm_plan.py's docstring); None: off
    }

With ``alarms``, the role's topic and its key also let CloudWatch publish (``topic_policy``, ``topic_key_policy``),
and ``read_baseline`` reads the role's alarms (one DescribeAlarms). They are planned by alarm_plan.plan_alarms once
the stack's own steps are known, since they follow the instances the cluster has after them.

``event_topic.display_name`` defaults to "<cluster_identifier> events" and ``key_alias`` to
"alias/<topic name>" when absent or empty. The topic's encryption key (``kms_key_id`` or else
``key_alias``) is set right before the first subscription kept, as aurora_event_subscription's
sns_topic_kms_key_id does. The subscriptions' steps and that one are aurora_stack's own (runner ``stack``,
after the instances' steps: an instance must exist to be a source); secondary_ops.Operations carries them out.

``current`` (read_baseline's answer) holds, per resource, None when it does not exist, else a dict of what
was read. An attribute AWS always returns but that was missing from the answer (moto returns less than AWS
for some) is left out of that dict: it is unknown, and the plan then proposes no change of it.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict, compare_aws_tags

from ansible_collections.vitality.aurora.plugins.module_utils.alarm_plan import read_alarms
from ansible_collections.vitality.aurora.plugins.module_utils.api import concurrently, tag_changes, tags_to_dict
from ansible_collections.vitality.aurora.plugins.module_utils.plan import (
    IMPOSSIBLE,
    ONLINE,
    STACK,
    Action,
    change_words,
)

# The error codes that mean "there is no such resource", per kind of read.
NOT_FOUND = {
    "iam_role": ("NoSuchEntity", "NoSuchEntityException"),
    # amazon.aws.backup_vault treats AccessDeniedException of DescribeBackupVault as "no vault" (AWS Backup
    # answers it for a vault that does not exist) and then creates one; the plan reads it the same way.
    "backup_vault": ("ResourceNotFoundException", "AccessDeniedException"),
    "backup_plan": ("ResourceNotFoundException",),
    "backup_selection": ("ResourceNotFoundException",),
    "kms_key": ("NotFoundException",),
    "event_topic": ("NotFound", "NotFoundException"),
    "event_subscription": ("SubscriptionNotFound", "SubscriptionNotFoundFault"),
}

MONITORING_POLICY = "arn:{partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
BACKUP_POLICY = "arn:{partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
BACKUP_RULE_NAME = "scheduled"
# The defaults amazon.aws.backup_plan fills into every rule (its argument spec).
BACKUP_RULE_DEFAULTS = {
    "completion_window_minutes": 10080,
    "schedule_expression_timezone": "Etc/UTC",
    "enable_continuous_backup": False,
}
# amazon.aws.backup_selection compares these fields of the selection, each defaulting to [].
SELECTION_FIELDS = ("Resources", "ListOfTags", "NotResources", "Conditions")
EMPTY_CONDITIONS = '{"StringEquals": [], "StringLike": [], "StringNotEquals": [], "StringNotLike": []}'


# -- names and ARNs ------------------------------------------------------------------------


def role_arn(desired, name):
    return f"arn:{desired['partition']}:iam::{desired['account_id']}:role/{name}"


def cluster_arn(desired):
    return f"arn:{desired['partition']}:rds:{desired['region']}:{desired['account_id']}:cluster:{desired['cluster_identifier']}"


def topic_arn(desired):
    return (
        f"arn:{desired['partition']}:sns:{desired['region']}:{desired['account_id']}:{desired['event_topic']['name']}"
    )


def copy_vault_arn(desired):
    copy = desired["backup"]["copy_region"]
    return (
        f"arn:{desired['partition']}:backup:{copy['region']}:{desired['account_id']}:backup-vault:{copy['vault_name']}"
    )


def copy_key_alias(desired):
    return f"alias/{desired['backup']['copy_region']['vault_name']}-backup-copies"


def account_root(desired):
    return f"arn:{desired['partition']}:iam::{desired['account_id']}:root"


def key_alias(desired):
    topic = desired["event_topic"]
    return topic.get("key_alias") or f"alias/{topic['name']}"


def topic_key(desired):
    """The key the role's topic must be encrypted with: the user's, or the role's own by its alias."""
    topic = desired["event_topic"]
    return topic.get("kms_key_id") or key_alias(desired)


def all_tags(desired):
    return {str(key): str(value) for key, value in (desired.get("tags") or {}).items()}


# -- the documents the tasks send ----------------------------------------------------------


def monitoring_source_arns(desired):
    """The DB instances RDS may assume the role for: this account's in the stack's Region, and in the Aurora Global
    Database's secondary Region (``monitoring_regions``), whose readers use the same role (IAM is global). One Region:
    the ARN itself, as the role's task has always sent it."""
    regions = [desired["region"]] + [r for r in desired.get("monitoring_regions") or [] if r and r != desired["region"]]
    arns = [f"arn:{desired['partition']}:rds:{region}:{desired['account_id']}:db:*" for region in regions]
    return arns[0] if len(arns) == 1 else arns


def monitoring_trust(desired):
    """Confused-deputy protection: RDS may assume the role only for this account's DB instances in the region (and
    the secondary Region's)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": desired["account_id"]},
                    "ArnLike": {"aws:SourceArn": monitoring_source_arns(desired)},
                },
            }
        ],
    }


def backup_trust(desired):
    """AWS Backup may assume the role only on behalf of this account (it documents no aws:SourceArn here)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "backup.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": desired["account_id"]}},
            }
        ],
    }


def topic_key_policy(desired):
    """The account administers the key; RDS events of this account may use it to publish to the topic; with alarms,
    CloudWatch may too."""
    statements = [
        {
            "Sid": "AccountAdministersTheKey",
            "Effect": "Allow",
            "Principal": {"AWS": account_root(desired)},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "RdsEventsUseTheKey",
            "Effect": "Allow",
            "Principal": {"Service": "events.rds.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": desired["account_id"]}},
        },
    ]
    if desired.get("alarms"):
        # As AWS documents it for alarms publishing to an encrypted topic, without a condition: which alarms may
        # publish is the topic policy's to confine (aws:SourceAccount, aws:SourceArn), and the key serves this
        # topic only.
        statements.append(
            {
                "Sid": "CloudWatchAlarmsUseTheKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def topic_policy(desired):
    """The account manages the topic; RDS publishes the events of this account's subscriptions; with alarms,
    CloudWatch publishes this account's alarms."""
    arn = topic_arn(desired)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManagesTheTopic",
                "Effect": "Allow",
                "Principal": {"AWS": account_root(desired)},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": arn,
            },
            {
                "Sid": "RdsPublishesEvents",
                "Effect": "Allow",
                "Principal": {"Service": "events.rds.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": arn,
                "Condition": {
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{desired['partition']}:rds:{desired['region']}:{desired['account_id']}:es:*"
                    },
                    "StringEquals": {"aws:SourceAccount": desired["account_id"]},
                },
            },
        ]
        + (
            [
                {
                    # Any alarm of this account in the region, not only the role's: the on-call topic may take
                    # the team's own alarms too.
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": arn,
                    "Condition": {
                        "ArnLike": {
                            "aws:SourceArn": (
                                f"arn:{desired['partition']}:cloudwatch:{desired['region']}:{desired['account_id']}:alarm:*"
                            )
                        },
                        "StringEquals": {"aws:SourceAccount": desired["account_id"]},
                    },
                }
            ]
            if desired.get("alarms")
            else []
        ),
    }


def monitoring_role_request(desired):
    """amazon.aws.iam_role's parameters for the Enhanced Monitoring role (the role's apply.yml)."""
    return {
        "name": desired["monitoring_role"]["name"],
        "description": f"Lets RDS publish the Enhanced Monitoring metrics of {desired['cluster_identifier']}",
        "assume_role_policy_document": monitoring_trust(desired),
        "managed_policies": [MONITORING_POLICY.format(partition=desired["partition"])],
        "purge_policies": True,
        "create_instance_profile": False,
        "tags": all_tags(desired),
        "purge_tags": True,
    }


def backup_role_request(desired):
    """amazon.aws.iam_role's parameters for the role AWS Backup uses (the role's apply.yml)."""
    return {
        "name": desired["backup"]["role_name"],
        "description": f"Lets AWS Backup back up {desired['cluster_identifier']}",
        "assume_role_policy_document": backup_trust(desired),
        "managed_policies": [BACKUP_POLICY.format(partition=desired["partition"])],
        "purge_policies": True,
        "create_instance_profile": False,
        "tags": all_tags(desired),
        "purge_tags": True,
    }


def backup_vault_request(desired):
    return {"backup_vault_name": desired["backup"]["vault_name"], "tags": all_tags(desired), "purge_tags": True}


def copy_key_request(desired):
    """The request of the role's own key of the copy vault, in the copy Region (aurora_stack's step, as
    amazon.aws.kms_key takes it). No policy: the
    key's default one lets this account's IAM policies grant its use (AWS Backup's role has them)."""
    copy = desired["backup"]["copy_region"]
    return {
        "alias": copy_key_alias(desired),
        "description": f"{desired['cluster_identifier']} AWS Backup copies (vault {copy['vault_name']} in {copy['region']})",
        "enable_key_rotation": True,
        "tags": all_tags(desired),
        "purge_tags": True,
        "region": copy["region"],
    }


def copy_vault_request(desired):
    """The request of the copy vault (aurora_stack's step, as amazon.aws.backup_vault takes it); its key ARN is the
    role's key's when it makes one."""
    copy = desired["backup"]["copy_region"]
    request = {
        "backup_vault_name": copy["vault_name"],
        "tags": all_tags(desired),
        "purge_tags": True,
        "region": copy["region"],
    }
    if copy.get("kms_key_arn"):
        request["encryption_key_arn"] = copy["kms_key_arn"]
    return request


def copy_actions(desired):
    """The rule's copy actions: to the stack's vault in the copy Region, then to the other account's vault."""
    backup = desired["backup"]
    actions = []
    if backup.get("copy_region"):
        actions.append(
            {
                "destination_backup_vault_arn": copy_vault_arn(desired),
                "lifecycle": {"delete_after_days": int(backup["copy_region"]["retention_days"])},
            }
        )
    if backup.get("copy_account"):
        actions.append(
            {
                "destination_backup_vault_arn": backup["copy_account"]["vault_arn"],
                "lifecycle": {"delete_after_days": int(backup["copy_account"]["retention_days"])},
            }
        )
    return actions


def backup_rule(desired):
    """The plan's one rule, as the planner compares it with the plan read (it sets no recovery point tags)."""
    backup = desired["backup"]
    rule = {
        "rule_name": BACKUP_RULE_NAME,
        "target_backup_vault_name": backup["vault_name"],
        "schedule_expression": backup["schedule"],
        "start_window_minutes": int(backup["start_window_minutes"]),
        "lifecycle": {"delete_after_days": int(backup["retention_days"])},
    }
    copies = copy_actions(desired)
    # Absent rather than empty: backup_plan drops an option left out, and AWS returns no CopyActions then.
    if copies:
        rule["copy_actions"] = copies
    return rule


def backup_plan_request(desired):
    """The plan as aurora_stack makes it: its one rule with the fields AWS would default set as the plan compares them
    (what is sent is what is compared; amazon.aws.backup_plan sent the same defaults)."""
    return {
        "backup_plan_name": desired["backup"]["plan_name"],
        "rules": [dict(BACKUP_RULE_DEFAULTS, **backup_rule(desired))],
        # The stack's tags, as on its vault: who owns the plan and what it costs is read from them too.
        "tags": all_tags(desired),
    }


def backup_selection_request(desired, iam_role_arn=None):
    backup = desired["backup"]
    return {
        "selection_name": backup["plan_name"],
        "backup_plan_name": backup["plan_name"],
        "iam_role_arn": iam_role_arn or role_arn(desired, backup["role_name"]),
        "resources": [cluster_arn(desired)],
    }


def topic_key_request(desired):
    """The request of the role's own key of the events topic (aurora_stack's step, as amazon.aws.kms_key takes it)."""
    topic = desired["event_topic"]
    return {
        "alias": key_alias(desired),
        "description": f"{desired['cluster_identifier']} RDS event notifications (SNS topic {topic['name']})",
        "policy": topic_key_policy(desired),
        "enable_key_rotation": True,
        "tags": all_tags(desired),
        "purge_tags": True,
    }


def topic_request(desired):
    """community.aws.sns_topic's parameters for the events topic (the role's apply.yml)."""
    topic = desired["event_topic"]
    return {
        "name": topic["name"],
        "display_name": topic.get("display_name") or f"{desired['cluster_identifier']} events",
        "policy": topic_policy(desired),
        "purge_subscriptions": False,
        "tags": all_tags(desired),
        "purge_tags": True,
    }


def subscription_request(desired, subscription, key_id=None):
    """aurora_event_subscription's parameters for one subscription (absent when it has no category)."""
    if not subscription["categories"]:
        return {"name": subscription["name"], "state": "absent"}
    request = {
        "name": subscription["name"],
        "state": "present",
        "sns_topic_arn": subscription["topic_arn"],
        "source_type": subscription["source_type"],
        "source_ids": list(subscription["source_ids"]),
        "event_categories": list(subscription["categories"]),
        "enabled": True,
        "tags": all_tags(desired),
        "purge_tags": True,
    }
    if key_id:
        request["sns_topic_kms_key_id"] = key_id
    return request


def module_args(desired):
    """The parameters of the role's amazon.aws task of each baseline resource, by the plan's resource name: the
    requests the plan compares the stack with, so that the task makes exactly what the plan shows."""
    args = {}
    if desired.get("monitoring_role"):
        args["monitoring_role"] = monitoring_role_request(desired)
    if desired.get("event_topic"):
        args["event_topic"] = topic_request(desired)
    if desired.get("backup"):
        # The vaults, the copy key and the plan are aurora_stack's own steps: no task of the role's needs them.
        args["backup_role"] = backup_role_request(desired)
    return args


# -- reading -------------------------------------------------------------------------------


def policy_document(value):
    """A policy as AWS returns it (a dict, a JSON string, or a URL-encoded JSON string) as a dict."""
    if isinstance(value, dict):
        return value
    if not value:
        return None
    text = value if value.lstrip().startswith("{") else unquote(value)
    return json.loads(text)


def read_role(iam, name):
    """GetRole (trust, description, tags) and ListAttachedRolePolicies: 2 calls, 1 when there is no role."""
    response = iam.call("get_role", not_found=NOT_FOUND["iam_role"], context=f"IAM role {name}", RoleName=name)
    if response is None or not response.get("Role"):
        return None
    role = response["Role"]
    found = {
        "arn": role.get("Arn"),
        # IAM leaves Description and Tags out of GetRole when the role has none.
        "description": role.get("Description"),
        "tags": boto3_tag_list_to_ansible_dict(role.get("Tags") or []),
    }
    if role.get("AssumeRolePolicyDocument"):
        found["trust"] = policy_document(role["AssumeRolePolicyDocument"])
    attached = iam.paginate(
        "list_attached_role_policies",
        "AttachedPolicies",
        not_found=NOT_FOUND["iam_role"],
        context=f"IAM role {name}",
        RoleName=name,
    )
    found["policies"] = sorted(policy["PolicyArn"] for policy in attached or [])
    return found


def read_backup_vault(backup, desired):
    """The vault: 2 calls, 1 when there is none."""
    found = {"backup_vault": None}
    vault_name = desired["backup"]["vault_name"]
    vault = backup.call(
        "describe_backup_vault",
        not_found=NOT_FOUND["backup_vault"],
        context=f"backup vault {vault_name}",
        BackupVaultName=vault_name,
    )
    if vault and vault.get("BackupVaultArn"):
        tags = backup.call("list_tags", context=f"backup vault {vault_name}", ResourceArn=vault["BackupVaultArn"])
        found["backup_vault"] = {"arn": vault["BackupVaultArn"], "tags": dict((tags or {}).get("Tags") or {})}
    return found


def find_backup_plan(backup, plan_name):
    """The entry of ListBackupPlans of the plan of that name (its BackupPlanId and BackupPlanArn), or None."""
    listed = backup.paginate("list_backup_plans", "BackupPlansList", context=f"backup plan {plan_name}") or []
    return next((plan for plan in listed if plan.get("BackupPlanName") == plan_name), None)


def read_backup_plan(backup, desired):
    """The plan (3 calls) and its selection (2); fewer for what does not exist."""
    found = {"backup_plan": None, "backup_selection": None}
    plan_name = desired["backup"]["plan_name"]
    entry = find_backup_plan(backup, plan_name)
    if entry is None:
        return found
    plan_id = entry["BackupPlanId"]
    plan = backup.call(
        "get_backup_plan", not_found=NOT_FOUND["backup_plan"], context=f"backup plan {plan_name}", BackupPlanId=plan_id
    )
    if plan is None:
        return found
    plan_arn = plan.get("BackupPlanArn") or entry.get("BackupPlanArn")
    body = plan.get("BackupPlan") or {}
    # The plan's tags and its selection, side by side.
    read = concurrently(
        [
            ("tags", lambda: backup.call("list_tags", context=f"backup plan {plan_name}", ResourceArn=plan_arn)),
            ("selection", lambda: read_backup_selection(backup, plan_name, plan_id)),
        ]
    )
    tags = read["tags"]
    found["backup_selection"] = read["selection"]
    found["backup_plan"] = {
        "id": plan_id,
        "arn": plan_arn,
        "rules": [camel_dict_to_snake_dict(rule) for rule in body.get("Rules") or []],
        "advanced_backup_settings": camel_dict_to_snake_dict({"x": body.get("AdvancedBackupSettings", [])})["x"],
        "tags": dict((tags or {}).get("Tags") or {}),
    }

    return found


def read_backup_selection(backup, plan_name, plan_id):
    """The plan's selection of the role's name: 2 calls, 1 when there is none."""
    selections = backup.paginate(
        "list_backup_selections",
        "BackupSelectionsList",
        not_found=NOT_FOUND["backup_plan"],
        context=f"backup plan {plan_name}",
        BackupPlanId=plan_id,
    )
    chosen = next((s for s in selections or [] if s.get("SelectionName") == plan_name), None)
    if chosen is None:
        return None
    selection = backup.call(
        "get_backup_selection",
        not_found=NOT_FOUND["backup_selection"],
        context=f"backup selection {plan_name}",
        BackupPlanId=plan_id,
        SelectionId=chosen["SelectionId"],
    )
    if selection is None:
        return None
    return dict(selection.get("BackupSelection") or {}, SelectionId=chosen["SelectionId"])


def read_topic_key(kms, desired):
    return read_key(kms, key_alias(desired))


def read_key(kms, alias, with_policy=True):
    """DescribeKey by alias, then its tags, policy (``with_policy``) and rotation: 4 calls (3), 1 when there is no key."""
    described = kms.call("describe_key", not_found=NOT_FOUND["kms_key"], context=f"KMS key {alias}", KeyId=alias)
    metadata = (described or {}).get("KeyMetadata")
    if not metadata:
        return None
    key_id = metadata.get("Arn") or metadata["KeyId"]
    found = {"arn": metadata.get("Arn"), "key_id": metadata.get("KeyId")}
    if "KeyState" in metadata:
        found["state"] = metadata["KeyState"]
    if "Description" in metadata:
        found["description"] = metadata["Description"]
    context = f"KMS key {alias}"
    # The key's tags, policy and rotation, side by side once the key is found.
    reads = [
        ("tags", lambda: kms.paginate("list_resource_tags", "Tags", context=context, KeyId=key_id)),
        ("rotation", lambda: kms.call("get_key_rotation_status", context=context, KeyId=key_id)),
    ]
    if with_policy:
        reads.append(
            ("policy", lambda: kms.call("get_key_policy", context=context, KeyId=key_id, PolicyName="default"))
        )
    read = concurrently(reads)
    found["tags"] = boto3_tag_list_to_ansible_dict(read["tags"] or [], "TagKey", "TagValue")
    if (read.get("policy") or {}).get("Policy"):
        found["policy"] = policy_document(read["policy"]["Policy"])
    if "KeyRotationEnabled" in (read["rotation"] or {}):
        found["rotation"] = read["rotation"]["KeyRotationEnabled"]
    return found


def read_backup_copy(apis, desired):
    """The copy vault in the copy Region (2 calls, 1 when there is none) and the role's key there (3, 1)."""
    copy = desired["backup"]["copy_region"]
    found = {"backup_copy_key": None, "backup_copy_vault": None}
    name = copy["vault_name"]
    context = f"backup vault {name} in {copy['region']}"

    def vault():
        described = apis["backup_copy"].call(
            "describe_backup_vault", not_found=NOT_FOUND["backup_vault"], context=context, BackupVaultName=name
        )
        if not (described and described.get("BackupVaultArn")):
            return None
        tags = apis["backup_copy"].call("list_tags", context=context, ResourceArn=described["BackupVaultArn"])
        kept = {"arn": described["BackupVaultArn"], "tags": dict((tags or {}).get("Tags") or {})}
        if described.get("EncryptionKeyArn"):
            kept["key_arn"] = described["EncryptionKeyArn"]
        return kept

    reads = [("backup_copy_vault", vault)]
    if not copy.get("kms_key_arn"):
        # The key's policy is left as made (kms_key is given none): it is not read.
        reads.append(
            ("backup_copy_key", lambda: read_key(apis["kms_copy"], copy_key_alias(desired), with_policy=False))
        )
    found.update(concurrently(reads))
    return found


def read_topic(sns, desired):
    """GetTopicAttributes on the ARN that follows from the name, and its tags: 2 calls, 1 when there is none."""
    arn = topic_arn(desired)
    response = sns.call(
        "get_topic_attributes", not_found=NOT_FOUND["event_topic"], context=f"SNS topic {arn}", TopicArn=arn
    )
    if response is None:
        return None
    attributes = response.get("Attributes") or {}
    found = {"arn": arn, "kms_master_key_id": attributes.get("KmsMasterKeyId") or None}  # absent: none
    if "DisplayName" in attributes:
        found["display_name"] = attributes["DisplayName"]
    if attributes.get("Policy"):
        found["policy"] = policy_document(attributes["Policy"])
    tags = sns.call("list_tags_for_resource", context=f"SNS topic {arn}", ResourceArn=arn)
    found["tags"] = boto3_tag_list_to_ansible_dict((tags or {}).get("Tags") or [])
    return found


def read_subscriptions(rds, desired):
    """One DescribeEventSubscriptions for all, then the tags of each one to keep: 1 + kept calls."""
    wanted = {subscription["name"]: subscription for subscription in desired["event_subscriptions"]}
    listed = rds.paginate("describe_event_subscriptions", "EventSubscriptionsList", context="event subscriptions") or []
    found = {}
    tag_reads = []
    for subscription in listed:
        name = subscription.get("CustSubscriptionId")
        if name not in wanted:
            continue
        found[name] = dict(subscription)
        arn = subscription.get("EventSubscriptionArn")
        if wanted[name]["categories"] and arn:
            tag_reads.append(
                (
                    name,
                    lambda name=name, arn=arn: rds.call(
                        "list_tags_for_resource", context=f"event subscription {name}", ResourceName=arn
                    ),
                )
            )
    # Each kept subscription's tags, side by side.
    for name, tags in concurrently(tag_reads).items():
        found[name]["tags"] = tags_to_dict((tags or {}).get("TagList"))
    return found


def read_baseline(apis, desired):
    """The current state of the baseline ``desired`` asks for, read once (see the module docstring): each resource's
    reads are one chain, and the chains run side by side (api.concurrently)."""
    current = {
        "monitoring_role": None,
        "backup_role": None,
        "backup_vault": None,
        "backup_plan": None,
        "backup_selection": None,
        "backup_copy_key": None,
        "backup_copy_vault": None,
        "event_topic_key": None,
        "event_topic": None,
        "event_subscriptions": {},
        "alarms": {},
    }
    jobs = []
    if desired.get("monitoring_role"):
        jobs.append(("monitoring_role", lambda: read_role(apis["iam"], desired["monitoring_role"]["name"])))
    topic = desired.get("event_topic")
    if topic and topic.get("creates_key"):
        jobs.append(("event_topic_key", lambda: read_topic_key(apis["kms"], desired)))
    if topic:
        jobs.append(("event_topic", lambda: read_topic(apis["sns"], desired)))
    if desired.get("event_subscriptions") is not None:
        jobs.append(("event_subscriptions", lambda: read_subscriptions(apis["rds"], desired)))
    if desired.get("backup"):
        jobs.append(("backup_role", lambda: read_role(apis["iam"], desired["backup"]["role_name"])))
        jobs.append(("backup_vault", lambda: read_backup_vault(apis["backup"], desired)))
        jobs.append(("backup_plan", lambda: read_backup_plan(apis["backup"], desired)))
        if desired["backup"].get("copy_region"):
            jobs.append(("backup_copy", lambda: read_backup_copy(apis, desired)))
    if desired.get("alarms"):
        jobs.append(("alarms", lambda: read_alarms(apis["cloudwatch"], desired["cluster_identifier"])))
    for name, found in concurrently(jobs).items():
        if name in ("backup_vault", "backup_plan", "backup_copy"):
            current.update(found)
        else:
            current[name] = found
    return current


# -- planning ------------------------------------------------------------------------------


def principal_words(principal):
    if not isinstance(principal, dict):
        return str(principal)
    return ",".join(str(v) if not isinstance(v, list) else ",".join(map(str, v)) for _k, v in sorted(principal.items()))


def policy_summary(policy):
    """A policy in a few words: each statement's Sid (or effect, principal and actions) and its condition keys."""
    if not isinstance(policy, dict):
        return None
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    words = []
    for statement in statements:
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        text = (
            statement.get("Sid")
            or f"{statement.get('Effect')} {principal_words(statement.get('Principal'))} {','.join(map(str, actions))}"
        )
        keys = sorted(
            key for test in (statement.get("Condition") or {}).values() if isinstance(test, dict) for key in test
        )
        if keys:
            text += f" if {','.join(keys)}"
        words.append(text)
    return words


def tag_actions(resource, name, current, wanted, runner, calls, compare="aws", set_first=False, request=None):
    """Tags removed and tags set, one action each (each kind is one call); ``calls`` = (set, remove); ``request``: the
    resource's request, for the step that carries the action out."""
    current = current or {}
    if compare == "rds":
        to_set, to_remove = tag_changes(current, wanted, purge=True)
    else:
        to_set, to_remove = compare_aws_tags(current, wanted, purge_tags=True)
    removed = None
    if to_remove:
        removed = Action(
            resource,
            name,
            "remove tags",
            [{"attribute": f"tags.{key}", "before": current.get(key), "after": None} for key in sorted(to_remove)],
            impact=ONLINE,
            runner=runner,
            calls=[calls[1]],
            request=request,
        )
    added = None
    if to_set:
        added = Action(
            resource,
            name,
            "set tags",
            [
                {"attribute": f"tags.{key}", "before": current.get(key), "after": str(to_set[key])}
                for key in sorted(to_set)
            ],
            impact=ONLINE,
            runner=runner,
            calls=[calls[0]],
            request=request,
        )
    ordered = [added, removed] if set_first else [removed, added]
    return [action for action in ordered if action is not None]


def action(resource, name, change, changes, runner, calls, request=None, note=""):
    return Action(
        resource, name, change, changes, impact=ONLINE, runner=runner, calls=calls, note=note, request=request
    )


def plan_role(resource, current, request, runner):
    """What amazon.aws.iam_role does, in its order: untag, tag, trust, description, detach, attach."""
    name = request["name"]
    trust = request["assume_role_policy_document"]
    if current is None:
        created = {"tags": sorted(request["tags"])} if request["tags"] else {}
        actions = [
            action(
                resource,
                name,
                "create",
                [
                    {"attribute": "role", "before": None, "after": name},
                    {"attribute": "trust policy", "before": None, "after": policy_summary(trust)},
                    {"attribute": "description", "before": None, "after": request["description"]},
                ]
                + ([{"attribute": "tags", "before": None, "after": created["tags"]}] if created else []),
                runner,
                ["CreateRole"],
                request,
            )
        ]
        for policy in request["managed_policies"]:
            actions.append(
                action(
                    resource,
                    name,
                    "attach policy",
                    [{"attribute": "managed policy", "before": None, "after": policy}],
                    runner,
                    ["AttachRolePolicy"],
                    request,
                )
            )
        return actions
    actions = tag_actions(resource, name, current.get("tags"), request["tags"], runner, ("TagRole", "UntagRole"))
    for tagged in actions:
        tagged.request = request
    if "trust" in current and compare_policies(current["trust"], trust):
        actions.append(
            action(
                resource,
                name,
                "update trust policy",
                [
                    {
                        "attribute": "trust policy",
                        "before": policy_summary(current["trust"]),
                        "after": policy_summary(trust),
                    }
                ],
                runner,
                ["UpdateAssumeRolePolicy"],
                request,
            )
        )
    if current.get("description") != request["description"]:
        actions.append(
            action(
                resource,
                name,
                "update description",
                [{"attribute": "description", "before": current.get("description"), "after": request["description"]}],
                runner,
                ["UpdateRole"],
                request,
            )
        )
    attached = set(current.get("policies") or [])
    wanted = set(request["managed_policies"])
    for policy in sorted(attached - wanted):
        actions.append(
            action(
                resource,
                name,
                "detach policy",
                [{"attribute": "managed policy", "before": policy, "after": None}],
                runner,
                ["DetachRolePolicy"],
                request,
            )
        )
    for policy in sorted(wanted - attached):
        actions.append(
            action(
                resource,
                name,
                "attach policy",
                [{"attribute": "managed policy", "before": None, "after": policy}],
                runner,
                ["AttachRolePolicy"],
                request,
            )
        )
    return actions


def plan_topic_key(current, desired):
    # aurora_stack's own steps (secondary_ops.Operations, as for the secondary Region's key), first of them
    # (stack_plan.LEADING): the topic is made without it, and its encryption is set to it right before the first
    # subscription kept.
    return plan_key("event_topic_key", STACK, current, topic_key_request(desired))


def plan_key(resource, runner, current, request):
    """What amazon.aws.kms_key does, in its order: cancel deletion, enable, alias, description, tags, policy, rotation.

    Without a policy in ``request`` the key's policy is neither compared nor changed (kms_key leaves it)."""
    alias = request["alias"]
    if current is None:
        return [
            action(
                resource,
                alias,
                "create",
                [
                    {"attribute": "key", "before": None, "after": alias},
                    {"attribute": "description", "before": None, "after": request["description"]},
                    {
                        "attribute": "key policy",
                        "before": None,
                        "after": policy_summary(request["policy"]) if "policy" in request else "(default)",
                    },
                    {"attribute": "tags", "before": None, "after": sorted(request["tags"])},
                ],
                runner,
                ["CreateKey"],
                request,
            ),
            action(
                resource,
                alias,
                "create alias",
                [{"attribute": "alias", "before": None, "after": alias}],
                runner,
                ["CreateAlias"],
                request,
            ),
            action(
                resource,
                alias,
                "enable rotation",
                [{"attribute": "rotation", "before": False, "after": True}],
                runner,
                ["EnableKeyRotation"],
                request,
            ),
        ]
    actions = []
    state = current.get("state")
    if state == "PendingDeletion":
        actions.append(
            action(
                resource,
                alias,
                "cancel deletion",
                [{"attribute": "state", "before": state, "after": "Disabled"}],
                runner,
                ["CancelKeyDeletion"],
                request,
            )
        )
        state = "Disabled"
    if state is not None and state != "Enabled":
        actions.append(
            action(
                resource,
                alias,
                "enable",
                [{"attribute": "state", "before": state, "after": "Enabled"}],
                runner,
                ["EnableKey"],
                request,
            )
        )
    if "description" in current and current["description"] != request["description"]:
        actions.append(
            action(
                resource,
                alias,
                "update description",
                [{"attribute": "description", "before": current["description"], "after": request["description"]}],
                runner,
                ["UpdateKeyDescription"],
                request,
            )
        )
    actions += tag_actions(
        resource, alias, current.get("tags"), request["tags"], runner, ("TagResource", "UntagResource"), request=request
    )
    # kms_key compares with {} when the policy cannot be read, and then puts it.
    if "policy" in request and compare_policies(current.get("policy") or {}, request["policy"]):
        actions.append(
            action(
                resource,
                alias,
                "update key policy",
                [
                    {
                        "attribute": "key policy",
                        "before": policy_summary(current.get("policy")),
                        "after": policy_summary(request["policy"]),
                    }
                ],
                runner,
                ["PutKeyPolicy"],
                request,
            )
        )
    if "rotation" in current and current["rotation"] is not True:
        actions.append(
            action(
                resource,
                alias,
                "enable rotation",
                [{"attribute": "rotation", "before": current["rotation"], "after": True}],
                runner,
                ["EnableKeyRotation"],
                request,
            )
        )
    return actions


def plan_topic(current, desired):
    """What community.aws.sns_topic does: create, display name, policy, then tags (set, then removed)."""
    request = topic_request(desired)
    name = request["name"]
    runner = "event_topic"
    display = {"attribute": "display name", "before": None, "after": request["display_name"]}
    policy = {"attribute": "policy", "before": None, "after": policy_summary(request["policy"])}
    if current is None:
        return [
            action(
                "event_topic",
                name,
                "create",
                [
                    {"attribute": "topic", "before": None, "after": name},
                    {"attribute": "tags", "before": None, "after": sorted(request["tags"])},
                ],
                runner,
                ["CreateTopic"],
                request,
            ),
            # A new topic has an empty display name and the default policy: sns_topic sets both.
            action(
                "event_topic",
                name,
                "set display name",
                [dict(display, before="")],
                runner,
                ["SetTopicAttributes"],
                request,
            ),
            action(
                "event_topic",
                name,
                "set policy",
                [dict(policy, before="(default)")],
                runner,
                ["SetTopicAttributes"],
                request,
            ),
        ]
    actions = []
    if "display_name" in current and current["display_name"] != request["display_name"]:
        actions.append(
            action(
                "event_topic",
                name,
                "set display name",
                [dict(display, before=current["display_name"])],
                runner,
                ["SetTopicAttributes"],
                request,
            )
        )
    if "policy" in current and compare_policies(request["policy"], current["policy"]):
        actions.append(
            action(
                "event_topic",
                name,
                "set policy",
                [dict(policy, before=policy_summary(current["policy"]))],
                runner,
                ["SetTopicAttributes"],
                request,
            )
        )
    return actions + tag_actions(
        "event_topic",
        name,
        current.get("tags"),
        request["tags"],
        runner,
        ("TagResource", "UntagResource"),
        set_first=True,
        request=request,
    )


def plan_topic_encryption(current, desired, first_kept):
    """The topic's KmsMasterKeyId, set by the first subscription kept (aurora_event_subscription), before it."""
    if not desired.get("event_topic") or first_kept is None:
        return []
    wanted = topic_key(desired)
    have = (current or {}).get("kms_master_key_id")
    if have == wanted:
        return []
    return [
        action(
            "event_topic",
            desired["event_topic"]["name"],
            "set encryption key",
            [{"attribute": "KmsMasterKeyId", "before": have, "after": wanted}],
            STACK,
            ["SetTopicAttributes"],
            subscription_request(desired, first_kept, wanted),
            note=f"before event subscription {first_kept['name']}",
        )
    ]


def same_set(have, wanted):
    return sorted(have or []) == sorted(wanted or [])


def plan_subscription(current, desired, subscription, key_id):
    """What aurora_event_subscription does: create, or modify, add and remove sources, tags; or delete."""
    name = subscription["name"]
    runner = STACK
    request = subscription_request(desired, subscription, key_id)
    if not subscription["categories"]:
        if current is None:
            return []
        return [
            action(
                "event_subscription",
                name,
                "delete",
                [{"attribute": "subscription", "before": name, "after": None}],
                runner,
                ["DeleteEventSubscription"],
                request,
            )
        ]
    if current is None:
        return [
            action(
                "event_subscription",
                name,
                "create",
                [
                    {"attribute": "subscription", "before": None, "after": name},
                    {"attribute": "source_type", "before": None, "after": subscription["source_type"]},
                    {"attribute": "source_ids", "before": None, "after": sorted(subscription["source_ids"])},
                    {"attribute": "event_categories", "before": None, "after": sorted(subscription["categories"])},
                    {"attribute": "sns_topic_arn", "before": None, "after": subscription["topic_arn"]},
                ],
                runner,
                ["CreateEventSubscription"],
                request,
            )
        ]
    modified = []
    if "SnsTopicArn" in current and current["SnsTopicArn"] != subscription["topic_arn"]:
        modified.append(
            {"attribute": "sns_topic_arn", "before": current["SnsTopicArn"], "after": subscription["topic_arn"]}
        )
    if current.get("SourceType") != subscription["source_type"]:
        modified.append(
            {"attribute": "source_type", "before": current.get("SourceType"), "after": subscription["source_type"]}
        )
    if not same_set(current.get("EventCategoriesList"), subscription["categories"]):
        modified.append(
            {
                "attribute": "event_categories",
                "before": sorted(current.get("EventCategoriesList") or []),
                "after": sorted(subscription["categories"]),
            }
        )
    if "Enabled" in current and current["Enabled"] is not True:
        modified.append({"attribute": "enabled", "before": current["Enabled"], "after": True})
    actions = []
    if modified:
        words = {
            "sns_topic_arn": "change topic",
            "source_type": "change source type",
            "event_categories": "update categories",
            "enabled": "enable",
        }
        change = words[modified[0]["attribute"]] if len(modified) == 1 else "modify"
        actions.append(
            action("event_subscription", name, change, modified, runner, ["ModifyEventSubscription"], request)
        )
    have = set(current.get("SourceIdsList") or [])
    to_add = sorted(set(subscription["source_ids"]) - have)
    to_remove = sorted(have - set(subscription["source_ids"]))
    if to_add:
        actions.append(
            action(
                "event_subscription",
                name,
                "add sources",
                [{"attribute": "source_ids", "before": sorted(have), "after": sorted(have | set(to_add))}],
                runner,
                ["AddSourceIdentifierToSubscription"] * len(to_add),
                request,
            )
        )
    if to_remove:
        actions.append(
            action(
                "event_subscription",
                name,
                "remove sources",
                # Made after the additions above: the list it starts from holds them.
                [
                    {
                        "attribute": "source_ids",
                        "before": sorted(have | set(to_add)),
                        "after": sorted((have | set(to_add)) - set(to_remove)),
                    }
                ],
                runner,
                ["RemoveSourceIdentifierFromSubscription"] * len(to_remove),
                request,
            )
        )
    if "tags" in current:
        actions += tag_actions(
            "event_subscription",
            name,
            current["tags"],
            request["tags"],
            runner,
            ("AddTagsToResource", "RemoveTagsFromResource"),
            compare="rds",
            request=request,
        )
    return actions


def flat(value, prefix=""):
    """A nested dict as {dotted path: leaf}."""
    if not isinstance(value, dict):
        return {prefix: value}
    leaves = {}
    for key, item in value.items():
        leaves.update(flat(item, f"{prefix}.{key}" if prefix else key))
    return leaves


def rule_changes(rules, wanted):
    """amazon.aws.backup_plan's comparison (the rules as JSON, rule_id left out), as attribute changes."""
    have = [{key: value for key, value in rule.items() if key != "rule_id"} for rule in rules]
    if json.dumps(have, sort_keys=True) == json.dumps([wanted], sort_keys=True):
        return []
    if len(have) != 1 or have[0].get("rule_name") != wanted["rule_name"]:
        return [
            {"attribute": "rules", "before": [rule.get("rule_name") for rule in have], "after": [wanted["rule_name"]]}
        ]
    before, after = flat(have[0]), flat(wanted)
    return [
        {"attribute": f"rule {wanted['rule_name']}: {path}", "before": before.get(path), "after": after.get(path)}
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    ]


def selection_changes(current, wanted):
    """amazon.aws.backup_selection's comparison: role, then Resources, ListOfTags, NotResources, Conditions."""
    changes = []
    if current.get("IamRoleArn") != wanted["IamRoleArn"]:
        changes.append(
            {"attribute": "iam_role_arn", "before": current.get("IamRoleArn"), "after": wanted["IamRoleArn"]}
        )
    for field in SELECTION_FIELDS:
        have = json.dumps(current.get(field, []), sort_keys=True)
        want = json.dumps(wanted.get(field, []), sort_keys=True)
        if have == want or (field == "Conditions" and have == EMPTY_CONDITIONS and want == "[]"):
            continue
        changes.append({"attribute": field, "before": current.get(field, []), "after": wanted.get(field, [])})
    return changes


def plan_backup(current, desired):
    """The backup role, vault (create, untag, tag), plan (create, update, untag) and selection (create or replace).

    The role is the role's amazon.aws.iam_role task's (runner backup, before the stack's steps); the vaults, the copy
    key, the plan and the selection are aurora_stack's own steps (runner stack, secondary_ops.Operations): the vaults
    and the plan lead its steps (stack_plan.LEADING), the selection waits for the cluster."""
    backup = desired["backup"]
    role = current.get("backup_role")
    actions = plan_role("backup_role", role, backup_role_request(desired), "backup")
    runner = STACK

    vault_request = backup_vault_request(desired)
    vault = current.get("backup_vault")
    if vault is None:
        actions.append(
            action(
                "backup_vault",
                backup["vault_name"],
                "create",
                [
                    {"attribute": "vault", "before": None, "after": backup["vault_name"]},
                    {"attribute": "tags", "before": None, "after": sorted(vault_request["tags"])},
                ],
                runner,
                ["CreateBackupVault"],
                vault_request,
            )
        )
    else:
        actions += tag_actions(
            "backup_vault",
            backup["vault_name"],
            vault.get("tags"),
            vault_request["tags"],
            runner,
            ("TagResource", "UntagResource"),
            request=vault_request,
        )

    if backup.get("copy_region"):
        actions += plan_backup_copy(current, desired)

    plan_request = backup_plan_request(desired)
    wanted_rule = dict(BACKUP_RULE_DEFAULTS, **backup_rule(desired))
    plan = current.get("backup_plan")
    name = backup["plan_name"]
    if plan is None:
        actions.append(
            action(
                "backup_plan",
                name,
                "create",
                [
                    {"attribute": f"rule {wanted_rule['rule_name']}: {path}", "before": None, "after": value}
                    for path, value in sorted(flat(wanted_rule).items())
                ]
                + [{"attribute": "tags", "before": None, "after": sorted(plan_request["tags"])}],
                runner,
                ["CreateBackupPlan"],
                plan_request,
            )
        )
    else:
        changes = rule_changes(plan.get("rules") or [], wanted_rule)
        if json.dumps(plan.get("advanced_backup_settings") or [], sort_keys=True) != "[]":
            changes.append(
                {"attribute": "advanced_backup_settings", "before": plan["advanced_backup_settings"], "after": []}
            )
        if changes:
            actions.append(
                action("backup_plan", name, "update rule", changes, runner, ["UpdateBackupPlan"], plan_request)
            )
        actions += tag_actions(
            "backup_plan",
            name,
            plan.get("tags"),
            plan_request["tags"],
            runner,
            ("TagResource", "UntagResource"),
            request=plan_request,
        )

    # The selection names the cluster: it waits for the cluster's creation (aurora_stack's AFTER_CREATES).
    selection_request = backup_selection_request(desired, (role or {}).get("arn"))
    wanted = {"IamRoleArn": selection_request["iam_role_arn"], "Resources": selection_request["resources"]}
    selection = current.get("backup_selection") if plan is not None else None
    if selection is None:
        actions.append(
            action(
                "backup_selection",
                name,
                "create",
                [
                    {"attribute": "iam_role_arn", "before": None, "after": wanted["IamRoleArn"]},
                    {"attribute": "Resources", "before": None, "after": wanted["Resources"]},
                ],
                runner,
                ["CreateBackupSelection"],
                selection_request,
            )
        )
    else:
        changes = selection_changes(selection, wanted)
        if changes:
            # backup_selection replaces a selection that differs: delete, then create.
            actions.append(
                action(
                    "backup_selection",
                    name,
                    "delete to replace",
                    changes,
                    runner,
                    ["DeleteBackupSelection"],
                    selection_request,
                )
            )
            actions.append(
                action(
                    "backup_selection",
                    name,
                    "create again",
                    changes,
                    runner,
                    ["CreateBackupSelection"],
                    selection_request,
                )
            )
    return actions


def plan_backup_copy(current, desired):
    """The copy Region's key (unless one is given) and vault; a vault whose key is not the one wanted cannot be
    changed (AWS fixes a vault's key when it is made) and stops the plan. aurora_stack's own steps."""
    runner = STACK
    copy = desired["backup"]["copy_region"]
    actions = []
    key = current.get("backup_copy_key")
    wanted_key = copy.get("kms_key_arn")
    if not wanted_key:
        request = copy_key_request(desired)
        actions += plan_key("backup_copy_key", runner, key, request)
        wanted_key = (key or {}).get("arn")
    request = copy_vault_request(desired)
    name = copy["vault_name"]
    vault = current.get("backup_copy_vault")
    if vault is None:
        return actions + [
            action(
                "backup_copy_vault",
                name,
                "create",
                [
                    {"attribute": "vault", "before": None, "after": f"{name} in {copy['region']}"},
                    {"attribute": "encryption key", "before": None, "after": wanted_key or copy_key_alias(desired)},
                    {"attribute": "tags", "before": None, "after": sorted(request["tags"])},
                ],
                runner,
                ["CreateBackupVault"],
                request,
            )
        ]
    have_key = vault.get("key_arn")
    if have_key and have_key != wanted_key:
        option = "aurora_cluster_backup_copy_kms_key_arn"
        actions.append(
            Action(
                "backup_copy_vault",
                name,
                "change encryption key",
                [{"attribute": "encryption key", "before": have_key, "after": wanted_key or copy_key_alias(desired)}],
                impact=IMPOSSIBLE,
                runner=runner,
                note=(
                    f"AWS fixes a vault's key when the vault is made: name the vault's key in {option}, or give "
                    "aurora_cluster_backup_copy_vault_name a new vault (the old one keeps its copies until they expire)"
                ),
            )
        )
    return actions + tag_actions(
        "backup_copy_vault",
        name,
        vault.get("tags"),
        request["tags"],
        runner,
        ("TagResource", "UntagResource"),
        request=request,
    )


def impossible_problems(actions):
    """The reasons a baseline step cannot be made in place: each stops the run before any change."""
    return [
        f"{each.label()}: {each.change} is impossible-in-place ({'; '.join(change_words(c) for c in each.changes)}): {each.note}"
        for each in actions
        if each.impact == IMPOSSIBLE
    ]


def plan_baseline(current, desired):
    """The baseline's actions, in order: monitoring role; key, topic; the topic's key and subscriptions; backup.

    Pure: no AWS call. ``current`` is read_baseline's answer.
    """
    actions = []
    if desired.get("monitoring_role"):
        actions += plan_role(
            "monitoring_role", current.get("monitoring_role"), monitoring_role_request(desired), "monitoring_role"
        )
    topic = desired.get("event_topic")
    if topic and topic.get("creates_key"):
        actions += plan_topic_key(current.get("event_topic_key"), desired)
    if topic:
        actions += plan_topic(current.get("event_topic"), desired)
    subscriptions = desired.get("event_subscriptions")
    if subscriptions is not None:
        kept = [subscription for subscription in subscriptions if subscription["categories"]]
        first_kept = kept[0] if kept else None
        key_id = topic_key(desired) if topic else None
        actions += plan_topic_encryption(current.get("event_topic"), desired, first_kept)
        existing = current.get("event_subscriptions") or {}
        for subscription in subscriptions:
            own_key = key_id if first_kept is not None and subscription["name"] == first_kept["name"] else None
            actions += plan_subscription(existing.get(subscription["name"]), desired, subscription, own_key)
    if desired.get("backup"):
        actions += plan_backup(current, desired)
    return actions
