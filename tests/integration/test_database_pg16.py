"""The database planner's PostgreSQL 16 branches, run against a real PostgreSQL 16 standing in for Aurora's writer.

Debian's PostgreSQL 15 (tests/integration/test_database.py) never takes them: on 16 the master user is granted each
owner role ``WITH INHERIT FALSE, SET TRUE`` and read_state asks ``pg_has_role(..., 'SET')``, and a CREATEROLE
user holds ADMIN on the roles it creates, without INHERIT or SET (createrole_self_grant empty), and may grant, alter
or drop only roles it holds ADMIN on.  The server is PostgreSQL 16 from PyPI's pgserver wheel
(scripts/fetch_postgresql16.py: x86_64 Linux only, built without OpenSSL or contrib), started by scripts/local_pg.py
without TLS, with the master made as Aurora makes it (a member of rds_superuser, CREATEROLE, not a superuser).

No Ansible and no AWS: the planner is driven as plugins/modules/aurora_database.py drives it (read_state, desired_state,
plan_database; every action's SQL in one transaction, ``<from secret>`` replaced by the SCRAM verifier of the login's
password), and every assertion is made by connecting as the user concerned or by reading the catalogue.
One server for the module; each test starts from a database with nothing of the collection's in it.
"""

from __future__ import annotations

import secrets

import psycopg
import pytest

import fetch_postgresql16
from ansible_collections.vitality.aurora.plugins.module_utils import database
from local_pg import LocalPostgres

PLACEHOLDER = "<from secret>"  # what plugins/modules/aurora_database.py replaces at apply time
SECRET_PREFIX = "x/users/"
ORDERS = {
    "name": "orders",
    "users": [
        {"name": "orders_app", "access": "read_write"},
        {"name": "orders_reporting", "access": "read_only", "settings": {"statement_timeout": "30s"}},
        {"name": "orders_migrations", "access": "owner"},
    ],
}
BILLING = {"name": "billing", "users": [{"name": "billing_app"}]}
# A password of the test's choosing per login (the module takes it from the user's secret).
PASSWORDS = {
    name: database.generate_password()
    for name in ("orders_app", "orders_reporting", "orders_migrations", "billing_app")
}


@pytest.fixture(scope="module")
def pg16():
    reason = fetch_postgresql16.unsupported_reason()
    if reason:
        pytest.skip(reason)
    try:
        bindir = fetch_postgresql16.ensure()
    except fetch_postgresql16.FetchError as exc:
        pytest.fail(f"no PostgreSQL 16 binaries (scripts/fetch_postgresql16.py): {exc}")
    server = LocalPostgres(
        bindir=bindir,
        tls=False,
        master_user="admin1",
        master_password=secrets.token_urlsafe(24),
        database="vitality",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg(pg16):
    """The server with nothing of the collection's in its database (removed as the superuser, not by the planner)."""
    with superuser(pg16) as conn:
        for (schema,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE obj_description(oid, 'pg_namespace') LIKE 'vitality.aurora:%'"
        ).fetchall():
            conn.execute(f"DROP SCHEMA {database.ident(schema)} CASCADE")
        for role in managed_roles(pg16):
            conn.execute(f"DROP OWNED BY {database.ident(role)}")
            conn.execute(f"DROP ROLE {database.ident(role)}")
        conn.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")  # as a database upgraded from 14 has it
    return pg16


def superuser(server):
    return psycopg.connect(server.superuser_dsn(server.database), autocommit=True)


def master(server):
    return psycopg.connect(server.master_dsn(), autocommit=True)


def login(server, user):
    """Connect as a login with the password the test gave it, as the application would (no TLS on this build)."""
    return psycopg.connect(server.dsn(user, PASSWORDS[user], server.database, sslmode="disable"), autocommit=True)


def managed_roles(server):
    with superuser(server) as conn:
        rows = conn.execute(
            "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE 'vitality.aurora:%' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def plan(server, apps, authentication="password"):
    """read_state as the master, then plan_database: what aurora_database plans (no extensions)."""
    with master(server) as conn, conn.cursor() as cursor:
        state = database.read_state(cursor)
    desired = database.desired_state(apps, authentication, SECRET_PREFIX)
    return state, database.plan_database(state, desired, extensions=[])


def with_password(statement, action):
    """As aurora_database's apply: the placeholder becomes the SCRAM verifier of the login's password."""
    if PLACEHOLDER not in statement:
        return statement
    password = PASSWORDS.get(action.name) or database.generate_password()  # a clone: random, unstored
    return statement.replace(PLACEHOLDER, database.literal(database.scram_verifier(password)))


def apply(server, actions):
    """Every action's SQL, in order, in one transaction as the master, as the module applies it; a failure names
    the statement."""
    with master(server) as conn:
        with conn.transaction(), conn.cursor() as cursor:
            for action in actions:
                for statement in action.request["sql"]:
                    try:
                        cursor.execute(with_password(statement, action))
                    except psycopg.Error as exc:
                        raise AssertionError(
                            f"{database.line(action)}: {statement!r} failed on PostgreSQL "
                            f"{conn.info.server_version}: {type(exc).__name__}: {exc}"
                        ) from exc


def converge(server, apps, authentication="password"):
    """Plan, apply, and check that the next plan is empty; returns what applied."""
    actions = plan(server, apps, authentication)[1]
    apply(server, actions)
    again = plan(server, apps, authentication)[1]
    assert [database.line(action) for action in again] == []
    return actions


def statements(actions):
    return [statement for action in actions for statement in action.request["sql"]]


def denied(conn, statement):
    """The statement is refused for lack of privilege (and the session goes on)."""
    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_the_stand_in_is_postgresql_16_with_aurora_s_master(pg):
    with master(pg) as conn:
        version = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0]
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, pg_has_role(rolname, 'rds_superuser', 'MEMBER') "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        ssl = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0]
    assert version >= 160000
    assert row == (False, True, True, True)
    assert ssl is False
    with superuser(pg) as conn:
        # Granting a role takes ADMIN on it on 16: rds_superuser holds it on rds_iam (no INHERIT, no SET).
        admin = conn.execute(
            "SELECT m.admin_option, m.inherit_option, m.set_option FROM pg_auth_members m "
            "WHERE m.roleid = 'rds_iam'::regrole AND m.member = 'rds_superuser'::regrole"
        ).fetchone()
        stat_statements = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_stat_statements'"
        ).fetchone()[0]
    assert admin == (True, False, False)
    assert stat_statements == 0  # no contrib in this build: the bootstrap skipped it


