"""The package's layout: layers import one way, no import circles, old import paths still work."""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path


SRC = Path(__file__).resolve().parents[1] / "src" / "coverage"

#: Lower numbers are lower layers; a module may import its own layer or lower ones, never a higher one.
LAYERS = {"errors": 0, "thresholds": 0, "progress": 0, "_atomic": 0, "_version": 0, "propagation": 1, "io": 2,
          "engine": 3, "render": 4, "analysis": 5, "synthetic": 5, "cli": 6, "_aliases": 7, "__init__": 7}


def _modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        rel = p.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1] or ["__init__"]
        out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path, known) -> set[str]:
    """Every module of the package that ``name`` imports, at any depth of its code."""
    is_pkg = path.name == "__init__.py"
    pkg = name.split(".") if is_pkg and name != "__init__" else name.split(".")[:-1]
    if name == "__init__":
        pkg = []
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else list(pkg)
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "coverage":
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:
                sub = ".".join(target + [alias.name])
                mod = ".".join(target) or "__init__"
                found.add(sub if sub in known else mod)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "coverage":
                    found.add(".".join(alias.name.split(".")[1:]) or "__init__")
    return {m for m in found if m in known and m != name}


def _graph():
    mods = _modules()
    return {n: _imports(n, p, mods) for n, p in mods.items()}


def _layer(name: str) -> int:
    return LAYERS[name.split(".")[0]]


def test_imports_point_down_the_layers():
    upward = [(a, b) for a, deps in _graph().items() for b in deps
              if a not in ("__init__", "_aliases") and _layer(b) > _layer(a)]
    assert upward == []


def test_no_import_circle():
    graph = _graph()
    graph.pop("__init__")
    graph.pop("_aliases")
    seen, stack, cycles = set(), [], []

    def visit(n):
        if n in stack:
            cycles.append(stack[stack.index(n):] + [n])
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for m in graph.get(n, ()):
            if m not in ("__init__", "_aliases"):
                visit(m)
        stack.pop()

    for n in sorted(graph):
        visit(n)
    # a package's __init__ importing its own submodules is not a circle unless the submodule imports it back
    assert cycles == []


def test_top_level_stays_small():
    top = [p.name for p in SRC.glob("*.py")]
    assert len(top) <= 10, top


def test_old_import_paths_warn_and_still_work():
    code = ("import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
            "import coverage\n"
            "try:\n    from coverage.villages import cell_fractions\nexcept DeprecationWarning as w:\n"
            "    assert 'coverage.analysis.assess' in str(w), w\nelse:\n    raise SystemExit('no warning')\n"
            "warnings.simplefilter('ignore', DeprecationWarning)\n"
            "from coverage.villages import cell_fractions, read_villages, run_villages\n"
            "from coverage.sites import sector_attenuation_db, read_sites\n"
            "from coverage.tiles import predict_tiled\n"
            "from coverage.predict import _accumulate, predict; assert predict is coverage.predict\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr + p.stdout


def test_public_modules_keep_their_names_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        import coverage
        import coverage.itm as itm
        from coverage import kmz, plot

    assert itm.p2p is coverage.itm.p2p
    assert itm.__spec__.name == "coverage.propagation.itm"
    assert plot.__name__ == "coverage.render.plot" and kmz.__name__ == "coverage.render.kmz"
    assert coverage.interactive.__name__ == "coverage.render.interactive"


def test_no_long_functions_outside_kernels():
    # the kernels may stay long where splitting costs speed; everything else reads as short steps
    long = []
    for name, path in _modules().items():
        if "_kernels" in name:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 120:
                    long.append(f"{name}.{node.name}: {n} lines")
    assert long == []
