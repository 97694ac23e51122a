"""A deterministic synthetic corpus in the real data format, for benchmarks and fault tests.

``generate(out_dir, n_claims, seed=...)`` writes ``vocabulary.yaml``,
``documents/<id>.yaml`` and ``sources/<id>.txt`` under `out_dir` (never under
the project's own data/). The corpus is valid under the real loader:

* every record quotes its source text exactly; the source is hard-wrapped, so
  many quotes span line breaks (the loader's whitespace tolerance is exercised);
* every quote is unique in its text, except a few deliberately repeated short
  phrases that carry ``occurrence:``;
* statuses that need evidence have evidence (an inline external work with a
  DOI under 10.5555, a prefix Crossref keeps for tests and documentation
  examples (community.crossref.org/t/crossref-test-account-prefixes/13263),
  or one of the document's own bibliography entries);
* ids are unique across the corpus; links point at existing claims;
* a rare search term (``RARE_TERM``) occurs in a handful of claims, a common one
  (``COMMON_TERM``) in most of them.

The same (n_claims, seed, claims_per_doc) always yields byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..model import NEEDS_EVIDENCE, VOCABULARIES

#: bump when the generated files change, so cached corpora are regenerated
VERSION = 1

#: a word that occurs in about one claim in 100,000 (at least one)
RARE_TERM = "zyxquarkonium"
#: a word that occurs in most claims' statements
COMMON_TERM = "energy"

_WORDS = (
    "field lattice spin photon phonon boson fermion vacuum spectrum coupling cavity resonance "
    "entropy momentum scattering tunnelling coherence decoherence interference amplitude phase "
    "symmetry gauge torsion curvature plasma magnetic electric thermal quantum classical "
    "nonlinear damping oscillator wavefunction operator eigenvalue propagator vortex soliton "
    "superconductor insulator semiconductor crystal defect impurity dopant exciton polariton "
    "laser pulse detector sensor measurement noise signal bandwidth frequency wavelength "
    "gravity inertia mass charge current voltage resistance capacitance inductance flux"
).split()
_VERBS = (
    "increases decreases couples to scales with depends on vanishes near diverges at saturates "
    "beyond"
).split(" ")
_STATUSES = [s for s in VOCABULARIES["evidence_status"]]
_CLAIM_TYPES = list(VOCABULARIES["claim_type"])
_VOICES = list(VOCABULARIES["voice"])


def _q(s: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def _vocabulary_yaml() -> str:
    """A vocabulary file matching the model (copied from the repository when it is there)."""
    repo_vocab = Path(__file__).resolve().parents[3] / "data" / "vocabulary.yaml"
    if repo_vocab.exists():
        return repo_vocab.read_text(encoding="utf-8")
    out = []
    for name, terms in VOCABULARIES.items():
        out.append(f"{name}:")
        for rank, term in enumerate(terms, 1):
            out += [
                f"  - term: {_q(term)}",
                f"    rank: {rank}",
                '    colour: "#333333"',
                '    text_colour: "#ffffff"',
                f"    definition: {_q('Synthetic definition of ' + term + '.')}",
            ]
    out.append("evidence_status_procedure:")
    for step, term in enumerate(VOCABULARIES["evidence_status"][:-1]):
        out += [
            f"  - step: {step}",
            f"    question: {_q('Is it ' + term + '?')}",
            f"    label: {_q(term)}",
        ]
    return "\n".join(out) + "\n"


def _sentence(rng: random.Random, tag: str, extra: str = "") -> str:
    w = rng.sample(_WORDS, 6)
    return (
        f"The {w[0]} {w[1]} {rng.choice(_VERBS)} the {w[2]} {w[3]} in sample {tag}{extra}, "
        f"while the {w[4]} {w[5]} stays bounded."
    )


def document_files(
    doc_no: int,
    n_claims: int,
    rng: random.Random,
    *,
    n_docs: int,
    claims_per_doc: int,
    rare_every: int,
) -> tuple[str, str, str]:
    """(id, yaml text, source text) of one synthetic document."""
    did = f"syn{doc_no:07d}"
    n_bib = 3 + doc_no % 4
    n_eq = 2 + doc_no % 3
    first_no = doc_no * claims_per_doc  # the corpus-wide number of its first claim

    # ---- source text: title, body sentences (one per claim, plus filler), equations, references
    body, quotes = _body(did, n_claims, rng, first_no=first_no, rare_every=rare_every)
    eq_lines = [
        f"E_{k} = m_{k} c^2 + \\hbar \\omega_{{{did}-{k}}}   ({k + 1})" for k in range(n_eq)
    ]
    refs = [
        f"[{k + 1}] Author{k}, A. and Writer{doc_no % 97}, B. A study of "
        f"{_WORDS[(doc_no + k) % len(_WORDS)]} in {did}. Journal of Synthetic Physics {10 + k}, "
        f"{100 + doc_no % 900} ({1990 + (doc_no + k) % 30})."
        for k in range(n_bib)
    ]
    paras = []
    for start in range(0, len(body), 5):
        paras.append(textwrap.fill(" ".join(body[start : start + 5]), width=72))
    text = (
        f"Synthetic document {did}\n\nAbstract\n\n"
        + "\n\n".join(paras)
        + "\n\nEquations\n\n"
        + "\n".join(eq_lines)
        + "\n\nReferences\n\n"
        + "\n".join(refs)
        + "\n"
    )
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()

    # ---- the document file
    y = [
        "# yaml-language-server: $schema=../../schema/document.schema.json",
        f"id: {did}",
        f"title: {_q(f'Synthetic document {did} on the {COMMON_TERM} of ' + rng.choice(_WORDS))}",
        f"authors: [{_q(f'Author{doc_no % 997}, Alice')}, {_q('Writer, Bob')}]",
        "kind: preprint",
        f"year: {1990 + doc_no % 35}",
        f"sha256: {sha}",
        f"received_from: synthetic/{did}.txt",
        "metadata_notes: Synthetic benchmark document (claimkb.synth); not real literature.",
        "assessment:",
        f"  summary: {_q('Synthetic assessment of ' + did + '.')}",
        "claims:",
    ]
    labels = [str(k + 1) for k in range(n_bib)]
    for i, (quote, occ) in enumerate(quotes):
        claim = _Claim(did, doc_no, i, first_no + i, quote, occ)
        y += _claim_lines(claim, rng, labels[i % n_bib], rare_every=rare_every)
    y += _equation_lines(did, eq_lines)
    y += _bibliography_lines(did, doc_no, refs, labels)
    # evidence written apart from its record
    y += [
        "evidence:",
        f"  - about: {did}-eq00",
        "    stance: supports",
        f"    bibliography: {_q(labels[0])}",
        "    note: Synthetic document-level evidence.",
    ]
    return did, "\n".join(y) + "\n", text


def _body(
    did: str, n_claims: int, rng: random.Random, *, first_no: int, rare_every: int
) -> tuple[list[str], list[tuple[str, int | None]]]:
    """The body sentences, and per claim its quote and occurrence.

    One sentence per claim, a filler sentence nobody quotes after every third, and a phrase
    that occurs twice in every document (the last claim quotes its second occurrence).
    """
    body: list[str] = []
    quotes: list[tuple[str, int | None]] = []
    repeated = "as shown in the figure"
    for i in range(n_claims):
        extra = f" ({RARE_TERM} regime)" if (first_no + i) % rare_every == 0 else ""
        s = _sentence(rng, f"{did}-{i}", extra)
        body.append(s)
        if i % 3 == 0:
            body.append(_sentence(rng, f"{did}-f{i}"))
        quotes.append((s, None))
    body.insert(len(body) // 3, f"This trend is clear {repeated}.")
    body.insert(2 * len(body) // 3, f"The same holds {repeated}.")
    if n_claims >= 2:
        quotes[-1] = (repeated, 2)
    return body, quotes


@dataclass
class _Claim:
    did: str  # the document's id
    doc_no: int
    i: int  # its number in the document
    global_no: int  # its number in the corpus
    quote: str
    occurrence: int | None

    @property
    def id(self) -> str:
        return f"{self.did}-c{self.i:04d}"


def _claim_lines(claim: _Claim, rng: random.Random, label: str, *, rare_every: int) -> list[str]:
    """The YAML lines of one claim; `label` is the bibliography label it may cite."""
    g = claim.global_no
    status = _STATUSES[g % len(_STATUSES)]
    stmt_word = COMMON_TERM if g % 5 else "power"
    statement = (
        f"In {claim.did} claim {claim.i}, the {stmt_word} of the system follows the stated trend."
    )
    if g % rare_every == 0:
        statement += f" It concerns the {RARE_TERM} regime."
    y = [
        f"  - id: {claim.id}",
        f"    quote: {_q(claim.quote)}",
    ]
    if claim.occurrence is not None:
        y.append(f"    occurrence: {claim.occurrence}")
    y += [
        f"    statement: {_q(statement)}",
        "    section: Abstract",
        f"    claim_type: {_q(_CLAIM_TYPES[g % len(_CLAIM_TYPES)])}",
        f"    voice: {_q(_VOICES[g % len(_VOICES)])}",
        f"    status: {_q(status)}",
    ]
    if status != "not assessed":
        y.append(f"    confidence: {0.5 + (g % 5) / 10}")
        rationale = f"Synthetic rationale: the {rng.choice(_WORDS)} argument is {status}."
        y.append(f"    rationale: {_q(rationale)}")
    if g % 4 == 0:
        y.append(f"    cites: [{_q(label)}]")
    if status in NEEDS_EVIDENCE:
        y += _claim_evidence_lines(claim, label)
    if claim.i > 0 and g % 10 == 0:
        y += _claim_link_lines(claim)
    return y


def _claim_evidence_lines(claim: _Claim, label: str) -> list[str]:
    """An external work with a 10.5555 DOI (odd claims) or a bibliography entry (even ones)."""
    if claim.global_no % 2:
        return [
            "    evidence:",
            "      - stance: supports",
            "        work:",
            f"          title: {_q('Synthetic evidence work ' + str(claim.global_no))}",
            f"          doi: 10.5555/synth.{claim.global_no}",
            f"        note: {_q('Synthetic note for ' + claim.id + '.')}",
        ]
    return [
        "    evidence:",
        "      - stance: context",
        f"        bibliography: {_q(label)}",
        f"        note: {_q('Synthetic note for ' + claim.id + '.')}",
    ]


def _claim_link_lines(claim: _Claim) -> list[str]:
    """depends_on the claim before; every third one also restates the previous document's first."""
    y = [
        "    links:",
        f"      - {{relation: depends_on, to: {claim.did}-c{claim.i - 1:04d}}}",
    ]
    if claim.doc_no > 0 and claim.global_no % 30 == 0:
        y.append(f"      - {{relation: restates, to: syn{claim.doc_no - 1:07d}-c0000}}")
    return y


