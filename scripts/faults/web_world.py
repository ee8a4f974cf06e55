"""The hostile web world: its sites, its DNS zone, its lab folder, its servers running.

:func:`hostile_world` starts a :class:`~scripts.faults.zone_server.ZoneServer` and a
:class:`~scripts.faults.web_faults.HostileWeb` in a thread of their own and writes a lab folder
(``state.json``) that ``chokepoints crawl --lab --lab-dir`` takes as a lab: ``resolver``,
``list``, ``asn_db``, ``http_port``, ``https_port``, ``ca_bundle`` (and ``as_names``); no
``rdap``, no ``world`` (no range files). The sites' addresses look public (1.0.0.x, 8.8.4.x):
they are recorded and attributed, never connected to, since a lab crawl sends every connection
to the loopback endpoint; the intranet names resolve to 10.0.0.5::

    with hostile_world(folder) as world:
        ctx.cli("crawl", "--lab", "--lab-dir", world.state_dir, ...)
        world.web.requests   # [Request(scheme, sni, host, target), ...]
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.faults.background import serving
from scripts.faults.fault_pki import CertKind, FaultPki
from scripts.faults.web_faults import IDN_TARGET, INTRANET, LOOPBACK, SOUP_HOSTS, Behaviour, Host, HostileWeb
from scripts.faults.zone_server import ZoneServer

#: the world's prefixes and their origin ASes (the pyasn database of the lab folder)
ASNS = {"1.0.0.0/24": 213001, "8.8.4.0/24": 213002}


def default_hosts() -> list[Host]:
    """The world: one listed site per fault, a healthy control, and the hosts only redirects
    and the tag soup reach."""
    sites = [
        Host("fault-control.com"),
        Host("fault-huge-body.com", Behaviour.HUGE),
        Host("fault-endless-body.com", Behaviour.ENDLESS),
        Host("fault-slow-drip.com", Behaviour.DRIP),
        Host("fault-loop-a.com", Behaviour.LOOP, partner="fault-loop-b.com"),
        Host("fault-to-metadata.com", Behaviour.TO_METADATA),
        Host("fault-to-self.com", Behaviour.TO_SELF),
        Host("fault-to-intranet.com", Behaviour.TO_INTRANET),
        Host("fault-to-mapped-v6.com", Behaviour.TO_MAPPED),
        Host("fault-to-decimal-ip.com", Behaviour.TO_DECIMAL),
        Host("fault-to-idn.com", Behaviour.TO_IDN),
        Host("fault-private-site.com", address=INTRANET),
        Host("fault-self-signed.com", cert=CertKind.SELF_SIGNED),
        Host("fault-unknown-ca.com", cert=CertKind.UNKNOWN_CA),
        Host("fault-expired-cert.com", cert=CertKind.EXPIRED),
        Host("fault-wrong-name.com", cert=CertKind.WRONG_NAME),
        Host("fault-garbage.com", Behaviour.GARBAGE),
        Host("fault-reset-headers.com", Behaviour.RESET),
        Host("fault-gzip-bomb.com", Behaviour.GZIP_BOMB),
        Host("fault-huge-head.com", Behaviour.HUGE_HEAD),
        Host("fault-tag-soup.com", Behaviour.TAG_SOUP),
        Host("fault-hostile-headers.com", Behaviour.HOSTILE_HEADERS),
        Host("fault-many-hosts.com", Behaviour.MANY_HOSTS),
    ]
    out = [Host(h.name, h.behaviour, h.cert, h.address or f"1.0.0.{10 + i}", True, h.partner)
           for i, h in enumerate(sites)]
    out.append(Host("fault-loop-b.com", Behaviour.LOOP, address="1.0.0.200", listed=False,
                    partner="fault-loop-a.com"))
    out.append(Host("intranet.fault-to-intranet.com", address=INTRANET, listed=False))
    out.append(Host(IDN_TARGET, address="1.0.0.201", listed=False))
    out += [Host(name, address=f"8.8.4.{10 + i}", listed=False) for i, name in enumerate(sorted(SOUP_HOSTS))]
    return out


def zone_records(hosts: list[Host]) -> dict[str, dict[str, list[str]]]:
    """The DNS of the world: each host's A record (no AAAA, NS or MX: NODATA)."""
    return {h.name: {"A": [h.address]} for h in hosts}


def asn_dat(path: Path) -> Path:
    """A pyasn database mapping the world's public-looking prefixes to two ASes."""
    lines = "".join(f"{cidr}\t{asn}\n" for cidr, asn in ASNS.items())
    path.write_text(f"; IP-ASN32-DAT file\n; Original file : hostile web world\n; CIDRs : {len(ASNS)}\n;\n{lines}",
                    encoding="utf-8")
    return path


def hostile_as_names(path: Path, names: tuple[str, ...]) -> Path:
    """A bgp.tools-style ``asn,name,class,cc`` file naming the world's ASes with hostile text."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["asn", "name", "class", "cc"])
    for i, asn in enumerate(sorted(ASNS.values())):
        w.writerow([f"AS{asn}", f"{names[i % len(names)]} AS{asn}", "Unknown", "ZZ"])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@dataclass
class HostileWorld:
    """A running world: its lab folder, DNS server and web server."""

    state_dir: Path
    hosts: list[Host]
    dns: ZoneServer
    web: HostileWeb

    @property
    def sites(self) -> list[Host]:
        return [h for h in self.hosts if h.listed]

    def site(self, behaviour: Behaviour | None = None, cert: CertKind | None = None) -> Host:
        """The listed site with this behaviour (or certificate kind)."""
        return next(h for h in self.sites if (behaviour is None or h.behaviour is behaviour)
                    and (cert is None or h.cert is cert))


@contextlib.contextmanager
def hostile_world(folder: Path, *, as_names: tuple[str, ...] = (), drip_interval: float = 0.5,
                  hosts: list[Host] | None = None) -> Iterator[HostileWorld]:
    """Start the world's DNS and web servers (a thread of their own) and write its lab folder
    ``folder/state.json``: ``resolver``, ``list``, ``asn_db``, ``http_port``, ``https_port``,
    ``ca_bundle`` (and ``as_names`` when given); no ``rdap``."""
    folder.mkdir(parents=True, exist_ok=True)
    hosts = hosts or default_hosts()
    pki = FaultPki(folder / "pki")
    dns_server = ZoneServer(zone_records(hosts))
    web = HostileWeb(hosts, pki, drip_interval=drip_interval)
    with serving([dns_server.start, web.start], [web.stop, dns_server.stop], name="hostile-web", timeout=30,
                 quiet=True):
        listed = folder / "list.csv"
        listed.write_text("".join(f"{i},{h.name}\n" for i, h in enumerate((h for h in hosts if h.listed), 1)),
                          encoding="utf-8")
        state: dict[str, Any] = {
            "state_dir": str(folder), "resolver": f"{LOOPBACK}:{dns_server.address[1]}", "list": str(listed),
            "asn_db": str(asn_dat(folder / "ipasn.dat")), "http_port": web.http_port,
            "https_port": web.https_port, "ca_bundle": str(pki.bundle),
        }
        if as_names:
            state["as_names"] = str(hostile_as_names(folder / "as_names.csv", as_names))
        (folder / "state.json").write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        yield HostileWorld(folder, hosts, dns_server, web)
