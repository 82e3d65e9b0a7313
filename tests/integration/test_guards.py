"""Every safety guard holds whatever form its value takes: a YAML boolean, a YAML string, `-e name=value`
(always a string) or `-e` JSON. Each refusal names the variable and the rule, and makes no mutating AWS call;
each override lifts exactly its own guard, and an override given as "false" in any form lifts nothing.

The YAML forms run as one playbook over one host per case (host variables in a generated inventory), the `-e`
forms as one run each (extra vars apply to every host). Lifted guards run in check mode: they must pass the
checks and still change nothing; a guard lifted with `-e` is planned into the stack's creation (the plan's lines show
the lifted setting where a create step shows it: the TLS parameter, the public ingress rule).
"""

from __future__ import annotations

import json

import pytest

from local_aws import RecordedAws, dev_hosts_inventory, host_failures, printed_plan

PUBLIC_RULE = [{"proto": "tcp", "ports": [5432], "cidr_ip": "0.0.0.0/1"}]

# guard: (variables that trip it, as typed values; text the refusal contains; override variable or None)
GUARDS = {
    "encryption": (
        {"aurora_cluster_storage_encrypted": False},
        "aurora_cluster_storage_encrypted=false would store data unencrypted",
        "aurora_cluster_allow_unencrypted_storage",
    ),
    "tls": (
        {"aurora_cluster_parameters": {"rds.force_ssl": 0}},
        "set aurora_cluster_allow_plaintext_transport=true",
        "aurora_cluster_allow_plaintext_transport",
    ),
    "prod-deletion-protection": (
        {"aurora_cluster_environment": "prod", "aurora_cluster_deletion_protection": False},
        "aurora_cluster_deletion_protection=false in prod",
        "aurora_cluster_allow_prod_without_deletion_protection",
    ),
    "public-ingress": (
        {"aurora_cluster_db_security_group_extra_ingress": PUBLIC_RULE},
        "aurora_cluster_db_security_group_extra_ingress[0].cidr_ip='0.0.0.0/1'",
        "aurora_cluster_allow_public_ingress",
    ),
    "managed-password": (
        {"aurora_cluster_manage_master_user_password": False},
        "aurora_cluster_master_user_password is empty while aurora_cluster_manage_master_user_password=false",
        None,
    ),
    # Alarms that would page no one: dev has no events topic.
    "alarms-without-topic": (
        {"aurora_cluster_alarms_enabled": True},
        "aurora_cluster_alarms_enabled=true needs an SNS topic to notify, and there is none",
        None,
    ),
    "alarm-threshold": (
        {"aurora_cluster_alarm_cpu_percent": 150},
        "aurora_cluster_alarm_cpu_percent=150.0 is out of range: above 0 up to 100 (percent)",
        None,
    ),
    # Beyond Aurora's 15 readers.
    "autoscaling-range": (
        {"aurora_cluster_autoscaling_enabled": True, "aurora_cluster_autoscaling_max_readers": 16},
        "aurora_cluster_autoscaling_max_readers=16 is out of range: above aurora_cluster_reader_count=",
        None,
    ),
    # A major upgrade's strategy and its blue/green settings.
    "major-upgrade-strategy": (
        {"aurora_cluster_major_upgrade_strategy": "rolling"},
        "aurora_cluster_major_upgrade_strategy='rolling' is not one of in-place, blue-green",
        None,
    ),
    # How a change that restarts the instances is made.
    "instance-change-strategy": (
        {"aurora_cluster_instance_change_strategy": "blue-green"},
        "aurora_cluster_instance_change_strategy='blue-green' is not one of rolling, surge",
        None,
    ),
    "switchover-timeout": (
        {"aurora_cluster_blue_green_switchover_timeout": 29},
        "aurora_cluster_blue_green_switchover_timeout=29 is out of range: at least 30 seconds",
        None,
    ),
    "retention-hours": (
        {"aurora_cluster_blue_green_retention_hours": -1},
        "aurora_cluster_blue_green_retention_hours=-1 is out of range: at least 0 hours",
        None,
    ),
    # The Aurora Global Database's secondary: another Region, with its network named.
    "secondary-own-region": (
        {
            "aurora_cluster_secondary_region": "us-east-1",
            "aurora_cluster_secondary_vpc_name": "vitality-dev-app-vpc",
            "aurora_cluster_secondary_private_subnet_names": ["a", "b"],
            "aurora_cluster_secondary_app_security_group_name": "vitality-dev-app-sg",
        },
        "aurora_cluster_secondary_region='us-east-1' is the stack's own Region (aurora_cluster_aws_region)",
        None,
    ),
    "secondary-network": (
        {"aurora_cluster_secondary_region": "us-west-2", "aurora_cluster_secondary_reader_count": 1},
        "aurora_cluster_secondary_vpc_name is empty: aurora_cluster_secondary_region='us-west-2' needs the secondary's",
        None,
    ),
    "switchover-and-rollback": (
        {"aurora_cluster_blue_green_switchover": True, "aurora_cluster_blue_green_rollback": True},
        "aurora_cluster_blue_green_switchover=true and aurora_cluster_blue_green_rollback=true: one or the other",
        None,
    ),
}


