"""Functions longer than a limit (default 120 lines) in src/coverage, outside the numba ``_kernels``
modules (issue 13: no function outside the kernels longer than ~120 lines).

Run from the repository root: ``python tools/function_length.py [limit]``; exits 1 when any is longer.
"""
import ast, pathlib, sys
limit = int(sys.argv[1]) if len(sys.argv) > 1 else 120
bad = []
for p in sorted(pathlib.Path("src/coverage").rglob("*.py")):
    if "_kernels" in p.parts or p.name == "_kernels.py":
        continue
    tree = ast.parse(p.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > limit:
                bad.append((n, f"{p}:{node.lineno} {node.name}"))
for n, w in sorted(bad, reverse=True):
    print(n, w)
print(f"{len(bad)} function(s) longer than {limit} lines")
sys.exit(1 if bad else 0)
