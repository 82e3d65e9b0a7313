"""A fleet: inventories/fleet's four stacks in one run, side by side (--forks 8), against one local AWS behind the
recording proxy (tests/aws_proxy.py), asserted through boto3 and the calls the proxy saw.

In sequence: the first run converges every stack while the proxy throttles two requests (the run absorbs them and
its closing summary counts exactly the throttled answers the proxy sent); boto3 finds each stack's own cluster,
writer (and the claims team's reader), security group, subnet group and parameter group, tagged with its team. The
same command again changes nothing and makes no mutating call. `--limit` with a changed setting touches only the
named stack. Two stacks that would share a name are refused before any AWS call, whether the names come from `-e`
key=value, `-e` JSON or host variables in YAML.
"""

from __future__ import annotations

import json
import re

import pytest

from aws_proxy import AwsProxy, fault
from local_aws import REPO_ROOT, host_failures, parse_recap

INVENTORY = "inventories/fleet"
PLAYBOOK = "playbooks/provision.yml"
FORKS = ["--forks", "8"]
# inventories/fleet/hosts.yml: host = aurora_cluster_name, and its team tag.
STACKS = {
    "vitality-billing": {"team": "billing", "readers": 0, "class": "db.r6g.large"},
    "vitality-claims": {"team": "claims", "readers": 1, "class": "db.r6g.large"},
    "vitality-members": {"team": "members", "readers": 0, "class": "db.r6g.large"},
    "vitality-reports": {"team": "reports", "readers": 0, "class": "db.r6g.xlarge"},
}
THROTTLED = {"DescribeDBClusters": 1, "CreateDBInstance": 2}
SUMMARY = re.compile(r"AWS calls throttled and retried with backoff: (\d+)")
SHARED_NAME = "Stacks of one run share names, nothing was changed"


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        local_aws.reset_and_seed(("dev",))
        yield running


def run(proxy, local_aws, *args, extra_vars=None, tmp_path):
    proxy.clear_calls()
    return proxy.front(local_aws).run_playbook(
        PLAYBOOK,
        INVENTORY,
        extra_vars=extra_vars,
        # Each stack's outputs and report to the test's directory (the default is playbooks/outputs/<name>.json).
        extra_args=[
            *FORKS,
            *args,
            "-e",
            f"aurora_cluster_outputs_file={tmp_path}/{{{{ aurora_cluster_name }}}}.json",
            "-e",
            f"aurora_cluster_report_dir={tmp_path}/report",
        ],
    )


def summary_count(stdout):
    counts = [int(n) for n in SUMMARY.findall(stdout)]
    assert len(counts) == 1, f"one summary per run: {counts}\n{stdout[-3000:]}"
    return counts[0]


@pytest.fixture(scope="module")
def first_run(proxy, local_aws, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fleet")
    proxy.set_rules(*(fault("throttle", action=action, nth=nth) for action, nth in THROTTLED.items()))
    try:
        result = run(proxy, local_aws, tmp_path=tmp_path)
    finally:
        proxy.set_rules()
    return result, list(proxy.calls), tmp_path


def test_the_fleet_converges_in_one_run_and_counts_the_throttled_calls(first_run, local_aws):
    result, calls, tmp_path = first_run
    assert result.returncode == 0, result.stdout[-5000:]
    assert set(result.recap) == set(STACKS) and result.failed() == 0
    throttled = [c for c in calls if c.fault == "throttle"]
    assert sorted(c.action for c in throttled) == sorted(THROTTLED)
    # Every throttled answer met a retry that succeeded, and the summary counts exactly those the proxy sent.
    assert summary_count(result.stdout) == len(throttled)

    rds, ec2 = local_aws.client("rds"), local_aws.client("ec2")
    clusters = {c["DBClusterIdentifier"]: c for c in rds.describe_db_clusters()["DBClusters"]}
    assert set(clusters) == {f"{host}-aurora" for host in STACKS}
    for host, stack in STACKS.items():
        cluster = clusters[f"{host}-aurora"]
        tags = {t["Key"]: t["Value"] for t in cluster.get("TagList", [])}
        assert tags.get("Team") == stack["team"], (host, tags)
        members = {m["DBInstanceIdentifier"]: m for m in cluster["DBClusterMembers"]}
        expected = {f"{host}-aurora-writer"} | {f"{host}-aurora-reader-{n}" for n in range(1, stack["readers"] + 1)}
        assert set(members) == expected, (host, members)
        assert [m for m in members.values() if m["IsClusterWriter"]][0][
            "DBInstanceIdentifier"
        ] == f"{host}-aurora-writer"
        writer = rds.describe_db_instances(DBInstanceIdentifier=f"{host}-aurora-writer")["DBInstances"][0]
        assert writer["DBInstanceClass"] == stack["class"], host
        assert cluster["DBSubnetGroup"] == f"{host}-db-subnets"
        assert cluster["DBClusterParameterGroup"] == f"{host}-aurora-pg16"
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{host}-db"]}])[
            "SecurityGroups"
        ]
        assert [g["GroupId"] for g in groups] == [cluster["VpcSecurityGroups"][0]["VpcSecurityGroupId"]], host
        # Each stack's outputs file is its own.
        outputs = json.loads((tmp_path / f"{host}.json").read_text())
        assert outputs["cluster_identifier"] == f"{host}-aurora"


