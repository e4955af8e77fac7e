"""No import cycle among connprof's modules, and every deferred import says why it is deferred.

The module graph is read from the source with ``ast``, never by importing anything, and counts:

* every ``import``/``from ... import`` statement, at module level or inside a function or a
  method (a deferred import that closes a cycle is still a cycle: it only moves the failure to
  the first call), except those under ``if TYPE_CHECKING:``, which never run;
* relative imports, resolved to absolute names;
* ``from pkg import name``: an import of ``pkg.name`` when that is a module, else of ``pkg``
  (the name then comes from ``pkg/__init__.py``). So ``from . import secret`` in
  ``drivers/_pymongo.py`` imports ``connprof.drivers``, ``from .. import __version__`` imports
  ``connprof``, and ``from .. import _errors`` imports ``connprof._errors`` only;
* the packages a target lives in, except the importer's own: importing ``connprof.secrets._env``
  from ``connprof._cli`` runs ``connprof/secrets/__init__.py`` first, so it is an import of
  ``connprof.secrets`` too; for ``connprof/secrets/_file.py`` it is not, since Python has
  already started ``connprof.secrets`` (and ``connprof``) before any of their submodules runs;
* ``importlib.import_module("...")`` with a literal name (and a literal or ``__name__`` /
  ``__package__`` package), and module-level tables of module names that a dynamic
  ``import_module`` call reads: ``_LAZY`` in ``connprof/__init__.py`` (names relative to the
  package) and any dict whose values are absolute ``connprof.*`` module names.

Only imports of connprof's own modules are edges; a module importing itself is not a cycle.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "connprof"


@dataclass(frozen=True)
class Import:
    """One import of a connprof module by another, and where it is written."""

    importer: str
    target: str
    path: Path  # the importer's file
    line: int
    source: str  # the statement, or what the edge was read from
    in_function: bool


def find_modules(package_dir: Path, package: str = PACKAGE) -> dict[str, Path]:
    """``{"connprof": .../connprof/__init__.py, "connprof._cli.show": .../_cli/show.py, ...}``."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module"
    )


