"""The package's shape: stages import only the stages below them, there is no import cycle,
deferred imports say why they are deferred, and no module imports another's private names.

CI also runs import-linter with the same layers (`[tool.importlinter]` in pyproject.toml);
this test reads the import graph itself, function-local imports included, so it needs
nothing beyond the standard library.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dp_lint"

# Top to bottom: a module may import from its own stage and the stages after it.
STAGES = ["cli", "verify|server", "lint|report", "catalogue", "fix", "analysis", "files", "config", "core"]
# Where torch and opacus may be imported (the verify child's runtime only).
TORCH_ALLOWED = "dp_lint.verify.runtime"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


class Import:
    def __init__(self, source: str, target: str, line: int, deferred: bool, names: list[str]):
        self.source, self.target, self.line, self.deferred, self.names = source, target, line, deferred, names

    def __repr__(self) -> str:
        return f"{self.source}:{self.line} -> {self.target}"


def _imports() -> list[Import]:
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        top_level = set()
        for node in tree.body:
            if isinstance(node, (ast.If, ast.Try)):  # `if TYPE_CHECKING:`, `try: import tomllib`
                top_level.update(n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                top_level.add(node)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [(a.name, []) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
                if submodules and len(submodules) == len(node.names):
                    targets = [(s, []) for s in submodules]
                else:
                    targets = [(base, [a.name for a in node.names])]
            else:
                continue
            for target, names in targets:
                found.append(Import(name, target, node.lineno, node not in top_level, names))
    return found


IMPORTS = _imports()


def _stage(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "dp_lint" or len(parts) < 2:
        return None
    for index, stage in enumerate(STAGES):
        if parts[1] in stage.split("|"):
            return index
    return None


def test_every_module_belongs_to_a_stage():
    loose = [m for m in MODULES if m.count(".") >= 1 and _stage(m) is None and m not in ("dp_lint.__main__",)]
    assert loose == [], f"modules outside the pipeline stages {STAGES}: {loose}"


def test_no_stage_imports_a_stage_above_it():
    upward = []
    for imp in IMPORTS:
        source, target = _stage(imp.source), _stage(imp.target)
        if source is None or target is None:
            continue
        same_group = STAGES[source] == STAGES[target]
        if target < source or (same_group and "|" in STAGES[source]
                               and imp.source.split(".")[1] != imp.target.split(".")[1]):
            upward.append(imp)
    assert upward == [], f"imports against the pipeline order {STAGES}: {upward}"


def test_the_import_graph_has_no_cycle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in IMPORTS:
        if imp.target in MODULES and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert cycles == []


def test_deferred_imports_of_dp_lint_say_why():
    undocumented = []
    for imp in IMPORTS:
        if not imp.deferred or not imp.target.startswith("dp_lint"):
            continue
        lines = MODULES[imp.source].read_text(encoding="utf-8").splitlines()
        before = lines[max(0, imp.line - 4): imp.line]
        if not any("# deferred:" in line for line in before):
            undocumented.append(imp)
    assert undocumented == [], "function-local imports need a `# deferred: <reason>` comment just above them"


def test_only_the_verify_runtime_imports_torch_and_opacus_at_module_level():
    offenders = [
        imp for imp in IMPORTS
        if imp.target.split(".")[0] in ("torch", "opacus")
        and not imp.source.startswith(TORCH_ALLOWED)
        and not imp.deferred
    ]
    assert offenders == []


def test_no_module_imports_private_names_of_another():
    private = [imp for imp in IMPORTS if imp.target.startswith("dp_lint")
               for name in imp.names if name.startswith("_") and name != "__version__"]
    assert private == []


@pytest.mark.parametrize("folder", sorted(p for p in ROOT.joinpath("rules").iterdir() if p.is_dir() and p.name.startswith("DPL")))
def test_rules_use_only_the_public_names_of_dp_lint(folder):
    tree = ast.parse((folder / "rule.py").read_text(encoding="utf-8"))
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dp_lint")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []
