#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_database
short_description: Application roles, schemas, privileges, extensions and user secrets inside an Aurora PostgreSQL cluster
version_added: 0.2.0
description:
  - Connects to the cluster's writer as the master user, with the password read from the cluster's
    RDS-managed secret (never returned, never logged), over TLS with C(sslmode=verify-full) by default.
  - For each application of O(applications) it makes an owner role that cannot log in and owns the
    application's schema; a read-write and a read-only group with exactly the privileges they need (CONNECT on
    the database, USAGE on the schema, SELECT, INSERT, UPDATE and DELETE or only SELECT on the owner's tables,
    SELECT and USAGE or only SELECT on its sequences, and the same as default privileges for what the owner
    creates later); and login users, each a member of exactly one of those groups.
  - Every role and schema it makes is marked with a comment that starts with C(vitality.aurora:). Only marked objects are
    altered, revoked or dropped; a name the inventory asks for that an unmarked role or schema holds stops the
    plan. An application or user removed from O(applications) has what was made for it revoked and dropped;
    a schema that still holds objects, or a role that owns objects the module did not make, stops the plan.
  - With O(authentication=password) each user has two logins, C(<name>) and C(<name>_clone), and a secret in
    AWS Secrets Manager in the format of the AWS multi-user rotation function for PostgreSQL; O(rotate) moves
    the secret to the other login with a new password, so the login the application used until then keeps
    working until the next rotation. With O(authentication=iam) each user is granted C(rds_iam) and has no
    password; RV(applications[].users[].iam_policy_statement) is the statement the application's IAM role needs.
  - Everything is planned first, as one ordered list of actions with their impact; check mode returns the plan
    and changes nothing; the apply runs exactly the planned actions, the SQL ones in one transaction.
requirements:
  - psycopg (3.x)
author:
  - Vitality platform team (@vitality)
options:
  cluster_identifier:
    description:
      - The Aurora cluster. Its writer endpoint, port, database name, master user secret and resource ID are
        read from it.
    type: str
    required: true
  database:
    description:
      - The database to connect to and manage. Omitted, the cluster's initial database (C(DatabaseName)).
    type: str
  applications:
    description:
      - The applications, each with its own schema, roles and users. Omitted or empty, none; roles and schemas
        this module made earlier are then revoked and dropped.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Lower-case letters, digits and C(_), at most 40 characters. Roles C(<name>_owner), C(<name>_rw) and
            C(<name>_ro) are made for it.
        type: str
        required: true
      schema:
        description: The application's schema. Omitted, O(applications[].name).
        type: str
      users:
        description: The application's login users. Omitted, none.
        type: list
        elements: dict
        suboptions:
          name:
            description: The login name (at most 57 characters; C(<name>_clone) is its alternate login).
            type: str
            required: true
          access:
            description:
              - V(read_write) (member of C(<app>_rw)), V(read_only) (member of C(<app>_ro)) or V(owner) (member of
                C(<app>_owner), for schema migrations; its sessions act as the owner, so what it creates is
                covered by the default privileges). Omitted, V(read_write).
            type: str
            choices: [read_write, read_only, owner]
          settings:
            description:
              - PostgreSQL settings for the user's sessions (C(ALTER ROLE ... SET)), for example
                C(statement_timeout). Omitted, none; a setting removed here is reset.
            type: dict
  authentication:
    description:
      - How the users log in. V(password), passwords generated and kept in Secrets Manager (one secret per
        user); V(iam), IAM database authentication (C(rds_iam); the cluster must have it on). Omitted, V(password).
    type: str
    choices: [password, iam]
    default: password
  extensions:
    description:
      - Extensions created in the database (never dropped by this module when removed from the list). One that
        needs its library preloaded (C(shared_preload_libraries), a static cluster parameter; Aurora's default
        preloads C(pg_stat_statements)) is created, and the plan says when it does not collect yet. Omitted, none.
    type: list
    elements: str
    default: []
  revoke_public_create:
    description:
      - Revoke CREATE on schema C(public) from PUBLIC when a database still has it (databases made before
        PostgreSQL 15). Omitted, V(true).
    type: bool
    default: true
  connect_host:
    description:
      - The address the connection goes to when it is not the writer endpoint, for example V(127.0.0.1) for an SSM
        port-forwarding session or an SSH tunnel through a bastion. The TLS certificate is still checked against
        the writer endpoint's name (libpq's C(host)), the address only says where to connect (C(hostaddr)).
        Omitted, the writer endpoint.
    type: str
  connect_port:
    description: The port to connect to. Omitted, the cluster's port.
    type: int
  ssl_mode:
    description:
      - The libpq C(sslmode). Omitted, V(verify-full) (the server's certificate is checked against O(ca_file) and
        the writer endpoint's name).
    type: str
    choices: [verify-full, verify-ca, require]
    default: verify-full
  ca_file:
    description:
      - The CA bundle the server certificate is checked against, for example the RDS bundle of the region
        (U(https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)). Required unless O(ssl_mode=require);
        omitted, the server's certificate is not checked (only O(ssl_mode=require) allows it).
    type: path
  connect_timeout:
    description: Seconds to wait for the connection. Omitted, 10.
    type: int
    default: 10
  master_secret_arn:
    description:
      - A secret holding the master user's C(username) and C(password). Omitted, the cluster's RDS-managed secret.
    type: str
  secret_prefix:
    description: Names of the users' secrets are this prefix and the user name. Omitted, C(<cluster_identifier>/users/).
    type: str
  secret_kms_key_id:
    description: The KMS key the users' secrets are encrypted with. Omitted, the master user secret's key.
    type: str
  secret_recovery_days:
    description: Days a removed user's secret can still be restored (7 to 30). Omitted, 7.
    type: int
    default: 7
  master_rotation_days:
    description:
      - Rotate the master user secret every this many days (Secrets Manager's schedule of the RDS-managed
        secret). Omitted, the schedule is left as it is.
    type: int
  rotate:
    description:
      - Rotate the password users' secrets (the alternating-users scheme), and do nothing else (no role, privilege or
        secret is created or removed). Omitted, V(false).
    type: bool
    default: false
  rotation_min_age_hours:
    description:
      - With O(rotate), a secret whose current version is younger than this is left as it is, so that a schedule
        that fires twice does not rotate twice. V(0) rotates every time. Omitted, 12.
    type: float
    default: 12
  tags:
    description: Tags of the users' secrets, besides C(vitality.aurora:cluster). Omitted, none.
    type: dict
    default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Connects and reads; returns the plan; changes nothing.
  diff_mode:
    support: none
    description: The plan's lines say what changes, before and after.
