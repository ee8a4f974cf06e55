"""Benchmark the HTTP layer on the lab: a whole crawl with home pages, and our download handler
against plain Scrapy's on the same pages, in the same run.

Builds a lab world, then

1. crawls it with the real command line (``crawl --lab``, each crawl in its own process), with
   home pages and with ``--no-http`` (the baseline): sites/s and home pages/s over the Scrapy
   step, wall time of the command, its CPU seconds (``wait4``) and peak RSS (``VmHWM``);
2. fetches ``https://<host>/`` once for each of the lab's hosts with a valid certificate (their
   addresses read from the DNS-only crawl's answers) with a minimal spider — robots.txt,
   AutoThrottle and redirects off, ``--concurrency`` requests in flight, at most 2 per host,
   ``CONCURRENT_ITEMS`` 1 as in a crawl — through plain Scrapy (its HTTP/1.1 handler, a Twisted
   resolver that answers 127.0.0.1 for every name, and URLs with the lab's https port, so that
   SNI and Host are the site's; plain Scrapy verifies no certificate by default, ours verifies
   every one) and through :class:`crawler.handlers.HttpDownloadHandler`, once with the addresses
   given (HTTP alone) and once looking each host up in the lab's DNS. Pages/s and CPU ms per
   page are measured from the first request to the last response.

Prints one table: figure, value, baseline measured in the same run, ratio, peak RSS. With
``--repeat N`` every figure is measured N times: the median, and the spread in brackets. On a
shared machine the CPU figures vary less than the rates; the load average is printed too.

    python3 -m scripts.bench_http --sites 1000      # CI-sized: about a minute
    python3 -m scripts.bench_http --sites 5000 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from scripts.bench_crawl import default_list

#: plain: Scrapy's own HTTP/1.1 handler; ours: crawler.handlers.HttpDownloadHandler with the
#: address in meta; ours_dns: the same, each host looked up in the lab's DNS by the handler
HANDLERS = ("plain", "ours", "ours_dns")


# -- the fetch spider (run in a process of its own: ``--fetch-worker SPEC``) -----------------------


class LoopbackResolver:
    """A Twisted resolver for plain Scrapy that answers 127.0.0.1 for every name: the lab's
    endpoint routes by SNI and Host, and no name ever reaches a real resolver."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> LoopbackResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        from twisted.internet.interfaces import IResolverSimple
        from zope.interface import directlyProvides

        directlyProvides(self, IResolverSimple)
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Iterable[int] = ()) -> Any:  # Twisted's IResolverSimple
        from twisted.internet import defer

        return defer.succeed("127.0.0.1")


def fetch_settings(spec: dict[str, Any]) -> dict[str, Any]:
    """Scrapy settings of a fetch run: the same for both handlers but the handler itself."""
    from crawler.settings import USER_AGENT

    settings: dict[str, Any] = {
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "REDIRECT_ENABLED": False,
        "RETRY_ENABLED": False,
        "COOKIES_ENABLED": False,
        "HTTPPROXY_ENABLED": False,  # never a proxy from the environment
        "HTTPERROR_ALLOW_ALL": True,
        # as in a crawl (crawler.settings): Scrapy's default of 100 starts 100 tasks per response
        "CONCURRENT_ITEMS": 1,
        "CONCURRENT_REQUESTS": spec["concurrency"],
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 0,
        "DOWNLOAD_TIMEOUT": 30,
        "USER_AGENT": USER_AGENT,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOGSTATS_INTERVAL": 0,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }
    if spec["handler"] == "plain":
        settings["TWISTED_DNS_RESOLVER"] = f"{__name__}.LoopbackResolver"
    else:
        host, port = spec["resolver"].rsplit(":", 1)
        settings.update({
            "DOWNLOAD_HANDLERS": {"http": "crawler.handlers.HttpDownloadHandler",
                                  "https": "crawler.handlers.HttpDownloadHandler"},
            "HTTP_CONNECT_TO": {"http": ["127.0.0.1", spec["http_port"]], "https": ["127.0.0.1", spec["https_port"]]},
            "HTTP_CAFILE": spec["ca_bundle"],
            "DNS_RESOLVERS": [(host, int(port))],
            "DNS_TIMEOUT": 2.0,
            "DNS_RETRIES": 2,
            "DNS_MAX_INFLIGHT": 2000,
        })
    return settings


def loopback_names_only() -> None:
    """Make this process's name lookups fail for anything but a loopback IP literal: a belt over
    :class:`LoopbackResolver`, so that no lab name can reach the system resolver."""
    import ipaddress
    import socket

    def check(host: Any) -> None:
        try:
            ok = ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host)).is_loopback
        except ValueError:
            ok = False
        if not ok:
            raise OSError(f"bench: name lookup of {host!r} refused (loopback only)")

    getaddrinfo, gethostbyname = socket.getaddrinfo, socket.gethostbyname

    def checked_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        check(host)
        return getaddrinfo(host, *args, **kwargs)

    def checked_gethostbyname(host: str) -> str:
        check(host)
        return gethostbyname(host)

    socket.getaddrinfo = checked_getaddrinfo
    socket.gethostbyname = checked_gethostbyname


