"""The outside sets (utils/tasks/outside.py, data/outside/): they load and keep the variety they promise,
the sealed test sets stay apart from every training text of the project and from the dev sets, and a
malformed row is a DataError that says where and what to fix."""
import json
import re
import shutil
from collections import Counter
from dataclasses import replace

import pytest

from conftest import strings
from utils.core.config import DATA_DIR
from utils.core.datafiles import DataError
from utils.lessons.reader_data import reader_examples
from utils.lessons.reader_domains import with_other_domains
from utils.tasks.clinical import load_notes, to_xml, validate_xml
from utils.tasks.outside import FORMS, OUTSIDE_DIR, SETS, OutsideNote, load_document_set, load_outside_notes
from utils.tasks.prompts import TWO_SHOTS
from utils.tasks.scoring import score_answers, summarize
from utils.tasks.world import UNKNOWN

WINDOW = 8  # consecutive words a sealed text may share with no training text: about a sentence
READER_SEEDS = range(3)  # reader_examples samples, each ~500 questions on ~176 leaflets, and as many words
# of passages of other domains
SEVERITY_WORDS = {"mild": r"\bmild(ly)?\b", "moderate": r"\bmod(erate(ly)?)?\b", "severe": r"\bsev(ere(ly)?)?\b"}


@pytest.fixture(scope="module")
def notes():
    return {which: load_outside_notes(which) for which in SETS}


@pytest.fixture(scope="module")
def document_sets():
    return {which: load_document_set(which) for which in SETS}


# ---------------------------------------------------------------- what the sets hold

def test_the_sets_have_the_size_the_issue_asks(notes, document_sets):
    assert len(notes["test"]) >= 40 and len(notes["dev"]) >= 24
    for which, (documents, questions) in {"test": (8, 40), "dev": (6, 30)}.items():
        found = document_sets[which]
        assert len(found.documents) >= documents and len(found.questions) >= questions, which
    unanswerable = [q for q in document_sets["test"].questions if q.answer == UNKNOWN]
    assert len(unanswerable) >= 8
    # the hard case, a question on a document's topic that it does not answer, and off-topic ones
    assert sum(q.near is not None for q in unanswerable) >= 6 and any(q.near is None for q in unanswerable)


def test_outside_notes_are_notes_the_xml_lesson_scores(notes):
    for which, group in notes.items():
        assert all(isinstance(n, OutsideNote) and n.split == f"outside {which}" for n in group)
        assert len({n.id for n in group}) == len(group)
        summary = summarize(score_answers(group, [to_xml(n.expected) for n in group]))
        assert summary["valid"] == summary["fields"] == 1.0
        for note in group:  # every accepted name can be written in the schema
            for name in note.accept:
                assert validate_xml(to_xml(replace(note.expected, condition=name))).valid, name


def test_the_notes_are_unlike_the_generators_notes(notes):
    trained = {n.expected.condition for n in load_notes()}
    for which, group in notes.items():
        conditions = [n.expected.condition for n in group]
        assert sum(c not in trained for c in conditions) >= 0.8 * len(group), which  # mostly new conditions
        assert sum(len(re.split(r"[ -]", c)) > 1 for c in conditions) >= 0.4 * len(group), which
        assert any("-" in c for c in conditions), which  # a hyphenated name
        # abbreviations to expand: the expected name is not written out in the note
        assert sum(c not in n.text.lower() for c, n in zip(conditions, group)) >= 0.3 * len(group), which
        assert Counter(n.expected.severity for n in group).keys() == set(SEVERITY_WORDS)
        assert Counter(n.expected.sex for n in group).keys() == {"female", "male"}
    # the dev notes, to choose recipes on, are mostly about other conditions
    test_conditions = {n.expected.condition for n in notes["test"]}
    assert sum(n.expected.condition in test_conditions for n in notes["dev"]) <= len(notes["dev"]) // 4