class _Reader(ast.NodeVisitor):
    """The imports of one module: statements, ``import_module`` calls and module tables."""

    def __init__(self, name: str, path: Path, modules: dict[str, Path]) -> None:
        self.name = name
        self.path = path
        self.modules = modules
        self.is_package = path.name == "__init__.py"
        self.package = name if self.is_package else name.rpartition(".")[0]
        self.lines = path.read_text(encoding="utf-8").splitlines()
        self.depth = 0  # > 0 inside a function or a method
        self.found: list[Import] = []
        self.dynamic_packages: list[str | None] = []  # per dynamic import_module: its package
        self.dynamic_prefixes: list[str] = []

    # -- helpers ---------------------------------------------------------------------------

    def _source(self, node: ast.AST) -> str:
        first = self.lines[node.lineno - 1].strip()  # type: ignore[attr-defined]
        return first if len(first) <= 100 else first[:97] + "..."

    def _resolve(self, level: int, module: str | None, package: str | None = None) -> str:
        """The absolute name of ``from <level dots><module> import``, as Python resolves it."""
        if level == 0:
            return module or ""
        base = (package if package is not None else self.package).split(".")
        if level > 1:
            base = base[: len(base) - (level - 1)]
        return ".".join([*base, module] if module else base)

    def _known(self, name: str) -> str | None:
        """``name``, or the longest prefix of it that is a connprof module; None if outside."""
        while name:
            if name in self.modules:
                return name
            name = name.rpartition(".")[0]
        return None

    def _add(self, target: str, node: ast.AST, source: str | None = None) -> None:
        known = self._known(target)
        if known is None:
            return
        line = node.lineno  # type: ignore[attr-defined]
        text = source or self._source(node)
        edges = [known]
        # The packages the target lives in run first, unless the importer lives in them too.
        parts = known.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent != self.name and not self.name.startswith(parent + "."):
                edges.append(parent)
        for i, target_name in enumerate(edges):
            if target_name == self.name:
                continue
            how = text if i == 0 else f"{text}  [runs {target_name} first]"
            self.found.append(
                Import(self.name, target_name, self.path, line, how, in_function=self.depth > 0)
            )

    # -- visitors --------------------------------------------------------------------------

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:  # the body never runs
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._resolve(node.level, node.module)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(submodule if submodule in self.modules else base, node)

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if not _is_import_module(node.func) or not node.args:
            return
        package: str | None = None
        package_arg = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "package":
                package_arg = keyword.value
        if isinstance(package_arg, ast.Constant) and isinstance(package_arg.value, str):
            package = package_arg.value
        elif isinstance(package_arg, ast.Name) and package_arg.id == "__name__":
            package = self.name
        elif isinstance(package_arg, ast.Name) and package_arg.id == "__package__":
            package = self.package
        name = node.args[0]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            self._add(self._from_text(name.value, package), node)
            return
        # A dynamic name: this module's tables of module names are the candidates (_read_tables).
        prefix = ""
        if isinstance(name, ast.JoinedStr) and name.values:
            head = name.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                prefix = head.value
        self.dynamic_packages.append(package)
        self.dynamic_prefixes.append(prefix)

    def _from_text(self, text: str, package: str | None) -> str:
        level = len(text) - len(text.lstrip("."))
        if level and package is None:
            return ""  # a relative name without a package fails at run time anyway
        return self._resolve(level, text[level:] or None, package)

    def read(self) -> list[Import]:
        tree = ast.parse("\n".join(self.lines), filename=str(self.path))
        self.visit(tree)
        if self.dynamic_packages:
            self._read_tables(tree)
        return self.found

    def _read_tables(self, tree: ast.Module) -> None:
        """Module-level ``NAME = {key: "module name", ...}`` read by a dynamic import_module."""
        for stmt in tree.body:
            value: ast.expr | None
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, ast.AnnAssign):
                targets, value = [stmt.target], stmt.value
            else:
                continue
            if not isinstance(value, ast.Dict) or not value.values:
                continue
            texts = [v.value for v in value.values if isinstance(v, ast.Constant)]
            if len(texts) != len(value.values) or not all(isinstance(t, str) for t in texts):
                continue
            table = ", ".join(ast.unparse(t) for t in targets)
            for entry, text in zip(value.values, texts, strict=True):
                assert isinstance(text, str)
                candidates = [text] if text.startswith(PACKAGE + ".") else []
                for package, prefix in zip(
                    self.dynamic_packages, self.dynamic_prefixes, strict=True
                ):
                    if prefix.startswith("."):
                        candidates.append(self._from_text(prefix + text, package))
                for candidate in candidates:
                    if candidate in self.modules:
                        source = f"{table}[...] = {text!r}, read by importlib.import_module"
                        self._add(candidate, entry, source)
                        break


def read_imports(package_dir: Path = ROOT / PACKAGE) -> list[Import]:
    """Every import of a connprof module by a connprof module (see the module docstring)."""
    modules = find_modules(package_dir)
    found: list[Import] = []
    for name, path in modules.items():
        found.extend(_Reader(name, path, modules).read())
    return found


# -- cycles ------------------------------------------------------------------------------------


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module, each sorted; iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def _cycles_in(component: list[str], graph: dict[str, set[str]], limit: int) -> list[list[str]]:
    """Some elementary cycles of one component, shortest first, each from its smallest module.

    A tangle has many cycles; the shortest few say enough. The search stops after ``4 * limit``.
    """
    members = set(component)
    cycles: list[list[str]] = []

    def walk(path: list[str], allowed: set[str]) -> None:
        for child in sorted(graph[path[-1]] & allowed):
            if len(cycles) >= 4 * limit:
                return
            if child == path[0]:
                cycles.append([*path, child])
            elif child not in path:
                walk([*path, child], allowed)

    for start in component:  # cycles through ``start`` and modules sorted after it only
        walk([start], {m for m in members if m >= start})
    cycles.sort(key=lambda c: (len(c), c))
    return cycles[:limit]


