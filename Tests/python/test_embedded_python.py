"""Lint of the Python rft embeds in its binary (Sources/GraderRuntime/Python/*.py): the worker's
bootstrap and the rft_exec module. They run as `python3 -I -S -B -c SOURCE` in the sandbox, so a
mistake shows up only when a grader starts; here it shows up at test time, with the standard library
only (pyflakes is used as well when it happens to be installed)."""
import ast
import builtins
import importlib.util
import os
import subprocess
import sys
import unittest

from Tests.python.helpers import ROOT

EMBEDDED = os.path.join(ROOT, "Sources", "GraderRuntime", "Python")


def embedded_files():
    return sorted(os.path.join(EMBEDDED, f) for f in os.listdir(EMBEDDED) if f.endswith(".py"))


def _bound_names(tree):
    """Every name the module binds anywhere: assignments, defs, parameters, imports, handlers."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
    return bound


def _exported(tree):
    """The strings of a module-level `__all__ = [...]` or `(...)`."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            if isinstance(node.value, (ast.List, ast.Tuple)):
                return {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    return set()


def problems(source, filename):
    """Lint messages for `source`: syntax errors, names used but never bound, imports never used,
    and imports from outside the standard library (the sandboxed interpreter runs without site)."""
    try:
        tree = ast.parse(source, filename)
        compile(source, filename, "exec")
    except SyntaxError as e:
        return [f"{filename}:{e.lineno}: syntax error: {e.msg}"]
    out = []
    bound = _bound_names(tree) | set(dir(builtins)) | {"__file__", "__name__", "__doc__"}
    loaded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loaded.add(node.id)
            if node.id not in bound:
                out.append(f"{filename}:{node.lineno}: undefined name '{node.id}'")
    loaded |= _exported(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for m in modules:
                top = m.split(".")[0]
                if node_level(node) == 0 and top not in sys.stdlib_module_names:
                    out.append(f"{filename}:{node.lineno}: imports '{m}', which is not in the standard library")
            for a in node.names:
                name = (a.asname or a.name).split(".")[0]
                if name not in loaded:
                    out.append(f"{filename}:{node.lineno}: '{a.name}' imported but unused")
    return out


def node_level(node):
    return getattr(node, "level", 0) or 0


class EmbeddedPythonLintTests(unittest.TestCase):
    def test_the_bootstrap_and_rft_exec_are_embedded(self):
        names = [os.path.basename(f) for f in embedded_files()]
        self.assertEqual(names, ["bootstrap.py", "rft_exec.py"])

    def test_embedded_files_pass_the_lint(self):
        for path in embedded_files():
            with open(path, encoding="utf-8") as f:
                source = f.read()
            with self.subTest(file=os.path.basename(path)):
                self.assertEqual(problems(source, os.path.relpath(path, ROOT)), [])
                self.assertTrue(source.endswith("\n") and not source.endswith("\n\n"),
                                "one final newline (rft passes the text without it to python3 -c)")

    def test_the_lint_finds_what_it_looks_for(self):
        bad = "import os, json\nimport numpy\n\ndef f(x):\n    return json.dumps(x) + undefined_thing\n"
        found = problems(bad, "bad.py")
        self.assertIn("bad.py:1: 'os' imported but unused", found)
        self.assertIn("bad.py:5: undefined name 'undefined_thing'", found)
        self.assertIn("bad.py:2: imports 'numpy', which is not in the standard library", found)
        self.assertEqual(problems("def f(:\n", "broken.py"), ["broken.py:1: syntax error: invalid syntax"])

    def test_the_bootstrap_starts_as_rft_starts_it(self):
        # `-I -S -B -c SOURCE` with too few arguments: the module-level code must get as far as main()
        # reading argv, which proves every top-level statement (the frame codec included) runs.
        with open(os.path.join(EMBEDDED, "bootstrap.py"), encoding="utf-8") as f:
            source = f.read()
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable  # what rft runs
        run = subprocess.run([python, "-I", "-S", "-B", "-c", source[:-1]],
                             capture_output=True, text=True, timeout=60)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("IndexError: list index out of range", run.stderr)
        self.assertIn("in main", run.stderr)

    @unittest.skipUnless(importlib.util.find_spec("pyflakes"), "pyflakes is not installed")
    def test_pyflakes(self):
        run = subprocess.run([sys.executable, "-m", "pyflakes", *embedded_files()],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)


if __name__ == "__main__":
    unittest.main()
