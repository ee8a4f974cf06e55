"""Hostile inputs: top-list files and run configs, each written with what a correct loader does.

Every generator is deterministic (a seeded ``random.Random``) and returns, beside the file, the
expectation: for a list, each line's kind and whether it must be kept (as which registrable
domain), rejected, or skipped; for a whole file or a config that cannot be used, that it must end
in one clear error line.
"""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SKIP = ""  # a line that is not data (blank, comment): neither kept nor rejected


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a hostile list: its kind, its bytes, and the domain it must give (``None``:
    rejected; :data:`SKIP`: not data)."""

    kind: str
    raw: bytes
    expect: str | None


@dataclass(frozen=True, slots=True)
class HostileList:
    """A list file and, per line (``line_no`` 1-based, the header is line 1), what must happen."""

    path: Path
    lines: tuple[tuple[int, Line], ...]
    extra_duplicates: int = 0  # duplicate lines not listed in ``lines`` (big files)

    def kinds(self) -> list[str]:
        return list(dict.fromkeys(line.kind for _, line in self.lines))

    def entries(self) -> dict[str, int]:
        """The distinct domains kept, each with the line (= rank) of its first occurrence."""
        out: dict[str, int] = {}
        for no, line in self.lines:
            if line.expect and line.expect not in out:
                out[line.expect] = no
        return out

    def rejected(self) -> list[int]:
        return [no for no, line in self.lines if line.expect is None]

    def duplicates(self) -> int:
        kept = sum(1 for _, line in self.lines if line.expect)
        return kept - len(self.entries()) + self.extra_duplicates

    def counts(self) -> Counter[str]:
        return Counter(line.kind for _, line in self.lines)


def _garbage(rng: random.Random, size: int) -> bytes:
    """Random bytes that hold no newline and do not start like a comment or blank."""
    data = bytes(rng.randrange(256) for _ in range(size)).replace(b"\n", b"\xfe")
    return b"\xff" + data


def hostile_lines(domains: list[str], rng: random.Random) -> list[Line]:
    """One of each hostile line (at most 20 rejected: the database keeps 20 rejects with reasons).

    :param domains: at least 11 real domains (the lab's, so that kept lines resolve).
    """
    d = domains
    long_name = ".".join(["b" * 63] * 4)
    return [
        *(Line("plain", name.encode(), name) for name in d[:5]),
        Line("plain", d[0].encode(), d[0]),  # a duplicate of a better rank
        Line("garbage", b"," + _garbage(rng, 24), None),
        Line("garbage", _garbage(rng, 40), None),
        Line("garbage", b",\x00\x00evil\x00.com", None),
        Line("wrong_columns", b"abc," + d[5].encode(), None),
        Line("wrong_columns", b"12", None),
        Line("wrong_columns", b";" + d[5].encode(), None),
        Line("wrong_columns", b"-3," + d[5].encode(), None),
        Line("wrong_columns", b"," + d[6].encode() + b",extra,columns", d[6]),
        Line("blank", b"", SKIP),
        Line("blank", b"   \t ", SKIP),
        Line("blank", b"# a comment", SKIP),
        Line("idn", "bücher.de".encode(), "xn--bcher-kva.de"),
        Line("idn", "例え.jp".encode(), "xn--r8jz45g.jp"),
        Line("idn", "ÉCOLE.fr".encode(), "xn--cole-9oa.fr"),
        Line("idn", "☃.com".encode(), None),
        Line("idn", b"xn--zz.com", None),
        Line("long_label", b"a" * 63 + b".com", "a" * 63 + ".com"),
        Line("long_label", b"a" * 64 + b".com", None),
        Line("long_label", long_name.encode(), None),
        Line("trailing_dot", d[7].encode() + b".", d[7]),
        Line("trailing_dot", d[8].encode() + b"..", d[8]),
        Line("ip_literal", b"192.0.2.1", None),
        Line("ip_literal", b"[2001:db8::1]", None),
        Line("ip_literal", b"2001:db8::1", None),
        Line("ip_literal", b"http://127.0.0.1:8080/", None),
        Line("wildcard", b"*." + d[9].encode(), d[9]),
        Line("wildcard", b"*", None),
        Line("wildcard", b"*.com", None),
        Line("url", b"https://www." + d[10].upper().encode() + b":443/path?q=1", d[10]),
        Line("markup_sql", b"<script>alert(1)</script>.com", None),
        Line("markup_sql", b"x'or'1'='1.com", None),
        Line("markup_sql", b"a.com;drop table snapshots", None),
    ]


def write_hostile_list(path: Path, domains: list[str], seed: int = 1) -> HostileList:
    """A ``rank,domain`` list of :func:`hostile_lines` (the rank is the line number, so that a
    kept entry names its line; kinds that carry their own first column keep it)."""
    lines = hostile_lines(domains, random.Random(seed))
    out = [b"rank,domain"]
    numbered: list[tuple[int, Line]] = []
    for line in lines:
        no = len(out) + 1
        if line.raw[:1] == b",":  # the rest of a rank,domain line
            text = str(no).encode() + line.raw
        elif line.kind in ("blank", "wrong_columns") or line.raw[:1] == b"\xff":  # written as is
            text = line.raw
        else:
            text = str(no).encode() + b"," + line.raw
        out.append(text)
        numbered.append((no, line))
    path.write_bytes(b"\n".join(out) + b"\n")
    return HostileList(path, tuple(numbered))


def duplicates_list(path: Path, domains: list[str], lines: int = 1_000_000) -> HostileList:
    """``lines`` lines cycling over ``domains``: ``len(domains)`` entries, the rest duplicates.

    The expectation lists only the first occurrence of each domain (the others are counted in
    ``extra_duplicates``), to keep it small.
    """
    with path.open("wb") as f:
        f.write(b"rank,domain\n")
        f.writelines(f"{i},{domains[(i - 1) % len(domains)]}\n".encode() for i in range(1, lines + 1))
    first = tuple((i + 1, Line("duplicate", name.encode(), name)) for i, name in enumerate(domains[:lines], start=1))
    return HostileList(path, first, extra_duplicates=lines - len(first))


def made_up_list(path: Path, sites: int) -> Path:
    """``sites`` made-up domains (``fault-site-N.com``; NXDOMAIN in the lab), for big crawls."""
    path.write_text("rank,domain\n" + "".join(f"{i},fault-site-{i}.com\n" for i in range(1, sites + 1)))
    return path


@dataclass(frozen=True, slots=True)
class BadFile:
    """A list or config that cannot be used: it must end in one clear error line."""

    kind: str
    path: Path


def bad_list_files(folder: Path, seed: int = 2) -> list[BadFile]:
    """Whole list files that hold nothing usable (or are not files at all)."""
    rng = random.Random(seed)
    made: list[BadFile] = []

    def put(kind: str, data: bytes, name: str = "") -> None:
        path = folder / (name or f"{kind}.csv")
        path.write_bytes(data)
        made.append(BadFile(kind, path))

    put("binary file", b"\x00" + bytes(rng.randrange(256) for _ in range(64 * 1024)))
    put("corrupt gzip", b"\x1f\x8b\x08\x00" + bytes(rng.randrange(256) for _ in range(4096)), "corrupt.csv.gz")
    listed = "".join(f"{i},site-{rng.randrange(10**9)}.com\n" for i in range(1, 5001)).encode()
    packed = gzip.compress(b"rank,domain\n" + listed)
    put("truncated gzip", packed[: len(packed) // 2], "truncated.csv.gz")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.csv", "1,example.com\n")
        z.writestr("b.csv", "1,example.org\n")
    put("zip of two lists", buf.getvalue(), "two.zip")
    put("empty file", b"")
    put("blank lines only", b"\n  \n\t\n\n" * 100)
    put("wrong columns everywhere", b"rank;domain;extra\n" + b"1;example.com;x\n" * 200)
    put("one 8 MB line", b"a" * (8 << 20))
    made.append(BadFile("missing file", folder / "no-such-list.csv"))
    (folder / "a-folder.csv").mkdir(exist_ok=True)
    made.append(BadFile("a folder", folder / "a-folder.csv"))
    return made


def bad_configs(folder: Path, resolver: str, list_path: Path, asn_db: Path, seed: int = 3) -> list[BadFile]:
    """``chokepoints run`` configs with one mistake each; ``resolver``, ``list_path`` and
    ``asn_db`` are valid, so that only the mistake can stop the run."""
    rng = random.Random(seed)
    db = folder / "config.duckdb"
    ok = (f'db = "{db}"\n[crawl]\nlist = "{list_path}"\nresolvers = ["{resolver}"]\nasn_db = "{asn_db}"\n'
          "rdap = false\n")
    cases: dict[str, bytes | str] = {
        "toml syntax error": ok + "[report\nformats = [",
        "unknown key": ok + "listt = 'x'\n",
        "wrong type": ok.replace("rdap = false", "rdap = false\ntop = 'ten'"),
        "unknown table": ok + "[crawling]\nx = 1\n",
        "unknown report format": ok + "[report]\nformats = ['pdf']\n",
        "binary garbage": bytes(rng.randrange(256) for _ in range(2048)),
        "db not a string": ok.replace(f'db = "{db}"', "db = 5"),
        "resolvers not strings": ok.replace(f'resolvers = ["{resolver}"]', "resolvers = [1, 2]"),
        "resolver not an address": ok.replace(resolver, "dns.example.com"),
        "resolver off loopback": ok.replace(resolver, "192.0.2.53"),
        "list missing": ok.replace(str(list_path), str(folder / "missing.csv")),
        "lab not running": ok + f'lab = true\nlab_dir = "{folder / "no-lab"}"\n',
        "negative timeout": ok.replace("rdap = false", "rdap = false\ntimeout = -1.0"),
        "negative retries": ok.replace("rdap = false", "rdap = false\nretries = -1"),
        "zero concurrency": ok.replace("rdap = false", "rdap = false\nconcurrency = 0"),
    }
    made = []
    for i, (kind, text) in enumerate(cases.items()):
        path = folder / f"config{i:02d}.toml"
        # a database of its own per config: the runs may go in parallel (one writer per file)
        mine = text.replace(str(db), str(folder / f"config{i:02d}.duckdb")) if isinstance(text, str) else text
        path.write_bytes(mine if isinstance(mine, bytes) else mine.encode())
        made.append(BadFile(kind, path))
    made.append(BadFile("config missing", folder / "no-such.toml"))
    (folder / "a-folder.toml").mkdir(exist_ok=True)
    made.append(BadFile("config is a folder", folder / "a-folder.toml"))
    return made
