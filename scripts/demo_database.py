"""`make demo`'s database server: a local PostgreSQL standing in for the dev cluster's writer.

    python scripts/demo_database.py --endpoint-url URL --cluster ID --dir DIR --vars-file FILE

A local AWS has no database server behind a cluster's endpoint. After the first provision has made the cluster,
this reads what Aurora would have set up from the local AWS (the writer endpoint, the database name, and the master
user name and password from the cluster's RDS-managed secret), starts (or reuses) a PostgreSQL server in DIR with
that master user, TLS with a CA of its own for the endpoint's name, and writes FILE: the -e variables that point
the aurora_database role at it, as a user points it at a tunnel (connect host 127.0.0.1 and the server's port; the
certificate still checked against the endpoint's name). The master password goes to a file readable by its owner
only, never to the terminal.

`python scripts/demo_database.py stop --dir DIR` stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import boto3

from local_pg import LocalPgError, LocalPostgres


def stand_in(endpoint_url: str, cluster_id: str, work_dir: Path, region: str) -> dict:
    rds = boto3.client("rds", endpoint_url=endpoint_url, region_name=region)
    cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint_url, region_name=region)
    master = json.loads(secrets.get_secret_value(SecretId=cluster["MasterUserSecret"]["SecretArn"])["SecretString"])
    # A fresh server each time, as a new cluster has a fresh database (the local AWS forgets its secrets too).
    stop(work_dir)
    server = LocalPostgres(
        hostnames=[cluster["Endpoint"]],
        work_dir=work_dir,
        master_user=master["username"],
        master_password=master["password"],
        database=cluster["DatabaseName"],
    ).start()
    return {
        "aurora_database_connect_host": "127.0.0.1",
        "aurora_database_connect_port": server.port,
        "aurora_database_ca_file": str(server.ca_file),
    }


def stop(work_dir: Path) -> None:
    if (work_dir / "local_pg.json").exists():
        server = LocalPostgres.from_state(work_dir)
        if server.running():
            server.stop()
    if work_dir.exists():
        shutil.rmtree(work_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="start", choices=["start", "stop"])
    parser.add_argument("--endpoint-url")
    parser.add_argument("--cluster")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--vars-file", type=Path)
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    args = parser.parse_args(argv)
    work_dir = args.dir.resolve()
    try:
        if args.command == "stop":
            stop(work_dir)
            return 0
        if not (args.endpoint_url and args.cluster and args.vars_file):
            parser.error("start needs --endpoint-url, --cluster and --vars-file")
        extra_vars = stand_in(args.endpoint_url, args.cluster, work_dir, args.region)
    except LocalPgError as exc:
        print(f"demo_database: {exc}", file=sys.stderr)
        return 1
    args.vars_file.write_text(json.dumps(extra_vars, indent=2) + "\n", encoding="utf-8")
    print(
        f"demo_database: PostgreSQL {work_dir} on 127.0.0.1:{extra_vars['aurora_database_connect_port']} stands in for "
        f"the writer of {args.cluster} (TLS, CA {extra_vars['aurora_database_ca_file']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
