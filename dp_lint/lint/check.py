"""`check`: discover, parse each file once, build the shared project, run the selected rules."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from dp_lint.analysis.project import Project, failure_reason
from dp_lint.catalogue.loader import RuleEntry, load_catalogue
from dp_lint.config import opacus_versions
from dp_lint.config.settings import Config
from dp_lint.core.deep_stack import with_deep_stack
from dp_lint.core.failures import AnalysisFailure
from dp_lint.core.findings import Finding
from dp_lint.core.paths import display_path
from dp_lint.files.discovery import module_name_for
from dp_lint.files.source import (
    NotAnalysed,
    SourceError,
    SourceFile,
    decode_file,
    parse_text,
    read_error,
    syntax_error_finding,
)


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    # Files, classes or rules an analysis gave up on (a dp-lint bug, or a file deeper than
    # dp-lint analyses): they yield no finding.
    internal_errors: list[AnalysisFailure] = field(default_factory=list)
    # What the check built, for the steps after it (suppressions, code frames, --verify):
    # the project of every file that parsed, and the text of every file that could be read
    # and decoded (files with a syntax error included).
    project: Project | None = None
    texts: dict[Path, str] = field(default_factory=dict)


def _selected(code: str, select: Collection[str] | None, ignore: Collection[str]) -> bool:
    def matches(prefixes: Iterable[str]) -> bool:
        return any(code.startswith(prefix) for prefix in prefixes)

    if select is not None and not matches(select):
        return False
    return not matches(ignore)


def _run_rule(entry: RuleEntry, project: Project) -> list[Finding]:
    return [f for f in entry.rule.run(project) if holds_on(f, project.opacus_version.version)]


def holds_on(finding: Finding, version: str | None) -> bool:
    """Whether the Opacus behaviour a finding depends on (its `extra["opacus"]`) holds on
    `version`: findings are dropped on releases where the problem does not exist."""
    keys = (finding.extra.get("opacus") or {}).get("behaviours") or ()
    return not keys or any(opacus_versions.holds(key, version) for key in keys)


def _applies(entry: RuleEntry, project: Project) -> bool:
    """False when the rule depends only on behaviours that do not hold on the project's release."""
    keys = entry.rule.opacus_behaviours
    version = project.opacus_version.version
    return not keys or any(opacus_versions.holds(key, version) for key in keys)


def check_files(
    files: Sequence[Path],
    *,
    select: Collection[str] | None = None,
    ignore: Collection[str] = frozenset(),
    module_names: dict[Path, str] | None = None,
    config: Config | None = None,
    texts: dict[Path, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    context: Sequence[Path] = (),
) -> CheckResult:
    """Check `files` (already discovered). `select`/`ignore` hold rule codes or prefixes.

    A file that cannot be read or parsed becomes a DPL000 finding; the others are
    still checked. `texts` gives the current text of files being fixed in memory.
    `context` are the project's other files: parsed and analysed with `files` (a model
    file needs the training script's engine call), never reported on, DPL000 included.
    `progress(stage, done, total)` is told about each file parsed and each rule run.

    Runs where deep trees fit (dp_lint.core.deep_stack); a file that still fails to parse
    or is deeper than dp-lint analyses is left out (an `AnalysisFailure` when reported).
    """
    return with_deep_stack(partial(_check_files, files, select=select, ignore=ignore, module_names=module_names,
                                   config=config, texts=texts, progress=progress, context=context))


def _check_files(
    files: Sequence[Path],
    *,
    select: Collection[str] | None,
    ignore: Collection[str],
    module_names: dict[Path, str] | None,
    config: Config | None,
    texts: dict[Path, str] | None,
    progress: Callable[[str, int, int], None] | None,
    context: Sequence[Path],
) -> CheckResult:
    result = CheckResult()
    gave_up: list[AnalysisFailure] = []
    sources: list[SourceFile] = []
    reported = set(files)
    everything = list(files) + [path for path in context if path not in reported]
    for done, path in enumerate(everything):
        if progress is not None:
            progress("parse", done, len(everything))
        name = (module_names or {}).get(path) or module_name_for(path)
        try:
            text = texts[path] if texts is not None and path in texts else decode_file(path, path.read_bytes())
        except OSError as exc:
            result.findings.append(syntax_error_finding(path, read_error(path, exc)))
            continue
        except SourceError as error:
            result.findings.append(syntax_error_finding(path, error))
            continue
        result.texts[path] = text
        try:
            sources.append(parse_text(path, name, text))
        except SourceError as error:
            result.findings.append(syntax_error_finding(path, error))
        except NotAnalysed as limit:  # valid Python dp-lint cannot analyse (nesting, libcst's grammar)
            if path in reported:
                gave_up.append(AnalysisFailure(f"file {display_path(path)}", str(limit), path, limit=True))
        except (Exception, RecursionError) as exc:  # a dp-lint or libcst bug: this file only
            if path in reported:
                gave_up.append(AnalysisFailure(f"file {display_path(path)}", failure_reason(exc), path))
    result.findings = [f for f in result.findings if f.path in reported]
    result.files_checked = len(files)
    result.findings = [f for f in result.findings if _selected(f.code, select, ignore)]

    project = Project(sources, config)
    result.project = project
    seen = set()
    entries = [e for e in load_catalogue() if not e.rule.reported_by_engine and _selected(e.code, select, ignore)
               and _applies(e, project)]
    for done, entry in enumerate(entries):
        if progress is not None:
            progress("rules", done, len(entries))
        no_findings: list[Finding] = []
        findings = project.guarded(f"rule {entry.code}", partial(_run_rule, entry, project), no_findings)
        for finding in findings:
            key = (finding.code, finding.path, finding.location)
            if finding.path in reported and key not in seen:
                seen.add(key)
                result.findings.append(finding)
    result.findings.sort(key=Finding.sort_key)
    result.internal_errors = list(dict.fromkeys(gave_up + project.internal_errors))
    return result
