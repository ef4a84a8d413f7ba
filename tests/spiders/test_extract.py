from lxml import etree
from parsel import Selector

from spiders.extract import (
    first_text,
    fragment_text,
    hrefs,
    joined_text,
    page_text,
    select,
    visible_text,
)


def test_visible_text_drops_scripts_styles_and_comments_and_keeps_block_lines() -> None:
    page = Selector(text="""
        <div id="post">Intro   text<script>steal()</script><style>p{}</style>
        <p>First<!-- hidden -->paragraph</p><p>Second<br>line</p>
        <ul><li>one</li><li>two</li></ul><span>inline</span> tail</div>
    """)
    text = visible_text(page.css("#post")[0].root)
    assert text == "Intro text\nFirstparagraph\nSecond\nline\none\ntwo\ninline tail"


def test_visible_text_survives_nesting_deeper_than_the_recursion_limit() -> None:
    root = node = etree.Element("div")
    for _ in range(5000):
        node = etree.SubElement(node, "span")
    node.text = "deep"
    assert visible_text(root) == "deep"


def test_css_and_xpath_selectors_are_told_apart() -> None:
    page = Selector(text="<h1>Title</h1><a href='/x'>x</a>")
    assert select(page, "h1::text").getall() == ["Title"]
    assert select(page, "//h1/text()").getall() == ["Title"]
    assert select(page, "(//a/@href)[1]").getall() == ["/x"]


def test_xpath_inside_a_block_is_anchored_at_the_block() -> None:
    page = Selector(text="<div class='b'><h2>one</h2></div><div class='b'><h2>two</h2></div>")
    blocks = page.css("div.b")
    assert [first_text(block, "//h2", relative=True) for block in blocks] == ["one", "two"]
    assert [first_text(block, "(//h2)[1]", relative=True) for block in blocks] == ["one", "two"]


def test_joined_text_joins_every_match_and_first_text_takes_the_first() -> None:
    page = Selector(text="<p class='t'> a </p><p class='t'>b\n  c</p>")
    assert joined_text(page, "p.t", separator="\n") == "a\nb\nc"
    assert joined_text(page, "p.t::text", separator=" ") == "a b\nc"
    assert first_text(page, "p.t") == "a"
    assert first_text(page, "p.none") is None


def test_hrefs_accept_attribute_values_and_link_elements() -> None:
    page = Selector(text="<a class='t' href=' /a '>A</a><a class='t'>no href</a>")
    assert hrefs(select(page, "a.t::attr(href)")) == ["/a"]
    assert hrefs(select(page, "a.t")) == ["/a"]


def test_page_text_prefers_the_article_and_falls_back_to_the_body() -> None:
    article = Selector(text="<body><nav>menu</nav><article>the story</article></body>")
    assert page_text(article) == "the story"
    body = Selector(text="<body><nav>menu</nav><div>content</div></body>")
    assert page_text(body) == "menu\ncontent"


def test_fragment_text_strips_markup_from_escaped_html() -> None:
    assert fragment_text("<p>Hello <b>there</b></p><p>again</p>") == "Hello there\nagain"
    assert fragment_text("plain words") == "plain words"
    assert fragment_text("   ") == ""


def test_an_explicitly_relative_xpath_is_left_as_written() -> None:
    page = Selector(text="<div class='b'><p>in</p></div><p>out</p>")
    block = page.css("div.b")[0]
    assert joined_text(block, ".//p", separator=" ", relative=True) == "in"
    assert joined_text(block, "(.//p)[1]", separator=" ", relative=True) == "in"
