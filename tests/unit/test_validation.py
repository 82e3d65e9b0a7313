import pytest

from ansible_collections.vitality.aurora.plugins.module_utils import validation as v

VALID = {
    "aurora_cluster_environment": "dev",
    "aurora_cluster_identifier": "vitality-dev-aurora",
    "aurora_cluster_writer_identifier": "vitality-dev-aurora-writer",
    "aurora_cluster_reader_identifier_prefix": "vitality-dev-aurora-reader-",
    "aurora_cluster_reader_count": 0,
    "aurora_cluster_parameter_group_name": "vitality-dev-aurora-pg16",
    "aurora_cluster_parameter_group_family": "aurora-postgresql16",
    "aurora_cluster_subnet_group_name": "vitality-dev-db-subnets",
    "aurora_cluster_database_name": "dbname",
    "aurora_cluster_master_username": "admin1",
    "aurora_cluster_manage_master_user_password": True,
    "aurora_cluster_master_user_password": "",
    "aurora_cluster_engine_version": "16.6",
    "aurora_cluster_instance_class": "db.r6g.large",
    "aurora_cluster_private_subnet_names": ["a", "b"],
    "aurora_cluster_backup_retention_period": 7,
    "aurora_cluster_port": 5432,
    "aurora_cluster_preferred_backup_window": "03:00-04:00",
    "aurora_cluster_preferred_maintenance_window": "sun:05:00-sun:06:00",
    "aurora_cluster_db_security_group_extra_ingress": [],
    "aurora_cluster_default_parameters": {"rds.force_ssl": 1},
    "aurora_cluster_parameters": {},
    "aurora_cluster_storage_encrypted": True,
    "aurora_cluster_deletion_protection": False,
    "aurora_cluster_allow_plaintext_transport": False,
    "aurora_cluster_allow_unencrypted_storage": False,
    "aurora_cluster_allow_prod_without_deletion_protection": False,
}


def errors_with(**changes):
    return v.stack_errors(dict(VALID, **changes))


def test_the_dev_defaults_are_valid():
    assert v.stack_errors(VALID) == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"aurora_cluster_identifier": "1vitality"}, "aurora_cluster_identifier='1vitality' is invalid"),
        ({"aurora_cluster_writer_identifier": "w--x"}, "aurora_cluster_writer_identifier='w--x' is invalid"),
        ({"aurora_cluster_parameter_group_name": "pg-"}, "aurora_cluster_parameter_group_name='pg-' is invalid"),
        ({"aurora_cluster_subnet_group_name": "default"}, "aurora_cluster_subnet_group_name='default' is invalid"),
        ({"aurora_cluster_database_name": "db-name"}, "aurora_cluster_database_name='db-name' is invalid"),
        ({"aurora_cluster_database_name": "select"}, "aurora_cluster_database_name='select' is reserved"),
        ({"aurora_cluster_master_username": "rdsadmin"}, "aurora_cluster_master_username='rdsadmin' is reserved"),
        ({"aurora_cluster_engine_version": "15.4"}, "aurora_cluster_engine_version='15.4' is invalid"),
        ({"aurora_cluster_parameter_group_family": "aurora-postgresql15"}, "does not match"),
        ({"aurora_cluster_engine_version": "18.1"}, "aurora_cluster_engine_version='18.1' is invalid"),
        (
            {"aurora_cluster_engine_version": "17.4"},
            "aurora_cluster_parameter_group_family='aurora-postgresql16' does not match",
        ),
        ({"aurora_cluster_instance_class": "db.t2.micro"}, "aurora_cluster_instance_class='db.t2.micro' is not"),
        ({"aurora_cluster_private_subnet_names": ["a"]}, "at least two distinct private subnets"),
        ({"aurora_cluster_reader_count": 16}, "aurora_cluster_reader_count=16 is out of range: 0 to 15"),
        ({"aurora_cluster_backup_retention_period": 0}, "aurora_cluster_backup_retention_period=0 is out of range"),
        ({"aurora_cluster_port": 80}, "aurora_cluster_port=80 is out of range"),
        (
            {"aurora_cluster_wait_max_poll_interval": 0},
            "aurora_cluster_wait_max_poll_interval=0 is out of range: 0.1 to 300 seconds",
        ),
        ({"aurora_cluster_preferred_backup_window": "3:00-4:00"}, "is malformed"),
        ({"aurora_cluster_preferred_maintenance_window": "sunday:05:00-sun:06:00"}, "is malformed"),
        ({"aurora_cluster_preferred_backup_window": "05:30-06:30"}, "overlaps"),
        ({"aurora_cluster_db_security_group_extra_ingress": [{"proto": "tcp", "cidr_ip": "0.0.0.0/0"}]}, "refused"),
        ({"aurora_cluster_db_security_group_extra_ingress": [{"cidr_ipv6": ["::/0"]}]}, "refused"),
        ({"aurora_cluster_parameters": {"rds.force_ssl": 0}}, "aurora_cluster_allow_plaintext_transport"),
        ({"aurora_cluster_storage_encrypted": False}, "aurora_cluster_allow_unencrypted_storage"),
        ({"aurora_cluster_environment": "prod"}, "aurora_cluster_allow_prod_without_deletion_protection"),
    ],
)
def test_each_broken_rule_is_named(changes, expected):
    errors = errors_with(**changes)
    assert len(errors) == 1, errors
    assert expected in errors[0]


