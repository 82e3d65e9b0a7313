"""module_utils/database.py without a server: the plan of roles, schemas and privileges from hand-built states.

``state`` is the dict ``read_state`` returns. ``empty_state`` is a fresh database as Aurora makes it (the master
user, ``public``, nothing of the collection's); ``converged`` is the database after a successful run for some
applications, built by hand with what PostgreSQL then shows in its catalogue (the owner's own entries in the
ACLs, PUBLIC's CONNECT and TEMPORARY on the database, the master's membership of each owner). Each test asserts
the plan's lines, the SQL of its actions or the problems of ``PlanRefused``. tests/integration/test_database.py
runs the same code against a real PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from ansible_collections.vitality.aurora.plugins.module_utils import database as db
from ansible_collections.vitality.aurora.plugins.module_utils.plan import number

MASTER = "admin1"
DATABASE = "vitality"
PREFIX = "c/users/"
ORDERS = {
    "name": "orders",
    "users": [
        {"name": "orders_app"},
        {"name": "orders_report", "access": "read_only", "settings": {"statement_timeout": "30s"}},
    ],
}
BILLING = {"name": "billing", "users": [{"name": "billing_app"}]}
ALL_TABLE_PRIVILEGES = {"INSERT", "SELECT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}


# ---- states ----------------------------------------------------------------------------------------------------


def empty_state(version=160000, public_create=False, extensions=None, preload=("pg_stat_statements",)):
    """A database as Aurora makes it: the master user (rds_superuser, CREATEROLE, CREATEDB) owns it."""
    state = {
        "user": MASTER,
        "database": DATABASE,
        "version": version,
        "database_owner": MASTER,
        "preload": list(preload),
        "roles": {},
        "database_acl": {},
        "schemas": {},
        "relations": {},
        "default_acl": {},
        "extensions": dict(extensions if extensions is not None else {"pgcrypto": None, "pg_stat_statements": "1.10"}),
    }
    add_role(state, MASTER, login=True, createrole=True, createdb=True, member_of={"rds_superuser"}, owns=1)
    add_role(state, "rds_superuser")
    add_role(state, "rds_iam")
    add_schema(state, "public", "pg_database_owner", "standard public schema")
    grant_schema(state, "public", "pg_database_owner", "USAGE", "CREATE")
    grant_schema(state, "public", "PUBLIC", "USAGE", *(["CREATE"] if public_create else []))
    return state


def add_role(state, name, comment=None, login=False, member_of=(), settings=None, owns=0, master_member=False, **flags):
    state["roles"][name] = {
        "login": login,
        "superuser": flags.get("superuser", False),
        "createrole": flags.get("createrole", False),
        "createdb": flags.get("createdb", False),
        "comment": comment,
        "member_of": set(member_of),
        "settings": dict(settings or {}),
        "owns": owns,
        "master_member": master_member,
    }
    return state["roles"][name]


def add_schema(state, name, owner, comment, objects=0):
    state["schemas"][name] = {"owner": owner, "comment": comment, "objects": objects, "acl": {}}
    return state["schemas"][name]


def grant_schema(state, schema, grantee, *privileges):
    state["schemas"][schema]["acl"].setdefault(grantee, set()).update(privileges)


def grant_database(state, grantee, *privileges):
    state["database_acl"].setdefault(grantee, set()).update(privileges)


def add_relation(state, schema, name, owner, kind="r", acl=None):
    state["relations"].setdefault(schema, {})[name] = {
        "kind": kind,
        "owner": owner,
        "acl": {grantee: set(privileges) for grantee, privileges in (acl or {}).items()},
    }
    state["schemas"][schema]["objects"] += 1
    state["roles"][owner]["owns"] += 1


def grant_default(state, owner, schema, objtype, grantee, *privileges):
    state["default_acl"].setdefault((owner, schema, objtype), {}).setdefault(grantee, set()).update(privileges)


def converged(applications, authentication="password", version=160000, tables=()):
    """The database after a run for ``applications``, as the catalogue shows it; ``tables``: (app, name, kind)."""
    state = empty_state(version=version)
    grant_database(state, "PUBLIC", "CONNECT", "TEMPORARY")
    grant_database(state, MASTER, "CONNECT", "TEMPORARY", "CREATE")
    for app in applications:
        name = app["name"]
        schema = app.get("schema") or name
        groups = db.group_names(name)
        owner = groups["owner"]
        add_role(state, owner, db.role_comment("owner", name), owns=1, master_member=True)
        state["roles"][MASTER]["member_of"].add(owner)
        for kind in ("read_write", "read_only"):
            add_role(state, groups[kind], db.role_comment(kind, name))
        add_schema(state, schema, owner, db.schema_comment(name))
        grant_schema(state, schema, owner, "USAGE", "CREATE")
        for kind in ("owner", "read_write", "read_only"):
            grant_database(state, groups[kind], "CONNECT")
        for kind in ("read_write", "read_only"):
            grant_schema(state, schema, groups[kind], "USAGE")
            grant_default(state, owner, schema, "r", groups[kind], *db.TABLE_PRIVILEGES[kind])
            grant_default(state, owner, schema, "S", groups[kind], *db.SEQUENCE_PRIVILEGES[kind])
        for user in app.get("users") or []:
            access = user.get("access") or "read_write"
            settings = {key: db.setting_text(value) for key, value in (user.get("settings") or {}).items()}
            if access == "owner":
                settings["role"] = owner
            member_of = {groups[access]} | ({"rds_iam"} if authentication == "iam" else set())
            logins = [("user", user["name"])]
            if authentication == "password":
                logins.append(("clone", user["name"] + db.CLONE_SUFFIX))
            for kind, login in logins:
                add_role(
                    state,
                    login,
                    db.role_comment(kind, name, authentication),
                    login=True,
                    member_of=member_of,
                    settings=settings,
                )
    for app_name, relation, kind in tables:
        schema = next(a.get("schema") or a["name"] for a in applications if a["name"] == app_name)
        groups = db.group_names(app_name)
        privileges = db.SEQUENCE_PRIVILEGES if kind == db.SEQUENCE_KIND else db.TABLE_PRIVILEGES
        owner_privileges = {"SELECT", "USAGE", "UPDATE"} if kind == db.SEQUENCE_KIND else ALL_TABLE_PRIVILEGES
        add_relation(
            state,
            schema,
            relation,
            groups["owner"],
            kind,
            {
                groups["owner"]: owner_privileges,
                groups["read_write"]: privileges["read_write"],
                groups["read_only"]: privileges["read_only"],
            },
        )
    return state


# ---- running the planner ---------------------------------------------------------------------------------------


def plan(state, applications, authentication="password", extensions=(), revoke_public_create=True):
    desired = db.desired_state(applications, authentication, PREFIX)
    return number(db.plan_database(state, desired, list(extensions), revoke_public_create))


def lines(actions):
    return [db.line(action) for action in actions]


def statements(actions):
    return [statement for action in actions for statement in action.calls]


def refused(state, applications, **options):
    with pytest.raises(db.PlanRefused) as raised:
        plan(state, applications, **options)
    return raised.value.problems


def by_name(actions, name):
    found = [action for action in actions if action.name == name]
    assert found, f"no action on {name}: {lines(actions)}"
    return found


# ---- an empty database -----------------------------------------------------------------------------------------


def test_an_empty_database_gets_owner_groups_schema_privileges_and_users_exactly():
    actions = plan(empty_state(), [ORDERS])
    assert statements(actions) == [
        'CREATE ROLE "orders_owner" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT',
        "COMMENT ON ROLE \"orders_owner\" IS 'vitality.aurora: owner of application orders'",
        'CREATE ROLE "orders_rw" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT',
        "COMMENT ON ROLE \"orders_rw\" IS 'vitality.aurora: read-write group of application orders'",
        'CREATE ROLE "orders_ro" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT',
        "COMMENT ON ROLE \"orders_ro\" IS 'vitality.aurora: read-only group of application orders'",
        'GRANT "orders_owner" TO CURRENT_USER WITH INHERIT FALSE, SET TRUE',
        'CREATE SCHEMA "orders" AUTHORIZATION "orders_owner"',
        'SET ROLE "orders_owner"',
        "COMMENT ON SCHEMA \"orders\" IS 'vitality.aurora: schema of application orders'",
        "RESET ROLE",
        'GRANT CONNECT ON DATABASE "vitality" TO "orders_owner"',
        'GRANT CONNECT ON DATABASE "vitality" TO "orders_rw"',
        'SET ROLE "orders_owner"',
        'GRANT USAGE ON SCHEMA "orders" TO "orders_rw"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "orders_owner" IN SCHEMA "orders" '
        'GRANT DELETE, INSERT, SELECT, UPDATE ON TABLES TO "orders_rw"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "orders_owner" IN SCHEMA "orders" GRANT SELECT, USAGE ON SEQUENCES TO "orders_rw"',
        "RESET ROLE",
        'GRANT CONNECT ON DATABASE "vitality" TO "orders_ro"',
        'SET ROLE "orders_owner"',
        'GRANT USAGE ON SCHEMA "orders" TO "orders_ro"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "orders_owner" IN SCHEMA "orders" GRANT SELECT ON TABLES TO "orders_ro"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "orders_owner" IN SCHEMA "orders" GRANT SELECT ON SEQUENCES TO "orders_ro"',
        "RESET ROLE",
        'CREATE ROLE "orders_app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT',
        'ALTER ROLE "orders_app" PASSWORD <from secret>',
        "COMMENT ON ROLE \"orders_app\" IS 'vitality.aurora: user of application orders; password authentication'",
        'GRANT "orders_rw" TO "orders_app"',
        'CREATE ROLE "orders_report" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT',
        'ALTER ROLE "orders_report" PASSWORD <from secret>',
        "COMMENT ON ROLE \"orders_report\" IS 'vitality.aurora: user of application orders; password authentication'",
        'GRANT "orders_ro" TO "orders_report"',
        "ALTER ROLE \"orders_report\" SET statement_timeout = '30s'",
        'CREATE ROLE "orders_app_clone" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT',
        'ALTER ROLE "orders_app_clone" PASSWORD <from secret>',
        'COMMENT ON ROLE "orders_app_clone" IS '
        "'vitality.aurora: alternate login of application orders; password authentication'",
        'GRANT "orders_rw" TO "orders_app_clone"',
        'CREATE ROLE "orders_report_clone" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT',
        'ALTER ROLE "orders_report_clone" PASSWORD <from secret>',
        'COMMENT ON ROLE "orders_report_clone" IS '
        "'vitality.aurora: alternate login of application orders; password authentication'",
        'GRANT "orders_ro" TO "orders_report_clone"',
        "ALTER ROLE \"orders_report_clone\" SET statement_timeout = '30s'",
    ]
    assert lines(actions) == [
        "1. database role orders_owner: create (owner, cannot log in) [online]",
        "2. database role orders_rw: create (read-write group, cannot log in) [online]",
        "3. database role orders_ro: create (read-only group, cannot log in) [online]",
        "4. database role orders_owner: let the master user admin1 act as orders_owner [online]",
        "5. schema orders: create (owned by orders_owner) [online]",
        "6. privileges orders_owner: grant 1 (owner of application orders): GRANT CONNECT ON DATABASE vitality [online]",
        "7. privileges orders_rw: grant 4 (read-write group of application orders): GRANT CONNECT ON DATABASE vitality; "
        "GRANT USAGE ON SCHEMA orders; by default in orders: GRANT DELETE, INSERT, SELECT, UPDATE ON TABLES; "
        "by default in orders: GRANT SELECT, USAGE ON SEQUENCES [online]",
        "8. privileges orders_ro: grant 4 (read-only group of application orders): GRANT CONNECT ON DATABASE vitality; "
        "GRANT USAGE ON SCHEMA orders; by default in orders: GRANT SELECT ON TABLES; "
        "by default in orders: GRANT SELECT ON SEQUENCES [online]",
        "9. database role orders_app: create (user, password authentication) (member of (none) -> [orders_rw]) [online]",
        "10. database role orders_report: create (user, password authentication) "
        "(member of (none) -> [orders_ro]; statement_timeout (none) -> 30s) [online]",
        "11. database role orders_app_clone: create (alternate login, password authentication) "
        "(member of (none) -> [orders_rw]) [online]",
        "12. database role orders_report_clone: create (alternate login, password authentication) "
        "(member of (none) -> [orders_ro]; statement_timeout (none) -> 30s) [online]",
    ]


def test_every_sql_action_says_who_needs_a_password_and_runs_its_statements():
    actions = plan(empty_state(), [ORDERS])
    assert all(action.runner == "sql" and action.request["sql"] == action.calls for action in actions)
    assert {action.name for action in actions if action.request.get("password_for")} == {
        "orders_app",
        "orders_app_clone",
        "orders_report",
        "orders_report_clone",
    }
    assert all(
        action.request["password_for"] == action.name for action in actions if action.request.get("password_for")
    )


def test_an_owner_user_is_a_member_of_the_owner_and_its_sessions_act_as_it():
    actions = plan(empty_state(), [{"name": "orders", "users": [{"name": "orders_migrations", "access": "owner"}]}])
    created = by_name(actions, "orders_migrations")[0].calls
    assert 'GRANT "orders_owner" TO "orders_migrations"' in created
    assert "ALTER ROLE \"orders_migrations\" SET role = 'orders_owner'" in created


def test_iam_users_are_members_of_rds_iam_with_no_password_and_no_clone():
    actions = plan(empty_state(), [ORDERS], authentication="iam")
    names = [action.name for action in actions if action.resource == db.ROLE]
    assert not [name for name in names if name.endswith("_clone")]
    app = by_name(actions, "orders_app")[0]
    assert app.calls == [
        'CREATE ROLE "orders_app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT',
        "COMMENT ON ROLE \"orders_app\" IS 'vitality.aurora: user of application orders; iam authentication'",
        'GRANT "orders_rw" TO "orders_app"',
        'GRANT "rds_iam" TO "orders_app"',
    ]
    assert app.request["password_for"] is None
    assert not [s for s in statements(actions) if "PASSWORD" in s]
    assert db.line(app) == (
        "9. database role orders_app: create (user, iam authentication) (member of (none) -> [orders_rw, rds_iam]) [online]"
    )


def test_an_application_schema_of_its_own_name():
    actions = plan(empty_state(), [{"name": "orders", "schema": "sales", "users": []}])
    assert 'CREATE SCHEMA "sales" AUTHORIZATION "orders_owner"' in statements(actions)
    assert 'GRANT USAGE ON SCHEMA "sales" TO "orders_rw"' in statements(actions)
    assert not [s for s in statements(actions) if '"orders"' in s]


def test_desired_state_derives_every_name_and_the_secret_of_password_users_only():
    desired = db.desired_state([ORDERS], "password", PREFIX)
    assert sorted(desired["roles"]) == [
        "orders_app",
        "orders_app_clone",
        "orders_owner",
        "orders_report",
        "orders_report_clone",
        "orders_ro",
        "orders_rw",
    ]
    assert desired["roles"]["orders_app"]["secret"] == "c/users/orders_app"
    assert "secret" not in desired["roles"]["orders_app_clone"]
    assert desired["schemas"] == {
        "orders": {"app": "orders", "owner": "orders_owner", "comment": "vitality.aurora: schema of application orders"}
    }
    iam = db.desired_state([ORDERS], "iam", PREFIX)
    assert iam["roles"]["orders_app"]["secret"] is None
    assert iam["roles"]["orders_app"]["member_of"] == {"orders_rw", "rds_iam"}
    assert db.desired_state([{"name": "x", "users": [{"name": "x_u", "settings": {"a": True, "b": 5}}]}], "iam", "")[
        "roles"
    ]["x_u"]["settings"] == {"a": "on", "b": "5"}


# ---- a database in the desired state ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", [150000, 160000, 170000])
@pytest.mark.parametrize("authentication", ["password", "iam"])
def test_a_database_in_the_desired_state_plans_nothing(version, authentication):
    apps = [ORDERS, dict(BILLING, users=[{"name": "billing_app"}, {"name": "billing_migrations", "access": "owner"}])]
    state = converged(
        apps,
        authentication,
        version,
        tables=[("orders", "visits", "r"), ("orders", "visits_id_seq", "S"), ("orders", "daily", "v")],
    )
    assert plan(state, apps, authentication=authentication, extensions=["pg_stat_statements"]) == []


def test_applying_the_plan_of_an_empty_database_reaches_the_converged_state():
    """The converged state the other tests use is what the plan of an empty database says it makes."""
    made = set(statements(plan(empty_state(), [ORDERS])))
    state = converged([ORDERS])
    for name, role in state["roles"].items():
        if db.parse_role_comment(role["comment"]):
            assert f"COMMENT ON ROLE {db.ident(name)} IS {db.literal(role['comment'])}" in made
            for group in role["member_of"]:
                assert f"GRANT {db.ident(group)} TO {db.ident(name)}" in made
            for key, value in role["settings"].items():
                assert f"ALTER ROLE {db.ident(name)} SET {key} = {db.literal(value)}" in made
    for (owner, schema, objtype), grantees in state["default_acl"].items():
        words = "SEQUENCES" if objtype == "S" else "TABLES"
        for grantee, privileges in grantees.items():
            assert (
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {db.ident(owner)} IN SCHEMA {db.ident(schema)} "
                f"GRANT {', '.join(sorted(privileges))} ON {words} TO {db.ident(grantee)}"
            ) in made


# ---- privileges ------------------------------------------------------------------------------------------------


def test_an_extra_privilege_on_the_owners_table_is_revoked_as_the_owner():
    state = converged([ORDERS], tables=[("orders", "visits", "r")])
    state["relations"]["orders"]["visits"]["acl"]["orders_rw"].add("TRUNCATE")
    actions = plan(state, [ORDERS])
    assert len(actions) == 1
    assert actions[0].calls == [
        'SET ROLE "orders_owner"',
        'REVOKE TRUNCATE ON TABLE "orders"."visits" FROM "orders_rw"',
        "RESET ROLE",
    ]
    assert lines(actions) == [
        "1. privileges orders_rw: revoke 1 (read-write group of application orders): "
        "REVOKE TRUNCATE ON TABLE orders.visits [online] - orders_rw loses privileges it should not have"
    ]


def test_a_missing_privilege_on_an_owners_table_or_sequence_is_granted():
    state = converged([ORDERS], tables=[("orders", "visits", "r"), ("orders", "visits_id_seq", "S")])
    del state["relations"]["orders"]["visits"]["acl"]["orders_ro"]
    state["relations"]["orders"]["visits_id_seq"]["acl"]["orders_rw"] = {"SELECT"}
    actions = plan(state, [ORDERS])
    assert statements(actions) == [
        'SET ROLE "orders_owner"',
        'GRANT USAGE ON SEQUENCE "orders"."visits_id_seq" TO "orders_rw"',
        "RESET ROLE",
        'SET ROLE "orders_owner"',
        'GRANT SELECT ON TABLE "orders"."visits" TO "orders_ro"',
        "RESET ROLE",
    ]
    assert all(action.unavailability == "none" for action in actions)


def test_a_table_owned_by_another_role_is_left_alone():
    state = converged([ORDERS])
    add_role(state, "dba")
    add_relation(state, "orders", "scratch", "dba", acl={"dba": ALL_TABLE_PRIVILEGES, "orders_rw": {"TRUNCATE"}})
    assert plan(state, [ORDERS]) == []


def test_extra_privileges_on_the_database_schema_and_default_privileges_are_revoked():
    state = converged([ORDERS])
    grant_database(state, "orders_ro", "TEMPORARY", "CREATE")
    grant_database(state, "orders_owner", "CREATE")
    grant_schema(state, "orders", "orders_rw", "CREATE")
    grant_default(state, "orders_owner", "orders", "r", "orders_ro", "INSERT")
    actions = plan(state, [ORDERS])
    assert [(action.name, action.calls) for action in actions] == [
        ("orders_owner", ['REVOKE CREATE ON DATABASE "vitality" FROM "orders_owner"']),
        ("orders_rw", ['SET ROLE "orders_owner"', 'REVOKE CREATE ON SCHEMA "orders" FROM "orders_rw"', "RESET ROLE"]),
        (
            "orders_ro",
            [
                'REVOKE CREATE ON DATABASE "vitality" FROM "orders_ro"',
                'REVOKE TEMPORARY ON DATABASE "vitality" FROM "orders_ro"',
                'SET ROLE "orders_owner"',
                'ALTER DEFAULT PRIVILEGES FOR ROLE "orders_owner" IN SCHEMA "orders" REVOKE INSERT ON TABLES FROM "orders_ro"',
                "RESET ROLE",
            ],
        ),
    ]


def test_the_public_schema_loses_public_create_unless_told_otherwise():
    state = empty_state(public_create=True)
    actions = plan(state, [])
    assert lines(actions) == [
        "1. privileges public: revoke CREATE on schema public from PUBLIC [online]. "
        "any role could create objects in public (PostgreSQL 14 and older granted it)"
    ]
    assert actions[0].calls == ["REVOKE CREATE ON SCHEMA public FROM PUBLIC"]
    assert plan(state, [], revoke_public_create=False) == []
    assert plan(empty_state(public_create=False), []) == []


@pytest.mark.parametrize(
    ("version", "grant"),
    [
        (150000, 'GRANT "orders_owner" TO CURRENT_USER'),
        (150012, 'GRANT "orders_owner" TO CURRENT_USER'),
        (160000, 'GRANT "orders_owner" TO CURRENT_USER WITH INHERIT FALSE, SET TRUE'),
        (170004, 'GRANT "orders_owner" TO CURRENT_USER WITH INHERIT FALSE, SET TRUE'),
    ],
)
def test_the_master_acts_as_the_owner_with_set_only_from_postgresql_16(version, grant):
    actions = plan(empty_state(version=version), [ORDERS])
    [action] = [a for a in actions if a.change.startswith("let the master user")]
    assert action.calls == [grant]


def test_the_master_already_acting_as_the_owner_is_not_granted_again():
    state = converged([ORDERS])
    state["roles"]["orders_owner"]["master_member"] = False
    assert statements(plan(state, [ORDERS])) == ['GRANT "orders_owner" TO CURRENT_USER WITH INHERIT FALSE, SET TRUE']


# ---- roles that drifted ----------------------------------------------------------------------------------------


def test_settings_are_set_changed_and_reset_on_both_logins():
    state = converged([ORDERS])
    for login in ("orders_report", "orders_report_clone"):
        state["roles"][login]["settings"] = {"statement_timeout": "10s", "work_mem": "64MB"}
    state["roles"]["orders_app"]["settings"] = {}
    wanted = [
        {
            "name": "orders",
            "users": [
                {"name": "orders_app", "settings": {"lock_timeout": 5000}},
                {"name": "orders_report", "access": "read_only", "settings": {"statement_timeout": "30s"}},
            ],
        }
    ]
    actions = plan(state, wanted)
    assert [(action.name, action.calls) for action in actions] == [
        ("orders_app", ["ALTER ROLE \"orders_app\" SET lock_timeout = '5000'"]),
        (
            "orders_report",
            ["ALTER ROLE \"orders_report\" SET statement_timeout = '30s'", 'ALTER ROLE "orders_report" RESET work_mem'],
        ),
        ("orders_app_clone", ["ALTER ROLE \"orders_app_clone\" SET lock_timeout = '5000'"]),
        (
            "orders_report_clone",
            [
                "ALTER ROLE \"orders_report_clone\" SET statement_timeout = '30s'",
                'ALTER ROLE "orders_report_clone" RESET work_mem',
            ],
        ),
    ]
    assert db.line(actions[1]) == (
        "2. database role orders_report: update (statement_timeout 10s -> 30s; work_mem 64MB -> (none)) [online]"
    )


def test_a_managed_role_that_may_create_roles_or_log_in_is_put_back():
    state = converged([ORDERS])
    state["roles"]["orders_rw"].update(login=True, createrole=True)
    [action] = plan(state, [ORDERS])
    assert action.calls == ['ALTER ROLE "orders_rw" NOLOGIN', 'ALTER ROLE "orders_rw" NOCREATEROLE NOCREATEDB']


def test_a_user_moved_to_another_group_loses_the_old_one():
    state = converged([ORDERS])
    state["roles"]["orders_report"]["member_of"] = {"orders_rw"}
    [action] = plan(state, [ORDERS])
    assert action.calls == ['GRANT "orders_ro" TO "orders_report"', 'REVOKE "orders_rw" FROM "orders_report"']
    assert action.unavailability == "orders_report loses the privileges of orders_rw"


def test_switching_to_iam_drops_the_clones_and_the_passwords_and_back_sets_them_from_the_secret():
    state = converged([ORDERS], "password")
    actions = plan(state, [ORDERS], authentication="iam")
    app = by_name(actions, "orders_app")[0]
    assert app.calls == [
        "COMMENT ON ROLE \"orders_app\" IS 'vitality.aurora: user of application orders; iam authentication'",
        'ALTER ROLE "orders_app" PASSWORD NULL',
        'GRANT "rds_iam" TO "orders_app"',
    ]
    dropped = [action.name for action in actions if action.change.startswith("drop")]
    assert dropped == ["orders_app_clone", "orders_report_clone"]

    back = plan(converged([ORDERS], "iam"), [ORDERS], authentication="password")
    app = by_name(back, "orders_app")[0]
    assert app.calls == [
        "COMMENT ON ROLE \"orders_app\" IS 'vitality.aurora: user of application orders; password authentication'",
        'ALTER ROLE "orders_app" PASSWORD <from secret>',
        'REVOKE "rds_iam" FROM "orders_app"',
    ]
    assert app.request["password_for"] == "orders_app"
    assert [a.change.split(" (")[0] for a in back if a.name.endswith("_clone")] == ["create", "create"]


def test_a_schema_owned_by_someone_else_is_given_back_to_the_owner():
    state = converged([ORDERS])
    state["schemas"]["orders"]["owner"] = MASTER
    [action] = plan(state, [ORDERS])
    assert action.calls == ['ALTER SCHEMA "orders" OWNER TO "orders_owner"']
    assert db.line(action) == "1. schema orders: update (owner admin1 -> orders_owner) [online]"


# ---- what the collection did not make --------------------------------------------------------------------------


def test_an_unmarked_role_holding_a_desired_name_stops_the_plan():
    state = empty_state()
    add_role(state, "orders_app", "made by the DBA", login=True)
    add_role(state, "orders_ro")
    add_role(state, "orders_x", "vitality.aurora: auditor of application orders")  # a kind the collection never makes
    problems = refused(state, [ORDERS])
    assert problems == [
        "role orders_app exists and was not created by vitality.aurora (its comment does not mark it): "
        "choose another name in the inventory, or drop or rename that role yourself",
        "role orders_ro exists and was not created by vitality.aurora (its comment does not mark it): "
        "choose another name in the inventory, or drop or rename that role yourself",
    ]


def test_an_unmarked_schema_holding_the_applications_schema_stops_the_plan():
    state = empty_state()
    add_schema(state, "orders", MASTER, None)
    problems = refused(state, [ORDERS])
    assert len(problems) == 1
    assert problems[0].startswith(
        "schema orders exists and was not created by vitality.aurora: give application orders"
    )


def test_an_extension_the_server_does_not_have_stops_the_plan():
    problems = refused(empty_state(), [], extensions=["pgcrypto", "postgis"])
    assert problems == ["extension postgis is not available on this server (pg_available_extensions does not list it)"]


def test_every_problem_is_reported_at_once():
    state = empty_state(extensions={})
    add_role(state, "orders_owner")
    add_schema(state, "orders", MASTER, "a comment")
    assert len(refused(state, [ORDERS], extensions=["pgcrypto"])) == 3


def test_extensions_are_created_when_not_installed_with_a_note_when_not_preloaded():
    state = empty_state(extensions={"pgcrypto": None, "pg_stat_statements": None, "hstore": "1.8"}, preload=())
    actions = plan(state, [], extensions=["pgcrypto", "pg_stat_statements", "hstore"])
    assert lines(actions) == [
        "1. extension pgcrypto: create [online]",
        "2. extension pg_stat_statements: create [online]. "
        "it collects nothing until shared_preload_libraries holds it and the instances restart",
    ]
    assert statements(actions) == [
        'CREATE EXTENSION IF NOT EXISTS "pgcrypto"',
        'CREATE EXTENSION IF NOT EXISTS "pg_stat_statements"',
    ]
    preloaded = empty_state(extensions={"pg_stat_statements": None})
    assert plan(preloaded, [], extensions=["pg_stat_statements"])[0].note == ""


def test_unmarked_roles_and_schemas_are_never_dropped_or_touched():
    state = converged([ORDERS])
    add_role(state, "dba_own_login", login=True, createrole=True)
    add_role(state, "billing_auditor", "a note of the DBA", login=True, member_of={"orders_rw"})
    add_role(state, "orders_legacy", "vitality.aurora something else", login=True)
    add_schema(state, "reports", "dba_own_login", None)
    grant_schema(state, "reports", "orders_rw", "USAGE")
    assert plan(state, [ORDERS]) == []
    # The DBA's grant to a group the collection would drop: refused, the DBA decides about it.
    problems = refused(state, [])
    assert [p for p in problems if p.startswith("role orders_rw ") and "USAGE on schema reports" in p], problems
    state["schemas"]["reports"]["acl"].pop("orders_rw")
    actions = plan(state, [])
    touched = " ".join(statements(actions))
    for name in ("dba_own_login", "billing_auditor", "orders_legacy", "reports", MASTER):
        assert f'"{name}"' not in touched, name


# ---- removals --------------------------------------------------------------------------------------------------


def test_a_removed_user_is_dropped_with_its_clone_and_nothing_else_is_touched():
    state = converged([ORDERS])
    fewer = [{"name": "orders", "users": [ORDERS["users"][1]]}]
    actions = plan(state, fewer)
    assert [(action.name, action.calls) for action in actions] == [
        ("orders_app", ['DROP ROLE "orders_app"']),
        ("orders_app_clone", ['DROP ROLE "orders_app_clone"']),
    ]
    assert lines(actions) == [
        "1. database role orders_app: drop (user of application orders, no longer in the inventory) [online]"
        " - orders_app can no longer log in",
        "2. database role orders_app_clone: drop (alternate login of application orders, no longer in the inventory) "
        "[online] - orders_app_clone can no longer log in",
    ]


def test_a_removed_users_own_privileges_are_revoked_before_it_is_dropped():
    state = converged([ORDERS], tables=[("orders", "visits", "r")])
    grant_database(state, "orders_app", "CONNECT")
    grant_schema(state, "orders", "orders_app", "USAGE")
    state["relations"]["orders"]["visits"]["acl"]["orders_app"] = {"SELECT", "INSERT"}
    grant_default(state, "orders_owner", "orders", "r", "orders_app", "SELECT")
    fewer = [{"name": "orders", "users": [ORDERS["users"][1]]}]
    actions = plan(state, fewer)
    assert actions[0].name == "orders_app"
    assert actions[0].calls == [
        'REVOKE CONNECT ON DATABASE "vitality" FROM "orders_app"',
        'SET ROLE "orders_owner"',
        'REVOKE USAGE ON SCHEMA "orders" FROM "orders_app"',
        'REVOKE INSERT, SELECT ON TABLE "orders"."visits" FROM "orders_app"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "orders_owner" IN SCHEMA "orders" REVOKE SELECT ON TABLES FROM "orders_app"',
        "RESET ROLE",
        'DROP ROLE "orders_app"',
    ]
    assert [action.name for action in actions] == ["orders_app", "orders_app_clone"]


def test_a_removed_login_with_privileges_outside_the_collections_schemas_is_not_planned_to_a_failing_drop():
    state = converged([ORDERS])
    grant_schema(state, "public", "orders_app", "USAGE")  # a DBA's grant
    fewer = [{"name": "orders", "users": [ORDERS["users"][1]]}]
    try:
        actions = plan(state, fewer)
    except db.PlanRefused as refused_plan:
        assert "orders_app" in refused_plan.problems[0]
    else:
        assert 'REVOKE USAGE ON SCHEMA "public" FROM "orders_app"' in by_name(actions, "orders_app")[0].calls


def test_a_removed_application_whose_schema_holds_objects_stops_the_plan():
    state = converged([ORDERS, BILLING], tables=[("billing", "invoices", "r"), ("billing", "invoices_id_seq", "S")])
    state["schemas"]["billing"]["objects"] += 1  # a function the migrations made
    problems = refused(state, [ORDERS])
    assert len(problems) == 2
    assert problems[0].startswith(
        "schema billing (application billing, no longer in the inventory) still holds 3 objects the collection did not create"
    )
    assert problems[1].startswith("role billing_owner (no longer in the inventory) owns 2 objects")
    assert "REASSIGN OWNED BY billing_owner" in problems[1]


def test_a_removed_role_owning_objects_elsewhere_stops_the_plan():
    state = converged([ORDERS])
    state["roles"]["orders_app"]["owns"] = 1  # a table in public, say
    fewer = [{"name": "orders", "users": [ORDERS["users"][1]]}]
    assert refused(state, fewer) == [
        "role orders_app (no longer in the inventory) owns 1 objects the collection did not create: "
        "REASSIGN OWNED BY orders_app TO another role first, or keep it in the inventory"
    ]


def test_a_removed_empty_application_goes_logins_groups_schema_owner_in_that_order():
    state = converged([ORDERS, BILLING])
    actions = plan(state, [ORDERS])
    assert [(action.resource, action.name) for action in actions] == [
        (db.ROLE, "billing_app"),
        (db.ROLE, "billing_app_clone"),
        (db.ROLE, "billing_ro"),
        (db.ROLE, "billing_rw"),
        (db.SCHEMA, "billing"),
        (db.ROLE, "billing_owner"),
    ]
    calls = {action.name: action.calls for action in actions}
    assert calls["billing_app"] == ['DROP ROLE "billing_app"']
    assert calls["billing_rw"] == [
        'REVOKE CONNECT ON DATABASE "vitality" FROM "billing_rw"',
        'SET ROLE "billing_owner"',
        'REVOKE USAGE ON SCHEMA "billing" FROM "billing_rw"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "billing_owner" IN SCHEMA "billing" REVOKE SELECT, USAGE ON SEQUENCES FROM "billing_rw"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "billing_owner" IN SCHEMA "billing" '
        'REVOKE DELETE, INSERT, SELECT, UPDATE ON TABLES FROM "billing_rw"',
        "RESET ROLE",
        'DROP ROLE "billing_rw"',
    ]
    assert calls["billing"] == ['SET ROLE "billing_owner"', 'DROP SCHEMA "billing"', "RESET ROLE"]
    assert calls["billing_owner"] == [
        'REVOKE CONNECT ON DATABASE "vitality" FROM "billing_owner"',
        'DROP ROLE "billing_owner"',
    ]
    assert lines(actions)[4] == "5. schema billing: drop (empty; its application left the inventory) [online]"
    assert lines(actions)[5] == (
        "6. database role billing_owner: drop (owner of application billing, no longer in the inventory) [online]"
        " - members lose the role's privileges"
    )
    assert not [s for s in statements(actions) if "orders" in s]


def test_all_applications_removed_drops_everything_the_collection_made_and_only_that():
    state = converged([ORDERS, BILLING], authentication="iam")
    actions = plan(state, [])
    dropped = {action.name for action in actions if action.change.startswith("drop")}
    marked = {name for name, role in state["roles"].items() if db.parse_role_comment(role["comment"])}
    assert dropped == marked | {"orders", "billing"}
    assert "rds_iam" not in " ".join(statements(actions))


def test_a_renamed_schema_leaves_no_empty_schema_of_the_collection_behind():
    state = converged([ORDERS])
    renamed = [dict(ORDERS, schema="sales")]
    actions = plan(state, renamed)
    assert 'CREATE SCHEMA "sales" AUTHORIZATION "orders_owner"' in statements(actions)
    assert [a for a in actions if a.resource == db.SCHEMA and a.name == "orders" and "drop" in a.change]


# ---- the input rules -------------------------------------------------------------------------------------------


def errors_of(applications, authentication="password", extensions=(), master_user=MASTER):
    return db.application_errors(applications, authentication, list(extensions), master_user=master_user)


def test_good_applications_have_no_error():
    apps = [
        ORDERS,
        BILLING,
        {
            "name": "a" * 40,
            "schema": "s" * 63,
            "users": [{"name": "u" * 57, "access": "owner", "settings": {"x.y": 1}}],
        },
    ]
    assert errors_of(apps, extensions=["pg_stat_statements", "pgcrypto"]) == []
    assert errors_of([], authentication="iam") == []


@pytest.mark.parametrize(
    ("applications", "message"),
    [
        ([{"name": "Bad-Name"}], "applications[0].name='Bad-Name' must start with a lower-case letter"),
        ([{"name": "1orders"}], "applications[0].name='1orders' must start with a lower-case letter"),
        ([{"name": None}], "applications[0].name=None must start with a lower-case letter"),
        ([{"name": "a" * 41}], f"applications[0].name='{'a' * 41}' is 41 characters long, at most 40"),
        (
            [{"name": "rds_tools"}],
            "applications[0].name='rds_tools' starts with pg_, rds, which PostgreSQL and RDS reserve",
        ),
        ([{"name": "rdsadmin"}], "applications[0].name='rdsadmin' starts with pg_, rds"),
        ([{"name": "pg_app"}], "applications[0].name='pg_app' starts with pg_, rds"),
        ([{"name": "ok", "schema": "pg_temp"}], "applications[0].schema='pg_temp' starts with pg_, rds"),
        ([{"name": "ok", "schema": "public"}], "applications[0].schema='public' is a schema every database has"),
        (
            [{"name": "ok", "users": [{"name": "rds_admin"}]}],
            "applications[0].users[0].name='rds_admin' starts with pg_, rds",
        ),
        ([{"name": "ok", "users": [{"name": "u" * 58}]}], "is 58 characters long, at most 57 are allowed"),
        (
            [{"name": "a"}, {"name": "a"}],
            "applications[1].name='a' is also applications[0].name: application names are unique",
        ),
        (
            [{"name": "a"}, {"name": "b", "schema": "a"}],
            "applications[1].schema='a' is also applications[0]'s schema: each application has its own",
        ),
        (
            [{"name": "a", "users": [{"name": "app"}]}, {"name": "b", "users": [{"name": "app"}]}],
            "applications[1].users[0].name='app' is also applications[0].users[0].name: a login belongs to one application",
        ),
        (
            [{"name": "a", "users": [{"name": "app"}, {"name": "app", "access": "read_only"}]}],
            "applications[0].users[1].name='app' is also applications[0].users[0].name",
        ),
        ([{"name": "a", "users": [{"name": MASTER}]}], "applications[0].users[0].name='admin1' is the master user"),
        (
            [{"name": "a", "users": [{"name": "app_clone"}]}],
            "applications[0].users[0].name='app_clone' ends with _clone, the suffix of the alternate login rotation makes",
        ),
        (
            [{"name": "a", "users": [{"name": "a_ro"}]}],
            "applications[0].users[0].name='a_ro' is the name of application a's group role",
        ),
        (
            [{"name": "a", "users": [{"name": "b_owner"}]}, {"name": "b"}],
            "applications[0].users[0].name='b_owner' is the name of application b's group role",
        ),
        ([{"name": "a", "owner": "x"}], "applications[0] has unknown keys owner (known: name, schema, users)"),
        (
            [{"name": "a", "users": [{"name": "u", "password": "p", "role": "r"}]}],
            "applications[0].users[0] has unknown keys password, role (known: name, access, settings)",
        ),
        (
            [{"name": "a", "users": [{"name": "u", "access": "admin"}]}],
            "applications[0].users[0].access='admin' is not one of read_write, read_only, owner",
        ),
        (
            [{"name": "a", "users": [{"name": "u", "settings": {"role": "a_owner"}}]}],
            "applications[0].users[0].settings.role cannot be set per user here",
        ),
        (
            [{"name": "a", "users": [{"name": "u", "settings": {"search_path": "public"}}]}],
            "applications[0].users[0].settings.search_path cannot be set per user here",
        ),
        (
            [{"name": "a", "users": [{"name": "u", "settings": {"session_authorization": "x"}}]}],
            "applications[0].users[0].settings.session_authorization cannot be set per user here",
        ),
        (
            [{"name": "a", "users": [{"name": "u", "settings": {"work mem; DROP": "1"}}]}],
            "applications[0].users[0].settings has 'work mem; DROP', which is not a PostgreSQL setting name",
        ),
        (
            [{"name": "a", "users": [{"name": "u", "settings": {"work_mem": ["1MB"]}}]}],
            "applications[0].users[0].settings.work_mem=['1MB'] must be a single value",
        ),
        (
            [{"name": "a", "users": [{"name": "u", "settings": {"work_mem": None}}]}],
            "applications[0].users[0].settings.work_mem=None must be a single value",
        ),
        (
            [{"name": "a", "users": [{"name": "u", "settings": "work_mem=1MB"}]}],
            "applications[0].users[0].settings must be a dict of PostgreSQL settings, got str",
        ),
        ([{"name": "a", "users": {"name": "u"}}], "applications[0].users must be a list, got dict"),
        ([{"name": "a", "users": ["u"]}], "applications[0].users[0] must be a dict with name and access, got str"),
        (["orders"], "applications[0] must be a dict with name and users, got str"),
        ({"name": "orders"}, "applications must be a list of applications, got dict"),
    ],
)
def test_each_refused_application_input_is_named_with_its_rule(applications, message):
    errors = errors_of(applications)
    assert [error for error in errors if message in error], errors


@pytest.mark.parametrize("user", ["public", "none"])
def test_role_names_postgresql_reserves_are_refused(user):
    assert errors_of([{"name": "a", "users": [{"name": user}]}])


def test_the_authentication_and_extensions_are_checked_too():
    assert errors_of([], authentication="kerberos") == ["authentication='kerberos' is not one of password, iam"]
    assert errors_of([], extensions=["PostGIS"]) == [
        "extensions=['PostGIS'] must be a list of extension names (lower case, digits, _)"
    ]
    assert db.application_errors([], "password", "pgcrypto") == [
        "extensions='pgcrypto' must be a list of extension names (lower case, digits, _)"
    ]


def test_the_messages_name_the_roles_variables():
    errors = db.application_errors(
        [{"name": "Bad"}], "x", "pgcrypto", master_user=None, variable="aurora_database_applications"
    )
    assert [error.split("=", maxsplit=1)[0] for error in errors] == [
        "aurora_database_authentication",
        "aurora_database_applications[0].name",
        "aurora_database_applications[0].schema",
        "aurora_database_extensions",
    ]


def test_without_a_master_user_any_user_name_may_be_asked_for():
    assert errors_of([{"name": "a", "users": [{"name": MASTER}]}], master_user=None) == []


# ---- the role's settings ---------------------------------------------------------------------------------------


@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "global-bundle.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return str(path)


def setting_errors(ca_file, cluster_parameters=None, master_user=None, **values):
    typed = {"aurora_database_enabled": True, "aurora_database_ca_file": ca_file}
    typed.update({f"aurora_database_{key}": value for key, value in values.items()})
    return db.database_setting_errors(typed, cluster_parameters=cluster_parameters, master_user=master_user)


def test_the_default_settings_with_a_ca_file_have_no_error(ca_file):
    assert setting_errors(ca_file) == []
    assert setting_errors(ca_file, applications=[ORDERS], extensions=["pg_stat_statements", "pgcrypto"]) == []


def test_turned_off_nothing_is_checked():
    typed = {
        "aurora_database_enabled": False,
        "aurora_database_ca_file": "",
        "aurora_database_applications": [{"name": "Bad-Name"}],
        "aurora_database_master_rotation_days": 5000,
        "aurora_database_extensions": ["pg_cron"],
    }
    assert db.database_setting_errors(typed) == []


def test_the_ca_file_is_required_unless_ssl_mode_require_and_must_be_readable(ca_file, tmp_path):
    [missing] = setting_errors(None)
    assert missing.startswith("aurora_database_ca_file is required with aurora_database_ssl_mode=verify-full")
    assert "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem" in missing
    assert setting_errors("", ssl_mode="verify-ca")[0].startswith(
        "aurora_database_ca_file is required with aurora_database_ssl_mode=verify-ca"
    )
    assert setting_errors(None, ssl_mode="require") == []
    assert setting_errors("/no/such/bundle.pem") == [
        "aurora_database_ca_file='/no/such/bundle.pem' is not a readable file on the machine running Ansible"
    ]
    assert setting_errors(str(tmp_path)) == [
        f"aurora_database_ca_file={str(tmp_path)!r} is not a readable file on the machine running Ansible"
    ]


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [
        ("master_rotation_days", [None, 0, 1, 1000], [-1, 1001]),
        ("secret_recovery_days", [7, 30], [6, 31, 0]),
        ("rotation_min_age_hours", [0, 0.5, 12], [-1]),
        ("connect_port", [None, 0, 5432, 65535], [-1, 65536]),
    ],
)
def test_the_numeric_settings_ranges(ca_file, key, good, bad):
    for value in good:
        assert setting_errors(ca_file, **{key: value}) == [], value
    for value in bad:
        [error] = setting_errors(ca_file, **{key: value})
        assert error.startswith(f"aurora_database_{key}={value!r} must be"), error


def test_master_rotation_days_zero_means_leave_it(ca_file):
    [error] = setting_errors(ca_file, master_rotation_days=1001)
    assert "or 0 to leave it" in error


def test_an_extension_that_needs_preloading_needs_it_in_the_cluster_parameters(ca_file):
    [error] = setting_errors(ca_file, extensions=["pg_cron"])
    assert error.startswith(
        "aurora_database_extensions has pg_cron, which needs pg_cron in aurora_cluster_parameters.shared_preload_libraries "
        "(now pg_stat_statements)"
    )
    assert "aurora_cluster_allow_rolling_reboot=true" in error
    loaded = {"shared_preload_libraries": "pg_stat_statements, pg_cron"}
    assert setting_errors(ca_file, cluster_parameters=loaded, extensions=["pg_cron", "pg_stat_statements"]) == []


def test_pg_stat_statements_is_preloaded_by_default_but_not_by_a_list_of_the_clusters_own(ca_file):
    assert setting_errors(ca_file, extensions=["pg_stat_statements"]) == []
    assert setting_errors(ca_file, cluster_parameters={"work_mem": "64MB"}, extensions=["pg_stat_statements"]) == []
    [error] = setting_errors(
        ca_file, cluster_parameters={"shared_preload_libraries": "pg_cron"}, extensions=["pg_stat_statements"]
    )
    assert "aurora_database_extensions has pg_stat_statements" in error and "(now pg_cron)" in error
    [error] = setting_errors(
        ca_file, cluster_parameters={"shared_preload_libraries": ""}, extensions=["pg_stat_statements"]
    )
    assert "(now empty)" in error


def test_the_role_passes_the_master_user_and_the_application_rules_apply(ca_file):
    errors = setting_errors(
        ca_file, master_user="postgres", applications=[{"name": "a", "users": [{"name": "postgres"}]}]
    )
    assert errors == [
        "aurora_database_applications[0].users[0].name='postgres' is the master user: applications use their own users"
    ]


# ---- names, comments, passwords, secrets -----------------------------------------------------------------------


def test_identifiers_and_literals_are_quoted():
    assert db.ident('a"b') == '"a""b"'
    assert db.literal("it's") == "'it''s'"


@pytest.mark.parametrize("kind", ["owner", "read_write", "read_only", "user", "clone"])
@pytest.mark.parametrize("authentication", [None, "password", "iam"])
def test_role_comments_are_read_back(kind, authentication):
    assert db.parse_role_comment(db.role_comment(kind, "orders_2", authentication)) == (
        kind,
        "orders_2",
        authentication,
    )


@pytest.mark.parametrize(
    "comment",
    [
        None,
        "",
        "made by the DBA",
        "vitality.aurora: auditor of application orders",
        "vitality.aurora owner of application x",
    ],
)
def test_other_comments_do_not_mark_a_role(comment):
    assert db.parse_role_comment(comment) is None


def test_schema_comments_are_read_back():
    assert db.parse_schema_comment(db.schema_comment("orders")) == "orders"
    assert db.parse_schema_comment("standard public schema") is None
    assert db.parse_schema_comment(None) is None


def test_privilege_words_name_what_and_where_without_the_grantee():
    assert db.privilege_words('GRANT USAGE ON SCHEMA "orders" TO "orders_rw"') == "GRANT USAGE ON SCHEMA orders"
    assert (
        db.privilege_words(
            'ALTER DEFAULT PRIVILEGES FOR ROLE "o" IN SCHEMA "orders" REVOKE SELECT ON TABLES FROM "orders_ro"'
        )
        == "by default in orders: REVOKE SELECT ON TABLES"
    )


def rfc7677_proof_and_signature(verifier):
    """The RFC 7677 example exchange (user "user", password "pencil") checked against a verifier, as a server does.

    The RFC gives the client's proof and the server's signature for its salt and nonces; a verifier of "pencil"
    with that salt must accept the proof (SHA-256(proof XOR HMAC(StoredKey, AuthMessage)) == StoredKey) and give
    the same signature (HMAC(ServerKey, AuthMessage)).
    """
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier)
    iterations, salt, stored_key, server_key = match.groups()
    client_first = "n=user,r=rOprNGfwEbeRWgbNEkqO"
    server_first = f"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s={salt},i={iterations}"
    client_final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    auth_message = f"{client_first},{server_first},{client_final}".encode()
    proof = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    client_signature = hmac.new(base64.b64decode(stored_key), auth_message, hashlib.sha256).digest()
    client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
    accepted = hashlib.sha256(client_key).digest() == base64.b64decode(stored_key)
    signature = base64.b64encode(hmac.new(base64.b64decode(server_key), auth_message, hashlib.sha256).digest())
    return accepted, signature.decode()


def test_the_scram_verifier_accepts_the_rfc_7677_example_exchange():
    verifier = db.scram_verifier("pencil", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    assert verifier.startswith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
    assert rfc7677_proof_and_signature(verifier) == (True, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert (
        rfc7677_proof_and_signature(db.scram_verifier("pencil!", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")))[0]
        is False
    )


def test_the_scram_verifier_is_deterministic_for_a_salt_and_salted_at_random_otherwise():
    salt = bytes(range(16))
    assert db.scram_verifier("secret", salt=salt) == db.scram_verifier("secret", salt=salt)
    assert db.scram_verifier("secret") != db.scram_verifier("secret")
    assert re.fullmatch(
        r"SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}", db.scram_verifier("x")
    )
    assert db.scram_verifier("x", salt=salt, iterations=10).startswith("SCRAM-SHA-256$10:")


def test_generated_passwords_are_long_and_plain():
    passwords = {db.generate_password() for dummy in range(20)}
    assert len(passwords) == 20
    assert all(len(p) == 40 and set(p) <= set(db.PASSWORD_ALPHABET) for p in passwords)
    assert len(db.generate_password(12)) == 12


def test_other_login_alternates_between_the_user_and_its_clone():
    assert db.other_login("orders_app", "orders_app") == "orders_app_clone"
    assert db.other_login("orders_app", "orders_app_clone") == "orders_app"
    assert db.other_login("orders_app", db.other_login("orders_app", "orders_app")) == "orders_app"


def test_the_secret_has_the_keys_of_the_multi_user_rotation_function():
    document = db.secret_document("orders_app", "pw", "c.cluster", 5432, "vitality", "arn:master")
    assert document == {
        "engine": "postgres",
        "host": "c.cluster",
        "port": 5432,
        "username": "orders_app",
        "password": "pw",
        "dbname": "vitality",
        "masterarn": "arn:master",
    }
    assert "masterarn" not in db.secret_document("u", "pw", "h", 5432, "d", None)
    assert db.secret_name(PREFIX, "orders_app") == "c/users/orders_app"


def test_the_labels_of_the_databases_resources():
    action = plan(empty_state(), [ORDERS])[0]
    assert db.label(action) == "database role orders_owner"
    assert db.line(action).startswith("1. database role orders_owner: ")


# ---- reading the catalogue -------------------------------------------------------------------------------------


class CatalogueCursor:
    """A DB-API cursor answering read_state's queries (matched by their text) with canned rows."""

    def __init__(self, rows):
        self.rows = rows
        self.executed = []
        self.answer = None

    def execute(self, statement, params=None):
        self.executed.append((statement, params))
        assert not statement.lstrip().upper().startswith(("CREATE", "ALTER", "GRANT", "REVOKE", "DROP", "SET"))
        key = next(
            key
            for key, query in db.READS.items()
            if statement in (query.replace("{act_as}", "SET"), query.replace("{act_as}", "MEMBER"))
        )
        self.answer = list(self.rows.get(key, []))

    def fetchone(self):
        return self.answer[0]

    def fetchall(self):
        return self.answer