def fetch_worker(spec_path: Path) -> int:
    """Fetch every target of the spec once; write counts, seconds and CPU seconds to its ``out``."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    loopback_names_only()
    spec = json.loads(spec_path.read_text())
    targets: list[list[str]] = spec["targets"]
    handler = spec["handler"]
    result: dict[str, Any] = {"statuses": Counter(), "errors": Counter()}
    marks: dict[str, float] = {}

    class FetchSpider(scrapy.Spider):
        name = "bench_fetch"

        async def start(self) -> Any:
            marks["t0"], marks["cpu0"] = time.perf_counter(), time.process_time()
            for host, address in targets:
                if handler == "plain":
                    url, meta = f"https://{host}:{spec['https_port']}/", {}
                else:
                    url, meta = f"https://{host}/", ({"addresses": {host: address}} if handler == "ours" else {})
                yield scrapy.Request(url, callback=self.done, errback=self.failed, dont_filter=True, meta=meta)

        def done(self, response: Any) -> None:
            result["statuses"][str(response.status)] += 1
            marks["t1"], marks["cpu1"] = time.perf_counter(), time.process_time()

        def failed(self, failure: Any) -> None:
            result["errors"][type(failure.value).__name__] += 1
            marks["t1"], marks["cpu1"] = time.perf_counter(), time.process_time()

    process = CrawlerProcess(fetch_settings(spec), install_root_handler=False)
    process.crawl(FetchSpider)
    process.start()
    seconds = marks.get("t1", 0.0) - marks.get("t0", 0.0)
    out = {"handler": handler, "targets": len(targets), "responses": sum(result["statuses"].values()),
           "statuses": dict(result["statuses"]), "errors": dict(result["errors"]), "seconds": seconds,
           "cpu": marks.get("cpu1", 0.0) - marks.get("cpu0", 0.0)}
    Path(spec["out"]).write_text(json.dumps(out))
    return 0


# -- the driver -----------------------------------------------------------------------------------


def run_measured(command: list[str], every: float = 0.1) -> tuple[float, int, float]:
    """Run ``command``; its wall time, peak RSS (KiB, its own ``VmHWM``: see
    :func:`scripts.bench_dns.wait_peak`) and CPU seconds."""
    import subprocess

    from scripts.bench_dns import wait_peak

    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    code, peak, cpu = wait_peak(proc, every)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if code:
        raise SystemExit(f"{' '.join(command[2:5])} failed: {err.strip()[-2000:]}")
    return time.perf_counter() - t0, peak, cpu


def fetch_targets(state: dict[str, Any], dns_db: Path, sites: set[str] | None = None) -> list[tuple[str, str]]:
    """``(host, address)`` of the lab's hosts with a valid certificate, in ``web.tsv`` order, the
    address as the DNS-only crawl stored it; with ``sites``, only the hosts of those domains
    (the domain itself and the names below it). Each host once: a second visit would let our
    handler resume its TLS session, which Scrapy's does not do."""
    from chokepoints import db as dbm
    from scripts.lab.web import HostRule

    con = dbm.connect(dns_db, read_only=True)
    try:
        rows = con.execute("select qname, min(value) from dns_answers where rtype = 'A' group by qname").fetchall()
    finally:
        con.close()
    address = {str(q).rstrip(".").lower(): str(v) for q, v in rows}
    hosts = []
    with open(state["web"], encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            rule = HostRule.parse(line)
            if rule.tls == "valid" and rule.page != "asset" and rule.host in address and (
                    sites is None or any(rule.host.split(".", i)[-1] in sites for i in range(rule.host.count(".")))):
                hosts.append((rule.host, address[rule.host]))
    if not hosts:
        raise SystemExit("no lab host has both a valid certificate and an address")
    return hosts


def crawl(lab_dir: Path, db: Path, extra: list[str]) -> dict[str, Any]:
    """One ``crawl --lab`` in its own process: its figures from the process and the snapshot."""
    for stale in db.parent.glob(db.name + "*"):  # the database, its WAL and Scrapy's job folder
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    wall, rss_kb, cpu = run_measured([
        sys.executable, "-m", "chokepoints", "crawl", "--lab", "--lab-dir", str(lab_dir), "--db", str(db),
        "--no-progress", "--no-summary", *extra])
    from chokepoints import db as dbm

    con = dbm.connect(db, read_only=True)
    try:
        sid, sites, stats = con.execute(
            "select snapshot_id, sites, stats from snapshots order by snapshot_id desc limit 1").fetchall()[0]
        ok_pages = con.execute("select count(*) from http_outcomes where snapshot_id = ? and status = 'OK'",
                               [sid]).fetchall()[0][0]
        hops = con.execute("select count(*) from http_hops where snapshot_id = ?", [sid]).fetchall()[0][0]
    finally:
        con.close()
    st = json.loads(stats)
    seconds = float(st["dns_seconds"])  # the Scrapy step: DNS and home pages
    # every HTTP request: the sites' hops (redirects and http fallbacks included) and robots.txt
    requests = hops + int(st.get("robotstxt/request_count", 0))
    return {"wall": wall, "rss_kb": rss_kb, "cpu": cpu, "sites": sites, "seconds": seconds, "ok_pages": ok_pages,
            "requests": requests, "sites_s": sites / seconds, "pages_s": ok_pages / seconds,
            "requests_s": requests / seconds}


def fetch(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """One fetch run in its own process; its figures and peak RSS."""
    spec_path = workdir / f"fetch-{spec['handler']}.json"
    spec["out"] = str(workdir / f"fetch-{spec['handler']}.out.json")
    spec_path.write_text(json.dumps(spec))
    _, rss_kb, _ = run_measured([sys.executable, "-m", "scripts.bench_http", "--fetch-worker", str(spec_path)])
    out: dict[str, Any] = json.loads(Path(spec["out"]).read_text())
    if out["responses"] < 0.99 * out["targets"]:
        raise SystemExit(f"fetch through {spec['handler']}: only {out['responses']} of {out['targets']} "
                         f"answered ({out['errors']})")
    return {**out, "rss_kb": rss_kb, "pages_s": out["responses"] / out["seconds"],
            "cpu_ms": 1000 * out["cpu"] / out["responses"]}


def compare_handlers(state: dict[str, Any], targets: list[tuple[str, str]], workdir: Path, concurrency: int,
                     repeat: int = 1) -> dict[str, list[dict[str, Any]]]:
    """Fetch ``targets`` through each of :data:`HANDLERS`, ``repeat`` times (each run in its own
    process): the runs of each handler."""
    base = {"concurrency": concurrency, "targets": targets, "https_port": state["https_port"],
            "http_port": state["http_port"], "ca_bundle": state["ca_bundle"], "resolver": state["resolver"]}
    runs: dict[str, list[dict[str, Any]]] = {h: [] for h in HANDLERS}
    for i in range(repeat):
        for handler in HANDLERS:
            runs[handler].append(fetch({**base, "handler": handler}, workdir))
        print(f"fetch {i + 1}: " + ", ".join(f"{h} {runs[h][-1]['pages_s']:.0f} pages/s" for h in HANDLERS),
              flush=True)
    return runs


def summary(values: list[float], fmt: Callable[[float], str]) -> str:
    """The median, and with more than one value the range in brackets."""
    text = fmt(statistics.median(values))
    return text if len(values) < 2 else f"{text} ({fmt(min(values))}–{fmt(max(values))})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sites", type=int, default=5_000)
    ap.add_argument("--list", type=Path, help="real top list to draw the world from (default: Radar top 10k)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=64, help="HTTP requests in flight (crawl and fetch)")
    ap.add_argument("--repeat", type=int, default=1, help="measure every figure this many times")
    ap.add_argument("--fetch-worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.fetch_worker is not None:
        return fetch_worker(args.fetch_worker)
    os.environ["CHOKEPOINTS_LOOPBACK_ONLY"] = "1"  # the crawls' hermetic mode, inherited

    from scripts.lab import api

    tmp = Path(tempfile.mkdtemp(prefix="bench_http."))
    lab_dir = tmp / "lab"
    try:
        t0 = time.perf_counter()
        state = api.up(lab_dir, sites=args.sites, seed=args.seed,
                       list_path=args.list or default_list(max(args.sites, 10_000)))
        load0 = os.getloadavg()[0]
        print(f"lab: {state['sites']} sites, https on 127.0.0.1:{state['https_port']} "
              f"(built and started in {time.perf_counter() - t0:.1f} s); load average {load0:.2f}", flush=True)
        full: list[dict[str, Any]] = []
        dns: list[dict[str, Any]] = []
        for i in range(args.repeat):
            full.append(crawl(lab_dir, tmp / "http.duckdb", ["--http-concurrency", str(args.concurrency)]))
            dns.append(crawl(lab_dir, tmp / "dns.duckdb", ["--no-http"]))
            print(f"crawl {i + 1}: {full[-1]['sites_s']:.0f} sites/s with home pages, "
                  f"{dns[-1]['sites_s']:.0f} DNS only", flush=True)
        targets = fetch_targets(state, tmp / "dns.duckdb")
        runs = compare_handlers(state, targets, tmp, args.concurrency, args.repeat)
        print(table(full, dns, runs, len(targets)))
        print(f"{os.cpu_count()} CPUs; load average (1 min) {load0:.2f} at the start, "
              f"{os.getloadavg()[0]:.2f} at the end")
        return 0
    finally:
        api.down(lab_dir)
        shutil.rmtree(tmp, ignore_errors=True)


def table(full: list[dict[str, Any]], dns: list[dict[str, Any]], runs: dict[str, list[dict[str, Any]]],
          hosts: int) -> str:
    """The table: figure, value, baseline (same run), ratio, peak RSS."""
    lines: list[tuple[str, str, str, str, str]] = [
        ("crawl sites/s (DNS + home pages)", summary(col(full, "sites_s"), num),
         summary(col(dns, "sites_s"), num) + " DNS only", ratio(col(full, "sites_s"), col(dns, "sites_s")), rss(full)),
        ("crawl home pages OK/s", summary(col(full, "pages_s"), num), "", "", ""),
        ("crawl HTTP requests/s (robots.txt + every hop)", summary(col(full, "requests_s"), num), "", "", ""),
        ("crawl HTTP requests per site", summary([r["requests"] / r["sites"] for r in full], lambda x: f"{x:.2f}"),
         "", "", ""),
        ("crawl step, s (Scrapy: DNS + HTTP)", summary(col(full, "seconds"), lambda s: f"{s:.1f}"),
         summary(col(dns, "seconds"), lambda s: f"{s:.1f}") + " DNS only", "", ""),
        ("crawl wall time, s (start, crawl, ASN, RDAP, attribution)", summary(col(full, "wall"), lambda s: f"{s:.1f}"),
         summary(col(dns, "wall"), lambda s: f"{s:.1f}") + " DNS only", "", rss(dns) + " DNS only"),
        ("crawl CPU s (the crawl process)", summary(col(full, "cpu"), lambda s: f"{s:.1f}"),
         summary(col(dns, "cpu"), lambda s: f"{s:.1f}") + " DNS only", "", ""),
    ]
    lines += fetch_rows(runs)
    return f"\nfetch runs: https://<host>/ once for each of {hosts:,} hosts with a valid certificate\n" + \
        format_table(lines)


def fetch_rows(runs: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str, str, str]]:
    """The fetch comparison's rows of the table: our handler against plain Scrapy."""
    plain = runs["plain"]
    lines = []
    for handler, label in (("ours", "addresses given"), ("ours_dns", "hosts looked up in lab DNS")):
        ours = runs[handler]
        lines.append((f"fetch pages/s, our handler ({label})", summary(col(ours, "pages_s"), num),
                      summary(col(plain, "pages_s"), num) + " plain Scrapy",
                      ratio(col(ours, "pages_s"), col(plain, "pages_s")), rss(ours)))
        lines.append((f"fetch CPU ms/page, our handler ({label})", summary(col(ours, "cpu_ms"), lambda m: f"{m:.2f}"),
                      summary(col(plain, "cpu_ms"), lambda m: f"{m:.2f}") + " plain Scrapy",
                      ratio(col(ours, "cpu_ms"), col(plain, "cpu_ms")), ""))
    lines.append(("fetch peak RSS, plain Scrapy", "", "", "", rss(plain)))
    return lines


def col(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in rows]


def num(x: float) -> str:
    return f"{x:,.0f}"


def ratio(a: list[float], b: list[float]) -> str:
    return summary([x / y for x, y in zip(a, b, strict=True)], lambda r: f"{r:.2f}")


def rss(rows: list[dict[str, Any]]) -> str:
    """The median peak RSS of runs (the range in brackets with more than one)."""
    return summary([r["rss_kb"] / 1024 for r in rows], lambda m: f"{m:.0f} MB")


def format_table(lines: list[tuple[str, str, str, str, str]]) -> str:
    """Rows of figure, value, baseline (same run), ratio, peak RSS, under their heading, aligned."""
    head = ("figure", "value", "baseline (same run)", "ratio", "peak RSS")
    widths = [max(len(str(row[i])) for row in [head, *lines]) for i in range(5)]
    return "\n".join("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in
                               enumerate(zip(row, widths, strict=True))) for row in [head, *lines])


if __name__ == "__main__":
    sys.exit(main())
