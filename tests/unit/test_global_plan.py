"""The Aurora Global Database's planner decisions (global_plan.py) on described stacks: the order of a first build,
nothing when in sync, the writer adopted from the global cluster's members (no fail back), the removal refused without
its confirmation (and of a writing secondary), detach-then-delete with it; engine upgrades in AWS's order (a minor
version on the clusters that do not write first, then the writer; a major one with one ModifyGlobalCluster between the
new family's groups made in both Regions and set back on both clusters), a re-run waiting for an upgrade under way
with no call, and the refusal of a blue/green deployment of a global database. The upgrade's waits run on a fake
clock. The variables' guards in every input form."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from test_stack_plan import params, snapshot
from test_validation import VALID

from ansible_collections.vitality.aurora.plugins.module_utils import global_plan as g
from ansible_collections.vitality.aurora.plugins.module_utils import stack_plan as sp
from ansible_collections.vitality.aurora.plugins.module_utils import validation as v
from ansible_collections.vitality.aurora.plugins.module_utils.plan import IMPOSSIBLE, ONLINE, Action
from ansible_collections.vitality.aurora.plugins.plugin_utils import role_settings as rs

WEST = "us-west-2"
PRIMARY_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:c"
SECONDARY = f"vitality-prod-{WEST}"
SECONDARY_ARN = f"arn:aws:rds:{WEST}:123456789012:cluster:{SECONDARY}"
KEY_ARN = f"arn:aws:kms:{WEST}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PARTS = {
    "security_group": sp.plan_security_group,
    "subnet_group": sp.plan_subnet_group,
    "parameter_group": sp.plan_parameter_group,
    "cluster": sp.plan_cluster,
}


def wanted(region=WEST, readers=1, confirm=""):
    desired = params()
    desired["global_database"] = {
        "name": "vitality-prod",
        "region": region,
        "vpc_name": "vpc",
        "private_subnet_names": ["a", "b"],
        "app_security_group_name": "app",
        "reader_count": readers,
        "instance_class": "",
        "remove_confirm": confirm,
    }
    return desired


def secondary_stack():
    """The secondary's stack as read_stack describes it in us-west-2, in sync with wanted()."""
    stack = copy.deepcopy(snapshot())
    stack["network"]["subnets"] = [
        {"subnet_id": "subnet-w1", "availability_zone": "us-west-2a"},
        {"subnet_id": "subnet-w2", "availability_zone": "us-west-2b"},
    ]
    stack["subnet_group"]["Subnets"] = [{"SubnetIdentifier": "subnet-w1"}, {"SubnetIdentifier": "subnet-w2"}]
    cluster = stack["cluster"]
    cluster.update(DBClusterIdentifier=SECONDARY, DBClusterArn=SECONDARY_ARN, KmsKeyId=KEY_ARN)
    cluster.pop("MasterUserSecret")
    reader = g.reader_identifier(SECONDARY, 1)
    cluster["DBClusterMembers"] = [{"DBInstanceIdentifier": reader, "IsClusterWriter": False}]
    stack["instances"] = [
        {"DBInstanceIdentifier": reader, "DBInstanceClass": "db.r6g.large", "DBInstanceStatus": "available"}
    ]
    return stack


def global_cluster(writer=PRIMARY_ARN, members=(PRIMARY_ARN, SECONDARY_ARN)):
    return {
        "GlobalClusterIdentifier": "vitality-prod-global",
        "GlobalClusterMembers": [{"DBClusterArn": arn, "IsWriter": arn == writer} for arn in members],
    }


def current(glob=None, stack=None, key=None, region=WEST):
    members = [m["DBClusterArn"] for m in (glob or {}).get("GlobalClusterMembers") or []]
    return {
        "identifier": "vitality-prod-global",
        "global_cluster": glob,
        "region": region,
        "member_regions": sorted({g.region_of(a) for a in members if a != PRIMARY_ARN}),
        "stack": stack,
        "key": key,
    }


def absent_stack():
    stack = secondary_stack()
    stack.update(security_group=None, subnet_group=None, parameter_group=None, cluster=None, instances=[])
    return stack


