"""The switchover and failover runbooks against the local AWS, as the user guide writes their commands.

The global database is made here with boto3, in two Regions, with the names the collection derives from the prod
stack (plugins/module_utils/naming.py): the stack's cluster vitality-prod-aurora in us-east-1, primary of the global
cluster vitality-prod-global, and the secondary vitality-prod-us-west-2 - so these tests do not depend on the role's
build of the global database. Outcomes are read back through boto3 and AWS's record of the calls: a switchover calls
SwitchoverGlobalCluster only (never the data-loss path), a re-run calls nothing, a failover without its typed
confirmation is refused before any call, in every input form.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from local_aws import RecordedAws

REPO = Path(__file__).resolve().parents[2]
GLOBAL = "vitality-prod-global"
PRIMARY, SECONDARY = "vitality-prod-aurora", "vitality-prod-us-west-2"
MUTATING = (
    "Create",
    "Delete",
    "Modify",
    "Remove",
    "Switchover",
    "Failover",
    "Promote",
    "Add",
    "Start",
    "Stop",
    "Reboot",
)


def documented(prefix, *contains):
    """The command of the user guide that starts with ``prefix`` and holds each of ``contains``: (playbook, inventory,
    the rest of its arguments)."""
    guide = (REPO / "docs" / "user-guide.md").read_text()
    line = next(
        raw.strip()
        for raw in guide.splitlines()
        if raw.strip().startswith(prefix) and all(word in raw for word in contains)
    )
    words = shlex.split(line)
    return words[1], words[3], words[4:]


SWITCH_TO_WEST = ("ansible-playbook playbooks/switchover.yml", "target_region=us-west-2")
SWITCH_BACK = ("ansible-playbook playbooks/switchover.yml", "target_region=us-east-1")
FAILOVER = ("ansible-playbook playbooks/failover.yml", "failover_confirm=vitality-prod-global")
DETACH = ("ansible-playbook playbooks/failover.yml", "failover_mode=detach-and-promote")


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("switchover") / "recording.jsonl") as server:
        yield server


@pytest.fixture
def global_db(aws):
    """A fresh global database: the stack's cluster writing in us-east-1, its secondary in us-west-2."""
    aws.reset()
    east, west = aws.client("rds"), aws.client("rds", "us-west-2")
    primary = east.create_db_cluster(
        DBClusterIdentifier=PRIMARY,
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="vitality_admin",
        MasterUserPassword="not-a-real-password-1",
        StorageEncrypted=True,
    )["DBCluster"]
    east.create_global_cluster(GlobalClusterIdentifier=GLOBAL, SourceDBClusterIdentifier=primary["DBClusterArn"])
    west.create_db_cluster(
        DBClusterIdentifier=SECONDARY,
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        GlobalClusterIdentifier=GLOBAL,
        StorageEncrypted=True,
    )
    return east, west


def writer_region(rds):
    members = rds.describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0]["GlobalClusterMembers"]
    return [m["DBClusterArn"].split(":")[3] for m in members if m["IsWriter"]]


def mutating(aws):
    return [(action, params) for action, params in aws.calls() if action.startswith(MUTATING)]


def outputs(aws):
    return json.loads((aws.outputs_dir / "vitality-prod-switchover.json").read_text())


def run(aws, command, **kwargs):
    playbook, inventory, extra = documented(*command)
    return aws.run_playbook(playbook, inventory, extra_args=extra + list(kwargs.pop("more", ())), **kwargs)


def test_switchover_to_us_west_2_and_back(aws, global_db):
    east, west = global_db
    west_arn = west.describe_db_clusters(DBClusterIdentifier=SECONDARY)["DBClusters"][0]["DBClusterArn"]

    aws.record_from_now()
    checked = run(aws, SWITCH_TO_WEST, check=True)
    assert checked.ok, checked
    assert "switch over the writer to vitality-prod-us-west-2 in us-west-2" in checked.stdout
    assert mutating(aws) == [] and writer_region(east) == ["us-east-1"]

    aws.record_from_now()
    moved = run(aws, SWITCH_TO_WEST)
    assert moved.ok, moved
    assert writer_region(east) == ["us-west-2"]
    # The managed switchover, and nothing else: never the data-loss path.
    assert mutating(aws) == [
        (
            "SwitchoverGlobalCluster",
            {"Version": "2014-10-31", "GlobalClusterIdentifier": GLOBAL, "TargetDbClusterIdentifier": west_arn},
        )
    ]
    written = outputs(aws)
    assert written["writer_region"] == "us-west-2" and written["writer_cluster_identifier"] == SECONDARY
    assert (
        written["writer_endpoint"]
        == west.describe_db_clusters(DBClusterIdentifier=SECONDARY)["DBClusters"][0]["Endpoint"]
    )
    assert "The inventory needs no change" in moved.stdout

    aws.record_from_now()
    again = run(aws, SWITCH_TO_WEST)
    assert again.ok and again.changed() == 0, again
    assert mutating(aws) == []
    assert "no change: vitality-prod-us-west-2 (us-west-2) already writes" in again.stdout

    aws.record_from_now()
    back = run(aws, SWITCH_BACK)
    assert back.ok, back
    assert writer_region(east) == ["us-east-1"]
    assert [action for action, _params in mutating(aws)] == ["SwitchoverGlobalCluster"]
    assert (
        outputs(aws)["writer_endpoint"]
        == east.describe_db_clusters(DBClusterIdentifier=PRIMARY)["DBClusters"][0]["Endpoint"]
    )


def test_switchover_to_a_region_without_a_secondary_is_refused_before_any_call(aws, global_db):
    aws.record_from_now()
    refused = run(aws, SWITCH_TO_WEST, more=["-e", "aurora_cluster_switchover_target_region=eu-west-1"])
    assert not refused.ok
    assert "the target cluster does not exist in eu-west-1" in refused.stdout
    assert mutating(aws) == []


