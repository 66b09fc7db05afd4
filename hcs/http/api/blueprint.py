"""flask-smorest's Blueprint, with the pagination header documented as what it is: JSON text."""

from __future__ import annotations

from typing import Any

import flask_smorest

PAGINATION_HEADER = {
    "description": "Pagination metadata as a JSON object: total, total_pages, page, ...",
    "schema": {"type": "string"},
}


class ListPage(flask_smorest.Page):  # type: ignore[misc]
    """Pagination over a list the view already built."""

    @property
    def item_count(self) -> int:
        return len(self.collection)


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """A blueprint of the HCS API."""

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER
