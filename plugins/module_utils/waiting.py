# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for AWS resources to settle, with bounded backoff and honest timeouts."""

from __future__ import annotations

import itertools
import json
import os
import time

FIRST_DELAY = 1.0
MAX_DELAY = 20.0
# Bounds of wait_max_poll_interval: polls closer than 0.1 s only spend calls; over 5 minutes hides a finish.
POLL_INTERVAL_RANGE = (0.1, 300.0)
# The argument spec of the option every waiting module takes (documented in doc_fragments/waiting.py).
WAIT_MAX_POLL_INTERVAL_OPTION = dict(type="float", default=MAX_DELAY)


class WaitTimeout(Exception):
    def __init__(self, what, wanted, last_state, waited):
        self.what = what
        self.wanted = wanted
        self.last_state = last_state
        self.waited = waited
        super().__init__(
            f"Timed out after {waited:.0f}s waiting for {what} to be {wanted}; its last state was {last_state!r}"
        )


def delays(first=FIRST_DELAY, maximum=MAX_DELAY):
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, maximum)


# The collection's callback plugin (plugins/callback/aurora_progress.py) names a file here for the run; a module
# that finds it appends one line per poll of every wait, which the callback prints while the task is still running.
PROGRESS_ENV = "VITALITY_AURORA_PROGRESS_FILE"
_WAIT_NUMBERS = itertools.count(1)


class ProgressLog:
    """The events of a module's waits, one JSON object per line, appended to the callback's file."""

    def __init__(self, path):
        self.path = path

    @classmethod
    def from_environment(cls, environ=None):
        path = (os.environ if environ is None else environ).get(PROGRESS_ENV)
        return cls(path) if path else None

    def write(self, event):
        # One write of one line per event: lines of several modules appending at once stay whole.
        line = json.dumps(event, sort_keys=True) + "\n"
        try:
            with open(self.path, "a", encoding="utf-8") as log:
                log.write(line)
        except OSError:
            # Progress is a courtesy to the reader: a file that cannot be written never fails the wait.
            pass


def wait_for(
    read_state,
    is_done,
    what,
    wanted,
    timeout,
    max_delay=MAX_DELAY,
    clock=time.monotonic,
    sleep=time.sleep,
    describe=None,
    progress=None,
):
    """Poll ``read_state()`` until ``is_done(state)``; return the final state.

    ``read_state`` returns whatever describes the resource (``None`` when it
    does not exist); ``state_label`` of that is reported on timeout.  Polls start
    FIRST_DELAY apart and double up to ``max_delay`` seconds (never below it at first).

    With a ``progress`` log, every poll is written to it: the elapsed time, the timeout and, per resource, its
    state, whether it is ready and when it was first seen ready.  ``describe(state)`` names the resources a
    state covers as ``(name, state label, ready)`` tuples; without it the state is one resource named ``what``.
    """
    started = clock()
    wait_id = f"{os.getpid()}-{next(_WAIT_NUMBERS)}"
    ready_at = {}
    for delay in delays(first=min(FIRST_DELAY, max_delay), maximum=max_delay):
        state = read_state()
        done = is_done(state)
        waited = clock() - started
        if progress is not None:
            resources = describe(state) if describe else [(what, state_label(state), done)]
            progress.write(
                progress_event(wait_id, what, wanted, timeout, waited, done, resources, ready_at),
            )
        if done:
            return state
        if waited >= timeout:
            raise WaitTimeout(what, wanted, state_label(state), waited)
        # The last poll falls on the deadline: never give up before the timeout, never sleep past it.
        sleep(min(delay, timeout - waited))
    return None  # pragma: no cover - delays() never ends


def progress_event(wait_id, what, wanted, timeout, waited, done, resources, ready_at):
    """One poll of a wait, as the callback reads it.  ``ready_at`` (name -> seconds) is kept across the polls."""
    listed = []
    for name, label, ready in resources:
        if ready:
            ready_at.setdefault(name, waited)
        listed.append({"name": name, "state": label, "ready": bool(ready), "took": _rounded(ready_at.get(name))})
    return {
        "wait": wait_id,
        "what": what,
        "wanted": wanted,
        "timeout": _rounded(timeout),
        "elapsed": _rounded(waited),
        "event": "done" if done else "timeout" if waited >= timeout else "poll",
        "resources": listed,
    }


def _rounded(seconds):
    return None if seconds is None else round(float(seconds), 1)


def state_label(state):
    if state is None:
        return "absent"
    if isinstance(state, dict):
        for key in ("Status", "DBInstanceStatus", "status"):
            if key in state:
                return state[key]
    return str(state)


def poll_interval_error(option, value):
    low, high = POLL_INTERVAL_RANGE
    if value is not None and not low <= float(value) <= high:
        return f"{option}={value} is out of range: {low:g} to {high:g} seconds"
    return None


def check_wait_options(module):
    """Fail the module, before any AWS call, when wait_max_poll_interval breaks its rule."""
    error = poll_interval_error("wait_max_poll_interval", module.params.get("wait_max_poll_interval"))
    if error:
        module.fail_json(msg=error)


def wait_or_fail(module, read_state, is_done, what, wanted, timeout_message=None, describe=None):
    """wait_for with the module's wait_timeout and wait_max_poll_interval; a timeout fails the module.

    ``timeout_message(error)`` may say more than the WaitTimeout does (what is still not ready); ``describe`` is
    wait_for's (what the progress lines say of each poll).
    """
    try:
        return wait_for(
            read_state,
            is_done,
            what=what,
            wanted=wanted,
            timeout=module.params["wait_timeout"],
            max_delay=module.params["wait_max_poll_interval"],
            describe=describe,
            progress=ProgressLog.from_environment(),
        )
    except WaitTimeout as e:
        module.fail_json(msg=timeout_message(e) if timeout_message else str(e))
