"""A finding of a machine check, and the collector the rules write into."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..ingest.load import line_of
from ..problems import display_path

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One result of one rule about one record.

    ``document_id``, ``about_type``, ``about_id``, ``rule``, ``severity`` and
    ``message`` are what the build writes into the ``checks`` table; ``file``
    and ``line`` only serve the command-line report.
    """

    document_id: str | None
    about_type: str  # document, claim, equation, bibliography, evidence, knowledge base
    about_id: str
    rule: str
    severity: str  # error, warning, info
    message: str
    file: str | None = None
    line: int | None = None
    acknowledgement: str | None = None  # a curator's reason, when acknowledged (not open)

    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""


@dataclass
class Collector:
    """Rules append findings here; line numbers are looked up once at the end, only for findings."""

    findings: list[Finding] = field(default_factory=list)
    _paths: list[tuple[Any, tuple[Any, ...] | None]] = field(default_factory=list)

    def add(
        self,
        ld: Any,
        about_type: str,
        about_id: str,
        rule: str,
        severity: str,
        message: str,
        path: tuple[Any, ...] | None = None,
    ) -> None:
        doc_id = ld.doc.id if ld is not None else None
        self.findings.append(Finding(doc_id, about_type, about_id, rule, severity, message))
        self._paths.append((ld, path))

    def resolved(self, *, reread: bool = False) -> list[Finding]:
        """The findings with file and line filled in where the data file can tell them.

        A document loaded in a worker process has no YAML tree in memory; its file is
        parsed again for line numbers only when it has an error finding (or when
        ``reread`` is set, as `claimkb check` does), so a large build with many
        warnings does not parse its files twice.
        """

        out = []
        shown: dict[int, str] = {}  # per document: its path as shown, computed once
        no_yaml: set[int] = set()  # documents whose YAML cannot be read (built in memory)
        if not reread:
            with_errors = {
                id(ld)
                for f, (ld, _p) in zip(self.findings, self._paths, strict=True)
                if ld is not None and f.severity == "error"
            }
            no_yaml = {
                id(ld)
                for _f, (ld, _p) in zip(self.findings, self._paths, strict=True)
                if ld is not None and ld.yaml is None and id(ld) not in with_errors
            }
        for f, (ld, path) in zip(self.findings, self._paths, strict=True):
            if ld is None:
                out.append(f)
                continue
            key = id(ld)
            if key not in shown:
                shown[key] = display_path(ld.path)
            line = None
            if path is not None and key not in no_yaml:
                try:
                    line = line_of(ld, path)
                except Exception:  # a path the YAML does not have: no line, still a finding
                    line = None
                if ld.yaml is None:
                    no_yaml.add(key)
            out.append(replace(f, file=shown[key], line=line))
        return out


def acknowledge(findings: list[Finding], acks: dict[tuple[str, str], str]) -> list[Finding]:
    """The findings with the curators' acknowledgements {(rule, about id): reason} applied.
    Errors are never acknowledged: they must be fixed. Used keys are removed from `acks`."""
    out = []
    for f in findings:
        reason = acks.get((f.rule, f.about_id)) if f.severity != "error" else None
        if reason is not None:
            f = replace(f, acknowledgement=reason)
        out.append(f)
    for f in out:
        if f.acknowledgement is not None:
            acks.pop((f.rule, f.about_id), None)
    return out
