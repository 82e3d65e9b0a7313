"""The database inside the cluster, against a real PostgreSQL standing in for the writer.

The dev stack is made in the local AWS; then a PostgreSQL server of the test's own (scripts/local_pg.py: TLS from
a CA the test makes, Aurora's rds_superuser and rds_iam roles, the master user as Aurora makes it) starts with the
master user name and password that RDS put in the cluster's secret. provision.yml then reaches it as a user reaches
a private cluster through a tunnel: connect_host 127.0.0.1, the certificate checked (verify-full) against the
cluster's writer endpoint name. Every assertion is made by connecting as the user concerned, or by reading the
catalogue or Secrets Manager back.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from local_pg import LocalPostgres

PROVISION = "playbooks/provision.yml"
# The database part alone (the cluster's own steps are tested elsewhere): for the runs that change only it.
DATABASE = "playbooks/database.yml"
ROTATE = "playbooks/rotate.yml"
DEV = "inventories/dev"
CLUSTER = "vitality-dev-aurora"

TWO_APPS = [
    {
        "name": "vitality",
        "users": [
            {"name": "vitality_app", "access": "read_write"},
            {"name": "vitality_reporting", "access": "read_only", "settings": {"statement_timeout": "30s"}},
            {"name": "vitality_migrations", "access": "owner"},
        ],
    },
    {"name": "billing", "users": [{"name": "billing_app"}]},
]


@pytest.fixture(scope="module")
def stack(local_aws):
    """The dev cluster in the local AWS and a PostgreSQL standing in for its writer."""
    local_aws.reset_and_seed(("dev",))
    made = local_aws.run_playbook(PROVISION, DEV)
    assert made.returncode == 0, made.stdout[-3000:]
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    master = json.loads(
        local_aws.client("secretsmanager").get_secret_value(SecretId=cluster["MasterUserSecret"]["SecretArn"])[
            "SecretString"
        ]
    )
    assert master["username"] == cluster["MasterUsername"]
    server = LocalPostgres(
        hostnames=[cluster["Endpoint"]],
        master_user=master["username"],
        master_password=master["password"],
        database=cluster["DatabaseName"],
    )
    # The stand-in makes pg_stat_statements itself (Aurora's rds_superuser may, PostgreSQL 15's master may not):
    # the tests ask for pgcrypto, a trusted extension, as well, which the role creates.
    server.start()
    try:
        yield local_aws, server, cluster
    finally:
        server.stop()


def db_vars(server, **more):
    return {
        "aurora_database_enabled": True,
        "aurora_database_connect_host": "127.0.0.1",
        "aurora_database_connect_port": server.port,
        "aurora_database_ca_file": str(server.ca_file),
        "aurora_database_extensions": ["pg_stat_statements", "pgcrypto"],
        **more,
    }


def superuser(server, cluster):
    return psycopg.connect(server.superuser_dsn(cluster["DatabaseName"]), autocommit=True)


def secret_of(local_aws, user, stage="AWSCURRENT"):
    response = local_aws.client("secretsmanager").get_secret_value(
        SecretId=f"{CLUSTER}/users/{user}", VersionStage=stage
    )
    return json.loads(response["SecretString"])


def login(server, cluster, document):
    """Connect as a user, as the application does: the secret's username and password, TLS verify-full."""
    return psycopg.connect(
        server.dsn(document["username"], document["password"], cluster["DatabaseName"]), autocommit=True
    )


