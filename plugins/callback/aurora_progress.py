# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: aurora_progress
type: aggregate
short_description: Print the progress of the collection's long waits while the task is still running
version_added: 0.2.0
description:
  - A module runs as one task and Ansible prints its result only when it ends; a cluster create on AWS is one
    task of 10 to 20 minutes. While a task of this collection waits for AWS (a create, a class change, a reboot,
    a failover), this callback prints which resources are ready, which are not and in what state, the elapsed
    time and the timeout, at least every O(interval) seconds. When the wait ends, it prints how long each resource
    took.
  - Waits that end within O(quiet_for) seconds print nothing.
  - The playbooks of the collection (V(vitality.aurora.provision), V(vitality.aurora.destroy)) turn it on by
    themselves. For a playbook of your own, add V(vitality.aurora.aurora_progress) to C(callbacks_enabled).
  - The waiting modules write their polls to a file this callback names for the run, on the machine running
    Ansible. Progress is therefore printed for hosts with C(connection=local) (as the collection's inventories
    and AWS modules use), not for modules run on a remote host. The waits of amazon.aws modules are not shown.
options:
  interval:
    description:
      - At least this many seconds between two status lines of one wait while nothing changes.
      - A line is also printed whenever a resource becomes ready or changes state.
    type: float
    default: 30
    env:
      - name: VITALITY_AURORA_PROGRESS_INTERVAL
    ini:
      - section: vitality_aurora_progress
        key: interval
  quiet_for:
    description: Waits that end within this many seconds print nothing.
    type: float
    default: 5
    env:
      - name: VITALITY_AURORA_PROGRESS_QUIET_FOR
    ini:
      - section: vitality_aurora_progress
        key: quiet_for
"""

import os
import shutil
import tempfile
import threading

from ansible.plugins.callback import CallbackBase

from ansible_collections.vitality.aurora.plugins.module_utils.waiting import PROGRESS_ENV
from ansible_collections.vitality.aurora.plugins.plugin_utils.progress import Presenter, read_events

# How often the file is read: a line is at most this late.
READ_EVERY = 0.5


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vitality.aurora.aurora_progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._directory = None
        self._path = None
        self._offset = 0
        self._partial = ""
        self._presenter = None
        self._stop = threading.Event()
        self._thread = None
        self._lock = threading.Lock()

    def v2_playbook_on_start(self, playbook):
        if self._thread is not None:
            return
        self._presenter = Presenter(interval=self.get_option("interval"), quiet_for=self.get_option("quiet_for"))
        self._directory = tempfile.mkdtemp(prefix="vitality-aurora-progress-")
        self._path = os.path.join(self._directory, "waits.jsonl")
        # Modules run by this process's workers inherit its environment (connection local).
        os.environ[PROGRESS_ENV] = self._path
        self._thread = threading.Thread(target=self._follow, name="vitality.aurora progress", daemon=True)
        self._thread.start()

    def _follow(self):
        while not self._stop.wait(READ_EVERY):
            self._print_new()

    def _print_new(self, final=False):
        with self._lock:
            if self._presenter is None:
                return
            events, self._offset, self._partial = read_events(self._path, self._offset, self._partial)
            lines = []
            for event in events:
                lines.extend(self._presenter.feed(event))
            if not final:
                lines.extend(self._presenter.tick())
        for line in lines:
            self._display.display(line)

    # The task's last poll was written before its result came: its closing line follows the result at once.
    def v2_runner_on_ok(self, result):
        self._print_new()

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._print_new()

    def v2_playbook_on_stats(self, stats):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._print_new(final=True)
        if os.environ.get(PROGRESS_ENV) == self._path:
            del os.environ[PROGRESS_ENV]
        if self._directory:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._presenter = None
