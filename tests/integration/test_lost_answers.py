"""Every create of a prod provision survives a lost answer: the account ends as a fault-free run leaves it.

A fault-free prod provision through tests/aws_proxy.py is recorded first; its mutating
Create*/Put*/Attach*/Authorize* calls are the cases (CASES must name exactly those).  In each case
the proxy forwards the named call to the local AWS, which applies it, and then closes the
connection without answering (``drop-after``): botocore retries, meets what its first request made,
and the role must cope.  The run, or one plain re-run, must end with ``failed=0``; the account must
then equal the fault-free one (a normalised snapshot of every resource of the stack, ids and times
removed, duplicates visible), and ``playbooks/destroy.yml`` must succeed and leave what a
fault-free teardown leaves.  The teardown of the cases that drop the baseline's IAM and AWS Backup
creates also loses the answers of those resources' deletes.

There are 21 create calls, more than one prod converge each would afford, so one run drops the
first occurrence of several different actions at once (a later occurrence of an action goes to
another run: the proxy counts a botocore retry as the next call of its action): 7 runs.  The groups
keep the operations baseline's IAM and AWS Backup calls apart from the other resources, and those
must be settled by the run itself, without the re-run the others may take.  The security group's
and the parameter group's creates lose their answers in the same run as the ingress rule's: the run
uses the groups it finds, still applies the planned rule and parameters to them, and meets its own
rule on the rule's retry.

Also here: a monitoring or backup role that exists with a trust policy lacking the confused-deputy
condition is updated to the fault-free one.

The CloudWatch alarms are off here (WITHOUT_ALARMS): each is a PutMetricAlarm, which creates or replaces the alarm
of that name with the definition sent, so botocore's retry of a put whose answer was lost puts the same alarm
again and there is nothing to settle; fifteen of them would cost fifteen more prod converges. Reader autoscaling is
off for the same reason: RegisterScalableTarget and PutScalingPolicy create or replace the target and the policy of
that name, so a retry whose first request took effect sends the same definition again.
"""

from __future__ import annotations

import datetime
import json
import re
import urllib.parse
from collections import Counter

import pytest

from aws_proxy import AwsProxy, fault
from local_aws import LocalAws

PROVISION = ("playbooks/provision.yml", "inventories/prod")
WITHOUT_ALARMS = {
    "aurora_cluster_alarms_enabled": False,
    "aurora_cluster_autoscaling_enabled": False,
    # prod's Aurora Global Database: its creates (the global cluster, the secondary cluster) re-read by identifier
    # after a lost answer are cases of test_global_database.py; the teardown here needs a stack in no global database.
    "aurora_cluster_secondary_region": "",
}
DESTROY = ("playbooks/destroy.yml", "inventories/prod")
CLUSTER = "vitality-prod-aurora"
DESTROY_VARS = {"aurora_cluster_destroy_confirm": CLUSTER, "aurora_cluster_destroy_disable_deletion_protection": True}
HOST = "vitality-prod"
ACCOUNT = "123456789012"
REGION = "us-east-1"
COPY_REGION = "us-west-2"
CREATE_PREFIXES = ("Create", "Put", "Attach", "Authorize")
MONITORING_ROLE = "vitality-prod-rds-monitoring"
BACKUP_ROLE = "vitality-prod-aws-backup"

ORPHAN_KEY = (
    "the topic's key and the backup copies' key: KMS CreateKey has no idempotency token, so "
    "botocore's retry of a CreateKey whose answer was lost makes a second customer managed key; the run "
    "ends failed=0 with the alias and rotation on the second key, and the first one is left enabled, "
    "tagged with the stack, without alias or rotation; the teardown keeps it"
)
# (operation, occurrence in the fault-free run) of the calls whose answer each case loses in the
# provision, then in the teardown, and whether the provision must settle them without a re-run (the
# operations baseline's IAM and AWS Backup tasks do).  In one run, a call whose lost answer may fail
# the run comes last.
CASES = [
    pytest.param(
        [("CreateRole", 1), ("AttachRolePolicy", 1), ("CreateBackupVault", 1), ("CreateBackupPlan", 1)]
        + [("CreateBackupSelection", 1)],
        [("DeleteBackupSelection", 1), ("DeleteBackupPlan", 1), ("DetachRolePolicy", 1), ("DeleteRole", 1)],
        True,
        id="monitoring-role-and-backup-plan",
    ),
    pytest.param(
        # The copy vault in the copy Region: its task settles AlreadyExists as the stack's vault task does.
        [("CreateRole", 2), ("AttachRolePolicy", 2), ("CreateBackupVault", 2)],
        [("DetachRolePolicy", 2), ("DeleteRole", 2)],
        True,
        id="backup-role-and-copy-vault",
    ),
    pytest.param(
        # The groups found after their lost creates still get their rule and parameters, and the rule's
        # own lost answer is settled too (the notifications' key task settles a lost CreateAlias itself).
        [("CreateSecurityGroup", 1), ("AuthorizeSecurityGroupIngress", 1), ("CreateDBSubnetGroup", 1)]
        + [("CreateDBClusterParameterGroup", 1), ("CreateAlias", 1), ("CreateAlias", 2)],
        [],
        False,
        id="groups-ingress-rule-and-key-aliases",
    ),
    pytest.param(
        [("CreateDBCluster", 1), ("CreateDBInstance", 1), ("CreateTopic", 1), ("CreateEventSubscription", 1)],
        [],
        False,
        id="cluster-writer-topic-first-subscription",
    ),
    pytest.param(
        [("CreateDBInstance", 2), ("CreateEventSubscription", 2)], [], False, id="reader-1-second-subscription"
    ),
    pytest.param(
        [("CreateDBInstance", 3), ("CreateEventSubscription", 3)], [], False, id="reader-2-third-subscription"
    ),
    pytest.param(
        [("CreateKey", 1), ("CreateKey", 2)],
        [],
        False,
        id="topic-key-and-copy-key",
        marks=pytest.mark.xfail(reason=ORPHAN_KEY, strict=True),
    ),
]


