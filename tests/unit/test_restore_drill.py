"""The restore drill (module_utils/restore_drill.py) over a fake RDS and a fake clock.

The fake RDS holds clusters, instances and snapshots in memory; a created resource becomes available when the fake
clock reaches the time it was given, so the RTO arithmetic and the order of the steps are checked exactly, with no
waiting. tests/integration/test_drill.py runs the playbook against the local AWS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from ansible_collections.vitality.aurora.plugins.module_utils import drill_settings as ds
from ansible_collections.vitality.aurora.plugins.module_utils import restore_drill as d
from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi

LIVE = "vitality-dev-aurora"
EPOCH = datetime(2026, 12, 1, 4, 0, 0, tzinfo=UTC)
SNAPSHOT_TIME = EPOCH - timedelta(hours=3)
MUTATING = {
    "restore_db_cluster_from_snapshot": "RestoreDBClusterFromSnapshot",
    "restore_db_cluster_to_point_in_time": "RestoreDBClusterToPointInTime",
    "create_db_instance": "CreateDBInstance",
    "delete_db_instance": "DeleteDBInstance",
    "delete_db_cluster": "DeleteDBCluster",
    "modify_db_cluster": "ModifyDBCluster",
}


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def now(self):
        return EPOCH + timedelta(seconds=self.t)

    def monotonic(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds


def not_found(code):
    return ClientError({"Error": {"Code": code, "Message": "not found"}}, "Describe")


class FakeRds:
    """What the drill calls of RDS. ``durations``: seconds a restore / an instance create / a delete takes."""

    def __init__(self, clock, durations=None, fail=None):
        self.clock = clock
        self.durations = dict({"restore": 600, "instance": 300, "delete": 60}, **(durations or {}))
        self.fail = fail or {}
        self.calls = []
        self.clusters = {
            LIVE: {
                "DBClusterIdentifier": LIVE,
                "Status": "available",
                "Engine": "aurora-postgresql",
                "Port": 5432,
                "DBSubnetGroup": LIVE,
                "DBClusterParameterGroup": f"{LIVE}-params",
                "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-live"}],
                "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
                "StorageEncrypted": True,
                "IAMDatabaseAuthenticationEnabled": True,
                "DeletionProtection": True,
                "LatestRestorableTime": EPOCH - timedelta(minutes=5),
                "DBClusterMembers": [{"DBInstanceIdentifier": f"{LIVE}-writer", "IsClusterWriter": True}],
                "TagList": [{"Key": "Environment", "Value": "dev"}],
            }
        }
        self.instances = {
            f"{LIVE}-writer": {
                "DBInstanceIdentifier": f"{LIVE}-writer",
                "DBClusterIdentifier": LIVE,
                "DBInstanceStatus": "available",
                "TagList": [],
            }
        }
        self.snapshots = {
            f"rds:{LIVE}-old": self.snapshot(f"rds:{LIVE}-old", SNAPSHOT_TIME - timedelta(days=1), "automated"),
            f"rds:{LIVE}-new": self.snapshot(f"rds:{LIVE}-new", SNAPSHOT_TIME, "automated"),
            "manual-newer": self.snapshot("manual-newer", SNAPSHOT_TIME + timedelta(hours=1), "manual"),
        }
        self.meta = SimpleNamespace(method_to_api_mapping=MUTATING, region_name="us-east-1")
        self.ready = {}
        self.gone = {}

    @staticmethod
    def snapshot(name, when, kind):
        return {
            "DBClusterSnapshotIdentifier": name,
            "DBClusterIdentifier": LIVE,
            "SnapshotCreateTime": when,
            "SnapshotType": kind,
            "Status": "available",
            "Engine": "aurora-postgresql",
            "EngineVersion": "16.6",
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
        }

    # -- state over time --
    def settle(self):
        for key, at in list(self.ready.items()):
            if self.clock.t >= at:
                kind, identifier = key
                table = self.clusters if kind == "cluster" else self.instances
                if identifier in table:
                    table[identifier]["Status" if kind == "cluster" else "DBInstanceStatus"] = "available"
                del self.ready[key]
        for key, at in list(self.gone.items()):
            if self.clock.t >= at:
                kind, identifier = key
                (self.clusters if kind == "cluster" else self.instances).pop(identifier, None)
                if kind == "instance":
                    for cluster in self.clusters.values():
                        cluster["DBClusterMembers"] = [
                            m for m in cluster.get("DBClusterMembers") or [] if m["DBInstanceIdentifier"] != identifier
                        ]
                del self.gone[key]

    def record(self, method, params):
        self.calls.append((method, params))
        if method in self.fail:
            raise self.fail[method]

    # -- reads --
    def describe_db_clusters(self, DBClusterIdentifier=None, **_):
        self.settle()
        if DBClusterIdentifier:
            if DBClusterIdentifier not in self.clusters:
                raise not_found("DBClusterNotFoundFault")
            return {"DBClusters": [dict(self.clusters[DBClusterIdentifier])]}
        return {"DBClusters": [dict(c) for c in self.clusters.values()]}

    def describe_db_instances(self, DBInstanceIdentifier=None, **_):
        self.settle()
        if DBInstanceIdentifier:
            if DBInstanceIdentifier not in self.instances:
                raise not_found("DBInstanceNotFound")
            return {"DBInstances": [dict(self.instances[DBInstanceIdentifier])]}
        return {"DBInstances": [dict(i) for i in self.instances.values()]}

    def describe_db_cluster_snapshots(
        self, DBClusterIdentifier=None, DBClusterSnapshotIdentifier=None, SnapshotType=None, **_
    ):
        found = list(self.snapshots.values())
        if DBClusterSnapshotIdentifier:
            found = [s for s in found if s["DBClusterSnapshotIdentifier"] == DBClusterSnapshotIdentifier]
            if not found:
                raise not_found("DBClusterSnapshotNotFoundFault")
        if DBClusterIdentifier:
            found = [s for s in found if s["DBClusterIdentifier"] == DBClusterIdentifier]
        if SnapshotType:
            found = [s for s in found if s["SnapshotType"] == SnapshotType]
        return {"DBClusterSnapshots": found}

    def get_paginator(self, method):
        fake = self

        class Pages:
            def paginate(self, **params):
                return SimpleNamespace(build_full_result=lambda: getattr(fake, method)(**params))

        return Pages()

    # -- writes --
    def _restore(self, method, params):
        self.record(method, params)
        identifier = params["DBClusterIdentifier"]
        self.clusters[identifier] = {
            "DBClusterIdentifier": identifier,
            "Status": "creating",
            "Engine": "aurora-postgresql",
            "DBSubnetGroup": params["DBSubnetGroupName"],
            "DBClusterParameterGroup": params["DBClusterParameterGroupName"],
            "VpcSecurityGroups": [{"VpcSecurityGroupId": g} for g in params["VpcSecurityGroupIds"]],
            "KmsKeyId": params.get("KmsKeyId"),
            "StorageEncrypted": True,
            "IAMDatabaseAuthenticationEnabled": params.get("EnableIAMDatabaseAuthentication"),
            "DeletionProtection": params.get("DeletionProtection", False),
            "DBClusterMembers": [],
            "TagList": params.get("Tags") or [],
        }
        self.ready[("cluster", identifier)] = self.clock.t + self.durations["restore"]
        return {"DBCluster": dict(self.clusters[identifier])}

    def restore_db_cluster_from_snapshot(self, **params):
        return self._restore("restore_db_cluster_from_snapshot", params)

    def restore_db_cluster_to_point_in_time(self, **params):
        return self._restore("restore_db_cluster_to_point_in_time", params)

    def create_db_instance(self, **params):
        self.record("create_db_instance", params)
        identifier = params["DBInstanceIdentifier"]
        self.instances[identifier] = {
            "DBInstanceIdentifier": identifier,
            "DBClusterIdentifier": params["DBClusterIdentifier"],
            "DBInstanceStatus": "creating",
            "PubliclyAccessible": params["PubliclyAccessible"],
            "TagList": params.get("Tags") or [],
        }
        self.clusters[params["DBClusterIdentifier"]]["DBClusterMembers"].append(
            {"DBInstanceIdentifier": identifier, "IsClusterWriter": True}
        )
        self.ready[("instance", identifier)] = self.clock.t + self.durations["instance"]
        return {"DBInstance": dict(self.instances[identifier])}

    def delete_db_instance(self, **params):
        self.record("delete_db_instance", params)
        self.instances[params["DBInstanceIdentifier"]]["DBInstanceStatus"] = "deleting"
        self.gone[("instance", params["DBInstanceIdentifier"])] = self.clock.t + self.durations["delete"]
        return {}

    def delete_db_cluster(self, **params):
        self.record("delete_db_cluster", params)
        cluster = self.clusters[params["DBClusterIdentifier"]]
        assert not cluster["DeletionProtection"], "deleted with deletion protection on"
        assert not cluster["DBClusterMembers"], "deleted with members"
        cluster["Status"] = "deleting"
        self.gone[("cluster", params["DBClusterIdentifier"])] = self.clock.t + self.durations["delete"]
        return {}

    def modify_db_cluster(self, **params):
        self.record("modify_db_cluster", params)
        self.clusters[params["DBClusterIdentifier"]]["DeletionProtection"] = params["DeletionProtection"]
        return {}


def params(**overrides):
    given = {
        "source_cluster_identifier": LIVE,
        "source": "latest-automated",
        "snapshot_identifier": None,
        "restore_to_time": None,
        "db_instance_class": "db.t4g.medium",
        "db_subnet_group_name": None,
        "vpc_security_group_ids": None,
        "db_cluster_parameter_group_name": None,
        "kms_key_id": None,
        "port": None,
        "enable_iam_database_authentication": True,
        "serverless_v2_scaling_configuration": None,
        "storage_type": None,
        "tags": {"Environment": "dev"},
        "wait_timeout": 3600,
        "wait_max_poll_interval": 1.0,
        "region": "us-east-1",
    }
    given.update(overrides)
    return given


def fresh(**overrides):
    """A drill over a fake RDS of its own, on a clock of its own."""
    own = FakeClock()
    return drill(FakeRds(own), own, **overrides)


def drill(rds, clock, **overrides):
    return d.Drill(params(**overrides), AwsApi(d.RaisingModule(), "rds", client=rds), clock=clock)


@pytest.fixture
def clock():
    return FakeClock()


def mutating(rds):
    return [method for method, _params in rds.calls]


def test_rto_and_rpo_are_measured_on_the_clock(clock):
    rds = FakeRds(clock, {"restore": 600, "instance": 300})
    result = drill(rds, clock).run()
    assert result["outcome"] == "passed", result["error"]
    # The restore answered at t=0, the cluster was available at 600 s, the writer 300 s later.
    assert result["cluster_available_seconds"] == 600.0
    assert result["rto_seconds"] == 900.0
    assert result["available_at"] == "2026-12-01T04:15:00Z"
    # Data age: the drill's start minus the newest automated snapshot's time (3 h), not the newer manual one.
    assert result["snapshot"] == f"rds:{LIVE}-new"
    assert result["restored_to"] == "2026-12-01T01:00:00Z"
    assert result["rpo_seconds"] == 3 * 3600.0
    assert result["cleanup"]["left"] == []


def test_steps_in_order_and_every_call_on_the_drill_cluster(clock):
    rds = FakeRds(clock)
    result = drill(rds, clock).run()
    identifier = result["drill_identifier"]
    assert identifier == f"{LIVE}-drill-20261201040000"
    assert [s["step"] for s in result["steps"]] == [
        "restore the cluster",
        "create the writer",
        f"delete instance {identifier}-writer",
        f"delete cluster {identifier}",
        "check the account for what the drill created",
    ]
    assert [s["seconds"] for s in result["steps"]][:2] == [600.0, 300.0]
    assert mutating(rds) == [
        "restore_db_cluster_from_snapshot",
        "create_db_instance",
        "delete_db_instance",
        "delete_db_cluster",
    ]
    restore = rds.calls[0][1]
    assert restore["DBClusterIdentifier"] == identifier
    assert restore["SnapshotIdentifier"] == f"rds:{LIVE}-new"
    # The stack's security, read from the live cluster.
    assert restore["VpcSecurityGroupIds"] == ["sg-live"]
    assert restore["DBSubnetGroupName"] == LIVE
    assert restore["DBClusterParameterGroupName"] == f"{LIVE}-params"
    assert restore["KmsKeyId"].endswith("key/k")
    assert restore["EnableIAMDatabaseAuthentication"] is True
    assert restore["DeletionProtection"] is False
    assert {"Key": d.DRILL_TAG, "Value": LIVE} in restore["Tags"]
    assert rds.calls[1][1]["PubliclyAccessible"] is False
    assert rds.calls[3][1]["SkipFinalSnapshot"] is True
    assert rds.calls[3][1]["DeleteAutomatedBackups"] is True
    # The live cluster was only read.
    assert all(p.get("DBClusterIdentifier") != LIVE for _m, p in rds.calls)
    assert LIVE in rds.clusters and rds.clusters[LIVE]["DeletionProtection"] is True
    assert result["plan"][0].startswith(
        f"1. cluster {identifier}: create (drill): restore from snapshot rds:{LIVE}-new [online]"
    )


def test_point_in_time(clock):
    rds = FakeRds(clock)
    result = drill(rds, clock, source="point-in-time", restore_to_time="2026-12-01T03:30:00Z").run()
    assert result["outcome"] == "passed", result["error"]
    assert rds.calls[0][0] == "restore_db_cluster_to_point_in_time"
    assert rds.calls[0][1]["SourceDBClusterIdentifier"] == LIVE
    assert rds.calls[0][1]["RestoreToTime"] == "2026-12-01T03:30:00Z"
    assert result["rpo_seconds"] == 1800.0
    latest = fresh(source="point-in-time").run()
    assert latest["restored_to"] == "2026-12-01T03:55:00Z" and latest["rpo_seconds"] == 300.0


def test_named_and_latest_of_any_type(clock):
    assert drill(FakeRds(clock), clock, source="latest-snapshot").run()["snapshot"] == "manual-newer"
    result = fresh(source="snapshot", snapshot_identifier=f"rds:{LIVE}-old").run()
    assert result["snapshot"] == f"rds:{LIVE}-old"
    missing = fresh(source="snapshot", snapshot_identifier="nope").run()
    assert missing["failed"] and "no such cluster snapshot" in missing["error"]


def test_a_failed_writer_is_still_cleaned_up(clock):
    rds = FakeRds(
        clock,
        fail={
            "create_db_instance": ClientError(
                {"Error": {"Code": "InsufficientDBInstanceCapacity", "Message": "no"}}, "CreateDBInstance"
            )
        },
    )
    result = drill(rds, clock).run()
    assert result["failed"] and "CreateDBInstance" in result["error"]
    assert mutating(rds) == ["restore_db_cluster_from_snapshot", "create_db_instance", "delete_db_cluster"]
    assert result["cleanup"]["left"] == []
    assert set(rds.clusters) == {LIVE}


def test_a_restore_that_times_out_is_deleted(clock):
    rds = FakeRds(clock, {"restore": 10_000})
    result = drill(rds, clock, wait_timeout=120).run()
    assert result["failed"] and "Timed out" in result["error"]
    assert mutating(rds)[-1] == "delete_db_cluster" and set(rds.clusters) == {LIVE}


def test_an_interrupted_drill_is_deleted_first(clock):
    rds = FakeRds(clock)
    # What a killed run leaves: a tagged cluster, deletion protection on (as moto gives it), and its writer.
    old = f"{LIVE}-drill-20261130040000"
    tags = [{"Key": d.DRILL_TAG, "Value": LIVE}]
    rds.clusters[old] = dict(
        rds.clusters[LIVE],
        DBClusterIdentifier=old,
        TagList=tags,
        DBClusterMembers=[{"DBInstanceIdentifier": old + "-writer"}],
    )
    rds.instances[old + "-writer"] = {
        "DBInstanceIdentifier": old + "-writer",
        "DBClusterIdentifier": old,
        "DBInstanceStatus": "available",
        "TagList": tags,
    }
    plan, _snapshot, _live = drill(rds, clock).plan()
    assert [a.line() for a in plan][:2] == [
        f"1. instance {old}-writer: delete (left by an interrupted drill) [online] - none on the live cluster",
        f"2. cluster {old}: delete, no final snapshot, its automated backups with it (left by an interrupted drill) [online]"
        " - none on the live cluster. deletion protection turned off first only if the temporary cluster has it on",
    ]
    assert rds.calls == []  # planning mutates nothing
    result = drill(rds, clock).run()
    assert result["outcome"] == "passed", result["error"]
    assert [s["step"] for s in result["steps"]][:2] == [
        f"delete leftover instance {old}-writer",
        f"delete leftover cluster {old}",
    ]
    assert mutating(rds)[:3] == ["delete_db_instance", "modify_db_cluster", "delete_db_cluster"]
    assert rds.calls[1][1] == {"DBClusterIdentifier": old, "DeletionProtection": False, "ApplyImmediately": True}
    assert set(rds.clusters) == {LIVE} and set(rds.instances) == {f"{LIVE}-writer"}


def test_guard_refuses_the_live_cluster_and_untagged_drill_names(clock):
    rds = FakeRds(clock)
    guarded = drill(rds, clock)
    with pytest.raises(d.DrillError, match="not a drill identifier"):
        guarded.delete_cluster(LIVE)
    rds.clusters[f"{LIVE}-drill-1"] = dict(rds.clusters[LIVE], DBClusterIdentifier=f"{LIVE}-drill-1")
    with pytest.raises(d.DrillError, match="has no vitality.aurora:restore-drill"):
        guarded.delete_cluster(f"{LIVE}-drill-1")
    with pytest.raises(d.DrillError, match="not a drill identifier"):
        guarded.delete_instance(f"{LIVE}-writer")
    assert rds.calls == []


def test_left_behind_fails_the_drill(clock):
    rds = FakeRds(clock)
    orphan = f"{LIVE}-drill-20261129000000"
    # A snapshot of a drill cluster: AWS deletes automated ones with the cluster; anything left is reported.
    rds.snapshots["orphan"] = dict(FakeRds.snapshot("orphan", EPOCH, "manual"), DBClusterIdentifier=orphan)
    probe = drill(rds, clock)
    rds.clusters[orphan] = {"DBClusterIdentifier": orphan, "TagList": [{"Key": d.DRILL_TAG, "Value": LIVE}]}
    check = probe.check_account()
    assert check["left"] == [f"cluster {orphan}", "cluster snapshot orphan"]


def test_identifier_fits_and_is_derived():
    started = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    long_name = "a" * 34 + "-" + "b" * 28
    identifier = d.drill_identifier(long_name, started)
    assert len(identifier + d.WRITER_SUFFIX) <= 63
    assert identifier.endswith("-drill-20261201040000") and "--" not in identifier
    assert d.drill_identifier(LIVE, started) != LIVE


@pytest.mark.parametrize(
    "given, message",
    [
        ({"source": "snapshot"}, "source=snapshot needs snapshot_identifier"),
        ({"snapshot_identifier": "s"}, "only read with source=snapshot"),
        ({"restore_to_time": "2026-11-25T06:00:00Z"}, "only read with source=point-in-time"),
        ({"source": "point-in-time", "restore_to_time": "yesterday"}, "is not a UTC time"),
        ({"source": "point-in-time", "restore_to_time": "2026-11-25T06:00:00"}, "is not a UTC time"),
        ({"source": "latest"}, "is not one of latest-automated"),
        ({"source_cluster_identifier": ""}, "source_cluster_identifier is empty"),
    ],
)
def test_input_errors(given, message):
    errors = ds.input_errors(params(**given))
    assert any(message in e for e in errors), errors


def test_input_accepted():
    assert ds.input_errors(params()) == []
    assert ds.input_errors(params(source="point-in-time", restore_to_time="2026-11-25T06:00:00+00:00")) == []
    assert ds.input_errors(params(source="snapshot", snapshot_identifier="rds:x")) == []


def test_report_files(tmp_path, clock):
    result = drill(FakeRds(clock), clock).run()
    files = d.write_drill_report(str(tmp_path / "r" / "drill"), result)
    text = (tmp_path / "r" / "drill.md").read_text()
    assert "| Time to available, cluster and writer (RTO) | 15.0 min (900 s) |" in text
    assert "| Data age at restore (RPO) | 3.0 h (10800 s) |" in text
    import json

    document = json.loads((tmp_path / "r" / "drill.json").read_text())
    assert document["schema"] == d.REPORT_SCHEMA and document["rto_seconds"] == 900.0
    assert files == {"json": str(tmp_path / "r" / "drill.json"), "markdown": str(tmp_path / "r" / "drill.md")}
    assert oct((tmp_path / "r" / "drill.md").stat().st_mode & 0o777) == "0o600"


# -- the role's variables (entry point drill), typed by aurora_settings then checked, in every input form --------

REQUIRED = {
    "aurora_cluster_name": "vitality-dev",
    "aurora_cluster_environment": "dev",
    "aurora_cluster_aws_region": "us-east-1",
    "aurora_cluster_vpc_name": "vitality-dev-app-vpc",
    "aurora_cluster_identifier": LIVE,
}
DRILL_GUARDS = {
    "snapshot without its name": (
        {"aurora_cluster_drill_source": "snapshot"},
        "aurora_cluster_drill_source=snapshot needs aurora_cluster_drill_snapshot",
    ),
    "snapshot name with another source": (
        {"aurora_cluster_drill_snapshot": "rds:x"},
        "aurora_cluster_drill_snapshot='rds:x' is only read with aurora_cluster_drill_source=snapshot",
    ),
    "time with another source": (
        {"aurora_cluster_drill_restore_to_time": "2026-11-25T06:00:00Z"},
        "aurora_cluster_drill_restore_to_time='2026-11-25T06:00:00Z' is only read with aurora_cluster_drill_source=point-in-time",
    ),
    "time not UTC": (
        {"aurora_cluster_drill_source": "point-in-time", "aurora_cluster_drill_restore_to_time": "2026-11-25 06:00"},
        "aurora_cluster_drill_restore_to_time='2026-11-25 06:00' is not a UTC time",
    ),
    "unknown source": (
        {"aurora_cluster_drill_source": "latest"},
        "aurora_cluster_drill_source='latest' is not one of latest-automated, latest-snapshot, snapshot, point-in-time",
    ),
}


def forms(values):
    """The values as YAML gives them, as a YAML string, as -e name=value gives them, and as -e JSON gives them."""
    import json

    import yaml

    yield "yaml", values
    yield "yaml string", {k: yaml.safe_load(json.dumps(str(v))) for k, v in values.items()}
    yield "-e name=value", {k: str(v) for k, v in values.items()}
    yield "-e json", json.loads(json.dumps(values))


def role_errors(values):
    from ansible_collections.vitality.aurora.plugins.plugin_utils.role_settings import (
        convert_all,
        load_role_spec,
        spec_path,
    )

    spec = load_role_spec(spec_path("aurora_cluster"))["drill"]
    typed, errors = convert_all(dict(REQUIRED, **values), spec)
    return errors or ds.drill_setting_errors(typed)


@pytest.mark.parametrize("guard", sorted(DRILL_GUARDS))
def test_each_drill_guard_in_every_input_form(guard):
    values, message = DRILL_GUARDS[guard]
    for form, given in forms(values):
        errors = role_errors(given)
        assert any(message in e for e in errors), (form, errors)


def test_the_drill_defaults_pass_and_an_unquoted_yaml_time_is_refused_by_type():
    assert role_errors({}) == []
    assert (
        role_errors(
            {
                "aurora_cluster_drill_source": "point-in-time",
                "aurora_cluster_drill_restore_to_time": "2026-11-25T06:00:00Z",
            }
        )
        == []
    )
    when = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    errors = role_errors({"aurora_cluster_drill_source": "point-in-time", "aurora_cluster_drill_restore_to_time": when})
    assert any("aurora_cluster_drill_restore_to_time=" in e and "is not text" in e for e in errors), errors


# -- a drill in another Region (aurora_cluster_drill_region): the copy, the secondary's network, the clean-up ---------

WEST = "us-west-2"
WEST_KEY = f"arn:aws:kms:{WEST}:123456789012:key/west"
SOURCE_ARN = f"arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rds:{LIVE}-new"
SECONDARY = f"vitality-dev-{WEST}"


class FakeWestRds(FakeRds):
    """RDS of the drill's Region: the global database's secondary cluster, the stack's DB subnet group and parameter
    group (``network``), and snapshot copies that become available ``durations["copy"]`` seconds after the call."""

    def __init__(self, clock, durations=None, fail=None, network=True, lose_copy_answer=False):
        super().__init__(clock, dict({"copy": 1200}, **(durations or {})), fail)
        self.meta = SimpleNamespace(
            method_to_api_mapping=dict(MUTATING, copy_db_cluster_snapshot="CopyDBClusterSnapshot"), region_name=WEST
        )
        secondary = dict(self.clusters[LIVE], DBClusterIdentifier=SECONDARY, DBClusterMembers=[], KmsKeyId=WEST_KEY)
        self.clusters = {SECONDARY: secondary}
        self.instances = {}
        self.snapshots = {}
        self.network = network
        self.lose_copy_answer = lose_copy_answer

    def settle(self):
        # Snapshots first: FakeRds.settle takes any other kind for an instance.
        for key, at in list(self.ready.items()):
            if key[0] == "snapshot" and self.clock.t >= at:
                if key[1] in self.snapshots:
                    self.snapshots[key[1]]["Status"] = "available"
                del self.ready[key]
        super().settle()

    def describe_db_cluster_snapshots(self, **params):
        self.settle()
        answer = super().describe_db_cluster_snapshots(**params)
        return {"DBClusterSnapshots": [dict(s) for s in answer["DBClusterSnapshots"]]}

    def describe_db_subnet_groups(self, DBSubnetGroupName):
        if not self.network:
            raise not_found("DBSubnetGroupNotFoundFault")
        return {"DBSubnetGroups": [{"DBSubnetGroupName": DBSubnetGroupName}]}

    def describe_db_cluster_parameter_groups(self, DBClusterParameterGroupName):
        if not self.network:
            raise not_found("DBParameterGroupNotFound")
        return {"DBClusterParameterGroups": [{"DBClusterParameterGroupName": DBClusterParameterGroupName}]}

    def copy_db_cluster_snapshot(self, **params):
        self.record("copy_db_cluster_snapshot", params)
        name = params["TargetDBClusterSnapshotIdentifier"]
        self.snapshots[name] = dict(
            FakeRds.snapshot(name, SNAPSHOT_TIME, "manual"), Status="copying", KmsKeyId=params.get("KmsKeyId"),
            TagList=params.get("Tags") or [],
        )  # fmt: skip
        self.ready[("snapshot", name)] = self.clock.t + self.durations["copy"]
        if self.lose_copy_answer:
            raise ClientError({"Error": {"Code": "RequestTimeout", "Message": "lost"}}, "CopyDBClusterSnapshot")
        return {"DBClusterSnapshot": dict(self.snapshots[name])}

    def delete_db_cluster_snapshot(self, **params):
        self.record("delete_db_cluster_snapshot", params)
        self.snapshots.pop(params["DBClusterSnapshotIdentifier"])
        return {}


class FakeNetwork:
    """EC2 and KMS of the drill's Region: the stack's VPC, its database security group and the secondary's key."""

    def __init__(self, present=True):
        self.present = present

    def describe_vpcs(self, Filters):
        return {"Vpcs": [{"VpcId": "vpc-west"}] if self.present else []}

    def describe_security_groups(self, Filters):
        return {"SecurityGroups": [{"GroupId": "sg-west", "GroupName": "vitality-dev-db"}] if self.present else []}

    def describe_key(self, KeyId):
        if not self.present:
            raise not_found("NotFoundException")
        assert KeyId == f"alias/{SECONDARY}"
        return {"KeyMetadata": {"Arn": WEST_KEY, "KeyState": "Enabled"}}


