"""aurora_preflight and module_utils/catalog against botocore's Stubber, with the answers real AWS gives.

moto cannot give these answers (it has no engine version or parameter catalogue, and lists no class for 16 or 17),
so what only real AWS shows is pinned here: a version missing from a Region's non-empty list, a class missing from
a version's non-empty list, the default cluster parameters over several pages, a parameter AWS does not let users
change or that needs a newer version, a family AWS refuses, AccessDenied on the catalogue calls, and KMS keys that
are disabled, pending deletion, asymmetric or unreadable. tests/integration/test_preflight.py runs the module
against the local AWS, where the shipped catalogue answers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils import catalog
from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.catalog_data_aurora_postgresql import CATALOG
from ansible_collections.vitality.aurora.plugins.modules import aurora_preflight as m

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = f"catalog {CATALOG['generated']}"
REGION = "us-east-1"
PREFIX = "aurora_cluster_"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:123456789012:key/{KEY_ID}"


class Failed(Exception):
    pass


class Exited(Exception):
    def __init__(self, result):
        super().__init__("exit_json")
        self.result = result


class FakeModule:
    def fail_json_aws(self, exception, msg):
        raise Failed(f"{msg}: {exception}")


def client(service):
    return boto3.client(service, region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")


def stubbed_rds_and_kms():
    """Yields (rds AwsApi, rds Stubber, kms AwsApi, kms Stubber) once, for a fixture; every queued answer must be
    used."""
    rds, kms = client("rds"), client("kms")
    with Stubber(rds) as rds_stub, Stubber(kms) as kms_stub:
        yield AwsApi(FakeModule(), "rds", client=rds), rds_stub, AwsApi(FakeModule(), "kms", client=kms), kms_stub
        rds_stub.assert_no_pending_responses()
        kms_stub.assert_no_pending_responses()


@pytest.fixture
def aws():
    yield from stubbed_rds_and_kms()


def run(aws, **params):
    rds, _rds_stub, kms, _kms_stub = aws
    given = {"engine": "aurora-postgresql", "variable_prefix": PREFIX, **params}
    return m.Preflight(given, rds, kms, REGION).run()


def version(v, family=None, logs=("postgresql",)):
    item = {
        "Engine": "aurora-postgresql",
        "EngineVersion": v,
        "DBParameterGroupFamily": family or f"aurora-postgresql{v.split('.')[0]}",
    }
    if logs is not None:
        item["ExportableLogTypes"] = list(logs)
    return item


def versions_answer(stub, asked, answer, **extra):
    stub.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": answer},
        {"Engine": "aurora-postgresql", "EngineVersion": asked, **extra},
    )


def all_versions_answer(stub, pages):
    for i, page in enumerate(pages):
        answer = {"DBEngineVersions": page}
        if i < len(pages) - 1:
            answer["Marker"] = f"m{i}"
        expected = {"Engine": "aurora-postgresql"}
        if i:
            expected["Marker"] = f"m{i - 1}"
        stub.add_response("describe_db_engine_versions", answer, expected)


def orderable_answer(stub, v, pages):
    for i, page in enumerate(pages):
        answer = {
            "OrderableDBInstanceOptions": [
                {"Engine": "aurora-postgresql", "EngineVersion": v, "DBInstanceClass": c, "StorageType": s}
                for c in page
                for s in ("aurora", "aurora-iopt1")
            ]
        }
        if i < len(pages) - 1:
            answer["Marker"] = f"o{i}"
        expected = {"Engine": "aurora-postgresql", "EngineVersion": v}
        if i:
            expected["Marker"] = f"o{i - 1}"
        stub.add_response("describe_orderable_db_instance_options", answer, expected)


def parameter(name, allowed=None, data_type="string", modifiable=True, apply="dynamic", minimum=None):
    p = {"ParameterName": name, "DataType": data_type, "IsModifiable": modifiable, "ApplyType": apply}
    if allowed is not None:
        p["AllowedValues"] = allowed
    if minimum:
        p["MinimumEngineVersion"] = minimum
    return p


REAL_PARAMETERS = [
    [
        parameter("rds.force_ssl", "0,1", "boolean"),
        parameter("log_min_duration_statement", "-1-2147483647", "integer"),
        parameter("work_mem", "64-2147483647", "integer"),
        parameter("log_line_prefix", None, "string", modifiable=False),
    ],
    [
        parameter(
            "shared_preload_libraries", "auto_explain,pg_cron,pg_stat_statements,pgaudit", "list", apply="static"
        ),
        parameter("autovacuum_vacuum_scale_factor", "0-100", "float"),
        parameter("default_transaction_isolation", "serializable,repeatable read,read committed,read uncommitted"),
        parameter("datestyle", "(iso|postgres|sql|german)(,(dmy|mdy|ymd))?"),
        parameter("apg_new_feature", "0,1", "boolean", minimum="16.8"),
        parameter("max_connections", "6-8388607", "integer", apply="static"),
    ],
]


def parameters_answer(stub, family, pages):
    for i, page in enumerate(pages):
        defaults = {"DBParameterGroupFamily": family, "Parameters": page}
        if i < len(pages) - 1:
            defaults["Marker"] = f"p{i}"
        expected = {"DBParameterGroupFamily": family}
        if i:
            expected["Marker"] = f"p{i - 1}"
        stub.add_response("describe_engine_default_cluster_parameters", {"EngineDefaults": defaults}, expected)


def key(state="Enabled", usage="ENCRYPT_DECRYPT", spec="SYMMETRIC_DEFAULT", arn=KEY_ARN):
    metadata = {"KeyId": arn.rsplit("/", 1)[1], "Arn": arn, "KeyState": state, "Enabled": state == "Enabled"}
    if usage:
        metadata["KeyUsage"] = usage
    if spec:
        metadata["KeySpec"] = spec
    return {"KeyMetadata": metadata}


# --- AllowedValues ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "allowed", "data_type", "reason"),
    [
        ("1", "0,1", "boolean", None),
        ("2", "0,1", "boolean", "is not allowed"),
        ("on", "0,1", "boolean", "is not allowed"),
        ("-1", "-1-2147483647", "integer", None),
        ("2147483647", "-1-2147483647", "integer", None),
        ("-2", "-1-2147483647", "integer", "is out of range"),
        ("2147483648", "-1-2147483647", "integer", "is out of range"),
        ("64MB", "64-2147483647", "integer", "is not an integer"),
        ("1.5", "64-2147483647", "integer", "is not an integer"),
        ("0.05", "0-100", "float", None),
        ("101", "0-100", "float", "is out of range"),
        ("abc", "0-100", "float", "is not a number"),
        ("-15", "-15-3", "integer", None),
        ("-16", "-15-3", "integer", "is out of range"),
        ("5", "-1,1-100", "integer", None),
        ("-1", "-1,1-100", "integer", None),
        ("0", "-1,1-100", "integer", "is out of range"),
        ("ddl", "none,ddl,mod,all", "string", None),
        ("DDL", "none,ddl,mod,all", "string", None),
        ("some", "none,ddl,mod,all", "string", "is not allowed"),
        ("read committed", "serializable,repeatable read,read committed,read uncommitted", "string", None),
        ("pg_stat_statements,pg_cron", "auto_explain,pg_cron,pg_stat_statements", "list", None),
        ("pg_stat_statements, pg_cron", "auto_explain,pg_cron,pg_stat_statements", "list", None),
        ("", "auto_explain,pg_cron,pg_stat_statements", "list", None),
        ("pg_stat_statements,timescaledb", "auto_explain,pg_cron,pg_stat_statements", "list", "names 'timescaledb'"),
        ("anything", None, "string", None),
        ("anything", "", "string", None),
        ("iso, dmy", "(iso|postgres|sql|german)(,(dmy|mdy|ymd))?", "string", None),
        ("{DBInstanceClassMemory/12038}", "1-2147483647", "integer", None),
        ("GREATEST({DBInstanceClassMemory/9531392},5000)", "6-8388607", "integer", None),
        ("md5+scram", "md5+scram,scram", "string", None),
    ],
)
def test_allowed_values_as_rds_writes_them(value, allowed, data_type, reason):
    found = catalog.value_error(value, allowed, data_type)
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason), found


def test_versions_sort_by_their_numbers():
    assert sorted(["16.10", "16.2", "16.9", "17.4"], key=catalog.version_key) == ["16.2", "16.9", "16.10", "17.4"]


# --- 1. engine version, family, 5. log exports ------------------------------------------------------------------


def test_an_offered_version_of_the_right_family_passes_with_one_call(aws):
    versions_answer(aws[1], "16.6", [version("16.6")])
    checked = run(aws, engine_version="16.6", parameter_group_family="aurora-postgresql16")
    assert checked.errors == [] and checked.sources["engine_versions"] == "api"


def test_a_family_other_than_the_versions_is_refused_naming_both_variables(aws):
    versions_answer(aws[1], "16.6", [version("16.6")])
    checked = run(aws, engine_version="16.6", parameter_group_family="aurora-postgresql17")
    assert checked.errors == [
        "aurora_cluster_parameter_group_family='aurora-postgresql17' is not the family of "
        "aurora_cluster_engine_version='16.6': Aurora PostgreSQL 16.6 takes parameter groups of family "
        "'aurora-postgresql16'"
    ]


def test_a_version_missing_from_the_regions_non_empty_list_is_refused_not_looked_up_elsewhere(aws):
    """Real AWS: the version asked for answers an empty list, the engine's list (two pages) lacks it."""
    versions_answer(aws[1], "16.99", [])
    all_versions_answer(aws[1], [[version("15.10"), version("16.10"), version("16.2")], [version("16.6")]])
    checked = run(aws, engine_version="16.99", instance_classes=["db.r6g.large"], parameters={"rds.force_ssl": 1})
    assert checked.errors == [
        "aurora_cluster_engine_version='16.99' is not an Aurora PostgreSQL version offered in us-east-1 "
        "(offered: 16.2, 16.6, 16.10)"
    ]
    assert checked.sources == {
        "engine_versions": "api",
        "orderable_instance_classes": "not checked",  # nothing to order for a version that is not offered
        "cluster_parameters": "not checked",  # no family to check them against
    }


