"""Read one YAML file within fixed bounds, and find the line of any value in it.

The data is built from libyaml's event stream (PyYAML's C parser) in one pass, without
recursion: the same values as ``yaml.safe_load``, plus the line of every key and item
and every key given twice in a mapping. Hostile input cannot exhaust the stack, the
memory or the time, because every bound below is checked as the events arrive:

* ``MAX_BYTES``: the size of the file;
* ``MAX_DEPTH``: how deeply mappings and sequences may nest;
* ``MAX_ALIASES``: how many aliases (``*name``) a file may use;
* ``MAX_NODES``: how many values the file holds once every alias is expanded (what the
  validation after it will walk): an "alias bomb" fails here, at its line. It also bounds
  the time a file takes to read (about 4 microseconds a value: 300,000 values, a document
  of some 10,000 claims, take about a second and a half; 16 MiB of one-character list
  items would take twenty).

A file over a bound is refused with a ``YamlSyntaxError`` naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

try:  # the C parser is several times faster; the pure-Python one reads the same events
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader  # type: ignore[misc]

#: bounds on one data file (documented in the README, "Input bounds")
MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 1000
MAX_NODES = 300_000

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class YamlSyntaxError(Exception):
    """The text is not YAML that claimkb reads; ``line`` is 1-based (or None)."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(slots=True)
class _Lines:
    """The line of each key or item of one mapping or sequence, and the lines inside them."""

    line: int
    children: dict[Any, _Lines | None] | list[_Lines | None] | None = None


@dataclass(slots=True)
class _Open:
    """A mapping or sequence being built."""

    value: dict[Any, Any] | list[Any]
    lines: _Lines
    anchor: str | None
    nodes_before: int
    key: Any = None  # a mapping's pending key
    key_line: int = 0
    has_key: bool = False
    keys_seen: set[Any] | None = None
    merges: list[Any] | None = None


