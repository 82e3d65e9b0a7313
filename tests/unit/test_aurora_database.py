"""aurora_database's main() over fakes: RDS and Secrets Manager under the real AwsApi, psycopg, and the catalogue.

``World`` holds what the module talks to: a stateful fake of the Secrets Manager client (secrets with versions,
stages, tags and creation dates, as GetSecretValue, DescribeSecret, CreateSecret, PutSecretValue,
UpdateSecretVersionStage, ListSecretVersionIds, DeleteSecret and RotateSecret answer), an RDS client answering
DescribeDBClusters, and a fake ``psycopg`` whose connections record every statement (and whether it ran inside
``transaction()``). ``read_state`` is replaced by a canned state (the catalogue is module_utils' business, tested in
test_database_plan.py), so each test says what the database holds. Every AWS call and statement goes into one
timeline, so the order of secrets and SQL is asserted, not assumed.

The fake module ends a run with ``Exited`` or ``Failed``, each carrying the result Ansible would report;
test_module_returns.py records those results to check them against RETURN.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from botocore.exceptions import ClientError

from ansible_collections.vitality.aurora.plugins.module_utils import database as db
from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.modules import aurora_database as m

REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER_ID = "vitality-dev-aurora"
ENDPOINT = f"{CLUSTER_ID}.cluster-abcdefghijkl.{REGION}.rds.amazonaws.com"
RESOURCE_ID = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY"
MASTER = "admin1"
MASTER_PASSWORD = "MasterPasswordFromRds0123456789"
MASTER_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-0c1d2e3f-AbCdEf"
MASTER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PREFIX = f"{CLUSTER_ID}/users/"
CA_FILE = "/etc/ssl/rds-global-bundle.pem"
CLUSTER = {
    "DBClusterIdentifier": CLUSTER_ID,
    "DBClusterArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{CLUSTER_ID}",
    "DbClusterResourceId": RESOURCE_ID,
    "Endpoint": ENDPOINT,
    "Port": 5432,
    "DatabaseName": "vitality",
    "MasterUsername": MASTER,
    "MasterUserSecret": {"SecretArn": MASTER_ARN, "SecretStatus": "active", "KmsKeyId": MASTER_KEY},
    "IAMDatabaseAuthenticationEnabled": False,
    "Status": "available",
}
ORDERS = {
    "name": "orders",
    "users": [
        {"name": "orders_app"},
        {"name": "orders_report", "access": "read_only", "settings": {"statement_timeout": "30s"}},
    ],
}
MUTATING = frozenset(
    ["create_secret", "put_secret_value", "update_secret_version_stage", "delete_secret", "rotate_secret"]
)
SCRAM_RE = re.compile(r"'(SCRAM-SHA-256\$\d+:[^$]+\$[^:]+:[^']+)'")


# ---- the module's end ------------------------------------------------------------------------------------------


class Exited(Exception):
    def __init__(self, result):
        super().__init__("exit_json")
        self.result = result


class Failed(Exception):
    def __init__(self, msg, result):
        super().__init__(msg)
        self.msg = msg
        self.result = result


class DatabaseModule:
    """AnsibleAWSModule as main() uses it: the argument spec's validation and defaults; the end raises."""

    given = {}
    check_mode = False
    region = REGION

    def __init__(self, argument_spec, supports_check_mode=False):
        assert supports_check_mode is True
        validated = ArgumentSpecValidator(argument_spec).validate(copy.deepcopy(self.given))
        assert validated.error_messages == []
        self.params = validated.validated_parameters
        self.warnings = []

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, msg, **result):
        raise Failed(msg, dict(result, failed=True, msg=msg))

    def fail_json_aws(self, exception, msg=None, **result):
        raise Failed(f"{msg}: {exception}", dict(result, failed=True, msg=f"{msg}: {exception}"))

    def warn(self, warning):
        self.warnings.append(warning)


# ---- AWS -------------------------------------------------------------------------------------------------------


def client_error(code, operation, message="error"):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeClient:
    """A boto3 client whose methods are its ``op_<method>``; each call is recorded in the world's timeline."""

    service = ""

    def __init__(self, world):
        self.world = world
        self.meta = SimpleNamespace(method_to_api_mapping={}, region_name=REGION)

    def __getattr__(self, method):
        if method.startswith("_") or method.startswith("op_"):
            raise AttributeError(method)
        handler = getattr(self, "op_" + method, None)
        if handler is None:
            raise AssertionError(f"the module called {self.service}.{method}, which this fake does not answer")

        def call(**params):
            self.world.aws_calls.append((self.service, method, params))
            self.world.timeline.append(("aws", method))
            return handler(**params)

        return call


class FakeRds(FakeClient):
    service = "rds"

    def op_describe_db_clusters(self, DBClusterIdentifier):
        cluster = self.world.cluster
        if cluster is None or DBClusterIdentifier != cluster["DBClusterIdentifier"]:
            raise client_error("DBClusterNotFoundFault", "DescribeDBClusters")
        return {"DBClusters": [copy.deepcopy(cluster)]}


