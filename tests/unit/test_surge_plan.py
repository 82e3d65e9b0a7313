"""Instance changes by surge (surge.py, planned by stack_plan, carried out by aurora_stack's Apply).

The plan tests are pure, on the AWS-shaped snapshots of test_stack_plan; the apply tests run the plan against
test_aurora_stack's World in fake time, so the order of the steps, how long they take and how many instances serve
at each moment are read back from the World, not timed.
"""

from __future__ import annotations

import pytest
from test_aurora_stack import World, apply, given, plan_of, polled, replanned, stack_world
from test_serverless_v2_settings import forms, typed_errors
from test_stack_plan import LARGE, XLARGE, instance, member, params, snapshot

from ansible_collections.vitality.aurora.plugins.module_utils import naming
from ansible_collections.vitality.aurora.plugins.module_utils import stack_plan as sp
from ansible_collections.vitality.aurora.plugins.module_utils.alarm_plan import alarm_members
from ansible_collections.vitality.aurora.plugins.module_utils.plan import FAILOVER, IMPOSSIBLE, ONLINE

# --- naming: the two generations ------------------------------------------------------------------------------------


def test_the_generations_alternate_between_the_configured_names_and_their_alternates():
    assert naming.generations("c-writer", "c-reader-") == [("c-writer", "c-reader-"), ("c-writer-b", "c-reader-b-")]
    # A prefix without a trailing hyphen gets one, so that reader 1 of one is never reader 1 of the other.
    assert naming.alternate_names("w", "r") == ("w-b", "r-b-")
    assert naming.generation_of("c-reader-12", "c-writer", "c-reader-") == 0
    assert naming.generation_of("c-reader-b-12", "c-writer", "c-reader-") == 1
    assert naming.generation_of("application-autoscaling-1", "c-writer", "c-reader-") is None


@pytest.mark.parametrize(
    ("identifiers", "writer", "adopted"),
    [
        ([], None, 0),  # a new cluster: the configured names
        (["w", "r-1"], "w", 0),
        (["w", "r-1", "w-b", "r-b-1"], "w", 0),  # a surge before its failover: still the old generation
        (["w", "r-1", "w-b", "r-b-1"], "w-b", 1),  # after it: the new one, whatever is left of the old
        (["w-b", "r-b-1"], "w-b", 1),
        (["w-b", "r-b-1"], None, 1),  # no writer reported: the only generation there is
        (["w", "w-b"], "application-autoscaling-1", 0),
    ],
)
def test_the_adopted_generation_is_the_writers(identifiers, writer, adopted):
    assert naming.adopted_generation("w", "r-", identifiers, writer) == adopted


# --- the plan -------------------------------------------------------------------------------------------------------


def surge_params(**instances):
    wanted = params()
    wanted["instances"].update(instance_change_strategy="surge", db_instance_class=XLARGE, **instances)
    return wanted


def steps(actions):
    return [(a.resource, a.name, a.change, a.impact, a.calls) for a in actions]


SURGE_STEPS = [
    ("instance", "w-b", "create", ONLINE, ["CreateDBInstance"]),
    ("instance", "r-b-1", "create", ONLINE, ["CreateDBInstance"]),
    ("instance", "r-b-2", "create", ONLINE, ["CreateDBInstance"]),
    ("cluster", "c", "failover", FAILOVER, ["FailoverDBCluster"]),
    ("instance", "r-2", "delete", ONLINE, ["DeleteDBInstance"]),
    ("instance", "r-1", "delete", ONLINE, ["DeleteDBInstance"]),
    ("instance", "w", "delete", ONLINE, ["DeleteDBInstance"]),
]


