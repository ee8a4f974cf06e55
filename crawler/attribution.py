"""Attribution: a snapshot's stored observations + the registry -> ``dependencies``.

The stage reads only what the crawl stored (``dns_answers``, ``ip_origins``, the range matches
and the RDAP cache), so it can be re-run on an old snapshot when the registry improves. Host
names are classified in Python (distinct names only: a few per site at most); everything
per-site runs as SQL inside DuckDB, in three steps that keep all the evidence:

1. ``sql/address_providers.sql`` — each address's owner (published range > origin AS > RDAP);
2. ``sql/attribute.sql`` — every piece of evidence per site, layer and unit (``evidence``);
3. ``sql/dependencies.sql`` — one row per site, layer and provider (``dependencies``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import duckdb
import pyarrow as pa

from chokepoints import db, failpoints
from crawler.registry import Registry

logger = logging.getLogger(__name__)

LAYERS = ("hosting", "dns", "cdn", "email", "ca", "third_party")


def registrable(host: str) -> str:
    """Registrable domain of a host name (the host itself if it has none)."""
    from crawler.toplists import normalise_domain

    try:
        return normalise_domain(host)
    except ValueError:
        return host


def host_map(con: duckdb.DuckDBPyConnection, snapshot_id: int, registry: Registry) -> pa.Table:
    """Classify every distinct CNAME target, NS host and MX host of the snapshot."""
    rows = con.execute(db.sql_text("crawler", "attribution_hosts.sql"), {"sid": snapshot_id}).fetchall()
    out: dict[str, list[Any]] = {k: [] for k in ("kind", "host", "provider", "suffix", "registrable")}
    for kind, host in rows:
        if not host:
            continue
        hit = registry.match_suffix(kind, host)
        if hit is not None and kind == "cname":
            # A CNAME names a CDN only if the provider serves the cdn layer (a CNAME to an
            # ELB or a storage bucket is hosting, which the addresses already tell).
            p = registry.providers.get(hit[0])
            if p is not None and p.layers and "cdn" not in p.layers:
                hit = None
        out["kind"].append(kind)
        out["host"].append(host)
        out["provider"].append(hit[0] if hit else None)
        out["suffix"].append(hit[1] if hit else None)
        out["registrable"].append(registrable(host))
    schema = pa.schema([(k, pa.string()) for k in out])
    return pa.table(out, schema=schema)


def header_fingerprints(registry: Registry) -> pa.Table:
    """Every header fingerprint of the registry: ``(name, value substring or null, provider)``."""
    rows = sorted((fp.name, fp.value or "", p.id) for p in registry.providers.values() for fp in p.headers)
    return pa.table({"name": [r[0] for r in rows], "value": [r[1] or None for r in rows],
                     "provider": [r[2] for r in rows]}, schema=pa.schema([(k, pa.string()) for k in
                                                                           ("name", "value", "provider")]))


def org_slug(org: str) -> str:
    """``org:<slug>`` for an organisation the registry does not know (as RDAP registrants)."""
    return "org:" + re.sub(r"[^a-z0-9]+", "-", org.lower()).strip("-")


def issuer_map(con: duckdb.DuckDBPyConnection, snapshot_id: int, registry: Registry) -> pa.Table:
    """Each distinct issuer organisation of the snapshot's verified certificates, classified:
    the registry's CA, else ``org:<slug>``."""
    orgs = [r[0] for r in con.execute(
        "select distinct issuer_org from tls_certificates where snapshot_id = ? and verified "
        "and issuer_org is not null and trim(issuer_org) <> '' order by 1", [snapshot_id]).fetchall()]
    providers = [registry.match_issuer(org) or org_slug(org) for org in orgs]
    return pa.table({"issuer_org": orgs, "provider": providers},
                    schema=pa.schema([("issuer_org", pa.string()), ("provider", pa.string())]))


def asn_map(registry: Registry) -> pa.Table:
    pairs = sorted((asn, p.id) for p in registry.providers.values() for asn in p.asns)
    return pa.table(
        {"asn": [a for a, _ in pairs], "provider": [p for _, p in pairs]},
        schema=pa.schema([("asn", pa.int32()), ("provider", pa.string())]),
    )


