import pytest

from ansible_collections.vitality.aurora.plugins.module_utils.naming import (
    engine_major,
    identifier_error,
    version_tuple,
)


@pytest.mark.parametrize("value", ["a", "vitality-dev-aurora", "A1-b2", "x" * 63])
def test_valid_cluster_identifiers(value):
    assert identifier_error("db_cluster_identifier", value, "cluster") is None


@pytest.mark.parametrize(
    "value",
    ["", "1abc", "-abc", "abc-", "ab--c", "ab_c", "ab.c", "x" * 64, "ab c"],
)
def test_invalid_cluster_identifiers_name_option_value_and_rule(value):
    message = identifier_error("db_cluster_identifier", value, "cluster")
    assert message.startswith(f"db_cluster_identifier={value!r} is invalid")
    assert "starts with a letter" in message and "1 to 63" in message


def test_parameter_groups_allow_longer_names():
    assert identifier_error("name", "p" * 255, "parameter group") is None
    assert identifier_error("name", "p" * 256, "parameter group") is not None


def test_versions():
    assert engine_major("16.4") == "16"
    assert engine_major("16") == "16"
    assert version_tuple("16.10") > version_tuple("16.9")
    assert version_tuple("16.4.limitless") == (16, 4, 0)
