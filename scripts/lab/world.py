"""The lab's world generator: N real-looking sites, their DNS records and the ground truth.

``generate(out_dir, sites=N, seed=S)`` writes, all deterministic in (N, seed, list, date, data):

- ``list.csv``       the world's top list (``rank,domain``, the source list's order);
- ``truth.csv``      ``domain,layer,provider``: one row per true dependency (hosting, dns, cdn,
  email), exactly what a correct attribution concludes (see :mod:`scripts.lab.placement`);
- ``ipasn.dat``      a pyasn database mapping every prefix the world uses to its origin AS;
- ``root.zone``      one flat zone ``.`` with every name (served by Knot);
- ``unbound-local.conf``  each site's apex NS and SOA, as Unbound ``local-data`` (an NS inside
  a ``.`` zone would be a delegation, so the apex NS live in the resolver);
- ``world.json``     seed, date, sizes, the range-file versions used, per-layer shares and how
  many sites show each stacked or mixed case (see :mod:`scripts.lab.placement`), and a ``web``
  section: how many sites show each web case, and where the forced ones are;
- ``web.tsv``        what the lab's web endpoint serves for each host (:mod:`scripts.lab.web`);
- ``truth_http.csv`` ``domain,layer,provider`` for cdn, ca and third_party: what a correct HTTP
  crawl concludes (see :mod:`scripts.lab.webplan`);
- ``resources.csv``  ``domain,host``: each site's third-party hosts, as the crawler must find them;
- ``cas.json``       the world's lab certificate authorities (:mod:`scripts.lab.certs`).

Sites come from a real top list (first N registrable domains) or are made up. The world's date
is ``world_date`` if given, else the list's date (from its file name), else
:data:`DEFAULT_DATE`; each provider's addresses come from its published ranges nearest it.
Reads ``../shared/data`` (or ``data_dir``); never writes there.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import IO, Any

from chokepoints.errors import LabError, ListError
from crawler import registry as registry_mod
from crawler.toplists import load_list
from scripts.lab import naming
from scripts.lab.certs import CAS_FILE, authorities, write_cas
from scripts.lab.placement import TTL, Placer
from scripts.lab.sources import RANGES_DIR, RIB_FILE, UNROUTED_ASN, build_inventory
from scripts.lab.web import HEADER
from scripts.lab.webplan import WebPlanner

logger = logging.getLogger(__name__)

#: the date of a world with no list date and no ``world_date``: the day of the normalised
#: range snapshot, the date at which the most providers have a published version
DEFAULT_DATE = date(2025, 7, 5)
LAYERS = ("hosting", "dns", "cdn", "email")
FILES = ("list.csv", "truth.csv", "ipasn.dat", "world.json", "root.zone", "unbound-local.conf",
         "rdap_networks.json", "web.tsv", "truth_http.csv", "resources.csv", CAS_FILE)
_BUFFER = 1 << 20


def default_data_dir() -> Path:
    """``<repo>/../shared/data``."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def resolve_data_dir(data_dir: Path | None) -> Path:
    """The reference data folder, checked: :class:`LabError` when it lacks what the lab needs."""
    path = (data_dir or default_data_dir()).expanduser().resolve()
    for need in (RANGES_DIR, RIB_FILE):
        if not (path / need).exists():
            raise LabError(f"reference data not found: {path / need} (pass data_dir)")
    return path


def load_domains(
    list_path: Path | None, sites: int, rng: random.Random
) -> tuple[list[str], dict[str, Any], date | None]:
    """The world's domains: the first *sites* registrable domains of a list, or made up.

    :returns: (domains, description of the source, the list's date if known).
    """
    if list_path is not None:
        try:
            top = load_list(str(list_path), top=sites)
        except ListError as exc:
            raise LabError(f"cannot read list {list_path}: {exc}") from None
        meta = {
            "source": str(list_path),
            "name": top.name,
            "format": top.format,
            "sha256": top.sha256,
            "entries": len(top.entries),
        }
        return [e.domain for e in top.entries], meta, top.list_date
    seen: set[str] = set()
    domains: list[str] = []
    while len(domains) < sites:
        name = naming.site_name(rng)
        if name not in seen:
            seen.add(name)
            domains.append(name)
    return domains, {"source": "generated", "entries": sites}, None


def _open(path: Path) -> IO[str]:
    return path.open("w", encoding="utf-8", buffering=_BUFFER, newline="\n")


def summarise(truth: dict[str, defaultdict[str, float]], sites: Counter[str]) -> dict[str, Any]:
    """Per layer: attributed sites, HHI (0..10,000) and the top providers' market shares."""
    out: dict[str, Any] = {}
    for layer in LAYERS:
        shares = truth[layer]
        total = sum(shares.values()) or 1.0
        ranked = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
        out[layer] = {
            "sites": sites[layer],
            "providers": len(ranked),
            "hhi": round(sum((100 * v / total) ** 2 for _, v in ranked), 1),
            "top": [[p, round(v / total, 4)] for p, v in ranked[:8]],
        }
    return out


