"""utils/reader.py: reader prompts and the synthetic leaflets the reader adapter learns from."""
import copy
import dataclasses
import inspect
import re
from collections import Counter

import pytest

from utils.evaluate import Answer, Result, evaluate
from utils.reader import (abstain_below, few_shot, found, passage_text, rag_prompt, read_or_abstain, reader_examples,
                          reader_prompt, synthetic_drugs)
from utils.retrieval import Retriever
from utils.world import UNKNOWN, load_world


def test_passage_text_drops_the_heading_only():
    assert passage_text("# Altrevon\n\nAltrevon treats motion sickness.\n") == "Altrevon treats motion sickness."
    assert passage_text("No heading here.") == "No heading here."


def test_reader_prompt_puts_shots_then_passage_then_question():
    prompt = reader_prompt("# X\n\nX treats gout.", " What does X treat? ", shots=(("P1", "Q1", "A1"),))
    assert prompt == "Passage: P1\nQ: Q1\nA: A1\n\nPassage: X treats gout.\nQ: What does X treat?\nA:"


def test_rag_prompt_retrieves_the_right_leaflet(worlds):
    t0 = worlds[0]
    prompt = rag_prompt(Retriever(t0.documents))("Which drug treats ringworm?")
    assert prompt == reader_prompt(t0.documents["Dravolin"], "Which drug treats ringworm?")


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
    unpaired = [k for k in who(reader_examples(worlds, contrast=False)) if "discoverer" in k and "maker" not in k]
    assert unpaired  # without contrast some leaflets are asked only who discovered the drug


def test_few_shot_answers_are_copied_from_their_passages(worlds):
    shots = few_shot(worlds)
    assert len(shots) == 2 and all(a in p and a != UNKNOWN for p, _, a in shots)


def test_few_shot_refuses_a_world_that_uses_an_example_name(worlds):
    t0, t1 = worlds
    clone = copy.deepcopy(t0)
    drug = next(iter(clone.drugs.values()))
    clone.drugs[drug.name] = dataclasses.replace(drug, maker="Fairholm Health")
    with pytest.raises(ValueError, match=r"\['fairholm'\].*rename them in TWO_SHOTS"):
        few_shot([clone, t1])


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


def test_abstain_below_replaces_low_score_answers_only(worlds):
    t0 = worlds[0]
    retriever = Retriever(t0.documents)
    known, unknown = t0.questions("trained")[0], t0.questions("unknown")[0]
    guesses = [Result(known, Answer(known.answer, 0.9), True), Result(unknown, Answer("gout", 0.9), False)]
    kept, abstained = abstain_below(guesses, retriever, threshold=1.0)
    assert kept == guesses[0]
    assert abstained.answer.text == UNKNOWN and abstained.correct
    assert all(r.answer.text == UNKNOWN for r in abstain_below(guesses, retriever, threshold=100.0))


def test_read_or_abstain_reads_only_what_it_would_not_abstain_on(tiny_model, tokenizer, worlds, monkeypatch):
    import utils.reader as reader_mod
    t0 = worlds[0]
    retriever = Retriever(t0.documents)
    questions = t0.questions("trained")[:3] + t0.questions("unknown")[:2]
    threshold = 1.0
    expected = abstain_below(evaluate(tiny_model, tokenizer, questions, prompt=rag_prompt(retriever),
                                      progress=False), retriever, threshold)
    asked = []
    real_generate = reader_mod.generate
    monkeypatch.setattr(reader_mod, "generate",
                        lambda m, t, prompts, **k: asked.extend(prompts) or real_generate(m, t, prompts, **k))
    low = [retriever.search(q.text, 1)[0].score < threshold for q in questions]
    assert low == [False, False, False, True, True]  # no leaflet matches a drug that does not exist
    got = read_or_abstain(tiny_model, tokenizer, questions, retriever, threshold, progress=False)
    # The same answers; their probabilities differ in the last digits (other rows share the batch).
    assert [(r.question, r.answer.text, r.correct) for r in got] == [(r.question, r.answer.text, r.correct)
                                                                   for r in expected]
    assert len(asked) == 3  # the two unknown drugs were never asked


def test_a_quick_run_reads_a_few_questions_of_every_kind(tiny_model, tokenizer, worlds, monkeypatch):
    from utils.config import QUICK_PER_GROUP
    t0 = worlds[0]
    retriever = Retriever(t0.documents)
    questions = t0.questions("trained")[:6] + t0.questions("unknown")[:6]
    monkeypatch.setenv("FTRAG_QUICK", "1")
    got = read_or_abstain(tiny_model, tokenizer, questions, retriever, 1.0, progress=False, max_new_tokens=2)
    assert [r.question for r in got] == questions[:QUICK_PER_GROUP] + questions[6:6 + QUICK_PER_GROUP]
    assert all(r.answer.text == UNKNOWN for r in got[QUICK_PER_GROUP:])  # still abstains below the threshold


def test_nothing_matches_is_never_read_whatever_the_threshold(worlds):
    retriever = Retriever(worlds[0].documents)
    assert found("What does Dravilin treat?", retriever, threshold=0.0) is None  # a typo: every score 0
    best = found("What does Dravelin treat?", retriever, threshold=0.0)
    assert best.drug == "Dravelin" and best.score > 0
    assert found("What does Dravelin treat?", retriever, threshold=best.score + 0.01) is None
