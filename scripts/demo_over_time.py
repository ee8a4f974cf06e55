"""Demo over time: one lab world per real top list of a different year, crawled as dated
snapshots of one list family, then the report with its trend.

Each world is drawn from a real list (OpenDNS 2014, Alexa 2020, CrUX-US 2023, Cloudflare Radar
2026 from ../shared/data/toplists) and placed with the providers' published ranges of its own
date; each crawl is a snapshot dated like its list, so ``trend`` and ``diff`` run across them.

    python3 -m scripts.demo_over_time --sites 2000 --db demo.duckdb --out demo.html
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOPLISTS = ROOT.parent / "shared" / "data" / "toplists"

#: (label, list file under ../shared/data/toplists, the list's date)
LISTS = (
    ("OpenDNS 2014", "opendns_top10k_2014/opendns-top-domains_2014-06-04.txt", date(2014, 6, 4)),
    ("Alexa 2020", "alexa2020_top100k_derived/alexa2020_top100k_reconstructed.csv.gz", date(2020, 6, 1)),
    ("CrUX US 2023", "crux_us_via_webdep/crux_us_202304.csv", date(2023, 4, 1)),
    ("Radar 2026", "cloudflare_radar/radar_top-10000_2026-04-27.csv.gz", date(2026, 4, 27)),
)


def chokepoints(*args: str | Path) -> None:
    cmd = [sys.executable, "-m", "chokepoints", *map(str, args)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[2:5])} failed: {done.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sites", type=int, default=2000, help="sites per world")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--db", type=Path, default=Path("demo.duckdb"))
    ap.add_argument("--out", type=Path, default=Path("demo.html"), help="the HTML report")
    args = ap.parse_args(argv)
    if not TOPLISTS.is_dir():
        print(f"reference lists not found at {TOPLISTS}", file=sys.stderr)
        return 2
    from scripts.lab import api

    args.db.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="demo.") as tmp:
        for label, rel, when in LISTS:
            lab_dir = Path(tmp) / when.isoformat()
            t0 = time.perf_counter()
            state = api.up(lab_dir, sites=args.sites, seed=args.seed, list_path=TOPLISTS / rel, world_date=when)
            try:
                chokepoints("crawl", "--lab", "--lab-dir", lab_dir, "--db", args.db, "--no-progress", "--no-summary")
            finally:
                api.down(lab_dir)
            print(f"{label}: {state['sites']} sites, world of {state['date']}, "
                  f"crawled in {time.perf_counter() - t0:.1f} s", flush=True)
    for layer in ("hosting", "dns", "cdn", "email"):
        subprocess.run([sys.executable, "-m", "chokepoints", "trend", "--layer", layer, "--metric", "hhi",
                        "--db", str(args.db)], check=True)
    chokepoints("report", "--format", "html", "--out", args.out, "--db", args.db)
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
