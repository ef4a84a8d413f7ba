"""Responses built in memory from pages the tests write, for parsing without a network."""

from __future__ import annotations

from scrapy.http import HtmlResponse, Request, XmlResponse


def html_response(url: str, body: str | bytes,
                  content_type: str = "text/html; charset=utf-8") -> HtmlResponse:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return HtmlResponse(url=url, body=data, headers={"Content-Type": content_type},
                        request=Request(url))


def xml_response(url: str, body: str | bytes,
                 content_type: str = "application/rss+xml") -> XmlResponse:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return XmlResponse(url=url, body=data, headers={"Content-Type": content_type},
                       request=Request(url))
