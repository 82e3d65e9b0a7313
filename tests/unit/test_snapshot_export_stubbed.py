"""aurora_snapshot_export's StartExportTask against botocore's Stubber: what moto cannot show.

A start whose answer was lost (botocore retries, AWS answers ExportTaskAlreadyExists) is read back by its
identifier; a role IAM has not yet made visible to RDS (IamRoleNotFound) is tried again, a bounded number of times.
"""

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.modules import aurora_snapshot_export as m

REQUEST = {
    "ExportTaskIdentifier": "export-s-1234abcd",
    "SourceArn": "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:s",
    "S3BucketName": "b",
    "IamRoleArn": "arn:aws:iam::123456789012:role/r",
    "KmsKeyId": "alias/k",
}
TASK = {"ExportTaskIdentifier": "export-s-1234abcd", "Status": "STARTING", "SourceArn": REQUEST["SourceArn"]}


class Failed(Exception):
    pass


class FakeModule:
    def fail_json_aws(self, exception, msg):
        raise Failed(f"{msg}: {exception}")

    def fail_json(self, msg, **_kwargs):
        raise Failed(msg)


@pytest.fixture
def rds():
    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_a_start_that_meets_its_own_task_reads_it_back(rds):
    client, stubber = rds
    stubber.add_client_error("start_export_task", service_error_code="ExportTaskAlreadyExists", expected_params=REQUEST)
    stubber.add_response(
        "describe_export_tasks", {"ExportTasks": [TASK]}, {"ExportTaskIdentifier": "export-s-1234abcd"}
    )
    task = m.start(FakeModule(), AwsApi(FakeModule(), "rds", client=client), dict(REQUEST), sleep=lambda s: None)
    assert task["ExportTaskIdentifier"] == "export-s-1234abcd"


def test_a_role_not_yet_visible_is_tried_again_then_starts(rds):
    client, stubber = rds
    slept = []
    stubber.add_client_error("start_export_task", service_error_code="IamRoleNotFound", http_status_code=404)
    stubber.add_client_error("start_export_task", service_error_code="IamRoleMissingPermissions")
    stubber.add_response("start_export_task", TASK, REQUEST)
    task = m.start(FakeModule(), AwsApi(FakeModule(), "rds", client=client), dict(REQUEST), sleep=slept.append)
    assert task["Status"] == "STARTING"
    assert slept == [2, 4]


def test_a_role_that_never_becomes_visible_fails_naming_the_call(rds):
    client, stubber = rds
    for _attempt in range(len(m.ROLE_RETRY_DELAYS) + 1):
        stubber.add_client_error("start_export_task", service_error_code="IamRoleNotFound", http_status_code=404)
    stubber.add_client_error("describe_export_tasks", service_error_code="ExportTaskNotFound", http_status_code=404)
    with pytest.raises(Failed, match="AWS rds StartExportTask failed for export task export-s-1234abcd"):
        m.start(FakeModule(), AwsApi(FakeModule(), "rds", client=client), dict(REQUEST), sleep=lambda s: None)


def test_another_refusal_fails_at_once_when_no_task_was_made(rds):
    client, stubber = rds
    stubber.add_client_error("start_export_task", service_error_code="InvalidS3BucketFault")
    stubber.add_response("describe_export_tasks", {"ExportTasks": []}, {"ExportTaskIdentifier": "export-s-1234abcd"})
    with pytest.raises(Failed, match="StartExportTask failed"):
        m.start(FakeModule(), AwsApi(FakeModule(), "rds", client=client), dict(REQUEST), sleep=lambda s: None)
