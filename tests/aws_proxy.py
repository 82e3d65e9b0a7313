"""A fault-injecting, recording HTTP proxy in front of a local AWS (moto_server).

Standard library only.  Point a playbook's ``endpoint_url`` at :attr:`AwsProxy.endpoint_url`;
the proxy forwards every request to moto and returns moto's answer, unless a rule says
otherwise.

Usage::

    with AwsProxy(local_aws.endpoint_url) as proxy:
        proxy.set_rules(fault("drop-after", action="CreateDBCluster", nth=1))
        local_aws.run_playbook(...) but through the proxy: proxy.front(local_aws).run_playbook(...)
        creates = [c for c in proxy.calls if c.action == "CreateDBCluster"]

Recording
    :attr:`AwsProxy.calls` is a snapshot (list) of :class:`Call`, one per HTTP request, in
    arrival order: ``time`` (time.time() at arrival), ``service`` (from the SigV4 credential
    scope of the Authorization header), ``action`` (the form field ``Action`` of the query
    protocol, or the operation of the ``X-Amz-Target`` header of the JSON protocol),
    ``operation`` (the action, or for a REST call of a service in :data:`REST_OPERATIONS` (AWS
    Backup) the operation its method and path name, e.g. ``CreateBackupPlan``; rules match it),
    ``read`` (True for Describe*/List*/Get*), ``params`` (parameter NAMES only, sorted, never
    their values), ``identifiers`` ({name: value} of the identifier parameters only:
    :data:`IDENTIFIER_PARAMS`), ``fault`` (the injected fault kind or None), ``held``
    (seconds held), ``status`` (HTTP status returned to the client; None when the
    connection was closed without an answer) and ``state`` (``holding``, ``forwarding``,
    ``answered`` or ``dropped``).  :meth:`AwsProxy.clear_calls` forgets them.

Rules (:meth:`AwsProxy.set_rules`, replacing every earlier rule and restarting the counts)
    Built with :func:`fault`, :func:`rate` and :func:`hold`.  Calls are counted per operation
    from the moment the rules were set; every HTTP attempt counts (a retry is a new call).
    ``action=`` in a rule names an operation: a query/JSON action, or a REST operation of
    :data:`REST_OPERATIONS` (``action`` of the recorded call stays "" for those, as before).

    * ``fault(kind, action=..., nth=1)``: inject ``kind`` into the Nth call of ``action``.
    * ``rate(0.2, kinds=FAULT_KINDS, seed=7, actions=None)``: inject into each call with the
      given probability (``random.Random(seed)``, one draw per call in arrival order), the
      kind chosen at random among ``kinds``; ``actions`` limits it to those actions.
    * ``hold(action, nth=1, seconds=60, then=None)``: delay the Nth call of ``action`` by
      ``seconds`` before forwarding it (a reliable window to kill a client in);
      ``then="drop"`` discards it after the hold instead of forwarding (the request never
      reached AWS).  :meth:`AwsProxy.release_holds` ends every hold at once.

    * ``error_after(action, code, nth=1, status=400)``: forward the Nth call of ``action`` to
      moto, then answer with the AWS error ``code`` instead of moto's answer: what real AWS
      tells the loser of a race, where moto would have accepted a duplicate.

    * ``error(action, code, nth=1, status=400, message=...)``: answer the Nth call of ``action``
      with the AWS error ``code`` without forwarding it (AWS refused it: access denied, expired
      credentials, ...).

    * ``round_trip(seconds)``: every call waits ``seconds`` before it is forwarded (the network's
      round trip to a Region, for the benchmark), whatever the other rules do with it after.

    The first matching ``fault``/``hold``/``error_after``/``error`` rule wins over ``rate`` rules.

Fault kinds (:data:`FAULT_KINDS`)
    * ``throttle``: HTTP 400 with error code ``Throttling``;
    * ``500``: HTTP 500 ``InternalFailure``; ``503``: HTTP 503 ``ServiceUnavailable``;
    * ``drop``: close the connection without answering, before forwarding (AWS never saw it);
    * ``drop-after``: forward to moto, then close without answering (the request took
      effect; the response is lost).

    Error bodies use the service's protocol: the query-protocol ``<ErrorResponse>`` XML
    (rds, sts, ...), EC2's ``<Response><Errors>`` XML, or JSON ``__type`` for X-Amz-Target.

Waiting
    :meth:`AwsProxy.wait_for` blocks until a predicate over the calls holds (e.g. "a
    CreateDBInstance is being held"), or raises TimeoutError.
"""

