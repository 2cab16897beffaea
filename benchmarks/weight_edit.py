"""Which layer to edit: rank-one weight edits (utils/lessons/weight_edit.py) of a few dev facts into a
merged copy of notebook 01's fact-tuned model, one layer at a time, scored by generated answers.

A dev edit gives a drug a new maker: by default every third maker that changed between t0 and t1
(5 of the 15); --counterfactual instead gives every third drug whose maker did not change (9 of 25) the
maker of another drug: facts no lesson edits, so that the layer is not chosen on facts a lesson reports.
Each edit is made alone, on a fresh copy, with its key and value read from the trained wording and
`--wordings` of the training set's other maker wordings (World.training_facts), and the copy is asked,
closed book, with the lessons' scorer:
- the edited wording;
- its held-out paraphrases: the new maker (right) or the old one (stale);
- the drug's other fact (what it treats), the other drugs' facts that did not change, the control
  questions: what the edit should leave alone.
Beside them: the teacher-forced probability of the new maker after the edited wording (the score editing
papers report), the seconds an edit takes (the keys' covariance, estimated once a layer on t0's leaflets
and trained questions, apart) and the size of the update. The first row is the unedited copy.
A benchmark, not a test: run it by hand on an otherwise idle machine (the real model, an edit and its
questions take about 10-20 s on 2 cores; fact_tuned_model trains 01's adapter first if the cache has none):

    .venv/bin/python benchmarks/weight_edit.py [--layers 2 4 6 8 12 16] [--wordings 0 3] [--counterfactual]
        [--every 3] [--steps 25] [--lr 0.5] [--lam 0.01]
"""
import argparse
import statistics
import time
from dataclasses import dataclass, replace

from utils.core.config import setup
from utils.core.generation import answer_probability
from utils.core.model import load_model
from utils.core.train import merged_copy
from utils.lessons.recipes import fact_tuned_model
from utils.lessons.weight_edit import covariance, edit_fact, editable_copy
from utils.tasks.evaluate import evaluate_groups
from utils.tasks.prompts import qa_prompt
from utils.tasks.scoring import accuracy, is_correct
from utils.tasks.world import Question, World, changed_facts, load_world

GROUPS = ("edited", "paraphrase", "other fact", "unchanged", "control")


@dataclass(frozen=True)
class DevEdit:
    asked: Question  # the trained wording, with the new maker as its answer
    old: Question  # the same wording with the maker the model was taught


def dev_edits(t0: World, t1: World, every: int, counterfactual: bool) -> list[DevEdit]:
    """Every `every`-th changed maker; counterfactual: every `every`-th unchanged one, given the maker of
    the next drug whose maker differs."""
    diff = changed_facts(t0, t1)
    if not counterfactual:
        return [DevEdit(q, t0.as_of(q)) for q in diff["changed"][::every] if q.attribute == "maker"]
    makers = [q for q in t1.questions("trained") if q.attribute == "maker"]
    edits = []
    for q in [q for q in diff["unchanged"] if q.attribute == "maker"][::every]:
        other = next(m for m in makers[makers.index(q):] + makers if m.answer != q.answer)
        edits.append(DevEdit(replace(q, answer=other.answer, aliases=other.aliases), q))
    return edits


def questions(edit: DevEdit, t0: World, t1: World, dev_drugs: set[str]) -> dict[str, list[Question]]:
    """What each copy is asked, by group (GROUPS)."""
    drug, new = edit.asked.drug, edit.asked
    paraphrases = [replace(p, answer=new.answer, aliases=new.aliases)
                   for p in t1.all_paraphrases([drug]) if p.attribute == "maker"]
    unchanged = changed_facts(t0, t1)["unchanged"]
    return {"edited": [new], "paraphrase": paraphrases,
            "other fact": [q for q in unchanged if q.drug == drug and q.attribute != "maker"],
            "unchanged": [q for q in unchanged if q.drug not in dev_drugs],
            "control": t1.questions("control")}


