"""The lab's web endpoint, live: TLS by SNI verified against the lab bundle, the served headers,
robots.txt, redirects, invalid certificates, http-only hosts, unknown hosts, the request log,
and pages whose third-party hosts are exactly ``resources.csv``.

Needs ``knotd`` and ``unbound`` (the whole lab comes up) and the shared data.
"""

from __future__ import annotations

import csv
import json
import socket
import ssl
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chokepoints.errors import LabError
from crawler import registry as registry_mod
from crawler.http.resources import resource_hosts
from crawler.pages import is_third_party
from scripts.lab import api, certs, servers
from scripts.lab.testing import running_lab
from scripts.lab.web import HostRule
from scripts.lab.world import default_data_dir


def _installed(name: str) -> bool:
    try:
        servers.find_binary(name)
    except LabError:
        return False
    return True


pytestmark = [
    pytest.mark.skipif(not (default_data_dir() / "provider_ranges").is_dir(), reason="reference data not found"),
    pytest.mark.skipif(not (_installed("knotd") and _installed("unbound")), reason="knotd/unbound not installed"),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    state_dir = tmp_path_factory.mktemp("weblab")
    with running_lab(state_dir, sites=300, seed=5) as state:
        yield state
    assert api.status(state_dir) is None
    assert not servers.is_running(state["pids"]["http"], state["configs"]["http"])


@pytest.fixture(scope="module")
def world(lab: dict[str, Any]) -> dict[str, Any]:
    state_dir = Path(lab["state_dir"])
    rules = {r.host: r for r in map(HostRule.parse, (state_dir / "web.tsv").read_text().splitlines()[1:])}
    web = json.loads((state_dir / "world.json").read_text())["web"]
    cas = {ca.key: ca for ca in certs.read_cas(state_dir / certs.CAS_FILE)}
    return {"rules": rules, "forced": web["forced"], "cas": cas}


def _get(lab: dict[str, Any], host: str, path: str = "/", *, tls: bool = True,
         verify: bool = True) -> tuple[int, dict[str, str], bytes, dict[str, Any]]:
    """One request as the crawler makes it: (status, headers, body, peer certificate)."""
    sock = socket.create_connection(("127.0.0.1", lab["https_port"] if tls else lab["http_port"]), timeout=5)
    cert: dict[str, Any] = {}
    if tls:
        ctx = ssl.create_default_context(cafile=lab["ca_bundle"])
        if not verify:
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        sock = ctx.wrap_socket(sock, server_hostname=host)
        cert = sock.getpeercert() or {}
    with sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: chokepoints/test\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    assert int(headers["content-length"]) == len(body)
    return int(lines[0].split()[1]), headers, body, cert


def test_state_and_bundle(lab: dict[str, Any], world: dict[str, Any]) -> None:
    for key in ("http_port", "https_port", "ca_bundle", "truth_http", "resources", "http_log", "resolver", "truth"):
        assert key in lab, key
    status = api.status(Path(lab["state_dir"]))
    assert status is not None and status["running"]["http"]
    bundle = Path(lab["ca_bundle"]).read_text()
    trusted = [ca for ca in world["cas"].values() if ca.trusted]
    assert bundle.count("BEGIN CERTIFICATE") == len(trusted) == len(world["cas"]) - 1


def test_tls_by_sni_verifies_against_the_bundle(lab: dict[str, Any], world: dict[str, Any]) -> None:
    checked = 0
    for rule in world["rules"].values():
        if rule.tls != "valid" or checked >= 12 or (rule.page == "asset" and checked % 2):
            continue
        code, _, _, cert = _get(lab, rule.host, "/robots.txt")
        issuer = dict(x[0] for x in cert["issuer"])
        ca = world["cas"][rule.ca]
        assert (issuer["organizationName"], issuer["commonName"]) == (ca.issuing_org, ca.issuing_cn)
        sans = {v for k, v in cert["subjectAltName"]}
        assert rule.host in sans
        if rule.page != "asset":
            apex = rule.host.removeprefix("www.")
            assert sans == {apex, f"www.{apex}"}
        assert code == 200
        checked += 1
    assert checked == 12


@pytest.mark.parametrize("case, message", [("expired", "expired"), ("wrong_name", "Hostname mismatch"),
                                           ("untrusted", "unable to get local issuer")])
def test_invalid_certificates_fail_verification(lab: dict[str, Any], world: dict[str, Any], case: str,
                                                message: str) -> None:
    host = world["forced"][case]
    with pytest.raises(ssl.SSLCertVerificationError, match=message):
        _get(lab, host)
    code, _, body, _ = _get(lab, host, verify=False)  # the certificate is there, just not valid
    assert code == 200 and body


def test_http_only_and_unknown_hosts_refuse_tls(lab: dict[str, Any], world: dict[str, Any]) -> None:
    for host in (world["forced"]["http_only"], "no-such-site.example"):
        with pytest.raises(ssl.SSLError) as info:
            _get(lab, host)
        assert not isinstance(info.value, ssl.SSLCertVerificationError)
    code, _, body, _ = _get(lab, world["forced"]["http_only"], tls=False)
    assert code == 200 and b"<html" in body.lower()
    assert _get(lab, "no-such-site.example", tls=False)[0] == 421


def test_headers_carry_the_fingerprints(lab: dict[str, Any], world: dict[str, Any]) -> None:
    reg = registry_mod.load()
    seen = 0
    for rule in world["rules"].values():
        if rule.tls != "valid" or rule.robots != "allow":
            continue
        _, headers, _, _ = _get(lab, rule.host)
        named = {p for p, _ in reg.match_headers(headers)}
        assert named == ({rule.headers} if rule.headers in reg.providers and reg.providers[rule.headers].headers
                         else set()), (rule.host, headers)
        assert {"date", "content-type", "content-length", "server"} <= set(headers) or named
        seen += bool(named)
        if seen >= 4:
            break
    assert seen >= 4


def test_robots_and_redirects(lab: dict[str, Any], world: dict[str, Any]) -> None:
    forced, rules = world["forced"], world["rules"]
    assert _get(lab, forced["robots_deny"], "/robots.txt")[2] == b"User-agent: *\nDisallow: /\n"
    assert b"User-agent: chokepoints\nDisallow: /" in _get(lab, forced["robots_deny_agent"], "/robots.txt")[2]
    code, headers, _, _ = _get(lab, forced["private_ip"])
    assert code == 302 and headers["location"] == "http://169.254.169.254/latest/meta-data/"
    code, headers, _, _ = _get(lab, forced["private_name"])
    assert headers["location"] == f"http://intranet.{forced['private_name']}/"
    assert _get(lab, forced["loopback"])[1]["location"] == "http://127.0.0.1/admin/"
    loop = forced["redirect_loop"]
    assert _get(lab, loop, "/?a=1")[1]["location"] == f"https://www.{loop}/?a=1"
    assert _get(lab, f"www.{loop}", "/?a=1")[1]["location"] == f"https://{loop}/?a=1"
    offsite = _get(lab, forced["offsite"])[1]["location"]
    assert offsite.startswith("https://www.") and forced["offsite"] not in offsite.split("?")[0]
    http_to_https = forced["http_to_https"]
    assert _get(lab, http_to_https)[1]["location"] == f"http://www.{http_to_https}/"
    code, headers, _, _ = _get(lab, f"www.{http_to_https}", "/x?y", tls=False)
    assert code == 301 and headers["location"] == f"https://www.{http_to_https}/x?y"
    canonical_www = [r for r in rules.values() if r.redirect.startswith("301 https://www.") and r.page == "-"]
    assert canonical_www
    assert _get(lab, canonical_www[0].host)[1]["location"] == f"https://www.{canonical_www[0].host}/"


def test_pages_reference_exactly_their_resources(lab: dict[str, Any], world: dict[str, Any]) -> None:
    truth: dict[str, set[str]] = defaultdict(set)
    with open(lab["resources"]) as fh:
        for row in csv.DictReader(fh):
            truth[row["domain"]].add(row["host"])
    checked = 0
    for rule in world["rules"].values():
        domain = rule.host.removeprefix("www.")
        if not rule.has_page or rule.tls != "valid" or rule.robots != "allow" or checked >= 10:
            continue
        code, headers, body, _ = _get(lab, rule.host)
        assert code == 200
        found = {h for h, _, _ in resource_hosts(body, f"https://{rule.host}/", headers["content-type"])}
        assert {h for h in found if is_third_party(h, domain)} == truth[domain], domain
        checked += 1
    malformed = world["forced"]["malformed"]
    (host,) = [h for h in (malformed, f"www.{malformed}") if h in world["rules"] and world["rules"][h].has_page]
    body = _get(lab, host)[2]
    assert b"\xff\xfe" in body
    found = {h for h, _, _ in resource_hosts(body, f"https://{host}/", "text/html")}
    assert {h for h in found if is_third_party(h, malformed)} == truth[malformed]
    assert checked == 10


def test_request_log(lab: dict[str, Any], world: dict[str, Any]) -> None:
    host = world["forced"]["private_ip"]
    _get(lab, host, "/robots.txt")
    _get(lab, host, "/robots.txt", tls=False)
    lines = Path(lab["http_log"]).read_text().splitlines()
    assert f"https\t{host}\t/robots.txt" in lines and f"http\t{host}\t/robots.txt" in lines
    assert not any("169.254.169.254" in line or "intranet." in line for line in lines)
