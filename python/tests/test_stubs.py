"""The .pyi stubs name everything the module exposes (so that editors complete it)."""

import ast
import os

import nascent
import nascent.pareto

PACKAGE = os.path.join(os.path.dirname(__file__), "..", "nascent")


def names_in(stub):
    tree = ast.parse(open(os.path.join(PACKAGE, stub)).read())
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            out.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            out.add(node.target.id)
        elif isinstance(node, ast.Assign):
            out.update(t.id for t in node.targets)
        elif isinstance(node, ast.ImportFrom):
            out.update(a.asname or a.name for a in node.names)
    return out


def public(module):
    return {n for n in dir(module) if not n.startswith("_")}


def test_stubs_cover_the_module():
    assert public(nascent._nascent) - names_in("__init__.pyi") == set()
    assert "strategy" in names_in("__init__.pyi")
    assert public(nascent.pareto) - names_in("pareto.pyi") == set()


def test_everything_has_a_docstring():
    """pybind11 writes the signature line; the docstring is what follows it."""
    missing = []
    for name in public(nascent._nascent):
        obj = getattr(nascent._nascent, name)
        if isinstance(obj, type):
            if not (obj.__doc__ or "").strip():
                missing.append(name)
            for attr, member in vars(obj).items():
                doc = (getattr(member, "__doc__", "") or "").strip().splitlines()
                if not attr.startswith("_") and callable(member) and len(doc) < 2:
                    missing.append(f"{name}.{attr}")
        elif callable(obj) and len((obj.__doc__ or "").strip().splitlines()) < 2:
            missing.append(name)
    assert missing == []
