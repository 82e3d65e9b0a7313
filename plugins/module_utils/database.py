# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database inside the cluster: application roles, schemas, privileges, extensions, as one plan.

Pure Python, no driver import: ``read_state`` takes a DB-API cursor, everything else takes and returns
plain data, so the rules are unit-tested without a server and the same code runs against PostgreSQL.

For each application the desired state is: an owner role that cannot log in and owns the schema; a
read-write and a read-only group (CONNECT on the database, USAGE on the schema, DML or SELECT on its
tables and sequences, and the same by default privileges for what the owner creates later); login users,
each a member of exactly one of those groups (or of the owner, for migrations). Every role and schema the
collection makes carries a comment that marks it (``vitality.aurora: ...``): only marked objects are ever
altered, revoked or dropped, and a desired name held by an unmarked role stops the plan.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string

from ansible_collections.vitality.aurora.plugins.module_utils.plan import Action

MARK = "vitality.aurora:"
KIND_WORDS = {
    "owner": "owner",
    "read_write": "read-write group",
    "read_only": "read-only group",
    "user": "user",
    "clone": "alternate login",
}
WORD_KINDS = {words: kind for kind, words in KIND_WORDS.items()}
COMMENT_RE = re.compile(
    r"^vitality\.aurora: (?P<kind>[a-z -]+?) of application (?P<app>[a-z][a-z0-9_]*)(?:; (?P<auth>password|iam) authentication)?"
)
SCHEMA_COMMENT_RE = re.compile(r"^vitality\.aurora: schema of application (?P<app>[a-z][a-z0-9_]*)")

ACCESS_LEVELS = ("read_write", "read_only", "owner")
AUTHENTICATIONS = ("password", "iam")
TABLE_PRIVILEGES = {"read_write": ("SELECT", "INSERT", "UPDATE", "DELETE"), "read_only": ("SELECT",)}
SEQUENCE_PRIVILEGES = {"read_write": ("SELECT", "USAGE"), "read_only": ("SELECT",)}
TABLE_KINDS = frozenset("rpvmf")  # tables, partitioned tables, views, materialized views, foreign tables
SEQUENCE_KIND = "S"
CLONE_SUFFIX = "_clone"  # the AWS multi-user rotation functions' name for the alternate login
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_APP_NAME = 40  # leaves room for the _owner suffix within PostgreSQL's 63
MAX_USER_NAME = 57  # leaves room for _clone
RESERVED_PREFIXES = ("pg_", "rds")
# Names PostgreSQL refuses for a role (CREATE ROLE: "role name ... is reserved").
RESERVED_NAMES = frozenset(["public", "none", "current_role", "current_user", "session_user"])
SETTING_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
# Settings a login may not set for itself through the role: they would change who it is or what it may do.
FORBIDDEN_SETTINGS = frozenset(["role", "session_authorization", "search_path"])
PASSWORD_ALPHABET = string.ascii_letters + string.digits  # no character RDS or a connection URL treats specially
PASSWORD_LENGTH = 40

ROLE = "db_role"
SCHEMA = "db_schema"
GRANTS = "db_privileges"
DEFAULTS = "db_default_privileges"
EXTENSION = "db_extension"
DATABASE = "database"
USER_SECRET = "user_secret"
MASTER_SECRET = "master_secret"
LABELS = {
    ROLE: "database role",
    SCHEMA: "schema",
    GRANTS: "privileges",
    DEFAULTS: "default privileges",
    EXTENSION: "extension",
    DATABASE: "database",
    USER_SECRET: "secret",
    MASTER_SECRET: "master user secret",
}


