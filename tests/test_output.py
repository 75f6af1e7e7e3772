import io
import json
from pathlib import Path

import pytest

from dp_lint.core.findings import Applicability, Confidence, Finding, Fix, Location
from dp_lint.report.output import (
    FORMATS,
    display_path,
    format_findings,
    summary_line,
    to_json,
    use_color,
)

SOURCE = """\
import torch.nn as nn


class Net(nn.Module):
    def forward(self, x):
        z = self.proj(x).detach()
        return z
"""


def finding(path, row=6, col=13, end_row=6, end_col=34, code="DPL101", **kwargs) -> Finding:
    return Finding(
        code=code,
        name=kwargs.pop("name", "fake-rule"),
        message=kwargs.pop("message", "output of trainable `self.proj` is detached"),
        path=Path(path),
        location=Location(row, col),
        end_location=Location(end_row, end_col),
        **kwargs,
    )


@pytest.fixture
def model_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "models" / "net.py"
    path.parent.mkdir()
    path.write_text(SOURCE)
    return path


def test_concise_is_one_line_per_finding_relative_to_cwd(model_file):
    text = format_findings([finding(model_file)], "concise")

    assert text == "models/net.py:6:13: DPL101 output of trainable `self.proj` is detached\n"


def test_concise_marks_fixable_findings(model_file):
    text = format_findings([finding(model_file, fix=Fix(Applicability.SAFE, "Fix it", ()))], "concise")

    assert "DPL101 [*] output" in text


def test_only_a_safe_fix_earns_the_fixable_mark(model_file):
    unsafe = finding(model_file, fix=Fix(Applicability.UNSAFE, "Change the layer", ()))
    assert "[*]" not in format_findings([unsafe], "concise")
    assert "[*]" not in format_findings([unsafe], "full")
    # `check --unsafe-fixes` counts unsafe fixes as fixable, as ruff does.
    assert "DPL101 [*] output" in format_findings([unsafe], "concise", unsafe_fixes=True)


def test_findings_are_sorted(model_file):
    later = finding(model_file, row=7, col=9, end_col=15, code="DPL102")
    earlier = finding(model_file)
    text = format_findings([later, earlier], "concise")

    assert [line.split()[1] for line in text.splitlines()] == ["DPL101", "DPL102"]


def test_full_shows_a_code_frame_with_carets_under_the_span(model_file):
    text = format_findings([finding(model_file)], "full")
    lines = text.splitlines()

    assert lines[0] == "models/net.py:6:13: DPL101 output of trainable `self.proj` is detached"
    assert "6 |         z = self.proj(x).detach()" in lines
    assert "4 | class Net(nn.Module):" in lines  # two lines of context above
    assert "7 |         return z" in lines  # and below
    source_line = lines.index("6 |         z = self.proj(x).detach()")
    caret_line = lines[source_line + 1]
    start = caret_line.index("^")
    assert caret_line[start:] == "^" * 21 + " DPL101"
    # The caret line is aligned with the printed line, gutter included.
    assert lines[source_line][start:start + 21] == "self.proj(x).detach()"