from __future__ import annotations

import copy
import http.client
import random
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = [
    "FAULT_KINDS",
    "IDENTIFIER_PARAMS",
    "REST_OPERATIONS",
    "AwsProxy",
    "Call",
    "Rule",
    "error_after",
    "fault",
    "hold",
    "rate",
]

FAULT_KINDS = ("throttle", "500", "503", "drop", "drop-after")
IDENTIFIER_PARAMS = frozenset(
    {
        "DBClusterIdentifier",
        "DBInstanceIdentifier",
        "TargetDBInstanceIdentifier",
        "GroupName",
        "DBSubnetGroupName",
        "DBClusterParameterGroupName",
    }
)
READ_PREFIXES = ("Describe", "List", "Get")
# REST-protocol operations named from their method and path (the service's API reference), by the
# service of the SigV4 scope.  The call's ``action`` stays "" (the bench counts those as REST calls);
# its ``operation`` is the name, which rules match.
REST_OPERATIONS = {
    "backup": (
        ("PUT", r"/backup/plans/?", "CreateBackupPlan"),
        ("GET", r"/backup/plans/?", "ListBackupPlans"),
        ("PUT", r"/backup/plans/[^/]+/selections/?", "CreateBackupSelection"),
        ("GET", r"/backup/plans/[^/]+/selections/?", "ListBackupSelections"),
        ("GET", r"/backup/plans/[^/]+/selections/[^/]+/?", "GetBackupSelection"),
        ("DELETE", r"/backup/plans/[^/]+/selections/[^/]+/?", "DeleteBackupSelection"),
        ("GET", r"/backup/plans/[^/]+/versions/?", "ListBackupPlanVersions"),
        ("POST", r"/backup/plans/[^/]+/?", "UpdateBackupPlan"),
        ("GET", r"/backup/plans/[^/]+/?", "GetBackupPlan"),
        ("DELETE", r"/backup/plans/[^/]+/?", "DeleteBackupPlan"),
        ("GET", r"/backup-vaults/?", "ListBackupVaults"),
        ("PUT", r"/backup-vaults/[^/]+/?", "CreateBackupVault"),
        ("GET", r"/backup-vaults/[^/]+/?", "DescribeBackupVault"),
        ("DELETE", r"/backup-vaults/[^/]+/?", "DeleteBackupVault"),
        ("POST", r"/tags/.+", "TagResource"),
        ("POST", r"/untag/.+", "UntagResource"),
        ("GET", r"/tags/.+", "ListTags"),
    ),
}
_ERRORS = {  # kind: (HTTP status, error code, message)
    "throttle": (400, "Throttling", "Rate exceeded"),
    "500": (500, "InternalFailure", "The request processing has failed because of an unknown error."),
    "503": (503, "ServiceUnavailable", "The service is unavailable. Please try again later."),
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}
_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/,]+/([^/,]+)/aws4_request")


@dataclass(frozen=True)
class Rule:
    """One rule; build it with :func:`fault`, :func:`rate` or :func:`hold`."""

    kind: str  # a fault kind, or "hold"
    action: str | None = None
    nth: int = 1
    probability: float = 0.0
    kinds: tuple[str, ...] = ()
    seed: int = 0
    actions: tuple[str, ...] | None = None
    seconds: float = 0.0
    then: str | None = None
    code: str = ""
    status: int = 400
    message: str = ""


def fault(kind: str, action: str, nth: int = 1) -> Rule:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
    return Rule(kind=kind, action=action, nth=nth)


def rate(probability: float, kinds=FAULT_KINDS, seed: int = 0, actions=None) -> Rule:
    unknown = set(kinds) - set(FAULT_KINDS)
    if unknown:
        raise ValueError(f"unknown fault kinds {sorted(unknown)}")
    return Rule(
        kind="rate",
        probability=probability,
        kinds=tuple(kinds),
        seed=seed,
        actions=tuple(actions) if actions is not None else None,
    )


def hold(action: str, nth: int = 1, seconds: float = 60.0, then: str | None = None) -> Rule:
    if then not in (None, "drop"):
        raise ValueError("then must be None (forward after the hold) or 'drop'")
    return Rule(kind="hold", action=action, nth=nth, seconds=seconds, then=then)


