"""meta/runtime.yml: module_defaults group/vitality.aurora.aws sets the connection options of every module."""

from __future__ import annotations

import yaml
from release_support import REPO_ROOT, source_modules

RUNTIME = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_URL",
    "EC2_URL",
    "LOCAL_AWS_ENDPOINT_URL",
)
PARAMETER_GROUP = "action-group-check-pg16"

PLAYBOOK = """---
- name: Every connection option comes from module_defaults, none from a task or the environment
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/vitality.aurora.aws:
      endpoint_url: "{{ endpoint }}"
      region: us-east-1
      access_key: testing
      secret_key: testing
  tasks:
    - name: A module of this collection that writes
      vitality.aurora.aurora_cluster_parameter_group:
        name: "{{ group_name }}"
        parameters:
          rds.force_ssl: 1
      register: group

    - name: A module of this collection that reads
      vitality.aurora.aurora_cluster_info:
        db_cluster_identifier: no-such-cluster
      register: info

    - name: Modules of this collection asked for something absent
      vitality.aurora.aurora_cluster:
        db_cluster_identifier: no-such-cluster
        state: absent
      register: cluster

    - name: The instance module, likewise
      vitality.aurora.aurora_instance:
        db_instance_identifier: no-such-instance
        state: absent
      register: instance

    - name: A module of amazon.aws, through extend_group
      amazon.aws.ec2_vpc_net_info:
        filters:
          "tag:Name": vitality-dev-app-vpc
      register: vpcs

    - name: Check what each module saw
      ansible.builtin.assert:
        that:
          - group is changed
          - not info.exists
          - cluster is not changed
          - instance is not changed
          - vpcs.vpcs | length == 1
"""


def test_every_aws_module_is_in_the_action_group():
    group = RUNTIME["action_groups"]["aws"]
    members = {m for m in group if isinstance(m, str)}
    extends = [m["metadata"]["extend_group"] for m in group if isinstance(m, dict) and "metadata" in m]
    # A module backed by an action plugin runs on the controller and calls no AWS API (aurora_settings,
    # aurora_fleet_names).
    controller_side = {path.stem for path in (REPO_ROOT / "plugins" / "action").glob("*.py")}
    assert controller_side == {"aurora_settings", "aurora_fleet_names"}
    assert members == set(source_modules()) - controller_side, "meta/runtime.yml's group `aws` must list every module"
    assert extends == [["amazon.aws.aws"]]


def test_module_defaults_group_sets_the_connection_options(main_installed, local_aws):
    local_aws.reset_and_seed(("dev",))
    playbook = main_installed.workdir / "module-defaults.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    args = ["ansible-playbook", str(playbook), "-i", "localhost,", "-e", f"endpoint={local_aws.endpoint_url}"]
    args += ["-e", f"group_name={PARAMETER_GROUP}"]
    proc = main_installed.run(args, local_aws=local_aws, drop=AWS_VARIABLES)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    groups = local_aws.client("rds").describe_db_cluster_parameter_groups(DBClusterParameterGroupName=PARAMETER_GROUP)
    assert groups["DBClusterParameterGroups"][0]["DBParameterGroupFamily"] == "aurora-postgresql16"
