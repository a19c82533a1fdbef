"""The package's layering: the pure control code loads no device library, and no two modules import each
other (at import time or for type checking)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "smartsofar"


def test_the_pure_control_code_loads_neither_pymodbus_nor_httpx() -> None:
    code = ("import sys, smartsofar.control.decide, smartsofar.control.safety, smartsofar.config; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pymodbus', 'httpx', 'fastapi', 'aiomqtt'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_the_p1_parser_is_loaded_only_for_a_p1_meter() -> None:
    """dsmr_parser and the cryptography it brings cost some 13 MB: not for installations without a P1 meter."""
    code = ("import sys, smartsofar.cli, smartsofar.meter.sources; print('dsmr_parser' in sys.modules); "
            "from smartsofar.meter.dsmr_p1 import specifications; specifications(); "
            "print('dsmr_parser' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["False", "True"]


def _imports(path: Path) -> set[str]:
    """The smartsofar modules a module imports anywhere in it (type-only imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("smartsofar"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("smartsofar"))
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    modules = {".".join(("smartsofar", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph = {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}
    cycles = []
    for start in graph:  # a depth-first search from every module for a path back to it
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join([*trail, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles))[:10])
