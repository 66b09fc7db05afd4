"""The direct .eml writer: byte-identical to the email package, or it declines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from channels.core import Category
from channels.email import message
from channels.email.message import EmailContent, EmailSettings, PreparedEmail, prepare_email
from channels.email.mime import encode_body, mime_boundary, write_eml
from channels.errors import InvalidContent, InvalidRecipient

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BOUNDED = settings(max_examples=300, deadline=None)
SETTINGS = EmailSettings(
    from_address="news@acme.example",
    from_name="Acme News",
    reply_to="help@acme.example",
    unsubscribe_base_url="https://hcs.acme.example/unsubscribe",
    unsubscribe_secret=b"k",
    unsubscribe_mailto="unsubscribe@acme.example",
)
HTML = '<p style="color: #c00;">Hello <b>Ana</b></p>'

# Characters that change how a header or body is written: specials, quotes, escapes, spaces,
# encoded-word openers, line breaks and controls, Latin-1, a two-byte and a four-byte character.
SPECIALS = ' ,.;:()<>[]@"\\=?_%\t\r\n\x0b\x0c\x1c\x85\u2028\xa0'
ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIALS + "éÄß€日😀"),
        st.characters(min_codepoint=32, max_codepoint=126),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=30,
)
ASCII_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
NAME_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(" ,.;:()<>[]@\"\\=?_%'éÄ€😀"),
        st.characters(min_codepoint=32, max_codepoint=126),
    ),
    max_size=25,
)


@st.composite
def bodies(draw: st.DrawFn) -> str:
    """Text with lines short and long (around 78 and 998 bytes), odd endings and characters."""
    pieces = st.one_of(
        ODD_TEXT,
        st.sampled_from(["From here", ".", "..", "trailing  ", "tab\t", "=3D", "\r", ""]),
        st.builds(
            lambda char, length: char * length,
            st.sampled_from(["x", "é", "😀", " ", "=", "x "]),
            st.sampled_from([77, 78, 79, 332, 333, 499, 997, 998, 999, 1000, 2100]),
        ),
    )
    lines = draw(st.lists(pieces, max_size=14))
    endings = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r", ""]), min_size=len(lines)))
    return "".join(line + end for line, end in zip(lines, endings, strict=False))


def reference_eml(prepared: PreparedEmail) -> bytes:
    """What the email package writes: the bytes that must never change."""
    return message.to_mime(prepared).as_bytes()


def fast_eml(prepared: PreparedEmail) -> bytes | None:
    """What the direct writer writes, or None when it declines."""
    boundary = mime_boundary(prepared.reference, prepared.html)
    return write_eml(prepared.headers, prepared.text, prepared.html, boundary)


def finish(
    content: EmailContent,
    sender: EmailSettings = SETTINGS,
    category: Category = Category.MARKETING,
    recipient_name: str | None = None,
) -> PreparedEmail:
    """An email finished by the pipeline for ana@example.com."""
    return prepare_email(
        sender,
        content,
        "ana@example.com",
        category,
        reference="msg-1",
        now=NOW,
        recipient_name=recipient_name,
    )


def with_header(prepared: PreparedEmail, name: str, value: str) -> PreparedEmail:
    """The same email with one header set (replaced if present, else added last)."""
    others = tuple((n, v) for n, v in prepared.headers if n != name)
    return replace(prepared, headers=(*others, (name, value)))


def assert_identical_when_written(prepared: PreparedEmail) -> bytes | None:
    """The fast bytes, which must equal the reference whenever the writer accepts."""
    fast = fast_eml(prepared)
    if fast is not None:
        assert fast == reference_eml(prepared)
    return fast


@BOUNDED
@given(
    subject=st.one_of(ASCII_TEXT, ODD_TEXT, st.text(min_size=60, max_size=1100)),
    from_name=st.one_of(st.none(), ASCII_TEXT, NAME_TEXT),
    recipient_name=st.one_of(st.none(), ASCII_TEXT, NAME_TEXT),
    reply_to=st.sampled_from([None, "help@acme.example", "x.y+z@sub.acme.example"]),
    base_url=st.sampled_from(
        [
            None,
            "https://hcs.acme.example/u",
            *("https://hcs.acme.example/" + "p/" * n for n in (350, 450)),
        ]
    ),
    category=st.sampled_from(list(Category)),
    text=st.one_of(st.none(), bodies()),
    html=st.one_of(st.just(HTML), bodies()),
    offset=st.integers(min_value=-720, max_value=840),
)
def test_finished_emails_are_written_byte_identically_to_the_email_package(
    subject: str,
    from_name: str | None,
    recipient_name: str | None,
    reply_to: str | None,
    base_url: str | None,
    category: Category,
    text: str | None,
    html: str,
    offset: int,
) -> None:
    sender = replace(
        SETTINGS,
        from_name=from_name,
        reply_to=reply_to,
        unsubscribe_base_url=base_url,
    )
    when = NOW.astimezone(timezone(timedelta(minutes=offset)))
    try:
        prepared = prepare_email(
            sender,
            EmailContent(subject, html, text),
            "ana@example.com",
            category,
            reference="msg-1",
            now=when,
            recipient_name=recipient_name,
        )
    except (InvalidContent, InvalidRecipient):
        assume(False)
        return
    assert_identical_when_written(prepared)


HEADER_NAMES = st.sampled_from(
    ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "X-Other"]
)
HEADER_VALUES = st.one_of(
    ODD_TEXT,
    st.builds(lambda name, addr: f"{name} <{addr}>", NAME_TEXT, st.just("a@b.example")),
    st.builds(lambda name: f'"{name}" <a@b.example>', NAME_TEXT),
    st.builds(lambda local: f"<{local}@acme.example>", NAME_TEXT),
    st.sampled_from(
        [
            "Mon, 23 Nov 2026 12:00:00 +0000",
            "Mon, 23 Nov 2026 12:00:00 -0000",
            "Tue, 23 Nov 2026 12:00:00 +0000",
            "Mon, 23 Nov 2026 12:00:00 GMT",
            "Mon, 23 Nov 2026 25:00:00 +0000",
            "x" * 990,
        ]
    ),
)


@BOUNDED
@given(headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8), text=bodies())
def test_any_headers_the_writer_accepts_are_written_as_the_email_package_writes_them(
    headers: list[tuple[str, str]], text: str
) -> None:
    prepared = PreparedEmail("msg-1", "a@b.example", "", HTML, text, tuple(headers))
    try:
        reference = reference_eml(prepared)
    except Exception:  # whatever the stdlib refuses, the writer must decline too
        assert fast_eml(prepared) is None
        return
    fast = fast_eml(prepared)
    assert fast is None or fast == reference


@BOUNDED
@given(text=bodies(), html=bodies())
def test_bodies_are_encoded_as_set_content_encodes_them(text: str, html: str) -> None:
    # Set directly: finishing would normalise the HTML through the CSS inliner first.
    prepared = replace(PLAIN, text=text, html=html)
    assert assert_identical_when_written(prepared) is not None


ASCII_WORDS = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1)
OTHER_WORDS = st.builds(
    lambda head, char, tail: head + char + tail,
    st.text(alphabet="aZ_=?,.-", max_size=3),
    st.sampled_from(["é", "ß", "€", "日本", "😀", "\u0301", "Ωmega"]),
    st.text(alphabet="éaZ_=?,:", max_size=3),
)


@st.composite
def subjects(draw: st.DrawFn) -> str:
    """Subjects of ASCII and non-ASCII words, with runs of spaces, some near the line limit."""
    words = draw(st.lists(st.one_of(ASCII_WORDS, OTHER_WORDS), min_size=1, max_size=12))
    gaps = draw(st.lists(st.sampled_from([" ", "  ", "   "]), min_size=len(words)))
    subject = "".join(gap + word for gap, word in zip(gaps, words, strict=False))
    subject = subject[draw(st.integers(0, 1)) :]
    padding = draw(st.sampled_from(["", "x" * 400, "x" * 880, " y" * 450, " y" * 480]))
    return draw(st.sampled_from([padding + subject, subject + padding]))


PLAIN = finish(EmailContent("Hi", HTML))


@BOUNDED
@given(subject=subjects())
def test_non_ascii_subjects_are_written_as_the_email_package_encodes_them(subject: str) -> None:
    # Set directly, not through prepare_email: the writer must be right for any subject.
    assert_identical_when_written(with_header(PLAIN, "Subject", subject))


@pytest.mark.parametrize(
    "subject",
    [
        "Votre commande A-1 est expédiée, Zoé",
        "Grüße aus Köln",
        "😀 Deals",
        "日本語のお知らせ",
        "Ends with an accent: é",
    ],
)
def test_a_non_ascii_subject_that_fits_on_one_line_takes_the_fast_path(subject: str) -> None:
    prepared = finish(EmailContent(subject, HTML))
    assert assert_identical_when_written(prepared) is not None


@pytest.mark.parametrize(
    ("text", "cte"),
    [
        ("Hello Ana\n", "7bit"),
        ("", "7bit"),
        ("Grüße, Zoé 😀\n", "8bit"),
        ("x" * 999 + "\n", "quoted-printable"),
        ("x" * 999 + "\n" + "line\n" * 12, "quoted-printable"),
        ("é" * 600, "base64"),
    ],
)
def test_each_transfer_encoding_set_content_chooses_is_matched(text: str, cte: str) -> None:
    assert encode_body(text)[0] == cte
    prepared = finish(EmailContent("Hi", HTML, text))
    assert assert_identical_when_written(prepared) is not None


@pytest.mark.parametrize(
    "recipient_name", [None, "Doe, Jane", 'Jane "JJ" Doe (Sales)', "J. R. Doe", "Customer 0"]
)
def test_a_marketing_mail_with_ascii_headers_takes_the_fast_path(
    recipient_name: str | None,
) -> None:
    content = EmailContent("This week's offers", HTML)
    prepared = finish(content, recipient_name=recipient_name)
    assert prepared.header("List-Unsubscribe") and prepared.header("Reply-To")
    assert assert_identical_when_written(prepared) is not None


def test_a_transactional_mail_without_reply_to_takes_the_fast_path() -> None:
    sender = replace(SETTINGS, reply_to=None, from_name=None)
    content = EmailContent("Your order A-100000 is on its way, ana", HTML)
    prepared = finish(content, sender, Category.TRANSACTIONAL, recipient_name="Customer 0")
    assert assert_identical_when_written(prepared) is not None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Subject", "Votre\u00a0commande est expédiée"),
        ("Subject", "Votre commande\u200b est expédiée"),
        ("Subject", "Grüße " + "é" * 600),
        ("Subject", "x" * 990),
        ("Subject", ""),
        ("Subject", "   "),
        ("Subject", "a =?utf-8?q?x?= b"),
        ("To", "Zoé <ana@example.com>"),
        ("To", "J. Doe <ana@example.com>"),
        ("To", '"Jane \\a Doe" <ana@example.com>'),
        ("To", "ana@example.com, eve@example.com"),
        ("To", "ana@exämple.com"),
        ("Date", "Mon, 23 Nov 2026 12:00:00 GMT"),
        ("Date", "Tue, 23 Nov 2026 12:00:00 +0000"),
        ("Message-ID", "<msg 1@acme.example>"),
        ("X-Campaign", "autumn"),
    ],
)
def test_a_header_the_writer_cannot_prove_falls_back_to_the_email_package(
    name: str, value: str
) -> None:
    odd = with_header(PLAIN, name, value)
    assert fast_eml(odd) is None
    assert message.to_eml(odd) == reference_eml(odd)


def test_a_repeated_header_falls_back_and_fails_as_the_email_package_does() -> None:
    twice = replace(PLAIN, headers=(*PLAIN.headers, ("Subject", "again")))
    assert fast_eml(twice) is None
    with pytest.raises(ValueError, match="at most 1"):
        message.to_eml(twice)


def test_to_eml_writes_in_domain_mail_without_the_email_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepared = finish(EmailContent("Autumn offers", HTML), recipient_name="Doe, Jane")
    expected = reference_eml(prepared)

    def refuse(_: PreparedEmail) -> None:
        raise AssertionError("the email package was used")

    monkeypatch.setattr(message, "to_mime", refuse)
    assert message.to_eml.__wrapped__(prepared) == expected


def test_to_eml_goes_through_the_email_package_for_anything_else() -> None:
    prepared = finish(EmailContent("Offers", HTML), recipient_name="Zoé Durand")
    assert fast_eml(prepared) is None
    assert message.to_eml.__wrapped__(prepared) == reference_eml(prepared)


def test_a_lone_surrogate_fails_as_it_fails_in_the_email_package() -> None:
    broken_text = replace(PLAIN, text="broken \ud800 text")
    broken_html = replace(PLAIN, html="<p>broken \ud800 html</p>")
    assert fast_eml(broken_text) is None
    for broken in (broken_text, broken_html):
        with pytest.raises(UnicodeEncodeError):
            reference_eml(broken)
        with pytest.raises(UnicodeEncodeError):
            message.to_eml(broken)
