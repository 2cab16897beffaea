"""How every lesson asks the model a question.

Compact `Q: ...\nA:` prompts, no system prompt: the prototype learned facts in half the time of the
47-token chat template, and on a CPU every prompt token is paid for on every training step.
"""
from __future__ import annotations


def qa_prompt(question: str) -> str:
    return f"Q: {question.strip()}\nA:"


def chat_prompt(tokenizer, message: str, system: str | None = None,
                examples: list[tuple[str, str]] = ()) -> str:
    """The model's own chat format, for showing it chat (its template adds a system prompt).

    system: replaces the template's default system prompt; examples: (user, assistant) turns shown
    before `message`, the usual way to prompt a chat model with worked examples (few-shot).
    """
    turns = [] if system is None else [{"role": "system", "content": system}]
    for user, assistant in examples:
        turns += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    turns.append({"role": "user", "content": message})
    return tokenizer.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)


def note_prompt(note: str) -> str:
    """The compact prompt the XML adapter learns to complete: the note, then `XML:` (~5 tokens
    of frame, no instruction; the adapter learns the task from the examples)."""
    return f"Note: {note.strip()}\nXML:"


# How you would ask a chat model for the diagnosis XML without training it: the schema in words,
# with one line of example XML. The baselines of notebook 03 send it as the system prompt.
XML_INSTRUCTION = ("Write the diagnosis in the user's clinical note as one line of XML in exactly this form: "
                   "<diagnosis><age>54</age><sex>female</sex><condition>gout</condition>"
                   "<severity>moderate</severity></diagnosis>\n"
                   "sex is female or male; condition is in lower case; severity is mild, moderate or severe. "
                   "Answer with the XML only.")
