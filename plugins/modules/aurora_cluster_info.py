#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_cluster_info
short_description: Describe an Aurora cluster, its members and their roles
version_added: 0.1.0
description:
  - Reads an Aurora DB cluster and its instances in two AWS calls and returns what an operator or a test
    needs to check it, including which instance is the writer, endpoints, statuses, pending modifications and
    the apply status of parameter groups.
  - Makes no change. With O(wait=true) it waits until the cluster and all its instances are available.
author:
  - Vitality platform team (@vitality)
options:
  db_cluster_identifier:
    description:
      - The cluster identifier.
    type: str
    required: true
    aliases: [id]
  same_stack_tags:
    description:
      - When the cluster does not exist, look for clusters carrying all these tags (for example the stack's
        C(Stack) tag) and return them in RV(same_stack_clusters). A cluster of the same stack under another
        identifier means the identifier was changed, which must never create a second cluster silently.
      - Costs AWS calls only when the cluster does not exist.
      - Omitted, no other cluster is looked for, and RV(same_stack_clusters) is not returned.
    type: dict
  wait:
    description:
      - Wait until the cluster and every one of its instances are available before reading them, so that one wait
        covers resources requested together.
      - Omitted, V(false); the cluster and its instances are read as they are.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait before failing with the resources not yet available and their states.
      - Omitted, V(3600) seconds.
    type: int
    default: 3600
extends_documentation_fragment:
  - vitality.aurora.waiting
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the Vitality cluster
  vitality.aurora.aurora_cluster_info:
    db_cluster_identifier: vitality-dev-aurora
  register: vitality_db

- name: Wait once for a cluster and instances created together
  vitality.aurora.aurora_cluster_info:
    db_cluster_identifier: vitality-prod-aurora
    wait: true

- name: Check that the intended instance is the writer
  ansible.builtin.assert:
    that:
      - vitality_db.writer == 'vitality-dev-aurora-writer'
"""

RETURN = r"""
exists:
  description: Whether the cluster exists.
  returned: always
  type: bool
  sample: true
cluster:
  description: The cluster as AWS describes it, snake_cased, with C(tags) as a dictionary.
  returned: when the cluster exists
  type: dict
  sample: {"db_cluster_identifier": "vitality-dev-aurora", "status": "available"}
instances:
  description:
    - The cluster's instances as AWS describes them, snake_cased, each with C(role) (V(writer) or V(reader)),
      C(cluster_parameter_group_status) and C(pending_modified_values).
  returned: when the cluster exists
  type: list
  elements: dict
  sample:
    - db_instance_identifier: vitality-dev-aurora-writer
      role: writer
      db_instance_status: available
      db_instance_class: db.r6g.large
      availability_zone: us-east-1c
      cluster_parameter_group_status: in-sync
      pending_modified_values: {}
writer:
  description: Identifier of the writer instance, or null when there is none.
  returned: when the cluster exists
  type: str
  sample: vitality-dev-aurora-writer
readers:
  description: Identifiers of the reader instances, sorted.
  returned: when the cluster exists
  type: list
  elements: str
  sample: [vitality-prod-aurora-reader-1]
same_stack_clusters:
  description: Identifiers of other clusters carrying O(same_stack_tags), when the cluster does not exist.
  returned: when O(same_stack_tags) is set and the cluster does not exist
  type: list
  elements: str
  sample: [vitality-dev-aurora-old]
endpoints:
  description: Writer and reader endpoints and the port.
  returned: when the cluster exists
  type: dict
  contains:
    writer:
      description: The cluster (writer) endpoint.
      type: str
      returned: always
      sample: vitality-dev-aurora.cluster-abc.us-east-1.rds.amazonaws.com
    reader:
      description: The reader endpoint.
      type: str
      returned: always
      sample: vitality-dev-aurora.cluster-ro-abc.us-east-1.rds.amazonaws.com
    port:
      description: The port the cluster listens on.
      type: int
      returned: always
      sample: 5432
  sample:
    writer: vitality-dev-aurora.cluster-abc.us-east-1.rds.amazonaws.com
    reader: vitality-dev-aurora.cluster-ro-abc.us-east-1.rds.amazonaws.com
    port: 5432
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi, to_snake
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    clusters_tagged,
    describe_members,
    read_cluster,
    read_members,
)
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    check_wait_options,
    wait_or_fail,
)


def not_ready(cluster, instances):
    """Resources not yet available, with their states: an empty list means all are ready."""
    waiting = []
    if cluster is not None and cluster.get("Status") != "available":
        waiting.append(f"cluster {cluster.get('DBClusterIdentifier')} ({cluster.get('Status')})")
    for instance in instances:
        if instance.get("DBInstanceStatus") != "available":
            waiting.append(f"instance {instance.get('DBInstanceIdentifier')} ({instance.get('DBInstanceStatus')})")
    return waiting


def wait_ready(module, api, identifier):
    def read_state():
        cluster = read_cluster(api, identifier)
        return cluster, (read_members(api, identifier) if cluster else [])

    def still_waiting(error):
        cluster, instances = read_state()
        return (
            f"Timed out after {error.waited:.0f}s waiting for cluster {identifier} and its instances to be available; "
            f"still waiting for: {', '.join(not_ready(cluster, instances)) or 'the cluster to exist'}"
        )

    return wait_or_fail(
        module,
        read_state,
        lambda state: state[0] is not None and not not_ready(*state),
        what=f"cluster {identifier} and its instances",
        wanted="available",
        timeout_message=still_waiting,
    )


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_cluster_identifier=dict(type="str", required=True, aliases=["id"]),
            same_stack_tags=dict(type="dict"),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=3600),
            wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
        ),
        supports_check_mode=True,
    )
    check_wait_options(module)
    identifier = module.params["db_cluster_identifier"]
    api = AwsApi(module, "rds")
    if module.params["wait"] and not module.check_mode:
        cluster, members = wait_ready(module, api, identifier)
    else:
        cluster = read_cluster(api, identifier)
        members = read_members(api, identifier) if cluster else []
    if cluster is None:
        result = {}
        if module.params["same_stack_tags"]:
            result["same_stack_clusters"] = clusters_tagged(api, module.params["same_stack_tags"])
        module.exit_json(changed=False, exists=False, **result)
    instances = describe_members(cluster, members)
    writers = [i["db_instance_identifier"] for i in instances if i["role"] == "writer"]
    module.exit_json(
        changed=False,
        exists=True,
        cluster=to_snake(cluster),
        instances=instances,
        writer=writers[0] if writers else None,
        readers=[i["db_instance_identifier"] for i in instances if i["role"] == "reader"],
        endpoints={
            "writer": cluster.get("Endpoint"),
            "reader": cluster.get("ReaderEndpoint"),
            "port": cluster.get("Port"),
        },
    )


if __name__ == "__main__":
    main()
