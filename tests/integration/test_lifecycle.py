"""Engine-version lifecycle traps (issue: engine versions, identity and recovery).

(a) AWS upgraded the minor version behind the role's back: a re-run changes nothing and
    makes no modify call, and it says which version it found.
(b) A 16 to 17 major upgrade with custom parameters: the plan shows ``major-upgrade`` first,
    the run refuses it until allowed, then converges with the new family's parameter group
    attached (same custom parameters) and the old group gone.
(c)-(e) live in test_dev_stack.py: a changed identifier, destroy twice, restore.
"""

from __future__ import annotations

import pytest

from aws_proxy import AwsProxy
from dev_stack_checks import CLUSTER, HOST, PROVISION, fatal_lines, tail

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


def plan_of(result):
    """The lines of the plan task's message, in order."""
    lines, in_plan = [], False
    for line in result.stdout.splitlines():
        stripped = line.strip().strip(",").strip('"')
        if stripped.startswith(("Plan (check mode", "Changes made")):
            in_plan = True
            continue
        if in_plan:
            if stripped in ("]", "}"):
                break
            lines.append(stripped)
    return lines


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


def test_a_major_upgrade_is_planned_first_refused_until_allowed_then_converges(dev, proxy):
    rds = dev.client("rds")

    plan = dev.run_playbook(*PROVISION, extra_vars=UPGRADE, check=True)
    assert plan.returncode == 0, fatal_lines(plan) or tail(plan)
    lines = plan_of(plan)
    assert lines[0].startswith(f"cluster {CLUSTER}: engine_version 16.6 -> 17.4 [major-upgrade"), lines
    assert "downtime: every instance restarts at once" in lines[0] and "not allowed" in lines[0]
    assert f"parameter group {NEW_GROUP}: create [online]" in lines, lines
    assert f"replaced parameter group: delete {OLD_GROUP} [online]" in lines, lines

    proxy.clear_calls()
    refused = proxy.front(dev).run_playbook(*PROVISION, extra_vars=UPGRADE)
    assert refused.returncode != 0
    assert "this is a major version upgrade" in refused.stdout and "Nothing was changed" in refused.stdout
    assert "ModifyDBCluster" not in mutating(proxy, "rds"), mutating(proxy)
    assert rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["EngineVersion"] == "16.6"

    allowed = dict(UPGRADE, aurora_cluster_allow_major_version_upgrade=True)
    proxy.clear_calls()
    upgraded = proxy.front(dev).run_playbook(*PROVISION, extra_vars=allowed)
    assert upgraded.returncode == 0, fatal_lines(upgraded) or tail(upgraded)
    modify = [c for c in proxy.calls if c.action == "ModifyDBCluster"]
    assert len(modify) == 1 and "AllowMajorVersionUpgrade" in modify[0].params, modify

    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert (cluster["EngineVersion"], cluster["DBClusterParameterGroup"]) == ("17.4", NEW_GROUP)
    groups = {
        g["DBClusterParameterGroupName"]: g["DBParameterGroupFamily"]
        for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        if not g["DBClusterParameterGroupName"].startswith("default.")
    }
    assert groups == {NEW_GROUP: "aurora-postgresql17"}
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName=NEW_GROUP)["Parameters"]
    values = {p["ParameterName"]: p.get("ParameterValue") for p in params}
    assert values["log_min_duration_statement"] == "1000" and values["rds.force_ssl"] == "1", values

    again = dev.run_playbook(*PROVISION, extra_vars=UPGRADE)
    assert again.returncode == 0, fatal_lines(again) or tail(again)
    assert again.recap[HOST]["changed"] == 0, tail(again, 8000)