class FakeSecretsManager(FakeClient):
    """Secrets by name: ARN, tags, KMS key, rotation, and versions (value, stages, creation date)."""

    service = "secretsmanager"

    def __init__(self, world):
        super().__init__(world)
        self.secrets = {}

    def add(self, name, value, tags=None, arn=None, created=None, **fields):
        secret = {
            "ARN": arn or f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-{uuid.uuid4().hex[:6]}",
            "Name": name,
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
            "versions": {},
            **fields,
        }
        self.secrets[name] = secret
        self.add_version(secret, str(uuid.uuid4()), value, ["AWSCURRENT"], created)
        return secret

    def add_version(self, secret, version, value, stages, created=None):
        for stage in stages:
            for other in secret["versions"].values():
                if stage in other["stages"]:
                    other["stages"].discard(stage)
                    if stage == "AWSCURRENT":
                        other["stages"].add("AWSPREVIOUS")
        secret["versions"][version] = {
            "value": json.dumps(value) if isinstance(value, dict) else value,
            "stages": set(stages),
            "created": created or datetime.now(UTC),
        }

    def find(self, secret_id, operation):
        for secret in self.secrets.values():
            if secret_id in (secret["Name"], secret["ARN"]):
                if secret.get("DeletedDate") and operation != "DescribeSecret":
                    raise client_error("InvalidRequestException", operation, "marked for deletion")
                return secret
        raise client_error("ResourceNotFoundException", operation, "Secrets Manager can't find the specified secret.")

    def staged(self, secret, stage):
        return next(((v, data) for v, data in secret["versions"].items() if stage in data["stages"]), (None, None))

    def document(self, name, stage="AWSCURRENT"):
        """The secret's value at a stage, parsed (for the tests' own reads, not recorded)."""
        return json.loads(self.staged(self.secrets[name], stage)[1]["value"])

    def op_get_secret_value(self, SecretId, VersionStage="AWSCURRENT"):
        secret = self.find(SecretId, "GetSecretValue")
        version, data = self.staged(secret, VersionStage)
        if version is None:
            raise client_error("ResourceNotFoundException", "GetSecretValue", f"no version with {VersionStage}")
        return {
            "ARN": secret["ARN"],
            "Name": secret["Name"],
            "VersionId": version,
            "SecretString": data["value"],
            "VersionStages": sorted(data["stages"]),
        }

    def op_describe_secret(self, SecretId):
        secret = self.find(SecretId, "DescribeSecret")
        described = {key: copy.deepcopy(value) for key, value in secret.items() if key != "versions"}
        described["VersionIdsToStages"] = {v: sorted(d["stages"]) for v, d in secret["versions"].items()}
        return described

    def op_list_secret_version_ids(self, SecretId):
        secret = self.find(SecretId, "ListSecretVersionIds")
        return {
            "ARN": secret["ARN"],
            "Versions": [
                {"VersionId": v, "VersionStages": sorted(d["stages"]), "CreatedDate": d["created"]}
                for v, d in secret["versions"].items()
            ],
        }

    def op_create_secret(self, Name, SecretString, ClientRequestToken, Description="", Tags=(), KmsKeyId=None):
        if Name in self.secrets:
            raise client_error("ResourceExistsException", "CreateSecret", "already exists")
        secret = self.add(Name, SecretString, {t["Key"]: t["Value"] for t in Tags}, KmsKeyId=KmsKeyId)
        secret["Description"] = Description
        version = next(iter(secret["versions"]))
        secret["versions"][ClientRequestToken] = secret["versions"].pop(version)
        return {"ARN": secret["ARN"], "Name": Name, "VersionId": ClientRequestToken}

    def op_put_secret_value(self, SecretId, SecretString, ClientRequestToken, VersionStages=("AWSCURRENT",)):
        secret = self.find(SecretId, "PutSecretValue")
        self.add_version(secret, ClientRequestToken, SecretString, list(VersionStages))
        return {"ARN": secret["ARN"], "VersionId": ClientRequestToken, "VersionStages": list(VersionStages)}

    def op_update_secret_version_stage(self, SecretId, VersionStage, MoveToVersionId=None, RemoveFromVersionId=None):
        secret = self.find(SecretId, "UpdateSecretVersionStage")
        holder, _data = self.staged(secret, VersionStage)
        if holder is not None and holder != RemoveFromVersionId and holder != MoveToVersionId:
            raise client_error("InvalidParameterException", "UpdateSecretVersionStage", "RemoveFromVersionId is wrong")
        if RemoveFromVersionId:
            secret["versions"][RemoveFromVersionId]["stages"].discard(VersionStage)
        if MoveToVersionId:
            if VersionStage == "AWSCURRENT" and RemoveFromVersionId:
                for data in secret["versions"].values():
                    data["stages"].discard("AWSPREVIOUS")
                secret["versions"][RemoveFromVersionId]["stages"].add("AWSPREVIOUS")
            secret["versions"][MoveToVersionId]["stages"].add(VersionStage)
        return {"ARN": secret["ARN"], "Name": secret["Name"]}

    def op_delete_secret(self, SecretId, RecoveryWindowInDays):
        secret = self.find(SecretId, "DeleteSecret")
        secret["DeletedDate"] = datetime.now(UTC) + timedelta(days=RecoveryWindowInDays)
        return {"ARN": secret["ARN"], "DeletionDate": secret["DeletedDate"]}

    def op_restore_secret(self, SecretId):
        secret = self.secrets[SecretId]
        secret.pop("DeletedDate", None)
        return {"ARN": secret["ARN"], "Name": secret["Name"]}

    def op_rotate_secret(self, SecretId, RotationRules, RotateImmediately):
        secret = self.find(SecretId, "RotateSecret")
        secret["RotationEnabled"] = True
        secret["RotationRules"] = dict(RotationRules)
        return {"ARN": secret["ARN"]}


# ---- PostgreSQL ------------------------------------------------------------------------------------------------


class PgError(Exception):
    """psycopg.Error."""


class FakeCursor:
    def __init__(self, connection):
        self.connection = connection
        self.rows = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement, params=None):
        world = self.connection.world
        world.sql.append(statement)
        world.in_transaction.append(self.connection.in_transaction)
        world.timeline.append(("sql", statement))
        if "pg_available_extensions" in statement:
            self.rows = [(name, world.extensions.get(name)) for name in params[0] if name in world.extensions]
        else:
            self.rows = []

    def fetchall(self):
        return self.rows


class FakeConnection:
    def __init__(self, world, kwargs):
        self.world = world
        self.kwargs = kwargs
        self.in_transaction = False
        self.closed = False

    def cursor(self):
        return FakeCursor(self)

    @contextmanager
    def transaction(self):
        self.in_transaction = True
        self.world.timeline.append(("pg", "BEGIN"))
        yield
        self.in_transaction = False
        self.world.timeline.append(("pg", "COMMIT"))

    def commit(self):
        self.world.timeline.append(("pg", "commit"))

    def rollback(self):
        self.world.timeline.append(("pg", "rollback"))

    def close(self):
        self.closed = True


