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
    "aurora_cluster_allow_public_ingress": False,
    "aurora_cluster_aws_region": "us-east-1",
    "aurora_cluster_default_tags": {"ManagedBy": "vitality.aurora", "Stack": "vitality-dev"},
    "aurora_cluster_tags": {},
    "aurora_cluster_kms_key_id": "",
    "aurora_cluster_master_user_secret_kms_key_id": "",
    "aurora_cluster_performance_insights_enabled": False,
    "aurora_cluster_performance_insights_retention_period": 7,
    "aurora_cluster_performance_insights_kms_key_id": "",
    "aurora_cluster_monitoring_interval": 0,
    "aurora_cluster_cloudwatch_logs_exports": ["postgresql"],
    "aurora_cluster_wait_timeout": 3600,
    "aurora_cluster_wait_max_poll_interval": 20.0,
    "aurora_cluster_backup_start_window_minutes": 60,
    "aurora_cluster_backup_retention_days": 35,
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


# --- AWS's own rules: each bad input names the variable and the rule; each good input passes ------------------

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"
ARN = "arn:aws:kms:us-east-1:111122223333"
KMS_RULE = "is not a KMS key: give a key ID"
MANY_TAGS = {f"Tag{n}": "x" for n in range(47)}  # with ManagedBy, Stack, Environment and Name/Role: 51

