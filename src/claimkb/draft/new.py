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
from pathlib import Path
from typing import Any

import yaml

from ..fileio import atomic_write
from ..ingest.load import parse_document, record_ids
from ..model import ID_PATTERN
from .analyze import analyze, citation_labels

SCHEMA_FILE = Path("schema") / "document.schema.json"


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
    refs = []
    seen_ref_ids: set[str] = set()
    seen_labels: set[str] = set()
    for n, r in enumerate(a.references, 1):
        label = r.label
        k = 1
        while label in seen_labels:  # a list that mixes bullets and numbers: keep labels unique
            k += 1
            label = f"{r.label}.{k}"
        seen_labels.add(label)
        r.label = label
        rid = f"{prefix}-ref{int(label):02d}" if label.isdigit() else f"{prefix}-ref{n:02d}"
        k = 1
        while rid in seen_ref_ids:
            k += 1
            rid = f"{prefix}-ref{n:02d}-{k}"
        seen_ref_ids.add(rid)
        rec: dict[str, Any] = {"id": rid, "label": label, "quote": r.quote}
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
        refs.append(rec)
    labels = {r.label for r in a.references}
    if not a.references:
        warnings.append(
            "no reference list found (a References or Bibliography heading with numbered or bulleted entries): add `bibliography` entries by hand"
        )

    eqs = []
    for n, e in enumerate(a.equations, 1):
        rec = {"id": f"{prefix}-eq{n:02d}"}
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
        eqs.append(rec)

    claims = []
    width = max(3, len(str(len(a.sentences))))
    unresolved = 0
    for n, s in enumerate(a.sentences, 1):
        rec = {"id": f"{prefix}-c{n:0{width}d}", "quote": s.quote}
        if s.occurrence:
            rec["occurrence"] = s.occurrence
        rec["statement"] = s.statement or s.quote
        if s.section:
            rec["section"] = s.section
        rec["status"] = "not assessed"
        if s.cites:
            rec["cites"] = list(s.cites)
        unresolved += len([c for c in citation_labels(s.quote) if c not in labels])
        claims.append(rec)
    if unresolved and a.references:
        warnings.append(
            f"{unresolved} citation marker(s) name a label the reference list does not have; they were left out of `cites`"
        )

    doc: dict[str, Any] = {
        "id": doc_id,
        "title": found_title,
        "authors": [],
        "kind": kind,
        "sha256": sha256,
        "received_from": received_from,
        "metadata_notes": (
            f"Draft written by `claimkb new` on {today}: title, authors, year, venue and kind are not yet "
            "verified; every record below is a machine-found candidate, not assessed."
        ),
        "claims": claims,
        "equations": eqs,
        "bibliography": refs,
    }
    return doc, warnings


def header(doc_id: str, received_from: str, today: str, schema_ref: str) -> str:
    return (
        f"# yaml-language-server: $schema={schema_ref}\n"
        f"# Draft written by `claimkb new` on {today} from {received_from}.\n"
        "# Everything below was found by machine and is `not assessed`. To curate it: verify the title and\n"
        "# fill in authors, year, venue, kind and metadata_notes; drop candidate claims that are not\n"
        "# assertions, split those that assert several things, reword each `statement`, give each claim a\n"
        "# `claim_type`; check every equation's `latex` and every reference against its publisher's record.\n"
        "# `claimkb validate` must stay clean.\n"
    )


def _where_from(source: Path) -> str:
    """The source's path relative to the working directory, or just its name (no home directories in the data)."""
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
) -> tuple[Path, Path, dict[str, Any], list[str]]:
    """Store the text and write the draft; returns (yaml path, source path, draft, warnings)."""
    if not re.match(ID_PATTERN, doc_id) or len(doc_id) > 120:
        raise NewError(
            f"--id {doc_id!r} is not a valid id: use letters, digits and . _ : - (starting with a letter or digit), at most 120 characters"
        )
    if prefix is not None and not re.match(ID_PATTERN, prefix):
        raise NewError(
            f"--prefix {prefix!r} is not a valid id prefix: use letters, digits and . _ : -"
        )
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
            f"{source} is not UTF-8 text ({e.reason} at byte {e.start}): convert it first, e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    if not text.strip():
        raise NewError(f"{source} is empty: nothing to describe")
    if not data.is_dir():
        raise NewError(
            f"no data folder {data}: pass --data with the folder holding vocabulary.yaml, documents/ and sources/"
        )
    documents, sources = data / "documents", data / "sources"
    doc_path, src_path = documents / f"{doc_id}.yaml", sources / f"{doc_id}.txt"
    if doc_path.exists() and not force:
        raise NewError(
            f"{doc_path} already exists: pass --force to replace it with a new draft (its curation would be lost)"
        )
    if src_path.exists() and not force:
        try:
            same = src_path.read_bytes() == raw
        except OSError:
            same = False
        if not same:
            raise NewError(
                f"{src_path} already exists with a different text: pass --force to replace it, or choose another --id"
            )
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

    taken = existing_ids(documents, doc_path) if documents.is_dir() else {}
    clashes = sorted(
        {rec["id"] for k in ("claims", "equations", "bibliography") for rec in doc[k]} & set(taken)
    )
    if clashes:
        raise NewError(
            f"ids {', '.join(clashes[:3])}{' ...' if len(clashes) > 3 else ''} are already used by {taken[clashes[0]]}: "
            f"pass --prefix with a prefix of your own (now {prefix!r})"
        )

    schema_ref = (
        os.path.relpath(data.parent / SCHEMA_FILE, documents)
        if data.parent != data
        else str(SCHEMA_FILE)
    )
    body = header(doc_id, received, today, schema_ref.replace(os.sep, "/")) + dump_yaml(doc)

    # validate with the real loader in a scratch folder before touching the data folder
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "documents").mkdir()
        (Path(tmp) / "sources").mkdir()
        (Path(tmp) / "documents" / doc_path.name).write_text(body, encoding="utf-8")
        (Path(tmp) / "sources" / src_path.name).write_bytes(raw)
        ld, problems = parse_document(
            Path(tmp) / "documents" / doc_path.name, Path(tmp) / "sources"
        )
        errors = [p for p in problems if p.severity == "error"]
        if (
            ld is None or errors
        ):  # pragma: no cover - the drafter only writes quotes it found in the text
            raise NewError(
                "internal error: the draft does not validate:\n" + "\n".join(str(p) for p in errors)
            )

    if not (src_path.exists() and src_path.read_bytes() == raw):
        if source.resolve() != src_path.resolve():
            sources.mkdir(parents=True, exist_ok=True)
            tmp_copy = src_path.with_name(f".{src_path.name}.tmp")
            shutil.copyfile(source, tmp_copy)
            if tmp_copy.read_bytes() != raw:  # the file changed while we read it
                tmp_copy.unlink()
                raise NewError(f"{source} changed while it was being copied: run the command again")
            os.replace(tmp_copy, src_path)
    atomic_write(doc_path, body.encode("utf-8"))
    return doc_path, src_path, doc, warnings
