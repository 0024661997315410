"""The usual disguises of a copied answer, for testing and measuring the similarity report:
renamed variables and functions, reordered independent statements, new comments and blank lines,
added dead code. ``disguise(source, keep, seed)`` keeps the names in ``keep`` (the names the
TODO asks for and the tests call: a copier must keep them)."""
import ast
import builtins
import random


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node):
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node

    def visit_keyword(self, node):  # keyword names of calls are the callee's, not ours
        self.generic_visit(node)
        return node


def _bound(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


def _reads(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _reorder(body, rng):
    for i in range(len(body) - 1):
        a, b = body[i], body[i + 1]
        if isinstance(a, ast.Assign) and isinstance(b, ast.Assign) and rng.random() < 0.8:
            if not (_bound(a) & _reads(b)) and not (_bound(b) & _reads(a)) and not (_bound(a) & _bound(b)):
                body[i], body[i + 1] = b, a
    for node in body:
        for field in ("body", "orelse"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                _reorder(inner, rng)


def _dead_code(body, rng, count):
    for k in range(count):
        statement = ast.parse(rng.choice([f"unused_{k} = {rng.randint(2, 99)} * 0.5",
                                          f"if False:\n    print('check {k}')",
                                          f"debug_{k} = []"])).body[0]
        body.insert(rng.randint(0, len(body)), statement)
    for node in body:
        if isinstance(node, ast.FunctionDef) and rng.random() < 0.7:
            node.body.insert(rng.randint(0, len(node.body) - 1), ast.parse(f"tmp_{rng.randint(0, 999)} = None").body[0])


def disguise(source: str, keep: set[str], seed: int = 0) -> str:
    """``source`` with every disguise applied (same behaviour, different text)."""
    rng = random.Random(seed)
    tree = ast.parse(source)
    methods = {n.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for n in c.body
               if isinstance(n, ast.FunctionDef)}  # a method's name is its class's interface
    protected = set(keep) | set(dir(builtins)) | methods | {"self", "cls"}
    mapping = {name: f"{rng.choice(['val', 'tmp', 'my', 'x', 'res'])}_{name[:2]}{i}"
               for i, name in enumerate(sorted(_bound(tree) - protected))}
    tree = _Renamer(mapping).visit(tree)
    _reorder(tree.body, rng)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            _reorder(node.body, rng)
    _dead_code(tree.body, rng, 2)
    lines = []
    for line in ast.unparse(tree).splitlines():
        if rng.random() < 0.2:
            lines.append(f"{line[:len(line) - len(line.lstrip())]}# step {rng.randint(1, 9)}")
        lines.append(line)
        if rng.random() < 0.1:
            lines.append("")
    return "\n".join(lines) + "\n"