def test_full_marks_every_line_of_a_multi_line_span(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "m.py"
    path.write_text("y = f(\n    a,\n    b)\nprint(y)\n")
    text = format_findings([finding(path, row=1, col=5, end_row=3, end_col=7)], "full")
    lines = text.splitlines()

    assert lines[3] == "  |     ^^"  # `f(` on row 1
    assert lines[5] == "  |     ^^"  # `a,` from its indentation
    assert lines[7] == "  |     ^^ DPL101"  # `b)` up to the end column


def test_full_elides_very_long_spans(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "m.py"
    path.write_text("".join(f"x{i} = {i}\n" for i in range(1, 31)))
    text = format_findings([finding(path, row=2, col=1, end_row=25, end_col=8)], "full")

    assert "..." in text
    assert "25 |" not in text
    assert "DPL101" in text.splitlines()[-4]


def test_full_expands_tabs_and_keeps_carets_aligned(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "t.py"
    path.write_text("if x:\n\ty = bad()\n")
    lines = format_findings([finding(path, row=2, col=6, end_row=2, end_col=11)], "full").splitlines()

    printed = next(line for line in lines if line.startswith("2 |"))
    carets = lines[lines.index(printed) + 1]
    start = carets.index("^")
    assert printed[start:start + 5] == "bad()"


def test_full_shows_medium_confidence(model_file):
    text = format_findings([finding(model_file, confidence=Confidence.MEDIUM)], "full")

    assert "confidence: medium" in text
    assert "confidence" not in format_findings([finding(model_file)], "full")


def test_full_without_readable_source_prints_only_the_header(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    junk = tmp_path / "junk.py"
    junk.write_bytes(b"\x00\x01\x02binary")
    missing = tmp_path / "gone.py"
    text = format_findings(
        [finding(junk, row=1, col=1, end_row=1, end_col=1, code="DPL000"),
         finding(missing, row=1, col=1, end_row=1, end_col=1, code="DPL000")],
        "full",
    )

    assert "|" not in text
    assert "gone.py:1:1: DPL000" in text and "junk.py:1:1: DPL000" in text


def test_full_shows_the_line_of_a_file_that_is_not_valid_utf8(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.py"
    path.write_bytes(b's = "\xe9"\n')
    text = format_findings([finding(path, row=1, col=6, end_row=1, end_col=6, code="DPL000")], "full")

    assert '1 | s = "\ufffd"' in text


def test_full_prefers_the_given_source_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "not_on_disk.py"
    text = format_findings(
        [finding(path, row=1, col=1, end_row=1, end_col=4)], "full", sources={path: "abc = 1\n"}
    )

    assert "1 | abc = 1" in text


def test_full_survives_a_location_past_the_end_of_the_file(model_file):
    text = format_findings([finding(model_file, row=99, col=1, end_row=99, end_col=2)], "full")

    assert text.startswith("models/net.py:99:1: DPL101")


def test_json_objects_have_ruffs_keys_plus_name_and_confidence(model_file):
    data = json.loads(format_findings([finding(model_file, confidence=Confidence.MEDIUM)], "json"))

    assert data == [
        {
            "cell": None,
            "code": "DPL101",
            "end_location": {"column": 34, "row": 6},
            "filename": str(model_file),
            "fix": None,
            "location": {"column": 13, "row": 6},
            "message": "output of trainable `self.proj` is detached",
            "help": None,
            "noqa_row": 6,
            "url": "https://dp-lint.readthedocs.io/en/latest/rules/DPL101-fake-rule/",
            "name": "fake-rule",
            "confidence": "medium",
        }
    ]


def test_json_filename_is_absolute_even_for_relative_paths(model_file):
    data = to_json(finding(Path("models/net.py")))

    assert data["filename"] == str(model_file)


def test_json_of_nothing_is_an_empty_list():
    assert json.loads(format_findings([], "json")) == []


def test_json_lines_has_one_object_per_line(model_file):
    text = format_findings([finding(model_file), finding(model_file, row=7)], "json-lines")
    lines = text.splitlines()

    assert len(lines) == 2
    assert [json.loads(line)["location"]["row"] for line in lines] == [6, 7]


def test_unknown_format_is_rejected(model_file):
    with pytest.raises(ValueError):
        format_findings([finding(model_file)], "checkstyle")


@pytest.mark.parametrize("output_format", ["full", "concise"])
def test_colour_only_when_asked(model_file, output_format):
    plain = format_findings([finding(model_file)], output_format, color=False)
    coloured = format_findings([finding(model_file)], output_format, color=True)

    assert "\x1b[" not in plain
    assert "\x1b[" in coloured


def test_messages_are_not_read_as_markup(model_file):
    text = format_findings([finding(model_file, message="see [bold]x[/bold] and [*]")], "concise")

    assert "see [bold]x[/bold] and [*]" in text


def test_long_lines_are_never_wrapped(model_file):
    text = format_findings([finding(model_file, message="m" * 500)], "concise")

    assert len(text.splitlines()) == 1


def test_display_path():
    cwd = Path("/work/proj")

    assert display_path(Path("/work/proj/a/b.py"), cwd) == "a/b.py"
    assert display_path(Path("/elsewhere/b.py"), cwd) == "/elsewhere/b.py"


def test_summary_line(model_file):
    assert summary_line([]) == "All checks passed!"
    assert summary_line([finding(model_file)]) == "Found 1 error."
    assert summary_line([finding(model_file)] * 3) == "Found 3 errors."


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_use_color_needs_a_terminal_and_respects_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(FakeTerminal())
    assert not use_color(io.StringIO())

    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(FakeTerminal())


def test_every_format_is_listed():
    assert FORMATS == ("full", "concise", "json", "json-lines", "github", "sarif", "junit", "gitlab")


def test_form_feeds_do_not_shift_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ff.py"
    path.write_text("a = 1\n\x0c\nb = 2\r\nc = target\n")
    text = format_findings([finding(path, row=4, col=5, end_row=4, end_col=11)], "full")

    assert "4 | c = target" in text
