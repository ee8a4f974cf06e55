"""The client against lab RDAP servers on loopback: statuses, 429, timeouts, redirects, the guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from crawler.rdap import RdapClient, RdapConfig, RdapConfigError, RdapStatus, Rir
from crawler.rdap.http import parse_retry_after
from crawler.rdap.ratelimit import TokenBucket
from scripts.lab.rdap_server import Fault, FaultKind, stop
from tests.rdap.conftest import FakeTime, StartServer, fast_client

NETS = [
    ("192.0.2.0/24", "NET-192-0-2-0-1", "DOC-NET", "Example Hosting LLC", "arin", "US"),
    ("198.51.100.0/24", "DOC2", "DOC2-NET", "Example B.V.", "ripe", "NL"),
    ("2001:db8::/32", "NET6-2001-DB8-1", "DOC6", "Example v6", "arin"),
]


def test_ok_and_not_found(rdap_server: StartServer) -> None:
    server, url = rdap_server(NETS)
    client = fast_client(url)
    ok = client.lookup("192.0.2.10")
    assert ok.status == RdapStatus.OK and ok.network is not None
    assert (ok.network.handle, ok.network.org, ok.network.cidr) == (
        "NET-192-0-2-0-1",
        "Example Hosting LLC",
        "192.0.2.0/24",
    )
    assert (ok.start_num, ok.end_num) == (3221225984, 3221226239)
    assert ok.raw["objectClassName"] == "ip network" and ok.requests == 1
    ripe = client.lookup("198.51.100.1")
    assert ripe.network is not None and ripe.network.handle == "198.51.100.0 - 198.51.100.255"
    v6 = client.lookup("2001:db8::5")
    assert v6.network is not None and v6.family == 6
    missing = client.lookup("203.0.113.9")
    assert missing.status == RdapStatus.NOT_FOUND and missing.network is None
    assert (missing.start_num, missing.end_num) == (missing.ip_num, missing.ip_num)
    assert server.counts["/ip/203.0.113.9"] == 1


def test_429_retry_after_is_waited_then_success(rdap_server: StartServer, fake_time: FakeTime) -> None:
    server, url = rdap_server(NETS, {"*": Fault(FaultKind.RATE_LIMIT, times=2, retry_after="3")})
    client = fast_client(url, fake=fake_time, max_backoff=10)
    result = client.lookup("192.0.2.10")
    assert result.status == RdapStatus.OK
    assert result.requests == 3 and server.asked("192.0.2.10") == 3
    assert [s for s in fake_time.sleeps if s >= 1] == [3.0, 3.0]


def test_429_without_retry_after_backs_off_then_gives_up(rdap_server: StartServer, fake_time: FakeTime) -> None:
    server, url = rdap_server(NETS, {"*": Fault(FaultKind.RATE_LIMIT, retry_after=None)})
    client = fast_client(url, fake=fake_time, default_backoff=0.5, max_rate_limited=3)
    result = client.lookup("192.0.2.10")
    assert result.status == RdapStatus.RATE_LIMITED
    assert server.asked("192.0.2.10") == 4
    assert [s for s in fake_time.sleeps if s >= 0.4] == [0.5, 1.0, 2.0]


def test_429_beyond_the_cap_is_not_waited(rdap_server: StartServer, fake_time: FakeTime) -> None:
    server, url = rdap_server(NETS, {"*": Fault(FaultKind.RATE_LIMIT, retry_after="3600")})
    result = fast_client(url, fake=fake_time, max_backoff=60).lookup("192.0.2.10")
    assert result.status == RdapStatus.RATE_LIMITED and server.asked("192.0.2.10") == 1
    assert not [s for s in fake_time.sleeps if s >= 1]


def test_429_with_an_http_date(rdap_server: StartServer, fake_time: FakeTime) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    _, url = rdap_server(NETS, {"*": Fault(FaultKind.RATE_LIMIT, times=1, retry_after=when)})
    result = fast_client(url, fake=fake_time).lookup("192.0.2.10")
    assert result.status == RdapStatus.OK
    waited = [s for s in fake_time.sleeps if s >= 1]
    assert len(waited) == 1 and 20 <= waited[0] <= 30


def test_parse_retry_after() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Fri, 01 May 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Fri, 01 May 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize("code", [500, 503, 403])
def test_http_errors_are_statuses(rdap_server: StartServer, code: int) -> None:
    _, url = rdap_server(NETS, {"192.0.2.0/24": Fault(FaultKind.ERROR, status=code)})
    result = fast_client(url).lookup("192.0.2.10")
    assert result.status == f"HTTP_{code}" and result.network is None


def test_malformed_json(rdap_server: StartServer) -> None:
    _, url = rdap_server(NETS, {"NET-192-0-2-0-1": Fault(FaultKind.MALFORMED)})
    result = fast_client(url).lookup("192.0.2.10")
    assert result.status == RdapStatus.MALFORMED and result.network is None and result.raw is None


def test_slow_answer_is_a_timeout(rdap_server: StartServer) -> None:
    _, url = rdap_server(NETS, {"*": Fault(FaultKind.SLOW, delay=30)})
    result = fast_client(url, timeout=0.3).lookup("192.0.2.10")
    assert result.status == RdapStatus.TIMEOUT


def test_connection_refused_is_a_network_error(rdap_server: StartServer) -> None:
    server, url = rdap_server(NETS)
    stop(server)  # the port is no longer listening
    result = fast_client(url).lookup("192.0.2.10")
    assert result.status == RdapStatus.NETWORK_ERROR


def test_redirect_on_the_same_server_is_followed(rdap_server: StartServer) -> None:
    server, url = rdap_server(NETS, {"*": Fault(FaultKind.REDIRECT)})
    result = fast_client(url).lookup("192.0.2.10")
    assert result.status == RdapStatus.OK and result.requests == 2
    assert server.counts == {"/ip/192.0.2.10": 1, "/redirected/ip/192.0.2.10": 1}


def test_redirect_to_an_unconfigured_server_is_refused(rdap_server: StartServer) -> None:
    other, other_url = rdap_server(NETS)
    _, url = rdap_server(NETS, {"*": Fault(FaultKind.REDIRECT, location=f"{other_url}ip/192.0.2.10")})
    result = fast_client(url).lookup("192.0.2.10")
    assert result.status == "HTTP_302" and result.network is None
    assert other.counts == {}


def test_redirect_to_a_non_http_url_is_refused(rdap_server: StartServer) -> None:
    _, url = rdap_server(NETS, {"*": Fault(FaultKind.REDIRECT, location="file:///etc/passwd")})
    assert fast_client(url).lookup("192.0.2.10").status == "HTTP_302"


def test_redirect_between_configured_rir_servers_is_followed(rdap_server: StartServer) -> None:
    """Like ARIN answering for RIPE space with a redirect to RIPE's server."""
    ripe, ripe_url = rdap_server([("193.0.0.0/21", "RIPE-NCC", "RIPE-NCC", "RIPE NCC", "ripe")])
    arin, arin_url = rdap_server([], {"*": Fault(FaultKind.REDIRECT, location=f"{ripe_url}ip/193.0.6.139")})
    servers = {rir: ripe_url for rir in Rir}
    servers[Rir.RIPE] = arin_url  # RIPE space asked at "ARIN", which redirects
    client = RdapClient(RdapConfig(servers=servers, rates=dict.fromkeys(Rir, 1000.0), timeout=5))
    result = client.lookup("193.0.6.139")
    assert result.status == RdapStatus.OK and result.network is not None and result.network.org == "RIPE NCC"
    assert arin.asked("193.0.6.139") == 1 and ripe.asked("193.0.6.139") == 1


