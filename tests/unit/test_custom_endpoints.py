"""Custom cluster endpoints: typed and guarded at the boundary, read once, and planned as online steps in the right
place of the rolling order.

The guards run in every input form (YAML list, YAML text, -e name=value, -e JSON) through role_settings and
stack_errors, as the aurora_settings action runs them. The plans are made on test_stack_plan's AWS-shaped snapshots
(a writer w and readers r-1, r-2 of cluster c), with DescribeDBClusterEndpoints-shaped endpoints and their tags.
"""

from __future__ import annotations

import copy
import json

import pytest
from test_stack_plan import IMPOSSIBLE, ONLINE, STACK, TAGS, absent, lines, params, plan, planned, rows, snapshot

from ansible_collections.vitality.aurora.plugins.module_utils import endpoint_plan as ep
from ansible_collections.vitality.aurora.plugins.module_utils import validation as v
from ansible_collections.vitality.aurora.plugins.plugin_utils import role_settings as rs

SPEC = rs.load_role_spec()["main"]
VAR = "aurora_cluster_custom_endpoints"
ANALYTICS = {"name": "analytics", "static_members": ["reader-2"]}
GENERAL = {"name": "general", "excluded_members": ["reader-2"]}


# --- typed and guarded ------------------------------------------------------------------------------------------------


def forms(value):
    """The list as each input form gives it: YAML (a list), YAML text and -e name=value (JSON text), -e JSON."""
    text = json.dumps(value)
    return {"yaml": value, "yaml-string": text, "key=value": text, "json": json.loads(text)}


def judged(value, reader_count=2):
    from test_validation import VALID

    typed, conversion = rs.convert_all({VAR: value}, {VAR: SPEC[VAR]})
    assert conversion == [], conversion
    settings = dict(VALID, aurora_cluster_reader_count=reader_count, **typed)
    return v.stack_errors(settings)


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
def test_the_endpoints_are_the_same_list_in_every_form(form):
    value = [ANALYTICS, GENERAL]
    assert rs.convert(VAR, forms(value)[form], SPEC[VAR]) == value
    assert judged(forms(value)[form]) == []


GUARDS = {
    "no-name": ([{"static_members": ["reader-1"]}], f"{VAR}[0].name is missing"),
    "upper-case": (
        [{"name": "Analytics"}],
        f"{VAR}[Analytics].name='Analytics' is invalid: an endpoint name is lower-case",
    ),
    "underscore": ([{"name": "my_endpoint"}], f"{VAR}[my_endpoint].name='my_endpoint' is invalid"),
    "too-long": ([{"name": "a" * 50}], "must be at most 63 characters"),
    "double-hyphen": ([{"name": "a--b"}], f"{VAR}[a--b].name='a--b' is invalid: its identifier"),
    "reserved-writer": ([{"name": "writer"}], f"{VAR}[writer].name='writer' is reserved"),
    "reserved-reader": ([{"name": "reader-1"}], f"{VAR}[reader-1].name='reader-1' is reserved"),
    "twice": (
        [{"name": "analytics"}, {"name": "analytics"}],
        f"{VAR}[analytics].name='analytics' is given more than once",
    ),
    "bad-type": ([{"name": "analytics", "type": "WRITER"}], f"{VAR}[analytics].type='WRITER' is invalid: READER"),
    "unknown-key": ([{"name": "analytics", "members": ["reader-1"]}], f"{VAR}[0] has unknown keys ['members']"),
    "reader-not-made": (
        [{"name": "analytics", "static_members": ["reader-3"]}],
        f"{VAR}[analytics].static_members names 'reader-3', which is not one of the instances the inventory makes "
        "(writer, reader-1 to reader-2, or their identifiers)",
    ),
    "identifier-not-made": (
        [{"name": "analytics", "excluded_members": ["vitality-dev-aurora-reader-9"]}],
        "names 'vitality-dev-aurora-reader-9', which is not one of the instances",
    ),
    "writer-in-reader-endpoint": (
        [{"name": "analytics", "static_members": ["writer"]}],
        f"{VAR}[analytics].static_members names the writer ('writer'): a READER endpoint serves readers only",
    ),
    "both-lists": (
        [{"name": "analytics", "static_members": ["reader-1"], "excluded_members": ["reader-2"]}],
        f"{VAR}[analytics] has both static_members and excluded_members",
    ),
    "member-twice": (
        [{"name": "analytics", "static_members": ["reader-1", "vitality-dev-aurora-reader-1"]}],
        "names an instance more than once",
    ),
    "members-not-a-list": (
        [{"name": "analytics", "static_members": "reader-1"}],
        "static_members='reader-1' is invalid",
    ),
    "tags-not-a-dict": ([{"name": "analytics", "tags": ["a"]}], f"{VAR}[analytics].tags=['a'] is invalid"),
}


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
@pytest.mark.parametrize("guard", sorted(GUARDS))
def test_each_endpoint_guard_holds_in_every_input_form(guard, form):
    value, message = GUARDS[guard]
    errors = judged(forms(value)[form])
    assert any(message in e for e in errors), errors