def with_arns(east):
    for snapshot in east.snapshots.values():
        snapshot["DBClusterSnapshotArn"] = SOURCE_ARN.replace(
            f"rds:{LIVE}-new", snapshot["DBClusterSnapshotIdentifier"]
        )
    return east


def west_drill(clock, east=None, west=None, network=None, **overrides):
    east = with_arns(east or FakeRds(clock))
    west = west or FakeWestRds(clock)
    given = dict(
        target_region=WEST,
        target_vpc_name="vitality-dev-app-vpc",
        target_security_group_name="vitality-dev-db",
        stack_name="vitality-dev",
        db_subnet_group_name="vitality-dev-db-subnets",
        db_cluster_parameter_group_name="vitality-dev-aurora-pg16",
    )
    given.update(overrides)
    fake_network = network or FakeNetwork()
    drilled = d.Drill(
        params(**given),
        AwsApi(d.RaisingModule(), "rds", client=west),
        clock=clock,
        source_api=AwsApi(d.RaisingModule(), "rds", client=east),
        network_apis={s: AwsApi(d.RaisingModule(), s, client=fake_network) for s in ("ec2", "kms")},
    )
    return drilled, east, west


def test_a_drill_in_another_region_copies_the_snapshot_and_restores_it_into_the_secondary_network(clock):
    drilled, east, west = west_drill(clock)
    secondary_before = dict(west.clusters[SECONDARY])
    result = drilled.run()
    assert result["outcome"] == "passed", result["error"]
    identifier = result["drill_identifier"]
    copy = f"{identifier}-copy"
    assert (result["region"], result["source_region"]) == (WEST, "us-east-1")
    assert result["snapshot"] == f"rds:{LIVE}-new" and result["copied_snapshot"] == copy
    assert result["snapshot_origin"] == f"copy of rds:{LIVE}-new from us-east-1"
    # The copy is its own step, outside the RTO of the restore; their sum is reported too.
    assert (result["copy_seconds"], result["cluster_available_seconds"], result["rto_seconds"]) == (
        1200.0,
        600.0,
        900.0,
    )
    assert result["rto_with_copy_seconds"] == 2100.0
    assert [s["step"] for s in result["steps"]] == [
        f"copy the snapshot to {WEST}",
        "restore the cluster",
        "create the writer",
        f"delete instance {identifier}-writer",
        f"delete cluster {identifier}",
        f"delete cluster snapshot {copy}",
        "check the account for what the drill created",
    ]
    # The stack's Region is only read; every change is in the drill's Region, on what the drill made.
    assert east.calls == []
    assert mutating(west) == [
        "copy_db_cluster_snapshot",
        "restore_db_cluster_from_snapshot",
        "create_db_instance",
        "delete_db_instance",
        "delete_db_cluster",
        "delete_db_cluster_snapshot",
    ]
    copied = west.calls[0][1]
    assert copied["SourceDBClusterSnapshotIdentifier"] == SOURCE_ARN
    assert copied["SourceRegion"] == "us-east-1" and copied["KmsKeyId"] == WEST_KEY
    assert copied["TargetDBClusterSnapshotIdentifier"] == copy and {"Key": d.DRILL_TAG, "Value": LIVE} in copied["Tags"]
    restore = west.calls[1][1]
    assert restore["SnapshotIdentifier"] == copy
    assert restore["VpcSecurityGroupIds"] == ["sg-west"] and restore["KmsKeyId"] == WEST_KEY
    assert restore["DBSubnetGroupName"] == "vitality-dev-db-subnets"
    assert restore["DBClusterParameterGroupName"] == "vitality-dev-aurora-pg16"
    assert all(c["ok"] for c in result["security_checks"]), result["security_checks"]
    assert west.clusters == {SECONDARY: secondary_before} and west.snapshots == {}
    assert result["cleanup"] == {
        "checked": True,
        "left": [],
        "looked_for": f"tag {d.DRILL_TAG}={LIVE}",
        "region": WEST,
    }
    # Each step of the plan names its Region.
    assert result["plan"][0].startswith(
        f"1. cluster snapshot {copy} in {WEST}: create (drill): copy snapshot rds:{LIVE}-new from us-east-1, "
        f"encrypted with {WEST_KEY} [online]"
    )
    assert all(f" in {WEST}: " in line for line in result["plan"])


