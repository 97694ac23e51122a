"""Models -> SQLite: `claimkb build`, full or incremental, and the database's shape.

Owns the database: its shape (``schema``, ``summaries``), the rows of a document
(``rows``), the per-document stage of a build (``process``), the full build into a new
file (``full``, ``write``, ``side``) and the update in place (``incremental``). Both
builds, and ``read`` (what `claimkb validate` and `claimkb check` run), process the
documents the same way and hand them to the one judge (``claimkb.judge``).

May import: model, problems, fileio, ingest, checks, judge, match.normalise.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from .full import BuildReport, CheckErrors, Reading, full_build, read_all
from .incremental import Plan, update
from .write import DiskFull, build_lock, remove_stale_temp_files

__all__ = ["BuildReport", "CheckErrors", "DiskFull", "Reading", "build", "code_fingerprint", "read"]

#: libraries whose version changes what a build writes
_LIBRARIES = (
    "pydantic",
    "PyYAML",
    "latex2mathml",
    "sympy",
    "scipy",
    "pint",
    "sqlite-utils",
    "rapidfuzz",
    "nh3",
)


def code_fingerprint() -> str:
    """The code and libraries a database's content depends on (not the site, which only
    reads it, nor the commands around the build)."""
    root = Path(__file__).parent.parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root).as_posix()
        if rel.startswith(("site/", "cli/", "bench/", "draft/", "exports/")):
            continue
        h.update(rel.encode() + b"\0" + f.read_bytes() + b"\0")
    versions = [sys.version, sqlite3.sqlite_version]
    for dist in _LIBRARIES:
        try:
            versions.append(f"{dist}={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist}=none")
    h.update("|".join(versions).encode())
    return h.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def build(data_dir: Path, db_path: Path, *, workers: int = 0, full: bool = False) -> BuildReport:
    """Build db_path from data_dir: incrementally when it can, else in full.

    Raises DataError (problems in the data), CheckErrors or DiskFull; then nothing was
    written and the previous database is as it was."""
    data_dir, db_path = Path(data_dir), Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    code = code_fingerprint()
    with build_lock(db_path):
        remove_stale_temp_files(db_path)  # what a killed full build left
        reason = "--full" if full else "no database yet"
        if not full and db_path.exists():
            plan = Plan.make(data_dir, db_path, code)
            if plan.full_reason is None:
                report = update(plan, data_dir, db_path, workers=workers, now=_now())
                if report is not None:
                    return report
                reason = (
                    "machine checks span documents (an incremental update cannot re-judge them)"
                )
            else:
                reason = plan.full_reason
        info = {"code": code, "built_at": _now(), "mode": "full"}
        report = full_build(data_dir, db_path, workers=workers, info=info)
        report.reason = reason
        return report


def read(data_dir: Path, *, workers: int = 0, keep: bool = False) -> Reading:
    """Read and judge every document exactly as a full build does, and write nothing."""
    _vocab, reading = read_all(Path(data_dir), workers=workers, keep=keep)
    return reading
