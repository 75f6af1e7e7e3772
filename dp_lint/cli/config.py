"""`dp-lint config`: the effective configuration of a path and where each setting comes from."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from dp_lint.catalogue.loader import all_codes
from dp_lint.cli.common import CliError, config_options, overrides, report_internal_errors, resolver
from dp_lint.config.opacus_version import project_folders, resolve_opacus_version
from dp_lint.config.settings import ConfigError, config_as_json, render_config


@click.command("config")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--output-format", type=click.Choice(["toml", "json"]), default="toml", show_default=True,
)
@config_options
def config_command(
    path: Path | None,
    output_format: str,
    config_file: Path | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    assume_batch_first: bool | None,
    opacus_version: str | None,
) -> None:
    """Show the effective configuration for PATH (default: the current folder) and where
    each setting comes from."""
    with report_internal_errors():
        target = Path(os.path.abspath(path or Path.cwd()))
        if not target.exists():
            raise CliError(f"path does not exist: {path}")
        options = overrides(select, extend_select, ignore, exclude, extend_exclude, assume_batch_first, opacus_version)
        try:
            config = resolver(config_file, options).for_path(target)
        except ConfigError as error:
            raise CliError(str(error)) from None
        known = all_codes()
        opacus = resolve_opacus_version(config.opacus_version, project_folders(config.root, [target]))
        if output_format == "json":
            data = config_as_json(config, known, opacus)
            data["target"] = str(target)
            click.echo(json.dumps(data, indent=2))
        else:
            click.echo(render_config(config, known, target, opacus), nl=False)
