"""``chokepoints lab``: the hermetic lab internet (real DNS servers and a web endpoint on loopback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from chokepoints.cli.options import DEFAULT_LAB_DIR, LabDir

app = typer.Typer(help="A hermetic local internet for tests and demos: real DNS servers and a web "
                       "endpoint on loopback answering for a generated world of sites, with its ground truth.",
                  no_args_is_help=True)


@app.command("up")
def up(
    sites: Annotated[int, typer.Option("--sites", "-n", min=1, help="Sites in the world.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed builds the same world.")] = 1,
    list_path: Annotated[Path | None, typer.Option("--list", exists=True, dir_okay=False, help=(
        "Draw the world's domains from this real top list (e.g. ../shared/data/toplists/...)."))] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", file_okay=False, help=(
        "Reference data (provider ranges, RIB); default ../shared/data."))] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as one JSON object.")] = False,
    lab_dir: LabDir = DEFAULT_LAB_DIR,
) -> None:
    """Build a world and start its DNS servers (Knot behind Unbound), RDAP server and web
    endpoint (HTTP and HTTPS) on free loopback ports.

    Prints the resolver address, the web endpoint's ports and the paths of the world's list,
    pyasn database, ground truth (domain,layer,provider; truth_http for cdn, ca and third_party
    under an HTTP crawl), resources and lab CA bundle; writes them to LAB_DIR/state.json.
    """
    from scripts.lab import api

    state = api.up(lab_dir, sites=sites, seed=seed, list_path=list_path, data_dir=data_dir)
    if as_json:
        typer.echo(json.dumps(state))
        return
    typer.echo(f"lab up: {state['sites']} sites, resolver {state['resolver']}, web http "
               f"127.0.0.1:{state['http_port']} https 127.0.0.1:{state['https_port']}")
    for key in ("list", "asn_db", "truth", "truth_http", "resources", "ca_bundle", "world"):
        typer.echo(f"  {key:10} {state[key]}")
    typer.echo(f"crawl it: chokepoints crawl --lab --lab-dir {lab_dir}")


@app.command("down")
def down(lab_dir: LabDir = DEFAULT_LAB_DIR) -> None:
    """Stop the lab's servers (nothing is left running)."""
    from scripts.lab import api

    stopped = api.down(lab_dir)
    typer.echo("lab down" if stopped else f"no lab was running in {lab_dir}")


@app.command("status")
def status(lab_dir: LabDir = DEFAULT_LAB_DIR) -> None:
    """Print the running lab's state as JSON (exit code 1 if none is running)."""
    from scripts.lab import api

    state = api.status(lab_dir)
    if state is None:
        typer.echo(f"no lab running in {lab_dir}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(state, indent=2))
