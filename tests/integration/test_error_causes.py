"""Errors that name the cause, in dev and in prod alike: no credentials, refused credentials, an endpoint that
does not answer, a region without the network, access denied on one call (naming the IAM action lacked).

Refused credentials and access denied are answered by tests/aws_proxy.py in front of the local AWS, as AWS
answers them; the rest needs no proxy. Every case stops before any resource exists.
"""

from __future__ import annotations

import pytest

from aws_proxy import AwsProxy, error
from local_aws import free_port

PROVISION = "playbooks/provision.yml"


@pytest.fixture(scope="module")
def seeded(local_aws):
    local_aws.reset_and_seed(("dev", "prod"))
    return local_aws


@pytest.fixture(scope="module")
def proxy(seeded):
    with AwsProxy(seeded.endpoint_url) as running:
        yield running


def assert_nothing_made(local_aws):
    assert local_aws.client("rds").describe_db_clusters()["DBClusters"] == []
    groups = local_aws.client("ec2").describe_security_groups()["SecurityGroups"]
    assert not [g for g in groups if g["GroupName"].endswith("-db")]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_no_credentials_are_named(seeded, tmp_path, env):
    nowhere = str(tmp_path / "none")
    run = seeded.run_playbook(
        PROVISION,
        f"inventories/{env}",
        env={
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
            "AWS_CONFIG_FILE": nowhere,
            "AWS_SHARED_CREDENTIALS_FILE": nowhere,
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    assert not run.ok
    assert (
        f"AWS ec2 DescribeVpcs failed for VPC vitality-{env}-app-vpc (no AWS credentials were found: set AWS_PROFILE"
        in run.stdout + run.stderr
    ), run
    assert_nothing_made(seeded)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_an_endpoint_that_does_not_answer_is_named(seeded, env):
    run = seeded.run_playbook(
        PROVISION,
        f"inventories/{env}",
        extra_vars={"aurora_cluster_aws_endpoint_url": f"http://127.0.0.1:{free_port()}"},
    )
    assert not run.ok
    assert "(the AWS endpoint did not answer: check the region, the endpoint URL" in run.stdout + run.stderr, run


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_region_without_the_network_is_named(seeded, env):
    # Not us-west-2: prod copies its backups there, and a copy Region must be another one than the stack's.
    run = seeded.run_playbook(PROVISION, f"inventories/{env}", extra_vars={"aurora_cluster_aws_region": "eu-west-1"})
    assert not run.ok
    assert (
        f"aurora_cluster_vpc_name=vitality-{env}-app-vpc: expected exactly one VPC tagged Name=vitality-{env}-app-vpc "
        "in eu-west-1, found 0; is the region the one the network is in?" in run.stdout + run.stderr
    ), run
    assert_nothing_made(seeded)


def test_expired_credentials_are_named(seeded, proxy):
    proxy.set_rules(error("DescribeVpcs", "ExpiredToken", status=403, message="The security token is expired"))
    run = seeded.run_playbook(
        PROVISION, "inventories/prod", extra_vars={"aurora_cluster_aws_endpoint_url": proxy.endpoint_url}
    )
    assert not run.ok
    assert (
        "(AWS refused the credentials (ExpiredToken): they are expired or not valid; refresh them and run again)"
        in run.stdout + run.stderr
    ), run
    assert_nothing_made(seeded)


def test_access_denied_names_the_iam_action_the_credentials_lack(seeded, proxy):
    # EC2 words a denial as an encoded message that names no action.
    proxy.set_rules(
        error(
            "DescribeSecurityGroups",
            "UnauthorizedOperation",
            status=403,
            message="You are not authorized to perform this operation. Encoded authorization failure message: x",
        )
    )
    run = seeded.run_playbook(
        PROVISION, "inventories/dev", extra_vars={"aurora_cluster_aws_endpoint_url": proxy.endpoint_url}
    )
    assert not run.ok
    assert (
        "AWS ec2 DescribeSecurityGroups failed for security groups "
        "(the credentials are not allowed the IAM action ec2:DescribeSecurityGroups)" in run.stdout + run.stderr
    ), run
    assert_nothing_made(seeded)
