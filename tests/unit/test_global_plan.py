"""The Aurora Global Database's planner decisions (global_plan.py) on described stacks: the order of a first build,
nothing when in sync, the writer adopted from the global cluster's members (no fail back), the removal refused without
its confirmation (and of a writing secondary), detach-then-delete with it, and the refusal of an engine change or a
blue/green deployment of a global database. The variables' guards in every input form."""

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
def test_an_engine_change_or_blue_green_of_a_global_database_is_refused_naming_the_way_out(action):
    problems, refused = g.engine_problems([action], "c", "vitality-prod-global", planned=True)
    assert refused == [action]
    assert "modify-global-cluster" in problems[0]
    if action.resource == "blue_green_deployment":
        assert "does not support blue/green" in problems[0]
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
