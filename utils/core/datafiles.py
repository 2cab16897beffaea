"""Reading the data files a learner edits: one error type, text with or without a byte-order mark,
and JSON mistakes explained at the line where they are, with the fix.

Spreadsheets and Windows editors save "UTF-8" with a byte-order mark; Python's json module reports
a trailing comma at the bracket on the next line and a missing comma at the start of the next item.
"""
from __future__ import annotations

import json
import re
from pathlib import Path


class DataError(ValueError):
    """A problem in a data file or folder, naming the file, the line and how to fix it."""


def read_text(path: Path) -> str:
    """A UTF-8 text file, without its byte-order mark if it has one."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}, byte {e.start}: not UTF-8 text; save it as UTF-8") from None


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _before(text: str, pos: int) -> int:
    """The position of the last non-blank character before `pos` (-1 if none)."""
    pos -= 1
    while pos >= 0 and text[pos].isspace():
        pos -= 1
    return pos


def json_problem(text: str, err: json.JSONDecodeError, ends: str = "the file ends too early; a closing } "
                 "or ] is missing") -> tuple[int, int, str]:
    """(line, column, what is wrong and the fix), at the mistake itself: a trailing comma is reported
    at the comma, a missing comma after the item that lacks it. `ends`: the problem when the text
    stops in the middle of a value."""
    pos, here = err.pos, text[err.pos:err.pos + 1]
    prev = _before(text, pos)
    if err.msg.startswith("Illegal trailing comma"):  # Python 3.13 names it, at the comma itself
        problem = "a comma after the last item; remove it (JSON allows no trailing comma)"
    elif here and here in "}]" and prev >= 0 and text[prev] == ",":
        problem, pos = "a comma after the last item; remove it (JSON allows no trailing comma)", prev
    elif pos >= len(text.rstrip()):
        problem = ends
    elif err.msg == "Expecting ',' delimiter" and prev >= 0:
        problem, pos = "a comma is missing after this item; add one", prev + 1
    elif here == "'":
        problem = "a single quote; JSON strings and keys take double quotes (\"...\")"
    elif err.msg.startswith("Invalid control character"):
        problem = "a line break or tab inside a string; keep the string on one line (write \\n for a line break)"
    elif err.msg.startswith("Unterminated string"):
        problem = "a string that is never closed; add the missing \" at its end"
    elif err.msg == "Extra data":
        problem = "more text after the end of the JSON; remove it, or a } or ] closes too early"
    else:
        problem = f"invalid JSON ({err.msg})"
    return (*_line_col(text, pos), problem)


def without_heading(text: str) -> str:
    """A document without the markdown heading on its first line, stripped: the passage a reader
    is shown (the body names its subject anyway, and every prompt token is paid for on every call)."""
    return re.sub(r"\A#[^\n]*(\n+|\Z)", "", text).strip()