def test_a_version_of_a_major_the_region_lacks_names_every_offered_version(aws):
    versions_answer(aws[1], "18.1", [])
    all_versions_answer(aws[1], [[version("16.6"), version("17.4")]])
    checked = run(aws, engine_version="18.1", variable_prefix="")
    assert checked.errors == [
        "engine_version='18.1' is not an Aurora PostgreSQL version offered in us-east-1 (offered: 16.6, 17.4)"
    ]


def test_an_endpoint_without_versions_falls_back_on_the_shipped_catalogue(aws):
    versions_answer(aws[1], "16.6", [])
    all_versions_answer(aws[1], [[]])
    checked = run(aws, engine_version="16.6", parameter_group_family="aurora-postgresql16")
    assert checked.errors == [] and checked.sources["engine_versions"] == SHIPPED


def test_a_version_the_shipped_catalogue_lacks_is_refused_saying_where_the_answer_came_from(aws):
    versions_answer(aws[1], "16.99", [])
    all_versions_answer(aws[1], [[]])
    checked = run(aws, engine_version="16.99")
    shipped = ", ".join(e["EngineVersion"] for e in CATALOG["engine_versions"] if e["EngineVersion"].startswith("16."))
    assert checked.errors == [
        f"aurora_cluster_engine_version='16.99' is not an Aurora PostgreSQL version offered in us-east-1 "
        f"(offered: {shipped}; according to the shipped {SHIPPED})"
    ]