def test_a_drill_in_another_region_without_the_secondary_network_changes_nothing(clock):
    drilled, east, west = west_drill(clock, west=FakeWestRds(clock, network=False), network=FakeNetwork(False))
    with pytest.raises(d.DrillError) as refused:
        drilled.plan()
    message = str(refused.value)
    for missing in (
        "one VPC named vitality-dev-app-vpc (found 0)",
        "DB subnet group vitality-dev-db-subnets",
        "cluster parameter group vitality-dev-aurora-pg16",
        f"KMS key alias/{SECONDARY} (enabled)",
    ):
        assert missing in message, message
    assert f"aurora_cluster_secondary_region={WEST}" in message and "nothing was changed" in message
    result = west_drill(clock, west=west, network=FakeNetwork(False))[0].run()
    assert result["failed"] and "these are missing" in result["error"]
    assert mutating(west) == [] and east.calls == []


def test_a_lost_copy_answer_is_read_back_and_the_drill_goes_on(clock):
    west = FakeWestRds(clock, lose_copy_answer=True)
    result = west_drill(clock, west=west)[0].run()
    assert result["outcome"] == "passed", result["error"]
    assert mutating(west).count("copy_db_cluster_snapshot") == 1 and west.snapshots == {}


def test_an_interrupted_drills_copy_is_deleted_first_and_an_untagged_one_is_refused(clock):
    west = FakeWestRds(clock)
    old = f"{LIVE}-drill-20261130040000-copy"
    west.snapshots[old] = dict(
        FakeRds.snapshot(old, SNAPSHOT_TIME, "manual"), TagList=[{"Key": d.DRILL_TAG, "Value": LIVE}]
    )
    drilled = west_drill(clock, west=west)[0]
    plan, _snapshot, _live = drilled.plan()
    assert (
        plan[0]
        .line()
        .startswith(
            f"1. cluster snapshot {old} in {WEST}: delete (the drill's copy) (left by an interrupted drill) [online]"
        )
    )
    assert west.calls == []
    result = drilled.run()
    assert result["outcome"] == "passed", result["error"]
    assert result["steps"][0]["step"] == f"delete leftover cluster snapshot {old} in {WEST}"
    assert west.snapshots == {}
    west.snapshots["someone-elses-drill-1"] = FakeRds.snapshot("someone-elses-drill-1", SNAPSHOT_TIME, "manual")
    with pytest.raises(d.DrillError, match="has no vitality.aurora:restore-drill"):
        drilled.delete_copy("someone-elses-drill-1")
    assert "someone-elses-drill-1" in west.snapshots


