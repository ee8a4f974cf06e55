"""Concentration metrics, exactly as DESIGN.md defines them: pure functions on numbers.

Inputs are either each site's provider set (``{site: {provider, ...}}``) with optional
per-site weights, or provider shares (fractions summing to 1). Nothing here touches the
database. These are the reference: ``analysis/sql/provider_shares.sql`` and
``layer_metrics.sql`` compute the same numbers inside DuckDB (a property test holds them
equal), and :mod:`analysis.summary` uses either.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping


def market_shares(
    site_providers: Mapping[str, Collection[str]], weights: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Each site's weight split equally over its providers; shares over attributed sites.

    Sites with no provider are left out here (they are reported as unattributed).
    """
    acc: dict[str, float] = defaultdict(float)
    total = 0.0
    for site, providers in site_providers.items():
        if not providers:
            continue
        w = 1.0 if weights is None else weights[site]
        total += w
        for p in providers:
            acc[p] += w / len(providers)
    return {p: v / total for p, v in acc.items()} if total else {}


def dependence_shares(
    site_providers: Mapping[str, Collection[str]], total_weight: float,
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Weight of the sites that use each provider at all, over ``total_weight``."""
    acc: dict[str, float] = defaultdict(float)
    for site, providers in site_providers.items():
        w = 1.0 if weights is None else weights[site]
        for p in providers:
            acc[p] += w
    return {p: v / total_weight for p, v in acc.items()} if total_weight else {}


def critical_shares(
    site_providers: Mapping[str, Collection[str]], total_weight: float,
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Weight of the sites whose only provider in the layer is ``p``, over ``total_weight``."""
    acc: dict[str, float] = defaultdict(float)
    for site, providers in site_providers.items():
        if len(providers) == 1:
            (p,) = tuple(providers)
            acc[p] += 1.0 if weights is None else weights[site]
    return {p: v / total_weight for p, v in acc.items()} if total_weight else {}


def redundant_shares(
    site_providers: Mapping[str, Collection[str]], total_weight: float,
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Weight of the sites that use ``p`` beside other providers in the layer, over ``total_weight``.

    For every provider, dependence = critical + redundant.
    """
    acc: dict[str, float] = defaultdict(float)
    for site, providers in site_providers.items():
        if len(providers) > 1:
            for p in providers:
                acc[p] += 1.0 if weights is None else weights[site]
    return {p: v / total_weight for p, v in acc.items()} if total_weight else {}


def normalise(values: Iterable[float]) -> list[float]:
    """Scale non-negative values to shares summing to 1."""
    vals = [float(v) for v in values]
    total = sum(vals)
    return [v / total for v in vals] if total else []


def hhi(shares: Iterable[float]) -> float:
    """Herfindahl-Hirschman index: sum of squared percentage shares, 0..10,000."""
    return sum((100.0 * s) ** 2 for s in shares)


def cr(shares: Iterable[float], k: int) -> float:
    """Concentration ratio: the sum of the ``k`` largest shares."""
    return sum(sorted(shares, reverse=True)[:k])


def nakamoto(shares: Iterable[float], threshold: float = 0.5) -> int:
    """Fewest providers whose shares together exceed ``threshold`` (0 if there are none)."""
    total = 0.0
    ordered = sorted(shares, reverse=True)
    for i, s in enumerate(ordered, 1):
        total += s
        if total > threshold + 1e-12:
            return i
    return len(ordered)


def gini(shares: Iterable[float]) -> float:
    """Gini coefficient of the shares (0: all equal; towards 1: one provider has all)."""
    xs = sorted(shares)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((i + 1) * x for i, x in enumerate(xs))
    return (2.0 * weighted) / (n * total) - (n + 1.0) / n


def entropy(shares: Iterable[float], *, normalised: bool = False) -> float:
    """Shannon entropy (natural log) of the shares; ``normalised`` divides by log(n)."""
    xs = [s for s in shares if s > 0]
    h = -sum(s * math.log(s) for s in xs)
    if normalised:
        return h / math.log(len(xs)) if len(xs) > 1 else 0.0
    return h
