import inspect
import json

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils import cluster_settings
from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.changes import (
    IMPOSSIBLE,
    MAJOR_UPGRADE,
    REBOOT,
    plan_changes,
)
from ansible_collections.vitality.aurora.plugins.modules import aurora_cluster as m

BASE_PARAMS = {
    "db_cluster_identifier": "c",
    "engine": "aurora-postgresql",
    "engine_version": "16.6",
    "port": 5432,
    "database_name": "dbname",
    "master_username": "admin1",
    "manage_master_user_password": True,
    "master_user_password": None,
    "master_user_secret_kms_key_id": None,
    "storage_encrypted": True,
    "kms_key_id": None,
    "db_subnet_group_name": "sn",
    "vpc_security_group_ids": ["sg-1"],
    "db_cluster_parameter_group_name": "pg",
    "backup_retention_period": 7,
    "preferred_backup_window": "03:00-04:00",
    "preferred_maintenance_window": "sun:05:00-sun:06:00",
    "copy_tags_to_snapshot": True,
    "deletion_protection": False,
    "enable_iam_database_authentication": False,
    "enable_cloudwatch_logs_exports": ["postgresql"],
    "apply_immediately": True,
    "tags": {"Project": "vitality"},
}

DESCRIBED = {
    "DBClusterIdentifier": "c",
    "Engine": "aurora-postgresql",
    "EngineVersion": "16.6",
    "Port": 5432,
    "DatabaseName": "dbname",
    "MasterUsername": "admin1",
    "StorageEncrypted": True,
    "DBSubnetGroup": "sn",
    "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1", "Status": "active"}],
    "DBClusterParameterGroup": "pg",
    "BackupRetentionPeriod": 7,
    "PreferredBackupWindow": "03:00-04:00",
    "PreferredMaintenanceWindow": "sun:05:00-sun:06:00",
    "CopyTagsToSnapshot": True,
    "DeletionProtection": False,
    "IAMDatabaseAuthenticationEnabled": False,
    "EnabledCloudwatchLogsExports": ["postgresql"],
    "MasterUserSecret": {"SecretArn": "arn:secret", "KmsKeyId": "arn:aws:kms:us-east-1:1:key/abc"},
}


def plan(params=None, described=None):
    desired = m.desired_state(dict(BASE_PARAMS, **(params or {})))
    return plan_changes(
        cluster_settings.ATTRIBUTES, cluster_settings.effective_state(dict(DESCRIBED, **(described or {}))), desired
    )


def test_described_cluster_matching_inputs_has_no_changes():
    assert plan() == []


def test_response_missing_optional_fields_is_read_as_aws_defaults():
    # A smaller response (as from a local endpoint) must not invent changes.
    described = dict(DESCRIBED)
    for key in ("CopyTagsToSnapshot", "DeletionProtection", "IAMDatabaseAuthenticationEnabled"):
        described.pop(key)
    params = {"copy_tags_to_snapshot": False, "deletion_protection": False}
    changes = plan_changes(cluster_settings.ATTRIBUTES, described, m.desired_state(dict(BASE_PARAMS, **params)))
    assert changes == []


def test_immutable_attributes_are_impossible_in_place():
    changes = plan(
        {"database_name": "other", "master_username": "root", "storage_encrypted": True}, {"StorageEncrypted": False}
    )
    by_name = {c["attribute"]: c for c in changes}
    assert by_name["database_name"]["impact"] == IMPOSSIBLE
    assert by_name["master_username"]["impact"] == IMPOSSIBLE
    assert by_name["storage_encrypted"]["impact"] == IMPOSSIBLE


def test_port_change_is_a_reboot_and_maps_to_modify():
    changes = plan({"port": 6000})
    assert changes == [{"attribute": "port", "before": 5432, "after": 6000, "impact": REBOOT}]
    request = m.modify_request("c", changes, dict(BASE_PARAMS, port=6000))
    assert request == {"DBClusterIdentifier": "c", "Port": 6000, "ApplyImmediately": True}


def test_log_exports_become_enable_and_disable_lists():
    changes = plan({"enable_cloudwatch_logs_exports": ["iam-db-auth-error"]})
    request = m.modify_request("c", changes, BASE_PARAMS)
    assert request["CloudwatchLogsExportConfiguration"] == {
        "EnableLogTypes": ["iam-db-auth-error"],
        "DisableLogTypes": ["postgresql"],
    }


