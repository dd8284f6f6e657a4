"""Print import cycles among src/ddkit modules (every import, also inside functions; `if TYPE_CHECKING:`
blocks ignored). Exit 1 when there is one. Run by `make test` (tests/unit/test_structure.py)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_name(p: Path) -> str:
    parts = list(p.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(p: Path, mod: str) -> set[str]:
    tree = ast.parse(p.read_text(encoding="utf-8"))
    pkg = mod if p.name == "__init__.py" else mod.rsplit(".", 1)[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for n in ast.walk(node):
                skip.add(id(n))
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("ddkit")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("ddkit"):
                subs = {f"{target}.{a.name}" for a in node.names}
                known = {module_name(q) for q in SRC.rglob("*.py")}
                # `from . import gitutil` imports the module gitutil; `from . import __version__` the package
                out |= subs & known
                if not subs <= known:
                    out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    mods = {module_name(p): p for p in SRC.rglob("*.py")}
    return {m: {t for t in imports(p, m) if t in mods and t != m} for m, p in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found, index, low, stack, on, n = [], {}, {}, [], set(), [0]

    def strong(v: str) -> None:
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            # a package's __init__ importing its own submodules is not a cycle of design
            if len(comp) > 1:
                found.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in g:
        if v not in index:
            strong(v)
    return found


if __name__ == "__main__":
    cs = cycles(graph())
    for c in cs:
        print("cycle:", " <-> ".join(c))
    sys.exit(1 if cs else 0)
