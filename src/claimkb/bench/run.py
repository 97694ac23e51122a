"""`claimkb bench`: build and serve a synthetic corpus of N claims, and measure it.

One run measures, on this machine, side by side:

* build_s, peak_rss_mb: a cold `claimkb build` (the real command, in a subprocess:
  parse, validate, anchor, check, write, full-text index) of a synthetic corpus
  (claimkb.bench.synth); build_phases: the write phases inside it;
* baseline_s: raw sqlite3 executemany of the very same rows (read back from the
  built database) into bare tables, in one transaction; write_ratio: the build's
  write phase (table creation and executemany of every row into the real tables,
  with their primary keys) over that baseline; write_ratio_with_indexes adds the
  building of the secondary indexes;
* incremental_s: `claimkb build` again after one document changed;
* from a real Datasette serving that database with the project's options
  (site.serve_args): p95 latency of a rare and a common full-text search and
  of the pages (claims table, faceted claims table, claim page, document page,
  reading view); requests per second and errors under concurrent load; whether
  any facet came back empty or timed out.

The corpus and the databases live under --dir (default bench/, which git ignores),
never under data/.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from ..site.serve import serve_args
from . import synth

#: the targets of issue 7 at one million claims (the bench reports which are met)
TARGETS = {
    "build_s": ("<", 60.0),
    "peak_rss_total_mb": ("<", 2048.0),  # the build and its workers together
    "write_ratio": ("<=", 1.5),
    "incremental_s": ("<", 2.0),
    # the search readers use (the site's, ranked across four tables); Datasette's own
    # table search is timed beside it (search_*_p95_ms) and must only answer
    "site_search_rare_p95_ms": ("<", 20.0),
    "site_search_common_p95_ms": ("<", 500.0),
    "page_p95_ms": ("<", 100.0),
    "errors": ("==", 0),
}

FACETS = ("status", "claim_type", "voice")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        ds_version = importlib.metadata.version("datasette")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        ds_version = None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "datasette": ds_version,
        "platform": platform.platform(),
    }


# --------------------------------------------------------------------------- corpus


def prepare_corpus(corpus: Path, n_claims: int, seed: int) -> float:
    """Generate the corpus unless an identical one is already there; return seconds spent."""
    stamp = corpus / ".synth.json"
    want = {"claims": n_claims, "seed": seed, "version": synth.VERSION}
    if stamp.exists() and json.loads(stamp.read_text()) == want:
        synth.restore_document(corpus, 0, n_claims, seed=seed)  # undo a previous run's edit
        return 0.0
    t = time.perf_counter()
    synth.generate(corpus, n_claims, seed=seed)
    stamp.write_text(json.dumps(want))
    return time.perf_counter() - t


# --------------------------------------------------------------------------- build


def run_build(
    data: Path,
    db: Path,
    workers: int,
    timings: Path,
    *extra: str,
    maxrss_is_its_own: bool = False,
) -> tuple[float, float, dict[str, float]]:
    """Run `claimkb build` as a subprocess.

    Returns (wall seconds, peak RSS MiB of any of its processes, phases).

    phases also get "cpu_s": user + system CPU seconds of the build and its workers
    (less sensitive than wall time to other jobs sharing the machine)."""
    timings.unlink(missing_ok=True)
    env = dict(os.environ, CLAIMKB_TIMINGS=str(timings))
    cmd = [
        sys.executable,
        "-m",
        "claimkb",
        "build",
        "--data",
        str(data),
        "--db",
        str(db),
        "--workers",
        str(workers),
        *extra,
    ]
    t = time.perf_counter()
    errfile = timings.with_suffix(".stderr")
    with open(errfile, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        sampler = _TreeRss(proc.pid)
        sampler.start()
        # wait4 gives this child's resource usage; its ru_maxrss is the largest
        # resident set of the child and of the worker processes it waited for
        _, status, usage = os.wait4(proc.pid, 0)
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
    dt = time.perf_counter() - t
    if proc.returncode != 0:
        raise click.ClickException(
            f"build failed ({proc.returncode}):\n{errfile.read_text()[-3000:]}"
        )
    rss = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime
    phases = {}
    if timings.exists():
        lines = timings.read_text().splitlines()
        if lines:
            phases = json.loads(lines[-1])
    phases["cpu_s"] = round(cpu, 2)
    # the sampled sum, which a 0.1 s sampler may undershoot, so never below the largest single
    # process -- when wait4's figure is the build's own: ru_maxrss of a child forked from this
    # process after it held a lot of memory (baseline()) starts at this process's size, as
    # Linux keeps the high-water mark across exec
    sampled = sampler.peak / 1024
    phases["peak_rss_total_mb"] = round(max(sampled, rss) if maxrss_is_its_own else sampled, 1)
    return dt, rss, phases


class _TreeRss(threading.Thread):
    """Samples the summed resident set (VmRSS) of a process and all its descendants every
    0.1 s: the build's memory with its worker processes together (ru_maxrss only gives the
    largest single process)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._halt = pid, 0, threading.Event()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat", "rb") as fh:
                        ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(d))
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += children.get(p, [])
        return out

    def run(self) -> None:
        while not self._halt.wait(0.1):
            total = 0
            for p in self._tree():
                try:
                    with open(f"/proc/{p}/status", "rb") as fh:
                        for line in fh:
                            if line.startswith(b"VmRSS:"):
                                total += int(line.split()[1])
                except OSError:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def baseline(db: Path, scratch: Path) -> tuple[float, int]:
    """Raw executemany of every row of db into bare tables of a fresh file, one transaction."""
    from ..build.schema import TABLES

    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    data = {
        t.name: src.execute(
            f"select {', '.join(f'[{c}]' for c in t.columns)} from [{t.name}]"
        ).fetchall()
        for t in TABLES
    }
    src.close()
    scratch.unlink(missing_ok=True)
    n = 0
    t0 = time.perf_counter()
    conn = sqlite3.connect(scratch, isolation_level=None)
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    conn.execute("begin")
    for t in TABLES:
        cols = list(t.columns)
        conn.execute(f"create table [{t.name}] ({', '.join(f'[{c}]' for c in cols)})")
        conn.executemany(
            f"insert into [{t.name}] values ({', '.join('?' for _ in cols)})", data[t.name]
        )
        n += len(data[t.name])
    conn.execute("commit")
    conn.close()
    dt = time.perf_counter() - t0
    scratch.unlink(missing_ok=True)
    return dt, n


