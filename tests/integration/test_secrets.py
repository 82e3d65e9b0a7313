"""A master password set explicitly never reaches output (at -vvvv, with --diff), the outputs file, an error
message, the local AWS's log or any file the tests write; and it is sent to AWS exactly when it should be.

Every run goes through tests/aws_proxy.py, which records each call's parameter NAMES (never their values): the
password is sent (MasterUserPassword) when the cluster is created, and on an existing cluster only with
aurora_cluster_update_password=always, where the plan shows the change with the password hidden."""

import json
from pathlib import Path

import pytest

from aws_proxy import AwsProxy
from local_aws import run_playbook as run_local

PASSWORD = "Vt-s3cr3t-Zebra-9931"
NEW_PASSWORD = "Vt-n3w-s3cr3t-Okapi-4417"
OWN_PASSWORD = {"aurora_cluster_manage_master_user_password": False}
HOST = "vitality-dev"
CLUSTER = "vitality-dev-aurora"
READ_PREFIXES = ("Describe", "List", "Get")
ALWAYS_LINE = (
    f"1. cluster {CLUSTER}: modify (master_user_password (hidden) -> (hidden)) [online]. update_password=always: "
)


class Run:
    """One playbook run and the mutating calls it made: [(operation, parameter names)]."""

    def __init__(self, result, calls):
        self.result = result
        self.calls = [c.operation for c in calls]
        self.mutating = [
            (c.operation, set(c.params)) for c in calls if not (c.operation or "").startswith(READ_PREFIXES)
        ]

    def __getattr__(self, name):
        return getattr(self.result, name)

    @property
    def operations(self):
        return [operation for operation, _params in self.mutating]

    @property
    def plan(self):
        """The list the role prints in 'Show the plan, each step with its impact' (header first)."""
        text = self.result.stdout.split("Show the plan, each step with its impact", 1)[1]
        text = text[text.index("{") : text.index("\n}\n") + 2]
        return json.loads(text)["msg"]


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        yield running


@pytest.fixture(scope="module")
def runs(local_aws, proxy, tmp_path_factory):
    front = proxy.front(local_aws)

    def run_playbook(playbook, inventory, **kwargs):
        proxy.clear_calls()
        result = run_local(playbook, inventory, local_aws=front, **kwargs)
        return Run(result, proxy.calls)

    local_aws.reset_and_seed()
    # As a user would: the password comes from a vars file (Ansible Vault in real use). A value given
    # with -e on the command line is echoed by ansible-playbook itself at -vvvv, before any task runs.
    secrets = tmp_path_factory.mktemp("secrets") / "db-password.yml"
    secrets.write_text(f"aurora_cluster_master_user_password: '{PASSWORD}'\n")
    verbose = ("-vvvv", "-e", f"@{secrets}")
    new_secrets = secrets.with_name("new-password.yml")
    new_secrets.write_text(f"aurora_cluster_master_user_password: '{NEW_PASSWORD}'\n")
    bad_secrets = secrets.with_name("bad-password.yml")
    bad_secrets.write_text(f"aurora_cluster_master_user_password: '{PASSWORD}@bad'\n")
    results = {
        "first converge": run_playbook(
            "playbooks/provision.yml", "inventories/dev", extra_vars=OWN_PASSWORD, diff=True, extra_args=verbose
        ),
        "re-run": run_playbook(
            "playbooks/provision.yml", "inventories/dev", extra_vars=OWN_PASSWORD, diff=True, extra_args=verbose
        ),
        "check mode plan": run_playbook(
            "playbooks/provision.yml",
            "inventories/dev",
            extra_vars=dict(OWN_PASSWORD, aurora_cluster_backup_retention_period=5),
            check=True,
            diff=True,
            extra_args=verbose,
        ),
        # A changed password is sent only when asked (AWS never returns one to compare).
        "password changed, on_create": run_playbook(
            "playbooks/provision.yml",
            "inventories/dev",
            extra_vars=OWN_PASSWORD,
            diff=True,
            extra_args=("-vvvv", "-e", f"@{new_secrets}"),
        ),
        "password changed, always": run_playbook(
            "playbooks/provision.yml",
            "inventories/dev",
            extra_vars="aurora_cluster_manage_master_user_password=false aurora_cluster_update_password=always",
            diff=True,
            extra_args=("-vvvv", "-e", f"@{new_secrets}"),
        ),
        # Fails in the plan (AWS cannot change the master user name in place), with the password among its inputs.
        "failed run": run_playbook(
            "playbooks/provision.yml",
            "inventories/dev",
            extra_vars=dict(OWN_PASSWORD, aurora_cluster_master_username="other_admin"),
            diff=True,
            extra_args=verbose,
        ),
        # Fails in validation (the password breaks a rule), before any AWS call.
        "invalid password": run_playbook(
            "playbooks/provision.yml",
            "inventories/dev",
            extra_vars=OWN_PASSWORD,
            extra_args=(*verbose, "-e", f"@{bad_secrets}"),
        ),
    }
    return results


