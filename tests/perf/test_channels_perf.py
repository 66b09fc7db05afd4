"""Channel benchmarks: letters against raw WeasyPrint, letter memory, email finishing vs raw."""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import css_inline
import pytest
from inscriptis import get_text  # type: ignore[import-untyped]
from weasyprint import CSS, HTML  # type: ignore[import-untyped]
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

from channels.core import Category
from channels.email import EmailChannel, EmailContent, EmailSettings
from channels.email.message import to_eml
from channels.email.outbox import OutboxEmail
from channels.letter import LetterChannel, LetterContent, LetterRenderer, LetterSettings
from channels.letter.fetcher import ASSET_BASE, AssetFetcher, packaged_assets
from channels.letter.layout import base_stylesheet, compose, locked_stylesheet
from channels.letter.outbox import OutboxLetter
from tests.perf.timing import median_seconds

pytestmark = pytest.mark.perf

SETTINGS = LetterSettings()
ADDRESS = ("Ana Example", "1 Main Street", "London N1 1AA")
LETTER = LetterContent(
    "<h1>Your annual statement</h1>"
    + "<p>Dear Ana, thank you for being a customer. Your balance on 31 October was "
    "£1,234.56 and your next payment of £45.00 is due on 1 December.</p>" * 6,
    "h1 { color: #123; font-size: 16pt }",
)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def raw_weasyprint() -> Callable[[], bytes]:
    """WeasyPrint alone on the same document: same fetcher, fonts and CSS, nothing else."""
    fonts = FontConfiguration()
    fetcher = AssetFetcher(packaged_assets(), max_data_url_bytes=1 << 20, max_image_pixels=1 << 30)
    document = compose(SETTINGS, LETTER, ADDRESS)
    sheets = [
        CSS(string=text, base_url=ASSET_BASE, url_fetcher=fetcher, font_config=fonts)
        for text in (base_stylesheet(SETTINGS), LETTER.css, locked_stylesheet(SETTINGS))
    ]

    def render() -> bytes:
        html = HTML(string=document, base_url=ASSET_BASE, url_fetcher=fetcher)
        return bytes(html.write_pdf(stylesheets=sheets, font_config=fonts))

    return render


def test_letters_per_minute_against_raw_weasyprint(
    bench_report: Callable[..., None], tmp_path: Path
) -> None:
    raw = raw_weasyprint()
    with LetterRenderer(SETTINGS) as renderer:
        letters = LetterChannel(SETTINGS, OutboxLetter(tmp_path), renderer)

        def pipeline() -> None:
            letters.prepare(LETTER, ADDRESS, reference="bench")

        pipeline(), raw()  # warm up both
        pipeline_s = median_seconds(pipeline, repeat=7, number=10)
        raw_s = median_seconds(raw, repeat=7, number=10)
    bench_report("letter, 1 worker (pipeline vs raw)", pipeline_s, raw_s, unit="letter")
    print(f"\nletters: {60 / pipeline_s:,.0f}/min pipeline, {60 / raw_s:,.0f}/min raw, one core")


def test_letters_per_minute_on_two_workers(bench_report: Callable[..., None]) -> None:
    raw = raw_weasyprint()
    raw()
    raw_s = median_seconds(raw, repeat=5, number=5)
    renderers = [LetterRenderer(SETTINGS), LetterRenderer(SETTINGS)]
    try:
        channels = [LetterChannel(SETTINGS, OutboxLetter("/tmp"), r) for r in renderers]
        for channel in channels:
            channel.prepare(LETTER, ADDRESS, reference="warm")
        per_worker = 40

        def batch() -> None:
            def work(channel: LetterChannel) -> None:
                for n in range(per_worker):
                    channel.prepare(LETTER, ADDRESS, reference=f"b-{n}")

            threads = [threading.Thread(target=work, args=(c,)) for c in channels]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        batch_s = median_seconds(batch, repeat=3)
    finally:
        for renderer in renderers:
            renderer.close()
    per_letter = batch_s / (2 * per_worker)
    # Raw is one core's time halved: perfect scaling of WeasyPrint alone on two cores.
    bench_report("letter, 2 workers (vs raw / 2)", per_letter, raw_s / 2, unit="letter")
    print(f"\nletters on two workers: {60 / per_letter:,.0f}/min (target 1,200/min)")


