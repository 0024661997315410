"""Checks the grader makes on a submission's source text, never on its run.

A test that says "write it with NumPy only" (``assert_numpy_only``) or "not with the course's
model" (``assert_not_using``) is decided here, outside every sandbox, from the code the student
handed in: the definitions of the named function or class in the student's cells, and, followed
through, every helper, class, alias or import those definitions read from outside themselves
(their free and global names, as Python's own ``symtable`` resolves them: a loop variable
``grad`` is the function's own, whatever a later cell imports under that name) that the student's
cells define. Only code counts (names, attributes, imports; docstrings, strings and comments are
text), and cells are read as the kernel runs them (``cells.parse_cell``: magics included).

What a source check cannot see: a forbidden module reached through a name built at run time
(``getattr(__import__("to" + "rch"), ...)``) or through a data assignment. The values the test
records must still match the solution's, so such an answer has still computed the right result;
it has only used a tool the TODO ruled out (the README's threat model lists this).
"""
from __future__ import annotations

import ast
import symtable
from typing import NamedTuple

from rnnlab.checks import tree_identifiers

from .cells import CODE_MAGICS, magic_call, parse_cell


class Use(NamedTuple):
    """What one binding of a name uses: every identifier of its code (what a forbidden module
    shows up as) and the names it reads from outside itself (what is followed to other bindings)."""

    identifiers: frozenset[str]
    reads: frozenset[str]


Definitions = dict[str, tuple[Use, ...]]


def outside_reads(node: ast.stmt) -> frozenset[str]:
    """The names a module-level statement reads from the module's scope: what the statement
    itself references at module level (decorators, defaults, base classes, an alias's value) and
    the global names of every function, lambda or class body inside it. Imports read nothing."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return frozenset()
    try:
        table = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset(tree_identifiers(node))  # cannot be resolved: follow every name, as before
    reads = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    todo = list(table.get_children())
    while todo:
        inner = todo.pop()
        reads |= {s.get_name() for s in inner.get_symbols() if s.is_referenced() and s.is_global()}
        todo += inner.get_children()
    return frozenset(reads)


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


def _statements(tree: ast.Module) -> list[ast.stmt]:
    """The cell's statements; a cell under ``%%time`` (or another magic that runs its body as
    Python in the notebook's namespace, ``cells.CODE_MAGICS``) is read as its body."""
    body = tree.body
    magic = magic_call(body[0].value) if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if magic is not None and magic[0] == "run_cell_magic" and magic[1] in CODE_MAGICS:
        inner = parse_cell(magic[2])
        return inner.body if inner is not None else []
    return body


def definitions(sources) -> Definitions:
    """For every name the cells bind as code (see ``_bindings``), the names each binding uses.
    Cells that do not parse are skipped (they cannot have defined anything when run)."""
    found: dict[str, list[Use]] = {}
    for source in sources:
        tree = parse_cell(source)
        if tree is None:
            continue
        for name, node in _bindings(_statements(tree)):
            found.setdefault(name, []).append(Use(frozenset(tree_identifiers(node)), outside_reads(node)))
    return {name: tuple(uses) for name, uses in found.items()}


def forbidden_names(index: Definitions, name: str, forbid) -> list[str] | None:
    """The names of ``forbid`` that the definitions of ``name`` use, directly or through what they
    read from outside that the student's cells define; None when the cells never define ``name``."""
    if name not in index:
        return None
    seen, todo, used = {name}, [name], set()
    while todo:
        for use in index[todo.pop()]:
            used |= use.identifiers
            for other in use.reads - seen:
                if other in index:
                    seen.add(other)
                    todo.append(other)
    return sorted(set(forbid) & used)
