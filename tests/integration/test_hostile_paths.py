"""Names that become paths: one grammar at every entry; export and import stay in their folder."""

from __future__ import annotations

import base64
import io
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hcs.cli.seeding import load_demo
from hcs.governance.transfers import pack, unpack
from templates_store import blocks
from templates_store.errors import ValidationFailed
from templates_store.files import export_all, import_all
from templates_store.lookup import get_theme
from templates_store.versioning import create_template

PNG = {"content_type": "image/png", "data": base64.b64encode(b"\x89PNG").decode()}


@pytest.mark.parametrize(
    "name", ["../../../../x.txt", "/etc/passwd", "assets/logo.png", ".hidden", "a\\b.png", ""]
)
def test_an_asset_name_that_is_not_a_plain_file_name_is_refused(
    session: Session, name: str
) -> None:
    blocks.create_theme(session, key="acme", name="Acme")
    with pytest.raises(ValidationFailed) as caught:
        blocks.create_theme_draft(session, "acme", author="ana@example.com", assets={name: PNG})
    assert "assets" in caught.value.errors
    draft = blocks.create_theme_draft(
        session, "acme", author="ana@example.com", assets={"logo.png": PNG}
    )
    assert set(draft.assets) == {"logo.png"}


@pytest.mark.parametrize("key", ["order\n", "../order", "Order", "a/b-c", "ok-key\x00"])
def test_a_key_outside_the_grammar_is_refused(session: Session, key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_template(session, key=key, name="x", category="transactional", channels=["sms"])
    assert list(caught.value.errors) == ["key"]


def _hostile_asset(session: Session) -> None:
    """An asset name stored before the grammar held (written past the domain's checks)."""
    theme = get_theme(session, "default")
    version = blocks.create_theme_draft(session, "default", author="ana@example.com")
    version.assets = {**theme.versions[-1].assets, "../../../../x.txt": PNG}
    session.flush()


def test_export_refuses_an_asset_name_that_would_leave_the_folder(
    session: Session, tmp_path: Path
) -> None:
    load_demo(session)
    _hostile_asset(session)
    target = tmp_path / "deep" / "er" / "export"
    with pytest.raises(ValidationFailed):
        export_all(session, target, drafts=True)  # the hostile name is in a draft
    assert not list(tmp_path.rglob("x.txt"))


def test_export_does_not_follow_a_symbolic_link_in_its_target(
    session: Session, tmp_path: Path
) -> None:
    load_demo(session)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "export"
    target.mkdir()
    (target / "_themes").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValidationFailed):
        export_all(session, target)
    assert list(outside.iterdir()) == []


def test_the_export_zip_refuses_an_entry_outside_its_folder() -> None:
    with pytest.raises(ValidationFailed):
        pack([("_themes/default/assets/../../../../x.txt", b"x")])
    with pytest.raises(ValidationFailed):
        pack([("/etc/x.txt", b"x")])


def test_import_refuses_a_symbolic_link_to_a_file_outside(session: Session, tmp_path: Path) -> None:
    load_demo(session)
    export_all(session, tmp_path)
    secret = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    secret.write_text("not for a theme", "utf-8")
    logo = tmp_path / "_themes" / "default" / "assets" / "logo.svg"
    logo.unlink()
    logo.symlink_to(secret)
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tmp_path, author="ci@example.com")
    assert caught.value.errors == {"_themes/default/assets/logo.svg": ["is a symbolic link"]}


def test_import_refuses_a_symbolic_link_to_a_folder(session: Session, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sneaky").mkdir(parents=True)
    (elsewhere / "sneaky" / "template.yaml").write_text("key: sneaky\n", "utf-8")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "sneaky").symlink_to(elsewhere / "sneaky", target_is_directory=True)
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tree, author="ci@example.com")
    assert caught.value.errors == {"sneaky": ["is a symbolic link"]}


@pytest.mark.parametrize("asset", ["/etc/hostname", "../../../secret.txt", "sub/logo.svg"])
def test_import_refuses_an_asset_named_as_a_path(
    session: Session, tmp_path: Path, asset: str
) -> None:
    load_demo(session)
    export_all(session, tmp_path)
    manifest = tmp_path / "_themes" / "default" / "theme.yaml"
    text = manifest.read_text("utf-8").replace("logo.svg:", f"'{asset}':")
    manifest.write_text(text, "utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tmp_path, author="ci@example.com")
    assert list(caught.value.errors) == [f"_themes/default/assets/{asset}"]


def test_import_refuses_a_folder_whose_name_is_not_a_key(tmp_path: Path, session: Session) -> None:
    folder = tmp_path / "Not A Key"
    folder.mkdir()
    (folder / "template.yaml").write_text("key: Not A Key\n", "utf-8")
    with pytest.raises(ValidationFailed) as caught:
        import_all(session, tmp_path, author="ci@example.com")
    assert list(caught.value.errors) == ["Not A Key"]


def _zip(name: str, data: bytes = b"x", *, link: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = ((stat.S_IFLNK | 0o777) if link else 0o644) << 16
        archive.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _zip("../escape/template.yaml"),
        _zip("/abs/template.yaml"),
        _zip("a/../../b/template.yaml"),
        _zip("C:/x/template.yaml"),
        _zip("x/assets/logo.svg", b"/etc/passwd", link=True),
    ],
)
def test_a_zip_entry_that_leaves_the_folder_or_is_a_link_is_refused(
    tmp_path: Path, data: bytes
) -> None:
    target = tmp_path / "upload"
    target.mkdir()
    with pytest.raises(ValidationFailed):
        unpack(data, target)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
