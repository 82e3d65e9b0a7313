# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's variables converted to their declared types, once, before any rule sees them.

A value given as ``-e name=value`` is always a string, a YAML value is whatever YAML made of it and
a ``-e '{...}'`` value is whatever JSON made of it. ``convert`` turns each of them into the type
``roles/aurora_cluster/meta/argument_specs.yml`` declares, or says why it cannot, naming the
variable. It is stricter than Ansible's own argument spec conversion where that conversion loses
meaning: a list is never turned into its text, a YAML float never becomes a version string
(``16.10`` reads as ``16.1``), and a boolean accepts only the words Ansible documents.
"""

from __future__ import annotations

import difflib
import json
import math
import os

BOOLEAN_TRUE = frozenset(["true", "yes", "on", "1", "y", "t"])
BOOLEAN_FALSE = frozenset(["false", "no", "off", "0", "n", "f"])
BOOLEAN_WORDS = "true/false, yes/no, on/off, 1/0 (any case)"

ROLE_PREFIX = "aurora_cluster_"
ROLES = ("aurora_cluster", "aurora_database")
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spec_path(role="aurora_cluster"):
    return os.path.join(COLLECTION_ROOT, "roles", role, "meta", "argument_specs.yml")


SPEC_PATH = spec_path()


class ConversionError(ValueError):
    pass


def load_role_spec(path=SPEC_PATH):
    """{entry point: {variable: attributes}} from the role's argument_specs.yml."""
    import yaml  # the controller always has PyYAML; modules never import this function

    with open(path, encoding="utf-8") as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    return {entry: dict(spec.get("options") or {}) for entry, spec in specs.items()}


def _type_name(value):
    # Ansible wraps values in its own subclasses (_AnsibleTaggedStr...): name the plain type.
    for kind in (bool, int, float, str, list, dict):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def _describe(value):
    return f"{value!r} ({_type_name(value)})"


def to_bool(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in BOOLEAN_TRUE:
            return True
        if word in BOOLEAN_FALSE:
            return False
    raise ConversionError(f"{name}={_describe(value)} is not a boolean: use {BOOLEAN_WORDS}")


def to_int(name, value):
    if isinstance(value, bool):
        raise ConversionError(f"{name}={_describe(value)} is not an integer")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 10)
        except ValueError:
            pass
    raise ConversionError(f"{name}={_describe(value)} is not an integer")


def to_float(name, value):
    if isinstance(value, bool):
        raise ConversionError(f"{name}={_describe(value)} is not a number")
    number = None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
    if number is None:
        raise ConversionError(f"{name}={_describe(value)} is not a number")
    # float() reads "nan" and "inf": no rule could judge them, so they are not numbers here.
    if not math.isfinite(number):
        raise ConversionError(f"{name}={_describe(value)} is not a finite number")
    return number


def to_str(name, value):
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        raise ConversionError(
            f"{name}={value!r} is a boolean where text is wanted: YAML reads yes/no/true/false unquoted as booleans; "
            "quote the value"
        )
    if isinstance(value, float):
        raise ConversionError(
            f"{name}={value!r} is a number where text is wanted: YAML reads an unquoted 16.10 as 16.1; quote the value "
            f'(for example {name}: "16.10")'
        )
    if isinstance(value, int):
        return str(value)
    raise ConversionError(f"{name}={_describe(value)} is not text: give a string")


def _parse_structure(name, value, kind):
    """A list or dict given as text (-e name=value): JSON, or comma-separated items / key=value pairs."""
    text = value.strip()
    if text == "":
        return kind()
    if text[0] in "[{":
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise ConversionError(f"{name}={value!r} is not valid JSON: {exc}") from None
        if isinstance(parsed, kind):
            return parsed
        raise ConversionError(f"{name}={value!r} is not a {kind.__name__}")
    if kind is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    pairs = {}
    for item in text.split(","):
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise ConversionError(
                f'{name}={value!r} is not a dict: give a YAML mapping, JSON ({{"Key": "value"}}) or key=value pairs'
            )
        pairs[key.strip()] = val.strip()
    return pairs


def to_list(name, value, elements=None):
    if isinstance(value, str):
        value = _parse_structure(name, value, list)
    if not isinstance(value, list):
        raise ConversionError(f"{name}={_describe(value)} is not a list")
    if elements in CONVERTERS:
        return [CONVERTERS[elements](f"{name}[{index}]", item) for index, item in enumerate(value)]
    if elements == "dict":
        # Kept as given (their keys are the variable's own rules'), but each must be a mapping.
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise ConversionError(f"{name}[{index}]={_describe(item)} is not a dict (a mapping of keys to values)")
    return list(value)


def to_dict(name, value):
    if isinstance(value, str):
        value = _parse_structure(name, value, dict)
    if not isinstance(value, dict):
        raise ConversionError(f"{name}={_describe(value)} is not a dict (a mapping of keys to values)")
    return dict(value)


CONVERTERS = {"bool": to_bool, "int": to_int, "float": to_float, "str": to_str, "path": to_str}
NUMBER_TYPES = ("int", "float")


def _optional(attributes):
    """A variable whose default is null: unset is a meaning of its own (for example no Serverless v2 capacity)."""
    return attributes.get("default") is None and not attributes.get("required")


def convert(name, value, attributes):
    """``value`` converted to the type ``attributes`` (one argument spec entry) declares."""
    kind = attributes.get("type", "str")
    if value is None:
        default = attributes.get("default")
        # An empty YAML value (``name:``) means "leave it as it is by default" only where the
        # default is itself empty; anything else must be said.
        if default in ("", [], {}) or _optional(attributes):
            return default
        raise ConversionError(f"{name} is null: give a value of type {kind} or leave the variable out")
    if kind in NUMBER_TYPES and _optional(attributes) and isinstance(value, str) and not value.strip():
        # `-e name=` is how a command line leaves an optional number unset, as `name:` does in YAML.
        return None
    if kind == "list":
        return to_list(name, value, attributes.get("elements"))
    if kind == "dict":
        return to_dict(name, value)
    if kind in CONVERTERS:
        converted = CONVERTERS[kind](name, value)
        choices = attributes.get("choices")
        if choices and converted not in choices:
            raise ConversionError(f"{name}={converted!r} is not one of {', '.join(map(str, choices))}")
        return converted
    return value  # raw


def closest(name, known):
    match = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return match[0] if match else None


def unknown_variable_messages(names, known, role="aurora_cluster"):
    """One message per variable of the role's prefix that the role does not declare."""
    messages = []
    prefix = role + "_"
    for name in sorted(names):
        if not name.startswith(prefix) or name in known:
            continue
        guess = closest(name, known)
        hint = f": did you mean {guess}?" if guess else ""
        messages.append(f"{name} is not a variable of the {role} role{hint}")
    return messages


def convert_all(values, spec):
    """(typed values, errors) for every variable ``spec`` declares that ``values`` holds."""
    typed, errors = {}, []
    for name, attributes in spec.items():
        if name not in values:
            if attributes.get("required"):
                errors.append(f"{name} is required (see the role's README)")
            continue
        try:
            typed[name] = convert(name, values[name], attributes)
        except ConversionError as exc:
            errors.append(str(exc))
    return typed, errors
