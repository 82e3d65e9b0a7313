"""A private PostgreSQL server standing in for an Aurora PostgreSQL writer, for the tests and the demo.

Debian's PostgreSQL 15 server binaries (``scripts/ensure_postgresql.sh`` installs them) run a throw-away
cluster that listens on 127.0.0.1 only, on a free port, and accepts TLS connections only (like
``rds.force_ssl=1``), with a certificate from a CA made here whose names include the Aurora-looking
endpoint given.  A client reaches it as it reaches a private Aurora cluster through an SSM port forward or
a bastion tunnel: TCP to 127.0.0.1 (``hostaddr``) while verifying the certificate against the endpoint's
name (``host``, ``sslmode=verify-full``).  ``LocalPostgres(bindir=..., tls=False)`` runs another build
instead, without TLS (plain ``host`` lines, ``sslmode=disable``): the PostgreSQL 16 of
``scripts/fetch_postgresql16.py``, built without OpenSSL or contrib (so without pg_stat_statements).

At start it makes what Aurora makes: the roles ``rds_superuser``, ``rds_iam``, ``rds_replication`` and
``rds_password``; a master user that is *not* a superuser but has CREATEROLE and CREATEDB and is a member of
``rds_superuser``; a database owned by it, whose schema ``public`` still lets PUBLIC create in it (as a
database upgraded from PostgreSQL 14 does).  The real superuser is ``rdsadmin`` (Aurora's name for the role
customers cannot use), reachable only through the Unix socket in the work directory, for test assertions.

Importable::

    with LocalPostgres(hostnames=["vitality-dev.cluster-abc.us-east-1.rds.amazonaws.com"],
                       master_user="admin1", master_password="...", database="vitality") as pg:
        psycopg.connect(pg.master_dsn())                 # verify-full over TLS, as the master
        psycopg.connect(pg.superuser_dsn("vitality"))    # rdsadmin over the Unix socket

Command line (the server keeps running after ``start``; its state is in ``D/local_pg.json``)::

    python scripts/local_pg.py start --dir D [--port N] --hostname H [--hostname H2] \\
        --master-user U --master-password-file F --database DB     # prints {"port", "ca_file", "dir", "hostnames"}
    python scripts/local_pg.py status --dir D
    python scripts/local_pg.py stop --dir D
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from psycopg import sql
from psycopg.conninfo import make_conninfo

PG_MAJOR = 15
DEFAULT_BINDIR = f"/usr/lib/postgresql/{PG_MAJOR}/bin"
ENSURE_SCRIPT = "scripts/ensure_postgresql.sh"
LISTEN_ADDRESS = "127.0.0.1"
SUPERUSER = "rdsadmin"  # Aurora's own superuser: the master user never is one
SERVER_OS_USER = "postgres"  # Debian's package creates it; initdb and postgres refuse to run as root
STATE_FILE = "local_pg.json"
AURORA_GROUP_ROLES = ("rds_superuser", "rds_iam", "rds_replication", "rds_password")
# What rds_superuser is a member of on RDS / Aurora (with ADMIN, so the master can hand them on).
RDS_SUPERUSER_MEMBER_OF = ("pg_monitor", "pg_signal_backend", "rds_replication", "rds_password")
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL


class LocalPgError(RuntimeError):
    """The local PostgreSQL server could not be found, started or reached."""


def find_bindir() -> Path:
    """Directory of initdb / pg_ctl / postgres: ``$LOCAL_PG_BINDIR``, else Debian's PostgreSQL 15."""
    bindir = Path(os.environ.get("LOCAL_PG_BINDIR") or DEFAULT_BINDIR)
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if not os.access(bindir / name, os.X_OK)]
    if missing:
        raise LocalPgError(
            f"PostgreSQL server binaries not found in {bindir} (missing: {', '.join(missing)}); "
            f"run `sh {ENSURE_SCRIPT}` (installs Debian's postgresql-{PG_MAJOR} as root) "
            "or set LOCAL_PG_BINDIR to a PostgreSQL bin directory"
        )
    return bindir