class PlanRefused(Exception):
    """The plan cannot be carried out as asked; nothing is changed. ``problems``: one message each."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


# ---- names and words ---------------------------------------------------------------------------------


def ident(name):
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(value):
    """A quoted SQL string literal (standard_conforming_strings is on in every supported PostgreSQL)."""
    return "'" + str(value).replace("'", "''") + "'"


def role_comment(kind, app, authentication=None):
    text = f"{MARK} {KIND_WORDS[kind]} of application {app}"
    return text + (f"; {authentication} authentication" if authentication else "")


def schema_comment(app):
    return f"{MARK} schema of application {app}"


def parse_role_comment(comment):
    """(kind, app, authentication) of a role the collection made, or None for any other role."""
    match = COMMENT_RE.match(comment or "")
    if not match or match.group("kind") not in WORD_KINDS:
        return None
    return WORD_KINDS[match.group("kind")], match.group("app"), match.group("auth")


def parse_schema_comment(comment):
    match = SCHEMA_COMMENT_RE.match(comment or "")
    return match.group("app") if match else None


def group_names(app):
    return {"owner": f"{app}_owner", "read_write": f"{app}_rw", "read_only": f"{app}_ro"}


def secret_name(prefix, user):
    return f"{prefix}{user}"


# ---- input rules -------------------------------------------------------------------------------------


def application_errors(applications, authentication, extensions, master_user=None, variable="applications"):
    """One message per refused input, naming the variable, the value and the rule. Calls nothing."""
    errors = []
    if authentication not in AUTHENTICATIONS:
        errors.append(
            f"{variable.replace('applications', 'authentication')}={authentication!r} is not one of {', '.join(AUTHENTICATIONS)}"
        )
    if not isinstance(applications, list):
        return errors + [f"{variable} must be a list of applications, got {type(applications).__name__}"]
    apps, users, schemas = {}, {}, {}
    for index, app in enumerate(applications):
        where = f"{variable}[{index}]"
        errors.extend(_entry_errors(where, app, ("name", "schema", "users"), "name and users"))
        if not isinstance(app, dict):
            continue
        name = app.get("name")
        errors.extend(_name_errors(f"{where}.name", name, MAX_APP_NAME))
        if name in apps:
            errors.append(f"{where}.name={name!r} is also {apps[name]}.name: application names are unique")
        apps.setdefault(name, where)
        schema = app.get("schema", name)
        errors.extend(_name_errors(f"{where}.schema", schema, 63))
        if schema in ("public", "information_schema"):
            errors.append(f"{where}.schema={schema!r} is a schema every database has: give the application its own")
        elif schema in schemas:
            errors.append(f"{where}.schema={schema!r} is also {schemas[schema]}'s schema: each application has its own")
        schemas.setdefault(schema, where)
        app_users = app.get("users", [])
        if not isinstance(app_users, list):
            errors.append(f"{where}.users must be a list, got {type(app_users).__name__}")
            continue
        for position, user in enumerate(app_users):
            at = f"{where}.users[{position}]"
            errors.extend(_entry_errors(at, user, ("name", "access", "settings"), "name and access"))
            if not isinstance(user, dict):
                continue
            user_name = user.get("name")
            errors.extend(_name_errors(f"{at}.name", user_name, MAX_USER_NAME))
            if isinstance(user_name, str):
                if user_name in users:
                    errors.append(
                        f"{at}.name={user_name!r} is also {users[user_name]}.name: a login belongs to one application"
                    )
                if user_name == master_user:
                    errors.append(f"{at}.name={user_name!r} is the master user: applications use their own users")
                if user_name.endswith(CLONE_SUFFIX):
                    errors.append(
                        f"{at}.name={user_name!r} ends with {CLONE_SUFFIX}, the suffix of the alternate login rotation makes"
                    )
                for other in applications if isinstance(applications, list) else []:
                    if (
                        isinstance(other, dict)
                        and isinstance(other.get("name"), str)
                        and user_name in group_names(other["name"]).values()
                    ):
                        errors.append(
                            f"{at}.name={user_name!r} is the name of application {other['name']}'s group role"
                        )
                users.setdefault(user_name, at)
            access = user.get("access", "read_write")
            if access not in ACCESS_LEVELS:
                errors.append(f"{at}.access={access!r} is not one of {', '.join(ACCESS_LEVELS)}")
            settings = user.get("settings", {})
            if not isinstance(settings, dict):
                errors.append(f"{at}.settings must be a dict of PostgreSQL settings, got {type(settings).__name__}")
                continue
            for key, value in settings.items():
                if not isinstance(key, str) or not SETTING_RE.match(key):
                    errors.append(f"{at}.settings has {key!r}, which is not a PostgreSQL setting name")
                elif key in FORBIDDEN_SETTINGS:
                    errors.append(
                        f"{at}.settings.{key} cannot be set per user here: it would change what the user may do"
                    )
                if isinstance(value, (dict, list)) or value is None:
                    errors.append(f"{at}.settings.{key}={value!r} must be a single value (text or number)")
    if not isinstance(extensions, list) or not all(isinstance(e, str) and NAME_RE.match(e) for e in extensions):
        errors.append(
            f"{variable.replace('applications', 'extensions')}={extensions!r} must be a list of extension names (lower case, digits, _)"
        )
    return errors


def _entry_errors(where, entry, known, needs):
    """An application or user entry must be a dict of known keys: the messages, or []."""
    if not isinstance(entry, dict):
        return [f"{where} must be a dict with {needs}, got {type(entry).__name__}"]
    unknown = sorted(set(entry) - set(known))
    return [f"{where} has unknown keys {', '.join(unknown)} (known: {', '.join(known)})"] if unknown else []


def _name_errors(where, name, limit):
    if not isinstance(name, str) or not NAME_RE.match(name):
        return [f"{where}={name!r} must start with a lower-case letter and hold only lower-case letters, digits and _"]
    if len(name) > limit:
        return [f"{where}={name!r} is {len(name)} characters long, at most {limit} are allowed"]
    if name in RESERVED_NAMES:
        return [f"{where}={name!r} is a name PostgreSQL reserves"]
    if name.startswith(RESERVED_PREFIXES):
        return [f"{where}={name!r} starts with {', '.join(RESERVED_PREFIXES)}, which PostgreSQL and RDS reserve"]
    return []


# ---- desired state -----------------------------------------------------------------------------------


def setting_text(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def desired_state(applications, authentication, secret_prefix):
    """{roles, schemas}: what the inventory asks for, every name derived here and nowhere else."""
    roles, schemas = {}, {}
    for app in applications:
        name = app["name"]
        groups = group_names(name)
        schema = app.get("schema") or name
        for kind, role in groups.items():
            roles[role] = {
                "kind": kind,
                "app": name,
                "login": False,
                "member_of": set(),
                "settings": {},
                "comment": role_comment(kind, name),
            }
        schemas[schema] = {"app": name, "owner": groups["owner"], "comment": schema_comment(name)}
        for user in app.get("users") or []:
            access = user.get("access") or "read_write"
            settings = {key: setting_text(value) for key, value in (user.get("settings") or {}).items()}
            if access == "owner":
                # What a migration creates belongs to the owner, so the default privileges cover it.
                settings["role"] = groups["owner"]
            base = {
                "app": name,
                "login": True,
                "access": access,
                "authentication": authentication,
                "settings": settings,
                "member_of": {groups[access]} | ({"rds_iam"} if authentication == "iam" else set()),
            }
            roles[user["name"]] = dict(
                base, kind="user", user=user["name"], comment=role_comment("user", name, authentication)
            )
            if authentication == "password":
                roles[user["name"] + CLONE_SUFFIX] = dict(
                    base, kind="clone", user=user["name"], comment=role_comment("clone", name, authentication)
                )
            roles[user["name"]]["secret"] = (
                secret_name(secret_prefix, user["name"]) if authentication == "password" else None
            )
    return {"roles": roles, "schemas": schemas}


# ---- reading the database ----------------------------------------------------------------------------

GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END"

READS = {
    "server": "SELECT current_user, current_database(), current_setting('server_version_num')::int, "
    "pg_get_userbyid(d.datdba), current_setting('shared_preload_libraries') FROM pg_database d "
    "WHERE d.datname = current_database()",
    "roles": "SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb, "
    "shobj_description(r.oid, 'pg_authid'), "
    "ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1), "
    "COALESCE((SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}'), "
    "(SELECT count(*) FROM pg_shdepend o WHERE o.refobjid = r.oid AND o.refclassid = 'pg_authid'::regclass AND o.deptype = 'o' "
    "AND o.classid <> 'pg_default_acl'::regclass), "
    "pg_has_role(current_user, r.oid, '{act_as}') "
    "FROM pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1",
    "database_acl": f"SELECT {GRANTEE}, a.privilege_type FROM pg_database d, aclexplode(d.datacl) a "
    "WHERE d.datname = current_database()",
    "schemas": "SELECT n.nspname, pg_get_userbyid(n.nspowner), obj_description(n.oid, 'pg_namespace'), "
    "(SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid) + (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid) "
    "+ (SELECT count(*) FROM pg_type t WHERE t.typnamespace = n.oid AND t.typrelid = 0 AND t.typelem = 0) "
    "FROM pg_namespace n WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ORDER BY 1",
    "schema_acl": f"SELECT n.nspname, {GRANTEE}, a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a "
    "WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'",
    "relations": f"SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), {GRANTEE}, a.privilege_type "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN LATERAL aclexplode(c.relacl) a ON true "
    "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')",
    "default_acl": f"SELECT pg_get_userbyid(d.defaclrole), n.nspname, d.defaclobjtype, {GRANTEE}, a.privilege_type "
    "FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a",
    "extensions": "SELECT e.name, e.installed_version FROM pg_available_extensions e",
}


def read_state(cursor):
    """The database as it is, in a handful of catalogue queries (no writes)."""
    cursor.execute(READS["server"])
    user, database, version, owner, preload = cursor.fetchone()
    state = {
        "user": user,
        "database": database,
        "version": int(version),
        "database_owner": owner,
        "preload": [lib.strip() for lib in (preload or "").split(",") if lib.strip()],
        "roles": {},
        "database_acl": {},
        "schemas": {},
        "relations": {},
        "default_acl": {},
        "extensions": {},
    }
    # PostgreSQL 16 separates membership (a role's creator holds ADMIN on it) from SET, which acting as it needs.
    cursor.execute(READS["roles"].replace("{act_as}", "SET" if int(version) >= 160000 else "MEMBER"))
    for (
        name,
        login,
        superuser,
        createrole,
        createdb,
        comment,
        member_of,
        settings,
        owns,
        master_member,
    ) in cursor.fetchall():
        state["roles"][name] = {
            "login": bool(login),
            "superuser": bool(superuser),
            "createrole": bool(createrole),
            "createdb": bool(createdb),
            "comment": comment,
            "member_of": set(member_of or []),
            "settings": dict(item.split("=", 1) for item in (settings or []) if "=" in item),
            "owns": int(owns),
            "master_member": bool(master_member),
        }
    cursor.execute(READS["database_acl"])
    for grantee, privilege in cursor.fetchall():
        state["database_acl"].setdefault(grantee, set()).add(privilege)
    cursor.execute(READS["schemas"])
    for name, owner_name, comment, objects in cursor.fetchall():
        state["schemas"][name] = {"owner": owner_name, "comment": comment, "objects": int(objects), "acl": {}}
    cursor.execute(READS["schema_acl"])
    for name, grantee, privilege in cursor.fetchall():
        if name in state["schemas"]:
            state["schemas"][name]["acl"].setdefault(grantee, set()).add(privilege)
    marked = [name for name, schema in state["schemas"].items() if parse_schema_comment(schema["comment"])]
    cursor.execute(READS["relations"], (marked,))
    for schema, relation, kind, rel_owner, grantee, privilege in cursor.fetchall():
        entry = (
            state["relations"]
            .setdefault(schema, {})
            .setdefault(relation, {"kind": kind, "owner": rel_owner, "acl": {}})
        )
        if grantee is not None:
            entry["acl"].setdefault(grantee, set()).add(privilege)
    cursor.execute(READS["default_acl"])
    for role, schema, kind, grantee, privilege in cursor.fetchall():
        state["default_acl"].setdefault((role, schema, kind), {}).setdefault(grantee, set()).add(privilege)
    cursor.execute(READS["extensions"])
    for name, installed in cursor.fetchall():
        state["extensions"][name] = installed
    return state


# ---- the plan ----------------------------------------------------------------------------------------


def sql_action(resource, name, change, statements, changes=(), unavailability="none", note=""):
    return Action(
        resource,
        name,
        change,
        changes=changes,
        runner="sql",
        calls=list(statements),
        note=note,
        unavailability=unavailability,
        request={"sql": list(statements)},
    )


def plan_database(state, desired, extensions, revoke_public_create=True):
    """The ordered actions that make the database what ``desired`` says, or PlanRefused (nothing changes).

    SQL actions run in one transaction, in the order listed. Secrets are planned by the module (they live in
    AWS); this plans what PostgreSQL holds.
    """
    problems = []
    actions = []
    roles = state["roles"]
    version = state["version"]
    wanted = desired["roles"]

    # A desired name held by a role the collection did not make is never taken over.
    for name in sorted(wanted):
        if name in roles and parse_role_comment(roles[name]["comment"]) is None:
            problems.append(
                f"role {name} exists and was not created by vitality.aurora (its comment does not mark it): "
                "choose another name in the inventory, or drop or rename that role yourself"
            )
    for schema, spec in sorted(desired["schemas"].items()):
        found = state["schemas"].get(schema)
        if found and parse_schema_comment(found["comment"]) is None:
            problems.append(
                f"schema {schema} exists and was not created by vitality.aurora: give application {spec['app']} another schema "
                "in the inventory, or mark it yourself with COMMENT ON SCHEMA if the application owns it"
            )
    for name in extensions:
        if name not in state["extensions"]:
            problems.append(
                f"extension {name} is not available on this server (pg_available_extensions does not list it)"
            )

    # Roles, schemas and privileges the collection made that the inventory no longer names.
    removed_roles = sorted(
        name for name, role in roles.items() if parse_role_comment(role["comment"]) is not None and name not in wanted
    )
    removed_schemas = sorted(
        name
        for name, schema in state["schemas"].items()
        if parse_schema_comment(schema["comment"]) is not None and name not in desired["schemas"]
    )
    apps_now = {spec["app"]: schema for schema, spec in desired["schemas"].items()}
    for schema in removed_schemas:
        app = parse_schema_comment(state["schemas"][schema]["comment"])
        count = state["schemas"][schema]["objects"]
        if count and app in apps_now:
            problems.append(
                f"schema {schema} (application {app} now uses schema {apps_now[app]}) still holds {count} objects the "
                f"collection did not create: move them (ALTER TABLE ... SET SCHEMA {apps_now[app]}) first, or set the "
                f"application's schema back to {schema}"
            )
        elif count:
            problems.append(
                f"schema {schema} (application {app}, no longer in the inventory) still holds {count} objects the "
                "collection did not create: drop or move them first, or keep the application in the inventory"
            )
    for name in removed_roles:
        owned = roles[name]["owns"] - sum(1 for s in removed_schemas if state["schemas"][s]["owner"] == name)
        if owned > 0:
            problems.append(
                f"role {name} (no longer in the inventory) owns {owned} objects the collection did not create: "
                f"REASSIGN OWNED BY {name} TO another role first, or keep it in the inventory"
            )
    for name in removed_roles:
        # DROP ROLE fails on a privilege the role holds anywhere; those in schemas the collection did not make
        # were granted by someone else, who decides about them.
        foreign = [
            f"{', '.join(sorted(found['acl'][name]))} on schema {schema}"
            for schema, found in sorted(state["schemas"].items())
            if name in found["acl"] and parse_schema_comment(found["comment"]) is None
        ]
        if foreign:
            problems.append(
                f"role {name} (no longer in the inventory) holds privileges the collection did not grant "
                f"({'; '.join(foreign)}): revoke them first, or keep it in the inventory"
            )
    if problems:
        raise PlanRefused(problems)

    if revoke_public_create and "CREATE" in state["schemas"].get("public", {}).get("acl", {}).get("PUBLIC", set()):
        actions.append(
            sql_action(
                GRANTS,
                "public",
                "revoke CREATE on schema public from PUBLIC",
                ["REVOKE CREATE ON SCHEMA public FROM PUBLIC"],
                note="any role could create objects in public (PostgreSQL 14 and older granted it)",
            )
        )
    for name in extensions:
        if not state["extensions"].get(name):
            note = ""
            if name in ("pg_stat_statements",) and name not in state["preload"]:
                note = "it collects nothing until shared_preload_libraries holds it and the instances restart"
            actions.append(
                sql_action(EXTENSION, name, "create", [f"CREATE EXTENSION IF NOT EXISTS {ident(name)}"], note=note)
            )

    apps = {}
    for name, spec in wanted.items():
        apps.setdefault(spec["app"], []).append(name)
    schema_of = {spec["app"]: schema for schema, spec in desired["schemas"].items()}
    kind_order = {"owner": 0, "read_write": 1, "read_only": 2, "user": 3, "clone": 4}
    for app in sorted(apps):
        names = sorted(apps[app], key=lambda n: (kind_order[wanted[n]["kind"]], n))
        groups = group_names(app)
        owner = groups["owner"]
        schema = schema_of[app]
        for name in names:
            if wanted[name]["kind"] in ("owner", "read_write", "read_only"):
                actions.extend(_role_actions(name, wanted[name], roles.get(name)))
        if not roles.get(owner, {}).get("master_member"):
            # The master acts as the owner (creates its schema, grants on its tables, sets its default privileges).
            grant = f"GRANT {ident(owner)} TO CURRENT_USER" + (
                " WITH INHERIT FALSE, SET TRUE" if version >= 160000 else ""
            )
            actions.append(sql_action(ROLE, owner, f"let the master user {state['user']} act as {owner}", [grant]))
        actions.extend(_schema_actions(schema, desired["schemas"][schema], state))
        actions.extend(_privilege_actions(app, schema, groups, state))
        for name in names:
            if wanted[name]["kind"] in ("user", "clone"):
                actions.extend(_role_actions(name, wanted[name], roles.get(name)))

    # A schema an application no longer uses (it moved to another): empty (checked above), so dropped.
    for schema in removed_schemas:
        owner = state["schemas"][schema]["owner"]
        if owner in wanted:
            app = parse_schema_comment(state["schemas"][schema]["comment"])
            actions.append(
                sql_action(
                    SCHEMA,
                    schema,
                    f"drop (empty; application {app} now uses schema {apps_now.get(app)})",
                    [f"SET ROLE {ident(owner)}", f"DROP SCHEMA {ident(schema)}", "RESET ROLE"],
                )
            )

    # Removals: logins first, then the groups (their privileges revoked), the schema, the owner.
    removal_order = {"user": 0, "clone": 0, "read_write": 1, "read_only": 1, "owner": 3}
    for name in sorted(removed_roles, key=lambda n: (removal_order[parse_role_comment(roles[n]["comment"])[0]], n)):
        kind, app, _auth = parse_role_comment(roles[name]["comment"])
        if kind == "owner":
            for schema in removed_schemas:
                if state["schemas"][schema]["owner"] == name:
                    actions.append(
                        sql_action(
                            SCHEMA,
                            schema,
                            "drop (empty; its application left the inventory)",
                            [f"SET ROLE {ident(name)}", f"DROP SCHEMA {ident(schema)}", "RESET ROLE"],
                        )
                    )
        statements = _revocations(name, state)
        words = "login" if roles[name]["login"] else "role"
        actions.append(
            sql_action(
                ROLE,
                name,
                f"drop ({KIND_WORDS[kind]} of application {app}, no longer in the inventory)",
                statements + [f"DROP ROLE {ident(name)}"],
                unavailability=f"{name} can no longer log in"
                if roles[name]["login"]
                else f"members lose the {words}'s privileges",
            )
        )
    return actions


def _role_actions(name, spec, found):
    actions = []
    if found is None:
        options = "LOGIN" if spec["login"] else "NOLOGIN"
        statements = [f"CREATE ROLE {ident(name)} {options} NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT"]
        if spec["login"] and spec["authentication"] == "password":
            # The verifier comes from the user's secret at apply time (never shown, never logged in clear).
            statements.append(f"ALTER ROLE {ident(name)} PASSWORD <from secret>")
        statements.append(f"COMMENT ON ROLE {ident(name)} IS {literal(spec['comment'])}")
        for group in sorted(spec["member_of"]):
            statements.append(f"GRANT {ident(group)} TO {ident(name)}")
        for key, value in sorted(spec["settings"].items()):
            statements.append(f"ALTER ROLE {ident(name)} SET {key} = {literal(value)}")
        detail = (
            [{"attribute": "member of", "before": None, "after": sorted(spec["member_of"])}]
            if spec["member_of"]
            else []
        )
        detail += [
            {"attribute": key, "before": None, "after": value} for key, value in sorted(spec["settings"].items())
        ]
        what = KIND_WORDS[spec["kind"]] + (
            f", {spec['authentication']} authentication" if spec["login"] else ", cannot log in"
        )
        actions.append(
            Action(
                ROLE,
                name,
                f"create ({what})",
                changes=detail,
                runner="sql",
                calls=statements,
                request={
                    "sql": statements,
                    "password_for": name if spec["login"] and spec["authentication"] == "password" else None,
                },
            )
        )
        return actions
    statements, detail = [], []
    if found["login"] != spec["login"]:
        statements.append(f"ALTER ROLE {ident(name)} {'LOGIN' if spec['login'] else 'NOLOGIN'}")
        detail.append({"attribute": "login", "before": found["login"], "after": spec["login"]})
    if found["createrole"] or found["createdb"]:
        statements.append(f"ALTER ROLE {ident(name)} NOCREATEROLE NOCREATEDB")
        detail.append({"attribute": "may create roles or databases", "before": True, "after": False})
    old_comment = parse_role_comment(found["comment"])
    if found["comment"] != spec["comment"]:
        statements.append(f"COMMENT ON ROLE {ident(name)} IS {literal(spec['comment'])}")
        detail.append({"attribute": "marked as", "before": found["comment"], "after": spec["comment"]})
        if spec["login"] and old_comment and old_comment[2] == "iam" and spec["authentication"] == "password":
            statements.append(f"ALTER ROLE {ident(name)} PASSWORD <from secret>")
        if spec["login"] and old_comment and old_comment[2] == "password" and spec["authentication"] == "iam":
            statements.append(f"ALTER ROLE {ident(name)} PASSWORD NULL")
    for group in sorted(spec["member_of"] - found["member_of"]):
        statements.append(f"GRANT {ident(group)} TO {ident(name)}")
    for group in sorted(found["member_of"] - spec["member_of"]):
        statements.append(f"REVOKE {ident(group)} FROM {ident(name)}")
    if spec["member_of"] != found["member_of"]:
        detail.append(
            {"attribute": "member of", "before": sorted(found["member_of"]), "after": sorted(spec["member_of"])}
        )
    for key in sorted(set(spec["settings"]) | set(found["settings"])):
        before, after = found["settings"].get(key), spec["settings"].get(key)
        if before == after:
            continue
        if after is None:
            statements.append(f"ALTER ROLE {ident(name)} RESET {key}")
        else:
            statements.append(f"ALTER ROLE {ident(name)} SET {key} = {literal(after)}")
        detail.append({"attribute": key, "before": before, "after": after})
    if statements:
        password_for = name if any("<from secret>" in s for s in statements) else None
        lost = found["member_of"] - spec["member_of"]
        actions.append(
            Action(
                ROLE,
                name,
                "update",
                changes=detail,
                runner="sql",
                calls=statements,
                request={"sql": statements, "password_for": password_for},
                unavailability=f"{name} loses the privileges of {', '.join(sorted(lost))}" if lost else "none",
            )
        )
    return actions


def _schema_actions(schema, spec, state):
    # COMMENT needs the owner's privileges: on PostgreSQL 16 the master may act as the owner (SET), not inherit them.
    comment = [
        f"SET ROLE {ident(spec['owner'])}",
        f"COMMENT ON SCHEMA {ident(schema)} IS {literal(spec['comment'])}",
        "RESET ROLE",
    ]
    found = state["schemas"].get(schema)
    if found is None:
        statements = [f"CREATE SCHEMA {ident(schema)} AUTHORIZATION {ident(spec['owner'])}"] + comment
        return [sql_action(SCHEMA, schema, f"create (owned by {spec['owner']})", statements)]
    statements, detail = [], []
    if found["owner"] != spec["owner"]:
        statements.append(f"ALTER SCHEMA {ident(schema)} OWNER TO {ident(spec['owner'])}")
        detail.append({"attribute": "owner", "before": found["owner"], "after": spec["owner"]})
    if found["comment"] != spec["comment"]:
        statements += comment
        detail.append({"attribute": "marked as", "before": found["comment"], "after": spec["comment"]})
    return [sql_action(SCHEMA, schema, "update", statements, changes=detail)] if statements else []


def _privilege_actions(app, schema, groups, state):
    """CONNECT, USAGE, table and sequence privileges and default privileges of the app's groups: exactly these."""
    actions = []
    owner = groups["owner"]
    found_schema = state["schemas"].get(schema) or {"acl": {}}
    for kind in ("owner", "read_write", "read_only"):
        group = groups[kind]
        grants, revokes = [], []
        if "CONNECT" not in state["database_acl"].get(group, set()):
            grants.append(f"GRANT CONNECT ON DATABASE {ident(state['database'])} TO {ident(group)}")
        extra_db = state["database_acl"].get(group, set()) - {"CONNECT"}
        for privilege in sorted(extra_db):
            revokes.append(f"REVOKE {privilege} ON DATABASE {ident(state['database'])} FROM {ident(group)}")
        if kind != "owner":
            schema_privileges = found_schema["acl"].get(group, set())
            if "USAGE" not in schema_privileges:
                grants.append(f"GRANT USAGE ON SCHEMA {ident(schema)} TO {ident(group)}")
            for privilege in sorted(schema_privileges - {"USAGE"}):
                revokes.append(f"REVOKE {privilege} ON SCHEMA {ident(schema)} FROM {ident(group)}")
            tables = TABLE_PRIVILEGES[kind]
            sequences = SEQUENCE_PRIVILEGES[kind]
            for relation, entry in sorted(state["relations"].get(schema, {}).items()):
                if entry["owner"] != owner:
                    continue  # only the owner's objects are the application's; others keep what their owner grants
                want = set(sequences if entry["kind"] == SEQUENCE_KIND else tables)
                have = entry["acl"].get(group, set())
                target = "SEQUENCE" if entry["kind"] == SEQUENCE_KIND else "TABLE"
                qualified = f"{ident(schema)}.{ident(relation)}"
                if want - have:
                    grants.append(f"GRANT {', '.join(sorted(want - have))} ON {target} {qualified} TO {ident(group)}")
                if have - want:
                    revokes.append(
                        f"REVOKE {', '.join(sorted(have - want))} ON {target} {qualified} FROM {ident(group)}"
                    )
            for objtype, privileges, words in (("r", tables, "TABLES"), ("S", sequences, "SEQUENCES")):
                have = state["default_acl"].get((owner, schema, objtype), {}).get(group, set())
                want = set(privileges)
                prefix = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} IN SCHEMA {ident(schema)}"
                if want - have:
                    grants.append(f"{prefix} GRANT {', '.join(sorted(want - have))} ON {words} TO {ident(group)}")
                if have - want:
                    revokes.append(f"{prefix} REVOKE {', '.join(sorted(have - want))} ON {words} FROM {ident(group)}")
        if grants or revokes:
            words = []
            if grants:
                words.append(f"grant {len(grants)}")
            if revokes:
                words.append(f"revoke {len(revokes)}")
            statements = grants + revokes
            on_database = [s for s in statements if " ON DATABASE " in s]
            in_schema = [s for s in statements if " ON DATABASE " not in s]
            if in_schema:
                # Made as the owner: it owns the schema and its tables, and the master holds SET on it, not its
                # privileges (PostgreSQL 16). The database's own grants are the master's (it owns the database).
                in_schema = [f"SET ROLE {ident(owner)}"] + in_schema + ["RESET ROLE"]
            actions.append(
                sql_action(
                    GRANTS,
                    group,
                    f"{' and '.join(words)} ({KIND_WORDS[kind]} of application {app}): "
                    + "; ".join(privilege_words(s) for s in grants + revokes),
                    on_database + in_schema,
                    unavailability=f"{group} loses privileges it should not have" if revokes else "none",
                )
            )
    return actions


