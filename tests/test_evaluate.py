"""utils/evaluate.py: scoring answers, batched generation, answer probabilities."""
import math

import pytest
import torch
from conftest import FACTS

from utils.evaluate import (Answer, Result, accuracy, accuracy_by_kind, answer_probability,
                            evaluate, generate, is_correct, normalize)
from utils.prompts import qa_prompt
from utils import evaluate as evaluate_module
from utils.batching import encode
from utils.train import TrainConfig, train, with_lora
from utils.world import Question, load_world


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


# ---------------------------------------------------------------- generate

PROMPTS = [p for p, _ in FACTS]
ANSWERS = [a for _, a in FACTS]


def test_generate_on_an_untrained_model(tiny_model, tokenizer):
    prompts = ["Q: What does Altrevon treat?\nA:", "Q: Who?\nA:", "hello"]
    answers = generate(tiny_model, tokenizer, prompts, max_new_tokens=6, progress=False)
    assert len(answers) == 3 and all(isinstance(a, Answer) for a in answers)
    for a in answers:
        assert "\n" not in a.text and a.text == a.text.strip()
        assert 0 < a.probability <= 1


def test_generate_keeps_the_input_order(memorised, tokenizer):
    model, _ = memorised
    # Lengths out of order, and a batch size that makes the sort by length matter.
    prompts = [PROMPTS[3], PROMPTS[1], PROMPTS[2], PROMPTS[0], PROMPTS[3]]
    assert sorted(map(len, prompts)) != list(map(len, prompts))
    together = generate(model, tokenizer, prompts, batch_size=2, progress=False)
    alone = [generate(model, tokenizer, [p], progress=False)[0] for p in prompts]
    assert [a.text for a in together] == [ANSWERS[i] for i in (3, 1, 2, 0, 3)]
    assert [a.text for a in together] == [a.text for a in alone]
    for t, a in zip(together, alone):
        assert t.probability == pytest.approx(a.probability, rel=1e-3)
        assert 0.5 < t.probability <= 1


