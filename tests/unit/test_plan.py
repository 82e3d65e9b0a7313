import copy
import json
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.vitality.aurora.plugins.module_utils import plan

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "plan-schema.json"
INPUTS = plan.digest({"aurora_cluster_name": "orders", "instance_class": "db.r6g.large"})
CREATED = "2025-01-02T03:04:05Z"


@pytest.fixture(scope="module")
def schema():
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def several():
    return plan.number(
        [
            plan.Action(
                "security_group",
                "orders-db",
                "modify",
                [{"attribute": "rules and tags"}],
                runner="security_group",
                calls=["AuthorizeSecurityGroupIngress"],
            ),
            plan.Action(
                "parameter_group",
                "orders-pg",
                "modify",
                [
                    {
                        "attribute": "parameters.max_connections",
                        "before": None,
                        "after": "500",
                        "impact": "pending-reboot",
                    }
                ],
                impact=plan.PENDING_REBOOT,
                when=plan.NEXT_RESTART,
                calls=["ModifyDBClusterParameterGroup"],
            ),
            plan.Action(
                "instance",
                "orders-1",
                "modify",
                [{"attribute": "instance_class", "before": "db.r6g.large", "after": "db.r6g.xlarge"}],
                impact=plan.REBOOT,
                when=plan.MAINTENANCE_WINDOW,
                unavailability="orders-1 restarts (about 5 minutes)",
                calls=["ModifyDBInstance"],
            ),
            plan.Action(
                "cluster",
                "orders",
                "failover",
                impact=plan.FAILOVER,
                unavailability="writes pause about 30 s",
                calls=["FailoverDBCluster"],
                note="orders-2 becomes the writer",
                request={"MasterUserPassword": "s3cret"},
            ),
        ]
    )


def document(actions, stack="orders", inputs=INPUTS):
    return plan.plan_document(actions, inputs, stack, CREATED)


# --- the JSON form and its schema ---------------------------------------------------------------


def test_empty_plan_validates(validator):
    doc = document([])
    validator.validate(doc)
    assert doc["changes"] == 0
    assert doc["worst_impact"] is None
    assert doc["actions"] == [] and doc["lines"] == []
    assert doc["schema"] == plan.SCHEMA and doc["schema_version"] == plan.SCHEMA_VERSION == 1


def test_empty_plan_without_created_at_validates(validator):
    validator.validate(plan.plan_document([], INPUTS, "orders"))


def test_plan_with_several_actions_validates_also_after_a_json_round_trip(validator):
    doc = document(several())
    validator.validate(doc)
    validator.validate(json.loads(json.dumps(doc)))
    assert doc["changes"] == 4
    assert doc["worst_impact"] == plan.FAILOVER
    assert [a["order"] for a in doc["actions"]] == [1, 2, 3, 4]
    assert {a["impact"] for a in doc["actions"]} == {plan.ONLINE, plan.PENDING_REBOOT, plan.REBOOT, plan.FAILOVER}
    assert {a["when"] for a in doc["actions"]} == set(plan.WHENS)
    assert doc["lines"] == [a.line() for a in several()]


def test_every_impact_and_when_validates(validator):
    actions = plan.number(
        [
            plan.Action("instance", f"i{n}", "modify", impact=i, when=w)
            for n, (i, w) in enumerate((i, w) for i in plan.IMPACTS for w in plan.WHENS)
        ]
    )
    validator.validate(document(actions))


def test_the_request_is_never_in_the_document():
    text = json.dumps(document(several()))
    assert "s3cret" not in text and "MasterUserPassword" not in text
    assert "request" not in several()[3].to_dict()


def test_new_keys_are_allowed_within_a_version(validator):
    doc = document(several())
    doc["estimated_minutes"] = 5
    doc["actions"][0]["estimated_minutes"] = 1
    doc["actions"][1]["changes"][0]["source"] = "inventory"
    validator.validate(doc)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda d: d["actions"][0].__setitem__("impact", "downtime"), id="wrong impact"),
        pytest.param(lambda d: d.__setitem__("worst_impact", "downtime"), id="wrong worst impact"),
        pytest.param(lambda d: d["actions"][0].__setitem__("when", "later"), id="wrong when"),
        pytest.param(lambda d: d.__setitem__("schema_version", 2), id="other version"),
        pytest.param(lambda d: d.__setitem__("schema", "other/plan"), id="other schema"),
        pytest.param(lambda d: d.pop("actions_digest"), id="missing digest"),
        pytest.param(lambda d: d["actions"][0].pop("runner"), id="action without runner"),
        pytest.param(lambda d: d["actions"][0].__setitem__("order", 0), id="not numbered"),
        pytest.param(lambda d: d["actions"][0].__setitem__("calls", "ModifyDBInstance"), id="calls not a list"),
        pytest.param(lambda d: d["actions"][0]["changes"].append({"before": 1}), id="change without attribute"),
        pytest.param(lambda d: d.__setitem__("changes", -1), id="negative count"),
    ],
)
def test_invalid_document_fails_validation(validator, spoil):
    doc = document(several())
    validator.validate(doc)
    spoil(doc)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(doc)


