"""The lab's DNS servers: Knot serving the world's flat ``.`` zone, Unbound in front of it.

Layout that answers every query type correctly (measured with 200k domains): Knot is
authoritative for one zone ``.`` holding every name; Unbound is the resolver clients talk to,
with a stub zone ``.`` pointing at Knot, and each site's apex NS and SOA as ``local-data`` in a
``typetransparent`` local zone (an NS record inside Knot's ``.`` zone would be a delegation,
and an authoritative server does not follow CNAMEs into other zones; Unbound does).

Both servers listen on 127.0.0.1 only, on free ports picked at start. Unbound can query
nothing but Knot: no forwarder, no root hints (the stub zone replaces them), no validator,
and every address outside 127/8 (and all of IPv6) in ``do-not-query-address``. Knot has no
remotes, ACLs or transfers. Both run detached (their own session) so they outlive the
process that started them; their pid, config and logs live in the state directory.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from chokepoints.errors import LabError

logger = logging.getLogger(__name__)

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
PACKAGES = {"knotd": "knot", "unbound": "unbound"}
#: everything outside 127/8 (IPv4) and all of IPv6: Unbound never sends a query there
DO_NOT_QUERY = (
    "0.0.0.0/2",
    "64.0.0.0/3",
    "96.0.0.0/4",
    "112.0.0.0/5",
    "120.0.0.0/6",
    "124.0.0.0/7",
    "126.0.0.0/8",
    "128.0.0.0/1",
    "::/0",
)
LOOPBACK = "127.0.0.1"
# Popen objects of servers this process started: kept so they are reaped, never garbage
# collected while running (which would warn)
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def find_binary(name: str) -> str:
    """Path of a server binary (``PATH``, then the sbin folders), or :class:`LabError`."""
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in SBIN_DIRS if os.access(Path(d) / name, os.X_OK)), None
    )
    if found is None:
        raise LabError(f"{name} not found: apt-get install {PACKAGES.get(name, name)}")
    return found


def free_port() -> int:
    """A loopback port free for both UDP and TCP right now (bound to port 0, read back)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((LOOPBACK, port))
                except OSError:
                    continue
        return port
    raise LabError("no free loopback port found")


def _user() -> str | None:
    """``user:group`` of this process, for Knot's ``server.user`` (no privilege change)."""
    try:
        return f"{pwd.getpwuid(os.getuid()).pw_name}:{grp.getgrgid(os.getgid()).gr_name}"
    except KeyError:
        return None


def knot_conf(state_dir: Path, port: int, zone_file: Path) -> str:
    """Knot's configuration: one zone ``.`` from *zone_file*, loopback only, no journal."""
    run = state_dir / "knot"
    user = _user()
    return "\n".join(
        [
            "# chokepoints lab: authoritative server for the world's flat '.' zone (generated)",
            "server:",
            f'    rundir: "{run}"',
            f'    pidfile: "{run}/knot.pid"',
            *([f"    user: {user}"] if user else []),
            f"    listen: {LOOPBACK}@{port}",
            "database:",
            f'    storage: "{run}"',
            "log:",
            "  - target: stderr",
            "    any: notice",
            "template:",
            "  - id: default",
            f'    storage: "{zone_file.parent}"',
            "    zonefile-sync: -1",
            "    zonefile-load: whole",
            "    journal-content: none",
            "    semantic-checks: off",
            "zone:",
            '  - domain: "."',
            f'    file: "{zone_file.name}"',
            "",
        ]
    )


