"""Every key a module returns is documented in its RETURN, with the keys of the dictionaries RETURN gives a shape.

The results come from two sources, both running the modules' own code:

* the unit tests' harnesses (tests/unit/test_aurora_*.py, test_preflight.py) run once more, in a pytest of their
  own, with ``ResultRecorder`` recording every result their fake modules end a run with (each harness's
  ``Exited`` or ``Failed``, made by ``exit_json`` or ``fail_json``): some fifty module runs of about two hundred tests;
* ``SCENARIOS`` below, which run each module's ``main()`` (and the aurora_settings action plugin's ``run()``)
  over a fake AWS client, for what the harnesses do not exercise: creates, no-ops, check mode and deletions of
  aurora_cluster, aurora_instance and aurora_cluster_parameter_group, aurora_cluster_failover and
  aurora_cluster_info, which have no harness, and both results of aurora_settings.

For each module, every top-level key of every result must be a key of its parsed RETURN, except the keys
Ansible and AnsibleAWSModule add themselves (``COMMON_KEYS``). Where RETURN documents ``contains`` for a key,
each key of the returned dictionary (or of each dictionary of the returned list) must be among them, recursively.
A module no result was recorded for fails the test, so it cannot pass by running nothing.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from botocore.exceptions import ClientError

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi

UNIT_DIR = Path(__file__).resolve().parent
REPO_ROOT = UNIT_DIR.parent.parent
MODULES_PACKAGE = "ansible_collections.vitality.aurora.plugins.modules"
# Every module of plugins/modules (the package the tests import them from), so that a new one is never left out.
MODULES = tuple(
    sorted(
        info.name
        for info in importlib.import_module("pkgutil").iter_modules(importlib.import_module(MODULES_PACKAGE).__path__)
    )
)
# The unit tests whose fake modules record results, each with a module-level ``m`` (the module under test).
HARNESSES = (
    "test_aurora_cluster.py",
    "test_aurora_cluster_parameter_group.py",
    "test_aurora_database.py",
    "test_aurora_event_subscription.py",
    "test_aurora_instance.py",
    "test_aurora_instance_baseline.py",
    "test_aurora_stack.py",
    "test_preflight.py",
)
# What Ansible, AnsibleModule and AnsibleAWSModule (fail_json_aws) add to any result: documented by them.
COMMON_KEYS = frozenset(
    [
        "changed",
        "failed",
        "msg",
        "invocation",
        "warnings",
        "deprecations",
        "diff",
        "boto3_version",
        "botocore_version",
        "exception",
        "response_metadata",
        "skipped",
    ]
)


def documented_returns(name):
    """The module's RETURN, parsed."""
    module = importlib.import_module(f"{MODULES_PACKAGE}.{name}")
    return yaml.safe_load(module.RETURN) or {}


# -- recording the harnesses' results ---------------------------------------------------------------------------


class ResultRecorder:
    """A pytest plugin: records the result each harness's Exited/Failed carries, by module, into a JSON file."""

    def __init__(self, path):
        self.path = path
        self.results = {}

    def pytest_collection_finish(self, session):
        patched = set()
        for item in session.items:
            harness = getattr(item, "module", None)
            under_test = getattr(harness, "m", None)
            if harness is None or id(harness) in patched or under_test is None:
                continue
            if not under_test.__name__.startswith(MODULES_PACKAGE + "."):
                continue
            patched.add(id(harness))
            name = under_test.__name__.rsplit(".", 1)[1]
            for class_name in ("Exited", "Failed"):
                ending = getattr(harness, class_name, None)
                if isinstance(ending, type) and issubclass(ending, BaseException):
                    self._record_from(ending, name)

    def _record_from(self, ending, name):
        original = ending.__init__
        results = self.results

        def init(instance, *args, **kwargs):
            original(instance, *args, **kwargs)
            result = getattr(instance, "result", None)
            if isinstance(result, dict):
                results.setdefault(name, []).append(json.loads(json.dumps(result, default=str)))

        ending.__init__ = init

    def pytest_sessionfinish(self, session, exitstatus):
        Path(self.path).write_text(json.dumps(self.results))


