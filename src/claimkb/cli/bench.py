"""`claimkb bench`: build and serve a synthetic corpus of N claims, and measure it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ..bench.run import run, run_serve_only


@click.command()
@click.option(
    "--claims",
    "n_claims",
    type=int,
    default=10_000,
    show_default=True,
    help="Number of synthetic claims.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the figures to this file.",
)
@click.option(
    "--dir",
    "work",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench"),
    show_default=True,
    help="Where the corpus and databases go (not data/).",
)
@click.option(
    "--workers", type=int, default=os.cpu_count() or 1, show_default=True, help="Build processes."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--repeat",
    type=int,
    default=30,
    show_default=True,
    help="Sequential requests per URL for the p95 figures.",
)
@click.option(
    "--connections",
    type=int,
    default=32,
    show_default=True,
    help="Concurrent connections of the load test.",
)
@click.option(
    "--load-seconds", type=float, default=10.0, show_default=True, help="Duration of the load test."
)
@click.option(
    "--verify-incremental/--no-verify-incremental",
    default=False,
    show_default=True,
    help="Also compare the incremental build with a full build (one more build).",
)
@click.option(
    "--serve-only",
    is_flag=True,
    help=(
        "Only measure the served site, on the database an earlier run left in --dir "
        "(no corpus, no build)."
    ),
)
def bench(
    n_claims: int,
    json_path: Path | None,
    work: Path,
    workers: int,
    seed: int,
    repeat: int,
    connections: int,
    load_seconds: float,
    verify_incremental: bool,
    serve_only: bool,
) -> None:
    """Benchmark build and site on a synthetic corpus of N claims (see BENCHMARKS.md)."""
    log = lambda m: click.echo(m, err=True)  # noqa: E731
    if serve_only:
        res = run_serve_only(
            n_claims,
            work,
            repeat=repeat,
            connections=connections,
            load_seconds=load_seconds,
            log=log,
        )
    else:
        res = run(
            n_claims,
            work,
            workers=workers,
            seed=seed,
            repeat=repeat,
            connections=connections,
            load_seconds=load_seconds,
            verify_incremental=verify_incremental,
            log=log,
        )
    text = json.dumps(res, indent=2)
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(text + "\n")
    click.echo(text)
    missed = [k for k, ok in res["targets_met"].items() if not ok]
    if missed:
        click.echo(f"targets missed at {n_claims} claims: {', '.join(missed)}", err=True)
