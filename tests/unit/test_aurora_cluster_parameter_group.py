from ansible_collections.vitality.aurora.plugins.module_utils import parameter_settings
from ansible_collections.vitality.aurora.plugins.module_utils.changes import ONLINE, PENDING_REBOOT
from ansible_collections.vitality.aurora.plugins.modules import aurora_cluster_parameter_group as m


def test_values_are_compared_as_aws_strings():
    assert parameter_settings.parameter_value(True) == "1"
    assert parameter_settings.parameter_value(False) == "0"
    assert parameter_settings.parameter_value(2000) == "2000"


def test_same_values_plan_nothing():
    assert m.plan_parameter_changes({"rds.force_ssl": "1"}, {"rds.force_ssl": "1"}, purge=True) == []


def test_plan_sets_new_changes_and_purges_unlisted():
    changes = m.plan_parameter_changes({"a": "1", "old": "x"}, {"a": "2", "b": "3"}, purge=True)
    assert [(c["name"], c["before"], c["after"]) for c in changes] == [
        ("a", "1", "2"),
        ("b", None, "3"),
        ("old", "x", None),
    ]
    kept = m.plan_parameter_changes({"old": "x"}, {}, purge=False)
    assert kept == []


def test_dynamic_parameters_apply_at_once_static_ones_wait_for_reboot():
    changes = m.plan_parameter_changes({}, {"dyn": "1", "stat": "1"}, purge=False)
    catalog = {"dyn": {"ApplyType": "dynamic", "Source": "engine-default"}, "stat": {"ApplyType": "static"}}
    assert parameter_settings.classify(changes, catalog, complete=True, group_name="g") == []
    by_name = {c["name"]: c for c in changes}
    assert by_name["dyn"]["apply_method"] == "immediate" and by_name["dyn"]["impact"] == ONLINE
    assert by_name["stat"]["apply_method"] == "pending-reboot" and by_name["stat"]["impact"] == PENDING_REBOOT


def test_unknown_apply_type_is_treated_as_static():
    changes = m.plan_parameter_changes({}, {"mystery": "1"}, purge=False)
    assert parameter_settings.classify(changes, {}, complete=False, group_name="g") == []
    assert changes[0]["apply_method"] == "pending-reboot"


def test_unknown_parameter_is_refused_when_the_catalogue_is_complete():
    changes = m.plan_parameter_changes({}, {"rds.forse_ssl": "1"}, purge=False)
    problems = parameter_settings.classify(
        changes, {"rds.force_ssl": {"Source": "engine-default"}}, complete=True, group_name="g"
    )
    assert problems == ["parameters.rds.forse_ssl is not a parameter of parameter group g"]


def test_unmodifiable_parameter_is_refused():
    changes = m.plan_parameter_changes({}, {"fixed": "1"}, purge=False)
    problems = parameter_settings.classify(changes, {"fixed": {"IsModifiable": False}}, complete=True, group_name="g")
    assert "cannot be modified" in problems[0]


def test_batches_respect_the_api_limit_of_twenty():
    assert [len(b) for b in parameter_settings.batches(list(range(45)))] == [20, 20, 5]
