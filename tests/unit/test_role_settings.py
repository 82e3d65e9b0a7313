"""The role's variables typed once: every input form of a value gives the same typed value, or an error naming
the variable; the declared types come from the role's argument_specs.yml."""

from __future__ import annotations

import pytest

from ansible_collections.vitality.aurora.plugins.plugin_utils import role_settings as rs

SPEC = rs.load_role_spec()
MAIN = SPEC["main"]


@pytest.mark.parametrize(
    "raw, expected",
    [(False, False), ("false", False), ("False", False), ("no", False), ("OFF", False), ("0", False), (0, False)]
    + [(True, True), ("true", True), ("yes", True), ("On", True), ("1", True), (1, True)],
)
def test_booleans_in_every_form(raw, expected):
    assert rs.convert("aurora_cluster_storage_encrypted", raw, MAIN["aurora_cluster_storage_encrypted"]) is expected


@pytest.mark.parametrize("raw", ["nope", "", "2", 2, [], {}, 0.5])
def test_a_word_that_is_not_a_boolean_is_refused_naming_the_variable(raw):
    with pytest.raises(rs.ConversionError, match="aurora_cluster_storage_encrypted=.* is not a boolean"):
        rs.convert("aurora_cluster_storage_encrypted", raw, MAIN["aurora_cluster_storage_encrypted"])


@pytest.mark.parametrize("raw", [5432, "5432", " 5432 ", 5432.0])
def test_integers_in_every_form(raw):
    assert rs.convert("aurora_cluster_port", raw, MAIN["aurora_cluster_port"]) == 5432


@pytest.mark.parametrize("raw", ["5432x", True, 5432.5, [5432]])
def test_not_an_integer(raw):
    with pytest.raises(rs.ConversionError, match="aurora_cluster_port"):
        rs.convert("aurora_cluster_port", raw, MAIN["aurora_cluster_port"])


def test_text_is_never_guessed_from_a_float_a_boolean_or_a_list():
    spec = MAIN["aurora_cluster_engine_version"]
    assert rs.convert("aurora_cluster_engine_version", "16.10", spec) == "16.10"
    with pytest.raises(rs.ConversionError, match="quote"):
        rs.convert("aurora_cluster_engine_version", 16.1, spec)
    with pytest.raises(rs.ConversionError, match="boolean"):
        rs.convert("aurora_cluster_master_username", True, MAIN["aurora_cluster_master_username"])
    with pytest.raises(rs.ConversionError, match=r"\(list\) is not text"):
        rs.convert("aurora_cluster_instance_class", ["db.r6g.large"], MAIN["aurora_cluster_instance_class"])


@pytest.mark.parametrize(
    "raw",
    [["a", "b"], "a,b", " a , b ", '["a", "b"]'],
)
def test_lists_in_every_form(raw):
    spec = MAIN["aurora_cluster_private_subnet_names"]
    assert rs.convert("aurora_cluster_private_subnet_names", raw, spec) == ["a", "b"]


@pytest.mark.parametrize("raw", [{"Owner": "x"}, '{"Owner": "x"}', "Owner=x"])
def test_dicts_in_every_form(raw):
    assert rs.convert("aurora_cluster_tags", raw, MAIN["aurora_cluster_tags"]) == {"Owner": "x"}


@pytest.mark.parametrize("raw", ["Owner", ["Owner"], '["Owner"]', 3])
def test_not_a_dict(raw):
    with pytest.raises(rs.ConversionError, match="aurora_cluster_tags=.* is not a dict"):
        rs.convert("aurora_cluster_tags", raw, MAIN["aurora_cluster_tags"])


def test_a_list_of_rules_given_as_json_text():
    text = '[{"proto": "tcp", "ports": [5432], "cidr_ip": "10.0.0.0/8"}]'
    spec = MAIN["aurora_cluster_db_security_group_extra_ingress"]
    assert rs.convert("x", text, spec) == [{"proto": "tcp", "ports": [5432], "cidr_ip": "10.0.0.0/8"}]


def test_choices_are_enforced_after_conversion():
    with pytest.raises(rs.ConversionError, match="not one of dev, staging, prod"):
        rs.convert("aurora_cluster_environment", "qa", MAIN["aurora_cluster_environment"])


def test_null_means_the_empty_default_only_where_the_default_is_empty():
    assert rs.convert("aurora_cluster_kms_key_id", None, MAIN["aurora_cluster_kms_key_id"]) == ""
    with pytest.raises(rs.ConversionError, match="aurora_cluster_port is null"):
        rs.convert("aurora_cluster_port", None, MAIN["aurora_cluster_port"])


def test_unknown_variables_name_the_closest_declared_one():
    known = set(MAIN)
    messages = rs.unknown_variable_messages(["aurora_cluster_instnce_class", "aurora_cluster_port", "other"], known)
    assert messages == [
        "aurora_cluster_instnce_class is not a variable of the aurora_cluster role: "
        "did you mean aurora_cluster_instance_class?"
    ]


def test_convert_all_reports_every_bad_value_and_every_missing_required_one():
    typed, errors = rs.convert_all({"aurora_cluster_port": "x", "aurora_cluster_reader_count": "2"}, MAIN)
    assert typed["aurora_cluster_reader_count"] == 2
    assert any(e.startswith("aurora_cluster_port=") for e in errors)
    assert "aurora_cluster_name is required (see the role's README)" in errors


def test_every_declared_type_has_a_converter():
    for entry in SPEC.values():
        for name, attributes in entry.items():
            kind = attributes.get("type", "str")
            assert kind in rs.CONVERTERS or kind in ("list", "dict", "raw"), (name, kind)


def test_the_teardown_requires_no_network_variable_it_does_not_read():
    # destroy.yml finds the database security group in the VPC by name; subnets and the app group it never reads.
    given = {"aurora_cluster_vpc_name": "vpc"}
    unread = ["aurora_cluster_private_subnet_names", "aurora_cluster_app_security_group_name"]
    _typed, main_errors = rs.convert_all(given, SPEC["main"])
    _typed, destroy_errors = rs.convert_all(given, SPEC["destroy"])
    assert [e for e in main_errors if e.split(" ")[0] in unread] == [
        f"{name} is required (see the role's README)" for name in unread
    ]
    assert not any(name in error for error in destroy_errors for name in unread)
    # Everything else main declares, the teardown declares alike.
    assert set(SPEC["main"]) <= set(SPEC["destroy"])
    assert all(SPEC["destroy"][name] == SPEC["main"][name] for name in SPEC["main"] if name not in unread)