def run_harnesses(path):
    """Run the harnesses in a pytest of their own (tests/unit on sys.path); the recorder writes ``path``."""
    sys.path.insert(0, str(UNIT_DIR))
    recorder = ResultRecorder(path)
    files = [str(UNIT_DIR / harness) for harness in HARNESSES]
    return pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly", *files], [recorder])


@pytest.fixture(scope="module")
def harness_results(tmp_path_factory):
    path = tmp_path_factory.mktemp("returns") / "results.json"
    # The collection is importable as tests/conftest.py makes it (build/collections first on sys.path).
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[3]]; import test_module_returns as t; "
        "sys.exit(t.run_harnesses(sys.argv[2]))"
    )
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [sys.executable, "-c", code, str(UNIT_DIR), str(path), str(REPO_ROOT / "build" / "collections")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"the harnesses failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return json.loads(path.read_text())


# -- the fake AWS client and module of the scenarios --------------------------------------------------------------


def not_found(code):
    def answer(**_params):
        raise ClientError({"Error": {"Code": code, "Message": "not found"}}, "Describe")

    return answer


class FakeClient:
    """Answers each method with ``answers[method](**params)``, a fixed value, or ``{}`` (the mutating calls)."""

    def __init__(self, answers=None, region="us-east-1"):
        self.answers = dict(answers or {})
        self.calls = []
        self.meta = SimpleNamespace(method_to_api_mapping={}, region_name=region)

    def answer(self, method, params):
        self.calls.append(method)
        answer = self.answers.get(method, {})
        return answer(**params) if callable(answer) else answer

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda **params: self.answer(method, params)

    def get_paginator(self, method):
        client = self

        class Pages:
            def paginate(self, **params):
                return SimpleNamespace(build_full_result=lambda: client.answer(method, params))

        return Pages()


class Ended(Exception):
    def __init__(self, result):
        super().__init__("ended")
        self.result = result


class FakeAnsibleModule:
    """AnsibleAWSModule as main() uses it: the argument spec's validation and defaults; the end raises Ended."""

    given = {}
    check_mode = False
    region = "us-east-1"

    def __init__(self, argument_spec, supports_check_mode=False, **_constraints):
        validated = ArgumentSpecValidator(argument_spec).validate(dict(self.given))
        assert not validated.error_messages, validated.error_messages
        self.params = validated.validated_parameters
        self.warnings = []

    def exit_json(self, **result):
        raise Ended(result)

    def fail_json(self, msg, **result):
        raise Ended(dict(result, failed=True, msg=msg))

    def fail_json_aws(self, exception, msg=None, **result):
        raise Ended(dict(result, failed=True, msg=f"{msg}: {exception}"))

    def warn(self, warning):
        self.warnings.append(warning)


def run_main(monkeypatch, name, params, answers, check_mode=False):
    """``main()`` of module ``name`` with ``params``, every AWS client answering from ``answers``: the result."""
    module = importlib.import_module(f"{MODULES_PACKAGE}.{name}")
    fake = FakeClient(answers)
    monkeypatch.setattr(FakeAnsibleModule, "given", params)
    monkeypatch.setattr(FakeAnsibleModule, "check_mode", check_mode)
    monkeypatch.setattr(module, "AnsibleAWSModule", FakeAnsibleModule)
    monkeypatch.setattr(module, "AwsApi", lambda mod, service, client=None: AwsApi(mod, service, client=fake))
    with pytest.raises(Ended) as ended:
        module.main()
    return ended.value.result


FAST = {"wait_timeout": 5, "wait_max_poll_interval": 0.1}
CLUSTER = {
    "DBClusterIdentifier": "c",
    "DBClusterArn": "arn:aws:rds:us-east-1:123456789012:cluster:c",
    "Status": "available",
    "Engine": "aurora-postgresql",
    "EngineVersion": "16.8",
    "Port": 5432,
    "Endpoint": "c.cluster",
    "ReaderEndpoint": "c.cluster-ro",
    "StorageEncrypted": True,
    "DeletionProtection": False,
    "DBClusterParameterGroup": "pg",
    "TagList": [{"Key": "Stack", "Value": "s"}],
    "PendingModifiedValues": {"EngineVersion": "16.9"},
    "DBClusterMembers": [
        {"DBInstanceIdentifier": "w", "IsClusterWriter": True, "DBClusterParameterGroupStatus": "in-sync"},
        {"DBInstanceIdentifier": "r-1", "IsClusterWriter": False, "DBClusterParameterGroupStatus": "in-sync"},
    ],
}


def instance(identifier, **fields):
    described = {
        "DBInstanceIdentifier": identifier,
        "DBInstanceArn": f"arn:aws:rds:us-east-1:123456789012:db:{identifier}",
        "DBClusterIdentifier": "c",
        "DBInstanceClass": "db.r6g.large",
        "DBInstanceStatus": "available",
        "Engine": "aurora-postgresql",
        "PubliclyAccessible": False,
        "PromotionTier": 1,
        "TagList": [{"Key": "Stack", "Value": "s"}],
        "DBParameterGroups": [{"DBParameterGroupName": "default", "ParameterApplyStatus": "in-sync"}],
        "PendingModifiedValues": {},
    }
    described.update(fields)
    return described


def clusters(*found):
    return lambda **_params: {"DBClusters": [dict(c) for c in found]}


OTHER_REGION_ARN = "arn:aws:rds:us-west-2:123456789012:cluster:c-us-west-2"


def global_clusters(writer):
    return {
        "GlobalClusters": [
            {
                "GlobalClusterIdentifier": "g",
                "Status": "available",
                "GlobalClusterMembers": [
                    {"DBClusterArn": arn, "IsWriter": arn == writer, "Readers": []}
                    for arn in (CLUSTER["DBClusterArn"], OTHER_REGION_ARN)
                ],
            }
        ]
    }


def in_turn(*answers):
    """Each call the next answer (a value or a callable); the last one is repeated."""
    queue = list(answers)

    def answer(**params):
        current = queue.pop(0) if len(queue) > 1 else queue[0]
        return current(**params) if callable(current) else current

    return answer


DRILL_SNAPSHOT = {
    "DBClusterSnapshotIdentifier": "rds:c-2026-12-01-03-00",
    "DBClusterIdentifier": "c",
    "SnapshotType": "automated",
    "Status": "available",
    "SnapshotCreateTime": "2026-12-01T03:00:00Z",
    "Engine": "aurora-postgresql",
}


def drill_clusters(DBClusterIdentifier=None, **_params):
    """The live cluster ``c`` (with its security), and no other."""
    if DBClusterIdentifier not in (None, "c"):
        raise ClientError({"Error": {"Code": "DBClusterNotFoundFault", "Message": "not found"}}, "DescribeDBClusters")
    live = dict(CLUSTER, DBSubnetGroup="sg", VpcSecurityGroups=[{"VpcSecurityGroupId": "sg-1"}])
    return {"DBClusters": [live]}


# -- the scenarios: (module, params, answers, check_mode) ---------------------------------------------------------

CLUSTER_NOT_FOUND = not_found("DBClusterNotFoundFault")
CLUSTER_PARAMS = {"db_cluster_identifier": "c", "engine_version": "16.6", "tags": {"Stack": "s"}, **FAST}
INSTANCE_NOT_FOUND = not_found("DBInstanceNotFound")
INSTANCE_PARAMS = {
    "db_instance_identifier": "w",
    "db_cluster_identifier": "c",
    "db_instance_class": "db.r6g.large",
    "tags": {"Stack": "s"},
    **FAST,
}
GROUP_NOT_FOUND = not_found("DBParameterGroupNotFound")
GROUP = {
    "DBClusterParameterGroupName": "pg",
    "DBParameterGroupFamily": "aurora-postgresql16",
    "Description": "d",
    "DBClusterParameterGroupArn": "arn:aws:rds:us-east-1:123456789012:cluster-pg:pg",
}
GROUP_PARAMS = {"name": "pg", "parameters": {"rds.force_ssl": 1}, "tags": {"Stack": "s"}}
CATALOG = {
    "Parameters": [
        {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "Source": "user", "ApplyType": "dynamic"},
        {"ParameterName": "work_mem", "Source": "engine-default", "ApplyType": "dynamic"},
    ]
}

SNAPSHOT = {
    "DBClusterSnapshotIdentifier": "rds:c-2026-12-01-03-10",
    "DBClusterSnapshotArn": "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rds:c-2026-12-01-03-10",
    "DBClusterIdentifier": "c",
    "SnapshotType": "automated",
    "Status": "available",
}
EXPORT_PARAMS = {
    "db_cluster_identifier": "c",
    "s3_bucket_name": "b",
    "s3_prefix": "p",
    "iam_role_arn": "arn:aws:iam::123456789012:role/r",
    "kms_key_id": "alias/k",
    "export_only": ["vitality.app"],
    **FAST,
}


def export_task(status, **fields):
    from ansible_collections.vitality.aurora.plugins.module_utils.snapshot_export import export_identifier

    task = {
        "ExportTaskIdentifier": export_identifier(
            SNAPSHOT["DBClusterSnapshotArn"], SNAPSHOT["DBClusterSnapshotIdentifier"], ["vitality.app"]
        ),
        "SourceArn": SNAPSHOT["DBClusterSnapshotArn"],
        "ExportOnly": ["vitality.app"],
        "S3Bucket": "b",
        "S3Prefix": "p",
        "Status": status,
        "PercentProgress": 100 if status == "COMPLETE" else 0,
    }
    task.update(fields)
    return task


SCENARIOS = {
    # aurora_cluster: created (check mode and for real), in sync with a newer minor kept, deleted.
    "cluster created, check mode": (
        "aurora_cluster",
        CLUSTER_PARAMS,
        {"describe_db_clusters": CLUSTER_NOT_FOUND},
        True,
    ),
    "cluster created": (
        "aurora_cluster",
        CLUSTER_PARAMS,
        {
            "describe_db_clusters": in_turn(CLUSTER_NOT_FOUND, clusters(CLUSTER)),
            "create_db_cluster": {"DBCluster": CLUSTER},
        },
        False,
    ),
    "cluster in sync, newer minor kept": (
        "aurora_cluster",
        CLUSTER_PARAMS,
        {"describe_db_clusters": clusters(CLUSTER), "list_tags_for_resource": {"TagList": CLUSTER["TagList"]}},
        False,
    ),
    "cluster restored, check mode": (
        "aurora_cluster",
        dict(CLUSTER_PARAMS, restore_from_snapshot="c-final-20261125-061500"),
        {"describe_db_clusters": CLUSTER_NOT_FOUND},
        True,
    ),
    "cluster restored": (
        "aurora_cluster",
        dict(CLUSTER_PARAMS, restore_from_snapshot="c-final-20261125-061500"),
        {
            "describe_db_clusters": in_turn(CLUSTER_NOT_FOUND, clusters(CLUSTER)),
            "restore_db_cluster_from_snapshot": {"DBCluster": CLUSTER},
        },
        False,
    ),
    "cluster deleted, check mode": (
        "aurora_cluster",
        dict(CLUSTER_PARAMS, state="absent", disable_deletion_protection=True),
        {"describe_db_clusters": clusters(dict(CLUSTER, DBClusterMembers=[], DeletionProtection=True))},
        True,
    ),
    "cluster deleted": (
        "aurora_cluster",
        dict(CLUSTER_PARAMS, state="absent", tags=None, disable_deletion_protection=True),
        {
            "describe_db_clusters": in_turn(
                clusters(dict(CLUSTER, DBClusterMembers=[], DeletionProtection=True)), CLUSTER_NOT_FOUND
            )
        },
        False,
    ),
    "cluster already absent": (
        "aurora_cluster",
        dict(CLUSTER_PARAMS, state="absent"),
        {"describe_db_clusters": CLUSTER_NOT_FOUND},
        False,
    ),
    "cluster with a lower major version refused": (
        "aurora_cluster",
        dict(CLUSTER_PARAMS, engine_version="15.4"),
        {"describe_db_clusters": clusters(CLUSTER)},
        False,
    ),
    # aurora_snapshot_export: planned (check mode), started and waited for, already exported, failed.
    "export planned, check mode": (
        "aurora_snapshot_export",
        EXPORT_PARAMS,
        {
            "describe_db_cluster_snapshots": {"DBClusterSnapshots": [SNAPSHOT]},
            "describe_export_tasks": {"ExportTasks": []},
        },
        True,
    ),
    "export started and waited for": (
        "aurora_snapshot_export",
        EXPORT_PARAMS,
        {
            "describe_db_cluster_snapshots": {"DBClusterSnapshots": [SNAPSHOT]},
            "describe_export_tasks": in_turn(
                {"ExportTasks": []}, {"ExportTasks": [export_task("COMPLETE", TotalExtractedDataInGB=3)]}
            ),
            "start_export_task": export_task("STARTING"),
        },
        False,
    ),
    "export already done": (
        "aurora_snapshot_export",
        EXPORT_PARAMS,
        {
            "describe_db_cluster_snapshots": {"DBClusterSnapshots": [SNAPSHOT]},
            "describe_export_tasks": {"ExportTasks": [export_task("COMPLETE")]},
        },
        False,
    ),
    "export failed": (
        "aurora_snapshot_export",
        EXPORT_PARAMS,
        {
            "describe_db_cluster_snapshots": {"DBClusterSnapshots": [SNAPSHOT]},
            "describe_export_tasks": in_turn(
                {"ExportTasks": []}, {"ExportTasks": [export_task("FAILED", FailureCause="The bucket is gone")]}
            ),
            "start_export_task": export_task("STARTING"),
        },
        False,
    ),
    # aurora_alarms: alarms deleted (check mode and for real), none under the prefix.
    "alarms deleted, check mode": (
        "aurora_alarms",
        {"name_prefix": "vitality.aurora/c/"},
        {"describe_alarms": {"MetricAlarms": [{"AlarmName": "vitality.aurora/c/Deadlocks"}]}},
        True,
    ),
    "alarms deleted": (
        "aurora_alarms",
        {"name_prefix": "vitality.aurora/c/"},
        {"describe_alarms": {"MetricAlarms": [{"AlarmName": "vitality.aurora/c/Deadlocks"}]}},
        False,
    ),
    "no alarm under the prefix": (
        "aurora_alarms",
        {"name_prefix": "vitality.aurora/c/"},
        {"describe_alarms": {"MetricAlarms": []}},
        False,
    ),
    # aurora_cluster_failover: no change, check mode, failover.
    "failover not needed": (
        "aurora_cluster_failover",
        {"db_cluster_identifier": "c", "target_db_instance_identifier": "w", **FAST},
        {"describe_db_clusters": clusters(CLUSTER)},
        False,
    ),
    "failover, check mode": (
        "aurora_cluster_failover",
        {"db_cluster_identifier": "c", "target_db_instance_identifier": "r-1", **FAST},
        {"describe_db_clusters": clusters(CLUSTER)},
        True,
    ),
    "failover": (
        "aurora_cluster_failover",
        {"db_cluster_identifier": "c", "target_db_instance_identifier": "r-1", **FAST},
        {
            "describe_db_clusters": in_turn(
                clusters(CLUSTER),
                clusters(
                    dict(
                        CLUSTER,
                        DBClusterMembers=[
                            {"DBInstanceIdentifier": "w", "IsClusterWriter": False},
                            {"DBInstanceIdentifier": "r-1", "IsClusterWriter": True},
                        ],
                    )
                ),
            )
        },
        False,
    ),
    # aurora_global_cluster_failover: already the writer, check mode, switchover waited for.
    "global writer already": (
        "aurora_global_cluster_failover",
        {"global_cluster_identifier": "g", "target_db_cluster_identifier": "c", **FAST},
        {
            "describe_global_clusters": global_clusters(writer=CLUSTER["DBClusterArn"]),
            "describe_db_clusters": clusters(CLUSTER),
        },
        False,
    ),
    "global switchover, check mode": (
        "aurora_global_cluster_failover",
        {"global_cluster_identifier": "g", "target_db_cluster_identifier": "c", **FAST},
        {
            "describe_global_clusters": global_clusters(writer=OTHER_REGION_ARN),
            "describe_db_clusters": clusters(CLUSTER),
        },
        True,
    ),
    "global switchover": (
        "aurora_global_cluster_failover",
        {"global_cluster_identifier": "g", "target_db_cluster_identifier": "c", **FAST},
        {
            "describe_global_clusters": in_turn(
                global_clusters(writer=OTHER_REGION_ARN), global_clusters(writer=CLUSTER["DBClusterArn"])
            ),
            "describe_db_clusters": clusters(CLUSTER),
            "switchover_global_cluster": {
                "GlobalCluster": global_clusters(writer=OTHER_REGION_ARN)["GlobalClusters"][0]
            },
        },
        False,
    ),
    # aurora_cluster_info: exists, absent with clusters of the same stack.
    "info of a cluster": (
        "aurora_cluster_info",
        {"db_cluster_identifier": "c"},
        {
            "describe_db_clusters": clusters(CLUSTER),
            "describe_db_instances": {"DBInstances": [instance("w"), instance("r-1")]},
        },
        False,
    ),
    "info of a missing cluster": (
        "aurora_cluster_info",
        {"db_cluster_identifier": "c", "same_stack_tags": {"Stack": "s"}},
        {
            "describe_db_clusters": lambda **params: (
                CLUSTER_NOT_FOUND() if "DBClusterIdentifier" in params else {"DBClusters": [dict(CLUSTER)]}
            )
        },
        False,
    ),
    # aurora_instance: created (check mode and for real), in sync, changed, deleted.
    "instance created, check mode": (
        "aurora_instance",
        INSTANCE_PARAMS,
        {"describe_db_instances": INSTANCE_NOT_FOUND},
        True,
    ),
    "instance created": (
        "aurora_instance",
        INSTANCE_PARAMS,
        {
            "describe_db_instances": in_turn(INSTANCE_NOT_FOUND, {"DBInstances": [instance("w")]}),
            "create_db_instance": {"DBInstance": instance("w")},
        },
        False,
    ),
    "instance in sync": (
        "aurora_instance",
        INSTANCE_PARAMS,
        {"describe_db_instances": {"DBInstances": [instance("w")]}},
        False,
    ),
    "instance class changed now": (
        "aurora_instance",
        dict(INSTANCE_PARAMS, db_instance_class="db.r6g.xlarge", apply_immediately=True),
        {
            "describe_db_instances": in_turn(
                {"DBInstances": [instance("w")]}, {"DBInstances": [instance("w", DBInstanceClass="db.r6g.xlarge")]}
            )
        },
        False,
    ),
    "instance deleted, check mode": (
        "aurora_instance",
        {"db_instance_identifier": "r-1", "state": "absent", **FAST},
        {"describe_db_instances": {"DBInstances": [instance("r-1")]}},
        True,
    ),
    "instance deleted": (
        "aurora_instance",
        {"db_instance_identifier": "r-1", "state": "absent", **FAST},
        {"describe_db_instances": in_turn({"DBInstances": [instance("r-1")]}, INSTANCE_NOT_FOUND)},
        False,
    ),
    # aurora_cluster_parameter_group: created (check mode and for real), changed, refused family, deleted.
    "parameter group created, check mode": (
        "aurora_cluster_parameter_group",
        GROUP_PARAMS,
        {"describe_db_cluster_parameter_groups": GROUP_NOT_FOUND},
        True,
    ),
    "parameter group created": (
        "aurora_cluster_parameter_group",
        GROUP_PARAMS,
        {
            "describe_db_cluster_parameter_groups": GROUP_NOT_FOUND,
            "create_db_cluster_parameter_group": {"DBClusterParameterGroup": GROUP},
            "describe_db_cluster_parameters": CATALOG,
        },
        False,
    ),
    "parameter group changed": (
        "aurora_cluster_parameter_group",
        dict(GROUP_PARAMS, parameters={"rds.force_ssl": 0}),
        {
            "describe_db_cluster_parameter_groups": {"DBClusterParameterGroups": [GROUP]},
            "describe_db_cluster_parameters": CATALOG,
            "list_tags_for_resource": {"TagList": [{"Key": "Stack", "Value": "old"}]},
        },
        False,
    ),
    "parameter group of another family": (
        "aurora_cluster_parameter_group",
        dict(GROUP_PARAMS, family="aurora-postgresql17"),
        {"describe_db_cluster_parameter_groups": {"DBClusterParameterGroups": [GROUP]}},
        False,
    ),
    # aurora_reader_autoscaling: registered with its policy, nothing to do, turned off deleting a reader it made.
    "reader autoscaling registered": (
        "aurora_reader_autoscaling",
        {"db_cluster_identifier": "c", "min_readers": 1, "max_readers": 3, **FAST},
        {"describe_db_instances": {"DBInstances": [instance("w"), instance("r-1")]}},
        False,
    ),
    "reader autoscaling off, nothing registered": (
        "aurora_reader_autoscaling",
        {"db_cluster_identifier": "c", "state": "absent", **FAST},
        {"describe_db_instances": {"DBInstances": []}},
        False,
    ),
    "reader autoscaling turned off, check mode": (
        "aurora_reader_autoscaling",
        {"db_cluster_identifier": "c", "state": "absent", "readers_on_disable": "delete", **FAST},
        {
            "describe_db_instances": {
                "DBInstances": [instance("w"), instance("application-autoscaling-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")]
            },
            "describe_scalable_targets": {
                "ScalableTargets": [
                    {
                        "ServiceNamespace": "rds",
                        "ResourceId": "cluster:c",
                        "ScalableDimension": "rds:cluster:ReadReplicaCount",
                        "MinCapacity": 1,
                        "MaxCapacity": 3,
                    }
                ]
            },
            "describe_scaling_policies": {
                "ScalingPolicies": [
                    {
                        "PolicyName": "vitality.aurora-readers",
                        "ResourceId": "cluster:c",
                        "ScalableDimension": "rds:cluster:ReadReplicaCount",
                        "PolicyType": "TargetTrackingScaling",
                    }
                ]
            },
        },
        True,
    ),
    # aurora_restore_drill: planned (check mode), and a restore AWS refuses (the clean-up and the check still run).
    "restore drill planned, check mode": (
        "aurora_restore_drill",
        {"source_cluster_identifier": "c", "db_instance_class": "db.r6g.large", **FAST},
        {
            "describe_db_clusters": drill_clusters,
            "describe_db_instances": {"DBInstances": []},
            "describe_db_cluster_snapshots": {"DBClusterSnapshots": [DRILL_SNAPSHOT]},
        },
        True,
    ),
    "restore drill failed": (
        "aurora_restore_drill",
        {"source_cluster_identifier": "c", "db_instance_class": "db.r6g.large", **FAST},
        {
            "describe_db_clusters": drill_clusters,
            "describe_db_instances": {"DBInstances": []},
            "describe_db_cluster_snapshots": {"DBClusterSnapshots": [DRILL_SNAPSHOT]},
            "restore_db_cluster_from_snapshot": not_found("InsufficientStorageClusterCapacity"),
        },
        False,
    ),
    "parameter group deleted": (
        "aurora_cluster_parameter_group",
        {"name": "pg", "state": "absent"},
        {"describe_db_cluster_parameter_groups": {"DBClusterParameterGroups": [GROUP]}},
        False,
    ),
}


@pytest.fixture(scope="module")
def scenario_results():
    """The result of each scenario, by module."""
    monkeypatch = pytest.MonkeyPatch()
    results = {}
    try:
        for title, (name, params, answers, check_mode) in SCENARIOS.items():
            result = run_main(monkeypatch, name, params, answers, check_mode)
            results.setdefault(name, []).append(dict(result, _scenario=title))
            monkeypatch.undo()
        results["aurora_settings"] = settings_results(monkeypatch)
        results["aurora_fleet_names"] = fleet_names_results(monkeypatch)
    finally:
        monkeypatch.undo()
    return results


def settings_results(monkeypatch):
    """The aurora_settings action plugin's results: typed (ansible-core >= 2.20), facts (older), refused."""
    from ansible.plugins import action as action_package
    from ansible.plugins.action import ActionBase

    from ansible_collections.vitality.aurora.plugins.action import aurora_settings

    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})

    def run(task_vars, entry_point="destroy"):
        action = object.__new__(aurora_settings.ActionModule)
        action._task = SimpleNamespace(args={"entry_point": entry_point})
        action._templar = SimpleNamespace(template=lambda value: value)
        action._display = SimpleNamespace(warning=lambda message: None)
        action.register_host_variables = lambda facts, layer: None
        return dict(action.run(task_vars=task_vars), _scenario=f"aurora_settings {entry_point} {sorted(task_vars)}")

    valid = {
        "aurora_cluster_name": "vitality",
        "aurora_cluster_environment": "dev",
        "aurora_cluster_aws_region": "us-east-1",
        "aurora_cluster_vpc_name": "vitality-dev-app-vpc",
    }
    results = [run(valid), run(dict(valid, aurora_cluster_no_such_variable="x"))]
    monkeypatch.delattr(action_package, "VariableLayer", raising=False)
    results.append(run(valid))
    return results