def test_a_reader_endpoint_without_readers_names_the_rule():
    errors = judged([{"name": "analytics", "static_members": ["reader-1"]}], reader_count=0)
    assert errors == [
        f"{VAR}[analytics].static_members names 'reader-1', which is not one of the instances the inventory makes "
        "(writer, or its identifier; there is no reader)"
    ]


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
def test_an_endpoint_that_is_not_a_dict_is_refused_when_typed_in_every_form(form):
    _typed, errors = rs.convert_all({VAR: forms(["analytics"])[form]}, {VAR: SPEC[VAR]})
    assert errors == [f"{VAR}[0]='analytics' (str) is not a dict (a mapping of keys to values)"], errors


def test_the_planner_refuses_an_endpoint_that_is_not_a_dict_too():
    assert v.endpoint_errors("custom_endpoints", ["analytics"], "c", "c-w", "c-r-", 2) == [
        "custom_endpoints[0]='analytics' is invalid: each endpoint is a dict with a name"
    ]


@pytest.mark.parametrize("value", ["analytics", {"name": "analytics"}, 3])
def test_a_value_that_is_not_a_list_is_refused_naming_the_variable(value):
    _typed, errors = rs.convert_all({VAR: value}, {VAR: SPEC[VAR]})
    assert len(errors) == 1 and VAR in errors[0], errors


@pytest.mark.parametrize(
    "reference, identifier",
    [
        ("writer", "c-w"),
        ("c-w", "c-w"),
        ("reader-1", "c-r-1"),
        ("c-r-2", "c-r-2"),
        ("reader-3", None),
        ("c-r-3", None),
        ("reader-01", None),
        ("c-r-01", None),
        ("reader-0", None),
        ("application-autoscaling-abc", None),
    ],
)
def test_member_references(reference, identifier):
    assert v.member_identifier(reference, "c-w", "c-r-", 2) == identifier


# --- the plan ---------------------------------------------------------------------------------------------------------

OWNED = dict(TAGS, ManagedBy="vitality.aurora")


def described(name, kind="READER", static=(), excluded=(), tags=None):
    identifier = f"c-{name}"
    endpoint = {
        "DBClusterEndpointIdentifier": identifier,
        "DBClusterIdentifier": "c",
        "Endpoint": f"{identifier}.cluster-custom-abc.us-east-1.rds.amazonaws.com",
        "Status": "available",
        "EndpointType": "CUSTOM",
        "CustomEndpointType": kind,
        "StaticMembers": list(static),
        "ExcludedMembers": list(excluded),
        "DBClusterEndpointArn": f"arn:aws:rds:us-east-1:123456789012:cluster-endpoint:{identifier}",
    }
    return identifier, (endpoint, dict(OWNED) if tags is None else tags)


def stack(endpoints=(), existing=()):
    state, wanted = snapshot(), params()
    wanted["custom_endpoints"] = [copy.deepcopy(e) for e in endpoints]
    state["custom_endpoints"] = dict(existing)
    return state, wanted


def test_endpoints_as_asked_for_plan_nothing():
    state, wanted = stack(
        [ANALYTICS, GENERAL], [described("analytics", static=["r-2"]), described("general", excluded=["r-2"])]
    )
    assert plan(state, wanted) == ([], [], None)