# What a lifted guard's setting looks like in the plan's lines, where a create step shows it.
LIFTED_IN_PLAN = {
    "encryption": ["storage_encrypted (none) -> false"],
    "prod-deletion-protection": ["deletion_protection (none) -> false"],
    "tls": ["3. parameter group vitality-dev-aurora-pg16: create (parameters.rds.force_ssl (none) -> 0) [online]"],
    "public-ingress": ["1. security group vitality-dev-db: create (ingress (none) -> [tcp 5432 cidr 0.0.0.0/1, "],
}


def yaml_string(value):
    """The value as a YAML user would quote it: booleans and numbers as strings."""
    if isinstance(value, bool):
        return "false" if not value else "yes"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {key: yaml_string(item) for key, item in value.items()}
    return value


def key_value(value):
    """The text after `name=` on an `-e name=value` command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as aws:
        aws.reset_and_seed()
        yield aws


def mutating(aws):
    reads = ("Describe", "List", "Get")
    return [action for action, unused in aws.calls() if not action.startswith(reads)]


def run(aws, inventory, extra_vars=None, check=False):
    aws.record_from_now()
    result = aws.run_playbook("playbooks/provision.yml", inventory, extra_vars=extra_vars, check=check)
    return result, mutating(aws)


def test_yaml_forms_trip_every_guard_and_only_a_true_override_lifts_it(recorded, tmp_path):
    cases, expected = {}, {}
    for guard, (variables, message, override) in GUARDS.items():
        cases[f"{guard}-yaml-typed"] = variables
        cases[f"{guard}-yaml-string"] = {k: yaml_string(v) for k, v in variables.items()}
        expected[f"{guard}-yaml-typed"] = expected[f"{guard}-yaml-string"] = message
        if override:
            for form, no in (("typed", False), ("string", "false"), ("word", "No")):
                cases[f"{guard}-override-{form}-false"] = dict(variables, **{override: no})
                expected[f"{guard}-override-{form}-false"] = message
    result, calls = run(recorded, dev_hosts_inventory(tmp_path, cases))
    failures = host_failures(result.stdout)
    assert calls == [], calls
    for host, message in expected.items():
        assert host in failures, f"{host} was not refused\n{result.stdout[-3000:]}"
        assert message in failures[host], failures[host]
        assert "Type and check every setting" in result.stdout


def test_yaml_forms_of_a_true_override_lift_only_their_guard(recorded, tmp_path):
    cases = {}
    for guard, (variables, _message, override) in GUARDS.items():
        if override:
            cases[f"{guard}-override-typed"] = dict(variables, **{override: True})
            cases[f"{guard}-override-string"] = dict(variables, **{override: "yes"})
    cases["managed-password-on-as-string"] = {"aurora_cluster_manage_master_user_password": "True"}
    result, calls = run(recorded, dev_hosts_inventory(tmp_path, cases), check=True)
    assert calls == [], calls
    # Each lifted guard passed the checks; whatever else fails later (one stack name for many hosts in check
    # mode), it is not the settings check.
    failures = host_failures(result.stdout)
    for host in cases:
        assert "Invalid settings" not in failures.get(host, ""), failures[host]


def extra_vars(form, variables):
    if form == "json":
        return json.dumps({k: yaml_string(v) for k, v in variables.items()})
    return " ".join(f"{k}='{key_value(v)}'" for k, v in variables.items())


@pytest.mark.parametrize("form", ["key=value", "json"])
@pytest.mark.parametrize("guard", sorted(GUARDS))
def test_extra_vars_forms_trip_every_guard_and_a_false_override_lifts_nothing(recorded, guard, form):
    variables, message, override = GUARDS[guard]
    attempts = [variables] + ([dict(variables, **{override: False})] if override else [])
    for attempt in attempts:
        result, calls = run(recorded, "inventories/dev", extra_vars=extra_vars(form, attempt))
        assert result.returncode != 0
        assert message in result.stdout, result.stdout[-3000:]
        assert calls == [], calls


@pytest.mark.parametrize("form", ["key=value", "json"])
@pytest.mark.parametrize("guard", sorted(g for g in GUARDS if GUARDS[g][2]))
def test_extra_vars_forms_of_a_true_override_lift_the_guard(recorded, guard, form):
    variables, _message, override = GUARDS[guard]
    result, calls = run(
        recorded, "inventories/dev", extra_vars=extra_vars(form, dict(variables, **{override: True})), check=True
    )
    assert "Invalid settings" not in result.stdout, result.stdout[-3000:]
    # Past the checks, the one planner planned the whole stack's creation with the lifted setting, and changed
    # nothing.
    assert result.returncode == 0, result.stdout[-3000:]
    plan = printed_plan(result.stdout)
    assert plan[0] == "Plan (check mode: nothing was changed)", plan
    assert any(line.startswith("4. cluster vitality-dev-aurora: create (") for line in plan), plan
    for shown in LIFTED_IN_PLAN.get(guard, ()):
        assert any(shown in line for line in plan), (shown, plan)
    assert calls == [], calls
