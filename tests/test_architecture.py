"""The layout holds: packages import one way, no module imports itself round a cycle, and SQL
lives in models/ only.

Every import is read with `ast`, wherever it is written: at the top, under `if TYPE_CHECKING:`,
inside a function. Layers, bottom first (each may import only its own layer and those below):

    handlers.parsing  pure text → values (the chain parser, quantities, matching, times)
    models            message, domain and config types · tables · db · store/ (the only SQL)
    handlers          chat behaviour: router, chain engine, commands, reports
    scheduler         when: triggers that call handlers' operations
    bot               the running bot: app, dispatcher, sender, HTTP, CLI, adapters, tools/

handlers.parsing sits below models because models' round state holds its Product and
ProductMatcher; it imports nothing of ours at all.

SQL rule: outside models/, no module imports sqlalchemy, alembic or a database driver, nor
models.tables (the table classes are what queries are built from), nor calls a connection's
execute-family methods. bot/ may import models.db to open the database (engines, migrations).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "models", "scheduler")
LAYERS = ("handlers.parsing", "models", "handlers", "scheduler", "bot")
SQL_MODULES = ("sqlalchemy", "alembic", "aiosqlite", "asyncpg", "sqlite3", "models.tables")
CONNECTION_CALLS = frozenset(
    {"execute", "exec_driver_sql", "scalar", "scalars", "stream", "stream_scalars", "run_sync"}
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, Path]:
    return {
        module_name(p): p
        for pkg in PACKAGES
        for p in sorted((ROOT / pkg).rglob("*.py"))
        if "migrations" not in p.parts  # alembic's own scripts, run by models.db
    }


def imported(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """Every module name an import statement anywhere in `tree` names, with its line.

    `from a import b` names `a.b` when that is a module, else `a`; the caller resolves it.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno
            yield base, node.lineno


def first_party(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that `name` is or lies in, if it is one of ours."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def graph() -> dict[str, dict[str, int]]:
    """Module → {module it imports: line}; package __init__ files are nodes like any other."""
    known = sources()
    edges: dict[str, dict[str, int]] = {}
    for mod, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out: dict[str, int] = {}
        for name, line in imported(tree, mod, path.name == "__init__.py"):
            target = first_party(name, known)
            if target is not None and target != mod and target not in PACKAGES:
                out.setdefault(target, line)
        edges[mod] = out
    return edges


def layer(module: str) -> int:
    if module == "handlers.parsing" or module.startswith("handlers.parsing."):
        return 0
    return LAYERS.index(module.split(".")[0])


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_import_reader_sees_hidden_imports() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.app import App\n"
        "def f():\n    import scheduler.jobs\n    from handlers import replies\n"
    )
    names = {name for name, _ in imported(tree, "models.x", False)}
    assert {"bot.app", "scheduler.jobs", "handlers.replies"} <= names


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]


def test_no_module_cycle() -> None:
    assert cycles(graph()) == []


def test_packages_import_one_way() -> None:
    """models ← handlers ← scheduler ← bot, with handlers.parsing below them all."""
    wrong = [
        f"{src}:{line} imports {dst} ({LAYERS[layer(src)]} may not use {LAYERS[layer(dst)]})"
        for src, out in graph().items()
        for dst, line in out.items()
        if layer(dst) > layer(src)
    ]
    assert wrong == []


def test_no_package_cycle() -> None:
    packages: dict[str, dict[str, int]] = {}
    for src, out in graph().items():
        for dst in out:
            a, b = LAYERS[layer(src)], LAYERS[layer(dst)]
            if a != b:
                packages.setdefault(a, {})[b] = 1
    assert cycles(packages) == []


def test_the_parser_is_pure() -> None:
    leaks = [
        f"{src} imports {dst}"
        for src, out in graph().items()
        if src.startswith("handlers.parsing")
        for dst in out
        if not dst.startswith("handlers.parsing")
    ]
    assert leaks == []


def test_sql_lives_in_models_only() -> None:
    known = sources()
    wrong: list[str] = []
    for mod, path in known.items():
        if mod == "models" or mod.startswith("models."):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line in imported(tree, mod, path.name == "__init__.py"):
            if any(name == m or name.startswith(m + ".") for m in SQL_MODULES):
                wrong.append(f"{mod}:{line} imports {name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CONNECTION_CALLS
            ):
                wrong.append(f"{mod}:{node.lineno} calls .{node.func.attr}()")
    assert wrong == []
