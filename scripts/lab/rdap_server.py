"""The lab's RDAP server: ``/ip/<addr>`` answered from a table of networks, on loopback.

A threaded ``http.server`` on 127.0.0.1, port 0 (read back). Each network answers in the shape
of ARIN's or RIPE's RDAP service (RIPE: the handle is the range, ``"193.0.0.0 - 193.0.7.255"``,
and a maintainer is listed as a second, nameless registrant); an address in no network gets a
404. Faults, per network (keyed by its CIDR or handle) or for every request (``"*"``): 429 with
Retry-After, any HTTP error, malformed JSON, a slow answer, a redirect. ``server.counts``
counts requests per path, so tests can assert that a network was asked once.

:func:`networks_from_world` derives one network per prefix of a lab world's ``ipasn.dat``.
"""

from __future__ import annotations

import csv
import gzip
import ipaddress
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.rdap.bootstrap import Rir, bundled

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
REDIRECTED = "/redirected"  # a redirect fault points here by default; faults never apply here
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Shape(StrEnum):
    """Whose RDAP answers a network imitates."""

    ARIN = "arin"
    RIPE = "ripe"


@dataclass(frozen=True, slots=True)
class LabNetwork:
    """One network the server knows."""

    cidr: str
    handle: str
    name: str
    org: str
    shape: Shape = Shape.ARIN
    country: str | None = None


class FaultKind(StrEnum):
    """How the server misbehaves."""

    RATE_LIMIT = "rate_limit"  # 429, with Retry-After when ``retry_after`` is set
    ERROR = "error"  # HTTP ``status`` (500, 503, ...)
    MALFORMED = "malformed"  # 200 with a truncated JSON body
    SLOW = "slow"  # answer after ``delay`` seconds (cut short when the server stops)
    REDIRECT = "redirect"  # 302 to ``location`` (default: this server's /redirected/ip/<addr>)


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault, for the first ``times`` requests it matches (None: all of them)."""

    kind: FaultKind
    times: int | None = None
    status: int = 503
    retry_after: str | None = "1"
    delay: float = 5.0
    location: str | None = None


NetworkSpec = LabNetwork | Sequence[Any]


def _network(spec: NetworkSpec) -> LabNetwork:
    if isinstance(spec, LabNetwork):
        return spec
    cidr, handle, name, org, *rest = spec
    shape = Shape(rest[0]) if rest else Shape.ARIN
    country = rest[1] if len(rest) > 1 else None
    return LabNetwork(str(cidr), str(handle), str(name), str(org), shape, country)


class RdapLabServer(ThreadingHTTPServer):
    """The server object: its networks, faults and request counts."""

    daemon_threads = True

    def __init__(self, networks: Iterable[NetworkSpec], faults: Mapping[str, Fault] | None = None) -> None:
        self.networks = [_network(n) for n in networks]
        # most specific first, so a lookup finds the longest match
        self._index: list[tuple[IPNetwork, LabNetwork]] = sorted(
            ((ipaddress.ip_network(n.cidr, strict=False), n) for n in self.networks),
            key=lambda pair: -pair[0].prefixlen,
        )
        self.faults = dict(faults or {})
        self.counts: Counter[str] = Counter()
        self.fault_hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        super().__init__((LOOPBACK, 0), _Handler)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/``."""
        return f"http://{LOOPBACK}:{self.server_address[1]}/"

    def find(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[IPNetwork, LabNetwork] | None:
        """The most specific network holding ``address``."""
        for net, lab in self._index:
            if net.version == address.version and address in net:
                return net, lab
        return None

    def fault_for(self, lab: LabNetwork | None) -> Fault | None:
        """The fault that applies to this request (counted), if any is still active."""
        keys = [lab.cidr, lab.handle] if lab else []
        with self.lock:
            for key in (*keys, "*"):
                fault = self.faults.get(key)
                if fault is None:
                    continue
                if fault.times is not None and self.fault_hits[key] >= fault.times:
                    continue
                self.fault_hits[key] += 1
                return fault
        return None

    def asked(self, address: str) -> int:
        """How many times ``/ip/<address>`` was requested (any prefix)."""
        with self.lock:
            return sum(n for path, n in self.counts.items() if path.endswith(f"/ip/{address}"))


class _Handler(BaseHTTPRequestHandler):
    server: RdapLabServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("rdap lab: " + format, *args)

    def do_GET(self) -> None:
        srv = self.server
        path = self.path.split("?", 1)[0]
        with srv.lock:
            srv.counts[path] += 1
        head, sep, text = path.rpartition("/ip/")
        if not sep:
            return self._json(400, _error(400, "Bad Request", f"not an ip query: {path}"))
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return self._json(400, _error(400, "Bad Request", f"not an address: {text}"))
        found = srv.find(address)
        lab = found[1] if found else None
        fault = None if head.startswith(REDIRECTED) else srv.fault_for(lab)
        if fault is not None and self._fault(fault, address):
            return None
        if found is None:
            return self._json(404, _error(404, "Not Found", f"no network holds {address}"))
        net, lab = found
        self_url = f"{srv.base_url}ip/{address}"
        body = arin_shape(net, lab, self_url) if lab.shape == Shape.ARIN else ripe_shape(net, lab, self_url)
        return self._json(200, body)

    def _fault(self, fault: Fault, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Act out a fault; False when the request should then be answered normally (slow)."""
        if fault.kind == FaultKind.RATE_LIMIT:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._json(429, _error(429, "Too Many Requests", "rate limit exceeded"), headers)
        elif fault.kind == FaultKind.ERROR:
            self._json(fault.status, _error(fault.status, "Server Error", "the lab was told to fail"))
        elif fault.kind == FaultKind.MALFORMED:
            self._raw(200, b'{"objectClassName": "ip network", "handle": "NET-TRUNC', "application/rdap+json")
        elif fault.kind == FaultKind.REDIRECT:
            location = fault.location or f"{REDIRECTED}/ip/{address}"
            self._raw(302, b"", "text/plain", {"Location": location})
        elif fault.kind == FaultKind.SLOW:
            if self.server.stopping.wait(fault.delay):
                self.close_connection = True
                return True
            return False
        return True

    def _json(self, code: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        self._raw(code, json.dumps(body).encode(), "application/rdap+json", headers)

    def _raw(self, code: int, data: bytes, ctype: str, headers: Mapping[str, str] | None = None) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True


def _error(code: int, title: str, detail: str) -> dict[str, Any]:
    return {"errorCode": code, "title": title, "description": [detail], "rdapConformance": ["rdap_level_0"]}


def _vcard(fn: str, kind: str, extra: Sequence[list[Any]] = ()) -> list[Any]:
    return ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", fn], ["kind", {}, "text", kind], *extra]]


def _cidr0(net: IPNetwork) -> list[dict[str, Any]]:
    key = "v4prefix" if net.version == 4 else "v6prefix"
    return [{key: str(net.network_address), "length": net.prefixlen}]


def arin_shape(net: IPNetwork, lab: LabNetwork, self_url: str) -> dict[str, Any]:
    """An ARIN-style ``ip network`` answer: NET- handle, registrant org entity with a vCard."""
    org_handle = lab.handle.removeprefix("NET-").split("-")[0][:8].upper() or "ORG"
    body: dict[str, Any] = {
        "rdapConformance": ["nro_rdap_profile_0", "rdap_level_0", "cidr0", "arin_originas0"],
        "notices": [
            {
                "title": "Terms of Service",
                "description": [
                    "By using the ARIN RDAP/Whois service, you are agreeing to the RDAP/Whois Terms of Use"
                ],
                "links": [{"value": self_url, "rel": "terms-of-service", "type": "text/html", "href": self_url}],
            }
        ],
        "handle": lab.handle,
        "startAddress": str(net.network_address),
        "endAddress": str(net.broadcast_address),
        "ipVersion": f"v{net.version}",
        "name": lab.name,
        "type": "DIRECT ALLOCATION",
        "parentHandle": f"NET-{net.version}-PARENT",
        "cidr0_cidrs": _cidr0(net),
        "status": ["active"],
        "port43": "whois.arin.net",
        "objectClassName": "ip network",
        "events": [
            {"eventAction": "last changed", "eventDate": "2024-01-15T10:00:00-05:00"},
            {"eventAction": "registration", "eventDate": "2012-03-01T00:00:00-05:00"},
        ],
        "links": [
            {"value": self_url, "rel": "self", "type": "application/rdap+json", "href": self_url},
        ],
        "entities": [
            {
                "handle": org_handle,
                "vcardArray": _vcard(lab.org, "org", [["adr", {"label": "1 Example Way\nAnytown"}, "text", [""] * 7]]),
                "roles": ["registrant"],
                "objectClassName": "entity",
                "entities": [
                    {
                        "handle": f"ABUSE-{org_handle}-ARIN",
                        "vcardArray": _vcard("Abuse", "group", [["email", {}, "text", "abuse@example.net"]]),
                        "roles": ["abuse"],
                        "objectClassName": "entity",
                    }
                ],
            }
        ],
    }
    if lab.country:
        body["country"] = lab.country
    return body


def ripe_shape(net: IPNetwork, lab: LabNetwork, self_url: str) -> dict[str, Any]:
    """A RIPE-style answer: the range as handle, a maintainer and an org as registrants."""
    first, last = str(net.network_address), str(net.broadcast_address)
    handle = f"{first} - {last}" if net.version == 4 else str(net)
    org_handle = f"ORG-{lab.handle[:6].upper()}1-RIPE"
    return {
        "handle": handle,
        "name": lab.name,
        "type": "ASSIGNED PA",
        "country": lab.country or "NL",
        "parentHandle": "0.0.0.0 - 255.255.255.255" if net.version == 4 else "::/0",
        "startAddress": first,
        "endAddress": last,
        "ipVersion": f"v{net.version}",
        "cidr0_cidrs": _cidr0(net),
        "status": ["active"],
        "objectClassName": "ip network",
        "port43": "whois.ripe.net",
        "rdapConformance": ["cidr0", "rdap_level_0", "nro_rdap_profile_0", "redacted"],
        "notices": [
            {"title": "Filtered", "description": ["This output has been filtered."]},
            {"title": "Source", "description": ["Objects returned came from source", "RIPE"]},
        ],
        "links": [
            {"value": self_url, "rel": "self", "href": self_url},
            {
                "value": self_url,
                "rel": "copyright",
                "href": "http://www.ripe.net/data-tools/support/documentation/terms",
            },
        ],
        "events": [{"eventAction": "last changed", "eventDate": "2023-06-01T12:00:00Z"}],
        "entities": [
            {"handle": f"{lab.handle[:8].upper()}-MNT", "roles": ["registrant"], "objectClassName": "entity"},
            {
                "handle": org_handle,
                "vcardArray": _vcard(lab.org, "org", [["adr", {"label": "Example Street 1\nAmsterdam"}, "text", None]]),
                "roles": ["registrant"],
                "objectClassName": "entity",
            },
            {
                "handle": "AR1-RIPE",
                "vcardArray": _vcard("Abuse-C Role", "group", [["email", {}, "text", "abuse@example.net"]]),
                "roles": ["abuse"],
                "objectClassName": "entity",
            },
        ],
    }


def start_rdap_server(
    networks: Iterable[NetworkSpec], faults: Mapping[str, Fault] | None = None
) -> tuple[RdapLabServer, str]:
    """Start a server in a background thread; return it and its base URL.

    :param networks: :class:`LabNetwork` or ``(cidr, handle, name, org[, shape[, country]])``.
    :param faults: per network CIDR or handle, or ``"*"`` for every request.
    """
    server = RdapLabServer(networks, faults)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="rdap-lab", daemon=True)
    thread.start()
    logger.info("rdap lab: %d networks at %s", len(server.networks), server.base_url)
    return server, server.base_url


def stop(server: RdapLabServer) -> None:
    """Stop a server started by :func:`start_rdap_server` (slow answers are cut short)."""
    server.stopping.set()
    server.shutdown()
    server.server_close()


def networks_from_world(state_dir: Path, *, as_names: Path | None = None) -> list[LabNetwork]:
    """One network per prefix of a lab world's ``ipasn.dat``, its org named after the AS.

    The org is ``"AS<N> <name>"`` with the name from bgp.tools' ASN table (``as_names``, default
    the newest ``asns_*.csv.gz`` under ``../shared/data/asn_names/bgptools_opendb``), else
    ``"AS<N>"``. A prefix in RIPE's space answers in RIPE's shape, the others in ARIN's.
    """
    names = _as_names(as_names if as_names is not None else _default_as_names())
    boot = bundled()
    out: list[LabNetwork] = []
    with (Path(state_dir) / "ipasn.dat").open(encoding="utf-8") as dat:
        for line in dat:
            if not line.strip() or line.startswith(";"):
                continue
            prefix, asn_text = line.split()[:2]
            asn = int(asn_text)
            net = ipaddress.ip_network(prefix, strict=False)
            name, country = names.get(asn, ("", None))
            shape = Shape.RIPE if boot.rir_for(net.network_address) == Rir.RIPE else Shape.ARIN
            tag = str(net.network_address).replace(".", "-").replace(":", "-").strip("-").upper()
            out.append(
                LabNetwork(
                    cidr=str(net),
                    handle=f"NET-{tag}-{net.prefixlen}",
                    name=f"AS{asn}-NET",
                    org=f"AS{asn} {name}".strip(),
                    shape=shape,
                    country=country,
                )
            )
    return out


def _default_as_names() -> Path | None:
    folder = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "asn_names" / "bgptools_opendb"
    found = sorted(folder.glob("asns_*.csv.gz"))
    return found[-1] if found else None


def _as_names(path: Path | None) -> dict[int, tuple[str, str | None]]:
    """ASN -> (name, country) from bgp.tools' ``asn,name,class,cc`` CSV (gzip or plain)."""
    if path is None or not path.exists():
        return {}
    opener = gzip.open if path.suffix == ".gz" else open
    out: dict[int, tuple[str, str | None]] = {}
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            asn = row.get("asn", "").removeprefix("AS")
            if asn.isdigit():
                out[int(asn)] = (row.get("name") or "", row.get("cc") or None)
    return out
