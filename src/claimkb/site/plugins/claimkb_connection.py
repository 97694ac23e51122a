"""Connection settings for a claimkb database served immutable (`datasette -i`, release files).

Datasette opens one SQLite connection per SQL thread with SQLite's default page
cache of 2 MB, so every facet over a million claims re-reads its index through
pread() calls. Memory-mapping the file lets SQLite read pages straight from the
operating system's file cache instead (the mapping is shared, read-only, and
costs no memory of its own). Measured at 1M claims: see BENCHMARKS.md. A database served
read-only but updatable (`claimkb serve`, WAL mode) is left as SQLite opens it: mapping
it brought no measurable gain on the benchmarked pages there (docs/site.md).
"""

from __future__ import annotations

from datasette import hookimpl

#: upper bound of the mapping per connection (SQLite maps at most the file's size)
MMAP_BYTES = 4 << 30


@hookimpl
def prepare_connection(conn, database, datasette):
    db = datasette.databases.get(database)
    # only files Datasette serves read-only; never the internal or in-memory databases
    if db is None or db.is_memory or db.is_mutable:
        return
    conn.execute(f"pragma mmap_size={MMAP_BYTES}")
