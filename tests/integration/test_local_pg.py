"""The local PostgreSQL stand-in for an Aurora writer (scripts/local_pg.py, fixture local_pg) is what the database
tests rely on: TLS only, a certificate that verifies for the Aurora-looking endpoint reached through 127.0.0.1 (as
through a tunnel), a master user made as Aurora makes it, and the PostgreSQL 14 default our code has to revoke.
One server for the whole module."""

import psycopg
import pytest


def test_verify_full_as_the_master_through_the_endpoint_name(local_pg):
    endpoint = local_pg.hostnames[0]
    assert endpoint.endswith(".rds.amazonaws.com") and ".cluster-" in endpoint
    dsn = local_pg.master_dsn()
    assert f"host={endpoint}" in dsn and "hostaddr=127.0.0.1" in dsn and "sslmode=verify-full" in dsn
    with psycopg.connect(dsn) as conn:
        user, database, ssl = conn.execute(
            "SELECT current_user, current_database(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert (user, database, ssl) == ("admin1", "vitality", True)
        assert conn.info.hostaddr == "127.0.0.1"


def test_a_connection_without_tls_is_refused(local_pg):
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry.*no encryption"):
        psycopg.connect(local_pg.master_dsn(sslmode="disable"))


def test_verify_full_against_another_hostname_fails(local_pg):
    other = "vitality-prod.cluster-abc.us-east-1.rds.amazonaws.com"
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        psycopg.connect(local_pg.master_dsn(host=other))


def test_a_wrong_password_is_refused(local_pg):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(local_pg.dsn(local_pg.master_user, local_pg.master_password + "x", local_pg.database))


def test_the_master_is_made_as_aurora_makes_it(local_pg):
    with psycopg.connect(local_pg.superuser_dsn()) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, pg_has_role(rolname, 'rds_superuser', 'MEMBER')"
            " FROM pg_roles WHERE rolname = %s",
            [local_pg.master_user],
        ).fetchone()
        assert row == (False, True, True, True, True)
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [local_pg.database]
        ).fetchone()
        assert owner == (local_pg.master_user,)
        group_roles = conn.execute(
            "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'rds%%' ORDER BY rolname"
        ).fetchall()
        assert group_roles == [
            ("rds_iam", False),
            ("rds_password", False),
            ("rds_replication", False),
            ("rds_superuser", False),
            ("rdsadmin", True),
        ]
    with psycopg.connect(local_pg.master_dsn(), autocommit=True) as conn:
        conn.execute("CREATE ROLE app_probe LOGIN PASSWORD 'probe-Pw-1'")
        conn.execute("GRANT rds_iam TO app_probe")
        conn.execute("DROP ROLE app_probe")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER ROLE rdsadmin NOSUPERUSER")


def test_public_may_create_in_schema_public_at_start(local_pg):
    # As in a database upgraded from PostgreSQL 14: the grant our code has to revoke.
    with psycopg.connect(local_pg.superuser_dsn(local_pg.database)) as conn:
        grants = conn.execute(
            "SELECT a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a"
            " WHERE n.nspname = 'public' AND a.grantee = 0"
        ).fetchall()
        assert sorted(grants) == [("CREATE",), ("USAGE",)]


def test_only_the_superuser_has_the_unix_socket(local_pg):
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry"):
        psycopg.connect(f"{local_pg.superuser_dsn(local_pg.database)} user={local_pg.master_user}")
