"""A new document: store its source text and write a draft document file for a curator.

The text is copied byte-identical to ``<data>/sources/<ID>.txt`` and its sha256
recorded; ``<data>/documents/<ID>.yaml`` gets a draft with the numbered
equations, the reference list and the candidate claim sentences that
:mod:`claimkb.draft.analyze` finds, every one ``not assessed`` and every quote
anchoring. The draft is validated with the real loader before anything is
written, so it loads and builds as it is.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..fileio import atomic_write
from ..ingest.load import parse_document, record_ids
from ..model import ID_PATTERN
from .analyze import analyze, citation_labels

SCHEMA_FILE = Path("schema") / "document.schema.json"

#: a claim statement -> the likely restated claims of the knowledge base, (id, score) best
#: first (claimkb.match.search.Matcher.likely)
Proposer = Callable[[str], list[tuple[str, float]]]


class NewError(Exception):
    """A draft that cannot be written; the message says why and what to do."""


# --------------------------------------------------------------------------- YAML


class _Dumper(yaml.SafeDumper):
    """Block style, sequences indented under their key (as in the curated files)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: D401
        return super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump_yaml(data: dict[str, Any]) -> str:
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
        indent=2,
    )
    if yaml.safe_load(text) != data:  # never write a file that reads back differently
        text = yaml.dump(
            data,
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=float("inf"),
            indent=2,
        )
        if yaml.safe_load(text) != data:  # pragma: no cover - PyYAML round-trips its own output
            raise NewError("internal error: the draft YAML does not read back as written")
    return text


# --------------------------------------------------------------------------- the draft


def default_prefix(doc_id: str) -> str:
    m = re.match(r"^(\d+)_", doc_id)
    return m.group(1) if m else doc_id


def existing_ids(documents_dir: Path, skip: Path) -> dict[str, str]:
    """Record id -> file, over the other document files (unreadable files are skipped)."""
    out: dict[str, str] = {}
    for p in sorted(documents_dir.glob("*.yaml")):
        if p.resolve() != skip.resolve():
            out.update(dict.fromkeys(record_ids(p), p.name))
    return out


def build_draft(
    text: str,
    *,
    doc_id: str,
    sha256: str,
    prefix: str,
    title: str | None,
    kind: str,
    received_from: str,
    today: str,
) -> tuple[dict[str, Any], list[str]]:
    """The draft document (a plain dict in the file's key order) and warnings for the user."""
    a = analyze(text)
    warnings: list[str] = []
    found_title = title or a.title
    if not found_title:
        found_title = f"Untitled ({Path(received_from).name})"
        warnings.append("no title found in the text: set `title` (or pass --title)")
    refs = _reference_records(a.references, prefix)
    if not a.references:
        warnings.append(
            "no reference list found (a References or Bibliography heading with numbered or "
            "bulleted entries): add `bibliography` entries by hand"
        )
    eqs = [_equation_record(e, f"{prefix}-eq{n:02d}") for n, e in enumerate(a.equations, 1)]
    claims, unresolved = _claim_records(a.sentences, prefix, {r.label for r in a.references})
    if unresolved and a.references:
        warnings.append(
            f"{unresolved} citation marker(s) name a label the reference list does not have; they "
            "were left out of `cites`"
        )

    doc: dict[str, Any] = {
        "id": doc_id,
        "title": found_title,
        "authors": [],
        "kind": kind,
        "draft": True,
        "sha256": sha256,
        "received_from": received_from,
        "metadata_notes": (
            f"Draft written by `claimkb new` on {today}: title, authors, year, venue and kind are "
            "not yet verified; every record below is a machine-found candidate, not assessed."
        ),
        "claims": claims,
        "equations": eqs,
        "bibliography": refs,
    }
    return doc, warnings


def _first_free(first: str, stem: str, taken: set[str]) -> str:
    """`first`, else stem + "2", stem + "3", ...: the first one not in `taken` (then added)."""
    out, k = first, 1
    while out in taken:
        k += 1
        out = f"{stem}{k}"
    taken.add(out)
    return out


def _reference_records(references: list[Any], prefix: str) -> list[dict[str, Any]]:
    """The bibliography records, with unique labels and ids.

    A list that mixes bullets and numbers can repeat a label: the repeat becomes
    ``<label>.2`` (and so on), which is also written back into the found reference.
    """
    refs = []
    seen_ref_ids: set[str] = set()
    seen_labels: set[str] = set()
    for n, r in enumerate(references, 1):
        r.label = _first_free(r.label, f"{r.label}.", seen_labels)
        rid = f"{prefix}-ref{int(r.label):02d}" if r.label.isdigit() else f"{prefix}-ref{n:02d}"
        rid = _first_free(rid, f"{prefix}-ref{n:02d}-", seen_ref_ids)
        refs.append(_reference_record(r, rid))
    return refs


