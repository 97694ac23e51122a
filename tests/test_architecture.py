"""The shape of the code: imports follow the data flow, and Datasette is extended only
through its documented surface.

model -> ingest -> judge -> build -> checks/site/exports/draft -> cli (docs/architecture.md).
Each package may import only the packages listed for it in LAYERS; nothing imports a
private name (``_x``) of another module; the packages form no cycle. The web layer (site)
knows only the database. From Datasette, src/ uses only the names the ``datasette``
package exports and documents for plugins, never assigns to Datasette's classes or
functions, never swaps ``__class__``, and copies none of its templates.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "claimkb"

#: package -> the claimkb packages it may import (besides itself)
LAYERS: dict[str, set[str]] = {
    "problems": set(),
    "fileio": set(),
    "identifiers": set(),
    "model": {"problems", "identifiers"},
    "ingest": {"model", "problems", "identifiers", "fileio"},
    "checks": {"model", "ingest", "problems", "identifiers"},
    "judge": {"model", "ingest", "checks", "problems"},
    "match": {"model", "problems", "fileio"},
    "build": {"model", "ingest", "checks", "judge", "match", "problems", "fileio"},
    "exports": {"build", "identifiers", "fileio", "ingest"},
    "site": {"exports"},
    "draft": {"model", "ingest", "identifiers", "fileio", "match", "problems"},
    "bench": {"model", "build", "site", "problems", "fileio"},
    "cli": {
        "model",
        "ingest",
        "checks",
        "judge",
        "build",
        "match",
        "exports",
        "site",
        "draft",
        "bench",
        "problems",
        "fileio",
        "identifiers",
    },
    "__main__": {"cli"},
}
#: the only modules of another layer the site may use (they read rows, not models)
SITE_MAY_USE = {"claimkb.exports.claimreview"}
#: what src/ may import from Datasette: the public names its plugin documentation uses
DATASETTE_NAMES = {"hookimpl", "Response", "NotFound", "Forbidden", "Request"}


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "claimkb"


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported from it, line) for every import of the file."""
    name = module_name(path)
    here = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((target, [a.name for a in node.names], node.lineno))
    return out


def claimkb_edges() -> list[tuple[str, str, str, int]]:
    """(importing module, imported module, file, line) within claimkb; `from . import x`
    counts as an import of the submodule x."""
    out = []
    for path in modules():
        for target, names, line in imports(path):
            if not target.startswith("claimkb"):
                continue
            subs = [
                f"{target}.{n}"
                for n in names
                if (SRC.parent / f"{target}.{n}".replace(".", "/")).with_suffix(".py").exists()
                or (SRC.parent / f"{target}.{n}".replace(".", "/")).is_dir()
            ]
            for t in subs or [target]:
                out.append((module_name(path), t, str(path.relative_to(SRC.parent)), line))
    return out


def test_every_package_is_in_the_layer_table():
    packages = {package_of(module_name(p)) for p in modules()} - {"claimkb"}
    assert packages <= set(LAYERS), packages - set(LAYERS)


