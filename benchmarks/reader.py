"""How well the base model and the reader adapter answer from a retrieved leaflet, and at what cost.

Prints accuracy a question kind (same questions and scoring as notebook 01) at t0, on the hand-written
wording sets (utils/lessons/wordings.py: the dev set, on which a recipe may be chosen, and the sealed held-out set,
on which nothing may be), and after the t1 edits
(re-indexed leaflets, the changed facts asked with their new answers); the reader adapter's training
time and tokens/s; prompt tokens and latency per answer with and without retrieval. The adapter is
trained once per seed (its data and its training both drawn with that seed), and a last table gives
each kind's mean and worst seed. A benchmark, not a test: run it by hand, e.g. after changing the
reader recipe or its training wordings. Choose with `--sets world,dev,t1` (the held-out set hidden), then
report the chosen recipe once with every set.

    .venv/bin/python benchmarks/reader.py [--readers base-2shot,adapter] [--seeds 0,1,2] [--epochs 2] [--unpacked]
                                          [--sets world,dev,held-out,t1] [--drugs 176] [--per-drug 2]
"""
import argparse
import inspect
import statistics
import time
from dataclasses import replace

from utils.core.config import setup
from utils.core.generation import answer_latency
from utils.core.model import load_model
from utils.core.train import merged_copy
from utils.lessons.reader_data import CONTRASTS, reader_examples
from utils.lessons.recipes import READER_RECIPE, reader_pairs, reader_tuned_model
from utils.lessons.wordings import WORDING_FILES, heldout_questions, wording_kinds
from utils.tasks.evaluate import evaluate
from utils.tasks.prompts import qa_prompt
from utils.tasks.rag import abstain_below, few_shot, rag_prompt
from utils.tasks.retrieval import Retriever, choose_threshold, split_answerable
from utils.tasks.scoring import accuracy_by_kind
from utils.tasks.world import changed_facts, load_world

KINDS = ("trained", "paraphrase", "reversed", "documented", "unknown")
LATENCY_QUESTIONS = 10  # answered one at a time, as a user would ask them


def report(name, results, kinds=KINDS):
    acc = accuracy_by_kind(results)
    print(f"{name:<34}" + "".join(f"{acc.get(k, float('nan')):>12.1%}" for k in kinds), flush=True)
    return acc


SETS = ("world", *WORDING_FILES, "t1")


def short(kind: str) -> str:
    return kind.replace("held-out ", "h/o ").replace("max_daily_dose_mg", "dose").replace("year_approved", "year")