def provider_rows(snapshot_id: int, providers: list[str], registry: Registry,
                  as_names: dict[int, str] | None = None, rdap_orgs: dict[str, str] | None = None) -> pa.Table:
    """Display names for the providers a snapshot uses (AS names for ``as<N>`` when known)."""
    out: dict[str, list[Any]] = {k: [] for k in ("snapshot_id", "provider", "name", "org", "kind", "parent")}
    for pid in providers:
        p = registry.providers.get(pid)
        parent = None
        if p is not None:
            name, org, kind = p.name, p.org, "registry"
            parent = getattr(p, "parent", None)
        elif pid.startswith("as") and pid[2:].isdigit():
            asn = int(pid[2:])
            known = (as_names or {}).get(asn)
            if not known:
                name = f"AS{asn}"
            elif known.upper().startswith(f"AS{asn}"):
                name = known  # already "AS<N> ..." (as some RDAP registrants are named)
            else:
                name = f"AS{asn} {known}"
            org, kind = None, "asn"
        elif pid.startswith("org:"):
            name, org, kind = (rdap_orgs or {}).get(pid, pid[4:]), None, "rdap"
        else:
            name, org, kind = pid, None, "domain"
        out["snapshot_id"].append(snapshot_id)
        out["provider"].append(pid)
        out["name"].append(name)
        out["org"].append(org)
        out["kind"].append(kind)
        out["parent"].append(parent)
    return pa.table(out, schema=pa.schema([(k, pa.int32() if k == "snapshot_id" else pa.string()) for k in out]))