@pytest.mark.parametrize(
    "given, message",
    [
        ({"source": "point-in-time"}, "source=point-in-time with target_region='us-west-2': Aurora restores a point"),
        ({"target_vpc_name": None}, "target_vpc_name is empty: target_region='us-west-2' restores into"),
        ({"target_security_group_name": ""}, "target_security_group_name is empty"),
        ({"target_region": "uswest2"}, "target_region='uswest2' is not a Region name"),
    ],
)
def test_input_errors_of_another_region(given, message):
    base = {"target_region": WEST, "target_vpc_name": "v", "target_security_group_name": "g"}
    errors = ds.input_errors(params(**dict(base, **given)))
    assert any(message in e for e in errors), errors
    assert ds.input_errors(params(**base)) == []
    # The stack's own Region is the drill of today: none of the other Region's rules apply.
    assert ds.input_errors(params(target_region="us-east-1", source="point-in-time")) == []


REGION_GUARDS = {
    "not a Region name": (
        {"aurora_cluster_drill_region": "west"},
        "aurora_cluster_drill_region='west' is not a Region name",
    ),
    "not the secondary's Region": (
        {
            "aurora_cluster_drill_region": "eu-west-1",
            "aurora_cluster_secondary_region": WEST,
            "aurora_cluster_secondary_vpc_name": "vitality-dev-app-vpc",
        },
        "aurora_cluster_drill_region='eu-west-1' is not aurora_cluster_secondary_region ('us-west-2')",
    ),
    "no global database": (
        {"aurora_cluster_drill_region": WEST},
        "aurora_cluster_secondary_vpc_name is empty: aurora_cluster_drill_region='us-west-2' restores into",
    ),
    "point in time there": (
        {
            "aurora_cluster_drill_region": WEST,
            "aurora_cluster_drill_source": "point-in-time",
            "aurora_cluster_secondary_region": WEST,
            "aurora_cluster_secondary_vpc_name": "vitality-dev-app-vpc",
        },
        "aurora_cluster_drill_source=point-in-time with aurora_cluster_drill_region='us-west-2'",
    ),
}


@pytest.mark.parametrize("guard", sorted(REGION_GUARDS))
def test_each_drill_region_guard_in_every_input_form(guard):
    values, message = REGION_GUARDS[guard]
    for form, given in forms(values):
        errors = role_errors(given)
        assert any(message in e for e in errors), (form, errors)


def test_a_drill_region_of_the_secondary_or_the_stack_passes():
    secondary = {
        "aurora_cluster_secondary_region": WEST,
        "aurora_cluster_secondary_vpc_name": "vitality-dev-app-vpc",
        # defaults/main.yml's "<aurora_cluster_name>-db" in a play.
        "aurora_cluster_db_security_group_name": "vitality-dev-db",
    }
    for form, given in forms(dict(secondary, aurora_cluster_drill_region=WEST)):
        assert role_errors(given) == [], form
    assert (
        role_errors({"aurora_cluster_drill_region": "us-east-1", "aurora_cluster_drill_source": "point-in-time"}) == []
    )
