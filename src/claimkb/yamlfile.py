"""Read a YAML file fast, and find the line of any value in it when an error needs one.

Loading uses libyaml's C loader when it is present, parses each text once
(duplicate keys are found on the way) and builds plain data directly from the
parsed nodes; the result is memoized on disk by the text's sha256 (see
cache_dir()). Line numbers are only needed to report problems, so the node
tree (which carries them) is composed again lazily, the first time a line is
asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .fileio import atomic_write

try:  # a YAML parser in Rust, several times faster than libyaml + Python; see _fast_load
    import yaml_rs
except ImportError:  # pragma: no cover - then every text takes the PyYAML path
    yaml_rs = None

try:  # the C loader is several times faster
    Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    Loader = yaml.SafeLoader  # type: ignore[misc]


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_ScalarNode, _MappingNode, _SequenceNode = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers


class _FastLoader(Loader):  # type: ignore[misc, valid-type]
    """The C loader with a memoized resolver for plain scalars (the same tags, found faster)."""

    _tags: dict[str, str] = {}

    # Path resolvers are never registered on the safe loader, so the composer's
    # per-node descend/ascend calls are no-ops: bind them to C builtins that
    # accept the same arguments and do nothing (saves two Python calls per node).
    if not Loader.yaml_path_resolvers:
        descend_resolver = slice  # called as (parent, index)
        ascend_resolver = tuple  # called with no argument

    def resolve(self, kind, value, implicit):  # type: ignore[no-untyped-def]
        if kind is _ScalarNode and not self.yaml_path_resolvers:
            if not implicit[0]:
                return self.DEFAULT_SCALAR_TAG
            if value and value[0] not in _IMPLICIT and None not in _IMPLICIT:
                return self.DEFAULT_SCALAR_TAG
            tag = self._tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) <= 40 and len(self._tags) < 4096:  # keys and vocabulary labels, not every id
                    self._tags[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


class _Fallback(Exception):
    """The fast constructor met something only the full one handles (aliases, merges, odd keys)."""


# --------------------------------------------------------------------------- the fast path
#
# yaml_rs reads YAML 1.2, PyYAML (the reference) YAML 1.1. They read a document the same
# way unless a *plain* (unquoted) scalar is one that YAML 1.1 types differently (yes, no,
# on, off, y, n; numbers with leading zeros, underscores, exponents, sexagesimal or
# 0b/0o/0x forms; timestamps; .5, .inf, .nan; the `=` and `<<` keys), or the text uses
# what yaml_rs is more lenient about than PyYAML (tags, anchors, aliases, complex or
# empty keys, several documents, tabs, control characters, YAML 1.1 line breaks, empty
# block scalars). _risky() finds every such place, line by line, erring on the side of
# caution; then, and whenever yaml_rs raises, the text is parsed by PyYAML, so syntax
# errors and duplicate keys are reported exactly as before. tests/test_yamlfile.py
# fuzzes both paths against each other.

_RISKY_SCALAR = re.compile(
    r"(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF"
    r"|[-+]?0[0-9_]+(?:\.[0-9_]*)?|[-+]?0[bBoOxX][0-9a-fA-F_]*"
    r"|[-+]?[0-9][0-9_]*_[0-9_.]*|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[-+]?[0-9_]*\.?[0-9_]*[eE][-+]?[0-9]+|[-+]?\.[0-9_]+|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?|=|<<)"
)
_RISKY_FIRST = frozenset("yYnNoO0123456789+-.=<")
#: a one-line flow collection of quoted strings (without escapes) and plain words only
_SIMPLE_FLOW = re.compile(  # possessive and atomic: a line that does not match fails fast
    r"""(?: *+(?>"[^"\\\n]*+"|'[^'\n]*+'|[A-Za-z0-9_(][A-Za-z0-9_.()/+-]*+(?: ++[A-Za-z0-9_.()/+-]++)*+|[\[\]{},]|:(?= )))*+ *+""")
_FLOW_PLAIN = re.compile(r"""[\[{,:][ ]*([^"'\[\]{},: ][^\[\]{},:]*?)[ ]*(?=[\]},:])""")
#: characters PyYAML refuses (and reports with their line), and YAML 1.1 line breaks
_ODD_CHARS = re.compile(yaml.reader.Reader.NON_PRINTABLE.pattern + "|[\x85\u2028\u2029\t]")
#: the ASCII characters that are not odd (\n, \r and the printable ones): an ASCII text with
#: any other character left after deleting these has one (bytes.translate: a C loop, several
#: times faster than a regular-expression search for a character class)
_ASCII_PLAIN = b"\n\r" + bytes(range(0x20, 0x7F))


def _plain_risky(v: str) -> bool:
    return bool(v) and v[0] in _RISKY_FIRST and len(v) <= 64 and _RISKY_SCALAR.fullmatch(v) is not None


def _flow_risky(v: str) -> bool:
    if "#" in v or not _SIMPLE_FLOW.fullmatch(v) or v.count("[") != v.count("]") or v.count("{") != v.count("}"):
        return True
    return any(_plain_risky(m.group(1)) for m in _FLOW_PLAIN.finditer(v))


