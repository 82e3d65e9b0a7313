"""vitality.aurora.aurora_preflight against the local AWS, run as Ansible runs it (`ansible localhost -m`).

moto lists no engine version, no class orderable for Aurora PostgreSQL 16 and no default cluster parameter, so
here the shipped catalogue answers, and the module must say so in ``sources``. Settings the repository uses pass;
a version, a class, parameters, a log type and KMS keys AWS would refuse are all refused in one run, each error
naming the role's variable and the value. The KMS keys are real moto keys made with boto3: an enabled symmetric one
passes, a disabled one and a missing alias are refused. Only Describe calls reach RDS, in check mode or not.
What only real AWS answers (a version or class missing from a non-empty list, paginated parameter defaults,
pending deletion, asymmetric keys, AccessDenied) is tested with botocore's Stubber in tests/unit/test_preflight.py.
Through the role, on an existing dev stack, the one planner ("Plan and converge the stack") runs the same checks when a step
touches the parameter group, the cluster or an instance, or when a KMS alias it names does not exist, and refuses
before any change, all reasons in one message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.vitality.aurora.plugins.module_utils.catalog_data_aurora_postgresql import CATALOG
from local_aws import REGION, REPO_ROOT, RecordedAws

SHIPPED = f"catalog {CATALOG['generated']}"
PREFIX = "aurora_cluster_"
# The role's defaults and the dev inventory (roles/aurora_cluster/defaults/main.yml, inventories/dev), and the
# parameters the day-2 tests set.
GOOD = {
    "engine_version": "16.6",
    "parameter_group_family": "aurora-postgresql16",
    "instance_classes": ["db.r6g.large", "db.r6g.xlarge"],
    "parameters": {"rds.force_ssl": 1, "log_min_duration_statement": 2000, "work_mem": 65536},
    "cloudwatch_logs_exports": ["postgresql"],
    "variable_prefix": PREFIX,
}


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("preflight") / "moto_recording") as server:
        yield server


@pytest.fixture(scope="module")
def keys(aws):
    kms = aws.client("kms")
    enabled = kms.create_key(Description="vitality preflight: enabled")["KeyMetadata"]
    disabled = kms.create_key(Description="vitality preflight: disabled")["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    kms.create_alias(AliasName="alias/vitality-preflight", TargetKeyId=enabled["KeyId"])
    return {"enabled": enabled, "disabled": disabled}


def preflight(aws, args, check=False):
    """The module's result, run by `ansible localhost -m` against the local AWS."""
    ansible = Path(sys.executable).parent / "ansible"
    module_args = {"endpoint_url": aws.endpoint_url, "region": REGION, **args}
    command = [str(ansible), "all", "-i", "localhost,", "-c", "local", "-m", "vitality.aurora.aurora_preflight"]
    command += ["-a", json.dumps(module_args), "-e", json.dumps({"ansible_python_interpreter": sys.executable})]
    if check:
        command.append("--check")
    env = aws.env({"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"})
    proc = subprocess.run(  # noqa: S603
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        pytest.fail(f"no module result\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    assert (proc.returncode != 0) == bool(result.get("failed")), proc.stdout + proc.stderr
    return result


def rds_actions(aws):
    """The query-protocol actions (RDS here; KMS speaks JSON) since record_from_now()."""
    return [action for action, _params in aws.calls()]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check-mode"])
def test_the_repositorys_settings_pass_on_the_shipped_catalogue_without_changing_anything(aws, keys, check):
    aws.record_from_now()
    wanted = dict(GOOD)
    wanted["kms_keys"] = {
        "aurora_cluster_kms_key_id": keys["enabled"]["Arn"],
        "aurora_cluster_performance_insights_kms_key_id": "alias/vitality-preflight",
        "aurora_cluster_master_user_secret_kms_key_id": "",
    }
    result = preflight(aws, wanted, check=check)
    assert not result.get("failed"), result
    assert result["changed"] is False and result["errors"] == []
    # moto has no catalogue: every answer came from the shipped one, and the result says so.
    assert result["sources"] == {
        "engine_versions": SHIPPED,
        "orderable_instance_classes": SHIPPED,
        "cluster_parameters": SHIPPED,
    }
    assert result["kms_keys"] == {
        "aurora_cluster_kms_key_id": {"arn": keys["enabled"]["Arn"], "state": "Enabled", "enabled": True},
        "aurora_cluster_performance_insights_kms_key_id": {
            "arn": keys["enabled"]["Arn"],
            "state": "Enabled",
            "enabled": True,
        },
    }
    actions = rds_actions(aws)
    assert "DescribeDBEngineVersions" in actions and "DescribeEngineDefaultClusterParameters" in actions
    assert all(action.startswith("Describe") for action in actions), actions


def test_everything_aws_would_refuse_is_refused_at_once_naming_the_roles_variables(aws, keys):
    aws.record_from_now()
    wanted = {
        **GOOD,
        "instance_classes": ["db.r6g.large", "db.t2.micro"],
        "parameters": {"rds.force_ssl": 2, "log_line_prefix": "%t", "log_min_duration_statement": "1s"},
        "cloudwatch_logs_exports": ["postgresql", "upgrade"],
        "kms_keys": {
            "aurora_cluster_kms_key_id": keys["disabled"]["KeyId"],
            "aurora_cluster_performance_insights_kms_key_id": "alias/no-such-key",
        },
    }
    result = preflight(aws, wanted)
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "Invalid settings, nothing was changed: " + "; ".join(result["errors"])
    according = f"according to the shipped {SHIPPED}"
    expected = [
        "aurora_cluster_instance_class='db.t2.micro' is not orderable for Aurora PostgreSQL 16.6 in us-east-1",
        "aurora_cluster_cloudwatch_logs_exports names 'upgrade': Aurora PostgreSQL 16.6 exports only",
        f"aurora_cluster_parameters.log_line_prefix cannot be set: AWS does not let users change it in "
        f"aurora-postgresql16, {according}",
        f"aurora_cluster_parameters.log_min_duration_statement='1s' is not an integer: aurora-postgresql16 allows "
        f"-1-2147483647 (integer), {according}",
        f"aurora_cluster_parameters.rds.force_ssl='2' is not allowed: aurora-postgresql16 allows 0,1 (boolean), "
        f"{according}",
        f"aurora_cluster_kms_key_id='{keys['disabled']['KeyId']}' ({keys['disabled']['Arn']}) is Disabled: RDS "
        "needs an enabled key",
        "aurora_cluster_performance_insights_kms_key_id='alias/no-such-key' is not a KMS key in us-east-1",
    ]
    assert len(result["errors"]) == len(expected), result["errors"]
    for error, start in zip(result["errors"], expected, strict=True):
        assert error.startswith(start), (error, start)
    assert result["kms_keys"]["aurora_cluster_kms_key_id"]["state"] == "Disabled"
    assert all(action.startswith("Describe") for action in rds_actions(aws))


def test_a_version_the_catalogue_does_not_offer_is_refused_and_nothing_depending_on_it_is_checked(aws):
    result = preflight(aws, {**GOOD, "engine_version": "16.99"})
    shipped = ", ".join(e["EngineVersion"] for e in CATALOG["engine_versions"] if e["EngineVersion"].startswith("16."))
    assert result["errors"] == [
        f"aurora_cluster_engine_version='16.99' is not an Aurora PostgreSQL version offered in us-east-1 "
        f"(offered: {shipped}; according to the shipped {SHIPPED})"
    ]
    assert result["sources"] == {
        "engine_versions": SHIPPED,
        "orderable_instance_classes": "not checked",
        "cluster_parameters": SHIPPED,  # the family is given, so the parameters are still checked
    }


def test_a_family_other_than_the_versions_is_refused(aws):
    result = preflight(aws, {**GOOD, "engine_version": "17.4", "instance_classes": [], "parameters": {}})
    assert result["errors"] == [
        "aurora_cluster_parameter_group_family='aurora-postgresql16' is not the family of "
        "aurora_cluster_engine_version='17.4': Aurora PostgreSQL 17.4 takes parameter groups of family "
        "'aurora-postgresql17'"
    ]


@pytest.fixture
def dev_stack(aws):
    """A converged dev stack; the calls are recorded from the end of its creation."""
    aws.reset_and_seed()
    assert aws.run_playbook("playbooks/provision.yml", "inventories/dev").ok
    aws.record_from_now()
    return aws


def mutating_actions(aws):
    return [action for action, _params in aws.calls() if not action.startswith(("Describe", "List", "Get"))]


def assert_the_stack_is_untouched(aws):
    rds = aws.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier="vitality-dev-aurora")["DBClusters"][0]
    assert cluster["EngineVersion"] == "16.6"
    parameters = rds.describe_db_cluster_parameters(DBClusterParameterGroupName="vitality-dev-aurora-pg16")
    assert "log_line_prefix" not in {p["ParameterName"] for p in parameters["Parameters"]}


def test_the_role_refuses_a_change_aws_would_refuse_before_touching_the_existing_stack(dev_stack):
    """Day 2: the plan has a cluster and a parameter group step, so the planner runs the preflight, which refuses
    both settings at once, naming the role's variables, before any change."""
    refused = dev_stack.run_playbook(
        "playbooks/provision.yml",
        "inventories/dev",
        extra_vars={"aurora_cluster_engine_version": "16.99", "aurora_cluster_parameters": {"log_line_prefix": "%t"}},
    )
    assert refused.returncode != 0
    assert "Plan and converge the stack failed: Invalid settings, nothing was changed: " in refused.stdout, (
        refused.stdout[-3000:]
    )
    assert "aurora_cluster_engine_version='16.99' is not an Aurora PostgreSQL version offered" in refused.stdout
    assert "aurora_cluster_parameters.log_line_prefix cannot be set" in refused.stdout
    assert mutating_actions(dev_stack) == []
    assert_the_stack_is_untouched(dev_stack)


def test_the_role_refuses_a_missing_kms_alias_with_the_other_refusals_on_the_existing_stack(dev_stack):
    """Day 2 with a KMS alias that does not exist: refused like any other setting AWS would refuse, in the same
    message as the rest, naming the variable, before any change."""
    refused = dev_stack.run_playbook(
        "playbooks/provision.yml",
        "inventories/dev",
        extra_vars={"aurora_cluster_engine_version": "16.99", "aurora_cluster_kms_key_id": "alias/vitality-missing"},
    )
    assert refused.returncode != 0
    assert mutating_actions(dev_stack) == []
    assert_the_stack_is_untouched(dev_stack)
    assert "Plan and converge the stack failed: " in refused.stdout
    assert "nothing was changed" in refused.stdout.lower()
    assert "aurora_cluster_engine_version='16.99' is not an Aurora PostgreSQL version offered" in refused.stdout
    assert "aurora_cluster_kms_key_id='alias/vitality-missing' is not a KMS key in us-east-1" in refused.stdout