@pytest.mark.parametrize("which", SETS)
def test_each_note_says_its_age_and_no_other_severity(notes, which):
    for note in notes[which]:
        age, text = note.expected.age, note.text
        # an infant's age in months ("7/12", "18/12") is its age in whole years
        in_months = [int(m) // 12 for m in re.findall(r"(?<![\d/])(\d{1,2})/12\b", text)]
        assert re.search(rf"(?<![\d.]){age}(?!\.?\d)", text) or age in in_months, note.id
        said = {s for s, pattern in SEVERITY_WORDS.items() if re.search(pattern, text, re.IGNORECASE)}
        assert said <= {note.expected.severity}, f"{note.id}: the note says {said}"
    # numbers that are not the age (vitals, times, doses, durations) are in almost every note
    others = [n for n in notes[which] if set(re.findall(r"\d+", n.text)) - {str(n.expected.age)}]
    assert len(others) >= 0.9 * len(notes[which])


def test_the_questions_ask_in_every_form_about_every_document(document_sets):
    for which, found in document_sets.items():
        forms = Counter(q.form for q in found.questions if q.answer != UNKNOWN)
        assert len(forms) >= 8 and set(forms) <= set(FORMS), which
        asked = Counter(q.file for q in found.questions if q.file)
        assert set(asked) == set(found.documents) and min(asked.values()) >= 4, which
        assert {q.near for q in found.questions if q.near} <= set(found.documents)


# ---------------------------------------------------------------- the seal

def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def windows(text: str) -> set[tuple[str, ...]]:
    """Every run of WINDOW consecutive words of `text`; the whole text when it is shorter."""
    w = words(text)
    size = min(WINDOW, len(w))
    return {tuple(w[i:i + size]) for i in range(len(w) - size + 1)}


def shared(sealed: dict[str, str], corpus: dict[str, str]) -> list[str]:
    """Each sealed text (label -> text) that has a window in a corpus text: '<label> ~ <where>: <words>'."""
    sizes = {min(WINDOW, len(words(t))) for t in sealed.values()}
    runs = {}
    for where, text in corpus.items():
        w = words(text)
        for size in sizes:
            for i in range(len(w) - size + 1):
                runs.setdefault(tuple(w[i:i + size]), where)
    return [f"{label} ~ {runs[run]}: {' '.join(run)!r}" for label, text in sealed.items()
            for run in sorted(windows(text)) if run in runs]


def outside_texts(which: str, notes, document_sets) -> dict[str, str]:
    """Every text of an outside set: its notes, its documents' paragraphs, its questions."""
    found = document_sets[which]
    texts = {f"notes_{which} {n.id}": n.text for n in notes[which]}
    texts |= {f"documents_{which}/{name} paragraph {i}": paragraph for name, text in found.documents.items()
              for i, paragraph in enumerate(text.split("\n\n"))}
    texts |= {f"questions_{which} {q.id}": q.text for q in found.questions}
    return texts


@pytest.fixture(scope="module")
def training_texts(worlds):
    """Every text the project trains or prompts a model with, where it comes from -> text."""
    texts = {}
    for path in ("clinical/notes.jsonl", "clinical/notes_varied.jsonl", "exercises/lab_request_notes.jsonl"):
        for line in (DATA_DIR / path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts[f"{path} {row['id']}"] = row["note"]
    for path in sorted((DATA_DIR / "world" / "documents").rglob("*.md")):
        texts[path.relative_to(DATA_DIR).as_posix()] = path.read_text(encoding="utf-8")
    spec = json.loads((DATA_DIR / "world" / "questions.json").read_text(encoding="utf-8"))
    texts |= {f"world/questions.json #{i}": s for i, s in enumerate(strings(spec))}
    texts |= {f"prompts.TWO_SHOTS[{i}]": " ".join(shot) for i, shot in enumerate(TWO_SHOTS)}
    for seed in READER_SEEDS:
        for i, e in enumerate(reader_examples(worlds, seed=seed)):
            texts[f"reader_examples(seed={seed})[{i}]"] = f"{e.passage}\n{e.question}\n{e.answer}"
        # every leaflet replaced: the most passages of other domains a recipe trains on (reader_domains)
        for i, e in enumerate(with_other_domains(reader_examples(worlds, seed=seed), 1.0, seed)):
            texts[f"with_other_domains(seed={seed})[{i}]"] = f"{e.passage}\n{e.question}\n{e.answer}"
    return texts


def test_the_seal_check_finds_a_shared_sentence_or_a_short_question():
    corpus = {"leaflet": "Take it with a full glass of water. Keep the pack out of the reach of children."}
    planted = {"sentence": "Always keep the pack out of the reach of children, it says.",
               "short": "Keep the pack?", "seven words apart": "keep the pack out of the reach, then children",
               "other": "Where are the study rooms?"}
    assert [leak.split(" ~")[0] for leak in shared(planted, corpus)] == ["sentence", "sentence", "short"]


@pytest.mark.parametrize("which", SETS)
def test_no_training_text_shares_a_sentence_with_an_outside_set(which, notes, document_sets, training_texts):
    found = shared(outside_texts(which, notes, document_sets), training_texts)
    assert not found, f"the {which} outside set is no longer apart from training:\n" + "\n".join(found[:20])


def test_the_sealed_test_sets_share_no_sentence_with_the_dev_sets(notes, document_sets):
    test, dev = outside_texts("test", notes, document_sets), outside_texts("dev", notes, document_sets)
    found = shared(test, dev) + shared(dev, test)
    assert not found, "\n".join(found[:20])
    assert not set(document_sets["test"].documents) & set(document_sets["dev"].documents)


# ---------------------------------------------------------------- a malformed row is a clear DataError

GOOD_NOTE = {"id": "a1", "note": "58F, T 38.2. Imp: mild sunburn.",
             "expected": {"age": 58, "sex": "female", "condition": "sunburn", "severity": "mild"}, "accept": []}


def write_notes(folder, *rows) -> None:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    (folder / "notes_dev.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_good_notes_file_loads(tmp_path):
    write_notes(tmp_path, GOOD_NOTE, {**GOOD_NOTE, "id": "a2", "accept": ["sun burn", "sun-burn"]})
    loaded = load_outside_notes("dev", tmp_path)
    assert [(n.id, n.expected.condition, n.accept) for n in loaded] == [
        ("a1", "sunburn", ()), ("a2", "sunburn", ("sun burn", "sun-burn"))]


@pytest.mark.parametrize("row, expected", [
    ('{"id": "a9", "note": "58F"', r"line 2, column \d+: the line ends before the object does"),
    ({k: v for k, v in GOOD_NOTE.items() if k != "accept"}, r"line 2 \(id 'a1'\): missing key\(s\) \['accept'\]"),
    ({**GOOD_NOTE, "split": "test"}, r"line 2 \(id 'a1'\): .*unknown key\(s\) \['split'\]"),
    ({**GOOD_NOTE, "expected": {**GOOD_NOTE["expected"], "condition": "type 2 diabetes"}},
     r"line 2 \(id 'a1'\): expected\.condition is 'type 2 diabetes'; it must be lower-case words"),
    ({**GOOD_NOTE, "expected": {**GOOD_NOTE["expected"], "sex": "F"}},
     r"line 2 \(id 'a1'\): expected\.sex is 'F'; it must be \"female\" or \"male\""),
    ({**GOOD_NOTE, "accept": ["t2dm"]}, r"line 2 \(id 'a1'\): accept\[0\] is 't2dm'; a condition name must be"),
    ({**GOOD_NOTE, "accept": ["burn", "sunburn"]},
     r"line 2 \(id 'a1'\): accept\[1\] 'sunburn' is expected\.condition itself"),
    ({**GOOD_NOTE, "accept": ["burn", "burn"]}, r"line 2 \(id 'a1'\): accept\[1\] 'burn' is listed twice"),
    ({**GOOD_NOTE, "accept": "burn"}, r"line 2 \(id 'a1'\): accept must be a list of strings"),
    ({**GOOD_NOTE, "note": " "}, r"line 2 \(id 'a1'\): 'note' must be a non-empty string"),
    ({**GOOD_NOTE, "id": "a0"}, r"line 2 \(id 'a0'\): duplicate id 'a0'"),
])
def test_a_bad_note_names_the_file_line_id_and_fix(tmp_path, row, expected):
    first = {**GOOD_NOTE, "id": "a0"}
    write_notes(tmp_path, first, row)
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "notes_dev.jsonl")) + r": 1 bad line; fix each:\n  "
                       + expected):
        load_outside_notes("dev", tmp_path)


