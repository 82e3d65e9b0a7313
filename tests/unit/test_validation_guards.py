"""stack_errors judges typed values only, and each safety guard holds on them.

The types it expects are the ones roles/aurora_cluster/meta/argument_specs.yml declares; a string where a bool
belongs ("false", "true", "0") is the caller's mistake and raises TypeError instead of being read for its truth.
Each guard fires on its typed bad value and is lifted by exactly its own override.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml
from test_validation import VALID

from ansible_collections.vitality.aurora.plugins.module_utils import validation as v
from ansible_collections.vitality.aurora.plugins.plugin_utils.role_settings import ConversionError, convert

ARGUMENT_SPECS = Path(__file__).resolve().parents[2] / "roles/aurora_cluster/meta/argument_specs.yml"
SPEC = yaml.safe_load(ARGUMENT_SPECS.read_text())["argument_specs"]["main"]["options"]
# Read by stack_errors, declared by the role in a change of its own (then this set may lose them).
NOT_YET_DECLARED = {"aurora_cluster_allow_public_ingress"}


def spec_type(option):
    declared = option["type"]
    return f"{declared}[{option['elements']}]" if declared == "list" else declared


def errors_with(**changes):
    return v.stack_errors(dict(VALID, **changes))


# --- The declared types --------------------------------------------------------------------------------------


def test_every_variable_read_is_declared_with_the_same_type():
    undeclared = set(v.SETTING_TYPES) - set(SPEC)
    assert undeclared <= NOT_YET_DECLARED, f"not in argument_specs.yml: {sorted(undeclared)}"
    mismatched = {
        key: (declared, spec_type(SPEC[key]))
        for key, declared in v.SETTING_TYPES.items()
        if key in SPEC and declared != spec_type(SPEC[key])
    }
    assert mismatched == {}, "SETTING_TYPES (validation.py) vs argument_specs.yml"


def test_the_defaults_assumed_are_the_declared_defaults():
    for key, default in v.SETTING_DEFAULTS.items():
        option = SPEC.get(key)
        if option is None or option.get("required") or "{{" in str(option.get("default")):
            continue
        assert default == option["default"], key
        assert v.SETTING_TYPES[key]  # every defaulted variable is type-checked too


def test_the_valid_settings_of_the_tests_are_typed_as_declared():
    assert set(VALID) <= set(v.SETTING_TYPES)
    assert v.setting_type_errors(VALID) == []


BOOL_SETTINGS = sorted(key for key, declared in v.SETTING_TYPES.items() if declared == "bool")
GUARD_SETTINGS = [
    "aurora_cluster_storage_encrypted",
    "aurora_cluster_allow_unencrypted_storage",
    "aurora_cluster_allow_plaintext_transport",
    "aurora_cluster_deletion_protection",
    "aurora_cluster_allow_prod_without_deletion_protection",
    "aurora_cluster_allow_public_ingress",
    "aurora_cluster_manage_master_user_password",
]


def test_every_guard_variable_is_a_declared_bool():
    assert set(GUARD_SETTINGS) <= set(BOOL_SETTINGS)


@pytest.mark.parametrize("text", ["false", "true", "0"])
@pytest.mark.parametrize("key", BOOL_SETTINGS)
def test_a_bool_given_as_text_is_a_type_error_naming_the_variable(key, text):
    with pytest.raises(TypeError, match=f"{key} is str '{text}'.*declares it bool"):
        errors_with(**{key: text})


@pytest.mark.parametrize("value", [0, 1])
@pytest.mark.parametrize("key", BOOL_SETTINGS)
def test_a_bool_given_as_a_number_is_a_type_error(key, value):
    with pytest.raises(TypeError, match=key):
        errors_with(**{key: value})


# One wrong value per declared type; bool is not an int, although isinstance(True, int) is true in Python.
WRONG = {
    "str": [1, True, ["x"]],
    "int": ["0", True, 1.5],
    "float": ["20", True],
    "bool": ["false", 0, []],
    "dict": ["{}", [("a", 1)]],
    "list[str]": ["a,b", [1], [True]],
    "list[dict]": ["[]", ["cidr_ip: 10.0.0.0/8"]],
}


@pytest.mark.parametrize(
    "key, value",
    [(key, value) for key, declared in sorted(v.SETTING_TYPES.items()) for value in WRONG[declared]],
    ids=str,
)
def test_every_variable_of_another_type_is_a_type_error(key, value):
    with pytest.raises(TypeError, match=rf"{key}(\[\d+\])? is "):
        errors_with(**{key: value})


def test_a_float_variable_takes_an_int():
    assert errors_with(aurora_cluster_wait_max_poll_interval=20) == []


def test_the_type_error_never_quotes_the_password():
    with pytest.raises(TypeError) as error:
        errors_with(aurora_cluster_master_user_password=12345678)
    assert "12345678" not in str(error.value) and "value hidden" in str(error.value)


@pytest.mark.parametrize("key", ["aurora_cluster_storage_encrypted", "aurora_cluster_reader_count"])
def test_a_null_bool_or_int_is_refused_as_the_users_mistake(key):
    errors = errors_with(**{key: None})
    assert errors == [
        f"{key} is null (a YAML key with no value): give a {v.SETTING_TYPES[key]} or leave the variable out"
    ]


def test_a_null_list_item_is_refused():
    assert errors_with(aurora_cluster_private_subnet_names=["a", None]) == [
        "aurora_cluster_private_subnet_names[1] is null (a YAML list item with no value): give a str"
    ]


def test_variables_left_out_take_their_defaults():
    minimal = {key: value for key, value in VALID.items() if key not in v.SETTING_DEFAULTS}
    assert v.stack_errors(minimal) == []


# --- The safety guards ---------------------------------------------------------------------------------------

PUBLIC_RULE = [{"proto": "tcp", "ports": [5432], "cidr_ip": "0.0.0.0/1"}]

# guard: (typed values that trip it, texts its refusal contains, its override or None)
GUARDS = {
    "encryption": (
        {"aurora_cluster_storage_encrypted": False},
        ["aurora_cluster_storage_encrypted=false would store data unencrypted"],
        "aurora_cluster_allow_unencrypted_storage",
    ),
    "tls": (
        {"aurora_cluster_parameters": {"rds.force_ssl": 0}},
        ["rds.force_ssl=0", "set aurora_cluster_allow_plaintext_transport=true"],
        "aurora_cluster_allow_plaintext_transport",
    ),
    "prod-deletion-protection": (
        {"aurora_cluster_environment": "prod", "aurora_cluster_deletion_protection": False},
        ["aurora_cluster_deletion_protection=false in prod", "aurora_cluster_allow_prod_without_deletion_protection"],
        "aurora_cluster_allow_prod_without_deletion_protection",
    ),
    "public-ingress": (
        {"aurora_cluster_db_security_group_extra_ingress": PUBLIC_RULE},
        [
            "aurora_cluster_db_security_group_extra_ingress[0].cidr_ip='0.0.0.0/1' is refused",
            "set aurora_cluster_allow_public_ingress=true",
        ],
        "aurora_cluster_allow_public_ingress",
    ),
    "managed-password": (
        {"aurora_cluster_manage_master_user_password": False},
        ["aurora_cluster_master_user_password is empty while aurora_cluster_manage_master_user_password=false"],
        None,
    ),
}
OVERRIDES = sorted(guard[2] for guard in GUARDS.values() if guard[2])


@pytest.mark.parametrize("guard", sorted(GUARDS))
def test_each_guard_fires_on_its_typed_bad_value(guard):
    trip, texts, _override = GUARDS[guard]
    errors = errors_with(**trip)
    assert len(errors) == 1, errors
    for text in texts:
        assert text in errors[0]


@pytest.mark.parametrize("override", OVERRIDES)
@pytest.mark.parametrize("guard", sorted(GUARDS))
def test_each_override_lifts_exactly_its_own_guard(guard, override):
    trip, texts, own = GUARDS[guard]
    errors = errors_with(**trip, **{override: True})
    if override == own:
        assert errors == []
    else:
        assert len(errors) == 1 and texts[0] in errors[0], errors


@pytest.mark.parametrize("guard", sorted(GUARDS))
def test_a_false_override_lifts_nothing(guard):
    trip, texts, _own = GUARDS[guard]
    assert texts[0] in errors_with(**trip, **dict.fromkeys(OVERRIDES, False))[0]


def test_the_managed_password_guard_is_lifted_by_a_password_only():
    assert (
        errors_with(
            aurora_cluster_manage_master_user_password=False, aurora_cluster_master_user_password="Good-Passw0rd"
        )
        == []
    )


@pytest.mark.parametrize("on", [1, "1", True, "on", "ON", "true", "True", " 1 "])
def test_force_ssl_is_read_for_its_meaning_when_on(on):
    assert errors_with(aurora_cluster_parameters={"rds.force_ssl": on}) == []


@pytest.mark.parametrize("off", [0, "0", False, "off", "false", "no", "", 2])
def test_force_ssl_is_read_for_its_meaning_when_off(off):
    errors = errors_with(aurora_cluster_parameters={"rds.force_ssl": off})
    assert len(errors) == 1 and "aurora_cluster_allow_plaintext_transport" in errors[0], errors


def test_force_ssl_missing_from_both_parameter_dicts_is_off():
    errors = errors_with(aurora_cluster_default_parameters={}, aurora_cluster_parameters={})
    assert len(errors) == 1 and "rds.force_ssl=None" in errors[0]


# --- Public ingress, read as networks ------------------------------------------------------------------------

OPTION = "aurora_cluster_db_security_group_extra_ingress"


def ingress(key, value):
    return {OPTION: [{"proto": "tcp", "ports": [5432], key: value}]}


@pytest.mark.parametrize(
    "key, cidr",
    [
        ("cidr_ip", "0.0.0.0/0"),
        ("cidr_ip", "0.0.0.1/0"),
        ("cidr_ip", "0.0.0.0/1"),
        ("cidr_ip", "128.0.0.0/1"),
        ("cidr_ip", "8.8.8.8/32"),
        ("cidr_ip", "10.0.0.0/7"),  # 10/8 and 11/8
        ("cidr_ip", "172.16.0.0/11"),
        ("cidr_ip", "100.64.0.0/9"),
        ("cidr_ip", "169.254.0.0/16"),
        ("cidr_ipv6", "::/0"),
        ("cidr_ipv6", "::0/0"),
        ("cidr_ipv6", "2001:db8::/32"),
        ("cidr_ipv6", "fc00::/6"),
    ],
)
def test_a_network_reaching_outside_the_private_ranges_is_refused(key, cidr):
    errors = errors_with(**ingress(key, cidr))
    assert len(errors) == 1, errors
    message = errors[0]
    assert message.startswith(f"{OPTION}[0].{key}={cidr!r} is refused")
    assert "outside the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7)" in message
    assert "aurora_cluster_allow_public_ingress=true" in message
    assert errors_with(**ingress(key, cidr), aurora_cluster_allow_public_ingress=True) == []


@pytest.mark.parametrize(
    "key, cidr",
    [
        ("cidr_ip", "10.0.0.0/8"),
        ("cidr_ip", "10.1.2.3/32"),
        ("cidr_ip", "10.1.2.3/8"),
        ("cidr_ip", "172.16.0.0/12"),
        ("cidr_ip", "172.31.255.0/24"),
        ("cidr_ip", "192.168.0.0/16"),
        ("cidr_ip", "100.64.0.0/10"),
        ("cidr_ipv6", "fd00::/8"),
        ("cidr_ipv6", "fc00::/7"),
        ("cidr_ip", ""),
        ("cidr_ip", []),
    ],
)
def test_a_private_network_passes(key, cidr):
    assert errors_with(**ingress(key, cidr)) == []


def test_every_cidr_of_a_list_is_read_and_named_by_its_position():
    errors = errors_with(**ingress("cidr_ip", ["10.0.0.0/8", "8.8.8.8/32"]))
    assert len(errors) == 1 and errors[0].startswith(f"{OPTION}[0].cidr_ip[1]='8.8.8.8/32' is refused"), errors


def test_every_rule_is_read_and_named_by_its_index():
    rules = [{"cidr_ip": "10.0.0.0/8"}, {"group_name": "bastion"}, {"cidr_ipv6": "::/0"}]
    errors = errors_with(**{OPTION: rules})
    assert len(errors) == 1 and errors[0].startswith(f"{OPTION}[2].cidr_ipv6='::/0' is refused"), errors


@pytest.mark.parametrize(
    "key, cidr, rule",
    [
        ("cidr_ip", "10.0.0.0", "is malformed: a CIDR is an IPv4 address, '/' and a prefix length"),
        ("cidr_ip", "10.0.0.0/33", "is malformed"),
        ("cidr_ip", "10.0.0.0/255.0.0.0", "is malformed"),
        ("cidr_ip", "banana", "is malformed"),
        ("cidr_ip", "10.0.0.256/32", "is malformed"),
        ("cidr_ip", 42, "is malformed"),
        ("cidr_ipv6", "fd00::/129", "is malformed: a CIDR is an IPv6 address"),
        ("cidr_ip", "fd00::/8", "is an IPv6 CIDR: cidr_ip takes IPv4 CIDRs"),
        ("cidr_ipv6", "10.0.0.0/8", "is an IPv4 CIDR"),
    ],
)
def test_a_malformed_cidr_is_refused_even_with_the_override(key, cidr, rule):
    for allowed in (False, True):
        errors = errors_with(**ingress(key, cidr), aurora_cluster_allow_public_ingress=allowed)
        assert len(errors) == 1 and errors[0].startswith(f"{OPTION}[0].{key}={cidr!r} {rule}"), errors


@pytest.mark.parametrize(
    "value, canonical",
    [
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        (" 192.168.1.7/24 ", "192.168.1.0/24"),
        ("0.0.0.1/0", "0.0.0.0/0"),
        ("::0/0", "::/0"),
        ("FD00:0:0::1/8", "fd00::/8"),
        ("10.1.2.3", "10.1.2.3/32"),
    ],
)
def test_normalise_cidr_gives_the_canonical_text(value, canonical):
    assert v.normalise_cidr(value) == canonical


@pytest.mark.parametrize("value", ["banana", "10.0.0.0/33", "", None, 10])
def test_normalise_cidr_refuses_what_is_not_a_network(value):
    with pytest.raises(ValueError):
        v.normalise_cidr(value)


def test_the_private_ranges_are_the_documented_ones():
    assert [str(network) for network in v.PRIVATE_NETWORKS] == [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
    ]
    assert v.is_private_network(ipaddress.ip_network("10.0.0.0/8"))
    assert not v.is_private_network(ipaddress.ip_network("10.0.0.0/7"))


@pytest.mark.parametrize("key", ["alias/aws/sns", "arn:aws:kms:us-east-1:123456789012:alias/aws/sns", "alias/aws/rds"])
def test_the_events_topic_refuses_every_aws_managed_key(key):
    errors = v.stack_errors(dict(VALID, aurora_cluster_event_topic_kms_key_id=key))
    assert any(e.startswith(f"aurora_cluster_event_topic_kms_key_id={key!r} is refused") for e in errors), errors


def test_the_events_topic_accepts_a_customer_managed_key_or_none():
    for key in ("", "alias/vitality-prod-db-events", "1234abcd-12ab-34cd-56ef-1234567890ab"):
        errors = v.stack_errors(dict(VALID, aurora_cluster_event_topic_kms_key_id=key))
        assert not [e for e in errors if "event_topic_kms_key_id" in e], errors


# --- The alarms' guards, after the role's typing of each input form -------------------------------------------
# A YAML boolean or number, a YAML string, `-e name=value` (always text) and `-e` JSON: each typed by role_settings
# (as the aurora_settings action does), then judged.

NO_TOPIC = "aurora_cluster_alarms_enabled=true needs an SNS topic to notify, and there is none"


def typed(**raw):
    return {name: convert(name, value, SPEC[name]) for name, value in raw.items()}


@pytest.mark.parametrize("raw", [True, "true", "yes", "On", "1", 1])
def test_alarms_on_without_a_topic_are_refused_in_every_form(raw):
    errors = errors_with(**typed(aurora_cluster_alarms_enabled=raw))
    assert len(errors) == 1 and errors[0].startswith(NO_TOPIC), errors


@pytest.mark.parametrize("raw", [True, "true", "yes", "1"])
def test_alarms_on_with_the_roles_topic_or_one_given_pass_in_every_form(raw):
    assert errors_with(**typed(aurora_cluster_alarms_enabled=raw, aurora_cluster_event_notifications_enabled=raw)) == []
    given = typed(aurora_cluster_alarms_enabled=raw, aurora_cluster_event_topic_arn="arn:aws:sns:us-east-1:1:t")
    assert errors_with(**given) == []


@pytest.mark.parametrize("raw", [False, "false", "no", "Off", "0", 0])
def test_alarms_off_in_every_form_need_no_topic(raw):
    assert errors_with(**typed(aurora_cluster_alarms_enabled=raw)) == []


@pytest.mark.parametrize("raw", [150, "150", 150.0, "150.0", " 150 "])
def test_a_threshold_out_of_range_is_refused_in_every_form(raw):
    errors = errors_with(**typed(aurora_cluster_alarm_cpu_percent=raw))
    assert errors == ["aurora_cluster_alarm_cpu_percent=150.0 is out of range: above 0 up to 100 (percent)"]


@pytest.mark.parametrize("raw", [30, "30", 30.0])
def test_a_period_cloudwatch_would_get_no_data_for_is_refused_in_every_form(raw):
    errors = errors_with(**typed(aurora_cluster_alarm_period_seconds=raw))
    assert len(errors) == 1 and errors[0].startswith("aurora_cluster_alarm_period_seconds=30 is invalid"), errors


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("aurora_cluster_alarm_cpu_percent", "lots"),
        ("aurora_cluster_alarm_cpu_percent", True),
        ("aurora_cluster_alarm_cpu_percent", [80]),
        ("aurora_cluster_alarm_period_seconds", "60s"),
        ("aurora_cluster_alarm_period_seconds", 60.5),
        ("aurora_cluster_alarms_enabled", "maybe"),
    ],
)
def test_an_alarm_setting_of_no_use_is_refused_naming_the_variable(name, raw):
    with pytest.raises(ConversionError, match=f"^{name}="):
        convert(name, raw, SPEC[name])


# --- Reader autoscaling's guards, after the role's typing of each input form --------------------------------------


@pytest.mark.parametrize("raw", [16, "16", " 16 ", 16.0])
def test_a_maximum_beyond_auroras_fifteen_readers_is_refused_in_every_form(raw):
    given = typed(
        aurora_cluster_autoscaling_enabled="true",
        aurora_cluster_autoscaling_max_readers=raw,
        aurora_cluster_reader_count="1",
    )
    assert errors_with(**given) == [
        "aurora_cluster_autoscaling_max_readers=16 is out of range: above aurora_cluster_reader_count=1 (the "
        "autoscaler's minimum, which it never goes below; a maximum no higher could never add a reader) and at most "
        "15 (Aurora's limit of readers in a cluster)"
    ]


@pytest.mark.parametrize("raw", [1, "1", "0", 0])
def test_a_maximum_not_above_the_reader_count_is_refused_in_every_form(raw):
    given = typed(
        aurora_cluster_autoscaling_enabled=True,
        aurora_cluster_autoscaling_max_readers=raw,
        aurora_cluster_reader_count=1,
    )
    errors = errors_with(**given)
    assert len(errors) == 1 and errors[0].startswith("aurora_cluster_autoscaling_max_readers="), errors
    assert "above aurora_cluster_reader_count=1" in errors[0]


@pytest.mark.parametrize("raw", [1, "1", 15, "15"])
def test_the_range_is_not_checked_with_autoscaling_off(raw):
    given = typed(
        aurora_cluster_autoscaling_enabled="false",
        aurora_cluster_autoscaling_max_readers=raw,
        aurora_cluster_reader_count=1,
    )
    assert errors_with(**given) == []


@pytest.mark.parametrize("raw", [2, "2", 15, "15"])
def test_a_maximum_above_the_reader_count_passes_in_every_form(raw):
    given = typed(
        aurora_cluster_autoscaling_enabled="yes",
        aurora_cluster_autoscaling_max_readers=raw,
        aurora_cluster_reader_count=1,
    )
    assert errors_with(**given) == []


def test_with_no_fixed_reader_the_autoscaler_may_start_from_none():
    given = typed(
        aurora_cluster_autoscaling_enabled=True, aurora_cluster_autoscaling_max_readers=1, aurora_cluster_reader_count=0
    )
    assert errors_with(**given) == []


@pytest.mark.parametrize("raw", [0, "0", -5, "-5", 100.5, "100.5"])
def test_a_cpu_target_out_of_range_is_refused_in_every_form(raw):
    errors = errors_with(**typed(aurora_cluster_autoscaling_target_value=raw))
    assert len(errors) == 1, errors
    assert errors[0].startswith("aurora_cluster_autoscaling_target_value=")
    assert errors[0].endswith(
        "is out of range for RDSReaderAverageCPUUtilization: above 0 up to 100 (percent of the readers' CPU)"
    )


@pytest.mark.parametrize("raw", [500, "500", 500.0, "1e3"])
def test_a_connections_target_has_no_upper_bound_in_every_form(raw):
    given = typed(
        aurora_cluster_autoscaling_metric="RDSReaderAverageDatabaseConnections",
        aurora_cluster_autoscaling_target_value=raw,
    )
    assert errors_with(**given) == []


@pytest.mark.parametrize("raw", [-1, "-1", " -1 "])
@pytest.mark.parametrize(
    "name", ["aurora_cluster_autoscaling_scale_in_cooldown", "aurora_cluster_autoscaling_scale_out_cooldown"]
)
def test_a_negative_cooldown_is_refused_in_every_form(name, raw):
    assert errors_with(**typed(**{name: raw})) == [f"{name}=-1 is out of range: at least 0 seconds"]


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("aurora_cluster_autoscaling_metric", "CPUUtilization"),
        ("aurora_cluster_autoscaling_metric", "cpu"),
        ("aurora_cluster_autoscaling_readers_on_disable", "destroy"),
        ("aurora_cluster_autoscaling_readers_on_disable", True),
        ("aurora_cluster_autoscaling_max_readers", "five"),
        ("aurora_cluster_autoscaling_max_readers", 2.5),
        ("aurora_cluster_autoscaling_target_value", "high"),
        ("aurora_cluster_autoscaling_target_value", "nan"),
        ("aurora_cluster_autoscaling_scale_in_cooldown", "5m"),
        ("aurora_cluster_autoscaling_enabled", "sometimes"),
        ("aurora_cluster_autoscaling_disable_scale_in", "perhaps"),
    ],
)
def test_an_autoscaling_setting_of_no_use_is_refused_naming_the_variable(name, raw):
    with pytest.raises(ConversionError, match=f"^{name}="):
        convert(name, raw, SPEC[name])


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("aurora_cluster_autoscaling_metric", "cpu", "aurora_cluster_autoscaling_metric='cpu' is invalid"),
        (
            "aurora_cluster_autoscaling_readers_on_disable",
            "destroy",
            "aurora_cluster_autoscaling_readers_on_disable='destroy' is invalid",
        ),
    ],
)
def test_a_choice_given_to_the_checks_directly_is_refused_too(name, raw, words):
    errors = errors_with(**{name: raw})
    assert len(errors) == 1 and errors[0].startswith(words), errors