def test_a_major_upgrade_target_with_its_family_is_valid():
    assert (
        errors_with(aurora_cluster_engine_version="17.4", aurora_cluster_parameter_group_family="aurora-postgresql17")
        == []
    )


def test_overrides_accept_the_documented_risks():
    assert (
        errors_with(aurora_cluster_parameters={"rds.force_ssl": 0}, aurora_cluster_allow_plaintext_transport=True) == []
    )
    assert errors_with(aurora_cluster_storage_encrypted=False, aurora_cluster_allow_unencrypted_storage=True) == []
    assert (
        errors_with(aurora_cluster_environment="prod", aurora_cluster_allow_prod_without_deletion_protection=True) == []
    )


@pytest.mark.parametrize(
    "password", ["short", "has space in it", "with/slash1", 'quote"d-pass', "at@sign-pass", "x" * 129]
)
def test_bad_passwords_are_refused_without_quoting_them(password):
    errors = errors_with(aurora_cluster_manage_master_user_password=False, aurora_cluster_master_user_password=password)
    assert len(errors) == 1 and "value hidden" in errors[0]
    assert password not in errors[0]


def test_password_rules():
    assert errors_with(aurora_cluster_manage_master_user_password=False, aurora_cluster_master_user_password="") != []
    assert errors_with(aurora_cluster_master_user_password="Good-Passw0rd") != []  # managed and given
    good = errors_with(
        aurora_cluster_manage_master_user_password=False, aurora_cluster_master_user_password="Good-Passw0rd"
    )
    assert good == []


@pytest.mark.parametrize(
    "backup, maintenance, overlaps",
    [
        ("03:00-04:00", "sun:05:00-sun:06:00", False),
        ("04:30-05:30", "sun:05:00-sun:06:00", True),
        ("23:30-00:30", "mon:00:00-mon:01:00", True),  # backup wraps past midnight into Monday
        ("23:30-00:30", "mon:00:30-mon:01:30", False),
        ("10:00-11:00", "sat:23:00-sun:10:30", True),  # maintenance spans two days
        ("10:00-11:00", "sun:23:30-mon:00:30", False),  # maintenance wraps the week
    ],
)
def test_window_overlap(backup, maintenance, overlaps):
    errors = v.window_errors("b", backup, "m", maintenance)
    assert bool(errors) is overlaps, errors


def test_windows_shorter_than_thirty_minutes_are_refused():
    assert "too short" in v.window_errors("b", "03:00-03:20", "m", None)[0]
    assert "too short" in v.window_errors("b", None, "m", "sun:05:00-sun:05:10")[0]


def test_instance_class_list_is_the_one_place():
    assert v.instance_class_error("c", "db.r6g.large") is None
    assert v.instance_class_error("c", "db.serverless") is None
    assert v.instance_class_error("c", "db.t2.micro") is not None
    assert v.instance_class_error("c", "db.m5.large") is not None
