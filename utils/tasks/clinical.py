"""Clinical notes -> structured diagnosis XML: the notes, the XML form and its schema check.

The XML lesson asks a small adapter to turn a free-text note into one line of
XML that must pass data/clinical/diagnosis.xsd. Model output is untrusted text,
so validate_xml parses it with a hardened parser and never raises. Scoring a
diagnosis against the note's expected one is in utils/tasks/scoring.py.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from utils.core.config import DATA_DIR, data_dir, own_data
from utils.core.datafiles import DataError, json_problem, read_text  # one DataError for the project: file, line, fix

# The target format is part of the code (Diagnosis, validate_xml), so it is always the bundled one;
# the notes come from the data folder (FTRAG_DATA).
SCHEMA_PATH = DATA_DIR / "clinical" / "diagnosis.xsd"
NOTES_FILE = Path("clinical") / "notes.jsonl"
# A file of many bad lines (e.g. the wrong file) lists this many and counts the rest.
MAX_REPORTED_LINES = 20

SPLITS = ("train", "test", "unseen_style")
FIELDS = ("age", "sex", "condition", "severity")
NOTE_KEYS = ("id", "split", "style", "note", "expected")
# What diagnosis.xsd allows, in words, for error messages (tests check the two agree).
ALLOWED = {"age": "a whole number from 0 to 120", "sex": '"female" or "male"',
           "condition": 'lower-case words separated by single spaces or hyphens, e.g. "hay fever"',
           "severity": '"mild", "moderate" or "severe"', "drug": "a name with no blanks at either end",
           "max_daily_dose_mg": "a whole number above 0"}

# A real answer is ~150 characters; refusing long input bounds parse time.
MAX_XML_CHARS = 10_000


@dataclass(frozen=True)
class Diagnosis:
    age: int
    sex: str
    condition: str
    severity: str
    drug: str | None = None
    max_daily_dose_mg: int | None = None


@dataclass(frozen=True)
class Note:
    id: str
    split: str
    style: str
    text: str
    expected: Diagnosis


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str
    diagnosis: Diagnosis | None


def to_xml(d: Diagnosis) -> str:
    """One compact line in schema order; <treatment> only when a drug is set."""
    if (d.drug is None) != (d.max_daily_dose_mg is None):
        raise ValueError("drug and max_daily_dose_mg must be given together")
    parts = [f"<age>{d.age}</age>", f"<sex>{escape(d.sex)}</sex>",
             f"<condition>{escape(d.condition)}</condition>",
             f"<severity>{escape(d.severity)}</severity>"]
    if d.drug is not None:
        parts.append(f"<treatment><drug>{escape(d.drug)}</drug>"
                     f"<max_daily_dose_mg>{d.max_daily_dose_mg}</max_daily_dose_mg></treatment>")
    return "<diagnosis>" + "".join(parts) + "</diagnosis>"


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    # Our own trusted file, compiled once and reused for every model answer.
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _parser() -> etree.XMLParser:
    # Hardened: no entity substitution, no DTD loading, no network, no huge
    # trees; the encoding is fixed because we always feed UTF-8 bytes.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False,
                           remove_comments=True, remove_pis=True, encoding="utf-8")


def validate_xml(text: str) -> Verdict:
    """Check a model's answer: it must be the <diagnosis> XML alone, valid by the schema."""
    if not isinstance(text, str):
        return Verdict(False, f"not XML: expected a string, got {type(text).__name__}", None)
    text = text.strip()
    if not text:
        return Verdict(False, "not XML: the answer is empty", None)
    if len(text) > MAX_XML_CHARS:
        return Verdict(False, f"not XML: answer longer than {MAX_XML_CHARS} characters", None)
    # A DOCTYPE is how entity bombs and external-entity (XXE) reads get in;
    # a diagnosis never needs one, so refuse before the parser sees it.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return Verdict(False, "DOCTYPE not allowed: the answer must not declare a DTD or entities", None)
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as e:
        # We do not fish the XML out of surrounding chatter: the format is part of the task.
        alone = text.startswith("<") and text.endswith(">") and "Extra content" not in e.msg
        hint = "" if alone else " (the answer must be the XML alone, no text before or after it)"
        return Verdict(False, f"not XML: {e.msg}{hint}", None)
    if root.getroottree().docinfo.doctype:  # belt and braces
        return Verdict(False, "DOCTYPE not allowed", None)
    schema = _schema()
    if not schema.validate(root):
        return Verdict(False, f"schema: {schema.error_log[0].message}", None)

    def get(tag: str) -> str:
        return root.findtext(tag).strip()

    treatment = root.find("treatment")
    d = Diagnosis(age=int(get("age")), sex=get("sex"), condition=get("condition"),
                  severity=get("severity"),
                  drug=None if treatment is None else get("treatment/drug"),
                  max_daily_dose_mg=None if treatment is None
                  else int(get("treatment/max_daily_dose_mg")))
    return Verdict(True, "ok", d)


