"""Constrained decoding: the diagnosis XML by construction, with no training.

At every step of generation a logits processor forbids each token that would take the answer out of
DIAGNOSIS_REGEX, so whatever the model writes is one line the schema accepts; which values it picks
is still the model's. The regular expression is written beside data/clinical/diagnosis.xsd (a small
schema: deriving it by parsing the XSD would be more code than the schema); tests/test_constraint.py
checks the two agree. llguidance (pinned in requirements.txt) turns it into token masks: no dependencies
of its own, a mask far cheaper than the model's step, and a batch masked row by row in the same generate
call (why this library: benchmarks/README.md).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from llguidance import LLMatcher
from llguidance.hf import from_tokenizer
from transformers import LogitsProcessor, LogitsProcessorList

# What to_xml writes for each value the schema allows: the integers without a sign or leading zeros.
AGE = r"([0-9]|[1-9][0-9]|1[01][0-9]|120)"  # xs:integer 0..120
SEX = r"(female|male)"
CONDITION = r"[a-z]+([ \-][a-z]+)*"  # the schema's own pattern
SEVERITY = r"(mild|moderate|severe)"
DOSE = r"[1-9][0-9]*"  # xs:positiveInteger
# The schema allows any drug name without blanks at either end (\S(.*\S)?); the constraint allows the
# printable ASCII of such names, escaped as to_xml escapes them (&, <, >), and spaces inside: a
# model writing e.g. a tab or a non-ASCII letter there is refused, which the schema would accept.
_DRUG_CHAR = r"([!-%'-;=?-~]|&amp;|&lt;|&gt;)"
DRUG = rf"{_DRUG_CHAR}( *{_DRUG_CHAR})*"
TREATMENT = rf"<treatment><drug>{DRUG}</drug><max_daily_dose_mg>{DOSE}</max_daily_dose_mg></treatment>"


def diagnosis_regex(treatment: bool | None = None) -> str:
    """The one-line diagnosis XML as a regular expression (Python re and llguidance read it alike).

    treatment: None, optional as in the schema; False, never (notebook 03's task: given the choice, the
    constrained base model invents a treatment and runs out of tokens); True, always.
    """
    tail = {None: f"({TREATMENT})?", False: "", True: TREATMENT}[treatment]
    # An optional space first: after the adapter's prompt ("...\nXML:") its answers start with the token
    # " <" as it was trained (batching.encode), and forbidding it would push the adapter off what it
    # learned. The answer is read stripped (generation.Answer.text).
    return (f" ?<diagnosis><age>{AGE}</age><sex>{SEX}</sex><condition>{CONDITION}</condition>"
            f"<severity>{SEVERITY}</severity>{tail}</diagnosis>")


DIAGNOSIS_REGEX = diagnosis_regex()


@lru_cache(maxsize=4)
def _ll_tokenizer(tokenizer):
    # Reading SmolLM2's 49,152 tokens takes about half a second: once per tokenizer.
    return from_tokenizer(tokenizer, n_vocab=len(tokenizer))


class RegexConstraint(LogitsProcessor):
    """Masks every token that would leave the regex; the end token once the answer is complete.

    Only generated tokens are fed to the matcher, never the prompt: a note that contains XML, or
    is very long, cannot move the constraint. One instance serves one generate call after another
    (a call whose input is not the previous one plus a token starts afresh), batched or not.
    """

    def __init__(self, tokenizer, regex: str):
        self.tokenizer, self.vocab = _ll_tokenizer(tokenizer), len(tokenizer)
        self.grammar, self.eos = LLMatcher.grammar_from_regex(regex), tokenizer.eos_token_id
        error = LLMatcher.validate_grammar(self.grammar, self.tokenizer)
        if error:
            raise ValueError(f"not a regex llguidance can use: {error}")
        self.matchers: list[LLMatcher] = []
        self.seen = None  # the input of the previous step

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        ids = input_ids.cpu()
        if self.seen is None or ids.shape != (self.seen.shape[0], self.seen.shape[1] + 1) \
                or not torch.equal(ids[:, :-1], self.seen):  # a new generate call
            self.matchers = [LLMatcher(self.tokenizer, self.grammar) for _ in range(len(ids))]
        else:
            for matcher, token in zip(self.matchers, ids[:, -1].tolist()):
                if not matcher.is_stopped():  # a finished row is fed padding: not the answer's
                    matcher.consume_token(token)
        self.seen = ids
        allowed = torch.zeros(scores.shape, dtype=torch.bool)  # the model's padding columns: never
        for row, matcher in enumerate(self.matchers):
            if matcher.is_stopped():  # done (or, never in practice, in error): only the end token
                allowed[row, self.eos] = True
                continue
            bits = np.unpackbits(np.frombuffer(matcher.compute_bitmask(), np.uint8), bitorder="little")
            allowed[row, :self.vocab] = torch.from_numpy(bits[:self.vocab].astype(bool))
        return scores.masked_fill(~allowed.to(scores.device), float("-inf"))


def diagnosis_constraint(tokenizer, treatment: bool | None = None) -> LogitsProcessorList:
    """What model.generate needs (logits_processor=...) to write only schema-valid diagnosis XML.

    The answer then ends with the end token right after </diagnosis>; give max_new_tokens room for
    the whole line (about 40 tokens of SmolLM2's without a treatment, a long condition name more).
    """
    return LogitsProcessorList([RegexConstraint(tokenizer, diagnosis_regex(treatment))])