def catalogue(version):
    return {
        "server": [(MASTER, DATABASE, str(version), MASTER, "rdsutils, pg_stat_statements")],
        "roles": [
            (MASTER, True, False, True, True, None, ["orders_owner", "rds_superuser"], [], 1, True),
            (
                "orders_owner",
                False,
                False,
                False,
                False,
                "vitality.aurora: owner of application orders",
                [],
                None,
                2,
                True,
            ),
            (
                "orders_app",
                True,
                False,
                False,
                False,
                "vitality.aurora: user of application orders; password authentication",
                ["orders_rw"],
                ["statement_timeout=30s", "application_name=a=b"],
                0,
                False,
            ),
        ],
        "database_acl": [("PUBLIC", "CONNECT"), ("orders_owner", "CONNECT")],
        "schemas": [
            ("orders", "orders_owner", "vitality.aurora: schema of application orders", 2),
            ("public", "x", None, 0),
        ],
        "schema_acl": [("orders", "orders_rw", "USAGE"), ("orders", "orders_ro", "USAGE"), ("gone", "x", "USAGE")],
        "relations": [
            ("orders", "visits", "r", "orders_owner", "orders_rw", "SELECT"),
            ("orders", "visits", "r", "orders_owner", "orders_rw", "INSERT"),
            ("orders", "empty", "r", "orders_owner", None, None),
        ],
        "default_acl": [("orders_owner", "orders", "r", "orders_ro", "SELECT")],
        "extensions": [("pgcrypto", None), ("pg_stat_statements", "1.10")],
    }


