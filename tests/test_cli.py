"""The `dp-lint` command, in-process (CliRunner, with fake rules) and as a real process.

In-process tests replace the catalogue with fake rules and the engine's `Project`
with a recorder, so they depend only on the engine's contract: the fake rule sees
every file that parsed and flags each line ending in `# flag`.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dp_lint import __version__
from dp_lint.analysis.project import Project
from dp_lint.catalogue.loader import RuleEntry
from dp_lint.catalogue.rule import Rule
from dp_lint.cli import main
from dp_lint.core.findings import Finding, Location

REPO_ROOT = Path(__file__).resolve().parent.parent

CLEAN = "import torch\n\nx = torch.zeros(3)\n"
FLAGGED = "import torch\n\ny = torch.ones(2)  # flag\n"


class RecordingProject(Project):
    def __init__(self, sources, *args, **kwargs):
        super().__init__(sources, *args, **kwargs)
        self.sources = list(sources)


class FlagCommentRule(Rule):
    code = "DPL101"
    name = "flag-comment"
    summary = "Flags every line that ends in `# flag`."

    def check(self, project):
        for source in project.sources:
            for row, line in enumerate(source.text.splitlines(), start=1):
                if line.endswith("# flag"):
                    column = line.index("#") + 1
                    yield Finding(
                        code=self.code,
                        name=self.name,
                        message="this line asked to be flagged",
                        path=source.path,
                        location=Location(row, column),
                        end_location=Location(row, len(line) + 1),
                    )


class FlagCommentAgainRule(FlagCommentRule):
    code = "DPL102"
    name = "flag-comment-again"
    summary = "The same, under another code."
    fix_availability = "safe"


class CrashingRule(Rule):
    code = "DPL199"
    name = "crashing-rule"
    summary = "Always fails."

    def check(self, project):
        raise ValueError("boom in the rule")


@pytest.fixture
def use_rules(tmp_path, monkeypatch):
    """Install fake rules as the catalogue (and a recording Project in the engine)."""
    import dp_lint.catalogue.loader as catalogue
    import dp_lint.lint.check as engine

    monkeypatch.setattr(engine, "Project", RecordingProject)

    # The engine's own codes (DPL000, DPL900) are catalogue entries too: keep them.
    engine_entries = [e for e in catalogue.load_catalogue() if e.rule.reported_by_engine]

    def install(*rule_classes):
        entries = list(engine_entries)
        for rule_class in rule_classes:
            folder = tmp_path / "_rules" / f"{rule_class.code}-{rule_class.name}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "README.md").write_text(f"# {rule_class.code} {rule_class.name}\n\nDocs of {rule_class.name}.\n")
            entries.append(RuleEntry(rule_class.code, rule_class.name, folder, rule_class()))
        monkeypatch.setattr(catalogue, "load_catalogue", lambda: tuple(entries))
        monkeypatch.setattr(engine, "load_catalogue", lambda: tuple(entries))

    install(FlagCommentRule, FlagCommentAgainRule)
    return install


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def invoke(*args, env=None):
    result = CliRunner().invoke(main, list(args), env=env)
    assert "Traceback" not in result.output
    return result


# --- exit status -------------------------------------------------------------------


def test_clean_project_exits_0(use_rules, project):
    write(project / "clean.py", CLEAN)

    result = invoke("check", ".")

    assert result.exit_code == 0
    assert result.stdout == "All checks passed!\n"


def test_findings_exit_1_and_exit_zero_exits_0(use_rules, project):
    write(project / "flagged.py", FLAGGED)

    assert invoke("check", ".").exit_code == 1
    result = invoke("check", ".", "--exit-zero")
    assert result.exit_code == 0
    assert "flagged.py:3:20: DPL101" in result.stdout


def test_paths_default_to_the_current_folder(use_rules, project):
    write(project / "sub" / "flagged.py", FLAGGED)

    result = invoke("check")

    assert "sub/flagged.py:3:20: DPL101" in result.stdout


def test_missing_path_exits_2_with_a_clear_message(use_rules, project):
    write(project / "clean.py", CLEAN)

    result = invoke("check", "clean.py", "no_such_dir")

    assert result.exit_code == 2
    assert "does not exist: no_such_dir" in result.stderr
    assert result.stdout == ""


def test_empty_folder_warns_and_passes(use_rules, project):
    result = invoke("check", ".")

    assert result.exit_code == 0
    assert "no Python files found" in result.stderr


# --- output formats ----------------------------------------------------------------


def test_default_format_off_a_terminal_is_concise(use_rules, project):
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", ".")

    assert result.stdout.splitlines() == [
        "flagged.py:3:20: DPL101 this line asked to be flagged",
        "flagged.py:3:20: DPL102 this line asked to be flagged",
        "Found 2 errors.",
    ]


def test_full_format_has_code_frames(use_rules, project):
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", "--output-format", "full", "--select", "DPL101")

    lines = result.stdout.splitlines()
    assert lines[0] == "flagged.py:3:20: DPL101 this line asked to be flagged"
    assert "3 | y = torch.ones(2)  # flag" in lines
    assert "  |                    ^^^^^^ DPL101" in lines
    assert lines[-1] == "Found 1 error."


def test_json_format(use_rules, project):
    path = write(project / "flagged.py", FLAGGED)

    result = invoke("check", "--output-format", "json")

    data = json.loads(result.stdout)
    assert [d["code"] for d in data] == ["DPL101", "DPL102"]
    assert data[0]["filename"] == str(path)
    assert data[0]["location"] == {"column": 20, "row": 3}
    assert data[0]["end_location"] == {"column": 26, "row": 3}
    assert set(data[0]) == {
        "cell", "code", "end_location", "filename", "fix", "location", "message", "help",
        "noqa_row", "url", "name", "confidence",
    }
    assert result.exit_code == 1


def test_json_lines_format(use_rules, project):
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", "--output-format", "json-lines")

    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["code"] for o in objects] == ["DPL101", "DPL102"]


def test_json_of_a_clean_project_is_an_empty_list(use_rules, project):
    write(project / "clean.py", CLEAN)

    result = invoke("check", "--output-format", "json")

    assert json.loads(result.stdout) == []
    assert result.exit_code == 0


def test_unknown_output_format_is_a_usage_error(use_rules, project):
    assert invoke("check", "--output-format", "checkstyle").exit_code == 2


# --- select / ignore ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args, codes",
    [
        ([], ["DPL101", "DPL102"]),
        (["--select", "DPL101"], ["DPL101"]),
        (["--select", "dpl102"], ["DPL102"]),
        (["--select", "DPL1"], ["DPL101", "DPL102"]),
        (["--select", "DPL101,DPL102"], ["DPL101", "DPL102"]),
        (["--select", "DPL101", "--select", "DPL102"], ["DPL101", "DPL102"]),
        (["--ignore", "DPL101"], ["DPL102"]),
        (["--select", "DPL1", "--ignore", "DPL102"], ["DPL101"]),
        (["--ignore", "DPL1"], []),
        (["--select", "ALL"], ["DPL101", "DPL102"]),
        (["--select", "DPL000"], []),
    ],
)
def test_select_and_ignore(use_rules, project, args, codes):
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", "--output-format", "json", *args)

    assert [d["code"] for d in json.loads(result.stdout)] == codes


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_code_exits_2_naming_the_known_codes(use_rules, project, option):
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", option, "DPL101,DPL999")

    assert result.exit_code == 2
    assert "DPL999" in result.stderr
    assert "DPL000, DPL101, DPL102" in result.stderr


# --- files that cannot be checked (DPL000) -----------------------------------------


def test_syntax_error_is_reported_and_other_files_still_checked(use_rules, project):
    write(project / "broken.py", "def f(:\n    pass\n")
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", "--output-format", "concise")

    lines = result.stdout.splitlines()
    assert lines[0].startswith("broken.py:")
    assert "DPL000 syntax error" in lines[0]
    assert "flagged.py:3:20: DPL101 this line asked to be flagged" in lines
    assert result.exit_code == 1


def test_syntax_error_in_full_format_points_at_the_line(use_rules, project):
    write(project / "broken.py", "x = 1\ny = (2 +\n")

    result = invoke("check", "--output-format", "full")

    assert "DPL000 syntax error" in result.stdout
    assert "2 | y = (2 +" in result.stdout
    assert result.exit_code == 1


def test_syntax_errors_can_be_ignored(use_rules, project):
    write(project / "broken.py", "def f(:\n")

    result = invoke("check", "--ignore", "DPL000")

    assert result.exit_code == 0


def test_binary_junk_named_py(use_rules, project):
    write(project / "junk.py", bytes(range(256)) * 4)
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", "--output-format", "full")

    assert "junk.py:1:1: DPL000" in result.stdout
    assert "flagged.py:3:20: DPL101" in result.stdout
    assert "\x00" not in result.stdout


def test_file_that_is_not_valid_utf8(use_rules, project):
    write(project / "latin.py", b'name = "Andr\xe9"\n')

    result = invoke("check", "--output-format", "json")

    (finding,) = json.loads(result.stdout)
    assert finding["code"] == "DPL000"
    assert "utf-8" in finding["message"]
    assert finding["location"] == {"column": 13, "row": 1}


def test_file_with_a_latin1_declaration_decodes(use_rules, project):
    write(project / "latin.py", b'# -*- coding: latin-1 -*-\nname = "Andr\xe9"  # flag\n')

    result = invoke("check", "--output-format", "json", "--select", "DPL000,DPL101")

    assert [d["code"] for d in json.loads(result.stdout)] == ["DPL101"]


def test_unreadable_file(use_rules, project, monkeypatch):
    locked = write(project / "locked.py", FLAGGED)
    write(project / "flagged.py", FLAGGED)
    if os.name == "posix" and os.geteuid() != 0:
        locked.chmod(0)
    else:
        # Root reads any file whatever its mode: simulate the refusal instead.
        real_read_bytes = Path.read_bytes

        def read_bytes(self):
            if self.name == "locked.py":
                raise PermissionError(13, "Permission denied", str(self))
            return real_read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    try:
        result = invoke("check", "--output-format", "full", "--select", "DPL000,DPL101")
    finally:
        locked.chmod(0o644)

    assert "locked.py:1:1: DPL000 cannot read file: Permission denied" in result.stdout
    assert "flagged.py:3:20: DPL101" in result.stdout
    assert result.exit_code == 1


# --- internal errors ---------------------------------------------------------------


def test_a_crashing_rule_exits_2_without_a_traceback(use_rules, project):
    use_rules(CrashingRule)
    write(project / "clean.py", CLEAN)

    result = invoke("check", ".")

    assert result.exit_code == 2
    assert "stopped analysing rule DPL199: ValueError: boom in the rule" in result.stderr
    assert "please report it" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_debug_variable_shows_the_traceback(use_rules, project):
    use_rules(CrashingRule)
    write(project / "clean.py", CLEAN)

    result = CliRunner().invoke(main, ["check", "."], env={"DP_LINT_DEBUG": "1"})

    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert "boom in the rule" in result.stderr


# --- rules, explain, --version -----------------------------------------------------


def test_rules_lists_every_rule_in_plain_columns(use_rules):
    result = invoke("rules")

    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "SUMMARY", "FIX"]
    assert lines[1].startswith("DPL000  ")
    assert lines[2].startswith("DPL101  flag-comment ")
    assert lines[3].split()[-1] == "safe"
    assert result.exit_code == 0


def test_rules_as_json(use_rules):
    result = invoke("rules", "--output-format", "json")

    rows = json.loads(result.stdout)
    assert [r["code"] for r in rows] == ["DPL000", "DPL101", "DPL102", "DPL900"]
    assert rows[-1]["name"] == "unused-suppression" and rows[-1]["fix"] == "safe"
    assert rows[1] == {
        "code": "DPL101",
        "name": "flag-comment",
        "summary": "Flags every line that ends in `# flag`.",
        "fix": "none",
    }


@pytest.mark.parametrize("query", ["DPL101", "dpl101", "flag-comment"])
def test_explain_prints_the_rule_readme(use_rules, query):
    result = invoke("explain", query)

    assert result.exit_code == 0
    assert result.stdout == "# DPL101 flag-comment\n\nDocs of flag-comment.\n"


def test_explain_knows_the_engine_code(use_rules):
    result = invoke("explain", "DPL000")

    assert result.exit_code == 0
    assert "could not analyse this file" in result.stdout


def test_explain_unknown_rule_exits_2_listing_codes(use_rules):
    result = invoke("explain", "DPL999")

    assert result.exit_code == 2
    assert "unknown rule 'DPL999'" in result.stderr
    assert "DPL000, DPL101, DPL102" in result.stderr


def test_version():
    result = invoke("--version")

    assert result.stdout.strip() == f"dp-lint {__version__}"


# --- as a real process -------------------------------------------------------------


def run_dp_lint(*args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("DP_LINT_DEBUG", None)
    env["NO_COLOR"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "dp_lint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_process_clean_file_exits_0(tmp_path):
    write(tmp_path / "clean.py", "x = 1\n")

    result = run_dp_lint("check", ".", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "All checks passed!\n"


def test_process_reports_problem_files_and_exits_1(tmp_path):
    write(tmp_path / "broken.py", "def f(:\n    pass\n")
    write(tmp_path / "junk.py", b"\x7fELF\x00\x00\x01" * 10)
    write(tmp_path / "not_utf8.py", b"s = '\xff'\n")
    write(tmp_path / "latin.py", b"# -*- coding: latin-1 -*-\ns = '\xe9'\n")
    write(tmp_path / "clean.py", "x = 1\n")

    result = run_dp_lint("check", ".", "--select", "DPL000", "--output-format", "concise", cwd=tmp_path)

    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == ["broken.py", "junk.py", "not_utf8.py"]
    assert all(" DPL000 " in line for line in lines[:-1])
    assert lines[-1] == "Found 3 errors."
    assert result.returncode == 1


def test_process_json_and_exit_zero(tmp_path):
    broken = write(tmp_path / "broken.py", "x = (\n")

    result = run_dp_lint("check", "--output-format", "json", "--exit-zero", "--select", "DPL000", cwd=tmp_path)

    assert result.returncode == 0
    (finding,) = json.loads(result.stdout)
    assert finding["filename"] == str(broken)
    assert finding["code"] == "DPL000"


def test_process_missing_path_exits_2(tmp_path):
    result = run_dp_lint("check", "missing_dir", cwd=tmp_path)

    assert result.returncode == 2
    assert "does not exist: missing_dir" in result.stderr


def test_process_unknown_code_exits_2(tmp_path):
    write(tmp_path / "clean.py", "x = 1\n")

    result = run_dp_lint("check", "--select", "NOPE1", cwd=tmp_path)

    assert result.returncode == 2
    assert "NOPE1" in result.stderr


def test_process_rules_and_explain(tmp_path):
    rules = run_dp_lint("rules", "--output-format", "json", cwd=tmp_path)
    explain = run_dp_lint("explain", "DPL000", cwd=tmp_path)

    assert rules.returncode == 0 and explain.returncode == 0
    assert json.loads(rules.stdout)[0]["code"] == "DPL000"
    assert "DPL000" in explain.stdout


def test_a_crashing_rule_does_not_hide_the_other_rules_findings(use_rules, project):
    use_rules(CrashingRule, FlagCommentRule)
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", ".", "--output-format", "concise")

    assert "flagged.py:3:20: DPL101" in result.stdout
    assert "boom in the rule" in result.stderr
    assert result.exit_code == 2
