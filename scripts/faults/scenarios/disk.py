"""Disk full while writing: crawls into a database on a small tmpfs that runs out of space.

A first crawl leaves one complete snapshot (the previous state); then the tmpfs is filled to a
few hundred KB and crawls run out of space at their final write and in the middle of the crawl
(a list bigger than one write batch). Expected: one clear line and exit code 1, no traceback;
the database still opens read-only while the disk is full, the previous snapshot intact, the
failed one marked ``failed`` (when the failure could still be recorded); once space is freed,
a new crawl completes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from scripts.faults.harness import Context, Row, query, scenario
from scripts.faults.inputs import made_up_list

#: the tmpfs size, KiB: room for a few small snapshots
SIZE_KB = 24 * 1024


def mount_blocked() -> str | None:
    """None when a tmpfs can be mounted here, else the reason (not root, no permission...)."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    with tempfile.TemporaryDirectory(prefix="faults-mount.") as folder:
        try:
            with tmpfs(Path(folder), 1024):
                return None
        except (OSError, subprocess.CalledProcessError) as exc:
            return f"cannot mount a tmpfs: {exc}"


@contextlib.contextmanager
def tmpfs(folder: Path, size_kb: int) -> Iterator[Path]:
    """A tmpfs of ``size_kb`` KiB mounted on ``folder`` for the block."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)], check=True,
                   capture_output=True, text=True)
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill(folder: Path, leave_kb: int) -> int:
    """Fill the file system of ``folder`` until ``leave_kb`` KiB are free; return the KiB free."""
    filler = folder / "filler"
    filler.unlink(missing_ok=True)
    st = os.statvfs(folder)
    free_kb = st.f_bavail * st.f_frsize // 1024
    with filler.open("wb") as f:
        chunk = b"\0" * (1 << 20)
        left = max(0, free_kb - leave_kb) * 1024
        while left > 0:
            left -= f.write(chunk[: min(len(chunk), left)])
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize // 1024


def _state(db: Path) -> tuple[list[tuple[int, str, int]], str | None]:
    """``(snapshot_id, status, outcomes)`` of every snapshot, or the error opening it read-only."""
    try:
        return [(int(s), str(st), int(n)) for s, st, n in query(
            db, "select s.snapshot_id, s.status, (select count(*) from site_outcomes o"
                " where o.snapshot_id = s.snapshot_id) from snapshots s order by 1")], None
    except Exception as exc:
        return [], f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@scenario("disk full while writing", family="crash", needs=("lab", "root"))
def disk_full(ctx: Context) -> list[Row]:
    return disk_full_cases(ctx, mid_crawl=True)


def disk_full_cases(ctx: Context, *, mid_crawl: bool) -> list[Row]:
    """Run out of space at the final write and (``mid_crawl``) between two write batches."""
    folder = ctx.path("disk")
    mnt = folder / "mnt"
    mnt.mkdir()
    lab_list = Path(ctx.lab()["list"])
    big = made_up_list(folder / "made_up.csv", 3000)
    rows: list[Row] = []
    with tmpfs(mnt, SIZE_KB):
        db = mnt / "full.duckdb"
        first = ctx.cli(*ctx.list_crawl_args(db, lab_list))
        before, _ = _state(db)
        if first.returncode != 0 or not before:
            return [Row("disk full: the first crawl", 1, first.describe(), crashes=int(first.crashed), ok=False)]
        sites = before[0][2]
        cases = [("at the final write", lab_list, 300), *([("mid-crawl", big, 1500)] if mid_crawl else [])]
        for case, list_path, leave_kb in cases:
            free = fill(mnt, leave_kb)
            run = ctx.cli(*ctx.list_crawl_args(db, list_path))
            after, error = _state(db)
            report = ctx.cli("report", "--db", db, "--snapshot", str(before[0][0]), "--format", "json")
            kept = next((n for s, _st, n in after if s == before[0][0]), 0)
            new = [(s, st) for s, st, _ in after if s not in {b[0] for b in before}]
            marked = all(st == "failed" for _, st in new)
            outcome = (f"{run.describe()}; {free} KiB free; database "
                       f"{'opens read-only' if error is None else 'unreadable: ' + error}, report of the previous "
                       f"snapshot exit {report.returncode}; new snapshot: "
                       f"{', '.join(st for _, st in new) or 'none recorded'}")
            rows.append(Row(f"disk full {case}", 1, outcome, rows_lost=sites - kept,
                            crashes=int(run.crashed) + int(report.crashed),
                            ok=run.one_line_error and error is None and report.returncode == 0 and marked))
            before = after or before
        (mnt / "filler").unlink(missing_ok=True)
        again = ctx.cli(*ctx.list_crawl_args(db, lab_list))
        final, error = _state(db)
        rows.append(Row("disk full: space freed, crawl again", 1,
                        f"{again.describe()}; snapshots now {', '.join(st for _, st, _ in final) or error}",
                        crashes=int(again.crashed), ok=again.returncode == 0 and bool(final)
                        and final[-1][1] == "complete"))
    return rows