class FakePsycopg:
    Error = PgError

    def __init__(self, world):
        self.world = world
        self.connections = []
        self.refuse = None  # a message: connect() raises it

    def connect(self, **kwargs):
        self.world.timeline.append(("pg", f"connect {kwargs['user']}"))
        if self.refuse:
            raise PgError(self.refuse)
        connection = FakeConnection(self.world, kwargs)
        self.connections.append(connection)
        return connection


# ---- the database's state --------------------------------------------------------------------------------------


def empty_state(version=160000):
    return {
        "user": MASTER,
        "database": "vitality",
        "version": version,
        "database_owner": MASTER,
        "preload": ["pg_stat_statements"],
        "roles": {
            MASTER: role(login=True, member_of={"rds_superuser"}, createrole=True, createdb=True, owns=1),
            "rds_iam": role(),
            "rds_superuser": role(),
        },
        "database_acl": {},
        "schemas": {"public": {"owner": "pg_database_owner", "comment": None, "objects": 0, "acl": {}}},
        "relations": {},
        "default_acl": {},
        "extensions": {"pgcrypto": None, "pg_stat_statements": "1.10"},
    }


def role(comment=None, login=False, member_of=(), settings=None, owns=0, master_member=False, **flags):
    return {
        "login": login,
        "superuser": False,
        "createrole": flags.get("createrole", False),
        "createdb": flags.get("createdb", False),
        "comment": comment,
        "member_of": set(member_of),
        "settings": dict(settings or {}),
        "owns": owns,
        "master_member": master_member,
    }


def converged(applications, authentication="password"):
    """The state right after a run for ``applications``: roles, schema, grants and default privileges."""
    state = empty_state()
    for app in applications:
        name = app["name"]
        groups = db.group_names(name)
        schema = app.get("schema") or name
        state["roles"][groups["owner"]] = role(db.role_comment("owner", name), owns=1, master_member=True)
        for kind in ("read_write", "read_only"):
            state["roles"][groups[kind]] = role(db.role_comment(kind, name))
        state["schemas"][schema] = {
            "owner": groups["owner"],
            "comment": db.schema_comment(name),
            "objects": 0,
            "acl": {groups["read_write"]: {"USAGE"}, groups["read_only"]: {"USAGE"}},
        }
        for kind in ("owner", "read_write", "read_only"):
            state["database_acl"][groups[kind]] = {"CONNECT"}
        for kind in ("read_write", "read_only"):
            state["default_acl"].setdefault((groups["owner"], schema, "r"), {})[groups[kind]] = set(
                db.TABLE_PRIVILEGES[kind]
            )
            state["default_acl"].setdefault((groups["owner"], schema, "S"), {})[groups[kind]] = set(
                db.SEQUENCE_PRIVILEGES[kind]
            )
        for user in app.get("users") or []:
            access = user.get("access") or "read_write"
            settings = dict(user.get("settings") or {})
            if access == "owner":
                settings["role"] = groups["owner"]
            member_of = {groups[access]} | ({"rds_iam"} if authentication == "iam" else set())
            state["roles"][user["name"]] = role(
                db.role_comment("user", name, authentication), login=True, member_of=member_of, settings=settings
            )
            if authentication == "password":
                state["roles"][user["name"] + "_clone"] = role(
                    db.role_comment("clone", name, authentication), login=True, member_of=member_of, settings=settings
                )
    return state


# ---- the world and a run ---------------------------------------------------------------------------------------


class World:
    def __init__(self):
        self.timeline = []
        self.aws_calls = []
        self.sql = []
        self.in_transaction = []
        self.cluster = copy.deepcopy(CLUSTER)
        self.state = empty_state()
        self.extensions = {"pgcrypto": None, "pg_stat_statements": "1.10"}
        self.rds = FakeRds(self)
        self.sm = FakeSecretsManager(self)
        self.pg = FakePsycopg(self)
        self.sm.add(
            MASTER_ARN.rsplit(":", maxsplit=1)[-1],
            {"username": MASTER, "password": MASTER_PASSWORD},
            arn=MASTER_ARN,
            KmsKeyId=MASTER_KEY,
            RotationEnabled=False,
        )

    def add_user_secret(self, user, username=None, password=None, age_hours=48, cluster=CLUSTER_ID, **details):
        document = db.secret_document(
            username or user, password or db.generate_password(), ENDPOINT, 5432, "vitality", MASTER_ARN
        )
        document.update(details)
        tags = {m.CLUSTER_TAG: cluster} if cluster else {"Owner": "someone else"}
        created = datetime.now(UTC) - timedelta(hours=age_hours)
        return self.sm.add(PREFIX + user, document, tags, created=created)

    def mutating_calls(self):
        return [method for service, method, params in self.aws_calls if method in MUTATING]

    def calls_of(self, method):
        return [params for service, name, params in self.aws_calls if name == method]

    def ddl(self):
        """The statements sent other than the module's reads (read_state is canned; the extension query is a read)."""
        return [s for s in self.sql if "pg_available_extensions" not in s]


@pytest.fixture
def world(monkeypatch):
    world = World()
    clients = {"rds": world.rds, "secretsmanager": world.sm}
    monkeypatch.setattr(m, "AnsibleAWSModule", DatabaseModule)
    monkeypatch.setattr(
        m, "AwsApi", lambda module, service, client=None: AwsApi(module, service, client=clients[service])
    )
    monkeypatch.setattr(m, "psycopg", world.pg)

    def read_state(cursor):
        world.timeline.append(("pg", "read_state"))
        return copy.deepcopy(world.state)

    monkeypatch.setattr(m, "read_state", read_state)
    return world


