"""The cluster's storage configuration and the instances' certificate authority, on dev against the local AWS,
asserted through boto3 and the calls moto recorded.

One stack (dev with one reader, by extra vars), in sequence: provisioned with the defaults, the cluster is Standard
(`aurora`) and every instance has the `rds-ca-rsa2048-g1` authority, both sent in the creates and reported in the
outputs. A switch to I/O-Optimized is planned online in check mode (nothing changed), then made with one
ModifyDBCluster; a switch back is allowed at once; a switch to I/O-Optimized again within 30 days is refused by the plan
with AWS's next allowed time, before any change. A new authority rolls as the restart it is: the reader, a failover to
it, the writer, the failback, exactly the planned calls. The same inputs again change nothing. The guards refuse
before any AWS call in every input form. The local AWS holds AWS's storage rules that moto lacks
(scripts/moto_server_ext.py).
"""

from __future__ import annotations

import json

import pytest

from local_aws import RecordedAws, dev_hosts_inventory, host_failures, printed_plan

CLUSTER = "vitality-dev-aurora"
WRITER = "vitality-dev-aurora-writer"
READER = "vitality-dev-aurora-reader-1"
HOST = "vitality-dev"
READS = ("Describe", "List", "Get")
STORAGE, CA = "aurora_cluster_storage_type", "aurora_cluster_ca_certificate_identifier"
# Every run keeps dev's one reader: as a command line gives it (text), and as -e JSON (a number).
ONE_READER = "aurora_cluster_reader_count=1"


def with_reader(variables):
    return json.dumps({"aurora_cluster_reader_count": 1, **variables})


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as recorded:
        recorded.reset_and_seed(("dev",))
        yield recorded


def provision(aws, extra_vars=ONE_READER, check=False, inventory="inventories/dev"):
    aws.record_from_now()
    return aws.run_playbook("playbooks/provision.yml", inventory, extra_vars=extra_vars, check=check)


def mutating(aws):
    return [(action, params) for action, params in aws.calls() if not action.startswith(READS)]


def cluster(aws):
    return aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]


def authorities(aws):
    instances = aws.client("rds").describe_db_instances()["DBInstances"]
    return {i["DBInstanceIdentifier"]: i.get("CACertificateIdentifier") for i in instances}


@pytest.fixture(scope="module")
def dev(aws):
    first = provision(aws)
    assert first.returncode == 0, first.stdout[-5000:]
    return first


def test_a_new_stack_is_standard_with_the_default_authority_sent_and_reported(dev, aws):
    assert cluster(aws)["StorageType"] == "aurora"
    assert authorities(aws) == {WRITER: "rds-ca-rsa2048-g1", READER: "rds-ca-rsa2048-g1"}
    calls = mutating(aws)
    create = next(params for action, params in calls if action == "CreateDBCluster")
    assert create["StorageType"] == "aurora"
    instances = [params for action, params in calls if action == "CreateDBInstance"]
    assert sorted(p["DBInstanceIdentifier"] for p in instances) == [READER, WRITER]
    assert {p["CACertificateIdentifier"] for p in instances} == {"rds-ca-rsa2048-g1"}
    assert any(
        line.startswith(f"4. cluster {CLUSTER}: create (") and "storage_type (none) -> aurora" in line
        for line in printed_plan(dev.stdout)
    )
    outputs = json.loads((aws.outputs_dir / "vitality-dev.json").read_text())
    assert outputs["storage_type"] == "aurora"
    # The local AWS reports no CertificateDetails: the expiry is null, as the outputs say it is when AWS is silent.
    assert outputs["certificates"] == [
        {"instance": READER, "ca_certificate_identifier": "rds-ca-rsa2048-g1", "valid_till": None},
        {"instance": WRITER, "ca_certificate_identifier": "rds-ca-rsa2048-g1", "valid_till": None},
    ]


SWITCH_LINE = f"1. cluster {CLUSTER}: modify (storage_type aurora -> aurora-iopt1) [online]. online, no restart;"


