"""The configuration file: the documented example loads, and every mistake is one clear line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.config import (
    STARTER_CONFIG,
    ChannelConfig,
    Config,
    ConfigError,
    CrawlConfig,
    DigestConfig,
    SourceConfig,
    load_config,
    resolve_config_path,
)
from monitor.errors import UsageProblem
from monitor.paths import default_database_url
from spiders import SPIDERS
from tests.monitor.examples import ISSUE_EXAMPLE

MINIMAL_SOURCE = """\
[[sources]]
name = "forum"
kind = "feed"
urls = ["http://127.0.0.1:8800/feed.xml"]
"""


def _write(tmp_path: Path, text: str, name: str = "doxwatch.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, env=env or {})
    return raised.value


def test_the_issue_example_loads_as_written(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ISSUE_EXAMPLE), env={})
    assert config.path == (tmp_path / "doxwatch.toml").resolve()
    assert config.database_url == f"sqlite:///{tmp_path.resolve() / 'watch.db'}"
    assert config.sources == (SourceConfig(
        name="forum",
        kind="generic",
        urls=("http://127.0.0.1:8800/forum/",),
        options={"item_links": "a.thread::attr(href)", "title": "h1::text", "text": "div.post",
                 "next_page": "a.next::attr(href)"},
        schedule="*/30 * * * *",
    ),)
    assert config.digest == DigestConfig("0 9 * * *", "Asia/Shanghai", ("mail", "hook"))
    assert config.channels == (
        ChannelConfig("mail", "email", {"host": "127.0.0.1", "port": 8025,
                                        "sender": "doxwatch@example.org",
                                        "to": ["soc@example.org"]}),
        ChannelConfig("hook", "webhook", {"url": "http://127.0.0.1:9000/hook"}),
    )
    assert [channel.name for channel in config.digest_channels()] == ["mail", "hook"]
    assert config.crawl == CrawlConfig()
    assert config.source("forum").kind == "generic"
    assert config.channel("hook").options["url"] == "http://127.0.0.1:9000/hook"


def test_the_starter_config_loads_and_holds_the_example(tmp_path: Path) -> None:
    starter = load_config(_write(tmp_path, STARTER_CONFIG), env={})
    example = load_config(_write(tmp_path, ISSUE_EXAMPLE, "example.toml"), env={})
    assert (starter.database_url, starter.sources, starter.channels, starter.digest) == (
        example.database_url, example.sources, example.channels, example.digest
    )


def test_without_a_file_the_defaults_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           doxwatch_home: Path) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(env={})
    assert config == Config(path=None, database_url=default_database_url())
    assert config.database_url == f"sqlite:///{doxwatch_home / 'doxwatch.db'}"
    assert (config.sources, config.channels, config.digest_channels()) == ((), (), ())


def test_resolve_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"DOXWATCH_CONFIG": "/etc/from-env.toml"}
    assert resolve_config_path(None, env={}) is None
    _write(tmp_path, "")
    assert resolve_config_path(None, env={}) == Path("doxwatch.toml")
    assert resolve_config_path(None, env=env) == Path("/etc/from-env.toml")
    assert resolve_config_path(Path("given.toml"), env=env) == Path("given.toml")


def test_the_environment_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL_SOURCE, "elsewhere/watch.toml")
    assert load_config(env={"DOXWATCH_CONFIG": str(path)}).source("forum").kind == "feed"


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as raised:
        load_config(missing, env={})
    assert str(raised.value) == f"{missing}: file: no such file"


CRON_TWO_SOURCES = MINIMAL_SOURCE + """
[[sources]]
name = "board"
kind = "feed"
urls = ["http://127.0.0.1:8800/board.xml"]
schedule = "*/61 * * * *"
"""


@pytest.mark.parametrize(("text", "field", "message"), [
    ("a = \n", "line 1", "invalid TOML: Invalid value (column 5)"),
    ("[colour]\n", "colour",
     "unknown key (known: database, sources, channels, digest, crawl, model, label, alerts)"),
    ("[sources]\nname = 'x'\n", "sources", "expected an array, got a table"),
    (MINIMAL_SOURCE + "colour = 'red'\n", "sources[0].colour",
     "unknown key (known: name, kind, urls, options, schedule, enabled, max_pages, refetch_after, obey_robots, proxy, proxy_env, headers, headers_env, cookies, cookies_env)"),
    (MINIMAL_SOURCE + MINIMAL_SOURCE, "sources[1].name",
     "duplicate source name 'forum' (also sources[0])"),
    (MINIMAL_SOURCE + "refetch_after = 'weekly'\n", "sources[0].refetch_after",
     'not a duration like "7d", "12h" or "30m": \'weekly\''),
    (MINIMAL_SOURCE + "refetch_after = 0\n", "sources[0].refetch_after", "must be more than 0"),
    (MINIMAL_SOURCE + "proxy = 'ftp://x:1'\n", "sources[0].proxy",
     "not a proxy URL (http, https, socks5, socks5h://host:port): 'ftp://x:1'"),
    (MINIMAL_SOURCE + "proxy = 'socks5://127.0.0.1:9050'\nproxy_env = 'P'\n", "sources[0].proxy",
     "give proxy or proxy_env, not both"),
    (MINIMAL_SOURCE + "[sources.headers]\nX-Token = 5\n", "sources[0].headers.X-Token",
     "expected a string, got an integer"),
    (MINIMAL_SOURCE.replace('"forum"', '" "'), "sources[0].name", "must not be empty"),
    (MINIMAL_SOURCE.replace('name = "forum"\n', ""), "sources[0].name", "is required"),
    (MINIMAL_SOURCE.replace('"feed"', '"gopher"'), "sources[0].kind",
     f"unknown kind 'gopher' (known: {', '.join(SPIDERS)})"),
    (MINIMAL_SOURCE.replace('["http://127.0.0.1:8800/feed.xml"]', "[]"), "sources[0].urls",
     "must list at least one URL"),
    (MINIMAL_SOURCE.replace('"]', '", "ftp://127.0.0.1/x"]'), "sources[0].urls[1]",
     "not an http(s) URL: 'ftp://127.0.0.1/x'"),
    (MINIMAL_SOURCE.replace('["http://127.0.0.1:8800/feed.xml"]', '"http://x"'),
     "sources[0].urls", "expected an array, got a string"),
    (MINIMAL_SOURCE + "max_pages = true\n", "sources[0].max_pages",
     "expected an integer, got a boolean"),
    (MINIMAL_SOURCE + "max_pages = 0\n", "sources[0].max_pages", "must be at least 1"),
    (CRON_TWO_SOURCES, "sources[1].schedule", "not a valid cron expression: '*/61 * * * *'"),
    ("[digest]\ntimezone = 'Mars/Olympus'\n", "digest.timezone",
     "unknown time zone: 'Mars/Olympus'"),
    ("[digest]\nschedule = 'daily'\n", "digest.schedule", "not a valid cron expression: 'daily'"),
    ("[digest]\nchannels = ['mail']\n", "digest.channels[0]",
     "no channel named 'mail' (configured: none)"),
    ("[digest]\nmax_attempts = 0\n", "digest.max_attempts", "must be at least 1"),
    ("[digest]\nretry_backoff = 'soon'\n", "digest.retry_backoff",
     'not a duration like "7d", "12h" or "30m": \'soon\''),
    ("[crawl]\ndelay = 'fast'\n", "crawl.delay", "expected a number, got a string"),
    ("[crawl]\ntimeout = 0\n", "crawl.timeout", "must be above 0"),
    ("[model]\nthreshold_offset = 2\n", "model.threshold_offset", "must be at most 1"),
    ("[[channels]]\nname = 'p'\nkind = 'pigeon'\n", "channels[0].kind",
     "unknown kind 'pigeon' (known: dingtalk, email, feishu, file, slack, stdout, webhook, "
     "wecom)"),
    ("[[channels]]\nname = 'out'\nkind = 'stdout'\n[[channels]]\nname = 'out'\nkind = 'stdout'\n",
     "channels[1].name", "duplicate channel name 'out' (also channels[0])"),
    ("[database]\nurl = 'postgresql+psycopg://watch:pw@127.0.0.1/doxwatch'\n", "database.url",
     "contains a password; put the URL in an environment variable named by url_env"),
    ("[database]\nurl = 'watch.db'\n", "database.url",
     "not a database URL (e.g. sqlite:///watch.db, postgresql+psycopg://host/db)"),
    ("[database]\nurl = 'sqlite://'\nurl_env = 'X'\n", "database",
     "give url or url_env, not both"),
    ("[database]\nurl_env = 'DOXWATCH_TEST_UNSET'\n", "database.url_env",
     "environment variable DOXWATCH_TEST_UNSET is not set"),
])
def test_each_mistake_is_one_line_naming_file_and_field(tmp_path: Path, text: str, field: str,
                                                        message: str) -> None:
    error = _error(tmp_path, text)
    assert (error.field, error.message) == (field, message)
    assert str(error) == f"{tmp_path / 'doxwatch.toml'}: {field}: {message}"
    assert isinstance(error, UsageProblem)


def test_the_file_is_named_as_the_user_gave_it(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, CRON_TWO_SOURCES)
    with pytest.raises(ConfigError) as raised:
        load_config(env={})
    assert str(raised.value) == (
        "doxwatch.toml: sources[1].schedule: not a valid cron expression: '*/61 * * * *'"
    )


def test_spider_option_errors_point_into_the_options_table(tmp_path: Path) -> None:
    error = _error(tmp_path, ISSUE_EXAMPLE.replace('title = "h1::text"', 'colour = "red"'))
    assert error.field == "sources[0].options.colour"
    assert str(error).startswith(f"{tmp_path / 'doxwatch.toml'}: sources[0].options.colour: ")
    assert "\n" not in str(error)


def test_channel_option_errors_point_at_the_channel_key(tmp_path: Path) -> None:
    error = _error(tmp_path, ISSUE_EXAMPLE.replace('url = "http://127.0.0.1:9000/hook"',
                                                   'url = "ftp://127.0.0.1/hook"'))
    assert error.field == "channels[1].url"
    assert str(error).startswith(f"{tmp_path / 'doxwatch.toml'}: channels[1].url: ")


def test_the_database_url_can_come_from_the_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, "[database]\nurl_env = 'WATCH_DB'\n")
    url = "postgresql+psycopg://watch:secret@127.0.0.1:5432/doxwatch"
    assert load_config(path, env={"WATCH_DB": url}).database_url == url


@pytest.mark.parametrize(("written", "expected"), [
    ("sqlite:///data/watch.db", "sqlite:///{base}/data/watch.db"),
    ("sqlite:////var/lib/doxwatch/watch.db", "sqlite:////var/lib/doxwatch/watch.db"),
    ("sqlite:///~/watch.db", f"sqlite:///{Path.home()}/watch.db"),
    ("sqlite://", "sqlite://"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("postgresql+psycopg://watch@127.0.0.1/db", "postgresql+psycopg://watch@127.0.0.1/db"),
])
def test_a_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path, written: str,
                                                               expected: str) -> None:
    path = _write(tmp_path, f"[database]\nurl = '{written}'\n", "conf/doxwatch.toml")
    base = (tmp_path / "conf").resolve()
    assert load_config(path, env={}).database_url == expected.format(base=base)


def test_lookups_name_what_is_configured(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ISSUE_EXAMPLE), env={})
    with pytest.raises(UsageProblem) as raised:
        config.source("blog")
    assert str(raised.value) == "no source named blog; configured: forum"
    with pytest.raises(UsageProblem) as raised:
        config.channel("pager")
    assert str(raised.value) == "no channel named pager; configured: mail, hook"


def test_digest_retries_default_to_8_attempts_5_minutes_apart_and_doubling(tmp_path: Path
                                                                         ) -> None:
    assert (load_config(_write(tmp_path, ""), env={}).digest.max_attempts,
            load_config(_write(tmp_path, ""), env={}).digest.retry_backoff) == (8, 300)
    config = load_config(_write(tmp_path, "[digest]\nmax_attempts = 3\nretry_backoff = '2h'\n"),
                         env={})
    assert (config.digest.max_attempts, config.digest.retry_backoff) == (3, 7200)


def test_digest_goes_to_every_channel_when_none_are_named(tmp_path: Path) -> None:
    text = ISSUE_EXAMPLE.replace('channels = ["mail", "hook"]\n', "")
    config = load_config(_write(tmp_path, text), env={})
    assert config.digest_channels() == config.channels


@pytest.mark.parametrize(("text", "message"), [
    ('[label]\nanalyst = ""\n', "label.analyst: must be 1 to 128 characters"),
    ('[label]\nwho = "x"\n', "label.who: unknown key (known: analyst, lease_minutes)"),
])
def test_label_table_is_checked(tmp_path, text, message):
    path = tmp_path / "doxwatch.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_a_sources_secrets_are_read_from_the_environment_when_it_is_crawled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.crawl import request_options

    path = _write(tmp_path, MINIMAL_SOURCE + """refetch_after = "7d"