def run(monkeypatch, check_mode=False, **options):
    """main() with ``options`` over the world: the result Ansible would report (``failed`` on a failure)."""
    given = {"cluster_identifier": CLUSTER_ID, "ca_file": CA_FILE, **options}
    monkeypatch.setattr(DatabaseModule, "given", given)
    monkeypatch.setattr(DatabaseModule, "check_mode", check_mode)
    try:
        m.main()
    except Exited as exited:
        return exited.result
    except Failed as failed:
        return failed.result
    raise AssertionError("main() neither exited nor failed")


def planned_calls(result):
    return [call for action in result["actions"] for call in action["calls"]]


def with_placeholders(statement):
    return SCRAM_RE.sub("<from secret>", statement)


def verifies(verifier, password):
    """Whether a SCRAM-SHA-256 verifier (``SCRAM-SHA-256$<i>:<salt>$<stored>:<server>``) is one of ``password``."""
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier)
    iterations, salt, stored, server = match.groups()
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == base64.b64decode(stored) and server_key == base64.b64decode(server)


def verifier_sent_for(world, login):
    [statement] = [s for s in world.sql if s.startswith(f'ALTER ROLE "{login}" PASSWORD ')]
    return SCRAM_RE.search(statement).group(1)


# ---- check mode ------------------------------------------------------------------------------------------------


def test_check_mode_returns_the_plan_and_changes_nothing(monkeypatch, world):
    result = run(monkeypatch, check_mode=True, applications=[ORDERS], extensions=["pgcrypto"])
    assert result["changed"] is True
    assert result["executed"] == []
    assert world.mutating_calls() == []
    assert world.ddl() == []
    assert result["plan"][:2] == [
        f"1. secret {PREFIX}orders_app: create (password of orders_app, generated; never shown) [online]",
        f"2. secret {PREFIX}orders_report: create (password of orders_report, generated; never shown) [online]",
    ]
    assert result["plan"][2] == "3. extension pgcrypto: create [online]"
    assert "4. database role orders_owner: create (owner, cannot log in) [online]" in result["plan"]
    assert [a["order"] for a in result["actions"]] == list(range(1, len(result["plan"]) + 1))
    assert [line.split(". ", 1)[0] for line in result["plan"]] == [str(a["order"]) for a in result["actions"]]
    assert result["server_version"] == 160000
    assert result["extensions"] == {"pgcrypto": None}
    assert result["master_rotation_days"] is None
    assert result["applications"][0]["users"][0]["secret_arn"] is None
    # It connected once, as the master user, over TLS checked against the writer endpoint's name.
    [connection] = world.pg.connections
    assert connection.kwargs == {
        "host": ENDPOINT,
        "port": 5432,
        "dbname": "vitality",
        "user": MASTER,
        "password": MASTER_PASSWORD,
        "sslmode": "verify-full",
        "connect_timeout": 10,
        "application_name": "vitality.aurora",
        "sslrootcert": CA_FILE,
    }
    assert connection.closed
    assert ("pg", "rollback") in world.timeline


def test_check_mode_of_a_removal_plans_the_drops_and_the_secret_deletion_without_making_them(monkeypatch, world):
    world.state = converged([ORDERS])
    for user in ("orders_app", "orders_report"):
        world.add_user_secret(user)
    result = run(monkeypatch, check_mode=True, applications=[{"name": "orders", "users": [ORDERS["users"][1]]}])
    assert result["plan"] == [
        "1. database role orders_app: drop (user of application orders, no longer in the inventory) [online]"
        " - orders_app can no longer log in",
        "2. database role orders_app_clone: drop (alternate login of application orders, no longer in the inventory)"
        " [online] - orders_app_clone can no longer log in",
        f"3. secret {PREFIX}orders_app: delete (recoverable for 7 days) [online] - orders_app's password can no longer be read",
    ]
    assert result["executed"] == [] and world.mutating_calls() == [] and world.ddl() == []
    assert not world.sm.secrets[PREFIX + "orders_app"].get("DeletedDate")


# ---- a real run ------------------------------------------------------------------------------------------------


def test_a_run_creates_the_secrets_then_runs_exactly_the_planned_sql_in_one_transaction(monkeypatch, world):
    result = run(monkeypatch, applications=[ORDERS], extensions=["pgcrypto"])
    assert result["changed"] is True
    assert result["executed"] == planned_calls(result)
    planned_sql = [call for call in planned_calls(result) if not call.startswith("secretsmanager:")]
    assert [with_placeholders(s) for s in world.ddl()] == planned_sql
    assert all(world.in_transaction[i] for i, s in enumerate(world.sql) if s in world.ddl())
    # Both secrets exist before the first statement; the transaction is committed once.
    kinds = [event for event in world.timeline if event[0] != "pg" or event[1] in ("BEGIN", "COMMIT")]
    first_sql = kinds.index(("pg", "BEGIN"))
    assert [e for e in kinds[:first_sql] if e == ("aws", "create_secret")] == [("aws", "create_secret")] * 2
    assert ("aws", "create_secret") not in kinds[first_sql:]
    assert world.timeline.count(("pg", "COMMIT")) == 1
    # Each secret is tagged, encrypted with the master secret's key, and in the rotation function's format.
    [create_app, create_report] = world.calls_of("create_secret")
    assert create_app["Name"] == PREFIX + "orders_app"
    assert create_app["Tags"] == [{"Key": "vitality.aurora:cluster", "Value": CLUSTER_ID}]
    assert create_app["KmsKeyId"] == MASTER_KEY
    document = world.sm.document(PREFIX + "orders_app")
    assert sorted(document) == ["dbname", "engine", "host", "masterarn", "password", "port", "username"]
    assert (document["username"], document["host"], document["port"], document["dbname"], document["masterarn"]) == (
        "orders_app",
        ENDPOINT,
        5432,
        "vitality",
        MASTER_ARN,
    )
    assert create_report["Name"] == PREFIX + "orders_report"
    app_arn = world.sm.secrets[PREFIX + "orders_app"]["ARN"]
    assert result["applications"][0]["users"][0]["secret_arn"] == app_arn


