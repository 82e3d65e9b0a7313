"""Run ``ansible-test sanity`` on this collection, offline, from a build copy.

ansible-test insists on running from ``.../ansible_collections/<namespace>/<name>``
and, when that directory is in a git work tree, lists the files to test with git.
The source tree is neither, so this tool:

1. copies the files git would ship (tracked + untracked-but-not-ignored; every
   file but the ignored ones when there is no git) into
   ``build/sanity/ansible_collections/<namespace>/<name>`` and runs ``git init``
   there, so ansible-test sees exactly that file list (``build/`` is ignored by the
   outer repository, so without its own ``.git`` ansible-test would see nothing);
2. copies the collections named in galaxy.yml ``dependencies`` (amazon.aws) from
   the venv's ``site-packages/ansible_collections`` beside it, so the import,
   validate-modules and ansible-doc tests can import their module_utils;
3. writes ansible-test's pip bootstrap script into its cache (scripts/offline_get_pip.py),
   because ansible-test would otherwise download it from a host that is unreachable;
4. runs ``ansible-test sanity --venv --python <this python's X.Y>`` with the tests
   that cannot run here skipped (see SKIPPED_TESTS for the reasons).

Extra arguments are passed to ansible-test, e.g. ``--test pep8`` or ``-v``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import offline_get_pip  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_ROOT = REPO_ROOT / "build" / "sanity"

# Sanity tests that cannot run on this project's machines, with the reason.
# Everything else ansible-test selects runs.
SKIPPED_TESTS = {
    # Needs PowerShell (pwsh) and PSScriptAnalyzer, which no registry this project
    # reaches provides.  The collection has no PowerShell files, so it would be a no-op.
    "pslint": "needs pwsh + PSScriptAnalyzer (not installable here); no PowerShell content",
}


def load_galaxy() -> dict:
    import yaml

    with open(REPO_ROOT / "galaxy.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def source_files() -> list[str]:
    """Files that belong to the collection: what git would ship, or a plain walk."""
    if (REPO_ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        ).stdout.decode()
        files = [f for f in out.split("\0") if f]
    else:
        skip = {".venv", "build", ".local-aws", ".git", ".pytest_cache", ".ruff_cache", "__pycache__", "output"}
        files = []
        for root, dirs, names in os.walk(REPO_ROOT):
            dirs[:] = [d for d in dirs if d not in skip]
            files += [os.path.relpath(os.path.join(root, n), REPO_ROOT) for n in names]
    # Deleted-but-tracked files are listed by --cached; skip them.
    return sorted(f for f in set(files) if os.path.lexists(REPO_ROOT / f))


def copy_tree(files: list[str], dest: Path) -> None:
    for rel in files:
        src = REPO_ROOT / rel
        dst = dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        elif src.is_file():
            shutil.copy2(src, dst)


def site_collections() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"


def copy_dependencies(galaxy: dict, collections_root: Path) -> list[str]:
    copied = []
    for fqcn in sorted((galaxy.get("dependencies") or {}).keys()):
        namespace, name = fqcn.split(".", 1)
        src = site_collections() / namespace / name
        if not src.is_dir():
            raise SystemExit(f"sanity: dependency {fqcn} not found at {src} (run `make venv`)")
        shutil.copytree(src, collections_root / namespace / name, symlinks=True)
        copied.append(fqcn)
    return copied


def main(argv: list[str]) -> int:
    galaxy = load_galaxy()
    namespace, name = galaxy["namespace"], galaxy["name"]
    collections_root = BUILD_ROOT / "ansible_collections"
    dest = collections_root / namespace / name

    if BUILD_ROOT.exists():
        shutil.rmtree(BUILD_ROOT)
    dest.mkdir(parents=True)
    files = source_files()
    copy_tree(files, dest)
    subprocess.run(["git", "init", "-q", "."], cwd=dest, check=True)
    deps = copy_dependencies(galaxy, collections_root)
    get_pip = offline_get_pip.ensure()

    python_version = "{}.{}".format(*sys.version_info[:2])
    ansible_test = Path(sys.executable).parent / "ansible-test"
    cmd = [str(ansible_test), "sanity", "--venv", "--python", python_version, "--color", "no"]
    for test in sorted(SKIPPED_TESTS):
        cmd += ["--skip-test", test]
    cmd += argv

    print(f"sanity: {len(files)} files of {namespace}.{name} copied to {dest.relative_to(REPO_ROOT)}")
    print(f"sanity: dependencies beside it: {', '.join(deps) or 'none'}")
    print(f"sanity: offline pip bootstrap: {get_pip}")
    for test, reason in sorted(SKIPPED_TESTS.items()):
        print(f"sanity: skipping {test}: {reason}")
    print("sanity: " + " ".join(cmd), flush=True)

    env = dict(os.environ)
    for var in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_CONFIG"):
        env.pop(var, None)
    # ansible-test finds python X.Y by name on PATH; put this interpreter's directory first
    # (pyenv shims for other versions would otherwise answer and fail).
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.run(cmd, cwd=dest, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