def test_a_major_version_alone_is_the_version_aws_creates_by_default(aws):
    versions_answer(aws[1], "16", [version("16.6")], DefaultOnly=True)
    orderable_answer(aws[1], "16.6", [["db.r6g.large"]])
    checked = run(aws, engine_version="16", instance_classes=["db.r6g.large"])
    assert checked.errors == [] and checked.sources["orderable_instance_classes"] == "api"


def test_access_denied_on_the_version_catalogue_warns_and_uses_the_shipped_one(aws):
    aws[1].add_client_error("describe_db_engine_versions", "AccessDenied", "not authorized", 403)
    checked = run(aws, engine_version="16.8")
    assert checked.errors == [] and checked.sources["engine_versions"] == SHIPPED
    assert any("DescribeDBEngineVersions" in w and "AccessDenied" in w for w in checked.warnings)


def test_other_failures_of_the_catalogue_calls_fail_naming_the_call(aws):
    aws[1].add_client_error("describe_db_engine_versions", "InternalFailure", "boom", 500)
    with pytest.raises(Failed, match="AWS rds DescribeDBEngineVersions failed for aurora-postgresql 16.6"):
        run(aws, engine_version="16.6")


def test_log_types_the_version_does_not_export_are_refused(aws):
    versions_answer(aws[1], "16.6", [version("16.6", logs=["postgresql"])])
    checked = run(aws, engine_version="16.6", cloudwatch_logs_exports=["postgresql", "upgrade"])
    assert checked.errors == [
        "aurora_cluster_cloudwatch_logs_exports names 'upgrade': Aurora PostgreSQL 16.6 exports only postgresql "
        "to CloudWatch Logs"
    ]


