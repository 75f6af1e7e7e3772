"""Every finding of every catalogue case has a short message and, where there is something to do
or an error to recognise, a help text (issue 14: ruff-shaped output).

The message (the `check` header line) is at most 120 characters: one sentence saying what is
wrong, naming the layer, variable or engine-call line, and its consequence, ending with a period.
The help (the `help:` line) carries the fix and the Opacus error text. This applies to every
rule of the catalogue, present and future: it runs on whatever `rules/*/cases/` holds.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from catalogue_cases import REPO, all_cases

from dp_lint.catalogue.loader import load_catalogue
from dp_lint.catalogue.rule import FixAvailability
from dp_lint.config.settings import Config
from dp_lint.files.discovery import discover
from dp_lint.lint.check import check_files

MAX_MESSAGE = 120
CASES = all_cases()
FIXABLE_RULES = {entry.code for entry in load_catalogue() if entry.fix_availability is not FixAvailability.NONE}
# An exception named in a message ("make_private raises UnsupportedModuleError"): a known error.
ERROR_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b")


@cache
def _findings(case):
    findings = []
    for version in case.opacus_versions():
        config = Config(opacus_version=version) if version else None
        findings += check_files(discover([case.path]), config=config).findings
    return tuple(findings)


def message_problems(message: str) -> list[str]:
    problems = []
    if len(message) > MAX_MESSAGE:
        problems.append(f"{len(message)} characters (at most {MAX_MESSAGE})")
    if "\n" in message or message != message.strip():
        problems.append("not one line without surrounding blanks")
    if not message.endswith(".") or message.endswith(("..", "…", ":.", ",.", ";.")):
        problems.append("does not end with a period after a complete sentence")
    if message.count("`") % 2:
        problems.append("an unclosed code span (cut?)")
    return problems


@pytest.mark.parametrize("message, ok", [
    ("`nn.LSTM` at `Net.rnn`: make_private raises UnsupportedModuleError.", True),
    ("`nn.LSTM` at `Net.rnn`: make_private raises", False),
    ("`nn.LSTM` at `Net.rnn`: make_private raises `Unsupported...", False),
    ("x" * 120 + ".", False),
    ("A finding:.", False),
])
def test_message_problems_tells_short_sentences_from_the_rest(message, ok):
    assert (message_problems(message) == []) is ok


def _problems(findings) -> list[str]:
    problems = []
    for finding in findings:
        where = f"{finding.path.name}:{finding.location.row} {finding.code}"
        problems += [f"{where}: message {p}: {finding.message}" for p in message_problems(finding.message)]
        has_fix = finding.fix is not None or finding.code in FIXABLE_RULES
        known_error = ERROR_NAME.search(finding.message) is not None
        if (has_fix or known_error) and not finding.help.strip():
            problems.append(f"{where}: no help (the fix and the Opacus error text): {finding.message}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_findings_have_short_messages_and_help(case):
    problems = _problems(_findings(case))
    assert not problems, "\n".join(problems)


def test_examples_findings_have_short_messages_and_help():
    # The bundled examples (the README's sample output) too.
    findings = check_files(discover([REPO / "examples"])).findings
    assert findings
    problems = _problems(findings)
    assert not problems, "\n".join(problems)


def test_every_rule_with_cases_is_covered():
    # Guard against an empty collection: the test above must see findings of each flagging rule.
    codes = {finding.code for case in CASES if case.kind == "flag" for finding in _findings(case)}
    with_flag_cases = {case.rule.split("-", 1)[0] for case in CASES if case.kind == "flag"}
    assert with_flag_cases <= codes