def numbered(operations):
    """[(operation, n)] for a list of operations, n counting each operation's occurrences."""
    seen: Counter = Counter()
    numbered_list = []
    for operation in operations:
        seen[operation] += 1
        numbered_list.append((operation, seen[operation]))
    return numbered_list


# -- the normalised account ---------------------------------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# Values AWS makes up at each create (resource ids, endpoints, secrets, versions, request tokens).
VOLATILE_KEYS = frozenset(
    {
        "BackupPlanArn",
        "BackupPlanId",
        "CreatorRequestId",
        "DbClusterResourceId",
        "DbiResourceId",
        "Endpoint",
        "HostedZoneId",
        "MasterUserSecret",
        "ReaderEndpoint",
        "RoleId",
        "RuleId",
        "SecurityGroupRuleId",
        "SelectionId",
        "VersionId",
    }
)


def tags(tag_list):
    return {t["Key"]: t["Value"] for t in tag_list or []}


def normalised(value, names):
    """``value`` without times and made-up ids; EC2 ids named after what they stand for."""
    if isinstance(value, dict):
        return {
            key: normalised(item, names)
            for key, item in value.items()
            if key not in VOLATILE_KEYS and not isinstance(item, datetime.datetime) and key != "ResponseMetadata"
        }
    if isinstance(value, list):
        items = [normalised(item, names) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, str):
        value = re.sub(r"\b(?:sg|vpc|subnet)-[0-9a-f]+\b", lambda m: names.get(m.group(0), "<ec2-id>"), value)
        return UUID.sub("<uuid>", value)
    return value


def trust_of(role):
    document = role["AssumeRolePolicyDocument"]
    return json.loads(urllib.parse.unquote(document)) if isinstance(document, str) else document


