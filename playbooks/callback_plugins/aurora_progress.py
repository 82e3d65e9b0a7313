# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turns on vitality.aurora.aurora_progress for the playbooks beside this directory.

Ansible loads callback plugins found next to a playbook without any configuration; the collection's own copy
needs enabling. This one is it, enabled: the progress of long waits is a normal part of provision's output.
"""

from __future__ import annotations

from ansible.plugins.loader import callback_loader

from ansible_collections.vitality.aurora.plugins.callback.aurora_progress import CallbackModule as _Progress


class CallbackModule(_Progress):
    CALLBACK_NEEDS_ENABLED = False

    def set_options(self, task_keys=None, var_options=None, direct=None):
        # The options are the collection plugin's, documented there: loading it makes Ansible know them.
        self._load_name = callback_loader.get(_Progress.CALLBACK_NAME, class_only=True)._load_name
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
