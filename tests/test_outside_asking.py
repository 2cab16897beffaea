"""utils/tasks/outside.py: the outside documents asked as "Ask your own documents" asks (ask.Documents),
each half calibrated on the other's questions, and scored as data/outside/README.md says."""
import pytest

from utils.tasks import ask
from utils.tasks.ask import Reply
from utils.tasks.outside import (
    FORMS,
    OutsideQuestion,
    ask_document_set,
    calibration_folds,
    document_scores,
    load_document_set,
    normalized,
    reply_right,
)
from utils.tasks.world import UNKNOWN

ANSWERABLE = OutsideQuestion("q1", "How much is a single?", "how much", "£2.40", ("2.40", "£2.40 each way"), "f.md")
UNANSWERABLE = OutsideQuestion("q2", "Is there a night service?", "which", UNKNOWN, (), None, "f.md")


def test_normalized_drops_case_blanks_and_end_punctuation_only():
    assert normalized("  The Travel   desk. ") == "the travel desk"
    assert normalized("«£2.40»") == "£2.40" and normalized("9:30 a.m.") == "9:30 a.m"


@pytest.mark.parametrize("reply, strict, lenient", [
    ("£2.40", True, True), (" £2.40.", True, True), ("2.40", False, True), ("£2.40 each way", False, True),
    ("£2.40 or £4.80", False, False), ("unknown", False, False), ("£4.80", False, False)])
def test_an_answerable_question_is_right_when_the_reply_equals_an_answer(reply, strict, lenient):
    assert reply_right(ANSWERABLE, reply) is strict
    assert reply_right(ANSWERABLE, reply, lenient=True) is lenient


def test_an_unanswerable_question_is_right_when_the_system_abstains():
    assert reply_right(UNANSWERABLE, "unknown") and reply_right(UNANSWERABLE, "I don't know", lenient=True)
    assert not reply_right(UNANSWERABLE, "Sundays")


@pytest.mark.parametrize("which", ["dev", "test"])
def test_the_folds_split_the_questions_by_document(which):
    found = load_document_set(which)
    folds = calibration_folds(found)
    assert sorted(q.id for fold in folds for q in fold) == sorted(q.id for q in found.questions)
    documents = [{q.file or q.near for q in fold} - {None} for fold in folds]
    assert documents[0] and documents[1] and not documents[0] & documents[1]
    for fold in folds:  # each half can calibrate the other: questions of both kinds
        assert any(q.answer == UNKNOWN for q in fold) and any(q.answer != UNKNOWN for q in fold)


def test_each_half_is_asked_with_the_threshold_the_other_half_chose(tiny_model, tokenizer, monkeypatch):
    calibrated, asked = [], []
    real_calibrate, real_ask = ask.Documents.calibrate, ask.Documents.ask
    monkeypatch.setattr(ask.Documents, "calibrate", lambda self, answerable, unanswerable: calibrated.append(
        set(answerable) | set(unanswerable)) or real_calibrate(self, answerable, unanswerable))
    monkeypatch.setattr(ask.Documents, "ask", lambda self, m, t, questions, shots=(): asked.append(
        (set(questions), self.threshold)) or real_ask(self, m, t, questions, shots))
    answered = ask_document_set(tiny_model, tokenizer, "dev")
    found = load_document_set("dev")
    assert [q for q, _ in answered] == found.questions
    assert [r.question for _, r in answered] == [q.text for q in found.questions]
    assert len(calibrated) == len(asked) == 2
    for calibration, (questions, _) in zip(calibrated, asked):
        assert not calibration & questions and calibration | questions == {q.text for q in found.questions}
    assert {r.threshold for _, r in answered} == {threshold for _, threshold in asked}


def test_document_scores_count_strict_lenient_and_abstained_by_form():
    found = load_document_set("dev")

    def replies(answer_of):
        return [(q, Reply(q.text, answer_of(q), q.file, 1.0, 0.9, 0.5)) for q in found.questions]

    perfect = document_scores(replies(lambda q: q.answer))
    assert list(perfect) == ["all"] + [f for f in FORMS if f in {q.form for q in found.questions}]
    assert (perfect["all"].strict, perfect["all"].lenient, perfect["all"].abstained) == (1.0, 1.0, 1.0)
    assert perfect["all"].answerable + perfect["all"].unanswerable == len(found.questions)
    other_wording = document_scores(replies(lambda q: q.accept[0] if q.accept else "unknown"))
    with_accept = [q for q in found.questions if q.accept]
    same = [q for q in with_accept if normalized(q.accept[0]) == normalized(q.answer)]  # "The travel desk"
    assert other_wording["all"].strict == len(same) / perfect["all"].answerable < 0.1
    assert other_wording["all"].abstained == 1.0
    assert other_wording["all"].lenient == len(with_accept) / perfect["all"].answerable
    refused = document_scores(replies(lambda q: "unknown"))  # refusing an answerable question is a miss
    assert refused["all"].strict == refused["all"].lenient == 0 and refused["all"].abstained == 1.0
    assert perfect["all"].wrong == refused["all"].wrong == 0  # a refusal is a miss, not a wrong answer
    guessed = document_scores(replies(lambda q: "Tuesday"))  # an answer to everything, right for none
    assert guessed["all"].wrong == 1.0 and guessed["all"].abstained == 0.0
    assert all(s.strict is None for s in refused.values() if not s.answerable)