def test_a_switch_to_io_optimized_is_planned_in_check_mode_then_is_one_modify(dev, aws):
    check = provision(aws, f"{ONE_READER} {STORAGE}=aurora-iopt1", check=True)
    assert check.returncode == 0, check.stdout[-5000:]
    plan = printed_plan(check.stdout)
    assert plan[0] == "Plan (check mode: nothing was changed)" and len(plan) == 2, plan
    assert plan[1].startswith(SWITCH_LINE) and "once every 30 days" in plan[1], plan
    assert mutating(aws) == []
    assert cluster(aws)["StorageType"] == "aurora"

    changed = provision(aws, with_reader({STORAGE: "aurora-iopt1"}))
    assert changed.returncode == 0, changed.stdout[-5000:]
    assert printed_plan(changed.stdout)[1].startswith(SWITCH_LINE)
    calls = mutating(aws)
    assert [action for action, _params in calls] == ["ModifyDBCluster"]
    assert calls[0][1]["StorageType"] == "aurora-iopt1" and calls[0][1]["ApplyImmediately"] == "true"
    described = cluster(aws)
    assert described["StorageType"] == "aurora-iopt1"
    assert described["IOOptimizedNextAllowedModificationTime"] is not None

    again = provision(aws, with_reader({STORAGE: "aurora-iopt1"}))
    assert printed_plan(again.stdout) == ["Plan", "no change"]
    assert mutating(aws) == [] and again.recap[HOST]["changed"] == 0


def test_a_switch_back_is_allowed_at_once_and_a_switch_again_is_refused_with_the_time(dev, aws):
    if cluster(aws)["StorageType"] != "aurora-iopt1":
        pytest.skip("needs the switch of the test before")
    back = provision(aws, ONE_READER)
    assert back.returncode == 0, back.stdout[-5000:]
    assert printed_plan(back.stdout)[1].startswith(
        f"1. cluster {CLUSTER}: modify (storage_type aurora-iopt1 -> aurora) [online]"
    )
    assert [action for action, _params in mutating(aws)] == ["ModifyDBCluster"]
    assert cluster(aws)["StorageType"] == "aurora"

    allowed = cluster(aws)["IOOptimizedNextAllowedModificationTime"]
    refused = provision(aws, f"{ONE_READER} {STORAGE}=aurora-iopt1")
    assert refused.returncode != 0
    assert (
        f"{STORAGE}=aurora-iopt1: cluster {CLUSTER} is Standard and AWS allows its next switch to I/O-Optimized only "
        f"from {allowed.strftime('%Y-%m-%d %H:%M UTC')}"
    ) in refused.stdout, refused.stdout[-3000:]
    assert mutating(aws) == []
    assert cluster(aws)["StorageType"] == "aurora"


ROTATED = "rds-ca-rsa4096-g1"


def test_a_new_authority_rolls_as_restarts_exactly_as_planned(dev, aws):
    check = provision(aws, f"{ONE_READER} {CA}={ROTATED}", check=True)
    assert check.returncode == 0, check.stdout[-5000:]
    plan = printed_plan(check.stdout)
    assert [line.split(" (", 1)[0] for line in plan[1:]] == [
        f"1. instance {READER}: modify",
        f"2. cluster {CLUSTER}: failover",
        f"3. instance {WRITER}: modify",
        f"4. cluster {CLUSTER}: failover",
    ], plan
    assert f"(ca_certificate_identifier rds-ca-rsa2048-g1 -> {ROTATED}) [reboot]" in plan[1]
    assert f"clients must trust {ROTATED} first" in plan[1]
    assert mutating(aws) == []

    changed = provision(aws, with_reader({CA: ROTATED}))
    assert changed.returncode == 0, changed.stdout[-5000:]
    calls = mutating(aws)
    assert [
        (action, params.get("DBInstanceIdentifier") or params.get("TargetDBInstanceIdentifier"))
        for action, params in calls
    ] == [
        ("ModifyDBInstance", READER),
        ("FailoverDBCluster", READER),
        ("ModifyDBInstance", WRITER),
        ("FailoverDBCluster", WRITER),
    ]
    assert {params["CACertificateIdentifier"] for action, params in calls if action == "ModifyDBInstance"} == {ROTATED}
    # No CertificateRotationRestart: AWS restarts the instance, as the plan says.
    assert not any("CertificateRotationRestart" in params for _action, params in calls)
    assert authorities(aws) == {WRITER: ROTATED, READER: ROTATED}

    again = provision(aws, with_reader({CA: ROTATED}))
    assert printed_plan(again.stdout) == ["Plan", "no change"]
    assert mutating(aws) == [] and again.recap[HOST]["changed"] == 0


# --- custom endpoints ---------------------------------------------------------------------------------------------

READER_2 = "vitality-dev-aurora-reader-2"
ENDPOINTS = [
    {"name": "analytics", "static_members": ["reader-2"]},
    {"name": "general", "excluded_members": ["reader-2"]},
]
ENDPOINT_VARS = json.dumps({"aurora_cluster_reader_count": 2, "aurora_cluster_custom_endpoints": ENDPOINTS})
KEEP = f"{ONE_READER} {CA}={ROTATED}"


