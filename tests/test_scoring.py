"""utils/tasks/scoring.py: every is-this-answer-right rule, and the fractions the lessons report."""
import math
from dataclasses import replace

import pytest

from utils.core.generation import Answer
from utils.tasks.clinical import Diagnosis, Note, to_xml
from utils.tasks.outside import OutsideNote
from utils.tasks.scoring import (
    CONDITION_SYNONYMS,
    Result,
    accepting_other_names,
    accuracy,
    accuracy_by_kind,
    count_by_kind,
    facts_right,
    false_negatives,
    field_accuracy,
    is_correct,
    is_correct_lenient,
    is_unknown_answer,
    leniently,
    normalize,
    outcomes,
    rank_one_rate,
    same_questions,
    score_answers,
    score_system,
    scored,
    summarize,
    summarize_outside,
    threshold_trade_off,
    wrong_answer_penalty,
)
from utils.tasks.world import Question, load_world

GOUT = Diagnosis(54, "female", "gout", "moderate")
VALID = to_xml(GOUT)


def q(answer, *aliases, kind="trained"):
    return Question(kind, "a question?", answer, "Drug", "treats", tuple(aliases))


# ---------------------------------------------------------------- normalize and is_correct

@pytest.mark.parametrize("text, expected", [
    ("Motion  Sickness!", "motion sickness"),
    ("  Oskwell-Sciences. ", "oskwell sciences"),
    ("40mg", "40 mg"), ("40 MG.", "40 mg"), ("40   mg", "40 mg"),
    ("100.0", "100.0"), ("2,000 mg", "2000 mg"), ("1, 2", "1 2"), ("1.5 mg", "1.5 mg"), ("It was 2013.", "it was 2013"),
    ("Crohn\u2019s disease", "crohn's disease"), ("(gout)", "gout"), ("", ""),
])
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("answer, aliases, text, expected", [
    ("motion sickness", (), "Motion sickness.", True),
    ("motion sickness", (), "It treats motion-sickness in adults", True),
    ("motion sickness", (), "sickness", False),
    ("gout", (), "gout", True),
    ("gout", (), "Gout, mostly.", True),
    ("gout", (), "gouty arthritis", False),  # whole words only
    ("gout", (), "ragout", False),
    ("0", (), "100.0", False),  # a number inside another number is not the number
    ("100", (), "100.0", False),
    ("100", (), "It is 100.", True),
    ("40 mg", ("40mg", "40 milligrams"), "40mg", True),
    ("40 mg", ("40mg", "40 milligrams"), "up to 40 milligrams a day", True),
    ("40 mg", ("40mg", "40 milligrams"), "400 mg", False),
    ("40 mg", ("40mg", "40 milligrams"), "40", False),
    ("Corvane Labs", ("Corvane",), "Corvane", True),
    ("Corvane Labs", ("Corvane",), "corvane labs ltd", True),
    ("Corvane Labs", ("Corvane",), "Corvanex", False),
    ("Dr. Ilsa Varga", ("Ilsa Varga",), "Ilsa Varga", True),
    ("Dr. Ilsa Varga", ("Ilsa Varga",), "Dr Ilsa Varga", True),
    ("Dr. Ilsa Varga", ("Ilsa Varga",), "Varga", False),
    ("gout", (), "", False),
    ("", (), "anything", False),  # an empty expected answer matches nothing
])
def test_is_correct(answer, aliases, text, expected):
    assert is_correct(q(answer, *aliases), text) is expected



def test_rank_one_rate_counts_the_right_answer_ranked_first():
    assert rank_one_rate([1, 3, 1, 20]) == 0.5
    assert math.isnan(rank_one_rate([]))


def test_threshold_trade_off_keeps_the_share_asked_and_counts_what_else_passes():
    right = [0.95, 0.9, 0.8, 0.6, 0.3]
    wrong = [0.85, 0.5, 0.2, 0.1]
    assert threshold_trade_off(right, wrong, keep=0.6) == (0.8, 0.25)  # keeps 3 of 5 right, 1 of 4 wrong passes
    assert threshold_trade_off(right, wrong, keep=0.5) == (0.8, 0.25)  # at least half: 3 of 5
    assert threshold_trade_off(right, wrong, keep=1.0) == (0.3, 0.5)  # keep all: the lowest right answer
    assert all(math.isnan(x) for x in threshold_trade_off([], wrong, keep=0.5))  # none right (a quick run)
    with pytest.raises(ValueError, match="keep"):
        threshold_trade_off(right, wrong, keep=0)

