#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_global_cluster_failover
short_description: Make a given cluster the writer of an Aurora global database, by switchover, failover or detach
version_added: 0.2.0
description:
  - Ensures the cluster O(target_db_cluster_identifier), in the Region the module runs in (O(region)), is the writer
    of the Aurora global database O(global_cluster_identifier). When it already is, nothing is called
    (C(changed=false)).
  - Reads the global cluster and the target, plans one action and, unless in check mode, executes exactly it, then
    waits (with progress lines) until the target writes and the global cluster is available again. Check mode returns
    the plan and calls nothing that modifies.
  - O(mode=switchover) (SwitchoverGlobalCluster) loses no data; it is refused unless the global cluster is
    C(available) and the target a connected, available secondary.
  - O(mode=failover) (FailoverGlobalCluster with C(AllowDataLoss=true)) is for a Region that is down; the writes the
    target had not received are lost. O(mode=detach-and-promote) (RemoveFromGlobalCluster of the target) makes the
    target a standalone writable cluster. Both are refused, before any AWS call, unless O(confirm) is the global
    cluster identifier.
  - A switchover or failover whose answer was lost is read again rather than asked twice - a global cluster already
    switching to the target, or the target already writing, is waited for.
  - All calls are made in O(region), the target's Region, so that they work while the former primary's Region is down.
author:
  - Vitality platform team (@vitality)
options:
  global_cluster_identifier:
    description:
      - The global cluster (Aurora global database).
    type: str
    required: true
  target_db_cluster_identifier:
    description:
      - The cluster, in O(region), that must be the writer. For V(switchover) and V(failover) it must be a member of
        the global cluster.
    type: str
    required: true
  mode:
    description:
      - How the writer role moves to the target. V(switchover), no data loss; V(failover), data loss allowed (a Region
        outage); V(detach-and-promote), the target leaves the global cluster and writes alone.
      - Omitted, V(switchover).
    type: str
    choices: [switchover, failover, detach-and-promote]
    default: switchover
  confirm:
    description:
      - For V(failover) and V(detach-and-promote), the global cluster identifier, typed to confirm that writes not yet
        replicated may be lost. Not read by V(switchover).
      - Omitted, empty.
    type: str
    default: ""
  wait:
    description:
      - Wait until the target is the writer and the global cluster is available.
      - Omitted, V(true).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait before failing with the state last seen.
      - Omitted, V(1800) seconds.
    type: int
    default: 1800
extends_documentation_fragment:
  - vitality.aurora.waiting
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode.
  - The global cluster's writer endpoint follows the writer; the Regional cluster endpoint returned in RV(writer.endpoint)
    is that of the cluster that now writes.
"""

EXAMPLES = r"""
- name: Move the writer role of the prod global database to us-west-2, no data loss
  vitality.aurora.aurora_global_cluster_failover:
    region: us-west-2
    global_cluster_identifier: vitality-prod-global
    target_db_cluster_identifier: vitality-prod-us-west-2

- name: Region outage in us-east-1 - fail over to us-west-2, allowing data loss
  vitality.aurora.aurora_global_cluster_failover:
    region: us-west-2
    global_cluster_identifier: vitality-prod-global
    target_db_cluster_identifier: vitality-prod-us-west-2
    mode: failover
    confirm: vitality-prod-global
"""

RETURN = r"""
plan:
  description: The plan's lines (one at most); empty when the target already writes or is already being promoted.
  returned: always
  type: list
  elements: str
  sample:
    - "1. global cluster vitality-prod-global: switch over the writer to vitality-prod-us-west-2 in us-west-2 (writer
      vitality-prod-aurora (us-east-1) -> vitality-prod-us-west-2 (us-west-2)) [failover] - writes stop for about a
      minute while the two clusters swap roles; no data lost (RPO 0). vitality-prod-aurora (us-east-1) stays in the
      global cluster as a secondary"
actions:
  description: The plan's actions, as the collection's plan documents list them (docs/plan-schema.json).
  returned: always
  type: list
  elements: dict
  sample: [{"order": 1, "resource": "global_cluster", "name": "vitality-prod-global", "calls": ["SwitchoverGlobalCluster"], "impact": "failover"}]
outcome:
  description:
    - V(done), the target already wrote (nothing called); V(in-progress), a switchover, failover or detach to the
      target was already running (nothing called, waited for); V(planned), the action was planned (check mode) or
      executed.
  returned: always
  type: str
  sample: planned
mode:
  description: The O(mode) of the run.
  returned: always
  type: str
  sample: switchover
writer:
  description: The cluster that writes after the run (in check mode, the one that would).
  returned: always
  type: dict
  sample:
    cluster_identifier: vitality-prod-us-west-2
    region: us-west-2
    endpoint: vitality-prod-us-west-2.cluster-abc.us-west-2.rds.amazonaws.com
  contains:
    cluster_identifier:
      description: Its identifier.
      type: str
      returned: always
      sample: vitality-prod-us-west-2
    cluster_arn:
      description: Its ARN.
      type: str
      returned: always
      sample: arn:aws:rds:us-west-2:123456789012:cluster:vitality-prod-us-west-2
    region:
      description: The Region that now writes.
      type: str
      returned: always
      sample: us-west-2
    endpoint:
      description: Its cluster (writer) endpoint, in that Region.
      type: str
      returned: always
      sample: vitality-prod-us-west-2.cluster-abc.us-west-2.rds.amazonaws.com
    reader_endpoint:
      description: Its reader endpoint; null when AWS gives none.
      type: str
      returned: always
      sample: vitality-prod-us-west-2.cluster-ro-abc.us-west-2.rds.amazonaws.com