# (changes, the variable the message names, the rule it states)
AWS_RULES_BROKEN = [
    # Tags
    ({"aurora_cluster_tags": {"aws:owner": "x"}}, "aurora_cluster_tags", "the prefixes aws: and rds: are reserved"),
    ({"aurora_cluster_tags": {"AWS:owner": "x"}}, "aurora_cluster_tags", "the prefixes aws: and rds: are reserved"),
    ({"aurora_cluster_default_tags": {"Aws:Team": "x"}}, "aurora_cluster_default_tags", "prefixes aws: and rds:"),
    ({"aurora_cluster_tags": {"rds:owner": "x"}}, "aurora_cluster_tags", "the prefixes aws: and rds: are reserved"),
    ({"aurora_cluster_tags": {"": "x"}}, "aurora_cluster_tags", "a tag key is 1 to 128 characters"),
    ({"aurora_cluster_tags": {"k" * 129: "x"}}, "aurora_cluster_tags", "a tag key is 1 to 128 characters"),
    ({"aurora_cluster_tags": {"Team": "v" * 257}}, "aurora_cluster_tags['Team']", "a tag value is 0 to 256 characters"),
    ({"aurora_cluster_tags": {"Team": None}}, "aurora_cluster_tags['Team'] is null", "a tag value is text, a number"),
    ({"aurora_cluster_default_tags": {"Team": None}}, "aurora_cluster_default_tags['Team'] is null", "tag value"),
    ({"aurora_cluster_tags": {"Team": ["a"]}}, "aurora_cluster_tags['Team']=['a'] is a list", "a tag value is text"),
    ({"aurora_cluster_tags": {"Team": {"a": 1}}}, "aurora_cluster_tags['Team']", "is a dict: a tag value is text"),
    ({"aurora_cluster_tags": {"Team": "a,b"}}, "aurora_cluster_tags['Team']='a,b' is invalid", "a tag value is made"),
    ({"aurora_cluster_tags": {"Cost(centre)": "x"}}, "aurora_cluster_tags", "a tag key is made of Unicode letters"),
    ({"aurora_cluster_tags": {2024: "x"}}, "aurora_cluster_tags has the key 2024 (int)", "a tag key is text"),
    ({"aurora_cluster_tags": MANY_TAGS}, "aurora_cluster_tags give the database security group 51 tags", "at most 50"),
    (
        {"aurora_cluster_tags": dict(list(MANY_TAGS.items())[:46], Name="db")},
        "aurora_cluster_tags give each instance 51 tags, counting Environment and Role, which the role adds",
        "at most 50",
    ),
    # Master user name
    ({"aurora_cluster_master_username": "rdsadmin"}, "aurora_cluster_master_username='rdsadmin' is reserved", "RDS"),
    ({"aurora_cluster_master_username": "RDS_SUPERUSER"}, "aurora_cluster_master_username", "RDS keeps that role"),
    ({"aurora_cluster_master_username": "rdsrepladmin"}, "aurora_cluster_master_username", "RDS keeps that role name"),
    ({"aurora_cluster_master_username": "admin"}, "aurora_cluster_master_username='admin' is reserved", "AWS refuses"),
    ({"aurora_cluster_master_username": "pg_admin"}, "aurora_cluster_master_username", "starting with pg_"),
    ({"aurora_cluster_master_username": "public"}, "aurora_cluster_master_username", "PostgreSQL reserves public"),
    ({"aurora_cluster_master_username": "user"}, "aurora_cluster_master_username='user' is reserved", "reserved word"),
    ({"aurora_cluster_master_username": "a" * 17}, "aurora_cluster_master_username", "1 to 16 letters, digits"),
    ({"aurora_cluster_master_username": "1admin"}, "aurora_cluster_master_username='1admin' is invalid", "letter"),
    ({"aurora_cluster_master_username": "db-admin"}, "aurora_cluster_master_username", "letters, digits or under"),
    ({"aurora_cluster_master_username": ""}, "aurora_cluster_master_username='' is invalid", "1 to 16 letters"),
    # Database name
    ({"aurora_cluster_database_name": "d" * 64}, "aurora_cluster_database_name", "1 to 63 letters"),
    ({"aurora_cluster_database_name": "_db"}, "aurora_cluster_database_name='_db' is invalid", "starts with a letter"),
    ({"aurora_cluster_database_name": "template1"}, "aurora_cluster_database_name='template1'", "already has a data"),
    ({"aurora_cluster_database_name": "rdsadmin"}, "aurora_cluster_database_name='rdsadmin'", "already has a data"),
    # Identifiers AWS stores in lower case
    ({"aurora_cluster_identifier": "Vitality-Dev"}, "aurora_cluster_identifier='Vitality-Dev'", "use 'vitality-dev'"),
    ({"aurora_cluster_writer_identifier": "Writer"}, "aurora_cluster_writer_identifier", "AWS stores a DB instance"),
    ({"aurora_cluster_reader_identifier_prefix": "R-"}, "aurora_cluster_reader_identifier_prefix='R-'", "use 'r-'"),
    ({"aurora_cluster_parameter_group_name": "PG16"}, "aurora_cluster_parameter_group_name", "in lower case"),
    ({"aurora_cluster_subnet_group_name": "Db Subnets"}, "aurora_cluster_subnet_group_name", "use 'db subnets'"),
    ({"aurora_cluster_subnet_group_name": "1-subnets"}, "aurora_cluster_subnet_group_name", "starts with a letter"),
    # KMS keys
    ({"aurora_cluster_kms_key_id": "not-a-key"}, "aurora_cluster_kms_key_id='not-a-key'", KMS_RULE),
    ({"aurora_cluster_kms_key_id": KEY_ID[:-1]}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": "mrk-1234"}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": f"key/{KEY_ID}"}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": f"{ARN}:key/not-a-key"}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": f"arn:aws:kms:us-east-1:1111:key/{KEY_ID}"}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": f"arn:aws:s3:us-east-1:111122223333:key/{KEY_ID}"}, "kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": f"{ARN}:user/x"}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": "alias/"}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": "alias/my key"}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": "alias/" + "a" * 251}, "aurora_cluster_kms_key_id", KMS_RULE),
    ({"aurora_cluster_kms_key_id": "alias/aws/ebs"}, "aurora_cluster_kms_key_id='alias/aws/ebs' is refused", "only"),
    ({"aurora_cluster_kms_key_id": f"{ARN}:alias/aws/s3"}, "aurora_cluster_kms_key_id", "alias/aws/rds serves here"),
    (
        {"aurora_cluster_master_user_secret_kms_key_id": "alias/aws/rds"},
        "aurora_cluster_master_user_secret_kms_key_id='alias/aws/rds' is refused",
        "only alias/aws/secretsmanager serves here",
    ),
    ({"aurora_cluster_performance_insights_kms_key_id": "nope"}, "performance_insights_kms_key_id='nope'", KMS_RULE),
    (
        {"aurora_cluster_kms_key_id": f"arn:aws:kms:eu-west-1:111122223333:key/{KEY_ID}"},
        "aurora_cluster_kms_key_id",
        "the key must be in the stack's Region, aurora_cluster_aws_region='us-east-1'",
    ),
    # Log exports
    ({"aurora_cluster_cloudwatch_logs_exports": ["slowquery"]}, "aurora_cluster_cloudwatch_logs_exports", "only"),
    ({"aurora_cluster_cloudwatch_logs_exports": ["upgrade"]}, "aurora_cluster_cloudwatch_logs_exports", "log types"),
    ({"aurora_cluster_cloudwatch_logs_exports": ["postgresql"] * 2}, "cloudwatch_logs_exports", "each log type once"),
    # Timeouts, intervals, retention
    ({"aurora_cluster_wait_timeout": 0}, "aurora_cluster_wait_timeout=0 is out of range", "at least 1 seconds"),
    ({"aurora_cluster_wait_timeout": -5}, "aurora_cluster_wait_timeout=-5", "at least 1"),
    ({"aurora_cluster_wait_max_poll_interval": 0.0}, "aurora_cluster_wait_max_poll_interval=0.0", "0.1 to 300"),
    ({"aurora_cluster_backup_start_window_minutes": 59}, "aurora_cluster_backup_start_window_minutes=59", "60 to"),
    ({"aurora_cluster_backup_retention_days": 0}, "aurora_cluster_backup_retention_days=0", "at least 1 days"),
    ({"aurora_cluster_monitoring_interval": 2}, "aurora_cluster_monitoring_interval=2 is invalid", "0, 1, 5, 10, 15"),
    (
        {
            "aurora_cluster_performance_insights_enabled": True,
            "aurora_cluster_performance_insights_retention_period": 30,
        },
        "aurora_cluster_performance_insights_retention_period=30 is invalid",
        "7 days, a multiple of 31 up to 713",
    ),
    (
        {
            "aurora_cluster_performance_insights_enabled": True,
            "aurora_cluster_performance_insights_retention_period": 744,
        },
        "aurora_cluster_performance_insights_retention_period=744",
        "or 731 days",
    ),
    # Engine version, compared as text
    ({"aurora_cluster_engine_version": "16.01"}, "aurora_cluster_engine_version='16.01' is invalid", "16 or 16.x"),
    ({"aurora_cluster_engine_version": "16.x"}, "aurora_cluster_engine_version='16.x' is invalid", "16 or 16.x"),
    (
        {"aurora_cluster_engine_version": "16.10", "aurora_cluster_parameter_group_family": "aurora-postgresql17"},
        "does not match aurora_cluster_engine_version='16.10'",
        "must be aurora-postgresql16",
    ),
]


