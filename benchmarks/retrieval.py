"""How well and how fast BM25 finds the right leaflet (utils/tasks/retrieval.py), on the real world.

Prints recall@1 and @3 a question kind, the top score of questions about known and unknown drugs
(does one threshold separate them?), what a one-letter misspelling does, and the time to index
and to re-index after the t1 edits, beside the time the fact-tuned model takes to train
(cached by notebook 01; trained here, about a minute, if the cache has none).
A benchmark, not a test: run it by hand, e.g. after changing the tokenisation.

    .venv/bin/python benchmarks/retrieval.py
"""
import statistics

import numpy as np

from utils.core.config import setup
from utils.core.model import load_model
from utils.lessons.recipes import fact_tuned_model
from utils.tasks.retrieval import Retriever, gold_leaflet, recall_at
from utils.tasks.world import changed_documents, changed_facts, load_world

KINDS = ("trained", "paraphrase", "reversed", "documented")
REPEATS = 20  # a timing of a few milliseconds is mostly noise: report the median


def main() -> None:
    t0, t1 = load_world("t0"), load_world("t1")
    retriever = Retriever(t0.documents)

    print(f"{len(t0.documents)} leaflets at t0, one passage each, "
          f"{np.mean([len(d.split()) for d in t0.documents.values()]):.0f} words on average\n")
    print(f"{'kind':<12}{'questions':>10}{'recall@1':>10}{'recall@3':>10}")
    for kind in KINDS:
        qs = t0.questions(kind)
        print(f"{kind:<12}{len(qs):>10}{recall_at(retriever, qs, 1):>10.1%}{recall_at(retriever, qs, 3):>10.1%}")
    for q in [q for kind in KINDS for q in t0.questions(kind)]:
        top = retriever.search(q.text, 1)[0]
        if top.drug != gold_leaflet(q):
            print(f"  miss: {q.text!r} -> {top.drug} ({top.score:.2f}), wanted {gold_leaflet(q)}")

    known = [retriever.search(q.text, 1)[0].score for kind in KINDS for q in t0.questions(kind)]
    unknown = [retriever.search(q.text, 1)[0].score for q in t0.questions("unknown")]
    print("\ntop score        n    min    p5 median   max")
    for name, s in (("known drugs", known), ("unknown drugs", unknown)):
        print(f"{name:<14}{len(s):>4}{min(s):>7.2f}{np.percentile(s, 5):>6.2f}{np.median(s):>7.2f}{max(s):>6.2f}")
    if max(unknown) < min(known):
        print(f"a threshold anywhere in ({max(unknown):.2f}, {min(known):.2f}) separates them all; "
              f"midpoint {(max(unknown) + min(known)) / 2:.2f}")
    else:
        print("no threshold separates them all")
    for query in ("What does Dravolin treat?", "What does Dravelin treat?", "What does Dravilin treat?"):
        print(f"  {query!r}: " + ", ".join(f"{p.drug} {p.score:.2f}" for p in retriever.search(query, 2)))

    edits = changed_documents(t0, t1)
    index_s = statistics.median(Retriever(t0.documents).index_seconds for _ in range(REPEATS))
    reindex_s = statistics.median(Retriever(t0.documents).update(edits) for _ in range(REPEATS))
    print(f"\nindex {len(t0.documents)} leaflets: {index_s * 1000:.1f} ms (median of {REPEATS})")
    print(f"apply the t1 edits ({len(edits)} leaflets changed or new) and re-index all "
          f"{len(t1.documents)}: {reindex_s * 1000:.1f} ms")
    setup()
    base, tokenizer = load_model()
    _, history = fact_tuned_model(base, tokenizer, t0)  # cached by notebook 01, else trained now
    print(f"fine-tuning the facts again (the fact recipe, {history.examples} examples): "
          f"{history.seconds:.0f} s, {history.seconds / reindex_s:,.0f}x the re-index")

    retriever.update(edits)
    changed = changed_facts(t0, t1)["changed"]
    print(f"after the edits, recall@1 of the {len(changed)} changed facts: {recall_at(retriever, changed, 1):.1%}; "
          f"every t1 kind: " + ", ".join(f"{k} {recall_at(retriever, t1.questions(k), 1):.1%}" for k in KINDS))


if __name__ == "__main__":
    main()
