"""The editor's forms for variables, sample sets and AI slots (no JSON to type)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from hcs.infrastructure.db import transaction
from templates_store.lookup import get_version
from tests.support.web import Person, make_draft

BODY = "Hi {{ first_name }}, order {{ order_id }} ({{ items }} items)."


@pytest.fixture(scope="module")
def ana(app: Flask) -> Person:
    return Person(app, "ana@example.com")


def _stored(app: Flask, key: str, number: int) -> Any:
    with transaction(app.extensions["hcs"].sessions) as session:
        version = get_version(session, key, number)
        return version.status.value, version.variables, version.sample_data, version.ai_slots


def _form(body: str = BODY, **extra: Any) -> dict[str, Any]:
    rows = {
        "parts.sms.en.body": body,
        "variables.0.name": "order_id",
        "variables.0.type": "string",
        "variables.0.required": "on",
        "variables.0.example": "A-1001",
        "variables.0.data_class": "none",
        "variables.1.name": "first_name",
        "variables.1.type": "string",
        "variables.1.data_class": "personal",
        "variables.2.name": "items",
        "variables.2.type": "integer",
        "variables.2.example": "3",
        "variables.2.data_class": "none",
        "variables.3.name": "",  # the blank row the page offers
        "variables.3.type": "string",
        "samples.0.name": "Default",
        "samples.0.values.order_id": "A-1",
        "samples.0.values.first_name": "Sam",
        "samples.0.values.items": "2",
    }
    return rows | extra


def test_variables_and_sample_data_typed_into_forms_are_stored_in_the_apis_shape(
    app: Flask, ana: Person
) -> None:
    number = make_draft(app, "forms-vars")
    answer = ana.post(f"/templates/forms-vars/versions/{number}/edit", _form())
    assert answer.status_code == 302, answer.text
    _, variables, sample, _ = _stored(app, "forms-vars", number)
    assert [v["name"] for v in variables] == ["order_id", "first_name", "items"]
    assert variables[0]["required"] is True and variables[1]["required"] is False
    assert variables[1]["data_class"] == "personal" and variables[2]["example"] == 3
    assert sample == {"order_id": "A-1", "first_name": "Sam", "items": 2}
    page = ana.get(f"/templates/forms-vars/versions/{number}/edit").text
    assert 'name="samples.0.values.items" value="2"' in page  # the form follows the schema
    assert 'name="variables.3.name" value=""' in page  # one blank row to add a variable


def test_a_bad_variable_and_a_bad_sample_value_show_next_to_their_fields_and_save_nothing(
    app: Flask, ana: Person
) -> None:
    number = make_draft(app, "forms-bad")
    form = _form(**{"variables.1.name": "9lives", "variables.2.example": "three"})
    answer = ana.post(f"/templates/forms-bad/versions/{number}/edit", form)
    assert answer.status_code == 422
    assert 'id="f-variables-1-name-error"' in answer.text
    assert 'id="f-variables-2-example-error"' in answer.text
    assert 'value="9lives"' in answer.text  # what was typed stays
    assert _stored(app, "forms-bad", number)[1][0]["name"] == "order_id"


def test_named_sample_sets_are_kept_beside_the_default_one_and_preview_on_request(
    app: Flask, ana: Person
) -> None:
    number = make_draft(app, "forms-sets")
    path = f"/templates/forms-sets/versions/{number}"
    named = {
        "samples.1.name": "Long name",
        "samples.1.values.order_id": "B-2",
        "samples.1.values.first_name": "Maximiliana",
        "samples.1.values.items": "40",
    }
    assert ana.post(f"{path}/edit", _form(**named)).status_code == 302
    sample = _stored(app, "forms-sets", number)[2]
    assert sample["order_id"] == "A-1"  # older readers still see the default set
    assert sample["@sets"] == {
        "Long name": {"order_id": "B-2", "first_name": "Maximiliana", "items": 40}
    }
    shown = ana.post(f"{path}/preview", _form(**named) | {"preview_sample": "Long name"}).text
    assert "Hi Maximiliana, order B-2 (40 items)." in shown
    assert "Hi Sam, order A-1 (2 items)." in ana.post(f"{path}/preview", _form(**named)).text
    page = ana.get(f"{path}/edit").text
    assert "<option>Long name</option>" in page


def test_a_bad_value_in_a_named_sample_set_blocks_submitting_and_names_its_field(
    app: Flask, ana: Person
) -> None:
    number = make_draft(app, "forms-set-bad")
    named = {"samples.1.name": "Broken", "samples.1.values.items": "many"}
    form = _form(**named) | {"action": "submit"}
    answer = ana.post(f"/templates/forms-set-bad/versions/{number}/edit", form)
    assert answer.status_code == 422
    assert 'id="f-samples-1-values-items-error"' in answer.text
    assert 'id="f-samples-1-values-order_id-error"' in answer.text  # required, and missing
    assert _stored(app, "forms-set-bad", number)[0] == "draft"


def _slot(**fields: Any) -> dict[str, Any]:
    slot = {
        "name": "opener",
        "instruction": "Greet the customer warmly.",
        "inputs": ["first_name"],
        "tone": "warm",
        "max_chars": "200",
        "fallback": "Thank you for your order.",
        "on_failure": "fallback",
    }
    return {f"ai_slots.0.{k}": v for k, v in (slot | fields).items()}


def test_a_draft_with_invalid_ai_slots_is_saved_with_every_error_shown_and_cannot_be_submitted(
    app: Flask, ana: Person
) -> None:
    number = make_draft(app, "forms-slots")
    path = f"/templates/forms-slots/versions/{number}/edit"
    bad = _slot(name="", inputs=["first_name", "ssn"], max_chars="0", tone="sarcastic")
    submitted = ana.post(path, _form() | bad | {"action": "submit"})
    assert submitted.status_code == 422
    assert "Saved, but not submitted" in submitted.text
    for field in ("name", "inputs", "max_chars", "tone"):  # all at once, each by its field
        assert f'id="f-ai_slots-0-{field}-error"' in submitted.text, field
    status, _, _, slots = _stored(app, "forms-slots", number)
    assert status == "draft" and slots[0]["instruction"] == "Greet the customer warmly."
    reopened = ana.get(path).text
    assert "must be corrected before this version can be submitted" in reopened
    assert 'id="f-ai_slots-0-max_chars-error"' in reopened


def test_a_complete_ai_slot_from_the_form_is_stored_as_the_api_defines_it(
    app: Flask, ana: Person
) -> None:
    number = make_draft(app, "forms-slot-ok")
    answer = ana.post(f"/templates/forms-slot-ok/versions/{number}/edit", _form() | _slot())
    assert answer.status_code == 302
    slots = _stored(app, "forms-slot-ok", number)[3]
    assert slots == [
        {
            "name": "opener",
            "instruction": "Greet the customer warmly.",
            "inputs": ["first_name"],
            "tone": "warm",
            "max_chars": 200,
            "fallback": "Thank you for your order.",
            "on_failure": "fallback",
        }
    ]
    page = ana.get(f"/templates/forms-slot-ok/versions/{number}/edit").text
    assert 'name="ai_slots.0.inputs" value="first_name" checked' in page
    assert "must be corrected" not in page


def test_text_typed_with_crlf_line_endings_is_stored_with_lf(app: Flask, ana: Person) -> None:
    number = make_draft(app, "forms-crlf")
    form = _form(body="Hi {{ first_name }},\r\norder {{ order_id }}\r\n{{ items }}")
    assert ana.post(f"/templates/forms-crlf/versions/{number}/edit", form).status_code == 302
    with transaction(app.extensions["hcs"].sessions) as session:
        body = get_version(session, "forms-crlf", number).parts["sms"]["en"]["body"]
    assert body == "Hi {{ first_name }},\norder {{ order_id }}\n{{ items }}"
