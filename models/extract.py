"""Entities in a post: the seller's contacts, prices, turnaround and services; and masking of
the victims' data a post may leak.

Sellers' handles are indicators an analyst acts on, so they are kept as written. Victims' ID
and bank card numbers (samples in an ad, leaked lists) are masked before a post is stored or
sent; a number is masked only when its checksum is valid, so order numbers and phone numbers
stay readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.lexicon import find_services, load_lexicon
from models.normalize import normalize

KINDS = ("qq", "wechat", "telegram", "phone", "email", "price", "turnaround", "service")


@dataclass(frozen=True)
class Entity:
    kind: str
    value: str


_SEPARATOR = r"[\s:：=＝\-_~.,，|/❤♥💬👉]*"
# A QQ number may be written digit by digit ("Q:1 2 3 4 5 6") to dodge number filters.
_QQ = re.compile(
    rf"(?:qq号码|qq号|qq|扣扣|企鹅|扣|q){_SEPARATOR}([1-9]\d{{4,11}}|[1-9](?: \d){{4,11}})(?!\d)"
)
_WECHAT = re.compile(
    rf"(?:微信号|微信|薇信|薇锌|威信|加薇|vx|wx|weixin|v我|薇|v){_SEPARATOR}"
    r"([a-z][-_a-z0-9]{5,19}|1[3-9]\d{9})(?![-_a-z0-9])"
)
_TELEGRAM_LINK = re.compile(r"(?:https?://)?(?:t\.me|telegram\.me)/([a-z0-9_]{4,32})")
_TELEGRAM_HANDLE = re.compile(r"(?<![\w.])@([a-z][a-z0-9_]{3,31})(?![\w@])")
_TELEGRAM_NAMED = re.compile(
    rf"(?:纸飞机|飞机|电报|telegram|tg){_SEPARATOR}@?([a-z][a-z0-9_]{{3,31}})(?![\w@])"
)
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_PRICE = re.compile(r"(?:[¥￥]\s*(\d+(?:\.\d+)?))|(\d+(?:\.\d+)?)\s*(usdt|元|块|rmb|u|w)(?![a-z])")
_DURATION = r"\d+(?:\s*[-~至到]\s*\d+)?\s*(?:个)?(?:天|小时|分钟|工作日)"
# A turnaround is a delivery word, a duration with a delivery word, a range of durations
# (1-2天) or a deadline (24小时内); a bare "3天" is left alone, news is full of those.
_TURNAROUND = re.compile(
    r"秒出|当天出单|当天出|当日出|隔天出|"
    rf"(?:出单时间|出单|时效)[:：\s]*(?:为)?{_DURATION}(?:内)?|"
    rf"{_DURATION}(?:内)?(?:出单|出结果|出)|"
    r"\d+\s*[-~至到]\s*\d+\s*(?:个)?(?:天|小时|分钟|工作日)(?:内)?|"
    r"\d+\s*(?:个)?(?:小时|分钟|工作日)内"
)
_PRICE_UNITS = {"usdt": "USDT", "u": "USDT", "元": "元", "块": "元", "rmb": "元", "w": "万元"}


def extract_entities(text: str) -> list[Entity]:
    """Every entity in *text*, grouped by kind (in KINDS order), without duplicates."""
    normal = normalize(text)
    found: list[Entity] = []
    found += [Entity("qq", match.group(1).replace(" ", "")) for match in _QQ.finditer(normal)]
    found += [Entity("wechat", match.group(1)) for match in _WECHAT.finditer(normal)]
    for pattern in (_TELEGRAM_LINK, _TELEGRAM_HANDLE, _TELEGRAM_NAMED):
        found += [Entity("telegram", "@" + match.group(1)) for match in pattern.finditer(normal)]
    found += [
        Entity("phone", "".join(match.groups()))
        for match in _PHONE.finditer(normal)
        if _is_sellers_contact(normal, match.start())
    ]
    found += [Entity("email", match.group(0)) for match in _EMAIL.finditer(normal)]
    found += [_price(match) for match in _PRICE.finditer(normal)]
    found += [Entity("turnaround", match.group(0)) for match in _TURNAROUND.finditer(normal)]
    found += [Entity("service", term) for term in find_services(normal)]
    return list(dict.fromkeys(_without_email_parts(found)))


HANDLE = "<handle>"
_URL = re.compile(r"https?://\S+")


def mask_handles(text: str) -> str:
    """*text* (normalised) with every contact identifier — Telegram handle or link, QQ or
    WeChat id, e-mail address, URL — replaced by ``<handle>``, the word before it kept.

    For the classifier's word and character views: a seller's name is evidence of that one
    seller, and learning it teaches the model the writers' handles instead of the shape of
    an offer. The digest's entities come from the text as written, not from this.
    """
    for pattern in (_URL, _EMAIL, _TELEGRAM_LINK):
        text = pattern.sub(HANDLE, text)
    for pattern in (_TELEGRAM_NAMED, _TELEGRAM_HANDLE, _QQ, _WECHAT):
        text = pattern.sub(_keep_prefix, text)
    return text


def _keep_prefix(match: re.Match[str]) -> str:
    start = match.start(1) - match.start(0)
    end = match.end(1) - match.start(0)
    return match.group(0)[:start] + HANDLE + match.group(0)[end:]


def _price(match: re.Match[str]) -> Entity:
    if match.group(1) is not None:
        return Entity("price", f"{match.group(1)} 元")
    return Entity("price", f"{match.group(2)} {_PRICE_UNITS[match.group(3)]}")


def _without_email_parts(found: list[Entity]) -> list[Entity]:
    """Drop telegram handles that are only the tail of an e-mail address found too."""
    emails = [entity.value for entity in found if entity.kind == "email"]
    return [
        entity
        for entity in found
        if entity.kind != "telegram" or not any(entity.value in email for email in emails)
    ]


# --- masking victims' data ---------------------------------------------------------------

_ID_NUMBER = re.compile(r"(?<![0-9a-zA-Z])(\d{17}[\dXx])(?![0-9a-zA-Z])")
_CARD_NUMBER = re.compile(r"(?<![\d*])\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?![\d*])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def mask_personal_data(text: str) -> str:
    """Mask checksum-valid 18-digit ID numbers (``110101********1234``), Luhn-valid 16–19
    digit bank card numbers (``6222********1234``) and mainland mobile numbers that are not
    the seller's contact (``138****1234``); everything else is left as written.

    A mobile number right after a contact cue (电话, 手机, 联系, V, 薇, 微信, TG, ✈️ ...) is
    the seller's and stays readable: it is the indicator an analyst acts on. Any other one
    in a post is taken to be a victim's, as in a leaked sample.
    """
    text = _ID_NUMBER.sub(_mask_id, text)
    text = _CARD_NUMBER.sub(_mask_card, text)
    return _PHONE.sub(lambda match: _mask_phone(text, match), text)


def valid_id_number(number: str) -> bool:
    """The GB 11643 checksum of an 18-character mainland ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by bank card numbers."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _mask_id(match: re.Match[str]) -> str:
    number = match.group(1)
    return number[:6] + "*" * 8 + number[-4:] if valid_id_number(number) else number