def test_schema_enums_are_the_ones_plan_decides(schema):
    assert schema["$defs"]["impact"]["enum"] == list(plan.IMPACTS)
    assert schema["$defs"]["when"]["enum"] == list(plan.WHENS)
    assert schema["properties"]["schema"]["const"] == plan.SCHEMA
    assert schema["properties"]["schema_version"]["const"] == plan.SCHEMA_VERSION


def test_schema_names_every_key_the_document_has(schema):
    doc = document(several())
    assert set(schema["required"]) == set(schema["properties"]) == set(doc)
    action = schema["$defs"]["action"]
    assert set(action["required"]) == set(action["properties"]) == set(doc["actions"][0])
    assert schema["additionalProperties"] is True and action["additionalProperties"] is True


# --- Action ------------------------------------------------------------------------------------


def test_action_rejects_an_unknown_impact():
    with pytest.raises(ValueError, match="unknown impact 'downtime'"):
        plan.Action("cluster", "c", "modify", impact="downtime")


def test_action_rejects_an_unknown_when():
    with pytest.raises(ValueError, match="unknown when 'later'"):
        plan.Action("cluster", "c", "modify", when="later")


def test_action_defaults():
    action = plan.Action("cluster", "c", "create")
    assert action.to_dict() == {
        "order": 0,
        "resource": "cluster",
        "name": "c",
        "change": "create",
        "changes": [],
        "impact": plan.ONLINE,
        "when": plan.NOW,
        "unavailability": "none",
        "runner": plan.STACK,
        "calls": [],
        "note": "",
    }


def test_line_online_now():
    action = plan.number(
        [plan.Action("cluster", "orders", "modify", [{"attribute": "port", "before": 5432, "after": 6000}])]
    )[0]
    assert action.line() == "1. cluster orders: modify (port 5432 -> 6000) [online]"


def test_line_reboot_in_the_maintenance_window():
    action = plan.Action(
        "instance",
        "orders-1",
        "modify",
        [{"attribute": "instance_class", "before": "db.r6g.large", "after": "db.r6g.xlarge"}],
        impact=plan.REBOOT,
        when=plan.MAINTENANCE_WINDOW,
    )
    plan.number([plan.Action("cluster", "orders", "create"), action])
    assert action.line() == (
        "2. instance orders-1: modify (instance_class db.r6g.large -> db.r6g.xlarge) [reboot, maintenance-window]"
    )


def test_line_with_unavailability_and_note():
    action = plan.number(
        [
            plan.Action(
                "cluster",
                "orders",
                "failover",
                impact=plan.FAILOVER,
                unavailability="writes pause about 30 s",
                note="orders-2 becomes the writer",
            )
        ]
    )[0]
    assert (
        action.line() == "1. cluster orders: failover [failover] - writes pause about 30 s. orders-2 becomes the writer"
    )


def test_line_leaves_out_no_unavailability_and_shows_a_note_alone():
    action = plan.number([plan.Action("subnet_group", "orders", "create", unavailability="none", note="new")])[0]
    assert action.line() == "1. DB subnet group orders: create [online]. new"
    unlabelled = plan.number([plan.Action("widget", "w", "delete", impact=plan.REPLACEMENT)])[0]
    assert unlabelled.line() == "1. widget w: delete [replacement]"


def test_line_reads_lists_dicts_none_and_bools_plainly():
    action = plan.Action(
        "cluster",
        "orders",
        "modify",
        [
            {"attribute": "security_groups", "before": ["sg-1"], "after": ["sg-1", "sg-2"]},
            {"attribute": "tags", "before": {"team": "db", "env": "dev"}, "after": {}},
            {"attribute": "kms_key", "before": None, "after": "alias/orders"},
            {"attribute": "deletion_protection", "before": False, "after": True},
            {"attribute": "scaling", "before": {"min": 1, "max": [2, None]}, "after": None},
            {"attribute": "rules and tags"},
        ],
        impact=plan.PENDING_REBOOT,
        when=plan.NEXT_RESTART,
    )
    plan.number([action])
    assert action.line() == (
        "1. cluster orders: modify (security_groups [sg-1] -> [sg-1, sg-2]; tags {env=dev, team=db} -> {}; "
        "kms_key (none) -> alias/orders; deletion_protection false -> true; "
        "scaling {max=[2, (none)], min=1} -> (none); rules and tags) [pending-reboot, next-restart]"
    )


def test_changes_are_copied_not_shared():
    change = {"attribute": "port", "before": 1, "after": 2}
    action = plan.Action("cluster", "c", "modify", [change])
    change["after"] = 3
    action.to_dict()["changes"][0]["after"] = 4
    assert action.changes == [{"attribute": "port", "before": 1, "after": 2}]


# --- number, worst, digest ---------------------------------------------------------------------


