"""Deeply nested source, decided before libcst sees it.

libcst's parser accepts nesting that Python rejects (1,000 nested brackets, where CPython's
tokenizer stops at 200), takes seconds to minutes and gigabytes on it, and crashes the
interpreter (a native stack overflow) from about 10,000 levels. So every file is first
scanned for what makes a tree deep: bracket nesting and very long logical lines (a chain of
a thousand `+`, `.attr`, `not` or `x if c else` has no brackets but is as deep). The scan
looks at bracket and string characters only and costs a small fraction of a parse; a file
it finds suspicious is compiled by Python, which decides: a file Python rejects is a syntax
error with Python's own message, a file Python accepts but deeper than dp-lint analyses is
skipped with a notice (it is not the user's error), and the rest is parsed as usual.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from dp_lint.core.deep_stack import interpreter_limit

# Above this bracket depth the scan hands the file to Python (CPython's limit is 200).
SCANNED_BRACKET_DEPTH = 100
# A logical line with more code characters (strings and comments not counted) than this is
# looked at closer: a chain of operators deeper than MAX_ANALYSED_DEPTH needs at least that
# many. It is compiled when it has more than SCANNED_CHAIN_LINKS operators, attribute dots,
# calls, subscripts and chaining keywords (a long flat table of numbers or names has few).
SCANNED_LINE_LENGTH = 800
SCANNED_CHAIN_LINKS = 800
# The deepest syntax tree (in Python AST levels) dp-lint analyses. Deeper files are valid
# Python that no hand-written code reaches; libcst needs seconds and hundreds of megabytes
# per thousand levels on them.
MAX_ANALYSED_DEPTH = 1000

# Strings (with any prefix; triple-quoted first), comments, brackets and line ends: the
# only characters the scan needs. An unterminated quote matches nothing and is skipped.
_STRING = (r"""[rRbBuUfF]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""")
_COMMENT = r"\#[^\n]*"
_TOKENS = re.compile(rf"(?P<string>{_STRING})|{_COMMENT}|(?P<open>[(\[{{])|(?P<close>[)\]}}])|(?P<newline>\n)")
_NOT_CODE = re.compile(rf"{_STRING}|{_COMMENT}")


@dataclass(frozen=True)
class Scan:
    bracket_depth: int  # deepest bracket nesting outside strings (f-strings' brackets counted)
    chain_links: int  # most chain links (see `chain_links`) in one long logical line

    @property
    def suspicious(self) -> bool:
        return self.bracket_depth > SCANNED_BRACKET_DEPTH or self.chain_links > SCANNED_CHAIN_LINKS


# Numbers go first so that their dots and exponent signs are no links.
_NUMBER = re.compile(r"(?<![\w.])(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?")
_LINK_CHARACTERS = ".+-*/%@&|^~(["
_LINK_WORDS = (" if ", "not ", " and ", " or ", "lambda", "await ")


def chain_links(code: str) -> int:
    """An upper bound of how deep a chain in `code` can be: its operators, attribute dots,
    calls, subscripts and the keywords of `not`, `and`/`or`, `x if c else y` and lambdas."""
    code = _NUMBER.sub("0", _NOT_CODE.sub("0", code))
    return sum(code.count(c) for c in _LINK_CHARACTERS) + sum(code.count(w) for w in _LINK_WORDS)


def scan(text: str) -> Scan:
    """Bracket depth and the chain links of the longest logical lines, without tokenizing."""
    if len(text) <= SCANNED_LINE_LENGTH:
        return Scan(0, 0)  # neither threshold can be passed
    depth = deepest = 0
    line_start = 0
    skipped = 0  # characters of strings and comments in the current logical line
    links = 0
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "newline":
            if depth == 0:
                if match.start() - line_start - skipped > SCANNED_LINE_LENGTH:
                    links = max(links, chain_links(text[line_start:match.start()]))
                line_start, skipped = match.end(), 0
        elif kind == "string":
            token = match.group()
            prefix = token[: len(token) - len(token.lstrip("rRbBuUfF"))]
            if "f" in prefix or "F" in prefix:
                # Replacement fields hold code: count their brackets, as if all were nested.
                deepest = max(deepest, depth + token.count("(") + token.count("[") + token.count("{"))
            else:
                skipped += len(token)
        else:  # a comment
            skipped += match.end() - match.start()
    if len(text) - line_start - skipped > SCANNED_LINE_LENGTH:
        links = max(links, chain_links(text[line_start:]))
    return Scan(deepest, links)


@dataclass(frozen=True)
class Verdict:
    """What Python says of a suspicious file: a syntax error (message and position), or its depth."""

    message: str | None = None
    row: int = 1
    column: int = 1
    depth: int = 0

    @property
    def rejected(self) -> bool:
        return self.message is not None


def python_verdict(text: str, filename: str) -> Verdict:
    """Compile `text` as `python` does (`ast.parse`, at the interpreter's own recursion
    limit); its depth when Python accepts it."""
    try:
        with interpreter_limit():
            tree = compile(text, filename, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return Verdict(f"syntax error: {error.msg}", error.lineno or 1, error.offset or 1)
    except (RecursionError, MemoryError):
        # CPython's parser gives up on chains of about 3,000 levels (RecursionError, or
        # MemoryError for nested lambdas): `python` cannot run the file either.
        return Verdict("syntax error: too deeply nested for Python to parse")
    except ValueError as error:  # source text Python refuses outright (NUL bytes)
        return Verdict(f"syntax error: {error}")
    return Verdict(depth=tree_depth(tree))


def tree_depth(tree: ast.AST) -> int:
    """Levels of `tree`, counted without recursion (the tree may be thousands deep)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest
