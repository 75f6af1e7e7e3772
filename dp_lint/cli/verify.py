"""`dp-lint verify`: run models under real Opacus and compare their per-sample gradients.

Exit status: 0 every model ok; 1 at least one `crash` or `silent` (Opacus' per-sample gradients
are wrong: a confirmed problem); 3 none failed, but at least one model could not be verified
(`cannot-build`, `error`); 2 a usage error (a bad target or option, a bad configuration, torch or
Opacus missing, `--device cuda` without CUDA, no model to verify) or an internal error.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from dp_lint.cli.common import CliError, load_config, report_internal_errors, run_options
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
) -> None:
    """Build each model, wrap it with Opacus as the project's engine call does, run one batch and
    compare every parameter's per-sample gradient with a one-sample-at-a-time reference.

    TARGETS are `path/to/file.py:ClassName` or `package.module:factory`, or files and folders to
    search for engine calls (default: the current folder). With no target, every model class
    wrapped by make_private/GradSampleModule is verified, plus the [[tool.dp-lint.verify]] tables.
    """
    # deferred: the verify package loads only when a verify command runs, not at start-up.
    from dp_lint.verify.api import verify_targets
    from dp_lint.verify.report import render
    from dp_lint.verify.targets import VerifyUsageError, discover_targets, looks_like_target

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
        try:
            found = discover_targets(root, named, paths=paths, config=config)
            if not found:
                raise CliError(
                    "no model to verify: no make_private/GradSampleModule call wraps a model class of the "
                    "project and [tool.dp-lint] has no [[tool.dp-lint.verify]] table; name a target, e.g. "
                    "`dp-lint verify models/net.py:Net`"
                )
            verdicts = verify_targets(found, device=device, timeout=timeout, fresh_process=fresh_process,
                                      cwd=root, seed=seed)
        except VerifyUsageError as exc:
            raise CliError(str(exc)) from None
        color = use_color(sys.stdout)
        width = None
        if color:
            width = shutil.get_terminal_size((120, 24)).columns
        click.echo(render(verdicts, output_format, color=color, width=width), nl=False, color=color)
    sys.exit(exit_status(verdicts))


def verify_check_findings(run, paths, config_file, *, timeout: float, device: str, stdin: bool) -> None:
    """`dp-lint check --verify`: set each finding's `verification` (see dp_lint.verify.check_findings)."""
    # deferred: the verify package loads only with --verify, not at start-up.
    from dp_lint.verify.check_findings import verify_findings
    from dp_lint.verify.targets import VerifyUsageError

    if not run.findings:
        return
    if stdin:
        for finding in run.findings:
            finding.extra["verification"] = "not verified: the code came from standard input"
        return
    config = load_config(config_file, tuple(paths))
    try:
        # The project's other files too: a model's engine call may be in a file not asked for.
        files = list(run.files) + [path for project in run.projects for path in project.context]
        verify_findings(run.findings, files, root=Path.cwd(), config=config, device=device, timeout=timeout)
    except VerifyUsageError as exc:
        raise CliError(str(exc)) from None