@pytest.mark.parametrize("changes, variable, rule", AWS_RULES_BROKEN, ids=lambda x: str(x)[:60])
def test_each_aws_rule_names_the_variable_and_the_rule(changes, variable, rule):
    errors = errors_with(**changes)
    assert len(errors) == 1, errors
    assert variable in errors[0] and rule in errors[0], errors[0]


AWS_RULES_KEPT = [
    {"aurora_cluster_master_username": "postgres"},
    {"aurora_cluster_master_username": "a" * 16},
    {"aurora_cluster_master_username": "app_admin_01"},
    {"aurora_cluster_master_username": "Admin1"},
    {"aurora_cluster_master_username": "rds_app"},
    {"aurora_cluster_database_name": "postgres"},
    {"aurora_cluster_database_name": "app_db_1"},
    {"aurora_cluster_database_name": "d" * 63},
    {"aurora_cluster_subnet_group_name": "db subnets.v2_a"},
    {"aurora_cluster_tags": {"Team": "", "Cost centre": "Data/Analytics", "ü": "é", "Count": 3, "On": True}},
    {"aurora_cluster_tags": {"k" * 128: "v" * 256}},
    {"aurora_cluster_tags": {"aws-team": "x", "awsome": "x", "owner": "aws:me"}},
    {"aurora_cluster_default_tags": {"Team": None}, "aurora_cluster_tags": {"Team": "data"}},
    {"aurora_cluster_tags": dict(list(MANY_TAGS.items())[:46])},  # 50 with what the role adds
    # Keys the role or the defaults give already count once.
    {"aurora_cluster_tags": dict(list(MANY_TAGS.items())[:46], Environment="prod", Stack="s", ManagedBy="m")},
    {"aurora_cluster_kms_key_id": KEY_ID},
    {"aurora_cluster_kms_key_id": KEY_ID.upper()},
    {"aurora_cluster_kms_key_id": MRK_ID},
    {"aurora_cluster_kms_key_id": f"{ARN}:key/{KEY_ID}"},
    {"aurora_cluster_kms_key_id": f"{ARN}:key/{MRK_ID}"},
    {
        "aurora_cluster_kms_key_id": f"arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/{KEY_ID}",
        "aurora_cluster_aws_region": "us-gov-west-1",
    },
    {
        "aurora_cluster_kms_key_id": "arn:aws-cn:kms:cn-north-1:111122223333:alias/db",
        "aurora_cluster_aws_region": "cn-north-1",
    },
    {"aurora_cluster_kms_key_id": "alias/vitality/db-key_1"},
    {"aurora_cluster_kms_key_id": f"{ARN}:alias/vitality-db"},
    {"aurora_cluster_kms_key_id": "alias/aws/rds"},
    {"aurora_cluster_kms_key_id": f"{ARN}:alias/aws/rds"},
    {"aurora_cluster_kms_key_id": "alias/awsome"},
    {"aurora_cluster_kms_key_id": "alias/" + "a" * 250},
    {"aurora_cluster_performance_insights_kms_key_id": "alias/aws/rds"},
    {"aurora_cluster_master_user_secret_kms_key_id": "alias/aws/secretsmanager"},
    {"aurora_cluster_master_user_secret_kms_key_id": f"{ARN}:key/{KEY_ID}"},
    {"aurora_cluster_kms_key_id": f"arn:aws:kms:eu-west-1:111122223333:key/{KEY_ID}", "aurora_cluster_aws_region": ""},
    {"aurora_cluster_cloudwatch_logs_exports": []},
    {"aurora_cluster_cloudwatch_logs_exports": ["postgresql", "iam-db-auth-error", "instance"]},
    {"aurora_cluster_wait_timeout": 1},
    {"aurora_cluster_backup_start_window_minutes": 60},
    {"aurora_cluster_backup_start_window_minutes": 480},
    {"aurora_cluster_backup_retention_days": 1},
    {"aurora_cluster_monitoring_interval": 60},
    {"aurora_cluster_performance_insights_enabled": True, "aurora_cluster_performance_insights_retention_period": 7},
    {"aurora_cluster_performance_insights_enabled": True, "aurora_cluster_performance_insights_retention_period": 713},
    {"aurora_cluster_performance_insights_enabled": True, "aurora_cluster_performance_insights_retention_period": 731},
    {"aurora_cluster_performance_insights_enabled": False, "aurora_cluster_performance_insights_retention_period": 30},
    {"aurora_cluster_engine_version": "16"},
    {"aurora_cluster_engine_version": "16.1"},
    {"aurora_cluster_engine_version": "16.10"},
]


