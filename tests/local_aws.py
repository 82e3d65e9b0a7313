"""Shared test helpers: a private local AWS (moto_server) and an ansible-playbook runner.

Importing this module needs only the standard library; boto3 is imported when a
client is asked for, so unit tests that never touch local AWS run without moto.

* :class:`LocalAws` starts ``moto_server`` on 127.0.0.1 on a *free* port (never the
  demo's 4566), waits until it answers and stops it again.  ``tests/conftest.py``
  turns it into the session fixture ``local_aws``.
* :func:`run_playbook` runs ``ansible-playbook`` from the repository root against
  the running local AWS and parses the PLAY RECAP.
* Landing-zone seeding is the same code as ``make seed`` (scripts/seed_landing_zone.py).
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = REPO_ROOT / "scripts"
OUTPUT_DIR = REPO_ROOT / "tests" / "output"
COLLECTIONS_DIR = REPO_ROOT / "build" / "collections"
COLLECTION_NAMESPACE = "vitality"
COLLECTION_NAME = "aurora"
COLLECTION_LINK = COLLECTIONS_DIR / "ansible_collections" / COLLECTION_NAMESPACE / COLLECTION_NAME

REGION = "us-east-1"
DATABASE_OFF = {"aurora_database_enabled": False}
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
ENDPOINT_VAR = "aurora_cluster_aws_endpoint_url"
OUTPUTS_VAR = "aurora_cluster_outputs_file"
REPORT_DIR_VAR = "aurora_cluster_report_dir"

if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))

from seed_landing_zone import ENVIRONMENTS, SECONDARY_REGIONS, LandingZone, seed_landing_zone  # noqa: E402

__all__ = [
    "ENVIRONMENTS",
    "LandingZone",
    "LocalAws",
    "PlaybookResult",
    "RecordedAws",
    "ansible_env",
    "ensure_collection_link",
    "free_port",
    "parse_recap",
    "run_playbook",
]

_ACTIVE: LocalAws | None = None  # the server the session fixture started


def ensure_collection_link() -> Path:
    """Create build/collections/ansible_collections/vitality/aurora -> repo root (as `make venv` does)."""
    if not COLLECTION_LINK.exists():
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        if COLLECTION_LINK.is_symlink():  # dangling
            COLLECTION_LINK.unlink()
        COLLECTION_LINK.symlink_to(os.path.relpath(REPO_ROOT, COLLECTION_LINK.parent), target_is_directory=True)
    return COLLECTION_LINK


def collections_path() -> str:
    """ANSIBLE_COLLECTIONS_PATH: the source tree's link first, then site-packages (amazon.aws)."""
    return os.pathsep.join([str(COLLECTIONS_DIR), sysconfig.get_paths()["purelib"]])


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def ansible_env(endpoint_url: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for ansible-playbook / boto3 subprocesses that talk to local AWS."""
    env = dict(os.environ)
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "ANSIBLE_CONFIG"):
        env.pop(var, None)
    env.update(CREDENTIALS)
    env.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "ANSIBLE_COLLECTIONS_PATH": collections_path(),
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    if endpoint_url:
        env["LOCAL_AWS_ENDPOINT_URL"] = endpoint_url
    if extra:
        env.update(extra)
    return env


class LocalAws:
    """A moto_server of the test session's own, on 127.0.0.1 and a free port."""

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_dir: Path = OUTPUT_DIR,
        extra_env: Mapping[str, str] | None = None,
    ):
        self.host = host
        self.extra_env = dict(extra_env or {})
        self.port = port or free_port(host)
        self.endpoint_url = f"http://{host}:{self.port}"
        self.log_path = Path(log_dir) / f"moto-{self.port}.log"
        self.outputs_dir = Path(log_dir) / f"outputs-{self.port}"
        self._proc: subprocess.Popen | None = None
        self._log = None

    # -- lifecycle -------------------------------------------------------------
    def _command(self) -> list[str]:
        # moto_server with the calls moto lacks (backup selections, event subscription changes)
        # and AWS managed IAM policies: scripts/moto_server_ext.py, the demo's launcher too.
        return [sys.executable, str(SCRIPTS_DIR / "moto_server_ext.py"), "-H", self.host, "-p", str(self.port)]

    def start(self, timeout: float = 60.0) -> LocalAws:
        global _ACTIVE
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(  # noqa: S603
            self._command(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.extra_env},
        )
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self._proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"moto_server exited with {self._proc.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"moto_server did not answer on {self.endpoint_url} in {timeout}s; see {self.log_path}"
                )
            time.sleep(0.2)
        _ACTIVE = self
        return self

    def stop(self) -> None:
        global _ACTIVE
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if _ACTIVE is self:
            _ACTIVE = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def healthy(self) -> bool:
        # /moto-api/config: cheap and moto-specific (data.json serialises everything and
        # fails once RDS clusters exist).
        try:
            with urllib.request.urlopen(self.endpoint_url + "/moto-api/config", timeout=5) as resp:
                return 200 <= resp.status < 300 and isinstance(json.load(resp), dict)
        except (OSError, ValueError):
            return False

    # -- use -------------------------------------------------------------------
    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for subprocesses (AWS creds=testing, region, ANSIBLE_COLLECTIONS_PATH, no color)."""
        return ansible_env(self.endpoint_url, extra)

    def client(self, service: str, region: str = REGION):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def reset(self) -> None:
        """Forget every resource (POST /moto-api/reset)."""
        req = urllib.request.Request(self.endpoint_url + "/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()

    def seed(self, envs: Iterable[str] = ENVIRONMENTS, region: str = REGION) -> dict[str, LandingZone]:
        """Seed the landing zones (same code as `make seed`); returns {env: LandingZone}."""
        ec2 = self.client("ec2", region)
        zones = {env: seed_landing_zone(ec2, env, region) for env in envs}
        if region == REGION:
            # Each environment's secondary Region too (prod's Aurora Global Database), as `make seed` does.
            for env in zones:
                if env in SECONDARY_REGIONS:
                    secondary = SECONDARY_REGIONS[env]
                    seed_landing_zone(self.client("ec2", secondary), env, secondary)
        return zones

    def reset_and_seed(self, envs: Iterable[str] = ENVIRONMENTS, region: str = REGION) -> dict[str, LandingZone]:
        """reset() then seed(): a fresh account holding only the landing zones."""
        self.reset()
        return self.seed(envs, region)

    def run_playbook(self, playbook, inventory, **kwargs) -> PlaybookResult:
        return run_playbook(playbook, inventory, local_aws=self, **kwargs)


class LatencyAws(LocalAws):
    """A LocalAws whose clusters and instances stay busy (creating, modifying, ...) for a while after each request,
    as on AWS: bench/moto_latency.py, with ``latency`` (seconds per kind of request, see bench/latency_config.py).
    """

    def __init__(self, latency: Mapping[str, float], **kwargs):
        super().__init__(**kwargs)
        self.extra_env["BENCH_LATENCY"] = json.dumps(dict(latency))

    def _command(self) -> list[str]:
        return [sys.executable, str(REPO_ROOT / "bench" / "moto_latency.py"), "-H", self.host, "-p", str(self.port)]


# -- ansible-playbook ---------------------------------------------------------------

_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s*:\s*(?P<counts>(?:\w+=\d+\s*)+)$")


@dataclass
class PlaybookResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    def changed(self, host: str | None = None) -> int:
        return self._count("changed", host)

    def failed(self, host: str | None = None) -> int:
        return self._count("failed", host) + self._count("unreachable", host)

    def _count(self, key: str, host: str | None) -> int:
        hosts = [host] if host else list(self.recap)
        return sum(self.recap.get(h, {}).get(key, 0) for h in hosts)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.failed() == 0

    def __str__(self) -> str:  # handy in assertion messages
        return f"$ {' '.join(self.args)}\nrc={self.returncode}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


class RecordedAws(LocalAws):
    """A LocalAws whose query-protocol requests moto records, to check which calls a run made and in what order.

    The recording holds request bodies, so give it a path in a temporary directory, never in tests/output.
    """

    def __init__(self, recording: Path):
        super().__init__(extra_env={"MOTO_ENABLE_RECORDING": "True", "MOTO_RECORDER_FILEPATH": str(recording)})

    def _post(self, path: str) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint_url}{path}", method="POST"), timeout=10).read()

    def record_from_now(self) -> None:
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")

    def calls(self, regions: bool = False) -> list[tuple]:
        """(Action, parameters) of every recorded query-protocol or JSON-protocol request, in order; with
        ``regions``, (Action, parameters, Region), the Region read from the request's signature (its credential
        scope), for the runs that call more than one Region.

        A query-protocol request (RDS, EC2, IAM, SNS, STS) gives its form fields, each a string; a JSON-protocol
        one (KMS, CloudWatch as botocore 1.44 calls it, Secrets Manager) its operation from the X-Amz-Target header
        and its JSON body. REST requests (AWS Backup) are not listed: tests/aws_proxy.py names those.
        """
        with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/recorder/download-recording", timeout=10) as answer:
            lines = answer.read().decode().splitlines()
        calls = []
        for line in lines:
            request = json.loads(line)
            body = request.get("body") or ""
            if request.get("body_encoded"):
                body = base64.b64decode(body).decode()
            headers = {key.lower(): value for key, value in (request.get("headers") or {}).items()}
            target = headers.get("x-amz-target")
            # AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...
            scope = str(headers.get("authorization") or "").split("Credential=", 1)[-1].split(",", 1)[0].split("/")
            region = (scope[2],) if regions and len(scope) > 2 else ((None,) if regions else ())
            if target:
                calls.append((target.rsplit(".", 1)[-1], json.loads(body) if body.strip() else {}, *region))
                continue
            params = {key: values[0] for key, values in urllib.parse.parse_qs(body).items()}
            if "Action" in params:
                calls.append((params.pop("Action"), params, *region))
        return calls


def printed_plan(stdout: str) -> list[str]:
    """The list the role prints in 'Show the plan, each step with its impact': the header, then each step's line
    (or 'no change')."""
    text = stdout.split("Show the plan, each step with its impact", 1)[1]
    return json.loads(text[text.index("{") : text.index("\n}\n") + 2])["msg"]


def host_failures(stdout: str) -> dict[str, str]:
    """{host: the failure line} for every host that failed."""
    failures = {}
    for line in stdout.splitlines():
        if line.startswith("fatal: ["):
            failures[line[len("fatal: [") : line.index("]")]] = line
    return failures


def dev_hosts_inventory(directory: Path, cases: Mapping[str, Mapping]) -> Path:
    """An inventory of one host per case, each the dev inventory's variables with the case's over them: one run
    checks many inputs (each host fails or passes on its own)."""
    import yaml  # only the tests that write inventories need it

    dev_vars = yaml.safe_load((REPO_ROOT / "inventories/dev/group_vars/aurora.yml").read_text())
    hosts = {name: dict(dev_vars, ansible_connection="local", **variables) for name, variables in cases.items()}
    path = directory / "hosts.yml"
    path.write_text(yaml.safe_dump({"aurora": {"hosts": hosts}}))
    return path


def parse_recap(stdout: str) -> dict[str, dict[str, int]]:
    """{host: {ok, changed, unreachable, failed, skipped, rescued, ignored}} from the PLAY RECAP."""
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in stdout.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if not in_recap:
            continue
        match = _RECAP_LINE.match(line.strip())
        if match:
            counts = dict(pair.split("=") for pair in match.group("counts").split())
            recap[match.group("host")] = {k: int(v) for k, v in counts.items()}
        elif line.strip():
            in_recap = False
    return recap


def run_playbook(
    playbook: str | os.PathLike,
    inventory: str | os.PathLike,
    extra_vars: Mapping | str | None = None,
    check: bool = False,
    diff: bool = False,
    extra_args: Iterable[str] = (),
    local_aws: LocalAws | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
) -> PlaybookResult:
    """Run ansible-playbook from the repository root against local AWS.

    ``playbook``/``inventory`` are relative to the repository root (or absolute).
    ``extra_vars`` is a dict (passed as JSON) or a raw ``-e`` string.  The local AWS
    endpoint is passed as ``-e aurora_cluster_aws_endpoint_url=<url>``; by default
    that of the session's ``local_aws`` fixture.
    """
    server = local_aws or _ACTIVE
    if server is None:
        raise RuntimeError("no local AWS is running: use the local_aws fixture or pass local_aws=")
    args, run_env = playbook_command(playbook, inventory, server, extra_vars, check, diff, extra_args, env)
    proc = subprocess.run(  # noqa: S603
        args,
        cwd=REPO_ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PlaybookResult(args, proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout))


def playbook_command(
    playbook: str | os.PathLike,
    inventory: str | os.PathLike,
    server: LocalAws,
    extra_vars: Mapping | str | None = None,
    check: bool = False,
    diff: bool = False,
    extra_args: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The ansible-playbook command line and environment that run_playbook() uses."""
    ensure_collection_link()
    exe = Path(sys.executable).parent / "ansible-playbook"
    args = [str(exe) if exe.exists() else "ansible-playbook", str(playbook), "-i", str(inventory)]
    args += ["-e", f"{ENDPOINT_VAR}={server.endpoint_url}"]
    # Each local AWS gets its own outputs directory, so concurrent test runs never share a file.
    args += ["-e", json.dumps({OUTPUTS_VAR: str(server.outputs_dir) + "/{{ aurora_cluster_name }}.json"})]
    args += ["-e", json.dumps({REPORT_DIR_VAR: str(server.outputs_dir / "report")})]
    # The database part needs a PostgreSQL at the writer endpoint, which a local AWS has not: the tests of the
    # database turn it on (tests/integration/test_database.py) with a local server standing in for the writer.
    args += ["-e", json.dumps(DATABASE_OFF)]
    if extra_vars:
        args += ["-e", extra_vars if isinstance(extra_vars, str) else json.dumps(dict(extra_vars))]
    if check:
        args.append("--check")
    if diff:
        args.append("--diff")
    args += list(extra_args)
    return args, server.env(env)


def start_playbook(playbook, inventory, server: LocalAws, **kwargs) -> subprocess.Popen:
    """ansible-playbook in the background, in a process group of its own (to kill it whole)."""
    args, run_env = playbook_command(playbook, inventory, server, **kwargs)
    return subprocess.Popen(  # noqa: S603
        args,
        cwd=REPO_ROOT,
        env=run_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finish_playbook(proc: subprocess.Popen, timeout: float = 1800) -> PlaybookResult:
    """Wait for a start_playbook() process; its PlaybookResult (stderr is merged into stdout)."""
    stdout = proc.communicate(timeout=timeout)[0]
    return PlaybookResult(list(proc.args), proc.returncode, stdout, "", parse_recap(stdout))