def test_the_secrets_password_is_set_on_the_login_it_names_and_the_clone_gets_another(monkeypatch, world):
    run(monkeypatch, applications=[ORDERS])
    for user in ("orders_app", "orders_report"):
        password = world.sm.document(PREFIX + user)["password"]
        assert len(password) == 40
        assert verifies(verifier_sent_for(world, user), password)
        assert not verifies(verifier_sent_for(world, user + "_clone"), password)
    assert not [s for s in world.sql if "PASSWORD" in s and not SCRAM_RE.search(s)]


def test_no_password_appears_in_the_result(monkeypatch, world):
    planned = run(monkeypatch, check_mode=True, applications=[ORDERS])
    result = run(monkeypatch, applications=[ORDERS])
    passwords = [world.sm.document(PREFIX + user)["password"] for user in ("orders_app", "orders_report")]
    text = json.dumps(planned) + json.dumps(result, default=str)
    for secret in [MASTER_PASSWORD, *passwords]:
        assert secret not in text
    assert "SCRAM-SHA-256" not in text
    assert all("<from secret>" in s for s in result["executed"] if "PASSWORD" in s)


def test_a_secret_made_by_a_run_beside_this_one_gives_the_password_the_login_gets(monkeypatch, world):
    theirs = "MadeByTheOtherRun0123456789abcdefghijklm"
    original = world.sm.op_create_secret

    def lost_race(**params):
        if params["Name"] == PREFIX + "orders_app":
            world.add_user_secret("orders_app", password=theirs, age_hours=0)
        return original(**params)

    monkeypatch.setattr(world.sm, "op_create_secret", lost_race)
    result = run(monkeypatch, applications=[ORDERS])
    assert "failed" not in result
    assert world.sm.document(PREFIX + "orders_app")["password"] == theirs
    assert verifies(verifier_sent_for(world, "orders_app"), theirs)


def test_a_database_in_the_desired_state_changes_nothing(monkeypatch, world):
    world.state = converged([ORDERS])
    for user in ("orders_app", "orders_report"):
        world.add_user_secret(user)
    result = run(monkeypatch, applications=[ORDERS], extensions=["pg_stat_statements"])
    assert (result["changed"], result["plan"], result["actions"], result["executed"]) == (False, [], [], [])
    assert world.mutating_calls() == [] and world.ddl() == []
    assert result["extensions"] == {"pg_stat_statements": "1.10"}


def test_a_removed_user_is_dropped_and_then_its_secret_deleted(monkeypatch, world):
    world.state = converged([ORDERS])
    for user in ("orders_app", "orders_report"):
        world.add_user_secret(user)
    result = run(monkeypatch, applications=[{"name": "orders", "users": [ORDERS["users"][1]]}], secret_recovery_days=14)
    assert result["executed"] == [
        'DROP ROLE "orders_app"',
        'DROP ROLE "orders_app_clone"',
        "secretsmanager:DeleteSecret",
    ]
    assert result["executed"] == planned_calls(result)
    assert world.calls_of("delete_secret") == [{"SecretId": PREFIX + "orders_app", "RecoveryWindowInDays": 14}]
    assert world.timeline.index(("aws", "delete_secret")) > world.timeline.index(("pg", "COMMIT"))
    assert not world.sm.secrets[PREFIX + "orders_report"].get("DeletedDate")


def test_a_secret_the_collection_did_not_make_stops_the_run_before_any_change(monkeypatch, world):
    world.add_user_secret("orders_app", cluster=None)
    result = run(monkeypatch, applications=[ORDERS])
    assert result["failed"] is True
    assert result["msg"] == (
        f"Secret {PREFIX}orders_app exists and was not created by vitality.aurora (no vitality.aurora:cluster tag of "
        f"{CLUSTER_ID}): choose another secret_prefix or remove it; nothing was changed."
    )
    assert world.mutating_calls() == [] and world.ddl() == []


def test_a_secret_of_another_cluster_is_not_taken_either(monkeypatch, world):
    world.add_user_secret("orders_app", cluster="another-cluster")
    result = run(monkeypatch, applications=[ORDERS])
    assert result["failed"] is True and "was not created by vitality.aurora" in result["msg"]


def test_stale_connection_details_in_a_secret_are_updated_after_the_sql(monkeypatch, world):
    world.state = converged([ORDERS])
    world.add_user_secret("orders_app", host="old-endpoint.example", port=5433)
    world.add_user_secret("orders_report")
    result = run(monkeypatch, applications=[ORDERS])
    assert result["plan"] == [
        f"1. secret {PREFIX}orders_app: update the connection details "
        "(host old-endpoint.example -> " + ENDPOINT + "; port 5433 -> 5432) [online]"
    ]
    before = world.sm.document(PREFIX + "orders_app")
    assert result["executed"] == ["secretsmanager:PutSecretValue"]
    after = world.sm.document(PREFIX + "orders_app")
    assert (after["host"], after["port"]) == (ENDPOINT, 5432)
    assert (after["username"], after["password"]) == (before["username"], before["password"])


def test_the_master_secrets_rotation_schedule(monkeypatch, world):
    world.state = converged([])
    result = run(monkeypatch, master_rotation_days=7)
    assert result["plan"] == [
        "1. master user secret rds!cluster-0c1d2e3f-AbCdEf: set the rotation schedule (rotate every (days) (none) -> 7)"
        " [online]. RDS rotates the master password on this schedule; this module reads it from the secret at each run"
    ]
    assert world.calls_of("rotate_secret") == [
        {"SecretId": MASTER_ARN, "RotationRules": {"AutomaticallyAfterDays": 7}, "RotateImmediately": False}
    ]
    assert result["master_rotation_days"] == 7 and result["executed"] == ["secretsmanager:RotateSecret"]
    again = run(monkeypatch, master_rotation_days=7)
    assert (again["changed"], again["master_rotation_days"]) == (False, 7)
    left = run(monkeypatch)
    assert (left["changed"], left["master_rotation_days"]) == (False, 7)


