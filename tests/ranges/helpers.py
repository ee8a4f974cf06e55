"""Small feed files written in the providers' own formats, for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def aws_json(path: Path, prefixes: list[tuple[str, str, str]], *, create: str = "2026-05-01-10-00-00",
             token: str = "1") -> Path:
    """An AWS ip-ranges.json: (prefix, region, service) triples, IPv4 and IPv6 sorted apart."""
    doc: dict[str, Any] = {"syncToken": token, "createDate": create, "prefixes": [], "ipv6_prefixes": []}
    for prefix, region, service in prefixes:
        if ":" in prefix:
            doc["ipv6_prefixes"].append({"ipv6_prefix": prefix, "region": region, "service": service})
        else:
            doc["prefixes"].append({"ip_prefix": prefix, "region": region, "service": service})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def cidr_list(path: Path, prefixes: list[str]) -> Path:
    """A plain CIDR list, one prefix a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# a comment\n" + "\n".join(prefixes) + "\n")
    return path