def scores(model, tokenizer, edit: DevEdit, asked: dict[str, list[Question]]) -> dict[str, float]:
    """Accuracy a group, the share of paraphrases answered with the old maker, the teacher-forced
    probability of the new maker after the edited wording."""
    results = evaluate_groups(model, tokenizer, asked, progress=False)
    row = {group: accuracy(rs) for group, rs in results.items()}
    row["stale"] = statistics.mean(is_correct(replace(r.question, answer=edit.old.answer, aliases=edit.old.aliases),
                                              r.answer.text) for r in results["paraphrase"])
    row["teacher-forced"] = answer_probability(model, tokenizer, [qa_prompt(edit.asked.text)], [edit.asked.answer])[0]
    return row


def key_prompts(world: World, drug: str, wordings: int) -> list[str]:
    """The trained maker wording and the first `wordings` other training wordings, about `drug`."""
    return [qa_prompt(q.text) for q in world.training_facts(wordings) if q.drug == drug and q.attribute == "maker"]


def print_row(label: str, rows: list[dict]) -> None:
    mean = {key: statistics.mean(r[key] for r in rows) for key in rows[0]}
    print(f"{label:<14}" + "".join(f"{mean[g]:>12.0%}" for g in GROUPS) + f"{mean['stale']:>8.0%}"
          + f"{mean['teacher-forced']:>16.2f}" + f"{mean.get('seconds', 0):>8.1f}" + f"{mean.get('norm', 0):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 4, 6, 8, 12, 16])
    parser.add_argument("--wordings", type=int, nargs="+", default=[0, 3],
                        help="other training wordings the key and value are read from (0-3), each a run")
    parser.add_argument("--counterfactual", action="store_true", help="edit unchanged makers to other makers")
    parser.add_argument("--every", type=int, default=3, help="edit every n-th fact")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--lam", type=float, default=0.01)
    args = parser.parse_args()

    info = setup()
    base, tokenizer = load_model()
    t0, t1 = load_world("t0"), load_world("t1")
    tuned, _ = fact_tuned_model(base, tokenizer, t0)
    merged = merged_copy(tuned)
    del tuned
    edits = dev_edits(t0, t1, args.every, args.counterfactual)
    dev_drugs = {e.asked.drug for e in edits}
    asked = {e.asked.drug: questions(e, t0, t1, dev_drugs) for e in edits}
    cov_texts = list(t0.documents.values()) + [f"{qa_prompt(q.text)} {q.answer}" for q in t0.questions("trained")]

    print(f"{len(edits)} dev edits ({'counterfactual' if args.counterfactual else 'changed makers'}): "
          f"{', '.join(f'{e.asked.drug} -> {e.asked.answer}' for e in edits)}; {args.steps} steps, lr {args.lr:g}, "
          f"lam {args.lam:g}; {info['threads']} threads on {info['device']}")
    print(f"{'layer':<14}" + "".join(f"{g:>12}" for g in GROUPS) + f"{'stale':>8}{'teacher-forced':>16}"
          + f"{'s/edit':>8}{'|dW|':>8}")
    print_row("none", [scores(merged, tokenizer, e, asked[e.asked.drug]) for e in edits])
    for layer in args.layers:
        started = time.perf_counter()
        cov = covariance(merged, tokenizer, cov_texts, layer)
        cov_seconds = time.perf_counter() - started
        for wordings in args.wordings:
            rows = []
            for edit in edits:
                model = editable_copy(merged)
                result = edit_fact(model, tokenizer, key_prompts(t0, edit.asked.drug, wordings), edit.asked.drug,
                                   edit.asked.answer, layer, cov, args.lam, steps=args.steps, lr=args.lr)
                rows.append({**scores(model, tokenizer, edit, asked[edit.asked.drug]),
                             "seconds": result.seconds, "norm": result.update_norm})
                del model
            print_row(f"{layer} (+{wordings} w)", rows)
        print(f"{'':<14}covariance at layer {layer}: {cov_seconds:.0f} s")


if __name__ == "__main__":
    main()