def endpoints(aws):
    found = aws.client("rds").describe_db_cluster_endpoints(
        DBClusterIdentifier=CLUSTER, Filters=[{"Name": "db-cluster-endpoint-type", "Values": ["custom"]}]
    )["DBClusterEndpoints"]
    return {e["DBClusterEndpointIdentifier"]: e for e in found}


def test_custom_endpoints_are_created_after_the_reader_they_name_exactly_as_planned(dev, aws):
    variables = json.dumps({**json.loads(ENDPOINT_VARS), CA: ROTATED})
    check = provision(aws, variables, check=True)
    assert check.returncode == 0, check.stdout[-5000:]
    plan = printed_plan(check.stdout)
    assert [line.split(":", 1)[0] for line in plan[1:]] == [
        f"1. instance {READER_2}",
        f"2. custom endpoint {CLUSTER}-analytics",
        f"3. custom endpoint {CLUSTER}-general",
    ], plan
    assert plan[2].endswith(f"[online]. only {READER_2}; new readers do not join it"), plan
    assert plan[3].endswith(f"[online]. every reader but {READER_2}, new and autoscaled readers included"), plan
    assert mutating(aws) == [] and endpoints(aws) == {}

    changed = provision(aws, variables)
    assert changed.returncode == 0, changed.stdout[-5000:]
    calls = mutating(aws)
    assert [action for action, _params in calls] == [
        "CreateDBInstance",
        "CreateDBClusterEndpoint",
        "CreateDBClusterEndpoint",
    ]
    found = endpoints(aws)
    assert sorted(found) == [f"{CLUSTER}-analytics", f"{CLUSTER}-general"]
    analytics, general = found[f"{CLUSTER}-analytics"], found[f"{CLUSTER}-general"]
    assert (analytics["CustomEndpointType"], analytics["StaticMembers"], analytics["ExcludedMembers"]) == (
        "READER",
        [READER_2],
        [],
    )
    assert (general["StaticMembers"], general["ExcludedMembers"]) == ([], [READER_2])
    assert analytics["Endpoint"].startswith(f"{CLUSTER}-analytics.cluster-custom-")
    tags = aws.client("rds").list_tags_for_resource(ResourceName=analytics["DBClusterEndpointArn"])["TagList"]
    assert {"Key": "ManagedBy", "Value": "vitality.aurora"} in tags and {
        "Key": "Stack",
        "Value": "vitality-dev",
    } in tags
    outputs = json.loads((aws.outputs_dir / "vitality-dev.json").read_text())
    assert outputs["custom_endpoints"] == {"analytics": analytics["Endpoint"], "general": general["Endpoint"]}

    again = provision(aws, variables)
    assert printed_plan(again.stdout) == ["Plan", "no change"]
    assert mutating(aws) == [] and again.recap[HOST]["changed"] == 0


def test_an_autoscaled_reader_and_a_hand_made_endpoint_are_left_as_they_are(dev, aws):
    rds = aws.client("rds")
    if not endpoints(aws):
        pytest.skip("needs the endpoints of the test before")
    rds.create_db_instance(
        DBInstanceIdentifier="application-autoscaling-5f1c2a",
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
        CACertificateIdentifier=ROTATED,
    )
    rds.create_db_cluster_endpoint(
        DBClusterIdentifier=CLUSTER,
        DBClusterEndpointIdentifier=f"{CLUSTER}-handmade",
        EndpointType="ANY",
        StaticMembers=[WRITER],
    )
    try:
        again = provision(aws, json.dumps({**json.loads(ENDPOINT_VARS), CA: ROTATED}))
        assert again.returncode == 0, again.stdout[-5000:]
        # The general endpoint excludes reader-2 only: AWS serves the autoscaled reader through it, with no step.
        # The plan names the autoscaler's reader it leaves alone (autoscaling is off in dev).
        assert printed_plan(again.stdout) == [
            "Plan",
            "no change",
            "Reader autoscaling is off: 1 reader made by Application Auto Scaling (application-autoscaling-5f1c2a)",
        ]
        assert mutating(aws) == []
        assert endpoints(aws)[f"{CLUSTER}-handmade"]["StaticMembers"] == [WRITER]
    finally:
        rds.delete_db_instance(DBInstanceIdentifier="application-autoscaling-5f1c2a")