@pytest.mark.parametrize("text, expected", [
    ("unknown", True), ("I don't know.", True), ("I do not know", True),
    ("Not sure, maybe gout", True), ("I have no information about that drug", True),
    ("There is no such drug; it does not exist", True),
    ("gout", False), ("Oskwell Sciences", False), ("", False),
])
def test_unknown_drugs_want_an_abstention(text, expected):
    world = load_world("t0")
    question = world.questions("unknown")[0]
    assert question.answer == "unknown"
    assert is_correct(question, text) is expected
    assert is_correct(q("unknown"), text) is expected


def test_answers_from_the_world_accept_their_aliases():
    world = load_world("t0")
    dose = next(x for x in world.questions("documented") if x.attribute == "max_daily_dose_mg")
    n = world.drugs[dose.drug].max_daily_dose_mg
    assert is_correct(dose, f"The maximum is {n}mg per day.")
    assert is_correct(dose, f"{n} milligrams")
    assert not is_correct(dose, f"{n + 1} mg")
    maker = next(x for x in world.questions("trained") if x.attribute == "maker")
    assert is_correct(maker, maker.answer.split()[0].upper())


# ---------------------------------------------------------------- accuracy

def test_accuracy_and_accuracy_by_kind():
    def result(kind, correct):
        return Result(q("x", kind=kind), Answer("x" if correct else "y", 0.5), correct)

    results = [result("trained", True), result("trained", True), result("trained", False),
               result("paraphrase", False), result("unknown", True)]
    assert accuracy(results) == pytest.approx(3 / 5)
    by_kind = accuracy_by_kind(results)
    assert by_kind == pytest.approx({"trained": 2 / 3, "paraphrase": 0.0, "unknown": 1.0})
    assert list(by_kind) == ["trained", "paraphrase", "unknown"]  # first-seen order
    assert math.isnan(accuracy([]))
    assert accuracy_by_kind([]) == {}


@pytest.mark.parametrize("text, expected", [
    ("unknown", True), ("Unknown.", True), ("I don't know.", True), ("I don\u2019t know", True),
    ("I'm not sure what that drug is.", True), ("There is no information about Kestomar.", True),
    ("I have never heard of this medicine.", True), ("I do not have information on that.", True),
    ("gout", False), ("Corvane Pharma", False), ("It treats migraine.", False), ("", False),
    (None, False),
])
def test_is_unknown_answer(text, expected):
    assert is_unknown_answer(text) is expected


# ---------------------------------------------------------------- diagnoses

def test_field_accuracy():
    assert field_accuracy(GOUT, GOUT) == 1.0
    assert field_accuracy(None, GOUT) == 0.0
    assert field_accuracy(replace(GOUT, condition="  Gout "), GOUT) == 1.0  # case/space-normalised
    assert field_accuracy(replace(GOUT, sex="male"), GOUT) == 0.75
    assert field_accuracy(replace(GOUT, age=55, severity="mild"), GOUT) == 0.5
    assert field_accuracy(replace(GOUT, severity="Moderate"), GOUT) == 0.75  # enums are exact
    assert field_accuracy(replace(GOUT, sex="male"), GOUT, fields=("condition",)) == 1.0


def _note(expected, id="n1"):
    return Note(id=id, split="test", style="soap", text="54F gout, moderate.", expected=expected)


def test_score_answers_and_summarize():
    notes = [_note(GOUT, "a"), _note(GOUT, "b"), _note(GOUT, "c")]
    answers = [VALID, VALID.replace("female", "male"), "gout, moderate"]
    scored = score_answers(notes, answers)
    assert [s.verdict.valid for s in scored] == [True, True, False]
    assert [s.fields for s in scored] == [1.0, 0.75, 0.0]
    assert scored[1].answer == answers[1] and scored[2].note.id == "c"
    summary = summarize(scored)
    assert summary["valid"] == pytest.approx(2 / 3)
    assert summary["fields"] == pytest.approx(1.75 / 3)
    assert summary["sex"] == pytest.approx(1 / 3) and summary["age"] == pytest.approx(2 / 3)


def test_scoring_refuses_mismatched_input():
    with pytest.raises(ValueError, match="one answer a note"):
        score_answers([_note(GOUT)], [])


def test_no_answers_summarize_as_undefined_not_zero():
    summary = summarize([])  # a quick run's few notes may hold none of a split or style
    assert set(summary) == set(summarize(score_answers([_note(GOUT)], [VALID])))
    assert all(math.isnan(value) for value in summary.values())


UTI = Diagnosis(34, "female", "urinary tract infection", "mild")