def _mask_phone(text: str, match: re.Match[str]) -> str:
    if _is_sellers_contact(text, match.start()):
        return match.group(0)
    return match.group(1) + "****" + match.group(3)


def _is_sellers_contact(text: str, start: int) -> bool:
    """Whether the phone number at *start* follows a contact cue. The few characters before
    it are normalised first, so ＴＥＬ, 薇❤ and ✈️ count as cues too."""
    before = normalize(text[max(0, start - _CUE_WINDOW) : start])
    return _CONTACT_CUE.search(before) is not None


def _contact_cue() -> re.Pattern[str]:
    words = set(_CUE_WORDS)
    for term in load_lexicon():
        if term.section == "contact":
            words |= {term.term, term.canonical} - {""}
    alternatives = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
    return re.compile(rf"(?:{alternatives}){_SEPARATOR}$")


# Words before a phone number that make it the seller's, besides the lexicon's contact
# words; and how many characters before a number are searched for one.
_CUE_WORDS = (
    "电话",
    "手机",
    "手机号",
    "联系",
    "热线",
    "客服",
    "咨询",
    "备用",
    "tel",
    "phone",
    "call",
)
_CUE_WINDOW = 16
_CONTACT_CUE = _contact_cue()


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if 16 <= len(digits) <= 19 and luhn_valid(digits):
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
    return match.group(0)
