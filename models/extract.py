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
from decimal import Decimal

from models.lexicon import find_services, load_lexicon, service_matcher
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
# A price as this market writes it: an amount, perhaps with a magnitude (2k, 1.5w), a currency
# (元, 块, ¥, r, 米 = 元 in slang, u/usdt) and what it is for (200/条, 50一条, 一条50, 500包月).
# The pattern finds candidates; _is_price decides, because most numbers in a post are not
# prices: QQ and phone numbers, dates, counts of records (10万条数据), turnarounds (1-2天).
_PER = r"条|位|次|单|份|个|套|户|人"
_PERIOD = r"月|年|周|天"
_WORD_END = r"\s|$|[,.;!?。、)\]】]"
_PRICE = re.compile(
    rf"(?<![\d.])(?<!第)(?:[一每](?P<per_before>{_PER})\s*|包(?P<period_before>{_PERIOD})\s*)?"
    r"(?P<yen>[¥￥]\s*)?(?P<amount>\d+(?:\.\d+)?)"
    r"(?:\s*(?P<magnitude>[kw])(?![a-z]))?"
    r"(?:\s*(?P<currency>usdt|rmb|元|块钱|块|米|(?:u|r)(?![a-z])))?"
    # A unit is not the next amount's (一条50一条80, 一位80 包月1500). Normalisation drops
    # the "/" and spaces between Chinese characters, so "元/次 全户" arrives as 元次全户: a
    # unit joined to a currency is one that starts no common word, or ends a word (80元户籍,
    # 300元人民币, 200元套餐 and 100元单头 are not priced per 户, 人, 套 or 单).
    rf"(?:\s*[/一每]\s*(?P<per>{_PER})(?!\d)"
    rf"|(?<=[元块米])(?P<per_joined>次|条|位|份|(?:{_PER})(?={_WORD_END}))"
    rf"|\s*包(?P<period>{_PERIOD})(?!\d))?"
)
# Currencies that make a number a price wherever it stands; 米 is also a metre (500米内).
_STRONG_CURRENCIES = frozenset({"usdt", "rmb", "元", "块钱", "块", "u", "r"})
# What follows a number that is a count, a date, a time, a handle or a range, not a price.
_NOT_A_PRICE_AFTER = re.compile(
    r"[\da-z%+\-~:/@_]|\s*(?:万|千|百|亿|多|余|条|人|个|位|名|家|户|份|张|套|次|单|年|月|日|号"
    r"|天|小时|分|秒|岁|口|积分|粉|倍|内|以内|范围|左右|之内|外|公里|楼|期|级)"
)
# What stands right before a number that is part of a handle, a phone number, a date or a range.
_NOT_A_PRICE_BEFORE = re.compile(r"[\da-z@_#/\-~]$")
# What may stand before a number written without a currency: a price word, or a service
# (户籍 80) with at most a colon between them.
_PRICE_WORD = re.compile(
    r"(?:价格|价位|价钱|售价|报价|单价|定价|收费|费用|只要|只需|仅需|仅要|统一价|一口价|打包价"
    r"|一律|各)\s*[:=]?\s*$"
)
_NEXT_TO_SERVICE = re.compile(r"\s*[:=]?\s*")
_BREAK = re.compile(_WORD_END)
# A number without a currency longer than this is a handle, a phone or an order number.
_MAX_BARE_DIGITS = 5
_MAGNITUDES = {"k": Decimal(1000), "w": Decimal(10000)}
# Clauses: a price is tied to a service named in the same one (normalisation keeps these).
_CLAUSE = re.compile(r"[,;!?。、]")
SERVICE_OF_PRICE = " · "
"""Between a price and the service it is for in a price entity's value: ``80 元 · 户籍``."""
# The prices the classifier's <price> cue was trained on: an amount with a currency written
# next to it. Kept apart from the extractor's wider reading above, so that reading more
# prices for analysts does not silently change the model; widening the cue is a model change,
# to be measured with `doxwatch evaluate`.
_CUE_PRICE = re.compile(r"[¥￥]\s*\d|\d\s*(?:usdt|元|块|rmb|u|w)(?![a-z])")
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
    found += [price for line in text.splitlines() for price in _prices(normalize(line))]
    found += [Entity("turnaround", match.group(0)) for match in _TURNAROUND.finditer(normal)]
    found += [Entity("service", term) for term in find_services(normal)]
    return list(dict.fromkeys(_without_email_parts(found)))


