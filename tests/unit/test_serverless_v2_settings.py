"""Aurora Serverless v2 settings, typed once at the boundary and judged by the rules AWS applies.

The role's variables reach the rules as -e name=value text, YAML values or -e JSON; each form is typed by
role_settings exactly as the aurora_settings action does, then judged by stack_errors: every guard gives the same
message in every form, naming the variable, the value and the rule.
"""

from __future__ import annotations

import json

import pytest
import yaml
from test_validation import VALID

from ansible_collections.vitality.aurora.plugins.module_utils import validation as v
from ansible_collections.vitality.aurora.plugins.plugin_utils import role_settings as rs

SPEC = rs.load_role_spec()["main"]
MIN, MAX = "aurora_cluster_serverless_v2_min_capacity", "aurora_cluster_serverless_v2_max_capacity"
PAUSE = "aurora_cluster_serverless_v2_seconds_until_auto_pause"
CLASS, READER_CLASS = "aurora_cluster_instance_class", "aurora_cluster_reader_instance_class"
SERVERLESS = "db.serverless"


# --- typed at the boundary -------------------------------------------------------------------------------------


def forms(variables):
    """The same variables as each input form gives them to the role: (form, raw values)."""
    key_value = {name: value if isinstance(value, str) else json.dumps(value) for name, value in variables.items()}
    yaml_text = "\n".join(f"{name}: {json.dumps(value)}" for name, value in variables.items())
    return [
        ("yaml", yaml.safe_load(yaml_text)),
        ("yaml-string", {name: str(value) for name, value in variables.items()}),
        ("key=value", key_value),
        ("json", json.loads(json.dumps(variables))),
    ]


def typed_errors(raw):
    """What aurora_settings does with raw values: type them as declared, then judge them."""
    typed, errors = rs.convert_all(raw, {name: SPEC[name] for name in raw})
    assert errors == [], errors
    return v.stack_errors(dict(VALID, **typed))


@pytest.mark.parametrize("given", [0.5, "0.5", " 0.5 ", "0.50", json.loads("0.5")])
def test_a_capacity_is_the_same_number_in_every_form(given):
    assert rs.convert(MIN, given, SPEC[MIN]) == 0.5


@pytest.mark.parametrize("given", [4, "4", 4.0, "4.0"])
def test_a_whole_capacity_is_a_float(given):
    converted = rs.convert(MAX, given, SPEC[MAX])
    assert converted == 4.0 and isinstance(converted, float)


@pytest.mark.parametrize("name", [MIN, MAX, PAUSE])
@pytest.mark.parametrize("given", [None, "", "  "])
def test_an_empty_optional_number_is_unset(name, given):
    assert rs.convert(name, given, SPEC[name]) is None


def test_an_empty_number_that_is_not_optional_is_still_refused():
    spec = SPEC["aurora_cluster_wait_max_poll_interval"]
    with pytest.raises(rs.ConversionError, match="is not a number"):
        rs.convert("aurora_cluster_wait_max_poll_interval", "", spec)


@pytest.mark.parametrize("given", ["nan", "inf", "-Infinity", float("nan")])
def test_a_number_that_is_not_finite_is_refused_naming_the_variable(given):
    with pytest.raises(rs.ConversionError, match=f"{MAX}=.* is not a finite number"):
        rs.convert(MAX, given, SPEC[MAX])


@pytest.mark.parametrize("given", ["half", True, [0.5], "0,5"])
def test_text_that_is_not_a_number_is_refused(given):
    with pytest.raises(rs.ConversionError, match=MIN):
        rs.convert(MIN, given, SPEC[MIN])


@pytest.mark.parametrize("given", ["300", 300, 300.0])
def test_the_pause_delay_is_an_integer(given):
    assert rs.convert(PAUSE, given, SPEC[PAUSE]) == 300