def test_number_orders_as_listed_from_one():
    a, b, c = (plan.Action("instance", n, "create") for n in "abc")
    actions = [b, c, a]
    assert plan.number(actions) is actions
    assert [(x.name, x.order) for x in actions] == [("b", 1), ("c", 2), ("a", 3)]
    plan.number([a, b])
    assert (a.order, b.order) == (1, 2)
    assert plan.number([]) == []


def test_worst_is_the_most_disruptive_impact():
    assert plan.worst([]) is None
    assert plan.worst([plan.Action("cluster", "c", "modify")]) == plan.ONLINE
    mixed = [plan.Action("cluster", "c", "modify", impact=i) for i in (plan.REBOOT, plan.ONLINE, plan.PENDING_REBOOT)]
    assert plan.worst(mixed) == plan.REBOOT
    assert plan.worst(mixed + [plan.Action("cluster", "c", "modify", impact=plan.ALL_INSTANCES_RESTART)]) == (
        plan.ALL_INSTANCES_RESTART
    )
    assert plan.worst([plan.Action("x", "y", "z", impact=i) for i in reversed(plan.IMPACTS)]) == plan.IMPOSSIBLE


def test_digest_is_stable_under_dict_key_order():
    one = {"a": 1, "b": {"x": [1, 2], "y": None}}
    other = {"b": {"y": None, "x": [1, 2]}, "a": 1}
    assert plan.digest(one) == plan.digest(other)
    assert len(plan.digest(one)) == 64 and int(plan.digest(one), 16) >= 0
    assert plan.digest({"b": {"x": [2, 1], "y": None}, "a": 1}) != plan.digest(one)
    assert plan.digest({"a": "1"}) != plan.digest({"a": 1})


def test_actions_digest_is_the_digest_of_the_actions():
    doc = document(several())
    assert doc["actions_digest"] == plan.digest(doc["actions"])
    assert document(several(), stack="other", inputs="x")["actions_digest"] == doc["actions_digest"]


# --- saved plans -------------------------------------------------------------------------------


def test_saved_plan_that_matches_has_no_problems():
    saved = json.loads(json.dumps(document(several())))
    assert plan.saved_plan_problems(saved, document(several())) == []
    # When it was made does not matter.
    assert plan.saved_plan_problems(saved, plan.plan_document(several(), INPUTS, "orders", "later")) == []
    assert plan.saved_plan_problems(document([]), document([])) == []


def test_saved_plan_for_another_stack():
    problems = plan.saved_plan_problems(document(several(), stack="billing"), document(several()))
    assert problems == ["it was made for stack 'billing', this run is for 'orders'"]


def test_saved_plan_from_other_inputs():
    problems = plan.saved_plan_problems(document(several(), inputs=plan.digest({"a": 1})), document(several()))
    assert problems == ["the inventory's settings have changed since it was made"]


def test_saved_plan_with_other_actions_names_the_lines():
    saved_actions = several()
    current_actions = several()[:3] + [
        plan.Action("instance", "orders-3", "create", calls=["CreateDBInstance"]),
    ]
    plan.number(current_actions)
    saved = document(saved_actions)
    current = document(current_actions)
    assert plan.saved_plan_problems(saved, current) == [
        "the stack has changed since it was made ("
        "no longer planned: cluster orders: failover [failover] - writes pause about 30 s. orders-2 becomes the writer; "
        "now also planned: instance orders-3: create [online])"
    ]


def test_saved_plan_whose_actions_are_no_longer_needed_names_them():
    lines = document(several())["lines"]
    problems = plan.saved_plan_problems(document(several()), document([]))
    assert problems == [
        "the stack has changed since it was made ("
        + "; ".join(f"no longer planned: {plan.unnumbered(line)}" for line in lines)
        + ")"
    ]


def test_saved_plan_with_a_change_not_in_its_lines_still_refuses():
    saved = document(several())
    current = copy.deepcopy(saved)
    current["actions"][0]["calls"].append("RevokeSecurityGroupIngress")
    current["actions_digest"] = plan.digest(current["actions"])
    assert plan.saved_plan_problems(saved, current) == ["the stack has changed since it was made"]


def test_saved_plan_every_difference_is_named():
    saved = document([], stack="billing", inputs="old")
    assert plan.saved_plan_problems(saved, document(several())) == [
        "it was made for stack 'billing', this run is for 'orders'",
        "the inventory's settings have changed since it was made",
        "the stack has changed since it was made ("
        + "; ".join(f"now also planned: {plan.unnumbered(line)}" for line in document(several())["lines"])
        + ")",
    ]


@pytest.mark.parametrize("saved", [None, [], "plan", {}, {"schema": "other/plan", "schema_version": 1}])
def test_saved_plan_of_another_schema(saved):
    assert plan.saved_plan_problems(saved, document(several())) == [
        "the saved plan is not a vitality.aurora/plan document"
    ]


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_saved_plan_of_another_version(version):
    saved = document(several())
    saved["schema_version"] = version
    assert plan.saved_plan_problems(saved, document(several())) == [
        f"the saved plan has schema_version {version!r}, this collection reads 1"
    ]
