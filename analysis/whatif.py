"""What-if outages: which sites go down, or are degraded, when providers (or a region or
service of theirs) fail — computed on a snapshot's evidence units (``sql/whatif_sites.sql``).

Shares are over all the snapshot's sites, uniformly and by popularity weight (1/rank; 1/bucket
for bucketed lists, whose order inside a bucket is not popularity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from chokepoints import db


@dataclass(frozen=True, slots=True)
class Outage:
    """What fails: providers (and their services), optionally only one region or service."""

    providers: tuple[str, ...]
    region: str | None = None
    service: str | None = None
    transitive: bool = False

    def label(self) -> str:
        parts = ["+".join(self.providers)]
        if self.region:
            parts.append(f"region {self.region}")
        if self.service:
            parts.append(f"service {self.service}")
        if self.transitive:
            parts.append("transitive")
        return ", ".join(parts)


@dataclass(slots=True)
class Impact:
    outage: Outage
    sites: int
    down: int
    degraded: int
    weight_down: float
    weight_degraded: float
    affected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.outage.label(),
            "failed": list(self.outage.providers),
            "region": self.outage.region,
            "service": self.outage.service,
            "transitive": self.outage.transitive,
            "sites": self.sites,
            "down": self.down,
            "degraded": self.degraded,
            "down_share": self.down / self.sites if self.sites else 0.0,
            "degraded_share": self.degraded / self.sites if self.sites else 0.0,
            "down_weight_share": self.weight_down,
            "degraded_weight_share": self.weight_degraded,
            "weighting": "popularity: 1/rank (1/bucket for bucketed lists)",
            "affected": self.affected,
        }


def _weight(rank: int, bucket: int | None) -> float:
    return 1.0 / bucket if bucket else 1.0 / max(rank, 1)


def impact(con: duckdb.DuckDBPyConnection, snapshot_id: int, outage: Outage, *, top: int = 20) -> Impact:
    """Evaluate one outage on one snapshot; ``top`` most popular affected sites are listed."""
    rows = con.execute(db.sql_text("analysis", "whatif_sites.sql"), {
        "sid": snapshot_id, "failed": list(outage.providers), "region": outage.region,
        "service": outage.service, "transitive": outage.transitive,
    }).fetchall()
    total_w = sum(_weight(r, b) for r, _, b, *_ in rows) or 1.0
    result = Impact(outage, len(rows), 0, 0, 0.0, 0.0)
    for rank, domain, bucket, status, down_layers, degraded_layers in rows:
        if status == "up":
            continue
        w = _weight(rank, bucket) / total_w
        if status == "down":
            result.down += 1
            result.weight_down += w
        else:
            result.degraded += 1
            result.weight_degraded += w
        if len(result.affected) < top:
            result.affected.append({"rank": rank, "domain": domain, "status": status,
                                    "down_layers": down_layers, "degraded_layers": degraded_layers})
    return result


def candidates(con: duckdb.DuckDBPyConnection, snapshot_id: int, *, by: str, limit: int) -> list[Outage]:
    """Outages worth ranking: the providers (or provider regions) most sites depend on."""
    if by == "region":
        rows = con.execute(
            "select e.provider, e.region, count(distinct e.domain) as n from evidence e "
            "where e.snapshot_id = ? and e.layer = 'hosting' and e.region is not null "
            "group by 1, 2 order by n desc, 1, 2 limit ?", [snapshot_id, limit]).fetchall()
        return [Outage((p,), region=r) for p, r, _ in rows]
    rows = con.execute(
        "select coalesce(p.parent, d.provider) as top, count(distinct d.domain) as n from dependencies d "
        "left join providers p on p.snapshot_id = d.snapshot_id and p.provider = d.provider "
        "where d.snapshot_id = ? and d.layer in ('dns', 'hosting', 'cdn') "
        "group by 1 order by n desc, 1 limit ?", [snapshot_id, limit]).fetchall()
    return [Outage((p,)) for p, _ in rows]


def ranking(con: duckdb.DuckDBPyConnection, snapshot_id: int, *, by: str = "provider", limit: int = 10,
            transitive: bool = False, pool: int = 25) -> list[Impact]:
    """The outages (providers with their services, or provider regions) that take down most sites."""
    scored = []
    for outage in candidates(con, snapshot_id, by=by, limit=pool):
        if transitive:
            outage = Outage(outage.providers, outage.region, outage.service, True)
        scored.append(impact(con, snapshot_id, outage, top=0))
    scored.sort(key=lambda i: (-i.down, -i.degraded, i.outage.label()))
    return scored[:limit]