def test_a_refused_plan_fails_with_its_problems_and_changes_nothing(monkeypatch, world):
    world.state["roles"]["orders_app"] = role("made by the DBA", login=True)
    result = run(monkeypatch, applications=[ORDERS])
    assert result["failed"] is True
    assert result["errors"] == [
        "role orders_app exists and was not created by vitality.aurora (its comment does not mark it): "
        "choose another name in the inventory, or drop or rename that role yourself"
    ]
    assert result["msg"] == "The database plan was refused, nothing was changed: " + result["errors"][0]
    assert world.mutating_calls() == [] and world.ddl() == []


def test_a_lost_secret_is_made_again_and_its_password_set_on_the_login(monkeypatch, world):
    world.state = converged([ORDERS])
    world.add_user_secret("orders_report")  # orders_app's secret was deleted by hand
    result = run(monkeypatch, applications=[ORDERS])
    password = world.sm.document(PREFIX + "orders_app")["password"]
    assert result["executed"] == ["secretsmanager:CreateSecret", 'ALTER ROLE "orders_app" PASSWORD <from secret>']
    assert result["executed"] == planned_calls(result)
    assert verifies(verifier_sent_for(world, "orders_app"), password)
    assert world.timeline.index(("aws", "create_secret")) < world.timeline.index(("pg", "BEGIN"))


def test_a_failing_statement_fails_the_run_naming_the_step_with_nothing_of_the_sql_applied(monkeypatch, world):
    original = FakeCursor.execute

    def refuse_the_schema(cursor, statement, params=None):
        original(cursor, statement, params)
        if statement.startswith("CREATE SCHEMA"):
            raise PgError("permission denied for database vitality\nDETAIL: more")

    monkeypatch.setattr(FakeCursor, "execute", refuse_the_schema)
    result = run(monkeypatch, applications=[ORDERS])
    assert result["failed"] is True
    assert result["msg"].startswith("Applying the database plan failed at step ")
    assert (
        "(7. schema orders: create (owned by orders_owner) [online]): permission denied for database vitality."
        in (result["msg"])
    )
    assert "none of them was applied" in result["msg"] and "DETAIL" not in result["msg"]
    assert f"secret {PREFIX}orders_app" in result["msg"]
    assert result["executed"] == ["secretsmanager:CreateSecret", "secretsmanager:CreateSecret"]
    assert ("pg", "COMMIT") not in world.timeline


def test_a_user_added_back_while_its_secret_awaits_deletion_gets_it_restored_first(monkeypatch, world):
    """A secret scheduled for deletion (GetSecretValue answers InvalidRequestException) is restored, then used."""
    world.add_user_secret("orders_app")
    world.sm.secrets[PREFIX + "orders_app"]["DeletedDate"] = datetime.now(UTC) + timedelta(days=7)
    planned = run(monkeypatch, check_mode=True, applications=[ORDERS])
    assert [line for line in planned["plan"] if f"secret {PREFIX}orders_app: restore" in line]
    assert world.mutating_calls() == []
    result = run(monkeypatch, applications=[ORDERS])
    assert "failed" not in result, result
    assert result["executed"][0] == "secretsmanager:RestoreSecret"
    assert "DeletedDate" not in world.sm.secrets[PREFIX + "orders_app"]


# ---- what stops a run early ------------------------------------------------------------------------------------


def test_a_missing_cluster_is_planned_once_it_exists_in_check_mode_and_fails_otherwise(monkeypatch, world):
    world.cluster = None
    planned = run(monkeypatch, check_mode=True, applications=[ORDERS])
    assert planned == {
        "changed": True,
        "plan": [f"database of cluster {CLUSTER_ID}: planned once the cluster exists"],
        "actions": [],
        "executed": [],
        "applications": [],
        "extensions": {},
        "master_rotation_days": None,
    }
    assert run(monkeypatch, check_mode=True)["changed"] is False
    failed = run(monkeypatch, applications=[ORDERS])
    assert failed["failed"] is True
    assert failed["msg"] == f"Cluster {CLUSTER_ID} was not found; nothing was changed."
    assert world.pg.connections == [] and world.mutating_calls() == []


def test_iam_authentication_on_a_cluster_without_it_fails_before_connecting(monkeypatch, world):
    result = run(monkeypatch, applications=[ORDERS], authentication="iam")
    assert result["failed"] is True
    assert result["msg"].startswith(f"authentication=iam, but cluster {CLUSTER_ID} has IAM database authentication off")
    assert world.pg.connections == []
    assert [method for service, method, params in world.aws_calls] == ["describe_db_clusters"]


@pytest.mark.parametrize(
    ("applications", "words"),
    [
        ([{"name": "Bad-Name"}], "applications[0].name='Bad-Name' must start with a lower-case letter"),
        ([{"name": "rds_tools"}], "which PostgreSQL and RDS reserve"),
        ([{"name": "a", "users": [{"name": "u_clone"}]}], "ends with _clone"),
        (
            [{"name": "a", "users": [{"name": "u"}]}, {"name": "b", "users": [{"name": "u"}]}],
            "a login belongs to one application",
        ),
        ([{"name": "a", "users": [{"name": "u", "settings": {"role": "a_owner"}}]}], "settings.role cannot be set"),
    ],
)
def test_bad_applications_fail_before_any_aws_call_or_connection(monkeypatch, world, applications, words):
    result = run(monkeypatch, applications=applications)
    assert result["failed"] is True
    assert result["msg"].startswith("Invalid database settings, nothing was changed: ")
    assert [e for e in result["errors"] if words in e], result["errors"]
    assert world.aws_calls == [] and world.pg.connections == []


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"ca_file": None}, "ca_file is required with ssl_mode=verify-full"),
        ({"secret_recovery_days": 5}, "secret_recovery_days=5 must be between 7 and 30"),
        ({"master_rotation_days": 0}, "master_rotation_days=0 must be between 1 and 1000"),
        ({"extensions": ["PostGIS"]}, "must be a list of extension names"),
    ],
)
def test_bad_options_fail_before_any_aws_call(monkeypatch, world, options, words):
    result = run(monkeypatch, **options)
    assert result["failed"] is True and words in result["msg"]
    assert world.aws_calls == [] and world.pg.connections == []


