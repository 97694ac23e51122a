"""`claimkb new`: store a new source text and write a draft for a curator."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, get_args

import click

from ..draft.new import NewError, make_draft
from ..model import DocumentKind


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
    help="Prefix of the record ids (default: the number before '_' in the id, e.g. 003 -> 003-c001, or the id itself).",
)
@click.option(
    "--received-from",
    default=None,
    help="Where the text came from (default: PATH relative to the working directory, or its file name).",
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
) -> None:
    """Store the text at PATH as a new source and write a draft document file for a curator.

    The text is copied byte-identical to <data>/sources/ID.txt; <data>/documents/ID.yaml gets its
    sha256 and the numbered equations, the reference list and the candidate claim sentences found in
    it, all `not assessed`, every quote anchored. The draft loads and builds as it is.
    """
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
        )
    except NewError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    except OSError as e:
        click.echo(f"error: {e.filename or ''}: {e.strerror}", err=True)
        sys.exit(1)
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(
        f"wrote {doc_path}: {_n(doc['claims'], 'candidate claim')}, {_n(doc['equations'], 'equation')}, "
        f"{_n(doc['bibliography'], 'reference')} (all not assessed)\n"
        f"source {src_path} (sha256 {doc['sha256']})\n"
        f"next: edit {doc_path}, then `claimkb validate`"
    )
