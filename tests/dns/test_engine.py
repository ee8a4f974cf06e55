"""DnsEngine against the loopback test server: every status, retries, TCP, anti-spoofing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import pytest

from crawler.dns import DnsEngine, InvalidName, QueryResult, Status
from tests.dns.server import DnsTestServer, Mode

WORLD = {
    "a.test": [("A", "192.0.2.1"), ("AAAA", "2001:db8::1"), ("TXT", '"hello"')],
    "alias.test": [("CNAME", "hop.test")],
    "hop.test": [("CNAME", "a.test")],
    "dangling.test": [("CNAME", "missing.test")],
    "loop1.test": [("CNAME", "loop2.test")],
    "loop2.test": [("CNAME", "loop1.test")],
    "mx.test": [("MX", "10 Mail.Example.")],
}
FAULTS = [
    "drop", "drop_first", "servfail", "refused", "formerr", "notimp", "yxdomain", "refused_bare",
    "tc", "tc_always", "tc_tcp_close", "wrong_id", "wrong_question", "spoof_source",
    "duplicate", "slow", "malformed", "wrong_question_only",
]  # fmt: skip
for _fault in FAULTS:
    WORLD[f"{_fault}.test"] = [("A", "192.0.2.7")]
MODES = {f"{fault}.test": Mode(fault) for fault in FAULTS}

Scenario = Callable[[DnsEngine, DnsTestServer], Awaitable[None]]


def run(
    scenario: Scenario,
    timeout: float = 1.0,
    retries: int = 1,
    modes: Mapping[str, Mode] = MODES,
    **engine_options: int,
) -> None:
    async def main() -> None:
        async with DnsTestServer(WORLD, modes) as server:
            engine = DnsEngine([server.address], timeout=timeout, retries=retries, **engine_options)
            async with engine:
                await scenario(engine, server)

    asyncio.run(main())


def ask(qname: str, qtype: str = "A", **options: float) -> tuple[QueryResult, DnsEngine]:
    """One query; the result and the engine (for its stats)."""
    box: list[tuple[QueryResult, DnsEngine]] = []

    async def scenario(engine: DnsEngine, server: DnsTestServer) -> None:
        box.append((await engine.query(qname, qtype), engine))

    run(scenario, **options)  # type: ignore[arg-type]
    return box[0]


def test_noerror_with_records() -> None:
    result, engine = ask("A.Test.")
    assert result.status is Status.NOERROR
    assert result.rcode == 0
    assert result.qname == "a.test" and result.qtype == "A"
    assert [(r.name, r.rtype, r.value) for r in result.records] == [("a.test", "A", "192.0.2.1")]
    assert result.attempts == 1 and result.transport == "udp"
    assert result.server.endswith(":" + result.server.rsplit(":", 1)[1])
    assert engine.stats.sent == 1 and engine.stats.received == 1


@pytest.mark.parametrize(
    ("qname", "qtype", "status", "rcode"),
    [
        ("a.test", "AAAA", Status.NOERROR, 0),
        ("a.test", "MX", Status.NODATA, 0),
        ("nowhere.test", "A", Status.NXDOMAIN, 3),
        ("dangling.test", "A", Status.NXDOMAIN, 3),
        ("servfail.test", "A", Status.SERVFAIL, 2),
        ("refused.test", "A", Status.REFUSED, 5),
        ("refused_bare.test", "A", Status.REFUSED, 5),
        ("formerr.test", "A", Status.FORMERR, 1),
        ("notimp.test", "A", Status.NOTIMP, 4),
        ("yxdomain.test", "A", Status.OTHER_RCODE, 6),
        ("malformed.test", "A", Status.MALFORMED, 0),
        ("loop1.test", "A", Status.CNAME_LOOP, 0),
        ("slow.test", "A", Status.NOERROR, 0),
    ],
)
def test_statuses(qname: str, qtype: str, status: Status, rcode: int) -> None:
    result, _ = ask(qname, qtype, timeout=2.0)
    assert result.status is status
    assert result.rcode == rcode
    assert result.attempts == 1


def test_values_as_text() -> None:
    assert ask("a.test", "AAAA")[0].records[0].value == "2001:db8::1"
    assert ask("a.test", "TXT")[0].records[0].value == '"hello"'
    assert ask("mx.test", "MX")[0].records[0].value == "10 mail.example"


def test_cname_chain_kept_in_order() -> None:
    result, _ = ask("alias.test")
    assert result.status is Status.NOERROR
    assert [(r.name, r.rtype, r.value) for r in result.records] == [
        ("alias.test", "CNAME", "hop.test"),
        ("hop.test", "CNAME", "a.test"),
        ("a.test", "A", "192.0.2.1"),
    ]
    # NOERROR through a CNAME even when the target has no record of the type
    assert ask("alias.test", "MX")[0].status is Status.NOERROR


def test_timeout_after_every_retry() -> None:
    result, engine = ask("drop.test", timeout=0.05, retries=2)
    assert result.status is Status.TIMEOUT
    assert result.rcode is None and result.records == ()
    assert result.attempts == 3
    assert engine.stats.timeouts == 3 and engine.stats.retries == 2 and engine.stats.sent == 3


def test_retry_succeeds_with_a_new_id() -> None:
    result, engine = ask("drop_first.test", timeout=0.3, retries=2)
    assert result.status is Status.NOERROR
    assert result.attempts == 2
    assert engine.stats.timeouts == 1 and engine.stats.retries == 1


def test_truncated_reply_is_asked_again_over_tcp() -> None:
    box: list[QueryResult] = []

    async def scenario(engine: DnsEngine, server: DnsTestServer) -> None:
        box.append(await engine.query("tc.test", "A"))
        assert server.queries[("tc.test", "A", "tcp")] == 1

    run(scenario)
    result = box[0]
    assert result.status is Status.NOERROR
    assert result.transport == "tcp" and result.attempts == 2
    assert [r.value for r in result.records] == ["192.0.2.7"]


@pytest.mark.parametrize("qname", ["tc_always.test", "tc_tcp_close.test"])
def test_truncated_when_tcp_fails(qname: str) -> None:
    result, engine = ask(qname)
    assert result.status is Status.TRUNCATED
    assert result.transport == "tcp"
    assert engine.stats.tcp_fallbacks == 1


@pytest.mark.parametrize(
    "qname", ["wrong_id.test", "wrong_question.test", "spoof_source.test", "duplicate.test"]
)
def test_unmatched_replies_are_ignored_and_counted(qname: str) -> None:
    box: list[QueryResult] = []

    async def scenario(engine: DnsEngine, server: DnsTestServer) -> None:
        box.append(await engine.query(qname, "A"))
        if qname == "duplicate.test":  # the second copy comes after the result; wait for it
            while engine.stats.received < 2:
                await asyncio.sleep(0.001)
        assert engine.stats.mismatched == 1
        assert engine.stats.received == 2

    run(scenario, timeout=2.0)
    assert box[0].status is Status.NOERROR and box[0].attempts == 1


def test_wrong_question_only_times_out() -> None:
    result, engine = ask("wrong_question_only.test", timeout=0.05, retries=0)
    assert result.status is Status.TIMEOUT
    assert engine.stats.mismatched == 1


def test_rotates_servers_on_timeout() -> None:
    async def main() -> None:
        async with (
            DnsTestServer(WORLD, {"a.test": Mode.DROP}) as dead,
            DnsTestServer(WORLD) as alive,
            DnsEngine([dead.address, alive.address], timeout=0.3, retries=1) as engine,
        ):
            first = await engine.query("a.test", "A")  # starts at the dead server
            second = await engine.query("a.test", "A")  # starts at the live one
        assert first.status is Status.NOERROR and first.attempts == 2
        assert first.server == "{}:{}".format(*alive.address)
        assert second.attempts == 1 and second.server == first.server

    asyncio.run(main())


def test_network_error_when_sending_fails() -> None:
    async def main() -> None:
        async with DnsEngine([("255.255.255.255", 53)], timeout=0.05, retries=1) as engine:
            result = await engine.query("a.test", "A")
        assert result.status is Status.NETWORK_ERROR
        assert result.attempts == 2 and engine.stats.send_errors == 2

    asyncio.run(main())


def test_many_queries_in_flight_are_matched() -> None:
    names = [f"n{i}.test" for i in range(600)]
    world = {name: [("A", f"198.51.{i // 256}.{i % 256}")] for i, name in enumerate(names)}

    async def main() -> None:
        async with DnsTestServer(world) as server:
            engine = DnsEngine([server.address], timeout=5, max_inflight=64, sockets=3)
            async with engine:
                results = await asyncio.gather(*(engine.query(n, "A") for n in names))
        for i, result in enumerate(results):
            assert result.status is Status.NOERROR
            assert result.records[0].value == f"198.51.{i // 256}.{i % 256}"
        assert engine.stats.mismatched == 0 and engine.stats.sent == 600

    asyncio.run(main())


def test_cancelled_query_frees_its_id() -> None:
    async def scenario(engine: DnsEngine, server: DnsTestServer) -> None:
        task = asyncio.ensure_future(engine.query("drop.test", "A"))
        while not engine._pending:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not engine._pending
        assert (await engine.query("a.test", "A")).status is Status.NOERROR

    run(scenario, timeout=5.0)


def test_close_ends_waiting_queries() -> None:
    async def scenario(engine: DnsEngine, server: DnsTestServer) -> None:
        task = asyncio.ensure_future(engine.query("drop.test", "A"))
        while not engine._pending:
            await asyncio.sleep(0)
        await engine.close()
        assert (await task).status is Status.NETWORK_ERROR
        with pytest.raises(RuntimeError):
            await engine.query("a.test", "A")

    run(scenario, timeout=5.0)


def test_invalid_names_raise() -> None:
    async def scenario(engine: DnsEngine, server: DnsTestServer) -> None:
        for bad in ["a..test", "x" * 64 + ".test", ("y" * 60 + ".") * 5]:
            with pytest.raises(InvalidName):
                await engine.query(bad, "A")
        with pytest.raises(ValueError):
            await engine.query("a.test", "NOPE")

    run(scenario)


def test_idna_name_reported_as_a_label() -> None:
    result, _ = ask("Bücher.test")
    assert result.qname == "xn--bcher-kva.test" and result.status is Status.NXDOMAIN
