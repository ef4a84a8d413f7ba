"""The package's public surface and its fixed parts: exports, registry, settings."""

from types import ModuleType

import spiders
from spiders.settings import crawl_settings


def test_exported_members_match_all() -> None:
    public = {name for name, value in vars(spiders).items()
              if not name.startswith("_") and not isinstance(value, ModuleType)}
    assert set(spiders.__all__) == public
    assert len(spiders.__all__) == len(public)


def test_every_kind_maps_to_a_spider_of_that_name() -> None:
    assert set(spiders.SPIDERS) == {"generic", "feed", "telegram", "discuz", "tieba"}
    for kind, spider_class in spiders.SPIDERS.items():
        assert spider_class.name == kind


def test_crawl_settings_are_polite_and_listen_on_no_port() -> None:
    settings = crawl_settings(delay=1.5, timeout=20, max_page_bytes=2_000_000,
                              user_agent="doxwatch/0.1", obey_robots=True)
    assert settings["ROBOTSTXT_OBEY"] is True
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1
    assert settings["DOWNLOAD_DELAY"] == 1.5
    assert settings["DOWNLOAD_TIMEOUT"] == 20
    assert settings["DOWNLOAD_MAXSIZE"] == 2_000_000
    assert settings["USER_AGENT"] == "doxwatch/0.1"
    assert settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["AUTOTHROTTLE_START_DELAY"] == 1.5  # never below the configured delay
    assert settings["RETRY_BACKOFF_BASE"] == 1.0 and 429 in settings["RETRY_HTTP_CODES"]
    assert settings["TELNETCONSOLE_ENABLED"] is False
    assert settings["REMOTE_CONTROL_ENABLED"] is False
    assert "ITEM_PIPELINES" not in settings
