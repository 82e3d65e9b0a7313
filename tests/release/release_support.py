"""Helpers of the release tests (tests/release/conftest.py builds its fixtures on them).

* :class:`Leg`: an ansible-core + amazon.aws pair: the main venv (``Leg.main()``), or a venv
  that ``make test-matrix`` builds (scripts/matrix_venv.py, described by its leg.json) named in
  ``AURORA_MATRIX_LEGS`` (:func:`matrix_legs`).
* :class:`Installed`: the collection installed from the tarball for one leg, with ``env()``,
  ``run(args)``, ``playbook(...)`` and ``locations()``.  Its ANSIBLE_COLLECTIONS_PATH is the
  install directory plus where the leg's amazon.aws lives, never the source tree
  (build/collections) nor the repository; its ANSIBLE_CONFIG is an empty file and commands run
  outside the repository, so the repository's ansible.cfg plays no part.
* :func:`source_modules` and :func:`entry_points`: what the source tree holds, discovered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from local_aws import DATABASE_OFF, ENDPOINT_VAR, OUTPUTS_VAR, REPO_ROOT, PlaybookResult, parse_recap

GALAXY = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"
MODULES_DIR = REPO_ROOT / "plugins" / "modules"
ARGUMENT_SPECS = REPO_ROOT / "roles" / "aurora_cluster" / "meta" / "argument_specs.yml"
MATRIX_ENV = "AURORA_MATRIX_LEGS"


def source_modules() -> list[str]:
    """Every module of the collection, discovered in plugins/modules (never a hard-coded list)."""
    return sorted(p.stem for p in MODULES_DIR.glob("*.py") if not p.name.startswith("_"))


def entry_points() -> dict:
    return yaml.safe_load(ARGUMENT_SPECS.read_text(encoding="utf-8"))["argument_specs"]


def _collection_version(root: Path, namespace: str, name: str) -> str:
    manifest = root / "ansible_collections" / namespace / name / "MANIFEST.json"
    return json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"]


@dataclass(frozen=True)
class Leg:
    name: str
    bin: Path  # holds ansible-playbook, ansible-galaxy, ansible-doc and the python that runs modules
    deps_path: Path  # a collections path holding amazon.aws and community.aws
    ansible_core: str
    amazon_aws: str
    community_aws: str

    @classmethod
    def main(cls) -> Leg:
        import ansible

        purelib = Path(sysconfig.get_paths()["purelib"])
        return cls(
            "main",
            Path(sys.executable).parent,
            purelib,
            ansible.__version__,
            _collection_version(purelib, "amazon", "aws"),
            _collection_version(purelib, "community", "aws"),
        )

    @classmethod
    def from_dir(cls, path: str | os.PathLike) -> Leg:
        leg_file = Path(path) / "leg.json"
        if not leg_file.is_file():
            raise FileNotFoundError(f"{leg_file} is missing: build the leg with `make test-matrix`")
        data = json.loads(leg_file.read_text(encoding="utf-8"))
        return cls(
            data["name"],
            Path(data["bin"]),
            Path(data["collections_path"]),
            data["ansible_core"],
            data["amazon_aws"],
            data["community_aws"],
        )


def matrix_legs() -> list[Leg]:
    """The legs named in AURORA_MATRIX_LEGS (os.pathsep-separated venv dirs), else the main venv only."""
    named = [p for p in os.environ.get(MATRIX_ENV, "").split(os.pathsep) if p.strip()]
    return [Leg.from_dir(p) for p in named] if named else [Leg.main()]


class Installed:
    """The collection installed from the tarball for one leg."""

    def __init__(self, leg: Leg, root: Path, workdir: Path):
        self.leg = leg
        self.root = root  # a collections path: root/ansible_collections/vitality/aurora
        self.workdir = workdir
        self.path = root / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
        self.config = workdir / "ansible.cfg"
        self.config.write_text("[defaults]\nretry_files_enabled = false\n", encoding="utf-8")

    @property
    def collections_path(self) -> str:
        return os.pathsep.join([str(self.root), str(self.leg.deps_path)])

    def env(self, local_aws=None, extra: Mapping[str, str] | None = None, drop: Iterable[str] = ()) -> dict[str, str]:
        env = local_aws.env() if local_aws is not None else dict(os.environ)
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": self.collections_path,
                "ANSIBLE_CONFIG": str(self.config),
                "ANSIBLE_HOME": str(self.workdir / ".ansible"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0",
                "PATH": os.pathsep.join([str(self.leg.bin), env.get("PATH", "")]),
            }
        )
        for var in ("VIRTUAL_ENV", "PYTHONPATH", *drop):
            env.pop(var, None)
        if extra:
            env.update(extra)
        for part in env["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep):
            assert Path(part).resolve() != REPO_ROOT, "the repository must not be a collections path"
            assert "build/collections" not in Path(part).as_posix(), "the source tree's link must not be used"
        return env

    def run(self, args: list[str], local_aws=None, timeout: float = 600, **env_kwargs) -> subprocess.CompletedProcess:
        exe = self.leg.bin / args[0]
        return subprocess.run(  # noqa: S603
            [str(exe), *args[1:]],
            cwd=self.workdir,
            env=self.env(local_aws, **env_kwargs),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def playbook(
        self,
        playbook: str | os.PathLike,
        inventory: str | os.PathLike,
        local_aws,
        extra_vars: Mapping | None = None,
        extra_args: Iterable[str] = (),
    ) -> PlaybookResult:
        args = ["ansible-playbook", str(playbook), "-i", str(inventory)]
        args += ["-e", f"{ENDPOINT_VAR}={local_aws.endpoint_url}"]
        args += ["-e", json.dumps(DATABASE_OFF)]
        args += ["-e", json.dumps({OUTPUTS_VAR: str(self.workdir / "outputs") + "/{{ aurora_cluster_name }}.json"})]
        if extra_vars:
            args += ["-e", json.dumps(dict(extra_vars))]
        args += list(extra_args)
        proc = self.run(args, local_aws=local_aws, timeout=1200)
        return PlaybookResult(args, proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout))

    def locations(self) -> list[Path]:
        """Where ansible-galaxy finds this collection (with this copy's environment)."""
        proc = self.run(["ansible-galaxy", "collection", "list", FQCN, "--format", "json"])
        assert proc.returncode == 0, proc.stderr
        found = json.loads(proc.stdout or "{}")
        # Keys are <collections path>/ansible_collections.
        return sorted(Path(loc).parent for loc, colls in found.items() if FQCN in colls)
