"""AwsApi against botocore's Stubber: error codes, not-found handling and messages naming the call."""

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
