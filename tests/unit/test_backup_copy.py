"""Backup copies to another Region and another account: typed at the boundary, judged before any AWS call, and
planned by baseline_plan (the copy Region's key and vault, the rule's copy actions) against fake AWS answers."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml
from botocore.validate import ParamValidator
from test_baseline_plan import ACCOUNT, TAGS, FakeApi, NotFound, World, desired
from test_validation import VALID

from ansible_collections.vitality.aurora.plugins.module_utils import baseline_plan as b
from ansible_collections.vitality.aurora.plugins.module_utils import secondary_ops
from ansible_collections.vitality.aurora.plugins.module_utils import validation as v
from ansible_collections.vitality.aurora.plugins.module_utils.plan import IMPOSSIBLE
from ansible_collections.vitality.aurora.plugins.module_utils.stack_plan import order_actions
from ansible_collections.vitality.aurora.plugins.plugin_utils import role_settings as rs
from canned_api import CannedApi

SPEC = rs.load_role_spec()["main"]
REGION = "aurora_cluster_backup_copy_region"
DAYS = "aurora_cluster_backup_copy_retention_days"
KEY = "aurora_cluster_backup_copy_kms_key_arn"
ACCOUNT_VAULT = "aurora_cluster_backup_copy_account_vault_arn"
ACCOUNT_DAYS = "aurora_cluster_backup_copy_account_retention_days"
COPY_KEY_ARN = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/0000abcd-12ab-34cd-56ef-1234567890ab"
OTHER_VAULT = "arn:aws:backup:eu-west-1:210987654321:backup-vault:vitality-vault"
COPY_VAULT_ARN = f"arn:aws:backup:us-west-2:{ACCOUNT}:backup-vault:vitality-prod-aurora"


# --- typed at the boundary, judged before any AWS call -----------------------------------------------------------


def forms(variables):
    """The same variables as each input form gives them: YAML, -e name=value, -e JSON."""
    return [
        ("yaml", yaml.safe_load("\n".join(f"{name}: {json.dumps(value)}" for name, value in variables.items()))),
        (
            "key=value",
            {name: value if isinstance(value, str) else json.dumps(value) for name, value in variables.items()},
        ),
        ("json", json.loads(json.dumps(variables))),
    ]


def typed_errors(raw):
    typed, errors = rs.convert_all(raw, {name: SPEC[name] for name in raw})
    assert errors == [], errors
    return v.stack_errors(dict(VALID, aurora_cluster_backup_plan_enabled=True, **typed))


def test_the_valid_settings_copy_nothing():
    assert typed_errors({}) == []


@pytest.mark.parametrize("form, raw", forms({REGION: "us-west-2", DAYS: 90}))
def test_a_copy_region_passes_in_every_form(form, raw):
    assert typed_errors(raw) == []


@pytest.mark.parametrize("form, raw", forms({REGION: "us-west-2", DAYS: 0}))
def test_a_copy_kept_no_day_is_refused_in_every_form(form, raw):
    assert typed_errors(raw) == [f"{DAYS}=0 is out of range: at least 1 day"]


@pytest.mark.parametrize("form, raw", forms({REGION: "us-west-2", "aurora_cluster_backup_plan_enabled": False}))
def test_a_copy_without_the_backup_plan_is_refused_in_every_form(form, raw):
    typed, errors = rs.convert_all(raw, {name: SPEC[name] for name in raw})
    assert errors == []
    assert v.stack_errors(dict(VALID, **typed)) == [
        f"{REGION}='us-west-2' needs aurora_cluster_backup_plan_enabled=true: the copies are made by the rule of the "
        "role's AWS Backup plan, which is off"
    ]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({REGION: "uswest2"}, f"{REGION}='uswest2' is not a Region name (for example us-west-2)"),
        (
            {REGION: "us-east-1"},
            f"{REGION}='us-east-1' is the stack's own Region (aurora_cluster_aws_region): a copy protects against the "
            "loss of the Region only in another one",
        ),
        (
            {KEY: COPY_KEY_ARN},
            f"{KEY}={COPY_KEY_ARN!r} is given without {REGION}: it encrypts the copy vault in that Region",
        ),
        (
            {REGION: "us-west-2", KEY: "alias/backup"},
            f"{KEY}='alias/backup' is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key ID>): AWS Backup takes "
            "a vault's key by its ARN only",
        ),
        (
            {REGION: "eu-west-1", KEY: COPY_KEY_ARN},
            f"{KEY}={COPY_KEY_ARN!r} is a key in us-west-2: the copy vault's key must be in {REGION}='eu-west-1'",
        ),
        (
            {ACCOUNT_VAULT: "arn:aws:backup:eu-west-1:2109:backup-vault:v"},
            f"{ACCOUNT_VAULT}='arn:aws:backup:eu-west-1:2109:backup-vault:v' is not a backup vault ARN "
            "(arn:aws:backup:<region>:<account>:backup-vault:<name>)",
        ),
        ({ACCOUNT_VAULT: OTHER_VAULT, ACCOUNT_DAYS: -1}, f"{ACCOUNT_DAYS}=-1 is out of range: at least 1 day"),
    ],
)
def test_each_rule_names_the_variable_the_value_and_the_rule(changes, message):
    base = {"aurora_cluster_aws_region": "us-east-1", "aurora_cluster_backup_plan_enabled": True}
    assert v.stack_errors(dict(VALID, **base, **changes)) == [message]


def test_a_key_of_the_copy_region_and_another_accounts_vault_pass():
    settings = dict(
        VALID,
        aurora_cluster_backup_plan_enabled=True,
        **{REGION: "us-west-2", KEY: COPY_KEY_ARN, ACCOUNT_VAULT: OTHER_VAULT},
    )
    assert v.stack_errors(settings) == []


# --- planned ----------------------------------------------------------------------------------------------------


def with_copies(region=True, account=False, key_arn=""):
    want = desired()
    if region:
        want["backup"]["copy_region"] = {
            "region": "us-west-2",
            "vault_name": "vitality-prod-aurora",
            "retention_days": 90,
            "kms_key_arn": key_arn,
        }
    if account:
        want["backup"]["copy_account"] = {"vault_arn": OTHER_VAULT, "retention_days": 30}
    return want


class CopyLog(list):
    """A log of its own that also appends to the world's."""

    def __init__(self, main):
        super().__init__()
        self.main = main

    def append(self, item):
        super().append(item)
        self.main.append(item)