#: a line that _line_risky() passes, recognised by one C-level match instead of a Python call
#: per line: blank; a comment; a quoted scalar (not a quoted key); or `key:` (after any `- `)
#: with nothing, a quoted scalar or a plain scalar YAML 1.1 types as a string. Anything else
#: (flow collections, block scalars, plain list items, ...) goes to _line_risky.
_SAFE_STR = r'"(?:[^"\\\n\r#\[\]{},:]|[,:] *+(?![yYnNoO0-9+.=<-]))*+"'  # in a flow: no plain scalar starts inside
_SAFE_WORD = r"(?![yYnNoO])[A-Za-z_][A-Za-z0-9_.()/+-]*+"
_SAFE_FLOW = (  # a one-line flow sequence of such strings, or flow mapping of words to words or strings
    rf"(?:\[ *+(?:{_SAFE_STR} *+(?:, *+{_SAFE_STR} *+)*+)?\]"
    rf"|\{{ *+(?:{_SAFE_WORD}: ++(?:{_SAFE_WORD}|{_SAFE_STR}) *+(?:, *+{_SAFE_WORD}: ++(?:{_SAFE_WORD}|{_SAFE_STR}) *+)*+)?\}}) *+"
)
#: each alternative matches one whole line or nothing, so their order changes only the
#: speed: the most frequent, `key: value`, is tried first
_SAFE_LINE = (
    r" *+(?:"
    r"(?:- ++)*+(?!(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF):)[A-Za-z_][A-Za-z0-9_]*+:"
    r"(?: ++(?:[\"'][^\n\r]*+|" + _SAFE_FLOW +
    r"|(?![\[{!&*|>\"'#])(?!(?:" + _RISKY_SCALAR.pattern + r")(?: *\n| +#))[^\n\r]*+))?"
    r"|(?:#[^\n\r]*+)?"
    r"|(?:- ++)*+" + _SAFE_FLOW +
    r"|(?=[\"'])(?![^\n\r]*[\"']:(?: |\n))[^\n\r]*+"  # the opening quote counts: `": x` is risky
    r")\n"
)
_SAFE_RUN = re.compile(f"(?:{_SAFE_LINE})*+")
_NONBLANK_LINE = re.compile(r"^ *[^ \n][^\n]*", re.M)


def _risky(text: str) -> bool:
    """Whether PyYAML and yaml_rs may read `text` differently (see above)."""
    if not text.endswith("\n"):
        return True
    if text.isascii():
        if text.encode("ascii").translate(None, _ASCII_PLAIN):
            return True
    elif _ODD_CHARS.search(text):
        return True
    pos, end = 0, len(text)
    while True:
        pos = _SAFE_RUN.match(text, pos).end()  # type: ignore[union-attr]  # matches, if only the empty string
        if pos >= end:
            return False
        nl = text.index("\n", pos)
        if _line_risky(text[pos:nl], text, nl + 1):
            return True
        pos = nl + 1


def _line_risky(line: str, text: str, after: int) -> bool:
    """Whether one line of `text` (without its newline; the next line starts at `after`)
    may be read differently, erring on the side of caution."""
    s = line.lstrip(" ")
    if not s:
        return False
    c = s[0]
    if c == "#":
        return False
    if c == '"' or c == "'":  # a quoted scalar, or a line of one; a quoted key is risky
        return '": ' in s or "': " in s or s.endswith(('":', "':"))
    if line.startswith(("---", "...", "%")):
        return True
    while c == "-" and (s.startswith("- ") or s == "-"):
        s = s[2:].lstrip(" ")
        c = s[:1]
    if not s:
        return False
    if c in "!&*?:%@`":
        return True
    col = len(line) - len(s)
    if c == "[" or c == "{":
        return _flow_risky(s)
    i = s.find(": ")
    if i < 0 and s.endswith(":"):
        i = len(s) - 1
    if i >= 0:
        if _plain_risky(s[:i].rstrip(" ")):
            return True
        v = s[i + 1 :].lstrip(" ")
    else:
        v = s
    if not v:
        return False
    c = v[0]
    if c == '"' or c == "'":
        return False
    if c == "[" or c == "{":
        return _flow_risky(v)
    if c in "!&*":
        return True
    if c == "|" or c == ">":
        head = v.split(" #", 1)[0].rstrip(" ")
        if "+" in head:
            return True  # keeps trailing lines: chomping at the end of a text differs
        m = _NONBLANK_LINE.search(text, after)
        if m is None:
            return True  # an empty block scalar
        nxt = m.group()
        return len(nxt) - len(nxt.lstrip(" ")) <= col  # else an empty block scalar
    h = v.find(" #")
    if h >= 0:
        v = v[:h]
    return _plain_risky(v.rstrip(" "))


def _fast_load(text: str) -> Any:
    """The data of `text` as yaml_rs reads it, or raise _Fallback when PyYAML must read it."""
    if yaml_rs is None or _risky(text):
        raise _Fallback
    try:
        return yaml_rs.loads(text)
    except Exception:  # noqa: BLE001 - whatever it is, PyYAML will say it with a line number
        raise _Fallback from None


