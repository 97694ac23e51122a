"""The claimkb command line: one click group, one module per group of commands.

May import every other package; nothing imports it.
"""

from __future__ import annotations

import click

from .bench import bench
from .build import build, check, schema, stats, validate
from .docs import docs
from .export import export
from .match import match
from .new import new
from .serve import serve


@click.group()
@click.version_option(package_name="claimkb")
def cli() -> None:
    """claimkb: claims, equations and references of documents, with their evidence status."""


for command in (build, validate, check, serve, stats, schema, docs, export, new, match, bench):
    cli.add_command(command)


def main() -> None:  # pragma: no cover - entry point
    cli()
