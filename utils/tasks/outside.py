"""The outside sets (issue 36): clinical notes and documents written by hand, in styles unlike every
generator of the project, to test whether a behaviour generalises to inputs nobody here wrote its
training data for. data/outside/README.md says how they were written, how a condition is named and
how answers are scored.

- notes (notes_<set>.jsonl): a note in real clinical shorthand, its expected diagnosis, and `accept`,
  the other condition names the note supports (lenient scoring). Each is a clinical.Note, so the XML
  lesson's evaluation and scoring take them as they are.
- documents (documents_<set>/, questions_<set>.json): short files from other domains than drug
  leaflets, and questions with the expected short answer (a span of the file), other accepted answers
  and the file that answers them; UNKNOWN and no file when no document does.

Each comes as a SEALED "test" set, never used to train or to choose anything, and a "dev" set to choose
recipes on. tests/test_outside_sets.py keeps both apart from every training text of the project and
from each other. A malformed row is a DataError naming the file, the line or question, the field and
the fix.
"""
from __future__ import annotations

import difflib
import json
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from utils.core.config import DATA_DIR
from utils.core.datafiles import DataError, json_problem, read_text
from utils.tasks.ask import MIN_CONFIDENCE, Documents, Reply, read_folder

# _expected is clinical's check of a gold diagnosis against the schema, with its messages.
from utils.tasks.clinical import ALLOWED, Diagnosis, Note, _expected, to_xml, validate_xml
from utils.tasks.scoring import is_unknown_answer
from utils.tasks.world import UNKNOWN

# The sets are the course's own test, so they are always the bundled ones (not the FTRAG_DATA folder).
OUTSIDE_DIR = DATA_DIR / "outside"
SETS = ("test", "dev")
NOTE_KEYS = ("id", "note", "expected", "accept")
QUESTION_KEYS = ("id", "question", "form", "answer", "accept", "file")
NEAR = "near"  # an unanswerable question's document on the same topic, or null when off-topic
NOTES_STYLE = "outside"  # the style of every outside note: written by other hands than the generator's
FORMS = ("who", "what", "when", "where", "which", "how many", "how much", "how long", "what percentage", "how")


@dataclass(frozen=True)
class OutsideNote(Note):
    accept: tuple[str, ...] = ()  # other condition names the note supports, for lenient scoring


@dataclass(frozen=True)
class OutsideQuestion:
    id: str
    text: str
    form: str  # one of FORMS
    answer: str  # a span of `file`; UNKNOWN when no document answers the question
    accept: tuple[str, ...]  # other right answers, for lenient scoring
    file: str | None  # the document that answers it; None when none does
    near: str | None = None  # unanswerable only: the document on its topic (the hard case); None: off-topic


@dataclass(frozen=True)
class DocumentSet:
    documents: dict[str, str]  # file name -> text, as ask.read_folder reads a folder
    questions: list[OutsideQuestion]


def _base(which: str, folder: str | Path | None) -> Path:
    if which not in SETS:
        raise ValueError(f"unknown outside set {which!r}; the sets are {', '.join(SETS)}")
    return OUTSIDE_DIR if folder is None else Path(folder)


def _read(path: Path) -> str:
    try:
        return read_text(path)
    except FileNotFoundError:
        raise DataError(f"{path}: not found; restore it from git (data/outside/ in the repository)") from None


def _words(text: str) -> str:
    """Lower-case words and numbers ("2.40", "1,150" stay whole), single spaces, padded: `in` compares
    whole words, so a span of a document is found whatever its punctuation."""
    return f" {' '.join(re.findall(r'[a-z0-9]+(?:[.,:][0-9]+)*', text.lower()))} "


