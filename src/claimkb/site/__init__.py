"""The web layer: Datasette, configured and extended through its documented surface only.

It knows the database and nothing else: every page reads the SQLite file through
Datasette, never the Python models. ``serve_args`` is the datasette command line that
serves a built database read-only. May import: nothing from claimkb outside site/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SITE = Path(__file__).parent


def serve_args(db: Path, host: str, port: int) -> list[str]:
    """The datasette command line that serves the knowledge base read-only.

    Not `-i` (immutable): an incremental build updates the database in place, in a
    WAL-mode transaction, so Datasette opens it as a normal file with ?mode=ro:
    read-only connections that see each update once it is committed, never half of one."""
    args = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(db),
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(SITE / "metadata.yml"),
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
