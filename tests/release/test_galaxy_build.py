"""The Galaxy tarball: what it ships, what it leaves out, and that it installs offline."""

from __future__ import annotations

import json
import tarfile

import pytest
import yaml
from release_support import FQCN, GALAXY, REPO_ROOT, source_modules

# Never in the tarball: tests, local state, caches, development tooling, the inventories.
LEFT_OUT = (
    "tests/",
    ".venv",
    "build/",
    ".local-aws/",
    ".git/",
    ".ci/",
    ".pytest_cache/",
    ".ruff_cache/",
    "outputs/",
    "playbooks/outputs/",
    "playbooks/report/",
    "report/",
    "docs/images/",
    "scripts/",
    "bench/",
    "inventories/",
    "extensions/",
    "Makefile",
    "requirements.txt",
    "constraints.txt",
    "pyproject.toml",
    "ansible.cfg",
    "changelogs/.plugin-cache.yaml",
)
SHIPPED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "COPYING",
    "CHANGELOG.rst",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "meta/ee-requirements.txt",
    "bindep.txt",
    "execution-environment.yml",
    "changelogs/changelog.yaml",
    "docs/user-guide.md",
    "roles/aurora_cluster/meta/argument_specs.yml",
    "roles/aurora_cluster/tasks/main.yml",
    "roles/aurora_cluster/tasks/destroy.yml",
    "playbooks/provision.yml",
    "playbooks/destroy.yml",
    # The progress of long waits: the plugin, and the copy beside the playbooks that turns it on.
    "plugins/callback/aurora_progress.py",
    "playbooks/callback_plugins/aurora_progress.py",
    # The stack's report: its playbook, its tasks and the Mermaid library the HTML carries (with its licence).
    "playbooks/report.yml",
    "roles/aurora_cluster/tasks/report.yml",
    "roles/aurora_cluster/tasks/report_files.yml",
    "roles/aurora_cluster/tasks/report_copies.yml",
    "roles/aurora_cluster/files/mermaid.min.js",
    "roles/aurora_cluster/files/mermaid.LICENSE",
)


@pytest.fixture(scope="module")
def members(collection_tarball) -> list[str]:
    with tarfile.open(collection_tarball) as tar:
        return [m.name.removeprefix("./") + ("/" if m.isdir() else "") for m in tar.getmembers()]


def test_tarball_leaves_out_tests_local_state_and_tooling(members):
    offending = sorted(
        name
        for name in members
        if any(name == bad or name.startswith(bad) for bad in LEFT_OUT)
        or "__pycache__" in name
        or name.endswith((".pyc", ".tar.gz"))
    )
    assert not offending, f"development files in the tarball: {offending}"
    # A folder with nothing in it is nothing a user can run.
    files = [name for name in members if not name.endswith("/")]
    empty = sorted(name for name in members if name.endswith("/") and not any(f.startswith(name) for f in files))
    assert not empty, f"empty folders in the tarball: {empty}"


def test_tarball_ships_the_collection(members):
    expected = set(SHIPPED) | {f"plugins/modules/{m}.py" for m in source_modules()}
    expected |= {f"docs/modules/{m}.md" for m in source_modules()}
    missing = sorted(expected - set(members))
    assert not missing, f"missing from the tarball: {missing}"


def test_manifest_declares_the_galaxy_metadata(collection_tarball):
    with tarfile.open(collection_tarball) as tar:
        info = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (
        GALAXY["namespace"],
        GALAXY["name"],
        GALAXY["version"],
    )
    assert info["dependencies"] == GALAXY["dependencies"]
    assert set(info["dependencies"]) == {"amazon.aws", "community.aws"}
    for key in ("readme", "authors", "description", "license", "tags", "repository"):
        assert info[key], f"galaxy.yml {key} is empty"


def test_installed_copy_is_the_only_one_ansible_sees(main_installed):
    assert main_installed.locations() == [main_installed.root], "vitality.aurora resolves elsewhere too"
    runtime = yaml.safe_load((main_installed.path / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert runtime == yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    proc = main_installed.run(["ansible-doc", "--list", FQCN, "--json"])
    assert proc.returncode == 0, proc.stderr
    listed = {name.removeprefix(f"{FQCN}.") for name in json.loads(proc.stdout)}
    assert listed == set(source_modules())


def readme_minimal_playbook() -> str:
    """The first YAML block after the README says "A minimal playbook"."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split("A minimal playbook", 1)[1]
    return after.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_a_fresh_install_runs_the_readme_minimal_playbook(main_installed, local_aws):
    local_aws.reset_and_seed(("dev",))
    site = main_installed.workdir / "site.yml"
    site.write_text(readme_minimal_playbook(), encoding="utf-8")
    planned = main_installed.playbook(site, "localhost,", local_aws, extra_args=["--check"])
    assert planned.ok and "Plan (check mode: nothing was changed)" in planned.stdout, str(planned)
    rds = local_aws.client("rds")
    assert rds.describe_db_clusters()["DBClusters"] == []
    built = main_installed.playbook(site, "localhost,", local_aws)
    assert built.ok, str(built)
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier="vitality-dev-aurora")["DBClusters"]
    assert cluster["Status"] == "available" and cluster["StorageEncrypted"]
    assert '"writer_endpoint": "vitality-dev-aurora.cluster-' in built.stdout