def round_trip(seconds: float) -> Rule:
    """Every call waits ``seconds`` before it is forwarded: the round trip to a Region, which moto on the same
    machine does not have (a host in the Region's own area: tens of milliseconds; farther: a hundred and more)."""
    return Rule(kind="round-trip", seconds=seconds)


def error_after(action: str, code: str, nth: int = 1, status: int = 400) -> Rule:
    return Rule(kind="error-after", action=action, nth=nth, code=code, status=status)


def error(action: str, code: str, nth: int = 1, status: int = 400, message: str = "refused by the test") -> Rule:
    return Rule(kind="error", action=action, nth=nth, code=code, status=status, message=message)


@dataclass
class Call:
    time: float
    service: str
    action: str
    read: bool
    params: tuple[str, ...]
    identifiers: dict[str, str]
    fault: str | None = None
    held: float = 0.0
    status: int | None = None
    state: str = "received"
    extra: dict = field(default_factory=dict)
    operation: str = ""

    @property
    def mutating(self) -> bool:
        return not self.read


def rest_operation(service: str, method: str, path: str) -> str:
    """The REST operation of :data:`REST_OPERATIONS` that ``method`` and ``path`` name, or ""."""
    path = urllib.parse.urlsplit(path).path
    for route_method, pattern, operation in REST_OPERATIONS.get(service, ()):
        if method == route_method and re.fullmatch(pattern, path):
            return operation
    return ""


def _parse(headers, body: bytes) -> tuple[str, str, tuple[str, ...], dict[str, str]]:
    scope = _SCOPE.search(headers.get("Authorization", ""))
    service = scope.group(1) if scope else ""
    target = headers.get("X-Amz-Target")
    form: dict[str, list[str]] = {}
    if "x-www-form-urlencoded" in headers.get("Content-Type", "") or (body and not target):
        try:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            form = {}
    if target:
        action = target.rsplit(".", 1)[-1]
        params: tuple[str, ...] = ()
        identifiers: dict[str, str] = {}
    else:
        action = (form.get("Action") or [""])[0]
        params = tuple(sorted(name for name in form if name not in ("Action", "Version")))
        identifiers = {name: form[name][0] for name in form if name in IDENTIFIER_PARAMS}
    return service, action, params, identifiers