def failures(results) -> None:
    for r in results:
        if not r.correct and r.question.kind != "unknown":
            print(f"  {r.question.text!r}: {r.answer.text!r}, wanted {r.question.answer!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", default="base-2shot,adapter",
                        help="comma-separated: base-0shot, base-2shot, adapter")
    parser.add_argument("--epochs", type=int, default=READER_RECIPE.epochs)
    parser.add_argument("--lr", type=float, default=READER_RECIPE.lr)
    parser.add_argument("--batch-size", type=int, default=READER_RECIPE.batch_size)
    recipe = inspect.signature(reader_examples).parameters  # the defaults the notebooks train with
    parser.add_argument("--drugs", type=int, default=recipe["n_drugs"].default, help="invented drugs to train on")
    parser.add_argument("--per-drug", type=int, default=recipe["per_drug"].default,
                        help="answerable questions a leaflet")
    parser.add_argument("--unanswerable", type=float, default=recipe["unanswerable"].default,
                        help="share of leaflets that also get a question they do not answer")
    parser.add_argument("--contrast", default=",".join(recipe["contrast"].default),
                        help=f"comma-separated pairs asked together on a leaflet: {', '.join(CONTRASTS)}, or none")
    parser.add_argument("--seeds", default="0",
                        help="comma-separated: one adapter a seed (data and training), e.g. 0,1,2")
    parser.add_argument("--unpacked", action="store_true",
                        help="one example a question (the leaflet repeated), not one a leaflet")
    parser.add_argument("--every", type=int, default=1,
                        help="ask every n-th question only (quicker); odd, because questions "
                             "alternate treats/maker and an even step would skip every maker question")
    parser.add_argument("--sets", default=",".join(SETS),
                        help=f"comma-separated question sets to ask: {', '.join(SETS)}; choose a recipe "
                             "without held-out")
    args = parser.parse_args()
    if args.every % 2 == 0:
        parser.error("--every must be odd (an even step skips every maker question)")
    sets = args.sets.split(",")
    if unknown := [s for s in sets if s not in SETS]:
        parser.error(f"unknown question set {unknown[0]!r}; the sets are {', '.join(SETS)}")

    info = setup()
    base, tokenizer = load_model()
    t0, t1 = load_world("t0"), load_world("t1")
    retriever = Retriever(t0.documents)
    # Calibrated on every t0 question (notebook 04 calibrates on half the drugs, and scores the other half).
    threshold = choose_threshold(retriever, *split_answerable([q for kind in KINDS for q in t0.questions(kind)]))
    questions = [q for kind in KINDS for q in t0.questions(kind)[::args.every]]
    changed = changed_facts(t0, t1)["changed"]
    t1_questions = [q for kind in KINDS for q in t1.questions(kind)[::args.every]]
    # A wording set's sample keeps every frame in it (heldout_questions' own `every`).
    wordings = {name: heldout_questions(t0, wording_set=name, every=args.every)
                for name in WORDING_FILES if name in sets}
    print(f"{len(questions)} questions at t0, {len(changed)} changed facts and {len(t1_questions)} "
          f"questions at t1; {info['threads']} threads")

    readers = {}
    seeds = [int(s) for s in args.seeds.split(",")]
    for name in args.readers.split(","):
        if name == "base-0shot":
            readers[name] = (base, ())
        elif name == "base-2shot":
            readers[name] = (base, few_shot([t0, t1]))
        elif name == "adapter":
            contrast = () if args.contrast == "none" else tuple(args.contrast.split(","))
            kwargs = dict(n_drugs=args.drugs, per_drug=args.per_drug, unanswerable=args.unanswerable,
                          contrast=contrast, packed=not args.unpacked)
            for seed in seeds:
                cfg = replace(READER_RECIPE, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, seed=seed)
                pairs = reader_pairs([t0, t1], seed=seed, **kwargs)
                model, history = reader_tuned_model(base, tokenizer, cfg, seed=seed, **kwargs)
                print(f"reader adapter, seed {seed}: {len(pairs)} examples, {cfg.epochs} epochs, lr {cfg.lr:g}, "
                      f"batch {cfg.batch_size}: "
                      f"{history.seconds:.0f} s, {history.tokens:,} tokens, {history.tokens_per_second:.0f} "
                      f"tokens/s (as trained; a cached adapter reports its first training)")
                # Merged: the same answers, a fifth faster to generate.
                readers[f"{name}, seed {seed}" if len(seeds) > 1 else name] = (merged_copy(model), ())
        else:
            parser.error(f"unknown reader {name!r}")

    scores = {}  # reader -> kind -> accuracy: world kinds (threshold applied), wording sets, t1's changed facts
    kinds = []
    for name, (model, shots) in readers.items():
        scores[name] = {}
        retriever.update(t0.documents)
        if "world" in sets:
            print(f"\n{'':<34}" + "".join(f"{k:>12}" for k in KINDS))
            results = evaluate(model, tokenizer, questions, prompt=rag_prompt(retriever, shots), progress=False)
            report(f"{name}, t0", results)
            scores[name] |= report(f"{name}, t0, threshold {threshold:.2f}",
                                   abstain_below(results, retriever, threshold))
            failures(results)
        for wording_set, asked in wordings.items():
            set_kinds = wording_kinds(wording_set)
            results = evaluate(model, tokenizer, asked, prompt=rag_prompt(retriever, shots), progress=False)
            print(f"{'':<34}" + "".join(f"{short(k):>12}" for k in set_kinds))
            scores[name] |= report(f"{name}, {wording_set} wordings", results, set_kinds)
            failures(results)
        if "t1" in sets:
            retriever.update(t1.documents)
            prompt = rag_prompt(retriever, shots)
            results = evaluate(model, tokenizer, changed, prompt=prompt, progress=False)
            print(f"{name}, t1 changed facts: {sum(r.correct for r in results)}/{len(results)}")
            failures(results)
            scores[name]["t1 changed"] = sum(r.correct for r in results) / len(results)
            report(f"{name}, t1", evaluate(model, tokenizer, t1_questions, prompt=prompt, progress=False))
        kinds = list(scores[name])

    print(f"\nby kind (world kinds with the threshold; wording sets; t1's changed facts):\n{'':<28}"
          + "".join(f"{short(k):>11}" for k in kinds))
    for name, acc in scores.items():
        print(f"{name:<28}" + "".join(f"{acc[k]:>11.1%}" for k in kinds))
    adapters = [acc for name, acc in scores.items() if name.startswith("adapter, seed")]
    if adapters:
        for label, pick in (("adapter, mean of seeds", statistics.mean), ("adapter, worst seed", min)):
            print(f"{label:<28}" + "".join(f"{pick(a[k] for a in adapters):>11.1%}" for k in kinds))

    print("\nlatency per answer (median, one question at a time) and prompt tokens:")
    retriever.update(t0.documents)
    sample = t0.questions("paraphrase")[:LATENCY_QUESTIONS]
    rows = [("closed book (Q/A prompt)", base, qa_prompt)]
    rows += [(f"{name} + retrieval", model, rag_prompt(retriever, shots)) for name, (model, shots) in readers.items()]
    for name, model, prompt in rows:
        seconds, tokens = answer_latency(model, tokenizer, prompt, [q.text for q in sample])
        print(f"  {name:<30} {seconds * 1000:>6.0f} ms {tokens:>6.0f} prompt tokens")
    search_seconds = []
    for q in sample:
        started = time.perf_counter()
        retriever.search(q.text, 1)
        search_seconds.append(time.perf_counter() - started)
    search_s = statistics.median(search_seconds)
    print(f"  of which the search itself: {search_s * 1000:.2f} ms")


if __name__ == "__main__":
    main()