def test_a_shared_prompt_prefix_is_read_once_with_the_same_answers(memorised, tokenizer, monkeypatch):
    model, _ = memorised
    preamble = "Answer each question about the drugs of our fictional formulary in a few words.\n" * 3
    prompts = [preamble + p for p in PROMPTS + PROMPTS[:1]]
    ids = [tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
    prefix, cache = evaluate_module._shared_prefix(model, ids)
    assert len(prefix) >= evaluate_module.SHARED_PREFIX_MIN_TOKENS and cache.get_seq_length() == len(prefix)
    cached = generate(model, tokenizer, prompts, batch_size=2, max_new_tokens=8, progress=False)
    monkeypatch.setattr(evaluate_module, "SHARED_PREFIX_MIN_TOKENS", 10**9)  # every prompt read whole
    assert evaluate_module._shared_prefix(model, ids) == ([], None)
    whole = generate(model, tokenizer, prompts, batch_size=2, max_new_tokens=8, progress=False)
    assert [a.text for a in cached] == [a.text for a in whole]
    for c, w in zip(cached, whole):
        assert c.probability == pytest.approx(w.probability, rel=1e-4)


def test_identical_prompts_keep_a_token_of_their_own_to_read(tiny_model, tokenizer):
    ids = [tokenizer(PROMPTS[0] * 8, add_special_tokens=False).input_ids] * 2
    prefix, _ = evaluate_module._shared_prefix(tiny_model, ids)
    assert prefix == ids[0][:-1]
    assert evaluate_module._shared_prefix(tiny_model, ids[:1]) == ([], None)  # one prompt shares nothing
    assert generate(tiny_model, tokenizer, [], progress=False) == []  # e.g. every question abstained on


def test_generate_stops_at_the_end_of_the_first_line(tiny_model, tokenizer):
    cfg = TrainConfig(epochs=60, lr=1e-2, batch_size=2, lora_r=8, lora_alpha=16)
    pairs = [(qa_prompt("What does Calvenix treat?"), "pneumonia\nQ: Who makes it?"),
             (qa_prompt("Who makes Calvenix?"), "Brightmoor Biotech")]
    model = with_lora(tiny_model, cfg)
    train(model, tokenizer, pairs, cfg)
    multi_line, single = generate(model, tokenizer, [p for p, _ in pairs], max_new_tokens=12,
                                  progress=False)
    assert multi_line.text == "pneumonia" and single.text == "Brightmoor Biotech"
    # The probability is that of " pneumonia\n": the newline ended the answer, the rest is unpaid.
    prompt_ids = tokenizer(pairs[0][0], add_special_tokens=False).input_ids
    answer_ids = tokenizer(" pneumonia\n", add_special_tokens=False).input_ids
    with torch.no_grad():
        logprobs = model(torch.tensor([prompt_ids + answer_ids])).logits[0].log_softmax(-1)
    steps = logprobs[len(prompt_ids) - 1:-1].gather(1, torch.tensor(answer_ids)[:, None])
    assert multi_line.probability == pytest.approx(steps.sum().exp().item(), rel=1e-3)
    [without_newline] = answer_probability(model, tokenizer, [pairs[0][0]], ["pneumonia"])
    assert multi_line.probability < without_newline
    # first_line_only=False (e.g. for XML spread over lines) keeps the lines after the first.
    [every_line] = generate(model, tokenizer, [pairs[0][0]], max_new_tokens=16, first_line_only=False,
                            progress=False)
    assert every_line.text == "pneumonia\nQ: Who makes it?"


def test_generate_stops_after_max_new_tokens(tiny_model, tokenizer):
    [answer] = generate(tiny_model, tokenizer, ["Q: What does Altrevon treat?\nA:"],
                        max_new_tokens=1, progress=False)
    assert len(tokenizer(answer.text, add_special_tokens=False).input_ids) <= 1


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
    from utils.config import QUICK_PER_GROUP
    model, _ = memorised
    trained = [Question("trained", p.removeprefix("Q: ").removesuffix("\nA:"), a, None, None) for p, a in FACTS]
    unknown = [Question("unknown", f"Who makes Kestomar{i}?", "unknown", "Kestomar", "maker") for i in range(2)]
    questions = trained * 3 + unknown  # more trained questions than a quick run asks
    monkeypatch.setenv("FTRAG_QUICK", "1")
    results = evaluate(model, tokenizer, questions, progress=False)
    assert [r.question for r in results] == trained[:QUICK_PER_GROUP] + unknown
    assert set(accuracy_by_kind(results)) == {"trained", "unknown"}  # every kind still scored


# ---------------------------------------------------------------- answer_probability

def test_answer_probability_matches_generation(memorised, tokenizer):
    model, _ = memorised
    generated = generate(model, tokenizer, PROMPTS, progress=False)
    probs = answer_probability(model, tokenizer, PROMPTS, [a.text for a in generated])
    for prompt, gen, p in zip(PROMPTS, generated, probs):
        # generate also pays for the end token; answer_probability stops at the answer.
        assert gen.probability <= p + 1e-6
        ids, _ = encode(tokenizer, prompt, gen.text)
        with torch.no_grad():
            p_end = model(torch.tensor([ids[:-1]])).logits[0, -1].softmax(-1)[ids[-1]].item()
        assert gen.probability == pytest.approx(p * p_end, rel=1e-3)


def test_answer_probability_is_batch_independent_and_tells_answers_apart(memorised, tokenizer):
    model, _ = memorised
    right = answer_probability(model, tokenizer, PROMPTS, ANSWERS, batch_size=3)
    alone = [answer_probability(model, tokenizer, [p], [a])[0] for p, a in FACTS]
    assert right == pytest.approx(alone, rel=1e-4)
    assert all(p > 0.5 for p in right)
    swapped = answer_probability(model, tokenizer, PROMPTS, ANSWERS[1:] + ANSWERS[:1])
    assert all(s < r / 100 for s, r in zip(swapped, right))
    # Surrounding spaces do not matter: the answer is scored after exactly one space.
    assert answer_probability(model, tokenizer, PROMPTS[:1], ["  " + ANSWERS[0] + " "]) == \
        pytest.approx(right[:1])


def test_evaluate_xml_scores_every_note(tiny_model, tokenizer):
    from utils.clinical import load_notes
    from utils.evaluate import evaluate_xml
    notes = [n for n in load_notes() if n.split == "test"][:3]
    scored = evaluate_xml(tiny_model, tokenizer, notes, max_new_tokens=4, batch_size=2, progress=False)
    assert [s.note for s in scored] == notes
    assert all(not s.verdict.valid and s.fields == 0.0 for s in scored)  # an untrained model writes no XML
    echo = evaluate_xml(tiny_model, tokenizer, notes, prompt=lambda text: text, max_new_tokens=2, progress=False)
    assert len(echo) == 3


def test_a_quick_run_asks_a_few_notes_of_every_split(tiny_model, tokenizer, monkeypatch):
    from utils.clinical import load_notes
    from utils.config import QUICK_PER_GROUP
    from utils.evaluate import evaluate_xml
    notes = [n for n in load_notes() if n.split != "train"]
    monkeypatch.setenv("FTRAG_QUICK", "1")
    scored = evaluate_xml(tiny_model, tokenizer, notes, max_new_tokens=2, progress=False)
    assert [s.note for s in scored] == [n for n in notes if n.split == "test"][:QUICK_PER_GROUP] + \
        [n for n in notes if n.split == "unseen_style"][:QUICK_PER_GROUP]
