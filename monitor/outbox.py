"""The outbox: each stored payload to each of its channels once, retried with backoff.

A ``deliveries`` row is ``pending`` → ``sending`` → ``sent`` or ``failed``. Whoever sends
a row first *claims* it: one conditional UPDATE, committed on its own before anything is
sent, that moves the row to ``sending`` only if it is still as the sender read it (status
and ``attempts``; every claim adds one to ``attempts``, so no two claims can both match).
Two senders (``doxwatch digest`` by hand while the scheduler's job runs, two hosts on one
PostgreSQL) therefore never send one row twice: the loser's UPDATE matches no row. The
outcome is recorded in a second transaction, again only while the claim is ours.

A ``sending`` row whose claim is older than ``SEND_LEASE`` belongs to a sender that died
(killed, machine lost) and may be claimed again: the lease is longer than any send takes
with its timeouts and retries (a chat channel's parts, its rate-limit waits), so a live
sender's row is never taken. That crash, between a receiver accepting and the row being
recorded sent, is the one way a receiver gets a payload twice (the Idempotency-Key and
Message-ID let it drop the repeat).

Retries: a failed row is due again ``backoff * 2**(attempts-1)`` after its last attempt
(5, 10, 20 … minutes with the default "5m"); once ``max_attempts`` attempts have failed
it has *given up* and is left alone until someone asks for it (``RetryMode``).

What is sent is the caller's business (a ``Sender``: stored payload and channel name in,
error text or None out), so anything stored with delivery rows goes through this path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alerts.chat import mask_url, scrub, url_secrets
from alerts.digest import Undelivered
from monitor.config import ChannelConfig, DigestConfig
from monitor.db import Database
from monitor.db.schema import Delivery, DigestRecord

log = logging.getLogger("doxwatch.outbox")

SEND_LEASE = timedelta(minutes=10)
ERROR_CHARS = 200  # of an error in a digest's "Not delivered" and in status

RetryMode = Literal["backoff", "now", "given-up"]
"""Which failed rows a run sends: ``backoff``, those whose backoff has elapsed (the
scheduler); ``now``, every one that has not given up (a person asked); ``given-up``, those
too (an operator who fixed the channel)."""

Sender = Callable[[int, Mapping[str, Any], str], str | None]
"""Sends digest ``id``'s stored payload to the named channel; the error to record, or None."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff: float  # seconds before the first retry; doubled for each one after

    @classmethod
    def of(cls, config: DigestConfig) -> RetryPolicy:
        return cls(config.max_attempts, config.retry_backoff)

    def due_at(self, attempted_at: datetime, attempts: int) -> datetime:
        return attempted_at + timedelta(seconds=self.backoff * 2 ** max(attempts - 1, 0))


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one run did with one row: ``sent``, ``failed`` (``error``), or nothing because
    it is ``sending`` (another sender has it) or ``given up`` (``note`` says what now)."""

    digest_id: int
    channel: str
    status: str
    error: str | None
    note: str | None = None


@dataclass(frozen=True)
class _Row:
    id: int
    digest_id: int
    channel: str
    status: str
    attempts: int
    updated_at: datetime


def send_due(db: Database, channels: Iterable[str], send: Sender, policy: RetryPolicy,
             mode: RetryMode, *, only: int | None = None,
             now: Callable[[], datetime] | None = None) -> list[DeliveryOutcome]:
    """Every row of these channels (of digest ``only``, if given) that is not sent: each
    claimed and sent if it is due (``deliver``). Oldest digest first."""
    with db.session() as session:
        query = select(Delivery.id).where(Delivery.status != "sent",
                                          Delivery.channel.in_(list(channels)))
        if only is not None:
            query = query.where(Delivery.digest_id == only)
        ids = session.scalars(query.order_by(Delivery.digest_id, Delivery.id)).all()
    outcomes = (deliver(db, delivery_id, send, policy, mode, now=now) for delivery_id in ids)
    return [outcome for outcome in outcomes if outcome is not None]


def deliver(db: Database, delivery_id: int, send: Sender, policy: RetryPolicy,
            mode: RetryMode, *, now: Callable[[], datetime] | None = None
            ) -> DeliveryOutcome | None:
    """Send one row's stored payload to its channel if the row is due: claim, send, record.

    None when there is nothing to do or say (sent already, backing off, or given up in the
    scheduler's mode). ``now`` is the clock (tests move it)."""
    clock = now or _now
    moment = clock()
    with db.session() as session:
        found = session.execute(
            select(Delivery.id, Delivery.digest_id, Delivery.channel, Delivery.status,
                   Delivery.attempts, Delivery.updated_at).where(Delivery.id == delivery_id)
        ).first()
    if found is None:
        return None
    row = _Row(*found)
    if row.status == "sent":
        return None
    if row.status == "sending" and moment - row.updated_at < SEND_LEASE:
        return _busy(row)
    if row.status == "failed":
        if row.attempts >= policy.max_attempts and mode != "given-up":
            if mode == "backoff":
                return None
            return DeliveryOutcome(row.digest_id, row.channel, "given up", None,
                                   f"gave up after {row.attempts} attempts; "
                                   "--retry-given-up sends it again")
        if mode == "backoff" and moment < policy.due_at(row.updated_at, row.attempts):
            return None
    if not _claim(db, row, moment):
        return _busy(row)
    claimed = row.attempts + 1
    with db.session() as session:
        payload = session.scalar(select(DigestRecord.payload)
                                 .where(DigestRecord.id == row.digest_id))
    error = send(row.digest_id, payload if isinstance(payload, Mapping) else {}, row.channel)
    status = "failed" if error else "sent"
    finished = clock()
    with db.session() as session:
        recorded = session.execute(
            update(Delivery)
            .where(Delivery.id == row.id, Delivery.status == "sending",
                   Delivery.attempts == claimed)
            .values(status=status, last_error=error, updated_at=finished,
                    sent_at=None if error else finished)
        ).rowcount
    if recorded != 1:  # our lease ran out mid-send and another sender took the row
        log.warning("delivery of digest %d to %s: %s, but another sender had taken it over",
                    row.digest_id, row.channel, status)
    return DeliveryOutcome(row.digest_id, row.channel, status, error)


def _claim(db: Database, row: _Row, moment: datetime) -> bool:
    """The row is ours if it is still as we read it: committed before anything is sent."""
    with db.session() as session:
        claimed = session.execute(
            update(Delivery)
            .where(Delivery.id == row.id, Delivery.status == row.status,
                   Delivery.attempts == row.attempts)
            .values(status="sending", attempts=row.attempts + 1, updated_at=moment)
        ).rowcount
    return claimed == 1


def _busy(row: _Row) -> DeliveryOutcome:
    return DeliveryOutcome(row.digest_id, row.channel, "sending", None,
                           "another sender has it (a claim older than "
                           f"{int(SEND_LEASE.total_seconds() // 60)} minutes is taken over)")


def given_up(session: Session, policy: RetryPolicy, *, after: datetime | None = None,
             until: datetime | None = None) -> tuple[Undelivered, ...]:
    """Deliveries that have given up, oldest digest first; with ``after``/``until``, those
    that gave up (their last attempt) in that span: a digest reports the ones since the
    previous digest, so each is reported once."""
    query = (select(Delivery.digest_id, DigestRecord.created_at, Delivery.channel,
                    Delivery.attempts, Delivery.last_error)
             .join(DigestRecord, DigestRecord.id == Delivery.digest_id)
             .where(Delivery.status == "failed", Delivery.attempts >= policy.max_attempts))
    if after is not None:
        query = query.where(Delivery.updated_at > after)
    if until is not None:
        query = query.where(Delivery.updated_at <= until)
    rows = session.execute(query.order_by(Delivery.digest_id, Delivery.channel)).all()
    return tuple(Undelivered(digest_id, created, channel, attempts,
                             short_error(error or "no error recorded"))
                 for digest_id, created, channel, attempts, error in rows)


_URL = re.compile(r"https?://[^\s'\"<>]+", re.IGNORECASE)


def safe_error(error: str, channel: ChannelConfig, env: Mapping[str, str]) -> str:
    """The error as it may be stored and shown: the channel's secrets (every ``*_env``
    value, its URL's tokens) and any URL's query and token-like path segments masked. The
    channels mask their own already; this covers whatever else an exception said."""
    secrets: set[str] = set()
    for key, value in channel.options.items():
        if key.endswith("_env") and isinstance(value, str) and env.get(value):
            secrets.add(env[value])
            if key == "url_env":
                secrets |= url_secrets(env[value]) - {env[value]}
        elif key == "url" and isinstance(value, str):
            # the URL's tokens, not the URL: "HTTP 503 from <host and path>" must say where
            secrets |= url_secrets(value) - {value}
    secrets.discard("")
    return _URL.sub(lambda match: mask_url(match[0]), scrub(error, secrets))


def short_error(error: str) -> str:
    """One line of at most ERROR_CHARS characters."""
    line = " ".join(error.split())
    return line if len(line) <= ERROR_CHARS else line[:ERROR_CHARS - 1] + "…"


def _now() -> datetime:
    return datetime.now(UTC)