def privilege_words(statement):
    """A grant or revoke as the plan shows it: what, on what, without the grantee (the line names it)."""
    text = re.sub(r' (TO|FROM) "[^"]*"$', "", statement)
    text = re.sub(r'^ALTER DEFAULT PRIVILEGES FOR ROLE "[^"]*" IN SCHEMA ("[^"]*") ', r"by default in \1: ", text)
    return text.replace('"', "")


def _revocations(name, state):
    """What must be revoked from a role before DROP ROLE (non-superusers cannot use DROP OWNED BY another role).

    Revokes in a schema are made as the schema's owner, who granted them.
    """
    statements = []
    for privilege in sorted(state["database_acl"].get(name, set())):
        statements.append(f"REVOKE {privilege} ON DATABASE {ident(state['database'])} FROM {ident(name)}")
    for schema, found in sorted(state["schemas"].items()):
        inside = [
            f"REVOKE {privilege} ON SCHEMA {ident(schema)} FROM {ident(name)}"
            for privilege in sorted(found["acl"].get(name, set()))
        ]
        for relation, entry in sorted(state["relations"].get(schema, {}).items()):
            privileges = entry["acl"].get(name, set())
            if privileges:
                target = "SEQUENCE" if entry["kind"] == SEQUENCE_KIND else "TABLE"
                inside.append(
                    f"REVOKE {', '.join(sorted(privileges))} ON {target} {ident(schema)}.{ident(relation)} FROM {ident(name)}"
                )
        for (role, acl_schema, objtype), grantees in sorted(state["default_acl"].items()):
            privileges = grantees.get(name, set())
            if acl_schema == schema and privileges and role == found["owner"] and role != name:
                words = "SEQUENCES" if objtype == "S" else "TABLES"
                inside.append(
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(role)} IN SCHEMA {ident(schema)} "
                    f"REVOKE {', '.join(sorted(privileges))} ON {words} FROM {ident(name)}"
                )
        if inside and parse_schema_comment(found["comment"]) is not None and found["owner"] != name:
            statements += [f"SET ROLE {ident(found['owner'])}"] + inside + ["RESET ROLE"]
    return statements