#: columns that say when and in which order a database was written, not what it holds
VOLATILE = {"build_info": None, "build_files": ("mtime_ns",), "checks": ("id",)}


def table_contents(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without the VOLATILE columns (None: table left out)."""
    from ..build.schema import TABLES

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {}
        names = [t.name for t in TABLES] + [
            r[0]
            for r in conn.execute(
                "select name from sqlite_master where type = 'table' and name like '%facet_counts'"
            )
        ]
        for name in dict.fromkeys(names):
            if name in VOLATILE and VOLATILE[name] is None:
                continue
            cols = [
                r[1]
                for r in conn.execute(f"pragma table_info([{name}])")
                if r[1] not in (VOLATILE.get(name) or ())
            ]
            rows = conn.execute(
                f"select {', '.join(f'[{c}]' for c in cols)} from [{name}]"
            ).fetchall()
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def same_database(a: Path, b: Path) -> bool:
    """a and b hold the same rows in every table (in any order; build times and finding
    numbers aside): what a full build and an incremental update must agree on."""
    return table_contents(a) == table_contents(b)


# --------------------------------------------------------------------------- serving


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `datasette serve` subprocess with the project's options."""

    def __init__(self, db: Path, extra: list[str] | None = None):

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = serve_args(db, "127.0.0.1", self.port) + (extra or [])
        self.log = open(db.with_suffix(".datasette.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 120.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"datasette exited with {self.proc.returncode}; see {self.log.name}"
                )
            try:
                if httpx.get(self.base + "/-/versions.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("datasette did not start in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self) -> Server:
        try:
            self.wait()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def p95(samples: list[float]) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def page_urls(db: Path) -> dict[str, str]:
    """The reader pages to time (the site's own routes), for the first document's records."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        doc_id = conn.execute("select id from documents order by id limit 1").fetchone()[0]
        claim_id = conn.execute(
            "select id from claims where document_id = ? order by position limit 1", (doc_id,)
        ).fetchone()[0]
        ref = conn.execute("select id from bibliography order by id limit 1").fetchone()
    finally:
        conn.close()
    urls = {
        "home": "/",
        "claim page": f"/claim/{quote(claim_id, safe='')}",
        "document page": f"/document/{quote(doc_id, safe='')}",
        "reading view": f"/document/{quote(doc_id, safe='')}/read",
        "claims list": "/claims",
        "claims filtered": "/claims?status=supported",
        "question": "/questions/status-counts",
    }
    if ref:
        urls["reference page"] = f"/reference/{quote(ref[0], safe='')}"
    return urls


def datasette_urls(db: Path) -> dict[str, str]:
    """Datasette's own pages of the same data: the baseline the reader pages are timed
    against in the same run (the table, a facet, a row)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        claim_id = conn.execute("select id from claims order by rowid limit 1").fetchone()[0]
    finally:
        conn.close()
    return {
        "datasette claims table": "/claimkb/claims",
        "datasette claims faceted": "/claimkb/claims?_facet=status",
        "datasette claim row": f"/claimkb/claims/{quote(claim_id, safe='')}",
    }


def time_urls(
    client: Any, urls: dict[str, str], repeat: int
) -> tuple[dict[str, float], dict[str, int]]:
    """p95 ms per URL over `repeat` sequential requests (after one warm-up); non-200 counts."""
    out, bad = {}, {}
    for name, url in urls.items():
        client.get(url)
        samples = []
        for _ in range(repeat):
            t = time.perf_counter()
            r = client.get(url)
            samples.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                bad[name] = bad.get(name, 0) + 1
        out[name] = round(p95(samples), 2)
    return out, bad


def check_facets(client: Any) -> dict[str, Any]:
    """Ask for every facet at once; report any that timed out or came back empty."""
    r = client.get("/claimkb/claims.json?" + "&".join(f"_facet={f}" for f in FACETS) + "&_size=1")
    if r.status_code != 200:
        return {"status": r.status_code, "empty": list(FACETS), "timed_out": []}
    data = r.json()
    results = data.get("facet_results", {})
    if isinstance(results, dict) and "results" in results and isinstance(results["results"], dict):
        results = results["results"]  # newer Datasette shape
    empty = [f for f in FACETS if not (results.get(f) or {}).get("results")]
    return {"status": 200, "empty": empty, "timed_out": list(data.get("facets_timed_out") or [])}


async def _load(base: str, urls: list[str], connections: int, seconds: float) -> dict[str, Any]:
    import httpx

    done = 0
    errors: dict[str, int] = {}
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(k: int) -> None:
            nonlocal done
            i = k
            while time.monotonic() < stop_at:
                url = urls[i % len(urls)]
                i += 1
                t = time.perf_counter()
                try:
                    r = await client.get(url)
                    if r.status_code != 200:
                        key = f"HTTP {r.status_code} {url}"
                        errors[key] = errors.get(key, 0) + 1
                except httpx.HTTPError as e:
                    key = f"{type(e).__name__} {url}"
                    errors[key] = errors.get(key, 0) + 1
                latencies.append((time.perf_counter() - t) * 1000)
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(connections)))
        elapsed = time.perf_counter() - t0
    return {
        "load_requests": done,
        "load_rps": round(done / elapsed, 1),
        "load_p95_ms": round(p95(latencies), 1) if latencies else None,
        "errors": sum(errors.values()),
        "error_detail": errors,
    }


