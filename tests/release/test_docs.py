"""Documentation: ansible-doc renders every module and the role; docs/ is generated and up to date."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from release_support import FQCN, REPO_ROOT, entry_points, source_modules

ANSI = re.compile(r"\x1b\[[0-9;]*m")
USER_GUIDE = REPO_ROOT / "docs" / "user-guide.md"
ROLE = f"{FQCN}.aurora_cluster"
AWS_GROUP = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["aws"]


def _doc(installed, *args: str) -> str:
    proc = installed.run(["ansible-doc", *args])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ERROR" not in proc.stderr, proc.stderr
    return ANSI.sub("", proc.stdout)


@pytest.fixture(scope="module")
def module_docs(main_installed) -> dict:
    return json.loads(_doc(main_installed, "--json", *[f"{FQCN}.{m}" for m in source_modules()]))


@pytest.mark.parametrize("module", source_modules())
def test_ansible_doc_renders_the_module_with_examples(main_installed, module_docs, module):
    text = _doc(main_installed, f"{FQCN}.{module}")
    data = module_docs[f"{FQCN}.{module}"]
    assert text.strip() and data["doc"]["short_description"]
    assert "EXAMPLES:" in text
    assert data["examples"] and f"{FQCN}.{module}:" in data["examples"], "EXAMPLES must use the module's FQCN"
    assert data["return"], "RETURN is empty"
    if module in AWS_GROUP:  # the controller-side aurora_settings calls no AWS API
        for option in ("region", "endpoint_url", "access_key", "profile"):
            assert option in data["doc"]["options"], f"{module} lacks the amazon.aws option {option}"


def test_ansible_doc_renders_every_entry_point_of_the_role(main_installed):
    specs = entry_points()
    text = _doc(main_installed, "-t", "role", ROLE)
    data = json.loads(_doc(main_installed, "-t", "role", "--json", ROLE))[ROLE]["entry_points"]
    assert set(data) == set(specs)
    for entry, spec in specs.items():
        heading = rf"ENTRY POINT: \*?{entry}\*? - {re.escape(spec['short_description'])}"
        assert re.search(heading, text), f"no entry point {entry} in ansible-doc -t role"
        one = _doc(main_installed, "-t", "role", "-e", entry, ROLE)
        for option in spec["options"]:
            assert option in one, f"{option} missing from ansible-doc -e {entry}"
        assert set(data[entry]["options"]) == set(spec["options"])


def test_generated_docs_are_up_to_date():
    proc = subprocess.run(  # noqa: S603
        [sys.executable, str(REPO_ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    pages = {p.stem for p in (REPO_ROOT / "docs" / "modules").glob("*.md")} - {"README"}
    assert pages == set(source_modules())


def _table(name: str) -> dict[str, dict[str, str]]:
    text = USER_GUIDE.read_text(encoding="utf-8")
    block = text.split(f"<!-- BEGIN GENERATED {name} -->", 1)[1].split(f"<!-- END GENERATED {name} -->", 1)[0]
    rows = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows[cells[0].strip("`")] = {"type": cells[1], "default": cells[2], "description": cells[3]}
    return rows


def test_user_guide_variables_match_the_argument_specs():
    """Read back independently of the generator: every variable, its type and default."""
    specs = entry_points()
    documented = {**_table("role-variables main"), **_table("role-variables destroy")}
    expected = {**specs["main"]["options"], **specs["destroy"]["options"]}
    assert set(documented) == set(expected)
    for name, spec in expected.items():
        row = documented[name]
        assert row["type"].split(" of ")[0] == spec.get("type", "str"), name
        if spec.get("required"):
            assert row["default"] == "**required**", name
        else:
            assert yaml.safe_load(row["default"].strip("`")) == spec.get("default"), name
    # The teardown's table: what only it reads, and what it declares otherwise than main (e.g. not required).
    main_options = specs["main"]["options"]
    assert set(_table("role-variables destroy")) == {
        name for name, spec in specs["destroy"]["options"].items() if main_options.get(name) != spec
    }


def test_user_guide_database_variables_match_the_argument_specs():
    """The aurora_database role's tables, read back like the cluster role's: main lists all, rotate adds none."""
    path = REPO_ROOT / "roles" / "aurora_database" / "meta" / "argument_specs.yml"
    specs = yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]
    documented = _table("aurora_database role-variables main")
    expected = specs["main"]["options"]
    assert set(documented) == set(expected)
    for name, spec in expected.items():
        row = documented[name]
        assert row["type"].split(" of ")[0] == spec.get("type", "str"), name
        if spec.get("required"):
            assert row["default"] == "**required**", name
        else:
            assert yaml.safe_load(row["default"].strip("`")) == spec.get("default"), name
    text = USER_GUIDE.read_text(encoding="utf-8")
    for entry, spec in specs.items():
        if entry == "main":
            continue
        # Every other entry point (rotate) declares exactly main's variables, so its block lists none of its own.
        assert spec["options"] == expected, entry
        block = text.split(f"<!-- BEGIN GENERATED aurora_database role-variables {entry} -->", 1)[1]
        assert block.split("<!-- END GENERATED", 1)[0].strip().startswith("No variables of its own"), entry
