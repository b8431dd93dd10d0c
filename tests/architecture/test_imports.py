"""The layout's rules, read from the source: who may import whom.

Layers from the bottom up; a module may import its own layer and those below, never above:

    errors, model            what a row is, what it does, what can go wrong
    logs, backoff, config    process-wide settings and policies
    state                    where a portal's state lives (its folder, or Redis)
    playbook                 the TOML playbook
    sources, validate, plan, intake   spreadsheet -> checked records -> plans (pure core)
    api, crm                 the two HTTP edges
    runs                     run folder, journal, reports
    engine                   the run: phases, step runner, actions
    fleet, cli               many portals' runs; the command line

The sandbox (the DocSpace emulator) imports nothing of the rest; aiohttp is used only by the
HTTP edges and the sandbox; python-calamine only by the spreadsheet readers, openpyxl only by
the spreadsheet readers and the report reader, xlsxwriter only by the report writer.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bulk_onboard"

LAYERS: dict[str, int] = {
    "errors": 0,
    "model": 0,
    "logs": 1,
    "backoff": 1,
    "config": 2,
    "state": 2,
    "playbook": 3,
    "sources": 4,
    "validate": 5,
    "plan": 6,
    "intake": 7,
    "api": 8,
    "crm": 8,
    "runs": 9,
    "engine": 10,
    "fleet": 11,  # many portals' runs, started as the command line starts one
    "cli": 11,
    "__main__": 12,
    "__init__": 0,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, set[str]]:
    """module name -> the modules it imports (`from package import module` counts as the
    module, `from module import name` as the module)."""
    names = {_module_name(path) for path in PACKAGE.rglob("*.py")}
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    imported.add(sub if sub in names else node.module)
        found[_module_name(path)] = imported
    return found


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_module_imports_a_higher_layer() -> None:
    wrong = []
    for module, imported in _modules().items():
        area = _area(module)
        if area == "sandbox":
            continue
        for target in imported:
            if not target.startswith("bulk_onboard.") or _area(target) == "sandbox":
                continue
            if LAYERS[_area(target)] > LAYERS[area]:
                wrong.append(f"{module} imports {target}")
    assert sorted(wrong) == []


def test_only_the_cli_starts_the_sandbox() -> None:
    users = {
        module
        for module, imported in _modules().items()
        if _area(module) != "sandbox"
        and any(t.startswith("bulk_onboard.sandbox") for t in imported)
    }
    assert users <= {
        "bulk_onboard.cli.commands",
        "bulk_onboard.cli.onboard",
        "bulk_onboard.cli.demo",
    }


def test_the_sandbox_imports_nothing_else_of_the_package() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, imported in _modules().items()
        if _area(module) == "sandbox"
        for target in imported
        if target.startswith("bulk_onboard") and not target.startswith("bulk_onboard.sandbox")
    ]
    assert wrong == []


def _users_of(package: str) -> set[str]:
    return {
        _area(module)
        for module, imported in _modules().items()
        if any(t == package or t.startswith(package + ".") for t in imported)
    }


def test_aiohttp_only_at_the_http_edges() -> None:
    assert _users_of("aiohttp") <= {"api", "crm", "sandbox"}


def test_openpyxl_only_in_the_readers_and_report_writers() -> None:
    assert _users_of("openpyxl") <= {"sources", "runs"}


def test_calamine_only_in_the_spreadsheet_readers() -> None:
    assert _users_of("python_calamine") == {"sources"}


def test_xlsxwriter_only_in_the_report_writer() -> None:
    assert _users_of("xlsxwriter") <= {"runs"}


def test_click_only_in_the_command_line() -> None:
    assert _users_of("click") <= {"cli", "sandbox"}


def test_the_import_graph_has_no_cycle() -> None:
    modules = _modules()
    graph = {
        module: {t for t in imported if t.startswith("bulk_onboard.") and t in modules}
        for module, imported in modules.items()
    }
    state: dict[str, int] = {}  # 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_top_of_the_package_keeps_at_most_eight_modules() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