"""

EXAMPLES = r"""
- name: Roles, schema and users of the orders application, through an SSM port forward on 127.0.0.1:15432
  vitality.aurora.aurora_database:
    cluster_identifier: vitality-dev
    connect_host: 127.0.0.1
    connect_port: 15432
    ca_file: files/global-bundle.pem
    applications:
      - name: orders
        users:
          - name: orders_app
          - name: orders_report
            access: read_only
            settings:
              statement_timeout: 30s
    extensions: [pg_stat_statements]

- name: Rotate the users' passwords (alternating users)
  vitality.aurora.aurora_database:
    cluster_identifier: vitality-dev
    ca_file: files/global-bundle.pem
    applications: "{{ aurora_database_applications }}"
    rotate: true
"""

RETURN = r"""
plan:
  description: The plan's lines, in execution order, each with its impact.
  returned: always
  type: list
  elements: str
  sample: ["1. database role orders_owner: create (owner, cannot log in) [online]"]
actions:
  description:
    - The plan's actions (order, resource, name, change, changes, impact, when, unavailability, runner, calls, note);
      C(calls) are the SQL statements (passwords shown as C(<from secret>)) or the Secrets Manager operations.
  returned: always
  type: list
  elements: dict
  sample:
    - order: 1
      resource: db_role
      name: orders_owner
      change: create (owner, cannot log in)
      changes: []
      impact: online
      when: now
      unavailability: none
      runner: sql
      calls:
        - CREATE ROLE "orders_owner" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT
        - "COMMENT ON ROLE \"orders_owner\" IS 'vitality.aurora: owner of application orders'"
      note: ""
executed:
  description: What the apply ran, in order (SQL with passwords left out, and Secrets Manager operations).
  returned: always
  type: list
  elements: str
  sample: ["secretsmanager:CreateSecret", "ALTER ROLE \"orders_app\" PASSWORD <from secret>"]