def _equation_lines(did: str, eq_lines: list[str]) -> list[str]:
    y = ["equations:"]
    for k, line in enumerate(eq_lines):
        latex = line.rsplit("(", 1)[0].strip()
        y += [
            f"  - id: {did}-eq{k:02d}",
            f"    label: {_q(str(k + 1))}",
            f"    quote: {_q(latex)}",
            f"    latex: {_q(latex)}",
            "    section: Equations",
            "    symbols:",
            f"      - {{symbol: {_q(f'E_{k}')}, meaning: energy, units: J}}",
            "    check_status: consistent" if k % 2 == 0 else "    check_status: not checked",
        ]
    return y


def _bibliography_lines(did: str, doc_no: int, refs: list[str], labels: list[str]) -> list[str]:
    y = ["bibliography:"]
    for k, ref in enumerate(refs):
        y += [
            f"  - id: {did}-ref{k:02d}",
            f"    label: {_q(labels[k])}",
            f"    quote: {_q(ref)}",
            f"    title: {_q(f'A study of {_WORDS[(doc_no + k) % len(_WORDS)]} in {did}')}",
            f"    authors: [{_q(f'Author{k}, A.')}, {_q(f'Writer{doc_no % 97}, B.')}]",
            f"    year: {1990 + (doc_no + k) % 30}",
            f"    venue: {_q('Journal of Synthetic Physics')}",
            f"    citation_status: {_q('not checked' if k % 2 else 'unverifiable')}",
        ]
        if k % 2 == 0:
            y.append(f"    tried: [{_q('The catalogues list no work of this title.')}]")
    return y