def _outside(expected, accept, id="o1"):
    return OutsideNote(id=id, split="outside dev", style="outside", text="34F 2/7 dysuria. Imp: mild UTI.",
                       expected=expected, accept=accept)


def test_outside_notes_are_scored_strictly_and_leniently_field_by_field():
    notes = [_outside(UTI, ("uti", "cystitis"), id) for id in "abcde"]
    answers = [to_xml(UTI),
               to_xml(replace(UTI, condition="cystitis")),  # another name the note supports
               to_xml(replace(UTI, condition="infection", age=2)),  # one word of the name is not the name
               to_xml(replace(UTI, condition="uti", sex="male")),
               "mild UTI"]  # not schema-valid: wrong in every field, however lenient
    summary = summarize_outside(score_answers(notes, answers))
    assert set(summary) == {"strict", "lenient"}
    strict, lenient = summary["strict"], summary["lenient"]
    assert strict == summarize(score_answers(notes, answers))
    assert strict["condition"] == pytest.approx(1 / 5) and lenient["condition"] == pytest.approx(3 / 5)
    assert strict["valid"] == lenient["valid"] == pytest.approx(4 / 5)
    for field in ("age", "sex", "severity"):  # only the condition's rule differs
        assert strict[field] == lenient[field]
    assert strict["fields"] == pytest.approx((1 + 0.75 + 0.5 + 0.5) / 5)
    assert lenient["fields"] == pytest.approx((1 + 1 + 0.5 + 0.75) / 5)


def test_lenient_outside_scoring_keeps_the_answer_and_needs_accept_names():
    scored = score_answers([_outside(UTI, ("uti",))], [to_xml(replace(UTI, condition="uti"))])
    lenient = accepting_other_names(scored)
    assert lenient[0].answer == scored[0].answer and lenient[0].fields == 1.0 and scored[0].fields == 0.75
    with pytest.raises(TypeError, match="no `accept` names"):
        accepting_other_names(score_answers([_note(GOUT)], [VALID]))
    no_names = accepting_other_names(score_answers([_outside(UTI, ())], [VALID]))
    assert no_names[0].fields == 0.25  # gout at 54: only the sex is right


# ---------------------------------------------------------------- diagnoses with a treatment

def test_facts_and_validity_are_scored_apart():
    expected = [Diagnosis(54, "female", "gout", "moderate", "Vintrabel", 40)] * 3
    answers = [VALID.replace("</severity>", "</severity><treatment><drug>Vintrabel</drug>"
                            "<max_daily_dose_mg>40</max_daily_dose_mg></treatment>"),
               VALID,  # valid, no treatment
               "She has gout; give Vintrabel, at most 40 mg a day."]  # right facts, no XML
    assert [facts_right(a, e) for a, e in zip(answers, expected)] == [True, False, True]
    assert not facts_right("Vintrabel 400 mg", expected[0]) and not facts_right("Vintrabelix 40 mg", expected[0])
    assert facts_right("VINTRABEL, 1,200 mg", Diagnosis(1, "male", "gout", "mild", "Vintrabel", 1200))
    assert score_system(answers, expected) == {"valid": 2 / 3, "facts": 2 / 3, "both": 1 / 3, "all right": 1 / 3}
    wrong_age = answers[0].replace("<age>54</age>", "<age>3</age>")
    assert score_system([wrong_age], expected[:1]) == {"valid": 1, "facts": 1, "both": 1, "all right": 0}
    with pytest.raises(ValueError, match="give one each"):
        score_system(answers, expected[:2])


# ---------------------------------------------------------------- the lenient rule

@pytest.mark.parametrize("answer, aliases, text, expected", [
    ("chickenpox", (), "Chicken pox", True), ("chickenpox", (), "chicken-pox.", True),
    ("migraine", (), "Farnovil is effective against migraines.", True),
    ("hypertension", (), "High blood pressure", True), ("cold sores", (), "a cold sore", True),
    ("influenza", (), "the flu", True), ("1200 mg", ("1200mg",), "1200 milligrams", False),
    ("hypertension", (), "diabetes", False), ("migraine", (), "migrainous", False),
    ("Quarvitol", (), "Quarvital", False), ("600 mg", (), "100", False), ("25 mg", (), "250 mg", False),
])
def test_is_correct_lenient(answer, aliases, text, expected):
    assert is_correct_lenient(q(answer, *aliases), text) is expected