def managed_roles(server, cluster):
    with superuser(server, cluster) as conn:
        rows = conn.execute(
            "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE 'vitality.aurora:%' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def fails(conn, statement):
    """The statement is refused (and the session goes on)."""
    try:
        conn.execute(statement)
    except psycopg.Error as exc:
        return str(exc)
    return None


def test_check_mode_connects_reads_and_changes_nothing(stack):
    local_aws, server, cluster = stack
    planned = local_aws.run_playbook(PROVISION, DEV, extra_vars=db_vars(server), check=True)
    assert planned.returncode == 0, planned.stdout[-3000:]
    assert "database role vitality_owner: create (owner, cannot log in) [online]" in planned.stdout
    assert "privileges public: revoke CREATE on schema public from PUBLIC" in planned.stdout
    assert "secret vitality-dev-aurora/users/vitality_app: create" in planned.stdout
    assert managed_roles(server, cluster) == []
    names = [s["Name"] for s in local_aws.client("secretsmanager").list_secrets()["SecretList"]]
    assert not [name for name in names if name.startswith(f"{CLUSTER}/users/")]


def test_provision_creates_users_with_least_privilege_then_changes_nothing(stack):
    local_aws, server, cluster = stack
    first = local_aws.run_playbook(PROVISION, DEV, extra_vars=db_vars(server, aurora_database_applications=TWO_APPS))
    assert first.returncode == 0, first.stdout[-4000:]
    again = local_aws.run_playbook(PROVISION, DEV, extra_vars=db_vars(server, aurora_database_applications=TWO_APPS))
    assert again.returncode == 0, again.stdout[-3000:]
    assert all(counts["changed"] == 0 for counts in again.recap.values()), again.stdout[-3000:]
    assert "database: no change" in again.stdout

    # No password in anything printed; each user's secret ARN in the outputs.
    app = secret_of(local_aws, "vitality_app")
    assert app["password"] not in first.stdout + again.stdout
    assert app["username"] == "vitality_app" and app["engine"] == "postgres" and app["masterarn"]
    assert app["host"] == cluster["Endpoint"] and app["dbname"] == cluster["DatabaseName"]
    arn = local_aws.client("secretsmanager").describe_secret(SecretId=f"{CLUSTER}/users/vitality_app")["ARN"]
    assert arn in first.stdout
    written = json.loads((local_aws.outputs_dir / "vitality-dev-database.json").read_text())
    users = {user["name"]: user for app in written["applications"] for user in app["users"]}
    assert users["vitality_app"]["secret_arn"] == arn and app["password"] not in json.dumps(written)
    assert oct((local_aws.outputs_dir / "vitality-dev-database.json").stat().st_mode & 0o777) == "0o600"

    migrations = login(server, cluster, secret_of(local_aws, "vitality_migrations"))
    # A migration's tables belong to the owner role (the session acts as it), created after every grant.
    migrations.execute("CREATE TABLE vitality.visits (id serial PRIMARY KEY, note text)")
    with superuser(server, cluster) as conn:
        owner = conn.execute("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'visits'").fetchone()[0]
    assert owner == "vitality_owner"

    rw = login(server, cluster, app)
    rw.execute("INSERT INTO vitality.visits (note) VALUES ('default privileges cover a later table')")
    assert rw.execute("SELECT count(*) FROM vitality.visits").fetchone()[0] == 1
    assert fails(rw, "CREATE ROLE intruder")
    assert fails(rw, "CREATE TABLE public.t (i int)")
    assert fails(rw, "CREATE TABLE vitality.t (i int)")
    assert "permission denied" in fails(rw, "CREATE TABLE billing.t (i int)")
    with superuser(server, cluster) as conn:
        conn.execute("SET ROLE billing_owner")
        conn.execute("CREATE TABLE billing.invoices (id int)")
    assert "permission denied" in fails(rw, "SELECT * FROM billing.invoices")

    ro = login(server, cluster, secret_of(local_aws, "vitality_reporting"))
    assert ro.execute("SELECT count(*) FROM vitality.visits").fetchone()[0] == 1
    assert "permission denied" in fails(ro, "INSERT INTO vitality.visits (note) VALUES ('no')")
    assert ro.execute("SHOW statement_timeout").fetchone()[0] == "30s"
    billing = login(server, cluster, secret_of(local_aws, "billing_app"))
    billing.execute("INSERT INTO billing.invoices VALUES (1)")
    assert "permission denied" in fails(billing, "SELECT * FROM vitality.visits")
    with superuser(server, cluster) as conn:
        public_create = conn.execute("SELECT has_schema_privilege('public', 'public', 'CREATE')").fetchone()[0]
        extension = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pgcrypto'").fetchone()
    assert public_create is False
    assert extension is not None
    for conn in (migrations, rw, ro, billing):
        conn.close()

    master = local_aws.client("secretsmanager").describe_secret(SecretId=cluster["MasterUserSecret"]["SecretArn"])
    assert master["RotationEnabled"] and master["RotationRules"]["AutomaticallyAfterDays"] == 7


def test_rotation_keeps_an_open_pool_working_across_two_rotations(stack):
    local_aws, server, cluster = stack
    settings = db_vars(server, aurora_database_applications=TWO_APPS)
    assert local_aws.run_playbook(DATABASE, DEV, extra_vars=settings).returncode == 0
    before = secret_of(local_aws, "vitality_app")
    pool = [login(server, cluster, before) for dummy in range(2)]

    # A schedule that fires again soon after the last rotation changes nothing.
    young = local_aws.run_playbook(ROTATE, DEV, extra_vars=settings)
    assert young.returncode == 0, young.stdout[-3000:]
    assert all(counts["changed"] == 0 for counts in young.recap.values())

    now = {**settings, "aurora_database_rotation_min_age_hours": 0}
    first = local_aws.run_playbook(ROTATE, DEV, extra_vars=now)
    assert first.returncode == 0, first.stdout[-3000:]
    once = secret_of(local_aws, "vitality_app")
    assert once["username"] == "vitality_app_clone" and once["password"] != before["password"]
    assert once["password"] not in first.stdout
    assert secret_of(local_aws, "vitality_app", "AWSPREVIOUS")["username"] == "vitality_app"
    login(server, cluster, before).close()  # the previous login keeps working until the next rotation
    login(server, cluster, once).close()

    second = local_aws.run_playbook(ROTATE, DEV, extra_vars=now)
    assert second.returncode == 0, second.stdout[-3000:]
    twice = secret_of(local_aws, "vitality_app")
    assert twice["username"] == "vitality_app" and twice["password"] not in (before["password"], once["password"])
    login(server, cluster, once).close()
    login(server, cluster, twice).close()
    assert fails_to_login(server, cluster, before)

    for conn in pool:  # open connections never notice
        assert conn.execute("SELECT count(*) FROM vitality.visits").fetchone()[0] >= 0
        conn.close()
    again = local_aws.run_playbook(DATABASE, DEV, extra_vars=settings)
    assert all(counts["changed"] == 0 for counts in again.recap.values()), again.stdout[-3000:]


def fails_to_login(server, cluster, document):
    try:
        login(server, cluster, document).close()
    except psycopg.OperationalError as exc:
        return "password authentication failed" in str(exc)
    return False


def test_removing_a_user_drops_only_it_and_foreign_roles_are_never_taken(stack):
    local_aws, server, cluster = stack
    with superuser(server, cluster) as conn:
        conn.execute("CREATE ROLE dba_own_login LOGIN")
        conn.execute("CREATE ROLE billing_auditor LOGIN")
    fewer = [TWO_APPS[0], {"name": "billing", "users": []}]
    removed = local_aws.run_playbook(DATABASE, DEV, extra_vars=db_vars(server, aurora_database_applications=fewer))
    assert removed.returncode == 0, removed.stdout[-3000:]
    assert "database role billing_app: drop" in removed.stdout
    roles = managed_roles(server, cluster)
    assert "billing_app" not in roles and "billing_app_clone" not in roles
    assert {"billing_owner", "billing_rw", "vitality_app", "vitality_app_clone"} <= set(roles)
    with superuser(server, cluster) as conn:
        left = {
            row[0]
            for row in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname IN ('dba_own_login', 'billing_auditor')"
            )
        }
    assert left == {"dba_own_login", "billing_auditor"}
    gone = local_aws.client("secretsmanager").describe_secret(SecretId=f"{CLUSTER}/users/billing_app")
    assert gone.get("DeletedDate")

    # A name the inventory asks for that a role the collection did not make holds: refused, nothing changed.
    taken = [TWO_APPS[0], {"name": "billing", "users": [{"name": "billing_auditor"}]}]
    refused = local_aws.run_playbook(DATABASE, DEV, extra_vars=db_vars(server, aurora_database_applications=taken))
    assert refused.returncode != 0
    assert "role billing_auditor exists and was not created by vitality.aurora" in refused.stdout
    assert "nothing was changed" in refused.stdout

    # The application leaves while its schema holds a table the collection did not make: refused too.
    left_app = local_aws.run_playbook(
        DATABASE, DEV, extra_vars=db_vars(server, aurora_database_applications=[TWO_APPS[0]])
    )
    assert left_app.returncode != 0
    assert "schema billing" in left_app.stdout and "still holds 1 objects" in left_app.stdout
    assert "billing_owner" in managed_roles(server, cluster)


