from ansible_collections.vitality.aurora.plugins.module_utils import changes as c

ATTRS = [
    c.Attribute("engine", "Engine"),
    c.Attribute("port", "Port", "Port", c.REBOOT),
    c.Attribute("groups", lambda cur: [g["Id"] for g in cur.get("Groups", [])], "GroupIds", unordered=True),
    c.Attribute("window", "Window", "Window", normalize=str.lower),
    c.Attribute("protected", "Protected", "Protected", default_when_absent=False),
]


def test_unmanaged_options_are_never_changes():
    assert c.plan_changes(ATTRS, {"Port": 5432}, {"port": None, "engine": None}) == []


def test_equal_values_are_not_changes_even_when_order_or_case_differ():
    current = {"Port": 5432, "Groups": [{"Id": "b"}, {"Id": "a"}], "Window": "sun:05:00-sun:06:00", "Engine": "x"}
    desired = {"port": 5432, "groups": ["a", "b"], "window": "Sun:05:00-Sun:06:00", "engine": "x"}
    assert c.plan_changes(ATTRS, current, desired) == []


def test_change_carries_before_after_and_impact():
    changes = c.plan_changes(ATTRS, {"Port": 5432}, {"port": 6543})
    assert changes == [{"attribute": "port", "before": 5432, "after": 6543, "impact": c.REBOOT}]


def test_attribute_without_modify_param_is_impossible_in_place():
    changes = c.plan_changes(ATTRS, {"Engine": "aurora-mysql"}, {"engine": "aurora-postgresql"})
    assert changes[0]["impact"] == c.IMPOSSIBLE
    assert c.impossible(changes) == changes
    message = c.impossible_message("cluster x", changes, "Restore a snapshot.")
    assert "engine ('aurora-mysql' -> 'aurora-postgresql')" in message
    assert message.endswith("Restore a snapshot.")


def test_missing_field_reads_as_its_documented_default():
    # A response without the field (a local endpoint may omit it) is the AWS default, not a change.
    assert c.plan_changes(ATTRS, {}, {"protected": False}) == []
    assert c.plan_changes(ATTRS, {}, {"protected": True})[0]["before"] is False


def test_modify_params_maps_only_changeable_attributes():
    changes = c.plan_changes(
        ATTRS, {"Port": 1, "Engine": "a", "Groups": []}, {"port": 2, "engine": "b", "groups": ["z"]}
    )
    assert c.modify_params(ATTRS, changes) == {"Port": 2, "GroupIds": ["z"]}


def test_worst_impact_orders_by_disruption():
    changes = [{"impact": c.ONLINE}, {"impact": c.REBOOT}, {"impact": c.PENDING_REBOOT}]
    assert c.worst_impact(changes) == c.REBOOT
    assert c.worst_impact([]) is None


def test_diff_lists_only_changed_attributes():
    changes = [{"attribute": "port", "before": 1, "after": 2, "impact": c.REBOOT}]
    assert c.diff_of(changes) == {"before": {"port": 1}, "after": {"port": 2}}


def test_deferrable_changes_say_when_they_apply():
    attrs = [c.Attribute("size", "Size", "Size", c.REBOOT, deferrable=True), c.Attribute("tier", "Tier", "Tier")]
    changes = c.plan_changes(attrs, {"Size": 1, "Tier": 1}, {"size": 2, "tier": 2})
    c.mark_deferred(attrs, changes, apply_immediately=False)
    assert [ch.get("when") for ch in changes] == ["maintenance-window", None]
    c.mark_deferred(attrs, changes, apply_immediately=True)
    assert changes[0]["when"] == "now"
