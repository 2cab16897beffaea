"""Knowledge drift: the facts change between two time points, the weights do not.

Questions grouped by what happened to their fact, the table of right (new) and stale (old) answers
(scored by utils.tasks.scoring.drift_scores), a probe that watches both during an update, and what updating
costs over time.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from utils.tasks.evaluate import evaluate_groups
from utils.tasks.scoring import drift_scores
from utils.tasks.world import World, changed_facts

GROUPS = ("changed", "changed, paraphrased", "unchanged", "new")


def drift_questions(old: World, new: World) -> dict[str, list]:
    """The `new` world's trained facts by what happened since `old`, answers as of `new`.

    "changed, paraphrased" asks each changed fact in every held-out phrasing: an update taught
    in one phrasing may not reach the others (old-value leakage).
    """
    diff = changed_facts(old, new)
    changed = {(q.drug, q.attribute) for q in diff["changed"]}
    paraphrased = [q for q in new.all_paraphrases({d for d, _ in changed}) if (q.drug, q.attribute) in changed]
    return {"changed": diff["changed"], "changed, paraphrased": paraphrased,
            "unchanged": diff["unchanged"], "new": diff["new"]}


def drift_table(model, tokenizer, questions: dict[str, list], old: World) -> tuple[dict, dict]:
    """Ask each group of `questions` (drift_questions), all in one generation, and score it:
    ({group: {"right", "stale"}}, {group: results}). The stale answers are `old`'s (scoring.drift_scores)."""
    results = evaluate_groups(model, tokenizer, questions, progress=False)
    return {group: drift_scores(rs, old) for group, rs in results.items()}, results


def drift_probe(tokenizer, old: World, new: World, groups=("changed", "unchanged", "new")):
    """A training probe (see train.train): per group, the fraction answered right (and stale)."""
    questions = drift_questions(old, new)

    def probe(model) -> dict[str, float]:
        table, _ = drift_table(model, tokenizer, {group: questions[group] for group in groups}, old)
        out = {}
        for group, scores in table.items():
            out[group] = scores["right"]
            if group.startswith("changed"):
                out[f"{group}: stale"] = scores["stale"]
        return out

    return probe


def training_flops(tokens: int, parameters: int, full: bool) -> float:
    """Rough training compute: a forward pass costs 2 x parameters a token, the backward pass 2x
    for the activations' gradients plus 2x for the weights' (full fine-tuning only; LoRA's
    frozen weights need no gradient, and its own few million weights are left out)."""
    return (6 if full else 4) * parameters * tokens


@dataclass(frozen=True)
class DriftScenario:
    """A simple drift timeline: every month some facts change and some new ones arrive
    (the defaults repeat the measured t0 -> t1 change each month)."""
    months: int = 12
    facts: int = 100
    changed_per_month: int = 15
    new_per_month: int = 20

    def facts_at(self, month: int) -> int:
        return self.facts + month * self.new_per_month


def cumulative_cost(scenario: DriftScenario, cost_per_fact: float, redo_all: bool) -> list[float]:
    """Cumulative update cost after each month 1..months: redo everything each month (a full
    retrain, re-indexing every document) or only what changed (an incremental update)."""
    changes = scenario.changed_per_month + scenario.new_per_month
    monthly = [cost_per_fact * (scenario.facts_at(m) if redo_all else changes)
               for m in range(1, scenario.months + 1)]
    return list(accumulate(monthly))