def test_a_new_endpoint_is_one_online_create_saying_who_serves_it():
    actions = planned(*stack([ANALYTICS, GENERAL]))
    assert rows(actions) == [
        (1, "custom_endpoint", "c-analytics", "create", ONLINE, "now", STACK, ["CreateDBClusterEndpoint"]),
        (2, "custom_endpoint", "c-general", "create", ONLINE, "now", STACK, ["CreateDBClusterEndpoint"]),
    ]
    assert lines(actions) == [
        "1. custom endpoint c-analytics: create (type (none) -> READER; static_members (none) -> [r-2]; "
        "excluded_members (none) -> (none)) [online]. only r-2; new readers do not join it",
        "2. custom endpoint c-general: create (type (none) -> READER; static_members (none) -> (none); "
        "excluded_members (none) -> [r-2]) [online]. every reader but r-2, new and autoscaled readers included",
    ]
    assert ep.create_request("c", actions[0].request["endpoint"]) == {
        "DBClusterIdentifier": "c",
        "DBClusterEndpointIdentifier": "c-analytics",
        "EndpointType": "READER",
        "StaticMembers": ["r-2"],
        "Tags": [{"Key": "ManagedBy", "Value": "vitality.aurora"}, {"Key": "Stack", "Value": "s"}],
    }


def test_an_endpoint_over_every_instance_of_its_type_says_so():
    actions = planned(*stack([{"name": "all", "type": "ANY"}]))
    assert lines(actions)[0].endswith("every instance of the cluster, new and autoscaled readers included")
    assert "StaticMembers" not in ep.create_request("c", actions[0].request["endpoint"])


def test_changed_members_are_one_modify_sending_both_lists():
    state, wanted = stack([GENERAL], [described("general", static=["r-1"])])
    actions = planned(state, wanted)
    assert rows(actions) == [
        (1, "custom_endpoint", "c-general", "modify", ONLINE, "now", STACK, ["ModifyDBClusterEndpoint"])
    ]
    assert lines(actions)[0].startswith(
        "1. custom endpoint c-general: modify (static_members [r-1] -> (none); excluded_members (none) -> [r-2])"
    )
    assert ep.modify_request(actions[0].request["endpoint"]) == {
        "DBClusterEndpointIdentifier": "c-general",
        "EndpointType": "READER",
        "StaticMembers": [],
        "ExcludedMembers": ["r-2"],
    }


def test_a_changed_type_is_a_modify():
    state, wanted = stack([{"name": "all", "type": "ANY"}], [described("all", kind="READER")])
    assert [c["attribute"] for c in planned(state, wanted)[0].changes] == ["type"]


def test_tags_that_drifted_are_set_and_removed_with_the_owner_tag_kept():
    tags = dict(OWNED, Extra="x")
    del tags["Stack"]
    state, wanted = stack([ANALYTICS], [described("analytics", static=["r-2"], tags=tags)])
    actions = planned(state, wanted)
    assert [(a.change, a.calls) for a in actions] == [
        ("set tags", ["AddTagsToResource"]),
        ("remove tags", ["RemoveTagsFromResource"]),
    ]


def test_a_new_reader_named_by_an_endpoint_is_created_before_the_endpoint_takes_it():
    state, wanted = stack(
        [{"name": "analytics", "static_members": ["reader-3"]}], [described("analytics", static=["r-2"])]
    )
    wanted["instances"]["reader_count"] = 3
    actions = planned(state, wanted)
    assert [(a.resource, a.name, a.change) for a in actions] == [
        ("instance", "r-3", "create"),
        ("custom_endpoint", "c-analytics", "modify"),
    ]


def test_an_endpoint_naming_a_reader_the_plan_removes_is_changed_before_the_removal():
    # reader-2 goes (reader_count 2 -> 1): the endpoint that named it moves to reader-1 first.
    state, wanted = stack(
        [{"name": "analytics", "static_members": ["reader-1"]}], [described("analytics", static=["r-2"])]
    )
    wanted["instances"]["reader_count"] = 1
    actions = planned(state, wanted)
    assert [(a.resource, a.name, a.change) for a in actions] == [
        ("custom_endpoint", "c-analytics", "modify"),
        ("instance", "r-2", "delete"),
    ]


def test_an_endpoint_the_role_made_and_the_inventory_dropped_is_deleted_before_instance_removals():
    state, wanted = stack([], [described("analytics", static=["r-2"])])
    wanted["instances"]["reader_count"] = 1
    actions = planned(state, wanted)
    assert [(a.resource, a.name, a.change, a.calls) for a in actions] == [
        ("custom_endpoint", "c-analytics", "delete", ["DeleteDBClusterEndpoint"]),
        ("instance", "r-2", "delete", ["DeleteDBInstance"]),
    ]
    assert "the name c-analytics.cluster-custom-abc.us-east-1.rds.amazonaws.com stops resolving" in lines(actions)[0]