def _layout(n_claims: int, claims_per_doc: int) -> tuple[int, int]:
    """(number of documents, one claim in how many carries the rare term)."""
    n_docs = max(1, -(-n_claims // claims_per_doc))
    rare_every = max(1, min(100_000, n_claims // 10 or 1))
    return n_docs, rare_every


def write_document(
    out_dir: Path, doc_no: int, n_claims: int, *, seed: int = 1, claims_per_doc: int = 100
) -> str:
    """Write (or rewrite) document number doc_no of the corpus generate() makes; return its id."""
    n_docs, rare_every = _layout(n_claims, claims_per_doc)
    k = min(claims_per_doc, n_claims - doc_no * claims_per_doc)
    rng = random.Random(f"{seed}:{doc_no}")  # per document: any document regenerates alone
    did, ytext, stext = document_files(
        doc_no, k, rng, n_docs=n_docs, claims_per_doc=claims_per_doc, rare_every=rare_every
    )
    (out_dir / "sources" / f"{did}.txt").write_bytes(stext.encode("utf-8"))
    (out_dir / "documents" / f"{did}.yaml").write_bytes(ytext.encode("utf-8"))
    return did


def generate(
    out_dir: Path, n_claims: int, *, seed: int = 1, claims_per_doc: int = 100
) -> dict[str, int]:
    """Write a corpus of n_claims claims under out_dir (replacing what is there)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "documents").mkdir(parents=True)
    (out_dir / "sources").mkdir()
    (out_dir / "vocabulary.yaml").write_text(_vocabulary_yaml(), encoding="utf-8")
    n_docs, _ = _layout(n_claims, claims_per_doc)
    for doc_no in range(n_docs):
        write_document(out_dir, doc_no, n_claims, seed=seed, claims_per_doc=claims_per_doc)
    return {"documents": n_docs, "claims": n_claims}


def restore_document(
    out_dir: Path, doc_no: int, n_claims: int, *, seed: int = 1, claims_per_doc: int = 100
) -> None:
    """Undo touch_document(): rewrite the document as generate() made it (only if it differs)."""
    out_dir = Path(out_dir)
    did = f"syn{doc_no:07d}"
    path = out_dir / "documents" / f"{did}.yaml"
    before = path.read_bytes() if path.exists() else None
    tmp = out_dir / ".restore"
    (tmp / "documents").mkdir(parents=True, exist_ok=True)
    (tmp / "sources").mkdir(exist_ok=True)
    write_document(tmp, doc_no, n_claims, seed=seed, claims_per_doc=claims_per_doc)
    fresh = (tmp / "documents" / f"{did}.yaml").read_bytes()
    if fresh != before:
        path.write_bytes(fresh)
    shutil.rmtree(tmp)


def touch_document(out_dir: Path, doc_no: int = 0, *, seed: int = 2) -> Path:
    """Change one document (its text and its claims' wording) in place, keeping it valid."""
    out_dir = Path(out_dir)
    did = f"syn{doc_no:07d}"
    yaml_path = out_dir / "documents" / f"{did}.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    # change every statement's wording: a real edit that changes rows
    text = text.replace("follows the stated trend.", f"follows the stated trend (revision {seed}).")
    yaml_path.write_text(text, encoding="utf-8")
    return yaml_path


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(generate(Path(sys.argv[1]), int(sys.argv[2])))
