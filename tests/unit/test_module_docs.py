"""Every option a module does not require says what leaving it out means.

The rule, for each option of each module's parsed DOCUMENTATION (suboptions included, at any depth) that is not
``required: true``: one item of its description has a sentence or clause that starts with "Omitted" - at the start
of the item, after a full stop, or after a semicolon (in lower case there: "...; omitted, the sources are left as
they are."). For example "Omitted, V(false); the instance keeps its tier." or "Omitted or empty, nothing is
checked." A default alone does not say it: the text says what the default does. Options that come from the
amazon.aws documentation fragments (credentials, region, tags) are theirs, not checked here; the collection's own
fragment (plugins/doc_fragments) is.
"""

from __future__ import annotations

import importlib
import re

import pytest
import yaml

MODULES_PACKAGE = "ansible_collections.vitality.aurora.plugins"
# Every module of plugins/modules (the package the tests import them from), so that a new one is never left out.
MODULES = tuple(
    sorted(
        info.name
        for info in importlib.import_module("pkgutil").iter_modules(
            importlib.import_module(f"{MODULES_PACKAGE}.modules").__path__
        )
    )
)
OWN_FRAGMENTS = {"vitality.aurora.waiting": "waiting"}


def says_what_omitting_means(description):
    items = description if isinstance(description, list) else [description or ""]
    return any(re.search(r"(?:^|\.\s+)Omitted\b|;\s+omitted\b", str(item).strip()) for item in items)


def options_of(documentation):
    """(path, option) of every option of a DOCUMENTATION, suboptions included, with the collection's fragments."""
    options = dict(documentation.get("options") or {})
    for fragment in documentation.get("extends_documentation_fragment") or []:
        if fragment in OWN_FRAGMENTS:
            own = importlib.import_module(f"{MODULES_PACKAGE}.doc_fragments.{OWN_FRAGMENTS[fragment]}")
            options.update(yaml.safe_load(own.ModuleDocFragment.DOCUMENTATION).get("options") or {})

    def walk(entries, prefix):
        for name, option in entries.items():
            yield prefix + name, option
            yield from walk(option.get("suboptions") or {}, f"{prefix}{name}.")

    return list(walk(options, ""))


def silent_options(name):
    module = importlib.import_module(f"{MODULES_PACKAGE}.modules.{name}")
    documentation = yaml.safe_load(module.DOCUMENTATION)
    return [
        f"{name}: option {path} is not required and its description does not say what omitting it means"
        for path, option in options_of(documentation)
        if not option.get("required") and not says_what_omitting_means(option.get("description"))
    ]


@pytest.mark.parametrize("name", MODULES)
def test_every_optional_option_says_what_omitting_it_means(name):
    assert silent_options(name) == []


@pytest.mark.parametrize(
    ("description", "says"),
    [
        ("Omitted, V(false).", True),
        (["The port.", "Omitted or empty, nothing is checked."], True),
        ("Every source of that type when empty; omitted, the sources are left as they are.", True),
        ("The Enhanced Monitoring role's ARN. Omitted, the ARN of the role.", True),
        ("The port the cluster listens on.", False),
        ("Sources that are omitted from the list are removed.", False),
        ("Defaults to the account's key.", False),
    ],
)
def test_the_rule(description, says):
    assert says_what_omitting_means(description) is says
