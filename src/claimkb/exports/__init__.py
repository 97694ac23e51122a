"""Exports of the built database: ClaimReview and Web Annotation JSON-LD, BibTeX, CSL-JSON,
JSON Lines, CSV.

Every export reads the SQLite database written by ``claimkb build`` (never the
YAML files), so what is exported is exactly what Datasette serves.

May import: build (the schema's table names), identifiers, fileio, ingest (the anchoring
context length).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class ExportError(Exception):
    """An export that cannot be made (missing database, bad option); the message says what to do."""


def connect_ro(db: Path) -> sqlite3.Connection:
    """Open the built database read-only, or raise ExportError."""
    db = Path(db)
    if not db.is_file():
        raise ExportError(f"{db} does not exist: run `claimkb build` first (or pass --db)")
    try:
        conn = sqlite3.connect(f"file:{db.resolve()}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise ExportError(
            f"{db} is not a claimkb database ({e}): rebuild it with `claimkb build`"
        ) from None
    missing = {"documents", "claims", "bibliography", "evidence", "evidence_statuses"} - tables
    if missing:
        raise ExportError(
            f"{db} is not a claimkb database (no table {', '.join(sorted(missing))}): rebuild it "
            "with `claimkb build`"
        )
    return conn


FORMATS = ("claimreview", "web-annotation", "bibtex", "csl-json", "jsonl", "csv")