def test_too_many_redirects(rdap_server: StartServer) -> None:
    server, url = rdap_server(NETS, {"*": Fault(FaultKind.REDIRECT, location="/ip/192.0.2.10")})
    result = fast_client(url, max_redirects=2).lookup("192.0.2.10")
    assert result.status == "HTTP_302" and server.asked("192.0.2.10") == 3


@pytest.mark.parametrize(
    "config",
    [
        RdapConfig(),  # the five RIRs' public servers
        RdapConfig(base_url="https://rdap.arin.net/registry/"),
        RdapConfig(base_url="http://192.0.2.1/"),
        RdapConfig(servers={Rir.ARIN: "http://127.0.0.1:1/", Rir.RIPE: "https://rdap.db.ripe.net/"}),
    ],
)
def test_loopback_only_refuses_public_servers(config: RdapConfig) -> None:
    with pytest.raises(RdapConfigError, match="loopback"):
        RdapClient(config)


def test_loopback_only_accepts_loopback() -> None:
    for url in ("http://127.0.0.1:9/", "http://localhost:9/", "http://[::1]:9/"):
        assert RdapClient(RdapConfig(base_url=url)).origins


def test_bad_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHOKEPOINTS_LOOPBACK_ONLY", "0")
    RdapClient(RdapConfig())  # the public defaults are fine outside the hermetic mode (no request made)
    for bad in (
        RdapConfig(base_url="ftp://127.0.0.1/"),
        RdapConfig(base_url="http://127.0.0.1/", base_rate=0),
        RdapConfig(base_url="http://127.0.0.1/", timeout=0),
    ):
        with pytest.raises(RdapConfigError):
            RdapClient(bad)


def test_unserved_address_has_no_route() -> None:
    client = RdapClient(RdapConfig(servers={rir: "http://127.0.0.1:9/" for rir in Rir}))
    assert client.route("10.0.0.1") is None
    with pytest.raises(ValueError, match="no RDAP server"):
        client.lookup("10.0.0.1")


def test_token_bucket_paces_and_defers(fake_time: FakeTime) -> None:
    bucket = TokenBucket(2.0, burst=2, clock=fake_time.clock, sleep=fake_time.sleep)
    waits = [bucket.acquire() for _ in range(4)]
    assert waits == [0.0, 0.0, 0.5, 0.5]
    bucket.defer(10)
    assert bucket.acquire() == 10.0