def generate(
    out_dir: Path,
    *,
    sites: int = 1000,
    seed: int = 1,
    list_path: Path | None = None,
    data_dir: Path | None = None,
    world_date: date | None = None,
) -> dict[str, Any]:
    """Generate a world into *out_dir* (its files are replaced) and return ``world.json``.

    :param sites: how many sites the world's list holds (about 1% of them are absent).
    :param seed: the random seed; the same arguments give byte-identical files.
    :param list_path: a real top list to take the domains from (Radar, Alexa, OpenDNS, CrUX...).
    :param data_dir: the shared reference data (default ``<repo>/../shared/data``).
    :param world_date: the world's date (default: the list's, else :data:`DEFAULT_DATE`).
    :raises LabError: when the data or the list cannot be read.
    """
    if sites < 1:
        raise LabError(f"a world needs at least one site, not {sites}")
    data = resolve_data_dir(data_dir)
    reg = registry_mod.load()
    rng = random.Random(seed)
    domains, list_meta, list_date = load_domains(list_path, sites, rng)
    when = world_date or list_date or DEFAULT_DATE
    inv = build_inventory(
        reg,
        data,
        when,
        rng,
        hosters=max(8, min(25_000, len(domains) // 8)),
        taken_domains=set(domains),
    )
    placer = Placer(reg, inv, rng, seed, serial=int(when.strftime("%Y%m%d")) * 100 + 1)
    cas = authorities(reg)
    web = WebPlanner(reg, inv, placer, cas, seed, set(domains))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_cas(out_dir / CAS_FILE, cas)

    shares: dict[str, defaultdict[str, float]] = {layer: defaultdict(float) for layer in LAYERS}
    attributed: Counter[str] = Counter()
    cases: Counter[str] = Counter()
    probe: dict[str, str] | None = None
    present = records = 0
    with (
        _open(out_dir / "list.csv") as lst,
        _open(out_dir / "truth.csv") as tru,
        _open(out_dir / "root.zone") as zone,
        _open(out_dir / "unbound-local.conf") as local,
        _open(out_dir / "web.tsv") as web_out,
        _open(out_dir / "truth_http.csv") as tru_http,
        _open(out_dir / "resources.csv") as res,
    ):
        lst.write("rank,domain\n")
        tru.write("domain,layer,provider\n")
        tru_http.write("domain,layer,provider\n")
        res.write("domain,host\n")
        web_out.write(HEADER)
        zone.write(
            f"$ORIGIN .\n$TTL {TTL}\n"
            f".\tSOA\tns.lab.invalid. hostmaster.lab.invalid. {placer.serial} 7200 900 "
            "1209600 300\n.\tNS\tns.lab.invalid.\n"
            # the root server really is on loopback (glue for the apex NS)
            "ns.lab.invalid.\tA\t127.0.0.1\n"
        )
        local.write("# apex NS and SOA of every site in the lab world (generated)\n")
        for index, domain in enumerate(domains):
            lst.write(f"{index + 1},{domain}\n")
            site = placer.place(index, domain)
            if site is None:
                continue
            present += 1
            served = web.plan(index, domain, site)
            records += len(site.zone) + len(served.zone)
            zone.write("".join(site.zone))
            zone.write("".join(served.zone))
            web_out.write("".join(served.lines))
            tru_http.write("".join(f"{domain},{layer},{p}\n" for layer, p in served.truth))
            res.write("".join(f"{domain},{host}\n" for host in served.resources))
            local.write("".join(site.local))
            tru.write("".join(f"{domain},{layer},{p}\n" for layer, p in site.truth))
            by_layer: dict[str, list[str]] = {}
            for layer, p in site.truth:
                by_layer.setdefault(layer, []).append(p)
            for layer, providers in by_layer.items():
                attributed[layer] += 1
                for p in providers:
                    shares[layer][p] += 1 / len(providers)
            cases.update(site.cases)
            first = next((x for x in site.zone if x.startswith(f"{domain}.\tA\t")), None)
            if probe is None and first is not None:  # the servers' readiness probe: an A
                probe = {"name": domain, "type": "A", "address": first.split("\t")[2].strip()}
        shared = placer.shared_lines()
        third = web.zone_lines()  # after the sites: CDN edges they share exist by then
        records += len(shared) + len(third)
        zone.write("".join(shared))
        zone.write("".join(third))
        web_out.write("".join(web.pool_lines()))

    blocks = inv.blocks()
    with _open(out_dir / "ipasn.dat") as dat:
        dat.write(
            f"; IP-ASN32-DAT file\n; Original file : chokepoints lab world, seed {seed}, "
            f"date {when.isoformat()}\n; Converted on  : (generated)\n"
            f"; CIDRs         : {len(blocks)}\n;\n"
        )
        dat.write("".join(f"{b.cidr}\t{b.asn}\n" for b in blocks if b.asn != UNROUTED_ASN))
    # unrouted space: only the lab's RDAP server knows who holds it (scripts/lab/rdap_main.py)
    (out_dir / "rdap_networks.json").write_text(json.dumps([
        {"cidr": b.cidr, "handle": f"NET-LAB-UNROUTED-{i}-{j}", "name": f"LAB-UNROUTED-{i}", "org": org,
         "shape": "arin"}
        for i, (pool, org) in enumerate(inv.unrouted) for j, b in enumerate(pool.v4)
    ], indent=1) + "\n", encoding="utf-8")

    world: dict[str, Any] = {
        "seed": seed,
        "date": when.isoformat(),
        "date_source": "parameter" if world_date else "list" if list_date else "default",
        "sites": len(domains),
        "present": present,
        "absent": len(domains) - present,
        "records": records,
        "shared_hosts": len(placer.shared),
        "prefixes": len(blocks),
        "longtail_ases": len(inv.hosters),
        "list": list_meta,
        "registry": {"version": reg.version, "sha256": reg.sha256},
        "ranges": inv.versions,
        "rib": inv.rib,
        "probe": probe,
        "summary": summarise(shares, attributed),
        "cases": dict(sorted(cases.items())),
        "web": web.summary(),
        # a provider's published range announced by a customer's AS: the range names the provider
        "byoip": [{"cidr": b.cidr, "provider": pool.owner, "announced_by": b.asn}
                  for pool in inv.byoip for b in pool.v4],
    }
    (out_dir / "world.json").write_text(
        json.dumps(world, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    logger.info("world: %d sites (%d present), %d records", len(domains), present, records)
    return world
