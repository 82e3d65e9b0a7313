"""Progress of long waits: the events a waiting module writes, and the lines the callback prints of them."""

import json
import os

import pytest

from ansible_collections.vitality.aurora.plugins.callback.aurora_progress import CallbackModule
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    PROGRESS_ENV,
    ProgressLog,
    WaitTimeout,
    wait_for,
)
from ansible_collections.vitality.aurora.plugins.plugin_utils.progress import Presenter, duration, read_events


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def events_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- what a waiting module writes ------------------------------------------------------------------


def test_every_poll_is_written_with_elapsed_time_timeout_and_states(tmp_path):
    log = tmp_path / "waits.jsonl"
    states = iter(["creating", "creating", "backing-up", "available"])
    fake = FakeClock()
    wait_for(
        lambda: {"Status": next(states)},
        lambda s: s["Status"] == "available",
        "cluster c",
        "available",
        600,
        clock=fake.clock,
        sleep=fake.sleep,
        progress=ProgressLog(str(log)),
    )
    events = events_of(log)
    assert [(e["event"], e["elapsed"]) for e in events] == [("poll", 0.0), ("poll", 1.0), ("poll", 3.0), ("done", 7.0)]
    assert [e["resources"][0]["state"] for e in events] == ["creating", "creating", "backing-up", "available"]
    assert events[-1]["resources"] == [{"name": "cluster c", "state": "available", "ready": True, "took": 7.0}]
    assert {e["timeout"] for e in events} == {600.0} and len({e["wait"] for e in events}) == 1


def test_each_resource_keeps_the_time_it_was_first_seen_ready(tmp_path):
    log = tmp_path / "waits.jsonl"
    polls = iter(
        [
            {"cluster": "creating", "w": "creating", "r": "creating"},
            {"cluster": "available", "w": "creating", "r": "creating"},
            {"cluster": "available", "w": "available", "r": "creating"},
            {"cluster": "backing-up", "w": "available", "r": "available"},
            {"cluster": "available", "w": "available", "r": "available"},
        ]
    )
    fake = FakeClock()
    wait_for(
        lambda: next(polls),
        lambda s: all(v == "available" for v in s.values()),
        "cluster c and its instances",
        "available",
        600,
        clock=fake.clock,
        sleep=fake.sleep,
        describe=lambda s: [(name, state, state == "available") for name, state in s.items()],
        progress=ProgressLog(str(log)),
    )
    last = events_of(log)[-1]
    # Polls at 0, 1, 3, 7 and 15 s; a resource's time is its first ready poll, even if it was busy again later.
    assert {r["name"]: r["took"] for r in last["resources"]} == {"cluster": 1.0, "w": 3.0, "r": 7.0}


def test_a_timeout_is_written_as_such_with_what_was_not_ready(tmp_path):
    log = tmp_path / "waits.jsonl"
    fake = FakeClock()
    with pytest.raises(WaitTimeout):
        wait_for(
            lambda: {"DBInstanceStatus": "modifying"},
            lambda s: False,
            "instance w",
            "available",
            10,
            clock=fake.clock,
            sleep=fake.sleep,
            progress=ProgressLog(str(log)),
        )
    last = events_of(log)[-1]
    assert last["event"] == "timeout" and last["elapsed"] == 10.0
    assert last["resources"] == [{"name": "instance w", "state": "modifying", "ready": False, "took": None}]


def test_a_file_that_cannot_be_written_never_fails_the_wait(tmp_path):
    fake = FakeClock()
    state = wait_for(
        lambda: "ok",
        lambda s: s == "ok",
        "x",
        "ok",
        5,
        clock=fake.clock,
        sleep=fake.sleep,
        progress=ProgressLog(str(tmp_path / "missing" / "dir" / "waits.jsonl")),
    )
    assert state == "ok"


def test_the_log_is_named_by_the_environment_only():
    assert ProgressLog.from_environment({}) is None
    assert ProgressLog.from_environment({PROGRESS_ENV: "/tmp/x.jsonl"}).path == "/tmp/x.jsonl"


# -- what the callback prints ----------------------------------------------------------------------


def event(elapsed, kind="poll", wait="1-1", timeout=3600, **states):
    return {
        "wait": wait,
        "what": "cluster c and its instances",
        "wanted": "available",
        "timeout": timeout,
        "elapsed": elapsed,
        "event": kind,
        "resources": [
            {"name": name, "state": state, "ready": state == "available", "took": took}
            for name, (state, took) in states.items()
        ],
    }


def test_a_short_wait_prints_nothing():
    fake = FakeClock()
    shown = Presenter(clock=fake.clock)
    assert shown.feed(event(0, w=("creating", None))) == []
    fake.sleep(1)
    assert shown.feed(event(1, w=("creating", None))) == []
    fake.sleep(3)
    assert shown.tick() == []
    assert shown.feed(event(4, "done", w=("available", 4))) == []