def test_pending_values_count_as_applied():
    # Accepted for the maintenance window: re-running must not ask again.
    assert plan({"backup_retention_period": 14}, {"PendingModifiedValues": {"BackupRetentionPeriod": 14}}) == []


def test_taking_over_the_password_sends_it_only_with_the_switch():
    params = dict(BASE_PARAMS, manage_master_user_password=False, master_user_password="s3cret-Passw0rd")
    changes = plan_changes(cluster_settings.ATTRIBUTES, DESCRIBED, m.desired_state(params))
    assert [c["attribute"] for c in changes] == ["manage_master_user_password"]
    request = m.modify_request("c", changes, params)
    assert request["ManageMasterUserPassword"] is False
    assert request["MasterUserPassword"] == "s3cret-Passw0rd"
    assert "s3cret" not in repr(m.public_diff(changes))


def test_create_request_defaults_to_managed_password_and_drops_unset():
    request = m.create_request("c", dict(BASE_PARAMS, kms_key_id=None))
    assert request["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in request
    assert "KmsKeyId" not in request and "MasterUserSecretKmsKeyId" not in request
    assert request["StorageEncrypted"] is True
    assert request["Tags"] == [{"Key": "Project", "Value": "vitality"}]


def test_create_request_with_own_password():
    request = m.create_request("c", dict(BASE_PARAMS, manage_master_user_password=False, master_user_password="pw"))
    assert request["MasterUserPassword"] == "pw"
    assert "ManageMasterUserPassword" not in request


def test_newer_running_minor_is_kept_never_downgraded():
    change, notice, error = cluster_settings.engine_version_change("16.8", "16.6")
    assert change is None and error is None
    assert "16.8" in notice and "kept" in notice


def test_major_only_version_accepts_any_minor():
    assert cluster_settings.engine_version_change("16.8", "16") == (None, None, None)


def test_higher_minor_is_an_upgrade_with_reboot():
    change, notice, error = cluster_settings.engine_version_change("16.4", "16.6")
    assert change == {"attribute": "engine_version", "before": "16.4", "after": "16.6", "impact": REBOOT}
    assert m.modify_request("c", [change], BASE_PARAMS)["EngineVersion"] == "16.6"


def test_a_higher_major_version_is_a_major_upgrade_applied_now():
    change, notice, error = cluster_settings.engine_version_change("16.6", "17.4")
    assert (notice, error) == (None, None)
    assert change["impact"] == MAJOR_UPGRADE and change["when"] == "now"
    assert (change["before"], change["after"]) == ("16.6", "17.4")
    assert "unavailable" in change["downtime"]


def test_a_lower_major_version_or_a_bare_major_target_is_refused():
    change, notice, error = cluster_settings.engine_version_change("17.4", "16.6")
    assert change is None and "lower major version is impossible" in error
    change, notice, error = cluster_settings.engine_version_change("16.6", "17")
    assert change is None and "needs the target minor version" in error


class FailingModule:
    def __init__(self, check_mode=False, **params):
        self.params = {**BASE_PARAMS, "allow_major_version_upgrade": False, **params}
        self.check_mode = check_mode

    def fail_json(self, **result):
        raise RuntimeError(result)


def upgrade_and_group_change():
    upgrade = cluster_settings.engine_version_change("16.6", "17.4")[0]
    group = {"attribute": "db_cluster_parameter_group_name", "before": "pg16", "after": "pg17", "impact": "x"}
    return upgrade, group


def test_an_unallowed_major_upgrade_is_planned_first_in_check_mode_and_fails_otherwise():
    upgrade, group = upgrade_and_group_change()
    planned = m.plan_major_upgrade(FailingModule(check_mode=True), upgrade, [group], check_mode=True)
    assert [c["attribute"] for c in planned] == ["engine_version", "db_cluster_parameter_group_name"]
    assert "not allowed" in planned[0]["note"]
    # The new family's group goes with the upgrade, not as a pending-reboot change of its own.
    assert planned[1]["impact"] == MAJOR_UPGRADE
    with pytest.raises(RuntimeError, match="Nothing was changed. Allow it with allow_major_version_upgrade=true"):
        m.plan_major_upgrade(FailingModule(), *upgrade_and_group_change()[:1], [], check_mode=False)


def test_a_major_upgrade_request_names_the_version_the_flag_and_the_new_groups():
    """The local AWS ignores AllowMajorVersionUpgrade, so the request is checked with botocore's Stubber."""
    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    module = FailingModule(
        allow_major_version_upgrade=True,
        db_cluster_parameter_group_name="pg17",
        db_instance_parameter_group_name="ipg17",
        wait=True,
        wait_timeout=60,
        wait_max_poll_interval=20.0,
    )
    upgraded = dict(DESCRIBED, EngineVersion="17.4", DBClusterParameterGroup="pg17", Status="available")
    with Stubber(client) as stubber:
        stubber.add_response(
            "modify_db_cluster",
            {"DBCluster": upgraded},
            {
                "DBClusterIdentifier": "c",
                "EngineVersion": "17.4",
                "AllowMajorVersionUpgrade": True,
                "DBClusterParameterGroupName": "pg17",
                "DBInstanceParameterGroupName": "ipg17",
                "ApplyImmediately": True,
            },
        )
        stubber.add_response("describe_db_clusters", {"DBClusters": [dict(upgraded, Status="upgrading")]})
        stubber.add_response("describe_db_clusters", {"DBClusters": [upgraded]})
        api = AwsApi(module, "rds", client=client)
        cluster = m.apply_major_upgrade(module, api, dict(DESCRIBED, Status="available"), upgrade_and_group_change()[0])
        stubber.assert_no_pending_responses()
    assert cluster["EngineVersion"] == "17.4"


def test_kms_keys_compare_by_id_or_arn():
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd"
    assert m.key_matches(arn, arn)
    assert m.key_matches(arn, "1234abcd")
    assert not m.key_matches(arn, "5678efgh")


def test_final_snapshot_names_are_unique_per_second_and_overridable():
    import datetime

    when = datetime.datetime(2026, 11, 25, 6, 15, 0, tzinfo=datetime.UTC)
    params = {"db_cluster_identifier": "vitality-dev-aurora", "final_snapshot_identifier": None}
    assert m.final_snapshot_name(params, when) == "vitality-dev-aurora-final-20261125-061500"
    assert m.final_snapshot_name(dict(params, final_snapshot_identifier="mine")) == "mine"


# --- update_password: the whole run against botocore's Stubber, which fails on any call not expected ---

PASSWORD = "N3w-Self-Managed-Passw0rd"
ARN = "arn:aws:rds:us-east-1:123456789012:cluster:c"
# A cluster whose master password is self-managed: AWS describes no MasterUserSecret.
SELF_MANAGED = dict(
    {key: value for key, value in DESCRIBED.items() if key != "MasterUserSecret"},
    Status="available",
    DBClusterArn=ARN,
    TagList=[{"Key": "Project", "Value": "vitality"}],
)


class Exited(Exception):
    def __init__(self, result):
        super().__init__("exit_json")
        self.result = result


class RunModule:
    """What ensure_present uses of AnsibleAWSModule; exit_json and fail_json end the run with the result."""

    def __init__(self, check_mode=False, **params):
        self.check_mode = check_mode
        self.params = {
            **BASE_PARAMS,
            "manage_master_user_password": False,
            "master_user_password": PASSWORD,
            "update_password": "on_create",
            "allow_major_version_upgrade": False,
            "db_instance_parameter_group_name": None,
            "restore_from_snapshot": None,
            "restore_from_cluster": None,
            "purge_tags": True,
            "wait": True,
            "wait_timeout": 60,
            "wait_max_poll_interval": 0.1,
            **params,
        }

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, **result):
        raise Exited(dict(result, failed=True))

    def fail_json_aws(self, exception, msg):
        raise Exited({"failed": True, "msg": f"{msg}: {exception}"})