def test_log_types_are_not_judged_when_aws_does_not_list_them(aws):
    versions_answer(aws[1], "16.6", [version("16.6", logs=None)])
    assert run(aws, engine_version="16.6", cloudwatch_logs_exports=["anything"]).errors == []


def test_a_version_that_exports_nothing_refuses_every_log_type(aws):
    versions_answer(aws[1], "16.6", [version("16.6", logs=[])])
    errors = run(aws, engine_version="16.6", cloudwatch_logs_exports=["postgresql"]).errors
    assert errors == [
        "aurora_cluster_cloudwatch_logs_exports names 'postgresql': Aurora PostgreSQL 16.6 exports no logs to "
        "CloudWatch Logs"
    ]


# --- 2. instance classes ------------------------------------------------------------------------------------------


def test_a_class_missing_from_the_versions_non_empty_list_is_refused_naming_the_orderable_ones(aws):
    versions_answer(aws[1], "16.6", [version("16.6")])
    orderable_answer(aws[1], "16.6", [["db.r6g.large", "db.t4g.medium"], ["db.r7g.large"]])
    checked = run(aws, engine_version="16.6", instance_classes=["db.r7g.large", "db.t2.micro"])
    assert checked.errors == [
        "aurora_cluster_instance_class='db.t2.micro' is not orderable for Aurora PostgreSQL 16.6 in us-east-1 "
        "(orderable: db.r6g.large, db.r7g.large, db.t4g.medium)"
    ]
    assert checked.sources["orderable_instance_classes"] == "api"


def test_a_version_with_no_orderable_class_listed_falls_back_on_the_shipped_classes(aws):
    versions_answer(aws[1], "16.6", [version("16.6")])
    orderable_answer(aws[1], "16.6", [[]])
    checked = run(aws, engine_version="16.6", instance_classes=["db.r6g.large", "db.m5.large"])
    assert checked.sources["orderable_instance_classes"] == SHIPPED
    assert len(checked.errors) == 1
    assert checked.errors[0].startswith(
        "aurora_cluster_instance_class='db.m5.large' is not orderable for Aurora PostgreSQL 16.6 in us-east-1 "
        "(orderable: db.r5.12xlarge, "
    )
    assert checked.errors[0].endswith(f"; according to the shipped {SHIPPED})")


# --- 3. cluster parameters ----------------------------------------------------------------------------------------


def test_parameters_are_checked_against_every_page_of_the_familys_defaults(aws):
    versions_answer(aws[1], "16.6", [version("16.6")])
    parameters_answer(aws[1], "aurora-postgresql16", REAL_PARAMETERS)
    wanted = {
        "rds.force_ssl": True,  # sent as 1
        "log_min_duration_statement": 2000,
        "work_mem": "64MB",
        "log_line_prefix": "%t:",
        "shared_preload_libraries": "pg_stat_statements,timescaledb",
        "autovacuum_vacuum_scale_factor": 0.05,
        "default_transaction_isolation": "read committed",
        "datestyle": "iso, dmy",
        "apg_new_feature": 1,
        "max_connections": "LEAST({DBInstanceClassMemory/9531392},5000)",
        "log_min_duration_statment": 1000,
        "rds.force_sssl": 1,
    }
    checked = run(aws, engine_version="16.6", parameters=wanted)
    assert checked.sources["cluster_parameters"] == "api"
    assert checked.errors == [
        "aurora_cluster_parameters.apg_new_feature needs Aurora PostgreSQL 16.8 or later, and "
        "aurora_cluster_engine_version is '16.6'",
        "aurora_cluster_parameters.log_line_prefix cannot be set: AWS does not let users change it in "
        "aurora-postgresql16",
        "aurora_cluster_parameters.log_min_duration_statment is not a parameter of the aurora-postgresql16 DB cluster "
        "parameter group family in us-east-1 (did you mean log_min_duration_statement?)",
        "aurora_cluster_parameters.rds.force_sssl is not a parameter of the aurora-postgresql16 DB cluster parameter "
        "group family in us-east-1 (did you mean rds.force_ssl?)",
        "aurora_cluster_parameters.shared_preload_libraries='pg_stat_statements,timescaledb' names 'timescaledb', "
        "which is not allowed: aurora-postgresql16 allows auto_explain,pg_cron,pg_stat_statements,pgaudit (list)",
        "aurora_cluster_parameters.work_mem='64MB' is not an integer: aurora-postgresql16 allows 64-2147483647 "
        "(integer)",
    ]