def snapshot(aws: LocalAws) -> dict:
    """The stack's resources in the account, normalised: equal snapshots mean the same state."""
    ec2, rds, iam = aws.client("ec2"), aws.client("rds"), aws.client("iam")
    backup, sns = aws.client("backup"), aws.client("sns")

    names = {}
    for vpc in ec2.describe_vpcs()["Vpcs"]:
        names[vpc["VpcId"]] = "vpc:" + tags(vpc.get("Tags")).get("Name", "?")
    for subnet in ec2.describe_subnets()["Subnets"]:
        names[subnet["SubnetId"]] = "subnet:" + tags(subnet.get("Tags")).get("Name", subnet["AvailabilityZone"])
    groups = ec2.describe_security_groups()["SecurityGroups"]
    for group in groups:
        names[group["GroupId"]] = f"sg:{names.get(group.get('VpcId'), '?')}/{group['GroupName']}"

    state = {
        "security_groups": groups,
        "clusters": rds.describe_db_clusters()["DBClusters"],
        "instances": rds.describe_db_instances()["DBInstances"],
        "subnet_groups": rds.describe_db_subnet_groups()["DBSubnetGroups"],
        "event_subscriptions": rds.describe_event_subscriptions()["EventSubscriptionsList"],
    }
    state["parameter_groups"] = [
        {
            **group,
            "Parameters": rds.describe_db_cluster_parameters(
                DBClusterParameterGroupName=group["DBClusterParameterGroupName"]
            )["Parameters"],
        }
        for group in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        if not group["DBClusterParameterGroupName"].startswith("default.")
    ]
    state["iam_roles"] = [
        {
            **role,
            "AssumeRolePolicyDocument": trust_of(role),
            "Tags": tags(iam.list_role_tags(RoleName=role["RoleName"])["Tags"]),
            "AttachedPolicies": iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"],
            "InlinePolicies": iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"],
            "InstanceProfiles": iam.list_instance_profiles_for_role(RoleName=role["RoleName"])["InstanceProfiles"],
        }
        for role in (iam.get_role(RoleName=listed["RoleName"])["Role"] for listed in iam.list_roles()["Roles"])
    ]
    state["backup_vaults"] = [
        {**vault, "Tags": backup.list_tags(ResourceArn=vault["BackupVaultArn"])["Tags"]}
        for vault in backup.list_backup_vaults()["BackupVaultList"]
    ]
    state["backup_plans"] = [
        {
            **backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"]),
            "Selections": [
                backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=listed["SelectionId"])
                for listed in backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
            ],
        }
        for plan in backup.list_backup_plans()["BackupPlansList"]
    ]
    # The backup copies' vault and key, in the copy Region of inventories/prod.
    copy_backup, copy_kms = aws.client("backup", region=COPY_REGION), aws.client("kms", region=COPY_REGION)
    state["copy_region"] = {
        "backup_vaults": [
            {**vault, "Tags": copy_backup.list_tags(ResourceArn=vault["BackupVaultArn"])["Tags"]}
            for vault in copy_backup.list_backup_vaults()["BackupVaultList"]
        ],
        "kms_keys": [
            {
                **copy_kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"],
                "Rotation": copy_kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"],
            }
            for key in copy_kms.list_keys()["Keys"]
        ],
        "kms_aliases": [a for a in copy_kms.list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/")],
    }
    kms = aws.client("kms")
    state["kms_keys"] = [
        {
            **kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"],
            "Policy": json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]),
            "Rotation": kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"],
            "Tags": tags(
                [
                    {"Key": t["TagKey"], "Value": t["TagValue"]}
                    for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
                ]
            ),
        }
        for key in kms.list_keys()["Keys"]
    ]
    state["kms_aliases"] = [
        alias for alias in kms.list_aliases()["Aliases"] if not alias["AliasName"].startswith("alias/aws/")
    ]
    state["sns_topics"] = [
        {
            "TopicArn": topic["TopicArn"],
            "Attributes": sns.get_topic_attributes(TopicArn=topic["TopicArn"])["Attributes"],
            "Tags": sns.list_tags_for_resource(ResourceArn=topic["TopicArn"])["Tags"],
        }
        for topic in sns.list_topics()["Topics"]
    ]
    return normalised(state, names)


def differences(expected: dict, found: dict) -> list[str]:
    """What one snapshot has that the other lacks, per resource kind (for an assertion message)."""
    lines = []
    for kind in sorted(set(expected) | set(found)):
        wanted = Counter(json.dumps(item, sort_keys=True, default=str) for item in expected.get(kind, []))
        got = Counter(json.dumps(item, sort_keys=True, default=str) for item in found.get(kind, []))
        lines += [f"{kind}, missing: {item[:2500]}" for item in (wanted - got).elements()]
        lines += [f"{kind}, extra: {item[:2500]}" for item in (got - wanted).elements()]
    return lines


# -- fixtures ---------------------------------------------------------------------------------------


def fatal_lines(result):
    return [line[:1500] for line in result.stdout.splitlines() if line.startswith(("fatal:", "failed:"))]


def tail(result, chars=6000):
    return f"rc={result.returncode}\n{result.stdout[-chars:]}\n{result.stderr[-2000:]}"


@pytest.fixture(scope="module")
def local_aws():
    """One local AWS for this module's prod converges (each case resets it)."""
    with LocalAws() as aws:
        yield aws


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        yield running


@pytest.fixture(scope="module")
def fault_free(local_aws, proxy):
    """The recorded fault-free prod provision and teardown: their create calls and the account after each."""
    local_aws.reset_and_seed()
    proxy.set_rules()
    proxy.clear_calls()
    provisioned = proxy.front(local_aws).run_playbook(*PROVISION, extra_vars=WITHOUT_ALARMS)
    assert provisioned.ok, tail(provisioned)
    creates = numbered(c.operation for c in proxy.calls if c.operation.startswith(CREATE_PREFIXES))
    after_provision = snapshot(local_aws)
    proxy.clear_calls()
    destroyed = proxy.front(local_aws).run_playbook(*DESTROY, extra_vars=DESTROY_VARS)
    assert destroyed.ok, tail(destroyed)
    deletes = numbered(c.operation for c in proxy.calls if c.operation.startswith(("Delete", "Detach")))
    return {
        "creates": creates,
        "deletes": deletes,
        "after_provision": after_provision,
        "after_destroy": snapshot(local_aws),
    }


