"""The API refuses keys and asset names outside the grammar, naming the field."""

from __future__ import annotations

import base64

from tests.support.world import World

PNG = {"content_type": "image/png", "data": base64.b64encode(b"\x89PNG").decode()}


def test_a_theme_asset_named_as_a_path_is_refused_and_nothing_is_saved(world: World) -> None:
    ana = world.as_("ana@example.com")
    assert ana.post("/themes", {"key": "acme", "name": "Acme"}).status_code == 201
    answer = ana.post("/themes/acme/versions", {"assets": {"../../../../x.txt": PNG}})
    assert answer.status_code == 422, answer.get_json()
    assert "assets" in answer.get_json()["errors"]
    assert ana.get("/themes/acme").get_json()["versions"] == []
    fine = ana.post("/themes/acme/versions", {"assets": {"logo.png": PNG}})
    assert fine.status_code == 201 and fine.get_json()["assets"] == ["logo.png"]


def test_a_key_with_a_trailing_newline_is_refused(world: World) -> None:
    ana = world.as_("ana@example.com")
    for path in ("/themes", "/blocks"):
        answer = ana.post(path, {"key": "acme\n", "name": "Acme"})
        assert answer.status_code == 422
        assert list(answer.get_json()["errors"]["json"]) == ["key"]
    body = {"key": "order\n", "name": "x", "category": "transactional", "channels": ["sms"]}
    answer = ana.post("/templates", body)
    assert answer.status_code == 422 and list(answer.get_json()["errors"]["json"]) == ["key"]