def test_the_given_family_is_used_when_no_version_is_given(aws):
    parameters_answer(aws[1], "aurora-postgresql17", [[parameter("rds.force_ssl", "0,1", "boolean")]])
    checked = run(aws, parameter_group_family="aurora-postgresql17", parameters={"rds.force_ssl": 0})
    assert checked.errors == [] and checked.sources["engine_versions"] == "not checked"


def test_a_family_aws_refuses_is_an_error_naming_it(aws):
    aws[1].add_client_error(
        "describe_engine_default_cluster_parameters",
        "InvalidParameterValue",
        "ParameterGroupFamily aurora-postgresql99 is not a valid parameter group family",
        400,
    )
    checked = run(aws, parameter_group_family="aurora-postgresql99", parameters={"rds.force_ssl": 1})
    assert checked.errors == [
        "aurora_cluster_parameter_group_family='aurora-postgresql99' is refused by AWS in us-east-1: "
        "ParameterGroupFamily aurora-postgresql99 is not a valid parameter group family"
    ]


def test_parameters_of_a_family_that_is_refused_are_not_checked_against_it(aws):
    versions_answer(aws[1], "16.6", [version("16.6")])
    checked = run(
        aws, engine_version="16.6", parameter_group_family="aurora-postgresql17", parameters={"rds.force_ssl": 1}
    )
    assert len(checked.errors) == 1 and checked.sources["cluster_parameters"] == "not checked"


def test_an_endpoint_without_defaults_uses_the_shipped_partial_list_and_only_warns_of_unknown_names(aws):
    parameters_answer(aws[1], "aurora-postgresql16", [[]])
    wanted = {"rds.force_ssl": 2, "log_min_duration_statement": 1000, "apg_some_new_parameter": "x"}
    checked = run(aws, parameter_group_family="aurora-postgresql16", parameters=wanted)
    assert checked.sources["cluster_parameters"] == SHIPPED
    assert checked.errors == [
        "aurora_cluster_parameters.rds.force_ssl='2' is not allowed: aurora-postgresql16 allows 0,1 (boolean), "
        f"according to the shipped {SHIPPED}"
    ]
    assert len(checked.warnings) == 1
    assert checked.warnings[0].startswith("aurora_cluster_parameters.apg_some_new_parameter is not among the ")


def test_a_family_neither_aws_nor_the_catalogue_knows_is_not_checked_with_a_warning(aws):
    parameters_answer(aws[1], "aurora-postgresql15", [[]])
    checked = run(aws, parameter_group_family="aurora-postgresql15", parameters={"rds.force_ssl": 1})
    assert checked.errors == [] and checked.sources["cluster_parameters"] == "not checked"
    assert "aurora-postgresql15" in checked.warnings[0]


# --- 4. KMS keys ----------------------------------------------------------------------------------------------------