def rdap_orgs(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> dict[str, str]:
    """``org:<slug>`` provider -> the registrant name RDAP gave, for this snapshot's providers."""
    rows = con.execute(db.sql_text("crawler", "rdap_names.sql"), {"sid": snapshot_id}).fetchall()
    return {f"org:{slug}": org for slug, org, _ in rows if slug}


def rdap_as_names(con: duckdb.DuckDBPyConnection, snapshot_id: int, exclude: dict[int, str]) -> dict[int, str]:
    """ASN -> the registrant RDAP names for its addresses, for ASes no AS-names file named."""
    rows = con.execute(db.sql_text("crawler", "rdap_names.sql"), {"sid": snapshot_id}).fetchall()
    return {asn: org for _, org, asn in rows if asn is not None and asn not in exclude}


_WORD = re.compile(r"[a-z0-9]+")


def own_domains(registry: Registry) -> dict[str, set[str]]:
    """Registry provider -> the registrable domains its own host names live under."""
    out: dict[str, set[str]] = {}
    for p in registry.providers.values():
        for suffix in (*p.cname_suffixes, *p.ns_suffixes, *p.mx_suffixes):
            if "*" not in suffix:
                out.setdefault(p.id, set()).add(registrable(suffix))
    return out


def is_own(domain: str, provider: str, owned: dict[str, set[str]], as_names: dict[int, str]) -> bool:
    """Is ``provider`` the site's own infrastructure? A registry provider serving its own domain
    (google.com on Google), or an AS named after the site (its label is a word of the AS name,
    four letters at least: ``AS32934 FACEBOOK`` for facebook.com)."""
    if domain in owned.get(provider, ()):
        return True
    if provider.startswith("as") and provider[2:].isdigit():
        name = as_names.get(int(provider[2:]))
        label = domain.split(".", 1)[0]
        return bool(name) and len(label) >= 4 and label in _WORD.findall(str(name).lower())
    return False


def mark_own_infrastructure(con: duckdb.DuckDBPyConnection, snapshot_id: int, registry: Registry,
                            as_names: dict[int, str]) -> int:
    """Flag as private the evidence that points at the site's own network (DESIGN.md: "its own
    ASN"); the provider stays what it is, the dependency is not third-party. Returns pairs."""
    owned = own_domains(registry)
    pairs = [
        (d, p) for d, p in con.execute(
            "select distinct domain, provider from evidence where snapshot_id = ? and not private "
            "and layer in ('hosting', 'dns', 'email')", [snapshot_id]).fetchall()
        if is_own(d, p, owned, as_names)
    ]
    if pairs:
        con.register("own_pairs", pa.table({"domain": [d for d, _ in pairs], "provider": [p for _, p in pairs]}))
        try:
            con.execute("update evidence set private = true where snapshot_id = ? "
                        "and layer in ('hosting', 'dns', 'email') "
                        "and (domain, provider) in (select (domain, provider) from own_pairs)", [snapshot_id])
        finally:
            con.unregister("own_pairs")
    return len(pairs)


def attribute(con: duckdb.DuckDBPyConnection, snapshot_id: int, registry: Registry) -> int:
    """Recompute the snapshot's dependencies in one transaction; return the row count.

    Old ``dependencies`` and ``providers`` rows of the snapshot are replaced, the registry's
    version and hash are recorded on the snapshot, and the sums the metrics are computed from
    (``metric_weights``, :func:`analysis.aggregates.store`) are stored again, all in the same
    transaction.
    """
    from crawler.ranges.match import match_snapshot

    # Published ranges first: the stored feed versions nearest the snapshot's date (recorded in
    # snapshot_feeds); with none stored, addresses fall back to their origin AS.
    match_snapshot(con, snapshot_id)
    hosts = host_map(con, snapshot_id, registry)
    asns = asn_map(registry)
    issuers = issuer_map(con, snapshot_id, registry)
    con.register("host_map", hosts)
    con.register("asn_map", asns)
    con.register("header_fp", header_fingerprints(registry))
    con.register("issuer_map", issuers)
    try:
        con.execute("begin transaction")
        try:
            for table in ("address_providers", "evidence", "dependencies", "providers"):
                con.execute(f"delete from {table} where snapshot_id = ?", [snapshot_id])
            params = {"sid": snapshot_id}
            con.execute("insert into address_providers by name "
                        + db.sql_text("crawler", "address_providers.sql"), params)
            con.execute("insert into evidence by name " + db.sql_text("crawler", "attribute.sql"), params)
            con.execute("insert into evidence by name " + db.sql_text("crawler", "attribute_http.sql"), params)
            as_names = dict(con.execute(
                "select asn, name from as_names where snapshot_id = ?", [snapshot_id]).fetchall())
            as_names.update(rdap_as_names(con, snapshot_id, exclude=as_names))
            mark_own_infrastructure(con, snapshot_id, registry, as_names)
            con.execute("insert into dependencies by name " + db.sql_text("crawler", "dependencies.sql"), params)
            private = {
                r[0]
                for r in con.execute(
                    "select distinct provider from dependencies where snapshot_id = ? and private",
                    [snapshot_id],
                ).fetchall()
            }
            used = [
                r[0]
                for r in con.execute(
                    "select distinct provider from dependencies where snapshot_id = ? order by 1",
                    [snapshot_id],
                ).fetchall()
            ]
            orgs = rdap_orgs(con, snapshot_id)
            orgs.update(zip(issuers["provider"].to_pylist(), issuers["issuer_org"].to_pylist(), strict=True))
            table = provider_rows(snapshot_id, used, registry, as_names, orgs)
            kinds = [
                "private" if pid in private and kind == "domain" else kind
                for pid, kind in zip(table["provider"].to_pylist(), table["kind"].to_pylist(), strict=True)
            ]
            table = table.set_column(table.schema.get_field_index("kind"), "kind", pa.array(kinds))
            db.append(con, "providers", table)
            con.execute(
                "update snapshots set registry_version = ?, registry_hash = ? where snapshot_id = ?",
                [registry.version, registry.sha256, snapshot_id],
            )
            count = con.execute(
                "select count(*) from dependencies where snapshot_id = ?", [snapshot_id]
            ).fetchall()[0][0]
            from analysis import aggregates  # the per-snapshot weights report and trend read

            aggregates.store(con, snapshot_id)
            failpoints.reached("attribution")
            con.execute("commit")
        except Exception:
            db.rollback(con)
            raise
    finally:
        for name in ("host_map", "asn_map", "header_fp", "issuer_map"):
            con.unregister(name)
    logger.info("snapshot %d: %d dependencies", snapshot_id, count)
    return int(count)
