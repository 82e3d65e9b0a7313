"""Generate the reference parts of docs/ from the collection's own documentation.

* ``docs/modules/<module>.md``, one page per module in plugins/modules, from its
  DOCUMENTATION, EXAMPLES and RETURN (read with ``ast``: nothing is imported), and
  ``docs/modules/README.md``, their index;
* the variable tables of ``docs/user-guide.md`` (between ``<!-- BEGIN GENERATED ... -->`` and
  ``<!-- END GENERATED ... -->``), from roles/<role>/meta/argument_specs.yml of each role of ROLES: the
  block ``role-variables <entry point>`` (aurora_cluster) or ``<role> role-variables <entry point>`` (the others).

    python scripts/gen_docs.py           # write the files (`make docs`)
    python scripts/gen_docs.py --check   # exit 1 and name the files that are not up to date

tests/release/test_docs.py runs ``--check``, so the pages cannot drift from the code.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULES_DIR = REPO_ROOT / "plugins" / "modules"
DOC_FRAGMENTS_DIR = REPO_ROOT / "plugins" / "doc_fragments"
DOCS_DIR = REPO_ROOT / "docs"
MODULE_DOCS_DIR = DOCS_DIR / "modules"
USER_GUIDE = DOCS_DIR / "user-guide.md"
ROLES_DIR = REPO_ROOT / "roles"
# The roles whose variables docs/user-guide.md lists: role -> the prefix of its blocks' names. aurora_cluster,
# the first, has unprefixed names (``role-variables main``).
ROLES = {"aurora_cluster": "", "aurora_database": "aurora_database "}

# What the amazon.aws documentation fragments the modules extend add to them.
FRAGMENT_OPTIONS = {
    "amazon.aws.common.modules": "`access_key`, `secret_key`, `session_token`, `profile`, `endpoint_url`, "
    "`aws_ca_bundle`, `aws_config`, `validate_certs`, `debug_botocore_endpoint_logs`",
    "amazon.aws.region.modules": "`region`",
    "amazon.aws.tags": "`tags`, `purge_tags`",
    "amazon.aws.boto3": "none; requires the Python libraries boto3 and botocore (meta/ee-requirements.txt)",
}

_MARKUP = re.compile(r"\b(RV|C|V|O|E|P|I|B|M|U|L)\(([^()]*)\)")


def galaxy() -> dict:
    return yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text(encoding="utf-8"))


def fqcn_prefix() -> str:
    data = galaxy()
    return f"{data['namespace']}.{data['name']}."


def markup(text: str, link_base: str = "") -> str:
    """Ansible documentation markup (C(), O(), M(), ...) to Markdown."""
    prefix = fqcn_prefix()

    def repl(match: re.Match) -> str:
        kind, arg = match.groups()
        if kind in ("C", "V", "O", "RV", "E", "P"):
            return f"`{arg}`"
        if kind == "I":
            return f"*{arg}*"
        if kind == "B":
            return f"**{arg}**"
        if kind == "U":
            return f"<{arg}>"
        if kind == "L":
            label, url = arg.rsplit(",", 1) if "," in arg else (arg, arg)
            return f"[{label.strip()}]({url.strip()})"
        if arg.startswith(prefix):  # M(): a module of this collection gets a link
            return f"[{arg}]({link_base}{arg.removeprefix(prefix)}.md)"
        return f"`{arg}`"

    return _MARKUP.sub(repl, str(text))


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def paragraphs(value, link_base: str = "") -> str:
    return "\n\n".join(markup(p, link_base) for p in as_list(value))


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def yaml_value(value) -> str:
    """A value as one line of YAML (what a user writes in an inventory); round-trips with yaml.safe_load."""
    dumped = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1_000_000)
    return dumped.removesuffix("\n...\n").strip()


def fragment_options(name: str) -> dict:
    """The options of plugins/doc_fragments/<name>.py (its ModuleDocFragment.DOCUMENTATION, read with ast)."""
    path = DOC_FRAGMENTS_DIR / f"{name}.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["DOCUMENTATION"]:
            return yaml.safe_load(node.value.value).get("options") or {}
    raise SystemExit(f"gen_docs: {path} has no DOCUMENTATION")


def read_module(path: Path) -> dict:
    blocks, lines = {}, {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("DOCUMENTATION", "EXAMPLES", "RETURN") and isinstance(node.value, ast.Constant):
                blocks[name], lines[name] = node.value.value, node.value.lineno
    if "DOCUMENTATION" not in blocks:
        raise SystemExit(f"gen_docs: {path} has no DOCUMENTATION")

    def load(name: str):
        try:
            return yaml.safe_load(blocks.get(name) or "")
        except yaml.MarkedYAMLError as exc:  # positions in the .py file, not in the string
            for mark in (exc.context_mark, exc.problem_mark):
                if mark is not None:
                    mark.name, mark.line = str(path.relative_to(REPO_ROOT)), mark.line + lines[name] - 1
            raise SystemExit(
                f"gen_docs: the {name} of {path.relative_to(REPO_ROOT)} is not valid YAML:\n{exc}"
            ) from None

    doc = load("DOCUMENTATION")
    # The collection's own fragments are part of the module's options, as ansible-doc shows them.
    fragments = as_list(doc.get("extends_documentation_fragment"))
    own = [f for f in fragments if f.startswith(fqcn_prefix())]
    for fragment in own:
        doc.setdefault("options", {}).update(fragment_options(fragment.removeprefix(fqcn_prefix())))
    doc["extends_documentation_fragment"] = [f for f in fragments if f not in own]
    return {
        "doc": doc,
        "examples": blocks.get("EXAMPLES", "").strip("\n"),
        "returns": load("RETURN") or {},
    }


def modules() -> list[Path]:
    return sorted(p for p in MODULES_DIR.glob("*.py") if not p.name.startswith("_"))


def option_rows(options: dict, parent: str = "") -> list[str]:
    rows = []
    for name in sorted(options):
        opt = options[name] or {}
        full = f"{parent}{name}"
        kind = opt.get("type", "str")
        if opt.get("elements"):
            kind += f" / elements={opt['elements']}"
        default = "" if "default" not in opt or opt["default"] is None else f"`{cell(yaml_value(opt['default']))}`"
        choices = ", ".join(f"`{cell(yaml_value(c))}`" for c in as_list(opt.get("choices")))
        desc = " ".join(markup(d) for d in as_list(opt.get("description")))
        if opt.get("aliases"):
            desc += " Aliases: " + ", ".join(f"`{a}`" for a in opt["aliases"]) + "."
        required = "yes" if opt.get("required") else ""
        rows.append(f"| `{full}` | {kind} | {required} | {default} | {choices} | {cell(desc)} |")
        if opt.get("suboptions"):
            rows += option_rows(opt["suboptions"], f"{full}.")
    return rows


def return_rows(returns: dict, parent: str = "") -> list[str]:
    rows = []
    for name in sorted(returns):
        ret = returns[name] or {}
        full = f"{parent}{name}"
        kind = ret.get("type", "")
        if ret.get("elements"):
            kind += f" / elements={ret['elements']}"
        desc = " ".join(markup(d) for d in as_list(ret.get("description")))
        rows.append(f"| `{full}` | {kind} | {cell(markup(ret.get('returned', '')))} | {cell(desc)} |")
        if ret.get("contains"):
            rows += return_rows(ret["contains"], f"{full}.")
    return rows


def render_module(path: Path) -> str:
    info = read_module(path)
    doc, name = info["doc"], info["doc"]["module"]
    fqcn = fqcn_prefix() + name
    out = [
        f"<!-- Generated by scripts/gen_docs.py from plugins/modules/{path.name}; do not edit (make docs). -->",
        "",
        f"# {fqcn}",
        "",
        f"{markup(doc['short_description'])}.",
        "",
    ]
    if doc.get("version_added"):
        out += [f"*Added in version {doc['version_added']} of {fqcn_prefix().rstrip('.')}.*", ""]
    out += ["## Synopsis", ""] + [f"- {markup(d)}" for d in as_list(doc.get("description"))] + [""]
    if doc.get("requirements"):
        out += ["## Requirements", ""] + [f"- {markup(r)}" for r in as_list(doc["requirements"])] + [""]
    out += [
        "## Parameters",
        "",
        "| Parameter | Type | Required | Default | Choices | Description |",
        "| --- | --- | --- | --- | --- | --- |",
        *option_rows(doc.get("options") or {}),
        "",
    ]
    fragments = as_list(doc.get("extends_documentation_fragment"))
    if fragments:
        out += [
            "### Common options from amazon.aws",
            "",
            "The module also takes the options of these amazon.aws documentation fragments; "
            f"`ansible-doc {fqcn}` shows them in full. Set the connection options once for every module of "
            "the collection (and of amazon.aws) with `module_defaults: group/vitality.aurora.aws` "
            "(see the [user guide](../user-guide.md#aws-connection-options)).",
            "",
            *[f"- `{frag}`: {FRAGMENT_OPTIONS.get(frag, 'see amazon.aws')}" for frag in fragments],
            "",
        ]
    if doc.get("notes"):
        out += ["## Notes", ""] + [f"- {markup(n)}" for n in as_list(doc["notes"])] + [""]
    if doc.get("seealso"):
        out += ["## See also", ""]
        for ref in as_list(doc["seealso"]):
            target = ref.get("module") or ref.get("link") or ref.get("ref") or ""
            out.append(
                f"- {markup('M(' + target + ')') if ref.get('module') else target}: {ref.get('description', '')}"
            )
        out.append("")
    out += ["## Examples", "", "```yaml", info["examples"], "```", ""]
    if info["returns"]:
        out += [
            "## Return values",
            "",
            "| Key | Type | Returned | Description |",
            "| --- | --- | --- | --- |",
            *return_rows(info["returns"]),
            "",
        ]
    authors = ", ".join(as_list(doc.get("author")))
    if authors:
        out += ["## Authors", "", f"- {authors}", ""]
    return "\n".join(out)


def render_index(paths: list[Path]) -> str:
    out = [
        "<!-- Generated by scripts/gen_docs.py from plugins/modules; do not edit (make docs). -->",
        "",
        "# Modules of vitality.aurora",
        "",
        "| Module | What it does |",
        "| --- | --- |",
    ]
    for path in paths:
        doc = read_module(path)["doc"]
        out.append(f"| [{fqcn_prefix()}{doc['module']}]({path.stem}.md) | {cell(markup(doc['short_description']))} |")
    out += [
        "",
        "Every module supports check mode; `ansible-doc vitality.aurora.<module>` shows the same documentation.",
        "The [user guide](../user-guide.md) covers the role and the playbooks.",
        "",
    ]
    return "\n".join(out)


def variable_table(options: dict) -> str:
    rows = ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name, opt in options.items():
        kind = opt.get("type", "str")
        if opt.get("elements"):
            kind += f" of {opt['elements']}"
        default = "**required**" if opt.get("required") else f"`{cell(yaml_value(opt.get('default')))}`"
        desc = " ".join(markup(d, "modules/") for d in as_list(opt.get("description")))
        if opt.get("choices"):
            desc += " Choices: " + ", ".join(f"`{c}`" for c in opt["choices"]) + "."
        if opt.get("no_log") and "Never logged" not in desc:
            desc += " Never logged."
        rows.append(f"| `{name}` | {kind} | {default} | {cell(desc)} |")
    return "\n".join(rows)


def role_tables(role: str, prefix: str = "") -> dict[str, str]:
    """{block name: Markdown table}: the main entry point's variables, then those each other entry point adds."""
    path = ROLES_DIR / role / "meta" / "argument_specs.yml"
    specs = yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]
    tables = {}
    seen: dict = {}
    for entry, spec in specs.items():
        own = {k: v for k, v in (spec.get("options") or {}).items() if seen.get(k) != v}
        seen.update(spec.get("options") or {})
        # An entry point that reads nothing an earlier one does not (report reads what main reads) says so.
        tables[f"{prefix}role-variables {entry}"] = (
            variable_table(own) if own else "No variables of its own: all it reads are listed above."
        )
    return tables