def rows(actions):
    return [(a.resource, a.name, a.change, a.region, a.calls) for a in actions]


def test_a_first_build_creates_the_global_cluster_then_the_secondary_in_order():
    problems = []
    actions = g.plan_global(current(stack=absent_stack()), wanted(), snapshot(), PARTS, problems)
    assert problems == []
    assert rows(actions) == [
        ("global_cluster", "vitality-prod-global", "create", None, ["CreateGlobalCluster"]),
        ("secondary_key", f"alias/{SECONDARY}", "create", WEST, ["CreateKey", "CreateAlias", "EnableKeyRotation"]),
        (
            "security_group",
            "db",
            "create",
            WEST,
            ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress"],
        ),
        ("subnet_group", "subnets", "create", WEST, ["CreateDBSubnetGroup"]),
        ("parameter_group", "pg", "create", WEST, ["CreateDBClusterParameterGroup", "ModifyDBClusterParameterGroup"]),
        ("cluster", SECONDARY, "create", WEST, ["CreateDBCluster"]),
        ("instance", g.reader_identifier(SECONDARY, 1), "create", WEST, ["CreateDBInstance"]),
    ]
    assert actions[0].impact == ONLINE and "no replacement, no downtime" in actions[0].line()
    assert f"cluster {SECONDARY} in {WEST}: create" in actions[5].line()
    spec = actions[5].request["spec"]
    assert not {"master_username", "database_name", "manage_master_user_password"} & {
        k for k, val in spec.items() if val
    }


def test_a_headless_secondary_has_no_instance():
    actions = g.plan_global(current(stack=absent_stack()), wanted(readers=0), snapshot(), PARTS, [])
    assert [a.resource for a in actions if a.resource == "instance"] == []


def test_in_sync_plans_nothing():
    key = {"arn": KEY_ARN, "state": "Enabled"}
    problems = []
    assert g.plan_global(current(global_cluster(), secondary_stack(), key), wanted(), snapshot(), PARTS, problems) == []
    assert problems == []


def test_a_writer_in_the_secondary_region_is_adopted_and_nothing_fails_back():
    glob = global_cluster(writer=SECONDARY_ARN)
    state = current(glob, secondary_stack(), {"arn": KEY_ARN, "state": "Enabled"})
    primary = snapshot()["cluster"]
    assert g.own_cluster_is_reader(state, primary)
    assert g.writer_region(state, primary, "us-east-1") == WEST
    assert g.plan_global(state, wanted(), snapshot(), PARTS, []) == []
    outputs = g.global_outputs(state, primary, "us-east-1")
    assert (outputs["writer_region"], outputs["secondary_cluster_arn"]) == (WEST, SECONDARY_ARN)
    # The secondary Region's operations baseline, as secondary_ops.operations_outputs gives it, passed through.
    assert outputs["operations"] is None
    operations = {"event_topic_arn": f"arn:aws:sns:{WEST}:123456789012:vitality-prod-db-events"}
    assert g.global_outputs(state, primary, "us-east-1", operations=operations)["operations"] == operations


def test_removal_without_confirmation_is_refused_before_any_call():
    problems = []
    actions = g.plan_global(
        current(global_cluster(), secondary_stack()), wanted(region=""), snapshot(), PARTS, problems
    )
    assert [(a.resource, a.impact, a.calls) for a in actions] == [("global_cluster", IMPOSSIBLE, [])]
    assert "aurora_cluster_secondary_remove_confirm" in problems[0] and SECONDARY in problems[0]


def test_removal_of_a_secondary_that_writes_is_refused_even_confirmed():
    problems = []
    glob = global_cluster(writer=SECONDARY_ARN)
    actions = g.plan_global(
        current(glob, secondary_stack()), wanted(region="", confirm=SECONDARY), snapshot(), PARTS, problems
    )
    assert [a.impact for a in actions] == [IMPOSSIBLE]
    assert "switchover" in problems[0]