def test_ssl_mode_require_needs_no_ca_file(monkeypatch, world):
    result = run(monkeypatch, ca_file=None, ssl_mode="require")
    assert "failed" not in result
    assert world.pg.connections[0].kwargs["sslmode"] == "require"
    assert "sslrootcert" not in world.pg.connections[0].kwargs


def test_a_cluster_without_a_managed_master_secret_needs_master_secret_arn(monkeypatch, world):
    del world.cluster["MasterUserSecret"]
    result = run(monkeypatch, applications=[ORDERS])
    assert result["failed"] is True and "set master_secret_arn" in result["msg"]
    own = world.sm.add("dba/master", {"username": "dba", "password": "DbaPassword1"})
    result = run(monkeypatch, master_secret_arn=own["ARN"])
    assert "failed" not in result
    assert (world.pg.connections[-1].kwargs["user"], world.pg.connections[-1].kwargs["password"]) == (
        "dba",
        "DbaPassword1",
    )


def test_a_connection_that_fails_names_where_and_how_and_not_the_password(monkeypatch, world):
    world.pg.refuse = (
        'connection to server at "127.0.0.1", port 15432 failed: Connection refused\nIs the server running?'
    )
    result = run(monkeypatch, applications=[ORDERS], connect_host="127.0.0.1", connect_port=15432)
    assert result["failed"] is True
    assert result["msg"].startswith(
        f"Could not connect to database vitality of cluster {CLUSTER_ID} at {ENDPOINT}:15432 through 127.0.0.1:15432 "
        f"as {MASTER} with sslmode=verify-full: connection to server at"
    )
    assert result["msg"].endswith("Nothing was changed.")
    assert "Is the server running" not in result["msg"]
    assert MASTER_PASSWORD not in json.dumps(result)
    assert world.mutating_calls() == []


def test_connect_host_is_the_address_and_the_endpoint_stays_the_name_checked(monkeypatch, world):
    run(monkeypatch, connect_host="127.0.0.1", connect_port=15432, database="other")
    kwargs = world.pg.connections[0].kwargs
    assert (kwargs["host"], kwargs["hostaddr"], kwargs["port"], kwargs["dbname"]) == (
        ENDPOINT,
        "127.0.0.1",
        15432,
        "other",
    )


# ---- rotation --------------------------------------------------------------------------------------------------


def rotation_world(world):
    world.state = converged([ORDERS])
    world.add_user_secret("orders_app", password="OldAppPassword0123456789", age_hours=48)
    world.add_user_secret("orders_report", password="OldReportPassword0123456", age_hours=1)


def test_rotate_moves_an_old_enough_secret_to_the_other_login_and_does_nothing_else(monkeypatch, world):
    rotation_world(world)
    world.state["roles"]["orders_app"]["settings"] = {"work_mem": "1GB"}  # drift a converge would fix
    result = run(monkeypatch, applications=[ORDERS], rotate=True)
    assert result["plan"] == [
        f"1. secret {PREFIX}orders_app: rotate: new password for orders_app_clone, then the secret names orders_app_clone"
        " (username orders_app -> orders_app_clone) [online]. orders_app keeps its password until the next rotation, "
        "so open connections and pools keep working"
    ]
    document = world.sm.document(PREFIX + "orders_app")
    assert document["username"] == "orders_app_clone"
    assert document["password"] != "OldAppPassword0123456789" and len(document["password"]) == 40
    assert world.sm.document(PREFIX + "orders_app", "AWSPREVIOUS")["username"] == "orders_app"
    assert world.sm.staged(world.sm.secrets[PREFIX + "orders_app"], "AWSPENDING") == (None, None)
    # The one statement: the clone's new password, committed, then tested by logging in, then the secret moves.
    [statement] = world.ddl()
    assert statement.startswith('ALTER ROLE "orders_app_clone" PASSWORD ')
    assert verifies(verifier_sent_for(world, "orders_app_clone"), document["password"])
    test_login = world.pg.connections[-1]
    assert (test_login.kwargs["user"], test_login.kwargs["password"]) == ("orders_app_clone", document["password"])
    assert test_login.closed
    order = [e for e in world.timeline if e[1] in ("put_secret_value", "commit", "update_secret_version_stage")]
    assert order[:3] == [("aws", "put_secret_value"), ("pg", "commit"), ("aws", "update_secret_version_stage")]
    assert world.timeline.index(("pg", "connect orders_app_clone")) < world.timeline.index(
        ("aws", "update_secret_version_stage")
    )
    # The young secret is left as it is.
    assert world.sm.document(PREFIX + "orders_report")["password"] == "OldReportPassword0123456"
    assert document["password"] not in json.dumps(result, default=str)
    assert result["applications"][0]["users"][0]["connection_string"].startswith("postgresql://orders_app_clone@")


def test_rotating_twice_comes_back_to_the_user(monkeypatch, world):
    rotation_world(world)
    run(monkeypatch, applications=[ORDERS], rotate=True)
    second = run(monkeypatch, applications=[ORDERS], rotate=True, rotation_min_age_hours=0)
    assert [line.split(": ", 1)[1].split(" (")[0] for line in second["plan"]] == [
        "rotate: new password for orders_app, then the secret names orders_app",
        "rotate: new password for orders_report_clone, then the secret names orders_report_clone",
    ]
    assert world.sm.document(PREFIX + "orders_app")["username"] == "orders_app"
    assert world.sm.document(PREFIX + "orders_app", "AWSPREVIOUS")["username"] == "orders_app_clone"


