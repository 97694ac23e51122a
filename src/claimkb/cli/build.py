"""`claimkb build`, `validate`, `check`, `stats` and `schema`."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

import click

from .. import build as building
from ..checks import report
from ..problems import DataError
from .common import data_option, db_option, fail, say


def _summary(rep: building.BuildReport, db: Path, seconds: float) -> str:
    c = rep.counts
    found = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in sorted(rep.findings.items()))
    if rep.mode == "full":
        return (
            f"built {db} in {seconds:.2f}s ({rep.reason}): {c['documents']} documents, "
            f"{c['claims']} claims, {c['equations']} equations, {c['bibliography']} "
            f"bibliography entries, {c['evidence']} evidence items, {c['checks']} check findings"
        )
    if rep.mode == "incremental":
        what = []
        if rep.changed:
            more = " ..." if len(rep.changed) > 5 else ""
            what.append(
                f"{len(rep.changed)} document(s) re-read ({', '.join(rep.changed[:5])}{more})"
            )
        if rep.removed:
            what.append(f"{len(rep.removed)} removed ({', '.join(rep.removed[:5])})")
        return (
            f"updated {db} in {seconds:.2f}s: {'; '.join(what)}; "
            f"{found or 'no check findings'} for them"
        )
    return f"{db} is up to date ({seconds:.2f}s): no document changed"


def try_build(
    data: Path, db: Path, *, workers: int = 0, full: bool = False
) -> building.BuildReport:
    """Build; on bad data print every problem and raise SystemExit(1) (nothing is written)."""
    try:
        rep = building.build(data, db, workers=workers, full=full)
    except DataError as e:
        fail(e)
    except building.CheckErrors as e:
        say(report(e.findings, only_errors=True))
        say(f"{len(e.findings)} check error(s); nothing was written.")
        sys.exit(1)
    except building.DiskFull as e:
        say(f"{db}: error: {e.advice()}")
        sys.exit(1)
    except (OSError, sqlite3.OperationalError) as e:
        say(f"{db}: error: cannot write the database: {e}")
        say("-> check that the folder exists and is writable; the previous database is unchanged.")
        sys.exit(1)
    for w in rep.warnings:
        say(str(w))
    return rep


@click.command()
@data_option
@db_option
@click.option(
    "--workers",
    type=int,
    default=0,
    show_default=True,
    help="Processes that parse, anchor and check documents (0: one per CPU when there "
    "are 40 documents or more).",
)
@click.option(
    "--full", is_flag=True, help="Rebuild everything, even if only some documents changed."
)
def build(data: Path, db: Path, workers: int, full: bool) -> None:
    """Validate, then write the database: only the changed documents when it can (see README)."""
    t0 = time.perf_counter()
    rep = try_build(data, db, workers=workers, full=full)
    click.echo(_summary(rep, db, time.perf_counter() - t0))


def _read(data: Path, *, keep: bool = False) -> building.Reading:
    reading = building.read(data, keep=keep)
    if reading.errors:
        fail(DataError(reading.problems))
    for w in reading.problems:
        say(str(w))
    return reading


@click.command()
@data_option
def validate(data: Path) -> None:
    """Check the data files without writing anything."""
    reading = _read(data)
    if reading.check_errors:
        say(report(reading.findings, only_errors=True))
        sys.exit(1)
    click.echo(f"ok: {reading.documents} documents, {reading.claims} claims, every quote anchored")


@click.command()
@data_option
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
    reading = _read(data, keep=online)
    findings = list(reading.findings)
    if online:
        findings += _online(reading, data / "cache")
    click.echo(report(findings, show_info=show_all))
    n_info = sum(1 for f in findings if f.severity == "info")
    if n_info and not show_all:
        click.echo(f"({n_info} info finding{'s' if n_info != 1 else ''} not shown: use --all)")
    if any(f.severity == "error" for f in findings):
        sys.exit(1)


def _online(reading: building.Reading, cache: Path) -> list:
    from ..checks import online
    from ..checks.findings import Collector
    from ..ingest.load import KnowledgeBase

    docs = [r.loaded for r in reading.results if r.loaded is not None]
    col = Collector()
    online.check(KnowledgeBase(vocabulary=None, documents=docs), col, cache_dir=cache)
    return col.resolved(reread=True)


@click.command()
@db_option
def stats(db: Path) -> None:
    """Counts of claims per document and evidence status, and how far the two readings agree."""
    if not db.exists():
        say(f"{db} does not exist: run `claimkb build` first")
        sys.exit(1)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        _status_table(conn)
        for table in ("equations", "bibliography", "evidence", "claim_links", "checks"):
            n = conn.execute(f"select count(*) from [{table}]").fetchone()[0]  # fixed names
            click.echo(f"{table}: {n}")
        _agreement(conn)
    finally:
        conn.close()


def _status_table(conn: sqlite3.Connection) -> None:
    statuses = [r[0] for r in conn.execute("select term from evidence_statuses order by rank")]
    counts: dict[str, dict[str, int]] = {}
    for doc, status, n in conn.execute(
        "select document_id, status, count(*) from claims group by 1, 2"
    ):
        counts.setdefault(doc, {})[status] = n
    docs = [r[0] for r in conn.execute("select id from documents order by id")]
    width = max([len("document")] + [len(d) for d in docs])
    cols = [max(len(s), 4) for s in statuses]
    head = "  ".join(f"{s:>{w}}" for s, w in zip(statuses, cols, strict=True))
    click.echo(f"{'document':<{width}}  {head}  total")
    total: dict[str, int] = {}
    for row in counts.values():
        for s, n in row.items():
            total[s] = total.get(s, 0) + n
    for d in docs + ["all"]:
        row = total if d == "all" else counts.get(d, {})
        cells = "  ".join(f"{row.get(s, 0):>{w}}" for s, w in zip(statuses, cols, strict=True))
        click.echo(f"{d:<{width}}  {cells}  {sum(row.values()):>5}")


def _agreement(conn: sqlite3.Connection) -> None:
    """The agreement table: the two independent readings of each claim and equation."""
    rows = conn.execute(
        "select round, scope, records, agreed, exact, kappa, latest from agreement "
        "order by round, scope = 'all', scope"
    ).fetchall()
    if not rows:
        return
    click.echo("readings (two independent readings of each claim and equation, per round):")
    for rnd, scope, records, agreed, exact, kappa, latest in rows:
        k = f", kappa {kappa:.2f}" if kappa is not None else ""
        now = "" if latest else " (an earlier round)"
        click.echo(f"  round {rnd}, {scope}: {exact:.1%} agreement ({agreed} of {records}){k}{now}")


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("schema/document.schema.json"),
    show_default=True,
)
def schema(out: Path) -> None:
    """Write the JSON Schema of a document file (for editors)."""
    from ..model import document_schema_text

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document_schema_text(), encoding="utf-8")
    click.echo(f"wrote {out}")
