"""The text views the classifier learns from: word tokens, character n-grams and offer cues.

Every view reads the output of :func:`canonical_texts`, the pipeline's first step; words and
n-grams also replace every run of digits by ``#``: what matters in ``1200元`` or
``Q 123456789`` is that a number stands next to 元 or Q, not which number, and the collapse
lets one feature cover every price and every handle.

Topic words alone cannot tell an ad from the news: a report on a leak and the leak's sales post
both say 医保记录 and 开房. What separates them is how the text speaks, so :func:`cue_tokens`
adds a few readable indicator tokens — ``<contact>``, ``<price>``, ``<turnaround>``,
``<offer>`` (可查, 出单, 接单, 私聊, 担保 ...) against ``<discussion>`` (记者, 警方, 警惕,
被判, 提醒 ...) and ``<question>`` — and, in a text that sells without discussing, the
crossings ``<offer:medical>`` etc. of offer language with a category's service words, which a
linear model cannot form by itself.

These are module-level functions (not lambdas) so that skops can save and load a pipeline
using them; ``models.store`` lists them as trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from models import CATEGORIES
from models.baseline import CATEGORY_TERMS
from models.extract import extract_entities, names_a_price
from models.lexicon import canonicalize
from models.tokenize import normalized_tokens

# Longest text the classifier reads. Scraped posts are hostile and may be huge; the first
# 20,000 characters are plenty to judge an ad, and the cap bounds the cost of one post.
MAX_TEXT_CHARS = 20_000

_DIGITS = re.compile(r"\d+")

# Entity kinds (models.extract) that only a seller puts in a post, and the cue each gives.
_ENTITY_CUES = {
    "qq": "<contact>",
    "wechat": "<contact>",
    "telegram": "<contact>",
    "phone": "<contact>",
    "email": "<contact>",
    "turnaround": "<turnaround>",
}

# Offer language: availability, delivery, orders, payment terms, moving the buyer to a private
# channel. Matched on normalised text, so written in lower case and half width.
_OFFER = re.compile(
    "|".join(
        (
            r"可(?:查|出|做|接|代)", r"(?:都|均|随便|全国|专业|包)能?查", r"精准出", r"出单",
            r"秒出", r"出料", r"接单", r"报单", r"下单", r"私聊", r"私信", r"详聊", r"担保",
            r"先查后付", r"定金", r"尾款", r"懂的来", r"量大从优", r"长期(?:收|出|供)", r"包过",
            r"秒过", r"代过", r"不满意不收费", r"加(?:v|微信|qq|我)",
        )
    )
)
# Discussion language: reporting, policing and courts, warnings, experts and victims.
_DISCUSSION = re.compile(
    "|".join(
        (
            r"记者", r"报道", r"据悉", r"据了解", r"调查发现", r"发布", r"帖子", r"账号",
            r"表示", r"警方", r"民警", r"公安", r"派出所", r"检察", r"法院", r"被判", r"判处",
            r"判决", r"有期徒刑", r"罚金", r"犯罪", r"嫌疑人", r"抓获", r"落网", r"涉案",
            r"案件", r"侦破", r"警惕", r"提醒", r"警示", r"谨防", r"切勿", r"不要", r"请勿",
            r"违法", r"专家", r"律师", r"举报", r"报警", r"我被", r"被人", r"受害", r"怎么办",
            r"求助", r"泄露", r"维权", r"办法", r"规定", r"条例",
        )
    )
)
_QUESTION = re.compile(r"[?？]|吗|怎么|如何|哪里|有没有|谁知道|请问")
_SERVICES = {
    category: re.compile("|".join(map(re.escape, CATEGORY_TERMS[category])))
    for category in CATEGORIES
}


def canonical_texts(texts: Iterable[str]) -> list[str]:
    """The pipeline's first step: every text capped in length, normalised and its aliases
    rewritten to their canonical forms (cx → 查询, 薇 → 微信), so an obfuscated ad and a plain
    one share features. Done once here; the feature views below all read its output.
    """
    return [canonicalize(text[:MAX_TEXT_CHARS]) for text in texts]


def collapse_digits(text: str) -> str:
    """Replace every run of digits by ``#`` (preprocessor of the character n-grams)."""
    return _DIGITS.sub("#", text)


def word_analyzer(text: str) -> list[str]:
    """Word features: jieba tokens of a canonical text, digit runs collapsed."""
    return normalized_tokens(collapse_digits(text))


def cue_tokens(text: str) -> list[str]:
    """Offer and discussion cue tokens of a canonical text, each at most once."""
    cues = {_ENTITY_CUES[e.kind] for e in extract_entities(text) if e.kind in _ENTITY_CUES}
    if names_a_price(text):
        cues.add("<price>")
    for cue, pattern in (("<offer>", _OFFER), ("<discussion>", _DISCUSSION),
                         ("<question>", _QUESTION)):
        if pattern.search(text):
            cues.add(cue)
    # A contact and a price alone are any commerce (a job ad gives an e-mail and a salary);
    # delivery and availability language is this market's.
    selling = bool(cues & {"<turnaround>", "<offer>"})
    if selling and "<discussion>" not in cues:
        for category, pattern in _SERVICES.items():
            if pattern.search(text):
                cues.add(f"<offer:{category}>")
    return sorted(cues)
