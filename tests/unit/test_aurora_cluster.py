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
    return plan_changes(m.ATTRIBUTES, cluster_settings.effective_state(dict(DESCRIBED, **(described or {}))), desired)


def test_described_cluster_matching_inputs_has_no_changes():
    assert plan() == []


def test_response_missing_optional_fields_is_read_as_aws_defaults():
    # A smaller response (as from a local endpoint) must not invent changes.
    described = dict(DESCRIBED)
    for key in ("CopyTagsToSnapshot", "DeletionProtection", "IAMDatabaseAuthenticationEnabled"):
        described.pop(key)
    params = {"copy_tags_to_snapshot": False, "deletion_protection": False}
    changes = plan_changes(m.ATTRIBUTES, described, m.desired_state(dict(BASE_PARAMS, **params)))
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
    changes = plan_changes(m.ATTRIBUTES, DESCRIBED, m.desired_state(params))
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
