"""doxwatch spiders: fetch public pages and feeds, parse them, yield ``PostItem``s.

Nothing here stores anything: items leave through the item pipeline that ``monitor/``
installs (``ITEM_PIPELINES``). ``SPIDERS`` maps a source's ``kind`` to its spider class;
``validate_options`` checks a source's options when the configuration is loaded;
``spiders.runner.run_crawls`` runs crawls and ``spiders.settings.crawl_settings`` gives
their polite settings.
"""

from spiders.discuz import DiscuzSpider
from spiders.feed import FeedSpider
from spiders.generic import GenericSpider
from spiders.items import PostItem
from spiders.options import OptionsError
from spiders.registry import SPIDERS, validate_options
from spiders.telegram import TelegramSpider
from spiders.tieba import TiebaSpider

__all__ = [
    "SPIDERS",
    "DiscuzSpider",
    "FeedSpider",
    "GenericSpider",
    "OptionsError",
    "PostItem",
    "TelegramSpider",
    "TiebaSpider",
    "validate_options",
]