def test_every_bad_note_is_reported_at_once(tmp_path):
    write_notes(tmp_path, {**GOOD_NOTE, "accept": ["x1"]}, GOOD_NOTE, "[]")
    with pytest.raises(DataError, match=r"3 bad lines; fix each:\n  line 1 .*accept\[0\].*\n  line 2 .*duplicate id"
                       r".*\n  line 3: each line must be a JSON object"):
        load_outside_notes("dev", tmp_path)


def test_an_unknown_set_or_a_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="unknown outside set 'train'; the sets are test, dev"):
        load_outside_notes("train")
    with pytest.raises(DataError, match=r"notes_test.jsonl: not found; restore it from git"):
        load_outside_notes("test", tmp_path)


@pytest.fixture
def dev_copy(tmp_path):
    """A copy of the dev documents and questions, to break."""
    shutil.copytree(OUTSIDE_DIR / "documents_dev", tmp_path / "documents_dev")
    shutil.copy(OUTSIDE_DIR / "questions_dev.json", tmp_path / "questions_dev.json")
    return tmp_path


REMOVE = object()  # edit_question: remove the field


def edit_question(folder, question_id: str, **changes) -> None:
    """Change fields of one question (to REMOVE: remove the field)."""
    path = folder / "questions_dev.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    question = next(q for q in spec["questions"] if q["id"] == question_id)
    for key, value in changes.items():
        question.update({key: value}) if value is not REMOVE else question.pop(key)
    lines = ",\n".join(f"    {json.dumps(q)}" for q in spec["questions"])
    path.write_text(f'{{\n  "about": [],\n  "questions": [\n{lines}\n  ]\n}}\n', encoding="utf-8")