def test_a_class_change_by_surge_creates_beside_fails_over_once_and_deletes_the_old():
    state = snapshot()
    # The old instances' placement, not the layout's, is kept: r-2 was moved to the writer's zone by hand.
    state["instances"][2]["AvailabilityZone"] = "us-east-1c"
    actions, problems, _notice = sp.plan_stack(state, surge_params())
    assert problems == []
    assert steps(actions) == SURGE_STEPS
    created = {a.name: a.request["params"] for a in actions if a.change == "create"}
    assert {n: (p["db_instance_class"], p["availability_zone"], p["promotion_tier"]) for n, p in created.items()} == {
        "w-b": (XLARGE, "us-east-1c", 0),
        "r-b-1": (XLARGE, "us-east-1d", 1),
        "r-b-2": (XLARGE, "us-east-1c", 2),
    }
    lines = [a.line() for a in actions]
    # The strategy, the write downtime and the extra cost, on the first step; the one failover names its target.
    assert "strategy surge: 3 new instance(s) beside the 3 old one(s)" in lines[0]
    assert "write downtime: one failover to w-b" in lines[0]
    assert "extra cost while it runs: 3 more instance(s) (twice the instances)" in lines[0]
    assert lines[3].startswith("4. cluster c: failover (writer w -> w-b) [failover] - writes pause once")
    # The old ones are deleted together, after the failover, with no snapshot.
    assert all(a.request.get("together") for a in actions if a.change == "delete")


def test_the_surge_is_made_now_even_when_changes_wait_for_the_maintenance_window():
    # apply_immediately=false (prod): a rolling class change would wait for each instance's window.
    actions, _problems, _notice = sp.plan_stack(snapshot(), surge_params(apply_immediately=False))
    assert steps(actions) == SURGE_STEPS


def test_the_rolling_strategy_is_unchanged():
    wanted = surge_params()
    wanted["instances"]["instance_change_strategy"] = "rolling"
    actions, _problems, _notice = sp.plan_stack(snapshot(), wanted)
    assert [a.change for a in actions] == ["modify", "modify", "modify"]


def test_a_surge_with_nothing_that_restarts_plans_nothing():
    wanted = params()
    wanted["instances"]["instance_change_strategy"] = "surge"
    assert sp.plan_stack(snapshot(), wanted) == ([], [], None)


def new_generation(state, instance_class=XLARGE, old=()):
    """The stack after a surge: w-b writes, r-b-N read; ``old``: the old instances still there."""
    state["instances"] = [
        instance("w-b", "us-east-1c", 0, "writer", DBInstanceClass=instance_class),
        instance("r-b-1", "us-east-1d", 1, "reader", DBInstanceClass=instance_class),
        instance("r-b-2", "us-east-1d", 2, "reader", DBInstanceClass=instance_class),
    ] + [i for i in snapshot()["instances"] if i["DBInstanceIdentifier"] in old]
    state["cluster"]["DBClusterMembers"] = [
        {"DBInstanceIdentifier": i["DBInstanceIdentifier"], "IsClusterWriter": i["DBInstanceIdentifier"] == "w-b"}
        for i in state["instances"]
    ]
    return state


def test_after_a_surge_the_next_run_adopts_the_new_names_and_plans_nothing():
    assert sp.plan_stack(new_generation(snapshot()), surge_params()) == ([], [], None)
    # Whatever the strategy: the names are read from the cluster, not from the strategy.
    wanted = surge_params()
    wanted["instances"]["instance_change_strategy"] = "rolling"
    assert sp.plan_stack(new_generation(snapshot()), wanted) == ([], [], None)


def test_a_later_surge_goes_back_to_the_configured_names():
    wanted = surge_params()
    wanted["instances"]["db_instance_class"] = LARGE
    actions, problems, _notice = sp.plan_stack(new_generation(snapshot()), wanted)
    assert problems == []
    assert [(a.name, a.change) for a in actions] == [
        ("w", "create"),
        ("r-1", "create"),
        ("r-2", "create"),
        ("c", "failover"),
        ("r-b-2", "delete"),
        ("r-b-1", "delete"),
        ("w-b", "delete"),
    ]


def test_a_run_killed_after_the_creates_resumes_with_the_failover_and_the_deletes():
    state = snapshot()
    state["instances"] += [
        instance("w-b", "us-east-1c", 0, "writer", DBInstanceClass=XLARGE),
        instance("r-b-1", "us-east-1d", 1, "reader", DBInstanceClass=XLARGE, DBInstanceStatus="creating"),
    ]
    state["cluster"]["DBClusterMembers"] += [
        {"DBInstanceIdentifier": i, "IsClusterWriter": False} for i in ("w-b", "r-b-1")
    ]
    actions, problems, _notice = sp.plan_stack(state, surge_params())
    assert problems == []
    # Only the missing one is created; the failover waits for every new instance, the one still creating too.
    assert steps(actions) == [SURGE_STEPS[2]] + SURGE_STEPS[3:]
    failover = next(a for a in actions if a.change == "failover")
    assert failover.request["wait_for"] == ["w-b", "r-b-1", "r-b-2"]