previous_writer:
  description: The writer member of the global cluster before the run; null when there was none (or no global cluster).
  returned: always
  type: dict
  sample: {"cluster_arn": "arn:aws:rds:us-east-1:123456789012:cluster:vitality-prod-aurora", "region": "us-east-1"}
  contains:
    cluster_arn:
      description: Its ARN.
      type: str
      returned: always
      sample: arn:aws:rds:us-east-1:123456789012:cluster:vitality-prod-aurora
    region:
      description: Its Region.
      type: str
      returned: always
      sample: us-east-1
global_cluster:
  description: The global cluster as last read (after the wait); null when it does not exist.
  returned: always
  type: dict
  sample: {"identifier": "vitality-prod-global", "status": "available", "members": []}
  contains:
    identifier:
      description: Its identifier.
      type: str
      returned: always
      sample: vitality-prod-global
    status:
      description: Its status (C(available), C(switching-over), C(failing-over), ...).
      type: str
      returned: always
      sample: available
    members:
      description: Its member clusters.
      type: list
      elements: dict
      returned: always
      contains:
        cluster_arn:
          description: The member's ARN.
          type: str
          returned: always
          sample: arn:aws:rds:us-west-2:123456789012:cluster:vitality-prod-us-west-2
        region:
          description: The member's Region.
          type: str
          returned: always
          sample: us-west-2
        is_writer:
          description: Whether it is the primary (writer) cluster.
          type: bool
          returned: always
          sample: true
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.global_failover import (
    MODES,
    Refusal,
    confirmation_error,
    describe_progress,
    is_done,
    member,
    outputs,
    plan,
    switching_to,
    writer_arn,
)
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    check_wait_options,
    wait_or_fail,
)


def read_global_cluster(api, identifier):
    response = api.call(
        "describe_global_clusters",
        GlobalClusterIdentifier=identifier,
        not_found=("GlobalClusterNotFoundFault",),
        context=f"global cluster {identifier}",
    )
    # Only the one asked for, whatever else an endpoint answers.
    found = [g for g in (response or {}).get("GlobalClusters") or [] if g.get("GlobalClusterIdentifier") == identifier]
    return found[0] if found else None


def read_target(api, identifier):
    response = api.call(
        "describe_db_clusters",
        DBClusterIdentifier=identifier,
        not_found=("DBClusterNotFoundFault",),
        context=f"cluster {identifier}",
    )
    found = [c for c in (response or {}).get("DBClusters") or [] if c.get("DBClusterIdentifier") == identifier]
    return found[0] if found else None


def started(mode, global_cluster, target):
    """After a call whose answer was lost: did it take effect (the target writes, or is being promoted)?"""
    arn = target.get("DBClusterArn")
    if is_done(mode, global_cluster, target):
        return True
    if mode == "detach-and-promote":
        return global_cluster is not None and member(global_cluster, arn) is None
    return switching_to(global_cluster) == arn or writer_arn(global_cluster) == arn


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            global_cluster_identifier=dict(type="str", required=True),
            target_db_cluster_identifier=dict(type="str", required=True),
            mode=dict(type="str", default="switchover", choices=list(MODES)),
            confirm=dict(type="str", default=""),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
            wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
        ),
        supports_check_mode=True,
    )
    check_wait_options(module)
    global_id = module.params["global_cluster_identifier"]
    target_id = module.params["target_db_cluster_identifier"]
    mode = module.params["mode"]
    error = confirmation_error(mode, global_id, module.params["confirm"])
    if error:
        module.fail_json(msg=error)
    region = module.region
    api = AwsApi(module, "rds")

    def read():
        return read_global_cluster(api, global_id), read_target(api, target_id)

    global_cluster, target = read()
    previous = writer_arn(global_cluster)
    try:
        actions, outcome = plan(mode, global_id, global_cluster, target, region)
    except Refusal as refusal:
        module.fail_json(msg=f"Nothing was changed: {refusal}")
    result = dict(
        mode=mode,
        outcome=outcome,
        plan=[a.line() for a in actions],
        actions=[a.to_dict() for a in actions],
        diff={"before": {"writer": previous}, "after": {"writer": target.get("DBClusterArn")}},
    )
    if outcome == "done":
        module.exit_json(changed=False, **result, **outputs(target, global_cluster, previous))
    if module.check_mode:
        module.exit_json(changed=outcome == "planned", **result, **outputs(target, global_cluster, previous))

    for action in actions:
        method = {
            "SwitchoverGlobalCluster": "switchover_global_cluster",
            "FailoverGlobalCluster": "failover_global_cluster",
        }.get(action.calls[0], "remove_from_global_cluster")
        # A call whose answer was lost (botocore retries, then AWS says the target is already switching or the
        # writer): read again; started, it is waited for rather than asked twice.
        api.create(method, lambda: started(mode, *read()), context=f"global cluster {global_id}", **action.request)
    if module.params["wait"]:
        global_cluster, target = wait_or_fail(
            module,
            read,
            lambda state: is_done(mode, *state),
            what=f"global cluster {global_id} moving its writer to {target_id} ({region})",
            wanted=f"available with {target_id} writing",
            describe=describe_progress(mode, global_id, target_id),
        )
    module.exit_json(changed=True, **result, **outputs(target, global_cluster, previous))


if __name__ == "__main__":
    main()
