"""A stand-in for module_utils.api.AwsApi in unit tests: answers from canned responses and records every request.

Shared by the tests of aurora_stack (its reads and its Apply) and of secondary_ops (its Operations).
"""

from __future__ import annotations

import copy


class CannedApi:
    """call()/describe_one()/paginate()/create() answering from a dict of method -> response; records the calls."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []
        self.requests = []
        self.module = None

    def call(self, method, not_found=(), context="", **params):
        self.calls.append(method)
        self.requests.append((method, params))
        return copy.deepcopy(self.answers.get(method))

    def create(self, method, exists, already_exists=(), context="", **params):
        return self.call(method, **params)

    def describe_one(self, method, result_key, not_found=(), context="", **params):
        """The first canned resource whose identifier matches the one asked for, as AWS filters by it."""
        found = (self.call(method, **params) or {}).get(result_key) or []
        found = [item for item in found if all(item.get(key, value) == value for key, value in params.items())]
        return found[0] if found else None

    def paginate(self, method, result_key, not_found=(), context="", **params):
        self.calls.append(method)
        self.requests.append((method, params))
        return copy.deepcopy((self.answers.get(method) or {}).get(result_key) or [])