def test_iam_authentication_grants_rds_iam_and_outputs_the_policy_statement(stack):
    local_aws, server, cluster = stack
    apps = [TWO_APPS[0]]
    with superuser(server, cluster) as conn:
        conn.execute("DROP TABLE IF EXISTS billing.invoices")
    iam = db_vars(server, aurora_database_applications=apps, aurora_database_authentication="iam")
    iam["aurora_cluster_iam_database_authentication"] = True
    switched = local_aws.run_playbook(PROVISION, DEV, extra_vars=iam)
    assert switched.returncode == 0, switched.stdout[-4000:]
    roles = managed_roles(server, cluster)
    assert "vitality_app_clone" not in roles and "billing_owner" not in roles
    with superuser(server, cluster) as conn:
        member = conn.execute("SELECT pg_has_role('vitality_app', 'rds_iam', 'MEMBER')").fetchone()[0]
        has_schema = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'billing'").fetchone()[0]
    assert member and has_schema == 0
    resource = f"dbuser:{cluster['DbClusterResourceId']}/vitality_app"
    assert resource in switched.stdout and "rds-db:connect" in switched.stdout
    again = local_aws.run_playbook(PROVISION, DEV, extra_vars=iam)
    assert all(counts["changed"] == 0 for counts in again.recap.values()), again.stdout[-3000:]


