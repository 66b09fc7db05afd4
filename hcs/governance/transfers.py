"""Templates as a zip of files for the web pages: an export to download, an upload to import.

The zip holds exactly what `hcs templates export DIR` writes into DIR. An import reads it with
the same domain functions as `hcs templates import`: every changed template, block or theme
becomes a draft, and one bad file refuses the whole import. Large ones run as jobs.
"""

from __future__ import annotations

import io
import shutil
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path, PurePosixPath

from sqlalchemy.orm import Session

from hcs import jobs
from hcs.audit import record
from hcs.infrastructure.db import transaction
from hcs.jobs.runner import JobContext, Work
from templates_store.errors import ValidationFailed
from templates_store.exporting import folder_files
from templates_store.files import ImportReport, check_folder, import_all, read_folder
from templates_store.folders import PREFIXES, Item, items_in
from templates_store.names import relative_path

MAX_FILES = 20_000
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
# Fixed timestamps: exporting the same versions twice gives the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Folders other tools add to a zip, which are no part of the files.
IGNORED = ("__MACOSX", ".DS_Store", ".git")
EXPORT_SLICE = 100


def pack(files: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip of `(path, bytes)`, in the order given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(str(relative_path(name)), date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def files_of(session: Session, items: Iterable[Item]) -> list[tuple[str, bytes]]:
    """Every file of the items' newest versions, by its path in the tree."""
    return [
        (f"{item.folder}/{name}", data)
        for item in items
        for name, data in folder_files(session, item).items()
    ]


def record_export(session: Session, actor: str, what: str, folders: int) -> None:
    """An export is audited like every other action on templates."""
    record(
        session,
        actor=actor,
        action="templates.export",
        target_type="template",
        target=what,
        detail={"folders": folders},
    )


def export_work(items: list[Item], what: str, name: str, *, actor: str) -> Work:
    """A job that reads `items` in short transactions and leaves their zip as its output."""

    def work(context: JobContext) -> None:
        files: list[tuple[str, bytes]] = []
        for start in range(0, len(items), EXPORT_SLICE):
            with transaction(context.sessions) as session:
                files += files_of(session, items[start : start + EXPORT_SLICE])
            done = min(start + EXPORT_SLICE, len(items))
            context.report(done, step="Reading versions", now=True)
        context.report(len(items), step="Packing the zip", now=True)
        data = pack(files)
        with transaction(context.sessions) as session:
            record_export(session, actor, what, len(items))
            result = {"folders": len(items), "files": len(files), "bytes": len(data)}
            jobs.succeed(session, context.job_id, result, output=data, output_name=name)

    return work


def _refused(name: str, message: str) -> ValidationFailed:
    return ValidationFailed({name: [message]})


def _safe_parts(member: zipfile.ZipInfo) -> tuple[str, ...]:
    """A member's path in the zip; a link, or a path that leaves the folder, is refused."""
    if stat.S_ISLNK(member.external_attr >> 16):
        raise _refused(member.filename, "is a symbolic link")
    try:
        return relative_path(member.filename).parts
    except ValidationFailed:
        raise _refused(member.filename, "has a path outside the zip's folder") from None


def unpack(data: bytes, target: Path) -> Path:
    """Unzip an upload into `target`, refusing unsafe paths and bombs; the tree's root folder.

    A zip of one folder holding the tree (as made by zipping the export's folder) works too.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _refused("file", "is not a zip file") from exc
    members = [m for m in members if not set(PurePosixPath(m.filename).parts) & set(IGNORED)]
    if len(members) > MAX_FILES:
        raise _refused("file", f"holds more than {MAX_FILES} files")
    budget = MAX_UNPACKED_BYTES
    for member in members:
        destination = target.joinpath(*_safe_parts(member))
        try:
            with archive.open(member) as source:
                content = source.read(budget + 1)
        except (zipfile.BadZipFile, RuntimeError, ValueError, OSError) as exc:
            raise _refused(member.filename, f"cannot be read: {exc}") from exc
        budget -= len(content)
        if budget < 0:
            raise _refused("file", f"unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content)
    return _root(target)


def _root(target: Path) -> Path:
    tops = list(target.iterdir())
    if items_in(target) or len(tops) != 1 or not tops[0].is_dir():
        return target
    return tops[0]


def import_tree(session: Session, root: Path, *, actor: str) -> ImportReport:
    """Import the tree at `root` as drafts by `actor`, audited; the caller commits."""
    report = import_all(session, root, author=actor)
    for folder in report.created:
        kind, key = _kind_and_key(folder)
        record(session, actor=actor, action=f"{kind}.create", target_type=kind, target=key)
    for draft in report.drafts:
        kind, label = _kind_and_key(draft)
        record(
            session,
            actor=actor,
            action=f"{kind}.draft",
            target_type=kind,
            target=label,
            detail={"source": "import"},
        )
    return report


def _kind_and_key(folder: str) -> tuple[str, str]:
    for kind, prefix in PREFIXES.items():
        if prefix and folder.startswith(prefix):
            return kind, folder.removeprefix(prefix)
    return "template", folder


def check_tree(root: Path, context: JobContext) -> int:
    """Read and check every folder without the database; every bad file is named."""
    items, errors = items_in(root), {}
    for done, item in enumerate(items, start=1):
        try:
            check_folder(read_folder(root, item))
        except ValidationFailed as exc:
            errors.update(exc.errors)
        context.report(done, step="Checking files")
    if errors:
        raise ValidationFailed(errors)
    return len(items)


def import_work(root: Path, upload: Path, *, actor: str) -> Work:
    """A job that checks every file, then imports all of them in one transaction (or none)."""

    def work(context: JobContext) -> None:
        try:
            checked = check_tree(root, context)
            context.report(checked, step="Saving drafts", now=True)
            with transaction(context.sessions) as session:
                report = import_tree(session, root, actor=actor)
                jobs.succeed(session, context.job_id, asdict(report))
        finally:
            shutil.rmtree(upload, ignore_errors=True)

    return work
