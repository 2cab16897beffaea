"""The reader's confidence floor for "Ask your own documents" (ask.MIN_CONFIDENCE), chosen on the outside dev
documents (issue 36).

The search's threshold catches questions no document is about; a question a document is about but does not
answer reaches the reader, which answers from the document anyway. This asks the dev documents once per
reader adapter (one a seed, `reader_tuned_model`, cached like the notebooks'), as ask-your-documents asks
them (outside.ask_document_set) with no floor, then applies each floor to the same replies (ask.floored) and
prints, mean of seeds (lowest seed): answerable questions right (lenient) and wrong, unanswerable ones
abstained, and right minus wrong over all questions (a wrong answer costs what a right one gains, "unknown"
nothing). The floor with the most right minus wrong is the one to choose. A benchmark, not a test.

    .venv/bin/python benchmarks/reader_confidence.py [--seeds 0,1,2] [--domains 0]
"""
import argparse
import statistics

from utils.core.config import setup
from utils.core.model import load_model
from utils.core.train import merged_copy
from utils.lessons.recipes import READER_RECIPE, reader_tuned_model
from utils.tasks.ask import MIN_CONFIDENCE, floored
from utils.tasks.outside import ask_document_set, document_scores

FLOORS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def figures(answered, floor: float) -> dict[str, float]:
    """Shares of the answerable questions right and wrong, of the unanswerable ones abstained, and right
    minus wrong over all questions, with the replies floored at `floor`."""
    score = document_scores([(q, floored(r, floor)) for q, r in answered])["all"]
    right, wrong = score.lenient * score.answerable, score.wrong * score.answerable
    answered_unknown = (1 - score.abstained) * score.unanswerable
    return {"answerable right": score.lenient, "answerable wrong": score.wrong,
            "unanswerable abstained": score.abstained,
            "right minus wrong": (right - wrong - answered_unknown) / (score.answerable + score.unanswerable)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated: one reader adapter a seed")
    parser.add_argument("--domains", type=float, default=0.0, help="the reader recipe (reader_pairs(domains=...))")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]

    setup()
    base, tokenizer = load_model()
    asked = []
    for seed in seeds:
        model, _ = reader_tuned_model(base, tokenizer, READER_RECIPE, domains=args.domains, seed=seed)
        asked.append(ask_document_set(merged_copy(model), tokenizer, "dev", min_confidence=0.0))
    print(f"outside dev documents, reader adapter (domains {args.domains:g}), seeds {seeds}: mean (lowest seed); "
          f"ask.MIN_CONFIDENCE is {MIN_CONFIDENCE}")
    columns = list(figures(asked[0], 0.0))
    print(f"{'floor':>6}" + "".join(f"{c:>26}" for c in columns))
    best = None
    for floor in FLOORS:
        per_seed = [figures(answered, floor) for answered in asked]
        means = {c: statistics.mean(f[c] for f in per_seed) for c in columns}
        print(f"{floor:>6.1f}" + "".join(
            f"{means[c]:>17.0%} ({min(f[c] for f in per_seed):>4.0%})" for c in columns))
        if best is None or means["right minus wrong"] > best[1]:
            best = (floor, means["right minus wrong"])
    print(f"most right minus wrong: floor {best[0]:.1f} ({best[1]:.0%} of the questions)")


if __name__ == "__main__":
    main()
