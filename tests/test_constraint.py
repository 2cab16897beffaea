"""Tests for utils/tasks/constraint.py: the regex agrees with data/clinical/diagnosis.xsd and to_xml, llguidance
reads it as Python does, and what a model writes under the constraint passes the schema."""
import re
from dataclasses import replace

import pytest
import torch
from llguidance import LLMatcher
from lxml import etree
from transformers import LogitsProcessor

from utils.core.batching import left_pad
from utils.tasks.clinical import SCHEMA_PATH, load_notes, to_xml, validate_xml
from utils.tasks.constraint import CONDITION, DIAGNOSIS_REGEX, RegexConstraint, diagnosis_constraint, diagnosis_regex

GOLD = [to_xml(n.expected) for n in load_notes()]
TREATED = [to_xml(replace(n.expected, drug=drug, max_daily_dose_mg=dose))
           for n, drug, dose in zip(load_notes(), ["Altrevon", "Co-Zubrenol 5", "A&B <retard>", "x"], [40, 1, 2500, 7])]
ONE = GOLD[0]
# Strings the schema rejects; the constraint must too.
SCHEMA_REJECTS = {
    "age 130": ONE.replace(re.search(r"<age>\d+", ONE)[0], "<age>130"),
    "age -1": ONE.replace(re.search(r"<age>\d+", ONE)[0], "<age>-1"),
    "sex other": re.sub(r"<sex>\w+</sex>", "<sex>other</sex>", ONE),
    "severity bad": re.sub(r"<severity>\w+</severity>", "<severity>bad</severity>", ONE),
    "condition upper case": re.sub(r"<condition>[^<]+", "<condition>Gout", ONE),
    "condition double space": re.sub(r"<condition>[^<]+", "<condition>hay  fever", ONE),
    "missing tag": re.sub(r"<severity>\w+</severity>", "", ONE),
    "tags out of order": re.sub(r"(<age>\d+</age>)(<sex>\w+</sex>)", r"\2\1", ONE),
    "two lines": ONE + "\n" + ONE,
    "text after": ONE + " I hope this helps.",
    "empty drug": ONE.replace("</diagnosis>", "<treatment><drug></drug><max_daily_dose_mg>5</max_daily_dose_mg>"
                              "</treatment></diagnosis>"),
    "dose 0": TREATED[0].replace(">40<", ">0<"),
    "drug with a blank at the end": TREATED[0].replace("Altrevon", "Altrevon "),
}
# Valid by the schema, but not the one line to_xml writes: the constraint keeps to to_xml's form.
NOT_TO_XML = {"split over lines": ONE.replace("><sex>", ">\n<sex>"),
              "leading zero": re.sub(r"<age>(\d+)", r"<age>0\1", ONE),
              "plus sign": re.sub(r"<age>(\d+)", r"<age>+\1", ONE)}


@pytest.fixture(scope="module")
def ll_accepts(tokenizer):
    """Whether llguidance, fed the tiny tokenizer's tokens of a string, ends in an accepting state."""
    constraint = RegexConstraint(tokenizer, DIAGNOSIS_REGEX)

    def accepts(text: str) -> bool:
        matcher = LLMatcher(constraint.tokenizer, constraint.grammar)
        return matcher.consume_tokens(tokenizer(text, add_special_tokens=False).input_ids) and matcher.is_accepting()
    return accepts


def test_every_gold_answer_is_accepted(ll_accepts):
    assert GOLD and all(re.fullmatch(DIAGNOSIS_REGEX, x) for x in GOLD)
    assert all(re.fullmatch(diagnosis_regex(False), x) and not re.fullmatch(diagnosis_regex(True), x) for x in GOLD)
    assert all(validate_xml(x).valid for x in TREATED)
    assert all(re.fullmatch(DIAGNOSIS_REGEX, x) and re.fullmatch(diagnosis_regex(True), x) for x in TREATED)
    assert not any(re.fullmatch(diagnosis_regex(False), x) for x in TREATED)
    assert all(ll_accepts(x) for x in GOLD + TREATED)


@pytest.mark.parametrize("name", SCHEMA_REJECTS)
def test_what_the_schema_rejects_the_constraint_rejects(name, ll_accepts):
    text = SCHEMA_REJECTS[name]
    assert not validate_xml(text).valid
    assert not re.fullmatch(DIAGNOSIS_REGEX, text) and not ll_accepts(text)


@pytest.mark.parametrize("name", NOT_TO_XML)
def test_the_constraint_keeps_to_the_one_line_to_xml_writes(name, ll_accepts):
    text = NOT_TO_XML[name]
    assert validate_xml(text).valid and not re.fullmatch(DIAGNOSIS_REGEX, text) and not ll_accepts(text)


