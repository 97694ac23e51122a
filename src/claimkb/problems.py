"""Problems found in the data: each names the file, the line, what is wrong and what to do."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one data file."""

    file: str
    line: int | None
    message: str
    hint: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n    -> {self.hint}"
        return text


class DataError(Exception):
    """Raised with every problem found, so one run reports them all."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in the data")
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.message))

    def report(self) -> str:
        lines = [str(p) for p in self.problems]
        n = len(self.problems)
        lines.append(f"{n} problem{'s' if n != 1 else ''} found; nothing was written.")
        return "\n".join(lines)


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as the user will recognise it: relative to the working directory when possible."""
    p = Path(path)
    try:
        if p.name in ("", ".", ".."):
            return str(_resolve(str(p)).relative_to(_resolve(os.getcwd())))
        # the folder resolved (once per folder), the file's own name kept: the path the user
        # wrote, even where the file is a link, without asking the file system per file
        return str((_resolve(str(p.parent)) / p.name).relative_to(_resolve(os.getcwd())))
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=4096)
def _resolve(path: str) -> Path:
    # resolving asks the file system about every part of the path: once per path is enough
    return Path(path).resolve()
