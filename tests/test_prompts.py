"""utils/prompts.py: how the lessons ask the model."""
import re

from utils.clinical import validate_xml
from utils.prompts import XML_INSTRUCTION, chat_prompt, note_prompt, passage_text, qa_prompt, reader_prompt


def test_compact_prompts():
    assert qa_prompt("  Who makes Altrevon? ") == "Q: Who makes Altrevon?\nA:"
    assert note_prompt(" 54F gout, moderate. \n") == "Note: 54F gout, moderate.\nXML:"


def test_chat_prompt_default_is_one_user_turn(tokenizer):
    expected = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}],
                                             add_generation_prompt=True, tokenize=False)
    assert chat_prompt(tokenizer, "hi") == expected


def test_chat_prompt_with_system_and_examples(tokenizer):
    text = chat_prompt(tokenizer, "note 3", system="be brief", examples=[("note 1", "<a/>"), ("note 2", "<b/>")])
    roles = re.findall(r"<\|im_start\|>(\w+)", text)
    assert roles == ["system", "user", "assistant", "user", "assistant", "user", "assistant"]
    assert text.index("be brief") < text.index("note 1") < text.index("<a/>") < text.index("note 2") \
        < text.index("<b/>") < text.index("note 3")
    assert text.endswith("<|im_start|>assistant\n")  # the model answers next


def test_the_instruction_shows_a_schema_valid_example():
    [example] = re.findall(r"<diagnosis>.*?</diagnosis>", XML_INSTRUCTION)
    assert validate_xml(example).valid


def test_passage_text_drops_the_heading_only():
    assert passage_text("# Altrevon\n\nAltrevon treats motion sickness.\n") == "Altrevon treats motion sickness."
    assert passage_text("No heading here.") == "No heading here."


def test_reader_prompt_puts_shots_then_passage_then_question():
    prompt = reader_prompt("# X\n\nX treats gout.", " What does X treat? ", shots=(("P1", "Q1", "A1"),))
    assert prompt == "Passage: P1\nQ: Q1\nA: A1\n\nPassage: X treats gout.\nQ: What does X treat?\nA:"
