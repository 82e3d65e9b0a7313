# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where the aurora_cluster role's variables are typed and checked.

Runs on the controller (no module is sent anywhere): reads every ``aurora_cluster_*`` variable
the play sees, converts each to the type the role's argument_specs.yml declares, refuses unknown
ones, checks the rules of RDS and PostgreSQL on the typed values, and sets the typed values as
``__aurora_cluster_*`` facts, the only ones the role's tasks read. Extra vars outrank facts, so the
typed copies need names of their own. Secrets (``no_log`` variables) are typed and checked but
never set as facts: a fact is printed by ``-v``.
"""

from __future__ import annotations

from ansible.plugins import action as _action
from ansible.plugins.action import ActionBase

from ansible_collections.vitality.aurora.plugins.module_utils.database import database_setting_errors
from ansible_collections.vitality.aurora.plugins.module_utils.drill_settings import drill_setting_errors
from ansible_collections.vitality.aurora.plugins.module_utils.global_failover import runbook_setting_errors
from ansible_collections.vitality.aurora.plugins.module_utils.snapshot_export import export_setting_errors
from ansible_collections.vitality.aurora.plugins.module_utils.validation import stack_errors
from ansible_collections.vitality.aurora.plugins.plugin_utils.role_settings import (
    ROLES,
    ConversionError,
    convert_all,
    load_role_spec,
    spec_path,
    to_dict,
    unknown_variable_messages,
)

# Facts each role sets for its users (documented outputs): not inputs, yet not unknown either.
ROLE_OUTPUT_FACTS = {
    "aurora_cluster": frozenset(
        [
            "aurora_cluster_outputs",
            "aurora_cluster_plan",
            "aurora_cluster_export_outputs",
            "aurora_cluster_switchover_outputs",
        ]
    ),
    "aurora_database": frozenset(["aurora_database_outputs", "aurora_database_plan"]),
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        entry_point = self._task.args.get("entry_point", "main")
        role = self._task.args.get("role", "aurora_cluster")
        if role not in ROLES:
            result.update(failed=True, msg=f"role={role!r} is not one of {', '.join(ROLES)}")
            return result
        specs = load_role_spec(spec_path(role))
        if entry_point not in specs:
            result.update(failed=True, msg=f"entry_point={entry_point!r} is not one of {', '.join(sorted(specs))}")
            return result
        spec = specs[entry_point]
        known = set().union(*specs.values()) | ROLE_OUTPUT_FACTS[role]
        unknown_variables = f"{role}_unknown_variables"

        raw = self._templar.template({name: task_vars[name] for name in spec if name in task_vars})
        typed, errors = convert_all(raw, spec)

        unknown = unknown_variable_messages([name for name in task_vars if name.startswith(role + "_")], known, role)
        if unknown:
            if typed.get(unknown_variables, "error") == "warn":
                for message in unknown:
                    self._display.warning(f"{message} (ignored: {unknown_variables}=warn)")
            else:
                errors.extend(f"{message} (set {unknown_variables}=warn to only warn)" for message in unknown)
        if not errors and role == "aurora_cluster" and entry_point == "main":
            errors.extend(stack_errors(typed))
        if not errors and role == "aurora_cluster" and entry_point == "drill":
            errors.extend(drill_setting_errors(typed))
        if not errors and role == "aurora_cluster" and entry_point == "export":
            errors.extend(export_setting_errors(typed))
        if not errors and role == "aurora_cluster" and entry_point in ("switchover", "failover"):
            errors.extend(runbook_setting_errors(typed, entry_point))
        if not errors and role == "aurora_database":
            # The cluster's parameters as the aurora_cluster role typed them in this play, else as the inventory says.
            parameters = task_vars.get("__aurora_cluster_parameters")
            if parameters is None:
                try:
                    parameters = to_dict(
                        "aurora_cluster_parameters",
                        self._templar.template(task_vars.get("aurora_cluster_parameters", {})),
                    )
                except ConversionError:
                    parameters = {}  # the cluster role's own check names it
            master_user = task_vars.get("__aurora_cluster_master_username") or self._templar.template(
                task_vars.get("aurora_cluster_master_username", "")
            )
            errors.extend(
                database_setting_errors(typed, parameters if isinstance(parameters, dict) else {}, master_user or None)
            )
        if errors:
            result.update(failed=True, errors=errors, msg="Invalid settings, nothing was changed: " + "; ".join(errors))
            return result

        secrets = {name for name, attributes in spec.items() if attributes.get("no_log")}
        facts = {"__" + name: value for name, value in typed.items() if name not in secrets}
        layer = getattr(_action, "VariableLayer", None)
        if layer is not None and hasattr(self, "register_host_variables"):
            # ansible-core >= 2.20: host variables like set_fact's, without the deprecated injection
            # of returned ansible_facts as top-level variables.
            self.register_host_variables(facts, layer.EPHEMERAL_FACT)
            result["typed"] = sorted(facts)
        else:
            result["ansible_facts"] = facts
        result["changed"] = False
        return result
