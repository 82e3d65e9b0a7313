"""aurora_instance logic; the pending-reboot path uses botocore's Stubber because the local AWS never
reports a parameter group status of pending-reboot."""

import collections

import boto3
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils import instance_settings
from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.changes import REBOOT, plan_changes
from ansible_collections.vitality.aurora.plugins.modules import aurora_instance as m

CLASS_CHANGE = [
    {"attribute": "db_instance_class", "before": "db.r6g.large", "after": "db.r6g.xlarge", "impact": REBOOT}
]


class FakeModule:
    def fail_json_aws(self, exception, msg):
        raise AssertionError(msg)


def stubbed_api():
    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    return AwsApi(FakeModule(), "rds", client=client), Stubber(client)


def test_available_is_not_done_while_the_class_change_is_pending():
    done = m.applied(CLASS_CHANGE, {"apply_immediately": True})
    pending = {
        "DBInstanceStatus": "available",
        "DBInstanceClass": "db.r6g.large",
        "PendingModifiedValues": {"DBInstanceClass": "db.r6g.xlarge"},
    }
    assert not done(pending)
    assert not done({"DBInstanceStatus": "modifying", "DBInstanceClass": "db.r6g.xlarge"})
    assert done({"DBInstanceStatus": "available", "DBInstanceClass": "db.r6g.xlarge"})


def test_deferred_class_change_is_done_once_accepted():
    done = m.applied(CLASS_CHANGE, {"apply_immediately": False})
    assert done(
        {
            "DBInstanceStatus": "available",
            "DBInstanceClass": "db.r6g.large",
            "PendingModifiedValues": {"DBInstanceClass": "db.r6g.xlarge"},
        }
    )


def test_pending_class_counts_as_applied_for_the_next_run():
    instance = {"DBInstanceClass": "db.r6g.large", "PendingModifiedValues": {"DBInstanceClass": "db.r6g.xlarge"}}
    desired = {"db_instance_class": "db.r6g.xlarge", "publicly_accessible": False}
    assert plan_changes(instance_settings.ATTRIBUTES, instance_settings.effective_state(instance), desired) == []


def test_instance_parameter_group_pending_reboot_needs_no_cluster_call():
    api, stubber = stubbed_api()
    with stubber:
        instance = {
            "DBInstanceIdentifier": "w",
            "DBClusterIdentifier": "c",
            "DBParameterGroups": [{"DBParameterGroupName": "p", "ParameterApplyStatus": "pending-reboot"}],
        }
        assert m.pending_reboot(api, instance) is True
        stubber.assert_no_pending_responses()


def test_cluster_parameter_group_pending_reboot_is_read_from_the_cluster_members():
    api, stubber = stubbed_api()
    members = [
        {"DBInstanceIdentifier": "w", "IsClusterWriter": True, "DBClusterParameterGroupStatus": "in-sync"},
        {"DBInstanceIdentifier": "r-1", "IsClusterWriter": False, "DBClusterParameterGroupStatus": "pending-reboot"},
    ]
    for _attempt in range(2):
        stubber.add_response(
            "describe_db_clusters",
            {"DBClusters": [{"DBClusterIdentifier": "c", "DBClusterMembers": members}]},
            {"DBClusterIdentifier": "c"},
        )
    with stubber:
        in_sync = {"DBInstanceIdentifier": "w", "DBClusterIdentifier": "c", "DBParameterGroups": []}
        assert m.pending_reboot(api, in_sync) is False
        assert m.pending_reboot(api, dict(in_sync, DBInstanceIdentifier="r-1")) is True


def test_never_public():
    unset = collections.defaultdict(lambda: None)
    assert m.desired_state(unset)["publicly_accessible"] is False
    assert m.create_request(unset)["PubliclyAccessible"] is False