def test_confirmed_removal_detaches_then_deletes_then_removes_the_global_cluster():
    problems = []
    stack = secondary_stack()
    actions = g.plan_global(
        current(global_cluster(), stack), wanted(region="", confirm=SECONDARY), snapshot(), PARTS, problems
    )
    assert problems == []
    assert [(a.name, a.change, a.calls) for a in actions] == [
        (SECONDARY, "detach from the global cluster", ["RemoveFromGlobalCluster"]),
        (SECONDARY, "turn off deletion protection", ["ModifyDBCluster"]),
        (g.reader_identifier(SECONDARY, 1), "delete", ["DeleteDBInstance"]),
        (SECONDARY, "delete", ["DeleteDBCluster"]),
        ("c", "detach from the global cluster", ["RemoveFromGlobalCluster"]),
        ("vitality-prod-global", "delete", ["DeleteGlobalCluster"]),
    ]


def test_no_secondary_and_no_global_cluster_plans_nothing():
    assert g.plan_global(current(region=""), wanted(region=""), snapshot(), PARTS, []) == []


def test_a_secondary_in_another_region_is_not_moved_in_place():
    problems = []
    actions = g.plan_global(
        current(global_cluster(), secondary_stack()), wanted(region="eu-west-1"), snapshot(), PARTS, problems
    )
    assert [a.impact for a in actions] == [IMPOSSIBLE] and "removal first" in problems[0]


@pytest.mark.parametrize(
    "action",
    [
        Action("cluster", "c", "modify", [{"attribute": "engine_version", "before": "16.6", "after": "16.8"}]),
        Action(
            "cluster",
            "c",
            "major version upgrade",
            [{"attribute": "engine_version", "before": "16.6", "after": "17.4"}],
        ),
        Action(
            "blue_green_deployment",
            "c-to-17",
            "create",
            [{"attribute": "engine_version", "before": "16.6", "after": "17.4"}],
        ),
    ],
)
def test_what_the_upgrade_planner_leaves_of_an_engine_change_is_refused_naming_the_way_out(action):
    problems, refused = g.engine_problems([action], "c", "vitality-prod-global", planned=True)
    assert refused == [action]
    assert "modify-global-cluster" in problems[0] and "impossible-in-place" in problems[0]
    if action.resource == "blue_green_deployment":
        assert "does not support blue/green" in problems[0] and "major_upgrade_strategy=in-place" in problems[0]
    else:
        assert "in a run of its own" in problems[0]
    assert g.engine_problems([action], "c", "vitality-prod-global", planned=False) == ([], [])


def test_a_cluster_created_on_its_version_is_no_engine_change():
    create = Action("cluster", "c", "create", [{"attribute": "engine_version", "before": None, "after": "16.6"}])
    assert g.engine_problems([create], "c", "g", planned=True) == ([], [])


# --- the variables: typed at the boundary, judged before any AWS call ----------------------------------------------

SPEC = rs.load_role_spec()["main"]
ON = {
    "aurora_cluster_secondary_region": "us-west-2",
    "aurora_cluster_secondary_vpc_name": "vitality-prod-app-vpc",
    "aurora_cluster_secondary_private_subnet_names": [
        "vitality-prod-private-us-west-2a",
        "vitality-prod-private-us-west-2b",
    ],
    "aurora_cluster_secondary_app_security_group_name": "vitality-prod-app-sg",
    "aurora_cluster_secondary_reader_count": 1,
}


def forms(variables):
    """The same variables as each input form gives them: YAML, YAML string, -e name=value, -e JSON."""
    return [
        ("yaml", yaml.safe_load("\n".join(f"{name}: {json.dumps(value)}" for name, value in variables.items()))),
        (
            "yaml string",
            {name: value if isinstance(value, str) else json.dumps(value) for name, value in variables.items()},
        ),
        (
            "key=value",
            {name: value if isinstance(value, str) else json.dumps(value) for name, value in variables.items()},
        ),
        ("json", json.loads(json.dumps(variables))),
    ]


def typed_errors(raw):
    typed, errors = rs.convert_all(raw, {name: SPEC[name] for name in raw})
    assert errors == [], errors
    return v.stack_errors(dict(VALID, aurora_cluster_name="vitality-prod", **typed))