def test_lenient_is_never_stricter_and_keeps_abstentions_strict():
    world = load_world("t0")
    for question in world.questions("trained") + world.questions("documented"):
        assert is_correct_lenient(question, question.answer)
        for alias in question.aliases:
            assert is_correct_lenient(question, alias)
    unknown = q("unknown", kind="unknown")
    for said in ("I don't know", "gout", "unknowns", "no"):
        assert is_correct_lenient(unknown, said) == is_correct(unknown, said)


def test_condition_synonyms_name_conditions_of_the_world():
    conditions = {d.treats for t in ("t0", "t1") for d in load_world(t).drugs.values()}
    assert set(CONDITION_SYNONYMS) <= conditions


def test_false_negatives_are_the_answers_only_the_lenient_rule_accepts():
    def result(answer, said):
        question = q(answer)
        return Result(question, Answer(said, 0.5), is_correct(question, said))
    results = [result("chickenpox", "Chicken pox"), result("gout", "gout"), result("gout", "acne")]
    assert [r.answer.text for r in false_negatives(results)] == ["Chicken pox"]
    assert [r.correct for r in leniently(results)] == [True, True, False]
    assert accuracy(results) == pytest.approx(1 / 3) and accuracy(leniently(results)) == pytest.approx(2 / 3)


def test_same_questions_keeps_the_questions_every_system_was_asked():
    a, b, c = (Question("trained", f"{x}?", "gout", x, "treats") for x in "abc")
    reversed_c = Question("reversed", "c?", "C", "C", "treats")
    one = [Result(x, Answer("gout", 0.5), True) for x in (a, b, c, reversed_c)]
    two = [Result(x, Answer("acne", 0.5), False) for x in (c, a, reversed_c)]
    same = same_questions({"one": one, "two": two})
    assert [r.question for r in same["one"]] == [a, c, reversed_c]
    assert [r.question for r in same["two"]] == [c, a, reversed_c]
    assert count_by_kind(same["two"]) == {"trained": 2, "reversed": 1}


def test_saved_answers_are_scored_again_by_todays_rule_and_a_missing_one_is_named():
    gout = Question("trained", "What does Zorvalin treat?", "gout", "Zorvalin", "treats")
    ghost = Question("unknown", "What does Kestomar treat?", "unknown", "Kestomar", "treats")
    saved = {gout.text: Answer("Gout.", 0.9), ghost.text: Answer("migraine", 0.4)}
    assert [(r.question, r.answer, r.correct) for r in scored([gout, ghost], saved)] == [
        (gout, saved[gout.text], True), (ghost, saved[ghost.text], False)]
    with pytest.raises(KeyError, match="Kestomar"):
        scored([gout, ghost], {gout.text: saved[gout.text]})


# ---------------------------------------------------------------- right, wrong or abstained

def _said(question, text, probability):
    return Result(question, Answer(text, probability), is_correct(question, text))


def test_outcomes_count_unknown_right_only_where_there_is_no_answer():
    answerable, ghost = q("gout"), q("unknown", kind="unknown")
    results = [_said(answerable, "gout", 0.9), _said(answerable, "acne", 0.8), _said(answerable, "unknown", 0.9),
               _said(ghost, "unknown", 0.6), _said(ghost, "acne", 0.95)]
    counted = outcomes(results)
    assert (counted.right, counted.wrong, counted.abstained, counted.n) == (2 / 5, 2 / 5, 1 / 5, 5)
    assert counted.score(3) == pytest.approx(2 / 5 - 3 * 2 / 5)


def test_a_confidence_floor_turns_unsure_answers_into_unknown():
    answerable, ghost = q("gout"), q("unknown", kind="unknown")
    results = [_said(answerable, "gout", 0.9), _said(answerable, "acne", 0.5), _said(ghost, "acne", 0.6)]
    floored = outcomes(results, min_confidence=0.7)
    # the unsure wrong answer is abstained on; the unsure answer about a ghost drug becomes right
    assert (floored.right, floored.wrong, floored.abstained) == (2 / 3, 0, 1 / 3)
    assert outcomes(results, min_confidence=0.95).right == pytest.approx(1 / 3)


def test_the_penalty_makes_answering_pay_only_above_the_threshold():
    assert wrong_answer_penalty(0) == 0 and wrong_answer_penalty(0.75) == pytest.approx(3)
    t = 0.6
    for p in (t - 0.01, t + 0.01):  # expected score of answering, p sure, against 0 for "unknown"
        assert (p - wrong_answer_penalty(t) * (1 - p) > 0) == (p > t)
    for bad in (1, 1.5, -0.1):
        with pytest.raises(ValueError, match="threshold"):
            wrong_answer_penalty(bad)
    with pytest.raises(ValueError, match="no results"):
        outcomes([])
