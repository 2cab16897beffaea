"""Clinical notes -> structured diagnosis XML: data loading, schema check, scoring.

The XML lesson asks a small adapter to turn a free-text note into one line of
XML that must pass data/clinical/diagnosis.xsd. Model output is untrusted text,
so validate_xml parses it with a hardened parser and never raises.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from .config import DATA_DIR
# One DataError for the whole project: a malformed data file, naming file, line and fix.
from .world import DataError

SCHEMA_PATH = DATA_DIR / "clinical" / "diagnosis.xsd"
NOTES_PATH = DATA_DIR / "clinical" / "notes.jsonl"

SPLITS = ("train", "test", "unseen_style")
FIELDS = ("age", "sex", "condition", "severity")
NOTE_KEYS = ("id", "split", "style", "note", "expected")

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


def _expected(obj: object, where: str) -> Diagnosis:
    """Build the gold Diagnosis and insist it is exactly what the schema allows."""
    if not isinstance(obj, dict):
        raise DataError(f"{where}: 'expected' must be an object like "
                        '{"age": 54, "sex": "female", "condition": "gout", "severity": "moderate"}')
    allowed = set(FIELDS) | {"drug", "max_daily_dose_mg"}
    missing = [k for k in FIELDS if k not in obj]
    unknown = sorted(set(obj) - allowed)
    if missing or unknown:
        raise DataError(f"{where}: 'expected' is missing {missing} / has unknown keys {unknown}; "
                        f"use exactly {list(FIELDS)} (+ optional drug, max_daily_dose_mg)")
    for key in ("age", "max_daily_dose_mg"):
        value = obj.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise DataError(f"{where}: expected.{key} must be a JSON integer, got {value!r}")
    for key in ("sex", "condition", "severity", "drug"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise DataError(f"{where}: expected.{key} must be a string, got {value!r}")
    d = Diagnosis(**obj)
    try:
        xml = to_xml(d)
    except ValueError as e:
        raise DataError(f"{where}: expected: {e}") from None
    verdict = validate_xml(xml)
    # The round trip also catches values the schema accepts but normalises (e.g. " gout").
    if not verdict.valid or verdict.diagnosis != d:
        raise DataError(f"{where}: expected is not valid against {SCHEMA_PATH.name}: "
                        f"{verdict.reason}; fix the value")
    return d


def load_notes(path: str | Path = NOTES_PATH) -> list[Note]:
    """Read notes.jsonl; any problem is a DataError saying file, line and what to fix."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found (regenerate with data/clinical/make_notes.py)") from None
    notes: list[Note] = []
    first_line: dict[str, int] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue  # tolerate blank lines, e.g. a trailing one
        where = f"{path}, line {n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}: bad JSON ({e.msg} at column {e.colno}); "
                            "each line must be one complete JSON object") from None
        if not isinstance(obj, dict):
            raise DataError(f"{where}: each line must be a JSON object, got {type(obj).__name__}")
        missing = [k for k in NOTE_KEYS if k not in obj]
        if missing:
            raise DataError(f"{where}: missing key(s) {missing}; every line needs {list(NOTE_KEYS)}")
        for key in ("id", "split", "style", "note"):
            if not isinstance(obj[key], str) or not obj[key].strip():
                raise DataError(f"{where}: '{key}' must be a non-empty string")
        if obj["split"] not in SPLITS:
            raise DataError(f"{where}: unknown split {obj['split']!r}; use one of {list(SPLITS)}")
        if obj["id"] in first_line:
            raise DataError(f"{where}: duplicate id {obj['id']!r} (first used on line "
                            f"{first_line[obj['id']]}); give each note its own id")
        first_line[obj["id"]] = n
        notes.append(Note(id=obj["id"], split=obj["split"], style=obj["style"],
                          text=obj["note"], expected=_expected(obj["expected"], where)))
    if not notes:
        raise DataError(f"{path}: no notes found")
    return notes


def _norm(value: object) -> object:
    # Free-text fields: "Hay  Fever" and "hay fever" name the same condition.
    return " ".join(value.split()).lower() if isinstance(value, str) else value


def field_accuracy(pred: Diagnosis | None, expected: Diagnosis, fields=FIELDS) -> float:
    """Share of `fields` the prediction got right; no (valid) prediction scores 0."""
    if not fields:
        raise ValueError("fields must name at least one field")
    if pred is None:
        return 0.0

    def same(field: str) -> bool:
        a, b = getattr(pred, field), getattr(expected, field)
        return _norm(a) == _norm(b) if field in ("condition", "drug") else a == b

    return sum(same(f) for f in fields) / len(fields)


# --- scoring a model's answers ---------------------------------------------------

@dataclass(frozen=True)
class Scored:
    note: Note
    answer: str
    verdict: Verdict
    fields: float  # share of FIELDS right; 0 when the answer is not schema-valid


def score_answers(notes: list[Note], answers: list[str]) -> list[Scored]:
    """Validate each answer and compare it with its note's expected diagnosis."""
    if len(notes) != len(answers):
        raise ValueError(f"{len(notes)} notes but {len(answers)} answers: give one answer a note")
    scored = []
    for note, answer in zip(notes, answers):
        verdict = validate_xml(answer)
        scored.append(Scored(note, answer, verdict, field_accuracy(verdict.diagnosis, note.expected)))
    return scored


def summarize(scored: list[Scored]) -> dict[str, float]:
    """Share of schema-valid answers, mean field accuracy (invalid answers count 0), and the share
    right of each field."""
    if not scored:
        raise ValueError("nothing to summarize: no scored answers")
    n = len(scored)
    summary = {"valid": sum(s.verdict.valid for s in scored) / n,
               "fields": sum(s.fields for s in scored) / n}
    for f in FIELDS:
        summary[f] = sum(field_accuracy(s.verdict.diagnosis, s.note.expected, (f,)) for s in scored) / n
    return summary