@pytest.mark.parametrize(
    "extra_vars, words",
    [
        ({"aurora_database_applications": [{"name": "Bad-Name"}]}, "aurora_database_applications[0].name='Bad-Name'"),
        (
            'aurora_database_applications=[{"name":"ok","users":[{"name":"rds_admin"}]}]',
            "which PostgreSQL and RDS reserve",
        ),
        (
            "aurora_database_ca_file=/no/such/bundle.pem",
            "aurora_database_ca_file='/no/such/bundle.pem' is not a readable file",
        ),
        ('aurora_database_extensions=["pg_cron"]', "aurora_cluster_parameters.shared_preload_libraries"),
    ],
)
def test_bad_database_settings_stop_before_any_connection(stack, extra_vars, words):
    local_aws, server, cluster = stack
    base = db_vars(server)
    if isinstance(extra_vars, dict):
        result = local_aws.run_playbook(PROVISION, DEV, extra_vars={**base, **extra_vars})
    else:
        result = local_aws.run_playbook(PROVISION, DEV, extra_vars=base, extra_args=("-e", extra_vars))
    assert result.returncode != 0
    assert words in result.stdout, result.stdout[-3000:]


@pytest.mark.parametrize("form", ["aurora_database_enabled=false", '{"aurora_database_enabled": "false"}'])
def test_the_database_part_turned_off_in_every_input_form(stack, form):
    local_aws, server, cluster = stack
    # Even with a bad CA path: off means nothing of it runs.
    result = local_aws.run_playbook(
        PROVISION, DEV, extra_vars=db_vars(server, aurora_database_ca_file=""), extra_args=("-e", form)
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "aurora_database : Plan and apply the database]" not in result.stdout  # the module never ran
