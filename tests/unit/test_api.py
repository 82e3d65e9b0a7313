from ansible_collections.vitality.aurora.plugins.module_utils import api
from ansible_collections.vitality.aurora.plugins.module_utils.api import (
    dict_to_tags,
    drop_none,
    tag_changes,
    tags_to_dict,
    to_snake,
)


def test_to_snake_turns_tag_list_into_dict_and_keeps_tag_keys():
    described = {"DBClusterIdentifier": "c", "TagList": [{"Key": "CostCenter", "Value": "42"}], "Port": 5432}
    assert to_snake(described) == {"db_cluster_identifier": "c", "port": 5432, "tags": {"CostCenter": "42"}}
    assert to_snake(None) == {}


def test_tag_round_trip_is_sorted_and_stringly():
    assert dict_to_tags({"b": 1, "a": "x"}) == [{"Key": "a", "Value": "x"}, {"Key": "b", "Value": "1"}]
    assert tags_to_dict(dict_to_tags({"a": "x"})) == {"a": "x"}


def test_tag_changes_purge_and_keep_aws_tags():
    current = {"keep": "1", "old": "2", "aws:cloudformation:stack-name": "s"}
    to_set, to_remove = tag_changes(current, {"keep": "1", "new": "3"}, purge=True)
    assert to_set == {"new": "3"}
    assert to_remove == ["old"]
    assert tag_changes(current, {"new": "3"}, purge=False) == ({"new": "3"}, [])
    assert tag_changes(current, None, purge=True) == ({}, [])


def test_drop_none_keeps_false_and_zero():
    assert drop_none({"a": None, "b": False, "c": 0}) == {"b": False, "c": 0}


class FakeModule:
    """What session_client reads of an AnsibleAWSModule: its AWS options, its name and how it fails."""

    _name = "vitality.aurora.aurora_stack"

    def __init__(self, **params):
        self.params = dict(
            dict.fromkeys(
                ("endpoint_url", "access_key", "secret_key", "session_token", "profile", "aws_ca_bundle", "aws_config")
            ),
            region="eu-west-1",
            validate_certs=True,
            **params,
        )

    def fail_json(self, **result):
        raise AssertionError(result["msg"])


def test_the_clients_of_one_run_share_one_session_configured_like_amazon_aws(monkeypatch):
    made = []
    real = api.boto3.session.Session

    def counted(*args, **kwargs):
        made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(api.boto3.session, "Session", counted)
    monkeypatch.setattr(api, "SESSIONS", {})
    module = FakeModule(
        endpoint_url="http://127.0.0.1:4566", access_key="AKID", secret_key="SECRET", aws_config={"read_timeout": 7}
    )
    rds = api.session_client(module, "rds", api.client_config())
    ec2 = api.session_client(module, "ec2", api.client_config())
    assert made == [{"profile_name": None}]
    for client in (rds, ec2):
        assert client.meta.region_name == "eu-west-1" and client.meta.endpoint_url == "http://127.0.0.1:4566"
        assert client._request_signer._credentials.access_key == "AKID"
        # The module's aws_config over the collection's retry configuration, which it does not name.
        assert client.meta.config.read_timeout == 7
        # botocore keeps max_attempts (retries) as total_max_attempts (the first attempt too).
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": api.RETRY_MAX_ATTEMPTS + 1}
        assert "vitality.aurora" in client.meta.config.user_agent_extra
