"""How well and how fast LoRA learns the diagnosis XML from n training notes.

Trains one adapter for each --n and prints schema validity and field accuracy on the held-out notes
(test: styles seen in training; unseen_style: six other styles, many unseen conditions), with
training time and tokens/s. A benchmark, not a test: run it by hand, e.g. after changing the recipe.

    .venv/bin/python benchmarks/xml_recipe.py [--n 4 8 16 48] [--epochs 2] [--batch-size 4] [--lr 3e-3]
Target on 2 CPU cores: >= 90 % schema-valid and >= 80 % of fields right on the unseen-style notes with
all 48 training notes, in about a minute of training.
"""
import argparse
import resource
import time

from utils.core.config import setup
from utils.core.model import load_model
from utils.core.train import TrainConfig, train, with_lora
from utils.lessons.recipes import XML_MIN_EXAMPLES, XML_RECIPE, xml_config, xml_pairs
from utils.tasks.clinical import load_notes
from utils.tasks.evaluate import evaluate_xml
from utils.tasks.scoring import summarize


def main() -> None:
    d = XML_RECIPE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[4, 8, 16, 48], help="training notes")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--min-examples", type=int, default=XML_MIN_EXAMPLES,
                        help="raise the epochs of small n until this many examples are seen")
    parser.add_argument("--lr", type=float, default=d.lr)
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--lora-r", type=int, default=d.lora_r)
    parser.add_argument("--show", type=int, default=0, help="print this many wrong unseen-style answers")
    args = parser.parse_args()

    info = setup()
    base, tokenizer = load_model()
    notes = load_notes()
    held_out = {s: [n for n in notes if n.split == s] for s in ("test", "unseen_style")}
    print(f"{info['threads']} threads; lr {args.lr:g}, batch {args.batch_size}, LoRA r{args.lora_r}")
    print(f"{'n':>3}{'epochs':>7}{'steps':>6}{'tokens':>8}{'train s':>8}{'tok/s':>6}{'loss':>7}"
          f"{'test valid':>11}{'fields':>7}{'unseen valid':>13}{'fields':>7}{'eval s':>7}", flush=True)
    for n in args.n:
        recipe = TrainConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                             lora_r=args.lora_r, lora_alpha=2 * args.lora_r)
        cfg = xml_config(n, recipe, args.min_examples)
        epochs = cfg.epochs
        model = with_lora(base, cfg)
        history = train(model, tokenizer, xml_pairs(n), cfg, desc=f"n={n}")
        started = time.perf_counter()
        # One generate call for all held-out notes: one big batch is cheaper than two on a CPU.
        everything = evaluate_xml(model, tokenizer, held_out["test"] + held_out["unseen_style"], progress=False)
        scored = {s: [sc for sc in everything if sc.note.split == s] for s in held_out}
        scores = {s: summarize(sc) for s, sc in scored.items()}
        eval_seconds = time.perf_counter() - started
        print(f"{n:>3}{epochs:>7}{len(history.losses):>6}{history.tokens:>8,}{history.seconds:>8.0f}"
              f"{history.tokens_per_second:>6.0f}{history.losses[-1]:>7.3f}"
              f"{scores['test']['valid']:>11.0%}{scores['test']['fields']:>7.0%}"
              f"{scores['unseen_style']['valid']:>13.0%}{scores['unseen_style']['fields']:>7.0%}"
              f"{eval_seconds:>7.0f}", flush=True)
        print("    unseen per field: " + ", ".join(f"{f} {scores['unseen_style'][f]:.0%}"
                                                   for f in ("age", "sex", "condition", "severity")), flush=True)
        for sc in [sc for sc in scored["unseen_style"] if sc.fields < 1][:args.show]:
            print(f"    [{sc.note.style}] {sc.note.text[:90]}\n      -> {sc.answer!r} ({sc.verdict.reason})")
        del model
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GB")


if __name__ == "__main__":
    main()