class _Builder:
    """Builds plain data from parser events with an explicit stack (see the module docstring)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Any, int, _Lines | None]] = {}
        self.open_anchors: set[str] = set()
        self.aliases = 0
        self.nodes = 0
        self.duplicates: list[tuple[int, str]] = []
        self.root: Any = None
        self.root_lines: _Lines | None = None
        self.done = False

    def fail(self, event: Any, message: str) -> YamlSyntaxError:
        return YamlSyntaxError(event.start_mark.line + 1, message)

    def count(self, event: Any, n: int = 1) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            bomb = " once its aliases are expanded (an alias bomb?)" if self.aliases else ""
            raise self.fail(event, f"the file holds more than {MAX_NODES:,} values{bomb}")

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            implicit = (event.implicit[0], event.implicit[1])
            tag = self.loader.resolve(yaml.ScalarNode, event.value, implicit)
        if tag == _STR:
            return event.value
        if tag == _MERGE:
            return _MergeKey
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        constructor = self.loader.yaml_constructors.get(tag)
        if constructor is None:
            raise self.fail(event, f"unknown tag {tag!r}: claimkb files use plain YAML values")
        try:
            return constructor(self.loader, node)
        except yaml.YAMLError as e:
            raise self.fail(event, f"cannot read the value {event.value!r}: {e}") from None

    def add(self, event: Any, value: Any, lines: _Lines | None) -> None:
        """Put a finished value into the open container (or make it the root)."""
        if not self.stack:
            self.root, self.root_lines, self.done = value, lines, True
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
            assert isinstance(top.lines.children, list)
            top.lines.children.append(lines)
            return
        if not top.has_key:
            if isinstance(value, (dict, list)):
                raise self.fail(event, "a mapping key must be a plain value, not a mapping or list")
            top.key, top.key_line, top.has_key = value, event.start_mark.line + 1, True
            return
        key, top.has_key = top.key, False
        if key is _MergeKey:
            merges = value if isinstance(value, list) else [value]
            if not all(isinstance(m, dict) for m in merges):
                raise self.fail(event, "`<<` merges mappings only")
            top.merges = (top.merges or []) + merges
            return
        assert top.keys_seen is not None and isinstance(top.lines.children, dict)
        if key in top.keys_seen:
            self.duplicates.append((top.key_line, str(key)))
        top.keys_seen.add(key)
        top.value[key] = value  # type: ignore[index]
        top.lines.children[key] = _Lines(top.key_line, lines.children if lines else None)

    def open(self, event: Any, value: dict[Any, Any] | list[Any]) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(event, f"mappings and lists nest deeper than {MAX_DEPTH} levels")
        self.count(event)
        children: dict[Any, _Lines | None] | list[_Lines | None] = (
            {} if isinstance(value, dict) else []
        )
        anchor = event.anchor
        if anchor is not None:
            self.open_anchors.add(anchor)
        self.stack.append(
            _Open(
                value,
                _Lines(event.start_mark.line + 1, children),
                anchor,
                self.nodes,
                keys_seen=set() if isinstance(value, dict) else None,
            )
        )

    def close(self, event: Any) -> None:
        top = self.stack.pop()
        if top.merges and isinstance(top.value, dict):
            for m in reversed(top.merges):
                for k, v in m.items():
                    top.value.setdefault(k, v)
        if top.anchor is not None:
            self.open_anchors.discard(top.anchor)
            self.anchors[top.anchor] = (top.value, self.nodes - top.nodes_before + 1, top.lines)
        self.add(event, top.value, top.lines)

    def alias(self, event: Any) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise self.fail(
                event, f"alias *{name} refers to a value that contains it (a recursive alias)"
            )
        if name not in self.anchors:
            raise self.fail(event, f"alias *{name} has no anchor &{name} before it")
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise self.fail(event, f"more than {MAX_ALIASES} aliases (*name) in one file")
        value, size, lines = self.anchors[name]
        self.count(event, size)
        self.add(event, value, lines)

    def feed(self, event: Any) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            self.count(event)
            value = self.scalar(event)
            lines = _Lines(event.start_mark.line + 1)
            if event.anchor is not None:
                self.anchors[event.anchor] = (value, 1, lines)
            self.add(event, value, lines)
        elif kind is yaml.MappingStartEvent:
            self.open(event, {})
        elif kind is yaml.SequenceStartEvent:
            self.open(event, [])
        elif kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
            self.close(event)
        elif kind is yaml.AliasEvent:
            self.alias(event)
        elif kind is yaml.DocumentStartEvent and self.done:
            raise self.fail(event, "a second YAML document (---) in one file")


class _MergeKeyType:
    """The `<<` key of a mapping (YAML 1.1 merge)."""


_MergeKey = _MergeKeyType()


def parse(text: str) -> tuple[Any, _Lines | None, list[tuple[int, str]]]:
    """The data of `text`, the lines of its values, and its duplicate keys (line, key)."""
    loader = _Loader(text)
    builder = _Builder(loader)
    try:
        while loader.check_event():
            builder.feed(loader.get_event())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = f"{e.context}; {e.problem}" if e.context else (e.problem or str(e))
        message = f"YAML syntax error: {what}"
        if "maximum nesting depth" in what:  # libyaml's own bound (1,000), met before ours
            message = f"mappings and lists nest deeper than {MAX_DEPTH} levels"
        raise YamlSyntaxError(mark.line + 1 if mark else None, message) from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow: say where
        line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
        char = f"#x{e.character:04x}" if isinstance(e.character, int) else repr(e.character)
        raise YamlSyntaxError(
            line, f"YAML syntax error: unacceptable character {char}: {e.reason}"
        ) from None
    except yaml.YAMLError as e:
        raise YamlSyntaxError(None, f"YAML error: {e}") from None
    finally:
        loader.dispose()
    return builder.root, builder.root_lines, sorted(builder.duplicates)


class YamlFile:
    """The parsed data of one YAML file, with line look-up by path."""

    def __init__(self, text: str):
        if len(text) > MAX_BYTES:  # the line where the bound is passed
            raise YamlSyntaxError(
                text.count("\n", 0, MAX_BYTES) + 1,
                f"the file is larger than {MAX_BYTES:,} bytes",
            )
        self.text = text
        self.data, self._lines, self._duplicates = parse(text)

    def line(self, path: tuple[Any, ...] | list[Any]) -> int | None:
        """1-based line of the value at `path` (keys and list indexes), or of the deepest
        part of it that exists."""
        node = self._lines
        if node is None:
            return 1
        line = node.line
        for part in path:
            children = node.children
            child: _Lines | None = None
            if isinstance(children, dict):
                for key in (part, str(part)):
                    if key in children:
                        child = children[key]
                        break
                else:
                    break
            elif isinstance(children, list) and isinstance(part, int) and 0 <= part < len(children):
                child = children[part]
            else:
                break
            if child is None:
                break
            line, node = child.line, child
        return line

    def duplicate_keys(self) -> list[tuple[int, str]]:
        """(line, key) of every key given twice in the same mapping."""
        return list(self._duplicates)
