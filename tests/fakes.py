"""Plain stand-ins for the DNS engine's result objects (same attribute names)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rec:
    name: str
    rtype: str
    ttl: int
    value: str


@dataclass(frozen=True, slots=True)
class Q:
    qname: str
    qtype: str
    status: str
    records: tuple[Rec, ...] = ()
    attempts: int = 1
    transport: str = "udp"
    elapsed_ms: float = 1.0


@dataclass(frozen=True, slots=True)
class Site:
    domain: str
    status: str
    results: tuple[Q, ...]


def a(name: str, *values: str, rtype: str = "A") -> Q:
    return Q(name, rtype, "NOERROR", tuple(Rec(name, rtype, 300, v) for v in values))


def chain(qname: str, qtype: str, hops: list[str], addrs: list[str]) -> Q:
    recs = []
    owner = qname
    for h in hops:
        recs.append(Rec(owner, "CNAME", 300, h))
        owner = h
    recs += [Rec(owner, qtype, 60, v) for v in addrs]
    return Q(qname, qtype, "NOERROR", tuple(recs))


def ns(domain: str, *hosts: str) -> Q:
    return Q(domain, "NS", "NOERROR", tuple(Rec(domain, "NS", 3600, h) for h in hosts))


def mx(domain: str, *hosts: str) -> Q:
    return Q(domain, "MX", "NOERROR", tuple(Rec(domain, "MX", 3600, f"{i * 10} {h}") for i, h in enumerate(hosts)))
