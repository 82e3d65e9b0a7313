# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the collection's modules pace their reads while they wait (plugins/module_utils/waiting.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  wait_max_poll_interval:
    description:
      - The longest pause, in seconds, between two reads while waiting (0.1 to 300). Reads start one
        second apart and the pause doubles up to this.
      - Lower it to see a change finish sooner at the cost of more read calls.
      - Omitted, V(20.0) seconds.
    type: float
    default: 20.0
"""
