"""AI slot definitions: what a version's slots must satisfy before they can be submitted."""

from __future__ import annotations

from typing import Any

import pytest

from hcs.ai.slots import Slot, check_slots, slot_from
from templates_store.errors import ValidationFailed

VARIABLES = [
    {"name": "first_name", "type": "string", "data_class": "personal"},
    {"name": "order_total", "type": "money"},
    {"name": "diagnosis", "type": "string", "data_class": "sensitive"},
]


def slot(**overrides: Any) -> dict[str, Any]:
    definition = {
        "name": "intro",
        "instruction": "Thank the customer for their order in one friendly sentence.",
        "inputs": ["first_name"],
        "max_chars": 160,
        "fallback": "Thank you for your order.",
    }
    return {**definition, **overrides}


def errors(*slots: dict[str, Any], category: str = "marketing", **options: Any) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        check_slots(list(slots), VARIABLES, category, **options)
    return caught.value.errors


def test_a_complete_slot_is_returned_with_its_defaults_filled_in() -> None:
    assert check_slots([slot()], VARIABLES, "marketing") == [
        {
            "name": "intro",
            "instruction": "Thank the customer for their order in one friendly sentence.",
            "inputs": ["first_name"],
            "max_chars": 160,
            "fallback": "Thank you for your order.",
            "tone": "friendly",
            "on_failure": "fallback",
        }
    ]


def test_inputs_must_be_declared_variables() -> None:
    assert errors(slot(inputs=["first_name", "ssn"])) == {
        "ai_slots.0.inputs": ["'ssn' is not a declared variable"]
    }
    assert "ai_slots.0.inputs" in errors(slot(inputs="first_name"))


def test_sensitive_variables_are_never_sent_to_a_model() -> None:
    message = errors(slot(inputs=["diagnosis"]))["ai_slots.0.inputs"][0]
    assert "sensitive" in message


def test_templates_of_category_sensitive_cannot_have_slots() -> None:
    assert errors(slot(), category="sensitive") == {
        "ai_slots": ["sensitive templates cannot have AI slots"]
    }
    assert check_slots([], VARIABLES, "sensitive") == []


@pytest.mark.parametrize("value", [0, 2001, "100", True, None, 1.5])
def test_max_chars_is_a_whole_number_from_1_to_2000(value: object) -> None:
    assert "ai_slots.0.max_chars" in errors(slot(max_chars=value))


def test_on_failure_and_tone_take_only_known_values() -> None:
    assert "ai_slots.0.on_failure" in errors(slot(on_failure="send_anyway"))
    assert "ai_slots.0.tone" in errors(slot(tone="sarcastic"))
    assert check_slots([slot(on_failure="block", tone="formal")], VARIABLES, "service")


def test_the_fallback_must_itself_pass_the_guardrails() -> None:
    found = errors(slot(fallback="We will refund you in full, see https://shop.example/help."))
    messages = found["ai_slots.0.fallback"]
    assert any("links guardrail" in m for m in messages)
    assert any("commitments guardrail" in m and "refunds" in m for m in messages)


def test_a_fallback_over_the_bound_is_refused() -> None:
    found = errors(slot(max_chars=10))
    assert "length guardrail" in found["ai_slots.0.fallback"][0]


def test_a_fallback_may_link_to_the_policys_allowed_domains() -> None:
    definition = slot(fallback="Track it at https://shop.example/orders.")
    assert check_slots([definition], VARIABLES, "service", link_domains=["shop.example"])


def test_slot_names_are_identifiers_unique_and_distinct_from_variables() -> None:
    assert "ai_slots.0.name" in errors(slot(name="first_name"))
    assert "ai_slots.0.name" in errors(slot(name="9lives"))
    twice = errors(slot(), slot())
    assert "ai_slots.1.name" in twice and "ai_slots.0.name" in twice


def test_the_instruction_cannot_contain_the_data_delimiter() -> None:
    assert "ai_slots.0.instruction" in errors(slot(instruction="Say </customer_data> hi"))


def test_the_shape_checks_of_the_template_repository_still_apply() -> None:
    assert errors(slot(fallback="")) == {"ai_slots.0.fallback": ["is required"]}
    assert "ai_slots.0" in errors(slot(colour="blue"))


def test_slot_from_reads_a_stored_definition() -> None:
    assert slot_from(slot(tone="warm")) == Slot(
        name="intro",
        instruction="Thank the customer for their order in one friendly sentence.",
        inputs=("first_name",),
        max_chars=160,
        fallback="Thank you for your order.",
        tone="warm",
        on_failure="fallback",
    )
    with pytest.raises(ValidationFailed):
        slot_from({"name": "intro"})


def test_every_problem_of_every_slot_is_named_at_once() -> None:
    found = errors(
        slot(name="", max_chars=0, inputs=["ssn"], tone="sarcastic"),
        slot(name="closer", fallback="", on_failure="send_anyway"),
    )
    assert {
        "ai_slots.0.name",
        "ai_slots.0.max_chars",
        "ai_slots.0.inputs",
        "ai_slots.0.tone",
        "ai_slots.1.fallback",
        "ai_slots.1.on_failure",
    } <= set(found)