# -- tests ------------------------------------------------------------------------------------------


def test_the_cases_are_every_create_call_of_a_prod_provision(fault_free):
    cased = [call for param in CASES for call in param.values[0]]
    assert sorted(cased) == sorted(fault_free["creates"]), fault_free["creates"]
    assert len(cased) == len(set(cased))
    destroy_cased = [call for param in CASES for call in param.values[1]]
    assert set(destroy_cased) <= set(fault_free["deletes"]), fault_free["deletes"]


def test_the_fault_free_stack_has_the_baseline_it_is_compared_on(fault_free):
    state = fault_free["after_provision"]
    roles = {role["RoleName"] for role in state["iam_roles"]}
    assert {MONITORING_ROLE, BACKUP_ROLE} <= roles
    assert [plan["BackupPlan"]["BackupPlanName"] for plan in state["backup_plans"]] == [CLUSTER]
    assert len(state["backup_plans"][0]["Selections"]) == 1
    assert len(state["instances"]) == 3
    assert len(state["event_subscriptions"]) >= 2
    after = fault_free["after_destroy"]
    assert after["clusters"] == [] and after["backup_plans"] == [] and after["iam_roles"] == []


@pytest.mark.parametrize(("lost", "lost_in_destroy", "in_one_run"), CASES)
def test_a_create_whose_answer_is_lost_ends_in_the_fault_free_state(
    lost, lost_in_destroy, in_one_run, fault_free, local_aws, proxy
):
    local_aws.reset_and_seed()
    front = proxy.front(local_aws)
    proxy.set_rules(*(fault("drop-after", action=operation, nth=nth) for operation, nth in lost))
    proxy.clear_calls()
    first = front.run_playbook(*PROVISION, extra_vars=WITHOUT_ALARMS)
    proxy.set_rules()
    assert first.ok or not in_one_run, f"{fatal_lines(first)}\n{tail(first)}"
    dropped = Counter(c.operation for c in proxy.calls if c.fault == "drop-after" and c.state == "dropped")
    assert dropped == Counter(operation for operation, _nth in lost), (dropped, lost)

    result = first
    if not first.ok:
        result = front.run_playbook(*PROVISION, extra_vars=WITHOUT_ALARMS)
        assert result.ok, f"failed, and failed again when re-run: {fatal_lines(first)}\n{tail(result)}"
    assert result.recap[HOST]["failed"] == 0, tail(result)
    found = snapshot(local_aws)
    assert found == fault_free["after_provision"], "\n".join(differences(fault_free["after_provision"], found))

    proxy.set_rules(*(fault("drop-after", action=operation, nth=nth) for operation, nth in lost_in_destroy))
    proxy.clear_calls()
    destroyed = front.run_playbook(*DESTROY, extra_vars=DESTROY_VARS)
    proxy.set_rules()
    assert destroyed.ok, f"{fatal_lines(destroyed)}\n{tail(destroyed)}"
    dropped = Counter(c.operation for c in proxy.calls if c.fault == "drop-after" and c.state == "dropped")
    assert dropped == Counter(operation for operation, _nth in lost_in_destroy), (dropped, lost_in_destroy)
    found = snapshot(local_aws)
    assert found == fault_free["after_destroy"], "\n".join(differences(fault_free["after_destroy"], found))


def test_roles_trusting_the_service_without_the_condition_get_it(fault_free, local_aws):
    """Roles made before the confused-deputy condition (or by hand) are brought to the fault-free state."""
    local_aws.reset_and_seed()
    iam = local_aws.client("iam")
    for name, service in ((MONITORING_ROLE, "monitoring.rds.amazonaws.com"), (BACKUP_ROLE, "backup.amazonaws.com")):
        unconditional = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(unconditional), Path="/")
    result = local_aws.run_playbook(*PROVISION, extra_vars=WITHOUT_ALARMS)
    assert result.ok, tail(result)

    monitoring = trust_of(iam.get_role(RoleName=MONITORING_ROLE)["Role"])["Statement"]
    assert [s["Condition"] for s in monitoring] == [
        {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:*"},
        }
    ]
    backup = trust_of(iam.get_role(RoleName=BACKUP_ROLE)["Role"])["Statement"]
    assert [s["Condition"] for s in backup] == [{"StringEquals": {"aws:SourceAccount": ACCOUNT}}]
    expected = {role["RoleName"]: role for role in fault_free["after_provision"]["iam_roles"]}
    found = {role["RoleName"]: role for role in snapshot(local_aws)["iam_roles"]}
    assert found == expected
