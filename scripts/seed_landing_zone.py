"""Seed the "landing zone" that a real Vitality AWS account already has.

The collection provisions the database *into* an existing network: the account's
application VPC, its private subnets and the application security group.  A local
AWS (moto) starts empty, so this creates them, idempotently:

* VPC ``vitality-<env>-app-vpc`` (dev 10.10.0.0/16, prod 10.20.0.0/16);
* private subnets ``vitality-<env>-private-<region>c`` and ``...-<region>d`` in those
  availability zones (tag ``Tier=private``);
* public subnet ``vitality-<env>-public-<region>a`` (tag ``Tier=public``), so that
  picking the private subnets is a real choice;
* security group ``vitality-<env>-app-sg`` in the VPC (also tagged ``Name``);
* for prod, the same in its secondary Region us-west-2 (Aurora Global Database): VPC ``vitality-prod-app-vpc``
  (10.21.0.0/16), private subnets ``vitality-prod-private-us-west-2a`` and ``...-us-west-2b``, public subnet
  ``...-us-west-2c`` and ``vitality-prod-app-sg`` (the names inventories/prod gives).

Anything that already exists (found by its Name tag / group name) is reused, so
running it twice creates nothing new.

Command line::

    python scripts/seed_landing_zone.py --endpoint-url http://127.0.0.1:4566 --env dev [--region us-east-1]

Importable: ``seed_landing_zone(ec2_client, env)`` returns a :class:`LandingZone`;
the test suite (tests/local_aws.py) uses it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field

DEFAULT_REGION = "us-east-1"

VPC_CIDRS = {"dev": "10.10.0.0/16", "prod": "10.20.0.0/16"}

# (kind, availability-zone suffix, third octet of the /24)
SUBNET_LAYOUT = (
    ("public", "a", 0),
    ("private", "c", 1),
    ("private", "d", 2),
)

ENVIRONMENTS = tuple(VPC_CIDRS)

# The Region of each environment's Aurora Global Database secondary (inventories/prod), its VPC's CIDR and layout.
SECONDARY_REGIONS = {"prod": "us-west-2"}
SECONDARY_VPC_CIDRS = {"prod": "10.21.0.0/16"}
SECONDARY_SUBNET_LAYOUT = (
    ("public", "c", 0),
    ("private", "a", 1),
    ("private", "b", 2),
)


@dataclass
class LandingZone:
    env: str
    region: str
    vpc_id: str
    vpc_cidr: str
    private_subnet_ids: list[str]
    public_subnet_ids: list[str]
    subnet_ids_by_name: dict[str, str]
    security_group_id: str
    security_group_name: str
    created: list[str] = field(default_factory=list)

    @property
    def vpc_name(self) -> str:
        return vpc_name(self.env)

    @property
    def app_security_group_id(self) -> str:
        return self.security_group_id

    @property
    def private_subnet_names(self) -> list[str]:
        return [name for name, sid in self.subnet_ids_by_name.items() if sid in self.private_subnet_ids]

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(
            vpc_name=self.vpc_name,
            app_security_group_id=self.app_security_group_id,
            private_subnet_names=self.private_subnet_names,
        )
        return data

    # Mapping-style access too: zone["vpc_id"], zone["app_security_group_id"], ...
    def __getitem__(self, key: str):
        if key.startswith("_") or not hasattr(self, key) or callable(getattr(self, key)):
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.as_dict()

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default


def vpc_name(env: str) -> str:
    return f"vitality-{env}-app-vpc"


def subnet_name(env: str, kind: str, az: str) -> str:
    return f"vitality-{env}-{kind}-{az}"


def security_group_name(env: str) -> str:
    return f"vitality-{env}-app-sg"


def _tags(name: str, env: str, **extra: str) -> list[dict]:
    tags = {"Name": name, "Environment": env, "Project": "vitality", "ManagedBy": "landing-zone"}
    tags.update(extra)
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _tag_spec(resource_type: str, tags: list[dict]) -> list[dict]:
    return [{"ResourceType": resource_type, "Tags": tags}]


def _ensure_vpc(ec2, env: str, created: list[str], cidr: str) -> str:
    name = vpc_name(env)
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    if found:
        return found[0]["VpcId"]
    vpc_id = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_tag_spec("vpc", _tags(name, env)))["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    created.append(f"vpc {name} {vpc_id} {cidr}")
    return vpc_id


def _ensure_subnet(ec2, env: str, vpc_id: str, kind: str, az: str, cidr: str, created: list[str]) -> str:
    name = subnet_name(env, kind, az)
    found = ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:Name", "Values": [name]}]
    )["Subnets"]
    if found:
        return found[0]["SubnetId"]
    subnet_id = ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock=cidr,
        AvailabilityZone=az,
        TagSpecifications=_tag_spec("subnet", _tags(name, env, Tier=kind)),
    )["Subnet"]["SubnetId"]
    created.append(f"subnet {name} {subnet_id} {cidr} {az}")
    return subnet_id


def _ensure_security_group(ec2, env: str, vpc_id: str, created: list[str]) -> str:
    name = security_group_name(env)
    found = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    if found:
        return found[0]["GroupId"]
    group_id = ec2.create_security_group(
        GroupName=name,
        Description=f"Vitality {env} application servers",
        VpcId=vpc_id,
        TagSpecifications=_tag_spec("security-group", _tags(name, env)),
    )["GroupId"]
    created.append(f"security group {name} {group_id}")
    return group_id


def seed_landing_zone(ec2, env: str, region: str = DEFAULT_REGION) -> LandingZone:
    """Create (or find) the landing zone of ``env`` with the given boto3 EC2 client."""
    if env not in VPC_CIDRS:
        raise ValueError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")
    created: list[str] = []
    secondary = SECONDARY_REGIONS.get(env) == region
    cidr = SECONDARY_VPC_CIDRS[env] if secondary else VPC_CIDRS[env]
    vpc_id = _ensure_vpc(ec2, env, created, cidr)
    prefix = cidr.split(".")[:2]
    private, public, by_name = [], [], {}
    for kind, suffix, octet in SECONDARY_SUBNET_LAYOUT if secondary else SUBNET_LAYOUT:
        az = f"{region}{suffix}"
        subnet_cidr = ".".join(prefix + [str(octet), "0/24"])
        subnet_id = _ensure_subnet(ec2, env, vpc_id, kind, az, subnet_cidr, created)
        (private if kind == "private" else public).append(subnet_id)
        by_name[subnet_name(env, kind, az)] = subnet_id
    sg_id = _ensure_security_group(ec2, env, vpc_id, created)
    return LandingZone(
        env=env,
        region=region,
        vpc_id=vpc_id,
        vpc_cidr=cidr,
        private_subnet_ids=private,
        public_subnet_ids=public,
        subnet_ids_by_name=by_name,
        security_group_id=sg_id,
        security_group_name=security_group_name(env),
        created=created,
    )


def ec2_client(endpoint_url: str, region: str = DEFAULT_REGION):
    import boto3

    return boto3.client(
        "ec2",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def summary(zone: LandingZone) -> str:
    lines = [
        f"landing zone {zone.env} ({zone.region}): "
        + (f"created {len(zone.created)} resource(s)" if zone.created else "already present, nothing created"),
        f"  vpc             {zone.vpc_name:<36} {zone.vpc_id} {zone.vpc_cidr}",
    ]
    for name, subnet_id in zone.subnet_ids_by_name.items():
        lines.append(f"  subnet          {name:<36} {subnet_id}")
    lines.append(f"  security group  {zone.security_group_name:<36} {zone.security_group_id}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed a Vitality landing zone into a (local) AWS endpoint.")
    parser.add_argument("--endpoint-url", required=True, help="AWS API endpoint, e.g. http://127.0.0.1:4566")
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS, action="append", help="dev or prod (repeatable)")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--json", action="store_true", help="print the ids as JSON instead of a summary")
    args = parser.parse_args(argv)

    client = ec2_client(args.endpoint_url, args.region)
    zones = [seed_landing_zone(client, env, args.region) for env in args.env]
    if args.region == DEFAULT_REGION:
        # And each environment's secondary Region (the Aurora Global Database's network).
        zones += [
            seed_landing_zone(ec2_client(args.endpoint_url, SECONDARY_REGIONS[env]), env, SECONDARY_REGIONS[env])
            for env in args.env
            if env in SECONDARY_REGIONS
        ]
    if args.json:
        print(
            json.dumps(
                {(z.env if z.region == args.region else f"{z.env}@{z.region}"): z.as_dict() for z in zones}, indent=2
            )
        )
    else:
        print("\n".join(summary(z) for z in zones))
    return 0


if __name__ == "__main__":
    sys.exit(main())
