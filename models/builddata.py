"""Build the shipped datasets ``models/data/train.jsonl`` and ``models/data/heldout.jsonl``.

Where the texts come from:

* ``models/data/handwritten.jsonl`` — texts written one by one by the team: offers in every
  style the market uses, and benign texts of many genres that share its vocabulary (news,
  warnings, victims, buyers, hospital notices, official guides, lawful background checks, lost
  phones, hotels, other spam, web page furniture). Edit this file by hand.
* ``models/data/writers/*.jsonl`` — texts by separate writers, each given only
  ``docs/labelling.md`` and a genre (``origin`` names the writer). Training only: the held-out
  split stays the team's, so its figures stay comparable from one model to the next.
* ``models/data/real.jsonl`` — real public text about the topic (reporting, bulletins,
  official guides, laws), each line with its ``source`` and ``url``. Half, chosen by hash
  within each genre, is held out as ``real_heldout.jsonl``; the rest is trained on.
* generated texts: offers from :mod:`models.compose_offers` (the market's parts poured into
  the genres' layouts, less common styles, and a share disguised with the sellers' evasion
  habits) and benign texts from :mod:`models.compose_benign` (frames that use the same words
  and parts without offering anything). Generation adds the many small variations that real
  channels repeat, so the model learns the shape of an offer — not one seller's handle, not
  "traditional script means offer", not "a price means offer".

The split: about 30% of the hand-written texts, stratified by genre and labels and chosen by a
hash of each text (so the choice is deterministic and does not depend on file order), form
the held-out file. It is never used for training or threshold choice; ``doxwatch evaluate``
reads it by default. ``train.jsonl`` is the rest of the hand-written texts plus the generated
ones; a training text whose normalised form equals a held-out or blind text's is dropped, so
those figures are not inflated by copies. The blind set itself is never read otherwise.

Run ``python -m models.builddata`` after editing the hand-written file, this module, the
composers or the evasion transforms; the output is deterministic (seeded) and
``tests/models/test_dataset.py`` fails when a committed file is stale.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from models.compose_benign import compose_benign
from models.compose_offers import compose_offer
from models.dataset import Example, load_dataset
from models.normalize import normalize

DATA = Path(__file__).resolve().parent / "data"
HANDWRITTEN = DATA / "handwritten.jsonl"
WRITERS = DATA / "writers"
REAL = DATA / "real.jsonl"
BLIND = DATA / "blind.jsonl"
TRAIN_OUTPUT = DATA / "train.jsonl"
HELDOUT_OUTPUT = DATA / "heldout.jsonl"
REAL_HELDOUT_OUTPUT = DATA / "real_heldout.jsonl"
SEED = 20240521
HELDOUT_SHARE = 0.3
REAL_HELDOUT_SHARE = 0.5
GENERATED_OFFERS = 1400
GENERATED_BENIGN = 1400
MAX_TRIES_PER_TEXT = 20  # a composer that keeps repeating itself is a bug, not bad luck

Compose = Callable[[random.Random], Example]


@dataclass(frozen=True)
class BuiltData:
    """The built files' contents, in file order."""

    train: list[Example]
    heldout: list[Example]
    real_heldout: list[Example]


# ---------------------------------------------------------------------------------------------
# The split of the hand-written texts


def split_handwritten(examples: list[Example],
                      share: float = HELDOUT_SHARE) -> tuple[list[Example], list[Example]]:
    """``(train, heldout)``: in every (genre, labels) stratum, the ``share`` of texts
    with the smallest hash are held out. Hashing the text, not its position, keeps a text on
    the same side when others are added elsewhere in the file.
    """
    strata: dict[tuple[str, tuple[str, ...]], list[Example]] = defaultdict(list)
    for example in examples:
        strata[(example.genre, example.labels)].append(example)
    held: set[str] = set()
    for members in strata.values():
        ranked = sorted(members, key=lambda example: _digest(example.text))
        held.update(example.text for example in ranked[: int(len(ranked) * share + 0.5)])
    train = [example for example in examples if example.text not in held]
    heldout = [example for example in examples if example.text in held]
    return train, heldout


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()



# ---------------------------------------------------------------------------------------------
# Assembly


def generate(rng: random.Random, compose: Compose, count: int, taken: set[str]) -> list[Example]:
    """*count* texts from *compose* whose normalised form is not in *taken* (which grows)."""
    made: list[Example] = []
    for _ in range(count * MAX_TRIES_PER_TEXT):
        if len(made) == count:
            return made
        example = compose(rng)
        key = normalize(example.text)
        if key not in taken:
            taken.add(key)
            made.append(example)
    if len(made) < count:
        raise RuntimeError(f"{compose.__name__} made only {len(made)} distinct texts of {count}")
    return made


def build() -> BuiltData:
    """The split hand-written and real texts, the writers' texts, then the generated ones."""
    rng = random.Random(SEED)
    train, heldout = split_handwritten(_with_origin(load_dataset(HANDWRITTEN), "handwritten:team"))
    real_train, real_heldout = split_handwritten(_optional(REAL), REAL_HELDOUT_SHARE)
    held = {normalize(example.text) for example in heldout + real_heldout + _optional(BLIND)}
    written = [example for path in sorted(WRITERS.glob("*.jsonl")) for example in _optional(path)]
    train = _distinct(train + real_train + written, held)
    taken = held | {normalize(example.text) for example in train}
    for compose, count in ((compose_offer, GENERATED_OFFERS), (compose_benign, GENERATED_BENIGN)):
        train += _with_origin(generate(rng, compose, count, taken), "generated")
    return BuiltData(train=train, heldout=heldout, real_heldout=real_heldout)


def _optional(path: Path) -> list[Example]:
    return load_dataset(path) if path.is_file() else []


def _with_origin(examples: list[Example], origin: str) -> list[Example]:
    return [example if example.origin else replace(example, origin=origin) for example in examples]


def _distinct(examples: list[Example], excluded: set[str]) -> list[Example]:
    """The examples whose normalised text is not excluded nor seen before, in order."""
    seen = set(excluded)
    kept = []
    for example in examples:
        key = normalize(example.text)
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept


def render(examples: list[Example]) -> str:
    """JSON lines, one example per line, as ``models.dataset`` reads them."""
    return "".join(json.dumps(_record(example), ensure_ascii=False) + "\n" for example in examples)


def _record(example: Example) -> dict[str, object]:
    record: dict[str, object] = {"text": example.text, "labels": list(example.labels),
                                 "genre": example.genre, "origin": example.origin}
    for field in ("source", "url"):
        if getattr(example, field):
            record[field] = getattr(example, field)
    return record


def main() -> int:
    built = build()
    outputs = ((TRAIN_OUTPUT, built.train), (HELDOUT_OUTPUT, built.heldout),
               (REAL_HELDOUT_OUTPUT, built.real_heldout))
    for path, examples in outputs:
        path.write_text(render(examples), encoding="utf-8")
        print(f"wrote {len(examples)} examples to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