def serve_measurements(
    db: Path, *, repeat: int, connections: int, load_seconds: float
) -> dict[str, Any]:
    import httpx

    out: dict[str, Any] = {}
    with Server(db) as srv, httpx.Client(base_url=srv.base, timeout=60) as client:
        urls = page_urls(db)
        baseline = datasette_urls(db)
        searches = {  # Datasette's full-text search of one table
            "search rare": f"/claimkb/claims?_search={synth.RARE_TERM}",
            "search common": f"/claimkb/claims?_search={synth.COMMON_TERM}",
        }
        site_searches = {  # the site's search: ranked, with snippets, across four tables
            "site search rare": f"/search?q={synth.RARE_TERM}",
            "site search common": f"/search?q={synth.COMMON_TERM}",
        }
        s, bad_s = time_urls(client, searches, repeat)
        ss, bad_ss = time_urls(client, site_searches, repeat)
        bad_s.update(bad_ss)
        pages, bad_p = time_urls(client, urls, repeat)
        base, bad_b = time_urls(client, baseline, repeat)
        bad_p.update(bad_b)
        out["search_rare_p95_ms"] = s["search rare"]
        out["search_common_p95_ms"] = s["search common"]
        out["site_search_rare_p95_ms"] = ss["site search rare"]
        out["site_search_common_p95_ms"] = ss["site search common"]
        out["page_p95_by_url"] = {f"{k} {urls[k]}": v for k, v in pages.items()}
        out["page_p95_ms"] = max(pages.values())
        out["datasette_p95_by_url"] = {f"{k} {baseline[k]}": v for k, v in base.items()}
        out["datasette_p95_ms"] = max(base.values())
        facets = check_facets(client)
        out["facets"] = facets
        out["facets_silently_empty"] = bool(
            facets["empty"] or facets["timed_out"] or facets["status"] != 200
        )
        every = [*urls.values(), *site_searches.values()]  # what readers reach from home
        load = asyncio.run(_load(srv.base, every, connections, load_seconds))
        load["errors"] += sum(bad_s.values()) + sum(bad_p.values())
        out.update(load)
        out["server_alive_after_load"] = client.get("/-/versions.json").status_code == 200
    return out


