"""Collect the catalogue's cases and run them under real Opacus (helper for the runtime tests).

A case is `rules/<rule>/cases/<name>.py` or a folder `rules/<rule>/cases/<name>/` (a small
project). The file that defines the model holds a module-level literal dict `CASE` (see
docs/dev/catalogue-format.md); it is read with `ast`, and the model is imported only to run it.
A *script case* (`CASE = {"script": "train", ...}`) names a training function instead of a model:
`run_case` calls it with Opacus instrumented (tests/script_runtime.py) and measures what happens.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "rules"
REQUIRE_ENV = "DP_LINT_REQUIRE_OPACUS"

if importlib.util.find_spec("dp_lint") is None:  # plain `pytest` in a checkout that is not installed
    sys.path.append(str(REPO))

from dp_lint.catalogue.loader import is_pinned_fix  # noqa: E402 - after the path set-up above


def require_opacus() -> None:
    """Skip the calling test module when torch/opacus are missing, or fail under CI.

    CI sets DP_LINT_REQUIRE_OPACUS=1 so that the runtime tests can never be skipped silently.
    """
    try:
        import opacus  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        reason = f"torch and opacus are needed for the runtime check ({exc})"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 forbids skipping", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


@dataclass(frozen=True)
class RuntimeCase:
    rule: str  # the rule folder, e.g. "DPL001-detach-on-trainable-output"
    name: str  # file stem or folder name, e.g. "flag_simsiam_asymmetric"
    model_file: Path  # the file holding CASE and the model class
    root: Path | None  # for folder cases: the folder put on sys.path
    spec: dict

    @property
    def id(self) -> str:
        return f"{self.rule}/{self.name}"

    @property
    def is_script(self) -> bool:
        """A script case: CASE names a training function (`"script"`), not a model."""
        return "script" in self.spec

    @property
    def kind(self) -> str:
        return self.name.split("_", 1)[0]  # "flag" | "clean"

    @property
    def opacus_range(self) -> str:
        """The Opacus releases the case holds for (CASE["opacus"], e.g. ">=1.5"; "" = every release)."""
        return self.spec.get("opacus", "")

    @property
    def version_specific(self) -> bool:
        """Whether the case's expectation depends on the Opacus release (CI runs these on every
        minor line, see .ci/run)."""
        return bool(self.spec.get("opacus") or self.spec.get("versions"))

    def expectation(self, version: str | None) -> dict:
        """CASE's `runtime`/`error` on `version`: the first `versions` entry whose range holds
        for it overrides them (`"versions": {"<1.5": {"error": "..."}}`)."""
        from dp_lint.config.opacus_versions import in_range

        expected = {key: self.spec[key] for key in ("runtime", "error") if key in self.spec}
        for spec, override in (self.spec.get("versions") or {}).items():
            if in_range(version, spec):
                expected.update(override)
                break
        return expected

    def skip_reason(self, version: str | None) -> str | None:
        """Why the case does not run on `version` (outside its `opacus` range), or None."""
        from dp_lint.config.opacus_versions import in_range

        if self.opacus_range and in_range(version, self.opacus_range) is False:
            return f"{self.id} holds for opacus {self.opacus_range}; installed: opacus {version}"
        return None


def read_case_dict(path: Path) -> dict | None:
    """The module-level `CASE = {...}` literal of a file, or None when it has none."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "CASE" for t in targets):
            return ast.literal_eval(value)
    return None


def collect_cases(rules_dir: Path = RULES, scripts: bool = False) -> list[RuntimeCase]:
    """The model cases of the catalogue; with `scripts=True` the script cases too (those run only
    through `run_case`, not through `dp-lint verify` or the fix proofs)."""
    return [case for case in _all_cases(rules_dir) if scripts or not case.is_script]


