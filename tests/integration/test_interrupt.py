"""A provision killed mid-run, then run again, converges with no duplicate and no orphan.

The run goes through tests/aws_proxy.py, which holds one named AWS call; while it is held the
whole ansible-playbook process group is killed (SIGKILL: no handler, no cleanup).  The held
request is then either forwarded, so AWS acts on a request whose client is gone, or dropped,
so AWS never sees it.  A second, undisturbed run must leave the stack a clean run leaves.
"""

from __future__ import annotations

import os
import signal

import pytest

from aws_proxy import AwsProxy, hold
from dev_stack_checks import PROVISION, assert_dev_stack, assert_rerun_changes_nothing, fatal_lines, tail
from local_aws import start_playbook

# One kill point per kind of partial state: a resource made without what completes it (dropped), a
# create AWS acts on after its client is gone (forwarded), and a cluster left without its writer.
KILL_POINTS = [
    # (held action, what happens to it after the kill)
    pytest.param("AuthorizeSecurityGroupIngress", "drop", id="security-group-created-without-its-rule"),
    pytest.param("CreateDBCluster", "forward", id="cluster-created-after-the-kill"),
    pytest.param("CreateDBInstance", "drop", id="cluster-without-its-writer"),
]


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        yield running


def held(action):
    return lambda calls: any(c.action == action and c.state == "holding" for c in calls)


def settled(action):
    return lambda calls: all(c.state in ("answered", "dropped") for c in calls if c.action == action)


@pytest.mark.parametrize(("action", "after_kill"), KILL_POINTS)
def test_a_run_killed_mid_call_converges_when_run_again(action, after_kill, proxy, local_aws):
    zone = local_aws.reset_and_seed(("dev",))["dev"]
    proxy.set_rules(hold(action, nth=1, seconds=300, then="drop" if after_kill == "drop" else None))
    proxy.clear_calls()
    run = start_playbook(*PROVISION, proxy.front(local_aws))
    try:
        proxy.wait_for(held(action), timeout=300)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.communicate(timeout=60)
    proxy.release_holds()
    calls = proxy.wait_for(settled(action), timeout=60)
    proxy.set_rules()
    first = next(c for c in calls if c.action == action)
    # "drop": AWS never saw the request; "forward": AWS acted on it after its client was gone.
    assert (first.fault == "drop") == (after_kill == "drop"), first

    resumed = local_aws.run_playbook(*PROVISION)
    assert resumed.returncode == 0, fatal_lines(resumed) or tail(resumed)
    assert_dev_stack(local_aws, zone)
    assert_rerun_changes_nothing(local_aws)
