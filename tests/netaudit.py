"""Run the command line with every socket destination recorded: ``python -m tests.netaudit LOG
ARGS...`` runs ``chokepoints ARGS...`` under an audit hook (PEP 578) that appends one line per
``socket.connect``, ``socket.sendto`` and name lookup (``socket.getaddrinfo``,
``gethostbyname``...) to LOG, so a test can prove that a crawl sent nothing off loopback.
"""

from __future__ import annotations

import ipaddress
import runpy
import sys
from typing import Any

_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg"}
_LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"}


def destination(event: str, args: tuple[Any, ...]) -> str | None:
    """The host an audited socket event goes to (None: not a network destination)."""
    if event in _EVENTS:
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and address:
            return str(address[0])
        return None  # AF_UNIX paths and the like
    if event in _LOOKUPS and args:
        return str(args[0]) if args[0] is not None else None
    return None


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def main(argv: list[str]) -> None:
    log_path, args = argv[0], argv[1:]
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the process's life

    def hook(event: str, hook_args: tuple[Any, ...]) -> None:
        if event in _EVENTS or event in _LOOKUPS:
            host = destination(event, hook_args)
            if host is not None:
                log.write(f"{event}\t{host}\n")

    sys.addaudithook(hook)
    sys.argv = ["chokepoints", *args]
    runpy.run_module("chokepoints", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