def label(action):
    return f"{LABELS.get(action.resource, action.resource)} {action.name}"


def line(action):
    """The plan's line for an action of this module (the cluster plan's format, with the database's labels)."""
    text = action.line()
    default = action.label()
    return text.replace(default, label(action), 1)


# ---- passwords ---------------------------------------------------------------------------------------


def generate_password(length=PASSWORD_LENGTH):
    return "".join(secrets.choice(PASSWORD_ALPHABET) for dummy in range(length))


def scram_verifier(password, salt=None, iterations=4096):
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677, as libpq's \\password makes it).

    Sent instead of the password, so that the clear text never reaches the server's statement log.
    Generated passwords are ASCII letters and digits, which SASLprep leaves unchanged.
    """
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data):
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def secret_document(username, password, host, port, database, master_secret_arn):
    """A user's secret, in the format of the AWS multi-user rotation function for PostgreSQL."""
    document = {
        "engine": "postgres",
        "host": host,
        "port": port,
        "username": username,
        "password": password,
        "dbname": database,
    }
    if master_secret_arn:
        document["masterarn"] = master_secret_arn
    return document


def other_login(user, current_username):
    """The login a rotation moves the secret to: the one the secret does not name now."""
    return user + CLONE_SUFFIX if current_username == user else user


# ---- the aurora_database role's rules (run by vitality.aurora.aurora_settings, before any call) ---------

