"""Provide ansible-test's pip bootstrap script without reaching its download host.

``ansible-test ... --venv`` creates empty virtual environments and bootstraps pip
in them by running a ``get-pip.py`` style script.  It downloads that script from a
host that is not reachable from this project's machines, but first looks for it in
a cache file (``~/.ansible/test/cache/get_pip_<version>.py``, version dots turned
into underscores).  This tool writes an equivalent script there:

* the pip wheel of exactly the version ansible-test asks for is fetched with
  ``pip download`` (PyPI is reachable; a wheel already in ``build/get-pip`` is reused);
* the wheel is embedded (base64) in the generated script, which, when run, puts the
  wheel on ``sys.path`` and runs ``pip install --upgrade --force-reinstall`` with the
  arguments ansible-test passes (``--no-setuptools``/``--no-wheel`` are get-pip
  options and are dropped; when only pip is requested the install uses
  ``--no-index`` with the embedded wheel, so it needs no network at all).

A cache file that was not written by this tool (e.g. a real get-pip.py placed by
hand) is left alone.
"""

from __future__ import annotations

import argparse
import base64
import glob
import os
import re
import subprocess
import sys
from pathlib import Path

MARKER = "# generated-by: vitality.aurora scripts/offline_get_pip.py"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WHEEL_DIR = REPO_ROOT / "build" / "get-pip"

TEMPLATE = '''#!/usr/bin/env python
{marker}
# Offline equivalent of get-pip.py for pip {version}: installs the embedded wheel.
import base64
import os
import shutil
import sys
import tempfile

WHEEL_NAME = {wheel_name!r}
WHEEL_B64 = """
{wheel_b64}
"""


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    requested = [a for a in args if not a.startswith("-")]
    tmp = tempfile.mkdtemp(prefix="offline-get-pip-")
    try:
        wheel = os.path.join(tmp, WHEEL_NAME)
        with open(wheel, "wb") as handle:
            handle.write(base64.b64decode(WHEEL_B64))
        sys.path.insert(0, wheel)
        from pip._internal.cli.main import main as pip_main

        pip_args = ["install", "--upgrade", "--force-reinstall", "--find-links", tmp]
        if all(r.split("=")[0].split("<")[0].split(">")[0].strip().lower() == "pip" for r in requested):
            pip_args.append("--no-index")
        if not requested:
            pip_args.append(wheel)
        return pip_main(pip_args + args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
'''


def ansible_test_pip_version() -> str:
    """Return the pip version ansible-test bootstraps into its virtual environments."""
    import ansible_test

    source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"default_packages\s*=\s*dict\(\s*pip\s*=\s*'([^']+)'", source.read_text())
    if not match:
        raise SystemExit(f"offline_get_pip: cannot find the pip version ansible-test uses in {source}")
    return match.group(1)


def cache_path(version: str) -> Path:
    # Same expression as ansible_test/_util/target/setup/requirements.py (bootstrap()).
    return Path(os.path.expanduser(f"~/.ansible/test/cache/get_pip_{version.replace('.', '_')}.py"))


def fetch_wheel(version: str, wheel_dir: Path) -> Path:
    pattern = str(wheel_dir / f"pip-{version}-*.whl")
    found = sorted(glob.glob(pattern))
    if not found:
        wheel_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(wheel_dir),
            f"pip=={version}",
        ]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        found = sorted(glob.glob(pattern))
    if not found:
        raise SystemExit(f"offline_get_pip: pip {version} wheel not found in {wheel_dir}")
    return Path(found[0])


def ensure(version: str | None = None, wheel_dir: Path = DEFAULT_WHEEL_DIR, force: bool = False) -> Path:
    """Make sure ansible-test's get-pip cache file exists; return its path."""
    version = version or ansible_test_pip_version()
    target = cache_path(version)
    if target.exists() and target.stat().st_size > 0 and not force:
        return target  # ours from an earlier run, or a real get-pip.py placed by hand
    wheel = fetch_wheel(version, wheel_dir)
    encoded = base64.b64encode(wheel.read_bytes()).decode("ascii")
    lines = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    content = TEMPLATE.format(marker=MARKER, version=version, wheel_name=wheel.name, wheel_b64=lines)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(content)
    tmp.replace(target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pip-version", help="pip version (default: the one ansible-test bootstraps)")
    parser.add_argument("--wheel-dir", type=Path, default=DEFAULT_WHEEL_DIR)
    parser.add_argument("--force", action="store_true", help="rewrite the cache file even if present")
    args = parser.parse_args()
    path = ensure(args.pip_version, args.wheel_dir, args.force)
    print(f"offline get-pip: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
