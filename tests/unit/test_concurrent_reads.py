# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""api.concurrently: the plan's independent reads run side by side, and a failure fails the module once, from its
own thread, the same way whichever read finished first."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi, concurrently

WAIT = 10  # seconds a test waits for the other job before it gives up (a failure, never a pass)


class Failed(Exception):
    pass


class FakeModule:
    _name = "aurora_stack"

    def __init__(self):
        self.failures = []
        self.threads = []

    def fail_json_aws(self, error, msg):
        self.failures.append(msg)
        self.threads.append(threading.current_thread() is threading.main_thread())
        raise Failed(msg)


def stubbed(module, service, method, code):
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stubber = Stubber(client)
    stubber.add_client_error(method, service_error_code=code, http_status_code=400)
    stubber.activate()
    return AwsApi(module, service, client=client)


def test_jobs_run_side_by_side_and_answer_by_name():
    # Each job waits at the barrier for the other: one after the other, the first would wait alone and break it.
    barrier = threading.Barrier(3, timeout=WAIT)

    def job(value):
        barrier.wait()
        return value

    assert concurrently([("a", lambda: job(1)), ("b", lambda: job(2)), ("c", lambda: job(3))]) == {
        "a": 1,
        "b": 2,
        "c": 3,
    }


def test_no_job_and_one_job_run_in_the_calling_thread():
    assert concurrently([]) == {}
    assert concurrently([("only", threading.current_thread)]) == {"only": threading.main_thread()}


def test_the_first_failing_job_in_order_decides_the_failure_whatever_failed_first():
    module = FakeModule()
    cluster = stubbed(module, "rds", "describe_db_clusters", "AccessDenied")
    vault = stubbed(module, "backup", "describe_backup_vault", "AccessDeniedException")
    vault_failed = threading.Event()

    def first():
        assert vault_failed.wait(WAIT)  # the second job has failed by now
        cluster.call("describe_db_clusters", context="cluster c")

    def second():
        try:
            vault.call("describe_backup_vault", context="backup vault v", BackupVaultName="v")
        finally:
            vault_failed.set()

    with pytest.raises(Failed):
        concurrently([("cluster", first), ("vault", second)])
    # Once, from the module's own thread, with the first job's call named.
    assert module.failures == [
        "AWS rds DescribeDBClusters failed for cluster c (the credentials are not allowed the IAM action "
        "rds:DescribeDBClusters)"
    ]
    assert module.threads == [True]


def test_a_failure_in_a_nested_read_fails_the_module_once_from_its_own_thread():
    module = FakeModule()
    api = stubbed(module, "rds", "describe_event_subscriptions", "Throttling")

    def inner():
        return concurrently(
            [("ok", lambda: "fine"), ("subscriptions", lambda: api.call("describe_event_subscriptions"))]
        )

    with pytest.raises(Failed):
        concurrently([("outer", inner), ("other", lambda: "fine")])
    assert len(module.failures) == 1 and module.failures[0].startswith("AWS rds DescribeEventSubscriptions failed")
    assert module.threads == [True]


def test_an_exception_other_than_a_call_failure_is_raised_as_it_is():
    class NetworkProblem(Exception):
        pass

    def bad():
        raise NetworkProblem("vpc_name=x: not found")

    with pytest.raises(NetworkProblem, match="vpc_name=x"):
        concurrently([("network", bad), ("cluster", lambda: None)])


def test_outside_the_jobs_a_failed_call_fails_the_module_directly():
    module = FakeModule()
    api = stubbed(module, "rds", "describe_db_clusters", "AccessDenied")
    with pytest.raises(Failed):
        api.call("describe_db_clusters")
    assert module.threads == [True]


def test_meanwhile_runs_in_the_calling_thread_while_the_jobs_wait_for_their_answers():
    clients_made = threading.Event()

    def read():
        # A read's answer arrives only once the clients are made: had meanwhile waited for the jobs, this fails.
        return clients_made.wait(WAIT)

    def make_clients():
        clients_made.set()
        return threading.current_thread() is threading.main_thread()

    assert concurrently([("read", read)], meanwhile=make_clients) == {"read": True, "meanwhile": True}
