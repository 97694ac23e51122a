"""`claimkb serve`: build what changed, then serve the database read-only with Datasette."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..site.serve import serve_args
from .build import try_build
from .common import data_option, db_option, say


@click.command()
@data_option
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option(
    "--base-url",
    default=None,
    help="The site's public address (e.g. https://kb.example.org): the canonical URL "
    "in each claim page's ClaimReview and in the feed. Default: the request's.",
)
@click.option(
    "--release",
    is_flag=True,
    help="Serve an unchanging release: immutable (-i), no build first, long-lived caching.",
)
def serve(data: Path, db: Path, host: str, port: int, base_url: str | None, release: bool) -> None:
    """Build (only what changed), then serve the database read-only with Datasette.

    When the data has problems, they are listed and the last good database is served."""
    try:
        if not release:
            try_build(data, db)
    except SystemExit:
        if not db.exists():
            say(f"{db}: nothing to serve: fix the problems above, then run `claimkb serve` again")
            raise
        say(
            f"the data has problems (above); serving the last good build of {db} instead. "
            "Fix them and run `claimkb build`: the site shows the update at once."
        )
    say(
        f"serving {db} read-only at http://{host}:{port}/  (Ctrl-C to stop; `claimkb build` "
        "in another shell updates it live)"
    )
    sys.stdout.flush()
    args = serve_args(db, host, port, base_url=base_url, immutable=release)
    os.execv(args[0], args)
