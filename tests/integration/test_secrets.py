"""A master password set explicitly never reaches output (at -vvvv, with --diff), the outputs file, an error
message, the local AWS's log or any file the tests write."""

from pathlib import Path

import pytest

PASSWORD = "Vt-s3cr3t-Zebra-9931"
NEW_PASSWORD = "Vt-n3w-s3cr3t-Okapi-4417"
OWN_PASSWORD = {"aurora_cluster_manage_master_user_password": False}


@pytest.fixture(scope="module")
def runs(local_aws, run_playbook, tmp_path_factory):
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
        # Fails in a module (AWS refuses the change), after the password has been handled.
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
    assert runs["first converge"].returncode == 0, runs["first converge"].stdout[-3000:]
    assert runs["re-run"].recap["vitality-dev"]["changed"] == 0
    assert runs["check mode plan"].returncode == 0
    assert runs["password changed, on_create"].recap["vitality-dev"]["changed"] == 0
    changed = runs["password changed, always"]
    assert changed.ok and changed.recap["vitality-dev"]["changed"] >= 1, changed.stdout[-3000:]
    assert "master_user_password (hidden) -> (hidden) [online" in changed.stdout
    assert runs["failed run"].returncode != 0 and "master_username" in runs["failed run"].stdout
    assert runs["invalid password"].returncode != 0 and "value hidden" in runs["invalid password"].stdout
    cluster = local_aws.client("rds").describe_db_clusters()["DBClusters"][0]
    assert "MasterUserSecret" not in cluster  # the cluster really uses the password given


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
