#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_cluster_failover
short_description: Make a given instance the writer of an Aurora cluster, failing over only when needed
version_added: 0.1.0
description:
  - Ensures O(target_db_instance_identifier) is the writer of the cluster. When it already is, nothing happens
    and no modifying call is made; otherwise the module calls FailoverDBCluster and waits until the target is
    the writer and the cluster is available again.
  - A failover moves the writer endpoint; open connections to the old writer are closed (impact V(failover)).
  - Used by the M(vitality.aurora.aurora_cluster) role to move the writer to an already changed reader before
    changing the old writer, and to give the writer role back at the end of a rolling change.
author:
  - Vitality platform team (@vitality)
options:
  db_cluster_identifier:
    description:
      - The cluster identifier.
    type: str
    required: true
  target_db_instance_identifier:
    description:
      - The instance that must be the writer. It must be a member of the cluster.
    type: str
    required: true
  wait:
    description:
      - Wait until the target is the writer and the cluster is available.
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
"""

EXAMPLES = r"""
- name: Move the writer to the first reader before resizing the writer
  vitality.aurora.aurora_cluster_failover:
    db_cluster_identifier: vitality-prod-aurora
    target_db_instance_identifier: vitality-prod-aurora-reader-1

- name: Give the writer role back to the configured writer
  vitality.aurora.aurora_cluster_failover:
    db_cluster_identifier: vitality-prod-aurora
    target_db_instance_identifier: vitality-prod-aurora-writer
"""

RETURN = r"""
writer:
  description: The writer after the run (in check mode, the writer the run would leave).
  returned: always
  type: str
  sample: vitality-prod-aurora-reader-1
previous_writer:
  description: The writer before the run; null when the cluster had none.
  returned: always
  type: str
  sample: vitality-prod-aurora-writer
changes:
  description: The failover made, or in check mode planned, with its impact; empty when the target is the writer.
  returned: always
  type: list
  elements: dict
  contains:
    attribute:
      description: Always C(writer).
      type: str
      returned: always
      sample: writer
    before:
      description: The writer before the failover.
      type: str
      returned: always
      sample: vitality-prod-aurora-writer
    after:
      description: The writer after it, O(target_db_instance_identifier).
      type: str
      returned: always
      sample: vitality-prod-aurora-reader-1
    impact:
      description: Always V(failover).
      type: str
      returned: always
      sample: failover
  sample:
    - attribute: writer
      before: vitality-prod-aurora-writer
      after: vitality-prod-aurora-reader-1
      impact: failover
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.changes import FAILOVER
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    check_wait_options,
    wait_or_fail,
)


def read_cluster(api, identifier):
    response = api.call(
        "describe_db_clusters",
        DBClusterIdentifier=identifier,
        not_found=("DBClusterNotFoundFault",),
        context=f"cluster {identifier}",
    )
    clusters = (response or {}).get("DBClusters") or []
    return clusters[0] if clusters else None


def writer_of(cluster):
    for member in (cluster or {}).get("DBClusterMembers") or []:
        if member.get("IsClusterWriter"):
            return member.get("DBInstanceIdentifier")
    return None


def members_of(cluster):
    return [m.get("DBInstanceIdentifier") for m in (cluster or {}).get("DBClusterMembers") or []]


def failover_done(cluster, target):
    return writer_of(cluster) == target and cluster.get("Status") == "available"


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_cluster_identifier=dict(type="str", required=True),
            target_db_instance_identifier=dict(type="str", required=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
            wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
        ),
        supports_check_mode=True,
    )
    check_wait_options(module)
    identifier = module.params["db_cluster_identifier"]
    target = module.params["target_db_instance_identifier"]
    api = AwsApi(module, "rds")
    cluster = read_cluster(api, identifier)
    if cluster is None:
        module.fail_json(msg=f"cluster {identifier} does not exist")
    if target not in members_of(cluster):
        module.fail_json(
            msg=f"{target} is not a member of cluster {identifier} (members: {', '.join(members_of(cluster)) or 'none'})"
        )
    before = writer_of(cluster)
    if before == target:
        module.exit_json(changed=False, writer=target, previous_writer=before, changes=[])

    changes = [{"attribute": "writer", "before": before, "after": target, "impact": FAILOVER}]
    diff = {"before": {"writer": before}, "after": {"writer": target}}
    if module.check_mode:
        module.exit_json(changed=True, writer=target, previous_writer=before, changes=changes, diff=diff)

    api.call(
        "failover_db_cluster",
        DBClusterIdentifier=identifier,
        TargetDBInstanceIdentifier=target,
        context=f"cluster {identifier}",
    )
    if module.params["wait"]:
        wait_or_fail(
            module,
            lambda: read_cluster(api, identifier),
            lambda c: c is not None and failover_done(c, target),
            what=f"cluster {identifier} failing over to {target}",
            wanted=f"available with {target} as writer",
        )
    module.exit_json(changed=True, writer=target, previous_writer=before, changes=changes, diff=diff)


if __name__ == "__main__":
    main()
