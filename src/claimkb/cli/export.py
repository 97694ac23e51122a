"""`claimkb export FORMAT`: ClaimReview or Web Annotation JSON-LD, BibTeX, CSL-JSON, JSON Lines
or CSV from the built database."""

from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path

import click

from ..exports import FORMATS, ExportError, connect_ro
from ..fileio import atomic_write


def _write_text(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write(out, text.encode("utf-8"))
    click.echo(f"wrote {out}", err=True)


def _check_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    if value is None:
        return _dt.datetime.now(_dt.UTC).date().isoformat()
    try:
        return _dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


@click.command()
@click.argument("format", type=click.Choice(FORMATS, case_sensitive=False), metavar="FORMAT")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("claimkb.db"),
    show_default=True,
    help="Built database to read.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output file (default: standard output). For csv: a directory, or a file ending in .zip.",
)
@click.option(
    "--date",
    callback=_check_date,
    default=None,
    help="claimreview: datePublished, YYYY-MM-DD (default: today, UTC).",
)
@click.option(
    "--publisher",
    default="claimkb",
    show_default=True,
    help="claimreview, web-annotation: name of the reviewing organisation.",
)
@click.option(
    "--publisher-url",
    default=None,
    help="claimreview, web-annotation: URL of the reviewing organisation.",
)
@click.option(
    "--base-url",
    default=None,
    help="claimreview, web-annotation (required): the address the site is served at, e.g. "
    "https://kb.example.org; each review's url is BASE/claim/ID, its claim page, and each "
    "annotation's id is BASE/claim/ID#annotation or BASE/equation/ID#annotation.",
)
@click.option(
    "--context",
    type=click.Choice(["embedded", "remote"]),
    default="embedded",
    show_default=True,
    help='claimreview: embed the @context (self-contained) or write "https://schema.org".',
)
def export(
    format: str,
    db: Path,
    out: Path | None,
    date: str,
    publisher: str,
    publisher_url: str | None,
    base_url: str | None,
    context: str,
) -> None:
    """Export the built database: claimreview, web-annotation, bibtex, csl-json, jsonl or csv.

    \b
    claimreview     schema.org ClaimReview JSON-LD of every assessed claim
    web-annotation  W3C Web Annotation JSON-LD: a JSON array of one AnnotationCollection
                    per document; one annotation (motivation "assessing") per claim and
                    equation, whatever its status, targeting its quote with a
                    TextQuoteSelector and a TextPositionSelector (offsets in Unicode code
                    points of documents.text); bodies: the status (purpose "tagging"), the
                    statement, the rationale (Markdown) and the record's page on the site
    bibtex          every bibliography entry and every (deduplicated) evidence work
    csl-json        the same works as CSL-JSON (Zotero, pandoc, citeproc)
    jsonl           every table, one {"table": ..., "row": {...}} object per line
    csv             every table as NAME.csv, plus datapackage.json (needs --out DIR or
                    --out FILE.zip)
    """
    fmt = format.lower()
    try:
        conn = connect_ro(db)
        try:
            if fmt == "claimreview":
                from ..exports.claimreview import render

                if not base_url:
                    raise click.UsageError(
                        "claimreview needs --base-url: the address the site is served at "
                        "(each review's url is BASE/claim/ID, the claim's page)"
                    )
                _write_text(
                    render(
                        conn,
                        date=date,
                        publisher=publisher,
                        publisher_url=publisher_url,
                        base_url=base_url,
                        context=context,
                    ),
                    out,
                )
            elif fmt == "web-annotation":
                from ..exports.annotations import render as render_annotations

                if not base_url:
                    raise click.UsageError(
                        "web-annotation needs --base-url: the address the site is served at "
                        "(each annotation's id is BASE/claim/ID#annotation or "
                        "BASE/equation/ID#annotation, on the record's page)"
                    )
                _write_text(
                    render_annotations(
                        conn, base_url=base_url, publisher=publisher, publisher_url=publisher_url
                    ),
                    out,
                )
            elif fmt == "bibtex":
                from ..exports.works import render_bibtex

                _write_text(render_bibtex(conn), out)
            elif fmt == "csl-json":
                from ..exports.works import render_csl

                _write_text(render_csl(conn), out)
            elif fmt == "jsonl":
                from ..exports.tables import iter_jsonl

                _write_text("".join(iter_jsonl(conn)), out)
            else:  # csv
                from ..exports.tables import write_csv

                if out is None:
                    raise ExportError(
                        "csv writes one file per table: pass --out DIR (a directory) "
                        "or --out FILE.zip"
                    )
                if out.exists() and not out.is_dir() and out.suffix.lower() != ".zip":
                    raise ExportError(
                        f"{out} is a file: for csv pass a directory or a name ending in .zip"
                    )
                write_csv(conn, out)
                click.echo(f"wrote {out}", err=True)
        finally:
            conn.close()
    except ExportError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    except OSError as e:
        click.echo(f"error: cannot write {e.filename or out}: {e.strerror}", err=True)
        sys.exit(1)
