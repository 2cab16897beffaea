"""utils/tasks/evaluate.py: every question (or note) asked, and its answer scored."""
import pytest

from conftest import FACTS
from utils.tasks.evaluate import evaluate, ranked_choice
from utils.tasks.scoring import accuracy_by_kind
from utils.tasks.world import Question


def test_evaluate_scores_the_generated_answers(memorised, tokenizer):
    model, _ = memorised
    questions = [Question("trained", p.removeprefix("Q: ").removesuffix("\nA:"), a, None, None)
                 for p, a in FACTS]
    questions.append(Question("unknown", "Who makes Kestomar?", "unknown", "Kestomar", "maker"))
    results = evaluate(model, tokenizer, questions, progress=False)
    assert [r.question for r in results] == questions
    assert [r.correct for r in results] == [True] * len(FACTS) + [False]
    assert accuracy_by_kind(results) == {"trained": 1.0, "unknown": 0.0}


def test_a_quick_run_asks_a_few_questions_of_every_kind(memorised, tokenizer, monkeypatch):
    from utils.core.config import QUICK_PER_GROUP
    model, _ = memorised
    trained = [Question("trained", p.removeprefix("Q: ").removesuffix("\nA:"), a, None, None) for p, a in FACTS]
    unknown = [Question("unknown", f"Who makes Kestomar{i}?", "unknown", "Kestomar", "maker") for i in range(2)]
    questions = trained * 3 + unknown  # more trained questions than a quick run asks
    monkeypatch.setenv("FTRAG_QUICK", "1")
    results = evaluate(model, tokenizer, questions, progress=False)
    assert [r.question for r in results] == trained[:QUICK_PER_GROUP] + unknown
    assert set(accuracy_by_kind(results)) == {"trained", "unknown"}  # every kind still scored



def test_ranked_choice_ranks_the_right_answer_among_the_candidates_a_quick_run_asks_a_few(memorised, tokenizer,
                                                                                          monkeypatch):
    model, _ = memorised
    answers = [a for _, a in FACTS]
    trained = [Question("trained", p.removeprefix("Q: ").removesuffix("\nA:"), a, None, None) for p, a in FACTS]
    assert ranked_choice(model, tokenizer, trained, answers) == [1] * len(FACTS)
    monkeypatch.setenv("FTRAG_QUICK", "1")
    assert len(ranked_choice(model, tokenizer, trained * 2, answers)) == 2  # each scored against every candidate


def test_evaluate_xml_scores_every_note(tiny_model, tokenizer):
    from utils.tasks.clinical import load_notes
    from utils.tasks.evaluate import evaluate_xml
    notes = [n for n in load_notes() if n.split == "test"][:3]
    scored = evaluate_xml(tiny_model, tokenizer, notes, max_new_tokens=4, batch_size=2, progress=False)
    assert [s.note for s in scored] == notes
    assert all(not s.verdict.valid and s.fields == 0.0 for s in scored)  # an untrained model writes no XML
    echo = evaluate_xml(tiny_model, tokenizer, notes, prompt=lambda text: text, max_new_tokens=2, progress=False)
    assert len(echo) == 3


def test_a_quick_run_asks_a_few_notes_of_every_split(tiny_model, tokenizer, monkeypatch):
    from utils.core.config import QUICK_PER_GROUP
    from utils.tasks.clinical import load_notes
    from utils.tasks.evaluate import evaluate_xml
    notes = [n for n in load_notes() if n.split != "train"]
    monkeypatch.setenv("FTRAG_QUICK", "1")
    scored = evaluate_xml(tiny_model, tokenizer, notes, max_new_tokens=2, progress=False)
    assert [s.note for s in scored] == [n for n in notes if n.split == "test"][:QUICK_PER_GROUP] + \
        [n for n in notes if n.split == "unseen_style"][:QUICK_PER_GROUP]


def test_a_quick_run_cuts_xml_answers_short(tiny_model, tokenizer, monkeypatch):
    import utils.tasks.evaluate as evaluate_mod
    from utils.tasks.clinical import load_notes
    asked = []
    real_generate = evaluate_mod.generate

    def generate(*args, **kwargs):
        asked.append(kwargs["max_new_tokens"])
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(evaluate_mod, "generate", generate)
    notes = [n for n in load_notes() if n.split == "test"][:1]
    evaluate_mod.evaluate_xml(tiny_model, tokenizer, notes, max_new_tokens=56, progress=False)
    monkeypatch.setenv("FTRAG_QUICK", "1")
    evaluate_mod.evaluate_xml(tiny_model, tokenizer, notes, max_new_tokens=56, progress=False)
    assert asked == [56, evaluate_mod.QUICK_MAX_NEW_TOKENS]


def test_evaluate_groups_asks_every_group_in_one_generation_with_evaluates_answers(memorised, tokenizer,
                                                                                    monkeypatch):
    import utils.tasks.evaluate as evaluate_mod
    model, _ = memorised
    trained = [Question("trained", p.removeprefix("Q: ").removesuffix("\nA:"), a, None, None) for p, a in FACTS]
    unknown = [Question("unknown", "Who makes Kestomar?", "unknown", "Kestomar", "maker")]
    groups = {"first": trained[:2], "rest": trained[2:] + unknown, "none": []}
    alone = {name: evaluate(model, tokenizer, qs, progress=False) for name, qs in groups.items()}
    calls = []
    real_generate = evaluate_mod.generate
    monkeypatch.setattr(evaluate_mod, "generate", lambda *a, **k: calls.append(a[2]) or real_generate(*a, **k))
    together = evaluate_mod.evaluate_groups(model, tokenizer, groups, progress=False)
    assert len(calls) == 1 and len(calls[0]) == len(FACTS) + 1
    # Each group's questions, answers and scores, in order (the probabilities to rounding: other batch-mates).
    assert {name: [(r.question, r.answer.text, r.correct) for r in rs] for name, rs in together.items()} == \
        {name: [(r.question, r.answer.text, r.correct) for r in rs] for name, rs in alone.items()}
    assert [r.answer.probability for r in together["rest"]] == \
        pytest.approx([r.answer.probability for r in alone["rest"]], rel=1e-3)


def test_evaluate_groups_samples_each_group_in_a_quick_run(memorised, tokenizer, monkeypatch):
    from utils.core.config import QUICK_PER_GROUP
    from utils.tasks.evaluate import evaluate_groups
    model, _ = memorised
    trained = [Question("trained", p.removeprefix("Q: ").removesuffix("\nA:"), a, None, None) for p, a in FACTS]
    monkeypatch.setenv("FTRAG_QUICK", "1")
    # Both groups hold questions of the same kind: each keeps its own first few.
    results = evaluate_groups(model, tokenizer, {"a": trained * 2, "b": trained[:1]}, progress=False)
    assert [r.question for r in results["a"]] == (trained * 2)[:QUICK_PER_GROUP]
    assert [r.question for r in results["b"]] == trained[:1]