def test_the_first_plan_applies_on_16_as_planned(pg):
    state, actions = plan(pg, [ORDERS, BILLING])
    assert state["version"] >= 160000
    sql = statements(actions)
    assert 'GRANT "orders_owner" TO CURRENT_USER WITH INHERIT FALSE, SET TRUE' in sql
    assert 'CREATE SCHEMA "orders" AUTHORIZATION "orders_owner"' in sql
    apply(pg, actions)  # fails at COMMENT ON SCHEMA "billing" (the first application in the plan's order)
    assert plan(pg, [ORDERS, BILLING])[1] == []


def test_the_first_plan_applies_with_the_schema_comment_fix_and_the_second_is_empty(pg):
    state, actions = plan(pg, [ORDERS, BILLING])
    assert state["version"] >= 160000
    sql = statements(actions)
    assert 'GRANT "orders_owner" TO CURRENT_USER WITH INHERIT FALSE, SET TRUE' in sql
    assert 'GRANT "billing_owner" TO CURRENT_USER WITH INHERIT FALSE, SET TRUE' in sql
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in sql
    assert not [s for s in sql if PLACEHOLDER in s and not s.startswith("ALTER ROLE ")]
    apply(pg, actions)

    state, again = plan(pg, [ORDERS, BILLING])
    assert [database.line(action) for action in again] == []
    # read_state's 16 branch: the master may SET ROLE to each owner (what the plan needs), and to no login.
    assert state["roles"]["orders_owner"]["master_member"] is True
    assert state["roles"]["orders_app"]["master_member"] is False
    assert set(managed_roles(pg)) == {
        "orders_owner",
        "orders_rw",
        "orders_ro",
        "orders_app",
        "orders_app_clone",
        "orders_reporting",
        "orders_reporting_clone",
        "orders_migrations",
        "orders_migrations_clone",
        "billing_owner",
        "billing_rw",
        "billing_ro",
        "billing_app",
        "billing_app_clone",
    }
    with superuser(pg) as conn:
        grants = conn.execute(
            "SELECT m.admin_option, m.inherit_option, m.set_option, pg_get_userbyid(m.grantor) FROM pg_auth_members m "
            "WHERE m.roleid = 'orders_owner'::regrole AND m.member = %s::regrole ORDER BY 4",
            [pg.master_user],
        ).fetchall()
        schema_owner = conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'orders'")
        assert schema_owner.fetchone()[0] == "orders_owner"
        public_create = conn.execute("SELECT has_schema_privilege('public', 'public', 'CREATE')").fetchone()[0]
    assert public_create is False
    # ADMIN from CREATE ROLE (granted by the bootstrap superuser), SET from the plan's own grant.
    assert grants == [(False, False, True, pg.master_user), (True, False, False, pg.superuser)]
    for user in PASSWORDS:
        login(pg, user).close()