def _string_list(value: object, field: str) -> tuple[str, ...]:
    """A JSON list of distinct non-empty strings, as a tuple."""
    if not isinstance(value, list):
        raise DataError(f"{field} must be a list of strings ([] when there is none), got {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise DataError(f"{field}[{i}] must be a non-empty string, got {item!r}")
        if item in value[:i]:
            raise DataError(f"{field}[{i}] {item!r} is listed twice; remove one")
    return tuple(value)


def _schema_valid(d: Diagnosis) -> bool:
    verdict = validate_xml(to_xml(d))
    return verdict.valid and verdict.diagnosis == d


def _note(obj: object, which: str, seen: set[str]) -> OutsideNote:
    if not isinstance(obj, dict):
        raise DataError(f"each line must be a JSON object {{...}} with keys {list(NOTE_KEYS)}, "
                        f"got {type(obj).__name__}")
    missing, unknown = [k for k in NOTE_KEYS if k not in obj], sorted(set(obj) - set(NOTE_KEYS))
    if missing or unknown:
        raise DataError(f"missing key(s) {missing} / unknown key(s) {unknown}; a line has exactly {list(NOTE_KEYS)}")
    for key in ("id", "note"):
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise DataError(f"'{key}' must be a non-empty string")
    if obj["id"] in seen:
        raise DataError(f"duplicate id {obj['id']!r}; give each note its own id")
    seen.add(obj["id"])
    expected = _expected(obj["expected"])
    accept = _string_list(obj["accept"], "accept")
    for i, name in enumerate(accept):
        if name == expected.condition:
            raise DataError(f"accept[{i}] {name!r} is expected.condition itself; list only other names")
        if not _schema_valid(replace(expected, condition=name)):
            raise DataError(f"accept[{i}] is {name!r}; a condition name must be {ALLOWED['condition']} "
                            f"(digits as words: data/outside/README.md)")
    return OutsideNote(id=obj["id"], split=f"outside {which}", style=NOTES_STYLE, text=obj["note"],
                       expected=expected, accept=accept)


def load_outside_notes(which: str, folder: str | Path | None = None) -> list[OutsideNote]:
    """The notes of the outside set `which` ("test": sealed; "dev"), each checked: its expected diagnosis
    against data/clinical/diagnosis.xsd, and each accepted name against the schema's condition pattern.
    Every bad line is reported at once, in one DataError naming the file, the line, the id and the fix.
    folder: the folder holding notes_<which>.jsonl (by default the bundled data/outside/)."""
    path = _base(which, folder) / f"notes_{which}.jsonl"
    text = _read(path)
    notes, problems, seen = [], [], set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            _, column, problem = json_problem(line, e, ends="the line ends before the object does; each "
                                              "note is one whole JSON object on a single line")
            problems.append(f"line {n}, column {column}: {problem}")
            continue
        try:
            notes.append(_note(obj, which, seen))
        except DataError as e:
            named = f" (id {obj['id']!r})" if isinstance(obj, dict) and isinstance(obj.get("id"), str) else ""
            problems.append(f"line {n}{named}: {e}")
    return _every_one_read(path, notes, problems, "line", "no notes found; write one JSON object a line")


def _every_one_read(path: Path, items: list, problems: list[str], unit: str, if_empty: str) -> list:
    """`items`, read from `path` without a problem; otherwise one DataError listing every bad `unit`
    (line, question) with its fix, or saying what to write when the file holds none."""
    if problems:
        raise DataError(f"{path}: {len(problems)} bad {unit}{'s' * (len(problems) > 1)}; fix each:\n  "
                        + "\n  ".join(problems))
    if not items:
        raise DataError(f"{path}: {if_empty}")
    return items


def _file(name: object, documents: dict[str, str], field: str) -> str:
    if not isinstance(name, str) or name not in documents:
        near = difflib.get_close_matches(str(name), documents, n=1)
        raise DataError(f"{field} {name!r} is not a document of the set"
                        + (f"; did you mean {near[0]!r}?" if near else f" (they are: {', '.join(documents)})"))
    return name


def _question(obj: object, documents: dict[str, str], seen: set[str]) -> OutsideQuestion:
    if not isinstance(obj, dict):
        raise DataError(f"a question must be a JSON object with keys {list(QUESTION_KEYS)}, got {type(obj).__name__}")
    missing, unknown = [k for k in QUESTION_KEYS if k not in obj], sorted(set(obj) - {*QUESTION_KEYS, NEAR})
    if missing or unknown:
        raise DataError(f"missing key(s) {missing} / unknown key(s) {unknown}; a question has {list(QUESTION_KEYS)}, "
                        f"and '{NEAR}' when its answer is {UNKNOWN!r}")
    for key in ("id", "question", "form", "answer"):
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise DataError(f"'{key}' must be a non-empty string")
    if obj["id"] in seen:
        raise DataError(f"duplicate id {obj['id']!r}; give each question its own id")
    seen.add(obj["id"])
    if obj["form"] not in FORMS:
        raise DataError(f"form {obj['form']!r} is not one of {list(FORMS)}; choose the nearest")
    accept = _string_list(obj["accept"], "accept")
    if obj["answer"] == UNKNOWN:
        if obj["file"] is not None or accept:
            raise DataError(f"the answer is {UNKNOWN!r} but file is {obj['file']!r} / accept is {list(accept)}; "
                            f"a question no document answers has file null and accept []")
        if NEAR not in obj:
            raise DataError(f"'{NEAR}' is missing: name the document on the question's topic, or null when off-topic")
        near = None if obj[NEAR] is None else _file(obj[NEAR], documents, NEAR)
        return OutsideQuestion(obj["id"], obj["question"], obj["form"], UNKNOWN, (), None, near)
    if obj["file"] is None:
        raise DataError(f"file is null but the answer is {obj['answer']!r}; name the file that answers it, "
                        f"or make the answer {UNKNOWN!r}")
    if NEAR in obj:
        raise DataError(f"'{NEAR}' is only for questions no document answers; remove it")
    file = _file(obj["file"], documents, "file")
    if _words(obj["answer"]) not in _words(documents[file]):
        raise DataError(f"the answer {obj['answer']!r} is not in {file}; write it as the document words it "
                        f"(a span of the text) and other wordings in accept")
    if obj["answer"] in accept:
        raise DataError(f"accept repeats the answer {obj['answer']!r}; list only other wordings")
    return OutsideQuestion(obj["id"], obj["question"], obj["form"], obj["answer"], accept, file)


def load_document_set(which: str, folder: str | Path | None = None) -> DocumentSet:
    """The documents and questions of the outside set `which` ("test": sealed; "dev"), every question
    checked: its form, that a question no document answers has UNKNOWN and no file, that any other names
    a document of the set whose text holds the answer. Every bad question is reported at once, in one
    DataError naming the file, the question (its line) and the fix.
    folder: the folder holding documents_<which>/ and questions_<which>.json (by default data/outside/)."""
    base = _base(which, folder)
    documents = read_folder(base / f"documents_{which}")
    path = base / f"questions_{which}.json"
    raw = _read(path)
    try:
        spec = json.loads(raw)
    except json.JSONDecodeError as e:
        line, column, problem = json_problem(raw, e)
        raise DataError(f"{path}, line {line}, column {column}: {problem}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("questions"), list) or set(spec) - {"about", "questions"}:
        raise DataError(f'{path}: expected an object {{"about": [...], "questions": [...]}} (a list of questions, '
                        f"and an optional note on how they were written)")
    questions, problems, seen = [], [], set()
    for i, obj in enumerate(spec["questions"]):
        try:
            questions.append(_question(obj, documents, seen))
        except DataError as e:
            problems.append(f"{_where(raw, spec['questions'], i)}: {e}")
    return DocumentSet(documents, _every_one_read(path, questions, problems, "question",
                                                  'no questions found; add them to the list "questions"'))


def _where(raw: str, questions: list, i: int) -> str:
    """questions[i], with its line and id when the id can be found in the file's text."""
    obj = questions[i]
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        found = list(re.finditer(r'"id"\s*:\s*' + re.escape(json.dumps(obj["id"])), raw))
        earlier = sum(isinstance(q, dict) and q.get("id") == obj["id"] for q in questions[:i])  # a duplicate id
        if earlier < len(found):
            line = raw.count("\n", 0, found[earlier].start()) + 1
            return f"line {line} (questions[{i}], id {obj['id']!r})"
    return f"questions[{i}]"


# ---------------------------------------------------------------- asking and scoring the documents

def normalized(text: str) -> str:
    """data/outside/README.md's normal form: lower case, runs of blanks as one space, blanks and
    punctuation at either end dropped."""
    text = " ".join(text.lower().split())
    while text and (text[0].isspace() or unicodedata.category(text[0]).startswith("P")):
        text = text[1:]
    while text and (text[-1].isspace() or unicodedata.category(text[-1]).startswith("P")):
        text = text[:-1]
    return text


def reply_right(question: OutsideQuestion, reply: str, lenient: bool = False) -> bool:
    """Is `reply` right (data/outside/README.md, Scoring)? An unanswerable question: when it abstains.
    An answerable one: when it equals the answer (lenient: or an accepted wording); refusing it is a miss."""
    if question.answer == UNKNOWN:
        return is_unknown_answer(reply)
    right = (question.answer, *question.accept) if lenient else (question.answer,)
    return not is_unknown_answer(reply) and normalized(reply) in {normalized(a) for a in right}


def calibration_folds(found: DocumentSet) -> list[list[OutsideQuestion]]:
    """The questions in two folds, by document (the documents in turn; an off-topic question in turn with
    the other off-topic ones): each fold is asked with the threshold calibrated on the other, so that
    no question chooses the threshold it is scored with, as a user calibrates on a few questions of
    their own before asking."""
    fold_of = {name: i % 2 for i, name in enumerate(found.documents)}
    folds: list[list[OutsideQuestion]] = [[], []]
    off_topic = 0
    for q in found.questions:
        document = q.file or q.near
        if document is None:
            off_topic += 1
        folds[fold_of[document] if document else off_topic % 2].append(q)
    return folds


def ask_document_set(model, tokenizer, which: str, shots=(), folder: str | Path | None = None,
                     min_confidence: float = MIN_CONFIDENCE) -> list[tuple[OutsideQuestion, Reply]]:
    """Every question of the outside set `which` asked as README's "Ask your own documents" asks
    (ask.Documents: the folder searched with BM25, the reader given the best file, "unknown" below the
    calibrated threshold or the reader's min_confidence), each fold of calibration_folds calibrated on the
    other's questions. In the set's order. model, shots: a reader, as for Documents.ask."""
    found = load_document_set(which, folder)
    docs = Documents(_base(which, folder) / f"documents_{which}", min_confidence=min_confidence)
    replies: dict[str, Reply] = {}
    folds = calibration_folds(found)
    for asked, calibration in zip(folds, folds[::-1]):
        docs.calibrate(answerable=[q.text for q in calibration if q.answer != UNKNOWN],
                       unanswerable=[q.text for q in calibration if q.answer == UNKNOWN])
        replies |= {q.id: reply for q, reply in zip(asked, docs.ask(model, tokenizer, [q.text for q in asked], shots))}
    return [(q, replies[q.id]) for q in found.questions]


@dataclass(frozen=True)
class DocumentScore:
    answerable: int
    strict: float | None  # share of the answerable questions answered right; None when there are none
    lenient: float | None
    unanswerable: int
    abstained: float | None  # share of the unanswerable questions refused; None when there are none
    wrong: float | None  # share of the answerable questions answered, and not right even leniently


def document_scores(answered: list[tuple[OutsideQuestion, Reply]]) -> dict[str, DocumentScore]:
    """"all" and each question form (in FORMS' order) -> its DocumentScore."""
    def score(group):
        known = [(q, r) for q, r in group if q.answer != UNKNOWN]
        unknown = [(q, r) for q, r in group if q.answer == UNKNOWN]

        def share(pairs, lenient=False):
            return sum(reply_right(q, r.answer, lenient) for q, r in pairs) / len(pairs) if pairs else None
        wrong = (sum(not r.abstained and not reply_right(q, r.answer, lenient=True) for q, r in known) / len(known)
                 if known else None)
        return DocumentScore(len(known), share(known), share(known, lenient=True), len(unknown), share(unknown),
                             wrong)

    forms = [f for f in FORMS if any(q.form == f for q, _ in answered)]
    return {"all": score(answered)} | {f: score([(q, r) for q, r in answered if q.form == f]) for f in forms}