def fleet_names_results(monkeypatch):
    """The aurora_fleet_names action plugin's results: no shared name, shared names, and run before aurora_settings."""
    from ansible.plugins.action import ActionBase

    from ansible_collections.vitality.aurora.plugins.action import aurora_fleet_names

    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})

    def typed(name):
        return {
            "__aurora_cluster_name": name,
            "__aurora_cluster_identifier": f"{name}-aurora",
            "__aurora_cluster_aws_region": "us-east-1",
        }

    def run(me, others):
        action = object.__new__(aurora_fleet_names.ActionModule)
        task_vars = dict(
            me,
            inventory_hostname="a",
            ansible_play_hosts_all=["a", *others],
            hostvars={"a": me, **others},
        )
        return dict(action.run(task_vars=task_vars), _scenario=f"aurora_fleet_names with {sorted(others)}")

    return [
        run(typed("vitality-a"), {"b": typed("vitality-b")}),
        run(typed("vitality-a"), {"b": typed("vitality-a"), "c": {}}),
        run({}, {"b": typed("vitality-b")}),
    ]


# -- the checks ----------------------------------------------------------------------------------------------------


def undocumented(value, contains, where):
    """Keys of ``value`` (a dict, or a list of dicts) missing from a RETURN ``contains``, recursively."""
    items = value if isinstance(value, list) else [value]
    missing = []
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, nested in item.items():
            if key not in contains:
                missing.append(f"{where}.{key}")
            elif (contains[key] or {}).get("contains") and nested is not None:
                missing += undocumented(nested, contains[key]["contains"], f"{where}.{key}")
    return missing


