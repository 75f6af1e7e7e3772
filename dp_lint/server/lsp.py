"""`dp-lint server`: a Language Server (pygls) over standard input and output.

- Diagnostics on open, change (debounced) and save, from the document's unsaved text checked
  in its project (see `dp_lint.server.documents`); saving one file re-checks the other open
  documents too, whose findings may depend on it.
- Code actions: one quick fix per fixable finding (safe fixes preferred, unsafe ones titled
  "(unsafe)"), and the source action `source.fixAll.dp-lint` applying every safe fix, in passes
  as `dp-lint fix --apply` does (computed on `codeAction/resolve` when the client supports it).
- Hover: the rule's summary, the finding, its fix and a link to the rule's page.

The analysis runs in one worker thread, one check at a time; the protocol stays responsive.
Notebooks (`.ipynb`) are not checked by the server.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from dp_lint import __version__
from dp_lint.config.settings import ConfigError
from dp_lint.core.findings import Applicability, Confidence, Edit, Finding, Location
from dp_lint.fix.edits import edits_between
from dp_lint.server.documents import (
    Checked,
    Positions,
    check_document,
    fix_all_safe,
    fix_title,
    has_safe_fix,
    hover_markdown,
    is_checked,
)

SOURCE = "dp-lint"
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.dp-lint"
FIX_ALL_TITLE = "dp-lint: Fix all safe fixes"
# Seconds without a change before a changed document is checked again.
DEBOUNCE = 0.4
UNUSED_SUPPRESSION = "DPL900"
SCHEMES = ("file", "untitled")

logger = logging.getLogger(__name__)


@dataclass
class Linted:
    """The last check of an open document, for the version it was made on."""

    version: int | None
    checked: Checked
    positions: Positions
    diagnostics: list[types.Diagnostic]


class DpLintServer(LanguageServer):
    def __init__(self, debounce: float = DEBOUNCE) -> None:
        super().__init__("dp-lint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.debounce = debounce
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dp-lint-check")
        self.linted: dict[str, Linted] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.open_uris: set[str] = set()
        self.config_errors: dict[str, str] = {}  # the last configuration error shown, by document

    # -- documents -------------------------------------------------------------------

    def path_of(self, uri: str) -> Path | None:
        """The file a document stands for (None: an unsaved document without a name)."""
        if urlparse(uri).scheme != "file":
            return None
        fs_path = to_fs_path(uri)
        return Path(fs_path) if fs_path else None

    def wanted(self, uri: str) -> bool:
        return urlparse(uri).scheme in SCHEMES and is_checked(self.path_of(uri))

    def units(self, text: str) -> int:
        return int(self.workspace.position_codec.client_num_units(text))

    def schedule(self, uri: str, delay: float) -> None:
        """Check `uri` after `delay` seconds, replacing a check not yet made."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._check_later(uri, delay))
        self.pending[uri] = task

    async def _check_later(self, uri: str, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            await self.check_now(uri)
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]

    async def check_now(self, uri: str) -> Linted | None:
        """Check the current text of `uri` and publish its diagnostics (nothing when the
        document changed or closed meanwhile: a newer check follows)."""
        if uri not in self.open_uris:
            return None
        document = self.workspace.get_text_document(uri)
        text, version = document.source, document.version
        path = self.path_of(uri)
        loop = asyncio.get_running_loop()
        try:
            checked = await loop.run_in_executor(self.executor, check_document, path, text)
        except ConfigError as error:
            # Once per document and message, not at every keystroke.
            message = f"dp-lint: {error}"
            if self.config_errors.get(uri) != message:
                self.config_errors[uri] = message
                self.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))
            checked = Checked(text=text)
        except Exception as error:  # a dp-lint bug: report it, keep serving
            logger.exception("dp-lint failed on %s", uri)
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"dp-lint failed on {uri}: {error!r}"))
            checked = Checked(text=text)
        else:
            self.config_errors.pop(uri, None)
        for internal_error in checked.internal_errors:
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"dp-lint stopped analysing {internal_error}; please report this bug."))
        if uri not in self.open_uris or self.workspace.get_text_document(uri).version != version:
            return None
        positions = Positions(text, self.units)
        linted = Linted(version, checked, positions, diagnostics(checked, positions))
        self.linted[uri] = linted
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=linted.diagnostics, version=version))
        return linted

    async def current(self, uri: str) -> Linted | None:
        """The check of the document's current version, made now if the last one is older."""
        if uri not in self.open_uris:
            return None
        pending = self.pending.get(uri)
        if pending is not None:
            # A check is under way or waiting out the debounce: its result is the one wanted
            # (`asyncio.wait` does not raise when a newer change cancels it).
            await asyncio.wait({pending})
        linted = self.linted.get(uri)
        if uri in self.open_uris and linted is not None \
                and linted.version == self.workspace.get_text_document(uri).version:
            return linted
        return await self.check_now(uri)

    def close(self, uri: str) -> None:
        self.open_uris.discard(uri)
        pending = self.pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        if self.linted.pop(uri, None) is not None:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # -- code actions ----------------------------------------------------------------

    def resolves_edits(self) -> bool:
        """Whether the client fills in a code action's edit with `codeAction/resolve`."""
        document = self.client_capabilities.text_document
        action = document.code_action if document is not None else None
        support = action.resolve_support if action is not None else None
        return support is not None and "edit" in support.properties


