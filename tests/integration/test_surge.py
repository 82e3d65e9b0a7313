"""A prod instance class change by surge, end to end against the local AWS.

One prod stack (the inventory as it is: aurora_cluster_instance_change_strategy=surge). The scenarios run in order,
each from the state the one before left; every real run makes exactly the planned calls, one to one with the plan's
steps (tests/integration/test_plan_is_the_program.py's Stack does the checking):

a. the class change: --check plans three creates beside the old instances, one failover to the new writer, three
   deletes, and changes nothing; the real run makes those calls; read back through boto3: the new class, the new
   writer, the old ones' promotion tiers and Availability Zones, the old instances gone; the alarms and the event
   subscription follow the new names; a re-run is changed=0;
b. the surge back (to the configured names) stopped once its creates are made (the proxy answers its FailoverDBCluster
   with an error, as a run killed there leaves the stack), then run again: no instance is created twice; the re-run
   fails over and deletes the old generation, and a third run is changed=0;
c. the user guide's surge commands, as written.

moto makes an instance available at once, so the wait for the creates is not exercised here (the unit tests run
the surge in fake time: tests/unit/test_surge_plan.py).
"""

from __future__ import annotations

import subprocess

import pytest
from test_documented_commands import commands_run_by, localised
from test_plan_is_the_program import CLUSTER, READER_1, READER_2, WRITER, Stack, planned_calls, summary

from aws_proxy import error
from local_aws import REPO_ROOT, ansible_env, parse_recap

NEW_WRITER, NEW_READER_1, NEW_READER_2 = f"{WRITER}-b", f"{CLUSTER}-reader-b-1", f"{CLUSTER}-reader-b-2"
XLARGE = {"aurora_cluster_instance_class": "db.r6g.xlarge"}
LARGE = {"aurora_cluster_instance_class": "db.r6g.large"}
SUBSCRIPTION = "vitality-prod-aurora-instance-events"


@pytest.fixture(scope="module")
def prod(recorded_aws, proxy, validator, tmp_path_factory):
    recorded_aws.reset_and_seed()
    stack = Stack(recorded_aws, proxy, validator, tmp_path_factory.mktemp("plans"))
    # The surge of the stack's own Region: prod without its us-west-2 secondary (test_global_database has it).
    stack.settled["aurora_cluster_secondary_region"] = ""
    first = stack.run(plan_file=True)
    assert first.result.returncode == 0, str(first.result)[-6000:]
    assert stack.writer() == [WRITER]
    return stack


def placement(stack):
    return {n: (i["DBInstanceClass"], i["AvailabilityZone"], i["PromotionTier"]) for n, i in stack.instances().items()}


def alarmed_instances(stack):
    found = stack.aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"vitality.aurora/{CLUSTER}/")[
        "MetricAlarms"
    ]
    return sorted({d["Value"] for a in found for d in a["Dimensions"] if d["Name"] == "DBInstanceIdentifier"})


def subscribed_instances(stack):
    listed = stack.aws.client("rds").describe_event_subscriptions()["EventSubscriptionsList"]
    return sorted(next(s for s in listed if s["CustSubscriptionId"] == SUBSCRIPTION).get("SourceIdsList") or [])


