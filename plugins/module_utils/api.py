# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS plumbing shared by every module of the collection.

One place decides how calls are retried, how failures are reported and how
AWS responses are turned into Ansible return values.
"""

from __future__ import annotations

try:
    import boto3.session
    import botocore.config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

import collections
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.ansible_release import __version__ as ansible_version
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

# Error codes that say the credentials were refused, whatever the call: expired or never valid.
CREDENTIALS_REFUSED = frozenset(
    [
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "AuthFailure",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
    ]
)
# Error codes that say the credentials are valid but may not make this call. EC2's message does not name the
# action (it is an encoded authorization message), so the failure names it.
ACCESS_DENIED = frozenset(
    ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "NotAuthorized"]
)

# botocore's "standard" retry mode retries throttling, HTTP 5xx and connection
# errors with jittered exponential backoff; max_attempts bounds it.
RETRY_MAX_ATTEMPTS = 8


# Answers that mean "slow down", as botocore's standard retry mode reads them: the codes of its throttling checker
# (botocore.retries.standard.ThrottledRetryableChecker) and HTTP 429.
THROTTLING_CODES = frozenset(
    [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]
)
# Throttled answers this module run met, by operation (one module run is one process).
THROTTLED = collections.Counter()
_THROTTLED_LOCK = threading.Lock()


def count_throttled(response=None, operation=None, **_kwargs):
    """botocore's needs-retry hook: counts a throttled answer and leaves the retry decision to botocore (None)."""
    if not response:
        return None
    http_response, parsed = response
    code = ((parsed or {}).get("Error") or {}).get("Code", "")
    if code in THROTTLING_CODES or getattr(http_response, "status_code", None) == 429:
        with _THROTTLED_LOCK:  # reads run side by side (concurrently)
            THROTTLED[getattr(operation, "name", "?")] += 1
    return None


def throttled_calls():
    """What the module returns as ``throttled_calls``: the throttled answers met, in all and by operation."""
    return {"total": sum(THROTTLED.values()), "by_operation": dict(sorted(THROTTLED.items()))}


def client_config(max_attempts=RETRY_MAX_ATTEMPTS):
    return botocore.config.Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=10,
        read_timeout=60,
    )


# One boto3 session per profile for the module run. amazon.aws's module.client() builds a new session for every
# client, and each session loads botocore's endpoint, partition and retry data and resolves the credentials again
# (on EC2, one metadata round trip per client): with the eight services a prod plan reads, most of a second.
SESSIONS = {}


def session_client(module, service, config, region=None):
    """A client of ``service`` configured as amazon.aws's module.client() configures it (region, endpoint,
    credentials or profile, certificate checks, the module's aws_config over ``config``), from the run's shared session.
    ``region``: another Region than the module's (the same endpoint URL, when one is given, serves it)."""
    module_region, endpoint_url, connection = get_aws_connection_info(module)
    region = region or module_region
    connection = dict(connection)
    profile = connection.pop("profile_name", None)
    merged = botocore.config.Config(user_agent_extra=f"APN/1.0 Ansible/{ansible_version} vitality.aurora").merge(config)
    extra = connection.pop("aws_config", None)
    if extra is not None:
        merged = merged.merge(extra)
    try:
        if profile not in SESSIONS:
            SESSIONS[profile] = boto3.session.Session(profile_name=profile)
        return SESSIONS[profile].client(
            service, config=merged, region_name=region, endpoint_url=endpoint_url, **connection
        )
    except NoRegionError:
        module.fail_json(
            msg=f"The {module._name} module needs a region: none was given in its options, the environment or the AWS configuration"
        )
    except (ValueError, BotoCoreError) as e:
        module.fail_json_aws(e, msg="Couldn't connect to AWS")


class AwsApi:
    """A boto3 client whose calls retry, and fail the module with the call's name.

    ``call("describe_db_clusters", not_found=("DBClusterNotFoundFault",), ...)``
    returns the response, or ``None`` when AWS answers with one of the
    ``not_found`` error codes.
    """

    def __init__(self, module, service, client=None, region=None):
        self.module = module
        self.service = service
        if client is None:
            client = session_client(module, service, client_config(), region)
            # Every attempt's answer passes this hook, retried or not: the run reports how often AWS said "slow down".
            client.meta.events.register("needs-retry", count_throttled, unique_id="vitality-aurora-count-throttled")
        self.client = client

    def operation_name(self, method):
        return self.client.meta.method_to_api_mapping.get(method, method)

    def call(self, method, not_found=(), context="", **params):
        try:
            return getattr(self.client, method)(**params)
        except ClientError as e:
            if error_code(e) in not_found:
                return None
            self.fail(e, method, context)
        except BotoCoreError as e:
            self.fail(e, method, context)

    def create(self, method, exists, already_exists=(), context="", **params):
        """The response of a create call, or None when the resource exists after all.

        botocore retries a create whose response was lost; AWS then answers that the
        resource, or something the first request made with it, already exists.  A run
        beside this one may have created it too.  So before a failed create is reported,
        ``exists()`` is asked whether the resource is there now.
        """
        try:
            return getattr(self.client, method)(**params)
        except ClientError as e:
            if error_code(e) in already_exists or exists():
                return None
            self.fail(e, method, context)
        except BotoCoreError as e:
            if exists():
                return None
            self.fail(e, method, context)

    def describe_one(self, method, result_key, not_found=(), context="", **params):
        """The one resource a describe call by name or identifier returns, or None when there is none."""
        response = self.call(method, not_found=not_found, context=context, **params)
        found = (response or {}).get(result_key) or []
        return found[0] if found else None

    def paginate(self, method, result_key, not_found=(), context="", **params):
        """All pages of a paginated call, concatenated; None when not found."""
        try:
            items = self.client.get_paginator(method).paginate(**params).build_full_result().get(result_key) or []
        except ClientError as e:
            if error_code(e) in not_found:
                return None
            self.fail(e, method, context)
        except BotoCoreError as e:
            self.fail(e, method, context)
        return items

    def fail(self, error, method, context=""):
        message = self.failure_message(method, context, error)
        if getattr(_WORKER, "active", False):
            # fail_json prints the result and exits: only the module's own thread may do that, once.
            raise WorkerFailure(self.module, error, message)
        self.module.fail_json_aws(error, msg=message)

    def failure_message(self, method, context, error=None):
        """Which call failed, for what, and, when the error says it, the cause a user can act on."""
        where = f" for {context}" if context else ""
        operation = self.operation_name(method)
        cause = failure_cause(error, self.iam_prefix(), operation) if error is not None else ""
        return f"AWS {self.service} {operation} failed{where}" + (f" ({cause})" if cause else "")

    def iam_prefix(self):
        # The service prefix of IAM actions is the name requests are signed for (rds, ec2, kms, sns, backup, iam).
        model = getattr(self.client.meta, "service_model", None)
        return getattr(model, "signing_name", None) or self.service


