# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the progress callback prints about the collection's waits, decided apart from Ansible.

A waiting module appends one event per poll (plugins/module_utils/waiting.py ``progress_event``); the callback
feeds them here as they arrive and calls ``tick`` every second.  Both return the lines to print:

- nothing for a wait that ends within ``quiet_for`` seconds (on AWS, most of a no-op's waits);
- a status line once a wait has lasted ``quiet_for`` seconds, again whenever a resource becomes ready or its
  state changes, and at least every ``interval`` seconds while nothing changes (between two polls the line says
  how long ago the states were read);
- when it ends, a line with how long it took and how long each resource took; on a timeout, what was not ready.
"""

from __future__ import annotations

import json
import time

DEFAULT_INTERVAL = 30.0
DEFAULT_QUIET_FOR = 5.0


def duration(seconds):
    """45s, 2m05s, 1h02m03s: whole seconds, never rounded up past what was measured."""
    total = int(max(0.0, float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class _Wait:
    def __init__(self, event, now):
        self.event = event
        self.heard = now
        self.printed = None  # when the last line about this wait was printed (the presenter's clock)
        self.shown_states = None

    def elapsed(self, now):
        # Between polls the wait goes on: the module's elapsed at the last poll plus the time since it came.
        return self.event["elapsed"] + max(0.0, now - self.heard)

    def states(self):
        return tuple((r["name"], r["state"], r["ready"]) for r in self.event["resources"])


class Presenter:
    def __init__(self, interval=DEFAULT_INTERVAL, quiet_for=DEFAULT_QUIET_FOR, clock=time.monotonic):
        self.interval = float(interval)
        self.quiet_for = float(quiet_for)
        self.clock = clock
        self.waits = {}

    def feed(self, event):
        now = self.clock()
        wait = self.waits.get(event["wait"])
        if wait is None:
            wait = self.waits[event["wait"]] = _Wait(event, now)
        else:
            wait.event, wait.heard = event, now
        kind = event["event"]
        if kind == "done":
            del self.waits[event["wait"]]
            return [finished_line(event)] if wait.printed is not None or event["elapsed"] >= self.quiet_for else []
        if kind == "timeout":
            del self.waits[event["wait"]]
            return [timed_out_line(event)]
        if event["elapsed"] < self.quiet_for:
            return []
        if wait.printed is None or wait.states() != wait.shown_states or now - wait.printed >= self.interval:
            return [self._status(wait, now, stale=0.0)]
        return []

    def tick(self):
        now = self.clock()
        lines = []
        for wait in self.waits.values():
            due = wait.printed is None and wait.elapsed(now) >= self.quiet_for
            due = due or (wait.printed is not None and now - wait.printed >= self.interval)
            if due:
                lines.append(self._status(wait, now, stale=now - wait.heard))
        return lines

    def _status(self, wait, now, stale):
        wait.printed = now
        wait.shown_states = wait.states()
        return status_line(wait.event, wait.elapsed(now), stale)


def _ready_words(resources):
    return ", ".join(
        f"{r['name']} ({duration(r['took'])})" if r.get("took") is not None else r["name"] for r in resources
    )


def _waiting_words(resources):
    return ", ".join(f"{r['name']} ({r['state']})" for r in resources)


def status_line(event, elapsed, stale=0.0):
    ready = [r for r in event["resources"] if r["ready"]]
    waiting = [r for r in event["resources"] if not r["ready"]]
    parts = [
        f"Waiting for {event['what']} to be {event['wanted']}: {duration(elapsed)} of {duration(event['timeout'])}"
    ]
    if waiting:
        parts.append(f"not yet: {_waiting_words(waiting)}")
    if ready:
        parts.append(f"ready: {_ready_words(ready)}")
    line = "; ".join(parts)
    if stale >= 1.0:
        line += f" (states as read {duration(stale)} ago)"
    return line


def finished_line(event):
    line = (
        f"{event['what']}: {event['wanted']} after {duration(event['elapsed'])} (timeout {duration(event['timeout'])})"
    )
    timed = [r for r in event["resources"] if r.get("took") is not None]
    if len(event["resources"]) > 1 and timed:
        line += f"; each took: {_ready_words(timed)}"
    return line


def timed_out_line(event):
    waiting = [r for r in event["resources"] if not r["ready"]]
    ready = [r for r in event["resources"] if r["ready"]]
    line = (
        f"Gave up waiting for {event['what']} to be {event['wanted']} after {duration(event['elapsed'])} "
        f"(timeout {duration(event['timeout'])}); not {event['wanted']}: {_waiting_words(waiting) or 'none'}"
    )
    if ready:
        line += f"; ready: {_ready_words(ready)}"
    return line


def read_events(path, offset, partial):
    """The events appended to ``path`` since ``offset``: (events, new offset, an unfinished last line)."""
    try:
        with open(path, encoding="utf-8") as log:
            log.seek(offset)
            text = log.read()
            offset = log.tell()
    except OSError:
        # No module has waited yet: the file does not exist.
        return [], offset, partial
    lines = (partial + text).split("\n")
    events = []
    for line in lines[:-1]:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and {"wait", "event", "elapsed", "resources"} <= set(event):
            events.append(event)
    return events, offset, lines[-1]
