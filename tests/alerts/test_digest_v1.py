"""The Digest value's additions (schema version 1): period totals, reposts, sellers, the cap;
and that digests stored before them, and channels built on the old attributes, still work."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from alerts.digest import SCHEMA_VERSION, Cluster, Digest
from tests.alerts.samples import CREATED, REST, empty_digest, make_entry, rich_digest, sample_digest


def _stored(digest: Digest) -> dict:
    return json.loads(json.dumps(digest.to_dict(), ensure_ascii=False))


def test_a_rich_digest_round_trips() -> None:
    assert Digest.from_dict(_stored(rich_digest())) == rich_digest()


def test_the_old_attributes_keep_their_meaning() -> None:
    digest = rich_digest()

    assert digest.count == len(digest.entries) == 3  # entries shown, as before
    assert [e.post_id for e in digest.by_category()["doxxing"]] == [1]
    assert digest.key == "42"
    data = digest.to_dict()
    assert data["count"] == 3 and data["counts"] == {"medical": 1, "doxxing": 1, "biometric": 1}


def test_period_figures_describe_every_post_not_only_those_shown() -> None:
    digest = rich_digest()

    assert digest.total_posts == 12 and digest.cluster_count == 7
    assert digest.hidden == 4 and digest.rest_command == REST
    assert digest.change == {"medical": -2, "doxxing": 3, "biometric": 0}
    data = _stored(digest)
    assert (data["schema_version"], data["total_posts"], data["hidden"]) == (SCHEMA_VERSION, 12, 4)
    assert data["change"] == {"medical": -2, "doxxing": 3, "biometric": 0}


def test_without_period_figures_they_follow_from_the_entries() -> None:
    repost = make_entry(1, cluster=Cluster(id=1, posts=4, known=True, earlier_posts=2))
    digest = Digest(1, CREATED, (repost, make_entry(2, "medical")))

    assert digest.totals == {"medical": 1, "doxxing": 4, "biometric": 0}
    assert digest.total_posts == 5 and digest.cluster_count == 2 and digest.known_clusters == 1
    assert digest.hidden == 0 and digest.change is None and digest.seller_count == 0


def test_trimming_the_entries_keeps_the_period_figures() -> None:
    """A channel that shows fewer entries (a chat card) still reports the whole period."""
    digest = rich_digest()

    trimmed = replace(digest, entries=digest.entries[:1])

    assert trimmed.total_posts == 12 and trimmed.cluster_count == 7 and trimmed.hidden == 6


def test_an_empty_digest_has_zero_totals_for_every_category() -> None:
    assert empty_digest().totals == {"medical": 0, "doxxing": 0, "biometric": 0}
    assert empty_digest().total_posts == 0


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "newer than this doxwatch reads"),
    (lambda d: d.update(totals={"gambling": 3}), "unknown category 'gambling'"),
    (lambda d: d.update(totals={"medical": -1}), "not a count"),
    (lambda d: d["entries"][1].update(cluster="big"), "cluster' is not an object"),
    (lambda d: d["entries"][1]["cluster"].pop("posts"), "digest entry 1: cluster: field 'posts'"),
    (lambda d: d["sellers"][0]["handles"][0].pop("value"), "digest seller 0: field 'value'"),
    (lambda d: d["sellers"].append("qq"), "digest seller 2: a seller is a JSON object"),
    (lambda d: d.update(rest_command=7), "'rest_command' is missing or not str"),
])
def test_from_dict_names_what_is_damaged_in_the_new_fields(damage, message) -> None:
    data = _stored(rich_digest())
    damage(data)

    with pytest.raises(ValueError, match=message):
        Digest.from_dict(data)


def test_an_entry_without_a_cluster_stands_for_one_post() -> None:
    entry = sample_digest().entries[0]

    assert entry.cluster is None and entry.posts == 1 and not entry.known
    assert _stored(sample_digest())["entries"][0]["cluster"] is None
