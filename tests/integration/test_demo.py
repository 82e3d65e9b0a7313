"""`make demo` as the README shows it: the dev cluster in a local AWS, then its application users in a local
PostgreSQL standing in for the writer, each user's secret ARN printed and no password.

The demo's own servers run on a free port and in directories of the test's own (LOCAL_AWS_PORT, LOCAL_AWS_DIR,
DEMO_PG_DIR), and its outputs and report go to the test's directory (DEMO_ARGS), so a demo a developer left
running is never touched. Then the README's rotation command runs against the same servers.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

import boto3
import psycopg

from local_aws import CREDENTIALS, REGION, REPO_ROOT, free_port, parse_recap

README_ROTATE = "ansible-playbook playbooks/rotate.yml -i inventories/dev"


def make(*args, env=None, timeout=900):
    return subprocess.run(  # noqa: S603
        ["make", "--no-print-directory", *args],  # noqa: S607
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_make_demo_creates_the_users_and_the_readme_rotation_runs():
    assert README_ROTATE in (REPO_ROOT / "README.md").read_text()
    work = Path(tempfile.mkdtemp(prefix="demo-"))
    work.chmod(0o755)  # the PostgreSQL server runs as its own OS user when the tests run as root
    port = free_port()
    settings = [
        f"LOCAL_AWS_PORT={port}",
        f"LOCAL_AWS_DIR={work}/aws",
        f"DEMO_PG_DIR={work}/pg",
        f"DEMO_OUTPUTS={work}/outputs/vitality-dev.json",
        f"DEMO_ARGS=-e aurora_cluster_outputs_file={work}/outputs/vitality-dev.json -e aurora_cluster_report_dir={work}/report",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    try:
        demo = make("demo", *settings, env=env)
        assert demo.returncode == 0, demo.stdout[-5000:] + demo.stderr[-2000:]
        out = demo.stdout
        assert "make: 3/3 provision again" in out
        last = out[out.index("make: 3/3") :]
        recap = parse_recap(last)
        assert recap and all(counts["failed"] == 0 for counts in recap.values())

        endpoint = f"http://127.0.0.1:{port}"
        secrets = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION, **_keys())
        for user in ("vitality_app", "vitality_reporting", "vitality_migrations"):
            described = secrets.describe_secret(SecretId=f"vitality-dev-aurora/users/{user}")
            assert described["ARN"] in last, f"{user}'s secret ARN is not in the demo's outputs"
            document = json.loads(secrets.get_secret_value(SecretId=described["ARN"])["SecretString"])
            assert document["password"] not in out
        stand_in = json.loads((work / "pg.json").read_text())
        app = json.loads(secrets.get_secret_value(SecretId="vitality-dev-aurora/users/vitality_app")["SecretString"])

        # The README's rotation command, as written, pointed at the demo's servers.
        args = shlex.split(README_ROTATE)
        args[0] = str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook")
        args += ["-e", f"aurora_cluster_aws_endpoint_url={endpoint}", "-e", f"@{work}/pg.json"]
        args += ["-e", "aurora_database_rotation_min_age_hours=0"]
        rotated = subprocess.run(  # noqa: S603
            args,
            cwd=REPO_ROOT,
            env={**env, **CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "ANSIBLE_COLLECTIONS_PATH": _collections_path()},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert rotated.returncode == 0, rotated.stdout[-4000:]
        now = json.loads(secrets.get_secret_value(SecretId="vitality-dev-aurora/users/vitality_app")["SecretString"])
        assert now["username"] == "vitality_app_clone", rotated.stdout[-3000:]
        conninfo = (
            f"host={now['host']} hostaddr=127.0.0.1 port={stand_in['aurora_database_connect_port']} dbname={now['dbname']} "
            f"user={now['username']} password={now['password']} sslmode=verify-full "
            f"sslrootcert={stand_in['aurora_database_ca_file']}"
        )
        with psycopg.connect(conninfo) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == "vitality_app_clone"
        assert app["password"] not in rotated.stdout and now["password"] not in rotated.stdout
    finally:
        stopped = make("local-aws-stop", *settings, env=env, timeout=120)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not (work / "pg").exists()


def _keys():
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def _collections_path():
    site = next((REPO_ROOT / ".venv" / "lib").glob("python3*/site-packages"))
    return f"{REPO_ROOT / 'build' / 'collections'}:{site}"