# --- reads side by side -----------------------------------------------------------------------------------------
#
# A plan reads a few dozen resources, each read a round trip of tens of milliseconds to the Region (more from a
# laptop far from it). Most reads do not depend on each other: run one after the other, a prod plan waits for 40
# round trips; side by side, for its longest chain of dependent reads. Low-level boto3 clients are thread-safe; they
# are all made before the threads start (a session is not).

READ_WORKERS = 8
_WORKER = threading.local()


class WorkerFailure(Exception):
    """A call failed in a worker thread: ``concurrently`` fails the module with it from the module's own thread."""

    def __init__(self, module, error, message):
        super().__init__(message)
        self.module = module
        self.error = error
        self.message = message


def _run_as_worker(job):
    _WORKER.active = True
    try:
        return job()
    finally:
        _WORKER.active = False


def concurrently(jobs, meanwhile=None):
    """Run independent reads side by side: ``jobs`` is [(name, callable)], the answer {name: what it returned}.

    Each job keeps its own calls in order (one job is one chain of dependent reads). When jobs fail, the first
    failing job in ``jobs``' order decides the failure, whatever finished first, so a run fails the same way each
    time: an AWS call's failure fails the module with the call's message; any other exception is raised.
    ``meanwhile`` runs in the calling thread while the jobs are on their way (work that waits on no answer, such
    as making the clients of the next reads); its answer is ``meanwhile``'s.
    """
    jobs = list(jobs)
    nested = getattr(_WORKER, "active", False)
    if len(jobs) <= 1 and meanwhile is None:
        return {name: job() for name, job in jobs}
    results = {}
    with ThreadPoolExecutor(max_workers=max(1, min(READ_WORKERS, len(jobs)))) as pool:
        futures = [(name, pool.submit(_run_as_worker, job)) for name, job in jobs]
        if meanwhile is not None:
            results["meanwhile"] = meanwhile()
    for name, future in futures:
        try:
            results[name] = future.result()
        except WorkerFailure as failure:
            if nested:
                raise  # the outer concurrently, on the module's thread, reports it
            failure.module.fail_json_aws(failure.error, msg=failure.message)
    return results


def failure_cause(error, iam_prefix, operation):
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or run where SSO or an instance role provides them"
        )
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        return (
            "the AWS endpoint did not answer: check the region, the endpoint URL if one is set "
            "(aurora_cluster_aws_endpoint_url) and the network path to it"
        )
    code = error_code(error) if isinstance(error, ClientError) else ""
    if code in CREDENTIALS_REFUSED:
        return f"AWS refused the credentials ({code}): they are expired or not valid; refresh them and run again"
    if code in ACCESS_DENIED:
        return f"the credentials are not allowed the IAM action {iam_prefix}:{operation}"
    return ""


def error_code(client_error):
    return (getattr(client_error, "response", None) or {}).get("Error", {}).get("Code", "")


def to_snake(resource):
    """AWS's description of a resource, snake_cased, tags as a plain dict."""
    if not resource:
        return {}
    resource = dict(resource)
    tag_list = resource.pop("TagList", None)
    result = camel_dict_to_snake_dict(resource, ignore_list=["Tags"])
    if tag_list is not None:
        result["tags"] = tags_to_dict(tag_list)
    return result


def tags_to_dict(tag_list):
    return boto3_tag_list_to_ansible_dict(tag_list or [])


def dict_to_tags(tags):
    return [{"Key": str(key), "Value": str(value)} for key, value in sorted((tags or {}).items())]


def tag_changes(current, desired, purge):
    """Tags to set and tag keys to remove, as amazon.aws compares them (``aws:`` tags are AWS's own).

    ``desired=None`` leaves tags alone.
    """
    if desired is None:
        return {}, []
    desired = {str(k): str(v) for k, v in desired.items()}
    to_set, to_remove = compare_aws_tags(current or {}, desired, purge_tags=purge)
    return to_set, sorted(to_remove)


def apply_rds_tags(api, arn, to_set, to_remove, context):
    if to_remove:
        api.call("remove_tags_from_resource", ResourceName=arn, TagKeys=to_remove, context=context)
    if to_set:
        api.call("add_tags_to_resource", ResourceName=arn, Tags=dict_to_tags(to_set), context=context)


def drop_none(params):
    return {key: value for key, value in params.items() if value is not None}
