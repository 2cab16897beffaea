"""Which layer to edit: rank-one weight edits (utils/lessons/weight_edit.py) of a few dev facts into a
merged copy of notebook 01's fact-tuned model, one layer at a time, scored by generated answers.

A dev edit gives a drug a new maker: by default every third maker that changed between t0 and t1
(5 of the 15); --counterfactual instead gives every third drug whose maker did not change (9 of 25) the
maker of another drug: facts no lesson edits, so that the layer is not chosen on facts a lesson reports.
Each edit is made alone, on a fresh copy, with its key and value read from the trained wording and
`--wordings` of the training set's other maker wordings (World.training_facts), and the copy is asked,
closed book, with the lessons' scorer:
the groups of utils.lessons.weight_edit.edit_questions:
- the edited wording;
- its held-out paraphrases: the new maker (right) or the old one (stale);
- the drug asked from what it treats (reversed), its other fact (what it treats), the other drugs' facts
  that did not change, the control questions: what the edit should leave alone.
Beside them: the teacher-forced probability of the new maker after the edited wording (the score editing
papers report), the seconds an edit takes (the keys' covariance, estimated once a layer on t0's leaflets
and trained questions, apart; an edit cached by an earlier run keeps the seconds measured then: delete
.cache/edits/ to time them again) and the size of the update. The first row is the unedited copy.
--sequential 5 15 adds, for each layer and wordings, one copy with the first 5 edits written in turn,
scored on those 5, then the next 10 written into the same copy and it scored on all 15 (a row "x5",
"x15"; its seconds and |dW| are means over the edits written so far). The counts must not exceed the
number of dev edits (--every 1 gives 15 changed makers, 25 counterfactual ones).
A benchmark, not a test: run it by hand on an otherwise idle machine (the real model, an edit and its
questions take about 10-20 s on 2 cores; fact_tuned_model trains 01's adapter first if the cache has none):

    .venv/bin/python benchmarks/weight_edit.py [--layers 2 4 6 8 12 16] [--wordings 0 3] [--counterfactual]
        [--every 3] [--sequential 5 15] [--steps 25] [--lr 0.5] [--lam 0.01]
"""
import argparse
import statistics
import time
from dataclasses import replace

from utils.core.config import setup
from utils.core.model import load_model
from utils.core.train import merged_copy
from utils.lessons.recipes import fact_tuned_model
from utils.lessons.weight_edit import (
    EDIT_GROUPS,
    Edit,
    covariance,
    covariance_texts,
    drift_edits,
    edit_each_alone,
    edit_in_turn,
    edit_scores,
    editable_copy,
    fact_edit,
)
from utils.tasks.world import World, changed_facts, load_world


def dev_edits(t0: World, t1: World, every: int, counterfactual: bool, wordings: int) -> list[Edit]:
    """Every `every`-th changed maker; counterfactual: every `every`-th unchanged one, given the maker of
    the next drug whose maker differs."""
    if not counterfactual:
        return [e for e in drift_edits(t0, t1, wordings) if e.question.attribute == "maker"][::every]
    makers = [q for q in t1.questions("trained") if q.attribute == "maker"]
    edits = []
    for q in [q for q in changed_facts(t0, t1)["unchanged"] if q.attribute == "maker"][::every]:
        other = next(m for m in makers[makers.index(q):] + makers if m.answer != q.answer)
        edits.append(fact_edit(t0, replace(q, answer=other.answer, aliases=other.aliases), wordings))
    return edits


def print_row(label: str, rows: list[dict]) -> None:
    mean = {key: statistics.mean(r[key] for r in rows) for key in rows[0]}
    print(f"{label:<14}" + "".join(f"{mean[g]:>12.0%}" for g in EDIT_GROUPS) + f"{mean['stale paraphrase']:>8.0%}"
          + f"{mean['teacher-forced']:>16.2f}" + f"{mean.get('seconds', 0):>8.1f}" + f"{mean.get('norm', 0):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 4, 6, 8, 12, 16])
    parser.add_argument("--wordings", type=int, nargs="+", default=[0, 3],
                        help="other training wordings the key and value are read from (0-3), each a run")
    parser.add_argument("--counterfactual", action="store_true", help="edit unchanged makers to other makers")
    parser.add_argument("--every", type=int, default=3, help="edit every n-th fact")
    parser.add_argument("--sequential", type=int, nargs="+", default=[],
                        help="also write the first n edits in turn into one copy, scored after each n")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--lam", type=float, default=0.01)
    args = parser.parse_args()

    t0, t1 = load_world("t0"), load_world("t1")
    edits_by_wordings = {w: dev_edits(t0, t1, args.every, args.counterfactual, w) for w in args.wordings}
    edits = edits_by_wordings[args.wordings[0]]
    counts = sorted(set(args.sequential))
    if counts and not 1 <= counts[0] <= counts[-1] <= len(edits):
        parser.error(f"--sequential counts must be from 1 to the {len(edits)} dev edits; got {args.sequential} "
                     f"(--every 1 gives more edits)")
    info = setup()
    base, tokenizer = load_model()
    tuned, _ = fact_tuned_model(base, tokenizer, t0)
    merged = merged_copy(tuned)
    del tuned

    print(f"{len(edits)} dev edits ({'counterfactual' if args.counterfactual else 'changed makers'}): "
          f"{', '.join(f'{e.subject} -> {e.target}' for e in edits)}; {args.steps} steps, lr {args.lr:g}, "
          f"lam {args.lam:g}; {info['threads']} threads on {info['device']}")
    print(f"{'layer':<14}" + "".join(f"{g:>12}" for g in EDIT_GROUPS) + f"{'stale':>8}{'teacher-forced':>16}"
          + f"{'s/edit':>8}{'|dW|':>8}")
    print_row("none", [edit_scores(merged, tokenizer, [e], t0, t1) for e in edits])
    settings = dict(lam=args.lam, steps=args.steps, lr=args.lr)
    for layer in args.layers:
        started = time.perf_counter()
        cov = covariance(merged, tokenizer, covariance_texts(t0), layer)
        cov_seconds = time.perf_counter() - started
        for wordings, edits in edits_by_wordings.items():
            rows = [{**edit_scores(model, tokenizer, [edit], t0, t1), "seconds": result.seconds,
                     "norm": result.update_norm}
                    for edit, model, result in edit_each_alone(merged, tokenizer, edits, layer, cov, **settings)]
            print_row(f"{layer} (+{wordings} w)", rows)
            if counts:
                model, results = editable_copy(merged), []
                for count in counts:
                    results += edit_in_turn(model, tokenizer, edits[len(results):count], layer, cov, **settings)
                    row = {**edit_scores(model, tokenizer, edits[:count], t0, t1),
                           "seconds": statistics.mean(r.seconds for r in results),
                           "norm": statistics.mean(r.update_norm for r in results)}
                    print_row(f"{layer} (+{wordings} w) x{count}", [row])
                del model
        print(f"{'':<14}covariance at layer {layer}: {cov_seconds:.0f} s")


if __name__ == "__main__":
    main()
