"""The kinds of reviewed things (templates, content blocks, brand themes) in one registry.

Each kind holds its models and the functions that find, create, draft, edit, freeze and publish
it, and what its audit entries keep. The authoring service, the API and the pages look a kind up
here instead of asking which kind they hold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hcs.governance.policies import COMPONENTS, Policy, policy_for
from hcs.governance.workflow import Published, freeze_template, publish_template, publish_version
from templates_store import blocks, versioning
from templates_store.errors import NotFound
from templates_store.lookup import (
    get_block,
    get_block_version,
    get_template,
    get_theme,
    get_theme_version,
    get_version,
)
from templates_store.models import (
    BlockVersion,
    ContentBlock,
    Template,
    TemplateVersion,
    Theme,
    ThemeVersion,
)

Owner = Template | ContentBlock | Theme
Version = TemplateVersion | BlockVersion | ThemeVersion
Facts = dict[str, Any] | None


def _no_facts(_: Any) -> Facts:
    return None


@dataclass(frozen=True)
class Kind:
    """One kind of reviewed thing: its models, the repository's functions, its audit facts."""

    name: str
    model: type[Any]  # the ORM class: Template, ContentBlock or Theme
    version_model: type[Any]  # TemplateVersion, BlockVersion or ThemeVersion
    get: Callable[[Session, str], Owner]
    get_version: Callable[[Session, str, int], Version]
    owner_of: Callable[[Any], Owner]
    category: Callable[[Any], str]  # the approval policy a version answers to
    create: Callable[[Session, Mapping[str, Any]], Owner]
    draft: Callable[[Session, str, str, Mapping[str, Any]], Version]  # session, key, author, body
    edit: Callable[[Session, str, int, Mapping[str, Any]], Version]
    freeze: Callable[[Session, str, int], Version]
    publish: Callable[..., Published]  # session, key, number (a template: replaces=)
    created_facts: Callable[[Any], Facts] = _no_facts  # the `after` of `<kind>.create`
    draft_facts: Callable[[Any], Facts] = _no_facts  # the `detail` of `<kind>.draft`
    frozen_facts: Callable[[Any], Facts] = _no_facts  # the `after` of `<kind>.submit`
    decision_prefix: str = ""  # what names a version in approve/reject entries

    @property
    def plural(self) -> str:
        """`block` → `blocks`, as in URLs."""
        return f"{self.name}s"


def _create_template(session: Session, fields: Mapping[str, Any]) -> Template:
    given = {name: value for name, value in fields.items() if name != "theme"}
    return versioning.create_template(session, theme_key=fields.get("theme", "default"), **given)


def _draft_template(
    session: Session, key: str, author: str, body: Mapping[str, Any]
) -> TemplateVersion:
    content = {name: value for name, value in body.items() if name != "from_version"}
    return versioning.create_draft(
        session, key, author=author, from_version=body.get("from_version"), content=content
    )


def _create_block(session: Session, fields: Mapping[str, Any]) -> ContentBlock:
    return blocks.create_block(
        session, key=fields["key"], name=fields["name"], description=fields.get("description", "")
    )


def _draft_block(session: Session, key: str, author: str, body: Mapping[str, Any]) -> BlockVersion:
    return blocks.create_block_draft(session, key, author=author, content=body.get("content"))


def _edit_block(session: Session, key: str, number: int, body: Mapping[str, Any]) -> BlockVersion:
    return blocks.update_block_draft(session, key, number, body.get("content", {}))


def _publish_block(session: Session, key: str, number: int) -> Published:
    version = get_block_version(session, key, number)
    return publish_version(session, version.block.versions, version)


def _create_theme(session: Session, fields: Mapping[str, Any]) -> Theme:
    return blocks.create_theme(session, key=fields["key"], name=fields["name"])


def _draft_theme(session: Session, key: str, author: str, body: Mapping[str, Any]) -> ThemeVersion:
    settings, assets = body.get("settings"), body.get("assets")
    return blocks.create_theme_draft(session, key, author=author, settings=settings, assets=assets)


def _edit_theme(session: Session, key: str, number: int, body: Mapping[str, Any]) -> ThemeVersion:
    settings, assets = body.get("settings"), body.get("assets")
    return blocks.update_theme_draft(session, key, number, settings=settings, assets=assets)


def _publish_theme(session: Session, key: str, number: int) -> Published:
    version = get_theme_version(session, key, number)
    return publish_version(session, version.theme.versions, version)


TEMPLATE = Kind(
    name="template",
    model=Template,
    version_model=TemplateVersion,
    get=get_template,
    get_version=get_version,
    owner_of=lambda version: version.template,
    category=lambda version: version.template.category,
    create=_create_template,
    draft=_draft_template,
    edit=versioning.update_draft,
    freeze=freeze_template,
    publish=publish_template,
    created_facts=lambda t: {"category": t.category, "channels": t.channels},
    draft_facts=lambda v: {"based_on": v.based_on},
    frozen_facts=lambda v: {"closure_hash": v.closure_hash},
)
BLOCK = Kind(
    name="block",
    model=ContentBlock,
    version_model=BlockVersion,
    get=get_block,
    get_version=get_block_version,
    owner_of=lambda version: version.block,
    category=lambda _: COMPONENTS,
    create=_create_block,
    draft=_draft_block,
    edit=_edit_block,
    freeze=blocks.submit_block,
    publish=_publish_block,
    frozen_facts=lambda v: {"closure_hash": v.closure_hash},
    decision_prefix="block ",
)
THEME = Kind(
    name="theme",
    model=Theme,
    version_model=ThemeVersion,
    get=get_theme,
    get_version=get_theme_version,
    owner_of=lambda version: version.theme,
    category=lambda _: COMPONENTS,
    create=_create_theme,
    draft=_draft_theme,
    edit=_edit_theme,
    freeze=blocks.submit_theme,
    publish=_publish_theme,
    frozen_facts=lambda v: {"closure_hash": v.closure_hash},
    decision_prefix="theme ",
)
KINDS: dict[str, Kind] = {kind.name: kind for kind in (TEMPLATE, BLOCK, THEME)}
# Blocks and themes: the components a template version pins, with their own pages and API.
COMPONENT_KINDS: dict[str, Kind] = {name: KINDS[name] for name in ("block", "theme")}


def kind_of(name: str) -> Kind:
    """The registered kind called `name`; NotFound for any other."""
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound(f"no kind {name!r} (template, block, theme)") from None


def policy_of(session: Session, kind: str, version: Any) -> Policy:
    """The policy a version answers to: its template's category, or `component` for blocks."""
    return policy_for(session, kind_of(kind).category(version))


def decision_target(kind: str, key: str, number: int) -> str:
    """How approve/reject audit entries name a version: `key vN`, `block key vN`, ..."""
    return f"{kind_of(kind).decision_prefix}{key} v{number}"
