"""Engine-version lifecycle traps (issue: engine versions, identity and recovery).

(a) AWS upgraded the minor version behind the role's back: a re-run changes nothing and
    makes no modify call, and it says which version it found.
(b) A 16 to 17 major upgrade with custom parameters: until allowed, planning refuses it ("Plan
    the stack failed", naming aurora_cluster_allow_major_version_upgrade) in --check and in a real
    run, with no mutating call; once allowed, the --check plan names each step with its impact
    (the new family's group created, the upgrade [all-instances-restart], the old group deleted),
    the real run makes exactly the planned calls and converges with the new family's parameter
    group attached (same custom parameters) and the old group gone, and a re-run is "no change".
(c)-(e) live in test_dev_stack.py: a changed identifier, destroy twice, restore.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.vitality.aurora.plugins.module_utils.plan import unnumbered
from aws_proxy import AwsProxy
from dev_stack_checks import CLUSTER, HOST, PROVISION, fatal_lines, tail
from local_aws import printed_plan

CUSTOM = {"log_min_duration_statement": 1000}
UPGRADE = {"aurora_cluster_engine_version": "17.4", "aurora_cluster_parameters": CUSTOM}
OLD_GROUP, NEW_GROUP = "vitality-dev-aurora-pg16", "vitality-dev-aurora-pg17"


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        yield running


@pytest.fixture
def dev(local_aws):
    local_aws.reset_and_seed(("dev",))
    first = local_aws.run_playbook(*PROVISION, extra_vars={"aurora_cluster_parameters": CUSTOM})
    assert first.returncode == 0, fatal_lines(first) or tail(first)
    return local_aws


def mutating(proxy, service=None):
    return [c.action for c in proxy.calls if c.mutating and (service is None or c.service == service)]


def test_a_newer_minor_applied_by_aws_is_kept_without_a_call(dev, proxy):
    rds = dev.client("rds")
    rds.modify_db_cluster(DBClusterIdentifier=CLUSTER, EngineVersion="16.8", ApplyImmediately=True)
    proxy.clear_calls()
    again = proxy.front(dev).run_playbook(*PROVISION, extra_vars={"aurora_cluster_parameters": CUSTOM})
    assert again.returncode == 0, fatal_lines(again) or tail(again)
    assert again.recap[HOST]["changed"] == 0, tail(again, 8000)
    assert mutating(proxy) == [], mutating(proxy)
    assert "running 16.8, newer than the configured 16.6 within major 16; kept" in again.stdout
    assert rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["EngineVersion"] == "16.8"


def groups_of(rds):
    """{name: family} of the stack's own cluster parameter groups (the default ones left out)."""
    return {
        g["DBClusterParameterGroupName"]: g["DBParameterGroupFamily"]
        for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        if not g["DBClusterParameterGroupName"].startswith("default.")
    }


def test_a_major_upgrade_is_refused_until_allowed_then_planned_and_converges(dev, proxy, tmp_path):
    rds = dev.client("rds")

    # Not allowed: planning stops, in --check and in a real run alike, before any change.
    for check in (True, False):
        proxy.clear_calls()
        refused = proxy.front(dev).run_playbook(*PROVISION, extra_vars=UPGRADE, check=check)
        assert refused.returncode != 0, tail(refused)
        out = refused.stdout + refused.stderr
        assert (
            f"Plan and converge the stack failed: aurora_cluster_engine_version=17.4: cluster {CLUSTER} runs 16.6"
            in out
        ), tail(refused)
        assert "a major version upgrade (impossible-in-place unless allowed" in out
        assert "set aurora_cluster_allow_major_version_upgrade=true" in out
        assert "Nothing was changed." in out
        assert mutating(proxy) == [], mutating(proxy)
        assert any(c.action == "DescribeDBClusters" for c in proxy.calls), "the planner read nothing"
        assert groups_of(rds) == {OLD_GROUP: "aurora-postgresql16"}
        assert rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["EngineVersion"] == "16.6"

    # Allowed: the --check plan names each step with its impact, and changes nothing.
    allowed = dict(UPGRADE, aurora_cluster_allow_major_version_upgrade=True)
    plan_file = tmp_path / "major-upgrade-plan.json"
    proxy.clear_calls()
    checked = proxy.front(dev).run_playbook(
        *PROVISION, extra_vars=dict(allowed, aurora_cluster_plan_output_file=str(plan_file)), check=True
    )
    assert checked.returncode == 0, fatal_lines(checked) or tail(checked)
    assert mutating(proxy) == [], mutating(proxy)
    plan = json.loads(plan_file.read_text())
    assert printed_plan(checked.stdout) == ["Plan (check mode: nothing was changed)", *plan["lines"]]
    assert [unnumbered(line) for line in plan["lines"]] == [
        f"parameter group {NEW_GROUP}: create (parameters.log_min_duration_statement (none) -> 1000; "
        "parameters.rds.force_ssl (none) -> 1) [online]",
        f"cluster {CLUSTER}: major version upgrade (engine_version 16.6 -> 17.4; db_cluster_parameter_group_name "
        f"{OLD_GROUP} -> {NEW_GROUP}) [all-instances-restart] - every instance restarts together: the cluster is "
        "unavailable until the upgrade ends (typically 10 to 30 minutes). strategy in-place: no extra cost; "
        "take a snapshot first",
        f"parameter group {OLD_GROUP}: delete (parameter group {OLD_GROUP} -> (none)) [online]. "
        "the major version upgrade replaced it",
    ], plan["lines"]
    assert groups_of(rds) == {OLD_GROUP: "aurora-postgresql16"}

    # The real run carries out that plan, call by call.
    proxy.clear_calls()
    upgraded = proxy.front(dev).run_playbook(*PROVISION, extra_vars=allowed)
    assert upgraded.returncode == 0, fatal_lines(upgraded) or tail(upgraded)
    assert upgraded.recap[HOST]["changed"] > 0
    assert mutating(proxy) == [call for action in plan["actions"] for call in action["calls"]], mutating(proxy)
    modify = [c for c in proxy.calls if c.action == "ModifyDBCluster"]
    assert len(modify) == 1 and "AllowMajorVersionUpgrade" in modify[0].params, modify

    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert (cluster["EngineVersion"], cluster["DBClusterParameterGroup"]) == ("17.4", NEW_GROUP)
    assert groups_of(rds) == {NEW_GROUP: "aurora-postgresql17"}
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName=NEW_GROUP)["Parameters"]
    values = {p["ParameterName"]: p.get("ParameterValue") for p in params}
    assert values["log_min_duration_statement"] == "1000" and values["rds.force_ssl"] == "1", values

    proxy.clear_calls()
    again = proxy.front(dev).run_playbook(*PROVISION, extra_vars=UPGRADE)
    assert again.returncode == 0, fatal_lines(again) or tail(again)
    assert again.recap[HOST]["changed"] == 0, tail(again, 8000)
    assert printed_plan(again.stdout) == ["Plan", "no change"], tail(again, 8000)
    assert mutating(proxy) == [], mutating(proxy)
