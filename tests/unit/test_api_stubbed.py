"""AwsApi against botocore's Stubber: error codes, not-found handling and messages naming the call."""

import socket

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi, client_config


class Failed(Exception):
    pass


class FakeModule:
    def fail_json_aws(self, exception, msg):
        raise Failed(f"{msg}: {exception}")


@pytest.fixture
def rds():
    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield client, stubber


def test_not_found_code_returns_none(rds):
    client, stubber = rds
    stubber.add_client_error("describe_db_clusters", service_error_code="DBClusterNotFoundFault", http_status_code=404)
    api = AwsApi(FakeModule(), "rds", client=client)
    assert api.call("describe_db_clusters", DBClusterIdentifier="c", not_found=("DBClusterNotFoundFault",)) is None


def test_other_errors_fail_naming_the_operation_and_resource(rds):
    client, stubber = rds
    stubber.add_client_error("describe_db_clusters", service_error_code="AccessDenied", http_status_code=403)
    api = AwsApi(FakeModule(), "rds", client=client)
    with pytest.raises(Failed, match="AWS rds DescribeDBClusters failed for cluster c"):
        api.call("describe_db_clusters", DBClusterIdentifier="c", context="cluster c")


def test_paginate_concatenates_pages(rds):
    client, stubber = rds
    stubber.add_response("describe_db_instances", {"DBInstances": [{"DBInstanceIdentifier": "a"}], "Marker": "m"})
    stubber.add_response("describe_db_instances", {"DBInstances": [{"DBInstanceIdentifier": "b"}]})
    api = AwsApi(FakeModule(), "rds", client=client)
    items = api.paginate("describe_db_instances", "DBInstances")
    assert [i["DBInstanceIdentifier"] for i in items] == ["a", "b"]


def test_retry_configuration_is_bounded_standard_mode():
    config = client_config()
    assert config.retries == {"mode": "standard", "max_attempts": 8}


def test_create_that_meets_an_existing_resource_returns_none(rds):
    client, stubber = rds
    stubber.add_client_error("create_db_cluster", service_error_code="DBClusterAlreadyExistsFault")
    api = AwsApi(FakeModule(), "rds", client=client)
    created = api.create(
        "create_db_cluster",
        exists=lambda: pytest.fail("an AlreadyExists answer needs no second look"),
        already_exists=("DBClusterAlreadyExistsFault",),
        DBClusterIdentifier="c",
        Engine="aurora-postgresql",
    )
    assert created is None


def test_create_that_fails_otherwise_returns_none_only_when_the_resource_is_there(rds):
    client, stubber = rds
    for _attempt in range(2):
        stubber.add_client_error("create_db_cluster", service_error_code="DBClusterSnapshotAlreadyExistsFault")
    api = AwsApi(FakeModule(), "rds", client=client)
    request = {"DBClusterIdentifier": "c", "Engine": "aurora-postgresql"}
    assert api.create("create_db_cluster", exists=lambda: True, **request) is None
    with pytest.raises(Failed, match="AWS rds CreateDBCluster failed for cluster c"):
        api.create("create_db_cluster", exists=lambda: False, context="cluster c", **request)


def test_describe_one_returns_the_resource_or_none(rds):
    client, stubber = rds
    stubber.add_response("describe_db_subnet_groups", {"DBSubnetGroups": [{"DBSubnetGroupName": "g"}]})
    stubber.add_response("describe_db_subnet_groups", {"DBSubnetGroups": []})
    stubber.add_client_error(
        "describe_db_subnet_groups", service_error_code="DBSubnetGroupNotFoundFault", http_status_code=404
    )
    api = AwsApi(FakeModule(), "rds", client=client)

    def describe():
        return api.describe_one(
            "describe_db_subnet_groups",
            "DBSubnetGroups",
            DBSubnetGroupName="g",
            not_found=("DBSubnetGroupNotFoundFault",),
        )

    assert describe() == {"DBSubnetGroupName": "g"}
    assert describe() is None
    assert describe() is None


# -- the cause a user can act on, named beside the failed call ---------------------------------------


@pytest.fixture
def ec2():
    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield client, stubber


def test_access_denied_names_the_iam_action_the_credentials_lack(ec2):
    client, stubber = ec2
    # EC2 words it as an encoded authorization message that names no action.
    stubber.add_client_error(
        "describe_vpcs",
        service_error_code="UnauthorizedOperation",
        service_message="You are not authorized to perform this operation. Encoded authorization failure message: x",
        http_status_code=403,
    )
    api = AwsApi(FakeModule(), "ec2", client=client)
    with pytest.raises(Failed) as failed:
        api.call("describe_vpcs", context="VPC v")
    assert str(failed.value).startswith(
        "AWS ec2 DescribeVpcs failed for VPC v (the credentials are not allowed the IAM action ec2:DescribeVpcs): "
    )


@pytest.mark.parametrize("code", ["ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "AuthFailure"])
def test_refused_credentials_are_named_as_such(rds, code):
    client, stubber = rds
    stubber.add_client_error("describe_db_clusters", service_error_code=code, http_status_code=403)
    api = AwsApi(FakeModule(), "rds", client=client)
    with pytest.raises(Failed, match=rf"\(AWS refused the credentials \({code}\): they are expired or not valid; "):
        api.call("describe_db_clusters", context="cluster c")


def test_an_error_about_the_request_itself_gets_no_cause_added(rds):
    client, stubber = rds
    stubber.add_client_error("create_db_cluster", service_error_code="InvalidParameterCombination")
    api = AwsApi(FakeModule(), "rds", client=client)
    with pytest.raises(Failed, match=r"^AWS rds CreateDBCluster failed for cluster c: "):
        api.call("create_db_cluster", context="cluster c", DBClusterIdentifier="c", Engine="aurora-postgresql")


def test_missing_credentials_and_an_endpoint_that_does_not_answer_are_named(tmp_path, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    no_credentials = boto3.session.Session().client("rds", region_name="us-east-1")
    with pytest.raises(Failed, match=r"\(no AWS credentials were found: set AWS_PROFILE, "):
        AwsApi(FakeModule(), "rds", client=no_credentials).call("describe_db_clusters")

    # A port nothing listens on: the connection is refused at once; one attempt only.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    silent = boto3.client(
        "rds",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="a",
        aws_secret_access_key="b",
        config=client_config(max_attempts=1),
    )
    with pytest.raises(Failed, match=r"\(the AWS endpoint did not answer: check the region, the endpoint URL"):
        AwsApi(FakeModule(), "rds", client=silent).call("describe_db_clusters")
