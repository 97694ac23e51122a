"""The web layer: a Datasette plugin that adds reader pages to any claimkb database.

It knows the database and nothing else: every page reads the SQLite file through
Datasette (never the Python models), whatever name the file is served under, and leaves
every other database served beside it plain Datasette. It extends Datasette only through
documented plugin hooks (``hooks``), its own routes (``pages``) and templates that extend
Datasette's ``base.html`` through its blocks. Installed as the ``claimkb`` plugin (an entry
point), so ``claimkb serve`` and a plain ``datasette kb.db`` give the same site.

May import: datasette (its public names), markupsafe, and claimkb.exports.claimreview
(which reads rows of the database, not models).
"""

from __future__ import annotations

# the hook implementations: pluggy finds them among this package's names (the package is the
# plugin, so that Datasette finds its templates/ and static/ beside it)
from .hooks import (  # noqa: F401
    asgi_wrapper,
    extra_css_urls,
    extra_js_urls,
    get_metadata,
    prepare_connection,
    register_routes,
    render_cell,
    startup,
)
