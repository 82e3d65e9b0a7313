"""Rewrite the shipped Aurora PostgreSQL catalogue from a real AWS account.

    .venv/bin/python scripts/refresh_catalog.py [--region us-east-1] [--profile NAME] [--majors 16 17]
    .venv/bin/python scripts/refresh_catalog.py --from-json reviewed.json   # render a reviewed JSON file
    .venv/bin/python scripts/refresh_catalog.py --to-json > catalog.json    # the shipped catalogue as JSON

The catalogue is what vitality.aurora.aurora_preflight falls back on where the RDS API lists nothing (the local
AWS, moto, has no engine or parameter catalogue): the engine versions of the chosen major versions with their
parameter group family and exportable log types, the instance classes orderable for each major version (the union
over its versions), and the default DB cluster parameters of each family with AllowedValues, ApplyType, DataType,
IsModifiable and MinimumEngineVersion. It is read with DescribeDBEngineVersions, DescribeOrderableDBInstanceOptions
and DescribeEngineDefaultClusterParameters only (read-only; credentials the usual boto3 way), and written sorted, so
two runs against the same account give the same file, with the date of the run and where the data came from.

The file is a Python module (plugins/module_utils/catalog_data_aurora_postgresql.py), not JSON: Ansible ships a
module's Python module_utils with it, never data files, so a JSON file would be missing wherever the module runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "plugins" / "module_utils" / "catalog_data_aurora_postgresql.py"
ENGINE = "aurora-postgresql"
LINE_LENGTH = 120
PARAMETER_FIELDS = ("AllowedValues", "ApplyType", "DataType", "IsModifiable", "MinimumEngineVersion")

HEADER = '''# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped catalogue of Aurora PostgreSQL engine versions, instance classes and cluster parameters.

Written by scripts/refresh_catalog.py (from a real AWS account, or from a reviewed JSON file with --from-json);
change it through that script, never by hand. ``CATALOG["generated"]`` and ``CATALOG["source"]`` say when and from
what it was made. vitality.aurora.aurora_preflight uses it only where the RDS API lists nothing
(plugins/module_utils/catalog.py decides when).
"""

from __future__ import annotations

