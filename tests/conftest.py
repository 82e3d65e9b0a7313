"""Pytest configuration shared by tests/unit and tests/integration.

Fixtures:

* ``local_aws`` (session): a moto_server of the session's own on a free port
  (never the demo's), see tests/local_aws.py.  Has ``endpoint_url``, ``env()``,
  ``client(service)``, ``reset()``, ``seed()`` and ``run_playbook()``.
* ``landing_zone`` (function): resets local AWS and seeds the dev and prod landing
  zones; returns ``{"dev": LandingZone, "prod": LandingZone}`` (ids as attributes
  or keys: ``zone.vpc_id`` / ``zone["vpc_id"]``, ``private_subnet_ids``,
  ``app_security_group_id``, ...).
* ``run_playbook`` (session): ``run_playbook(playbook, inventory, extra_vars=None,
  check=False, diff=False, extra_args=())`` against ``local_aws``; returns a
  PlaybookResult (returncode, stdout, stderr, recap[host][counter]).
* ``local_pg`` (module): a private PostgreSQL server standing in for an Aurora
  PostgreSQL writer (scripts/local_pg.py), one per test module: TLS only, its
  certificate names ``local_pg.hostnames[0]`` (an Aurora-looking writer endpoint;
  a module may set ``LOCAL_PG_HOSTNAMES``), master user ``admin1`` (``master_user``,
  ``master_password``: random) who owns database ``vitality`` (``database``).
  ``master_dsn()``, ``dsn(user, password, database, sslmode=..., host=...)``,
  ``superuser_dsn(database)``, ``ca_file``, ``port``.

Only the standard library is imported here, so tests/unit runs without moto/boto3.
``ansible_collections.vitality.aurora`` is importable in tests (via
build/collections, created here if `make venv` has not made it yet), next to
``ansible_collections.amazon.aws`` from site-packages.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

import local_aws as _local_aws  # noqa: E402

_local_aws.ensure_collection_link()
if str(_local_aws.COLLECTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(_local_aws.COLLECTIONS_DIR))


def pytest_collection_modifyitems(config, items):
    integration_dir = TESTS_DIR / "integration"
    for item in items:
        if integration_dir in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def local_aws():
    server = _local_aws.LocalAws()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def landing_zone(local_aws):
    return local_aws.reset_and_seed(("dev", "prod"))


@pytest.fixture(scope="session")
def run_playbook(local_aws):
    """run_playbook(playbook, inventory, extra_vars=None, check=False, diff=False, extra_args=()) -> PlaybookResult."""

    def _run(playbook, inventory, extra_vars=None, check=False, diff=False, extra_args=(), **kwargs):
        return _local_aws.run_playbook(
            playbook,
            inventory,
            extra_vars=extra_vars,
            check=check,
            diff=diff,
            extra_args=extra_args,
            local_aws=local_aws,
            **kwargs,
        )

    return _run


LOCAL_PG_HOSTNAME = "vitality-dev.cluster-abc.us-east-1.rds.amazonaws.com"


@pytest.fixture(scope="module")
def local_pg(request):
    """A PostgreSQL server of the test module's own, like a fresh Aurora writer (see scripts/local_pg.py).

    A test module may name other certificate hostnames in a module-level ``LOCAL_PG_HOSTNAMES`` list.
    """
    # Imported here: psycopg and cryptography are not needed by the tests that never use this fixture.
    from local_pg import LocalPostgres

    server = LocalPostgres(
        hostnames=list(getattr(request.module, "LOCAL_PG_HOSTNAMES", [LOCAL_PG_HOSTNAME])),
        master_user="admin1",
        master_password=secrets.token_urlsafe(24),
        database="vitality",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
