"""The Opacus 0.x API uses the analysis finds (dp_lint.analysis.legacy_api, DPL212): opacus' class
resolved through imports, engines traced to their construction, guarded code left out."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dp_lint.analysis.legacy_api import LegacyKind
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text


def uses(text: str) -> list[tuple[int, LegacyKind, str]]:
    source = parse_text(Path("train.py"), "train", textwrap.dedent(text).lstrip("\n"))
    project = Project([source])
    return [(source.span(u.node)[0].row, u.kind, u.error) for u in project.legacy_api_uses]


def test_constructor_shapes():
    found = uses("""
        import opacus as dp
        from opacus import PrivacyEngine
        from opacus.privacy_engine import PrivacyEngine as PE
        a = PrivacyEngine(model, sample_rate=0.1, noise_multiplier=1.0, max_grad_norm=1.0)
        b = dp.PrivacyEngine(batch_size=8, sample_size=100)
        c = PE(model)
        d = PrivacyEngine(accountant="rdp", secure_mode=False)
        e = PrivacyEngine(**settings)
    """)
    assert found == [
        (4, LegacyKind.CONSTRUCTOR, "TypeError: PrivacyEngine.__init__() takes 1 positional argument but 2 were given"),
        (5, LegacyKind.CONSTRUCTOR, "TypeError: PrivacyEngine.__init__() got an unexpected keyword argument 'batch_size'"),
        (6, LegacyKind.CONSTRUCTOR, "TypeError: PrivacyEngine.__init__() takes 1 positional argument but 2 were given"),
    ]


def test_project_class_and_unimported_name_are_not_opacus():
    assert uses("""
        class PrivacyEngine:
            def __init__(self, model, sample_rate):
                pass
            def attach(self, optimizer):
                pass
        engine = PrivacyEngine(model, sample_rate=0.1)
        engine.attach(optimizer)
    """) == []
    assert uses("engine = PrivacyEngine(model, batch_size=8)\n") == []


def test_function_local_import_resolves():
    found = uses("""
        def main():
            from opacus import PrivacyEngine
            engine = PrivacyEngine(model, batch_size=8)
    """)
    assert [row for row, *_ in found] == [3]


def test_methods_traced_to_a_1x_construction():
    found = uses("""
        from opacus import PrivacyEngine

        class Trainer:
            def __init__(self):
                self.engine = PrivacyEngine()
            def fit(self, optimizer):
                self.engine.attach(optimizer)

        def report(delta):
            engine = PrivacyEngine(accountant="rdp")
            return engine.get_privacy_spent(delta)

        def old(model, optimizer):
            engine = PrivacyEngine(model, sample_rate=0.1)
            engine.attach(optimizer)

        def unknown(engine, optimizer):
            engine.attach(optimizer)

        PrivacyEngine().attach(optimizer)
    """)
    assert [(row, kind) for row, kind, _ in found] == [
        (7, LegacyKind.METHOD), (11, LegacyKind.METHOD), (14, LegacyKind.CONSTRUCTOR), (20, LegacyKind.METHOD),
    ]


@pytest.mark.parametrize(("line", "error"), [
    ("from opacus.dp_model_inspector import DPModelInspector", "ModuleNotFoundError: No module named 'opacus.dp_model_inspector'"),
    ("import opacus.dp_model_inspector", "ModuleNotFoundError: No module named 'opacus.dp_model_inspector'"),
    ("from opacus.utils import module_modification",
     "ImportError: cannot import name 'module_modification' from 'opacus.utils'"),
    ("from opacus.utils.module_modification import convert_batchnorm_modules",
     "ModuleNotFoundError: No module named 'opacus.utils.module_modification'"),
    ("import opacus.utils.module_modification as mm", "ModuleNotFoundError: No module named 'opacus.utils.module_modification'"),
])
def test_removed_modules(line, error):
    assert uses(line + "\n") == [(1, LegacyKind.IMPORT, error)]


def test_1x_imports_are_clean():
    assert uses("""
        from opacus.validators import ModuleValidator
        from opacus.utils.batch_memory_manager import BatchMemoryManager
        from opacus import utils
        import opacus.utils
    """) == []


def test_guarded_code_is_left_out():
    assert uses("""
        import opacus
        from opacus import PrivacyEngine
        try:
            from opacus.dp_model_inspector import DPModelInspector
        except ImportError:
            DPModelInspector = None
        try:
            from opacus.validators import ModuleValidator
        except ImportError:
            from opacus.utils import module_modification
        if opacus.__version__ < "1.0":
            engine = PrivacyEngine(model, batch_size=8)
        else:
            engine = PrivacyEngine()
            engine.attach(optimizer)
        try:
            PrivacyEngine(model, batch_size=8)
        except TypeError:
            pass
    """) == []


def test_a_handler_for_another_error_does_not_guard():
    found = uses("""
        try:
            from opacus.dp_model_inspector import DPModelInspector
        except AttributeError:
            pass
    """)
    assert [row for row, *_ in found] == [2]



@pytest.mark.parametrize(("version", "expected"), [("0.14.0", []), ("1.0.2", [("train.py", 2, "DPL212")])])
def test_dpl212_reports_only_for_opacus_1_or_later(tmp_path, version, expected):
    from dp_lint.config.settings import Config
    from dp_lint.files.discovery import discover
    from dp_lint.lint.check import check_files

    (tmp_path / "train.py").write_text("from opacus import PrivacyEngine\nengine = PrivacyEngine(model, batch_size=8)\n")
    result = check_files(discover([tmp_path]), select=["DPL212"], config=Config(opacus_version=version))
    assert sorted((f.path.name, f.location.row, f.code) for f in result.findings) == expected
