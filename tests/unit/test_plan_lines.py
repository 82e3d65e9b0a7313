from ansible_collections.vitality.aurora.plugins.filter.plan_lines import plan_lines


def test_one_line_per_change_with_impact():
    resources = [
        {
            "resource": "cluster c",
            "changes": [{"attribute": "port", "before": 5432, "after": 6000, "impact": "reboot"}],
        },
        {"resource": "instance w", "changes": []},
        {"resource": "security group g", "changes": [{"attribute": "rules and tags", "impact": "online"}]},
        {
            "resource": "parameter group p",
            "changes": [{"attribute": "parameters.x", "before": None, "after": "1", "impact": "pending-reboot"}],
        },
    ]
    assert plan_lines(resources) == [
        "cluster c: port 5432 -> 6000 [reboot]",
        "security group g: rules and tags [online]",
        "parameter group p: parameters.x (none) -> 1 [pending-reboot]",
    ]


def test_lists_and_dicts_read_plainly():
    change = {"attribute": "tags", "before": {"a": "1"}, "after": {"a": "2", "b": "3"}, "impact": "online"}
    assert plan_lines([{"resource": "r", "changes": [change]}]) == ["r: tags {a=1} -> {a=2, b=3} [online]"]
    assert plan_lines(None) == []


def test_creation_and_deletion_read_as_such():
    changes = [
        {"attribute": "instance", "before": None, "after": "r-1", "impact": "online"},
        {"attribute": "instance", "before": "r-3", "after": None, "impact": "online"},
    ]
    assert plan_lines([{"resource": "c", "changes": changes}]) == ["c: create [online]", "c: delete r-3 [online]"]


def test_deferred_changes_say_so():
    change = {
        "attribute": "db_instance_class",
        "before": "a",
        "after": "b",
        "impact": "reboot",
        "when": "maintenance-window",
    }
    assert plan_lines([{"resource": "i", "changes": [change]}]) == [
        "i: db_instance_class a -> b [reboot, in the maintenance window]"
    ]


def test_a_restore_says_where_from():
    change = {"attribute": "cluster", "before": None, "after": "c", "impact": "online", "restored_from": "c-final-1"}
    assert plan_lines([{"resource": "cluster c", "changes": [change]}]) == [
        "cluster c: create (restored from c-final-1) [online]"
    ]