@pytest.mark.parametrize(("version", "act_as"), [(150007, "MEMBER"), (160002, "SET")])
def test_read_state_reads_the_catalogue_into_the_planners_shape(version, act_as):
    cursor = CatalogueCursor(catalogue(version))
    state = db.read_state(cursor)
    assert f"pg_has_role(current_user, r.oid, '{act_as}')" in cursor.executed[1][0]
    assert cursor.executed[5][1] == (["orders"],)  # relations of the marked schemas only
    assert state["version"] == version and state["user"] == MASTER and state["database"] == DATABASE
    assert state["preload"] == ["rdsutils", "pg_stat_statements"]
    assert state["roles"]["orders_app"]["settings"] == {"statement_timeout": "30s", "application_name": "a=b"}
    assert state["roles"]["orders_app"]["member_of"] == {"orders_rw"}
    assert state["roles"]["orders_owner"]["settings"] == {} and state["roles"]["orders_owner"]["master_member"] is True
    assert state["database_acl"] == {"PUBLIC": {"CONNECT"}, "orders_owner": {"CONNECT"}}
    assert state["schemas"]["orders"]["acl"] == {"orders_rw": {"USAGE"}, "orders_ro": {"USAGE"}}
    assert "gone" not in state["schemas"]
    assert state["relations"] == {
        "orders": {
            "visits": {"kind": "r", "owner": "orders_owner", "acl": {"orders_rw": {"SELECT", "INSERT"}}},
            "empty": {"kind": "r", "owner": "orders_owner", "acl": {}},
        }
    }
    assert state["default_acl"] == {("orders_owner", "orders", "r"): {"orders_ro": {"SELECT"}}}
    assert state["extensions"] == {"pgcrypto": None, "pg_stat_statements": "1.10"}