def _expected(obj: object) -> Diagnosis:
    """Build the gold Diagnosis and insist it is exactly what the schema allows."""
    if not isinstance(obj, dict):
        raise DataError("'expected' must be an object like "
                        '{"age": 54, "sex": "female", "condition": "gout", "severity": "moderate"}')
    allowed = set(FIELDS) | {"drug", "max_daily_dose_mg"}
    missing = [k for k in FIELDS if k not in obj]
    unknown = sorted(set(obj) - allowed)
    if missing or unknown:
        raise DataError(f"'expected' is missing {missing} / has unknown keys {unknown}; "
                        f"use exactly {list(FIELDS)} (+ optional drug, max_daily_dose_mg)")
    for key in ("age", "max_daily_dose_mg"):
        value = obj.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise DataError(f"expected.{key} must be a JSON integer, got {value!r}")
    for key in ("sex", "condition", "severity", "drug"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise DataError(f"expected.{key} must be a string, got {value!r}")
    d = Diagnosis(**obj)
    try:
        xml = to_xml(d)
    except ValueError as e:
        raise DataError(f"expected: {e}") from None
    verdict = validate_xml(xml)
    # The round trip also catches values the schema accepts but normalises (e.g. " gout").
    if not verdict.valid or verdict.diagnosis != d:
        named = re.search(r"Element '(\w+)'", verdict.reason)
        field = named[1] if named else next(f for f in ALLOWED if getattr(verdict.diagnosis, f) != getattr(d, f))
        raise DataError(f"expected.{field} is {obj[field]!r}; it must be {ALLOWED[field]} "
                        f"({SCHEMA_PATH.name})")
    return d


def _missing_notes(path: Path, default: bool) -> DataError:
    if default and own_data():
        return DataError(f"{path}: not found; the data folder FTRAG_DATA names has no {NOTES_FILE.as_posix()}: "
                         f"copy the repository's data/clinical/ into it")
    if default:
        return DataError(f"{path}: not found; restore it from git, or rebuild it with "
                         f"python data/clinical/make_notes.py")
    if not path.parent.is_dir():
        return DataError(f"{path}: not found; there is no folder {path.parent} (a typo in the path?)")
    return DataError(f"{path}: not found; check the file name (found here: "
                     f"{', '.join(sorted(p.name for p in path.parent.glob('*.jsonl'))) or 'no .jsonl files'})")


def _spread_over_lines(text: str) -> list[tuple[int, int]]:
    """When the file holds JSON values that span several lines each (a pretty-printed object, or one
    array of notes), the (first, last) line of each; [] when it is not JSON written that way."""
    decoder, spans, pos = json.JSONDecoder(), [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return spans if any(a != b for a, b in spans) else []
        try:
            _, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return []
        spans.append((text.count("\n", 0, pos) + 1, text.count("\n", 0, end) + 1))
        pos = end


def _note(obj: object, seen: dict[str, int], n: int) -> Note:
    """One parsed line as a Note, or a DataError saying what is wrong with it."""
    if not isinstance(obj, dict):
        raise DataError(f"each line must be a JSON object {{...}}, got {type(obj).__name__}")
    missing = [k for k in NOTE_KEYS if k not in obj]
    if missing:
        raise DataError(f"missing key(s) {missing}; every line needs {list(NOTE_KEYS)}")
    unknown = sorted(set(obj) - set(NOTE_KEYS))
    if unknown:
        raise DataError(f"unknown key(s) {unknown}; a line has exactly {list(NOTE_KEYS)}")
    for key in ("id", "split", "style", "note"):
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise DataError(f"'{key}' must be a non-empty string")
    if obj["split"] not in SPLITS:
        raise DataError(f"unknown split {obj['split']!r}; use one of {list(SPLITS)}")
    if obj["id"] in seen:
        raise DataError(f"duplicate id {obj['id']!r} (first used on line {seen[obj['id']]}); "
                        f"give each note its own id")
    seen[obj["id"]] = n
    return Note(id=obj["id"], split=obj["split"], style=obj["style"], text=obj["note"],
                expected=_expected(obj["expected"]))


def load_notes(path: str | Path | None = None) -> list[Note]:
    """Read a notes file: one JSON object a line (JSON Lines), each checked against the schema.

    path: by default clinical/notes.jsonl in the data folder (FTRAG_DATA, else the bundled data/).
    Every bad line is reported at once, in one DataError naming the file, each line and its fix.
    """
    default = path is None
    path = data_dir() / NOTES_FILE if default else Path(path)
    if path.is_dir():
        raise DataError(f"{path}: a folder; give the notes file itself (a .jsonl file)")
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise _missing_notes(path, default) from None
    notes, problems, seen = [], [], {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # tolerate blank lines, e.g. a trailing one
        try:
            notes.append(_note(json.loads(line), seen, n))
        except json.JSONDecodeError as e:
            _, column, problem = json_problem(line, e, ends="the line ends before the object does; each "
                                              "note must be one whole JSON object on a single line")
            problems.append(f"line {n}, column {column}: {problem}")
        except DataError as e:
            problems.append(f"line {n}: {e}")
    if problems:
        spans = _spread_over_lines(text)
        if spans:
            shown = ", ".join(f"{a}-{b}" for a, b in spans[:5]) + (", ..." if len(spans) > 5 else "")
            raise DataError(f"{path}: JSON spread over several lines (lines {shown}); a notes file holds one "
                            f"note a line, each a whole JSON object (json.dumps(note) writes one)")
        more = len(problems) - MAX_REPORTED_LINES
        raise DataError(f"{path}: {len(problems)} bad line{'s' * (len(problems) > 1)}; fix each:\n  "
                        + "\n  ".join(problems[:MAX_REPORTED_LINES]) + (f"\n  ... and {more} more" if more > 0 else ""))
    if not notes:
        raise DataError(f"{path}: no notes found; write one JSON object a line")
    return notes
