"""The outbox's batch call: all of a call's mails are written whole, or none is, or it says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels import files
from channels.core import Category
from channels.email import EmailChannel, EmailContent, EmailSettings, PreparedEmail, to_eml
from channels.email.outbox import OutboxEmail
from channels.errors import ChannelError, TransientChannelError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SENDER = EmailSettings(from_address="news@acme.example")


def mails(count: int) -> list[PreparedEmail]:
    channel = EmailChannel(SENDER, OutboxEmail("unused"))
    content = EmailContent("Hi", "<p>Hello</p>")
    return [
        channel.prepare(content, f"c{n}@example.com", Category.SERVICE, reference=f"m-{n}", now=NOW)
        for n in range(count)
    ]


def left_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_a_batch_writes_every_mail_whole_and_leaves_no_temporary_file(
    tmp_path: Path, flushing: str
) -> None:
    batch = mails(5)
    results = OutboxEmail(tmp_path).send_many(batch)
    assert [r.message_id for r in results] == [f"m-{n}" for n in range(5)]
    assert left_in(tmp_path / "email") == [f"m-{n}.eml" for n in range(5)]
    for mail in batch:
        assert (tmp_path / "email" / f"{mail.reference}.eml").read_bytes() == to_eml(mail)


@pytest.fixture(params=["syncfs", "fsync each"])
def flushing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a call's files reach the disk: one `syncfs` (Linux), or one `fsync` a file."""
    if request.param == "syncfs" and files._SYNCFS is None:
        pytest.skip("no syncfs here")
    if request.param == "fsync each":
        monkeypatch.setattr(files, "_SYNCFS", None)
    return str(request.param)


def test_a_mail_that_cannot_reach_the_disk_means_none_of_the_call_is_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flushing: str
) -> None:
    write = files._write_each

    def failing(share: list[tuple[Path, bytes]], *, flush: bool = False) -> None:
        write([(path, data) for path, data in share if ".m-3.eml." not in path.name], flush=flush)
        if any(".m-3.eml." in path.name for path, _ in share):  # the others are written
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_write_each", failing)
    with pytest.raises(ChannelError) as raised:
        OutboxEmail(tmp_path).send_many(mails(5))
    # A refusal: nothing of the call was taken, so the dispatcher may send it again safely.
    assert not isinstance(raised.value, TransientChannelError)
    assert left_in(tmp_path / "email") == []


def test_every_mail_is_on_disk_before_any_is_out_and_their_names_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if files._SYNCFS is None:
        pytest.skip("no syncfs here")
    syncfs, flush_folder = files._SYNCFS, files.flush_folder
    seen: list[tuple[str, list[str]]] = []

    def recording_syncfs(descriptor: int) -> int:
        seen.append(("syncfs", left_in(tmp_path / "email")))
        return syncfs(descriptor)

    def recording_flush(folder: Path) -> None:
        seen.append(("folder", left_in(folder)))
        flush_folder(folder)

    monkeypatch.setattr(files, "_SYNCFS", recording_syncfs)
    monkeypatch.setattr(files, "flush_folder", recording_flush)
    OutboxEmail(tmp_path).send_many(mails(3))
    names = [f"m-{n}.eml" for n in range(3)]
    (kind, before), (then, after) = seen  # one flush of the file system, one of the folder
    assert kind == "syncfs" and len(before) == 3 and not set(before) & set(names)
    assert then == "folder" and after == names


def test_a_file_system_that_cannot_flush_means_none_of_the_call_is_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if files._SYNCFS is None:
        pytest.skip("no syncfs here")
    monkeypatch.setattr(files, "_SYNCFS", lambda descriptor: -1)  # EIO from the disk, say
    with pytest.raises(ChannelError) as raised:
        OutboxEmail(tmp_path).send_many(mails(4))
    assert not isinstance(raised.value, TransientChannelError)
    assert left_in(tmp_path / "email") == []


@pytest.mark.parametrize("count", [1, 4])
def test_names_that_may_not_survive_a_crash_leave_the_call_in_doubt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    def failing(folder: Path) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files, "flush_folder", failing)
    outbox = OutboxEmail(tmp_path)
    with pytest.raises(TransientChannelError) as raised:
        outbox.send_many(mails(count)) if count > 1 else outbox.send(mails(1)[0])
    # Out now, perhaps gone after a crash: neither sent nor refused, so never sent blindly.
    assert raised.value.status is None and not raised.value.refused
    assert len(left_in(tmp_path / "email")) == count


def test_a_first_rename_failing_leaves_nothing_out_and_refuses_the_call(tmp_path: Path) -> None:
    (tmp_path / "email" / "m-0.eml").mkdir(parents=True)  # the first mail cannot take its name
    with pytest.raises(ChannelError) as raised:
        OutboxEmail(tmp_path).send_many(mails(3))
    assert not isinstance(raised.value, TransientChannelError)  # nothing out: sent again safely
    assert left_in(tmp_path / "email") == ["m-0.eml"]


def test_a_rename_failing_after_others_leaves_the_whole_call_in_doubt(tmp_path: Path) -> None:
    (tmp_path / "email" / "m-2.eml").mkdir(parents=True)  # the third mail cannot take its name
    with pytest.raises(TransientChannelError) as raised:
        OutboxEmail(tmp_path).send_many(mails(4))
    # Two are out and two are not: ambiguous, so no message of the call is sent blindly again.
    assert raised.value.status is None and not raised.value.refused
    assert left_in(tmp_path / "email") == ["m-0.eml", "m-1.eml", "m-2.eml"]
    assert (tmp_path / "email" / "m-2.eml").is_dir()
