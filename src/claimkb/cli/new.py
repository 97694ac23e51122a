"""`claimkb new`: store a new source text and write a draft for a curator."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any, get_args

import click

from ..draft.new import NewError, make_draft
from ..match.search import LIKELY, Matcher, MatchError, open_db
from ..model import DocumentKind
from .common import DEFAULT_DB


def _n(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--id",
    "doc_id",
    required=True,
    help="Document id: the files become <data>/documents/ID.yaml and <data>/sources/ID.txt.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Folder with vocabulary.yaml, documents/ and sources/.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing document file (and source text) with a new draft.",
)
@click.option(
    "--title", default=None, help="Title of the document (default: guessed from the text)."
)
@click.option(
    "--kind",
    type=click.Choice(get_args(DocumentKind)),
    default="unreviewed manuscript",
    show_default=True,
    help="Kind of document (a curator confirms it).",
)
@click.option(
    "--prefix",
    default=None,
    help=(
        "Prefix of the record ids (default: the number before '_' in the id, "
        "e.g. 003 -> 003-c001, or the id itself)."
    ),
)
@click.option(
    "--received-from",
    default=None,
    help=(
        "Where the text came from (default: PATH relative to the working directory, "
        "or its file name)."
    ),
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="A built database: when it exists, drafted claims that likely restate one of its "
    "assessed claims get a proposed `restates` link.",
)
def new(
    path: Path,
    doc_id: str,
    data: Path,
    force: bool,
    title: str | None,
    kind: str,
    prefix: str | None,
    received_from: str | None,
    db: Path,
) -> None:
    """Store the text at PATH as a new source and write a draft document file for a curator.

    The text is copied byte-identical to <data>/sources/ID.txt; <data>/documents/ID.yaml gets its
    sha256 and the numbered equations, the reference list and the candidate claim sentences found in
    it, all `not assessed`, every quote anchored. The draft loads and builds as it is. When
    the database --db exists, a drafted claim that likely restates one of its assessed claims
    gets a `restates` link marked `proposed: true` (see `claimkb match`).
    """
    conn = _matcher_db(db)
    try:
        doc_path, src_path, doc, warnings = make_draft(
            path,
            doc_id,
            data,
            force=force,
            title=title,
            kind=kind,
            prefix=prefix,
            received_from=received_from,
            propose=Matcher(conn).likely if conn is not None else None,
        )
    except NewError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    except OSError as e:
        click.echo(f"error: {e.filename or ''}: {e.strerror}", err=True)
        sys.exit(1)
    finally:
        if conn is not None:
            conn.close()
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    links = sum(len(c.get("links", ())) for c in doc["claims"])
    if links:
        click.echo(
            f"proposed {links} `restates` link(s) to claims in {db} (score >= {LIKELY}, "
            "`proposed: true`): confirm each by deleting `proposed`, or delete the link",
            err=True,
        )
    click.echo(
        f"wrote {doc_path}: {_n(doc['claims'], 'candidate claim')}, "
        f"{_n(doc['equations'], 'equation')}, "
        f"{_n(doc['bibliography'], 'reference')} (all not assessed)\n"
        f"source {src_path} (sha256 {doc['sha256']})\n"
        f"next: edit {doc_path}, then `claimkb validate`"
    )


def _matcher_db(db: Path) -> sqlite3.Connection | None:
    """The database to propose links from: None when there is none (a warning when it
    exists but cannot be matched against)."""
    if not db.exists():
        return None
    try:
        return open_db(db)
    except MatchError as e:
        click.echo(f"warning: no `restates` links proposed: {e}", err=True)
        return None
