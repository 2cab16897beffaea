"""data/clinical/make_varied_notes.py and notes_varied.jsonl: the XML adapter's varied training notes
are valid, keep the variety they promise, stay apart from the outside sets' and the held-out
conditions, and are the generator's output for its seed."""
import importlib.util
import re
from collections import Counter

import pytest

from utils.tasks.clinical import SCHEMA_PATH, load_notes
from utils.tasks.outside import SETS, load_outside_notes

DATA = SCHEMA_PATH.parent


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_varied():
    return _module("make_varied_notes")


@pytest.fixture(scope="module")
def varied():
    return load_notes(DATA / "notes_varied.jsonl")  # load_notes checks each gold diagnosis against the schema


def test_the_file_is_the_generators_output_for_its_seed(make_varied):
    lines = (DATA / "notes_varied.jsonl").read_text(encoding="utf-8").splitlines()
    assert make_varied.build_lines() == lines
    assert make_varied.build_lines(seed=1) != lines  # the seed changes the notes
    assert make_varied.build_lines(seed=1) == make_varied.build_lines(seed=1)


def test_the_notes_are_training_notes_with_ids_of_their_own(varied):
    assert all(n.split == "train" for n in varied)
    assert not {n.id for n in varied} & {n.id for n in load_notes()}


def test_each_marker_kind_and_each_place_occurs(varied, make_varied):
    markers = [m for m in make_varied.MARKERS if m]
    found = Counter(next((m for m in markers if re.search(rf"(^|[.;\n] ?){re.escape(m)}(?= )", n.text)), "none")
                    for n in varied)
    assert set(found) == {*markers, "none"} and min(found.values()) >= len(varied) // 10, found
    places = Counter()
    for n in varied:
        said = re.search(re.escape(n.expected.severity[:3]), n.text, re.IGNORECASE).start()
        places[min(3 * said // len(n.text), 2)] += 1  # the diagnosis in the note's first, middle or last third
    assert len(places) == 3 and min(places.values()) >= len(varied) // 10, places


def test_many_conditions_are_multi_word_hyphenated_or_abbreviated(varied, make_varied):
    conditions = {n.expected.condition for n in varied}
    assert conditions == set(make_varied.CONDITIONS)
    assert sum(len(re.split(r"[ -]", c)) > 1 for c in conditions) >= 0.6 * len(conditions)
    assert sum("-" in c for c in conditions) >= 5
    # abbreviations expanded: the note writes "DVT", the answer is "deep vein thrombosis"
    abbreviations = {c: spec.abbreviations for c, spec in make_varied.CONDITIONS.items()}
    abbreviated = [n for n in varied if n.expected.condition not in n.text.lower()
                   and any(re.search(rf"\b{a}\b", n.text) for a in abbreviations[n.expected.condition])]
    assert len(abbreviated) >= 0.2 * len(varied)
    # apostrophes dropped: "Crohn's disease" is crohns disease
    assert any("Crohn's disease" in n.text and n.expected.condition == "crohns disease" for n in varied)


def test_each_note_says_its_age_and_severity_once_beside_other_numbers_and_history(varied, make_varied):
    for n in varied:
        assert len(re.findall(rf"(?<![\d.]){n.expected.age}(?![\d.])", n.text)) == 1, n.id
        said = {s for s, pattern in make_varied.SEVERITY_PATTERNS.items() if re.search(pattern, n.text, re.IGNORECASE)}
        assert said == {n.expected.severity}, n.id
    assert sum(bool(re.search(r"\b\d{2}:\d{2}\b", n.text)) for n in varied) >= 0.2 * len(varied)  # clock times
    assert sum("% RA" in n.text for n in varied) >= 0.1 * len(varied)  # saturations
    assert sum(bool(re.search(r"\b(PMH|FHx|Bg:|Hx|known|hx of|background of)\b", n.text)) for n in varied) \
        >= 0.4 * len(varied)  # another condition in the history
    for shorthand in ("pt ", "c/o", "y/o", "O/E"):
        assert any(shorthand in n.text for n in varied), shorthand
    assert Counter(n.expected.severity for n in varied).keys() == {"mild", "moderate", "severe"}
    assert Counter(n.expected.sex for n in varied).keys() == {"female", "male"}


def test_no_condition_is_an_outside_sets_or_one_of_the_projects_notes(make_varied):
    """The outside sets measure conditions no training note names, and the unseen-style notes conditions
    the adapter never trained on: the varied notes name neither (nor by their abbreviations)."""
    ours = set(make_varied.CONDITIONS) | {a.lower() for c in make_varied.CONDITIONS.values() for a in c.abbreviations}
    outside = {name for which in SETS for n in load_outside_notes(which) for name in (n.expected.condition, *n.accept)}
    assert not ours & outside
    assert not ours & set(_module("make_notes").CONDITIONS)


def test_a_name_the_schema_cannot_write_is_refused(make_varied, monkeypatch):
    monkeypatch.setitem(make_varied.CONDITIONS, "type 2 diabetes", make_varied.CONDITIONS["mumps"])
    with pytest.raises(Exception, match="expected.condition is 'type 2 diabetes'"):
        make_varied.generated(n=len(make_varied.CONDITIONS))