def test_endpoints_dropped_from_the_inventory_are_deleted_before_the_reader_they_named(dev, aws):
    if not endpoints(aws):
        pytest.skip("needs the endpoints of the test before")
    dropped = provision(aws, KEEP)
    assert dropped.returncode == 0, dropped.stdout[-5000:]
    plan = printed_plan(dropped.stdout)
    assert [line.split(" (", 1)[0] for line in plan[1:]] == [
        f"1. custom endpoint {CLUSTER}-analytics: delete",
        f"2. custom endpoint {CLUSTER}-general: delete",
        f"3. instance {READER_2}: delete",
    ], plan
    calls = mutating(aws)
    assert [
        (action, params.get("DBClusterEndpointIdentifier") or params.get("DBInstanceIdentifier"))
        for action, params in calls
    ] == [
        ("DeleteDBClusterEndpoint", f"{CLUSTER}-analytics"),
        ("DeleteDBClusterEndpoint", f"{CLUSTER}-general"),
        ("DeleteDBInstance", READER_2),
    ]
    # The endpoint the role did not make is still there.
    assert sorted(endpoints(aws)) == [f"{CLUSTER}-handmade"]
    json_outputs = json.loads((aws.outputs_dir / "vitality-dev.json").read_text())
    assert json_outputs["custom_endpoints"] == {}
    again = provision(aws, KEEP)
    assert printed_plan(again.stdout) == ["Plan", "no change"] and mutating(aws) == []


# --- the guards, before any AWS call ------------------------------------------------------------------------------

GUARDS = {
    "expired-authority": ({CA: "rds-ca-2019"}, f"{CA}='rds-ca-2019' expired in August 2024"),
    "malformed-authority": ({CA: "RDS-CA-RSA2048-G1"}, f"{CA}='RDS-CA-RSA2048-G1' is invalid"),
    "unknown-storage": ({STORAGE: "gp3"}, f"{STORAGE}='gp3' is not one of aurora, aurora-iopt1"),
    "endpoint-both-lists": (
        {
            "aurora_cluster_reader_count": 2,
            "aurora_cluster_custom_endpoints": [
                {"name": "analytics", "static_members": ["reader-1"], "excluded_members": ["reader-2"]}
            ],
        },
        "aurora_cluster_custom_endpoints[analytics] has both static_members and excluded_members",
    ),
    "endpoint-writer-in-reader-endpoint": (
        {"aurora_cluster_custom_endpoints": [{"name": "analytics", "static_members": ["writer"]}]},
        "aurora_cluster_custom_endpoints[analytics].static_members names the writer ('writer')",
    ),
    "endpoint-reserved-name": (
        {"aurora_cluster_custom_endpoints": [{"name": "writer"}]},
        "aurora_cluster_custom_endpoints[writer].name='writer' is reserved",
    ),
}


def test_every_guard_refuses_yaml_before_any_aws_call(dev, aws, tmp_path):
    cases = {guard: variables for guard, (variables, _message) in GUARDS.items()}
    result = provision(aws, extra_vars=None, inventory=dev_hosts_inventory(tmp_path, cases))
    failures = host_failures(result.stdout)
    assert mutating(aws) == []
    for guard, (_variables, message) in GUARDS.items():
        assert guard in failures, f"{guard} was not refused\n{result.stdout[-3000:]}"
        assert message in failures[guard], failures[guard]


@pytest.mark.parametrize(
    "extra_vars, guard",
    [
        (f"{CA}=rds-ca-2019", "expired-authority"),
        (json.dumps({CA: "RDS-CA-RSA2048-G1"}), "malformed-authority"),
        (f"{STORAGE}=gp3", "unknown-storage"),
        (json.dumps({STORAGE: "gp3"}), "unknown-storage"),
        (
            "aurora_cluster_custom_endpoints="
            + json.dumps([{"name": "analytics", "static_members": ["writer"]}]).replace(" ", ""),
            "endpoint-writer-in-reader-endpoint",
        ),
        (json.dumps({"aurora_cluster_custom_endpoints": [{"name": "writer"}]}), "endpoint-reserved-name"),
    ],
    ids=["ca-key=value", "ca-json", "storage-key=value", "storage-json", "endpoint-key=value", "endpoint-json"],
)
def test_a_guard_refuses_extra_vars_before_any_aws_call(dev, aws, extra_vars, guard):
    result = provision(aws, extra_vars)
    assert result.returncode != 0
    assert GUARDS[guard][1] in result.stdout, result.stdout[-3000:]
    assert mutating(aws) == []
