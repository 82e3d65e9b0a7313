# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster's custom endpoints: checked, read once, and planned as online steps.

A custom endpoint is a DNS name over a chosen set of the cluster's instances: ``static_members`` (only those), or
every eligible instance but ``excluded_members`` (new readers, AWS's autoscaled ones included, join it by themselves),
or with neither, every instance of its type (READER: the readers; ANY: every instance). The inventory names an
endpoint by a short name; its identifier is ``<cluster identifier>-<name>`` (identifiers are unique in the Region, so
two stacks' ``analytics`` endpoints never collide). Members are named as the role names its instances: ``writer``,
``reader-<n>``, or their identifiers.

The role's endpoints carry the tag ManagedBy=vitality.aurora; it deletes those the inventory no longer lists, and never
touches an endpoint without it (one made by hand, or by another tool).
"""

from __future__ import annotations

from ansible_collections.vitality.aurora.plugins.module_utils.api import tag_changes, tags_to_dict
from ansible_collections.vitality.aurora.plugins.module_utils.plan import IMPOSSIBLE, STACK, Action
from ansible_collections.vitality.aurora.plugins.module_utils.validation import (
    endpoint_errors,
    endpoint_identifier,
    member_identifier,
)

__all__ = ["endpoint_errors", "plan_endpoints", "read_endpoints"]

OWNER_TAG = ("ManagedBy", "vitality.aurora")
ENDPOINT_NOT_FOUND = ("DBClusterEndpointNotFoundFault",)


# --- reading -------------------------------------------------------------------------------------------------------


def read_endpoints(rds, cluster, identifier, wanted):
    """The cluster's custom endpoints with their tags ({identifier: (endpoint, tags)}), or {} without a read when the
    inventory wants none and the cluster reports none (DescribeDBClusters lists their addresses in CustomEndpoints)."""
    if cluster is None or (not wanted and not cluster.get("CustomEndpoints")):
        return {}
    endpoints = rds.paginate(
        "describe_db_cluster_endpoints",
        "DBClusterEndpoints",
        DBClusterIdentifier=identifier,
        Filters=[{"Name": "db-cluster-endpoint-type", "Values": ["custom"]}],
        context=f"custom endpoints of cluster {identifier}",
    )
    found = {}
    for endpoint in endpoints or []:
        # Read defensively: only custom endpoints of this cluster, whatever the filter was answered with.
        if endpoint.get("DBClusterIdentifier") not in (None, identifier) or endpoint.get("EndpointType") not in (
            None,
            "CUSTOM",
        ):
            continue
        name = endpoint.get("DBClusterEndpointIdentifier")
        arn = endpoint.get("DBClusterEndpointArn")
        tags = {}
        if arn:
            tags = tags_to_dict(
                (rds.call("list_tags_for_resource", ResourceName=arn, context=f"custom endpoint {name}") or {}).get(
                    "TagList"
                )
            )
        found[name] = (endpoint, tags)
    return found


# --- planning ------------------------------------------------------------------------------------------------------


def owned(tags):
    return (tags or {}).get(OWNER_TAG[0]) == OWNER_TAG[1]


def desired_endpoints(endpoints, cluster_identifier, instances, stack_tags):
    """Each wanted endpoint with its identifier, type, members as identifiers (sorted) and tags (the owner tag
    always)."""
    writer, prefix, count = (
        instances["writer_identifier"],
        instances["reader_identifier_prefix"],
        instances.get("reader_count") or 0,
    )
    desired = []
    for endpoint in endpoints or []:
        members = {
            key: sorted(filter(None, (member_identifier(r, writer, prefix, count) for r in endpoint.get(key) or [])))
            for key in ("static_members", "excluded_members")
        }
        desired.append(
            {
                "name": endpoint["name"],
                "identifier": endpoint_identifier(cluster_identifier, endpoint["name"]),
                "type": endpoint.get("type") or "READER",
                "static_members": members["static_members"],
                "excluded_members": members["excluded_members"],
                "tags": dict(stack_tags or {}, **(endpoint.get("tags") or {}), **dict([OWNER_TAG])),
            }
        )
    return desired


def current_settings(endpoint):
    return {
        "type": (endpoint.get("CustomEndpointType") or "").upper() or None,
        "static_members": sorted(endpoint.get("StaticMembers") or []),
        "excluded_members": sorted(endpoint.get("ExcludedMembers") or []),
    }


def shown(value):
    return value if value != [] else "(none)"


def plan_endpoints(current, endpoints, cluster_identifier, instances, stack_tags, problems, option="custom_endpoints"):
    """The endpoints' steps (runner stack): creates, modifies and tags, then deletions of the role's endpoints the
    inventory no longer lists. An endpoint of a wanted name that the role did not make is a problem."""
    actions, deletes = [], []
    wanted = desired_endpoints(endpoints, cluster_identifier, instances, stack_tags)
    for endpoint in wanted:
        identifier = endpoint["identifier"]
        settings = {k: endpoint[k] for k in ("type", "static_members", "excluded_members")}
        found = current.get(identifier)
        if found is None:
            actions.append(
                Action(
                    "custom_endpoint",
                    identifier,
                    "create",
                    [{"attribute": k, "before": None, "after": shown(v)} for k, v in settings.items()],
                    runner=STACK,
                    calls=["CreateDBClusterEndpoint"],
                    note=member_words(endpoint),
                    request={"endpoint": endpoint},
                )
            )
            continue
        described, tags = found
        if not owned(tags):
            problems.append(
                f"{option}[{endpoint['name']}]: cluster {cluster_identifier} already has a custom endpoint {identifier} "
                f"that the role did not make (no {OWNER_TAG[0]}={OWNER_TAG[1]} tag): choose another name, or tag it "
                f"{OWNER_TAG[0]}={OWNER_TAG[1]} to hand it over"
            )
            actions.append(
                Action(
                    "custom_endpoint",
                    identifier,
                    "adopt",
                    [{"attribute": "owner", "before": None, "after": OWNER_TAG[1]}],
                    impact=IMPOSSIBLE,
                    note="not made by the role",
                )
            )
            continue
        have = current_settings(described)
        changes = [
            {"attribute": k, "before": shown(have[k]), "after": shown(v)} for k, v in settings.items() if have[k] != v
        ]
        if changes:
            actions.append(
                Action(
                    "custom_endpoint",
                    identifier,
                    "modify",
                    changes,
                    runner=STACK,
                    calls=["ModifyDBClusterEndpoint"],
                    note=member_words(endpoint),
                    request={"endpoint": endpoint},
                )
            )
        actions += endpoint_tag_actions(identifier, tags, endpoint["tags"])
    wanted_ids = {e["identifier"] for e in wanted}
    for identifier in sorted(current):
        described, tags = current[identifier]
        if identifier in wanted_ids or not owned(tags):
            continue
        deletes.append(
            Action(
                "custom_endpoint",
                identifier,
                "delete",
                [{"attribute": "endpoint", "before": described.get("Endpoint") or identifier, "after": None}],
                runner=STACK,
                calls=["DeleteDBClusterEndpoint"],
                unavailability=f"the name {described.get('Endpoint') or identifier} stops resolving: its clients must "
                "use another endpoint first",
                note=f"no longer in {option}",
                request={"identifier": identifier},
            )
        )
    return actions + deletes


def member_words(endpoint):
    kind = "readers" if endpoint["type"] == "READER" else "instances"
    if endpoint["static_members"]:
        return f"only {', '.join(endpoint['static_members'])}; new readers do not join it"
    if endpoint["excluded_members"]:
        return f"every {kind[:-1]} but {', '.join(endpoint['excluded_members'])}, new and autoscaled readers included"
    return f"every {kind[:-1]} of the cluster, new and autoscaled readers included"


def endpoint_tag_actions(identifier, current, desired):
    to_set, to_remove = tag_changes(current or {}, desired or {}, purge=True)
    actions = []
    if to_set:
        actions.append(
            Action(
                "custom_endpoint",
                identifier,
                "set tags",
                [
                    {"attribute": f"tags.{k}", "before": (current or {}).get(k), "after": v}
                    for k, v in sorted(to_set.items())
                ],
                runner=STACK,
                calls=["AddTagsToResource"],
            )
        )
    if to_remove:
        actions.append(
            Action(
                "custom_endpoint",
                identifier,
                "remove tags",
                [{"attribute": f"tags.{k}", "before": current.get(k), "after": None} for k in sorted(to_remove)],
                runner=STACK,
                calls=["RemoveTagsFromResource"],
            )
        )
    return actions


def create_request(cluster_identifier, endpoint):
    request = {
        "DBClusterIdentifier": cluster_identifier,
        "DBClusterEndpointIdentifier": endpoint["identifier"],
        "EndpointType": endpoint["type"],
        "Tags": [{"Key": k, "Value": str(v)} for k, v in sorted(endpoint["tags"].items())],
    }
    if endpoint["static_members"]:
        request["StaticMembers"] = endpoint["static_members"]
    if endpoint["excluded_members"]:
        request["ExcludedMembers"] = endpoint["excluded_members"]
    return request


def modify_request(endpoint):
    # Both lists always: an empty one clears what the endpoint had.
    return {
        "DBClusterEndpointIdentifier": endpoint["identifier"],
        "EndpointType": endpoint["type"],
        "StaticMembers": endpoint["static_members"],
        "ExcludedMembers": endpoint["excluded_members"],
    }


def endpoint_outputs(current, endpoints, cluster_identifier):
    """{name: DNS name} of each endpoint the inventory lists (None until AWS gives it one)."""
    outputs = {}
    for endpoint in endpoints or []:
        found = current.get(endpoint_identifier(cluster_identifier, endpoint["name"]))
        outputs[endpoint["name"]] = found[0].get("Endpoint") if found else None
    return outputs
