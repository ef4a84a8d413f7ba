"""Rendering: what an analyst sees, and that hostile scraped text stays text."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import pytest

from alerts.digest import Digest
from alerts.render import (
    EXCERPT_LIMIT,
    environment,
    render_html,
    render_markdown,
    render_text,
)
from tests.alerts.samples import empty_digest, hostile_digest, make_entry, sample_digest

RENDERERS: list[Callable[[Digest], str]] = [render_text, render_markdown, render_html]
LABELS = [
    "Medical records / 医疗数据",
    "Doxxing lookups / 开盒查档",
    "Face data &amp; verification bypass / 人脸数据",
]


class _Collector(HTMLParser):
    """Every start tag, every attribute and every text node of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(document: str) -> _Collector:
    collector = _Collector()
    collector.feed(document)
    return collector


def _label(renderer: Callable[[Digest], str], label: str) -> str:
    return label if renderer is render_html else label.replace("&amp;", "&")


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_groups_appear_in_category_order_with_bilingual_headings(
    renderer: Callable[[Digest], str],
) -> None:
    output = renderer(sample_digest())

    markdown_escaped = output.replace("\\&", "&")  # Markdown may escape the ampersand
    positions = [markdown_escaped.rindex(_label(renderer, label)) for label in LABELS]
    assert positions == sorted(positions)
    assert "3 new offers" in output


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_entries_show_their_facts(renderer: Callable[[Digest], str]) -> None:
    output = renderer(sample_digest())
    if renderer is render_html:
        output = "".join(parse_html(output).text)

    for fact in (
        "代查户籍 全国可查 1",
        "forum",
        "http://127.0.0.1:8800/forum/thread-1.html",
        "2026-11-22 21:30+08:00",  # posted
        "2026-11-23 09:00+08:00",  # created
        "2026-11-22 09:00+08:00",  # since
        "doxxing 93%",
        "medical 91%",
        "查档, 户籍, 出单",
        "QQ 10001",
        "WeChat face\\_pass" if renderer is render_markdown else "WeChat face_pass",
        "Telegram @med\\_rec" if renderer is render_markdown else "Telegram @med_rec",
        "1200元",
        "1-2天",
    ):
        assert fact in output, fact


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_empty_digest_says_nothing_new_since(renderer: Callable[[Digest], str]) -> None:
    output = renderer(empty_digest())

    assert "No new offers since 2026-11-22 09:00+08:00." in output
    assert "No offers flagged yet." in renderer(empty_digest(since=None))


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_long_excerpts_are_cut(renderer: Callable[[Digest], str]) -> None:
    digest = Digest(1, sample_digest().created_at, (make_entry(1, excerpt="料" * 5000),))

    output = renderer(digest)

    assert "料" * EXCERPT_LIMIT not in output
    assert "料" * (EXCERPT_LIMIT - 1) + "…" in output


def test_html_escapes_hostile_text_and_keeps_only_our_own_tags() -> None:
    page = render_html(hostile_digest())
    parsed = parse_html(page)

    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    assert set(parsed.tags) <= {"html", "head", "meta", "title", "body", "table", "tr", "td",
                                "h1", "h2", "h3", "p", "a", "b"}
    assert {name for name, _ in parsed.attributes} <= {
        "lang", "charset", "name", "content", "style", "role", "width", "cellpadding",
        "cellspacing", "align", "href",
    }
    assert any("<img src=x onerror=alert(1)>" in text for text in parsed.text)


def test_html_links_only_http_urls_and_the_attribute_cannot_be_broken_out_of() -> None:
    parsed = parse_html(render_html(hostile_digest()))
    hrefs = [value for name, value in parsed.attributes if name == "href"]

    # Only the first entry has an http URL: its title and its link line.
    assert hrefs == [hrefs[0]] * 2
    assert hrefs[0] == "http://127.0.0.1/post?a=1%22onmouseover=%22alert(1)"
    assert ("onmouseover", "alert(1)") not in parsed.attributes
    assert any("javascript:alert(2) (not linked)" in text for text in parsed.text)


def test_markdown_neutralises_links_and_html_in_scraped_text() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").render(render_markdown(hostile_digest()))
    parsed = parse_html(html)

    hrefs = [value for name, value in parsed.attributes if name == "href"]
    assert hrefs == ["http://127.0.0.1/post?a=1%22onmouseover=%22alert(1)"]
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "strong" not in parsed.tags  # **粗体** stays literal
    text = "".join(parsed.text)
    assert "[click](javascript:alert(2))" in text
    assert "<script>alert('t')</script>" in text


def test_markdown_of_the_sample_renders_one_link_per_entry() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    parsed = parse_html(markdown_it.MarkdownIt("commonmark").render(render_markdown(sample_digest())))

    hrefs = sorted(value or "" for name, value in parsed.attributes if name == "href")
    assert hrefs == [f"http://127.0.0.1:8800/forum/thread-{n}.html" for n in (1, 2, 3)]
    assert parsed.tags.count("h3") == 3


def test_text_drops_terminal_escapes_and_bidi_controls_and_keeps_fields_on_one_line() -> None:
    output = render_text(hostile_digest())

    assert "\x1b" not in output and "\u202e" not in output
    assert "3. line[2Jone FAKE: header" in output
    assert not any(line.startswith("FAKE") for line in output.splitlines())


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("text", "<b>x</b>[2J [a](javascript:1) y|"),
        ("markdown", r"\<b\>x\</b\>\[2J \[a\]\(javascript:1\) y|"),
        ("html", "&lt;b&gt;x&lt;/b&gt;[2J [a](javascript:1) y|"),
    ],
)
def test_every_printed_value_is_made_safe_even_without_a_filter(output: str, expected: str) -> None:
    template = environment(output).from_string("{{ value }}|{{ missing }}")  # type: ignore[arg-type]

    rendered = template.render(value="<b>x</b>\x1b[2J\u202e [a](javascript:1)\n y", missing=None)

    assert rendered == expected  # escape and bidi characters gone, lines joined, None empty


def test_environment_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown output format 'pdf'"):
        environment("pdf")  # type: ignore[arg-type]
