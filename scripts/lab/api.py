"""Start and stop the lab: ``up`` builds a world and serves it, ``down`` stops it.

The state directory holds the world's files, the servers' configs and logs, and
``state.json`` (what :func:`up` returns: the resolver's address, the paths of the list, pyasn
database and truth, the pids; the web endpoint's ``http_port`` and ``https_port``, the lab CA
bundle ``ca_bundle``, ``truth_http``, ``resources`` and the request log ``http_log``).
``chokepoints lab up|down|status`` call these functions.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from chokepoints.errors import LabError
from scripts.lab import servers
from scripts.lab.certs import BUNDLE, CA_DIR, write_authorities
from scripts.lab.http_main import PORTS_FILE, REQUEST_LOG
from scripts.lab.world import FILES, generate

logger = logging.getLogger(__name__)

STATE = "state.json"
_GENERATED = (*FILES, STATE, "knot.conf", "unbound.conf", "knot.log", "unbound.log", "unbound.pid",
              "rdap.port", "rdap.log", BUNDLE, PORTS_FILE, REQUEST_LOG, "http.log")
_RETRIES = 3  # a port taken between picking it and binding it: pick again


def _read_state(state_dir: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((state_dir / STATE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabError(f"cannot read {state_dir / STATE}: {exc}") from None
    return state


def _write_state(state_dir: Path, state: dict[str, Any]) -> None:
    tmp = state_dir / (STATE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(state_dir / STATE)


def _clean(state_dir: Path) -> None:
    for name in _GENERATED:
        (state_dir / name).unlink(missing_ok=True)
    shutil.rmtree(state_dir / "knot", ignore_errors=True)
    shutil.rmtree(state_dir / CA_DIR, ignore_errors=True)


def _start_servers(state_dir: Path, sites: int, probe: dict[str, str]) -> dict[str, Any]:
    """Start Knot and Unbound on free ports and wait until both answer the probe name."""
    knotd, unbound = servers.find_binary("knotd"), servers.find_binary("unbound")
    knot_conf, unbound_conf = state_dir / "knot.conf", state_dir / "unbound.conf"
    knot_log, unbound_log = state_dir / "knot.log", state_dir / "unbound.log"
    timeout = 30.0 + sites / 4000
    for attempt in range(1, _RETRIES + 1):
        knot_port = servers.free_port()
        port = servers.free_port()
        while port == knot_port:
            port = servers.free_port()
        (state_dir / "knot").mkdir(exist_ok=True)
        knot_conf.write_text(servers.knot_conf(state_dir, knot_port, state_dir / "root.zone"))
        unbound_conf.write_text(
            servers.unbound_conf(
                state_dir, port, knot_port, state_dir / "unbound-local.conf", sites
            )
        )
        pids = {
            "knotd": servers.start([knotd, "-c", str(knot_conf)], knot_log, state_dir),
            "unbound": servers.start(
                [unbound, "-d", "-c", str(unbound_conf)], unbound_log, state_dir
            ),
        }
        markers = {"knotd": str(knot_conf), "unbound": str(unbound_conf)}
        try:
            knot_s = servers.wait_until_answers(
                knot_port,
                probe["name"],
                probe["address"],
                pid=pids["knotd"],
                marker=markers["knotd"],
                log=knot_log,
                timeout=timeout,
            )
            unbound_s = servers.wait_until_answers(
                port,
                probe["name"],
                probe["address"],
                pid=pids["unbound"],
                marker=markers["unbound"],
                log=unbound_log,
                timeout=timeout,
            )
        except LabError as exc:
            for name, pid in pids.items():
                servers.stop(pid, markers[name])
            logs = " ".join(
                p.read_text(errors="replace") for p in (knot_log, unbound_log) if p.exists()
            )
            if attempt < _RETRIES and ("in use" in logs or "bind" in logs.lower()):
                logger.warning("lab: port collision, retrying (%s)", exc)
                continue
            raise
        return {
            "resolver": f"{servers.LOOPBACK}:{port}",
            "knot": f"{servers.LOOPBACK}:{knot_port}",
            "pids": pids,
            "configs": markers,
            "logs": {"knotd": str(knot_log), "unbound": str(unbound_log)},
            "ready_s": {"knotd": round(knot_s, 2), "unbound": round(unbound_s, 2)},
        }
    raise LabError("could not start the lab's servers")  # pragma: no cover


def _start_rdap(state_dir: Path, timeout: float = 30.0) -> tuple[int, str]:
    """Start the lab's RDAP server (``scripts.lab.rdap_main``) detached; return pid and base URL."""
    import sys
    import urllib.error
    import urllib.request

    port_file = state_dir / "rdap.port"
    port_file.unlink(missing_ok=True)
    pid = servers.start([sys.executable, "-m", "scripts.lab.rdap_main", str(state_dir)],
                        state_dir / "rdap.log", state_dir)
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if port_file.exists():
            base = f"http://{servers.LOOPBACK}:{port_file.read_text().strip()}/"
            try:
                opener.open(base + "ip/0.0.0.1", timeout=2).close()
            except urllib.error.HTTPError:
                return pid, base  # it answers (404 for an address it does not hold)
            except OSError:
                pass
            else:
                return pid, base
        if servers.exited(pid):  # (is_running would also fail on a child not yet exec'd)
            break
        time.sleep(0.05)
    servers.stop(pid, str(state_dir))
    log = (state_dir / "rdap.log").read_text(errors="replace")[-500:] if (state_dir / "rdap.log").exists() else ""
    raise LabError(f"the lab's RDAP server did not start: {log.strip().splitlines()[-1] if log.strip() else '?'}")