@pytest.mark.parametrize("form, raw", forms(ON))
def test_the_prod_secondary_passes_in_every_form(form, raw):
    assert typed_errors(raw) == []


@pytest.mark.parametrize(
    "changes, words",
    [
        (
            {"aurora_cluster_secondary_region": "uswest2"},
            "aurora_cluster_secondary_region='uswest2' is not a Region name",
        ),
        ({"aurora_cluster_secondary_region": "us-east-1"}, "is the stack's own Region"),
        ({"aurora_cluster_secondary_vpc_name": ""}, "aurora_cluster_secondary_vpc_name is empty"),
        (
            {"aurora_cluster_secondary_app_security_group_name": ""},
            "aurora_cluster_secondary_app_security_group_name is empty",
        ),
        ({"aurora_cluster_secondary_private_subnet_names": ["one"]}, "at least two subnets"),
        ({"aurora_cluster_secondary_reader_count": 16}, "aurora_cluster_secondary_reader_count=16 is out of range"),
        ({"aurora_cluster_secondary_instance_class": "db.m1.tiny"}, "aurora_cluster_secondary_instance_class"),
        ({"aurora_cluster_secondary_region": "ap-southeast-4", "aurora_cluster_name": "x" * 50}, "would be"),
    ],
)
def test_each_guard_names_the_variable_the_value_and_the_rule_in_every_form(changes, words):
    for form, raw in forms(dict(ON, **changes)):
        raw = dict(raw)
        name = raw.pop("aurora_cluster_name", "vitality-prod")
        typed, errors = rs.convert_all(raw, {key: SPEC[key] for key in raw})
        assert errors == [], (form, errors)
        found = v.stack_errors(dict(VALID, aurora_cluster_name=name, **typed))
        assert found and all(words in message for message in found), (form, found)


@pytest.mark.parametrize("form, raw", forms({"aurora_cluster_secondary_reader_count": "one"}))
def test_a_reader_count_that_is_not_a_number_is_refused_at_the_boundary(form, raw):
    _typed, errors = rs.convert_all(raw, {name: SPEC[name] for name in raw})
    if form in ("yaml", "json"):
        assert errors and "aurora_cluster_secondary_reader_count" in errors[0]
    else:
        assert errors and "aurora_cluster_secondary_reader_count" in errors[0]


def test_no_secondary_checks_nothing():
    assert v.stack_errors(dict(VALID, aurora_cluster_secondary_vpc_name="")) == []


def test_a_global_cluster_without_this_cluster_is_not_joined():
    problems = []
    glob = global_cluster(writer=SECONDARY_ARN, members=(SECONDARY_ARN,))
    actions = g.plan_global(current(glob, secondary_stack()), wanted(), snapshot(), PARTS, problems)
    assert [a.impact for a in actions] == [IMPOSSIBLE] and "is not a member of it" in problems[0]


# --- engine upgrades of the global database, in AWS's order ------------------------------------------------------


def upgrade_plan(version, writer=PRIMARY_ARN, secondary_version="16.6", primary_version="16.6", **changes):
    """The stack's and the global planner's steps for an engine version asked of a global database in sync, then
    plan_engine_upgrade, ordered as aurora_stack orders them: (actions, problems)."""
    desired = wanted()
    desired["cluster"].update(engine_version=version, **changes)
    primary_stack = snapshot()
    primary_stack["cluster"].update(DBClusterArn=PRIMARY_ARN, EngineVersion=primary_version)
    stack = secondary_stack()
    stack["cluster"]["EngineVersion"] = secondary_version
    if version.split(".")[0] != "16":
        family = f"aurora-postgresql{version.split('.')[0]}"
        desired["parameter_group"].update(name="pg17", family=family)
        desired["cluster"]["db_cluster_parameter_group_name"] = "pg17"
        # The new family's group is read by its name: in neither Region yet.
        primary_stack["parameter_group"] = None
        stack["parameter_group"] = None
    if changes.get("major_upgrade_strategy") == "blue-green":
        # What read_stack finds for the blue-green strategy: no deployment yet.
        primary_stack["blue_green"] = {"name": "c-bg", "deployment": None, "blue_parameters": {}, "old_cluster": None}
        primary_stack["cluster"].pop("MasterUserSecret", None)
    glob = dict(global_cluster(writer=writer), EngineVersion=primary_version, Status="available")
    state = current(glob, stack, {"arn": KEY_ARN, "state": "Enabled"})
    problems = []
    actions, stack_problems, _notice = sp.plan_stack(primary_stack, desired)
    problems += stack_problems
    global_actions = g.plan_global(state, desired, primary_stack, PARTS, problems)
    actions, global_actions, _planned = g.plan_engine_upgrade(
        actions, global_actions, state, desired, primary_stack["cluster"], problems
    )
    more, _refused = g.engine_problems(actions, "c", "vitality-prod-global", planned=True)
    return sp.order_actions(list(actions) + global_actions), problems + more