def no_kms():
    raise AssertionError("no KMS call expected")


@pytest.fixture
def rds():
    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_describe(stubber, cluster):
    stubber.add_response("describe_db_clusters", {"DBClusters": [cluster]}, {"DBClusterIdentifier": "c"})


def converge(client, module):
    with pytest.raises(Exited) as exited:
        m.ensure_present(module, AwsApi(module, "rds", client=client), no_kms)
    return exited.value.result


def assert_password_hidden(result):
    assert PASSWORD not in json.dumps(result, default=str)


def test_on_create_never_sends_a_changed_password_to_an_existing_cluster(rds):
    client, stubber = rds
    expect_describe(stubber, SELF_MANAGED)  # the only call: no ModifyDBCluster
    result = converge(client, RunModule(update_password="on_create"))
    assert result["changed"] is False and result["changes"] == []
    assert_password_hidden(result)


def test_always_sends_the_password_in_one_modify_applied_immediately(rds):
    client, stubber = rds
    expect_describe(stubber, SELF_MANAGED)
    stubber.add_response(
        "modify_db_cluster",
        {"DBCluster": SELF_MANAGED},
        {"DBClusterIdentifier": "c", "MasterUserPassword": PASSWORD, "ApplyImmediately": True},
    )
    expect_describe(stubber, SELF_MANAGED)  # the wait until available
    # apply_immediately=false does not hold the password: the run was asked to apply it.
    result = converge(client, RunModule(update_password="always", apply_immediately=False))
    assert result["changed"] is True
    (change,) = result["changes"]
    assert change["attribute"] == "master_user_password"
    assert (change["before"], change["after"], change["impact"], change["when"]) == (
        "(hidden)",
        "(hidden)",
        "online",
        "now",
    )
    assert "every run" in change["note"]
    assert "master_user_password" not in result["diff"]["after"]
    assert_password_hidden(result)


