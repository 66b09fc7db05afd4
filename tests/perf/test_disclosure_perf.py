"""The send-time disclosure check: finishing an AI message with it, against finishing without it."""

from __future__ import annotations

from collections.abc import Callable
from unittest.mock import patch

import pytest
from sqlalchemy import select

from hcs.dispatch import finishing
from hcs.dispatch.finishing import finish
from hcs.dispatch.providers import build_providers
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message
from hcs.signoffs.gate import signed_off_texts
from templates_store.closure import resolve_closure
from templates_store.models import TemplateVersion
from tests.perf.timing import median_seconds
from tests.support.flows import ai_template, dispatch, send_ai
from tests.support.world import World

pytestmark = pytest.mark.perf


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_disclosure_check_adds_little_to_finishing_an_ai_message(
    world: World, bench_report: Callable[..., None]
) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    sam = world.as_("sam@example.com")
    assert sam.post(f"/signoffs/{sam.get('/signoffs').get_json()[0]['id']}/approve").status_code
    services = world.app.extensions["hcs"]
    providers = build_providers(services.settings)
    with transaction(services.sessions) as session:
        message = session.scalars(select(Message).where(Message.id == message_id)).one()
        texts = signed_off_texts(session, message)
        # Held as a worker holds them (its session keeps the versions it sends from).
        version = session.get_one(TemplateVersion, message.version_id)
        kept = [version, *resolve_closure(session, version).blocks.values()]

        def checked() -> None:
            assert finish(session, message, providers, texts).disclosure is not None

        def unchecked() -> None:
            finish(session, message, providers, texts)

        checked()
        pipeline_s = median_seconds(checked, repeat=9, number=50)
        with patch.object(finishing, "_disclosed", return_value=None):
            raw_s = median_seconds(unchecked, repeat=9, number=50)
    assert kept
    bench_report("AI SMS finished (disclosure checked vs not)", pipeline_s, raw_s, unit="msg")
    # A person reads every AI message: a millisecond or two more per message is nothing to them.
    assert pipeline_s - raw_s < 0.005
