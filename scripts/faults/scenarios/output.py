"""Output safety: markup, quotes and SQL from the network in every output format; output paths
that try to leave their folder.

Hostile text comes in by three real paths: mail hosts named ``mx.<script>alert(1)</script>.com``
by the DNS proxy (the email layer names such a provider by its registrable domain), AS names
(``--as-names``) and RDAP registrants (``--rdap-url``) full of ``<script>``, quotes, SQL and rich
markup. Two snapshots are crawled, then every read command writes every format. Expected:
HTML and Markdown never carry the markup raw (escaped, yet present), JSON and CSV carry the text
exactly (a CSV cell never starts a spreadsheet formula), the terminal table shows rich markup
as text, and the SQL stays data. Export folders whose manifest or files point outside are
refused, and output files in missing folders end in one clear line. (One snapshot: ``diff``
compares it with itself, which must count each site once.)
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import shutil
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from scripts.faults.dns_proxy import FaultKind, FaultPlan, running_proxy
from scripts.faults.harness import Cli, Context, Row, query, scenario
from scripts.faults.scenarios.input_lists import lab_domains
from scripts.faults.scenarios.rdap_faults import lab_networks
from scripts.lab.rdap_server import start_rdap_server
from scripts.lab.rdap_server import stop as stop_server

#: names the network may hand us; each must come out inert
HOSTILE = (
    '<script>alert("as")</script>',
    "x'); DROP TABLE snapshots; --",
    '"><img src=x onerror=alert(1)>',
    "[bold red]markup[/bold red] [link=file:///etc/passwd]click[/link]",
    "=HYPERLINK(\"http://evil.example\")",
    "| pipe | `tick` & amp",
)
#: what must never appear raw in HTML or Markdown
MARKUP = ("<script>alert", "<img src=x", "</script><", "onerror=alert(1)>")
#: hostile text as data (JSON, CSV): from the AS names, RDAP and the forged MX hosts (\\( escaped)
RAW = ("<script>", "<img", "DROP TABLE", "[bold red]")
#: what shows that the hostile text did reach the output (escaped)
ESCAPED = ("&lt;script&gt;", "\\u003cscript", "&lt;img", "\\u003cimg", "&#x27;", "&#39;")


def hostile_as_names(state: dict[str, object], path: Path) -> Path:
    """A bgp.tools-style ``asn,name,class,cc`` file naming every AS of the lab with hostile text."""
    asns = sorted({int(line.split()[1]) for line in Path(str(state["asn_db"])).read_text().splitlines()
                   if line.strip() and not line.startswith(";")})
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["asn", "name", "class", "cc"])
    for i, asn in enumerate(asns):
        w.writerow([f"AS{asn}", f"{HOSTILE[i % len(HOSTILE)]} AS{asn}", "Unknown", "ZZ"])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _raw_markup(text: str) -> list[str]:
    return [m for m in MARKUP if m in text]


def markup_check(text: str) -> tuple[bool, str]:
    raw = _raw_markup(text)
    escaped = sum(text.count(e) for e in ESCAPED)
    return not raw and escaped > 0, f"{escaped} escaped, raw: {', '.join(raw) or 'none'}"


def json_check(text: str, *, must_carry: bool = True) -> tuple[bool, str]:
    """JSON (one document, or one object a line) that parses and carries the hostile text as data."""
    try:
        docs = [json.loads(text)] if not text.lstrip().startswith('{"') or "\n{" not in text else [
            json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        return False, f"not JSON: {exc}"
    strings = list(_strings(docs))
    exact = sum(1 for h in HOSTILE if any(h in s for s in strings))
    carried = sum(1 for s in strings if any(m in s for m in RAW))
    ok = carried > 0 or not must_carry
    return ok, f"parses; {carried} values carry the hostile text as data ({exact}/{len(HOSTILE)} names exact)"


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def csv_check(text: str, guarded: bool) -> tuple[bool, str]:
    try:
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    except csv.Error as exc:
        return False, f"not CSV: {exc}"
    found = sum(1 for h in HOSTILE if any(h in c for c in cells))
    formulas = [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not _number(c))]
    ok = found > 0 and (not guarded or not formulas)
    return ok, f"parses; {found}/{len(HOSTILE)} hostile names in cells; formula cells: {len(formulas)}"


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table_check(text: str) -> tuple[bool, str]:
    literal = "[bold red]markup[/bold red]" in text
    return literal, f"rich markup shown as text: {'yes' if literal else 'no'}"


Check = Callable[[str], tuple[bool, str]]


def outputs(db: Path, provider: str, hosting: str) -> list[tuple[str, tuple[str | Path, ...], Check]]:
    """(what, CLI arguments, check of stdout) for every read command and format."""
    sql = "select provider, name from providers where name is not null order by provider"
    return [
        ("report table", ("report", "--db", db, "--top", "50"), table_check),
        ("report json", ("report", "--db", db, "--format", "json"), json_check),
        ("report md", ("report", "--db", db, "--format", "md", "--top", "50"), markup_check),
        ("report csv", ("report", "--db", db, "--format", "csv"), lambda t: csv_check(t, guarded=True)),
        ("report html", ("report", "--db", db, "--format", "html", "--top", "50"), markup_check),
        ("query table", ("query", sql, "--db", db), table_check),
        ("query json", ("query", sql, "--db", db, "--format", "json"), json_check),
        ("query csv", ("query", sql, "--db", db, "--format", "csv"), lambda t: csv_check(t, guarded=False)),
        ("trend md", ("trend", "--db", db, "--layer", "email", "--metric", "share", "--provider", provider,
                      "--format", "md"), markup_check),
        ("trend json", ("trend", "--db", db, "--layer", "email", "--metric", "share", "--top", "5",
                        "--format", "json"), json_check),
        ("trend table", ("trend", "--db", db, "--layer", "hosting", "--metric", "share", "--provider", hosting),
         lambda t: (True, "rendered")),
        ("diff md", ("diff", "1", "1", "--db", db, "--layer", "email", "--format", "md", "--top", "50"),
         markup_check),
        ("diff json", ("diff", "1", "1", "--db", db, "--layer", "email", "--format", "json"), json_check),
        # what-if output names providers by id (registry slugs, as<N>, org:<slug>): nothing to carry
        ("whatif json", ("whatif", "--db", db, "--provider", hosting, "--format", "json"),
         lambda t: json_check(t, must_carry=False)),
        ("whatif table", ("whatif", "--db", db, "--rank", "--top", "50"), lambda t: (True, "rendered")),
    ]


@scenario("hostile text in every output", family="output", needs=("lab",))
def hostile_outputs(ctx: Context, only: Collection[str] = ()) -> list[Row]:
    """Every output and path check (or only those named in ``only``)."""
    folder = ctx.path("output")
    state = ctx.lab()
    db = folder / "hostile.duckdb"
    names = hostile_as_names(state, folder / "as_names.csv")
    networks = [dataclasses.replace(n, org=HOSTILE[i % len(HOSTILE)], name=HOSTILE[(i + 1) % len(HOSTILE)])
                for i, n in enumerate(lab_networks(state))]
    sites = lab_domains(ctx, ctx.sites)
    plan = FaultPlan(names={(d, "MX"): FaultKind.HOSTILE for d in sites[: max(10, len(sites) * 2 // 5)]})
    server, url = start_rdap_server(networks)
    try:
        with running_proxy(ctx.resolver(), plan) as proxy:
            runs = [ctx.cli(*ctx.crawl_args(db, resolver=proxy.address, rdap=True,
                                            extra=("--as-names", str(names), "--rdap-url", url)))]
            injected = len(proxy.injected)
    finally:
        stop_server(server)
    if any(r.returncode for r in runs):
        return [Row("output: crawl with hostile names", injected, "; ".join(r.describe() for r in runs),
                    crashes=sum(r.crashed for r in runs), ok=False)]
    hostile_rows = query(db, "select count(*) from providers where name similar to '.*[<>''\"|\\[].*'"
                             " or provider similar to '.*[<>''\"|\\[].*'")[0][0]
    provider = query(db, "select provider from dependencies where layer = 'email' and provider like '%<%'"
                         " group by 1 order by count(*) desc limit 1")
    rows = [Row("output: hostile names stored", injected,
                f"{hostile_rows} provider rows with markup, quotes or SQL; {injected} MX answers forged",
                ok=hostile_rows > 0 and bool(provider))]
    hosting = query(db, "select provider from dependencies d join providers p using (snapshot_id, provider)"
                        " where layer = 'hosting' and p.name like '%<script>%' group by 1 order by count(*) desc"
                        " limit 1")
    target = str(provider[0][0]) if provider else "none"
    made = [o for o in outputs(db, target, str(hosting[0][0]) if hosting else "none") if not only or o[0] in only]
    if "diff json" not in [w for w, _, _ in made]:
        made += [o for o in outputs(db, target, target) if o[0] == "diff json"]
    out = folder / "report.html"
    extra: list[tuple[str | Path, ...]] = [
        ("report", "--db", db, "--format", "html", "--out", out),
        ("query", "select 1; drop table snapshots", "--db", db),
    ]
    paths = escaping_paths(ctx, db, folder, only)
    runs = ctx.cli_many([*(args for _, args, _ in made), *extra, *paths.commands], parallel=4)
    for (what, _args, check), run in zip(made, runs, strict=False):
        ok, note = check(run.stdout) if run.returncode == 0 else (False, run.describe())
        rows.append(Row(f"output: {what}", hostile_rows, note, crashes=int(run.crashed), ok=ok))
    html, refused = runs[len(made) : len(made) + 2]
    ok, note = markup_check(out.read_text(encoding="utf-8")) if out.is_file() else (False, html.describe())
    rows.append(Row("output: report html --out", hostile_rows, note, crashes=int(html.crashed), ok=ok))
    after = query(db, "select count(*) from snapshots")[0][0]
    rows.append(Row("output: SQL in the data and in query", hostile_rows,
                    f"snapshots 1 -> {after}; `drop table` in query: {refused.describe()}",
                    crashes=int(refused.crashed), ok=after == 1 and refused.one_line_error))
    diffed = json.loads(runs[[w for w, _, _ in made].index("diff json")].stdout or "{}")
    counted = diffed.get("layers", {}).get("email", {}).get("sites", {})
    sites = query(db, "select count(*) from site_outcomes")[0][0]
    rows.append(Row("output: diff of a snapshot with itself", 1,
                    f"email sites {counted.get('a')} -> {counted.get('b')} of {sites} measured",
                    ok=counted.get("a") == counted.get("b") == sites))
    rows += paths.rows(runs[len(made) + 2 :])
    return rows


@dataclasses.dataclass
class PathChecks:
    """Commands whose output path (or export folder) tries to leave its folder, and how to judge them."""

    commands: list[tuple[str | Path, ...]]
    tampered: list[str]
    plain: list[str]

    def rows(self, runs: list[Cli]) -> list[Row]:
        rows = []
        for i, what in enumerate(self.tampered):
            ingest, read = runs[2 * i], runs[2 * i + 1]
            rows.append(Row(f"paths: export {what}", 1, f"ingest {ingest.describe()}; report {read.describe()}",
                            crashes=int(ingest.crashed) + int(read.crashed),
                            ok=ingest.one_line_error and read.one_line_error and "escapes" in ingest.stderr))
        for what, run in zip(self.plain, runs[2 * len(self.tampered) :], strict=True):
            rows.append(Row(f"paths: {what}", 1, run.describe(), crashes=int(run.crashed), ok=run.one_line_error))
        return rows


def escaping_paths(ctx: Context, db: Path, folder: Path, only: Collection[str] = ()) -> PathChecks:
    """Export folders that point outside themselves, and outputs into places that do not exist
    (all of them, or those named in ``only``)."""
    export = folder / "export"
    made = ctx.cli("export", "--db", db, "--out", export, "--snapshot", "all")
    if made.returncode:
        raise RuntimeError(f"export failed: {made.describe()}")
    outside = folder / "outside.parquet"
    first = next(p for p in sorted(export.rglob("data.parquet")))
    shutil.copy(first, outside)
    cases: list[tuple[str, Callable[[Path], None]]] = [
        ("manifest path with ../", lambda d: _retarget(d, "../outside.parquet", outside)),
        ("manifest absolute path", lambda d: _retarget(d, str(outside), outside)),
        ("data file a symlink outside", lambda d: _symlink(d, outside)),
    ]
    cases = [c for c in cases if not only or c[0] in only]
    commands: list[tuple[str | Path, ...]] = []
    for i, (_what, tamper) in enumerate(cases):
        copy = folder / f"tampered-{i}"
        shutil.copytree(export, copy, symlinks=True)
        tamper(copy)
        commands += [("ingest", copy, "--db", folder / f"ingest-{i}.duckdb"), ("report", "--db", copy)]
    plain = [
        ("report --out in a missing folder", ("report", "--db", db, "--out", folder / "no" / "such" / "r.md")),
        ("trend --out in a missing folder", ("trend", "--db", db, "--layer", "dns", "--metric", "hhi",
                                             "--out", folder / "no" / "t.md")),
        ("report --out onto a folder", ("report", "--db", db, "--out", folder)),
        ("export --out onto a file", ("export", "--db", db, "--out", outside)),
    ]
    plain = [p for p in plain if not only or p[0] in only]
    return PathChecks([*commands, *(args for _, args in plain)], [w for w, _ in cases], [w for w, _ in plain])


def _retarget(folder: Path, rel: str, target: Path) -> None:
    """Point the manifest's first file at ``rel`` (with the right sha256, so only the path is wrong)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][0]["path"] = rel
    manifest["files"][0]["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _symlink(folder: Path, target: Path) -> None:
    """Replace the manifest's first file by a symlink to ``target`` (same bytes, so same sha256)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    path = folder / manifest["files"][0]["path"]
    path.unlink()
    path.symlink_to(target)
    manifest["files"][0]["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