def test_a_class_change_by_surge(prod):
    before = placement(prod)
    planned, applied = prod.scenario(XLARGE)
    stack_steps = [s for s in summary(planned.plan) if s[0] in ("instance", "cluster")]
    assert stack_steps == [
        ("instance", NEW_WRITER, "create", "online", "now"),
        ("instance", NEW_READER_1, "create", "online", "now"),
        ("instance", NEW_READER_2, "create", "online", "now"),
        ("cluster", CLUSTER, "failover", "failover", "now"),
        ("instance", READER_2, "delete", "online", "now"),
        ("instance", READER_1, "delete", "online", "now"),
        ("instance", WRITER, "delete", "online", "now"),
    ]
    lines = planned.plan["lines"]
    first = next(line for line in lines if f"instance {NEW_WRITER}: create" in line)
    assert "strategy surge: 3 new instance(s) beside the 3 old one(s)" in first, first
    assert "extra cost while it runs: 3 more instance(s) (twice the instances)" in first, first
    failover = next(line for line in lines if ": failover" in line)
    assert f"(writer {WRITER} -> {NEW_WRITER}) [failover] - writes pause once" in failover, failover
    # The recorded calls are the plan's, one to one (Stack.scenario checks the whole run; here the stack's own).
    assert [c for c in applied.mutating if c.endswith(("DBInstance", "DBCluster"))] == [
        c for c in planned_calls(planned.plan) if c.endswith(("DBInstance", "DBCluster"))
    ]
    assert prod.writer() == [NEW_WRITER]
    renamed = {WRITER: NEW_WRITER, READER_1: NEW_READER_1, READER_2: NEW_READER_2}
    assert placement(prod) == {renamed[n]: ("db.r6g.xlarge", az, tier) for n, (_c, az, tier) in before.items()}
    # What is named after the instances follows the new names.
    assert alarmed_instances(prod) == sorted(renamed.values())
    assert subscribed_instances(prod) == sorted(renamed.values())
    prod.no_change(XLARGE)
    prod.settled.update(XLARGE)


def test_b_a_surge_stopped_after_its_creates_resumes_without_creating_again(prod):
    before = placement(prod)
    # The run stops at its failover: AWS refuses it (as it would a cluster not available), after the creates.
    prod.proxy.set_rules(error("FailoverDBCluster", "InvalidDBClusterStateFault", message="stopped by the test"))
    try:
        stopped = prod.run(LARGE)
    finally:
        prod.proxy.set_rules()
    assert stopped.result.returncode != 0
    assert "stopped by the test" in stopped.out
    assert stopped.mutating == ["CreateDBInstance"] * 3 + ["FailoverDBCluster"], stopped.mutating
    # Stopped before its failover: both generations, the new one still writing.
    assert sorted(prod.instances()) == sorted([WRITER, READER_1, READER_2, *before])
    assert prod.writer() == [NEW_WRITER]

    planned, applied = prod.scenario(LARGE)
    assert [s for s in summary(planned.plan) if s[0] in ("instance", "cluster")] == [
        ("cluster", CLUSTER, "failover", "failover", "now"),
        ("instance", NEW_READER_2, "delete", "online", "now"),
        ("instance", NEW_READER_1, "delete", "online", "now"),
        ("instance", NEW_WRITER, "delete", "online", "now"),
    ]
    assert "CreateDBInstance" not in applied.mutating
    assert prod.writer() == [WRITER]
    assert placement(prod) == {
        WRITER: ("db.r6g.large", before[NEW_WRITER][1], 0),
        READER_1: ("db.r6g.large", before[NEW_READER_1][1], 1),
        READER_2: ("db.r6g.large", before[NEW_READER_2][1], 2),
    }
    assert alarmed_instances(prod) == sorted([WRITER, READER_1, READER_2])
    prod.no_change(LARGE)


def test_c_the_guides_surge_commands_run_as_written(prod, tmp_path):
    """The guide's block of surge commands (docs/user-guide.md, "Instance changes: rolling or surge"), in its order, on
    the stack the scenarios above left (db.r6g.large, the configured names): plan, then the surge."""
    env = ansible_env(prod.aws.endpoint_url)
    local = ["-e", f"aurora_cluster_outputs_file={tmp_path}/out.json", "-e", f"aurora_cluster_report_dir={tmp_path}/r"]
    local += ["-e", "aurora_database_enabled=false", "-e", "aurora_cluster_secondary_region="]
    commands = commands_run_by("tests/integration/test_surge.py")
    assert len(commands) == 2
    for command in commands:
        args = localised(command, prod.aws.endpoint_url) + local
        proc = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)  # noqa: S603
        assert proc.returncode == 0 and parse_recap(proc.stdout), (
            f"$ {command}\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
        )
    assert prod.writer() == [NEW_WRITER]
    assert {n: i["DBInstanceClass"] for n, i in prod.instances().items()} == dict.fromkeys(
        [NEW_WRITER, NEW_READER_1, NEW_READER_2], "db.r6g.xlarge"
    )