class CopyWorld(World):
    """The prod baseline in sync, with a copy Region whose key and vault the fake answers for."""

    def __init__(self):
        super().__init__()
        self.copy_key = {
            "KeyId": COPY_KEY_ARN.rsplit("/", maxsplit=1)[-1],
            "Arn": COPY_KEY_ARN,
            "Description": b.copy_key_request(with_copies())["description"],
            "KeyState": "Enabled",
            "Enabled": True,
            "KeyManager": "CUSTOMER",
            "KeySpec": "SYMMETRIC_DEFAULT",
        }
        self.copy_key_tags = dict(TAGS)
        self.copy_vault = {
            "BackupVaultName": "vitality-prod-aurora",
            "BackupVaultArn": COPY_VAULT_ARN,
            "EncryptionKeyArn": COPY_KEY_ARN,
        }
        self.copy_vault_tags = dict(TAGS)
        self.plan_rules[0]["CopyActions"] = [
            {"Lifecycle": {"DeleteAfterDays": 90}, "DestinationBackupVaultArn": COPY_VAULT_ARN}
        ]

    def apis(self):
        apis = super().apis()
        # The copy Region's reads, apart (they run beside the others', api.concurrently) and in the whole log too.
        self.copy_log = CopyLog(self.log)
        apis["kms_copy"] = FakeApi(
            "kms",
            {
                "describe_key": lambda p: (
                    {"KeyMetadata": self.copy_key} if self.copy_key else NotFound("NotFoundException")
                ),
                "list_resource_tags": lambda p: {
                    "Tags": [{"TagKey": k, "TagValue": val} for k, val in self.copy_key_tags.items()],
                    "Truncated": False,
                },
                "get_key_rotation_status": lambda p: {"KeyRotationEnabled": True, "KeyId": COPY_KEY_ARN},
            },
            self.copy_log,
        )
        apis["backup_copy"] = FakeApi(
            "backup",
            {
                "describe_backup_vault": lambda p: self.copy_vault or NotFound("AccessDeniedException"),
                "list_tags": lambda p: {"Tags": self.copy_vault_tags},
            },
            self.copy_log,
        )
        return apis


