# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the writer and each reader go: used by the instance_layout filter and aurora_stack."""

from __future__ import annotations

MAX_PROMOTION_TIER = 15


def instance_layout(availability_zones, writer, reader_prefix, reader_count):
    zones = list(dict.fromkeys(availability_zones))
    writer_az = zones[0]
    reader_azs = zones[1:] or [writer_az]
    layout = [{"id": writer, "az": writer_az, "tier": 0, "role": "writer"}]
    for number in range(1, int(reader_count) + 1):
        layout.append(
            {
                "id": f"{reader_prefix}{number}",
                "az": reader_azs[(number - 1) % len(reader_azs)],
                "tier": min(number, MAX_PROMOTION_TIER),
                "role": "reader",
            }
        )
    return layout
