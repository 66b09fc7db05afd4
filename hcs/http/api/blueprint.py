"""flask-smorest's Blueprint: the pagination header documented as what it is (JSON text), and
bodies read as `hcs.http.bodies` parsed them."""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
from webargs.flaskparser import FlaskParser

from hcs.http.bodies import NOT_PARSED, parsed

PAGINATION_HEADER = {
    "description": "Pagination metadata as a JSON object: total, total_pages, page, ...",
    "schema": {"type": "string"},
}


class ListPage(flask_smorest.Page):  # type: ignore[misc]
    """Pagination over a list the view already built."""

    @property
    def item_count(self) -> int:
        return len(self.collection)


class _Parser(FlaskParser):
    """webargs' parser, reading the body the strict parser already read (once a request)."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        body = parsed()
        return super()._raw_load_json(req) if body is NOT_PARSED else body


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """A blueprint of the HCS API."""

    ARGUMENTS_PARSER = _Parser()

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER
