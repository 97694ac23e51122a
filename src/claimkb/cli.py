"""The claimkb command line: build, validate, serve, stats, schema."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import click

from .problems import DataError

DEFAULT_DATA = Path("data")
DEFAULT_DB = Path("claimkb.db")
SITE = Path(__file__).parent / "site"


def _fail(err: DataError) -> None:
    click.echo(err.report(), err=True)
    sys.exit(1)


def _load(data: Path, workers: int = 1):
    from .load import load_knowledge_base

    try:
        kb = load_knowledge_base(data, workers=workers)
    except DataError as e:
        _fail(e)
    for w in getattr(kb, "warnings", []):
        click.echo(str(w), err=True)
    return kb


def run_checks(kb):
    """Machine checks over the loaded knowledge base (findings list)."""
    try:
        from .checks import run_all
    except ImportError:  # pragma: no cover - the check layer is optional during bootstrapping
        return []
    return run_all(kb)


def do_build(data: Path, db: Path, *, quiet: bool = False, workers: int = 0, full: bool = False) -> dict[str, int]:
    from .checks import report
    from .update import CheckErrors, build

    t0 = time.perf_counter()
    try:
        rep = build(data, db, workers=workers, full=full)
    except DataError as e:
        _fail(e)
    except CheckErrors as e:
        click.echo(report(e.findings, only_errors=True), err=True)
        click.echo(f"{len(e.findings)} check error(s); nothing was written.", err=True)
        sys.exit(1)
    except (OSError, sqlite3.Error) as e:
        click.echo(f"{db}: error: cannot write the database: {e}", err=True)
        click.echo("-> check that the folder exists, is writable and has free space; the previous database is unchanged.", err=True)
        sys.exit(1)
    for w in rep.warnings:
        click.echo(str(w), err=True)
    if not quiet:
        dt = time.perf_counter() - t0
        c = rep.counts
        found = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in sorted(rep.findings.items())) or "no check findings"
        if rep.mode == "full":
            click.echo(
                f"built {db} in {dt:.2f}s ({rep.reason}): {c['documents']} documents, {c['claims']} claims, "
                f"{c['equations']} equations, {c['bibliography']} bibliography entries, "
                f"{c['evidence']} evidence items, {c['checks']} check findings"
            )
        elif rep.mode == "incremental":
            what = []
            if rep.changed:
                what.append(f"{len(rep.changed)} document(s) re-read ({', '.join(rep.changed[:5])}{' ...' if len(rep.changed) > 5 else ''})")
            if rep.removed:
                what.append(f"{len(rep.removed)} removed ({', '.join(rep.removed[:5])})")
            click.echo(f"updated {db} in {dt:.2f}s: {'; '.join(what)}; {found} for them")
        else:
            click.echo(f"{db} is up to date ({dt:.2f}s): no document changed")
    return rep.counts


@click.group()
@click.version_option(package_name="claimkb")
def cli() -> None:
    """claimkb: claims, equations and references of documents, with their evidence status."""


data_option = click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA, show_default=True, help="Folder with vocabulary.yaml, documents/ and sources/.")
db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB, show_default=True, help="SQLite database to write or serve.")


@cli.command()
@data_option
@db_option
@click.option("--workers", type=int, default=0, show_default=True, help="Processes that parse, anchor and check documents (0: one per CPU when there are 40 documents or more).")
@click.option("--full", is_flag=True, help="Rebuild everything, even if only some documents changed.")
def build(data: Path, db: Path, workers: int, full: bool) -> None:
    """Validate, then write the database: only the changed documents when it can (see README)."""
    do_build(data, db, workers=workers, full=full)


@cli.command()
@data_option
def validate(data: Path) -> None:
    """Check the data files without writing anything."""
    kb = _load(data)
    findings = run_checks(kb)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        from .checks import report

        click.echo(report(findings, only_errors=True), err=True)
        sys.exit(1)
    n = sum(len(ld.doc.claims) for ld in kb.documents)
    click.echo(f"ok: {len(kb.documents)} documents, {n} claims, every quote anchored")


def datasette_args(db: Path, host: str, port: int) -> list[str]:
    """The datasette command line that serves the knowledge base read-only.

    Not `-i` (immutable): an incremental build updates the database in place, in a
    WAL-mode transaction, so Datasette opens it as a normal file with ?mode=ro:
    read-only connections that see each update once it is committed, never half of one."""
    args = [
        sys.executable, "-m", "datasette", "serve",
        str(db),
        "--host", host,
        "--port", str(port),
        "--metadata", str(SITE / "metadata.yml"),
    ]
    for opt, sub in (("--template-dir", "templates"), ("--plugins-dir", "plugins")):
        if (SITE / sub).is_dir() and any((SITE / sub).iterdir()):
            args += [opt, str(SITE / sub)]
    if (SITE / "static").is_dir():
        args += ["--static", f"static:{SITE / 'static'}"]
    settings_file = SITE / "settings.json"
    if settings_file.exists():
        for k, v in json.loads(settings_file.read_text()).items():
            args += ["--setting", k, str(v)]
    return args


@cli.command()
@data_option
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
def serve(data: Path, db: Path, host: str, port: int) -> None:
    """Build (only what changed), then serve the database read-only with Datasette."""
    do_build(data, db)
    args = datasette_args(db, host, port)
    click.echo(f"serving {db} read-only at http://{host}:{port}/  (Ctrl-C to stop; `claimkb build` in another shell updates it live)", err=True)
    sys.stdout.flush()
    os.execv(sys.executable, args)


@cli.command()
@db_option
def stats(db: Path) -> None:
    """Counts of claims per document and evidence status."""
    if not db.exists():
        click.echo(f"{db} does not exist: run `claimkb build` first", err=True)
        sys.exit(1)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    statuses = [r[0] for r in conn.execute("select term from evidence_statuses order by rank")]
    counts: dict[str, dict[str, int]] = {}
    for doc, status, n in conn.execute("select document_id, status, count(*) from claims group by 1, 2"):
        counts.setdefault(doc, {})[status] = n
    docs = [r[0] for r in conn.execute("select id from documents order by id")]
    width = max([len("document")] + [len(d) for d in docs])
    head = f"{'document':<{width}}  " + "  ".join(f"{s:>{max(len(s), 4)}}" for s in statuses) + "  total"
    click.echo(head)
    total: dict[str, int] = {}
    for d in docs:
        row = counts.get(d, {})
        for s, n in row.items():
            total[s] = total.get(s, 0) + n
        click.echo(f"{d:<{width}}  " + "  ".join(f"{row.get(s, 0):>{max(len(s), 4)}}" for s in statuses) + f"  {sum(row.values()):>5}")
    click.echo(f"{'all':<{width}}  " + "  ".join(f"{total.get(s, 0):>{max(len(s), 4)}}" for s in statuses) + f"  {sum(total.values()):>5}")
    for table in ("equations", "bibliography", "evidence", "claim_links", "checks"):
        click.echo(f"{table}: {conn.execute(f'select count(*) from [{table}]').fetchone()[0]}")


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("schema/document.schema.json"), show_default=True)
def schema(out: Path) -> None:
    """Write the JSON Schema of a document file (for editors)."""
    from .jsonschema import document_schema_text

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document_schema_text(), encoding="utf-8")
    click.echo(f"wrote {out}")


#: commands that live in their own modules ("module:attribute"); a module that
#: does not exist yet is skipped, one that fails to import is an error.
EXTENSIONS = (
    "claimkb.docs:docs",
    "claimkb.checks.cli:check",
    "claimkb.export:export",
    "claimkb.new:new",
    "claimkb.bench:bench",
)


def _register_extensions() -> None:
    import importlib
    import importlib.util

    for spec in EXTENSIONS:
        module, attr = spec.split(":")
        try:
            found = importlib.util.find_spec(module)
        except ModuleNotFoundError:  # parent package missing
            found = None
        if found is not None:
            cli.add_command(getattr(importlib.import_module(module), attr))


_register_extensions()


def main() -> None:  # pragma: no cover - entry point
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
