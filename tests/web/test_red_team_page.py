"""The review page runs the red-team check of a version's AI slots as a job and shows its cases."""

from __future__ import annotations

import html
import re

from tests.support.flows import ai_template, new_template
from tests.support.web import Person
from tests.support.world import World

REVIEW = "/templates/order-thanks/versions/1"


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_reviewer_runs_the_check_from_the_review_page_and_reads_each_case(
    sqlite_world: World,
) -> None:
    ai_template(sqlite_world)
    bo = Person(sqlite_world.app, "bo@example.com")
    before = bo.get(REVIEW).text
    assert 'id="red-team-none"' in before and 'id="red-team-offline"' in before
    started = bo.post(f"{REVIEW}/red-team")
    job = started.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job), started.status_code
    assert sqlite_world.app.extensions["hcs.jobs"].wait(30)
    done = bo.get(job).text
    assert 'data-status="succeeded"' in done
    assert "8 cases run: 0 got through" in _text(done)
    page = bo.get(REVIEW).text
    shown = _text(page)
    assert "by bo@example.com with offline" in shown
    assert "deterministic path only: 8 cases" in shown
    assert "Had the model obeyed every attack, 0 would have got through." in shown
    assert page.count('data-kind="') == 8
    assert "instruction injection" in shown and "hidden characters" in shown
    assert "⟨U+E00" in page  # the hidden order, made visible


def test_a_version_without_slots_has_no_red_team_section_and_the_post_is_refused_on_the_page(
    sqlite_world: World,
) -> None:
    new_template(sqlite_world)
    bo = Person(sqlite_world.app, "bo@example.com")
    path = "/templates/order-confirmation/versions/1"
    assert 'id="red-team"' not in bo.get(path).text
    refused = bo.post(f"{path}/red-team")
    assert refused.status_code == 422
    assert "this version has no AI slots to test" in _text(refused.text)


def test_the_sign_off_agent_cannot_start_a_run_nor_sees_the_button(sqlite_world: World) -> None:
    ai_template(sqlite_world)
    sam = Person(sqlite_world.app, "sam@example.com")
    assert 'id="red-team-run"' not in sam.get(REVIEW).text
    assert sam.post(f"{REVIEW}/red-team").status_code == 403


def test_the_run_needs_the_pages_csrf_token(sqlite_world: World) -> None:
    ai_template(sqlite_world)
    bo = Person(sqlite_world.app, "bo@example.com")
    assert bo.post(f"{REVIEW}/red-team", csrf=False).status_code == 400
    assert 'id="red-team-none"' in bo.get(REVIEW).text