# --------------------------------------------------------------------------- command


def targets_met(res: dict[str, Any]) -> None:
    met = {}
    for key, (op, target) in TARGETS.items():
        v = res.get(key)
        if v is None:
            continue
        met[key] = {"<": v < target, "<=": v <= target, "==": v == target}[op]
    met["no_silently_empty_facet"] = not res["facets_silently_empty"]
    res["targets"] = {k: f"{op} {t}" for k, (op, t) in TARGETS.items()}
    res["targets_met"] = met


def run_serve_only(
    n_claims: int,
    work: Path,
    *,
    repeat: int = 30,
    connections: int = 32,
    load_seconds: float = 10.0,
    log=print,
) -> dict[str, Any]:
    """Only the serving figures, on the database an earlier run built in --dir.

    No corpus is generated and nothing is built."""
    db = Path(work).resolve() / f"db-{n_claims}" / "claimkb.db"
    if not db.exists():
        raise click.ClickException(
            f"{db} does not exist: run `claimkb bench --claims {n_claims}` once without "
            "--serve-only"
        )
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    claims = conn.execute("select count(*) from claims").fetchone()[0]
    conn.close()
    res: dict[str, Any] = {
        "claims": claims,
        "serve_only": True,
        "db": str(db),
        "machine": machine(),
        "db_mb": round(db.stat().st_size / 1e6, 1),
    }
    log(f"serving {db} ({claims} claims) with datasette ...")
    res.update(
        serve_measurements(db, repeat=repeat, connections=connections, load_seconds=load_seconds)
    )
    log(
        f"  search rare {res['search_rare_p95_ms']} ms, common {res['search_common_p95_ms']} ms, "
        f"site search rare {res['site_search_rare_p95_ms']} ms, common "
        f"{res['site_search_common_p95_ms']} ms, pages {res['page_p95_ms']} ms, "
        f"{res['load_rps']} req/s, {res['errors']} errors, facets empty/timed out: "
        f"{res['facets_silently_empty']}"
    )
    targets_met(res)
    return res


