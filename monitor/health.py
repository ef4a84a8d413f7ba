"""Whether each source still works, from its recent crawl runs: what `doxwatch status`
shows and the digest warns about.

A source is broken when its last crawl had errors (a page failed, the spider could not
start, the crawl process died), or when its last ``broken_after`` crawls all brought no
posts and found no thread unchanged (an incremental crawl of a quiet board still sees its
threads on the list): a site that answers but whose layout changed, so the selectors find
nothing, looks exactly like that, and an operator must hear of it rather than trust a
quiet digest.

An ``interrupted`` crawl (stopped by SIGTERM or Ctrl-C) says nothing about the site: it
is shown as the last crawl but judged by neither rule, which look only at the crawls
that finished; so a stopped crawl neither breaks a source nor hides that it was broken.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.db.schema import CrawlRun, Source


@dataclass(frozen=True)
class SourceHealth:
    """The last crawl of a source, and why it is broken (None: it is not)."""

    name: str
    last_run: CrawlRun | None
    broken: str | None


def source_health(session: Session, name: str, broken_after: int) -> SourceHealth:
    source_id = session.scalar(select(Source.id).where(Source.name == name))
    if source_id is None:
        return SourceHealth(name, None, None)

    def latest(*statuses: str, limit: int) -> list[CrawlRun]:
        return list(session.scalars(
            select(CrawlRun).where(CrawlRun.source_id == source_id,
                                   CrawlRun.status.not_in(statuses))
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)))

    last = latest("running", limit=1)
    finished = latest("running", "interrupted", limit=broken_after)
    return SourceHealth(name, last[0] if last else None, _broken(finished, broken_after))


def _broken(runs: list[CrawlRun], broken_after: int) -> str | None:
    if not runs:
        return None
    last = runs[0]
    if last.errors or last.status == "failed":
        first = (last.error or "").split("; ")[0]
        return f"{last.errors or 1} errors in the last crawl" + (f": {first}" if first else "")
    if len(runs) >= broken_after and not any(run.items or run.unchanged for run in runs):
        return f"no posts in the last {broken_after} crawls"
    return None
