"""Checks the grader makes on a submission's source text, never on its run.

A test that says "write it with NumPy only" (``assert_numpy_only``) or "not with the course's
model" (``assert_not_using``) is decided here, outside every sandbox, from the code the student
handed in: the definitions of the named function or class in the student's cells, and, followed
through, every helper, class, alias or import those definitions use that the student's cells
define. Only code counts (names, attributes, imports; docstrings, strings and comments are text).

What a source check cannot see: a forbidden module reached through a name built at run time
(``getattr(__import__("to" + "rch"), ...)``) or through a data assignment. The values the test
records must still match the solution's, so such an answer has still computed the right result;
it has only used a tool the TODO ruled out (the README's threat model lists this).
"""
from __future__ import annotations

import ast

from rnnlab.checks import tree_identifiers

from .repair import parse_cell

Definitions = dict[str, tuple[frozenset[str], ...]]


def _bindings(statements):
    """(name, node) for each name bound at module level by a def, class, import or an alias
    assignment (a name, an attribute chain or a lambda), looking into if/try/with/for blocks."""
    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                yield (alias.asname or alias.name.split(".")[0]), node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None \
                and isinstance(node.value, (ast.Name, ast.Attribute, ast.Lambda, ast.Subscript)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    yield target.id, node
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for block in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, block, [])
                for child in inner:
                    yield from _bindings(child.body if isinstance(child, ast.ExceptHandler) else [child])


def definitions(sources) -> Definitions:
    """For every name the cells bind as code (see ``_bindings``), the names each binding uses.
    Cells that do not parse are skipped (they cannot have defined anything when run)."""
    found: dict[str, list[frozenset[str]]] = {}
    for source in sources:
        tree = parse_cell(source)
        if tree is None:
            continue
        for name, node in _bindings(tree.body):
            found.setdefault(name, []).append(frozenset(tree_identifiers(node)))
    return {name: tuple(uses) for name, uses in found.items()}


def forbidden_names(index: Definitions, name: str, forbid) -> list[str] | None:
    """The names of ``forbid`` that the definitions of ``name`` use, directly or through what they
    use that the student's cells define; None when the student's cells never define ``name``."""
    if name not in index:
        return None
    seen, todo, used = {name}, [name], set()
    while todo:
        for names in index[todo.pop()]:
            used |= names
            for other in names - seen:
                if other in index:
                    seen.add(other)
                    todo.append(other)
    return sorted(set(forbid) & used)