def run(
    n_claims: int,
    work: Path,
    *,
    workers: int,
    seed: int = 1,
    repeat: int = 30,
    connections: int = 32,
    load_seconds: float = 10.0,
    verify_incremental: bool = False,
    log=print,
) -> dict[str, Any]:
    work = Path(work).resolve()
    corpus = work / f"corpus-{n_claims}"
    dbdir = work / f"db-{n_claims}"
    dbdir.mkdir(parents=True, exist_ok=True)
    db = dbdir / "claimkb.db"  # Datasette names the database after the file: /claimkb/...
    timings = dbdir / "timings.jsonl"
    res: dict[str, Any] = {
        "claims": n_claims,
        "workers": workers,
        "seed": seed,
        "machine": machine(),
    }

    log(f"corpus: {corpus}")
    res["generate_s"] = round(prepare_corpus(corpus, n_claims, seed), 2)
    res["documents"] = len(list((corpus / "documents").glob("*.yaml")))
    res["corpus_mb"] = round(
        sum(f.stat().st_size for f in corpus.rglob("*") if f.is_file()) / 1e6, 1
    )

    db.unlink(missing_ok=True)
    log("cold build ...")
    res["build_s"], res["peak_rss_mb"], res["build_phases"] = run_build(
        corpus, db, workers, timings, maxrss_is_its_own=True
    )  # before baseline()
    res["build_s"] = round(res["build_s"], 2)
    res["peak_rss_mb"] = round(res["peak_rss_mb"], 1)
    res["peak_rss_total_mb"] = res["build_phases"].pop("peak_rss_total_mb", None)
    res["db_mb"] = round(db.stat().st_size / 1e6, 1)
    ph = res["build_phases"]
    # the work the baseline also does: create the tables and executemany every row (in
    # the build that includes the primary-key and NOT NULL constraints); the secondary
    # indexes, full-text index, foreign-key check and ANALYZE are separate phases
    res["write_s"] = round(ph.get("create", 0) + ph.get("insert", 0), 3)
    res["index_s"] = ph.get("index", 0)
    # what happens before the write: start-up, parse, validate, anchor, cross-check, machine checks
    res["load_and_check_s"] = round(
        res["build_s"] - sum(v for k, v in ph.items() if k != "cpu_s"), 2
    )
    log(f"  {res['build_s']} s, peak {res['peak_rss_mb']} MiB; phases {ph}")

    log("baseline (raw executemany of the same rows) ...")
    res["baseline_s"], res["rows"] = baseline(db, dbdir / "baseline.db")
    res["baseline_s"] = round(res["baseline_s"], 3)
    res["write_ratio"] = round(res["write_s"] / res["baseline_s"], 2) if res["baseline_s"] else None
    res["write_ratio_with_indexes"] = (
        round((res["write_s"] + res["index_s"]) / res["baseline_s"], 2)
        if res["baseline_s"]
        else None
    )
    log(f"  {res['baseline_s']} s for {res['rows']} rows; write_ratio {res['write_ratio']}")

    log("build again, nothing changed ...")
    res["rebuild_unchanged_s"] = round(run_build(corpus, db, workers, timings)[0], 2)
    log(f"  {res['rebuild_unchanged_s']} s")
    log("incremental build after one document changed ...")
    synth.touch_document(corpus, 0)
    res["incremental_s"], res["incremental_peak_rss_mb"], res["incremental_phases"] = run_build(
        corpus, db, workers, timings
    )
    res["incremental_s"] = round(res["incremental_s"], 2)
    # the sampled process-tree figure: ru_maxrss of builds started after baseline() is not theirs
    res["incremental_peak_rss_mb"] = res["incremental_phases"].get("peak_rss_total_mb")
    log(f"  {res['incremental_s']} s")
    if verify_incremental:
        full = dbdir / "full" / "claimkb.db"
        if full.parent.exists():
            shutil.rmtree(full.parent)
        full.parent.mkdir()
        subprocess.run(
            [sys.executable, "-m", "claimkb", "build", "--data", str(corpus), "--db", str(full)],
            check=True,
            capture_output=True,
        )
        res["incremental_identical_to_full"] = same_database(db, full)
        shutil.rmtree(full.parent)
    log(
        "full rebuild over the existing database (--full: written aside, then copied in with the "
        "backup API) ..."
    )
    res["full_rebuild_s"], res["full_rebuild_peak_rss_mb"], res["full_rebuild_phases"] = run_build(
        corpus, db, workers, timings, "--full"
    )
    res["full_rebuild_s"] = round(res["full_rebuild_s"], 2)
    res["full_rebuild_peak_rss_mb"] = res["full_rebuild_phases"].get("peak_rss_total_mb")
    log(f"  {res['full_rebuild_s']} s")

    log("serving with datasette ...")
    res.update(
        serve_measurements(db, repeat=repeat, connections=connections, load_seconds=load_seconds)
    )
    log(
        f"  search rare {res['search_rare_p95_ms']} ms, common {res['search_common_p95_ms']} ms, "
        f"pages {res['page_p95_ms']} ms, {res['load_rps']} req/s, {res['errors']} errors, facets "
        f"empty/timed out: {res['facets_silently_empty']}"
    )

    targets_met(res)
    return res