def free_port(host: str = LISTEN_ADDRESS) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _conf_string(value: object) -> str:
    """A postgresql.conf string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class LocalPostgres:
    """A PostgreSQL server of its own on 127.0.0.1, TLS only, with Aurora's roles: see the module docstring.

    ``work_dir`` holds everything (data directory, certificates, Unix socket, logs, state file); without one a
    temporary directory is made, and removed by :meth:`stop`.  ``port`` is a free one unless given.
    ``tls=False``: no certificates and no ssl settings, plain ``host`` connections with scram-sha-256 from
    127.0.0.1, and :meth:`dsn` defaults to ``sslmode=disable`` (for a server built without OpenSSL, such as
    the PostgreSQL 16 of scripts/fetch_postgresql16.py).
    """

    hostnames: list[str] = field(default_factory=list)
    port: int | None = None
    work_dir: Path | str | None = None
    master_user: str | None = None
    master_password: str | None = None
    database: str | None = None
    bindir: Path | str | None = None
    start_timeout: float = 60.0
    superuser: str = SUPERUSER
    tls: bool = True
    _owns_dir: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.hostnames = list(self.hostnames)
        if self.work_dir is not None:
            self.work_dir = Path(self.work_dir).resolve()

    # -- layout ------------------------------------------------------------------
    @property
    def dir(self) -> Path:
        if self.work_dir is None:
            raise LocalPgError("no work directory yet: call start() first")
        return Path(self.work_dir)

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM): what a client gives as ``sslrootcert``."""
        return self.dir / "ca.pem"

    @property
    def cert_file(self) -> Path:
        return self.dir / "server.crt"

    @property
    def key_file(self) -> Path:
        return self.dir / "server.key"

    @property
    def log_file(self) -> Path:
        """The server's log (logging_collector); what it says before the collector runs is in startup.log."""
        return self.dir / "postgresql.log"

    @property
    def startup_log_file(self) -> Path:
        return self.dir / "startup.log"

    @property
    def state_file(self) -> Path:
        return self.dir / STATE_FILE

    @property
    def cert_names(self) -> list[str]:
        """The names the server certificate holds: the hostnames given, localhost, 127.0.0.1."""
        names = list(self.hostnames)
        for extra in ("localhost", LISTEN_ADDRESS):
            if extra not in names:
                names.append(extra)
        return names

    # -- running commands as the server's OS user -------------------------------------
    @staticmethod
    def _as_root() -> bool:
        return os.geteuid() == 0

    def _server_uid_gid(self) -> tuple[int, int] | None:
        """(uid, gid) of the OS user that runs the server when we are root, else None (run as ourselves)."""
        if not self._as_root():
            return None
        try:
            entry = pwd.getpwnam(SERVER_OS_USER)
        except KeyError as exc:
            raise LocalPgError(
                f"running as root, and there is no '{SERVER_OS_USER}' user to run PostgreSQL as (initdb refuses "
                f"root); run `sh {ENSURE_SCRIPT}`, which installs Debian's postgresql-{PG_MAJOR} and creates it"
            ) from exc
        return entry.pw_uid, entry.pw_gid

    def _command(self, args: list[str]) -> list[str]:
        if not self._as_root():
            return args
        if shutil.which("runuser"):
            return ["runuser", "-u", SERVER_OS_USER, "--", *args]
        return ["setpriv", f"--reuid={SERVER_OS_USER}", f"--regid={SERVER_OS_USER}", "--init-groups", "--", *args]

    def _run(self, args: list[str], check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        # cwd: the work dir, which the server user can enter (root's cwd may be closed to it);
        # PGDATA & co. from the caller's environment must not redirect the tools.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        proc = subprocess.run(  # noqa: S603
            self._command(args),
            cwd=self.dir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise LocalPgError(f"{' '.join(args)} exited with {proc.returncode}:\n{proc.stdout}{proc.stderr}")
        return proc

    def _chown(self, path: Path) -> None:
        ids = self._server_uid_gid()
        if ids is not None:
            os.chown(path, *ids)

    def _binary(self, name: str) -> str:
        return str(Path(self.bindir) / name)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> LocalPostgres:
        """initdb (unless the work dir already holds a cluster), TLS files, configuration, start, wait, bootstrap."""
        self.bindir = Path(self.bindir) if self.bindir else find_bindir()
        self._server_uid_gid()  # fails early, naming the install script, when root has no postgres user
        if self.work_dir is None:
            self.work_dir = Path(tempfile.mkdtemp(prefix="local-pg-"))
            self._owns_dir = True
        pick_port = self.port is None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            os.chmod(self.dir, 0o700)  # private: the Unix socket in it lets the superuser in without a password
            self._chown(self.dir)
            socket_path = self.dir / ".s.PGSQL.65535"
            if len(str(socket_path)) > SOCKET_PATH_MAX:
                raise LocalPgError(
                    f"work directory too long a path for a Unix socket ({socket_path}): use a shorter one"
                )
            if (
                self._as_root()
                and self._run(["test", "-w", str(self.dir), "-a", "-x", str(self.dir)], False).returncode
            ):
                raise LocalPgError(f"user {SERVER_OS_USER} cannot enter {self.dir}: is every parent directory o+x?")
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            if self.tls:
                self._write_tls()
            # A free port may be taken by another process before the server binds it (initdb takes a second;
            # parallel test workers start servers at once): then try another one.
            for attempt in range(3):
                if pick_port:
                    self.port = free_port()
                self._write_config()
                try:
                    self._start_server()
                    break
                except LocalPgError:
                    if (
                        not pick_port
                        or attempt == 2
                        or "could not create any TCP/IP sockets" not in _tail(self.log_file)
                    ):
                        raise
            self._write_state()
            if self.master_user:
                if self.master_password is None or self.database is None:
                    raise LocalPgError("master_user needs master_password and database too")
                self.aurora_bootstrap(self.master_user, self.master_password, self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """pg_ctl stop -m fast; removes the work directory if start() made it."""
        if self.work_dir is not None and (self.data_dir / "postmaster.pid").exists():
            # Not checked: a server that already stopped (or never started) is what we want.
            self._run([self._binary("pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60"], False)
        if self._owns_dir and self.work_dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.work_dir = None
            self._owns_dir = False

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def running(self) -> bool:
        if self.work_dir is None or not self.data_dir.exists():
            return False
        if not self.bindir:
            self.bindir = find_bindir()
        return self._run([self._binary("pg_ctl"), "status", "-D", str(self.data_dir)], False).returncode == 0

    def _initdb(self) -> None:
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._chown(self.data_dir)
        # --no-sync: a throw-away cluster need not survive a power cut; trust only until pg_hba.conf is written.
        self._run(
            [
                self._binary("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.superuser,
                "--encoding=UTF8",
                "--no-locale",
                "--auth=trust",
                "--no-sync",
            ]
        )

    def _write_private(self, path: Path, data: bytes, mode: int) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(path, mode)  # an existing file keeps its old mode through O_CREAT
        self._chown(path)

    def _write_tls(self) -> None:
        """A CA and a server certificate for cert_names, both valid one day (made at each start)."""
        now = datetime.datetime.now(datetime.UTC)
        not_before = now - datetime.timedelta(minutes=5)  # some clock skew between "now" and the verifier
        not_after = now + datetime.timedelta(days=1)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vitality local_pg test CA")])
        ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ca_ski, critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        sans: list[x509.GeneralName] = []
        for name in self.cert_names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local_pg server")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        self._write_private(self.ca_file, ca_cert.public_bytes(pem), 0o644)
        self._write_private(self.cert_file, cert.public_bytes(pem), 0o644)
        # The server refuses a key file that others can read, so 0600 and owned by the server user.
        key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        self._write_private(self.key_file, key_pem, 0o600)

    def _has_pg_stat_statements(self) -> bool:
        """Whether the server's build has pg_stat_statements (contrib): a build without it cannot preload it."""
        proc = self._run([self._binary("pg_config"), "--pkglibdir", "--sharedir"], check=False)
        dirs = proc.stdout.split()
        if proc.returncode != 0 or len(dirs) != 2:
            return True  # no pg_config to ask: assume a full build, as Debian's is
        pkglibdir, sharedir = (Path(d) for d in dirs)
        return (pkglibdir / "pg_stat_statements.so").is_file() and (
            sharedir / "extension" / "pg_stat_statements.control"
        ).is_file()

    def _write_config(self) -> None:
        tls = (
            {
                "ssl": "on",
                "ssl_cert_file": str(self.cert_file),
                "ssl_key_file": str(self.key_file),
                "ssl_min_protocol_version": "TLSv1.2",
            }
            if self.tls
            else {}
        )
        preload = (
            {"shared_preload_libraries": "pg_stat_statements"}  # preloaded on Aurora too
            if self._has_pg_stat_statements()
            else {}
        )
        settings = {
            "listen_addresses": LISTEN_ADDRESS,
            "port": self.port,
            "unix_socket_directories": str(self.dir),
            **tls,
            "password_encryption": "scram-sha-256",
            **preload,
            "fsync": "off",  # a test server: speed over durability
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "max_connections": 50,
            "logging_collector": "on",
            "log_directory": str(self.dir),
            "log_filename": self.log_file.name,
            "log_rotation_age": 0,
            "log_rotation_size": 0,
            "log_connections": "on",  # says which pg_hba line / TLS outcome a refused client met
            "log_line_prefix": "%m [%p] %q%u@%d ",
        }
        lines = ["# Written by scripts/local_pg.py at each start; included from postgresql.conf."]
        for name, value in settings.items():
            lines.append(f"{name} = {value if isinstance(value, int) else _conf_string(value)}")
        self._write_private(self.data_dir / "local_pg.conf", ("\n".join(lines) + "\n").encode(), 0o600)
        main_conf = self.data_dir / "postgresql.conf"
        include = "include 'local_pg.conf'\n"
        text = main_conf.read_text(encoding="utf-8")
        if include not in text:
            main_conf.write_text(text + "\n" + include, encoding="utf-8")
        # TLS only from 127.0.0.1 (no plain `host` line: rds.force_ssl=1); no password-less way in but the
        # bootstrap superuser's Unix socket, which test assertions use (peer would not map root to it).
        # Without TLS (tls=False): plain `host` from 127.0.0.1, still scram-sha-256.
        hba = (
            "# Written by scripts/local_pg.py.\n"
            "# TYPE   DATABASE  USER  ADDRESS       METHOD\n"
            f"local    all       {self.superuser}  trust\n"
            f"{'hostssl' if self.tls else 'host   '}  all       all   127.0.0.1/32  scram-sha-256\n"
        )
        self._write_private(self.data_dir / "pg_hba.conf", hba.encode(), 0o600)

    def _start_server(self) -> None:
        # pg_ctl's -l file gets what the server says before the logging collector takes over (bad settings,
        # port in use); pg_ctl detaches the server into its own session, so it outlives this process.
        proc = self._run(
            [
                self._binary("pg_ctl"),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.startup_log_file),
                "-w",
                "-t",
                str(int(self.start_timeout)),
            ],
            check=False,
            timeout=self.start_timeout + 30,
        )
        if proc.returncode != 0:
            raise LocalPgError(self._failure(f"pg_ctl start exited with {proc.returncode}: {proc.stderr.strip()}"))
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with psycopg.connect(self.superuser_dsn(), connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise LocalPgError(self._failure(f"no connection in {self.start_timeout}s: {exc}")) from exc
                time.sleep(0.1)

    def _failure(self, what: str) -> str:
        return (
            f"local PostgreSQL in {self.dir} did not start: {what}\n"
            f"--- {self.startup_log_file} (tail) ---\n{_tail(self.startup_log_file)}\n"
            f"--- {self.log_file} (tail) ---\n{_tail(self.log_file)}"
        )

    def _write_state(self) -> None:
        self._write_private(self.state_file, (json.dumps(self.state()) + "\n").encode(), 0o644)

    def state(self) -> dict:
        return {
            "port": self.port,
            "ca_file": str(self.ca_file),
            "dir": str(self.dir),
            "hostnames": self.hostnames,
            "bindir": str(self.bindir),
            "superuser": self.superuser,
            "master_user": self.master_user,
            "database": self.database,
            "tls": self.tls,
        }

    @classmethod
    def from_state(cls, work_dir: Path | str) -> LocalPostgres:
        """The server whose state file is in work_dir (written by start()); stop() leaves the directory."""
        work_dir = Path(work_dir).resolve()
        try:
            state = json.loads((work_dir / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LocalPgError(f"no local PostgreSQL state in {work_dir}: {exc}") from exc
        return cls(
            hostnames=state.get("hostnames") or [],
            port=state["port"],
            work_dir=work_dir,
            bindir=state.get("bindir"),
            superuser=state.get("superuser", SUPERUSER),
            master_user=state.get("master_user"),
            database=state.get("database"),
            tls=state.get("tls", True),
        )

    # -- Aurora stand-ins -----------------------------------------------------------
    def aurora_bootstrap(self, master_user: str, master_password: str, database: str) -> None:
        """What Aurora creates with a cluster: its group roles, the master user, the initial database.

        Idempotent (a restarted work directory keeps them); the master's password is set each time.
        """
        self.master_user, self.master_password, self.database = master_user, master_password, database
        ident = sql.Identifier
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            existing = {row[0] for row in conn.execute("SELECT rolname FROM pg_roles")}
            for role in AURORA_GROUP_ROLES:
                if role not in existing:
                    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(ident(role)))
            conn.execute(
                sql.SQL("GRANT {} TO rds_superuser WITH ADMIN OPTION").format(
                    sql.SQL(", ").join(map(ident, RDS_SUPERUSER_MEMBER_OF))
                )
            )
            if conn.info.server_version >= 160000:
                # PostgreSQL 16 lets only a holder of ADMIN on a role grant it (CREATEROLE no longer suffices), and
                # Aurora's master grants rds_iam to IAM users (AWS's IAM database authentication guide): so
                # rds_superuser holds ADMIN on rds_iam, without INHERIT or SET (a member of rds_iam may log in only
                # through IAM, and the master logs in with its password).  On 15 CREATEROLE lets the master grant it.
                conn.execute("GRANT rds_iam TO rds_superuser WITH ADMIN OPTION, INHERIT FALSE, SET FALSE")
            # As Aurora makes it: CREATEROLE and CREATEDB through rds_superuser, never SUPERUSER.
            verb = "ALTER" if master_user in existing else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN NOSUPERUSER CREATEROLE CREATEDB PASSWORD {}").format(
                    sql.SQL(verb), ident(master_user), sql.Literal(master_password)
                )
            )
            conn.execute(sql.SQL("GRANT rds_superuser TO {}").format(ident(master_user)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(ident(database), ident(master_user)))
        with psycopg.connect(self.superuser_dsn(database), autocommit=True) as conn:
            # PostgreSQL 15 no longer grants this in a new database; one upgraded from 14 keeps it.
            conn.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
            # Aurora lets rds_superuser create pg_stat_statements (preloaded by its default parameter group);
            # PostgreSQL 15 lets only a superuser (it is not a trusted extension), so the stand-in makes it here.
            # Trusted extensions (pgcrypto, ...) are left for the code under test to create.  A build without
            # contrib (the PostgreSQL 16 of scripts/fetch_postgresql16.py) has no pg_stat_statements: skipped.
            if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'").fetchone():
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self._write_state()

    # -- connecting ----------------------------------------------------------------
    def superuser_dsn(self, database: str = "postgres") -> str:
        """libpq conninfo for the bootstrap superuser over the Unix socket (test assertions, never the code)."""
        return make_conninfo(host=str(self.dir), port=self.port, user=self.superuser, dbname=database)

    def dsn(
        self,
        user: str,
        password: str | None,
        database: str,
        sslmode: str | None = None,
        host: str | None = None,
        **extra,
    ) -> str:
        """libpq conninfo reaching 127.0.0.1 (``hostaddr``) and verifying the certificate against ``host``.

        ``host`` defaults to the first hostname given: what a client does through a tunnel to a private
        Aurora endpoint.  ``sslmode`` defaults to verify-full (disable for a server started with tls=False).
        ``extra`` adds further libpq parameters.
        """
        params = {
            "host": host or (self.hostnames[0] if self.hostnames else "localhost"),
            "hostaddr": LISTEN_ADDRESS,
            "port": self.port,
            "user": user,
            "dbname": database,
            "sslmode": sslmode or ("verify-full" if self.tls else "disable"),
            "sslrootcert": str(self.ca_file),
            "connect_timeout": 10,
        }
        if not self.tls:
            del params["sslrootcert"]  # no CA made
        if password is not None:
            params["password"] = password
        params.update(extra)
        return make_conninfo(**params)

    def master_dsn(self, database: str | None = None, **kwargs) -> str:
        """dsn() as the master user, to the initial database unless another is named."""
        if not self.master_user:
            raise LocalPgError("no master user: start with master_user/master_password/database")
        return self.dsn(self.master_user, self.master_password, database or self.database, **kwargs)


# -- command line ---------------------------------------------------------------------


def _public_state(server: LocalPostgres) -> dict:
    return {"port": server.port, "ca_file": str(server.ca_file), "dir": str(server.dir), "hostnames": server.hostnames}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start (or reuse) the server in --dir and print its JSON state")
    start.add_argument("--dir", required=True, type=Path)
    start.add_argument("--port", type=int)
    start.add_argument("--hostname", action="append", required=True, help="a name for the certificate (repeat)")
    start.add_argument("--master-user", required=True)
    start.add_argument("--master-password-file", required=True, type=Path)
    start.add_argument("--database", required=True)
    for name in ("stop", "status"):
        commands.add_parser(name, help=f"{name} the server in --dir").add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            return _cli_start(args)
        if not (args.dir / STATE_FILE).exists():
            print(json.dumps({"running": False, "dir": str(args.dir.resolve())}))
            return 0 if args.command == "stop" else 1
        server = LocalPostgres.from_state(args.dir)
        if args.command == "stop":
            server.stop()
            print(json.dumps({"running": server.running(), "dir": str(server.dir)}))
            return 0
        running = server.running()
        print(json.dumps({"running": running, **_public_state(server)}))
        return 0 if running else 1
    except (LocalPgError, OSError) as exc:  # a missing password file too: a message, not a traceback
        print(f"local_pg: {exc}", file=sys.stderr)
        return 1


def _cli_start(args: argparse.Namespace) -> int:
    password = args.master_password_file.read_text(encoding="utf-8").rstrip("\r\n")
    if (args.dir / STATE_FILE).exists():
        running = LocalPostgres.from_state(args.dir)
        if running.running():
            if args.port and args.port != running.port:
                raise LocalPgError(f"a server already runs in {args.dir} on port {running.port}; stop it first")
            if args.hostname != running.hostnames:
                raise LocalPgError(f"a server already runs in {args.dir} for other hostnames; stop it first")
            running.aurora_bootstrap(args.master_user, password, args.database)
            print(json.dumps(_public_state(running)))
            return 0
    server = LocalPostgres(
        hostnames=args.hostname,
        port=args.port,
        work_dir=args.dir,
        master_user=args.master_user,
        master_password=password,
        database=args.database,
    )
    server.start()
    print(json.dumps(_public_state(server)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
