"""Every `dp-lint` command of docs/ci.md, run on a copy of the bundled examples."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CI_DOC = REPO_ROOT / "docs" / "ci.md"
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

_FENCE_RE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A command on its own line, in a shell block, a YAML `run:` or a GitLab `script:` item.
_COMMAND_RE = re.compile(r"^\s*(?:-\s+|run:\s*)?(dp-lint\s.*?)\s*$")


def documented_commands() -> list[str]:
    commands = []
    for block in _FENCE_RE.findall(CI_DOC.read_text(encoding="utf-8")):
        for line in block.splitlines():
            match = _COMMAND_RE.match(line)
            if match:
                commands.append(match.group(1))
    return commands


COMMANDS = documented_commands()


def test_the_recipe_has_the_commands_the_issue_asks_for():
    formats = {shlex.split(c)[shlex.split(c).index("--output-format") + 1] for c in COMMANDS if "--output-format" in c}
    assert {"github", "sarif", "junit", "gitlab"} <= formats
    assert "upload-sarif" in CI_DOC.read_text()
    assert "codequality:" in CI_DOC.read_text()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A repository-like folder holding the examples, which have findings."""
    root = tmp_path_factory.mktemp("ci") / "project"
    shutil.copytree(REPO_ROOT / "examples", root / "examples")
    return root


def run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    assert argv[0] == "dp-lint"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["CI"] = "true"
    env.pop("DP_LINT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "dp_lint", *argv[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def expected_findings(cwd: Path) -> int:
    result = run("dp-lint check --output-format json .", cwd)
    return len(json.loads(result.stdout))


@pytest.mark.parametrize("command", COMMANDS)
def test_documented_command(command, workdir):
    result = run(command, workdir)
    argv = shlex.split(command)

    assert "Traceback" not in result.stderr
    assert result.returncode == (0 if "--exit-zero" in argv else 1), result.stderr
    output = result.stdout
    if "--output-file" in argv:
        assert output == ""
        output = (workdir / argv[argv.index("--output-file") + 1]).read_text(encoding="utf-8")
    count = expected_findings(workdir)
    assert count > 0
    output_format = argv[argv.index("--output-format") + 1] if "--output-format" in argv else "concise"

    if "--statistics" in argv:
        lines = [line for line in output.splitlines() if re.match(r"^\s*\d+  DPL\d{3}  ", line)]
        assert lines and sum(int(line.split()[0]) for line in lines) == count
        assert f"Found {count} errors." in output.splitlines()
    elif output_format == "github":
        lines = output.splitlines()
        assert len(lines) == count
        assert all(re.match(r"^::(error|warning) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,"
                            r"title=DPL\d{3} [a-z-]+::.+", line) for line in lines)
    elif output_format == "sarif":
        jsonschema = pytest.importorskip("jsonschema")
        log = json.loads(output)
        schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
        jsonschema.Draft4Validator(schema).validate(log)
        assert len(log["runs"][0]["results"]) == count
    elif output_format == "junit":
        root = ET.fromstring(output.encode("utf-8"))
        assert sum(1 for _ in root.iter("failure")) == count
    elif output_format == "gitlab":
        issues = json.loads(output)
        assert len(issues) == count
        for issue in issues:
            assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
            assert issue["location"]["path"].startswith("examples/")
            assert issue["location"]["lines"]["begin"] >= 1
    elif output_format == "concise":
        lines = output.splitlines()
        # One line per finding, the summary, and the fixable line when some fix is safe.
        summary = lines.index(f"Found {count} errors.")
        assert summary == count and len(lines) - summary <= 2, lines
    else:  # pragma: no cover - a format the recipe should not use without a check here
        pytest.fail(f"no output check for {output_format}")
    assert "\x1b[" not in output  # no colour, no progress bar in CI