def problems_of(name, results):
    returns = documented_returns(name)
    problems = set()
    for result in results:
        scenario = result.get("_scenario", "a harness run")
        for key, value in result.items():
            if key == "_scenario" or key in COMMON_KEYS:
                continue
            if key not in returns:
                problems.add(f"{key} (returned by {scenario}) is not in RETURN")
            elif (returns[key] or {}).get("contains") and value is not None:
                for path in undocumented(value, returns[key]["contains"], key):
                    problems.add(f"{path} (returned by {scenario}) is not in RETURN's contains")
    return sorted(problems)


@pytest.mark.parametrize("name", MODULES)
def test_every_returned_key_is_documented(name, harness_results, scenario_results):
    results = harness_results.get(name, []) + scenario_results.get(name, [])
    assert results, f"no result of {name} was recorded: the test would prove nothing"
    assert problems_of(name, results) == []


@pytest.mark.parametrize("name", MODULES)
def test_every_documented_key_has_description_returned_type_and_sample(name):
    def check(entries, where):
        found = []
        for key, entry in entries.items():
            for field in ("description", "type") + (("returned", "sample") if where == "" else ()):
                if field not in entry:
                    found.append(f"{where}{key}: no {field}")
            if entry.get("type") == "list" and "elements" not in entry:
                found.append(f"{where}{key}: a list without elements")
            found += check(entry.get("contains") or {}, f"{where}{key}.")
        return found

    assert check(documented_returns(name), "") == []


def test_an_undocumented_key_is_found():
    """The check itself: a key RETURN lacks, at the top or in a ``contains``, is named."""
    results = [
        {"changed": True, "writer": "w", "previous_writer": "w", "changes": [{"attribute": "writer", "x": 1}]},
        {"surprise": 1, "_scenario": "made up"},
    ]
    assert problems_of("aurora_cluster_failover", results) == [
        "changes.x (returned by a harness run) is not in RETURN's contains",
        "surprise (returned by made up) is not in RETURN",
    ]
