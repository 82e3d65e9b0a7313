#!/usr/bin/env bash
# Local AWS API for the demo: a moto_server from the project venv on 127.0.0.1.
#
#   scripts/local-aws.sh start|stop|status|endpoint|restart
#
# Environment:
#   LOCAL_AWS_PORT     port to listen on (default 4566)
#   LOCAL_AWS_DIR      state directory (default <repo>/.local-aws): pid, endpoint, moto.log
#   LOCAL_AWS_TIMEOUT  seconds to wait for the server to answer (default 30)
#
# The server is moto's, started through scripts/moto_server_ext.py, which adds the few calls
# moto lacks (AWS Backup selections, RDS event subscription changes) and loads AWS managed
# IAM policies.
#
# start is idempotent: a server this script started that still answers is reused.
# It refuses to start when the port is held by anything else.  stop kills the
# process named in the pid file (only if it is a moto_server) and removes the state.
# The test suite does not use this script: it runs its own server on a free port.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${LOCAL_AWS_DIR:-$ROOT/.local-aws}"
PORT="${LOCAL_AWS_PORT:-4566}"
HOST=127.0.0.1
TIMEOUT="${LOCAL_AWS_TIMEOUT:-30}"
PY="$ROOT/.venv/bin/python"
MOTO_EXT="$ROOT/scripts/moto_server_ext.py"
PID_FILE="$STATE_DIR/pid"
ENDPOINT_FILE="$STATE_DIR/endpoint"
LOG_FILE="$STATE_DIR/moto.log"

die() {
    echo "local-aws: $*" >&2
    exit 1
}

need_venv() {
    [ -x "$PY" ] || die "python not found at $PY (run 'make venv' first)"
    "$PY" -c 'import moto.server' 2>/dev/null || die "moto not installed in $ROOT/.venv (run 'make venv' first)"
}

# Does the URL answer like a moto server?  GET /moto-api/config is cheap and
# moto-specific (/moto-api/data.json is neither: it serialises every resource and
# fails once RDS clusters exist).  Uses the venv python (no curl needed).
healthy() {
    "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import json
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1] + "/moto-api/config", timeout=5) as resp:
    ok = 200 <= resp.status < 300 and isinstance(json.load(resp), dict)
sys.exit(0 if ok else 1)
PYEOF
}

port_free() {
    "$PY" - "$HOST" "$1" <<'PYEOF' >/dev/null 2>&1
import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((sys.argv[1], int(sys.argv[2])))
PYEOF
}

# Pid from the pid file if that process is alive and is a moto_server.
our_pid() {
    [ -f "$PID_FILE" ] || return 1
    local pid
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q moto_server || return 1
    echo "$pid"
}

recorded_endpoint() {
    cat "$ENDPOINT_FILE" 2>/dev/null || true
}

clear_state() {
    rm -f "$PID_FILE" "$ENDPOINT_FILE"
}

cmd_start() {
    need_venv
    mkdir -p "$STATE_DIR"
    local wanted="http://$HOST:$PORT" pid endpoint
    if pid="$(our_pid)"; then
        endpoint="$(recorded_endpoint)"
        if [ "$endpoint" != "$wanted" ]; then
            die "already running at $endpoint (pid $pid), not $wanted; run '$0 stop' first"
        fi
        if healthy "$endpoint"; then
            echo "local-aws: already running at $endpoint (pid $pid)"
            return 0
        fi
        die "pid $pid from $PID_FILE is alive but $endpoint does not answer; see $LOG_FILE or run '$0 stop'"
    fi
    clear_state # stale pid file, if any

    if ! port_free "$PORT"; then
        die "port $PORT on $HOST is already in use by another process; stop it or choose another port (LOCAL_AWS_PORT=NNNN)"
    fi

    echo "local-aws: starting moto_server on $wanted (log: $LOG_FILE)"
    # setsid + nohup: the server outlives the calling shell (make, CI step).
    setsid nohup "$PY" "$MOTO_EXT" -H "$HOST" -p "$PORT" >>"$LOG_FILE" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"
    echo "$wanted" >"$ENDPOINT_FILE"

    local deadline=$((SECONDS + TIMEOUT))
    until healthy "$wanted"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            clear_state
            tail -n 20 "$LOG_FILE" >&2 || true
            die "moto_server exited during start-up (log above)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill "$pid" 2>/dev/null || true
            clear_state
            tail -n 20 "$LOG_FILE" >&2 || true
            die "moto_server did not answer on $wanted within ${TIMEOUT}s"
        fi
        sleep 0.3
    done
    echo "local-aws: running at $wanted (pid $pid)"
}

cmd_stop() {
    local pid
    if pid="$(our_pid)"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null || true
        fi
        echo "local-aws: stopped (pid $pid)"
    else
        echo "local-aws: not running"
    fi
    clear_state
}

cmd_status() {
    local pid endpoint
    if pid="$(our_pid)"; then
        endpoint="$(recorded_endpoint)"
        if [ -x "$PY" ] && healthy "$endpoint"; then
            echo "local-aws: running at $endpoint (pid $pid)"
            return 0
        fi
        echo "local-aws: pid $pid alive but $endpoint does not answer"
        return 1
    fi
    echo "local-aws: not running"
    return 3
}

cmd_endpoint() {
    our_pid >/dev/null || die "not running (start it with 'make local-aws-start')"
    recorded_endpoint
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
restart)
    cmd_stop
    cmd_start
    ;;
status) cmd_status ;;
endpoint) cmd_endpoint ;;
*)
    echo "usage: $0 start|stop|restart|status|endpoint" >&2
    exit 2
    ;;
esac
