"""Defaults shared by the command line and the library.

* ``CHOKEPOINTS_CACHE`` — where downloads (lists, RIBs) are cached; default
  ``~/.cache/chokepoints``.

Also the run config files of ``chokepoints run`` (:func:`load_run_config`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CACHE_DIR = Path(os.environ.get("CHOKEPOINTS_CACHE", Path.home() / ".cache" / "chokepoints"))


def loopback_only() -> bool:
    """True when ``CHOKEPOINTS_LOOPBACK_ONLY`` is set (to anything but ``0``/empty).

    A hermetic mode for tests and the lab: no downloads, and every DNS server must be on
    loopback, so that a forgotten ``--resolver`` can never send a query to the machine's
    own resolver.
    """
    return os.environ.get("CHOKEPOINTS_LOOPBACK_ONLY", "") not in ("", "0")


# --- config files for ``chokepoints run`` ------------------------------------------------------

#: The keys a run config may hold, per table, with their types (``Path`` keys are resolved
#: against the config file's folder). Defaults live in the dataclasses below and CrawlOptions.
_PATH = "path"
RUN_KEYS: dict[str, dict[str, Any]] = {
    "": {"db": _PATH},
    "crawl": {
        "list": str, "top": int, "list_date": str, "list_id": str, "list_format": str, "resolvers": list,
        "asn_db": _PATH, "as_names": _PATH, "rdap": bool, "rdap_url": str, "rdap_limit": int,
        "registry": _PATH, "concurrency": int, "timeout": float, "retries": int, "offline": bool,
        "cache_dir": _PATH, "lab": bool, "lab_dir": _PATH, "log_interval": float,
        "http": bool, "www": str, "http_concurrency": int, "http_timeout": float, "max_body": int,
        "contact": str,
    },
    "ranges": {"refresh": bool, "folders": list},
    "report": {"formats": list, "out_dir": _PATH, "level": str, "weight": str, "top": int},
}
REPORT_FORMATS = ("json", "md", "html", "csv")


@dataclass(frozen=True, slots=True)
class RunConfig:
    """A parsed ``crawl.toml``: where to write, what to crawl, which reports to write."""

    source: Path
    db: Path
    crawl: dict[str, Any]
    refresh_ranges: bool = False
    range_folders: tuple[Path, ...] = ()
    report_formats: tuple[str, ...] = ()
    report_dir: Path = Path("reports")
    report_options: dict[str, Any] = field(default_factory=dict)


def load_run_config(path: Path) -> RunConfig:
    """Read and check a run config; every mistake is one :class:`UserError` line naming the key.

    :raises UserError: missing file, TOML syntax error, unknown table or key, wrong type.
    """
    import tomllib

    from chokepoints.errors import UserError

    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    base = path.resolve().parent
    tables: dict[str, dict[str, Any]] = {"": {}}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in RUN_KEYS or key == "":
                raise UserError(f"{path}: unknown table [{key}] (known: crawl, ranges, report)")
            tables[key] = value
        else:
            tables[""][key] = value
    checked: dict[str, dict[str, Any]] = {}
    for name, values in tables.items():
        checked[name] = {k: _check(path, name, k, v, base) for k, v in values.items()}
    report = checked.get("report", {})
    formats = tuple(report.pop("formats", ["json", "md", "html"]))
    for fmt in formats:
        if fmt not in REPORT_FORMATS:
            raise UserError(f"{path}: [report] formats: unknown format {fmt!r} (known: {', '.join(REPORT_FORMATS)})")
    ranges = checked.get("ranges", {})
    return RunConfig(
        source=path, db=checked[""].get("db", base / "chokepoints.duckdb"), crawl=checked.get("crawl", {}),
        refresh_ranges=ranges.get("refresh", False),
        range_folders=tuple(base / str(f) for f in ranges.get("folders", [])),
        report_formats=formats, report_dir=report.pop("out_dir", base / "reports"), report_options=report,
    )


def _check(path: Path, table: str, key: str, value: Any, base: Path) -> Any:
    from chokepoints.errors import UserError

    where = f"[{table}] {key}" if table else key
    kind = RUN_KEYS[table].get(key)
    if kind is None:
        known = ", ".join(sorted(RUN_KEYS[table]))
        raise UserError(f"{path}: unknown key {where} (known: {known})")
    if kind == _PATH:
        if not isinstance(value, str):
            raise UserError(f"{path}: {where} must be a string (a path), not {type(value).__name__}")
        return base / Path(value).expanduser()
    ok = isinstance(value, int | float) and not isinstance(value, bool) if kind is float else (
        isinstance(value, kind) and not (kind is int and isinstance(value, bool)))
    if not ok:
        raise UserError(f"{path}: {where} must be {kind.__name__}, not {type(value).__name__}")
    if kind is list and not all(isinstance(v, str) for v in value):
        raise UserError(f"{path}: {where} must be a list of strings")
    return float(value) if kind is float else value


def check_download(url: str) -> None:
    """Refuse a download off loopback in loopback-only mode (one clear line, no traffic).

    :raises OfflineError: when ``CHOKEPOINTS_LOOPBACK_ONLY`` is set and ``url``'s host is not
        127.0.0.0/8, ::1 or localhost.
    """
    import ipaddress
    from urllib.parse import urlsplit

    from chokepoints.errors import OfflineError

    if not loopback_only():
        return
    host = urlsplit(url).hostname or ""
    if not host:
        return  # not a network URL: the caller's own validation says what is wrong with it
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise OfflineError(f"CHOKEPOINTS_LOOPBACK_ONLY is set: not downloading {url}")
