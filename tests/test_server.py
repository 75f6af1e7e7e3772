"""`dp-lint server`: a real LSP client (pygls') talks to the server process over stdio.

One session walks through what an editor does: initialize, open documents (unsaved text,
a cross-file project, a folder whose pyproject.toml ignores the rule), receive
diagnostics, hover, request code actions, apply the quick fix, send the edited text and
see the diagnostics cleared; the "fix all safe" source action is resolved and applied too.
Timeouts are generous: the machine may be busy, nothing here measures speed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from dp_lint.core.findings import Location
from dp_lint.lint import run as runner
from dp_lint.server.documents import Positions, check_document, fix_all_safe, hover_markdown

REPO_ROOT = Path(__file__).resolve().parent.parent
CASES = REPO_ROOT / "rules" / "DPL001-detach-on-trainable-output" / "cases"
SIMSIAM = CASES / "flag_simsiam_asymmetric_detach.py"
SIMSIAM_FIXED = CASES / "flag_simsiam_asymmetric_detach.fixed.py"
SIMSIAM_PROJECT = CASES / "flag_simsiam_project"
BATCHNORM = REPO_ROOT / "rules" / "DPL101-batchnorm" / "cases" / "flag_batchnorm1d_tabular_mlp.py"
TIMEOUT = 120.0  # seconds for any one answer


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) the way a client does."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        line = lines[position.line]
        units = 0
        for index, char in enumerate(line):
            if units >= position.character:
                return starts[position.line] + index
            units += _utf16(char)
        return starts[position.line] + len(line)

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def _project(tmp_path: Path) -> dict[str, Path]:
    one = tmp_path / "one"
    one.mkdir()
    (one / "pyproject.toml").write_text('[project]\nname = "one"\n', encoding="utf-8")
    # On disk the fixed file: the server must check the editor's unsaved text, not this.
    shutil.copy(SIMSIAM_FIXED, one / "train.py")
    multi = tmp_path / "multi"
    multi.mkdir()
    (multi / "pyproject.toml").write_text('[project]\nname = "multi"\n', encoding="utf-8")
    shutil.copytree(SIMSIAM_PROJECT / "simsiam", multi / "simsiam")
    ignoring = tmp_path / "ignoring"
    ignoring.mkdir()
    (ignoring / "pyproject.toml").write_text('[tool.dp-lint]\nignore = ["DPL001"]\n', encoding="utf-8")
    shutil.copy(SIMSIAM, ignoring / "train.py")
    unsafe = tmp_path / "unsafe"
    unsafe.mkdir()
    (unsafe / "pyproject.toml").write_text('[project]\nname = "unsafe"\n', encoding="utf-8")
    shutil.copy(BATCHNORM, unsafe / "model.py")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text('[tool.dp-lint]\nselect = ["DPL999"]\n', encoding="utf-8")
    shutil.copy(SIMSIAM, broken / "train.py")
    return {"train": one / "train.py", "model": multi / "simsiam" / "model.py", "ignored": ignoring / "train.py",
            "unsafe": unsafe / "model.py", "broken": broken / "train.py"}


class Session:
    """A client with the diagnostics it received, by document URI."""

    def __init__(self, client: LanguageClient):
        self.client = client
        self.published: dict[str, list[types.PublishDiagnosticsParams]] = {}
        self.changed = asyncio.Condition()
        self.messages: list[str] = []

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        async def publish(params: types.PublishDiagnosticsParams) -> None:
            async with self.changed:
                self.published.setdefault(params.uri, []).append(params)
                self.changed.notify_all()

        @client.feature(types.WINDOW_LOG_MESSAGE)
        def log(params: types.LogMessageParams) -> None:
            print("server log:", params.message)

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def show(params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)

    async def diagnostics(self, uri: str, version: int) -> list[types.Diagnostic]:
        """The diagnostics published for `version` of the document (waits for them)."""

        def ready() -> bool:
            return any(p.version == version for p in self.published.get(uri, []))

        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(ready), TIMEOUT)
        return list([p for p in self.published[uri] if p.version == version][-1].diagnostics)

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = from_fs_path(str(path))
        assert uri is not None
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
        return uri


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("DP_LINT_DEBUG", None)
    return env


async def _start(tmp_path: Path, *, resolve: bool) -> Session:
    """Start `dp-lint server` and initialize it (`resolve`: the client resolves code actions' edits)."""
    client = LanguageClient("dp-lint-test", "1")
    session = Session(client)
    await client.start_io(sys.executable, "-m", "dp_lint", "server", "--stdio", cwd=str(tmp_path), env=_server_env())
    resolve_support = types.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(resolve_support=resolve_support),
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        ),
    )
    result = await asyncio.wait_for(client.initialize_async(types.InitializeParams(
        capabilities=capabilities, process_id=os.getpid(), root_uri=from_fs_path(str(tmp_path)),
        workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(tmp_path)) or "", name="tmp")],
    )), TIMEOUT)
    assert result.server_info is not None and result.server_info.name == "dp-lint"
    assert result.capabilities.code_action_provider is not None
    client.initialized(types.InitializedParams())
    return session


