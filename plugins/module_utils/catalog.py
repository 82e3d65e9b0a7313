# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AWS offers an engine: its versions, the instance classes orderable for a version, the default cluster
parameters of a family; from the RDS API, or from the shipped catalogue where the API lists nothing.

When the API "lists nothing" is decided the same way for every endpoint, real AWS or not, from what AWS itself
guarantees:

* Engine versions: the version asked for is not in DescribeDBEngineVersions' answer for it, and the same call for
  the whole engine lists no version at all. A Region always lists the versions of an engine it offers, so an empty
  list is an endpoint without a catalogue; a list without the version asked for means it is not offered (an error
  for the caller, never a fallback).
* Orderable instance classes: DescribeOrderableDBInstanceOptions for the engine and a version lists no class at all
  (AWS lists every class orderable for a version it offers); a list without a class means the class is not
  orderable.
* Default cluster parameters: DescribeEngineDefaultClusterParameters lists no parameter for the family.
* Any of these calls refused with AccessDenied: the caller may not read AWS's catalogue; a warning says so and the
  shipped catalogue answers.

What moto 5.2.5, the local AWS of the tests, answers (tried against scripts/moto_server_ext.py's server):

* DescribeDBEngineVersions and DescribeEngineDefaultClusterParameters: not implemented (HTTP 500 with an HTML body,
  which botocore reports as ResponseParserError). scripts/moto_server_ext.py makes them answer empty lists, as an
  endpoint without these catalogues would.
* DescribeOrderableDBInstanceOptions: a fixed list for aurora-postgresql 11.9 to 15.2, the same in every Region,
  and nothing for 16 or 17 (an empty list); with EngineVersion given it ignores DBInstanceClass.
* kms DescribeKey: NotFoundException for a missing key or alias, KeyState Disabled or PendingDeletion as AWS; a key
  created without KeyUsage is described without KeyUsage.

``value_error`` reads AllowedValues as RDS writes them: a comma list of values ("0,1", "none,ddl,mod,all"), numeric
ranges ("-1-2147483647", "0-100"), or both; anything else (a pattern, prose) is free text and not checked.
"""

from __future__ import annotations

import re

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.vitality.aurora.plugins.module_utils.api import error_code
from ansible_collections.vitality.aurora.plugins.module_utils.catalog_data_aurora_postgresql import CATALOG as SHIPPED

API = "api"
NOT_CHECKED = "not checked"
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def shipped_source(catalog=None):
    """How ``sources`` names the shipped catalogue: ``catalog <generation date>``."""
    return f"catalog {(catalog or SHIPPED)['generated']}"


def version_key(version):
    """16.10 sorts after 16.9: versions compare by their numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in str(version).split("."))


def major_of(version):
    return str(version).split(".", 1)[0]


def same_version(listed, wanted):
    """Whether a listed version is the one asked for; a major version alone ("16") matches any of its versions."""
    if "." in wanted:
        return listed == wanted
    return major_of(listed) == wanted


def offered_versions(entries, wanted):
    """The versions to name when ``wanted`` is not offered: those of its major version, or all of them."""
    versions = sorted({e["EngineVersion"] for e in entries if e.get("EngineVersion")}, key=version_key)
    same_major = [v for v in versions if major_of(v) == major_of(wanted)]
    return same_major or versions


def version_entry(item):
    """The parts of a DBEngineVersion the checks use."""
    entry = {"EngineVersion": item.get("EngineVersion"), "DBParameterGroupFamily": item.get("DBParameterGroupFamily")}
    if "ExportableLogTypes" in item:  # absent: AWS did not say, so log types are not checked
        entry["ExportableLogTypes"] = list(item.get("ExportableLogTypes") or [])
    if item.get("ServerlessV2FeaturesSupport"):  # absent: the capacity range is left to the static rules
        entry["ServerlessV2FeaturesSupport"] = dict(item["ServerlessV2FeaturesSupport"])
    return entry