def test_the_dev_copy_loads_as_it_is(dev_copy):
    assert load_document_set("dev", dev_copy) == load_document_set("dev")


def at(question_id: str) -> str:
    return rf"line \d+ \(questions\[\d+\], id '{question_id}'\): "


@pytest.mark.parametrize("question_id, changes, expected", [
    ("dq01", {"file": "travel_expense.md"}, at("dq01") + r"file 'travel_expense.md' is not a document of the set; "
                                                         r"did you mean 'travel_expenses.md'\?"),
    ("dq01", {"answer": "46p"}, at("dq01") + r"the answer '46p' is not in travel_expenses.md; write it as the "
                                             r"document words it"),
    ("dq01", {"answer": UNKNOWN}, at("dq01") + r"the answer is 'unknown' but file is 'travel_expenses.md'"),
    ("dq01", {"file": None}, at("dq01") + r"file is null but the answer is '45p'"),
    ("dq01", {"form": "how often"}, at("dq01") + r"form 'how often' is not one of \['who'"),
    ("dq01", {"accept": ["45p", "45"]}, at("dq01") + r"accept repeats the answer '45p'"),
    ("dq01", {"near": "travel_expenses.md"}, at("dq01") + r"'near' is only for questions no document answers"),
    ("dq36", {"near": REMOVE}, at("dq36") + r"'near' is missing: name the document on the question's topic"),
    ("dq36", {"near": "travel.md"}, at("dq36") + r"near 'travel.md' is not a document of the set"),
    ("dq02", {"id": "dq01"}, r"line 5 \(questions\[1\], id 'dq01'\): duplicate id 'dq01'"),
    ("dq02", {"question": ""}, at("dq02") + r"'question' must be a non-empty string"),
])
def test_a_bad_question_names_the_file_line_field_and_fix(dev_copy, question_id, changes, expected):
    edit_question(dev_copy, question_id, **changes)
    with pytest.raises(DataError, match=re.escape(str(dev_copy / "questions_dev.json")) + r": 1 bad question; "
                       r"fix each:\n  " + expected):
        load_document_set("dev", dev_copy)


def test_a_broken_questions_file_or_folder_says_what_to_fix(dev_copy):
    path = dev_copy / "questions_dev.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"form": "who"', '"form": "who",', 1), encoding="utf-8")
    with pytest.raises(DataError, match=r"questions_dev.json, line \d+, column \d+: "):
        load_document_set("dev", dev_copy)
    path.write_text('{"questions": {}}', encoding="utf-8")
    with pytest.raises(DataError, match=r'expected an object \{"about": \[...\], "questions": \[...\]\}'):
        load_document_set("dev", dev_copy)
    (dev_copy / "documents_dev" / "seeded_loaf.md").write_text("# Heading only\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"seeded_loaf.md: only a heading"):
        load_document_set("dev", dev_copy)