async def _stop(session: Session) -> None:
    client = session.client
    try:
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
        await asyncio.wait_for(client.stop(), TIMEOUT)
    finally:
        server = getattr(client, "_server", None)
        if server is not None and server.returncode is None:
            server.kill()


def _code_actions(session: Session, uri: str, diagnostic: types.Diagnostic, only=None):
    return asyncio.wait_for(session.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=only))), TIMEOUT)


async def _editor_session(tmp_path: Path) -> None:
    files = _project(tmp_path)
    text = SIMSIAM.read_text(encoding="utf-8")
    # What `dp-lint check FILE` reports with the editor's text on disk ...
    files["train"].write_text(text, encoding="utf-8")
    expected_train = runner.run(runner.Request(paths=[files["train"]])).findings
    # ... then the fixed text on disk: the server must check the unsaved text, not the file.
    shutil.copy(SIMSIAM_FIXED, files["train"])
    session = await _start(tmp_path, resolve=True)
    client = session.client
    try:
        uri = session.open(files["train"], text)
        diagnostics = await session.diagnostics(uri, 1)
        assert [d.code for d in diagnostics] == ["DPL001"], diagnostics
        diagnostic = diagnostics[0]
        row = next(i for i, line in enumerate(text.splitlines()) if ".detach()" in line)
        assert diagnostic.range.start.line == row
        assert diagnostic.source == "dp-lint"
        assert diagnostic.severity == types.DiagnosticSeverity.Error
        assert diagnostic.code_description is not None
        assert diagnostic.code_description.href.endswith("/rules/DPL001-detach-on-trainable-output/")
        # Same findings as `dp-lint check FILE` with this text on disk.
        assert [(f.code, f.location.row - 1, f.location.column - 1) for f in expected_train] == [
            (d.code, d.range.start.line, d.range.start.character) for d in diagnostics]

        hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=diagnostic.range.start)), TIMEOUT)
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "DPL001" in hover.contents.value
        assert diagnostic.code_description.href in hover.contents.value

        actions = await _code_actions(session, uri, diagnostic)
        assert actions is not None
        quick = [a for a in actions if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.QuickFix]
        assert len(quick) == 1 and quick[0].is_preferred, actions
        assert "(unsafe)" not in quick[0].title
        assert quick[0].edit is not None and quick[0].edit.changes is not None
        fixed = _apply(text, quick[0].edit.changes[uri])
        assert fixed == SIMSIAM_FIXED.read_text(encoding="utf-8")
        fix_all = [a for a in actions if isinstance(a, types.CodeAction) and a.kind == "source.fixAll.dp-lint"]
        assert len(fix_all) == 1 and fix_all[0].edit is None  # filled in by codeAction/resolve
        resolved = await asyncio.wait_for(client.code_action_resolve_async(fix_all[0]), TIMEOUT)
        assert resolved.edit is not None and resolved.edit.changes is not None
        assert _apply(text, resolved.edit.changes[uri]) == fixed

        # The client applies the quick fix, sending the edits as incremental changes (last
        # first, so that each range is still valid): the diagnostics of the new version are empty.
        edits = sorted(quick[0].edit.changes[uri], key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(range=e.range, text=e.new_text)
                             for e in edits]))
        assert await session.diagnostics(uri, 2) == []
        # Saving re-checks (the text on disk is now the same).
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

        # A model file whose finding needs its project's other files (ops.py's stop_gradient).
        model_text = files["model"].read_text(encoding="utf-8")
        model_uri = session.open(files["model"], model_text)
        model_diagnostics = await session.diagnostics(model_uri, 1)
        expected = runner.run(runner.Request(paths=[files["model"]])).findings
        assert [f.code for f in expected] == ["DPL001"]
        assert [(f.code, f.location.row - 1, f.location.column - 1) for f in expected] == [
            (d.code, d.range.start.line, d.range.start.character) for d in model_diagnostics]

        # The folder's pyproject.toml ignores DPL001.
        ignored_uri = session.open(files["ignored"], files["ignored"].read_text(encoding="utf-8"))
        assert await session.diagnostics(ignored_uri, 1) == []

        # An unsafe fix is offered, labelled, and not preferred; there is no safe fix to apply.
        unsafe_uri = session.open(files["unsafe"], files["unsafe"].read_text(encoding="utf-8"))
        unsafe_diagnostics = await session.diagnostics(unsafe_uri, 1)
        assert [d.code for d in unsafe_diagnostics] == ["DPL101"]
        actions = await _code_actions(session, unsafe_uri, unsafe_diagnostics[0])
        assert actions is not None and len(actions) == 1, actions
        action = actions[0]
        assert isinstance(action, types.CodeAction) and action.title.endswith("(unsafe)")
        assert not action.is_preferred and action.kind == types.CodeActionKind.QuickFix

        # An invalid configuration: an error message, no diagnostics.
        broken_uri = session.open(files["broken"], files["broken"].read_text(encoding="utf-8"))
        assert await session.diagnostics(broken_uri, 1) == []
        assert any("DPL999" in m for m in session.messages), session.messages

        # Closing a document clears its diagnostics.
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=model_uri)))
        async with session.changed:
            await asyncio.wait_for(session.changed.wait_for(
                lambda: list(session.published[model_uri][-1].diagnostics) == []), TIMEOUT)
    finally:
        await _stop(session)