def test_a_letter_workers_memory_stays_flat(bench_report: Callable[..., None]) -> None:
    count = 600
    with LetterRenderer(SETTINGS) as renderer:
        letters = LetterChannel(SETTINGS, OutboxLetter("/tmp"), renderer)
        for n in range(20):
            letters.prepare(LETTER, ADDRESS, reference=f"w-{n}")
        pid = renderer.worker_pid
        assert pid is not None
        start_mb = rss_mb(pid)
        samples = []
        began = time.perf_counter()
        for n in range(count):
            letters.prepare(LETTER, ADDRESS, reference=f"m-{n}")
            if n % 100 == 99:
                samples.append(rss_mb(pid))
        elapsed = time.perf_counter() - began
        assert renderer.worker_pid == pid
    end_mb = samples[-1]
    print(
        f"\nletter worker RSS over {count} letters: start {start_mb:.1f} MB, "
        f"end {end_mb:.1f} MB, samples every 100: {[round(s, 1) for s in samples]}"
    )
    per_letter = elapsed / count
    name = f"letter worker RSS {start_mb:.0f} -> {end_mb:.0f} MB, {count} letters (time)"
    bench_report(name, per_letter, per_letter, unit="letter")
    # Flat: after the first few hundred letters the worker grows by less than 25 MB.
    assert end_mb - statistics.median(samples[:2]) < 25


def raw_email(html: str, subject: str) -> bytes:
    """The same message built naively: same headers, no checks, a fixed unsubscribe URL."""
    message = EmailMessage()
    message["From"] = "Acme <news@acme.example>"
    message["To"] = "ana@example.com"
    message["Subject"] = subject
    message["Date"] = "Mon, 23 Nov 2026 12:00:00 +0000"
    message["Message-ID"] = "<e-1@acme.example>"
    message["List-Unsubscribe"] = "<https://hcs.acme.example/u?token=fixed>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(get_text(html))
    message.add_alternative(css_inline.inline(html), subtype="html")
    return message.as_bytes()


def test_email_finishing_per_second_against_raw(bench_report: Callable[..., None]) -> None:
    html = (
        "<style>p { color: #333; font: 14px sans-serif } .cta { background: #c00 }</style>"
        + "<p>Hello Ana, here are this week's offers.</p>" * 10
        + '<p><a class="cta" href="https://acme.example/offers">See offers</a></p>'
        + '<p><a href="https://hcs.acme.example/u">Unsubscribe</a></p>'
    )
    settings = EmailSettings(
        from_address="news@acme.example",
        from_name="Acme",
        unsubscribe_base_url="https://hcs.acme.example/u",
        unsubscribe_secret=b"k",
    )
    channel = EmailChannel(settings, OutboxEmail("/tmp"))
    content = EmailContent("This week's offers", html)
    now = datetime.now(UTC)

    sent = itertools.count()

    def pipeline() -> None:
        # A reference of its own, as every message has: `to_eml` remembers the last few it built.
        reference = f"e-{next(sent)}"
        prepared = channel.prepare(
            content, "ana@example.com", Category.MARKETING, reference=reference, now=now
        )
        to_eml(prepared)

    pipeline_s = median_seconds(pipeline, repeat=7, number=200)
    raw_s = median_seconds(lambda: raw_email(html, content.subject), repeat=7, number=200)
    bench_report("email finishing (pipeline vs raw)", pipeline_s, raw_s, unit="email")


@pytest.mark.parametrize("css", ["", "h1 { color: #0b4f9c }"], ids=["black", "colour"])
def test_letter_pages_as_images_against_rasterizing_alone(
    bench_report: Callable[..., None], tmp_path: Path, css: str
) -> None:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    from channels.letter.pages import SCREEN_DPI, page_images

    three_pages = LetterContent(LETTER.html * 6, css)
    with LetterRenderer(SETTINGS) as renderer:
        letters = LetterChannel(SETTINGS, OutboxLetter(tmp_path), renderer)
        pdf = letters.prepare(three_pages, ADDRESS, reference="bench").pdf

    def raw() -> None:
        document = pdfium.PdfDocument(pdf)
        for page in document:
            page.render(scale=SCREEN_DPI / 72).to_pil()
        document.close()

    pages = page_images(pdf).total
    pipeline_s = median_seconds(lambda: page_images(pdf), repeat=7, number=5)
    raw_s = median_seconds(raw, repeat=7, number=5)
    name = f"letter page as PNG, {'in colour' if css else 'black'} (vs PDFium render)"
    bench_report(name, pipeline_s, raw_s, unit="page", per=pages)
    print(f"\nletter pages: {pipeline_s * 1e3 / pages:.1f} ms a page as PNG at {SCREEN_DPI} dpi")
