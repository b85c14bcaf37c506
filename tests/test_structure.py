"""The house stays easy to see: gen's imports go one way, and none hides inside a function without saying why."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click
from support import REPO

from generator.commands import cli

PACKAGE = REPO / "generator"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> list[tuple[str, ast.AST]]:
    """Every gen module `path` imports, at any depth (functions, TYPE_CHECKING blocks), with its node."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(path).split(".")
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target in known:
                found.append((target, node))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: {target for target, _ in _imports(path, known) if target != name}
            for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def _wing(module: str) -> str:
    """The wing a module belongs to: its subpackage of `generator`, or the module itself at the top."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _wing_graph() -> dict[str, set[str]]:
    wings: dict[str, set[str]] = {}
    for name, targets in _graph().items():
        wing = _wing(name)
        wings.setdefault(wing, set()).update(_wing(target) for target in targets if _wing(target) != wing)
    return wings


def test_the_walk_finds_a_planted_cycle():
    graph = _graph()
    graph["generator.model"] = graph["generator.model"] | {"generator.config"}
    assert _cycle(graph) is not None


def test_gen_modules_import_each_other_one_way():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_walk_finds_a_planted_cycle_between_wings():
    graph = _wing_graph()
    graph["generator.plumbing"] = graph["generator.plumbing"] | {"generator.review"}
    assert _cycle(graph) is not None


def test_wings_import_each_other_one_way():
    cycle = _cycle(_wing_graph())
    assert cycle is None, "import cycle between wings: " + " -> ".join(cycle or [])


def test_the_model_imports_nothing_of_gen():
    imported = _graph()["generator.model"]
    assert imported == set()


def test_function_local_imports_of_gen_modules_say_they_keep_node_out_of_start_up():
    modules = _modules()
    known = set(modules)
    unexplained = []
    for name, path in modules.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        nested = {id(node) for function in ast.walk(tree)
                  if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))}
        for target, node in _imports(path, known):
            if id(node) not in nested:
                continue
            comments = [line.strip() for line in lines[max(0, node.lineno - 4):node.lineno - 1]]
            if not any(line.startswith("#") and "Node.js" in line for line in comments):
                unexplained.append(f"{name}:{node.lineno} imports {target}")
    assert unexplained == []



MAX_MODULE_LINES = 450


def _long_modules(modules: dict[str, Path]) -> dict[str, int]:
    """The modules over MAX_MODULE_LINES lines, with their line counts; no module is exempt."""
    counts = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules.items()}
    return {name: count for name, count in counts.items() if count > MAX_MODULE_LINES}


def test_the_size_check_finds_a_planted_long_module(tmp_path):
    planted = tmp_path / "long.py"
    planted.write_text("x = 1\n" * (MAX_MODULE_LINES + 1), encoding="utf-8")
    assert _long_modules({**_modules(), "generator.long": planted}) == {"generator.long": MAX_MODULE_LINES + 1}


def test_no_module_is_over_450_lines():
    assert _long_modules(_modules()) == {}, f"split these along their seams (at most {MAX_MODULE_LINES} lines each)"


def test_the_commands_sit_at_the_top_and_only_the_entry_point_imports_them():
    importers = sorted(name for name, targets in _graph().items()
                       if _wing(name) != "generator.commands" and any(_wing(t) == "generator.commands" for t in targets))
    assert importers == ["generator.launch"]


def test_the_group_loads_every_command_of_the_commands_modules_by_its_name():
    """The group imports a command's module when the command runs (commands/group.py): its table must hold
    every command those modules define, under the name click gives it, and nothing else."""
    defined = {}
    for path in sorted((PACKAGE / "commands").glob("*.py")):
        if path.stem in ("__init__", "group"):
            continue
        module = importlib.import_module(f"generator.commands.{path.stem}")
        defined.update({command.name: (path.stem, attribute) for attribute, command in vars(module).items()
                        if isinstance(command, click.Command) and command.callback.__module__ == module.__name__})
    assert defined == cli.lazy