def test_an_enabled_symmetric_key_passes_and_is_described_once_for_two_labels(aws):
    aws[3].add_response("describe_key", key(), {"KeyId": "alias/vitality-db"})
    keys = {
        "aurora_cluster_kms_key_id": "alias/vitality-db",
        "aurora_cluster_performance_insights_kms_key_id": "alias/vitality-db",
        "aurora_cluster_master_user_secret_kms_key_id": "",
    }
    checked = run(aws, kms_keys=keys)
    assert checked.errors == []
    assert checked.kms_keys == {
        "aurora_cluster_kms_key_id": {"arn": KEY_ARN, "state": "Enabled", "enabled": True},
        "aurora_cluster_performance_insights_kms_key_id": {"arn": KEY_ARN, "state": "Enabled", "enabled": True},
    }


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (key(state="Disabled"), "is Disabled: RDS needs an enabled key"),
        (key(state="PendingDeletion"), "is PendingDeletion: RDS needs an enabled key (cancel its deletion"),
        (key(state="PendingImport"), "is PendingImport: RDS needs an enabled key"),
        (
            key(usage="SIGN_VERIFY", spec="RSA_2048"),
            "is not a symmetric encryption key (KeyUsage SIGN_VERIFY, KeySpec RSA_2048): RDS needs KeyUsage "
            "ENCRYPT_DECRYPT and KeySpec SYMMETRIC_DEFAULT",
        ),
        (
            key(usage="ENCRYPT_DECRYPT", spec="RSA_4096"),
            "is not a symmetric encryption key (KeyUsage ENCRYPT_DECRYPT, KeySpec RSA_4096)",
        ),
        (
            key(usage="GENERATE_VERIFY_MAC", spec="HMAC_256"),
            "is not a symmetric encryption key (KeyUsage GENERATE_VERIFY_MAC, KeySpec HMAC_256)",
        ),
        (
            key(usage=None, spec="ECC_NIST_P256"),
            "is not a symmetric encryption key (KeyUsage not reported, KeySpec ECC_NIST_P256)",
        ),
        (key(usage="SIGN_VERIFY", spec=None), "is not a symmetric encryption key (KeyUsage SIGN_VERIFY, KeySpec not"),
    ],
)
def test_a_key_rds_cannot_use_is_refused_naming_label_value_and_arn(aws, answer, problem):
    aws[3].add_response("describe_key", answer, {"KeyId": KEY_ID})
    checked = run(aws, kms_keys={"aurora_cluster_kms_key_id": KEY_ID})
    assert len(checked.errors) == 1
    assert checked.errors[0].startswith(f"aurora_cluster_kms_key_id='{KEY_ID}' ({KEY_ARN}) {problem}")


def test_a_key_described_without_key_usage_is_judged_by_its_spec(aws):
    aws[3].add_response("describe_key", key(usage=None), {"KeyId": KEY_ID})
    assert run(aws, kms_keys={"k": KEY_ID}).errors == []


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "NotFoundException",
            "Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found.",
            "is not a KMS key in us-east-1: Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found.",
        ),
        ("AccessDeniedException", "denied", "cannot be described with these credentials (AccessDeniedException)"),
        ("InvalidArnException", "bad arn", "is refused by KMS (InvalidArnException: bad arn)"),
    ],
)
def test_a_key_kms_will_not_describe_is_an_error_naming_the_label_and_value(aws, code, message, expected):
    aws[3].add_client_error("describe_key", code, message, 400, expected_params={"KeyId": "alias/nope"})
    checked = run(aws, kms_keys={"aurora_cluster_kms_key_id": "alias/nope"})
    assert len(checked.errors) == 1
    assert checked.errors[0].startswith(f"aurora_cluster_kms_key_id='alias/nope' {expected}")
    assert checked.kms_keys == {"aurora_cluster_kms_key_id": {"arn": None, "state": None, "enabled": False}}


def test_a_kms_outage_fails_naming_the_call(aws):
    aws[3].add_client_error("describe_key", "KMSInternalException", "boom", 500)
    with pytest.raises(Failed, match="AWS kms DescribeKey failed for key alias/x"):
        run(aws, kms_keys={"k": "alias/x"})


def test_nothing_asked_makes_no_call(aws):
    checked = run(aws, instance_classes=["db.r6g.large"], cloudwatch_logs_exports=["x"], kms_keys={"k": "  "})
    assert checked.errors == [] and checked.kms_keys == {}
    assert set(checked.sources.values()) == {"not checked"}


# --- the module ---------------------------------------------------------------------------------------------------


class PreflightModule:
    """AnsibleAWSModule as main() uses it: the argument spec's validation and defaults; exit and fail end the run."""

    given = {}

    def __init__(self, argument_spec, supports_check_mode):
        from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

        assert supports_check_mode is True
        validated = ArgumentSpecValidator(argument_spec).validate(self.given)
        assert validated.error_messages == []
        self.params = validated.validated_parameters
        self.region = REGION
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, msg, **result):
        raise Exited({"failed": True, "msg": msg, **result})


def run_main(monkeypatch, aws, given):
    apis = {"rds": aws[0], "kms": aws[2]}
    monkeypatch.setattr(PreflightModule, "given", given)
    monkeypatch.setattr(m, "AnsibleAWSModule", PreflightModule)
    monkeypatch.setattr(m, "AwsApi", lambda module, service: apis[service])
    with pytest.raises(Exited) as exited:
        m.main()
    return exited.value.result