def unbound_conf(state_dir: Path, port: int, knot_port: int, local_conf: Path, sites: int) -> str:
    """Unbound's configuration: a resolver on loopback whose only upstream is Knot."""
    cache_mb = max(16, min(4096, sites // 500))
    lines = [
        "# chokepoints lab: resolver in front of Knot; it can query nothing but 127.0.0.1",
        "server:",
        f"    interface: {LOOPBACK}",
        f"    port: {port}",
        "    do-ip6: no",
        f"    outgoing-interface: {LOOPBACK}",
        "    do-not-query-localhost: no",
        *(f"    do-not-query-address: {net}" for net in DO_NOT_QUERY),
        "    access-control: 127.0.0.0/8 allow",
        '    module-config: "iterator"',
        "    qname-minimisation: no",
        '    chroot: ""',
        '    username: ""',
        f'    directory: "{state_dir}"',
        f'    pidfile: "{state_dir / "unbound.pid"}"',
        '    logfile: ""',  # stderr, which the lab sends to <state_dir>/unbound.log
        "    use-syslog: no",
        "    verbosity: 1",
        f"    num-threads: {max(1, min(4, os.cpu_count() or 1))}",
        "    so-reuseport: yes",
        "    so-rcvbuf: 4m",
        "    cache-min-ttl: 3600",
        f"    msg-cache-size: {cache_mb}m",
        f"    rrset-cache-size: {2 * cache_mb}m",
        "    infra-keep-probing: yes",
        f'    include: "{local_conf}"',
        "remote-control:",
        "    control-enable: no",
        "stub-zone:",
        '    name: "."',
        f"    stub-addr: {LOOPBACK}@{knot_port}",
        "    stub-prime: no",
        "",
    ]
    return "\n".join(lines)


def start(argv: list[str], log: Path, cwd: Path) -> int:
    """Start a server detached (own session, no terminal); return its pid."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    logger.info("started %s (pid %d)", argv[0], proc.pid)
    return proc.pid


def _cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _reap(pid: int) -> None:
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:
        del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def exited(pid: int) -> bool:
    """True when a server this process started has exited (its exit status is known)."""
    proc = _CHILDREN.get(pid)
    return proc is not None and proc.poll() is not None


def is_running(pid: int, marker: str) -> bool:
    """True when *pid* is alive and its command line holds *marker* (its config path).

    The marker guards against pid reuse: a recycled pid of another program is not ours.
    """
    _reap(pid)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state in ("Z", "X"):
        return False
    args = _cmdline(pid)
    return args is not None and any(marker in a for a in args)


def stop(pid: int, marker: str, timeout: float = 5.0) -> bool:
    """Stop the server *pid* (TERM, then KILL); True if it was running. Verifies it is gone.

    A child this process started is known by its handle (its command line may not be its own
    yet right after the fork); any other pid must show *marker* in its command line.
    """
    ours = pid in _CHILDREN

    def alive() -> bool:
        return not exited(pid) if ours else is_running(pid, marker)

    if not alive():
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive():
                return True
            time.sleep(0.02)
    raise LabError(f"process {pid} did not stop")


def query(port: int, name: str, rdtype: str = "A", timeout: float = 0.5) -> dns.message.Message:
    """One UDP query to a lab server on loopback."""
    return dns.query.udp(dns.message.make_query(name, rdtype), LOOPBACK, port=port, timeout=timeout)


def wait_until_answers(
    port: int, name: str, address: str, *, pid: int, marker: str, log: Path, timeout: float
) -> float:
    """Poll the server on *port* with real queries until *name* A includes *address*.

    :returns: the seconds it took.
    :raises LabError: when the server exits or the deadline passes, with its log's last line.
    """
    start_t = time.monotonic()
    deadline = start_t + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        # A child this process started is checked by its exit status: right after the fork its
        # command line may not be its own yet, so the marker check would race the exec.
        gone = exited(pid) if pid in _CHILDREN else not is_running(pid, marker)
        if gone:
            raise LabError(f"{Path(marker).stem} exited: {_tail(log)}")
        try:
            reply = query(port, name)
        except (dns.exception.DNSException, OSError) as exc:
            last = type(exc).__name__
            continue
        found = {r.address for rrset in reply.answer for r in rrset if hasattr(r, "address")}
        if reply.rcode() == dns.rcode.NOERROR and address in found:
            return time.monotonic() - start_t
        last = f"{dns.rcode.to_text(reply.rcode())} {sorted(found)}"
        time.sleep(0.05)
    raise LabError(
        f"{Path(marker).stem} on port {port} did not answer {name} A within "
        f"{timeout:.0f}s (last: {last}; log: {_tail(log)})"
    )


def _tail(log: Path) -> str:
    try:
        lines = [x for x in log.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip() if lines else "empty log"
