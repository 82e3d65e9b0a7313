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


def _plugin_docs() -> dict[str, dict]:
    """{"<type> <name>": parsed DOCUMENTATION} of every plugin of the collection that has one."""
    import ast

    docs = {}
    for path in sorted((REPO_ROOT / "plugins").glob("*/*.py")):
        if path.parent.name in ("module_utils", "plugin_utils", "doc_fragments", "action"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["DOCUMENTATION"]:
                docs[f"{path.parent.name.rstrip('s')} {path.stem}"] = yaml.safe_load(ast.literal_eval(node.value))
    return docs


def _released_plugins() -> dict[str, str]:
    """{"<type> <name>": version} of each plugin a recorded release introduced."""
    released = {}
    for version, release in CHANGES["releases"].items():
        for module in release.get("modules") or []:
            released[f"module {module['name']}"] = version
        for kind, plugins in (release.get("plugins") or {}).items():
            for plugin in plugins:
                released[f"{kind} {plugin['name']}"] = version
    return released


def _versions_added(doc: dict, where: str):
    """(where, version) of the plugin and of each option that says when it was added."""
    if "version_added" in doc:
        yield where, str(doc["version_added"])
    for name, option in (doc.get("options") or {}).items():
        if isinstance(option, dict):
            yield from _versions_added(option, f"{where} option {name}")


def test_version_added_agrees_with_the_changelog_and_galaxy():
    docs = _plugin_docs()
    released = _released_plugins()
    assert docs, "no plugin documentation found"
    upcoming = Version(GALAXY["version"])
    last = max(Version(v) for v in CHANGES["releases"])
    for plugin, doc in docs.items():
        assert "version_added" in doc, f"{plugin} does not say when it was added"
        # A plugin a release introduced says that release; a newer one says the version galaxy.yml builds.
        expected = released.get(plugin, GALAXY["version"] if upcoming > last else None)
        assert str(doc["version_added"]) == expected, (
            f"{plugin}: version_added {doc['version_added']}, the changelog and galaxy.yml say {expected}"
        )
        for where, version in _versions_added(doc, plugin):
            assert Version(version) <= upcoming, f"{where}: version_added {version} is after galaxy.yml's {upcoming}"
            assert version in CHANGES["releases"] or Version(version) == upcoming, (
                f"{where}: version_added {version} is neither a recorded release nor the version galaxy.yml builds"
            )
