"""The one-pass comparison (tasks/drift.yml) is given what the converge tasks are given.

If a converge task gained or changed an option and drift.yml did not follow, the comparison
could call a stack in sync that the converge tasks would change: these tests fail first.
"""

from pathlib import Path

import yaml

from ansible_collections.vitality.aurora.plugins.module_utils import cluster_settings, instance_settings

TASKS = Path(__file__).resolve().parents[2] / "roles" / "aurora_cluster" / "tasks"


def task_args(file_name, module):
    for task in yaml.safe_load((TASKS / file_name).read_text()):
        if module in task:
            return task[module]
    raise AssertionError(f"no {module} task in {file_name}")


DRIFT = task_args("drift.yml", "vitality.aurora.aurora_stack")


def assert_same(drift_options, converge_args, compared):
    for option in compared:
        assert option in drift_options, f"drift.yml does not give {option}"
        assert drift_options[option] == converge_args[option], option


def test_cluster_options_match_the_cluster_task():
    converge = task_args("cluster.yml", "vitality.aurora.aurora_cluster")
    compared = [a.option for a in cluster_settings.ATTRIBUTES if a.option != "vpc_security_group_ids"]
    compared += [
        "engine_version",
        "apply_immediately",
        "tags",
        "kms_key_id",
        "master_user_secret_kms_key_id",
        "update_password",
    ]
    assert_same(DRIFT["cluster"], converge, compared)
    assert converge["purge_tags"] is True
    # The password the cluster is created with, when the role does not leave it to Secrets Manager.
    assert DRIFT["master_user_password"] == converge["master_user_password"]
    # Every option drift.yml gives is given the same way to the cluster task.
    assert_same(DRIFT["cluster"], converge, DRIFT["cluster"])


def test_instance_options_match_the_instance_task():
    converge = task_args("instance.yml", "vitality.aurora.aurora_instance")
    # Given per instance from the layout (identifier, zone, tier, Role tag), or not compared here.
    per_instance = {"db_instance_identifier", "db_cluster_identifier", "availability_zone", "promotion_tier"}
    compared = [a.option for a in instance_settings.ATTRIBUTES if a.option in converge and a.option not in per_instance]
    compared.remove("monitoring_role_arn")  # with monitoring on, drift.yml does not run
    compared.append("apply_immediately")
    assert_same(DRIFT["instances"], converge, compared)
    assert converge["tags"] == "{{ __aurora_cluster_all_tags | combine({'Role': __aurora_cluster_instance.role}) }}"
    assert DRIFT["instances"]["tags"] == "{{ __aurora_cluster_all_tags }}"
    assert converge["purge_tags"] is True


def test_network_security_subnet_and_parameter_groups_match_their_tasks():
    sg = task_args("security_group.yml", "amazon.aws.ec2_security_group")
    assert DRIFT["security_group"]["name"] == sg["name"]
    assert DRIFT["security_group"]["description"] == sg["description"]
    assert DRIFT["security_group"]["tags"] == sg["tags"]
    assert DRIFT["security_group"]["egress"] == sg["rules_egress"]
    assert sg["rules"] == "{{ __aurora_cluster_app_ingress + __aurora_cluster_db_security_group_extra_ingress }}"
    assert DRIFT["security_group"]["extra_ingress"] == "{{ __aurora_cluster_db_security_group_extra_ingress }}"
    assert sg["purge_rules"] is True and sg["purge_rules_egress"] is True and sg["purge_tags"] is True
    subnet = task_args("subnet_group.yml", "amazon.aws.rds_subnet_group")
    for key in ("name", "description", "tags"):
        assert DRIFT["subnet_group"][key] == subnet[key], key
    parameters = task_args("parameter_group.yml", "vitality.aurora.aurora_cluster_parameter_group")
    for key in ("name", "family", "description", "parameters", "tags"):
        assert DRIFT["parameter_group"][key] == parameters[key], key
    assert parameters["purge_parameters"] is True
