# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security group rules in one comparable form: (protocol, from port, to port, source, description).

The role states rules in amazon.aws.ec2_security_group's format; AWS describes them as
IpPermissions.  Both are flattened to the same tuples so that a set comparison says whether
that module would change anything.  Rule forms this does not model (a source group given by
name, a prefix list) raise UnsupportedRule: the caller must then leave the decision to
ec2_security_group itself.
"""

from __future__ import annotations

ALL_PROTOCOLS = ("-1", "all")
_PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1"}
_RULE_KEYS = {"proto", "ports", "from_port", "to_port", "cidr_ip", "cidr_ipv6", "group_id", "rule_desc"}


class UnsupportedRule(ValueError):
    """A rule in a form that flatten_rule does not model."""


def _protocol(value):
    protocol = str(value).lower()
    if protocol in ALL_PROTOCOLS:
        return "-1"
    # AWS reports tcp, udp and icmp by name even when they were given by number.
    for name, number in _PROTOCOL_NUMBERS.items():
        if protocol == number:
            return name
    return protocol


def _port_ranges(rule):
    if "ports" in rule and rule["ports"] is not None:
        ports = rule["ports"] if isinstance(rule["ports"], list) else [rule["ports"]]
        ranges = []
        for port in ports:
            text = str(port)
            low, _dash, high = text.partition("-")
            ranges.append((int(low), int(high or low)))
        return ranges
    if rule.get("from_port") is None and rule.get("to_port") is None:
        return [(None, None)]
    return [(int(rule["from_port"]), int(rule["to_port"]))]


def _sources(rule):
    sources = []
    for key, kind in (("cidr_ip", "cidr"), ("cidr_ipv6", "cidr6"), ("group_id", "group")):
        value = rule.get(key)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            sources.append((kind, str(item)))
    return sources


def flatten_rule(rule):
    """The comparable tuples of one rule in ec2_security_group's format."""
    unknown = set(rule) - _RULE_KEYS
    if unknown:
        raise UnsupportedRule(f"rule keys {sorted(unknown)} are not compared here")
    protocol = _protocol(rule.get("proto", "tcp"))
    ranges = [(None, None)] if protocol == "-1" else _port_ranges(rule)
    description = rule.get("rule_desc") or None
    sources = _sources(rule)
    if not sources:
        raise UnsupportedRule("a rule without cidr_ip, cidr_ipv6 or group_id is not compared here")
    return {(protocol, low, high, kind, target, description) for low, high in ranges for kind, target in sources}


def flatten_rules(rules):
    flat = set()
    for rule in rules or []:
        flat |= flatten_rule(rule)
    return flat


def flatten_permissions(permissions):
    """The comparable tuples of IpPermissions (or IpPermissionsEgress) as AWS describes them."""
    flat = set()
    for permission in permissions or []:
        protocol = _protocol(permission.get("IpProtocol", "-1"))
        low, high = (None, None) if protocol == "-1" else (permission.get("FromPort"), permission.get("ToPort"))
        for entry in permission.get("IpRanges") or []:
            flat.add((protocol, low, high, "cidr", entry.get("CidrIp"), entry.get("Description") or None))
        for entry in permission.get("Ipv6Ranges") or []:
            flat.add((protocol, low, high, "cidr6", entry.get("CidrIpv6"), entry.get("Description") or None))
        for entry in permission.get("UserIdGroupPairs") or []:
            flat.add((protocol, low, high, "group", entry.get("GroupId"), entry.get("Description") or None))
        for entry in permission.get("PrefixListIds") or []:
            flat.add((protocol, low, high, "prefix-list", entry.get("PrefixListId"), entry.get("Description") or None))
    return flat


def describe_rule(flat):
    protocol, low, high, kind, target, description = flat
    ports = "all ports" if low is None else (str(low) if low == high else f"{low}-{high}")
    text = f"{protocol} {ports} {kind} {target}"
    return f"{text} ({description})" if description else text


_PERMISSION_LISTS = {
    "cidr": ("IpRanges", "CidrIp"),
    "cidr6": ("Ipv6Ranges", "CidrIpv6"),
    "group": ("UserIdGroupPairs", "GroupId"),
}


def to_permission(flat):
    """One IpPermissions entry (for Authorize/Revoke) from a flattened rule."""
    protocol, low, high, kind, target, description = flat
    permission = {"IpProtocol": protocol}
    if low is not None:
        permission["FromPort"], permission["ToPort"] = low, high
    list_key, target_key = _PERMISSION_LISTS[kind]
    entry = {target_key: target}
    if description:
        entry["Description"] = description
    permission[list_key] = [entry]
    return permission
