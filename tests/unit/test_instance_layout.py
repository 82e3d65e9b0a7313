from ansible_collections.vitality.aurora.plugins.filter.instance_layout import instance_layout


def test_writer_first_then_readers_outside_its_az_in_failover_order():
    layout = instance_layout(["us-east-1c", "us-east-1d"], "w", "r-", 2)
    assert layout == [
        {"id": "w", "az": "us-east-1c", "tier": 0, "role": "writer"},
        {"id": "r-1", "az": "us-east-1d", "tier": 1, "role": "reader"},
        {"id": "r-2", "az": "us-east-1d", "tier": 2, "role": "reader"},
    ]


def test_readers_go_round_the_other_azs_and_tiers_stop_at_fifteen():
    layout = instance_layout(["a", "b", "c", "b"], "w", "r-", 16)
    assert [entry["az"] for entry in layout[1:5]] == ["b", "c", "b", "c"]
    assert layout[-1]["tier"] == 15


def test_single_az_keeps_readers_beside_the_writer():
    assert instance_layout(["a"], "w", "r-", 1)[1]["az"] == "a"


def test_no_readers():
    assert [entry["id"] for entry in instance_layout(["a", "b"], "w", "r-", 0)] == ["w"]
