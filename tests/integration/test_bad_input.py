"""Every bad input stops provision.yml with a message naming the variable, the value and the rule,
and leaves the local AWS exactly as it was."""

import pytest

from local_aws import RecordedAws

SECRET = "Bad pass/with-forbidden@chars"

# (extra vars, text the failure must contain)
BAD_INPUTS = [
    ({"aurora_cluster_identifier": "9-vitality"}, "aurora_cluster_identifier='9-vitality' is invalid"),
    ({"aurora_cluster_writer_identifier": "writer--1"}, "aurora_cluster_writer_identifier='writer--1' is invalid"),
    ({"aurora_cluster_reader_identifier_prefix": "r_"}, "aurora_cluster_reader_identifier_prefix='r_1' is invalid"),
    ({"aurora_cluster_parameter_group_name": "pg-"}, "aurora_cluster_parameter_group_name='pg-' is invalid"),
    ({"aurora_cluster_subnet_group_name": "default"}, "aurora_cluster_subnet_group_name='default' is invalid"),
    ({"aurora_cluster_database_name": "2db"}, "aurora_cluster_database_name='2db' is invalid"),
    ({"aurora_cluster_master_username": "rdsadmin"}, "aurora_cluster_master_username='rdsadmin' is reserved"),
    ({"aurora_cluster_master_username": "a" * 17}, "aurora_cluster_master_username='aaaaaaaaaaaaaaaaa' is invalid"),
    ({"aurora_cluster_tags": {"aws:owner": "x"}}, "aurora_cluster_tags"),
    ({"aurora_cluster_tags": {"k" * 129: "x"}}, "aurora_cluster_tags"),
    ({"aurora_cluster_tags": {"Owner": "v" * 300}}, "aurora_cluster_tags"),
    ({"aurora_cluster_tags": {"Owner": None}}, "aurora_cluster_tags"),
    ({"aurora_cluster_tags": {f"T{i}": "x" for i in range(50)}}, "aurora_cluster_tags"),
    ({"aurora_cluster_tags": "Owner"}, "aurora_cluster_tags='Owner' is not a dict"),
    (
        {"aurora_cluster_instance_class": ["db.r6g.large"]},
        "aurora_cluster_instance_class=['db.r6g.large'] (list) is not text",
    ),
    ({"aurora_cluster_engine_version": 16.1}, "aurora_cluster_engine_version=16.1 is a number where text is wanted"),
    ({"aurora_cluster_instnce_class": "db.r6g.xlarge"}, "did you mean aurora_cluster_instance_class?"),
    ({"aurora_cluster_storage_encrypted": "nope"}, "aurora_cluster_storage_encrypted='nope' (str) is not a boolean"),
    ({"aurora_cluster_port": "5432x"}, "aurora_cluster_port='5432x' (str) is not an integer"),
    ({"aurora_cluster_identifier": "Vitality-Dev"}, "aurora_cluster_identifier='Vitality-Dev'"),
    ({"aurora_cluster_cloudwatch_logs_exports": ["slowquery"]}, "aurora_cluster_cloudwatch_logs_exports"),
    ({"aurora_cluster_kms_key_id": "not-a-key"}, "aurora_cluster_kms_key_id='not-a-key'"),
    ({"aurora_cluster_wait_timeout": 0}, "aurora_cluster_wait_timeout=0"),
    # Read-only catalogue checks (aurora_preflight's, run by the one-pass create): the local AWS lists no versions or
    # parameters, so the shipped catalogue answers.
    ({"aurora_cluster_engine_version": "16.99"}, "aurora_cluster_engine_version='16.99' is not"),
    (
        {"aurora_cluster_parameters": {"rds.force_ssl": 1, "log_statement": "everything"}},
        "aurora_cluster_parameters.log_statement",
    ),
    (
        {"aurora_cluster_db_security_group_extra_ingress": [{"proto": "tcp", "ports": [5432], "cidr_ip": "0.0.0.1/0"}]},
        "aurora_cluster_db_security_group_extra_ingress[0].cidr_ip='0.0.0.1/0'",
    ),
    (
        {"aurora_cluster_db_security_group_extra_ingress": [{"proto": "tcp", "ports": [5432], "cidr_ipv6": "::0/0"}]},
        "aurora_cluster_db_security_group_extra_ingress[0].cidr_ipv6='::0/0'",
    ),
    (
        {"aurora_cluster_manage_master_user_password": False, "aurora_cluster_master_user_password": SECRET},
        "aurora_cluster_master_user_password is invalid (value hidden)",
    ),
    ({"aurora_cluster_engine_version": "15.4"}, "aurora_cluster_engine_version='15.4' is invalid"),
    ({"aurora_cluster_parameter_group_family": "aurora-postgresql17"}, "does not match aurora_cluster_engine_version"),
    ({"aurora_cluster_engine_version": "18.1"}, "aurora_cluster_engine_version='18.1' is invalid"),
    ({"aurora_cluster_instance_class": "db.t2.micro"}, "aurora_cluster_instance_class='db.t2.micro' is not a DB"),
    ({"aurora_cluster_private_subnet_names": ["vitality-dev-private-us-east-1c"]}, "at least two distinct"),
    ({"aurora_cluster_reader_count": 16}, "aurora_cluster_reader_count=16 is out of range: 0 to 15"),
    ({"aurora_cluster_backup_retention_period": 36}, "aurora_cluster_backup_retention_period=36 is out of range"),
    ({"aurora_cluster_port": 70000}, "aurora_cluster_port=70000 is out of range"),
    (
        {"aurora_cluster_preferred_backup_window": "25:00-26:00"},
        "aurora_cluster_preferred_backup_window='25:00-26:00' is malformed",
    ),
    ({"aurora_cluster_preferred_backup_window": "05:15-05:45"}, "overlaps aurora_cluster_preferred_maintenance_window"),
    (
        {"aurora_cluster_db_security_group_extra_ingress": [{"proto": "tcp", "ports": [5432], "cidr_ip": "0.0.0.0/0"}]},
        "cidr_ip='0.0.0.0/0' is refused",
    ),
    (
        {"aurora_cluster_db_security_group_extra_ingress": [{"proto": "tcp", "ports": [5432], "cidr_ipv6": "::/0"}]},
        "cidr_ipv6='::/0' is refused",
    ),
    ({"aurora_cluster_parameters": {"rds.force_ssl": 0}}, "set aurora_cluster_allow_plaintext_transport=true"),
    ({"aurora_cluster_storage_encrypted": False}, "set aurora_cluster_allow_unencrypted_storage=true"),
    (
        {"aurora_cluster_environment": "prod", "aurora_cluster_deletion_protection": False},
        "set aurora_cluster_allow_prod_without_deletion_protection=true",
    ),
    # Checked against the network found in the account (read-only calls, nothing created).
    (
        {
            "aurora_cluster_private_subnet_names": [
                "vitality-dev-private-us-east-1c",
                "vitality-prod-private-us-east-1d",
            ]
        },
        "subnets not found in VPC vitality-dev-app-vpc",
    ),
    (
        {"aurora_cluster_app_security_group_name": "vitality-prod-app-sg"},
        "aurora_cluster_app_security_group_name=vitality-prod-app-sg: no security group of that name in VPC",
    ),
]


def inventory_of(local_aws):
    """Everything the tests could have created, by kind."""
    rds, ec2 = local_aws.client("rds"), local_aws.client("ec2")
    return {
        "clusters": [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]],
        "instances": [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]],
        "subnet_groups": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]],
        "parameter_groups": [
            g["DBClusterParameterGroupName"]
            for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        ],
        "security_groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
    }


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as aws:
        aws.reset_and_seed()
        yield aws


@pytest.fixture(scope="module")
def seeded(recorded):
    return inventory_of(recorded)


@pytest.mark.parametrize("extra_vars, expected", BAD_INPUTS, ids=[str(sorted(e[0]))[:60] for e in BAD_INPUTS])
def test_bad_input_fails_clearly_and_creates_nothing(seeded, recorded, extra_vars, expected):
    recorded.record_from_now()
    result = recorded.run_playbook("playbooks/provision.yml", "inventories/dev", extra_vars=extra_vars)
    assert result.returncode != 0
    assert expected in result.stdout, result.stdout[-3000:]
    assert SECRET not in result.stdout + result.stderr
    mutating = [a for a, unused in recorded.calls() if not a.startswith(("Describe", "List", "Get"))]
    assert mutating == []
    assert inventory_of(recorded) == seeded