def _start_http(state_dir: Path, timeout: float = 60.0) -> tuple[int, int, int]:
    """Start the lab's web endpoint (``scripts.lab.http_main``) detached; return its pid and
    its http and https ports, once both accept connections."""
    import socket
    import sys

    port_file = state_dir / PORTS_FILE
    port_file.unlink(missing_ok=True)
    log = state_dir / "http.log"
    pid = servers.start([sys.executable, "-m", "scripts.lab.http_main", str(state_dir)], log, state_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_file.exists():
            http_port, https_port = (int(p) for p in port_file.read_text().split())
            try:  # a connection, no request: the request log stays the crawl's own
                for port in (http_port, https_port):
                    socket.create_connection((servers.LOOPBACK, port), timeout=2).close()
            except OSError:
                pass
            else:
                return pid, http_port, https_port
        if servers.exited(pid):
            break
        time.sleep(0.05)
    servers.stop(pid, str(state_dir))
    tail = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    raise LabError(f"the lab's web endpoint did not start: {tail[-1] if tail else '?'}")


def up(
    state_dir: Path,
    *,
    sites: int = 1000,
    seed: int = 1,
    list_path: Path | None = None,
    data_dir: Path | None = None,
    world_date: date | None = None,
) -> dict[str, Any]:
    """Generate a world into *state_dir* and serve it; return (and write) ``state.json``.

    A lab already running in *state_dir* is stopped first and its world replaced.

    :param state_dir: where the world, configs, logs and ``state.json`` go.
    :param sites: sites in the world's list.
    :param seed: the world's random seed.
    :param list_path: a real top list to take the domains from.
    :param data_dir: the shared reference data (default ``<repo>/../shared/data``).
    :param world_date: the world's date (default: the list's, else a fixed date).
    :raises LabError: when a server is missing, fails to start, or the data is unusable.
    """
    state_dir = state_dir.expanduser().resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    down(state_dir)
    servers.find_binary("knotd")
    servers.find_binary("unbound")
    _clean(state_dir)
    t0 = time.monotonic()
    world = generate(
        state_dir,
        sites=sites,
        seed=seed,
        list_path=list_path,
        data_dir=data_dir,
        world_date=world_date,
    )
    bundle = write_authorities(state_dir)
    t1 = time.monotonic()
    running = _start_servers(state_dir, world["sites"], world["probe"])
    try:
        rdap_pid, rdap_url = _start_rdap(state_dir)
        running["pids"]["rdap"] = rdap_pid
        running["configs"]["rdap"] = str(state_dir)
        http_pid, http_port, https_port = _start_http(state_dir)
    except LabError:
        for name, pid in running["pids"].items():
            servers.stop(pid, running["configs"][name])
        raise
    running["pids"]["http"] = http_pid
    running["configs"]["http"] = str(state_dir)
    running["logs"]["rdap"] = str(state_dir / "rdap.log")
    running["logs"]["http"] = str(state_dir / "http.log")
    t2 = time.monotonic()
    state: dict[str, Any] = {
        "state_dir": str(state_dir),
        **{k: running[k] for k in ("resolver", "knot")},
        "rdap": rdap_url,
        "http_port": http_port,
        "https_port": https_port,
        "list": str(state_dir / "list.csv"),
        "asn_db": str(state_dir / "ipasn.dat"),
        "truth": str(state_dir / "truth.csv"),
        "truth_http": str(state_dir / "truth_http.csv"),
        "resources": str(state_dir / "resources.csv"),
        "ca_bundle": str(bundle),
        "http_log": str(state_dir / REQUEST_LOG),
        "web": str(state_dir / "web.tsv"),
        "world": str(state_dir / "world.json"),
        "zone": str(state_dir / "root.zone"),
        "sites": world["sites"],
        "present": world["present"],
        "seed": seed,
        "date": world["date"],
        "probe": world["probe"],
        **{k: running[k] for k in ("pids", "configs", "logs")},
        "timings": {
            "generate_s": round(t1 - t0, 2),
            "start_s": round(t2 - t1, 2),
            **{f"{k}_ready_s": v for k, v in running["ready_s"].items()},
        },
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_state(state_dir, state)
    logger.info("lab up: %d sites, resolver %s", state["sites"], state["resolver"])
    return state


def down(state_dir: Path) -> bool:
    """Stop the servers :func:`up` started in *state_dir*; True if something was running.

    Each pid is checked to still be our server (its command line names our config) before it
    is signalled, and checked gone afterwards; the pids are then removed from ``state.json``.
    """
    state_dir = state_dir.expanduser().resolve()
    state = _read_state(state_dir)
    if state is None:
        return False
    pids: dict[str, int] = state.get("pids") or {}
    configs: dict[str, str] = state.get("configs") or {}
    stopped = False
    for name, pid in sorted(pids.items()):
        marker = configs.get(name) or str(state_dir)
        stopped |= servers.stop(int(pid), marker)
    if pids:
        state["pids"] = {}
        state["stopped_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        _write_state(state_dir, state)
    return stopped


def status(state_dir: Path) -> dict[str, Any] | None:
    """The lab's state with ``running`` per server, or ``None`` when none of them runs."""
    state_dir = state_dir.expanduser().resolve()
    state = _read_state(state_dir)
    if state is None or not state.get("pids"):
        return None
    configs: dict[str, str] = state.get("configs") or {}
    running = {
        name: servers.is_running(int(pid), configs.get(name) or str(state_dir))
        for name, pid in state["pids"].items()
    }
    if not any(running.values()):
        return None
    return {**state, "running": running, "healthy": all(running.values())}