def _error_body(service: str, json_protocol: bool, code: str, message: str) -> tuple[bytes, str]:
    request_id = str(uuid.uuid4())
    if json_protocol:
        code = "ThrottlingException" if code == "Throttling" else code
        return f'{{"__type": "{code}", "message": "{message}"}}'.encode(), "application/x-amz-json-1.1"
    if service == "ec2":
        xml = (
            f"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error><Code>{code}</Code>"
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
    else:
        xml = (
            f"<?xml version='1.0' encoding='UTF-8'?><ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return xml.encode(), "text/xml"


class AwsProxy:
    """Threaded HTTP proxy in front of ``upstream`` (a moto endpoint URL); a context manager."""

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0, upstream_timeout: float = 120.0):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.upstream_timeout = upstream_timeout
        self._host = host
        self._port = port
        self._lock = threading.Condition()
        self._calls: list[Call] = []
        self._rules: tuple[Rule, ...] = ()
        self._counts: dict[str, int] = {}
        self._randoms: dict[int, random.Random] = {}
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoint_url = ""

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> AwsProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # An answer goes out as two writes (headers, then body). On a kept-alive connection, Nagle's algorithm
            # held the body until the client's delayed ACK (up to 40 ms on Linux): a stall per call that neither AWS
            # nor moto has, which made the benchmark's runs slower in proportion to their calls.
            disable_nagle_algorithm = True

            def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
                pass

            def do_GET(self):  # noqa: N802
                proxy._handle(self)

            do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET  # noqa: N815

        server = ThreadingHTTPServer((self._host, self._port), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self.endpoint_url = f"http://{self._host}:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, name="aws-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release_holds()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AwsProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def front(self, local_aws):
        """A shallow copy of a tests/local_aws.py ``LocalAws`` whose endpoint_url is this proxy's.

        Its run_playbook(), env() and client() then go through the proxy; reset() and seed()
        too (moto-api paths are forwarded, never counted or faulted).  Never start/stop the copy.
        """
        view = copy.copy(local_aws)
        view.endpoint_url = self.endpoint_url
        return view

    # -- rules and records ------------------------------------------------------------
    def set_rules(self, *rules: Rule) -> None:
        """Replace the rules (none: pass everything through) and restart the per-action counts."""
        with self._lock:
            self._rules = tuple(rules)
            self._counts = {}
            self._randoms = {i: random.Random(r.seed) for i, r in enumerate(self._rules) if r.kind == "rate"}
            self._release = threading.Event()

    def release_holds(self) -> None:
        """End every current hold now (each held call then goes on as its rule says)."""
        with self._lock:
            self._release.set()

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls = []

    def wait_for(self, predicate, timeout: float = 60.0) -> list[Call]:
        """Block until ``predicate(calls)`` is true; returns the calls; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(list(self._calls)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"proxy: condition not met in {timeout}s")
                self._lock.wait(min(left, 0.5))
            return list(self._calls)

    def _update(self, call: Call, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(call, key, value)
            self._lock.notify_all()

    def _decide(self, call: Call) -> tuple[str | None, Rule | None]:
        """(fault kind or None, hold or error-after rule or None) for this call; counts it."""
        with self._lock:
            count = self._counts.get(call.operation, 0) + 1
            self._counts[call.operation] = count
            for rule in self._rules:
                if rule.kind != "rate" and rule.action == call.operation and rule.nth == count:
                    if rule.kind == "hold":
                        return None, rule
                    if rule.kind in ("error-after", "error"):
                        return rule.kind, rule
                    return rule.kind, None
            for index, rule in enumerate(self._rules):
                if rule.kind == "rate" and (rule.actions is None or call.operation in rule.actions):
                    rng = self._randoms[index]
                    if rng.random() < rule.probability:
                        return rng.choice(rule.kinds), None
            return None, None

    # -- one request ----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        service, action, params, identifiers = _parse(handler.headers, body)
        call = Call(
            time=time.time(),
            service=service,
            action=action,
            read=action.startswith(READ_PREFIXES),
            params=params,
            identifiers=identifiers,
        )
        internal = handler.path.startswith("/moto-api")
        call.operation = action or ("" if internal else rest_operation(service, handler.command, handler.path))
        if not internal:
            with self._lock:
                self._calls.append(call)
                self._lock.notify_all()
        kind, held_by = self._decide(call) if call.operation and not internal else (None, None)
        if not internal:
            delay = sum(rule.seconds for rule in self._rules if rule.kind == "round-trip")
            if delay:
                time.sleep(delay)

        errored_by = held_by if kind in ("error-after", "error") else None
        if errored_by is not None:
            held_by = None
        if kind == "error":
            self._update(call, fault=kind)
            json_protocol = bool(handler.headers.get("X-Amz-Target"))
            payload, content_type = _error_body(service, json_protocol, errored_by.code, errored_by.message)
            self._answer(handler, call, errored_by.status, [("Content-Type", content_type)], payload)
            return
        if held_by is not None:
            self._update(call, state="holding", extra={"hold_seconds": held_by.seconds})
            started = time.monotonic()
            self._release.wait(held_by.seconds)
            self._update(call, held=time.monotonic() - started)
            if held_by.then == "drop":
                kind = "drop"

        if kind is not None:
            self._update(call, fault=kind)
        if kind == "drop":
            self._update(call, state="dropped")
            handler.close_connection = True
            return
        if kind in _ERRORS:
            status, code, message = _ERRORS[kind]
            payload, content_type = _error_body(service, bool(handler.headers.get("X-Amz-Target")), code, message)
            self._answer(handler, call, status, [("Content-Type", content_type)], payload)
            return

        self._update(call, state="forwarding")
        try:
            status, headers, payload = self._forward(handler, body)
        except OSError:
            self._update(call, state="dropped")
            handler.close_connection = True
            return
        if kind == "drop-after":
            self._update(call, state="dropped")
            handler.close_connection = True
            return
        if kind == "error-after":
            json_protocol = bool(handler.headers.get("X-Amz-Target"))
            payload, content_type = _error_body(service, json_protocol, errored_by.code, "injected after forwarding")
            self._answer(handler, call, errored_by.status, [("Content-Type", content_type)], payload)
            return
        self._answer(handler, call, status, headers, payload)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes):
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=self.upstream_timeout)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            conn.request(handler.command, handler.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return response.status, kept, payload
        finally:
            conn.close()

    def _answer(self, handler, call: Call, status: int, headers, payload: bytes) -> None:
        try:
            handler.send_response(status)
            for key, value in headers:
                if key.lower() not in ("server", "date"):
                    handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(payload)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True
            self._update(call, state="dropped")
            return
        self._update(call, status=status, state="answered")
