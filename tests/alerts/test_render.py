"""Rendering: what an analyst sees, and that hostile scraped text stays text."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from alerts.digest import SCHEMA_VERSION, Digest
from alerts.render import (
    EXCERPT_LIMIT,
    SELLER_LIMIT,
    environment,
    headline,
    render_html,
    render_json,
    render_markdown,
    render_text,
)
from tests.alerts.samples import (
    REST,
    empty_digest,
    hostile_digest,
    hostile_rich_digest,
    make_entry,
    rich_digest,
    sample_digest,
)

RENDERERS: list[Callable[[Digest], str]] = [render_text, render_markdown, render_html]
ALL_FORMATS: list[Callable[[Digest], str]] = [*RENDERERS, render_json]
LABELS = [
    "Medical records / 医疗数据",
    "Doxxing lookups / 开盒查档",
    "Face data &amp; verification bypass / 人脸数据",
]


class _Collector(HTMLParser):
    """Every start tag, every attribute and every text node of a document, and the text
    inside <strong> and <code> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.strong: list[str] = []
        self.code: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag not in ("meta", "br"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "strong" in self._open:
            self.strong.append(data)
        if "code" in self._open:
            self.code.append(data)


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
def test_empty_digest_is_one_line_saying_nothing_new_since(
    renderer: Callable[[Digest], str],
) -> None:
    output = renderer(empty_digest())

    lines = _visible_lines(renderer, output)
    assert lines == ["doxwatch digest: no new offers since 2026-11-22 09:00+08:00."]
    assert _visible_lines(renderer, renderer(empty_digest(since=None))) == [
        "doxwatch digest: no offers flagged yet."]
    assert headline(empty_digest()) == "No new offers"


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_an_empty_digest_still_names_broken_sources(renderer: Callable[[Digest], str]) -> None:
    digest = replace(empty_digest(), broken_sources=(("tieba-x", "no posts in the last 3 crawls"),))

    lines = _visible_lines(renderer, renderer(digest))

    assert lines[0] == "doxwatch digest: no new offers since 2026-11-22 09:00+08:00."
    assert len(lines) == 2 and "tieba-x" in lines[1] and "no posts in the last 3 crawls" in lines[1]


def _visible_lines(renderer: Callable[[Digest], str], output: str) -> list[str]:
    """The lines a reader sees: HTML's text nodes, Markdown without its bold and bullets."""
    if renderer is render_html:
        body = output[output.index("<body"):]
        text = [t.strip() for t in parse_html(body).text]
        # the footer is the same in every e-mail; what the digest says is before it
        return [t for t in text if t and not t.startswith("Sent by doxwatch")]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if renderer is render_markdown:
        lines = [line.replace("**", "").removeprefix("- ") for line in lines]
    return lines


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_long_excerpts_are_cut(renderer: Callable[[Digest], str]) -> None:
    digest = Digest(1, sample_digest().created_at, (make_entry(1, excerpt="料" * 5000),))

    output = renderer(digest)

    assert "料" * EXCERPT_LIMIT not in output
    assert "料" * (EXCERPT_LIMIT - 1) + "…" in output


OUR_TAGS = {"html", "head", "meta", "title", "body", "table", "tr", "td", "h1", "h2", "h3", "p",
            "a", "b", "code"}


def test_html_escapes_hostile_text_and_keeps_only_our_own_tags() -> None:
    page = render_html(hostile_digest())
    parsed = parse_html(page)

    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    assert set(parsed.tags) <= OUR_TAGS
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
    assert "粗体" not in "".join(parsed.strong)  # **粗体** stays literal, not bold
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


# --- the digest a team acts on: period, totals, reposts, sellers, the cap -------------------


def _readable(renderer: Callable[[Digest], str], output: str) -> str:
    """What a reader sees: HTML's text, Markdown with its escapes undone."""
    if renderer is render_html:
        return " ".join(" ".join(parse_html(output).text).split())
    if renderer is render_markdown:
        return output.replace("\\", "").replace("**", "")
    return output


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_every_format_says_the_same_about_one_digest(renderer: Callable[[Digest], str]) -> None:
    output = _readable(renderer, renderer(rich_digest()))

    for fact in (
        "12 new offers (7 distinct)",
        "2026-11-22 09:00+08:00 → 2026-11-23 09:00+08:00",  # the period
        "tieba-x",  # broken source
        "no posts in the last 3 crawls",
        "change since the previous digest",
        "12 posts are 7 distinct ads; 2 were in an earlier digest.",
        "Showing the 3 most severe ads; 4 more are not shown. All of them:",
        REST,
        "KNOWN: seen before, first on 2026-11-01 (5 earlier posts)",
        "3 posts in this period: forum 2, tg-market 1",
        "NEW",
        "Sellers: 25",
        "QQ 10001 + Telegram @box_seller01",
        "3 posts on forum, tg-market; first seen 2026-11-01 10:15+08:00, last 2026-11-22 20:00+08:00",
        "Telegram @box_seller01: 1 post on tg-market",
        "WeChat yb_check_2",
        "23 more sellers not shown (the JSON digest lists 2 of 25).",
        "医保记录 就诊记录 精准出",
        "https://t.me/s/market/4",
        "medical 97%",
        "医保, 就诊",
        "1200元",
    ):
        assert fact in output, fact


TOTAL_LINES = {
    "render_text": ["  Medical records / 医疗数据: 2 (−2)", "  Doxxing lookups / 开盒查档: 9 (+3)",
                    "  Face data & verification bypass / 人脸数据: 1 (±0)"],
    "render_markdown": ["- Medical records / 医疗数据: **2** (−2)",
                        "- Doxxing lookups / 开盒查档: **9** (+3)",
                        "- Face data & verification bypass / 人脸数据: **1** (±0)"],
    "render_html": ["Medical records / 医疗数据 2 −2", "Doxxing lookups / 开盒查档 9 +3",
                    "Face data & verification bypass / 人脸数据 1 ±0"],
}


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_totals_show_every_category_with_its_change(renderer: Callable[[Digest], str]) -> None:
    output = renderer(rich_digest())
    output = _readable(renderer, output) if renderer is render_html else output.replace("\\", "")

    for line in TOTAL_LINES[renderer.__name__]:
        assert line in output, line


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_entries_are_shown_in_severity_order_within_their_category(
    renderer: Callable[[Digest], str],
) -> None:
    strong = make_entry(7, title="强 强 强", scores={"medical": 0.0, "doxxing": 0.99, "biometric": 0.0})
    weak = make_entry(8, title="弱 弱 弱", scores={"medical": 0.0, "doxxing": 0.6, "biometric": 0.0})
    output = renderer(Digest(1, sample_digest().created_at, (strong, weak)))

    assert output.index("强 强 强") < output.index("弱 弱 弱")


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_without_a_previous_digest_there_is_no_change_and_nothing_says_there_is(
    renderer: Callable[[Digest], str],
) -> None:
    output = renderer(replace(rich_digest(), previous_totals=None))

    assert "change since the previous digest" not in output
    assert "(+3)" not in output and "+3" not in output


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_a_digest_that_shows_everything_has_no_see_the_rest_line(
    renderer: Callable[[Digest], str],
) -> None:
    output = renderer(sample_digest())

    assert "more are not shown" not in output and "doxwatch posts list" not in output


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
def test_a_message_lists_at_most_seller_limit_sellers(renderer: Callable[[Digest], str]) -> None:
    digest = rich_digest()
    many = tuple(replace(digest.sellers[1], handles=(replace(digest.sellers[1].handles[0],
                                                             value=f"seller_{n:03d}"),))
                 for n in range(SELLER_LIMIT + 5))
    output = _readable(renderer, renderer(replace(digest, sellers=many, seller_count=40)))

    assert f"seller_{SELLER_LIMIT - 1:03d}" in output and f"seller_{SELLER_LIMIT:03d}" not in output
    assert f"{40 - SELLER_LIMIT} more sellers not shown (the JSON digest lists 25 of 40)." in output


def test_json_is_the_digest_s_dict_and_reads_back() -> None:
    output = render_json(rich_digest())

    data = json.loads(output)
    assert data == rich_digest().to_dict() and data["schema_version"] == SCHEMA_VERSION
    assert Digest.from_dict(data) == rich_digest()


def test_every_format_renders_from_the_same_digest() -> None:
    digest = rich_digest()
    outputs = {renderer.__name__: renderer(digest) for renderer in ALL_FORMATS}

    for name, output in outputs.items():
        assert "12 new offers" in output or json.loads(output)["total_posts"] == 12
        readable = output.replace("\\", "")  # Markdown escapes the underscores
        assert "box_seller01" in readable and "yb_check_2" in readable, name
    assert outputs["render_html"].lstrip().startswith("<!DOCTYPE html>")


def test_html_of_the_new_sections_escapes_scraped_text() -> None:
    page = render_html(hostile_rich_digest())
    parsed = parse_html(page)

    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert set(parsed.tags) <= OUR_TAGS
    assert "onerror" not in {name for name, _ in parsed.attributes}
    hrefs = [value for name, value in parsed.attributes if name == "href"]
    assert all(value and value.startswith("http://127.0.0.1:8800/") for value in hrefs)


def test_markdown_of_the_new_sections_neutralises_scraped_text() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").render(render_markdown(hostile_rich_digest()))
    parsed = parse_html(html)

    assert "img" not in parsed.tags and "script" not in parsed.tags
    hrefs = [value for name, value in parsed.attributes if name == "href"]
    assert hrefs == ["http://127.0.0.1:8800/forum/thread-1.html"]  # javascript: never a link
    text = "".join(parsed.text)
    assert "<img src=x onerror=alert(1)>" in text and "[x](javascript:1)" in text
    assert "10001" not in "".join(parsed.strong) or "**10001**" in text


def test_markdown_shows_the_rest_command_as_code() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    parsed = parse_html(markdown_it.MarkdownIt("commonmark").render(render_markdown(rich_digest())))

    assert parsed.code == [REST]


def test_html_shows_the_rest_command_as_code() -> None:
    assert parse_html(render_html(rich_digest())).code == [REST]


def test_a_digest_stored_before_reposts_were_collapsed_renders_without_marks() -> None:
    output = render_text(sample_digest())

    assert "[NEW]" not in output and "KNOWN" not in output and "Seen:" not in output
    assert "3 posts are 3 distinct ads." in output


@pytest.mark.parametrize("renderer", RENDERERS)
def test_an_immediate_alert_is_called_one_in_every_format(
        renderer: Callable[[Digest], str]) -> None:
    immediate = replace(sample_digest(), immediate=True)
    assert "doxwatch immediate alert: 3 new offers" in _readable(renderer, renderer(immediate))
    assert "immediate alert" not in renderer(sample_digest())
    assert json.loads(render_json(immediate))["immediate"] is True
    assert Digest.from_dict(immediate.to_dict()).immediate is True
