"""Put the Mermaid library the stack reports embed into roles/aurora_cluster/files/ (from the npm registry).

    python scripts/fetch_mermaid.py

The HTML report (playbooks/report.yml) carries the library inside the file, so that it renders with no network
when it is opened. The library is not kept in git: this script fetches the pinned release with ``npm pack``
(the registry npm is configured for), checks it against the integrity hash the registry publishes for that
release, and copies ``dist/mermaid.min.js`` and its licence beside the role. Nothing is done when both files are
there already and the library is the pinned one. `make venv` runs it, so tests and Galaxy builds have it.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VERSION = "12.3.0"
# `npm view mermaid@12.3.0 dist.integrity`
INTEGRITY = "sha512-4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+65PRN6yZ69J4f8rVYWW8zRk65UYw=="
FILES_DIR = REPO_ROOT / "roles" / "aurora_cluster" / "files"
LIBRARY = FILES_DIR / "mermaid.min.js"
LICENCE = FILES_DIR / "mermaid.LICENSE"
STAMP = FILES_DIR / "mermaid.version"


def integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def main() -> None:
    if LIBRARY.is_file() and LICENCE.is_file() and STAMP.is_file() and STAMP.read_text().strip() == VERSION:
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("fetch_mermaid: npm is not installed (Debian: apt-get install npm); it fetches the Mermaid library")
    with tempfile.TemporaryDirectory() as work:
        proc = subprocess.run(  # noqa: S603
            [npm, "pack", f"mermaid@{VERSION}", "--pack-destination", work, "--silent"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            sys.exit(f"fetch_mermaid: npm pack mermaid@{VERSION} failed:\n{proc.stdout}{proc.stderr}")
        (tarball,) = Path(work).glob("mermaid-*.tgz")
        if integrity_of(tarball) != INTEGRITY:
            sys.exit(f"fetch_mermaid: {tarball.name} does not match the published integrity {INTEGRITY}")
        FILES_DIR.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            for member, target in (("package/dist/mermaid.min.js", LIBRARY), ("package/LICENSE", LICENCE)):
                source = archive.extractfile(member)
                if source is None:
                    sys.exit(f"fetch_mermaid: {member} is missing from {tarball.name}")
                target.write_bytes(source.read())
    STAMP.write_text(VERSION + "\n")
    print(f"fetch_mermaid: Mermaid {VERSION} -> {LIBRARY.relative_to(REPO_ROOT)} ({LIBRARY.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