def steps(actions):
    return [(a.resource, a.name, a.change, a.region, a.calls, a.impact, a.when) for a in actions]


def test_a_minor_upgrade_upgrades_the_secondary_first_then_the_primary_each_now():
    actions, problems = upgrade_plan("16.8")
    assert problems == []
    restart = ("all-instances-restart", "now")
    assert steps(actions) == [
        ("cluster", SECONDARY, g.MINOR, WEST, ["ModifyDBCluster"], *restart),
        ("cluster", "c", g.MINOR, None, ["ModifyDBCluster"], *restart),
    ]
    assert [a.changes for a in actions] == [[{"attribute": "engine_version", "before": "16.6", "after": "16.8"}]] * 2
    # apply_immediately=False in the inventory: AWS's order cannot be kept by two maintenance windows.
    assert "applied now whatever aurora_cluster_apply_immediately says" in actions[0].note
    assert (
        actions[0]
        .line()
        .startswith(f"1. cluster {SECONDARY} in {WEST}: minor version upgrade (engine_version 16.6 -> 16.8)")
    )


def test_a_minor_upgrade_with_other_cluster_changes_keeps_them_in_the_primary_step_of_their_own():
    actions, problems = upgrade_plan("16.8", backup_retention_period=14)
    assert problems == []
    assert [(a.name, a.change) for a in actions] == [
        ("c", "modify"),
        (SECONDARY, "modify"),
        (SECONDARY, g.MINOR),
        ("c", g.MINOR),
    ]
    modify = actions[0]
    assert [c["attribute"] for c in modify.changes] == ["backup_retention_period"]
    assert [c["attribute"] for c in modify.request["changes"]] == ["backup_retention_period"]
    assert modify.impact == ONLINE


def test_after_a_switchover_the_writer_in_the_secondary_region_is_upgraded_last():
    actions, problems = upgrade_plan("16.8", writer=SECONDARY_ARN)
    assert problems == []
    assert [(a.name, a.region) for a in actions] == [("c", None), (SECONDARY, WEST)]


def test_a_rerun_after_the_secondary_was_upgraded_upgrades_the_primary_only():
    actions, problems = upgrade_plan("16.8", secondary_version="16.8")
    assert problems == []
    assert [(a.name, a.change, a.calls) for a in actions] == [("c", g.MINOR, ["ModifyDBCluster"])]


def test_a_rerun_while_aws_upgrades_a_cluster_waits_for_it_and_never_asks_twice():
    desired_stack = secondary_stack()
    desired_stack["cluster"]["Status"] = "upgrading"
    desired = wanted()
    desired["cluster"]["engine_version"] = "16.8"
    primary = snapshot()
    primary["cluster"]["DBClusterArn"] = PRIMARY_ARN
    state = current(global_cluster(), desired_stack, {"arn": KEY_ARN, "state": "Enabled"})
    problems = []
    actions, _p, _n = sp.plan_stack(primary, desired)
    global_actions = g.plan_global(state, desired, primary, PARTS, problems)
    actions, global_actions, planned = g.plan_engine_upgrade(
        actions, global_actions, state, desired, primary["cluster"], problems
    )
    assert planned and problems == []
    ordered = sp.order_actions(list(actions) + global_actions)
    assert [(a.name, a.change, a.calls) for a in ordered] == [
        (SECONDARY, g.WAIT_MINOR, []),
        ("c", g.MINOR, ["ModifyDBCluster"]),
    ]