def names_a_price(normal: str) -> bool:
    """Whether the normalised text writes an amount with its currency (1200元, ¥88, 300u):
    the classifier's <price> cue (``models.features``), see ``_CUE_PRICE`` for why it is not
    simply "a price entity was found"."""
    return _CUE_PRICE.search(normal) is not None


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


def _prices(normal: str) -> list[Entity]:
    """The prices in one normalised line, each with the service it is for when the line says.

    The value is the amount in 元 or USDT, what it buys when written (``/条``, ``/月``) and the
    service after ``SERVICE_OF_PRICE``: ``200 元/条 · 户籍``. It is a string because it is
    stored and shown as one (the entities table and the digest hold kind and value).

    A price is for the nearest service before it in its clause, back to the previous price
    ("户籍 80 开房 200"); a price with none there, the first one after it, up to the next
    price ("80元户籍 200元开房"), and that service is then not reused by the next price.
    """
    found: list[Entity] = []
    for clause in _CLAUSE.split(normal):
        services = _service_spans(clause)
        candidates = [match for match in _PRICE.finditer(clause) if _is_price(clause, match,
                                                                             services)]
        claimed: set[tuple[int, int, str]] = set()
        for index, match in enumerate(candidates):
            low = candidates[index - 1].end() if index else 0
            high = candidates[index + 1].start() if index + 1 < len(candidates) else len(clause)
            before = [span for span in services
                      if low <= span[0] and span[1] <= match.start() and span not in claimed]
            after = [span for span in services if match.end() <= span[0] and span[1] <= high]
            service = before[-1] if before else after[0] if after else None
            if service is not None and not before:
                claimed.add(service)
            found.append(Entity("price", _price_value(match, service)))
    return found


def _service_spans(clause: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical service) of every service the clause names, in order."""
    pattern, canonical_of = service_matcher()
    return [(match.start(), match.end(), canonical_of[match.group(0)])
            for match in pattern.finditer(clause)]


def _is_price(clause: str, match: re.Match[str], services: list[tuple[int, int, str]]) -> bool:
    """Whether a candidate is a price: a currency says so at once; a number without one needs
    the shape of a price (what it buys, a magnitude standing alone) or a price word or a
    service right before it, and nothing after it that makes it a count, a date or a time."""
    if match["yen"] or match["currency"] in _STRONG_CURRENCIES:
        return True
    per_unit = match["per"] or match["per_joined"] or match["period"]
    if not per_unit and _NOT_A_PRICE_AFTER.match(clause, match.end()):
        return False
    digits = len(match["amount"].split(".")[0])
    if digits > _MAX_BARE_DIGITS or _NOT_A_PRICE_BEFORE.search(clause, 0, match.start()):
        return False
    # A single digit after a service is the next item's number in a menu: 1 户籍 2 机主 3 开房.
    after_service = digits > 1 and any(
        _NEXT_TO_SERVICE.fullmatch(clause, end, match.start())
        for _, end, _ in services if end <= match.start())
    return bool(
        per_unit or match["per_before"] or match["period_before"] or after_service
        or _PRICE_WORD.search(clause, 0, match.start())
        or (match["magnitude"] and _BREAK.match(clause, match.end()))
    )


def _price_value(match: re.Match[str], service: tuple[int, int, str] | None) -> str:
    amount = match["amount"]
    if match["magnitude"]:
        amount = format((Decimal(amount) * _MAGNITUDES[match["magnitude"]]).normalize(), "f")
    currency = "USDT" if match["currency"] in ("usdt", "u") else "元"
    per = next((unit for unit in (match["per"], match["per_joined"], match["period"],
                                  match["per_before"], match["period_before"]) if unit), None)
    value = f"{amount} {currency}" + (f"/{per}" if per else "")
    return value + (SERVICE_OF_PRICE + service[2] if service else "")


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