CATALOG = '''


def version_key(version: str) -> tuple:
    """16.10 after 16.9: versions compare by their numbers, not as text."""
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))


# -- rendering: a Python literal in ruff's own format, so `ruff format --check` passes on the output ---------------


def _string(value: str) -> str:
    text = repr(value)
    if text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


def _chunks(value: str, width: int) -> list[str]:
    """Pieces of a long string, each ending at a comma or space where possible, at most ``width`` once quoted."""
    pieces, current = [], ""
    for token in re.findall(r"[^, ]*[, ]|[^, ]+$", value):
        if current and len(_string(current + token)) > width:
            pieces.append(current)
            current = ""
        current += token
        while len(_string(current)) > width:  # one token longer than a line: cut it anywhere
            pieces.append(current[: width - 2])
            current = current[width - 2 :]
    return [*pieces, current] if current or not pieces else pieces


def _literal(value, indent: int, prefix: str) -> list[str]:
    """Lines of ``prefix`` + the literal of ``value`` at ``indent`` spaces, with trailing commas everywhere."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        lines = [f"{pad}{prefix}{{"]
        for key in sorted(value):
            lines += _literal(value[key], indent + 4, f"{_string(key)}: ")
            lines[-1] += ","
        return [*lines, f"{pad}}}"]
    if isinstance(value, list) and value:
        lines = [f"{pad}{prefix}["]
        for item in value:
            lines += _literal(item, indent + 4, "")
            lines[-1] += ","
        return [*lines, f"{pad}]"]
    if isinstance(value, str):
        text = _string(value)
        if len(pad) + len(prefix) + len(text) + 1 > LINE_LENGTH:
            inner = " " * (indent + 4)
            pieces = _chunks(value, LINE_LENGTH - len(inner))
            return [f"{pad}{prefix}(", *[f"{inner}{_string(piece)}" for piece in pieces], f"{pad})"]
        return [f"{pad}{prefix}{text}"]
    if isinstance(value, bool) or value is None:
        return [f"{pad}{prefix}{value!r}"]
    if isinstance(value, int | float):
        return [f"{pad}{prefix}{value!r}"]
    if isinstance(value, dict | list):
        return [f"{pad}{prefix}{'{}' if isinstance(value, dict) else '[]'}"]
    raise TypeError(f"cannot render {type(value).__name__} {value!r}")


def render(catalog: dict) -> str:
    """The text of the data module holding ``catalog``: deterministic (keys sorted), in ruff's format."""
    body = _literal(catalog, 0, "")
    return HEADER + "\n".join(body) + "\n"


def check_shape(catalog: dict) -> None:
    """Refuse a catalogue the module could not use (or one read from an endpoint without catalogues)."""
    for key in ("engine", "generated", "source", "engine_versions", "orderable_instance_classes", "cluster_parameters"):
        if key not in catalog:
            raise SystemExit(f"refresh_catalog: the catalogue lacks {key!r}")
    if not catalog["engine_versions"]:
        raise SystemExit("refresh_catalog: no engine versions: the API listed none (is this a real AWS account?)")
    for entry in catalog["engine_versions"]:
        if not entry.get("EngineVersion") or not entry.get("DBParameterGroupFamily"):
            raise SystemExit(f"refresh_catalog: an engine version without EngineVersion or family: {entry!r}")
    families = {entry["DBParameterGroupFamily"] for entry in catalog["engine_versions"]}
    missing = sorted(families - set(catalog["cluster_parameters"]))
    if missing:
        raise SystemExit(f"refresh_catalog: no cluster parameters for {', '.join(missing)}")
    for family, entry in catalog["cluster_parameters"].items():
        if not entry.get("parameters"):
            raise SystemExit(f"refresh_catalog: the API listed no cluster parameters for {family}")


# -- reading a real account ----------------------------------------------------------------------------------------


def _all(client, method: str, **params) -> dict:
    return client.get_paginator(method).paginate(**params).build_full_result()


def read_account(rds, region: str, majors: list[str], today: str) -> dict:
    listed = _all(rds, "describe_db_engine_versions", Engine=ENGINE).get("DBEngineVersions") or []
    versions = sorted(
        (v for v in listed if v.get("EngineVersion", "").split(".")[0] in majors),
        key=lambda v: version_key(v["EngineVersion"]),
    )
    engine_versions = []
    for version in versions:
        entry = {"EngineVersion": version["EngineVersion"], "DBParameterGroupFamily": version["DBParameterGroupFamily"]}
        if "ExportableLogTypes" in version:
            entry["ExportableLogTypes"] = sorted(version["ExportableLogTypes"])
        engine_versions.append(entry)
    classes: dict[str, set[str]] = {}
    for entry in engine_versions:
        options = _all(
            rds, "describe_orderable_db_instance_options", Engine=ENGINE, EngineVersion=entry["EngineVersion"]
        ).get("OrderableDBInstanceOptions")
        major = entry["EngineVersion"].split(".")[0]
        classes.setdefault(major, set()).update(o["DBInstanceClass"] for o in options or [] if o.get("DBInstanceClass"))
    parameters = {}
    for family in sorted({entry["DBParameterGroupFamily"] for entry in engine_versions}):
        answer = _all(rds, "describe_engine_default_cluster_parameters", DBParameterGroupFamily=family)
        listed = (answer.get("EngineDefaults") or {}).get("Parameters") or []
        parameters[family] = {
            "complete": True,
            "parameters": {
                p["ParameterName"]: {field: p[field] for field in PARAMETER_FIELDS if field in p} for p in listed
            },
        }
    return {
        "engine": ENGINE,
        "generated": today,
        "source": (
            f"Read on {today} from the RDS API in {region} by scripts/refresh_catalog.py: DescribeDBEngineVersions, "
            "DescribeOrderableDBInstanceOptions (the union over each major version's versions) and "
            f"DescribeEngineDefaultClusterParameters, for {ENGINE} {', '.join(majors)}."
        ),
        "engine_versions": engine_versions,
        "orderable_instance_classes": {major: sorted(found) for major, found in sorted(classes.items())},
        "cluster_parameters": parameters,
    }


def load_shipped() -> dict:
    namespace: dict = {}
    exec(compile(OUTPUT.read_text(encoding="utf-8"), str(OUTPUT), "exec"), namespace)  # noqa: S102 - our own file
    return namespace["CATALOG"]


def write(catalog: dict, output: Path) -> None:
    check_shape(catalog)
    output.write_text(render(catalog), encoding="utf-8")
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if Path(ruff).exists():  # render() already writes ruff's format; this only guards against a newer ruff
        subprocess.run([ruff, "format", "--quiet", str(output)], check=True)  # noqa: S603
    print(f"refresh_catalog: wrote {output} ({len(catalog['engine_versions'])} engine versions)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--region", default="us-east-1", help="the Region to read (default us-east-1)")
    parser.add_argument("--profile", help="an AWS profile; default: boto3's usual credential chain")
    parser.add_argument("--majors", nargs="+", default=["16", "17"], help="major versions to keep (default 16 17)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default {OUTPUT.relative_to(REPO_ROOT)}")
    parser.add_argument("--from-json", type=Path, help="render this JSON catalogue instead of reading AWS")
    parser.add_argument("--to-json", action="store_true", help="print the shipped catalogue as JSON and stop")
    args = parser.parse_args(argv)
    if args.to_json:
        print(json.dumps(load_shipped(), indent=2, sort_keys=True))
        return 0
    if args.from_json:
        write(json.loads(args.from_json.read_text(encoding="utf-8")), args.output)
        return 0
    import boto3  # only this path needs AWS

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    write(read_account(session.client("rds"), args.region, list(args.majors), today), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
