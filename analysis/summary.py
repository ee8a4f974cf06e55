"""The per-snapshot summary behind ``chokepoints report``: per layer, who serves how much.

Aggregation runs in DuckDB: ``sql/provider_shares.sql`` (per provider) and
``sql/layer_metrics.sql`` (per layer: counts, and the concentration scalars computed in SQL), both
on the weights a snapshot's attribution stored (``metric_weights``, :mod:`analysis.aggregates`)
where they hold what is asked, else on the same weights computed from the crawl's rows
(:func:`metric_rows`). :mod:`analysis.metrics` is the reference: on small snapshots the scalars
are computed in Python from the provider shares, on big ones (``SQL_SCALARS_FROM`` sites or more)
they are taken from SQL; a property test holds the two equal. Shares are fractions 0..1; HHI is
0..10,000. Denominators:

* ``share`` (market share) — over the layer's *attributed* weight, each site's weight split
  equally over its providers;
* ``dependence``, ``critical`` and ``redundant`` — over the weight of *all measured sites*
  of the cut, so they read as "this share of the list would be touched / taken down".

Weighting (named in every output): ``uniform`` (each site weighs 1) or ``popularity``:
1/rank, or 1/bucket on bucketed lists (``list_entries.bucket`` set: CrUX, Radar), whose order
inside a bucket is alphabetical and says nothing about popularity. Cuts keep the sites whose
rank (bucket) is at most the cut: the top 1k / 10k / 100k / 1M, or the list's own buckets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from analysis import metrics
from chokepoints import db
from chokepoints.errors import UserError

LAYERS = ("hosting", "dns", "cdn", "email")
LEVELS = ("provider", "org")
WEIGHTS = ("uniform", "popularity")
ENGINES = ("auto", "sql", "python")
#: Where the weights of the metric queries come from: ``stored`` (``metric_weights``, written at
#: attribution), ``computed`` (from the crawl's rows), or ``auto`` (stored where they exist).
SOURCES = ("auto", "stored", "computed")
#: The whole list, as a cut in SQL (every join on cut is then a plain comparison).
WHOLE_LIST = 9223372036854775807
STANDARD_CUTS = (1_000, 10_000, 100_000, 1_000_000)
#: From this many sites on, ``engine="auto"`` takes the per-layer scalars from SQL.
SQL_SCALARS_FROM = 10_000
SCALARS = ("hhi", "cr1", "cr3", "cr5", "nakamoto", "gini", "entropy", "entropy_normalised")
SNAPSHOT_FIELDS = (
    "snapshot_id", "list_name", "list_id", "list_source", "list_sha256", "list_date", "top_n",
    "sites", "list_rejected", "list_duplicates", "resolver", "rib_source", "rib_date",
    "registry_version", "registry_hash", "tool_version", "started_at", "finished_at", "status",
)


def jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    """Raise :class:`ValueError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, not {value!r}")


@dataclass(frozen=True, slots=True)
class ListPositions:
    """How a snapshot's list ranks its sites.

    :ivar deepest: the largest rank (bucket, on bucketed lists); None for an empty list.
    :ivar buckets: the list's own buckets, ascending; empty for an exactly ranked list.
    """

    deepest: int | None
    buckets: tuple[int, ...]

    @property
    def bucketed(self) -> bool:
        return bool(self.buckets)

    def weight_by(self, weight: str) -> str:
        """What one site weighs under ``weight``, as printed in the output."""
        if weight == "uniform":
            return "1 per site"
        return "1/bucket" if self.bucketed else "1/rank"

    def cuts(self, bucket: int | None = None) -> list[int]:
        """The cuts of the per-bucket table, up to ``bucket`` (the whole list when None).

        Bucketed lists: their own buckets. Ranked lists: top 1k, 10k, 100k, 1M (and ``bucket``
        itself), up to the first that holds the whole list.
        """
        if self.bucketed:
            return [b for b in self.buckets if bucket is None or b <= bucket]
        candidates = sorted({*STANDARD_CUTS, *([bucket] if bucket is not None else [])})
        cuts: list[int] = []
        for c in candidates:
            if bucket is not None and c > bucket:
                break
            cuts.append(c)
            if self.deepest is None or c >= self.deepest:
                break
        return cuts

    def check_bucket(self, bucket: int | None) -> None:
        """Refuse a cut that falls inside one of a bucketed list's buckets (it would mislabel)."""
        if bucket is None or not self.bucketed or bucket in self.buckets:
            return
        if self.deepest is not None and bucket >= self.deepest:
            return
        raise UserError(f"this list is bucketed ({', '.join(map(str, self.buckets))}): "
                        f"--bucket must be one of its buckets, not {bucket}")


def list_positions(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> ListPositions:
    """Read how the snapshot's list ranks its sites (``sql/list_positions.sql``)."""
    row = db.fetch_dicts(con, db.sql_text("analysis", "list_positions.sql"), {"sid": snapshot_id})[0]
    deepest = row["deepest"]
    return ListPositions(None if deepest is None else int(deepest), tuple(int(b) for b in row["buckets"]))


_WEIGHTS_LINE = re.compile(r"^-- @weights$", re.MULTILINE)


def metric_sql(name: str, source: str) -> str:
    """The text of ``name`` (``provider_shares.sql`` or ``layer_metrics.sql``) with its sums from
    ``source``: its ``-- @weights`` line replaced by ``weights_stored.sql`` (the stored
    ``metric_weights``) or ``weights_computed.sql`` (from the crawl's rows). Static text only."""
    check_choice("source", source, ("stored", "computed"))
    chain = db.sql_text("analysis", f"weights_{source}.sql").rstrip("\n")
    text = db.sql_text("analysis", name)
    if len(_WEIGHTS_LINE.findall(text)) != 1:
        raise ValueError(f"{name} must have one '-- @weights' line")
    return _WEIGHTS_LINE.sub(lambda _: chain, text)


def stored_snapshots(
    con: duckdb.DuckDBPyConnection, snapshot_ids: Sequence[int], cuts: Sequence[int | None], *, level: str,
) -> set[int]:
    """The snapshots whose stored sums (``metric_weights``, both weightings) hold every cut of
    ``cuts`` at ``level``; none when the database has no such table (older than migration 0008
    and opened read-only)."""
    tables = con.execute("select count(*) from duckdb_tables() where schema_name = 'main'"
                         " and table_name = 'metric_weights'").fetchall()[0][0]
    if not tables or not snapshot_ids:
        return set()
    wanted = sorted({WHOLE_LIST if c is None else int(c) for c in cuts})
    rows = con.execute(db.sql_text("analysis", "stored_snapshots.sql"), {
        "sids": list(snapshot_ids), "cuts": wanted, "level": level}).fetchall()
    return {int(r[0]) for r in rows}


def metric_rows(
    con: duckdb.DuckDBPyConnection, name: str, snapshot_ids: Sequence[int], *,
    cuts: Sequence[int | None], layers: Sequence[str], weight: str, level: str, source: str = "auto",
    extra: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run ``name`` over ``snapshot_ids``: on the sums stored for the snapshots that have them
    (``source="auto"``), and on the same sums computed from the crawl's rows for the others.

    :param source: ``stored`` refuses (:class:`ValueError`) a snapshot without stored sums;
        ``computed`` never reads them (the two give the same numbers, a test holds them equal).
    :returns: the rows, by snapshot id then in the query's order.
    """
    check_choice("weight", weight, WEIGHTS)
    check_choice("level", level, LEVELS)
    check_choice("source", source, SOURCES)
    sids = list(dict.fromkeys(snapshot_ids))
    stored = set() if source == "computed" else stored_snapshots(con, sids, cuts, level=level)
    if source == "stored" and stored != set(sids):
        raise ValueError(f"no stored sums for snapshots {sorted(set(sids) - stored)} at these cuts")
    params = {"cuts": list(cuts), "layers": list(layers), "levels": [level], "weights": [weight], **(extra or {})}
    rows: list[dict[str, Any]] = []
    for chain, part in (("stored", [s for s in sids if s in stored]),
                        ("computed", [s for s in sids if s not in stored])):
        if part:
            rows += db.fetch_dicts(con, metric_sql(name, chain), {**params, "sids": part})
    rows.sort(key=lambda r: int(r["snapshot_id"]))  # stable: each snapshot's rows keep the query's order
    return rows


def provider_rows(
    con: duckdb.DuckDBPyConnection, snapshot_ids: Sequence[int], *,
    cuts: Sequence[int | None] = (None,), layers: Sequence[str] = LAYERS,
    weight: str = "uniform", level: str = "provider", providers: Sequence[str] | None = None,
    source: str = "auto",
) -> list[dict[str, Any]]:
    """Per snapshot, cut, layer and provider: sites, shares (``sql/provider_shares.sql``).

    :param cuts: popularity cuts; None is the whole list.
    :param providers: only these providers (None: all).
    :param source: where the weights come from (:data:`SOURCES`, :func:`metric_rows`).
    """
    return metric_rows(con, "provider_shares.sql", snapshot_ids, cuts=cuts, layers=layers, weight=weight,
                       level=level, source=source,
                       extra={"providers": None if providers is None else list(providers)})


def layer_rows(
    con: duckdb.DuckDBPyConnection, snapshot_ids: Sequence[int], *,
    cuts: Sequence[int | None] = (None,), layers: Sequence[str] = LAYERS,
    weight: str = "uniform", level: str = "provider", source: str = "auto",
) -> list[dict[str, Any]]:
    """Per snapshot, cut and layer: counts and concentration scalars (``sql/layer_metrics.sql``).

    :param source: where the weights come from (:data:`SOURCES`, :func:`metric_rows`).
    """
    return metric_rows(con, "layer_metrics.sql", snapshot_ids, cuts=cuts, layers=layers, weight=weight,
                       level=level, source=source)


def python_scalars(shares: Sequence[float]) -> dict[str, float]:
    """The per-layer scalars of ``layer_metrics.sql``, computed by the Python reference."""
    return {
        "hhi": metrics.hhi(shares),
        "cr1": metrics.cr(shares, 1),
        "cr3": metrics.cr(shares, 3),
        "cr5": metrics.cr(shares, 5),
        "nakamoto": metrics.nakamoto(shares),
        "gini": metrics.gini(shares),
        "entropy": metrics.entropy(shares),
        "entropy_normalised": metrics.entropy(shares, normalised=True),
    }


def layer_summary(
    layer: dict[str, Any], rows: list[dict[str, Any]], *, names: dict[str, str | None], use_sql: bool,
) -> dict[str, Any]:
    """One layer of the report from its ``layer_metrics.sql`` row and provider rows.

    :param use_sql: take the shares and scalars from SQL; else compute them in Python.
    """
    if use_sql:
        shares = [float(r["share"]) for r in rows]
        scalars: dict[str, float] = {k: layer[k] for k in SCALARS}
    else:
        shares = metrics.normalise(r["share_weight"] for r in rows) or [0.0] * len(rows)
        scalars = python_scalars(shares)
    providers = [{
        "provider": r["provider"],
        "name": names.get(r["provider"]) or r["provider"],
        "sites": int(r["sites"]),
        "share": share,
        "dependence": float(r["dependence"]),
        "critical": float(r["critical"]),
        "redundant": float(r["redundant"]),
        "critical_sites": int(r["critical_sites"]),
        "redundant_sites": int(r["redundant_sites"]),
    } for r, share in zip(rows, shares, strict=True)]
    # Rounded for ordering only: float noise in SQL sums must never reorder equal shares.
    providers.sort(key=lambda p: (-round(p["share"], 12), p["provider"]))
    return {
        "sites": int(layer["sites"]),
        "attributed": int(layer["attributed"]),
        "unattributed": int(layer["unattributed"]),
        "unattributed_share": float(layer["unattributed_share"]),
        "critical": float(layer["critical"]),
        "redundant": float(layer["redundant"]),
        "providers_count": len(providers),
        "hhi": scalars["hhi"],
        "cr": {"1": scalars["cr1"], "3": scalars["cr3"], "5": scalars["cr5"]},
        "nakamoto": int(scalars["nakamoto"]),
        "gini": scalars["gini"],
        "entropy": scalars["entropy"],
        "entropy_normalised": scalars["entropy_normalised"],
        "providers": providers,
    }


def bucket_summary(layer: dict[str, Any], names: dict[str, str | None]) -> dict[str, Any]:
    """One layer of one cut in the per-bucket table (SQL scalars)."""
    top = layer["top_provider"]
    return {
        "sites": int(layer["sites"]),
        "attributed": int(layer["attributed"]),
        "unattributed": int(layer["unattributed"]),
        "critical": float(layer["critical"]),
        "redundant": float(layer["redundant"]),
        "providers_count": int(layer["providers"]),
        "hhi": float(layer["hhi"]),
        "cr": {"1": float(layer["cr1"]), "3": float(layer["cr3"]), "5": float(layer["cr5"])},
        "nakamoto": int(layer["nakamoto"]),
        "top_provider": top,
        "top_name": None if top is None else (names.get(top) or top),
        "top_share": float(layer["cr1"]),
    }


def snapshot_layers(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> list[str]:
    """The standard layers, then any other layer the snapshot's dependencies name."""
    found = [r[0] for r in con.execute(
        "select distinct layer from dependencies where snapshot_id = ? order by layer", [snapshot_id]).fetchall()]
    return [*LAYERS, *(layer for layer in found if layer not in LAYERS)]


def provider_names(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> dict[str, str | None]:
    return {r["provider"]: r["name"] for r in db.fetch_dicts(
        con, "select provider, name from providers where snapshot_id = ?", [snapshot_id])}


def snapshot_report(
    con: duckdb.DuckDBPyConnection, snapshot_id: int, level: str = "provider", *,
    weight: str = "uniform", bucket: int | None = None, buckets: bool = True, engine: str = "auto",
    source: str = "auto",
) -> dict[str, Any]:
    """The whole report of one snapshot as plain data (what ``--format json`` prints).

    :param level: ``provider`` (services apart: AWS, CloudFront, Route 53) or ``org``
        (grouped by the registry's organisation: all of them are Amazon).
    :param weight: ``uniform`` or ``popularity`` (1/rank; 1/bucket on bucketed lists).
    :param bucket: report the top-``bucket`` cut only (None: the whole list).
    :param buckets: add the per-bucket table (``buckets``: one entry per cut).
    :param engine: where the per-layer scalars come from: ``python`` (the reference), ``sql``,
        or ``auto`` (SQL from ``SQL_SCALARS_FROM`` sites on).
    :param source: where the weights come from: ``stored``, ``computed`` or ``auto``
        (:func:`metric_rows`); the report is the same either way.
    :raises UserError: ``bucket`` falls inside one of a bucketed list's buckets.
    """
    check_choice("level", level, LEVELS)
    check_choice("weight", weight, WEIGHTS)
    check_choice("engine", engine, ENGINES)
    positions = list_positions(con, snapshot_id)
    positions.check_bucket(bucket)
    cuts = positions.cuts(bucket) if buckets else []
    layers = snapshot_layers(con, snapshot_id)
    snap = db.fetch_dicts(con, "select * from snapshots where snapshot_id = ?", [snapshot_id])[0]
    counts = db.fetch_dicts(con, db.sql_text("analysis", "snapshot_sites.sql"), {"sid": snapshot_id})[0]
    names = provider_names(con, snapshot_id)

    opts: dict[str, Any] = {"layers": layers, "weight": weight, "level": level, "source": source}
    by_cut: dict[int | None, dict[str, dict[str, Any]]] = {}
    for r in layer_rows(con, [snapshot_id], cuts=[bucket, *(c for c in cuts if c != bucket)], **opts):
        by_cut.setdefault(r["cut"], {})[r["layer"]] = r
    by_layer: dict[str, list[dict[str, Any]]] = {layer: [] for layer in layers}
    for r in provider_rows(con, [snapshot_id], cuts=[bucket], **opts):
        by_layer[r["layer"]].append(r)
    sites = int(counts["sites"] or 0)
    use_sql = engine == "sql" or (engine == "auto" and sites >= SQL_SCALARS_FROM)

    snapshot = {k: jsonable(snap.get(k)) for k in SNAPSHOT_FIELDS}
    snapshot.update({
        "resolved": int(counts["resolved"] or 0),
        "weighting": weight,
        "weight_by": positions.weight_by(weight),
        "level": level,
        "bucket": bucket,
        "bucketed": positions.bucketed,
        "buckets": cuts,
    })
    report: dict[str, Any] = {
        "snapshot": snapshot,
        "layers": {layer: layer_summary(by_cut[bucket][layer], rows, names=names, use_sql=use_sql)
                   for layer, rows in by_layer.items()},
    }
    if buckets:
        report["buckets"] = [{
            "bucket": c,
            "sites": int(next(iter(by_cut[c].values()))["sites"]) if by_cut.get(c) else 0,
            "layers": {layer: bucket_summary(by_cut[c][layer], names)
                       for layer in layers if layer in by_cut.get(c, {})},
        } for c in cuts]
    published: dict[str, Any] = stable(report)
    return published


#: significant digits kept of every float a report publishes: sums of many fractions differ in
#: their last bits with the order DuckDB adds them in (a database and its Parquet export, more
#: threads); 12 digits keep every figure and make the published numbers the same wherever
#: computed
DIGITS = 12


def stable(value: Any) -> Any:
    """``value`` with every float rounded to :data:`DIGITS` significant digits (dicts and lists
    walked)."""
    if isinstance(value, float):
        return float(f"{value:.{DIGITS}g}")
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value
