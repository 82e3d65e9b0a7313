"""Dev switched to Aurora Serverless v2 by extra vars, against the local AWS, asserted through boto3 and the calls
moto recorded.

One stack, in sequence: provision dev with `-e name=value` (db.serverless and a 0.5 to 4 ACU range); the cluster
holds the range and the writer is db.serverless. A capacity change given as `-e` JSON is planned first in check mode
(one online cluster step, nothing changed), then applied: its only mutating call is ModifyDBCluster, with the whole
range. The same inputs again change nothing. The guards of the range refuse before any AWS call, as YAML (one run over
a host per case) and as `-e` key=value and JSON. The local AWS holds the rules AWS applies that moto does not
(scripts/moto_server_ext.py): no db.serverless instance in a cluster without a range, the pause delay as AWS shows it.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from local_aws import RecordedAws, dev_hosts_inventory, host_failures, printed_plan

CLUSTER = "vitality-dev-aurora"
WRITER = "vitality-dev-aurora-writer"
HOST = "vitality-dev"
READS = ("Describe", "List", "Get")
MIN, MAX = "aurora_cluster_serverless_v2_min_capacity", "aurora_cluster_serverless_v2_max_capacity"
PAUSE = "aurora_cluster_serverless_v2_seconds_until_auto_pause"
SERVERLESS = {"aurora_cluster_instance_class": "db.serverless"}
# As a command line gives them: every value is text.
SWITCH = f"aurora_cluster_instance_class=db.serverless {MIN}=0.5 {MAX}=4"
# As -e JSON gives them: numbers are numbers.
BIGGER = json.dumps({**SERVERLESS, MIN: 0.5, MAX: 8})


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as recorded:
        recorded.reset_and_seed(("dev",))
        yield recorded


def provision(aws, extra_vars=None, check=False, inventory="inventories/dev"):
    aws.record_from_now()
    return aws.run_playbook("playbooks/provision.yml", inventory, extra_vars=extra_vars, check=check)


def mutating(aws):
    return [(action, params) for action, params in aws.calls() if not action.startswith(READS)]


def described(aws):
    rds = aws.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    writer = rds.describe_db_instances(DBInstanceIdentifier=WRITER)["DBInstances"][0]
    return cluster, writer


def scaling_sent(params):
    """The ServerlessV2ScalingConfiguration of a recorded query-protocol request, as numbers."""
    prefix = "ServerlessV2ScalingConfiguration."
    return {key[len(prefix) :]: float(value) for key, value in params.items() if key.startswith(prefix)}


@pytest.fixture(scope="module")
def serverless_dev(aws):
    first = provision(aws, SWITCH)
    assert first.returncode == 0, first.stdout[-5000:]
    return first


def test_dev_switched_by_extra_vars_converges_to_a_serverless_writer_in_a_cluster_with_its_range(serverless_dev, aws):
    cluster, writer = described(aws)
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    assert writer["DBInstanceClass"] == "db.serverless"
    assert [(m["DBInstanceIdentifier"], m["IsClusterWriter"]) for m in cluster["DBClusterMembers"]] == [(WRITER, True)]
    plan = printed_plan(serverless_dev.stdout)
    assert any(
        line.startswith(f"4. cluster {CLUSTER}: create (")
        and "serverless_v2_scaling_configuration (none) -> 0.5 to 4 ACU" in line
        for line in plan
    ), plan
    assert (
        f"5. instance {WRITER}: create (db_instance_class (none) -> db.serverless) [online]. writer in us-east-1c"
        in plan
    )
    # The range went in the cluster's create request, before the writer was asked for.
    calls = mutating(aws)
    actions = [action for action, _params in calls]
    assert actions.index("CreateDBCluster") < actions.index("CreateDBInstance")
    create = next(params for action, params in calls if action == "CreateDBCluster")
    assert scaling_sent(create) == {"MinCapacity": 0.5, "MaxCapacity": 4.0}


def test_a_capacity_change_is_planned_online_changes_nothing_in_check_mode_then_is_one_modify(serverless_dev, aws):
    line = (
        f"1. cluster {CLUSTER}: modify (serverless_v2_scaling_configuration 0.5 to 4 ACU -> 0.5 to 8 ACU) [online]. "
        "Serverless v2 instances scale within the new range at once"
    )
    check = provision(aws, BIGGER, check=True)
    assert check.returncode == 0, check.stdout[-5000:]
    plan = printed_plan(check.stdout)
    assert plan[0] == "Plan (check mode: nothing was changed)" and len(plan) == 2, plan
    assert plan[1].startswith(line), plan
    assert mutating(aws) == []
    assert described(aws)[0]["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 4.0

    changed = provision(aws, BIGGER)
    assert changed.returncode == 0, changed.stdout[-5000:]
    plan = printed_plan(changed.stdout)
    assert plan[0] == "Plan" and len(plan) == 2 and plan[1].startswith(line), plan
    calls = mutating(aws)
    assert [action for action, _params in calls] == ["ModifyDBCluster"]
    assert scaling_sent(calls[0][1]) == {"MinCapacity": 0.5, "MaxCapacity": 8.0}
    cluster, writer = described(aws)
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 8.0}
    assert writer["DBInstanceClass"] == "db.serverless"
    assert changed.recap[HOST]["changed"] >= 1


def test_the_same_inputs_again_change_nothing(serverless_dev, aws):
    again = provision(aws, BIGGER)
    assert again.returncode == 0, again.stdout[-5000:]
    assert printed_plan(again.stdout) == ["Plan", "no change"]
    assert mutating(aws) == []
    assert again.recap[HOST]["changed"] == 0, again.stdout[-3000:]


# --- the guards, before any AWS call ------------------------------------------------------------------------------

# case: (variables as typed YAML values, the refusal's text)
GUARDS = {
    "serverless-without-range": (
        SERVERLESS,
        "aurora_cluster_instance_class='db.serverless' needs the cluster's Serverless v2",
    ),
    "half-steps": (
        {**SERVERLESS, MIN: 0.25, MAX: 4},
        f"{MIN}=0.25 is invalid: Aurora Serverless v2 capacity is set in steps",
    ),
    "minimum-above-maximum": ({**SERVERLESS, MIN: 8, MAX: 4}, f"{MIN}=8 is above {MAX}=4"),
    "maximum-over-256": ({**SERVERLESS, MIN: 1, MAX: 300}, f"{MAX}=300 is out of range: 1 to 256 ACU"),
    "pause-before-16.3": (
        {**SERVERLESS, MIN: 0, MAX: 4, "aurora_cluster_engine_version": "16.2"},
        f"{MIN}=0 needs automatic pause, which Aurora PostgreSQL 16 offers from 16.3 on",
    ),
    "pause-delay-without-minimum-0": ({**SERVERLESS, MIN: 1, MAX: 4, PAUSE: 600}, f"{PAUSE}=600 is set while {MIN}=1"),
    "pause-delay-out-of-range": (
        {**SERVERLESS, MIN: 0, MAX: 4, PAUSE: 100},
        f"{PAUSE}=100 is out of range: 300 to 86400",
    ),
}


def yaml_string(value):
    return value if isinstance(value, str) else str(value)


def test_every_guard_refuses_yaml_numbers_and_yaml_strings_before_any_aws_call(serverless_dev, aws, tmp_path):
    cases, expected = {}, {}
    for guard, (variables, message) in GUARDS.items():
        cases[f"{guard}-yaml"] = variables
        cases[f"{guard}-yaml-string"] = {name: yaml_string(value) for name, value in variables.items()}
        expected[f"{guard}-yaml"] = expected[f"{guard}-yaml-string"] = message
    result = provision(aws, inventory=dev_hosts_inventory(tmp_path, cases))
    failures = host_failures(result.stdout)
    assert mutating(aws) == []
    for host, message in expected.items():
        assert host in failures, f"{host} was not refused\n{result.stdout[-3000:]}"
        assert "Invalid settings, nothing was changed" in failures[host] and message in failures[host], failures[host]


@pytest.mark.parametrize(
    "extra_vars, guard",
    [
        (f"aurora_cluster_instance_class=db.serverless {MIN}=8 {MAX}=4", "minimum-above-maximum"),
        (json.dumps({**SERVERLESS, MIN: 0.25, MAX: 4}), "half-steps"),
    ],
    ids=["key=value", "json"],
)
def test_a_guard_refuses_extra_vars_before_any_aws_call(serverless_dev, aws, extra_vars, guard):
    result = provision(aws, extra_vars)
    assert result.returncode != 0
    assert GUARDS[guard][1] in result.stdout, result.stdout[-3000:]
    assert mutating(aws) == []


def test_the_local_aws_holds_serverless_v2_to_aws_rules(aws):
    """What scripts/moto_server_ext.py adds, as AWS behaves: no db.serverless instance in a cluster without a range;
    the pause delay shown only with a minimum of 0, AWS's 300 when none was sent."""
    rds = aws.client("rds")
    common = {"Engine": "aurora-postgresql", "EngineVersion": "16.6", "MasterUsername": "admin1"}
    rds.create_db_cluster(DBClusterIdentifier="no-range", ManageMasterUserPassword=True, **common)
    rds.create_db_cluster(
        DBClusterIdentifier="pausing",
        ManageMasterUserPassword=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 2},
        **common,
    )
    try:
        with pytest.raises(ClientError) as refused:
            rds.create_db_instance(
                DBInstanceIdentifier="no-range-writer",
                DBClusterIdentifier="no-range",
                Engine="aurora-postgresql",
                DBInstanceClass="db.serverless",
            )
        assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination"
        assert [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]] == [WRITER]

        def pausing():
            return rds.describe_db_clusters(DBClusterIdentifier="pausing")["DBClusters"][0][
                "ServerlessV2ScalingConfiguration"
            ]

        assert pausing() == {"MinCapacity": 0.0, "MaxCapacity": 2.0, "SecondsUntilAutoPause": 300}
        rds.modify_db_cluster(
            DBClusterIdentifier="pausing",
            ServerlessV2ScalingConfiguration={"MinCapacity": 1, "MaxCapacity": 2, "SecondsUntilAutoPause": 600},
            ApplyImmediately=True,
        )
        assert pausing() == {"MinCapacity": 1.0, "MaxCapacity": 2.0}
    finally:
        for identifier in ("no-range", "pausing"):
            rds.delete_db_cluster(DBClusterIdentifier=identifier, SkipFinalSnapshot=True)