def diagnostics(checked: Checked, positions: Positions) -> list[types.Diagnostic]:
    result = [diagnostic(f, positions) for f in checked.findings]
    for bad in checked.malformed:
        start = positions.offset(Location(bad.row, bad.column))
        result.append(types.Diagnostic(
            range=types.Range(types.Position(*positions.line_column(start)),
                              types.Position(*positions.line_column(start + len(bad.text)))),
            message=(f"malformed suppression comment `{bad.text}`, ignored; write `# dp-lint: ignore` "
                     "or `# dp-lint: ignore[DPL001, ...]`"),
            severity=types.DiagnosticSeverity.Warning,
            source=SOURCE,
        ))
    return result


def lsp_range(positions: Positions, start: Location, end: Location) -> types.Range:
    return types.Range(types.Position(*positions.of(start)), types.Position(*positions.of(end)))


def diagnostic(finding: Finding, positions: Positions) -> types.Diagnostic:
    unused = finding.code == UNUSED_SUPPRESSION
    severity = (types.DiagnosticSeverity.Warning if unused or finding.confidence is Confidence.MEDIUM
                else types.DiagnosticSeverity.Error)
    return types.Diagnostic(
        range=lsp_range(positions, finding.location, finding.end_location),
        message=finding.message,
        severity=severity,
        code=finding.code,
        code_description=types.CodeDescription(href=finding.url),
        source=SOURCE,
        tags=[types.DiagnosticTag.Unnecessary] if unused else None,
    )


def text_edits(edits: tuple[Edit, ...], positions: Positions) -> list[types.TextEdit]:
    return [types.TextEdit(range=lsp_range(positions, e.location, e.end_location), new_text=e.content)
            for e in edits]


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _wants(only: list[str] | None, kind: str) -> bool:
    """Whether a request limited to the kinds `only` asks for actions of `kind`."""
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def code_actions(server: DpLintServer, uri: str, linted: Linted, params: types.CodeActionParams) -> list[types.CodeAction]:
    only = [str(k.value if isinstance(k, types.CodeActionKind) else k) for k in params.context.only or ()] or None
    actions: list[types.CodeAction] = []
    if _wants(only, types.CodeActionKind.QuickFix.value):
        for finding, diag in zip(linted.checked.findings, linted.diagnostics):
            if finding.fix is None or not _overlaps(diag.range, params.range):
                continue
            actions.append(types.CodeAction(
                title=fix_title(finding),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                is_preferred=finding.fix.applicability is Applicability.SAFE,
                edit=types.WorkspaceEdit(changes={uri: text_edits(finding.fix.edits, linted.positions)}),
            ))
        # Safe fixes first: they are the ones to take.
        actions.sort(key=lambda a: not a.is_preferred)
    if _wants(only, FIX_ALL_KIND) and has_safe_fix(linted.checked.findings):
        action = types.CodeAction(title=FIX_ALL_TITLE, kind=FIX_ALL_KIND,
                                  data={"uri": uri, "version": linted.version})
        actions.append(action)
    return actions


async def resolve_fix_all(server: DpLintServer, action: types.CodeAction) -> types.CodeAction:
    """Fill in the edit of the "fix all safe" action (nothing when the document changed)."""
    data: Any = action.data or {}
    uri = data.get("uri") if isinstance(data, dict) else None
    if action.kind != FIX_ALL_KIND or not isinstance(uri, str):
        return action
    linted = await server.current(uri)
    if linted is None or linted.version != data.get("version"):
        return action
    path = server.path_of(uri)
    text = linted.checked.text
    loop = asyncio.get_running_loop()
    try:
        fixed = await loop.run_in_executor(server.executor, fix_all_safe, path, text)
    except ConfigError:
        fixed = None
    if fixed is not None:
        action.edit = types.WorkspaceEdit(changes={uri: text_edits(edits_between(text, fixed), linted.positions)})
    return action


def create_server(debounce: float = DEBOUNCE) -> DpLintServer:
    server = DpLintServer(debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: DpLintServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if ls.wanted(uri):
            ls.open_uris.add(uri)
            ls.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: DpLintServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in ls.open_uris:
            ls.schedule(uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: DpLintServer, params: types.DidSaveTextDocumentParams) -> None:
        saved = params.text_document.uri
        # The other open documents may depend on the saved file (cross-file analysis).
        for uri in sorted(ls.open_uris, key=lambda u: u != saved):
            ls.schedule(uri, 0 if uri == saved else ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: DpLintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.close(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND],
                                resolve_provider=True),
    )
    async def code_action(ls: DpLintServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        linted = await ls.current(uri)
        if linted is None:
            return None
        actions = code_actions(ls, uri, linted, params)
        if not ls.resolves_edits():
            actions = [await resolve_fix_all(ls, a) if a.kind == FIX_ALL_KIND else a for a in actions]
            actions = [a for a in actions if a.kind != FIX_ALL_KIND or a.edit is not None]
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: DpLintServer, params: types.CodeAction) -> types.CodeAction:
        return await resolve_fix_all(ls, params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: DpLintServer, params: types.HoverParams) -> types.Hover | None:
        linted = await ls.current(params.text_document.uri)
        if linted is None:
            return None
        here = types.Range(params.position, params.position)
        found = [(f, d) for f, d in zip(linted.checked.findings, linted.diagnostics) if _overlaps(d.range, here)]
        if not found:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                         value=hover_markdown([f for f, _ in found])),
            range=found[0][1].range,
        )

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DpLintServer, params: None) -> None:
        for task in ls.pending.values():
            task.cancel()
        ls.executor.shutdown(wait=False, cancel_futures=True)

    return server


def serve(debounce: float = DEBOUNCE) -> None:
    """Serve over standard input and output until the client says exit."""
    logging.basicConfig(level=logging.WARNING, format="dp-lint server: %(levelname)s %(message)s")
    create_server(debounce).start_io()


__all__ = ["DpLintServer", "FIX_ALL_KIND", "create_server", "serve"]