def test_a_long_wait_prints_states_elapsed_and_timeout_then_how_long_each_took():
    fake = FakeClock()
    shown = Presenter(interval=30, quiet_for=5, clock=fake.clock)
    printed = []

    def at(seconds, *events):
        while fake.now < seconds:
            fake.sleep(1)
            printed.extend(shown.tick())
        for e in events:
            printed.extend(shown.feed(e))

    at(0, event(0, cluster=("creating", None), w=("creating", None)))
    # The poll at 3 s is quiet; the line comes when the wait has lasted 5 s, from the states read 2 s before.
    at(3, event(3, cluster=("creating", None), w=("creating", None)))
    at(7, event(7, cluster=("available", 7), w=("creating", None)))
    at(15, event(15, cluster=("available", 7), w=("creating", None)))
    at(91)
    printed.extend(shown.feed(event(91, "done", cluster=("available", 7), w=("available", 90))))
    assert printed == [
        "Waiting for cluster c and its instances to be available: 5s of 1h00m00s; "
        "not yet: cluster (creating), w (creating) (states as read 2s ago)",
        # a resource became ready: printed at once
        "Waiting for cluster c and its instances to be available: 7s of 1h00m00s; "
        "not yet: w (creating); ready: cluster (7s)",
        # nothing changed for 30 s: the line again, with the time since the last read
        "Waiting for cluster c and its instances to be available: 37s of 1h00m00s; "
        "not yet: w (creating); ready: cluster (7s) (states as read 22s ago)",
        "Waiting for cluster c and its instances to be available: 1m07s of 1h00m00s; "
        "not yet: w (creating); ready: cluster (7s) (states as read 52s ago)",
        "cluster c and its instances: available after 1m31s (timeout 1h00m00s); each took: cluster (7s), w (1m30s)",
    ]


def test_no_thirty_seconds_pass_without_a_line_while_a_wait_goes_on():
    fake = FakeClock()
    shown = Presenter(clock=fake.clock)
    printed_at = []
    shown.feed(event(0, w=("creating", None)))
    for second in range(1, 600):
        fake.sleep(1)
        if second % 20 == 0:  # the module's polls, 20 s apart
            if shown.feed(event(second, w=("creating", None))):
                printed_at.append(second)
        if shown.tick():
            printed_at.append(second)
    gaps = [b - a for a, b in zip(printed_at, printed_at[1:], strict=False)]
    assert printed_at[0] == 5 and max(gaps) <= 30


def test_a_timeout_says_what_was_not_ready_even_when_nothing_was_printed_before():
    shown = Presenter(clock=FakeClock().clock)
    lines = shown.feed(event(3, "timeout", timeout=3, cluster=("available", 1), w=("modifying", None)))
    assert lines == [
        "Gave up waiting for cluster c and its instances to be available after 3s (timeout 3s); "
        "not available: w (modifying); ready: cluster (1s)"
    ]


def test_waits_of_two_modules_are_told_apart():
    fake = FakeClock()
    shown = Presenter(clock=fake.clock)
    shown.feed(event(6, wait="1-1", w=("creating", None)))
    lines = shown.feed(event(6, wait="2-1", r=("rebooting", None)))
    assert len(lines) == 1 and "r (rebooting)" in lines[0]
    assert shown.feed(event(7, "done", wait="1-1", w=("available", 7))) != []
    assert list(shown.waits) == ["2-1"]


@pytest.mark.parametrize(
    ("seconds", "words"), [(0, "0s"), (59.9, "59s"), (60, "1m00s"), (125, "2m05s"), (3723, "1h02m03s")]
)
def test_durations_read_as_a_person_says_them(seconds, words):
    assert duration(seconds) == words


def test_events_are_read_whole_lines_at_a_time(tmp_path):
    path = tmp_path / "waits.jsonl"
    assert read_events(str(path), 0, "") == ([], 0, "")
    first = json.dumps(event(1, w=("creating", None)))
    path.write_text(first + "\nnot json\n" + first[:10])
    events, offset, partial = read_events(str(path), 0, "")
    assert len(events) == 1 and partial == first[:10]
    with open(path, "a", encoding="utf-8") as log:
        log.write(first[10:] + "\n")
    events, _offset, partial = read_events(str(path), offset, partial)
    assert len(events) == 1 and partial == ""


# -- the callback: the file it names reaches the modules, and what they write is printed -------------


class RecordingDisplay:
    verbosity = 0

    def __init__(self):
        self.lines = []

    def display(self, msg, *args, **kwargs):
        self.lines.append(msg)


def test_the_callback_names_the_file_prints_its_events_and_cleans_up(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    display = RecordingDisplay()
    callback = CallbackModule(display=display)
    monkeypatch.setattr(callback, "get_option", {"interval": 30.0, "quiet_for": 5.0}.get)
    callback.v2_playbook_on_start(None)
    try:
        # What a module started by this process would do: find the file in its environment and write to it.
        log = ProgressLog.from_environment()
        assert log is not None and os.path.dirname(log.path) == callback._directory
        log.write(event(8, w=("creating", None)))
        log.write(event(12, "done", w=("available", 12)))
        callback.v2_runner_on_ok(None)
    finally:
        callback.v2_playbook_on_stats(None)
    assert display.lines == [
        "Waiting for cluster c and its instances to be available: 8s of 1h00m00s; not yet: w (creating)",
        "cluster c and its instances: available after 12s (timeout 1h00m00s)",
    ]
    assert PROGRESS_ENV not in os.environ and not os.path.exists(callback._directory)