@pytest.mark.parametrize("changes", AWS_RULES_KEPT, ids=lambda x: str(x)[:60])
def test_what_aws_accepts_passes(changes):
    assert errors_with(**changes) == []


@pytest.mark.parametrize("retention", v.PERFORMANCE_INSIGHTS_RETENTION_DAYS)
def test_every_performance_insights_retention_aws_takes_passes(retention):
    changes = {
        "aurora_cluster_performance_insights_enabled": True,
        "aurora_cluster_performance_insights_retention_period": retention,
    }
    assert errors_with(**changes) == []


def test_the_performance_insights_retentions_are_7_the_months_of_31_days_and_731():
    assert v.PERFORMANCE_INSIGHTS_RETENTION_DAYS[:3] == (7, 31, 62)
    assert v.PERFORMANCE_INSIGHTS_RETENTION_DAYS[-2:] == (713, 731)
    assert len(v.PERFORMANCE_INSIGHTS_RETENTION_DAYS) == 25


def test_engine_versions_are_never_read_as_numbers():
    # 16.10 is a later minor than 16.1, not the same one: the family check quotes the text as given.
    message = errors_with(aurora_cluster_engine_version="16.10", aurora_cluster_parameter_group_family="x")[0]
    assert "'16.10'" in message
    with pytest.raises(TypeError):
        errors_with(aurora_cluster_engine_version=16.1)


def test_a_secret_is_never_quoted_in_a_tag_or_kms_message():
    errors = errors_with(aurora_cluster_manage_master_user_password=False, aurora_cluster_master_user_password="x y")
    assert errors == [
        "aurora_cluster_master_user_password is invalid (value hidden): the master password is 8 to 128 characters"
    ]


# --- CloudWatch alarms -----------------------------------------------------------------------------------------