def test_rotate_in_check_mode_plans_the_rotation_and_changes_nothing(monkeypatch, world):
    rotation_world(world)
    result = run(monkeypatch, check_mode=True, applications=[ORDERS], rotate=True, rotation_min_age_hours=0)
    assert len(result["plan"]) == 2 and result["executed"] == []
    assert world.mutating_calls() == [] and world.ddl() == []
    assert world.sm.document(PREFIX + "orders_app")["password"] == "OldAppPassword0123456789"


def test_an_interrupted_rotation_is_finished_with_its_pending_password(monkeypatch, world):
    rotation_world(world)
    secret = world.sm.secrets[PREFIX + "orders_app"]
    pending = dict(world.sm.document(PREFIX + "orders_app"), username="orders_app_clone", password="PendingPw0123")
    world.sm.add_version(secret, "pending-version", pending, ["AWSPENDING"])
    result = run(monkeypatch, applications=[ORDERS], rotate=True)
    assert "failed" not in result
    assert world.calls_of("put_secret_value") == []
    assert world.sm.document(PREFIX + "orders_app") == pending
    assert verifies(verifier_sent_for(world, "orders_app_clone"), "PendingPw0123")


def test_a_rotation_whose_new_login_fails_leaves_the_secret_naming_the_old_one(monkeypatch, world):
    rotation_world(world)
    original = world.pg.connect

    def refuse_the_clone(**kwargs):
        if kwargs["user"] == "orders_app_clone":
            raise PgError("password authentication failed for user orders_app_clone")
        return original(**kwargs)

    monkeypatch.setattr(world.pg, "connect", refuse_the_clone)
    result = run(monkeypatch, applications=[ORDERS], rotate=True)
    assert result["failed"] is True
    assert "run the rotation again to finish it" in result["msg"]
    assert world.sm.document(PREFIX + "orders_app")["username"] == "orders_app"
    assert world.sm.document(PREFIX + "orders_app", "AWSPENDING")["username"] == "orders_app_clone"
    assert world.calls_of("update_secret_version_stage") == []


def test_rotate_refuses_a_secret_the_collection_did_not_make(monkeypatch, world):
    rotation_world(world)
    world.add_user_secret("orders_app", cluster=None, age_hours=48)
    result = run(monkeypatch, applications=[ORDERS], rotate=True)
    assert result.get("failed") is True and "was not created by vitality.aurora" in result["msg"]
    assert world.mutating_calls() == []


def test_a_rotation_the_server_refuses_fails_with_a_message(monkeypatch, world):
    rotation_world(world)
    original = FakeCursor.execute

    def refuse(cursor, statement, params=None):
        original(cursor, statement, params)
        if statement.startswith("ALTER ROLE"):
            raise PgError('role "orders_app_clone" does not exist')

    monkeypatch.setattr(FakeCursor, "execute", refuse)
    result = run(monkeypatch, applications=[ORDERS], rotate=True)
    assert result["failed"] is True and 'role "orders_app_clone" does not exist' in result["msg"]
    assert world.sm.document(PREFIX + "orders_app")["username"] == "orders_app"


def test_a_rotation_executes_what_its_plan_lists(monkeypatch, world):
    rotation_world(world)
    result = run(monkeypatch, applications=[ORDERS], rotate=True)
    assert result["executed"] == planned_calls(result)


# ---- outputs ---------------------------------------------------------------------------------------------------


def test_iam_users_get_the_policy_statement_and_a_connection_string(monkeypatch, world):
    world.cluster["IAMDatabaseAuthenticationEnabled"] = True
    result = run(monkeypatch, applications=[ORDERS], authentication="iam")
    assert "failed" not in result
    assert world.calls_of("create_secret") == []
    [app] = result["applications"]
    assert {k: app[k] for k in ("name", "schema", "owner", "read_write_group", "read_only_group")} == {
        "name": "orders",
        "schema": "orders",
        "owner": "orders_owner",
        "read_write_group": "orders_rw",
        "read_only_group": "orders_ro",
    }
    assert app["users"][0] == {
        "name": "orders_app",
        "access": "read_write",
        "authentication": "iam",
        "logins": ["orders_app"],
        "secret_arn": None,
        "iam_policy_statement": {
            "Effect": "Allow",
            "Action": "rds-db:connect",
            "Resource": f"arn:aws:rds-db:us-east-1:123456789012:dbuser:{RESOURCE_ID}/orders_app",
        },
        "connection_string": f"postgresql://orders_app@{ENDPOINT}:5432/vitality?sslmode=verify-full"
        "&sslrootcert=<RDS CA bundle>",
    }
    assert 'GRANT "rds_iam" TO "orders_app"' in world.ddl()


def test_password_users_get_their_logins_secret_and_a_connection_string_without_password(monkeypatch, world):
    result = run(monkeypatch, applications=[ORDERS], ssl_mode="require", ca_file=None)
    report = result["applications"][0]["users"][1]
    assert report == {
        "name": "orders_report",
        "access": "read_only",
        "authentication": "password",
        "logins": ["orders_report", "orders_report_clone"],
        "secret_arn": world.sm.secrets[PREFIX + "orders_report"]["ARN"],
        "iam_policy_statement": None,
        "connection_string": f"postgresql://orders_report@{ENDPOINT}:5432/vitality?sslmode=require",
    }
    password = world.sm.document(PREFIX + "orders_report")["password"]
    assert password not in report["connection_string"] and ":" + password not in json.dumps(result)


def test_the_secret_prefix_and_tags_name_and_tag_the_secrets(monkeypatch, world):
    run(monkeypatch, applications=[ORDERS], secret_prefix="apps/", tags={"Team": "orders"}, secret_kms_key_id="k")
    [first, _second] = world.calls_of("create_secret")
    assert first["Name"] == "apps/orders_app"
    assert first["Tags"] == [
        {"Key": "Team", "Value": "orders"},
        {"Key": "vitality.aurora:cluster", "Value": CLUSTER_ID},
    ]
    assert first["KmsKeyId"] == "k"