# A failover's confirmation and the target Region in every input form: a YAML file (-e @file), a YAML string in it,
# -e name=value and -e JSON. (name, value as typed in YAML, refusal text or None)
FORMS = ("yaml", "yaml-string", "key=value", "json")
GUARDS = [
    ("aurora_cluster_failover_confirm", "", "aurora_cluster_failover_confirm='' does not confirm mode=failover"),
    (
        "aurora_cluster_failover_confirm",
        "vitality-prod",
        "pass -e aurora_cluster_failover_confirm=vitality-prod-global",
    ),
    (
        "aurora_cluster_switchover_target_region",
        "us_west_2",
        "aurora_cluster_switchover_target_region='us_west_2' is not a Region name",
    ),
    (
        "aurora_cluster_failover_mode",
        "promote",
        "aurora_cluster_failover_mode='promote' is not one of failover, detach-and-promote",
    ),
]


def given(tmp_path, form, values):
    if form == "key=value":
        return [arg for name, value in values.items() for arg in ("-e", f"{name}={value}")]
    if form == "json":
        return ["-e", json.dumps(values)]
    path = tmp_path / "vars.yml"
    quote = (lambda v: json.dumps(str(v))) if form == "yaml-string" else (lambda v: v if v != "" else "''")
    path.write_text("".join(f"{name}: {quote(value)}\n" for name, value in values.items()))
    return ["-e", f"@{path}"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name, value, refusal", GUARDS, ids=[g[0] + "=" + (g[1] or "empty") for g in GUARDS])
def test_failover_guards_refuse_before_any_call_in_every_form(aws, global_db, tmp_path, form, name, value, refusal):
    values = {
        "aurora_cluster_switchover_target_region": "us-west-2",
        "aurora_cluster_failover_confirm": GLOBAL,
        name: value,
    }
    aws.record_from_now()
    refused = aws.run_playbook("playbooks/failover.yml", "inventories/prod", extra_args=given(tmp_path, form, values))
    assert not refused.ok
    assert refusal in refused.stdout, refused.stdout[-3000:]
    assert "Invalid settings, nothing was changed" in refused.stdout
    assert aws.calls() == []
    assert writer_region(global_db[0]) == ["us-east-1"]


@pytest.mark.parametrize("form", FORMS)
def test_the_typed_confirmation_passes_in_every_form(aws, global_db, tmp_path, form):
    values = {"aurora_cluster_switchover_target_region": "us-west-2", "aurora_cluster_failover_confirm": GLOBAL}
    aws.record_from_now()
    checked = aws.run_playbook(
        "playbooks/failover.yml", "inventories/prod", check=True, extra_args=given(tmp_path, form, values)
    )
    assert checked.ok, checked
    assert "fail over the writer to vitality-prod-us-west-2 in us-west-2, data loss allowed" in checked.stdout
    assert mutating(aws) == []


def test_failover_without_confirmation_as_the_guide_shows_is_refused(aws, global_db):
    playbook, inventory, extra = documented(*FAILOVER)
    at = extra.index(f"aurora_cluster_failover_confirm={GLOBAL}")
    without = extra[: at - 1] + extra[at + 1 :]
    assert "aurora_cluster_failover_confirm" not in " ".join(without)
    aws.record_from_now()
    refused = aws.run_playbook(playbook, inventory, extra_args=without)
    assert not refused.ok
    assert "pass -e aurora_cluster_failover_confirm=vitality-prod-global" in refused.stdout
    assert aws.calls() == []


def test_failover_with_confirmation_then_switch_back(aws, global_db):
    east, west = global_db
    aws.record_from_now()
    failed_over = run(aws, FAILOVER)
    assert failed_over.ok, failed_over
    assert writer_region(east) == ["us-west-2"]
    calls = mutating(aws)
    assert [action for action, _params in calls] == ["FailoverGlobalCluster"]
    assert calls[0][1]["AllowDataLoss"] == "true" and "Switchover" not in calls[0][1]
    assert "rejoins as a secondary" in failed_over.stdout
    # The former primary is a secondary of the global cluster: the switchover back is the documented way home.
    members = {
        m["DBClusterArn"].split(":")[-1]: m["IsWriter"]
        for m in east.describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0][
            "GlobalClusterMembers"
        ]
    }
    assert members == {PRIMARY: False, SECONDARY: True}

    aws.record_from_now()
    again = run(aws, FAILOVER)
    assert again.ok and again.changed() == 0, again
    assert mutating(aws) == []

    back = run(aws, SWITCH_BACK)
    assert back.ok, back
    assert writer_region(east) == ["us-east-1"]


def test_detach_and_promote(aws, global_db):
    east, west = global_db
    aws.record_from_now()
    detached = run(aws, DETACH)
    assert detached.ok, detached
    assert [action for action, _params in mutating(aws)] == ["RemoveFromGlobalCluster"]
    members = east.describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0]["GlobalClusterMembers"]
    assert [m["DBClusterArn"].split(":")[-1] for m in members] == [PRIMARY]
    promoted = west.describe_db_clusters(DBClusterIdentifier=SECONDARY)["DBClusters"][0]
    assert promoted["Status"] == "available" and not promoted.get("GlobalClusterIdentifier")
    assert outputs(aws)["writer_endpoint"] == promoted["Endpoint"]
    assert f"aurora_cluster_identifier={SECONDARY}" in detached.stdout

    aws.record_from_now()
    again = run(aws, DETACH)
    assert again.ok and again.changed() == 0, again
    assert mutating(aws) == []
