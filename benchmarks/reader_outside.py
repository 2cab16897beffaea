"""Does a reader trained on passages of other domains read documents nobody here wrote (issue 36, item 3)?

For each recipe (--domains: the share of leaflets replaced by passages of other domains, word for word;
recipes.reader_pairs) and each seed, trains the reader adapter (its data and training drawn with the
seed), then prints:
  (a) the outside dev documents (data/outside/), asked as the README's "Ask your own documents" asks
      (outside.ask_document_set: ask.Documents, each half of the questions calibrated on the other):
      answerable questions right (strict, lenient), unanswerable ones abstained, and the same by form;
  (b) notebook 05's world figures: every third question of each kind (rag.readers_questions), retrieval
      with notebook 04's threshold (chosen on the calibration drugs), so that a fall against today's
      adapter (--domains 0) shows;
  (c) the training seconds and tokens (a cached adapter reports its first training).
Then the mean and worst seed of each figure, a recipe a row. Choose a recipe on the dev documents;
`--sealed-test` also asks the SEALED test documents: only to report, once, the recipe chosen on dev
(data/outside/README.md). A benchmark, not a test: run it by hand on an otherwise idle machine.

    .venv/bin/python benchmarks/reader_outside.py [--domains 0,0.5] [--seeds 0,1,2] [--readers adapter,base-2shot]
                                                  [--min-confidence 0.7] [--sealed-test]
"""
import argparse
import statistics

from utils.core.config import setup
from utils.core.model import load_model
from utils.core.train import merged_copy
from utils.lessons.recipes import READER_RECIPE, reader_pairs, reader_tuned_model
from utils.tasks.ask import MIN_CONFIDENCE
from utils.tasks.evaluate import evaluate_with_retrieval
from utils.tasks.outside import FORMS, ask_document_set, document_scores
from utils.tasks.rag import few_shot, readers_questions
from utils.tasks.retrieval import Retriever, choose_threshold, split_answerable
from utils.tasks.scoring import accuracy_by_kind
from utils.tasks.world import load_world

READERS = ("adapter", "base-2shot")


def document_figures(model, tokenizer, which: str, shots, min_confidence: float) -> dict[str, float]:
    """(a): "<set> <group> <measure>" -> share, for all questions and each form."""
    figures = {}
    answered = ask_document_set(model, tokenizer, which, shots, min_confidence=min_confidence)
    for group, score in document_scores(answered).items():
        for measure in ("strict", "lenient", "abstained"):
            if getattr(score, measure) is not None:
                figures[f"{which} {group} {measure}"] = getattr(score, measure)
    return figures


def show(name: str, figures: dict[str, float]) -> None:
    print(f"\n{name}")
    for key, value in figures.items():
        print(f"  {key:<40}{value:>8.1%}" if key != "training seconds" else f"  {key:<40}{value:>8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", default="0,0.5",
                        help="comma-separated recipes: the share of leaflets replaced by other domains "
                             "(0: today's reader, notebook 05's)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated: one adapter a seed and recipe")
    parser.add_argument("--readers", default="adapter",
                        help=f"comma-separated: {', '.join(READERS)} (the base model with two worked examples)")
    parser.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE,
                        help=f"ask-your-documents' confidence floor (default {MIN_CONFIDENCE}; 0: every answer kept)")
    parser.add_argument("--sealed-test", action="store_true",
                        help="also ask the SEALED test documents: report a recipe chosen on dev, once")
    args = parser.parse_args()
    readers = args.readers.split(",")
    if unknown := [r for r in readers if r not in READERS]:
        parser.error(f"unknown reader {unknown[0]!r}; the readers are {', '.join(READERS)}")
    shares = [float(d) for d in args.domains.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    sets = ["dev"] + ["test"] * args.sealed_test
    if args.sealed_test:
        print("WARNING: --sealed-test asks the SEALED test documents. Report them once, for a recipe chosen "
              "on the dev documents; never choose anything (recipe, seed, threshold) on these figures.\n")

    setup()
    base, tokenizer = load_model()
    t0, t1 = load_world("t0"), load_world("t1")
    retriever = Retriever(t0.documents)
    calibration, _, asked = readers_questions(t0)  # as notebooks 04 and 05
    threshold = choose_threshold(retriever, *split_answerable(calibration))
    print(f"world: {len(asked)} questions, threshold {threshold:.2f}")

    def figures_of(model, shots) -> dict[str, float]:
        figures = {}
        for which in sets:
            figures |= document_figures(model, tokenizer, which, shots, args.min_confidence)
        results = evaluate_with_retrieval(model, tokenizer, asked, retriever, threshold, shots,
                                          progress=False, batch_size=16)
        return figures | {f"world {kind}": share for kind, share in accuracy_by_kind(results).items()}

    rows: dict[str, list[dict[str, float]]] = {}  # a recipe or reader -> one figures dict a seed
    if "base-2shot" in readers:
        rows["base model, 2 examples"] = [figures_of(base, few_shot([t0, t1]))]
        show("base model, 2 examples", rows["base model, 2 examples"][0])
    if "adapter" in readers:
        for share in shares:
            name = f"adapter, domains {share:g}" + (" (today's recipe)" if share == 0 else "")
            rows[name] = []
            for seed in seeds:
                words = sum(len(text.split()) for pair in reader_pairs([t0, t1], domains=share, seed=seed)
                            for text in pair)
                model, history = reader_tuned_model(base, tokenizer, READER_RECIPE, domains=share, seed=seed)
                figures = figures_of(merged_copy(model), ())
                figures |= {"training seconds": history.seconds}
                rows[name].append(figures)
                print(f"\n{name}, seed {seed}: {words:,} words of training pairs, {history.tokens:,} tokens, "
                      f"{history.seconds:.0f} s ({history.tokens_per_second:.0f} tokens/s)")
                show(f"{name}, seed {seed}", figures)

    keys = list(dict.fromkeys(k for seeds_figures in rows.values() for figures in seeds_figures for k in figures))
    by_form = [k for k in keys if any(k.startswith(f"{which} {form} ") for which in sets for form in FORMS)]
    headline = [k for k in keys if k not in by_form]
    for title, chosen in (("headline figures", headline), ("by question form", by_form)):
        print(f"\n{title}: mean of seeds / worst seed (training seconds: mean / longest)")
        print(f"{'':<34}" + "".join(f"{name[:22]:>24}" for name in rows))
        for key in chosen:
            cells = []
            for seeds_figures in rows.values():
                values = [f[key] for f in seeds_figures if key in f]
                if not values:
                    cells.append(f"{'-':>24}")
                elif key == "training seconds":
                    cells.append(f"{statistics.mean(values):>17.0f} / {max(values):<4.0f}")
                else:
                    cells.append(f"{statistics.mean(values):>17.0%} / {min(values):<4.0%}")
            print(f"{key[:34]:<34}" + "".join(cells))

if __name__ == "__main__":
    main()
