"""A direct .eml writer, byte-identical to the email package for the messages we build.

`message.to_mime(...).as_bytes()` stays the reference. Parsing every header through
`email.headerregistry` and refolding it on output is most of the cost of building an email, yet
for plain ASCII headers that fit on one line the stdlib writes `Name: value` unchanged, and a
non-ASCII subject that fits as one predictable encoded word. This module writes exactly that,
plus the MIME structure and body encodings `set_content` and `add_alternative` produce, and
declines (returns None) anything it cannot prove identical. The archive compares re-rendered
bytes with archived ones, so declining is always safe and guessing never is. The differential
tests in tests/channels/test_email_mime.py are the proof; rerun them when Python changes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from email import quoprimime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache

# The policy's max_line_length (SMTP, 998): a longer header line would be folded, and a longer
# body line makes set_content switch from 7bit/8bit to quoted-printable or base64.
MAX_LINE = 998

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_ADDR_SPEC = rf"{_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# Display names as `format_address` writes them: atoms with single spaces, or a quoted string
# whose only escapes are the two `quote_string` makes; the parser gives both back unchanged.
_PHRASE = rf"{_ATEXT}+(?: {_ATEXT}+)*"
_QUOTED = r'"(?:[ !#-\[\]-~]|\\[\\"])+"'
_MAILBOX = re.compile(rf"{_ADDR_SPEC}|(?:{_PHRASE}|{_QUOTED}) <{_ADDR_SPEC}>")
# Printable ASCII with at least one visible character: an unstructured header kept as is.
_UNSTRUCTURED = re.compile(r"[ -~]*[!-~][ -~]*")
_MESSAGE_ID = re.compile(rf"<{_ADDR_SPEC}>")
_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}"
)
# Only the headers `prepare_email` sets, by the exact name it uses: the registry treats other
# names (and MIME headers, which set_content moves) differently.
_GRAMMARS: dict[str, re.Pattern[str]] = {
    "From": _MAILBOX,
    "To": _MAILBOX,
    "Reply-To": _MAILBOX,
    "Subject": _UNSTRUCTURED,
    "Date": _DATE,
    "Message-ID": _MESSAGE_ID,
    "List-Unsubscribe": _UNSTRUCTURED,
    "List-Unsubscribe-Post": _UNSTRUCTURED,
    "X-HCS-Finishing": re.compile(r"[0-9]{1,4}"),  # message.FINISHING_HEADER
}
# Subjects beyond ASCII: printable, and no whitespace but the ASCII space the folder splits on.
_OTHER_SPACE = re.compile(r"[^\S ]")
_NON_ASCII_WORD = re.compile(r"[^ ]*[^\x00-\x7f][^ ]*")
_EW_CHROME = "=?utf-8?q??="
# RFC 2047 "Q" as the stdlib writes it: these bytes as they are, space as "_", the rest =XX.
_Q_SAFE = b"-!*+/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_Q_BYTES = [
    "_" if byte == 0x20 else chr(byte) if byte in _Q_SAFE else f"={byte:02X}" for byte in range(256)
]
_PART_HEADERS = (
    'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n'
)


def mime_boundary(reference: str, html: str) -> str:
    """The multipart boundary of a message: derived from its content, so re-renders match."""
    digest = hashlib.sha256(f"{reference}\0{html}".encode()).hexdigest()
    return f"hcs-{digest[:32]}"


def write_eml(
    headers: Sequence[tuple[str, str]], text: str, html: str, boundary: str
) -> bytes | None:
    """The .eml bytes `to_mime(...).as_bytes()` gives, or None when they cannot be proven equal."""
    head = header_lines(headers)
    if head is None:
        return None
    try:
        plain_part = _text_part("plain", text)
        html_part = _text_part("html", html)
    except UnicodeEncodeError:
        # Lone surrogates: let the stdlib raise its own error.
        return None
    head += f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n'
    delimiter = f"--{boundary}".encode("ascii")
    return b"".join(
        (
            head.encode("ascii"),
            b"\r\n" + delimiter + b"\r\n",
            plain_part,
            b"\r\n" + delimiter + b"\r\n",
            html_part,
            b"\r\n" + delimiter + b"--\r\n",
        )
    )


def header_lines(headers: Sequence[tuple[str, str]]) -> str | None:
    """The headers as the stdlib writes them, or None if any one might be written otherwise."""
    names = [name for name, _ in headers]
    if len(set(names)) != len(names):
        return None
    lines = []
    for name, value in headers:
        line = _header_line(name, value)
        if line is None:
            return None
        lines.append(line)
    return "".join(lines)


def _header_line(name: str, value: str) -> str | None:
    """One header line, CRLF-terminated, or None when it is outside what is proven."""
    if _is_verbatim(name, value):
        return f"{name}: {value}\r\n"
    if name == "Subject":
        encoded = encoded_subject(value)
        return None if encoded is None else f"Subject: {encoded}\r\n"
    return None


def _is_verbatim(name: str, value: str) -> bool:
    """One header: a known name, its strict grammar, no encoded-word opener, one short line."""
    grammar = _GRAMMARS.get(name)
    if grammar is None or len(name) + 2 + len(value) > MAX_LINE or "=?" in value:
        return False
    if not grammar.fullmatch(value):
        return False
    # The registry re-formats a date from its parsed value: only a canonical one survives.
    return name != "Date" or _is_canonical_date(value)


@lru_cache(maxsize=256)
def _is_canonical_date(value: str) -> bool:
    """Whether `format_datetime` gives this date back exactly (the registry rewrites it)."""
    try:
        return format_datetime(parsedate_to_datetime(value)) == value
    except (TypeError, ValueError, OverflowError):
        return False


def encoded_subject(value: str) -> str | None:
    """A non-ASCII subject as the registry writes it when it fits on one line, else None.

    The folder keeps ASCII words and encodes the first non-ASCII word; each later one is merged
    into that same encoded word, with the words between. So: the ASCII words before the first
    non-ASCII word, one encoded word up to the last, and the ASCII words after it.
    """
    if "=?" in value or not value.isprintable() or _OTHER_SPACE.search(value):
        return None
    words = [match.span() for match in _NON_ASCII_WORD.finditer(value)]
    if not words:
        return None
    start, end = words[0][0], words[-1][1]
    data = value[start:end].encode("utf-8")
    q = "".join(_Q_BYTES[byte] for byte in data)
    b = base64.b64encode(data).decode("ascii")
    # Each merge re-encodes a prefix of the final text, which is never longer in either
    # encoding: if the longer form of the final one fits, no step of the fold wrapped a line.
    if (
        len("Subject: ") + start + len(_EW_CHROME) + max(len(q), len(b)) + len(value) - end
        > MAX_LINE
    ):
        return None
    # The stdlib prefers q unless it is at least five characters longer than b.
    word = f"=?utf-8?q?{q}?=" if len(q) - len(b) < 5 else f"=?utf-8?b?{b}?="
    return value[:start] + word + value[end:]


def _text_part(subtype: str, content: str) -> bytes:
    """One text/* part: its headers, a blank line, the encoded body."""
    cte, body = encode_body(content)
    headers = _PART_HEADERS.format(subtype=subtype, cte=cte)
    # add_alternative builds the HTML part as a message of its own, so it has a MIME-Version.
    if subtype == "html":
        headers += "MIME-Version: 1.0\r\n"
    return (headers + "\r\n").encode("ascii") + body


def encode_body(content: str) -> tuple[str, bytes]:
    """The transfer encoding `set_content` chooses for text, and the body as written (CRLF)."""
    lines = content.encode("utf-8").splitlines()
    if max(map(len, lines), default=0) <= MAX_LINE:
        body = b"\r\n".join(lines) + b"\r\n"
        return ("7bit" if body.isascii() else "8bit"), body
    # The stdlib judges quoted-printable against base64 on the first ten lines only.
    sniff = b"\r\n".join(lines[:10]) + b"\r\n"
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), MAX_LINE)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        return "base64", _base64_lines(b"\r\n".join(lines) + b"\r\n")
    if len(lines) <= 10:
        return "quoted-printable", _crlf(sniff_qp)
    normal = (b"\n".join(lines) + b"\n").decode("latin-1")
    return "quoted-printable", _crlf(quoprimime.body_encode(normal, MAX_LINE))


def _base64_lines(data: bytes) -> bytes:
    """Base64 in lines of at most MAX_LINE characters, as the content manager cuts them."""
    step = MAX_LINE // 4 * 3
    chunks = (data[i : i + step] for i in range(0, len(data), step))
    return b"".join(binascii.b2a_base64(chunk, newline=False) + b"\r\n" for chunk in chunks)


def _crlf(encoded: str) -> bytes:
    """Encoded text with the generator's line endings."""
    return encoded.replace("\n", "\r\n").encode("ascii")
