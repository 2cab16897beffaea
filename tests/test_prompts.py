"""utils/tasks/prompts.py: how the lessons ask the model."""
import hashlib
import re

from utils.tasks import prompts
from utils.tasks.clinical import validate_xml
from utils.tasks.prompts import XML_INSTRUCTION, chat_prompt, note_prompt, passage_text, qa_prompt, reader_prompt


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


# ---------------------------------------------------------------- the exact bytes

LEAFLET = "# Altrevon\n\nAltrevon treats motion sickness. Oskwell Sciences makes it.\n"
# The prompts as the committed notebooks and the cached adapters were made with. A change here retrains
# every adapter (their fingerprints hash the training prompts) and moves figures the notebooks check:
# change one on purpose, then re-execute the notebooks.
PINNED = {
    "XML_INSTRUCTION": (
        "Write the diagnosis in the user's clinical note as one line of XML in exactly this form: "
        "<diagnosis><age>54</age><sex>female</sex><condition>gout</condition><severity>moderate</severity>"
        "</diagnosis>\nsex is female or male; condition is in lower case; severity is mild, moderate or severe. "
        "Answer with the XML only."),
    "TREATMENT_INSTRUCTION": (
        "Write the diagnosis in the user's clinical note as one line of XML in exactly this form: "
        "<diagnosis><age>54</age><sex>female</sex><condition>gout</condition><severity>moderate</severity>"
        "<treatment><drug>Examplomab</drug><max_daily_dose_mg>40</max_daily_dose_mg></treatment></diagnosis>\n"
        "sex is female or male; condition is in lower case; severity is mild, moderate or severe; the treatment "
        "is the drug for the condition and its maximum daily dose in mg, as the leaflet says when there is one. "
        "Answer with the XML only."),
    "reader_prompt": "Passage: Altrevon treats motion sickness. Oskwell Sciences makes it.\nQ: Who makes Altrevon?\nA:",
    "reader_followup": "\nQ: What does it treat?\nA:",
    "treatment_question": "Which drug treats gout?",
    "dose_question": "What is the maximum daily dose of Vintrabel?",
}
# The start of sha256 of the two-shot reader prompt (its examples are ~400 characters of fixed text).
TWO_SHOT_PROMPT_SHA256 = "f8d7507cfd1e6922"


def test_the_prompts_are_byte_for_byte_those_the_adapters_were_trained_with():
    made = {"XML_INSTRUCTION": prompts.XML_INSTRUCTION, "TREATMENT_INSTRUCTION": prompts.TREATMENT_INSTRUCTION,
            "reader_prompt": reader_prompt(LEAFLET, " Who makes Altrevon? "),
            "reader_followup": prompts.reader_followup(" What does it treat? "),
            "treatment_question": prompts.treatment_question("gout"),
            "dose_question": prompts.dose_question("Vintrabel")}
    assert made == PINNED
    two_shots = reader_prompt(LEAFLET, "Who makes Altrevon?", prompts.TWO_SHOTS)
    assert hashlib.sha256(two_shots.encode()).hexdigest()[:16] == TWO_SHOT_PROMPT_SHA256



def test_the_untuned_models_prompts_build_on_the_instructions(tokenizer):
    assert prompts.xml_chat_prompt(tokenizer, "54F gout") == chat_prompt(tokenizer, "54F gout",
                                                                         system=prompts.XML_INSTRUCTION)
    assert prompts.TREATMENT_INSTRUCTION.startswith(prompts.XML_INSTRUCTION.split("</diagnosis>")[0])
    with_leaflet = prompts.treatment_prompt(tokenizer, " 54F gout ", LEAFLET)
    assert with_leaflet == chat_prompt(tokenizer, "Leaflet: Altrevon treats motion sickness. Oskwell Sciences "
                                       "makes it.\n\nNote: 54F gout", system=prompts.TREATMENT_INSTRUCTION)
    assert prompts.treatment_prompt(tokenizer, "54F gout") == chat_prompt(tokenizer, "Note: 54F gout",
                                                                          system=prompts.TREATMENT_INSTRUCTION)
    shot = (prompts.treatment_message("71M insomnia", LEAFLET), "<diagnosis>...</diagnosis>")
    assert prompts.treatment_prompt(tokenizer, "54F gout", LEAFLET, [shot]) == chat_prompt(
        tokenizer, with_leaflet.split("<|im_start|>user\n")[-1].split("<|im_end|>")[0],
        system=prompts.TREATMENT_INSTRUCTION, examples=[shot])
