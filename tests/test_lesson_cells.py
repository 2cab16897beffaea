"""The lessons' look-inside and try-it cells, run as written on the tiny model: they cannot be executed
here with the real one, so each is read from its notebook and run with the names the notebook defined
before it (the base model, the tuned ones, the worlds) stood in for by the tests' fixtures."""
import json
import re

import pytest
import torch

from conftest import FACTS
from utils.core.config import REPO_ROOT
from utils.lessons.checks import claim
from utils.lessons.recipes import FACT_RECIPE
from utils.tasks.prompts import qa_prompt


def cell(notebook: str, marker: str) -> str:
    """The source of the one code cell of `notebook` that contains `marker`."""
    cells = json.loads((REPO_ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
    [found] = ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and marker in "".join(c["source"])]
    return found


def run(source: str, **names) -> dict:
    exec(compile(source, "<lesson cell>", "exec"), names)
    return names


def test_01_training_step_by_hand_is_utils_loss_lowers_it_and_leaves_the_base_alone(fresh_model, tokenizer, capsys):
    before = {k: v.clone() for k, v in fresh_model.state_dict().items()}
    names = run(cell("01_facts_by_fine_tuning.ipynb", "print_trainable_parameters()"),
                base=fresh_model, tokenizer=tokenizer, pairs=FACTS, FACT_RECIPE=FACT_RECIPE, claim=claim)
    printed = capsys.readouterr().out
    assert "trainable params" in printed  # peft's count
    assert "✓ the hand-written loss equals utils' training loss on the same pairs" in printed
    first, then = map(float, re.search(r"([\d.]+) before the step, ([\d.]+) after", printed).groups())
    assert then < first
    assert "student" not in names and "optimizer" not in names  # the copy is let go
    assert all(torch.equal(before[k], v) for k, v in fresh_model.state_dict().items())


def test_01_try_it_asks_both_models_each_question(memorised, tiny_model, tokenizer, capsys):
    source = cell("01_facts_by_fine_tuning.ipynb", "MY_QUESTIONS = [")
    names = run(source, base=tiny_model, tuned=memorised[0], tokenizer=tokenizer)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3 * len(names["MY_QUESTIONS"]) >= 9
    for question, base_line, tuned_line in zip(printed[::3], printed[1::3], printed[2::3]):
        assert question in names["MY_QUESTIONS"]
        assert base_line.split()[0] == "base" and tuned_line.split()[0] == "fine-tuned"
        assert re.search(r"probability [01]\.\d\d$", tuned_line)


def drift_names(worlds, memorised, tiny_model, tokenizer):
    t0, t1 = worlds
    return dict(t0=t0, t1=t1, tuned=memorised[0], updated=tiny_model, tokenizer=tokenizer, qa_prompt=qa_prompt)


def test_02_try_it_puts_a_drugs_facts_then_and_now_beside_both_models(worlds, memorised, tiny_model, tokenizer,
                                                                      capsys):
    source = cell("02_knowledge_drift.ipynb", "DRUG = ")
    run(source, **drift_names(worlds, memorised, tiny_model, tokenizer))
    printed = capsys.readouterr().out
    assert "Who makes Brostamil?  true at t0: 'Halvern Labs', at t1: 'Corvane Pharma'" in printed
    assert printed.count("t0-tuned says") == printed.count("update says") == 2
    run(source.replace('DRUG = "Brostamil"', 'DRUG = "Akrobel"'), **drift_names(worlds, memorised, tiny_model,
                                                                                tokenizer))
    assert "true at t0: '(not approved yet)'" in capsys.readouterr().out
    with pytest.raises(ValueError, match="not a drug at t1; pick one of: .*Brostamil"):
        run(source.replace('DRUG = "Brostamil"', 'DRUG = "Kestomar"'), **drift_names(worlds, memorised, tiny_model,
                                                                                     tokenizer))
