"""Report dicts for the HTML tests, built by hand in the shape ``chokepoints report --format json`` prints.

The metrics come from :mod:`analysis.metrics` (the reference), so the numbers are consistent.
"""

from __future__ import annotations

from typing import Any

from analysis import metrics

SITES = 1000
SHA = "5039ae1081f3544fa04496f18a74e42f03836373cffe0e0ce4c194d65876d9da"
REGISTRY_HASH = "6d25c09196b6b81bde21591e204c101470fb286a6028ffc10b30af84a5ff5c44"


def layer(spec: list[tuple[str, str, int, int]], *, sites: int = 1000) -> dict[str, Any]:
    """One layer of a report from (provider, name, sites, critical sites); each site counts fully."""
    attributed = sum(s for _, _, s, _ in spec)
    shares = metrics.normalise(s for _, _, s, _ in spec)
    providers = sorted(({
        "provider": p, "name": n, "sites": s, "share": share, "dependence": s / sites, "critical": c / sites,
        "redundant": (s - c) / sites, "critical_sites": c, "redundant_sites": s - c,
    } for (p, n, s, c), share in zip(spec, shares, strict=True)), key=lambda r: (-r["share"], r["provider"]))
    return {
        "sites": sites, "attributed": attributed, "unattributed": sites - attributed,
        "unattributed_share": (sites - attributed) / sites, "providers_count": len(providers),
        "hhi": metrics.hhi(shares), "cr": {str(k): metrics.cr(shares, k) for k in (1, 3, 5)},
        "nakamoto": metrics.nakamoto(shares), "gini": metrics.gini(shares), "entropy": metrics.entropy(shares),
        "entropy_normalised": metrics.entropy(shares, normalised=True), "providers": providers,
    }


def snapshot(**overrides: Any) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "snapshot_id": 7, "list_name": "tranco", "list_id": "X5QNN", "list_source": "tranco_X5QNN.csv.gz",
        "list_sha256": SHA, "list_date": "2026-11-01", "top_n": SITES, "sites": SITES, "list_rejected": 2,
        "list_duplicates": 0, "resolver": "127.0.0.1:5353", "rib_source": "rib.20261101.0000.bz2",
        "rib_date": "2026-11-01", "registry_version": "2026-11-27", "registry_hash": REGISTRY_HASH,
        "tool_version": "0.1.0", "started_at": "2026-11-02T03:00:00", "finished_at": "2026-11-02T03:04:10",
        "status": "complete", "resolved": 981, "weighting": "uniform", "level": "provider",
    }
    snap.update(overrides)
    return snap


def sample_report(*, long_tail: int = 40, **snap: Any) -> dict[str, Any]:
    """Four layers as a crawl of 1,000 sites might give; ``long_tail`` one-site AS providers in hosting."""
    hosting = [("cloudflare", "Cloudflare", 240, 238), ("aws", "Amazon Web Services", 180, 176),
               ("google", "Google Cloud", 95, 95), ("akamai", "Akamai", 60, 58), ("fastly", "Fastly", 41, 41),
               ("hetzner", "Hetzner Online", 33, 33), ("ovh", "OVHcloud", 30, 30),
               ("digitalocean", "DigitalOcean", 27, 27), ("microsoft", "Microsoft Azure / Microsoft 365", 25, 25),
               ("as16509x", "AMAZON-02 - Amazon.com, Inc., US (a very long AS organisation name)", 12, 12)]
    hosting += [(f"as{64500 + i}", f"EXAMPLE-NET-{i}, ZZ", 1, 1) for i in range(long_tail)]
    dns = [("cloudflare", "Cloudflare", 310, 300), ("aws", "Amazon Web Services", 120, 110),
           ("nsone", "NS1", 60, 20), ("google", "Google Cloud", 55, 55), ("godaddy", "GoDaddy", 50, 50),
           ("example.org", "example.org", 8, 8)]
    cdn = [("cloudflare", "Cloudflare", 200, 200), ("akamai", "Akamai", 90, 90), ("fastly", "Fastly", 40, 40),
           ("cloudfront", "Amazon CloudFront", 38, 38)]
    email = [("google", "Google", 300, 290), ("microsoft", "Microsoft Azure / Microsoft 365", 190, 185),
             ("proofpoint", "Proofpoint", 40, 40), ("mimecast", "Mimecast", 25, 25)]
    layers = {name: layer(spec) for name, spec in (("hosting", hosting), ("dns", dns), ("cdn", cdn),
                                                     ("email", email))}
    return {"snapshot": snapshot(**snap), "layers": layers}


def sample_trend() -> dict[str, Any]:
    values = [1180.0, 1210.5, 1264.7, 1302.2, 1298.0, 1350.9]
    dates = ["2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"]
    points = [{"date": d, "snapshot_id": i + 2, "value": v} for i, (d, v) in enumerate(zip(dates, values, strict=True))]
    return {"metric": "hhi", "layer": "dns", "points": points}


def sample_whatif() -> list[dict[str, Any]]:
    return [{"scenario": "Cloudflare fails", "failed": ["cloudflare"], "down": 0.412, "degraded": 0.031},
            {"scenario": "AWS us-east-1 fails", "failed": ["aws:us-east-1"], "down": 0.118, "degraded": 0.052}]


def sample_provider_trend() -> dict[str, Any]:
    """A provider metric as ``analysis.trend.trend`` gives it: one point per snapshot and provider."""
    points = []
    for i, day in enumerate(["2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"]):
        for provider, base in (("cloudflare", 0.30), ("aws", 0.12), ("google", 0.06)):
            points.append({"snapshot_id": i + 1, "list_date": day, "started_at": f"{day}T03:00:00",
                           "provider": provider, "sites": 100, "value": base + 0.01 * i})
    return {"list_name": "tranco", "layer": "dns", "metric": "share", "weighting": "uniform",
            "level": "provider", "bucket": None, "providers": ["cloudflare", "aws", "google"], "points": points}
