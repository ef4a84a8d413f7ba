"""The configuration: one TOML file, read once, checked whole, frozen.

Where the file comes from: ``--config``, else ``$DOXWATCH_CONFIG``, else
``./doxwatch.toml``, else built-in defaults (no sources, no channels), so that
`doxwatch status` and `doxwatch demo` work before anyone writes a file.

Everything is checked when the file is loaded, not when a job first runs at 3 a.m.:
an error is one line naming the file, the field and what is wrong
(``doxwatch.toml: sources[1].schedule: not a valid cron expression: '*/61 * * * *'``),
and the CLI exits 2. Secrets never come from the file: keys ending in ``_env`` name
environment variables, which the channels (and ``[database] url_env``) read.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import URL

from models import CATEGORIES
from monitor.errors import UsageProblem
from monitor.paths import default_database_url

MAX_NAME_LENGTH = 128  # the width of the name columns in the database


def package_version() -> str:
    try:
        return metadata.version("doxwatch")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


DEFAULT_USER_AGENT = f"doxwatch/{package_version()} (+https://github.com/doxwatch/doxwatch)"


class ConfigError(UsageProblem):
    """The configuration file is wrong; ``str()`` is one line: ``file: field: message``."""

    def __init__(self, file: str, field: str, message: str) -> None:
        self.file = file
        self.field = field
        self.message = " ".join(message.split())  # one line, whatever a validator wrote
        super().__init__(f"{file}: {field}: {self.message}")


@dataclass(frozen=True)
class RequestConfig:
    """How a source's requests go out: through a proxy (HTTP, or SOCKS5 such as a local Tor
    client), with extra headers and cookies. Values that are secrets stay in the
    environment: the ``*_env`` fields name variables, read when a crawl starts."""

    proxy: str | None = None
    proxy_env: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    headers_env: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    cookies_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceConfig:
    """A place to watch: ``kind`` picks the spider, ``options`` are that spider's settings."""

    name: str
    kind: str
    urls: tuple[str, ...]
    options: Mapping[str, Any]
    schedule: str = "0 * * * *"
    enabled: bool = True
    max_pages: int = 20
    refetch_after: float | None = None  # seconds; None: only when the listing changed
    obey_robots: bool | None = None  # None: as [crawl] obey_robots says
    request: RequestConfig = field(default_factory=RequestConfig)


EXTERNAL_KIND = "external"


def external_source(name: str) -> SourceConfig:
    """A source the configuration does not declare: posts another tool collected, brought
    in with `doxwatch ingest`. It is recorded so its posts have a home, and never crawled."""
    if not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise UsageProblem(f"a source name must be 1 to {MAX_NAME_LENGTH} characters")
    return SourceConfig(name=name, kind=EXTERNAL_KIND, urls=(), options={}, schedule="",
                        enabled=False)


@dataclass(frozen=True)
class ChannelConfig:
    """Where digests go: ``options`` is every key of the table except name and kind."""

    name: str
    kind: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class DigestConfig:
    """When the digest is built (cron, in ``timezone``; sources' crons use it too), where
    it goes (channel names; empty = every channel), and how a failed delivery is retried:
    again ``retry_backoff`` seconds after its first failure, doubling, until ``max_attempts``
    attempts have failed (then it has given up, and the next digest says so)."""

    schedule: str = "0 9 * * *"
    timezone: str = "Asia/Shanghai"
    channels: tuple[str, ...] = ()
    send_empty: bool = False
    max_entries: int = 200
    max_attempts: int = 8
    retry_backoff: float = 300.0  # seconds ("5m")


@dataclass(frozen=True)
class ImmediateConfig:
    """``[alerts.immediate]``: a post of one of ``categories`` scoring at least
    ``min_score`` there is sent to ``channels`` as soon as it is classified, at most
    ``max_per_hour`` an hour (the rest wait for the digest, which has every post anyway)."""

    categories: tuple[str, ...] = CATEGORIES
    min_score: float = 0.9
    channels: tuple[str, ...] = ()
    max_per_hour: int = 10