def test_the_runs_did_what_they_should(runs, local_aws):
    first = runs["first converge"]
    assert first.returncode == 0, first.stdout[-3000:]
    # The cluster is created with the password given, and no secret managed by RDS.
    created = dict(first.mutating)["CreateDBCluster"]
    assert "MasterUserPassword" in created and "ManageMasterUserPassword" not in created, created

    rerun = runs["re-run"]
    assert rerun.recap[HOST]["changed"] == 0 and rerun.plan == ["Plan", "no change"], rerun.stdout[-3000:]
    assert rerun.mutating == []

    check = runs["check mode plan"]
    assert check.returncode == 0, check.stdout[-3000:]
    assert check.plan == [
        "Plan (check mode: nothing was changed)",
        f"1. cluster {CLUSTER}: modify (backup_retention_period 1 -> 5) [online]",
    ]
    assert check.mutating == []

    # A changed password is not sent by default: AWS never returns one to compare.
    on_create = runs["password changed, on_create"]
    assert on_create.returncode == 0 and on_create.recap[HOST]["changed"] == 0, on_create.stdout[-3000:]
    assert on_create.plan == ["Plan", "no change"] and on_create.mutating == []

    # update_password=always: planned as one online cluster step with the values hidden, and sent.
    always = runs["password changed, always"]
    assert always.ok and always.recap[HOST]["changed"] >= 1, always.stdout[-3000:]
    assert len(always.plan) == 2 and always.plan[1].startswith(ALWAYS_LINE), always.plan
    assert always.operations == ["ModifyDBCluster"], always.mutating
    assert "MasterUserPassword" in always.mutating[0][1], always.mutating

    failed = runs["failed run"]
    assert failed.returncode != 0 and "master_username" in failed.stdout, failed.stdout[-3000:]
    assert "Plan and converge the stack failed: " in failed.stdout and "impossible-in-place" in failed.stdout
    assert failed.mutating == []

    invalid = runs["invalid password"]
    assert invalid.returncode != 0 and "value hidden" in invalid.stdout, invalid.stdout[-3000:]
    assert invalid.calls == []  # refused before any AWS call

    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert "MasterUserSecret" not in cluster  # the cluster really uses the password given
    assert cluster["MasterUsername"] != "other_admin"


@pytest.mark.parametrize("name", ["first converge", "re-run", "check mode plan", "failed run", "invalid password"])
def test_no_output_holds_the_password(runs, name):
    assert PASSWORD not in runs[name].stdout
    assert PASSWORD not in runs[name].stderr


@pytest.mark.parametrize("name", ["password changed, on_create", "password changed, always"])
def test_no_output_holds_the_new_password(runs, name):
    assert NEW_PASSWORD not in runs[name].stdout
    assert NEW_PASSWORD not in runs[name].stderr


def test_no_file_holds_the_password(runs, local_aws):
    outputs = local_aws.outputs_dir / "vitality-dev.json"
    assert outputs.exists()
    written = [outputs, local_aws.log_path, *Path("tests/output").rglob("*")]
    leaked = [
        str(path)
        for path in written
        if path.is_file() and any(p.encode() in path.read_bytes() for p in (PASSWORD, NEW_PASSWORD))
    ]
    assert leaked == []
