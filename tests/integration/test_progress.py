"""Long waits you can watch: provision's own output while AWS is busy, read from a local AWS that takes its time.

The local AWS here keeps a new instance ``creating`` for 12 s and a class change ``modifying`` for 12 s
(bench/moto_latency.py); the playbook runs as the README shows it, with no setting for the progress: the
collection's callback beside the playbooks turns itself on.
"""

from __future__ import annotations

import re

import pytest

from local_aws import LatencyAws

pytestmark = pytest.mark.integration

STATUS = re.compile(
    r"^Waiting for (?P<what>.+) to be (?P<wanted>.+): (?P<elapsed>\d+s|\d+m\d\ds) of (?P<timeout>1h00m00s); "
    r"not yet: (?P<waiting>.+?)(?:; ready: (?P<ready>.+?))?(?: \(states as read \d+s ago\))?$",
    re.MULTILINE,
)
FINISHED = re.compile(
    r"^(?P<what>.+): (?P<wanted>.+) after (?P<elapsed>\d+s) \(timeout 1h00m00s\)(?P<each>.*)$", re.MULTILINE
)


def seconds(words):
    minutes, _sep, rest = words.rpartition("m")
    return int(minutes or 0) * 60 + int(rest.rstrip("s"))


@pytest.fixture(scope="module")
def slow_aws():
    server = LatencyAws({"cluster_create": 3, "instance_create": 12, "instance_class_change": 12})
    server.start()
    try:
        server.seed(("dev",))
        yield server
    finally:
        server.stop()


def test_a_create_prints_what_is_ready_the_elapsed_time_and_the_timeout_while_it_waits(slow_aws):
    created = slow_aws.run_playbook("playbooks/provision.yml", "inventories/dev")
    assert created.ok, created
    statuses = list(STATUS.finditer(created.stdout))
    assert statuses, created.stdout
    first = statuses[0]
    assert first["what"] == "cluster vitality-dev-aurora and its instances" and first["wanted"] == "available"
    assert "vitality-dev-aurora-writer (creating)" in first["waiting"]
    # The line comes once the wait has lasted 5 s (the default quiet_for), well before the 12 s create ends.
    assert 5 <= seconds(first["elapsed"]) < 12
    finished = [m for m in FINISHED.finditer(created.stdout) if m["what"] == first["what"]]
    assert len(finished) == 1, created.stdout
    assert seconds(finished[0]["elapsed"]) >= 12
    # How long each resource took, the writer's at least its 12 s create.
    took = dict(re.findall(r"(\S+) \((\d+s)\)", finished[0]["each"]))
    assert set(took) == {"vitality-dev-aurora", "vitality-dev-aurora-writer"}, finished[0]["each"]
    assert seconds(took["vitality-dev-aurora-writer"]) >= 12
    # The progress lines are printed while the task runs: before its result.
    # Every step of a new dev stack is aurora_stack's own: the planning task carries them out (mode converge).
    task = created.stdout.split("TASK [vitality.aurora.aurora_cluster : Plan and converge the stack]", 1)[1]
    assert task.index(first.group(0)) < task.index("changed: [vitality-dev]")

    again = slow_aws.run_playbook("playbooks/provision.yml", "inventories/dev")
    assert again.ok and again.changed() == 0, again
    assert not STATUS.search(again.stdout) and not FINISHED.search(again.stdout)


def test_a_class_change_of_the_writer_prints_its_state_while_it_is_modified(slow_aws):
    changed = slow_aws.run_playbook(
        "playbooks/provision.yml",
        "inventories/dev",
        extra_vars={"aurora_cluster_instance_class": "db.r6g.xlarge", "aurora_cluster_apply_immediately": True},
    )
    assert changed.ok, changed
    status = STATUS.search(changed.stdout)
    assert status is not None, changed.stdout
    assert status["what"] == "instance vitality-dev-aurora-writer"
    assert status["waiting"] == "instance vitality-dev-aurora-writer (modifying)"
    finished = FINISHED.search(changed.stdout)
    assert finished is not None and finished["what"] == status["what"] and seconds(finished["elapsed"]) >= 12
