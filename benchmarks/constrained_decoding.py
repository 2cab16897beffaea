"""What the diagnosis constraint (utils/tasks/constraint.py) costs and gives, on the untuned base model.

Asks the base model for the diagnosis XML of a few unseen-style notes, zero-shot with the course's
instruction (utils.tasks.prompts.xml_chat_prompt), greedy, with and without the constraint; prints the
compile time, schema-valid %, fields right % (each field), seconds a note one note at a time and in
one batch, whether the batch wrote the same answers, and each constrained answer beside the gold one.
A benchmark, not a test: run it by hand, e.g. after changing the constraint or the library.

    .venv/bin/python benchmarks/constrained_decoding.py [--notes 4] [--max-new-tokens 48]
"""
import argparse
import time

import torch

from utils.core.batching import left_pad
from utils.core.config import setup
from utils.core.model import load_model
from utils.tasks.clinical import load_notes, to_xml
from utils.tasks.constraint import diagnosis_constraint
from utils.tasks.prompts import xml_chat_prompt
from utils.tasks.scoring import score_answers, summarize


def answers(model, tokenizer, prompts: list[str], constraint, max_new_tokens: int) -> tuple[list[str], float, int]:
    """Greedy answers of one generate call (left-padded batch), its seconds and the tokens it wrote."""
    ids, mask, _ = left_pad([tokenizer(p, add_special_tokens=False).input_ids for p in prompts],
                            tokenizer.pad_token_id)
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id, logits_processor=constraint)
    seconds = time.perf_counter() - start
    new, eos = out[:, ids.shape[1]:], tokenizer.eos_token_id
    # Each row up to and with its end token; the padding after it is not written.
    written = sum(row.index(eos) + 1 if eos in row else len(row) for row in new.tolist())
    return tokenizer.batch_decode(new, skip_special_tokens=True), seconds, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=4, help="the first n unseen-style notes")
    parser.add_argument("--max-new-tokens", type=int, default=48, help="the constrained line is about 40")
    args = parser.parse_args()
    print(setup())
    model, tokenizer = load_model()
    notes = [n for n in load_notes() if n.split == "unseen_style"][:args.notes]
    prompts = [xml_chat_prompt(tokenizer, n.text) for n in notes]
    n = len(notes)

    start = time.perf_counter()
    constraint = diagnosis_constraint(tokenizer, treatment=False)  # notebook 03's task: no treatment
    print(f"compile (vocabulary + regex): {time.perf_counter() - start:.2f} s")
    answers(model, tokenizer, prompts[:1], None, 2)  # warm-up, not timed

    for name, processor in [("unconstrained", None), ("constrained", constraint)]:
        one_by_one, seconds, tokens = [], 0.0, 0
        for prompt in prompts:
            texts, s, written = answers(model, tokenizer, [prompt], processor, args.max_new_tokens)
            one_by_one += texts
            seconds += s
            tokens += written
        batched, batch_seconds, _ = answers(model, tokenizer, prompts, processor, args.max_new_tokens)
        summary = summarize(score_answers(notes, one_by_one))
        fields = ", ".join(f"{f} {summary[f]:.0%}" for f in ("age", "sex", "condition", "severity"))
        print(f"{name}: valid {summary['valid']:.0%}, fields right {summary['fields']:.0%} ({fields}); "
              f"{seconds / n:.2f} s/note one at a time "
              f"({tokens / n:.0f} tokens, {1000 * seconds / tokens:.0f} ms each), "
              f"{batch_seconds / n:.2f} s/note in one batch of {n} "
              f"(same answers batched: {'yes' if batched == one_by_one else 'no'})")
        if processor is not None:
            for note, text in zip(notes, one_by_one):
                print(f"  gold    {to_xml(note.expected)}\n  written {text}")


if __name__ == "__main__":
    main()
