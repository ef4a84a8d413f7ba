"""The Digest value: grouping, counts, stable keys and its JSON form."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from alerts.digest import Digest
from models import CATEGORIES
from tests.alerts.samples import CREATED, SINCE, empty_digest, make_entry, sample_digest


def test_by_category_follows_categories_order_and_keeps_entry_order() -> None:
    second_doxxing = make_entry(9)
    digest = replace(sample_digest(), entries=(*sample_digest().entries, second_doxxing))

    groups = digest.by_category()

    assert list(groups) == list(CATEGORIES)
    assert [entry.post_id for entry in groups["doxxing"]] == [1, 9]
    assert [entry.post_id for entry in groups["medical"]] == [2]


def test_by_category_leaves_out_empty_groups() -> None:
    digest = Digest(1, CREATED, (make_entry(1, "biometric"), make_entry(2, "medical")))

    assert list(digest.by_category()) == ["medical", "biometric"]
    assert empty_digest().by_category() == {}


def test_count() -> None:
    assert sample_digest().count == 3
    assert empty_digest().count == 0


def test_an_unknown_category_is_refused_rather_than_dropped_from_the_groups() -> None:
    with pytest.raises(ValueError, match="gambling"):
        make_entry(1, "gambling")


def test_key_is_the_id_or_else_the_utc_creation_time() -> None:
    assert sample_digest(42).key == "42"
    assert sample_digest(None).key == "20261123T010000"  # 09:00 in Shanghai is 01:00 UTC
    naive = Digest(None, datetime(2026, 1, 2, 3, 4, 5), ())
    assert naive.key == "20260102T030405"


def test_to_dict_is_json_safe_and_round_trips_times() -> None:
    data = json.loads(json.dumps(sample_digest().to_dict(), ensure_ascii=False))

    assert data["id"] == 42
    assert datetime.fromisoformat(data["created_at"]) == CREATED
    assert datetime.fromisoformat(data["since"]) == SINCE
    assert data["count"] == 3
    assert data["counts"] == {"medical": 1, "doxxing": 1, "biometric": 1}
    first = data["entries"][0]
    assert first["category"] == "biometric"
    assert first["entities"] == [{"kind": "wechat", "value": "face_pass"}]
    assert data["entries"][1]["labels"] == ["medical", "doxxing"]
    assert datetime.fromisoformat(first["posted_at"]).astimezone(UTC).hour == 13


def test_to_dict_keeps_missing_values_as_null() -> None:
    digest = Digest(None, CREATED, (make_entry(1, title=None, posted_at=None),))

    data = digest.to_dict()

    assert data["id"] is None and data["since"] is None
    assert data["entries"][0]["title"] is None and data["entries"][0]["posted_at"] is None


def test_from_dict_reads_back_what_to_dict_wrote() -> None:
    for digest in (sample_digest(), sample_digest(None), empty_digest(),
                   Digest(None, CREATED, (make_entry(1, title=None, posted_at=None),))):
        stored = json.loads(json.dumps(digest.to_dict(), ensure_ascii=False))
        assert Digest.from_dict(stored) == digest


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d.pop("created_at"), "'created_at' is missing"),
    (lambda d: d.update(created_at="yesterday"), "'created_at' is not an ISO 8601 time"),
    (lambda d: d.update(entries="none"), "'entries' is missing or not list"),
    (lambda d: d["entries"][1].pop("source"), "digest entry 1: field 'source'"),
    (lambda d: d["entries"][0].update(category="gambling"), "gambling"),
    (lambda d: d["entries"][0]["entities"].append("qq"), "digest entry 0: field 'kind'"),
    (lambda d: d.update(id=True), "'id' is missing or not int"),
])
def test_from_dict_names_what_is_damaged(damage, message) -> None:
    data = json.loads(json.dumps(sample_digest().to_dict(), ensure_ascii=False))
    damage(data)
    with pytest.raises(ValueError, match=message):
        Digest.from_dict(data)


def test_from_dict_refuses_what_is_not_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        Digest.from_dict([])  # type: ignore[arg-type]
