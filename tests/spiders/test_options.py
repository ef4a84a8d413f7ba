from typing import Any

import pytest

from spiders import OptionsError, validate_options

ISSUE_OPTIONS = {
    "item_links": "a.thread::attr(href)",
    "title": "h1::text",
    "text": "div.post",
    "next_page": "a.next::attr(href)",
}


@pytest.mark.parametrize(("kind", "options"), [
    ("generic", ISSUE_OPTIONS),
    ("generic", {**ISSUE_OPTIONS, "author": "span.author::text",
                 "posted_at": "time::attr(datetime)", "id": "//article/@data-id"}),
    ("generic", {"item": "div.msg", "text": ".//p"}),
    ("generic", {"item": "(//div[@class='msg'])", "text": "p", "item_links": "a.t"}),
    ("feed", {}),
    ("feed", {"follow": True}),
])
def test_valid_options_pass(kind: str, options: dict[str, Any]) -> None:
    validate_options(kind, options)


@pytest.mark.parametrize(("kind", "options", "field", "words"), [
    ("gopher", {}, "kind", "unknown source kind 'gopher'"),
    ("generic", {"item_links": "a"}, "text", "required"),
    ("generic", {"text": "div.post"}, "item_links", "item"),
    ("generic", {**ISSUE_OPTIONS, "titel": "h1"}, "titel", "unknown option"),
    ("generic", {**ISSUE_OPTIONS, "title": "h1::texte"}, "title", "not a valid selector"),
    ("generic", {**ISSUE_OPTIONS, "text": "div[class="}, "text", "not a valid selector"),
    ("generic", {**ISSUE_OPTIONS, "item_links": "//a[@href"}, "item_links", "not a valid"),
    ("generic", {**ISSUE_OPTIONS, "next_page": ""}, "next_page", "non-empty"),
    ("generic", {**ISSUE_OPTIONS, "author": 3}, "author", "non-empty"),
    ("feed", {"follow": "yes"}, "follow", "true or false"),
    ("feed", {"text": "div"}, "text", "unknown option"),
])
def test_invalid_options_name_the_field(kind: str, options: dict[str, Any], field: str,
                                        words: str) -> None:
    with pytest.raises(OptionsError) as raised:
        validate_options(kind, options)
    assert raised.value.field == field
    assert words in raised.value.message
    assert str(raised.value) == f"{field}: {raised.value.message}"
