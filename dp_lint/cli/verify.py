"""`dp-lint verify`: run models under real Opacus and compare their per-sample gradients.

Exit status: 0 every model ok; 1 at least one `crash` or `silent` (Opacus' per-sample gradients
are wrong: a confirmed problem); 3 none failed, but at least one model could not be verified
(`cannot-build`, `error`); 2 a usage error (a bad target or option, a bad configuration, torch or
Opacus missing, `--device cuda` without CUDA, no model to verify) or an internal error.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import click

from dp_lint.cli.common import CliError, load_config, report_internal_errors, run_options
from dp_lint.lint.run import Run
from dp_lint.report.output import use_color

# dp_lint.verify.report.FORMATS, written out so that `dp-lint check` never loads the verify package.
FORMATS = ("table", "concise", "json")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNVERIFIED = 3


def exit_status(verdicts) -> int:
    if any(v.failed for v in verdicts):
        return EXIT_FAILED
    if any(v.unverified for v in verdicts):
        return EXIT_UNVERIFIED
    return EXIT_OK




@click.command("verify")
@click.argument("targets", nargs=-1)
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="A table per model, one line per model, or JSON.",
)
@run_options()
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read [tool.dp-lint] (and its [[tool.dp-lint.verify]] tables) from this file.",
)
@click.option(
    "--run",
    "run_commands",
    multiple=True,
    metavar="COMMAND",
    help="Capture mode: run this training entry point (`python train.py --epochs 1`, `python -m pkg.train`) "
         "until its first private forward pass and verify the real model on that real batch with the engine's "
         "own settings (repeatable; the command runs in a child process with the time limit).",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Observe mode (with --run): let the script take N real private optimizer steps and check at each "
         "that the update before noise is bounded by the clipping, that batches come from the engine's data "
         "loader and that no GradScaler scales the per-sample gradients.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of weights and inputs.")
@click.option(
    "--fresh-process",
    is_flag=True,
    help="Verify each model in its own process [default: one process verifies the models in turn, "
         "and a fresh one takes over after a model kills or hangs it].",
)
def verify_command(
    targets: tuple[str, ...],
    output_format: str,
    timeout: float,
    device: str,
    config_file: Path | None,
    seed: int,
    fresh_process: bool,
    run_commands: tuple[str, ...] = (),
    steps: int | None = None,
) -> None:
    """Build each model, wrap it with Opacus as the project's engine call does, run one batch and
    compare every parameter's per-sample gradient with a one-sample-at-a-time reference.

    TARGETS are `path/to/file.py:ClassName` or `package.module:factory`, or files and folders to
    search for engine calls (default: the current folder). With no target, every model class
    wrapped by make_private/GradSampleModule is verified, plus the [[tool.dp-lint.verify]] tables
    (a table with `run = "python train.py ..."` is verified in capture mode, like --run).
    """
    # deferred: the verify package loads only when a verify command runs, not at start-up.
    from dp_lint.verify.api import first_line, verify_run, verify_targets
    from dp_lint.verify.report import render
    from dp_lint.verify.targets import (
        VerifyUsageError,
        discover_entry_points,
        discover_targets,
        legacy_api_hint,
        load_project,
        looks_like_target,
    )

    with report_internal_errors():
        named = [t for t in targets if looks_like_target(t) and not os.path.exists(t)]
        paths = [Path(t) for t in targets if t not in named]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CliError(
                f"{', '.join(missing)}: neither an existing path nor a target "
                "(`path/to/file.py:ClassName` or `package.module:factory`)"
            )
        files = [Path(t.rsplit(":", 1)[0]) for t in named if t.rsplit(":", 1)[0].endswith(".py")]
        start = next((p for p in paths + files if p.exists()), None)
        config = load_config(config_file, (start,) if start is not None else ())
        root = Path.cwd()
        commands = [_split_command(c) for c in run_commands]
        if steps is not None and not run_commands:
            raise CliError("--steps observes a training run: give the command with --run, "
                           "e.g. `dp-lint verify --run \"python train.py\" --steps 3`")
        if not commands and not targets:
            commands = [_split_command(t["run"]) for t in config.verify_targets if "run" in t]
        try:
            # The files under the given paths, parsed once for both searches below.
            project = load_project(paths or [root], config) if not named else None
            if run_commands and not targets:
                found = []  # capture mode only: the command builds the model
            else:
                found = discover_targets(root, named, paths=paths, config=config, project=project)
            entry_points = []
            if not named and not commands:
                # No configuration: prefer the project's own training scripts (capture mode) over
                # building models from their constructors.
                entry_points = discover_entry_points(root, paths=paths, config=config, project=project)
            if not found and not commands and not entry_points:
                legacy = legacy_api_hint(project) if project is not None else None
                raise CliError(
                    "no model to verify: no make_private/GradSampleModule call wraps a model class of the "
                    "project and [tool.dp-lint] has no [[tool.dp-lint.verify]] table; name a target, e.g. "
                    "`dp-lint verify models/net.py:Net`, or a training command: `dp-lint verify --run \"python train.py\"`"
                    + (f"\n{legacy}" if legacy else "")
                )
            verdicts = [verify_run(words, cwd=root, device=device, timeout=timeout, seed=seed, steps=steps)
                        for words in commands]
            captured_files: set[str] = set()
            fallback_notes: list[str] = []
            for entry in entry_points:
                verdict = verify_run(list(entry.command), cwd=root, device=device, timeout=timeout, seed=seed)
                if verdict.verdict in ("cannot-build", "error"):
                    fallback_notes.append(f"capture of `{' '.join(entry.command)}` did not reach the model "
                                          f"({first_line(verdict.error) or 'no reason given'}): built from the constructor instead")
                    continue
                verdicts.append(verdict)
                captured_files.update(entry.engine_files)
            found = [t for t in found if not _covered(t.origin, captured_files)]
            if found:
                built = verify_targets(found, device=device, timeout=timeout, fresh_process=fresh_process,
                                       cwd=root, seed=seed)
                for verdict in built:
                    verdict.notes.extend(fallback_notes)
                verdicts += built
            elif fallback_notes and not verdicts:
                raise CliError("no model could be verified: " + "; ".join(fallback_notes))
        except VerifyUsageError as exc:
            raise CliError(str(exc)) from None
        color = use_color(sys.stdout)
        width = None
        if color:
            width = shutil.get_terminal_size((120, 24)).columns
        click.echo(render(verdicts, output_format, color=color, width=width), nl=False, color=color)
    sys.exit(exit_status(verdicts))


def _covered(origin: str, captured_files: set[str]) -> bool:
    """Is a constructor-built target's engine call (its origin: "engine call train.py:12", possibly
    several joined by ", ") in a script that was verified by capture?"""
    calls = [part.split("engine call ", 1)[1] for part in origin.replace(" + ", ", ").split(", ")
             if part.startswith("engine call ")]
    return bool(calls) and all(call.rsplit(":", 1)[0] in captured_files for call in calls)


def _split_command(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise CliError(f"cannot read the command {command!r}: {exc}") from None
    if not words:
        raise CliError("--run needs a command, e.g. `--run \"python train.py --epochs 1\"`")
    return words


def verify_check_findings(run: Run, *, timeout: float, device: str, stdin: bool) -> None:
    """`dp-lint check --verify`: set each finding's `verification` (see dp_lint.verify.check_findings),
    placing the findings in the project and configuration the check ran with."""
    # deferred: the verify package loads only with --verify, not at start-up.
    from dp_lint.verify.check_findings import verify_findings
    from dp_lint.verify.targets import VerifyUsageError

    if not run.findings:
        return
    if stdin:
        for finding in run.findings:
            finding.extra["verification"] = "not verified: the code came from standard input"
        return
    try:
        # Each project's findings with the Project (context files included: a model's engine
        # call may be in a file not asked for) and the configuration its check ran with.
        for project in run.projects:
            if project.analysed is None:
                continue
            members = set(project.files)
            findings = [f for f in run.findings if f.path in members]
            if findings:
                verify_findings(findings, project.analysed, root=Path.cwd(), config=project.config,
                                device=device, timeout=timeout)
    except VerifyUsageError as exc:
        raise CliError(str(exc)) from None
