"""The visual email editor's one server call: a block document compiled, to convert it to code."""

from __future__ import annotations

import json

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from hcs.http.auth import allow
from hcs.http.extensions import db_session
from hcs.http.web.pages import bp
from templates_store.errors import ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.lookup import get_version
from templates_store.visual_email import compile_checked


@bp.post("/templates/<key>/versions/<int:number>/compile/<locale>")
@allow("templates", "author")
def compile_visual(key: str, number: int, locale: str) -> ResponseReturnValue:
    """The HTML and text a posted document compiles to; nothing is saved."""
    get_version(db_session(), key, number)
    try:
        document = json.loads(request.form.get("document", ""))
        return jsonify(compile_checked(document, locale=normalize_locale(locale)))
    except ValueError:
        return jsonify(errors={"document": ["is not valid JSON"]}), 422
    except ValidationFailed as exc:
        return jsonify(errors=exc.errors), 422