def test_a_run_killed_after_the_failover_deletes_what_is_left_of_the_old_generation():
    state = new_generation(snapshot(), old=("w", "r-1"))
    actions, problems, _notice = sp.plan_stack(state, surge_params())
    assert problems == []
    assert steps(actions) == [
        ("instance", "r-1", "delete", ONLINE, ["DeleteDBInstance"]),
        ("instance", "w", "delete", ONLINE, ["DeleteDBInstance"]),
    ]
    # An instance already being deleted is not deleted again.
    next(i for i in state["instances"] if i["DBInstanceIdentifier"] == "r-1")["DBInstanceStatus"] = "deleting"
    assert [a.name for a in sp.plan_stack(state, surge_params())[0]] == ["w"]


def test_a_surge_given_up_before_its_failover_deletes_the_new_instances():
    # Killed after the creates, then the inventory went back to the old class: the old generation still writes.
    state = snapshot()
    state["instances"] += [instance("w-b", "us-east-1c", 0, "writer", DBInstanceClass=XLARGE)]
    state["cluster"]["DBClusterMembers"] += [{"DBInstanceIdentifier": "w-b", "IsClusterWriter": False}]
    wanted = params()
    wanted["instances"]["instance_change_strategy"] = "surge"
    assert steps(sp.plan_stack(state, wanted)[0]) == [("instance", "w-b", "delete", ONLINE, ["DeleteDBInstance"])]


def test_no_generation_is_deleted_while_the_cluster_reports_no_writer():
    # A failover under way: AWS reports no writer for a moment; neither generation is taken for leftovers.
    state = new_generation(snapshot(), old=("w", "r-1", "r-2"))
    for entry in state["cluster"]["DBClusterMembers"]:
        entry["IsClusterWriter"] = False
    wanted = params()
    wanted["instances"]["db_instance_class"] = XLARGE
    actions, _problems, _notice = sp.plan_stack(state, wanted)
    assert [a for a in actions if a.change == "delete"] == []


def test_a_surge_is_refused_when_the_writer_is_not_an_instance_of_the_layout():
    state = snapshot()
    state["instances"].append(instance("application-autoscaling-1", "us-east-1d", 15, "reader"))
    state["cluster"]["DBClusterMembers"] = [member("r-1"), member("r-2")] + [
        {"DBInstanceIdentifier": i, "IsClusterWriter": i != "w"} for i in ("w", "application-autoscaling-1")
    ]
    actions, problems, _notice = sp.plan_stack(state, surge_params())
    assert problems == [
        "instance_change_strategy=surge: the cluster's writer is application-autoscaling-1, not an instance of the "
        "layout: fail back first"
    ]
    assert [(a.change, a.impact) for a in actions if a.resource == "instance"] == [("surge", IMPOSSIBLE)]


def test_a_surge_is_refused_when_the_new_names_would_be_too_long():
    state, wanted = snapshot(), surge_params()
    long_writer = "w" * 62
    state["instances"][0]["DBInstanceIdentifier"] = long_writer
    state["cluster"]["DBClusterMembers"][0]["DBInstanceIdentifier"] = long_writer
    wanted["instances"]["writer_identifier"] = long_writer
    actions, problems, _notice = sp.plan_stack(state, wanted)
    assert len(problems) == 1 and "the new generation's names would be too long" in problems[0]
    assert [a.impact for a in actions if a.resource == "instance"] == [IMPOSSIBLE]


def test_the_plan_does_not_change_the_params_it_is_given():
    wanted = surge_params()
    before = repr(wanted)
    sp.plan_stack(snapshot(), wanted)
    assert repr(wanted) == before


def test_the_alarms_follow_the_new_generation():
    state, wanted = snapshot(), surge_params()
    instances = sp.adopt_generation(wanted["instances"], sp.resolve_generation(state, wanted["instances"], "c"))
    assert (instances["writer_identifier"], instances["reader_identifier_prefix"]) == ("w-b", "r-b-")
    actions, _problems, _notice = sp.plan_stack(state, dict(wanted, instances=instances))
    assert alarm_members(state, instances["writer_identifier"], actions) == [
        {"id": "r-b-1", "instance_class": XLARGE, "writer": False},
        {"id": "r-b-2", "instance_class": XLARGE, "writer": False},
        {"id": "w-b", "instance_class": XLARGE, "writer": True},
    ]