def test_imports_follow_the_layers():
    wrong = []
    for source, target, where, line in claimkb_edges():
        a, b = package_of(source), package_of(target)
        if a == b or b == "claimkb" and target == "claimkb":
            continue
        if b not in LAYERS.get(a, set()):
            wrong.append(f"{where}:{line}: {a} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_site_knows_only_the_database():
    wrong = [
        f"{where}:{line}: {target}"
        for source, target, where, line in claimkb_edges()
        if package_of(source) == "site"
        and package_of(target) != "site"
        and target not in SITE_MAY_USE
    ]
    assert not wrong, "\n".join(wrong)
    for allowed in SITE_MAY_USE:  # and what it uses imports no model either
        path = SRC.parent / (allowed.replace(".", "/") + ".py")
        assert not [t for t, _, _ in imports(path) if t.startswith("claimkb")], allowed


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state and (found := visit(m)):
                return found
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_packages_form_no_cycle():
    graph: dict[str, set[str]] = {}
    for source, target, _, _ in claimkb_edges():
        a, b = package_of(source), package_of(target)
        if a != b and b != "claimkb":
            graph.setdefault(a, set()).add(b)
    assert _cycle(graph) is None, _cycle(graph)
    assert _cycle({k: set(v) for k, v in LAYERS.items()}) is None


def test_nothing_imports_a_private_name_of_another_module():
    wrong = []
    for path in modules():
        for target, names, line in imports(path):
            if target.startswith("claimkb") or target.startswith("datasette"):
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if private:
                    wrong.append(f"{path.relative_to(SRC.parent)}:{line}: {target} {private}")
    assert not wrong, "\n".join(wrong)


def test_no_module_reads_a_private_attribute_of_another_module():
    wrong = []
    for path in modules():
        aliases = {
            a.asname or a.name.split(".")[-1]
            for node in ast.walk(tree(path))
            if isinstance(node, ast.ImportFrom) and node.level
            for a in node.names
        }
        for node in ast.walk(tree(path)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                wrong.append(
                    f"{path.relative_to(SRC.parent)}:{node.lineno}: {node.value.id}.{node.attr}"
                )
    assert not wrong, "\n".join(wrong)


# --- Datasette's documented surface ------------------------------------------------------


def test_src_imports_only_datasette_s_public_plugin_names():
    wrong = []
    for path in modules():
        for target, names, line in imports(path):
            if target == "datasette":
                extra = set(names) - DATASETTE_NAMES
                if extra:
                    wrong.append(f"{path.relative_to(SRC.parent)}:{line}: {sorted(extra)}")
            elif target.startswith("datasette."):
                wrong.append(f"{path.relative_to(SRC.parent)}:{line}: {target}")
    assert not wrong, "\n".join(wrong)


def _datasette_names(path: Path) -> set[str]:
    return {
        a.asname or a.name
        for node in ast.walk(tree(path))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("datasette")
        for a in node.names
    } | {"datasette"}


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def test_src_never_assigns_to_datasette_or_swaps_a_class():
    """No `Datasette.x = ...`, `Response.x = ...`, `datasette.x = ...` (the object passed
    to hooks is named datasette), setattr on them, or `obj.__class__ = ...` anywhere."""
    wrong = []
    for path in modules():
        names = _datasette_names(path)
        for node in ast.walk(tree(path)):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AugAssign | ast.AnnAssign)
                else []
            )
            for t in targets:
                if isinstance(t, ast.Attribute) and (t.attr == "__class__" or _root(t) in names):
                    wrong.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: assigns {t.attr}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"setattr", "delattr"}
                and node.args
                and (
                    _root(node.args[0]) in names
                    or (
                        len(node.args) > 1
                        and isinstance(node.args[1], ast.Constant)
                        and node.args[1].value == "__class__"
                    )
                )
            ):
                wrong.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: {node.func.id}")
    assert not wrong, "\n".join(wrong)


def test_the_checks_above_catch_what_they_forbid():
    """The AST checks themselves, on code that breaks each rule."""
    bad = (
        "from datasette.views.table import TableView\n"
        "from datasette import hookimpl\n"
        "from datasette.app import Datasette\n"
        "Datasette.render_template = None\n"
        "db.__class__ = Other\n"
        "setattr(datasette, 'x', 1)\n"
    )
    mod = ast.parse(bad)
    assigns = [n for n in ast.walk(mod) if isinstance(n, ast.Assign)]
    assert [_root(a.targets[0]) for a in assigns] == ["Datasette", "db"]
    assert assigns[1].targets[0].attr == "__class__"


def _datasette_templates() -> set[str]:
    import datasette

    return {p.name for p in (Path(datasette.__file__).parent / "templates").rglob("*.html")}


def test_no_datasette_template_is_copied_or_overridden():
    ours = {p.name for p in (SRC / "site" / "templates").glob("*.html")}
    assert ours and not ours & _datasette_templates(), ours & _datasette_templates()
    # nor any of Datasette's per-database/table override names
    pattern = re.compile(r"^(database|table|row|query)-.*\.html$")
    assert not [n for n in ours if pattern.match(n)]
    assert all(n.startswith(("claimkb_", "_claimkb_")) for n in ours), ours


def test_our_templates_extend_only_base_html_and_our_own():
    for path in (SRC / "site" / "templates").glob("*.html"):
        for parent in re.findall(
            r'{%-?\s*(?:extends|include|import)\s+"([^"]+)"', path.read_text(encoding="utf-8")
        ):
            assert parent == "base.html" or "claimkb" in parent, (path.name, parent)


def test_every_hook_implementation_is_registered():
    from datasette.plugins import pm

    import claimkb.site
    from claimkb.site import hooks

    defined = {n for n, f in vars(hooks).items() if callable(f) and hasattr(f, "datasette_impl")}
    assert defined and defined <= set(vars(claimkb.site))
    registered = {h.plugin_name for h in pm.hook.render_cell.get_hookimpls()}
    assert "claimkb" in registered
    for name in defined:
        impls = getattr(pm.hook, name).get_hookimpls()
        assert any(i.plugin_name == "claimkb" for i in impls), name


def test_every_folder_of_code_is_a_package_that_gets_installed():
    """setuptools installs only folders with an __init__.py: a folder without one would be
    missing from a wheel (an editable install hides that)."""
    from setuptools import find_packages

    found = set(find_packages(where=str(SRC.parent)))
    folders = {module_name(p.parent / "__init__.py") for p in modules()}
    assert folders <= found, folders - found
