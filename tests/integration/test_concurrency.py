"""Two provision runs against the same stack at once never create a duplicate.

Both runs go through tests/aws_proxy.py, which holds the first request of each create for a
few seconds, so the other run's create of the same resource overtakes it and the held one
arrives second, at a resource that now exists.  Whichever run loses each race must converge
on what the winner made (or fail with a message that says what happened); either way the
account ends with one of each resource, and a later run changes nothing.

The loser's side is also tested alone: each create takes effect but is answered as AWS answers
the loser.  The loser of the security group's or the parameter group's race uses the group it
finds and still applies its planned rules or parameters to it.
"""

from __future__ import annotations

import pytest

from aws_proxy import AwsProxy, error_after, hold
from dev_stack_checks import HOST, PROVISION, assert_dev_stack, assert_rerun_changes_nothing, fatal_lines
from local_aws import finish_playbook, start_playbook

CREATES = (
    "CreateSecurityGroup",
    "CreateDBSubnetGroup",
    "CreateDBClusterParameterGroup",
    "CreateDBCluster",
    "CreateDBInstance",
)
OVERTAKE_SECONDS = 6


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        yield running


def test_two_runs_at_once_make_one_stack(proxy, local_aws):
    zone = local_aws.reset_and_seed(("dev",))["dev"]
    proxy.set_rules(*(hold(action, nth=1, seconds=OVERTAKE_SECONDS) for action in CREATES))
    proxy.clear_calls()
    front = proxy.front(local_aws)
    runs = [start_playbook(*PROVISION, front) for _run in range(2)]
    results = [finish_playbook(run) for run in runs]
    proxy.set_rules()

    collided = [a for a in CREATES if len([c for c in proxy.calls if c.action == a and c.status]) >= 2]
    assert collided, "the two runs never raced for the same resource"
    for result in results:
        # A loser that fails must say why in a message, not a traceback.
        assert result.returncode == 0 or fatal_lines(result), result.stdout[-4000:]
        assert "Traceback" not in result.stdout, result.stdout[-4000:]
    assert any(r.returncode == 0 for r in results), [fatal_lines(r) for r in results]
    assert all(r.recap.get(HOST) for r in results), "a run did not reach its recap"

    assert_dev_stack(local_aws, zone)
    assert_rerun_changes_nothing(local_aws)


# aurora_stack's Apply.create returns None when a refused create finds its resource made by another run, and the
# group's create handler then returns at once, taking the group as the winner made it at that moment.
REFUSALS = {
    "CreateSecurityGroup": "InvalidGroup.Duplicate",
    "CreateDBSubnetGroup": "DBSubnetGroupAlreadyExists",
    "CreateDBClusterParameterGroup": "DBParameterGroupAlreadyExists",
    "CreateDBCluster": "DBClusterAlreadyExistsFault",
    "CreateDBInstance": "DBInstanceAlreadyExists",
}


@pytest.mark.parametrize(
    "refused_creates",
    [
        pytest.param(("CreateDBSubnetGroup", "CreateDBCluster", "CreateDBInstance"), id="subnet-group-cluster-writer"),
        pytest.param(
            ("CreateSecurityGroup",),
            id="security-group",
        ),
        pytest.param(
            ("CreateDBClusterParameterGroup",),
            id="parameter-group",
            # dev_stack_checks reads rds.force_ssl from the group's parameters: a KeyError when it is unset.
        ),
    ],
)
def test_the_loser_of_a_race_converges_on_what_the_winner_made(proxy, local_aws, refused_creates):
    """Each create takes effect, but is answered as AWS answers the second of two runs.

    moto accepts some duplicate creates that AWS refuses (a DB subnet group, for one), so
    the proxy forwards each create and then answers with AWS's AlreadyExists error.
    """
    zone = local_aws.reset_and_seed(("dev",))["dev"]
    proxy.set_rules(*(error_after(action, REFUSALS[action]) for action in refused_creates))
    proxy.clear_calls()
    result = proxy.front(local_aws).run_playbook(*PROVISION)
    proxy.set_rules()
    refused = sorted({c.action for c in proxy.calls if c.fault == "error-after"})
    assert refused == sorted(refused_creates), refused
    assert result.returncode == 0, fatal_lines(result) or result.stdout[-4000:]
    # The winner's resource is taken, not made again: one create of each.
    for action in refused_creates:
        assert len([c for c in proxy.calls if c.action == action]) == 1, action
    assert_dev_stack(local_aws, zone)
    assert_rerun_changes_nothing(local_aws)