def _reference_record(r: Any, rid: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": rid, "label": r.label, "quote": r.quote}
    if r.occurrence:
        rec["occurrence"] = r.occurrence
    for k in ("doi", "isbn", "arxiv_id", "url"):
        v = getattr(r, k)
        if v:
            rec[k] = v
    rec["citation_status"] = "not checked"
    if r.problems:
        rec["problems"] = list(r.problems)
    rec["status"] = "not assessed"
    return rec


def _equation_record(e: Any, eid: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": eid}
    if e.label:
        rec["label"] = e.label
    if e.latex:
        rec["latex"] = e.latex
    rec["quote"] = e.quote
    if e.occurrence:
        rec["occurrence"] = e.occurrence
    if e.section:
        rec["section"] = e.section
    rec["status"] = "not assessed"
    rec["check_status"] = "not checked"
    return rec


def _claim_records(
    sentences: list[Any], prefix: str, labels: set[str]
) -> tuple[list[dict[str, Any]], int]:
    """The claim records, and how many citation markers name a label not in `labels`."""
    claims = []
    width = max(3, len(str(len(sentences))))
    unresolved = 0
    for n, s in enumerate(sentences, 1):
        claims.append(_claim_record(s, f"{prefix}-c{n:0{width}d}"))
        unresolved += len([c for c in citation_labels(s.quote) if c not in labels])
    return claims, unresolved


def _claim_record(s: Any, cid: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": cid, "quote": s.quote}
    if s.occurrence:
        rec["occurrence"] = s.occurrence
    rec["statement"] = s.statement or s.quote
    if s.section:
        rec["section"] = s.section
    rec["status"] = "not assessed"
    if s.cites:
        rec["cites"] = list(s.cites)
    return rec


def header(doc_id: str, received_from: str, today: str, schema_ref: str) -> str:
    return (
        f"# yaml-language-server: $schema={schema_ref}\n"
        f"# Draft written by `claimkb new` on {today} from {received_from}.\n"
        "# Everything below was found by machine and is `not assessed`. "
        "To curate it: verify the title and\n"
        "# fill in authors, year, venue, kind and metadata_notes; "
        "drop candidate claims that are not\n"
        "# assertions, split those that assert several things, reword each `statement`, "
        "give each claim a\n"
        "# `claim_type`; check every equation's `latex` "
        "and every reference against its publisher's record.\n"
        "# `claimkb validate` must stay clean.\n"
    )


def _where_from(source: Path) -> str:
    """The source's path relative to the working directory, or just its name.

    No home directories in the data."""
    try:
        return source.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return source.name


def make_draft(
    source: Path,
    doc_id: str,
    data: Path,
    *,
    force: bool = False,
    title: str | None = None,
    kind: str = "unreviewed manuscript",
    prefix: str | None = None,
    received_from: str | None = None,
    today: str | None = None,
    propose: Proposer | None = None,
) -> tuple[Path, Path, dict[str, Any], list[str]]:
    """Store the text and write the draft; returns (yaml path, source path, draft, warnings).

    With `propose`, each drafted claim gets a proposed `restates` link to every claim of
    another document in the data folder that `propose` finds it likely restates."""
    _check_ids(doc_id, prefix)
    raw, text = _read_source(source)
    documents, sources = data / "documents", data / "sources"
    doc_path, src_path = documents / f"{doc_id}.yaml", sources / f"{doc_id}.txt"
    _check_targets(data, doc_path, src_path, raw, force=force)
    today = today or _dt.datetime.now(_dt.UTC).date().isoformat()
    received = received_from if received_from is not None else _where_from(source)
    prefix = prefix or default_prefix(doc_id)
    sha = hashlib.sha256(raw).hexdigest()

    doc, warnings = build_draft(
        text,
        doc_id=doc_id,
        sha256=sha,
        prefix=prefix,
        title=title,
        kind=kind,
        received_from=received,
        today=today,
    )
    taken = _check_clashes(doc, documents, doc_path, prefix)
    if propose is not None:
        propose_links(doc["claims"], propose, set(taken))
    body = header(doc_id, received, today, _schema_ref(data, documents)) + dump_yaml(doc)
    _validate(body, raw, doc_path.name, src_path.name)
    _store_source(source, src_path, raw)
    atomic_write(doc_path, body.encode("utf-8"))
    return doc_path, src_path, doc, warnings


def _check_ids(doc_id: str, prefix: str | None) -> None:
    if not re.match(ID_PATTERN, doc_id) or len(doc_id) > 120:
        raise NewError(
            f"--id {doc_id!r} is not a valid id: use letters, digits and . _ : - (starting with a "
            "letter or digit), at most 120 characters"
        )
    if prefix is not None and not re.match(ID_PATTERN, prefix):
        raise NewError(
            f"--prefix {prefix!r} is not a valid id prefix: use letters, digits and . _ : -"
        )


def _read_source(source: Path) -> tuple[bytes, str]:
    """The source's bytes and its text (UTF-8, not empty)."""
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise NewError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise NewError(f"{source} is a directory: give the path of the text file") from None
    except OSError as e:
        raise NewError(f"{source}: cannot read it ({e.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NewError(
            f"{source} is not UTF-8 text ({e.reason} at byte {e.start}): convert it first, e.g. "
            "`iconv -f latin1 -t utf-8`"
        ) from None
    if not text.strip():
        raise NewError(f"{source} is empty: nothing to describe")
    return raw, text


def _check_targets(data: Path, doc_path: Path, src_path: Path, raw: bytes, *, force: bool) -> None:
    """The data folder exists; without `force`, no other draft or text is overwritten."""
    if not data.is_dir():
        raise NewError(
            f"no data folder {data}: pass --data with the folder holding vocabulary.yaml, "
            "documents/ and sources/"
        )
    if doc_path.exists() and not force:
        raise NewError(
            f"{doc_path} already exists: pass --force to replace it with a new draft (its "
            "curation would be lost)"
        )
    if src_path.exists() and not force:
        try:
            same = src_path.read_bytes() == raw
        except OSError:
            same = False
        if not same:
            raise NewError(
                f"{src_path} already exists with a different text: pass --force to replace it, or "
                "choose another --id"
            )


def propose_links(claims: list[dict[str, Any]], propose: Proposer, known: set[str]) -> int:
    """Add `restates` links, marked proposed, to the claims `propose` finds restated among
    `known` ids (links to ids the data folder lacks would not build); returns how many."""
    n = 0
    for rec in claims:
        links = [
            {"relation": "restates", "to": rid, "proposed": True, "note": f"score {score:.2f}"}
            for rid, score in propose(rec["statement"])
            if rid in known
        ]
        if links:
            rec["links"] = links
            n += len(links)
    return n


def _check_clashes(
    doc: dict[str, Any], documents: Path, doc_path: Path, prefix: str
) -> dict[str, str]:
    """No record id of the draft is used by another document file; returns the ids of the
    other document files (id -> file name)."""
    taken = existing_ids(documents, doc_path) if documents.is_dir() else {}
    clashes = sorted(
        {rec["id"] for k in ("claims", "equations", "bibliography") for rec in doc[k]} & set(taken)
    )
    if clashes:
        raise NewError(
            f"ids {', '.join(clashes[:3])}{' ...' if len(clashes) > 3 else ''} are already used "
            f"by {taken[clashes[0]]}: pass --prefix with a prefix of your own (now {prefix!r})"
        )
    return taken


def _schema_ref(data: Path, documents: Path) -> str:
    """The schema's path as the document file refers to it (relative, with forward slashes)."""
    schema_ref = (
        os.path.relpath(data.parent / SCHEMA_FILE, documents)
        if data.parent != data
        else str(SCHEMA_FILE)
    )
    return schema_ref.replace(os.sep, "/")


def _validate(body: str, raw: bytes, doc_name: str, src_name: str) -> None:
    """Load the draft with the real loader in a scratch folder, before touching the data folder."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "documents").mkdir()
        (Path(tmp) / "sources").mkdir()
        (Path(tmp) / "documents" / doc_name).write_text(body, encoding="utf-8")
        (Path(tmp) / "sources" / src_name).write_bytes(raw)
        ld, problems = parse_document(Path(tmp) / "documents" / doc_name, Path(tmp) / "sources")
        errors = [p for p in problems if p.severity == "error"]
        if ld is None or errors:  # pragma: no cover - the drafter only writes quotes it found
            raise NewError(
                "internal error: the draft does not validate:\n" + "\n".join(str(p) for p in errors)
            )


def _store_source(source: Path, src_path: Path, raw: bytes) -> None:
    """Copy the text to src_path (unless it is there already, or is the source itself)."""
    if src_path.exists() and src_path.read_bytes() == raw:
        return
    if source.resolve() == src_path.resolve():
        return
    src_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_copy = src_path.with_name(f".{src_path.name}.tmp")
    shutil.copyfile(source, tmp_copy)
    if tmp_copy.read_bytes() != raw:  # the file changed while we read it
        tmp_copy.unlink()
        raise NewError(f"{source} changed while it was being copied: run the command again")
    os.replace(tmp_copy, src_path)
