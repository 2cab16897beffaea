"""Does the XML adapter pick the right condition when it may only choose among the note's own words?
(issue 36, item 2: the lever after the training data.)

Every dev note names its condition in its own text, by some accepted name (data/outside/README.md), so the
lenient condition is a choice of span. Per seed this trains the XML adapter (`--n` notes of notes.jsonl and
`--varied` of notes_varied.jsonl, as benchmarks/xml_outside.py does), lets it write each outside dev note's
XML freely, and then, after the text it wrote up to `<condition>`, scores every run of 1-4 words of the note
(letters and hyphens, lower-cased) followed by `</condition>` by the adapter's log-probability:
  free    the condition it wrote;
  sum     the span of highest total log-probability (favours short spans);
  mean    the span of highest log-probability a token;
  oracle  whether any span is an accepted name (the ceiling of choosing among spans).
Each right when it is, exactly, the expected name or an accepted one: the same rule for every column, so
the columns compare; "free" takes the text inside <condition> even from invalid XML, where the lessons'
scorer (benchmarks/xml_outside.py) counts an invalid answer wrong, so it reads a few points above it.
Then the mean and worst seed.
Slow (about 20 s a note on 2 cores: every span is a full forward pass); a benchmark, not a test.

    .venv/bin/python benchmarks/xml_span_ranking.py [--n 48] [--varied 0] [--seeds 0,1,2]
"""
import argparse
import re
import statistics
from dataclasses import replace

import torch

from utils.core.batching import left_pad
from utils.core.config import setup
from utils.core.model import load_model
from utils.core.train import train, with_lora
from utils.lessons.recipes import XML_RECIPE, xml_config, xml_pairs
from utils.tasks.evaluate import xml_texts
from utils.tasks.outside import load_outside_notes
from utils.tasks.prompts import note_prompt

WAYS = ("free", "sum", "mean", "oracle")
NO_PREFIX = "<diagnosis><age>0</age><sex>male</sex><condition>"  # when the adapter wrote no <condition>


def spans(text: str, longest: int = 4) -> list[str]:
    """Every run of 1 to `longest` words of `text` that no punctuation but a blank or a hyphen divides."""
    found = set()
    for run in re.finditer(r"[A-Za-z]+(?:[ \-][A-Za-z]+)*", text):
        words = re.findall(r"[a-z]+(?:-[a-z]+)*", run.group(0).lower())
        for i in range(len(words)):
            for n in range(1, longest + 1):
                if i + n <= len(words):
                    found.add(" ".join(words[i:i + n]))
    return sorted(found)


@torch.no_grad()
def span_scores(model, tokenizer, prompt: str, prefix: str, candidates: list[str],
                batch_size: int = 64) -> list[tuple[float, float]]:
    """(total, mean a token) log-probability of each `candidate + "</condition>"` after the prompt and the
    adapter's own `prefix`, tokenised as a whole answer is (encode's leading space)."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    head = prompt_ids + tokenizer(" " + prefix, add_special_tokens=False).input_ids
    scores = []
    for start in range(0, len(candidates), batch_size):
        rows, lengths = [], []
        for candidate in candidates[start:start + batch_size]:
            ids = prompt_ids + tokenizer(" " + prefix + candidate + "</condition>", add_special_tokens=False).input_ids
            shared = 0
            while shared < min(len(ids), len(head)) and ids[shared] == head[shared]:
                shared += 1
            rows.append(ids)
            lengths.append(len(ids) - shared)  # the tokens after what the prefix alone tokenises to
        input_ids, mask, positions = left_pad([r[:-1] for r in rows], tokenizer.pad_token_id, "cpu")
        keep = max(lengths) + 1
        logprobs = model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                         logits_to_keep=keep).logits.float().log_softmax(-1)
        for r, (ids, n) in enumerate(zip(rows, lengths)):
            taken = logprobs[r, keep - n:keep].gather(1, torch.tensor(ids[-n:])[:, None]).squeeze(1)
            scores.append((float(taken.sum()), float(taken.mean())))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=48, help="training notes of notes.jsonl")
    parser.add_argument("--varied", type=int, default=0, help="varied notes added (notes_varied.jsonl)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated, e.g. 0,1,2")
    args = parser.parse_args()
    setup()
    base, tokenizer = load_model()
    notes = load_outside_notes("dev")
    table: dict[str, list[float]] = {way: [] for way in WAYS}
    for seed in [int(s) for s in args.seeds.split(",")]:
        cfg = xml_config(args.n + args.varied, replace(XML_RECIPE, seed=seed))
        model = with_lora(base, cfg)
        history = train(model, tokenizer, xml_pairs(args.n, varied=args.varied, seed=seed), cfg, desc=f"seed {seed}")
        model.eval()
        right = dict.fromkeys(WAYS, 0)
        for note, xml in zip(notes, xml_texts(model, tokenizer, [n.text for n in notes])):
            accepted = {note.expected.condition, *note.accept}
            written = re.search(r"<condition>([^<]*)</condition>", xml)
            prefix = xml[:xml.index("<condition>") + len("<condition>")] if "<condition>" in xml else NO_PREFIX
            candidates = spans(note.text)
            scores = span_scores(model, tokenizer, note_prompt(note.text), prefix, candidates)
            chosen = {"free": written.group(1) if written else "",
                      "sum": candidates[max(range(len(candidates)), key=lambda i: scores[i][0])],
                      "mean": candidates[max(range(len(candidates)), key=lambda i: scores[i][1])]}
            for way, name in chosen.items():
                right[way] += name in accepted
            right["oracle"] += bool(accepted & set(candidates))
            print(f"  {note.id}: " + "  ".join(f"{way} {name!r}" for way, name in chosen.items())
                  + f"  | wanted {note.expected.condition!r}")
        for way in WAYS:
            table[way].append(right[way] / len(notes))
        print(f"seed {seed} ({history.seconds:.0f} s of training): "
              + ", ".join(f"{way} {table[way][-1]:.0%}" for way in WAYS), flush=True)
    print("mean (worst seed): "
          + ", ".join(f"{way} {statistics.mean(v):.0%} ({min(v):.0%})" for way, v in table.items()))


if __name__ == "__main__":
    main()
