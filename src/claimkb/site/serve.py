"""The datasette command line that serves a knowledge base (no Datasette import here)."""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path


def settings() -> dict[str, object]:
    """What a request may cost (settings.json next to this file)."""
    return json.loads((files("claimkb.site") / "settings.json").read_text(encoding="utf-8"))


def serve_args(
    db: Path, host: str, port: int, *, base_url: str | None = None, immutable: bool = False
) -> list[str]:
    """The datasette command line that serves the knowledge base read-only. The site itself
    is the claimkb plugin, which Datasette finds installed in this environment.

    Not immutable by default: an incremental build updates the database in place, in a
    WAL-mode transaction, so Datasette opens it as a normal file with ?mode=ro (read-only
    connections that see each update once it is committed). A release that will not change
    is served with ``immutable`` (``-i``): then hashed URLs and long-lived caching apply."""
    args = [sys.executable, "-m", "datasette", "serve", "--host", host, "--port", str(port)]
    args += ["-i", str(db)] if immutable else [str(db)]
    for key, value in settings().items():
        args += ["--setting", key, str(value).lower() if isinstance(value, bool) else str(value)]
    if base_url:
        args += _plugin_option(db, "base_url", base_url)
    return args


def _plugin_option(db: Path, key: str, value: str) -> list[str]:
    """Plugin configuration: -s on Datasette 1.0; on 0.65, which has no such option, a
    metadata file next to the database (written again at every start)."""
    if not version("datasette").startswith("0."):
        return ["-s", f"plugins.claimkb.{key}", value]
    path = db.with_name(f".{db.name}.metadata.json")
    path.write_text(json.dumps({"plugins": {"claimkb": {key: value}}}), encoding="utf-8")
    return ["-m", str(path)]