NO_TOPIC = (
    "aurora_cluster_alarms_enabled=true needs an SNS topic to notify, and there is none: set "
    "aurora_cluster_event_notifications_enabled=true (the role's events topic, aurora_cluster_event_topic_name) "
    "or aurora_cluster_event_topic_arn (a topic of yours), or set aurora_cluster_alarms_enabled=false; "
    "alarms without a topic would page no one"
)


@pytest.mark.parametrize(
    "changes, expected",
    [
        (
            {"aurora_cluster_alarm_period_seconds": 30},
            "aurora_cluster_alarm_period_seconds=30 is invalid: a multiple of 60",
        ),
        ({"aurora_cluster_alarm_period_seconds": 90}, "aurora_cluster_alarm_period_seconds=90 is invalid"),
        ({"aurora_cluster_alarm_period_seconds": 0}, "aurora_cluster_alarm_period_seconds=0 is invalid"),
        ({"aurora_cluster_alarm_evaluation_periods": 0}, "aurora_cluster_alarm_evaluation_periods=0 is out of range"),
        (
            {"aurora_cluster_alarm_evaluation_periods": 1441},
            "aurora_cluster_alarm_evaluation_periods=1441 with aurora_cluster_alarm_period_seconds=60 is 86460 seconds: "
            "CloudWatch evaluates at most 86400 seconds (one day; seven with a period of an hour or more)",
        ),
        (
            {"aurora_cluster_alarm_period_seconds": 3600, "aurora_cluster_alarm_evaluation_periods": 169},
            "is 608400 seconds: CloudWatch evaluates at most 604800 seconds (seven days)",
        ),
        (
            {"aurora_cluster_alarm_cpu_percent": 0.0},
            "aurora_cluster_alarm_cpu_percent=0.0 is out of range: above 0 up to 100",
        ),
        ({"aurora_cluster_alarm_cpu_percent": 150.0}, "aurora_cluster_alarm_cpu_percent=150.0 is out of range"),
        (
            {"aurora_cluster_alarm_freeable_memory_percent": 100.0},
            "aurora_cluster_alarm_freeable_memory_percent=100.0 is out of range: above 0 below 100 (percent of the "
            "class's memory)",
        ),
        ({"aurora_cluster_alarm_connections_percent": -5.0}, "aurora_cluster_alarm_connections_percent=-5.0 is out"),
        (
            {"aurora_cluster_alarm_replica_lag_ms": 0.0},
            "aurora_cluster_alarm_replica_lag_ms=0.0 is out of range: above 0",
        ),
        (
            {"aurora_cluster_alarm_deadlocks_per_second": -1.0},
            "aurora_cluster_alarm_deadlocks_per_second=-1.0 is out of range: from 0 (deadlocks per second)",
        ),
        (
            {"aurora_cluster_alarm_free_local_storage_gib": 0.0},
            "aurora_cluster_alarm_free_local_storage_gib=0.0 is out",
        ),
        ({"aurora_cluster_alarm_free_local_storage_gib": float("inf")}, "free_local_storage_gib=inf is out of range"),
        ({"aurora_cluster_alarm_acu_utilization_percent": 100.5}, "aurora_cluster_alarm_acu_utilization_percent=100.5"),
        ({"aurora_cluster_alarms_enabled": True}, NO_TOPIC),
    ],
)
def test_each_broken_alarm_rule_is_named(changes, expected):
    errors = errors_with(**changes)
    assert len(errors) == 1, errors
    assert expected in errors[0]


@pytest.mark.parametrize(
    "changes",
    [
        {"aurora_cluster_alarms_enabled": True, "aurora_cluster_event_notifications_enabled": True},
        {"aurora_cluster_alarms_enabled": True, "aurora_cluster_event_topic_arn": "arn:aws:sns:us-east-1:1:t"},
        {"aurora_cluster_alarm_period_seconds": 3600, "aurora_cluster_alarm_evaluation_periods": 168},
        {"aurora_cluster_alarm_period_seconds": 300, "aurora_cluster_alarm_evaluation_periods": 288},
        {"aurora_cluster_alarm_cpu_percent": 100.0, "aurora_cluster_alarm_deadlocks_per_second": 0.0},
        {"aurora_cluster_alarm_cpu_percent": 95},  # a float variable takes an int
    ],
)
def test_alarm_settings_within_the_rules_are_valid(changes):
    assert errors_with(**changes) == []