class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CatalogReader:
    """One engine's catalogues, from the RDS API (an AwsApi of service rds) or the shipped catalogue."""

    def __init__(self, api, engine, catalog=None):
        self.api = api
        self.engine = engine
        catalog = catalog or SHIPPED
        self.catalog = catalog if catalog.get("engine") == engine else {}
        self.source = shipped_source(catalog)
        self.warnings = []

    def _read(self, method, context, all_pages, refused=(), **params):
        """The answer (all pages merged when ``all_pages``), or None when AWS refuses the caller (AccessDenied).

        Error codes in ``refused`` raise Refused; any other failure fails the module naming the call.
        """
        try:
            if all_pages:
                return self.api.client.get_paginator(method).paginate(**params).build_full_result()
            return getattr(self.api.client, method)(**params)
        except ClientError as e:
            code = error_code(e)
            if code in DENIED:
                self.warnings.append(
                    f"AWS refused {self.api.operation_name(method)} for {context} ({code}); "
                    f"the shipped catalogue ({self.source}) answered instead"
                )
                return None
            if code in refused:
                raise Refused(code, (getattr(e, "response", None) or {}).get("Error", {}).get("Message", str(e))) from e
            self.api.fail(e, method, context)
        except BotoCoreError as e:
            self.api.fail(e, method, context)

    def engine_version(self, version):
        """``{"source", "found", "offered"}``: ``found`` is the version's entry (EngineVersion,
        DBParameterGroupFamily, ExportableLogTypes when known) or None, ``offered`` the versions to name instead."""
        request = {"Engine": self.engine, "EngineVersion": version}
        if "." not in version:
            request["DefaultOnly"] = True  # a major version alone: AWS creates its default version
        answer = self._read("describe_db_engine_versions", f"{self.engine} {version}", False, **request)
        if answer is not None:
            for item in answer.get("DBEngineVersions") or []:
                if same_version(item.get("EngineVersion", ""), version):
                    return {"source": API, "found": version_entry(item), "offered": []}
            listed = self._read("describe_db_engine_versions", f"{self.engine} versions", True, Engine=self.engine) or {
                "DBEngineVersions": []
            }
            listed = listed.get("DBEngineVersions") or []
            if listed:
                return {"source": API, "found": None, "offered": offered_versions(listed, version)}
        entries = sorted(self.catalog.get("engine_versions") or [], key=lambda e: version_key(e["EngineVersion"]))
        matching = [e for e in entries if same_version(e["EngineVersion"], version)]
        found = version_entry(matching[-1]) if matching else None  # a major version alone: its newest version
        return {"source": self.source, "found": found, "offered": [] if found else offered_versions(entries, version)}

    def orderable_classes(self, version):
        """``{"source", "classes"}``: the instance classes orderable for ``version`` (sorted), or None when
        neither AWS nor the shipped catalogue knows them."""
        answer = self._read(
            "describe_orderable_db_instance_options",
            f"{self.engine} {version}",
            True,
            Engine=self.engine,
            EngineVersion=version,
        )
        options = (answer or {}).get("OrderableDBInstanceOptions") or []
        classes = sorted({o["DBInstanceClass"] for o in options if o.get("DBInstanceClass")})
        if classes:
            return {"source": API, "classes": classes}
        shipped = (self.catalog.get("orderable_instance_classes") or {}).get(major_of(version))
        if not shipped:
            return {"source": NOT_CHECKED, "classes": None}
        return {"source": self.source, "classes": list(shipped)}

    def cluster_parameters(self, family):
        """``{"source", "parameters", "complete", "refused"}``: name -> AWS's description of each default cluster
        parameter of ``family``; ``complete`` False when the list is a partial one (an unknown name then proves
        nothing); ``refused`` AWS's message when it refuses the family itself."""
        try:
            answer = self._read(
                "describe_engine_default_cluster_parameters",
                f"family {family}",
                True,
                refused=("InvalidParameterValue", "InvalidParameterCombination"),
                DBParameterGroupFamily=family,
            )
        except Refused as e:
            return {"source": API, "parameters": None, "complete": True, "refused": e.message}
        listed = ((answer or {}).get("EngineDefaults") or {}).get("Parameters") or []
        if listed:
            parameters = {p["ParameterName"]: p for p in listed if p.get("ParameterName")}
            return {"source": API, "parameters": parameters, "complete": True, "refused": None}
        shipped = (self.catalog.get("cluster_parameters") or {}).get(family)
        if not shipped:
            return {"source": NOT_CHECKED, "parameters": None, "complete": False, "refused": None}
        return {
            "source": self.source,
            "parameters": shipped["parameters"],
            "complete": bool(shipped.get("complete")),
            "refused": None,
        }


# --- AllowedValues -------------------------------------------------------------------------------------------------

_NUMBER = r"-?(?:\d+(?:\.\d*)?|\.\d+)"
_RANGE = re.compile(rf"^({_NUMBER})-({_NUMBER})$")
# A value AWS computes from the instance ({DBInstanceClassMemory/...}, GREATEST(...), ...): not checked.
_FORMULA = re.compile(r"^\s*(\{|(GREATEST|LEAST|SUM|IF|LOG|MIN|MAX)\s*\()", re.IGNORECASE)
# AllowedValues that look like a pattern or prose rather than a list of values: not checked.
_PATTERN = re.compile(r"[()|\\^$*\[\]{}?]")
NUMERIC_TYPES = ("integer", "float", "real", "double", "numeric")


def allowed_grammar(allowed):
    """(values, ranges) of an AllowedValues text, or None when it is free text (or absent)."""
    if not allowed or not str(allowed).strip() or _PATTERN.search(str(allowed)):
        return None
    values, ranges = [], []
    for item in (part.strip() for part in str(allowed).split(",")):
        if not item:
            continue
        match = _RANGE.match(item)
        if match and float(match.group(1)) <= float(match.group(2)):
            ranges.append((float(match.group(1)), float(match.group(2))))
        else:
            values.append(item)
    return values, ranges


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _one_value_error(value, values, ranges, data_type):
    if data_type in NUMERIC_TYPES or (ranges and not values):
        number = _number(value)
        if data_type == "integer" and not re.match(r"^\s*-?\d+\s*$", value):
            return "is not an integer"
        if number is None:
            return "is not a number"
        if any(low <= number <= high for low, high in ranges) or any(_number(v) == number for v in values):
            return None
        return "is out of range"
    if value.strip().lower() in {v.lower() for v in values}:
        return None
    number = _number(value)
    if number is not None and any(low <= number <= high for low, high in ranges):
        return None
    return "is not allowed"


def value_error(value, allowed, data_type):
    """Why ``value`` (a string, as RDS takes it) is outside ``allowed`` ("is out of range", "is not allowed", ...),
    or None when it is allowed or cannot be judged."""
    grammar = allowed_grammar(allowed)
    if grammar is None or _FORMULA.match(value):
        return None
    values, ranges = grammar
    data_type = (data_type or "string").lower()
    if data_type == "list":
        items = [item.strip() for item in value.split(",") if item.strip()]
        bad = [item for item in items if _one_value_error(item, values, ranges, "string")]
        if bad:
            return f"names {', '.join(repr(b) for b in bad)}, which {'is' if len(bad) == 1 else 'are'} not allowed"
        return None
    return _one_value_error(value, values, ranges, data_type)