applications:
  description: Per application, its schema, group roles and users, and how each user connects.
  returned: always
  type: list
  elements: dict
  sample:
    - name: orders
      schema: orders
      owner: orders_owner
      read_write_group: orders_rw
      read_only_group: orders_ro
      users:
        - name: orders_app
          access: read_write
          authentication: iam
          logins: [orders_app]
          secret_arn: null
          iam_policy_statement:
            Effect: Allow
            Action: rds-db:connect
            Resource: arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-ABCDEFGHIJKL/orders_app
          connection_string: postgresql://orders_app@vitality-dev.cluster-abc.us-east-1.rds.amazonaws.com:5432/vitality?sslmode=verify-full
  contains:
    name:
      description: The application.
      type: str
    schema:
      description: Its schema.
      type: str
    owner:
      description: The role that owns the schema (cannot log in).
      type: str
    read_write_group:
      description: The read-write group role.
      type: str
    read_only_group:
      description: The read-only group role.
      type: str
    users:
      description: The application's users.
      type: list
      elements: dict
      contains:
        name:
          description: The user.
          type: str
        access:
          description: V(read_write), V(read_only) or V(owner).
          type: str
        authentication:
          description: V(password) or V(iam).
          type: str
        logins:
          description: The login roles (with password authentication, the user and its alternate C(_clone) login).
          type: list
          elements: str
        secret_arn:
          description: The ARN of the user's secret (password authentication; null in check mode before it exists).
          type: str
        iam_policy_statement:
          description: The IAM policy statement that lets an IAM role connect as the user (IAM authentication).
          type: dict
        connection_string:
          description:
            - A libpq URL without the password (password users log in as the secret's C(username), which alternates).
          type: str
extensions:
  description: Installed versions of the requested extensions after the run (null where not yet installed).
  returned: always
  type: dict
  sample: {"pg_stat_statements": "1.10", "pgcrypto": null}
master_rotation_days:
  description: The master user secret's rotation interval in days after the run (null when it does not rotate).
  returned: always
  type: int
  sample: 7
server_version:
  description: The server's version number (C(server_version_num)).
  returned: when connected
  type: int
  sample: 160006
errors:
  description: Why the run was refused, one message per problem (invalid options, or the problems of a refused plan).
  returned: on failure, when the options are invalid or the plan is refused
  type: list
  elements: str
  sample: ["applications[0].name='Bad-Name' must start with a lower-case letter and hold only lower-case letters, digits and _"]
"""

import json
import socket

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports a missing botocore
    pass
import uuid
from datetime import datetime, timezone

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.database import (
    CLONE_SUFFIX,
    MASTER_SECRET,
    ROLE,
    USER_SECRET,
    PlanRefused,
    application_errors,
    desired_state,
    generate_password,
    group_names,
    ident,
    label,
    line,
    literal,
    other_login,
    parse_role_comment,
    plan_database,
    read_state,
    scram_verifier,
    secret_document,
    secret_name,
)
from ansible_collections.vitality.aurora.plugins.module_utils.plan import Action, number

try:
    import psycopg
except ImportError:  # reported by the module with missing_required_lib
    psycopg = None

CLUSTER_TAG = "vitality.aurora:cluster"
NOT_FOUND = ("ResourceNotFoundException",)
PLACEHOLDER = "<from secret>"


class Database:
    """The module's run: read the cluster, the master secret and the database once, plan, then apply exactly the plan."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.rds = AwsApi(module, "rds")
        self.sm = AwsApi(module, "secretsmanager")
        self.executed = []
        self.passwords = {}  # user secret name -> document, for this run only

    # -- reading -------------------------------------------------------------------------------------

    def read_cluster(self):
        cluster_id = self.params["cluster_identifier"]
        cluster = self.rds.describe_one(
            "describe_db_clusters",
            "DBClusters",
            not_found=("DBClusterNotFoundFault",),
            context=f"cluster {cluster_id}",
            DBClusterIdentifier=cluster_id,
        )
        return cluster

    def read_secret(self, secret_id, stage="AWSCURRENT"):
        try:
            response = self.sm.client.get_secret_value(SecretId=secret_id, VersionStage=stage)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in NOT_FOUND:
                return None
            if code == "InvalidRequestException" and (self.describe_secret(secret_id) or {}).get("DeletedDate"):
                return {"arn": None, "version": None, "value": {}, "deleted": True}
            self.sm.fail(exc, "get_secret_value", f"secret {secret_id}")
        except BotoCoreError as exc:
            self.sm.fail(exc, "get_secret_value", f"secret {secret_id}")
        try:
            value = json.loads(response.get("SecretString") or "{}")
        except ValueError:
            self.module.fail_json(
                msg=f"Secret {secret_id} does not hold JSON (expected username and password); nothing was changed."
            )
        return {"arn": response.get("ARN"), "version": response.get("VersionId"), "value": value}

    def describe_secret(self, secret_id):
        return self.sm.call("describe_secret", not_found=NOT_FOUND, context=f"secret {secret_id}", SecretId=secret_id)

    def connect(self, cluster, username, password, login=None, stopped=None):
        params = self.params
        host = cluster.get("Endpoint")
        port = params["connect_port"] or cluster.get("Port") or 5432
        kwargs = {
            "host": host,
            "port": port,
            "dbname": self.database,
            "user": login or username,
            "password": password,
            "sslmode": params["ssl_mode"],
            "connect_timeout": params["connect_timeout"],
            "application_name": "vitality.aurora",
        }
        if params["ca_file"]:
            kwargs["sslrootcert"] = params["ca_file"]
        through = ""
        if params["connect_host"]:
            # Connect to the tunnel's address; the certificate is still checked against the endpoint's name.
            try:
                kwargs["hostaddr"] = socket.gethostbyname(params["connect_host"])
            except OSError as exc:
                self.module.fail_json(
                    msg=f"connect_host={params['connect_host']!r} does not resolve ({exc}); nothing was changed."
                )
            through = f" through {params['connect_host']}:{port}"
        try:
            return psycopg.connect(**kwargs)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.module.fail_json(
                msg=(
                    f"Could not connect to database {self.database} of cluster {params['cluster_identifier']} at {host}:{port}"
                    f"{through} as {login or username} with sslmode={params['ssl_mode']}: {reason}. The cluster is in private "
                    "subnets: run from inside its VPC, or open an SSM port-forwarding session or an SSH tunnel through a bastion "
                    "and set connect_host and connect_port to its local end. " + (stopped or "Nothing was changed.")
                )
            )

    # -- planning ------------------------------------------------------------------------------------

    def plan(self):
        params = self.params
        errors = application_errors(params["applications"], params["authentication"], params["extensions"])
        if errors:
            self.module.fail_json(
                msg="Invalid database settings, nothing was changed: " + "; ".join(errors), errors=errors
            )
        if params["ssl_mode"] != "require" and not params["ca_file"]:
            self.module.fail_json(
                msg=f"ca_file is required with ssl_mode={params['ssl_mode']} (the RDS CA bundle, e.g. "
                "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem); nothing was changed."
            )
        if psycopg is None:
            self.module.fail_json(msg=missing_required_lib("psycopg"))

        cluster = self.read_cluster()
        if cluster is None:
            if self.module.check_mode:
                # The cluster's own plan creates it: the database is planned on the run after it exists.
                self.module.exit_json(
                    changed=bool(params["applications"] or params["extensions"]),
                    plan=[f"database of cluster {params['cluster_identifier']}: planned once the cluster exists"],
                    actions=[],
                    executed=[],
                    applications=[],
                    extensions={},
                    master_rotation_days=None,
                )
            self.module.fail_json(msg=f"Cluster {params['cluster_identifier']} was not found; nothing was changed.")
        self.cluster = cluster
        self.database = params["database"] or cluster.get("DatabaseName") or "postgres"
        self.prefix = (
            params["secret_prefix"] if params["secret_prefix"] is not None else f"{params['cluster_identifier']}/users/"
        )
        if params["authentication"] == "iam" and cluster.get("IAMDatabaseAuthenticationEnabled") is False:
            self.module.fail_json(
                msg=f"authentication=iam, but cluster {params['cluster_identifier']} has IAM database authentication off "
                "(the aurora_cluster role's aurora_cluster_iam_database_authentication); nothing was changed."
            )

        master_arn = params["master_secret_arn"] or (cluster.get("MasterUserSecret") or {}).get("SecretArn")
        if not master_arn:
            self.module.fail_json(
                msg=f"Cluster {params['cluster_identifier']} has no RDS-managed master user secret: set master_secret_arn to a "
                "secret holding the master user's username and password; nothing was changed."
            )
        master = self.read_secret(master_arn)
        if master is None or not master["value"].get("password"):
            self.module.fail_json(
                msg=f"The master user secret {master_arn} was not found or holds no password; nothing was changed."
            )
        self.master_arn = master_arn
        self.master_secret = self.describe_secret(master_arn) or {}
        master_user = master["value"].get("username") or cluster.get("MasterUsername")
        self.master_login = (master_user, master["value"]["password"])

        self.conn = self.connect(cluster, *self.master_login)
        with self.conn.cursor() as cursor:
            self.state = read_state(cursor)
        self.conn.rollback()

        self.desired = desired_state(params["applications"], params["authentication"], self.prefix)
        if params["rotate"]:
            # Only the rotation: the converge of roles and privileges is provision's, never a scheduled job's.
            self.user_secrets = {}
            for name, spec in sorted(self.desired["roles"].items()):
                if spec["kind"] == "user" and spec.get("secret"):
                    self.user_secrets[name] = self.read_secret(spec["secret"])
                    if self.user_secrets[name] is not None:
                        self.refuse_foreign_secret(spec["secret"])
            return number(self.plan_rotations())
        try:
            sql_actions = plan_database(self.state, self.desired, params["extensions"], params["revoke_public_create"])
        except PlanRefused as refused:
            self.module.fail_json(
                msg="The database plan was refused, nothing was changed: " + "; ".join(refused.problems),
                errors=refused.problems,
            )
        before, after = self.plan_user_secrets()
        for made in before:
            # A login that exists while its secret does not (the secret was deleted): it gets the new secret's password.
            user = made.request.get("user")
            if user is None:
                continue  # a restored secret: its logins still have its password
            sets = any(a.resource == ROLE and a.name == user and PLACEHOLDER in " ".join(a.calls) for a in sql_actions)
            if user in self.state["roles"] and not sets:
                statement = f"ALTER ROLE {ident(user)} PASSWORD {PLACEHOLDER}"
                sql_actions.append(
                    Action(
                        ROLE,
                        user,
                        "set the password its new secret holds",
                        runner="sql",
                        calls=[statement],
                        request={"sql": [statement]},
                    )
                )
        actions = before + sql_actions + after + self.plan_master_rotation()
        return number(actions)

    def secret_tags(self):
        tags = dict(self.params["tags"] or {})
        tags[CLUSTER_TAG] = self.params["cluster_identifier"]
        return [{"Key": key, "Value": str(value)} for key, value in sorted(tags.items())]

    def connection_details(self):
        return {
            "host": self.cluster.get("Endpoint"),
            "port": self.cluster.get("Port") or 5432,
            "dbname": self.database,
            "masterarn": self.master_arn,
        }

    def plan_user_secrets(self):
        """Secrets made before the SQL (a login is never made with a password not stored), removed after it."""
        before, after = [], []
        self.user_secrets = {}
        details = self.connection_details()
        for name, spec in sorted(self.desired["roles"].items()):
            if spec["kind"] != "user" or not spec.get("secret"):
                continue
            secret = self.read_secret(spec["secret"])
            self.user_secrets[name] = secret
            if secret is not None and secret.get("deleted"):
                # Removed from the inventory earlier, back now: its password is the one its logins still have.
                before.append(
                    Action(
                        USER_SECRET,
                        spec["secret"],
                        "restore (it was scheduled for deletion when the user left the inventory)",
                        calls=["secretsmanager:RestoreSecret"],
                        runner="secretsmanager",
                        request={"restore": name},
                    )
                )
                continue
            if secret is None:
                before.append(
                    Action(
                        USER_SECRET,
                        spec["secret"],
                        f"create (password of {name}, generated; never shown)",
                        calls=["secretsmanager:CreateSecret"],
                        runner="secretsmanager",
                        request={"user": name},
                    )
                )
                continue
            self.refuse_foreign_secret(spec["secret"])
            stale = {key: value for key, value in details.items() if secret["value"].get(key) != value}
            if stale:
                changes = [
                    {"attribute": key, "before": secret["value"].get(key), "after": value}
                    for key, value in sorted(stale.items())
                ]
                after.append(
                    Action(
                        USER_SECRET,
                        spec["secret"],
                        "update the connection details",
                        changes=changes,
                        calls=["secretsmanager:PutSecretValue"],
                        runner="secretsmanager",
                        request={"user": name, "details": details},
                    )
                )
        for name, role in sorted(self.state["roles"].items()):
            marked = parse_role_comment(role["comment"])
            if not marked or marked[0] != "user" or marked[2] != "password":
                continue
            spec = self.desired["roles"].get(name)
            if spec is not None and spec.get("secret"):
                continue
            old = secret_name(self.prefix, name)
            if self.describe_secret(old) is not None and self.managed_secret(old):
                after.append(
                    Action(
                        USER_SECRET,
                        old,
                        f"delete (recoverable for {self.params['secret_recovery_days']} days)",
                        calls=["secretsmanager:DeleteSecret"],
                        runner="secretsmanager",
                        request={"delete": old},
                        unavailability=f"{name}'s password can no longer be read",
                    )
                )
        return before, after

    def refuse_foreign_secret(self, secret_id):
        if not self.managed_secret(secret_id):
            self.module.fail_json(
                msg=f"Secret {secret_id} exists and was not created by vitality.aurora (no {CLUSTER_TAG} tag of "
                f"{self.params['cluster_identifier']}): choose another secret_prefix or remove it; nothing was changed."
            )

    def managed_secret(self, secret_id):
        described = self.describe_secret(secret_id) or {}
        tags = {tag.get("Key"): tag.get("Value") for tag in described.get("Tags") or []}
        return tags.get(CLUSTER_TAG) == self.params["cluster_identifier"]

    def rotation_days(self):
        if not self.master_secret.get("RotationEnabled"):
            return None
        return (self.master_secret.get("RotationRules") or {}).get("AutomaticallyAfterDays")

    def plan_master_rotation(self):
        wanted = self.params["master_rotation_days"]
        current = self.rotation_days()
        if wanted is None or wanted == current:
            return []
        return [
            Action(
                MASTER_SECRET,
                self.master_arn.split(":")[-1],
                "set the rotation schedule",
                changes=[{"attribute": "rotate every (days)", "before": current, "after": wanted}],
                calls=["secretsmanager:RotateSecret"],
                runner="secretsmanager",
                request={"days": wanted},
                note="RDS rotates the master password on this schedule; this module reads it from the secret at each run",
            )
        ]

    def plan_rotations(self):
        if not self.params["rotate"]:
            return []
        actions = []
        min_age = self.params["rotation_min_age_hours"] * 3600
        for name, spec in sorted(self.desired["roles"].items()):
            if spec["kind"] != "user" or not spec.get("secret"):
                continue
            secret = self.user_secrets.get(name)
            if secret is None:
                continue  # made by this run: nothing to rotate yet
            current = secret["value"].get("username", name)
            age = self.current_version_age(spec["secret"]) if min_age > 0 else None
            if age is not None and age < min_age:
                continue
            target = other_login(name, current)
            actions.append(
                Action(
                    USER_SECRET,
                    spec["secret"],
                    f"rotate: new password for {target}, then the secret names {target}",
                    changes=[{"attribute": "username", "before": current, "after": target}],
                    calls=[
                        "secretsmanager:PutSecretValue",
                        f"ALTER ROLE {ident(target)} PASSWORD {PLACEHOLDER}",
                        "secretsmanager:UpdateSecretVersionStage",
                    ],
                    runner="secretsmanager",
                    request={"rotate": name},
                    note=f"{current} keeps its password until the next rotation, so open connections and pools keep working",
                )
            )
        return actions

    def current_version_age(self, secret_id):
        response = self.sm.call("list_secret_version_ids", context=f"secret {secret_id}", SecretId=secret_id) or {}
        for version in response.get("Versions") or []:
            if "AWSCURRENT" in (version.get("VersionStages") or []) and version.get("CreatedDate"):
                created = version["CreatedDate"]
                if isinstance(created, (int, float)):
                    created = datetime.fromtimestamp(created, timezone.utc)
                return (datetime.now(timezone.utc) - created).total_seconds()
        return None

    # -- applying ------------------------------------------------------------------------------------

    def apply(self, actions):
        sql = [action for action in actions if action.runner == "sql"]
        first_sql = actions.index(sql[0]) if sql else len(actions)
        for action in actions[:first_sql]:
            self.apply_secret_action(action)
        if sql:
            done = []
            try:
                with self.conn.transaction():
                    with self.conn.cursor() as cursor:
                        for action in sql:
                            for statement in action.request["sql"]:
                                cursor.execute(self.with_password(statement, action))
                                done.append(statement)
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                made = [label(a) for a in actions[:first_sql]]
                self.module.fail_json(
                    msg=f"Applying the database plan failed at step {action.order} ({line(action)}): {reason}. "
                    "The SQL steps run in one transaction: none of them was applied"
                    + (f"; done before them: {'; '.join(made)}" if made else "")
                    + ". Re-run once the cause is fixed: it plans again from what exists.",
                    executed=self.executed,
                )
            self.executed.extend(done)
        for action in actions[first_sql + len(sql) :]:
            self.apply_secret_action(action)

    def with_password(self, statement, action):
        if PLACEHOLDER not in statement:
            return statement
        name = action.name
        return statement.replace(PLACEHOLDER, literal(scram_verifier(self.password_for(name))))

    def password_for(self, login):
        """The secret's password for the login the secret names; a random, unstored one for the other login."""
        user = self.desired["roles"][login]["user"]
        document = self.passwords.get(user) or (self.user_secrets.get(user) or {}).get("value") or {}
        if document.get("username", user) == login and document.get("password"):
            return document["password"]
        return generate_password()

    def apply_secret_action(self, action):
        request = action.request
        if action.resource == MASTER_SECRET:
            self.sm.call(
                "rotate_secret",
                context=f"secret {self.master_arn}",
                SecretId=self.master_arn,
                RotationRules={"AutomaticallyAfterDays": request["days"]},
                # Only the schedule: the next rotation comes when it is due, not now.
                RotateImmediately=False,
            )
            self.executed.append("secretsmanager:RotateSecret")
        elif "restore" in request:
            self.sm.call("restore_secret", context=f"secret {action.name}", SecretId=action.name)
            self.executed.append("secretsmanager:RestoreSecret")
            self.user_secrets[request["restore"]] = self.read_secret(action.name)
        elif "delete" in request:
            self.sm.call(
                "delete_secret",
                context=f"secret {request['delete']}",
                SecretId=request["delete"],
                RecoveryWindowInDays=self.params["secret_recovery_days"],
            )
            self.executed.append("secretsmanager:DeleteSecret")
        elif "rotate" in request:
            self.rotate(request["rotate"])
        elif "details" in request:
            secret = self.user_secrets[request["user"]]
            document = dict(secret["value"], **request["details"])
            self.sm.call(
                "put_secret_value",
                context=f"secret {action.name}",
                SecretId=action.name,
                SecretString=json.dumps(document),
                ClientRequestToken=str(uuid.uuid4()),
            )
            self.executed.append("secretsmanager:PutSecretValue")
        else:
            self.create_user_secret(request["user"], action.name)

    def create_user_secret(self, user, name):
        details = self.connection_details()
        document = secret_document(
            user, generate_password(), details["host"], details["port"], details["dbname"], self.master_arn
        )
        params = {
            "Name": name,
            "Description": f"Password of database user {user} of cluster {self.params['cluster_identifier']} (vitality.aurora)",
            "SecretString": json.dumps(document),
            "Tags": self.secret_tags(),
            # One token per run: a retry of a create whose answer was lost does not make a second version.
            "ClientRequestToken": str(uuid.uuid4()),
        }
        kms_key = self.params["secret_kms_key_id"] or self.master_secret.get("KmsKeyId")
        if kms_key:
            params["KmsKeyId"] = kms_key
        created = self.sm.create(
            "create_secret",
            exists=lambda: self.read_secret(name) is not None,
            already_exists=("ResourceExistsException",),
            context=f"secret {name}",
            **params,
        )
        self.executed.append("secretsmanager:CreateSecret")
        if created is None:
            # It exists after all (an answer lost, or a run beside this one): its password is the one to use.
            self.user_secrets[user] = self.read_secret(name)
            self.passwords[user] = self.user_secrets[user]["value"]
        else:
            self.user_secrets[user] = {
                "arn": created.get("ARN"),
                "version": created.get("VersionId"),
                "value": document,
            }
            self.passwords[user] = document

    def rotate(self, user):
        """Alternating users: the login the secret does not name gets a new password, is tested, then becomes current.

        Resumable: a pending version left by an interrupted run is finished, not replaced.
        """
        name = secret_name(self.prefix, user)
        current = self.read_secret(name)
        pending = self.read_secret(name, stage="AWSPENDING")
        if pending is not None and pending["version"] != current["version"] and pending["value"].get("password"):
            document = pending["value"]
            version = pending["version"]
        else:
            target = other_login(user, current["value"].get("username", user))
            document = dict(current["value"], username=target, password=generate_password())
            version = str(uuid.uuid4())
            self.sm.call(
                "put_secret_value",
                context=f"secret {name}",
                SecretId=name,
                ClientRequestToken=version,
                SecretString=json.dumps(document),
                VersionStages=["AWSPENDING"],
            )
            self.executed.append("secretsmanager:PutSecretValue")
        statement = f"ALTER ROLE {ident(document['username'])} PASSWORD "
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(statement + literal(scram_verifier(document["password"])))
            self.conn.commit()
        except psycopg.Error as exc:
            self.conn.rollback()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.module.fail_json(
                msg=f"The rotation of {name} stopped: setting {document['username']}'s new password failed ({reason}). "
                "The secret still names the login the application uses (the new password waits in its AWSPENDING "
                "version): fix the cause (provision recreates a missing login) and run the rotation again.",
                executed=self.executed,
            )
        self.executed.append(statement + PLACEHOLDER)
        # The new password works before the secret says so: an application reading the secret never gets a bad one.
        test = self.connect(
            self.cluster,
            document["username"],
            document["password"],
            stopped=f"The rotation of {name} stopped after {document['username']}'s new password was set, before the secret "
            "names it (the application still uses the current login): run the rotation again to finish it.",
        )
        test.close()
        self.sm.call(
            "update_secret_version_stage",
            context=f"secret {name}",
            SecretId=name,
            VersionStage="AWSCURRENT",
            MoveToVersionId=version,
            RemoveFromVersionId=current["version"],
        )
        self.sm.call(
            "update_secret_version_stage",
            context=f"secret {name}",
            SecretId=name,
            VersionStage="AWSPENDING",
            RemoveFromVersionId=version,
        )
        self.executed.append("secretsmanager:UpdateSecretVersionStage")
        self.user_secrets[user] = {"arn": current["arn"], "version": version, "value": document}

    # -- outputs -------------------------------------------------------------------------------------

    def outputs(self):
        params = self.params
        cluster = self.cluster
        arn = cluster.get("DBClusterArn") or ""
        parts = arn.split(":")
        partition, region, account = (parts[1], parts[3], parts[4]) if len(parts) > 5 else ("aws", "", "")
        resource_id = cluster.get("DbClusterResourceId")
        host, port = cluster.get("Endpoint"), cluster.get("Port") or 5432
        applications = []
        for app in params["applications"]:
            groups = group_names(app["name"])
            users = []
            for user in app.get("users") or []:
                name = user["name"]
                entry = {
                    "name": name,
                    "access": user.get("access") or "read_write",
                    "authentication": params["authentication"],
                    "logins": [name],
                    "secret_arn": None,
                    "iam_policy_statement": None,
                }
                login = name
                if params["authentication"] == "password":
                    entry["logins"].append(name + CLONE_SUFFIX)
                    secret = self.user_secrets.get(name) or {}
                    entry["secret_arn"] = secret.get("arn")
                    login = (secret.get("value") or {}).get("username", name)
                else:
                    entry["iam_policy_statement"] = {
                        "Effect": "Allow",
                        "Action": "rds-db:connect",
                        "Resource": f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{name}",
                    }
                ssl = f"sslmode={params['ssl_mode']}" + (
                    "&sslrootcert=<RDS CA bundle>" if params["ssl_mode"] != "require" else ""
                )
                entry["connection_string"] = f"postgresql://{login}@{host}:{port}/{self.database}?{ssl}"
                users.append(entry)
            applications.append(
                {
                    "name": app["name"],
                    "schema": app.get("schema") or app["name"],
                    "owner": groups["owner"],
                    "read_write_group": groups["read_write"],
                    "read_only_group": groups["read_only"],
                    "users": users,
                }
            )
        return applications

    def extension_versions(self):
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT name, installed_version FROM pg_available_extensions WHERE name = ANY(%s)",
                (self.params["extensions"],),
            )
            found = dict(cursor.fetchall())
        self.conn.rollback()
        return {name: found.get(name) for name in self.params["extensions"]}


