"""Letters in the registry: PDFs from one long-lived renderer process per brand and paper."""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from channels.core import Category, Issue, SendResult
from channels.letter import (
    LETTER_PROVIDERS,
    LetterChannel,
    LetterContent,
    LetterProvider,
    LetterRenderer,
    LetterSettings,
    PreparedLetter,
)
from hcs.channels.addresses import address_key, address_lines
from hcs.channels.entry import Finishing, Outgoing, build_provider
from hcs.infrastructure.config import Settings
from hcs.infrastructure.delivery import LetterOptions, ProviderConfig
from templates_store.closure import resolve_closure
from templates_store.composing import Rendered
from templates_store.models import TemplateVersion

_RENDERERS: dict[tuple[str, int | None, str], LetterRenderer] = {}
_RENDERERS_LOCK = threading.Lock()


def letter_settings(settings: Settings, assets: dict[str, bytes], language: str) -> LetterSettings:
    """Paper and the brand's files for one letter."""
    return LetterSettings(
        page_size=settings.delivery.letter.page_size,
        pdf_variant="pdf/a-3b",
        brand_assets=assets,
        language=language,
    )


def brand_letter(
    session: Session,
    version: TemplateVersion,
    settings: LetterSettings,
    *,
    purpose: str = "send",
) -> tuple[LetterSettings, LetterRenderer]:
    """The version's brand files in `settings`, and the renderer process its letters share.

    Previews (`purpose="preview"`) get processes of their own: a draft that times out or
    crashes its renderer must not hold up letters being sent.
    """
    theme = resolve_closure(session, version).theme
    assets = {n: base64.b64decode(a["data"]) for n, a in (theme.assets if theme else {}).items()}
    settings = replace(settings, brand_assets=assets)
    key = (purpose, theme.id if theme else None, settings.page_size)
    with _RENDERERS_LOCK:
        if key not in _RENDERERS:
            _RENDERERS[key] = LetterRenderer(settings)
        return settings, _RENDERERS[key]


def close_renderers() -> None:
    """Stop every letter renderer process (at worker shutdown)."""
    with _RENDERERS_LOCK:
        renderers = list(_RENDERERS.values())
        _RENDERERS.clear()
    for renderer in renderers:
        renderer.close()


def content_of(parts: Mapping[str, Any]) -> LetterContent:
    """The rendered HTML and its CSS."""
    return LetterContent(parts["html"], parts.get("css", ""))


@dataclass(frozen=True)
class LetterOutlet:
    """Letters through one provider (the outbox, or a print house's folder)."""

    name: str
    provider: LetterProvider
    settings: Settings
    content_type: str = "application/pdf"
    # A test letter renders in processes of its own, with its watermark on every page.
    purpose: str = "send"
    watermark: str | None = None

    def finish(
        self, session: Session, version: TemplateVersion, message: Outgoing, rendered: Rendered
    ) -> Finishing:
        """The complete PDF, addressed, in the brand's renderer process."""
        paper = letter_settings(self.settings, {}, rendered.locale)
        paper = replace(paper, watermark=self.watermark)
        paper, renderer = brand_letter(session, version, paper, purpose=self.purpose)
        channel = LetterChannel(paper, self.provider, renderer)
        prepared = channel.prepare(
            content_of(rendered.parts), address_lines(message.to), reference=message.reference
        )
        return Finishing(prepared, prepared.pdf)

    def send(self, prepared: PreparedLetter) -> SendResult:
        """Hand the letter to the provider."""
        return self.provider.send(prepared)


class LetterEntry:
    """The letter channel."""

    name = "letter"
    recipient_field = "address"
    renders_isolated = True
    displays_html = False

    def options(self, settings: Settings) -> LetterOptions:
        """`HCS_LETTER_PROVIDER`, `HCS_LETTER_FALLBACK_PROVIDER`, `HCS_LETTER_PAGE_SIZE`."""
        return settings.delivery.letter

    def outlet(self, settings: Settings, provider: str) -> LetterOutlet:
        """Letters through `provider`."""
        configs: dict[str, ProviderConfig] = {
            "outbox": settings.delivery.outbox,
            "folder": settings.delivery.letter_folder,
        }
        built = build_provider(
            LETTER_PROVIDERS, configs, provider, settings, channel=self.name, title="letter"
        )
        return LetterOutlet(provider, built, settings)

    def recipient_key(self, to: Mapping[str, Any]) -> str:
        """A digest of the address lines (case-folded), so consent and search can match it."""
        return address_key(to)

    def issues(self, category: Category, parts: Mapping[str, Any]) -> list[Issue]:
        """None here: a letter's problems show when its PDF is rendered for the preview."""
        return []

    def preview_extras(self, rendered: Rendered) -> dict[str, Any]:
        """Nothing beyond the parts (the pages are rendered on their own request)."""
        return {}

    def render_extras(self, message: Outgoing, settings: Settings) -> dict[str, Any]:
        """No unsubscribe link."""
        return {}


def local_letters_warning(settings: Settings) -> str | None:
    """One line for a worker whose letters would stay on its own host's disk, else None.

    With a shared database (not SQLite) workers may run on several hosts; a letter written
    under this host's var dir (the `outbox` provider, or `folder` with no `HCS_LETTER_FOLDER`)
    reaches no print house the other hosts feed.
    """
    if settings.database_url.startswith("sqlite"):
        return None
    options = settings.delivery.letter
    folder = settings.delivery.letter_folder.directory
    local = [
        p
        for p in (options.provider, options.fallback)
        if p == "outbox" or (p == "folder" and not folder)
    ]
    if not local:
        return None
    where = settings.var_dir.resolve()
    return (
        f"warning: letters ({', '.join(local)} provider) are written under {where} and stay on "
        "this host; set HCS_LETTER_PROVIDER=folder and HCS_LETTER_FOLDER to a shared directory"
    )