def test_in_sync_copies_plan_nothing_and_read_the_copy_region_five_times():
    world = CopyWorld()
    assert world.plan(with_copies()) == []
    reads = sorted((service, op) for service, op, _params in world.copy_log)
    # The key's policy is not read: the role gives kms_key none, so it is never compared.
    assert reads == [
        ("backup", "DescribeBackupVault"),
        ("backup", "ListTags"),
        ("kms", "DescribeKey"),
        ("kms", "GetKeyRotationStatus"),
        ("kms", "ListResourceTags"),
    ]
    copy_reads = [params for service, op, params in world.log if op == "DescribeKey"]
    assert {"KeyId": "alias/vitality-prod-aurora-backup-copies"} in copy_reads


def test_nothing_in_the_copy_region_creates_key_then_vault_then_updates_the_rule():
    world = CopyWorld()
    world.copy_key = None
    world.copy_vault = None
    world.plan_rules[0].pop("CopyActions")
    actions = world.plan(with_copies())
    assert [(a.resource, a.change, a.calls) for a in actions] == [
        ("backup_copy_key", "create", ["CreateKey"]),
        ("backup_copy_key", "create alias", ["CreateAlias"]),
        ("backup_copy_key", "enable rotation", ["EnableKeyRotation"]),
        ("backup_copy_vault", "create", ["CreateBackupVault"]),
        ("backup_plan", "update rule", ["UpdateBackupPlan"]),
    ]
    # aurora_stack's own steps, in this order (they lead its steps: stack_plan.LEADING).
    assert all(a.runner == "stack" for a in actions)
    key_request = actions[0].request
    assert key_request["region"] == "us-west-2" and "policy" not in key_request
    assert actions[3].request == {
        "backup_vault_name": "vitality-prod-aurora",
        "tags": TAGS,
        "purge_tags": True,
        "region": "us-west-2",
    }
    assert actions[4].changes == [
        {
            "attribute": "rule scheduled: copy_actions",
            "before": None,
            "after": [{"destination_backup_vault_arn": COPY_VAULT_ARN, "lifecycle": {"delete_after_days": 90}}],
        }
    ]


def test_a_copy_retention_change_updates_the_rule_only():
    world = CopyWorld()
    want = with_copies()
    want["backup"]["copy_region"]["retention_days"] = 120
    actions = world.plan(want)
    assert [(a.resource, a.change) for a in actions] == [("backup_plan", "update rule")]
    assert actions[0].changes[0]["attribute"] == "rule scheduled: copy_actions"
    assert actions[0].request["rules"][0]["copy_actions"][0]["lifecycle"] == {"delete_after_days": 120}


def test_another_accounts_vault_is_a_second_copy_action_and_nothing_to_make():
    world = CopyWorld()
    actions = world.plan(with_copies(account=True))
    assert [(a.resource, a.change) for a in actions] == [("backup_plan", "update rule")]
    assert [c["destination_backup_vault_arn"] for c in actions[0].request["rules"][0]["copy_actions"]] == [
        COPY_VAULT_ARN,
        OTHER_VAULT,
    ]


def test_a_key_given_reads_no_key_and_makes_the_vault_with_it():
    world = CopyWorld()
    world.copy_vault = None
    actions = world.plan(with_copies(key_arn=COPY_KEY_ARN))
    assert [(a.resource, a.change) for a in actions] == [("backup_copy_vault", "create")]
    assert actions[0].request["encryption_key_arn"] == COPY_KEY_ARN
    assert not [op for service, op, _params in world.log if op == "DescribeKey" and service == "kms"][1:]


def test_a_vault_with_another_key_is_impossible_in_place_and_stops_the_run():
    world = CopyWorld()
    world.copy_vault["EncryptionKeyArn"] = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab"
    actions = world.plan(with_copies())
    assert [(a.resource, a.impact, a.calls) for a in actions] == [("backup_copy_vault", IMPOSSIBLE, [])]
    problems = b.impossible_problems(actions)
    assert len(problems) == 1
    assert problems[0].startswith(
        "backup copy vault vitality-prod-aurora: change encryption key is impossible-in-place"
    )
    assert "aurora_cluster_backup_copy_kms_key_arn" in problems[0]


def test_a_vault_answer_without_its_key_is_not_a_change():
    world = CopyWorld()
    del world.copy_vault["EncryptionKeyArn"]
    assert world.plan(with_copies()) == []


