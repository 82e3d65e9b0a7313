"""The changelog: valid for antsibull-changelog, CHANGELOG.rst generated from it, versions consistent."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.version import Version
from release_support import GALAXY, REPO_ROOT

TOOL = str(Path(sys.executable).parent / "antsibull-changelog")
CHANGES = yaml.safe_load((REPO_ROOT / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))


def _run(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([TOOL, *args], cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603


def test_fragments_and_changelog_yaml_lint_clean():
    for args in (("lint",), ("lint-changelog-yaml", "changelogs/changelog.yaml")):
        proc = _run(*args)
        assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    work = tmp_path / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    work.mkdir(parents=True)
    shutil.copytree(REPO_ROOT / "changelogs", work / "changelogs", ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    shutil.copy(REPO_ROOT / "galaxy.yml", work)
    proc = _run("generate", cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    generated = (work / "CHANGELOG.rst").read_text(encoding="utf-8")
    assert (REPO_ROOT / "CHANGELOG.rst").read_text(encoding="utf-8") == generated, "run `make changelog`"


def test_galaxy_version_is_not_behind_the_last_release():
    released = [Version(v) for v in CHANGES["releases"]]
    assert released, "changelogs/changelog.yaml records no release"
    assert Version(GALAXY["version"]) >= max(released)
    assert f"v{max(released)}" in (REPO_ROOT / "CHANGELOG.rst").read_text(encoding="utf-8")


def test_unreleased_changes_build_a_version_not_yet_released():
    # A tarball built with changes since the last release must not carry that release's version.
    fragments = list((REPO_ROOT / "changelogs" / "fragments").glob("*.y*ml"))
    released = [Version(v) for v in CHANGES["releases"]]
    if fragments:
        assert Version(GALAXY["version"]) > max(released), (
            f"galaxy.yml version {GALAXY['version']} is already released, yet {len(fragments)} changelog fragments "
            "are not: raise the version"
        )