def find_cycles(imports: list[Import], limit: int = 10) -> list[tuple[list[str], list[list[str]]]]:
    """``[(component, [cycle, ...]), ...]``: each tangle of modules and some cycles in it."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.importer, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    return [(c, _cycles_in(c, graph, limit)) for c in _strongly_connected(graph)]


def short(name: str) -> str:
    """``connprof.drivers._pymongo`` → ``drivers._pymongo``; the top package stays ``connprof``."""
    return name.removeprefix(PACKAGE + ".") if name != PACKAGE else name


def describe_cycles(imports: list[Import], limit: int = 10) -> str:
    """Readable chains, each edge with the file and line that makes it."""
    where: dict[tuple[str, str], Import] = {}
    for imp in sorted(imports, key=lambda i: (i.in_function, i.line)):
        where.setdefault((imp.importer, imp.target), imp)  # module level first, then earliest
    out = []
    for component, cycles in find_cycles(imports, limit):
        out.append(f"tangle of {len(component)} modules: {', '.join(map(short, component))}")
        for cycle in cycles:
            out.append("  " + " -> ".join(map(short, cycle)))
            for a, b in itertools.pairwise(cycle):
                imp = where[(a, b)]
                rel = (
                    imp.path.relative_to(ROOT).as_posix()
                    if imp.path.is_relative_to(ROOT)
                    else imp.path
                )
                kind = "in a function" if imp.in_function else "module level"
                out.append(
                    f"      {short(a)} -> {short(b)}: {rel}:{imp.line} ({kind}) {imp.source}"
                )
        if len(cycles) == limit:
            out.append(f"  (the shortest {limit} cycles of this tangle; there may be more)")
    return "\n".join(out)


# -- deferred imports --------------------------------------------------------------------------

#: Words that say why an import sits inside a function.
REASON = re.compile(
    r"defer|lazy|lazily|start-?up|start up|import time|cycle|circular|optional|first use"
    r"|only when|only if|heavy|slow|costly|expensive",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FunctionImport:
    path: Path
    line: int
    statement: str  # import json, or from .._config import resolve_profile
    comment: str | None  # the explanatory comment found, if any


def _comments(text: str) -> dict[int, str]:
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string
    return comments


class _FunctionImports(ast.NodeVisitor):
    def __init__(self) -> None:
        self.depth = 0
        self.found: list[ast.Import | ast.ImportFrom] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        if self.depth:
            self.found.append(node)

    visit_ImportFrom = visit_Import


def read_function_imports(package_dir: Path = ROOT / PACKAGE) -> list[FunctionImport]:
    """Each import statement inside a function or method, with its explanatory comment if any.

    The comment is on a line of the statement or on the comment lines just above it; one
    comment may head a run of consecutive import statements. The search upwards stops at any
    other line (the ``def``, a docstring, code, a blank line), so it stays inside the function.
    """
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        comments = _comments(text)
        reader = _FunctionImports()
        reader.visit(ast.parse(text, filename=str(path)))
        import_lines = {
            n for node in reader.found for n in range(node.lineno, (node.end_lineno or 0) + 1)
        }
        for node in reader.found:
            end = node.end_lineno or node.lineno
            notes = [comments[n] for n in range(node.lineno, end + 1) if n in comments]
            line = node.lineno - 1
            while line > 0:
                if lines[line - 1].lstrip().startswith("#"):
                    notes.append(comments.get(line, lines[line - 1].strip()))
                elif line not in import_lines:
                    break
                line -= 1
            names = ", ".join(a.name for a in node.names)
            if isinstance(node, ast.Import):
                statement = f"import {names}"
            else:
                statement = f"from {'.' * node.level}{node.module or ''} import {names}"
            reason = next((n for n in notes if REASON.search(n)), None)
            found.append(FunctionImport(path, node.lineno, statement, reason))
    return found


# -- the tests ---------------------------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / PACKAGE


def test_the_reader_counts_each_kind_of_import(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "__init__.py": (
                "from typing import TYPE_CHECKING\n"
                "from ._errors import Error\n"
                "if TYPE_CHECKING:\n"
                "    from ._typed import Only\n"
                "_LAZY = {'load': '_api', 'other': 'not_a_module'}\n"
                "def __getattr__(name):\n"
                "    import importlib\n"
                "    return importlib.import_module(f'.{_LAZY[name]}', __name__)\n"
            ),
            "__main__.py": "from ._cli import run\n",
            "_errors.py": "class Error(Exception): ...\n",
            "_typed.py": "",
            "_api.py": "import connprof.drivers._one\n",
            "_cli/__init__.py": (
                "import json\n"
                "def run():\n"
                "    from .. import __version__\n"
                "    from ..drivers import _one, helper\n"
            ),
            "drivers/__init__.py": (
                "import importlib\n"
                "MODULES = {'one': 'connprof.drivers._one'}\n"
                "def get(name):\n"
                "    return importlib.import_module(MODULES[name])\n"
                "def helper(): ...\n"
            ),
            "drivers/_one.py": (
                "from .. import _errors\n"
                "def emit():\n"
                "    from . import helper\n"
                "    import importlib\n"
                "    importlib.import_module('.._typed', __package__)\n"
            ),
        },
    )
    imports = read_imports(package)
    edges = {(short(i.importer), short(i.target)) for i in imports}
    assert edges == {
        ("connprof", "_errors"),  # from ._errors import ...
        ("connprof", "_api"),  # the _LAZY table read by import_module(f".{...}", __name__)
        ("__main__", "_cli"),
        ("_api", "drivers._one"),  # import connprof.drivers._one ...
        ("_api", "drivers"),  # ... runs connprof/drivers/__init__.py first
        ("_cli", "connprof"),  # from .. import __version__: a name of connprof/__init__.py
        ("_cli", "drivers._one"),  # from ..drivers import _one: a submodule
        ("_cli", "drivers"),  # ... and helper, a name of drivers/__init__.py
        ("drivers", "drivers._one"),  # MODULES, absolute names read by import_module
        ("drivers._one", "_errors"),  # from .. import _errors: the submodule, not connprof
        ("drivers._one", "drivers"),  # from . import helper
        ("drivers._one", "_typed"),  # import_module("..name", __package__)
    }  # and not _typed from connprof/__init__.py: under TYPE_CHECKING
    in_function = {(short(i.importer), short(i.target)) for i in imports if i.in_function}
    assert ("_cli", "connprof") in in_function
    assert ("connprof", "_errors") not in in_function

    cycles = find_cycles(imports)
    assert cycles == [
        (
            ["connprof.drivers", "connprof.drivers._one"],
            [["connprof.drivers", "connprof.drivers._one", "connprof.drivers"]],
        )
    ]
    report = describe_cycles(imports)
    assert "drivers -> drivers._one -> drivers" in report
    assert "from . import helper" in report


def test_the_comment_finder(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "__init__.py": (
                "import os\n"
                "def a():\n"
                "    import json  # deferred: start-up time\n"
                "def b():\n"
                "    # lazy: pydantic is costly to import\n"
                "    # (second line of the comment)\n"
                "    from pydantic import BaseModel\n"
                "    from pydantic import Field\n"
                "def c():\n"
                "    import json\n"
                "def d():\n"
                "    x = 1  # deferred\n"
                "    import json\n"
                "class E:\n"
                "    def method(self):\n"
                '        """Docstring."""\n'
                "        import json  # noqa: needed here\n"
            ),
        },
    )
    found = {f.line: f.comment for f in read_function_imports(package)}
    assert found == {
        3: "# deferred: start-up time",
        7: "# lazy: pydantic is costly to import",
        8: "# lazy: pydantic is costly to import",
        10: None,
        13: None,
        17: None,
    }


def test_the_reader_reads_connprof() -> None:
    """Guards the cycle test against passing on an empty graph."""
    imports = read_imports()
    modules = find_modules(ROOT / PACKAGE)
    assert len(modules) > 20
    assert ("connprof.__main__", "connprof._cli") in {(i.importer, i.target) for i in imports}
    assert {i.importer for i in imports} >= {"connprof", "connprof._cli", "connprof.drivers"}


def test_no_import_cycle() -> None:
    report = describe_cycles(read_imports())
    assert not report, "import cycles among connprof's modules:\n" + report


def test_every_deferred_import_says_why() -> None:
    missing = [f for f in read_function_imports() if f.comment is None]
    listing = "\n".join(
        f"  {f.path.relative_to(ROOT).as_posix()}:{f.line}  {f.statement}" for f in missing
    )
    assert not missing, (
        "imports inside functions without a comment saying why they are deferred "
        f"(start-up time, a cycle, an optional dependency...):\n{listing}"
    )