def test_copy_vault_tag_drift_is_tagged_in_the_copy_region():
    world = CopyWorld()
    world.copy_vault_tags = {"Stack": "old"}
    actions = world.plan(with_copies())
    assert [(a.resource, a.change, a.calls) for a in actions] == [("backup_copy_vault", "set tags", ["TagResource"])]
    assert actions[0].request["region"] == "us-west-2"


def test_no_copy_reads_nothing_in_another_region():
    world = CopyWorld()
    world.plan_rules[0].pop("CopyActions")
    assert world.plan(desired()) == []
    assert world.copy_log == []  # the copy Region's clients were given, and not called
    assert not [p for _s, op, p in world.log if op == "DescribeKey" and "backup-copies" in str(p)]


# --- carried out by aurora_stack (secondary_ops.Operations), call for planned call --------------------------------

NEW_KEY_ARN = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1111abcd-12ab-34cd-56ef-1234567890ab"
VAULT_ARN = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:vitality-prod-aurora"
PLAN_ARN = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-plan:plan-id-new"


def valid_request(service, method, params):
    """The request as botocore's model of the operation takes it (no AWS call): a wrong name or type fails here."""
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[method])
    report = ParamValidator().validate(params, operation.input_shape)
    assert not report.has_errors(), report.generate_report()


def carry_out_backup(want, current):
    """Every backup step of the plan but the role's (the role's amazon.aws task), carried out in the plan's order by
    Operations on recording clients; returns the steps and the (client, method, params) made, in order."""
    steps = [a for a in b.plan_baseline(current, want) if a.resource.startswith("backup_") and a.runner == "stack"]
    log = []

    class Recording(CannedApi):
        def __init__(self, name, answers):
            super().__init__(answers)
            self.name = name

        def call(self, method, not_found=(), context="", **params):
            log.append((self.name, method, params))
            return super().call(method, not_found=not_found, context=context, **params)

    apis = {
        "backup": Recording(
            "backup",
            {
                "create_backup_vault": {"BackupVaultName": "vitality-prod-aurora", "BackupVaultArn": VAULT_ARN},
                "create_backup_plan": {"BackupPlanId": "plan-id-new", "BackupPlanArn": PLAN_ARN, "VersionId": "v1"},
                "create_backup_selection": {"SelectionId": "sel-new", "BackupPlanId": "plan-id-new"},
            },
        ),
        "backup_copy": Recording(
            "backup_copy",
            {"create_backup_vault": {"BackupVaultName": "vitality-prod-aurora", "BackupVaultArn": COPY_VAULT_ARN}},
        ),
        "kms_copy": Recording("kms_copy", {"create_key": {"KeyMetadata": {"KeyId": "1111abcd", "Arn": NEW_KEY_ARN}}}),
    }
    warnings = []
    operations = secondary_ops.Operations(apis, current, warnings)
    for step in order_actions(steps):
        operations.run(step)
    assert warnings == []
    for name, method, params in log:
        valid_request("kms" if name == "kms_copy" else "backup", method, params)
    return steps, log