def test_the_same_command_again_changes_nothing(first_run, proxy, local_aws):
    result, _calls, tmp_path = first_run
    assert result.returncode == 0
    again = run(proxy, local_aws, tmp_path=tmp_path)
    assert again.returncode == 0, again.stdout[-5000:]
    assert set(again.recap) == set(STACKS) and again.changed() == 0, again.recap
    assert [c.action for c in proxy.calls if c.mutating] == []
    assert summary_count(again.stdout) == 0


def test_limit_touches_only_the_stacks_named(first_run, proxy, local_aws):
    _result, _calls, tmp_path = first_run
    result = run(
        proxy,
        local_aws,
        "--limit",
        "vitality-claims",
        extra_vars="aurora_cluster_backup_retention_period=2",
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert set(result.recap) == {"vitality-claims"}
    mutating = [c for c in proxy.calls if c.mutating]
    assert [(c.action, c.identifiers.get("DBClusterIdentifier")) for c in mutating] == [
        ("ModifyDBCluster", "vitality-claims-aurora")
    ]
    retention = {
        c["DBClusterIdentifier"]: c["BackupRetentionPeriod"]
        for c in local_aws.client("rds").describe_db_clusters()["DBClusters"]
    }
    assert retention == {f"{host}-aurora": 2 if host == "vitality-claims" else 1 for host in STACKS}


@pytest.mark.parametrize(
    "extra_vars",
    [
        pytest.param("aurora_cluster_name=vitality-shared", id="e-key-value"),
        pytest.param(json.dumps({"aurora_cluster_name": "vitality-shared"}), id="e-json"),
    ],
)
def test_stacks_that_would_share_names_are_refused_before_any_aws_call(proxy, local_aws, tmp_path, extra_vars):
    result = run(
        proxy, local_aws, "--limit", "vitality-billing,vitality-members", extra_vars=extra_vars, tmp_path=tmp_path
    )
    assert result.returncode != 0
    failures = host_failures(result.stdout)
    assert set(failures) == {"vitality-billing", "vitality-members"}, result.stdout[-3000:]
    for host, other in (("vitality-billing", "vitality-members"), ("vitality-members", "vitality-billing")):
        assert SHARED_NAME in failures[host] and f"host {other}'s" in failures[host], failures[host]
        assert "DB cluster 'vitality-shared-aurora' (aurora_cluster_identifier)" in failures[host]
    assert proxy.calls == []


def test_names_set_in_yaml_host_variables_are_compared_too(proxy, local_aws, tmp_path):
    """Two stacks with names of their own, but one DB cluster identifier given to both in YAML: the two are refused,
    a third stack of the run with no shared name is not (it converges in the same run)."""
    inventory = tmp_path / "fleet"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "group_vars" / "aurora.yml").write_text(
        (REPO_ROOT / INVENTORY / "group_vars" / "aurora.yml").read_text()
    )
    hosts = {
        "aurora": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "hosts": {
                "team-a": {"aurora_cluster_name": "vitality-team-a", "aurora_cluster_identifier": "vitality-together"},
                "team-b": {"aurora_cluster_name": "vitality-team-b", "aurora_cluster_identifier": "vitality-together"},
                "team-c": {"aurora_cluster_name": "vitality-team-c"},
            },
        }
    }
    (inventory / "hosts.yml").write_text(json.dumps(hosts))
    proxy.clear_calls()
    result = proxy.front(local_aws).run_playbook(
        PLAYBOOK,
        inventory,
        extra_args=[
            *FORKS,
            "-e",
            f"aurora_cluster_outputs_file={tmp_path}/{{{{ aurora_cluster_name }}}}.json",
            "-e",
            f"aurora_cluster_report_dir={tmp_path}/report",
        ],
    )
    recap = parse_recap(result.stdout)
    failures = host_failures(result.stdout)
    assert set(failures) == {"team-a", "team-b"}, result.stdout[-3000:]
    assert "DB cluster 'vitality-together' (aurora_cluster_identifier)" in failures["team-a"]
    assert recap["team-c"]["failed"] == 0
    # Only team-c's stack reached AWS.
    touched = {
        c.identifiers.get("DBClusterIdentifier") for c in proxy.calls if c.identifiers.get("DBClusterIdentifier")
    }
    assert touched == {"vitality-team-c-aurora"}, touched
    assert not [c for c in proxy.calls if "vitality-together" in json.dumps(c.identifiers)]
