"""Fixtures of the release tests; the helpers are in release_support.py.

* ``collection_tarball`` (session): the tarball ``ansible-galaxy collection build`` makes of the
  working tree, in a temporary directory.
* ``install_collection`` (session): ``install_collection(leg)`` installs it offline for a leg
  (see release_support.Installed).
* ``main_installed`` (session): the installed copy for the main venv (the newest ansible-core).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from release_support import GALAXY, REPO_ROOT, Installed, Leg


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    proc = subprocess.run(  # noqa: S603
        [str(galaxy), "collection", "build", "--force", "--output-path", str(out), str(REPO_ROOT)],
        cwd=out,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarball = out / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    assert tarball.is_file(), proc.stdout
    return tarball


@pytest.fixture(scope="session")
def install_collection(collection_tarball, tmp_path_factory):
    cache: dict[str, Installed] = {}

    def _install(leg: Leg) -> Installed:
        if leg.name not in cache:
            workdir = tmp_path_factory.mktemp(f"installed-{leg.name}")
            installed = Installed(leg, workdir / "collections", workdir)
            args = ["ansible-galaxy", "collection", "install", "--no-deps", "--offline"]
            proc = installed.run([*args, "-p", str(installed.root), str(collection_tarball)])
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert (installed.path / "MANIFEST.json").is_file(), proc.stdout
            cache[leg.name] = installed
        return cache[leg.name]

    return _install


@pytest.fixture(scope="session")
def main_installed(install_collection) -> Installed:
    return install_collection(Leg.main())
