"""utils/lessons/drift.py: questions by what changed, right vs stale scoring, the probe, update costs."""
import math

import pytest

from utils.core.generation import Answer
from utils.lessons.drift import (
    DriftScenario,
    cumulative_cost,
    drift_probe,
    drift_questions,
    drift_table,
    training_flops,
)
from utils.tasks.scoring import Result, drift_scores, is_correct, is_stale
from utils.tasks.world import load_world


@pytest.fixture(scope="module")
def worlds():
    return load_world("t0"), load_world("t1")


@pytest.fixture(scope="module")
def questions(worlds):
    return drift_questions(*worlds)


def result(question, said):
    return Result(question, Answer(said, 1.0), is_correct(question, said))


def test_groups_split_the_t1_facts_by_what_happened(worlds, questions):
    t0, t1 = worlds
    assert {k: len(v) for k, v in questions.items()} == \
        {"changed": 15, "changed, paraphrased": 105, "unchanged": 65, "new": 20}
    for q in questions["changed"]:
        assert q.answer == getattr(t1.drugs[q.drug], q.attribute) != getattr(t0.drugs[q.drug], q.attribute)
    for q in questions["unchanged"]:
        assert getattr(t1.drugs[q.drug], q.attribute) == getattr(t0.drugs[q.drug], q.attribute)
    assert all(q.drug not in t0.drugs for q in questions["new"])
    # Every changed fact in each of its 7 held-out phrasings, none of them the trained phrasing.
    changed = {(q.drug, q.attribute) for q in questions["changed"]}
    assert {(q.drug, q.attribute) for q in questions["changed, paraphrased"]} == changed
    assert not {q.text for q in questions["changed, paraphrased"]} & {q.text for q in questions["changed"]}


def test_as_of_restates_a_question_with_another_worlds_answer(worlds, questions):
    t0, t1 = worlds
    q = questions["changed"][0]
    old = t0.as_of(q)
    assert old.text == q.text and old.answer == t0.drugs[q.drug].maker != q.answer
    assert old.aliases == (old.answer.split()[0],)
    assert t1.as_of(old) == q


def test_stale_means_the_old_answer_to_a_changed_fact(worlds, questions):
    t0, _ = worlds
    changed = questions["changed"][0]
    old_maker = t0.drugs[changed.drug].maker
    assert is_stale(result(changed, old_maker), t0)
    assert not is_stale(result(changed, changed.answer), t0)
    assert not is_stale(result(changed, "no idea"), t0)
    unchanged = questions["unchanged"][0]  # its old answer is its right answer: not stale
    assert not is_stale(result(unchanged, unchanged.answer), t0)
    assert not is_stale(result(questions["new"][0], "anything"), t0)  # t0 never knew it


def test_drift_scores_count_right_and_stale(worlds, questions):
    t0, _ = worlds
    qs = questions["changed"][:4]
    said = [qs[0].answer, t0.as_of(qs[1]).answer, t0.as_of(qs[2]).answer, "Acme"]
    assert drift_scores([result(q, s) for q, s in zip(qs, said)], t0) == {"right": 0.25, "stale": 0.5}


def test_probe_reports_every_group_and_stale_for_changed(worlds, tiny_model, tokenizer):
    probe = drift_probe(tokenizer, *worlds, groups=("changed", "new"))
    reading = probe(tiny_model)
    assert set(reading) == {"changed", "changed: stale", "new"}
    assert all(0 <= v <= 1 for v in reading.values())


def test_training_flops_rule_of_thumb():
    assert training_flops(1000, 10**6, full=True) == 6e9
    assert training_flops(1000, 10**6, full=False) == 4e9


def test_cumulative_cost_redo_all_grows_with_the_world_changes_only_do_not():
    s = DriftScenario(months=3, facts=100, changed_per_month=15, new_per_month=20)
    assert s.facts_at(0) == 100 and s.facts_at(3) == 160
    assert cumulative_cost(s, 2.0, redo_all=True) == [240, 520, 840]
    assert cumulative_cost(s, 2.0, redo_all=False) == [70, 140, 210]


def test_the_drift_table_scores_each_group_it_is_given(worlds, questions, tiny_model, tokenizer):
    t0, _ = worlds
    asked = {"changed": questions["changed"][:2], "new": questions["new"][:3]}
    table, results = drift_table(tiny_model, tokenizer, asked, t0)
    assert list(table) == list(results) == ["changed", "new"]
    assert [r.question for r in results["new"]] == asked["new"]
    assert table["changed"] == drift_scores(results["changed"], t0)


def test_drift_scores_of_no_results_are_undefined_not_a_crash(worlds):
    scores = drift_scores([], worlds[0])  # e.g. a world of your own with no new drugs at t1
    assert set(scores) == {"right", "stale"} and all(math.isnan(v) for v in scores.values())
