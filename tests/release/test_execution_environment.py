"""The execution environment: `ansible-builder create` writes a complete build context (no image: no Docker here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version
from release_support import GALAXY, REPO_ROOT

BUILDER = str(Path(sys.executable).parent / "ansible-builder")
EE = yaml.safe_load((REPO_ROOT / "execution-environment.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def context(collection_tarball, tmp_path_factory) -> Path:
    """The EE definition and its files laid out as in the repository, with the tarball where `make ee-context` puts it."""
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(REPO_ROOT / "execution-environment.yml", work)
    shutil.copy(REPO_ROOT / "bindep.txt", work)
    shutil.copytree(REPO_ROOT / "meta", work / "meta")
    (src,) = [f["src"] for f in EE["additional_build_files"] if f["src"].endswith(".tar.gz")]
    (work / src).parent.mkdir(parents=True)
    shutil.copy(collection_tarball, work / src)
    out = work / "context"
    proc = subprocess.run(  # noqa: S603
        [BUILDER, "create", "--file", str(work / "execution-environment.yml"), "--context", str(out)]
        + ["--output-filename", "Containerfile"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_definition_is_version_3_with_pinned_ansible():
    assert EE["version"] == 3
    deps = EE["dependencies"]
    core = Requirement(deps["ansible_core"]["package_pip"])
    assert core.name == "ansible-core" and str(core.specifier).startswith("==")
    import ansible

    assert Version(str(core.specifier).removeprefix("==")) == Version(ansible.__version__), "EE core != tested core"
    assert Requirement(deps["ansible_runner"]["package_pip"]).specifier
    assert EE["images"]["base_image"]["name"]


def test_build_context_has_the_containerfile_and_every_requirement(context):
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert f'ARG EE_BASE_IMAGE="{EE["images"]["base_image"]["name"]}"' in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile
    build = context / "_build"
    assert (build / "requirements.txt").read_text() == (REPO_ROOT / "meta" / "ee-requirements.txt").read_text()
    assert (build / "bindep.txt").read_text() == (REPO_ROOT / "bindep.txt").read_text()
    galaxy_reqs = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    by_name = {c["name"]: c for c in galaxy_reqs}
    for dependency, version in GALAXY["dependencies"].items():
        assert by_name[dependency]["version"] == version, dependency
    (local,) = [c for c in galaxy_reqs if c.get("type") == "file"]
    assert (build / local["name"]).is_file(), f"{local['name']} was not copied into the build context"
    for script in ("assemble", "install-from-bindep", "introspect.py", "check_galaxy", "check_ansible"):
        assert (build / "scripts" / script).is_file()


def test_introspection_of_the_installed_collection_finds_its_requirements(main_installed):
    proc = subprocess.run(  # noqa: S603
        [BUILDER, "introspect", str(main_installed.root)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = yaml.safe_load(proc.stdout)
    python = "\n".join(found["python"])
    assert "boto3" in python and "botocore" in python and "vitality.aurora" in python
    assert "moto" not in python and "pytest" not in python, "development requirements leaked into the EE"


def test_python_requirements_are_satisfied_by_what_is_tested():
    import boto3
    import botocore
    import psycopg

    installed = {"boto3": boto3.__version__, "botocore": botocore.__version__, "psycopg": psycopg.__version__}
    lines = (REPO_ROOT / "meta" / "ee-requirements.txt").read_text().splitlines()
    reqs = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    assert {r.name for r in reqs} == set(installed)
    for req in reqs:
        assert req.specifier.contains(installed[req.name]), f"{req} excludes the tested {installed[req.name]}"


def _imported_distributions() -> dict[str, set[str]]:
    """The installed distributions that the collection's plugins import, each with the files importing it."""
    import ast
    from importlib.metadata import packages_distributions

    provided_by = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted((REPO_ROOT / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                # The standard library, and Ansible itself with its collections: the EE's base provides them.
                if top in sys.stdlib_module_names or top in ("__future__", "ansible", "ansible_collections"):
                    continue
                for distribution in provided_by.get(top, [top]):
                    found.setdefault(distribution.lower(), set()).add(str(path.relative_to(REPO_ROOT)))
    return found


def _required_by_ansible_core() -> set[str]:
    from importlib.metadata import requires

    return {Requirement(r).name.lower() for r in requires("ansible-core") or [] if "extra ==" not in r}


def test_the_ee_requirements_are_exactly_what_the_code_imports():
    # ansible-core (pinned in execution-environment.yml) brings its own requirements (PyYAML, Jinja2, ...).
    from_core = _required_by_ansible_core()
    declared = {
        Requirement(line).name.lower()
        for line in (REPO_ROOT / "meta" / "ee-requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    imported = _imported_distributions()
    missing = {
        name: sorted(files) for name, files in imported.items() if name not in declared and name not in from_core
    }
    assert not missing, f"imported by the collection but not in meta/ee-requirements.txt: {missing}"
    # What the collection's modules use through amazon.aws's module_utils (AnsibleAWSModule makes boto3 clients).
    import ansible_collections.amazon.aws as amazon_aws

    amazon_aws_needs = {
        Requirement(line).name.lower()
        for line in (Path(next(iter(amazon_aws.__path__))) / "requirements.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    unused = declared - set(imported) - amazon_aws_needs
    assert not unused, f"in meta/ee-requirements.txt but needed by no plugin: {sorted(unused)}"
