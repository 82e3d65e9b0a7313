"""Build one leg of the version matrix: a venv with an older ansible-core, amazon.aws and community.aws.

    python scripts/matrix_venv.py --dest build/matrix/core-2.17 --ansible-core 2.17.14 \
        --ansible-package 14.0.0 [--python /path/python3.12 | --python auto --python-range 3.10-3.12]

* creates ``DEST`` with ``--python`` (``auto``: the newest Python of ``--python-range``, the
  controller Pythons that ansible-core supports, on PATH or under ~/.pyenv) and installs ``ansible-core==VERSION`` plus boto3 and
  botocore, the rest of the tree pinned by constraints.txt (less the pins that belong to the
  main venv's newer ansible-core: ansible, ansible-core, resolvelib);
* takes the amazon.aws and community.aws collections (galaxy.yml's dependencies) out of the
  ``ansible`` package's wheel (``pip download --no-deps``: a registry download, cached by pip,
  no Galaxy) and unpacks them alone into ``DEST/collections/ansible_collections/``; the wheel's
  other collections are not installed;
* writes ``DEST/leg.json`` (ansible-core, amazon.aws and community.aws versions, paths) for the tests.

The tests (tests/release/test_matrix.py) find the legs by their leg.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PIP_VERSION = "26.3"
# Pinned by constraints.txt for the main venv's ansible-core; an older core pins its own.
NOT_CONSTRAINED = {"ansible", "ansible-core", "resolvelib"}
PIP_NOISE = re.compile(r"^WARNING: Location 'file:.*' is ignored")


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    out = "\n".join(line for line in (proc.stdout + proc.stderr).splitlines() if not PIP_NOISE.match(line))
    if proc.returncode != 0:
        sys.exit(f"matrix_venv: {' '.join(args)} failed ({proc.returncode}):\n{out}")
    return proc


def find_python(low: str, high: str) -> Path:
    """The newest working Python X.Y with low <= X.Y <= high, on PATH or in ~/.pyenv/versions."""
    lo, hi = (tuple(int(n) for n in v.split(".")) for v in (low, high))
    for minor in range(hi[1], lo[1] - 1, -1):
        name = f"python{hi[0]}.{minor}"
        candidates = [shutil.which(name)]
        candidates += sorted(Path.home().glob(f".pyenv/versions/{hi[0]}.{minor}*/bin/{name}"), reverse=True)
        for cand in filter(None, candidates):
            proc = subprocess.run(  # noqa: S603
                [str(cand), "-c", "import sys, venv; print(sys.executable)"],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode == 0:
                return Path(proc.stdout.strip())
    sys.exit(f"matrix_venv: no Python {low} to {high} found (PATH, ~/.pyenv); pass --python /path/to/python")


def filtered_constraints(dest: Path) -> Path:
    kept = []
    for line in (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        name = re.split(r"[=<>!~ \[;]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
        if name and not line.startswith("#") and name not in NOT_CONSTRAINED:
            kept.append(line)
    path = dest / "constraints-matrix.txt"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def extract_collections(python: Path, ansible_package: str, collections: Path, names) -> dict[str, str]:
    """Take the named collections out of the ``ansible`` package's wheel; {name: version}."""
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        run([str(python), "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "-d", tmp, f"ansible=={ansible_package}"])  # fmt: skip
        wheel = next(Path(tmp).glob("ansible-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for fqcn in names:
                namespace, name = fqcn.split(".")
                prefix = f"ansible_collections/{namespace}/{name}/"
                target = collections / "ansible_collections" / namespace / name
                shutil.rmtree(target, ignore_errors=True)
                members = [m for m in archive.namelist() if m.startswith(prefix)]
                if not members:
                    sys.exit(f"matrix_venv: {wheel.name} has no {fqcn} collection")
                archive.extractall(collections, members=members)
                manifest = json.loads((target / "MANIFEST.json").read_text(encoding="utf-8"))
                versions[fqcn] = manifest["collection_info"]["version"]
    return versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", required=True, type=Path)
    parser.add_argument("--python", default="auto", help="interpreter for the venv, or `auto`")
    parser.add_argument("--python-range", default="3.10-3.12", help="for --python auto: oldest-newest X.Y")
    parser.add_argument("--ansible-core", required=True, help="ansible-core version, e.g. 2.17.14")
    parser.add_argument("--ansible-package", required=True, help="`ansible` package whose amazon.aws to take")
    opts = parser.parse_args()

    dest = opts.dest.resolve()
    shutil.rmtree(dest, ignore_errors=True)
    interpreter = Path(opts.python) if opts.python != "auto" else find_python(*opts.python_range.split("-"))
    run([str(interpreter), "-m", "venv", str(dest)])
    python = dest / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, f"pip=={PIP_VERSION}"])
    constraints = filtered_constraints(dest)
    run([*pip, "-c", str(constraints), f"ansible-core=={opts.ansible_core}", "boto3", "botocore"])

    collections = dest / "collections"
    # The collections galaxy.yml depends on, as that release of the `ansible` package ships them.
    versions = extract_collections(python, opts.ansible_package, collections, ("amazon.aws", "community.aws"))
    amazon_aws = versions["amazon.aws"]
    core = run([str(dest / "bin" / "ansible"), "--version"]).stdout.splitlines()[0]
    leg = {
        "name": dest.name,
        "ansible_core": run([str(python), "-c", "import ansible; print(ansible.__version__)"]).stdout.strip(),
        "amazon_aws": amazon_aws,
        "community_aws": versions["community.aws"],
        "python": run([str(python), "-c", "import platform; print(platform.python_version())"]).stdout.strip(),
        "bin": str(dest / "bin"),
        "collections_path": str(collections),
    }
    (dest / "leg.json").write_text(json.dumps(leg, indent=2) + "\n", encoding="utf-8")
    print(
        f"matrix_venv: {dest.name}: {core}, amazon.aws {amazon_aws}, community.aws {versions['community.aws']}, "
        f"Python {leg['python']}"
    )


if __name__ == "__main__":
    main()