def _all_cases(rules_dir: Path) -> list[RuntimeCase]:
    cases = []
    for cases_dir in sorted(rules_dir.glob("*/cases")):
        rule = cases_dir.parent.name
        for entry in sorted(cases_dir.iterdir()):
            if entry.name.startswith((".", "_")) or is_pinned_fix(entry):
                continue
            if entry.is_file() and entry.suffix == ".py":
                spec = read_case_dict(entry)
                if spec is None:
                    raise AssertionError(f"{entry}: no module-level CASE dict")
                cases.append(RuntimeCase(rule, entry.stem, entry, None, spec))
            elif entry.is_dir():
                found = [
                    (path, spec)
                    for path in sorted(entry.rglob("*.py"))
                    if "__pycache__" not in path.parts and (spec := read_case_dict(path)) is not None
                ]
                if len(found) != 1:
                    raise AssertionError(f"{entry}: expected exactly one file with CASE, found {len(found)}")
                path, spec = found[0]
                cases.append(RuntimeCase(rule, entry.name, path, entry, spec))
    return cases


@contextlib.contextmanager
def model_factory(case: RuntimeCase) -> Iterator[Callable[[], object]]:
    """Import the case's model and yield a zero-argument factory for it."""
    with case_module(case) as module:
        cls = getattr(module, case.spec["model"])
        args = list(case.spec.get("args", []))
        kwargs = dict(case.spec.get("kwargs", {}))
        yield lambda: cls(*args, **kwargs)


@contextlib.contextmanager
def case_module(case: RuntimeCase):
    """Import the case's file and yield the module.

    Folder cases are imported by their dotted path with the folder on sys.path; single files
    under a unique module name. sys.path and sys.modules are restored afterwards.
    """
    before = set(sys.modules)
    old_path = list(sys.path)
    old_dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # keep __pycache__ folders out of the catalogue
    try:
        if case.root is None:
            name = "dp_lint_case_" + "".join(c if c.isalnum() else "_" for c in case.id)
            loader_spec = importlib.util.spec_from_file_location(name, case.model_file)
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[name] = module
            loader_spec.loader.exec_module(module)
        else:
            sys.path.insert(0, str(case.root))
            dotted = ".".join(case.model_file.relative_to(case.root).with_suffix("").parts)
            importlib.invalidate_caches()
            module = importlib.import_module(dotted)
            if not _belongs_to_case(module, case):
                raise AssertionError(f"{case.id}: {dotted!r} resolved outside the case folder ({module.__file__});"
                                     " a package name of the case shadows an installed module")
        yield module
    finally:
        sys.path[:] = old_path
        sys.dont_write_bytecode = old_dont_write
        # Forget only the case's own modules: torch and opacus import submodules lazily while
        # the case runs, and those must stay.
        for name in set(sys.modules) - before:
            if _belongs_to_case(sys.modules[name], case):
                del sys.modules[name]


def _belongs_to_case(module, case: RuntimeCase) -> bool:
    spec = getattr(module, "__spec__", None)
    if spec is None:
        return False
    places = [spec.origin] if spec.has_location else []
    places += list(spec.submodule_search_locations or [])  # namespace packages have no origin
    folder = (case.root or case.model_file.parent).resolve()
    return any(isinstance(p, str) and Path(p).resolve().is_relative_to(folder) for p in places)


def installed_opacus_version() -> str | None:
    try:
        import opacus
    except ImportError:
        return None
    return opacus.__version__


def case_params(cases: list[RuntimeCase]) -> list:
    """pytest params of `cases`; the version-specific ones carry the `opacus_versions` mark."""
    return [
        pytest.param(case, id=case.id, marks=[pytest.mark.opacus_versions] if case.version_specific else [])
        for case in cases
    ]


def run_case(case: RuntimeCase):
    if case.is_script:
        from script_runtime import run_script

        with case_module(case) as module:
            function = getattr(module, case.spec["script"])
            return run_script(function, case.spec.get("args", []), case.spec.get("kwargs", {}))

    from dp_lint.verify.runtime.smoke import check_model

    with model_factory(case) as factory:
        return check_model(
            factory,
            case.spec["inputs"],
            batch_first=case.spec.get("batch_first", True),
            loss_reduction=case.spec.get("loss_reduction", "mean"),
        )
