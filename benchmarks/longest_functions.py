"""The package's longest functions and largest modules (issue 11 records them before and after).

Usage::

    python benchmarks/longest_functions.py [--top 10]

A function's length is its lines from ``def`` to its last line (docstring included), read from the syntax tree.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "workbench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    funcs, modules = [], []
    for p in sorted(PKG.rglob("*.py")):
        text = p.read_text()
        modules.append((len(text.splitlines()), str(p.relative_to(PKG.parent))))
        for n in ast.walk(ast.parse(text)):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                funcs.append((n.end_lineno - n.lineno + 1, f"{p.relative_to(PKG.parent)}::{n.name}"))
    print(f"{args.top} longest functions (lines):")
    for n, name in sorted(funcs, reverse=True)[:args.top]:
        print(f"  {n:4d}  {name}")
    print(f"{args.top} largest modules (lines; package total {sum(n for n, _ in modules):,}):")
    for n, name in sorted(modules, reverse=True)[:args.top]:
        print(f"  {n:4d}  {name}")


if __name__ == "__main__":
    main()