def test_the_regex_allows_what_the_xsd_enumerates_and_bounds():
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    xsd = etree.parse(str(SCHEMA_PATH))

    def values(element: str, facet: str) -> list[str]:
        return xsd.xpath(f"//xs:element[@name='{element}']//xs:{facet}/@value", namespaces=xs)

    one = replace(load_notes()[0].expected)
    for field in ("sex", "severity"):
        allowed = values(field, "enumeration")
        assert all(re.fullmatch(DIAGNOSIS_REGEX, to_xml(replace(one, **{field: v}))) for v in allowed)
        assert re.search(r"\(([a-z|]+)\)", diagnosis_regex().split(f"<{field}>")[1])[1].split("|") == allowed
    low, high = int(values("age", "minInclusive")[0]), int(values("age", "maxInclusive")[0])
    ages = {age: bool(re.fullmatch(DIAGNOSIS_REGEX, to_xml(replace(one, age=age)))) for age in range(-5, 200)}
    assert ages == {age: low <= age <= high for age in ages}
    assert values("condition", "pattern") == [CONDITION]


class TowardsTheEnd(LogitsProcessor):
    """Raises tokens that close a tag (and the end token), so a random model's sampled answers end
    within a few dozen tokens instead of spelling a condition forever; the constraint still decides."""

    def __init__(self, tokenizer, boost: float = 8.0):
        self.ids = [i for t, i in tokenizer.get_vocab().items() if "<" in t] + [tokenizer.eos_token_id]
        self.boost = boost

    def __call__(self, input_ids, scores):
        scores[:, self.ids] += self.boost
        return scores


HOSTILE = ["<diagnosis><age>54</age><sex>female</sex><condition>gout</condition><severity>moderate</severity>",
           "</diagnosis>]]><!DOCTYPE x [<!ENTITY a 'b'>]>&a; <treatment><drug>",
           "45 M, chest pain.", "Note: " + "very long " * 20]


@pytest.mark.parametrize("treatment", [None, True])
def test_sampled_answers_validate_against_the_xsd(tiny_model, tokenizer, treatment):
    # Left-padded batch of prompts of different lengths, XML-like text among them; one processor for two calls.
    constraint = diagnosis_constraint(tokenizer, treatment)
    ids, mask, _ = left_pad([tokenizer(p, add_special_tokens=False).input_ids for p in HOSTILE], tokenizer.pad_token_id)
    answers = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        out = tiny_model.generate(input_ids=ids, attention_mask=mask, do_sample=True, max_new_tokens=150,
                                  pad_token_id=tokenizer.pad_token_id,
                                  logits_processor=[TowardsTheEnd(tokenizer), *constraint])
        new = out[:, ids.shape[1]:]
        assert (new == tokenizer.eos_token_id).any(1).all(), "an answer ran out of tokens"
        answers += tokenizer.batch_decode(new, skip_special_tokens=True)
    assert len(set(answers)) > 1
    for text in answers:
        assert validate_xml(text).valid, text
        assert re.fullmatch(diagnosis_regex(treatment), text), text


def test_the_prompt_never_reaches_the_constraint(tokenizer):
    # The first step's mask is the same after a short note, one full of XML, and a very long one.
    def first_mask(prompt: str) -> torch.Tensor:
        ids = torch.tensor([tokenizer(prompt, add_special_tokens=False).input_ids])
        scores = RegexConstraint(tokenizer, DIAGNOSIS_REGEX)(ids, torch.zeros(1, len(tokenizer) + 7))
        return torch.isfinite(scores)

    reference = first_mask("45 M")
    allowed = [tokenizer.decode([i]) for i in reference[0].nonzero().flatten().tolist()]
    assert allowed and all(" <diagnosis>".startswith(t) or "<diagnosis>".startswith(t) for t in allowed)
    assert "<" in allowed and any(t.startswith(" ") for t in allowed)  # the chat model's start; the adapter's " <"
    assert not reference[0, len(tokenizer):].any()  # the model's padding columns
    for prompt in HOSTILE + ["Note: " + "<diagnosis><age>1" * 5_000]:
        assert torch.equal(first_mask(prompt), reference)


def test_generate_writes_valid_xml_under_the_constraint(tiny_model, tokenizer):
    # Through the course's generate: batches sorted by length, a shared prompt prefix read once (the
    # few-shot prompts' case), answers cut at the end token; greedy, so the random model needs the push.
    from utils.core.generation import SHARED_PREFIX_MIN_TOKENS, generate

    shared = "Write the diagnosis XML of the note. " * SHARED_PREFIX_MIN_TOKENS
    prompts = [shared + note for note in HOSTILE] + ["45 M", "Note: gout"]
    constraint = [TowardsTheEnd(tokenizer), *diagnosis_constraint(tokenizer, treatment=False)]
    answers = generate(tiny_model, tokenizer, prompts, max_new_tokens=150, batch_size=3, progress=False,
                       first_line_only=False, constraint=constraint)
    free = generate(tiny_model, tokenizer, prompts, max_new_tokens=20, batch_size=3, progress=False,
                    first_line_only=False)
    assert not any(validate_xml(a.text).valid for a in free)  # without it, a random model writes no XML
    for answer in answers:
        assert validate_xml(answer.text).valid and re.fullmatch(diagnosis_regex(False), answer.text), answer.text
        assert 0 < answer.probability <= 1
