"""Which spider crawls which kind of source, and the check of a source's options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spiders.base import SourceSpider
from spiders.discuz import DiscuzSpider
from spiders.feed import FeedSpider
from spiders.generic import GenericSpider
from spiders.options import OptionsError
from spiders.telegram import TelegramSpider
from spiders.tieba import TiebaSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    GenericSpider.name: GenericSpider,
    FeedSpider.name: FeedSpider,
    DiscuzSpider.name: DiscuzSpider,
    TiebaSpider.name: TiebaSpider,
    TelegramSpider.name: TelegramSpider,
}


def validate_options(kind: str, options: Mapping[str, Any]) -> None:
    """Raise ``OptionsError(field, message)`` unless ``options`` suit a ``kind`` source.

    No I/O: ``monitor.config`` calls this when it loads the configuration.
    """
    if kind not in SPIDERS:
        raise OptionsError("kind", f"unknown source kind {kind!r}; "
                                   f"expected one of {', '.join(SPIDERS)}")
    SPIDERS[kind].check_options(options)