def test_always_in_check_mode_plans_the_change_without_any_modifying_call(rds):
    client, stubber = rds
    expect_describe(stubber, SELF_MANAGED)  # the only call
    result = converge(client, RunModule(check_mode=True, update_password="always"))
    assert result["changed"] is True
    assert [(c["attribute"], c["impact"]) for c in result["changes"]] == [("master_user_password", "online")]
    assert_password_hidden(result)


def test_always_sends_the_password_alone_first_when_other_changes_wait_for_the_maintenance_window(rds):
    client, stubber = rds
    expect_describe(stubber, SELF_MANAGED)
    stubber.add_response(
        "modify_db_cluster",
        {"DBCluster": SELF_MANAGED},
        {"DBClusterIdentifier": "c", "MasterUserPassword": PASSWORD, "ApplyImmediately": True},
    )
    expect_describe(stubber, SELF_MANAGED)  # available again before the next modification
    stubber.add_response(
        "modify_db_cluster",
        {"DBCluster": SELF_MANAGED},
        {"DBClusterIdentifier": "c", "EngineVersion": "16.8", "ApplyImmediately": False},
    )
    expect_describe(stubber, SELF_MANAGED)
    result = converge(client, RunModule(update_password="always", apply_immediately=False, engine_version="16.8"))
    when = {c["attribute"]: c["when"] for c in result["changes"]}
    assert when == {"engine_version": "maintenance-window", "master_user_password": "now"}
    assert_password_hidden(result)


def test_always_warns_that_applying_now_may_also_apply_what_is_pending():
    pending = dict(SELF_MANAGED, PendingModifiedValues={"EngineVersion": "16.8"})
    change = cluster_settings.password_change(
        pending, dict(update_password="always", manage_master_user_password=False)
    )
    assert "pending EngineVersion" in change["note"]
    change = cluster_settings.password_change(
        pending, dict(update_password="always", manage_master_user_password=False, apply_immediately=True)
    )
    assert "pending" not in change["note"]


@pytest.mark.parametrize("update_password", ["on_create", "always"])
def test_taking_over_a_managed_password_sends_it_once_with_the_switch(rds, update_password):
    """AWS needs MasterUserPassword to turn ManageMasterUserPassword off; update_password changes nothing there."""
    client, stubber = rds
    managed = dict(SELF_MANAGED, MasterUserSecret={"SecretArn": "arn:secret", "KmsKeyId": "k"})
    expect_describe(stubber, managed)
    stubber.add_response(
        "modify_db_cluster",
        {"DBCluster": SELF_MANAGED},
        {
            "DBClusterIdentifier": "c",
            "ManageMasterUserPassword": False,
            "MasterUserPassword": PASSWORD,
            "ApplyImmediately": True,
        },
    )
    expect_describe(stubber, SELF_MANAGED)
    result = converge(client, RunModule(update_password=update_password))
    assert [c["attribute"] for c in result["changes"]] == ["manage_master_user_password"]
    assert_password_hidden(result)


def test_a_managed_password_is_never_sent_whatever_update_password_says():
    managed = dict(SELF_MANAGED, MasterUserSecret={"SecretArn": "arn:secret"})
    params = dict(BASE_PARAMS, update_password="always")
    changes, _upgrade, _notice, _error = cluster_settings.plan_cluster_changes(managed, params)
    assert changes == []


