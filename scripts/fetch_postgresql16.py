"""Put PostgreSQL 16 server binaries into build/postgresql16 (from PyPI's pgserver wheel) and print their bindir.

As root they go to /var/tmp/vitality-aurora/postgresql16 instead (the postgres OS user runs the server and must
reach them; a clone's folders may be private); POSTGRESQL16_DIR names another place.

    python scripts/fetch_postgresql16.py

Debian 12 ships PostgreSQL 15 only, and Aurora PostgreSQL 16 is what the database code targets: its
PostgreSQL-16-only branches (``GRANT ... WITH INHERIT FALSE, SET TRUE``, ``pg_has_role(..., 'SET')``) run in
tests/integration/test_database_pg16.py against these binaries.  The ``pgserver`` wheel (0.1.4, cp312
manylinux2014 x86_64) carries a relocatable PostgreSQL 16.2 build (no OpenSSL, no contrib: the stand-in runs
without TLS and without pg_stat_statements).  A wheel is a zip; its binaries need no Python.  This script
downloads the pinned wheel with pip (``pip download``, the index pip is configured for), checks its SHA-256,
and unzips ``pgserver/pginstall/`` (bin, lib, share) and ``pgserver.libs/`` (the libpq initdb loads through
its RPATH) into build/postgresql16.  Nothing is downloaded when the pinned wheel is unpacked there already.
Concurrent runs (parallel test workers) wait for each other on a lock file.

On a machine that is not x86_64 Linux there is no such wheel: it says so and exits 3 (the tests skip).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.1.4"
WHEEL = f"pgserver-{VERSION}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
# sha256 of the file pypi.org serves (https://pypi.org/project/pgserver/0.1.4/#files).
SHA256 = "1a5d07c61d51f2abfef4ef61e2ef5cd014b994f7e09de8d3c140d2cf370e84a8"
POSTGRES_VERSION = "16.2"


def _dest() -> Path:
    override = os.environ.get("POSTGRESQL16_DIR")
    if override:
        return Path(override).resolve()
    # As root the server runs as the postgres OS user, which must reach the binaries; a clone's own folders may
    # be private to root (mktemp -d makes them 0700), so the binaries then go to a place anyone can read.
    if os.geteuid() == 0:
        return Path("/var/tmp/vitality-aurora/postgresql16")
    return REPO_ROOT / "build" / "postgresql16"


DEST = _dest()
BINDIR = DEST / "pgserver" / "pginstall" / "bin"
STAMP = DEST / ".wheel-sha256"
LOCK = DEST.parent / ".postgresql16.lock"
MEMBERS = ("pgserver/pginstall/", "pgserver.libs/")
BINARIES = ("initdb", "pg_ctl", "postgres")
MACHINES = ("x86_64", "amd64")
UNSUPPORTED = 3  # exit status on another architecture


class FetchError(RuntimeError):
    """The wheel could not be downloaded, checked or unpacked."""


def unsupported_reason() -> str | None:
    """Why this machine cannot run the wheel's binaries, or None when it can."""
    machine = platform.machine().lower()
    if sys.platform != "linux" or machine not in MACHINES:
        return (
            f"PostgreSQL 16 binaries come from pgserver {VERSION}'s manylinux2014 x86_64 wheel; "
            f"this machine is {sys.platform} {platform.machine() or 'unknown'}"
        )
    return None


def ready() -> bool:
    """True when the pinned wheel is unpacked in DEST (the stamp names its hash) and the binaries are there."""
    try:
        stamped = STAMP.read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return stamped == SHA256 and all(os.access(BINDIR / name, os.X_OK) for name in BINARIES)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(work: Path) -> Path:
    """pip download of the pinned wheel into work; returns its path (checked)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        f"pgserver=={VERSION}",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        "3.12",
        "--platform",
        "manylinux2014_x86_64",
        "--disable-pip-version-check",
        "--quiet",
        "-d",
        str(work),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    wheel = work / WHEEL
    if proc.returncode != 0 or not wheel.is_file():
        raise FetchError(f"pip download pgserver=={VERSION} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    found = sha256_of(wheel)
    if found != SHA256:
        raise FetchError(f"{WHEEL} has sha256 {found}, not the pinned {SHA256}")
    return wheel


def unpack(wheel: Path, target: Path) -> int:
    """Extract MEMBERS of the wheel into target with their Unix modes (zipfile drops them); returns the bytes."""
    total = 0
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            if not name.startswith(MEMBERS):
                continue
            parts = Path(name).parts
            if name.startswith("/") or ".." in parts:
                raise FetchError(f"{wheel.name} holds an unsafe path: {name}")
            path = target.joinpath(*parts)
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, path.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            mode = (info.external_attr >> 16) & 0o777
            # Readable by all: when the tests run as root, the server runs as the postgres user.
            os.chmod(path, (mode or 0o644) | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            total += info.file_size
    for directory in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        os.chmod(directory, 0o755)
    return total


def ensure() -> Path:
    """The bindir of the unpacked PostgreSQL 16, downloading and unpacking the wheel when needed."""
    reason = unsupported_reason()
    if reason:
        raise FetchError(reason)
    if ready():
        return BINDIR
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(LOCK.parent, 0o755)  # traversable by the server's OS user
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready():  # another process did it while this one waited
            return BINDIR
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="postgresql16-", dir=DEST.parent) as work:
            wheel = download(Path(work))
            fetched = time.monotonic() - started
            staging = Path(work) / "unpacked"
            size = unpack(wheel, staging)
            (staging / STAMP.name).write_text(SHA256 + "\n", encoding="utf-8")
            shutil.rmtree(DEST, ignore_errors=True)
            staging.rename(DEST)
            os.chmod(DEST, 0o755)
            print(
                f"fetch_postgresql16: pgserver {VERSION} (PostgreSQL {POSTGRES_VERSION}) wheel "
                f"{wheel.stat().st_size / 1e6:.1f} MB in {fetched:.1f}s, {size / 1e6:.1f} MB unpacked into "
                f"{DEST}",
                file=sys.stderr,
            )
    if not ready():
        raise FetchError(f"{WHEEL} unpacked, but {BINDIR} lacks {', '.join(BINARIES)}")
    return BINDIR


def main() -> int:
    try:
        bindir = ensure()
    except FetchError as exc:
        print(f"fetch_postgresql16: {exc}", file=sys.stderr)
        return UNSUPPORTED if unsupported_reason() else 1
    print(bindir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