def _load(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """Parse once: the data and the duplicate keys, by _fast_load if it can, else by PyYAML."""
    try:
        return _fast_load(text), []
    except _Fallback:
        return _pyyaml_load(text)


def _pyyaml_load(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """Parse once: the data, and the duplicate keys found on the way.

    Plain mappings, sequences and strings are built by a direct walk over the
    composed nodes (several times faster than PyYAML's generic constructor);
    every other scalar goes through PyYAML's own constructor, and a document
    using aliases, merge keys or unhashable keys is built entirely by PyYAML,
    so the result is always what ``yaml.load(text, CSafeLoader)`` returns.
    """
    loader = _FastLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, []
        dups: list[tuple[int, str]] = []
        seen_nodes: set[int] = set()
        construct_object = loader.construct_object

        def walk(node: yaml.Node) -> Any:
            cls = type(node)
            tag = node.tag
            if cls is _ScalarNode:
                if tag == _STR:
                    return node.value
                return construct_object(node, deep=True)
            if id(node) in seen_nodes:  # an alias: shared or recursive data
                raise _Fallback
            seen_nodes.add(id(node))
            if cls is _SequenceNode and tag == _SEQ:
                return [walk(c) for c in node.value]
            if cls is _MappingNode and tag == _MAP:
                out: dict[Any, Any] = {}
                keys: set[str] = set()
                for k, v in node.value:
                    if type(k) is not _ScalarNode or k.tag not in (_STR, "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float", "tag:yaml.org,2002:null"):
                        raise _Fallback  # merge keys, value keys, complex keys
                    if k.value in keys:
                        dups.append((k.start_mark.line + 1, k.value))
                    keys.add(k.value)
                    out[walk(k)] = walk(v)
                return out
            raise _Fallback  # explicitly tagged collections

        try:
            data = walk(root)
        except _Fallback:
            data = loader.construct_document(root)
            dups = _duplicate_keys(root)
        finally:
            walk = None  # type: ignore[assignment]  # break walk -> cell -> walk: loads run with gc paused
        return data, sorted(dups)
    finally:
        loader.dispose()


#: switched off by the streaming build, which re-reads only changed files anyway (update.py)
_CACHING = True


@contextlib.contextmanager
def caching(enabled: bool) -> Iterator[None]:
    """Switch the parse cache on or off for the duration of a with block."""
    global _CACHING
    was, _CACHING = _CACHING, enabled
    try:
        yield
    finally:
        _CACHING = was


def cache_dir() -> Path | None:
    """Root of the parse caches of validate, check and export: $CLAIMKB_CACHE_DIR, else
    ~/.cache/claimkb (parsed YAML in yaml/, parsed documents in documents/); None when
    CLAIMKB_NO_CACHE is set. Deleting it is always safe."""
    if os.environ.get("CLAIMKB_NO_CACHE") or not _CACHING:
        return None
    root = os.environ.get("CLAIMKB_CACHE_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "claimkb"


#: what the cached data depends on besides the file's text
_FINGERPRINT = f"{sys.version}|{yaml.__version__}|{getattr(yaml_rs, '__version__', None)}|{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}|"


def _cached_load(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """_load(text), memoized on disk by the sha256 of the text (content-addressed, so
    an edited file is simply a new key and a stale entry can never be returned).

    Parsing YAML is most of a build's time; a rebuild re-parses only the files
    that changed. Entries are marshal dumps written atomically; anything
    unreadable is ignored and re-parsed, and data marshal cannot hold (dates)
    is not cached."""
    root = cache_dir()
    if root is None:
        return _load(text)
    key = hashlib.sha256((_FINGERPRINT + text).encode("utf-8", "surrogatepass")).hexdigest()
    entry = root / "yaml" / key[:2] / key
    try:
        data, dups = marshal.loads(entry.read_bytes())
        return data, [tuple(d) for d in dups]  # type: ignore[misc]
    except (OSError, ValueError, EOFError, TypeError):
        pass
    data, dups = _load(text)
    try:
        atomic_write(entry, marshal.dumps((data, dups)))
    except (OSError, ValueError):
        pass
    return data, dups


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
            self.data, self._duplicates = _cached_load(text)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = mark.line + 1 if mark else None
            what = e.problem or str(e)
            if e.context:
                what = f"{e.context}; {what}"
            raise YamlSyntaxError(line, f"YAML syntax error: {what}") from None
        except yaml.reader.ReaderError as e:  # a character YAML does not allow: say where
            line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
            char = f"#x{e.character:04x}" if isinstance(e.character, int) else repr(e.character)
            raise YamlSyntaxError(line, f"YAML syntax error: unacceptable character {char}: {e.reason}") from None
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
        """(line, key) of every key given twice in the same mapping (found while loading)."""
        return list(self._duplicates)


def _duplicate_keys(root: yaml.Node | None) -> list[tuple[int, str]]:
    """(line, key) of every key given twice in the same mapping, from a node tree."""
    out: list[tuple[int, str]] = []
    stack = [root]
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
