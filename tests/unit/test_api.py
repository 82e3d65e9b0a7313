from ansible_collections.vitality.aurora.plugins.module_utils.api import (
    dict_to_tags,
    drop_none,
    tag_changes,
    tags_to_dict,
    to_snake,
)


def test_to_snake_turns_tag_list_into_dict_and_keeps_tag_keys():
    described = {"DBClusterIdentifier": "c", "TagList": [{"Key": "CostCenter", "Value": "42"}], "Port": 5432}
    assert to_snake(described) == {"db_cluster_identifier": "c", "port": 5432, "tags": {"CostCenter": "42"}}
    assert to_snake(None) == {}


def test_tag_round_trip_is_sorted_and_stringly():
    assert dict_to_tags({"b": 1, "a": "x"}) == [{"Key": "a", "Value": "x"}, {"Key": "b", "Value": "1"}]
    assert tags_to_dict(dict_to_tags({"a": "x"})) == {"a": "x"}


def test_tag_changes_purge_and_keep_aws_tags():
    current = {"keep": "1", "old": "2", "aws:cloudformation:stack-name": "s"}
    to_set, to_remove = tag_changes(current, {"keep": "1", "new": "3"}, purge=True)
    assert to_set == {"new": "3"}
    assert to_remove == ["old"]
    assert tag_changes(current, {"new": "3"}, purge=False) == ({"new": "3"}, [])
    assert tag_changes(current, None, purge=True) == ({}, [])


def test_drop_none_keeps_false_and_zero():
    assert drop_none({"a": None, "b": False, "c": 0}) == {"b": False, "c": 0}