async def _fix_all_without_resolve(tmp_path: Path) -> None:
    files = _project(tmp_path)
    text = SIMSIAM.read_text(encoding="utf-8")
    session = await _start(tmp_path, resolve=False)
    try:
        uri = session.open(files["train"], text)
        diagnostics = await session.diagnostics(uri, 1)
        actions = await _code_actions(session, uri, diagnostics[0], only=[types.CodeActionKind.SourceFixAll])
        assert actions is not None and len(actions) == 1, actions
        action = actions[0]
        assert isinstance(action, types.CodeAction) and action.kind == "source.fixAll.dp-lint"
        assert action.edit is not None and action.edit.changes is not None  # computed at once
        assert _apply(text, action.edit.changes[uri]) == SIMSIAM_FIXED.read_text(encoding="utf-8")
    finally:
        await _stop(session)


def test_editor_session_over_stdio(tmp_path):
    asyncio.run(_editor_session(tmp_path))


def test_fix_all_is_computed_at_once_for_a_client_without_resolve(tmp_path):
    asyncio.run(_fix_all_without_resolve(tmp_path))


def test_positions_count_utf16_code_units():
    text = 'x = "😋"  # é\ny = 1\n'
    positions = Positions(text, _utf16)
    assert positions.of(Location(1, 10)) == (0, 10)  # after the emoji: 2 UTF-16 units for 1 character
    assert positions.of(Location(2, 1)) == (1, 0)
    assert positions.of(Location(3, 1)) == (2, 0)  # the end of the text
    assert positions.of(Location(9, 1)) == (2, 0)


def test_check_document_uses_the_text_and_the_nearest_configuration(tmp_path):
    files = _project(tmp_path)
    text = SIMSIAM.read_text(encoding="utf-8")
    checked = check_document(files["train"], text)
    assert [f.code for f in checked.findings] == ["DPL001"]
    assert check_document(files["ignored"], text).findings == []
    fixed = fix_all_safe(files["train"], text)
    assert fixed == SIMSIAM_FIXED.read_text(encoding="utf-8")
    assert fix_all_safe(files["train"], fixed) is None
    markdown = hover_markdown(checked.findings)
    assert checked.findings[0].url in markdown and "Fix (safe)" in markdown
    # The help (the fix and the Opacus error text) is in the hover: the message alone is short.
    assert "`ValueError: Per sample gradient is not initialized`" in markdown


def test_fix_of_standard_input_uses_the_given_text(tmp_path):
    # `run_fixes` with a standard-input request fixes that text, not the file on disk.
    from dp_lint.lint.fix_loop import run_fixes

    files = _project(tmp_path)
    report = run_fixes(runner.Request(stdin_text=SIMSIAM.read_text(encoding="utf-8"),
                                      stdin_filename=files["train"]))
    assert [f.code for f in report.fixed] == ["DPL001"]
    assert report.remaining == []


def test_server_without_pygls_says_what_to_install(monkeypatch):
    from click.testing import CliRunner

    from dp_lint.cli import main

    for name in ("pygls", "pygls.lsp", "pygls.lsp.server", "dp_lint.server.lsp"):
        monkeypatch.setitem(sys.modules, name, None)
    result = CliRunner().invoke(main, ["server"])
    assert result.exit_code == 2
    assert "server` extra" in result.output and "Traceback" not in result.output
