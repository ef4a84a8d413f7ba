"""The JSON digest for SIEM/SOAR tools: versioned, described by a JSON Schema (draft 2020-12)
in the repository, and every digest doxwatch writes validates against it."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts.digest import SCHEMA_VERSION, Digest, Undelivered
from alerts.render import render_json, render_text
from tests.alerts.samples import (
    empty_digest,
    hostile_digest,
    hostile_rich_digest,
    rich_digest,
    sample_digest,
)

jsonschema = pytest.importorskip("jsonschema")
SHANGHAI = ZoneInfo("Asia/Shanghai")

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "alerts" / "schema" / "digest.schema.json"
DIGESTS = {
    "rich": rich_digest,
    "sample": sample_digest,
    "empty": empty_digest,
    "hostile": hostile_digest,
    "hostile_rich": hostile_rich_digest,
    "unstored": lambda: sample_digest(None),
    "undelivered": lambda: undelivered_digest(),
}


def undelivered_digest() -> Digest:
    """The rich digest reporting that a channel gave up on an earlier one."""
    return replace(rich_digest(), undelivered=(Undelivered(
        3, datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI), "hook", 8,
        "HTTP 503 from http://127.0.0.1:9/hook"),))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_the_schema_is_draft_2020_12_and_describes_this_version() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION,
                                                       "description": "This document's version."}


@pytest.mark.parametrize("name", DIGESTS)
def test_every_digest_validates(validator, name: str) -> None:
    document = json.loads(render_json(DIGESTS[name]()))

    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_webhook_body_validates(validator) -> None:
    body = {**rich_digest().to_dict(), "text": render_text(rich_digest())}

    validator.validate(body)


def test_every_field_written_is_declared(validator) -> None:
    """additionalProperties is false everywhere: a field added to to_dict without the schema
    fails here, so the documented shape cannot drift from the real one."""
    document = rich_digest().to_dict()
    document["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError, match="surprise"):
        validator.validate(document)
    document = rich_digest().to_dict()
    document["entries"][0]["cluster"]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError, match="surprise"):
        validator.validate(document)


@pytest.mark.parametrize(("damage", "where"), [
    (lambda d: d.pop("schema_version"), "schema_version"),
    (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "schema_version"),
    (lambda d: d.update(schema_version=1), "schema_version"),  # v1 had no undelivered
    (lambda d: d.pop("undelivered"), "undelivered"),
    (lambda d: d["undelivered"][0].pop("error"), "error"),
    (lambda d: d["undelivered"][0].update(digest_created_at="monday"), "monday"),
    (lambda d: d["totals"].pop("medical"), "medical"),
    (lambda d: d.update(created_at="yesterday"), "yesterday"),
    (lambda d: d.update(created_at="2026-11-23 09:00"), "2026-11-23 09:00"),
    (lambda d: d["entries"][0].update(category="gambling"), "gambling"),
    (lambda d: d["entries"][1]["cluster"].update(known="yes"), "yes"),
    (lambda d: d["sellers"][0]["handles"][0].update(kind="price"), "price"),
    (lambda d: d["sellers"][0].update(handles=[]), "handles"),
])
def test_the_schema_refuses_what_doxwatch_would_not_write(validator, damage, where) -> None:
    document = copy.deepcopy(undelivered_digest().to_dict())
    damage(document)

    with pytest.raises(jsonschema.ValidationError) as raised:
        validator.validate(document)
    assert where in str(raised.value)


def test_a_stored_digest_of_the_old_shape_loads_with_defaults_and_validates_once_rewritten(
    validator,
) -> None:
    """The outbox may retry a digest stored before this version: it must still load."""
    old = {key: value for key, value in sample_digest().to_dict().items()
           if key in ("id", "created_at", "since", "count", "counts", "entries", "broken_sources")}
    for entry in old["entries"]:
        entry.pop("cluster")

    digest = Digest.from_dict(old)

    assert digest == sample_digest()
    assert digest.totals == {"medical": 1, "doxxing": 1, "biometric": 1}
    assert digest.previous_totals is None and digest.sellers == () and digest.hidden == 0
    validator.validate(digest.to_dict())


def test_a_stored_version_1_digest_loads_without_undelivered_and_keeps_its_key(validator) -> None:
    """Payloads stored before version 2 are retried: they load, say nothing undelivered, and
    keep the key their first attempt was sent with."""
    old = {**sample_digest().to_dict(), "schema_version": 1, "uid": "ab" * 16}
    del old["undelivered"]

    digest = Digest.from_dict(old)

    assert digest.undelivered == () and digest.key == f"42-{'ab' * 16}"
    assert Digest.from_dict(undelivered_digest().to_dict()) == undelivered_digest()
    validator.validate(digest.to_dict())
