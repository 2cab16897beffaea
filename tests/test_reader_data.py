"""utils/lessons/reader_data.py: the synthetic leaflets and questions the reader adapter learns from."""
import inspect
import re
from collections import Counter

import pytest

from utils.lessons.reader_data import reader_examples, synthetic_drugs
from utils.tasks.world import UNKNOWN


def test_synthetic_drugs_are_disjoint_from_the_world_and_reproducible(worlds):
    n = inspect.signature(reader_examples).parameters["n_drugs"].default  # as many as the recipe uses
    drugs = synthetic_drugs(n, worlds)
    assert drugs == synthetic_drugs(n, worlds) != synthetic_drugs(n, worlds, seed=1)
    assert len({d["name"] for d in drugs}) == n
    # More drugs than free conditions: every condition is used, none more than once more than another.
    uses = Counter(d["treats"] for d in drugs)
    assert len(uses) < n and max(uses.values()) - min(uses.values()) <= 1
    assert len({d["treats"] for d in synthetic_drugs(len(uses), worlds)}) == len(uses)
    world_text = " ".join(w.documents[n] for w in worlds for n in w.documents).lower()
    questions = " ".join(str(w.templates["unknown_drugs"]) for w in worlds).lower()
    for d in drugs:
        for value in (d["name"], d["maker"].split()[0], d["discoverer"].removeprefix("Dr. "), d["treats"]):
            assert value.lower() not in world_text and value.lower() not in questions, value


@pytest.mark.parametrize("n", [10**6, 1, 0, 2.5, True])
def test_an_impossible_number_of_drugs_is_a_clear_error(worlds, n):
    with pytest.raises(ValueError, match="invented drugs"):
        synthetic_drugs(n, worlds)


def test_reader_examples_answer_from_their_passage(worlds):
    examples = reader_examples(worlds, n_drugs=20, per_drug=2, unanswerable=0.5)
    unknown = [e for e in examples if e.answer == UNKNOWN]
    # per_drug answerable questions, a third when the maker or discoverer is asked (contrast), and
    # sometimes an unanswerable one.
    assert 20 * 2 <= len(examples) <= 20 * 4 and 4 <= len(unknown) <= 16
    for e in examples:
        if e.answer != UNKNOWN:
            assert e.answer.removesuffix(" mg") in e.passage  # copied from the passage
    # An unanswerable question is about a drug or condition the passage does not mention.
    treats = {d["name"]: d["treats"] for d in synthetic_drugs(20, worlds)}
    for e in unknown:
        name = e.passage.splitlines()[0].removeprefix("# ")
        assert name not in e.question and name.lower() not in e.question and treats[name] not in e.question


def test_contrast_asks_for_both_names_on_the_same_leaflet(worlds):
    companies = ("Pharma", "Labs", "Biotech", "Therapeutics", "Health", "Medical", "Sciences", "Biologics")

    def who(examples):
        by_leaflet = {}
        for e in examples:
            kind = ("discoverer" if e.answer.startswith("Dr.") else
                    "maker" if e.answer.endswith(companies) else "other")
            by_leaflet.setdefault(e.passage, set()).add(kind)
        return by_leaflet.values()

    paired = [kinds for kinds in who(reader_examples(worlds)) if kinds & {"discoverer"}]
    assert paired and all("maker" in kinds for kinds in paired)
    unpaired = [k for k in who(reader_examples(worlds, contrast=())) if "discoverer" in k and "maker" not in k]
    assert unpaired  # without contrast some leaflets are asked only who discovered the drug


def test_the_numbers_contrast_asks_for_the_dose_and_the_year_on_the_same_leaflet(worlds):
    def numbers(examples):
        by_leaflet = {}
        for e in examples:
            kind = "dose" if e.answer.endswith(" mg") else "year" if e.answer.isdigit() else "other"
            by_leaflet.setdefault(e.passage, set()).add(kind)
        return [kinds & {"dose", "year"} for kinds in by_leaflet.values()]

    paired = [kinds for kinds in numbers(reader_examples(worlds, contrast=("names", "numbers"))) if kinds]
    assert paired and all(kinds == {"dose", "year"} for kinds in paired)
    assert {"dose"} in numbers(reader_examples(worlds, contrast=("names",)))
    with pytest.raises(ValueError, match="unknown contrast 'dates'; the contrasts are names, numbers"):
        reader_examples(worlds, contrast=("dates",))


def test_a_leaflet_that_reports_a_change_is_answered_with_the_new_value(worlds):
    changes = {  # what the change sentences say: (old, new)
        r"from (\d+) mg to (\d+) mg": "max dose", r"maximum was (\d+) mg a day; it is now (\d+) mg": "max dose",
        r"sold by ([^;]+); since \d+ it has been made by ([^.]+)\.": "maker",
        r"([A-Z]\w+ \w+) took over ([A-Z]\w+ \w+) in": "maker (new, old)",
        r"first made by ([^,]+), a company that ([^.]+) bought in": "maker"}
    seen = set()
    for e in reader_examples(worlds):
        for pattern, what in changes.items():
            match = re.search(pattern, e.passage)
            if match and e.answer in (match[1], match[2], match[1] + " mg", match[2] + " mg"):
                new = match[1] if what == "maker (new, old)" else match[2]
                assert e.answer.removesuffix(" mg") == new, (e.question, e.answer, match[0])
                seen.add(pattern)
    assert seen == set(changes)  # every kind of change is asked about


def test_a_world_that_leaves_one_condition_free_still_gets_its_examples(worlds, monkeypatch):
    import utils.lessons.reader_data as reader_data
    monkeypatch.setattr(reader_data, "_CONDITIONS", ["hiccups"])  # every invented drug treats hiccups
    examples = reader_examples(worlds, n_drugs=8, unanswerable=1.0)
    assert examples and UNKNOWN not in [e.answer for e in examples]  # no other condition to ask about
    monkeypatch.setattr(reader_data, "_CONDITIONS", [])  # your world uses every one
    with pytest.raises(ValueError, match="add conditions"):
        synthetic_drugs(4, worlds)


def test_questions_are_composed_in_many_wordings(worlds):
    from utils.lessons.reader_data import (
        _CORES,
        CLOSERS,
        LOWER_CASE_SHARE,
        OPENERS,
        TELEGRAPHIC_SHARE,
        question_frames,
    )

    drugs = synthetic_drugs(176, worlds)
    names = sorted([d["name"] for d in drugs] + [d["treats"] for d in drugs], key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in names), re.IGNORECASE)
    questions = [e.question for e in reader_examples(worlds)]
    wordings = Counter(pattern.sub("{x}", q) for q in questions)
    # One sample (~500 questions) has hardly a wording twice: the frames are many (8 or more cores x 13
    # openers x 8 closers an attribute, plus telegraphic forms), drawn with the seeded rng.
    assert all(len(question_frames(a)) == len(cores) * len(OPENERS) * len(CLOSERS) + 3 >= 8 * 13 * 8
               for a, cores in _CORES.items())
    assert len(wordings) > 0.8 * len(questions)
    lower = sum(q == q.lower() for q in questions) / len(questions)
    telegraphic = sum(len(q.split()) <= 5 and not q.lower().startswith(("who ", "what ", "which ")) for q in questions)
    assert 0.5 * LOWER_CASE_SHARE < lower < 2 * LOWER_CASE_SHARE
    assert 0.5 * TELEGRAPHIC_SHARE < telegraphic / len(questions) < 2 * TELEGRAPHIC_SHARE
    assert reader_examples(worlds) == reader_examples(worlds)  # the same seed, the same questions