def main():
    argument_spec = dict(
        cluster_identifier=dict(type="str", required=True),
        database=dict(type="str"),
        applications=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                schema=dict(type="str"),
                users=dict(
                    type="list",
                    elements="dict",
                    options=dict(
                        name=dict(type="str", required=True),
                        access=dict(type="str", choices=["read_write", "read_only", "owner"]),
                        settings=dict(type="dict"),
                    ),
                ),
            ),
        ),
        authentication=dict(type="str", choices=["password", "iam"], default="password"),
        extensions=dict(type="list", elements="str", default=[]),
        revoke_public_create=dict(type="bool", default=True),
        connect_host=dict(type="str"),
        connect_port=dict(type="int"),
        ssl_mode=dict(type="str", choices=["verify-full", "verify-ca", "require"], default="verify-full"),
        ca_file=dict(type="path"),
        connect_timeout=dict(type="int", default=10),
        master_secret_arn=dict(type="str", no_log=False),
        secret_prefix=dict(type="str", no_log=False),
        secret_kms_key_id=dict(type="str"),
        secret_recovery_days=dict(type="int", default=7, no_log=False),
        master_rotation_days=dict(type="int"),
        rotate=dict(type="bool", default=False),
        rotation_min_age_hours=dict(type="float", default=12),
        tags=dict(type="dict", default={}),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    # Options left out of a suboption come back as None: the rules read the inventory's form.
    for app in module.params["applications"]:
        for key in [k for k, v in app.items() if v is None]:
            del app[key]
        for user in app.get("users") or []:
            for key in [k for k, v in user.items() if v is None]:
                del user[key]
    days = module.params["secret_recovery_days"]
    if not 7 <= days <= 30:
        module.fail_json(
            msg=f"secret_recovery_days={days} must be between 7 and 30 (Secrets Manager's range); nothing was changed."
        )
    if module.params["master_rotation_days"] is not None and not 1 <= module.params["master_rotation_days"] <= 1000:
        module.fail_json(
            msg=f"master_rotation_days={module.params['master_rotation_days']} must be between 1 and 1000; nothing was changed."
        )

    run = Database(module)
    actions = run.plan()
    plan_lines = [line(action) for action in actions]
    if not module.check_mode and actions:
        run.apply(actions)
    result = dict(
        changed=bool(actions),
        plan=plan_lines,
        actions=[action.to_dict() for action in actions],
        executed=run.executed,
        applications=run.outputs(),
        extensions=run.extension_versions(),
        master_rotation_days=(
            module.params["master_rotation_days"]
            if any(a.resource == MASTER_SECRET for a in actions) and not module.check_mode
            else run.rotation_days()
        ),
        server_version=run.state["version"],
    )
    run.conn.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
