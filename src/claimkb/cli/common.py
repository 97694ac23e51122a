"""What the commands share: the --data and --db options, and how problems are shown."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from ..problems import DataError

DEFAULT_DATA = Path("data")
DEFAULT_DB = Path("claimkb.db")

data_option = click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="Folder with vocabulary.yaml, documents/ and sources/.",
)
db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite database to write or serve.",
)


def fail(err: DataError) -> NoReturn:
    click.echo(err.report(), err=True)
    sys.exit(1)


def say(message: str) -> None:
    """A line of progress or a warning: on standard error, so that output stays clean."""
    click.echo(message, err=True)
