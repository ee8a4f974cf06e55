"""Run the lab's web endpoint in the foreground: ``python -m scripts.lab.http_main STATE_DIR``.

Serves ``STATE_DIR/web.tsv`` with the CAs ``lab up`` made (``STATE_DIR/ca``), on two free
loopback ports, written as ``<http> <https>`` to ``STATE_DIR/http.ports`` once both listen;
requests are logged to ``STATE_DIR/http_requests.log``. ``lab up`` starts it detached and
``lab down`` stops it, like the DNS and RDAP servers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from datetime import date
from pathlib import Path

from crawler import registry as registry_mod
from scripts.lab.http_server import CertStore, WebIndex, WebServer, port_of, serve

PORTS_FILE = "http.ports"
REQUEST_LOG = "http_requests.log"


async def run(state_dir: Path) -> None:
    """Serve until SIGTERM or SIGINT."""
    world = json.loads((state_dir / "world.json").read_text(encoding="utf-8"))
    index = WebIndex(state_dir / "web.tsv")
    store = CertStore(state_dir, date.fromisoformat(world["date"]))
    server = WebServer(index, store, registry_mod.load(), state_dir / REQUEST_LOG)
    plain, secure = await serve(server)
    tmp = state_dir / (PORTS_FILE + ".tmp")
    tmp.write_text(f"{port_of(plain)} {port_of(secure)}\n")
    tmp.replace(state_dir / PORTS_FILE)
    logging.getLogger(__name__).info("web endpoint: %d hosts, http %d, https %d", len(index), port_of(plain),
                                     port_of(secure))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        secure.close()
        server.close()
        index.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(run(Path(argv[1]).resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
