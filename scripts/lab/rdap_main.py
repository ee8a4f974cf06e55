"""Run the lab's RDAP server in the foreground: ``python -m scripts.lab.rdap_main STATE_DIR``.

Serves one network per prefix of the world's ``ipasn.dat`` plus the world's extra networks
(``rdap_networks.json``, if any: address space the RIB does not announce) on a free loopback
port, and writes that port to ``STATE_DIR/rdap.port`` once it is listening. ``lab up`` starts it
detached and ``lab down`` stops it, like the DNS servers.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from scripts.lab.rdap_server import LabNetwork, Shape, networks_from_world, start_rdap_server

PORT_FILE = "rdap.port"
EXTRA = "rdap_networks.json"


def extra_networks(state_dir: Path) -> list[LabNetwork]:
    path = state_dir / EXTRA
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [LabNetwork(cidr=r["cidr"], handle=r["handle"], name=r["name"], org=r["org"],
                       shape=Shape(r.get("shape", "arin")), country=r.get("country")) for r in rows]


def main(argv: list[str]) -> int:
    state_dir = Path(argv[1]).resolve()
    server, base_url = start_rdap_server([*networks_from_world(state_dir), *extra_networks(state_dir)])
    port = base_url.rstrip("/").rsplit(":", 1)[1].split("/")[0]
    tmp = state_dir / (PORT_FILE + ".tmp")
    tmp.write_text(port)
    tmp.replace(state_dir / PORT_FILE)
    with contextlib.suppress(KeyboardInterrupt):
        server.stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
