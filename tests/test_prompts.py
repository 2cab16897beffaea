"""utils/prompts.py: how the lessons ask the model."""
import re

from utils.clinical import validate_xml
from utils.prompts import XML_INSTRUCTION, chat_prompt, note_prompt, qa_prompt


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