def test_a_major_upgrade_makes_both_groups_then_one_modify_global_cluster_then_sets_the_groups_back():
    actions, problems = upgrade_plan("17.4", allow_major_version_upgrade=True, major_upgrade_strategy="in-place")
    assert problems == []
    rows_ = [(a.resource, a.name, a.change, a.region, a.calls) for a in actions]
    assert rows_ == [
        ("parameter_group", "pg17", "create", None, ["CreateDBClusterParameterGroup", "ModifyDBClusterParameterGroup"]),
        ("parameter_group", "pg17", "create", WEST, ["CreateDBClusterParameterGroup", "ModifyDBClusterParameterGroup"]),
        ("global_cluster", "vitality-prod-global", g.MAJOR, None, ["ModifyGlobalCluster"]),
        ("cluster", SECONDARY, g.SET_GROUP, WEST, ["ModifyDBCluster"]),
        ("cluster", "c", g.SET_GROUP, None, ["ModifyDBCluster"]),
        ("parameter_group", "pg", "delete", WEST, ["DeleteDBClusterParameterGroup"]),
        ("parameter_group", "pg", "delete", None, ["DeleteDBClusterParameterGroup"]),
    ]
    upgrade = actions[2]
    assert (upgrade.impact, upgrade.when) == ("all-instances-restart", "now")
    assert upgrade.changes == [{"attribute": "engine_version", "before": "16.6", "after": "17.4"}]
    assert upgrade.request["members"] == [(WEST, SECONDARY), (None, "c")]
    for set_back in actions[3:5]:
        assert set_back.changes == [
            {"attribute": "db_cluster_parameter_group_name", "before": "default.aurora-postgresql17", "after": "pg17"}
        ]
        assert (set_back.impact, set_back.when) == ("pending-reboot", "next-restart")
        assert "no instance restarts for this" in set_back.note


def test_a_rerun_while_aws_upgrades_the_global_database_waits_with_no_call():
    desired = wanted()
    desired["cluster"].update(
        engine_version="17.4",
        allow_major_version_upgrade=True,
        major_upgrade_strategy="in-place",
        db_cluster_parameter_group_name="pg17",
    )
    desired["parameter_group"].update(name="pg17", family="aurora-postgresql17")
    primary = snapshot()
    primary["cluster"]["DBClusterArn"] = PRIMARY_ARN
    # The first run's groups are made and its ModifyGlobalCluster is under way.
    stack = secondary_stack()
    glob = dict(global_cluster(), EngineVersion="16.6", Status="upgrading")
    state = current(glob, stack, {"arn": KEY_ARN, "state": "Enabled"})
    problems = []
    actions, _p, _n = sp.plan_stack(primary, desired)
    global_actions = g.plan_global(state, desired, primary, PARTS, problems)
    actions, global_actions, planned = g.plan_engine_upgrade(
        actions, global_actions, state, desired, primary["cluster"], problems
    )
    assert planned
    upgrade = next(a for a in global_actions if a.resource == "global_cluster")
    assert (upgrade.change, upgrade.calls) == (g.WAIT_MAJOR, [])


def test_a_major_upgrade_not_allowed_or_by_blue_green_stays_refused_with_no_call():
    actions, problems = upgrade_plan("17.4")
    assert any("aurora_cluster_allow_major_version_upgrade=true" in p for p in problems)
    # The stack's own refusal stands (a problem stops the run before any call); nothing global is planned.
    assert IMPOSSIBLE in [a.impact for a in actions] and all(a.resource != "global_cluster" for a in actions)
    actions, problems = upgrade_plan(
        "17.4", allow_major_version_upgrade=True, major_upgrade_strategy="blue-green", manage_master_user_password=False
    )
    assert any("does not support blue/green" in p for p in problems), problems
    assert all(a.resource != "global_cluster" for a in actions)