@dataclass(frozen=True)
class CrawlConfig:
    """Politeness and limits for every crawl: we visit other people's servers."""

    delay: float = 1.0
    timeout: float = 20.0
    max_page_bytes: int = 5_000_000
    user_agent: str = DEFAULT_USER_AGENT
    obey_robots: bool = True
    per_domain: int = 1  # requests at a time to one site
    broken_after: int = 3  # crawls in a row with no posts before a source is "broken"
    backend: str = "local"  # or "redis": one crawl shared by `doxwatch worker` processes
    redis_url: str | None = None  # with backend = "redis" (or redis_url_env)


@dataclass(frozen=True)
class ModelConfig:
    """Added to every category's decision threshold: above 0 means fewer, surer alerts."""

    threshold_offset: float = 0.0


@dataclass(frozen=True)
class LabelConfig:
    """Who labels from this machine when `doxwatch label --analyst` is not given, and how
    long an `--exclusive` session holds a post it is not working on."""

    analyst: str | None = None
    lease_minutes: float = 15.0


@dataclass(frozen=True)
class Config:
    """The whole configuration; ``path`` is the absolute file it came from (None: defaults)."""

    path: Path | None
    database_url: str
    sources: tuple[SourceConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    digest: DigestConfig = field(default_factory=DigestConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    label: LabelConfig = field(default_factory=LabelConfig)
    immediate: ImmediateConfig | None = None  # None: no immediate alerts

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``; UsageProblem listing the configured ones if none."""
        return _named(self.sources, name, "source")

    def channel(self, name: str) -> ChannelConfig:
        """The channel called ``name``; UsageProblem listing the configured ones if none."""
        return _named(self.channels, name, "channel")

    def digest_channels(self) -> tuple[ChannelConfig, ...]:
        """The channels the digest goes to: those in ``[digest] channels``, else all of them."""
        if not self.digest.channels:
            return self.channels
        return tuple(self.channel(name) for name in self.digest.channels)

    def outbox_channels(self) -> tuple[ChannelConfig, ...]:
        """The channels anything stored is sent to: the digest's and the immediate alerts'."""
        names = {channel.name for channel in self.digest_channels()}
        names.update(self.immediate.channels if self.immediate else ())
        return tuple(channel for channel in self.channels if channel.name in names)


_Named = TypeVar("_Named", SourceConfig, ChannelConfig)


def _named(items: tuple[_Named, ...], name: str, what: str) -> _Named:
    for item in items:
        if item.name == name:
            return item
    configured = ", ".join(item.name for item in items) or "none"
    raise UsageProblem(f"no {what} named {name}; configured: {configured}")


def resolve_config_path(
    path: Path | str | None, env: Mapping[str, str] = os.environ
) -> Path | None:
    """The file to read: ``path``, else ``$DOXWATCH_CONFIG``, else ./doxwatch.toml if present."""
    if path is not None:
        return Path(path)
    if env.get("DOXWATCH_CONFIG"):
        return Path(env["DOXWATCH_CONFIG"])
    local = Path("doxwatch.toml")
    return local if local.is_file() else None


def load_config(path: Path | str | None = None, env: Mapping[str, str] = os.environ) -> Config:
    """Read and check the configuration (see the module docstring); ConfigError if wrong."""
    resolved = resolve_config_path(path, env)
    if resolved is None:
        return Config(path=None, database_url=default_database_url())
    data = _read_toml(resolved)
    return _build(Table(str(resolved), "", data), resolved.resolve(), env)


# --- reading the file -----------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def _read_toml(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(file, "file", "no such file") from None
    except OSError as error:
        raise ConfigError(file, "file", f"cannot read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(file, "file", f"not UTF-8 text (byte {error.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(file, str(error)) from None


def _toml_error(file: str, message: str) -> ConfigError:
    """Turn tomllib's "Invalid value (at line 3, column 5)" into field "line 3"."""
    position = _TOML_POSITION.search(message)
    if position is None:
        return ConfigError(file, "file", f"invalid TOML: {message}")
    reason = message[: position.start()]
    if position.group(1) is None:
        return ConfigError(file, "end of file", f"invalid TOML: {reason}")
    return ConfigError(
        file, f"line {position.group(1)}", f"invalid TOML: {reason} (column {position.group(2)})"
    )


_TYPE_NAMES: dict[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
    datetime: "a date-time",
    date: "a date",
    time: "a time",
}

_MISSING = object()


@dataclass(frozen=True)
class Table:
    """One TOML table being read, with getters that raise ConfigError naming the field."""

    file: str
    prefix: str  # "" for the top level, "sources[0]" for an entry of [[sources]], ...
    data: Mapping[str, Any]

    def where(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.file, self.where(key), message)

    def check_keys(self, known: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in known:
                raise self.error(key, f"unknown key (known: {', '.join(known)})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        """The value at ``key`` if it has type ``kind``; ``default`` if absent."""
        if key not in self.data:
            if default is _MISSING:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int to Python but not to a person writing `port = true`
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            # (float, int) reads "a number": an integer is one
            names = [_TYPE_NAMES[k] for k in kinds if not (k is int and float in kinds)]
            expected = " or ".join(names)
            raise self.error(key, f"expected {expected}, got {_TYPE_NAMES[type(value)]}")
        return value

    def string(self, key: str, default: Any = _MISSING) -> str:
        return self.get(key, str, default)

    def boolean(self, key: str, default: bool) -> bool:
        return self.get(key, bool, default)

    def number(self, key: str, default: float, *, minimum: float, above: bool = False) -> float:
        value = float(self.get(key, (float, int), default))
        if value < minimum or (above and value == minimum):
            raise self.error(key, f"must be {'above' if above else 'at least'} {minimum:g}")
        return value

    def integer(self, key: str, default: int, *, minimum: int = 1) -> int:
        value = self.get(key, int, default)
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}")
        return value

    def strings(self, key: str, default: Any = _MISSING) -> tuple[str, ...]:
        values = self.get(key, list, default)
        for index, value in enumerate(values):
            if not isinstance(value, str):
                got = _TYPE_NAMES[type(value)]
                raise self.error(f"{key}[{index}]", f"expected a string, got {got}")
        return tuple(values)

    def table(self, key: str) -> Table:
        """The sub-table ``key``; an empty one if absent."""
        return Table(self.file, self.where(key), self.get(key, dict, {}))

    def tables(self, key: str) -> list[Table]:
        """The entries of the array of tables ``[[key]]``; none if absent."""
        entries = self.get(key, list, [])
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise self.error(f"{key}[{index}]", f"expected a table ([[{key}]])")
        return [Table(self.file, f"{self.where(key)}[{i}]", e) for i, e in enumerate(entries)]


# --- building the Config ----------------------------------------------------------------


def _build(top: Table, path: Path, env: Mapping[str, str]) -> Config:
    top.check_keys(("database", "sources", "channels", "digest", "crawl", "model", "label",
                    "alerts"))
    database_url = _database_url(top.table("database"), path.parent, env)
    crawl = _crawl(top.table("crawl"), env)
    model = _model(top.table("model"))
    channels = _channels(top.tables("channels"), path.parent)
    digest = _digest(top.table("digest"), channels)
    sources = _sources(top.tables("sources"), ZoneInfo(digest.timezone))
    alerts = top.table("alerts")
    alerts.check_keys(("immediate",))
    return Config(path, database_url, sources, channels, digest, crawl, model,
                  _label(top.table("label")), _immediate(alerts.table("immediate"), channels))


def _database_url(table: Table, base: Path, env: Mapping[str, str]) -> str:
    """``url`` or the variable named by ``url_env``; a relative SQLite path is under ``base``."""
    table.check_keys(("url", "url_env"))
    if "url" in table.data and "url_env" in table.data:
        raise ConfigError(table.file, table.prefix, "give url or url_env, not both")
    if "url_env" in table.data:
        variable = table.string("url_env")
        if not env.get(variable):
            raise table.error("url_env", f"environment variable {variable} is not set")
        return _absolute_sqlite(env[variable], _parse_database_url(
            table, "url_env", env[variable], f"environment variable {variable}: "), base)
    if "url" not in table.data:
        return default_database_url()
    value = table.string("url")
    url = _parse_database_url(table, "url", value)
    if url.password:
        raise table.error(
            "url", "contains a password; put the URL in an environment variable named by url_env"
        )
    return _absolute_sqlite(value, url, base)


def _parse_database_url(table: Table, key: str, value: str, origin: str = "") -> URL:
    """``value`` parsed by the one check every database URL gets (``monitor.db.engine``),
    its error placed at ``key``; ``origin`` names the variable the value was read from.
    Imported here, as the alerts and spiders packages are: only a file that names a database
    needs the database package."""
    from monitor.db.engine import DatabaseURLError, parse_url

    try:
        return parse_url(value)
    except DatabaseURLError as error:
        # the value itself is not repeated: it may hold a password
        raise table.error(key, origin + error.reason) from None


def _beside_config(path: str, base: Path) -> Path:
    """``path`` with ``~`` expanded and, if relative, under ``base`` (the config file's
    directory): a file the configuration names is where its author put it, whatever
    directory doxwatch is started from (the SQLite file, a file channel's folder)."""
    return base / Path(path).expanduser()


def _absolute_sqlite(value: str, url: URL, base: Path) -> str:
    """``value``, unless it names an SQLite file by a relative or ``~`` path: then made absolute
    with ``_beside_config``."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return value
    path = _beside_config(database, base)
    if database.startswith("file:") or str(path) == database:
        return value
    return url.set(database=str(path)).render_as_string(hide_password=False)


def _crawl(table: Table, env: Mapping[str, str]) -> CrawlConfig:
    table.check_keys(("delay", "timeout", "max_page_bytes", "user_agent", "obey_robots",
                      "per_domain", "broken_after", "backend", "redis_url", "redis_url_env"))
    defaults = CrawlConfig()
    user_agent = table.string("user_agent", defaults.user_agent)
    if not user_agent.strip():
        raise table.error("user_agent", "must not be empty")
    return CrawlConfig(
        delay=table.number("delay", defaults.delay, minimum=0),
        timeout=table.number("timeout", defaults.timeout, minimum=0, above=True),
        max_page_bytes=table.integer("max_page_bytes", defaults.max_page_bytes),
        user_agent=user_agent,
        obey_robots=table.boolean("obey_robots", defaults.obey_robots),
        per_domain=table.integer("per_domain", defaults.per_domain),
        broken_after=table.integer("broken_after", defaults.broken_after),
        **_backend(table, env),
    )


BACKENDS = ("local", "redis")


def _backend(table: Table, env: Mapping[str, str]) -> dict[str, Any]:
    """``backend`` and, for Redis, its URL (from the file, or from ``redis_url_env``)."""
    backend = table.string("backend", "local")
    if backend not in BACKENDS:
        raise table.error("backend", f"expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if "redis_url" in table.data and "redis_url_env" in table.data:
        raise table.error("redis_url", "give redis_url or redis_url_env, not both")
    url = table.get("redis_url", str, None)
    if url is not None and urlsplit(url).password:
        raise table.error("redis_url", "contains a password; put the URL in an environment "
                                       "variable named by redis_url_env")
    if "redis_url_env" in table.data:
        variable = table.string("redis_url_env")
        if variable not in env:
            raise table.error("redis_url_env", f"environment variable {variable} is not set")
        url = env[variable]
    if backend == "redis" and not url:
        raise table.error("redis_url", 'required with backend = "redis"')
    if url is not None and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise table.error("redis_url", "not a redis:// URL")
    return {"backend": backend, "redis_url": url}


def _model(table: Table) -> ModelConfig:
    table.check_keys(("threshold_offset",))
    offset = table.number("threshold_offset", 0.0, minimum=-1.0)
    if offset > 1.0:
        raise table.error("threshold_offset", "must be at most 1")
    return ModelConfig(threshold_offset=offset)


def _label(table: Table) -> LabelConfig:
    table.check_keys(("analyst", "lease_minutes"))
    analyst = table.string("analyst", None)
    if analyst is not None and not 0 < len(analyst.strip()) <= MAX_NAME_LENGTH:
        raise table.error("analyst", f"must be 1 to {MAX_NAME_LENGTH} characters")
    return LabelConfig(analyst=analyst,
                       lease_minutes=table.number("lease_minutes", 15.0, minimum=0, above=True))


def _name(table: Table, seen: dict[str, str], what: str) -> str:
    """The entry's ``name``: non-empty, fits the database, unique among ``seen``."""
    name = table.string("name")
    if not name.strip():
        raise table.error("name", "must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise table.error("name", f"longer than {MAX_NAME_LENGTH} characters")
    if name in seen:
        raise table.error("name", f"duplicate {what} name {name!r} (also {seen[name]})")
    seen[name] = table.prefix
    return name


def _kind(table: Table, kinds: tuple[str, ...]) -> str:
    kind = table.string("kind")
    if kind not in kinds:
        raise table.error("kind", f"unknown kind {kind!r} (known: {', '.join(kinds)})")
    return kind


def _cron(table: Table, key: str, default: str, timezone: ZoneInfo) -> str:
    expression = table.string(key, default)
    try:
        CronTrigger.from_crontab(expression, timezone=timezone)
    except ValueError:
        raise table.error(key, f"not a valid cron expression: {expression!r}") from None
    return expression


def _channels(tables: list[Table], base: Path) -> tuple[ChannelConfig, ...]:
    """The ``[[channels]]`` tables, checked by their kinds; options a kind declares to be
    paths are made absolute with ``_beside_config`` (``base``: the config file's directory)."""
    if not tables:
        return ()
    # Imported only when channels are configured: the alerts package is not needed otherwise.
    from alerts.channels import CHANNELS
    from alerts.errors import NotConfigured

    seen: dict[str, str] = {}
    channels = []
    for table in tables:
        name = _name(table, seen, "channel")
        kind = _kind(table, tuple(sorted(CHANNELS)))
        options = {key: value for key, value in table.data.items() if key not in ("name", "kind")}
        try:
            CHANNELS[kind].validate(options)
        except NotConfigured as error:
            raise _foreign_error(table, "", error) from None
        specs = CHANNELS[kind].OPTIONS
        options = {key: str(_beside_config(value, base)) if key in specs and specs[key].path
                   else value for key, value in options.items()}
        channels.append(ChannelConfig(name, kind, options))
    return tuple(channels)


def _foreign_error(table: Table, prefix: str, error: Any) -> ConfigError:
    """Another package's ``(field, message)`` error, placed at the field in our file."""
    inner = ".".join(part for part in (prefix, error.field) if part)
    return ConfigError(table.file, table.where(inner) if inner else table.prefix, error.message)


def _digest(table: Table, channels: tuple[ChannelConfig, ...]) -> DigestConfig:
    table.check_keys(("schedule", "timezone", "channels", "send_empty", "max_entries",
                      "max_attempts", "retry_backoff"))
    defaults = DigestConfig()
    timezone = table.string("timezone", defaults.timezone)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise table.error("timezone", f"unknown time zone: {timezone!r}") from None
    names = _channel_names(table, channels, ())
    return DigestConfig(
        schedule=_cron(table, "schedule", defaults.schedule, zone),
        timezone=timezone,
        channels=names,
        send_empty=table.boolean("send_empty", defaults.send_empty),
        max_entries=table.integer("max_entries", defaults.max_entries),
        max_attempts=table.integer("max_attempts", defaults.max_attempts),
        retry_backoff=_duration(table, "retry_backoff") or defaults.retry_backoff,
    )


def _channel_names(table: Table, channels: tuple[ChannelConfig, ...],
                   default: Any = _MISSING) -> tuple[str, ...]:
    """``channels``: names of configured channels, each once."""
    names = table.strings("channels", default)
    configured = [channel.name for channel in channels]
    for index, name in enumerate(names):
        if name not in configured:
            raise table.error(
                f"channels[{index}]",
                f"no channel named {name!r} (configured: {', '.join(configured) or 'none'})",
            )
        if name in names[:index]:
            raise table.error(f"channels[{index}]", f"channel {name!r} is listed twice")
    return names


def _immediate(table: Table, channels: tuple[ChannelConfig, ...]) -> ImmediateConfig | None:
    """``[alerts.immediate]``, or None when the table is absent (no immediate alerts)."""
    if not table.data:
        return None
    table.check_keys(("categories", "min_score", "channels", "max_per_hour"))
    defaults = ImmediateConfig()
    categories = table.strings("categories", defaults.categories)
    for index, category in enumerate(categories):
        if category not in CATEGORIES:
            raise table.error(f"categories[{index}]", f"unknown category {category!r} "
                              f"(known: {', '.join(CATEGORIES)})")
    min_score = table.number("min_score", defaults.min_score, minimum=0.0)
    if min_score > 1:
        raise table.error("min_score", "must be at most 1 (a score is a probability)")
    names = _channel_names(table, channels)
    if not names:
        raise table.error("channels", "name at least one channel")
    return ImmediateConfig(categories=categories, min_score=min_score, channels=names,
                           max_per_hour=table.integer("max_per_hour", defaults.max_per_hour))


def _sources(tables: list[Table], timezone: ZoneInfo) -> tuple[SourceConfig, ...]:
    if not tables:
        return ()
    # Imported only when sources are configured: the spiders package brings in Scrapy,
    # which `doxwatch status` with no sources should not wait for.
    import spiders

    seen: dict[str, str] = {}
    sources = []
    for table in tables:
        table.check_keys(("name", "kind", "urls", "options", "schedule", "enabled", "max_pages",
                          "refetch_after", "obey_robots", *REQUEST_KEYS))
        name = _name(table, seen, "source")
        kind = _kind(table, tuple(spiders.SPIDERS))
        options = dict(table.table("options").data)
        try:
            spiders.validate_options(kind, options)
        except spiders.OptionsError as error:
            raise _foreign_error(table, "options", error) from None
        defaults = SourceConfig(name, kind, (), {})
        sources.append(SourceConfig(
            name=name,
            kind=kind,
            urls=_urls(table),
            options=options,
            schedule=_cron(table, "schedule", defaults.schedule, timezone),
            enabled=table.boolean("enabled", defaults.enabled),
            max_pages=table.integer("max_pages", defaults.max_pages),
            refetch_after=_duration(table, "refetch_after"),
            obey_robots=table.get("obey_robots", bool, None),
            request=_request(table),
        ))
    return tuple(sources)


REQUEST_KEYS = ("proxy", "proxy_env", "headers", "headers_env", "cookies", "cookies_env")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float | None:
    """Seconds in ``"7d"``, ``"12h"``, ``"30m"``, ``"90s"`` or ``"2w"``; None if it is not one
    (the configuration's durations, and ``posts list --since 2d``)."""
    match = _DURATION.match(text)
    return float(match[1]) * _SECONDS[match[2]] if match else None


def _duration(table: Table, key: str) -> float | None:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"90s"``, ``"2w"``, or a number of seconds."""
    value = table.get(key, (str, int, float), None)
    if value is None:
        return None
    if isinstance(value, str):
        seconds = parse_duration(value)
        if seconds is None:
            raise table.error(key, f"not a duration like \"7d\", \"12h\" or \"30m\": {value!r}")
        value = seconds
    if value <= 0:
        raise table.error(key, "must be more than 0")
    return float(value)


def _request(table: Table) -> RequestConfig:
    if "proxy" in table.data and "proxy_env" in table.data:
        raise table.error("proxy", "give proxy or proxy_env, not both")
    proxy = table.get("proxy", str, None)
    if proxy is not None:
        check_proxy(proxy, lambda message: table.error("proxy", message))
    return RequestConfig(
        proxy=proxy,
        proxy_env=table.get("proxy_env", str, None),
        **{key: _string_table(table, key) for key in REQUEST_KEYS if key.startswith(("h", "c"))},
    )


def check_proxy(url: str, error: Any) -> None:
    """Raise ``error(message)`` unless ``url`` is a proxy URL doxwatch can use."""
    parts = urlsplit(url)
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise error(f"not a proxy URL ({', '.join(PROXY_SCHEMES)}://host:port): {url!r}")


def _string_table(table: Table, key: str) -> dict[str, str]:
    """A table of strings (header or cookie names to values, or to variable names)."""
    values = table.table(key).data
    for name, value in values.items():
        if not isinstance(value, str):
            raise table.error(f"{key}.{name}", f"expected a string, got {_TYPE_NAMES[type(value)]}")
    return dict(values)


def _urls(table: Table) -> tuple[str, ...]:
    urls = table.strings("urls")
    if not urls:
        raise table.error("urls", "must list at least one URL")
    for index, url in enumerate(urls):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise table.error(f"urls[{index}]", f"not an http(s) URL: {url!r}")
    return urls


STARTER_CONFIG = """\
# doxwatch configuration (TOML). `doxwatch status` shows what it watches;
# any mistake here is reported as one line naming the field, and nothing runs.
# Secrets never go in this file: keys ending in _env name environment variables.

[database]
# Relative SQLite paths are relative to this file. Leave the table out to use a file
# in the platform's data directory. For a team, PostgreSQL: keep the password out of
# this file by naming the variable that holds the whole URL:
#   url_env = "DOXWATCH_DATABASE_URL"   # e.g. postgresql+psycopg://watch:secret@db/doxwatch
url = "sqlite:///watch.db"

# One [[sources]] table per place to watch.
[[sources]]
name = "forum"                       # used by `doxwatch crawl forum` and in digests
kind = "generic"                     # generic | feed
urls = ["http://127.0.0.1:8800/forum/"]
schedule = "*/30 * * * *"            # cron (minute hour day month weekday), in [digest].timezone
# enabled = true                     # false: kept in the file, never crawled
# max_pages = 20                     # stop after this many list pages per crawl
[sources.options]                    # kind-specific; for generic, CSS or XPath selectors
item_links = "a.thread::attr(href)"  # links from a list page to each post's page
title = "h1::text"
text = "div.post"                    # elements: their visible text is taken
next_page = "a.next::attr(href)"     # the next list page, followed up to max_pages

# An RSS 2.0 or Atom feed needs no options; `follow = true` fetches each entry's page.
# [[sources]]
# name = "news"
# kind = "feed"
# urls = ["https://example.org/feed.xml"]
# schedule = "0 */6 * * *"

[digest]
schedule = "0 9 * * *"               # every morning at nine
timezone = "Asia/Shanghai"
channels = ["mail", "hook"]          # leave empty to send to every channel below
# send_empty = false                 # true: send "nothing new" digests too
# max_entries = 200
# max_attempts = 8                   # a delivery that failed this often gives up (reported)
# retry_backoff = "5m"               # first retry after 5 minutes, then 10, 20, 40 …

# Where digests go, one [[channels]] table each: kind = email | webhook | file | stdout.
[[channels]]
name = "mail"
kind = "email"                       # SMTP, text and HTML
host = "127.0.0.1"
port = 8025
sender = "doxwatch@example.org"
to = ["soc@example.org"]
# starttls / ssl / username_env / password_env as needed

[[channels]]
name = "hook"
kind = "webhook"                     # the digest as JSON, POSTed
url = "http://127.0.0.1:9000/hook"

# Polite crawling; these are the defaults.
# [crawl]
# delay = 1.0                        # seconds between requests to one site
# timeout = 20.0                     # seconds per request
# max_page_bytes = 5000000           # larger pages are dropped
# obey_robots = true
# per_domain = 1                     # requests at a time to one site
# broken_after = 3                   # crawls in a row with no posts: the source shows as broken
# backend = "redis"                  # share crawls with `doxwatch worker` processes
# redis_url_env = "DOXWATCH_REDIS_URL"

# [model]
# threshold_offset = 0.0             # added to every threshold: 0.1 = fewer, surer alerts

# [label]
# analyst = "alice"                  # `doxwatch label` without --analyst (else the login name)
# lease_minutes = 15                 # --exclusive: an idle session gives its post back after this
"""
