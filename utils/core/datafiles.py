"""Reading the data files a learner edits: one error type, text with or without a byte-order mark,
JSON mistakes explained at the line where they are, with the fix, and the checks every CSV table needs.

Spreadsheets and Windows editors save "UTF-8" with a byte-order mark; Python's json module reports
a trailing comma at the bracket on the next line and a missing comma at the start of the next item.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn


class DataError(ValueError):
    """A problem in a data file or folder, naming the file, the line and how to fix it."""


def fail(path: Path, where: str, problem: str) -> NoReturn:
    """Raise the DataError for `problem` at `where` in `path` ("line 3", "line 3, field 'x'", "file")."""
    raise DataError(f"{path}, {where}: {problem}")


def read_text(path: Path) -> str:
    """A UTF-8 text file, without its byte-order mark if it has one."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        fail(path, f"byte {e.start}", "not UTF-8 text; save it as UTF-8")


def csv_records(path: Path, columns: Sequence[str], row: str, *, field_in_place: bool = False
                ) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, record) for each row of the CSV table at `path`, the record column -> text without
    surrounding spaces, once the checks every table needs pass: the header has exactly `columns` (in
    any order, as a spreadsheet may move them), each row as many fields and none empty, and at least
    one row (`row`: what a row is, e.g. "drug"). Blank lines are skipped. An empty field is reported
    at "line N" naming the field, or with `field_in_place` at "line N, field 'x'", as the caller's
    own checks place their problems."""
    last = 1  # line where the last good row ended; a broken quote starts right after it
    try:
        # newline="": the csv module finds the line breaks itself, also inside quoted fields.
        reader = csv.reader(io.StringIO(read_text(path), newline=""), strict=True)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in columns if c not in header]
        extra = [h for h in header if h not in columns]
        if missing or extra or len(set(header)) != len(header):
            fail(path, "line 1", f"header must have exactly the columns {','.join(columns)}"
                 f" (missing: {missing or 'none'}, unexpected or repeated: "
                 f"{extra or [h for h in header if header.count(h) > 1] or 'none'})")
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, e.g. at the end of the file
            if len(cells) != len(header):
                fail(path, f"line {line}", f"expected {len(header)} comma-separated fields, "
                     f"found {len(cells)}; quote values that contain commas")
            record = {h: cell.strip() for h, cell in zip(header, cells)}
            for column in columns:
                if not record[column]:
                    if field_in_place:
                        fail(path, f"line {line}, field {column!r}", "empty; fill it in")
                    fail(path, f"line {line}", f"empty field {column!r}; fill it in")
            yield line, record
            last = line
    except csv.Error as e:
        fail(path, f"line {last + 1}", f"malformed CSV ({e}); check the quotes")
    if last == 1:  # no row was read
        fail(path, "line 2", f"no {row}s found; add one row per {row} below the header")


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