def test_a_schema_comment_changed_by_hand_is_restored_as_planned(pg):
    converge(pg, [ORDERS])
    with superuser(pg) as conn:
        conn.execute("COMMENT ON SCHEMA orders IS 'vitality.aurora: schema of application orders (edited by hand)'")
    actions = plan(pg, [ORDERS])[1]
    assert statements(actions) == [
        'SET ROLE "orders_owner"',
        f'COMMENT ON SCHEMA "orders" IS {database.literal(database.schema_comment("orders"))}',
        "RESET ROLE",
    ]
    apply(pg, actions)
    assert plan(pg, [ORDERS])[1] == []


def test_a_schema_owner_changed_by_hand_is_restored(pg):
    converge(pg, [ORDERS])
    with superuser(pg) as conn:
        conn.execute(f"ALTER SCHEMA orders OWNER TO {pg.master_user}")
    actions = plan(pg, [ORDERS])[1]
    assert statements(actions) == ['ALTER SCHEMA "orders" OWNER TO "orders_owner"']
    apply(pg, actions)  # as planned: the master owns the schema now, and may SET ROLE to orders_owner
    assert plan(pg, [ORDERS])[1] == []


def test_a_migration_creates_the_owner_s_table_and_the_groups_use_it(pg):
    converge(pg, [ORDERS])
    with login(pg, "orders_migrations") as migrations:
        assert migrations.execute("SELECT current_user").fetchone()[0] == "orders_owner"  # its role setting
        migrations.execute("CREATE TABLE orders.visits (id serial PRIMARY KEY, note text)")
    with superuser(pg) as conn:
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'orders' AND tablename = 'visits'")
        assert owner.fetchone()[0] == "orders_owner"

    with login(pg, "orders_app") as rw:  # default privileges: a table made after every grant
        rw.execute("INSERT INTO orders.visits (note) VALUES ('read-write')")
        assert rw.execute("SELECT count(*) FROM orders.visits").fetchone()[0] == 1
        assert denied(rw, "CREATE TABLE orders.t (i int)")
        assert denied(rw, "CREATE TABLE public.t (i int)")
    with login(pg, "orders_reporting") as ro:
        assert ro.execute("SELECT count(*) FROM orders.visits").fetchone()[0] == 1
        assert denied(ro, "INSERT INTO orders.visits (note) VALUES ('read-only')")
        assert ro.execute("SHOW statement_timeout").fetchone()[0] == "30s"
    with master(pg) as conn:  # INHERIT FALSE: the master may act as the owner, it does not hold its privileges
        assert denied(conn, "SELECT * FROM orders.visits")
    assert plan(pg, [ORDERS])[1] == []  # the table's grants came from the default privileges: nothing to do


def test_changing_a_user_s_access_and_settings(pg):
    converge(pg, [ORDERS])
    with login(pg, "orders_migrations") as migrations:
        migrations.execute("CREATE TABLE orders.visits (id int)")
    changed = {
        **ORDERS,
        "users": [
            {"name": "orders_app", "access": "read_only", "settings": {"statement_timeout": "5s"}},
            {"name": "orders_reporting", "access": "read_only"},
            {"name": "orders_migrations", "access": "owner"},
        ],
    }
    actions = converge(pg, [changed])
    sql = statements(actions)
    assert 'REVOKE "orders_rw" FROM "orders_app"' in sql and 'GRANT "orders_ro" TO "orders_app"' in sql
    assert 'ALTER ROLE "orders_reporting" RESET statement_timeout' in sql
    with login(pg, "orders_app") as app:
        assert denied(app, "INSERT INTO orders.visits VALUES (1)")
        assert app.execute("SELECT count(*) FROM orders.visits").fetchone()[0] == 0
        assert app.execute("SHOW statement_timeout").fetchone()[0] == "5s"
    with login(pg, "orders_reporting") as reporting:
        assert reporting.execute("SHOW statement_timeout").fetchone()[0] == "0"


def test_removing_a_user_drops_only_it(pg):
    converge(pg, [ORDERS, BILLING])
    before = set(managed_roles(pg))
    fewer = {**ORDERS, "users": [u for u in ORDERS["users"] if u["name"] != "orders_reporting"]}
    actions = plan(pg, [fewer, BILLING])[1]
    assert [(a.name, a.change.split(" ", maxsplit=1)[0]) for a in actions] == [
        ("orders_reporting", "drop"),
        ("orders_reporting_clone", "drop"),
    ]
    apply(pg, actions)  # as planned
    assert set(managed_roles(pg)) == before - {"orders_reporting", "orders_reporting_clone"}
    assert plan(pg, [fewer, BILLING])[1] == []
    login(pg, "orders_app").close()


def test_removing_an_application_drops_everything_it_had(pg):
    converge(pg, [ORDERS, BILLING])
    with login(pg, "orders_migrations") as migrations:
        migrations.execute("CREATE TABLE orders.visits (id int)")
    with pytest.raises(database.PlanRefused, match=r"schema orders .* still holds 1 objects"):
        plan(pg, [BILLING])
    with login(pg, "orders_migrations") as migrations:
        migrations.execute("DROP TABLE orders.visits")  # as the owner

    actions = plan(pg, [BILLING])[1]
    assert {a.name for a in actions} == {
        "orders",
        "orders_owner",
        "orders_rw",
        "orders_ro",
        "orders_app",
        "orders_app_clone",
        "orders_reporting",
        "orders_reporting_clone",
        "orders_migrations",
        "orders_migrations_clone",
    }
    apply(pg, actions)  # as planned
    assert [r for r in managed_roles(pg) if not r.startswith("billing_")] == []
    with superuser(pg) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'orders'").fetchone()[0] == 0
        leftovers = conn.execute(
            "SELECT count(*) FROM pg_default_acl d JOIN pg_roles r ON r.oid = d.defaclrole WHERE r.rolname LIKE 'orders%'"
        ).fetchone()[0]
        database_acl = conn.execute(
            "SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a "
            "WHERE d.datname = current_database() AND pg_get_userbyid(a.grantee) LIKE 'orders%'"
        ).fetchone()[0]
    assert (leftovers, database_acl) == (0, 0)
    assert plan(pg, [BILLING])[1] == []
    login(pg, "billing_app").close()


def iam_members(server):
    with superuser(server) as conn:
        return conn.execute(
            "SELECT rolname, pg_has_role(rolname, 'rds_iam', 'MEMBER'), rolpassword IS NULL FROM pg_authid "
            "WHERE rolname IN ('orders_app', 'orders_reporting', 'orders_migrations') ORDER BY 1"
        ).fetchall()


def test_iam_users_are_granted_rds_iam_by_the_master_and_switch_back(pg):
    converge(pg, [ORDERS])
    actions = converge(pg, [ORDERS], authentication="iam")  # from password to IAM
    sql = statements(actions)
    assert 'GRANT "rds_iam" TO "orders_app"' in sql and 'ALTER ROLE "orders_app" PASSWORD NULL' in sql
    roles = managed_roles(pg)
    assert "orders_app" in roles and not [r for r in roles if r.endswith(database.CLONE_SUFFIX)]
    assert iam_members(pg) == [
        ("orders_app", True, True),
        ("orders_migrations", True, True),
        ("orders_reporting", True, True),
    ]
    # An IAM user leaves: dropped by the master (ADMIN from CREATE ROLE), its rds_iam membership with it.
    fewer = {**ORDERS, "users": [u for u in ORDERS["users"] if u["name"] != "orders_app"]}
    converge(pg, [fewer], authentication="iam")
    assert "orders_app" not in managed_roles(pg)

    # Back to passwords: the master revokes rds_iam (granted through rds_superuser's ADMIN) and sets passwords.
    actions = converge(pg, [ORDERS])
    assert 'REVOKE "rds_iam" FROM "orders_reporting"' in statements(actions)
    assert iam_members(pg) == [
        ("orders_app", False, False),
        ("orders_migrations", False, False),
        ("orders_reporting", False, False),
    ]
    for user in ("orders_app", "orders_reporting", "orders_migrations"):
        login(pg, user).close()
