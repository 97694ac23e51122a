"""`claimkb match`: the assessed claims of the knowledge base that a text's sentences restate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..match.search import FLOOR, LIKELY, Match, Matcher, MatchError, open_db
from ..match.sentences import MAX_BYTES, Sentence, TextError, read_text, split
from .common import DEFAULT_DB


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="The built database to match against.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object a sentence.")
def match(path: Path, db: Path, as_json: bool) -> None:
    """For each sentence of the text at PATH, the closest assessed claims of the knowledge base.

    Every match has the claim's status and a score from 0 to 1; it is `likely` a
    restatement at a score of at least 0.5. The text is UTF-8, at most 2 MB; the
    database is one `claimkb build` wrote.
    """
    try:
        text = read_text(path, MAX_BYTES)
        conn = open_db(db)
    except (TextError, MatchError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    try:
        matcher = Matcher(conn)
        results = [(s, matcher.match(s.text)) for s in split(text)]
    finally:
        conn.close()
    if as_json:
        click.echo(json.dumps([_json(s, ms) for s, ms in results], ensure_ascii=False, indent=2))
    else:
        _show(path, text, results)


def _json(s: Sentence, matches: list[Match]) -> dict[str, object]:
    return {
        "sentence": s.text,
        "start": s.start,
        "end": s.end,
        "matches": [m.as_json() for m in matches],
    }


def _show(path: Path, text: str, results: list[tuple[Sentence, list[Match]]]) -> None:
    """One block per sentence with a match above FLOOR; a summary on standard error."""
    shown = likely = 0
    for s, matches in results:
        kept = [m for m in matches if m.score >= FLOOR]
        likely += any(m.likely for m in kept)
        if not kept:
            continue
        shown += 1
        line = text.count("\n", 0, s.start) + 1
        click.echo(f"{path}:{line}: {_cut(s.text, 96)}")
        for m in kept:
            mark = "likely" if m.likely else "      "
            click.echo(f"  {m.score:.2f} {mark} {m.record_id} [{m.status}] {_cut(m.statement, 60)}")
        click.echo("")
    click.echo(
        f"{len(results)} sentences: {shown} with a match scoring at least {FLOOR}, {likely} "
        f"likely restating a claim (score >= {LIKELY})",
        err=True,
    )


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