def test_a_failed_password_change_does_not_quote_the_password(rds):
    client, stubber = rds
    expect_describe(stubber, SELF_MANAGED)
    stubber.add_client_error(
        "modify_db_cluster", service_error_code="InvalidParameterValue", service_message="The password is invalid"
    )
    result = converge(client, RunModule(update_password="always"))
    assert result["failed"] is True and "ModifyDBCluster failed for cluster c" in result["msg"]
    assert_password_hidden(result)


def test_update_password_is_on_create_when_omitted_and_the_password_stays_secret():
    assert cluster_settings.SETTING_OPTIONS["update_password"] == dict(
        type="str", choices=["always", "on_create"], default="on_create", no_log=False
    )
    assert "update_password" in m.DOCUMENTATION and "default: on_create" in m.DOCUMENTATION
    assert 'master_user_password=dict(type="str", no_log=True)' in inspect.getsource(m.main)


# --- state=absent with delete_instances: the whole run against botocore's Stubber ---

MEMBERS = [
    {"DBInstanceIdentifier": "c-writer", "IsClusterWriter": True},
    {"DBInstanceIdentifier": "c-reader-1", "IsClusterWriter": False},
    {"DBInstanceIdentifier": "c-reader-2", "IsClusterWriter": False},
]
MEMBERS_FILTER = {"Filters": [{"Name": "db-cluster-id", "Values": ["c"]}]}


def absent_module(check_mode=False, **params):
    absent = {
        "state": "absent",
        "skip_final_snapshot": True,
        "final_snapshot_identifier": None,
        "disable_deletion_protection": False,
        "delete_instances": True,
        "tags": None,
    }
    return RunModule(check_mode, **{**absent, **params})


def delete(client, module):
    with pytest.raises(Exited) as exited:
        m.ensure_absent(module, AwsApi(module, "rds", client=client))
    return exited.value.result


def instance(name, status):
    return {"DBInstanceIdentifier": name, "DBInstanceStatus": status, "DBClusterIdentifier": "c"}


def test_the_instances_are_all_deleted_before_one_wait_then_the_cluster(rds):
    client, stubber = rds
    expect_describe(stubber, dict(SELF_MANAGED, DBClusterMembers=MEMBERS))
    # One of them is already being deleted: it is waited for, not deleted again.
    listed = [
        instance("c-reader-1", "available"),
        instance("c-reader-2", "deleting"),
        instance("c-writer", "available"),
    ]
    stubber.add_response("describe_db_instances", {"DBInstances": listed}, MEMBERS_FILTER)
    stubber.add_response("delete_db_instance", {}, {"DBInstanceIdentifier": "c-reader-1"})
    stubber.add_response("delete_db_instance", {}, {"DBInstanceIdentifier": "c-writer"})
    # The wait: all three deleting, then none left.
    deleting = [instance(i["DBInstanceIdentifier"], "deleting") for i in listed]
    stubber.add_response("describe_db_instances", {"DBInstances": deleting}, MEMBERS_FILTER)
    stubber.add_response("describe_db_instances", {"DBInstances": []}, MEMBERS_FILTER)
    stubber.add_response("delete_db_cluster", {}, {"DBClusterIdentifier": "c", "SkipFinalSnapshot": True})
    stubber.add_client_error(
        "describe_db_clusters", "DBClusterNotFoundFault", expected_params={"DBClusterIdentifier": "c"}
    )
    result = delete(client, absent_module())
    assert result["changed"] is True
    assert [(c["attribute"], c["before"]) for c in result["changes"]] == [
        ("instance", "c-reader-1"),
        ("instance", "c-reader-2"),
        ("instance", "c-writer"),
        ("cluster", "c"),
    ]


def test_check_mode_lists_the_instances_and_the_cluster_and_calls_nothing_else(rds):
    client, stubber = rds
    expect_describe(stubber, dict(SELF_MANAGED, DBClusterMembers=MEMBERS))  # the only call
    result = delete(client, absent_module(check_mode=True))
    assert result["changed"] is True
    assert [c["before"] for c in result["changes"]] == ["c-reader-1", "c-reader-2", "c-writer", "c"]


def test_without_delete_instances_a_cluster_with_instances_is_refused_naming_them(rds):
    client, stubber = rds
    expect_describe(stubber, dict(SELF_MANAGED, DBClusterMembers=MEMBERS))  # the only call
    result = delete(client, absent_module(delete_instances=False))
    assert result["failed"] is True
    assert result["msg"] == (
        "cluster c still has instances c-reader-1, c-reader-2, c-writer; delete them first, or set delete_instances=true"
    )
