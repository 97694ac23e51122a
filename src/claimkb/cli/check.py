"""`claimkb check`: run the machine checks and print the findings."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Folder with vocabulary.yaml, documents/ and sources/.",
)
@click.option(
    "--online",
    is_flag=True,
    help="Also look DOIs up (Crossref, doi.org); answers are cached in <data>/cache/.",
)
@click.option(
    "--all", "show_all", is_flag=True, help="Show info findings too (machine confirmations)."
)
def check(data: Path, online: bool, show_all: bool) -> None:
    """Run the machine checks; print findings by document and severity. Errors exit 1."""
    from ..cli import _load
    from . import report, run_all

    kb = _load(data)
    findings = run_all(kb, online=online, cache_dir=data / "cache", lines=True)
    click.echo(report(findings, show_info=show_all))
    n_info = sum(1 for f in findings if f.severity == "info")
    if n_info and not show_all:
        click.echo(f"({n_info} info finding{'s' if n_info != 1 else ''} not shown: use --all)")
    if any(f.severity == "error" for f in findings):
        sys.exit(1)