def test_the_module_fails_with_every_error_joined_and_never_changes(monkeypatch, aws):
    versions_answer(aws[1], "16.6", [version("16.6")])
    orderable_answer(aws[1], "16.6", [["db.r6g.large"]])
    aws[3].add_response("describe_key", key(state="Disabled"), {"KeyId": KEY_ID})
    result = run_main(
        monkeypatch,
        aws,
        {"engine_version": "16.6", "instance_classes": ["db.x9.huge"], "kms_keys": {"pi_key": KEY_ID}},
    )
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"] == "Invalid settings, nothing was changed: " + "; ".join(result["errors"])
    assert [e.split("=")[0] for e in result["errors"]] == ["instance_class", "pi_key"]
    assert result["sources"] == {
        "engine_versions": "api",
        "orderable_instance_classes": "api",
        "cluster_parameters": "not checked",
    }
    assert result["kms_keys"] == {"pi_key": {"arn": KEY_ARN, "state": "Disabled", "enabled": False}}


def test_the_module_passes_unchanged_and_defaults_to_aurora_postgresql(monkeypatch, aws):
    aws[1].add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [version("17.4")]},
        {"Engine": "aurora-postgresql", "EngineVersion": "17.4"},
    )
    result = run_main(monkeypatch, aws, {"engine_version": "17.4"})
    assert result == {
        "changed": False,
        "errors": [],
        "sources": {
            "engine_versions": "api",
            "orderable_instance_classes": "not checked",
            "cluster_parameters": "not checked",
        },
        "kms_keys": {},
    }


# --- the shipped catalogue ------------------------------------------------------------------------------------------


def _repo_values(name):
    """Every value given anywhere in the repository's roles, inventories and tests to a setting called ``name``."""
    found = set()
    for path in [*REPO_ROOT.glob("roles/**/*.yml"), *REPO_ROOT.glob("inventories/**/*.yml")]:
        found.update(re.findall(rf"{name}:\s*\"?([0-9][0-9.]*)\"?", path.read_text(encoding="utf-8")))
    for path in REPO_ROOT.glob("tests/**/*.py"):
        found.update(re.findall(rf"\"{name}\":\s*\"([0-9][0-9.]*)\"", path.read_text(encoding="utf-8")))
    return found


def test_the_catalogue_knows_every_version_class_and_parameter_the_repository_uses():
    shipped_versions = [e["EngineVersion"] for e in CATALOG["engine_versions"]]
    refused_on_purpose = {"15.4", "18.1", "16.01", "16.99"}  # the tests of the settings check give these to be refused
    used = _repo_values("aurora_cluster_engine_version") - refused_on_purpose
    assert {"16.6", "16.8", "17.4"} <= used
    for wanted in used:
        assert any(catalog.same_version(v, wanted) for v in shipped_versions), wanted
    classes = set(CATALOG["orderable_instance_classes"]["16"])
    assert {"db.r6g.large", "db.r6g.xlarge", "db.r6g.2xlarge"} <= classes
    for family in ("aurora-postgresql16", "aurora-postgresql17"):
        names = set(CATALOG["cluster_parameters"][family]["parameters"])
        common = {"log_statement", "shared_preload_libraries", "rds.logical_replication", "timezone"}
        assert {"rds.force_ssl", "log_min_duration_statement", "work_mem"} | common <= names
        assert {"ssl_min_protocol_version", "password_encryption"} <= names


def test_the_catalogue_is_what_refresh_catalog_renders_from_it():
    import sys

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    import refresh_catalog

    path = REPO_ROOT / "plugins" / "module_utils" / "catalog_data_aurora_postgresql.py"
    assert refresh_catalog.render(CATALOG) == path.read_text(encoding="utf-8")
    refresh_catalog.check_shape(CATALOG)
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", CATALOG["generated"]) and CATALOG["source"]
    assert ast.literal_eval(path.read_text(encoding="utf-8").split("CATALOG = ", 1)[1]) == CATALOG


def test_every_shipped_allowed_values_text_is_one_the_checks_can_read():
    for family, entry in CATALOG["cluster_parameters"].items():
        for name, described in entry["parameters"].items():
            assert set(described) <= {"AllowedValues", "ApplyType", "DataType", "IsModifiable", "MinimumEngineVersion"}
            allowed = described.get("AllowedValues")
            if allowed:
                assert catalog.allowed_grammar(allowed) is not None, (family, name)
