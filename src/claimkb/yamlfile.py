"""Read a YAML file fast, and find the line of any value in it when an error needs one.

Loading uses libyaml's C loader when it is present. Line numbers are only
needed to report problems, so the node tree (which carries them) is composed
lazily, the first time a line is asked for.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C loader is several times faster
    Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    Loader = yaml.SafeLoader  # type: ignore[misc]


class YamlSyntaxError(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class YamlFile:
    """The parsed data of one YAML file, with line look-up by path."""

    def __init__(self, text: str):
        self.text = text
        try:
            self.data: Any = yaml.load(text, Loader=Loader)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = mark.line + 1 if mark else None
            what = e.problem or str(e)
            if e.context:
                what = f"{e.context}; {what}"
            raise YamlSyntaxError(line, f"YAML syntax error: {what}") from None
        except yaml.YAMLError as e:
            raise YamlSyntaxError(None, f"YAML error: {e}") from None
        self._root: yaml.Node | None = None

    def _node(self) -> yaml.Node | None:
        if self._root is None:
            self._root = yaml.compose(self.text, Loader=Loader)
        return self._root

    def line(self, path: tuple[Any, ...] | list[Any]) -> int | None:
        """1-based line of the value at `path` (keys and list indexes), or of the
        deepest part of it that exists."""
        node = self._node()
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for part in path:
            child = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        # a key's own line is where a reader looks for it
                        line = k.start_mark.line + 1
                        child = v
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    child = node.value[part]
                    line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def duplicate_keys(self) -> list[tuple[int, str]]:
        """(line, key) of every key given twice in the same mapping."""
        out: list[tuple[int, str]] = []
        stack = [self._node()]
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode):
                        if k.value in seen:
                            out.append((k.start_mark.line + 1, k.value))
                        seen.add(k.value)
                    stack.append(v)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
        return sorted(out)