obey_robots = false
proxy_env = "TEST_TOR"
[sources.headers]
Accept-Language = "zh-CN"
[sources.headers_env]
Authorization = "TEST_AUTH"
[sources.cookies_env]
session = "TEST_SESSION"
""")
    config = load_config(path, env={})  # loading never needs the secrets
    source = config.source("forum")
    assert source.refetch_after == 7 * 86400
    monkeypatch.delenv("TEST_TOR", raising=False)
    with pytest.raises(ConfigError) as raised:
        request_options(config, source)
    assert str(raised.value) == (f"{path}: sources[0].proxy_env: environment variable "
                                 "TEST_TOR is not set")
    monkeypatch.setenv("TEST_TOR", "socks5h://127.0.0.1:9050")
    monkeypatch.setenv("TEST_AUTH", "Bearer s3cret")
    monkeypatch.setenv("TEST_SESSION", "abc")
    assert request_options(config, source) == {
        "proxy": "socks5h://127.0.0.1:9050",
        "headers": {"Accept-Language": "zh-CN", "Authorization": "Bearer s3cret"},
        "cookies": {"session": "abc"},
        "obey_robots": False,
    }
    monkeypatch.setenv("TEST_TOR", "tor")
    with pytest.raises(ConfigError, match="proxy_env: not a proxy URL"):
        request_options(config, source)


def test_the_redis_backend_needs_a_url_without_a_password_in_the_file(tmp_path: Path) -> None:
    assert "redis_url: required" in str(_error(tmp_path, '[crawl]\nbackend = "redis"\n'))
    assert "contains a password" in str(_error(
        tmp_path, '[crawl]\nbackend = "redis"\nredis_url = "redis://:pw@host:6379/0"\n'))
    path = _write(tmp_path, '[crawl]\nbackend = "redis"\nredis_url_env = "R"\n')
    crawl = load_config(path, env={"R": "redis://:pw@host:6379/0"}).crawl
    assert (crawl.backend, crawl.redis_url) == ("redis", "redis://:pw@host:6379/0")