# Extensions that work only when the server loaded their library at start (shared_preload_libraries, static).
PRELOAD_EXTENSIONS = frozenset(["pg_stat_statements", "pg_cron", "pgaudit", "pg_hint_plan", "pg_tle"])
# Aurora PostgreSQL's default cluster parameter group already preloads these.
AURORA_DEFAULT_PRELOAD = frozenset(["pg_stat_statements"])


def database_setting_errors(typed, cluster_parameters=None, master_user=None):
    """One message per refused aurora_database_* value (typed already), naming the variable, the value and the rule."""
    prefix = "aurora_database_"
    if not typed.get(prefix + "enabled", True):
        return []  # off: typed (so "false" is false), but nothing of it runs, so no rule applies
    errors = application_errors(
        typed.get(prefix + "applications", []),
        typed.get(prefix + "authentication", "password"),
        typed.get(prefix + "extensions", []),
        master_user=master_user,
        variable=prefix + "applications",
    )
    ssl_mode = typed.get(prefix + "ssl_mode", "verify-full")
    ca_file = typed.get(prefix + "ca_file")
    if ssl_mode != "require":
        if not ca_file:
            errors.append(
                f"{prefix}ca_file is required with {prefix}ssl_mode={ssl_mode}: download the RDS CA bundle "
                "(https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem) and name its path"
            )
        elif not _is_file(ca_file):
            errors.append(f"{prefix}ca_file={ca_file!r} is not a readable file on the machine running Ansible")
    days = typed.get(prefix + "master_rotation_days")
    if days is not None and not 0 <= days <= 1000:
        errors.append(
            f"{prefix}master_rotation_days={days!r} must be between 1 and 1000 (Secrets Manager's range), or 0 to leave it"
        )
    recovery = typed.get(prefix + "secret_recovery_days", 7)
    if not 7 <= recovery <= 30:
        errors.append(f"{prefix}secret_recovery_days={recovery!r} must be between 7 and 30 (Secrets Manager's range)")
    age = typed.get(prefix + "rotation_min_age_hours", 12)
    if age < 0:
        errors.append(f"{prefix}rotation_min_age_hours={age!r} must be 0 or more")
    port = typed.get(prefix + "connect_port")
    if port is not None and not 0 <= port <= 65535:
        errors.append(f"{prefix}connect_port={port!r} must be between 1 and 65535 (0: the cluster's port)")
    parameters = cluster_parameters or {}
    if "shared_preload_libraries" in parameters:
        # The cluster's own list replaces Aurora's default one.
        loaded = {lib.strip() for lib in str(parameters["shared_preload_libraries"]).split(",") if lib.strip()}
    else:
        loaded = set(AURORA_DEFAULT_PRELOAD)
    for name in typed.get(prefix + "extensions", []) if isinstance(typed.get(prefix + "extensions"), list) else []:
        if name in PRELOAD_EXTENSIONS and name not in loaded:
            errors.append(
                f"{prefix}extensions has {name}, which needs {name} in aurora_cluster_parameters.shared_preload_libraries "
                f"(now {', '.join(sorted(loaded)) or 'empty'}) "
                "(a static parameter: the cluster plan then shows the rolling reboot it needs, run with "
                "aurora_cluster_allow_rolling_reboot=true)"
            )
    return errors


def _is_file(path):
    import os  # the controller's check; modules never call it

    return os.path.isfile(os.path.expanduser(str(path))) and os.access(os.path.expanduser(str(path)), os.R_OK)
