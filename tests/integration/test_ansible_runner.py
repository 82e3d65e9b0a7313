"""Provision and destroy through ansible-runner, the engine of AWX and Automation Controller.

The private data directory is laid out as those controllers lay it for a job: ``project/`` (the synced git
project: its playbooks and inventories), ``inventory/`` (the job's inventory, here the project's dev inventory),
``env/extravars`` (the survey and extra variables), ``env/envvars`` (what the AWS credential injects, and where the
execution environment has the collections). ``ansible-runner run`` (the CLI, as a worker runs it) then writes
``artifacts/<ident>/`` (status, rc, job events): the test reads the outcome from there and from the local AWS.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from local_aws import CREDENTIALS, REGION, REPO_ROOT, collections_path

RUNNER = str(Path(sys.executable).parent / "ansible-runner")
CLUSTER = "vitality-dev-aurora"


@pytest.fixture(scope="module")
def seeded(local_aws):
    local_aws.reset_and_seed(("dev",))
    return local_aws


@pytest.fixture(scope="module")
def private_data_dir(tmp_path_factory, seeded):
    root = tmp_path_factory.mktemp("runner")
    project = root / "project"
    shutil.copytree(REPO_ROOT / "playbooks", project / "playbooks", ignore=shutil.ignore_patterns("outputs"))
    shutil.copytree(REPO_ROOT / "inventories", project / "inventories")
    shutil.copytree(REPO_ROOT / "inventories" / "dev", root / "inventory")
    (root / "env").mkdir()
    extravars = {
        "aurora_cluster_aws_endpoint_url": seeded.endpoint_url,
        # No PostgreSQL stands in for the writer here (tests/integration/test_database.py has one).
        "aurora_database_enabled": False,
        # Where the job's artifacts are collected, as the user guide advises for AWX.
        "aurora_cluster_outputs_file": str(root / "artifacts" / "{{ aurora_cluster_name }}.json"),
    }
    (root / "env" / "extravars").write_text(yaml.safe_dump(extravars), encoding="utf-8")
    envvars = {
        **CREDENTIALS,
        "AWS_DEFAULT_REGION": REGION,
        "ANSIBLE_COLLECTIONS_PATH": collections_path(),
        "ANSIBLE_NOCOLOR": "1",
    }
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
    return root


def run_job(private_data_dir: Path, playbook: str, ident: str) -> dict:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(private_data_dir)}
    proc = subprocess.run(  # noqa: S603
        [RUNNER, "run", str(private_data_dir), "-p", playbook, "--ident", ident],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    artifacts = private_data_dir / "artifacts" / ident
    events = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
    ]
    (stats,) = [e["event_data"] for e in events if e.get("event") == "playbook_on_stats"]
    return {
        "proc": proc,
        "status": (artifacts / "status").read_text(encoding="utf-8").strip(),
        "rc": int((artifacts / "rc").read_text(encoding="utf-8").strip()),
        "stdout": (artifacts / "stdout").read_text(encoding="utf-8"),
        "changed": sum((stats.get("changed") or {}).values()),
        "failures": sum((stats.get("failures") or {}).values()),
    }


def describe(rds, **kwargs):
    return rds.describe_db_clusters(**kwargs)["DBClusters"]


def test_provision_rerun_and_destroy_as_a_controller_runs_them(private_data_dir, seeded):
    rds = seeded.client("rds")

    created = run_job(private_data_dir, "playbooks/provision.yml", "provision")
    assert (created["status"], created["rc"], created["failures"]) == ("successful", 0, 0), created["stdout"][-3000:]
    assert created["changed"] > 0
    (cluster,) = describe(rds, DBClusterIdentifier=CLUSTER)
    assert cluster["Status"] == "available" and cluster["StorageEncrypted"]
    assert [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if m["IsClusterWriter"]] == [
        f"{CLUSTER}-writer"
    ]
    # The outputs land among the job's artifacts, and name the stack's endpoints.
    outputs = json.loads((private_data_dir / "artifacts" / "vitality-dev.json").read_text(encoding="utf-8"))
    assert outputs["cluster_identifier"] == CLUSTER and outputs["writer_endpoint"] == cluster["Endpoint"]
    assert "Plan" in created["stdout"] and "Done, in the plan order" in created["stdout"]

    again = run_job(private_data_dir, "playbooks/provision.yml", "provision-again")
    assert (again["status"], again["changed"]) == ("successful", 0), again["stdout"][-3000:]

    destroyed = run_job(private_data_dir, "playbooks/destroy.yml", "destroy")
    assert (destroyed["status"], destroyed["rc"]) == ("successful", 0), destroyed["stdout"][-3000:]
    assert [c for c in describe(rds) if c["DBClusterIdentifier"] == CLUSTER] == []
