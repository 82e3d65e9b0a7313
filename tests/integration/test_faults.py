"""Provision dev through tests/aws_proxy.py while it injects AWS faults.

Runs from an empty account: (1) throttling, HTTP 500, HTTP 503 and a dropped connection on
the first call of each create, which botocore must retry; (2) a create takes effect but its
answer is lost (``drop-after``), so the retry meets its own result: one run loses the answers
of the subnet group's, the cluster's, the writer's and the ingress rule's creates, one the
security group's, one the parameter group's (the run uses the group its retried create finds and
still applies the planned rules or parameters to it); (3) one call in five, of any action,
fails with any of those kinds.  Each must end in the same stack as a fault-free run, with no
duplicate and nothing orphaned, and a re-run without faults must change nothing.
"""

from __future__ import annotations

import pytest

from aws_proxy import AwsProxy, fault, rate
from dev_stack_checks import PROVISION, assert_dev_stack, assert_rerun_changes_nothing, fatal_lines, tail

RETRIED_FAULTS = {
    "CreateSecurityGroup": "drop",
    "AuthorizeSecurityGroupIngress": "throttle",
    "CreateDBSubnetGroup": "500",
    "CreateDBClusterParameterGroup": "503",
    "CreateDBCluster": "throttle",
    "CreateDBInstance": "500",
}
CREATES = tuple(RETRIED_FAULTS)


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        yield running


def provision_with(proxy, local_aws, *rules):
    zone = local_aws.reset_and_seed(("dev",))["dev"]
    proxy.set_rules(*rules)
    proxy.clear_calls()
    result = proxy.front(local_aws).run_playbook(*PROVISION)
    proxy.set_rules()
    return zone, result


def test_each_create_is_retried_after_throttling_5xx_and_dropped_connections(proxy, local_aws):
    rules = [fault(kind, action=action, nth=1) for action, kind in RETRIED_FAULTS.items()]
    zone, result = provision_with(proxy, local_aws, *rules)
    assert result.returncode == 0, fatal_lines(result) or tail(result)
    for action, kind in RETRIED_FAULTS.items():
        attempts = [c for c in proxy.calls if c.action == action]
        assert [c.fault for c in attempts[:2]] == [kind, None], (action, [(c.fault, c.status) for c in attempts])
        assert attempts[1].status == 200, (action, attempts[1])
    assert_dev_stack(local_aws, zone)
    assert_rerun_changes_nothing(local_aws)


# aurora_stack's Apply.create returns None when a failed create finds its resource made "meanwhile" (by another
# run, or by this run's own request whose answer was lost), and the group's create handler then returns at once.
LOST_ANSWERS = [
    pytest.param(
        ("CreateDBSubnetGroup", "CreateDBCluster", "CreateDBInstance", "AuthorizeSecurityGroupIngress"),
        id="subnet-group-cluster-writer-and-ingress-rule",
    ),
    pytest.param(
        ("CreateSecurityGroup",),
        id="security-group",
    ),
    pytest.param(
        ("CreateDBClusterParameterGroup",),
        id="parameter-group",
    ),
]


@pytest.mark.parametrize("lost", LOST_ANSWERS)
def test_a_create_whose_answer_is_lost_converges_without_a_duplicate(proxy, local_aws, lost):
    zone, result = provision_with(proxy, local_aws, *(fault("drop-after", action=a, nth=1) for a in lost))
    assert result.returncode == 0, fatal_lines(result) or tail(result)
    # The stack as a fault-free run leaves it: one of each, each configured (rules, parameters).
    assert_dev_stack(local_aws, zone)
    for action in lost:
        attempts = [c for c in proxy.calls if c.action == action]
        # The first request took effect without an answer; what follows found it already there.
        assert attempts and attempts[0].fault == "drop-after" and attempts[0].status is None, (action, attempts)
        assert len(attempts) >= 2, (action, attempts)
    assert_rerun_changes_nothing(local_aws)


def test_provision_converges_when_one_call_in_five_fails(proxy, local_aws):
    zone, result = provision_with(proxy, local_aws, rate(0.2, seed=20260))
    faulted = [(c.action, c.fault) for c in proxy.calls if c.fault]
    kinds = {kind for _action, kind in faulted}
    assert len(faulted) >= 5 and len(kinds) >= 3, faulted
    assert result.returncode == 0, (faulted, fatal_lines(result) or tail(result))
    assert_dev_stack(local_aws, zone)
    assert_rerun_changes_nothing(local_aws)