# guard: (variables that trip it, as a user writes them; the message, which names variable, value and rule)
GUARDS = {
    "serverless-without-range": (
        {CLASS: SERVERLESS},
        f"{CLASS}='db.serverless' needs the cluster's Serverless v2 capacity range: set {MIN} and {MAX}",
    ),
    "reader-serverless-without-range": (
        {READER_CLASS: SERVERLESS},
        f"{READER_CLASS}='db.serverless' needs the cluster's Serverless v2 capacity range",
    ),
    "minimum-without-maximum": ({MIN: 0.5}, f"{MAX} is empty while {MIN}=0.5: a Serverless v2 capacity range takes"),
    "maximum-without-minimum": ({MAX: 8}, f"{MIN} is empty while {MAX}=8"),
    "half-steps": ({MIN: 0.25, MAX: 4}, f"{MIN}=0.25 is invalid: Aurora Serverless v2 capacity is set in steps of 0.5"),
    "minimum-above-maximum": ({MIN: 8, MAX: 4}, f"{MIN}=8 is above {MAX}=4: the minimum capacity must not exceed"),
    "maximum-over-256": ({MIN: 1, MAX: 512}, f"{MAX}=512 is out of range: 1 to 256 ACU"),
    "maximum-under-1": ({MIN: 0, MAX: 0.5}, f"{MAX}=0.5 is out of range: 1 to 256 ACU"),
    "negative-minimum": ({MIN: -1, MAX: 4}, f"{MIN}=-1 is out of range: the minimum capacity is 0 ACU or more"),
    "pause-before-16.3": (
        {MIN: 0, MAX: 4, "aurora_cluster_engine_version": "16.2"},
        f"{MIN}=0 needs automatic pause, which Aurora PostgreSQL 16 offers from 16.3 on",
    ),
    "pause-delay-without-minimum-0": (
        {MIN: 0.5, MAX: 4, PAUSE: 600},
        f"{PAUSE}=600 is set while {MIN}=0.5: instances pause only with a minimum of 0 ACU",
    ),
    "pause-delay-without-range": ({PAUSE: 600}, f"{PAUSE}=600 is set without a Serverless v2 capacity range"),
    "pause-delay-too-short": ({MIN: 0, MAX: 4, PAUSE: 60}, f"{PAUSE}=60 is out of range: 300 to 86400 seconds"),
    "pause-delay-too-long": ({MIN: 0, MAX: 4, PAUSE: 86401}, f"{PAUSE}=86401 is out of range: 300 to 86400"),
    "reader-class-unknown": ({READER_CLASS: "db.r6g.huge"}, f"{READER_CLASS}='db.r6g.huge' is not a DB instance class"),
}


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
@pytest.mark.parametrize("guard", sorted(GUARDS))
def test_each_guard_holds_in_every_input_form(guard, form):
    variables, message = GUARDS[guard]
    raw = dict(forms(variables))[form]
    errors = typed_errors(raw)
    assert len(errors) == 1, errors
    assert message in errors[0], errors


VALID_RANGES = [
    {CLASS: SERVERLESS, MIN: 0.5, MAX: 4},
    {CLASS: SERVERLESS, MIN: 0, MAX: 4},
    {CLASS: SERVERLESS, MIN: 0, MAX: 4, PAUSE: 3600, "aurora_cluster_engine_version": "16.3"},
    {
        CLASS: SERVERLESS,
        MIN: 0,
        MAX: 1,
        PAUSE: 300,
        "aurora_cluster_engine_version": "17.4",
        "aurora_cluster_parameter_group_family": "aurora-postgresql17",
    },
    {CLASS: SERVERLESS, MIN: 0.5, MAX: 256},
    {READER_CLASS: SERVERLESS, MIN: 1.5, MAX: 128.5},
    {MIN: 2, MAX: 2},  # a range for serverless instances to come: nothing needs it, nothing refuses it
    {READER_CLASS: "db.r6g.xlarge"},
]


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
@pytest.mark.parametrize("variables", VALID_RANGES, ids=str)
def test_valid_ranges_pass_in_every_form(variables, form):
    assert typed_errors(dict(forms(variables))[form]) == []


@pytest.mark.parametrize("version", ["16.3", "16.10", "16", "17", "17.4", "15.7", "14.12", "13.15"])
def test_automatic_pause_versions(version):
    assert v.auto_pause_supported(version)


@pytest.mark.parametrize("version", ["16.2", "16.1", "15.6", "14.11", "13.14"])
def test_versions_without_automatic_pause(version):
    assert not v.auto_pause_supported(version)


def test_the_unset_range_is_typed_none_and_passes():
    assert v.stack_errors(dict(VALID, **{MIN: None, MAX: None, PAUSE: None})) == []


@pytest.mark.parametrize("key", [MIN, MAX])
def test_a_capacity_of_another_type_is_a_type_error(key):
    with pytest.raises(TypeError, match=f"{key} is str"):
        v.stack_errors(dict(VALID, **{key: "4"}))