def test_an_endpoint_the_role_did_not_make_is_left_alone():
    state, wanted = stack([], [described("handmade", static=["r-1"], tags={"Owner": "dba"})])
    assert plan(state, wanted) == ([], [], None)


def test_an_endpoint_of_a_wanted_name_the_role_did_not_make_stops_the_plan():
    state, wanted = stack([ANALYTICS], [described("analytics", static=["r-1"], tags={})])
    actions, problems, _notice = plan(state, wanted)
    assert problems == [
        "custom_endpoints[analytics]: cluster c already has a custom endpoint c-analytics that the role did not make "
        "(no ManagedBy=vitality.aurora tag): choose another name, or tag it ManagedBy=vitality.aurora to hand it over"
    ]
    assert [(a.change, a.impact) for a in actions] == [("adopt", IMPOSSIBLE)]


def test_the_module_refuses_endpoints_the_role_would_refuse():
    state, wanted = stack([{"name": "analytics", "static_members": ["reader-7"]}])
    _actions, problems, _notice = plan(state, wanted)
    assert problems and "custom_endpoints[analytics].static_members names 'reader-7'" in problems[0]


def test_an_autoscaled_reader_joins_an_endpoint_with_excluded_members_without_a_step():
    from test_stack_plan import instance, member

    state, wanted = stack([GENERAL], [described("general", excluded=["r-2"])])
    state["instances"].append(instance("application-autoscaling-1a2b", "us-east-1c", 1, "reader"))
    state["cluster"]["DBClusterMembers"].append(
        dict(member("r-1"), DBInstanceIdentifier="application-autoscaling-1a2b")
    )
    actions, _problems, _notice = plan(state, wanted)
    assert [a for a in actions if a.resource == "custom_endpoint"] == []


def test_a_new_stack_creates_its_endpoints_after_its_instances():
    state, wanted = absent(), params()
    wanted["custom_endpoints"] = [ANALYTICS]
    actions = planned(state, wanted)
    order = [(a.resource, a.change) for a in actions]
    assert order.index(("custom_endpoint", "create")) > max(
        i for i, o in enumerate(order) if o == ("instance", "create")
    )


# --- one read, or none ------------------------------------------------------------------------------------------------


class Rds:
    """The few calls read_endpoints makes, recorded."""

    def __init__(self, endpoints):
        self.endpoints, self.calls = endpoints, []

    def paginate(self, method, key, **params):
        self.calls.append((method, params.get("DBClusterIdentifier"), params.get("Filters")))
        return self.endpoints

    def call(self, method, **params):
        self.calls.append((method, params.get("ResourceName")))
        return {"TagList": [{"Key": "ManagedBy", "Value": "vitality.aurora"}]}


def test_no_endpoint_wanted_and_none_reported_reads_nothing():
    rds = Rds([])
    assert ep.read_endpoints(rds, {"CustomEndpoints": []}, "c", []) == {}
    assert ep.read_endpoints(rds, None, "c", [ANALYTICS]) == {}
    assert rds.calls == []


def test_endpoints_are_read_once_by_cluster_and_type_with_their_tags():
    endpoint = described("analytics", static=["r-2"])[1][0]
    other_cluster = dict(endpoint, DBClusterIdentifier="other", DBClusterEndpointIdentifier="other-x")
    rds = Rds([endpoint, other_cluster])
    found = ep.read_endpoints(rds, {"CustomEndpoints": [endpoint["Endpoint"]]}, "c", [])
    assert list(found) == ["c-analytics"] and ep.owned(found["c-analytics"][1])
    assert rds.calls == [
        ("describe_db_cluster_endpoints", "c", [{"Name": "db-cluster-endpoint-type", "Values": ["custom"]}]),
        ("list_tags_for_resource", endpoint["DBClusterEndpointArn"]),
    ]


def test_the_outputs_give_each_endpoints_dns_name():
    current = dict([described("analytics", static=["r-2"])])
    assert ep.endpoint_outputs(current, [ANALYTICS, GENERAL], "c") == {
        "analytics": "c-analytics.cluster-custom-abc.us-east-1.rds.amazonaws.com",
        "general": None,
    }
