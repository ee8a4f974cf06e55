"""The ``chokepoints`` command line: parse, call one library function, format.

Errors of the user's making (:class:`chokepoints.errors.UserError` and friends) are printed as
one line on stderr with exit code 1; never a traceback.
"""

from __future__ import annotations

import errno
import os
import sys

import typer

from chokepoints import __version__
from chokepoints.cli import attribute, crawl, data, dbcmd, lab, query, report
from chokepoints.cli import diff as diff_cmd
from chokepoints.cli import exchange as exchange_cmd
from chokepoints.cli import run as run_cmd
from chokepoints.cli import snapshots as snapshots_cmd
from chokepoints.cli import trend as trend_cmd
from chokepoints.cli import whatif as whatif_cmd
from chokepoints.errors import ChokepointsError

app = typer.Typer(
    name="chokepoints",
    help="Measure how much of the web depends on each infrastructure provider.\n\n"
    "Crawl a top list through DNS into a DuckDB file (`crawl`), then summarise it (`report`) "
    "or query it with SQL (`query`). `lab` runs a hermetic local internet for tests and demos.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chokepoints {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Measure how much of the web depends on each infrastructure provider."""


app.command("crawl")(crawl.crawl)
app.command("attribute")(attribute.attribute)
app.command("report")(report.report)
app.command("trend")(trend_cmd.trend)
app.command("diff")(diff_cmd.diff)
app.command("whatif")(whatif_cmd.whatif)
app.command("query")(query.query)
app.command("run")(run_cmd.run)
app.command("export")(exchange_cmd.export)
app.command("ingest")(exchange_cmd.ingest)
app.add_typer(snapshots_cmd.app, name="snapshots")
app.add_typer(lab.app, name="lab")
app.add_typer(dbcmd.app, name="db")
app.add_typer(data.app, name="data")


#: OS failures that are the machine's, not a bug's: they end in one line, like a user error
_ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


def environment_error(exc: BaseException) -> str | None:
    """One line for a full disk, an I/O error or a read-only file system anywhere in the
    exception's chain (DuckDB reports these as its own errors, text only), else None."""
    markers = tuple(os.strerror(n) for n in _ENVIRONMENT_ERRNOS)
    seen: set[int] = set()
    found: BaseException | None = exc
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        if isinstance(found, OSError) and found.errno in _ENVIRONMENT_ERRNOS:
            return f"{found.strerror}: {found.filename}" if found.filename else str(found)
        text = str(found)
        if any(m in text for m in markers):
            return text.splitlines()[0].removeprefix("TransactionContext Error: ")
        found = found.__cause__ or found.__context__
    return None


def main() -> None:
    try:
        app()
    except ChokepointsError as exc:
        print(f"chokepoints: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("chokepoints: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        reason = environment_error(exc)
        if reason is None:
            raise
        print(f"chokepoints: error: {reason} (the database keeps what was committed before)", file=sys.stderr)
        sys.exit(1)
