"""Printing verdicts: a rich table per model, one line per model, or JSON."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from dp_lint.verify.api import ModelVerdict

FORMATS = ("table", "concise", "json")
VERDICT_STYLES = {"ok": "bold green", "crash": "bold red", "silent": "bold red", "cannot-build": "bold yellow",
                  "error": "bold yellow"}
STATUS_STYLES = {"ok": "green", "frozen": "dim", "not-stepped": "dim", "unchecked": "yellow"}
MAX_OUTPUT_LINES = 20
MAX_CONCISE_ERROR = 240
MAX_TABLE_ERROR = 600  # the whole text is in --output-format json


def render(verdicts: Sequence[ModelVerdict], output_format: str, *, color: bool = False, width: int | None = None) -> str:
    if output_format == "json":
        return json.dumps([v.to_json() for v in verdicts], indent=2) + "\n"
    if output_format == "concise":
        return "".join(concise_line(v) + "\n" for v in verdicts) + summary_line(verdicts) + "\n"
    if output_format == "table":
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=color, no_color=not color,
                          color_system="standard" if color else None, width=width or 120,
                          highlight=False, markup=False, emoji=False)
        for verdict in verdicts:
            console.print(model_block(verdict))
            console.print()
        console.print(Text(summary_line(verdicts), style="bold"))
        return buffer.getvalue()
    raise ValueError(f"unknown output format: {output_format!r}")


def concise_line(verdict: ModelVerdict) -> str:
    error = " ".join((verdict.error or "").split())
    if len(error) > MAX_CONCISE_ERROR:
        error = error[: MAX_CONCISE_ERROR - 3] + "..."
    if verdict.verdict == "ok":
        detail = f"max error {verdict.max_error:.1g}" if verdict.max_error is not None else ""
    else:
        detail = error
    return f"{verdict.target}: {verdict.verdict}" + (f": {detail}" if detail else "")


def summary_line(verdicts: Sequence[ModelVerdict]) -> str:
    if not verdicts:
        return "No model verified."
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
    order = ["crash", "silent", "cannot-build", "error", "ok"]
    parts = [f"{counts[name]} {name}" for name in order if name in counts]
    noun = "model" if len(verdicts) == 1 else "models"
    releases = sorted({v.opacus for v in verdicts if v.opacus})
    on = f" on opacus {', '.join(releases)}" if releases else ""
    return f"Verified {len(verdicts)} {noun}{on}: {', '.join(parts)}."


def model_block(verdict: ModelVerdict) -> Group:
    parts: list[RenderableType] = []
    title = Text()
    title.append(verdict.target, style="bold")
    title.append("  ")
    title.append(verdict.verdict, style=VERDICT_STYLES.get(verdict.verdict, "bold"))
    if verdict.verdict == "ok" and verdict.max_error is not None:
        title.append(f"  (max error {verdict.max_error:.1g})")
    parts.append(title)
    if verdict.error:
        error = verdict.error
        if len(error) > MAX_TABLE_ERROR:
            error = error[: MAX_TABLE_ERROR - 3] + "... (the whole message: --output-format json)"
        parts.append(_indented(Text(error, style="red" if verdict.failed else "yellow")))
    facts = []
    facts.append(f"built by {verdict.built_by}")
    if verdict.origin and verdict.origin != verdict.built_by:
        facts.append(f"from {verdict.origin}")
    settings = verdict.settings
    if settings:
        shown = f"batch_first={settings.get('batch_first')}, loss_reduction={settings.get('loss_reduction')}, " \
                f"grad_sample_mode={settings.get('grad_sample_mode')}"
        if settings.get("validator_fix"):
            shown += ", after ModuleValidator.fix"
        facts.append(shown)
    if verdict.device:
        facts.append(f"device {verdict.device}")
    if verdict.opacus:
        facts.append(f"opacus {verdict.opacus}")
    if facts:
        parts.append(_indented(Text(" · ".join(facts), style="dim")))
    if verdict.inputs is not None:
        line = f"inputs{' (inferred)' if verdict.inputs_inferred else ''}: {', '.join(verdict.inputs or []) or '(none)'}"
        if verdict.batch_sizes:
            line += f" · batch sizes {', '.join(map(str, verdict.batch_sizes))}"
        parts.append(_indented(Text(line, style="dim")))
    for note in verdict.notes:
        parts.append(_indented(Text(f"note: {note}", style="dim")))
    if verdict.invariants:
        table = Table("Invariant", "Holds", "Measured", padding=(0, 1))
        for invariant in verdict.invariants:
            holds = Text("yes", style="green") if invariant["holds"] else Text("NO", style="bold red")
            table.add_row(invariant["name"], holds, invariant["measured"])
        parts.append(_indented(table))
    if verdict.parameters:
        table = Table("Parameter", "Shape", "Status", "Error", padding=(0, 1))
        for p in verdict.parameters:
            style = STATUS_STYLES.get(p.status, "bold red")
            table.add_row(p.name, "[" + ", ".join(map(str, p.shape)) + "]", Text(p.status, style=style), p.error or "")
        parts.append(_indented(table))
    if verdict.config_hint:
        parts.append(_indented(Text("To verify it, add to pyproject.toml (and fill in any ...):", style="yellow")))
        parts.append(_indented(Text(verdict.config_hint), 4))
    if verdict.output and verdict.verdict in ("error", "cannot-build", "crash"):
        lines = verdict.output.rstrip().splitlines()
        last_lines = lines[-MAX_OUTPUT_LINES:]
        header = "output of the model's code" + (f" (last {len(last_lines)} lines)" if len(lines) > len(last_lines) else "") + ":"
        parts.append(_indented(Text(header, style="dim")))
        parts.append(_indented(Text("\n".join(last_lines), style="dim"), 4))
    return Group(*parts)


def _indented(renderable: RenderableType, width: int = 2) -> Padding:
    return Padding(renderable, (0, 0, 0, width), expand=False)
