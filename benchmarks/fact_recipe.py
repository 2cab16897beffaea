"""How well and how fast the fact-tuning recipe memorises the t0 facts.

Prints trained-phrasing recall, paraphrase and reversed recall, training time, tokens/s and peak
memory. A benchmark, not a test: run it by hand, e.g. after changing the recipe.

    .venv/bin/python benchmarks/fact_recipe.py [--epochs 8] [--lr 3e-3] [--augment 0]
Target on 2 CPU cores: >= 95 % trained-phrasing recall on >= 80 facts in <= 2 minutes of training,
peak RSS <= 3 GB.
"""
import argparse
import resource
import time

from utils.core.config import setup
from utils.core.model import load_model
from utils.core.train import TrainConfig, train, with_lora
from utils.tasks.evaluate import evaluate
from utils.tasks.prompts import qa_prompt
from utils.tasks.scoring import accuracy_by_kind
from utils.tasks.world import load_world


def main() -> None:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lora-r", type=int, default=defaults.lora_r, help="0: full fine-tuning")
    parser.add_argument("--augment", type=int, default=0, help="extra training phrasings a fact (0-3)")
    args = parser.parse_args()

    info = setup()
    started = time.perf_counter()
    base, tokenizer = load_model()
    load_seconds = time.perf_counter() - started
    world = load_world("t0")
    facts = world.training_facts(n_augment=args.augment)
    pairs = [(qa_prompt(q.text), q.answer) for q in facts]
    cfg = TrainConfig(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                      lora_r=args.lora_r, lora_alpha=2 * args.lora_r)
    if cfg.lora_r > 0:
        model = with_lora(base, cfg)
    else:
        model = base.train().requires_grad_(True)
    history = train(model, tokenizer, pairs, cfg, desc="fact recipe")

    started = time.perf_counter()
    questions = [q for kind in ("trained", "paraphrase", "reversed") for q in world.questions(kind)]
    accuracy = accuracy_by_kind(evaluate(model, tokenizer, questions, progress=False))
    eval_seconds = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux reports KiB

    method = f"LoRA r{cfg.lora_r}" if cfg.lora_r else "full fine-tuning"
    print(f"\nrecipe: {method}, {cfg.epochs} epochs, lr {cfg.lr:g}, batch {cfg.batch_size}, "
          f"{args.augment} augment phrasings, {info['threads']} threads on {info['device']}")
    print(f"facts trained:        {len(world.questions('trained'))} ({len(pairs)} training examples)")
    for kind, acc in accuracy.items():
        print(f"{kind + ' recall:':<21} {acc:.1%}")
    print(f"training time:        {history.seconds:.0f} s ({history.tokens:,} tokens, "
          f"{history.tokens_per_second:.0f} tokens/s, final loss {history.losses[-1]:.3f})")
    print(f"model load:           {load_seconds:.1f} s; evaluation: {eval_seconds:.0f} s")
    print(f"peak RSS:             {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