def test_an_upgrade_done_plans_nothing_more():
    actions, problems = upgrade_plan("16.8", secondary_version="16.8", primary_version="16.8")
    assert (actions, problems) == ([], [])


# --- the upgrade's apply, on a fake clock --------------------------------------------------------------------------


class Clock:
    """time.monotonic and time.sleep, faked: sleeping only moves the clock."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class UpgradingAws:
    """Both Regions' RDS as the Apply reads them through AwsApi: a cluster asked for a version is ``upgrading`` for
    UPGRADE seconds of fake time, then runs it; ModifyGlobalCluster upgrades every member at once."""

    UPGRADE = 600.0

    def __init__(self, clock, versions):
        self.clock = clock
        self.clusters = {name: {"version": version, "until": 0.0, "to": version} for name, version in versions.items()}
        self.calls = []

    def api(self, region):
        aws = self

        class Api:
            def call(self, method, context=None, not_found=(), **request):
                aws.calls.append((aws.clock.now, region, method, copy.deepcopy(request)))
                if method == "modify_db_cluster":
                    aws.start(request["DBClusterIdentifier"], request["EngineVersion"])
                elif method == "modify_global_cluster":
                    for name in aws.clusters:
                        aws.start(name, request["EngineVersion"])
                elif method == "describe_global_clusters":
                    versions = {aws.described(n)["EngineVersion"] for n in aws.clusters}
                    busy = any(aws.described(n)["Status"] != "available" for n in aws.clusters)
                    status = "upgrading" if busy else "available"
                    version = versions.pop() if len(versions) == 1 else "mixed"
                    glob = {
                        "GlobalClusterIdentifier": "vitality-prod-global",
                        "EngineVersion": version,
                        "Status": status,
                    }
                    return {"GlobalClusters": [glob]}
                return {}

            def describe_one(self, method, key, DBClusterIdentifier=None, **_request):
                aws.calls.append((aws.clock.now, region, method, {"DBClusterIdentifier": DBClusterIdentifier}))
                return aws.described(DBClusterIdentifier)

            def paginate(self, method, key, **_request):
                return []

        return Api()

    def start(self, name, version):
        self.clusters[name].update(until=self.clock.now + self.UPGRADE, to=version)

    def described(self, name):
        cluster = self.clusters[name]
        if cluster["to"] != cluster["version"] and self.clock.now >= cluster["until"]:
            cluster["version"] = cluster["to"]
        upgrading = cluster["to"] != cluster["version"]
        return {
            "DBClusterIdentifier": name,
            "EngineVersion": cluster["version"],
            "Status": "upgrading" if upgrading else "available",
        }


def appliers(aws, clock, tmp_path):
    from ansible_collections.vitality.aurora.plugins.module_utils.waiting import ProgressLog
    from ansible_collections.vitality.aurora.plugins.modules import aurora_stack as m

    progress = ProgressLog(str(tmp_path / "progress.jsonl"))
    made = []
    for identifier, region in (("c", None), (SECONDARY, WEST)):
        desired = wanted()
        desired.update(wait_timeout=3600, wait_max_poll_interval=30)
        desired["cluster"]["db_cluster_identifier"] = identifier
        applier = m.Apply(None, None, aws.api(region or "us-east-1"), desired, {}, clock=clock, sleep=clock.sleep)
        applier.progress_log = progress
        made.append(applier)
    made[0].secondary = made[1]
    return made[0], progress


def mutations(aws):
    return [(at, region, method) for at, region, method, _r in aws.calls if not method.startswith("describe_")]


def test_the_minor_upgrade_asks_the_primary_only_once_the_secondary_runs_the_new_version(tmp_path):
    clock = Clock()
    aws = UpgradingAws(clock, {"c": "16.6", SECONDARY: "16.6"})
    actions, _problems = upgrade_plan("16.8")
    primary, progress = appliers(aws, clock, tmp_path)
    primary.run(actions)
    made = mutations(aws)
    assert [(region, method) for _at, region, method in made] == [
        (WEST, "modify_db_cluster"),
        ("us-east-1", "modify_db_cluster"),
    ]
    # The primary is asked only after the secondary was seen available on 16.8, and both end there.
    assert made[1][0] >= UpgradingAws.UPGRADE
    assert {n: aws.described(n) for n in aws.clusters} == {
        n: {"DBClusterIdentifier": n, "EngineVersion": "16.8", "Status": "available"} for n in aws.clusters
    }
    requests = [r for _at, _region, method, r in aws.calls if method == "modify_db_cluster"]
    assert [(r["DBClusterIdentifier"], r["EngineVersion"], r["ApplyImmediately"]) for r in requests] == [
        (SECONDARY, "16.8", True),
        ("c", "16.8", True),
    ]
    # Each poll was written for the progress callback, naming the cluster and its state.
    polls = [json.loads(line) for line in (tmp_path / "progress.jsonl").read_text().splitlines()]
    assert any(f"cluster {SECONDARY}" in json.dumps(p) and "upgrading on 16.6" in json.dumps(p) for p in polls)


def test_a_rerun_waits_for_the_upgrade_under_way_and_sends_it_no_second_time(tmp_path):
    clock = Clock()
    aws = UpgradingAws(clock, {"c": "16.6", SECONDARY: "16.6"})
    aws.start(SECONDARY, "16.8")  # asked by the run before, whose answer was lost
    primary, _progress = appliers(aws, clock, tmp_path)
    wait = Action(
        "cluster", SECONDARY, g.WAIT_MINOR, impact="all-instances-restart", region=WEST, request={"version": "16.8"}
    )
    upgrade = Action(
        "cluster", "c", g.MINOR, calls=["ModifyDBCluster"], impact="all-instances-restart", request={"version": "16.8"}
    )
    primary.run(sp.order_actions([wait, upgrade]))
    assert [(region, method) for _at, region, method in mutations(aws)] == [("us-east-1", "modify_db_cluster")]
    assert aws.described(SECONDARY)["EngineVersion"] == "16.8"


def test_the_major_upgrade_is_one_request_then_a_wait_for_every_member(tmp_path):
    clock = Clock()
    aws = UpgradingAws(clock, {"c": "16.6", SECONDARY: "16.6"})
    upgrade = Action(
        "global_cluster",
        "vitality-prod-global",
        g.MAJOR,
        calls=["ModifyGlobalCluster"],
        impact="all-instances-restart",
        request={"version": "17.4", "members": [(WEST, SECONDARY), (None, "c")]},
    )
    primary, _progress = appliers(aws, clock, tmp_path)
    primary.run(sp.order_actions([upgrade]))
    assert [(region, method) for _at, region, method in mutations(aws)] == [("us-east-1", "modify_global_cluster")]
    (request,) = [r for _at, _region, method, r in aws.calls if method == "modify_global_cluster"]
    assert request == {
        "GlobalClusterIdentifier": "vitality-prod-global",
        "EngineVersion": "17.4",
        "AllowMajorVersionUpgrade": True,
    }
    # The step ends when every member runs 17.4, read in its own Region.
    assert clock.now >= UpgradingAws.UPGRADE
    assert {aws.described(n)["EngineVersion"] for n in aws.clusters} == {"17.4"}
    read = {
        (region, r["DBClusterIdentifier"]) for _at, region, method, r in aws.calls if method == "describe_db_clusters"
    }
    assert read == {("us-east-1", "c"), (WEST, SECONDARY)}


def test_an_inventory_left_on_the_old_major_after_the_upgrade_is_the_stack_planners_refusal_only():
    # Both clusters run 17.4 and the inventory still says 16.6: no step, a problem for each cluster, no global one.
    actions, problems = upgrade_plan("16.6", secondary_version="17.4", primary_version="17.4")
    assert [a.resource for a in actions if a.resource == "global_cluster"] == []
    assert len(problems) == 2 and all("a lower major version is impossible" in p for p in problems), problems
    assert problems[1].startswith(f"cluster {SECONDARY} in {WEST}: ")