def test_a_new_backup_chain_is_made_vaults_and_key_first_then_the_plan_and_its_selection():
    want = with_copies()
    current = {"backup_role": {"arn": f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-aws-backup"}}
    steps, log = carry_out_backup(want, current)
    made = [(name, method) for name, method, _params in log]
    # The plan's calls, one for one, in the plan's order: the copy key before the vault it encrypts, both vaults
    # before the plan whose rule names them, the selection last (after the cluster, in a real run).
    assert [call for step in order_actions(steps) for call in step.calls] == [
        "CreateBackupVault",
        "CreateKey",
        "CreateAlias",
        "EnableKeyRotation",
        "CreateBackupVault",
        "CreateBackupPlan",
        "CreateBackupSelection",
    ]
    assert made == [
        ("backup", "create_backup_vault"),
        ("kms_copy", "create_key"),
        ("kms_copy", "create_alias"),
        ("kms_copy", "enable_key_rotation"),
        ("backup_copy", "create_backup_vault"),
        ("backup", "create_backup_plan"),
        ("backup", "create_backup_selection"),
    ]
    requests = {(name, method): params for name, method, params in log}
    # The stack's vault: AWS's own key; the copy vault: the key this run made, by the ARN CreateKey answered.
    assert "EncryptionKeyArn" not in requests[("backup", "create_backup_vault")]
    assert requests[("backup", "create_backup_vault")]["BackupVaultTags"] == TAGS
    assert requests[("backup", "create_backup_plan")]["BackupPlanTags"] == TAGS
    assert requests[("backup_copy", "create_backup_vault")]["EncryptionKeyArn"] == NEW_KEY_ARN
    assert requests[("kms_copy", "create_alias")] == {"AliasName": b.copy_key_alias(want), "TargetKeyId": NEW_KEY_ARN}
    # No policy given: the key's default one (kms_key is given none either).
    assert "Policy" not in requests[("kms_copy", "create_key")]
    (rule,) = requests[("backup", "create_backup_plan")]["BackupPlan"]["Rules"]
    assert rule == {
        "RuleName": b.BACKUP_RULE_NAME,
        "TargetBackupVaultName": "vitality-prod-aurora",
        "ScheduleExpression": want["backup"]["schedule"],
        "StartWindowMinutes": int(want["backup"]["start_window_minutes"]),
        "Lifecycle": {"DeleteAfterDays": int(want["backup"]["retention_days"])},
        "CopyActions": [{"DestinationBackupVaultArn": COPY_VAULT_ARN, "Lifecycle": {"DeleteAfterDays": 90}}],
        # What AWS would default, sent as the plan compares it.
        "CompletionWindowMinutes": 10080,
        "ScheduleExpressionTimezone": "Etc/UTC",
        "EnableContinuousBackup": False,
    }
    # The selection is made in the plan this run made.
    assert requests[("backup", "create_backup_selection")]["BackupPlanId"] == "plan-id-new"


def test_tag_drift_of_the_vaults_and_a_rule_change_touch_only_what_differs():
    want = with_copies(key_arn=COPY_KEY_ARN)
    current = {
        "backup_role": {"arn": f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-aws-backup"},
        "backup_vault": {"arn": VAULT_ARN, "tags": dict(TAGS, Owner="someone")},
        "backup_copy_vault": {"arn": COPY_VAULT_ARN, "key_arn": COPY_KEY_ARN, "tags": {}},
        "backup_plan": {
            "id": "plan-id-1",
            "arn": PLAN_ARN,
            "rules": [{**b.BACKUP_RULE_DEFAULTS, **b.backup_rule(want), "lifecycle": {"delete_after_days": 7}}],
            "advanced_backup_settings": [],
            "tags": {},
        },
        "backup_selection": {
            "SelectionId": "sel-1",
            "IamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-aws-backup",
            "Resources": [f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{want['cluster_identifier']}"],
        },
    }
    steps, log = carry_out_backup(want, current)
    assert [(s.resource, s.change) for s in order_actions(steps)] == [
        ("backup_vault", "remove tags"),
        ("backup_copy_vault", "set tags"),
        ("backup_plan", "update rule"),
        ("backup_plan", "set tags"),
    ]
    assert log == [
        ("backup", "untag_resource", {"ResourceArn": VAULT_ARN, "TagKeyList": ["Owner"]}),
        ("backup_copy", "tag_resource", {"ResourceArn": COPY_VAULT_ARN, "Tags": TAGS}),
        ("backup", "update_backup_plan", {"BackupPlanId": "plan-id-1", "BackupPlan": log[2][2]["BackupPlan"]}),
        # An untagged plan gets the stack's tags, as the vaults do.
        ("backup", "tag_resource", {"ResourceArn": PLAN_ARN, "Tags": TAGS}),
    ]
    assert log[2][2]["BackupPlan"]["Rules"][0]["Lifecycle"] == {
        "DeleteAfterDays": int(want["backup"]["retention_days"])
    }


def test_a_plan_create_answered_already_exists_but_not_listed_stops_at_the_plan_step():
    """AWS answered AlreadyExists (the api's create gives None) and ListBackupPlans shows no plan of the name (yet):
    the plan's step says so, instead of the selection failing later on a plan it cannot find."""
    want = desired()
    current = {"backup_role": {"arn": f"arn:aws:iam::{ACCOUNT}:role/vitality-prod-aws-backup"}}
    (create,) = [a for a in b.plan_baseline(current, want) if a.resource == "backup_plan" and a.change == "create"]
    backup = CannedApi({"list_backup_plans": {"BackupPlansList": []}})  # no answer to the create: None
    operations = secondary_ops.Operations({"backup": backup}, current, [])
    with pytest.raises(ValueError, match=r"AWS answered that the plan exists, but no plan of that name is listed"):
        operations.run(create)
    assert backup.calls == ["create_backup_plan", "list_backup_plans"]