# --- the apply, in fake time ----------------------------------------------------------------------------------------


def surge_options(strategy="surge"):
    options = given()
    options["instances"].update(db_instance_class=XLARGE, apply_immediately=True, instance_change_strategy=strategy)
    return options


def test_the_surge_creates_together_waits_once_fails_over_once_and_deletes_together():
    world = stack_world()
    options = surge_options()
    actions, applier, made = apply(world, options)
    assert made == [
        ("CreateDBInstance", "w-b"),
        ("CreateDBInstance", "r-b-1"),
        ("CreateDBInstance", "r-b-2"),
        ("FailoverDBCluster", "c"),
        ("DeleteDBInstance", "r-2"),
        ("DeleteDBInstance", "r-1"),
        ("DeleteDBInstance", "w"),
    ]
    assert [call for a in actions for call in a.calls] == [operation for operation, _subject in made]
    # One wait for the three creates, one failover, one wait for the three deletes.
    assert world.clock.now == polled(World.CREATE) + polled(World.FAILOVER) + polled(World.DELETE)
    # No instance was ever out of service: the old ones served until the new ones did.
    assert world.outages == []
    assert world.clusters["c"]["_writer"] == "w-b"
    assert {
        i: (d["DBInstanceClass"], d["AvailabilityZone"], d["PromotionTier"]) for i, d in world.instances.items()
    } == {
        "w-b": (XLARGE, "us-east-1c", 0),
        "r-b-1": (XLARGE, "us-east-1d", 1),
        "r-b-2": (XLARGE, "us-east-1d", 2),
    }
    assert applier.done == [1, 2, 3, 4, 5, 6, 7]
    assert replanned(world, options) == []


def test_the_create_times_of_the_surge_and_of_rolling():
    # Rolling: three restarts one after the other, two failovers; surge: one creation's wait and one failover.
    rolling = stack_world()
    apply(rolling, surge_options("rolling"))
    surged = stack_world()
    apply(surged, surge_options())
    assert [o[0] for o in rolling.outages] == ["r-1", "r-2", "w"]
    assert surged.outages == []


def test_a_surge_killed_after_its_creates_resumes_without_creating_again():
    world = stack_world()
    options = surge_options()
    params, _snapshot, actions = plan_of(world, options)
    creates = [a for a in actions if a.change == "create"]
    # The killed run: its creates were made, nothing after them.
    for action in creates:
        world.create_db_instance(**m_request(action))
    world.mutations.clear()
    actions, _applier, made = apply(world, options)
    assert made == [
        ("FailoverDBCluster", "c"),
        ("DeleteDBInstance", "r-2"),
        ("DeleteDBInstance", "r-1"),
        ("DeleteDBInstance", "w"),
    ]
    assert sorted(world.instances) == ["r-b-1", "r-b-2", "w-b"]
    assert replanned(world, options) == []


def m_request(action):
    from ansible_collections.vitality.aurora.plugins.modules import aurora_stack as m

    return m.instance_create_request(action.request["params"])


# --- the variable, every input form -----------------------------------------------------------------------------------

STRATEGY = "aurora_cluster_instance_change_strategy"


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
@pytest.mark.parametrize("value", ["rolling", "surge"])
def test_the_strategy_is_the_same_in_every_form(form, value):
    assert typed_errors(dict(forms({STRATEGY: value}))[form]) == []


def test_a_strategy_typed_by_hand_is_checked_by_the_rules_too():
    from test_validation import VALID

    from ansible_collections.vitality.aurora.plugins.module_utils import validation as v

    assert v.stack_errors(dict(VALID, **{STRATEGY: "blue-green"})) == [
        f"{STRATEGY}='blue-green' is invalid: rolling (each instance restarts in place, one at a time, with a failover "
        "and a failback) or surge (new instances beside the old ones, one failover, then the old ones deleted)"
    ]


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
def test_an_unknown_strategy_is_refused_in_every_form_naming_the_variable_and_the_choices(form):
    from test_serverless_v2_settings import SPEC, rs

    typed, errors = rs.convert_all(dict(forms({STRATEGY: "Surge"}))[form], {STRATEGY: SPEC[STRATEGY]})
    assert (typed, errors) == ({}, [f"{STRATEGY}='Surge' is not one of rolling, surge"])
