"""utils/tasks/rag.py: retrieve, prompt with the passage, abstain where Retriever.best finds no passage;
and utils/tasks/evaluate.py's evaluation of that system."""
import copy
import dataclasses

import pytest

import utils.tasks.rag as rag
from utils.core.generation import Answer
from utils.tasks.evaluate import evaluate, evaluate_with_retrieval
from utils.tasks.prompts import reader_prompt
from utils.tasks.rag import abstain_below, few_shot, rag_prompt
from utils.tasks.retrieval import Retriever
from utils.tasks.scoring import Result
from utils.tasks.world import UNKNOWN


def test_rag_prompt_retrieves_the_right_leaflet(worlds):
    t0 = worlds[0]
    prompt = rag_prompt(Retriever(t0.documents))("Which drug treats ringworm?")
    assert prompt == reader_prompt(t0.documents["Dravolin"], "Which drug treats ringworm?")


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


def test_abstain_below_replaces_low_score_answers_only(worlds):
    t0 = worlds[0]
    retriever = Retriever(t0.documents)
    known, unknown = t0.questions("trained")[0], t0.questions("unknown")[0]
    guesses = [Result(known, Answer(known.answer, 0.9), True), Result(unknown, Answer("gout", 0.9), False)]
    kept, abstained = abstain_below(guesses, retriever, threshold=1.0)
    assert kept == guesses[0]
    assert abstained.answer.text == UNKNOWN and abstained.correct
    assert all(r.answer.text == UNKNOWN for r in abstain_below(guesses, retriever, threshold=100.0))


def test_evaluate_with_retrieval_reads_only_what_it_would_not_abstain_on(tiny_model, tokenizer, worlds, monkeypatch):
    t0 = worlds[0]
    retriever = Retriever(t0.documents)
    questions = t0.questions("trained")[:3] + t0.questions("unknown")[:2]
    threshold = 1.0
    expected = abstain_below(evaluate(tiny_model, tokenizer, questions, prompt=rag_prompt(retriever),
                                      progress=False), retriever, threshold)
    asked = []
    real_generate = rag.generate
    monkeypatch.setattr(rag, "generate",
                        lambda m, t, prompts, **k: asked.extend(prompts) or real_generate(m, t, prompts, **k))
    low = [retriever.best(q.text, threshold) is None for q in questions]
    assert low == [False, False, False, True, True]  # no leaflet matches a drug that does not exist
    got = evaluate_with_retrieval(tiny_model, tokenizer, questions, retriever, threshold, progress=False)
    # The same answers; their probabilities differ in the last digits (other rows share the batch).
    assert [(r.question, r.answer.text, r.correct) for r in got] == [(r.question, r.answer.text, r.correct)
                                                                   for r in expected]
    assert len(asked) == 3  # the two unknown drugs were never asked


def test_a_quick_run_reads_a_few_questions_of_every_kind(tiny_model, tokenizer, worlds, monkeypatch):
    from utils.core.config import QUICK_PER_GROUP
    t0 = worlds[0]
    retriever = Retriever(t0.documents)
    questions = t0.questions("trained")[:6] + t0.questions("unknown")[:6]
    monkeypatch.setenv("FTRAG_QUICK", "1")
    got = evaluate_with_retrieval(tiny_model, tokenizer, questions, retriever, 1.0, progress=False, max_new_tokens=2)
    assert [r.question for r in got] == questions[:QUICK_PER_GROUP] + questions[6:6 + QUICK_PER_GROUP]
    assert all(r.answer.text == UNKNOWN for r in got[QUICK_PER_GROUP:])  # still abstains below the threshold



def test_the_readers_questions_keep_the_calibration_apart(worlds):
    """Notebook 04 chooses its threshold on `calibration` and scores it on `held_out`, other drugs; the
    readers answer every third question of each kind, unknown drugs only from the held-out half, and
    the two kinds kept out of the calibration (real drugs, unstated attributes) only there."""
    t0 = worlds[0]
    calibration, held_out, asked = rag.readers_questions(t0)
    assert {q.drug for q in calibration}.isdisjoint(q.drug for q in held_out)
    assert {q.kind for q in calibration} == {q.kind for q in held_out} == {*rag.ANSWERABLE_KINDS, "unknown"}
    for kind in (*rag.ANSWERABLE_KINDS, "real_drug", "unstated"):
        assert [q for q in asked if q.kind == kind] == t0.questions(kind)[::3]
    assert [q for q in asked if q.kind == "unknown"] == [q for q in held_out if q.kind == "unknown"][::3]