def user_guide() -> str:
    blocks = {name: table for role, prefix in ROLES.items() for name, table in role_tables(role, prefix).items()}
    return fill_blocks(USER_GUIDE.read_text(encoding="utf-8"), blocks, USER_GUIDE)


def fill_blocks(text: str, blocks: dict[str, str], where: Path) -> str:
    for name, body in blocks.items():
        begin, end = f"<!-- BEGIN GENERATED {name} -->", f"<!-- END GENERATED {name} -->"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise SystemExit(f"gen_docs: {where} has no '{begin}' ... '{end}' block")
        text = pattern.sub(lambda _m, b=begin, e=end, body=body: f"{b}\n{body}\n{e}", text)
    return text


def expected_files() -> dict[Path, str]:
    paths = modules()
    files = {MODULE_DOCS_DIR / f"{p.stem}.md": render_module(p) for p in paths}
    files[MODULE_DOCS_DIR / "README.md"] = render_index(paths)
    files[USER_GUIDE] = user_guide()
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail when a file is not up to date")
    opts = parser.parse_args()
    files = expected_files()
    stale = [p for p, text in files.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    extra = sorted(set(MODULE_DOCS_DIR.glob("*.md")) - set(files))
    if opts.check:
        for path in stale:
            print(f"gen_docs: {path.relative_to(REPO_ROOT)} is not up to date", file=sys.stderr)
        for path in extra:
            print(f"gen_docs: {path.relative_to(REPO_ROOT)} documents no module", file=sys.stderr)
        if stale or extra:
            print("gen_docs: run `make docs`", file=sys.stderr)
            return 1
        return 0
    MODULE_DOCS_DIR.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(files[path], encoding="utf-8")
        print(f"gen_docs: wrote {path.relative_to(REPO_ROOT)}")
    for path in extra:
        path.unlink()
        print(f"gen_docs: removed {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
