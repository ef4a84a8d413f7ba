"""Build the shipped datasets ``models/data/train.jsonl`` and ``models/data/heldout.jsonl``.

Where the texts come from:

* ``models/data/handwritten.jsonl`` — texts written one by one: offers in every style the
  market uses, and benign texts of many genres that share its vocabulary (news, warnings,
  victims, buyers, hospital notices, official guides, lawful background checks, lost phones,
  hotels, other spam, web page furniture). Edit this file by hand.
* generated texts, made here. An offer is assembled from the market's parts — services,
  a price in 元/U/USDT, a turnaround, escrow terms, a contact written with its aliases — poured
  into one of the genres' layouts (Telegram post, forum title, forum title + body, Tieba reply,
  group-chat spam line, paste price list, bot menu) or written in a less common style (vague
  hints with a price or contact, insiders selling medical records to clinics and insurers,
  English or pinyin) and, for a share of them, disguised with
  the sellers' evasion habits from :mod:`models.evasion`. Benign texts are generated from
  frames that use the same words and parts without offering anything: reporters quoting an
  ad and its price, police naming the services, victims, hospital notices, innocent
  lookups, bookings and guides, job ads, ads for other goods with the same contacts and prices, and
  traditional-script reposts of news. Generation adds the many small variations that real
  channels repeat, so the model learns the shape of an offer — not one seller's handle, not
  "traditional script means offer", not "a price means offer".

The split: about 30% of the hand-written texts, stratified by genre and labels and chosen by a
hash of each text (so the choice is deterministic and does not depend on file order), form
the held-out file. It is never used for training or threshold choice; ``doxwatch evaluate``
reads it by default. ``train.jsonl`` is the rest of the hand-written texts plus the generated
ones; a generated text whose normalised form equals a held-out text's is dropped, so the
held-out figures are not inflated by near-copies.

Run ``python -m models.builddata`` after editing the hand-written file, this module or the
evasion transforms; the output is deterministic (seeded) and ``tests/models/test_dataset.py``
fails when a committed file is stale.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from models.dataset import Example, load_dataset
from models.evasion import TRANSFORMS, obfuscate
from models.normalize import normalize

DATA = Path(__file__).resolve().parent / "data"
HANDWRITTEN = DATA / "handwritten.jsonl"
TRAIN_OUTPUT = DATA / "train.jsonl"
HELDOUT_OUTPUT = DATA / "heldout.jsonl"
SEED = 20240521
HELDOUT_SHARE = 0.3
GENERATED_OFFERS = 1400
GENERATED_BENIGN = 1400
OBFUSCATED_OFFER_SHARE = 0.4  # sellers disguise many ads, not all
OTHER_STYLE_SHARE = 0.3  # vague, insider and Latin-script offers
TRADITIONAL_BENIGN_SHARE = 0.25  # reposts of news and warnings in traditional script
MAX_TRIES_PER_TEXT = 20  # a composer that keeps repeating itself is a bug, not bad luck

Compose = Callable[[random.Random], Example]


@dataclass(frozen=True)
class BuiltData:
    """The two shipped files' contents, in file order."""

    train: list[Example]
    heldout: list[Example]


# ---------------------------------------------------------------------------------------------
# The split of the hand-written texts


def split_handwritten(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """``(train, heldout)``: in every (genre, labels) stratum, the ``HELDOUT_SHARE`` of texts
    with the smallest hash are held out. Hashing the text, not its position, keeps a text on
    the same side when others are added elsewhere in the file.
    """
    strata: dict[tuple[str, tuple[str, ...]], list[Example]] = defaultdict(list)
    for example in examples:
        strata[(example.genre, example.labels)].append(example)
    held: set[str] = set()
    for members in strata.values():
        ranked = sorted(members, key=lambda example: _digest(example.text))
        held.update(example.text for example in ranked[: int(len(ranked) * HELDOUT_SHARE + 0.5)])
    train = [example for example in examples if example.text not in held]
    heldout = [example for example in examples if example.text in held]
    return train, heldout


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# The parts of an offer

SERVICES = {
    "doxxing": [
        "户籍", "全户", "单头全户", "机主", "三网机主", "机主实名", "定位", "实时定位",
        "手机定位", "轨迹", "行踪轨迹", "车轨迹", "身份证大轨迹", "开房记录", "同住记录",
        "出行记录", "火车记录", "航班", "出入境", "银行流水", "微支流水", "银行预留", "婚姻",
        "名下资产", "名下房产", "快递地址", "外卖地址", "身份证照片", "银行卡反", "微反",
        "抖音反", "涉诉", "网逃", "服刑记录", "查档全家", "开盒", "人肉", "社工库",
        "各类个人信息", "住址电话", "工作单位",
    ],
    "medical": [
        "病历", "就诊记录", "就医记录", "住院记录", "门诊病历", "用药记录", "医保记录",
        "医保消费明细", "社保记录", "体检报告", "婚检", "婚前检查", "人流记录", "堕胎记录",
        "精神科记录", "产检记录", "产妇信息", "新生儿信息", "婴儿料", "预产滚动信息",
        "患者名单", "医疗记录", "孕产妇建档名单", "宝妈数据", "新生儿名单", "出生登记名单",
        "体检客户名单", "体检数据", "医保流水", "社保参保明细", "处方记录", "处方单",
        "住院名单", "住院患者名录", "病人名单", "门诊患者数据", "检验报告", "化验单",
        "诊断记录", "整形客户信息", "月子客户名单",
    ],
    "biometric": [
        "过人脸", "代过实名", "过活体", "人脸解封", "照片活化", "人脸四件套", "真人认证视频",
        "手持身份证照", "刷脸代过", "指纹膜", "破解人脸", "代过人脸识别",
    ],
}  # fmt: skip
LABEL_SETS = (
    [("doxxing",)] * 5
    + [("medical",)] * 4
    + [("biometric",)] * 3
    + [("medical", "doxxing"), ("doxxing", "biometric")]
)
OPENERS = [
    "长期接单", "专业团队", "诚信经营", "新渠道上线", "老板看过来", "渠道稳定", "全国可做",
    "一手渠道", "内部渠道", "系统直出", "懂的来", "十年老店", "量大从优", "今日特价", "老客户回馈",
]  # fmt: skip
TRUST = [
    "担保交易", "第三方担保", "先查后付", "不成功不收费", "支持担保", "可走担保",
    "定金+尾款", "不准全退", "群内担保",
]  # fmt: skip
TURNAROUND = [
    "秒出", "当天出", "{a}-{b}天出单", "出单时间{a}-{b}天", "{h}小时内出", "加急当天出",
    "精准出", "{a}到{b}天出",
]  # fmt: skip
CONTACTS = [
    "飞机@{handle}", "TG: @{handle}", "t.me/{handle}", "电报 @{handle}", "纸飞机 {handle}",
    "V:{handle}", "vx {handle}", "wx:{handle}", "薇 {handle}", "加薇❤️ {handle}", "V我 {handle}",
    "Q {qq}", "扣扣:{qq}", "企鹅 {qq}", "QQ {qq}", "私聊", "私信详谈", "看头像联系", "懂的私",
]  # fmt: skip
# Handles are built from syllables. Sellers' handles often name the trade (cx, hezi, sgk);
# the generic syllables are shared with the ads for other goods, so a handle alone decides
# nothing.
GENERIC_SYLLABLES = ["data", "king", "pro", "vip", "yi", "zhao", "ren", "xin", "bao", "an", "hk",
                     "tw", "88", "666", "shop", "laoban", "kefu"]  # fmt: skip
MARKET_SYLLABLES = ["cx", "hezi", "chadang", "dw", "gj", "kf", "liao", "face", "lian", "sgk"]


def _handle(rng: random.Random, syllables: list[str]) -> str:
    return "_".join(rng.sample(syllables, 2)) + str(rng.randint(1, 99))


def _qq(rng: random.Random) -> str:
    return str(rng.randint(1_000_000_000, 3_999_999_999))


def _price(rng: random.Random) -> str:
    amount = rng.choice([30, 50, 80, 100, 150, 200, 300, 500, 600, 800, 1000, 1200, 1500, 2000])
    usdt = max(1, amount // 7)
    return rng.choice(
        [f"{amount}元", f"{amount}", f"¥{amount}", f"{amount}r", f"{usdt}U", f"{usdt}u",
         f"{usdt} USDT", "价格私聊", "价格看置顶"]
    )  # fmt: skip


def _fill(rng: random.Random, template: str, syllables: list[str]) -> str:
    a = rng.randint(1, 3)
    return template.format(
        handle=_handle(rng, syllables),
        qq=_qq(rng),
        a=a,
        b=a + rng.randint(1, 2),
        h=rng.choice([2, 6, 12]),
    )


def _pick(rng: random.Random, parts: list[str], *, market: bool = True) -> str:
    """One of *parts* with its {slots} filled; ``market=False`` for other goods' ads."""
    syllables = GENERIC_SYLLABLES + MARKET_SYLLABLES if market else GENERIC_SYLLABLES
    return _fill(rng, rng.choice(parts), syllables)


def _services(rng: random.Random, labels: Iterable[str], low: int = 2, high: int = 4) -> list[str]:
    chosen: list[str] = []
    for label in labels:
        chosen += rng.sample(SERVICES[label], rng.randint(low, high))
    rng.shuffle(chosen)
    return chosen


# ---------------------------------------------------------------------------------------------
# Offers, one function per genre: (rng, services) -> text


def _offer_telegram(rng: random.Random, services: list[str]) -> str:
    layout = rng.randrange(3)
    if layout == 0:
        parts = [f"【{rng.choice(OPENERS)}】", " ".join(services), _pick(rng, TURNAROUND),
                 rng.choice(TRUST), _price(rng), _pick(rng, CONTACTS)]  # fmt: skip
        return " ".join(parts)
    if layout == 1:
        mark = rng.choice(["✅", "🔥", "📌", "🔍", "⭐"])
        listed = " ".join(f"{mark}{service}" for service in services)
        return f"{listed} {_pick(rng, TURNAROUND)} {rng.choice(TRUST)} {_pick(rng, CONTACTS)}"
    lines = [f"📣{rng.choice(OPENERS)}📣", *(f"· {service}" for service in services)]
    return "\n".join([*lines, f"{_pick(rng, TURNAROUND)} {_price(rng)}起", _pick(rng, CONTACTS)])


def _offer_forum_title(rng: random.Random, services: list[str]) -> str:
    layout = rng.choices(range(4), weights=[1, 2, 1, 1])[0]  # the terse title is the commonest
    if layout == 0:
        return f"[出] {' '.join(services)} {rng.choice(TRUST)} {_pick(rng, TURNAROUND)}"
    if layout == 1:
        # The terse title: records, a delivery promise, more records, and no contact at all.
        head, tail = services[: len(services) // 2 or 1], services[len(services) // 2 or 1 :]
        promise = rng.choice(["精准出", "稳定出", "当天出", "秒出"])
        closing = rng.choice(["随便查", "都能查", "均可查", "一并查", "都可出"])
        rest = "、".join(tail) if tail else rng.choice(["其他记录", "个人隐私"])
        return f"{','.join(head)},{promise};{rest}等 {closing}"
    if layout == 2:
        return f"可cx {' '.join(services)}"
    tag = rng.choice(["长期", "出", "接单", "稳定"])
    return f"【{tag}】{' '.join(services)} {rng.choice(OPENERS)}"


_POST_TITLES = ["专业查询 {opener}", "{first}能查 价格透明", "想找人?找我", "{opener} 老客户都知道",
                "出{first}等业务", "一个手机号能查到什么?"]  # fmt: skip
_POST_BODIES = [
    "提供{listed}等查询,{trust},{turn}。需要的老板{contact}。",
    "我们有{opener}的资源,{listed}都能出,价格{price}起,{trust}。{contact}",
    "只要给一个名字或手机号,就能出{listed},{turn},不准不收钱。感兴趣的{contact}。",
    "做这行很多年了,{listed}全部可查,{turn},{trust},非诚勿扰,{contact}。",
]


def _offer_forum_post(rng: random.Random, services: list[str]) -> str:
    title = rng.choice(_POST_TITLES).format(opener=rng.choice(OPENERS), first=services[0])
    body = rng.choice(_POST_BODIES).format(
        listed="、".join(services), trust=rng.choice(TRUST), turn=_pick(rng, TURNAROUND),
        opener=rng.choice(OPENERS), price=_price(rng), contact=_pick(rng, CONTACTS),
    )  # fmt: skip
    return f"标题:{title}\n内容:{body}"


_TIEBA_REPLIES = [
    "楼主要查的话我这能出{pair} {turn} {contact}",
    "{pair}都能查 {price} {contact}",
    "楼上太贵了 我这{first}只要{price} {turn}",
    "需要{first}的可以找我 {trust} {contact}",
    "我能帮你查{pair} 私我",
]


def _offer_tieba_reply(rng: random.Random, services: list[str]) -> str:
    return rng.choice(_TIEBA_REPLIES).format(
        pair="和".join(services[:2]), first=services[0], turn=_pick(rng, TURNAROUND),
        contact=_pick(rng, CONTACTS), price=_price(rng), trust=rng.choice(TRUST),
    )  # fmt: skip


def _offer_group_chat(rng: random.Random, services: list[str]) -> str:
    layout = rng.randrange(4)
    if layout == 0:
        return f"{'/'.join(services)} 都能做 {_pick(rng, CONTACTS)}"
    if layout == 1:
        quoted = rng.choice([" ".join, "、".join, lambda s: "".join(f"“{x}”" for x in s)])
        return f"可cx {quoted(services)} 等 {rng.choice(['私', '价格私聊', '滴滴', ''])}".strip()
    if layout == 2:
        closing = rng.choice(["私", "加我", "扣1"])
        return f"接 {' '.join(services)} {_pick(rng, TURNAROUND)} {closing}"
    return f"有需要{services[0]}的老板私我 {' '.join(services[1:])}也有 {_price(rng)}"


def _offer_price_list(rng: random.Random, services: list[str]) -> str:
    if rng.random() < 0.25:
        return _per_record_list(rng, services)
    separator = rng.choice([":", " ", " — ", "|"])
    lines = [f"{service}{separator}{_price(rng)}" for service in services]
    header = rng.choice(["【价目表】", "业务清单", "今日报价", "🏷 价格一览", "信息类目表"])
    footer = f"{_pick(rng, TURNAROUND)} {rng.choice(TRUST)} {_pick(rng, CONTACTS)}"
    return "\n".join([header, *lines, footer])


def _per_record_list(rng: random.Random, services: list[str]) -> str:
    """Data sold by the record (料): a price per 条, a minimum order, a filter, fresh feeds."""
    lines = [f"{service}:{rng.choice(['0.5', '1', '2', '3', '5'])}元/条" for service in services]
    terms = rng.choice(["{n}条起", "满{n}条打八折", "{n}条起 量大可谈"]).format(
        n=rng.choice([500, 1000, 5000])
    )
    filters = rng.choice(["可按城市筛选", "支持按区县筛选", "按病种筛选", "每月更新", "新鲜一手"])
    return "\n".join([rng.choice(["料子报价", "数据价格", "一手数据"]), *lines, terms, filters])


def _offer_bot_menu(rng: random.Random, services: list[str]) -> str:
    commands = [f"/{chr(ord('a') + n)}{n} {service}" for n, service in enumerate(services)]
    face = all(service in SERVICES["biometric"] for service in services)
    header = rng.choice(
        ["🤖人脸代过Bot", "过脸机器人 菜单", "实名认证助手", "Face Bot 使用说明", "刷脸自助Bot"]
        if face
        else ["欢迎使用查询机器人", "🤖 社工库机器人", "查档机器人 指令列表", "自助查询Bot"]
    )
    closing = rng.choice(["余额不足请充值", "每日签到送积分", "邀请好友得余额", "充值支持USDT",
                          "报单格式:业务+号码"])  # fmt: skip
    return "\n".join([header, *commands, closing])


OFFER_GENRES: dict[str, Callable[[random.Random, list[str]], str]] = {
    "telegram": _offer_telegram,
    "forum_title": _offer_forum_title,
    "forum_post": _offer_forum_post,
    "tieba_reply": _offer_tieba_reply,
    "group_chat": _offer_group_chat,
    "price_list": _offer_price_list,
    "bot_menu": _offer_bot_menu,
}


# Offers that say little: a hint at the trade, at most one service, and a price or a contact.
# Real channels are full of them, and a model that waits for a list of services misses them.
VAGUE_HINTS = {
    "doxxing": [
        "代查各种信息", "各类信息代查", "私家侦探", "私人侦探 专业找人", "查人找人", "什么都能查",
        "找人 查信息", "个人信息代查", "给个号码就能查", "想知道谁的底细找我", "专业调查 全国可查",
        "查底细", "有渠道 啥都能查", "人查得到", "号码查人",
    ],
    "medical": [
        "医院记录代查", "医疗记录有渠道", "医院内部资源", "病人名单有货", "院内数据可调",
        "医疗类数据 都有", "医院的记录都能弄", "看病的记录能查", "医保社保都能查",
        "母婴数据有货", "体检那边有人",
    ],
    "biometric": [
        "人脸问题找我", "刷脸搞不定的来", "实名认证代过", "各平台认证都能过", "脸的问题都能解决",
        "人脸验证 包过",
    ],
}  # fmt: skip
VAGUE_WINKS = ["懂的来", "你懂的", "懂的私", "懂得都懂", "保密", "靠谱", "老板私", "诚信", "稳",
               "量大优惠"]  # fmt: skip


def _offer_vague(rng: random.Random, label: str, services: list[str]) -> str:
    if rng.random() < 0.3:
        # The shortest line: one service and a nudge, as a group's regulars post it.
        nudge = rng.choice(["私", "滴滴", "懂的扣1", "要的来", "有渠道", "在线", "秒回"])
        line = rng.choice(["{s}出 {n}", "出{s} {n}", "有{s}的 {n}", "{s}有货 {n}", "{s}能查 {n}"])
        return line.format(s=services[0], n=nudge)
    parts = [rng.choice(VAGUE_HINTS[label]), rng.choice(VAGUE_WINKS)]
    if rng.random() < 0.4:
        parts.insert(1, rng.choice(["", "比如", "含", "包括"]) + services[0])
    price, contact = _price(rng), _pick(rng, CONTACTS)
    parts.append(rng.choice([price, contact, f"{price} {contact}"]))
    return rng.choice([" ", ",", "  ", "~"]).join(parts)


# Medical records sold by an insider or sold on as leads to clinics, insurers and baby shops.
MEDICAL_SOURCES = ["三甲医院", "妇幼保健院", "市医院", "体检中心", "社区医院", "医保系统",
                   "卫健系统", "产科", "医院信息科"]  # fmt: skip
MEDICAL_BUYERS = ["诊所", "保险公司", "月子中心", "母婴店", "医美机构", "律所", "药店", "早教机构",
                  "保健品公司"]  # fmt: skip
_INSIDER_OFFERS = [
    "{source}内部人员 可出{listed} {price} {contact}",
    "本人在{source}工作,{listed}都能调,需要的老板{contact}",
    "{listed} 按月更新 可按科室筛选 适合{buyer}/{buyer2} {contact}",
    "出售{city}{first} {n}条 适合{buyer}、{buyer2} {price}",
    "{first} 高端客户 {n}条起 {buyer}精准获客 {contact}",
    "{source}内部渠道 {first}查询 {turn} {contact}",
    "{first} 每日更新 {buyer}专用 {contact}",
    "{city}今年{first} 含姓名电话住址 {price}",
    "{listed} 均可出 {source}直出 {contact}",
    "有{source}的资源,{first}和{second}都有,{buyer}的老板们私聊",
    "给{buyer}供{first},{city}本地的,一手,{price}",
]


def _offer_medical_insider(rng: random.Random, services: list[str]) -> str:
    buyers = rng.sample(MEDICAL_BUYERS, 2)
    return rng.choice(_INSIDER_OFFERS).format(
        source=rng.choice(MEDICAL_SOURCES), listed=rng.choice(["、", " ", "/"]).join(services),
        first=services[0], second=services[-1], buyer=buyers[0], buyer2=buyers[1],
        city=rng.choice(CITIES), n=rng.choice([500, 1000, 3000, "1w", "5w"]), price=_price(rng),
        contact=_pick(rng, CONTACTS), turn=_pick(rng, TURNAROUND),
    )  # fmt: skip


# The same trade written for readers of English or in pinyin shorthand.
SERVICES_LATIN = {
    "doxxing": ["hukou lookup", "phone owner", "location tracking", "hotel records", "kai he",
                "cha dang", "ID lookup", "full family info", "bank statements", "dox anyone"],
    "medical": ["medical records", "hospital data", "patient lists", "bing li", "yi bao records",
                "health checkup reports", "newborn data", "insurance claims data"],
    "biometric": ["face verify bypass", "liveness pass", "guo renlian", "KYC bypass",
                  "real-name verification", "face unlock"],
}  # fmt: skip
_LATIN_OFFERS = [
    "{listed} — fast, {price}, DM {contact}",
    "China {first} / {second} available, USDT only, {contact}",
    "we do {listed} 100% legit, escrow ok, {contact}",
    "{first} {second} 都ok fast delivery {contact}",
    "selling {first} daily updated, bulk price, {contact}",
    "need {first}? pm me {contact}",
]


def _offer_latin(rng: random.Random, labels: tuple[str, ...]) -> str:
    services = [rng.choice(SERVICES_LATIN[label]) for label in labels]
    services += rng.sample(SERVICES_LATIN[labels[0]], 2)
    services = list(dict.fromkeys(services))
    return rng.choice(_LATIN_OFFERS).format(
        listed=", ".join(services), first=services[0], second=services[1],
        price=rng.choice(["cheap", _price(rng)]), contact=_pick(rng, CONTACTS),
    )  # fmt: skip


def _offer_style(rng: random.Random, labels: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]]:
    """``(genre, text, labels)`` in a less common style: vague, insider or Latin-script.

    A vague offer hints at one trade only, and an insider sells medical records only, so
    their labels narrow to what the text offers.
    """
    insider = ["insider"] * 2 if "medical" in labels else []
    style = rng.choice(["vague", "vague", "latin", *insider])
    if style == "vague":
        label = rng.choice(labels)
        text = _offer_vague(rng, label, _services(rng, (label,), 1, 1))
        return rng.choice(["group_chat", "telegram", "tieba_reply"]), text, (label,)
    if style == "insider":
        text = _offer_medical_insider(rng, _services(rng, ("medical",), 2, 3))
        return rng.choice(["telegram", "group_chat", "forum_post"]), text, ("medical",)
    return "telegram", _offer_latin(rng, labels), labels


def compose_offer(rng: random.Random) -> Example:
    """One generated offer; a share of them disguised with the sellers' evasion transforms."""
    labels = rng.choice(LABEL_SETS)
    genre = rng.choice(sorted(OFFER_GENRES))
    if rng.random() < OTHER_STYLE_SHARE:
        genre, text, labels = _offer_style(rng, labels)
    else:
        text = OFFER_GENRES[genre](rng, _services(rng, labels))
    if rng.random() < OBFUSCATED_OFFER_SHARE:
        text = obfuscate(text, rng, k=rng.randint(1, 2))
    return Example(text, labels, genre)


# ---------------------------------------------------------------------------------------------
# Benign texts that use the market's words and parts without offering anything

CITIES = ["广州", "成都", "杭州", "南京", "西安", "郑州", "济南", "长沙", "昆明", "沈阳", "合肥",
          "福州"]  # fmt: skip
PLATFORMS = ["某社交平台", "某短视频平台", "某贴吧", "某二手交易平台", "境外聊天软件", "某论坛"]
HOSPITALS = ["市第一人民医院", "省妇幼保健院", "市中医院", "某三甲医院", "区人民医院"]
JOB_ROLES = ["病案管理员", "病案统计员", "收费员", "酒店前台", "户籍窗口辅警", "数据录入员",
             "体检报告整理员", "银行柜员", "背调专员", "护士"]  # fmt: skip
JOB_CONTACTS = ["简历请投人事科邮箱", "请致电人事部", "简历发 hr@example.com", "请到人事部面试",
                "联系电话见官网", "加微信 hr_{n} 咨询"]  # fmt: skip
OTHER_GOODS = [
    "日本代购 药妆", "韩国代购 化妆品", "无抵押贷款", "信用贷 当天放款", "王者荣耀代练",
    "原神代肝", "英雄联盟代打", "淘宝补单", "兼职刷单", "代开发票", "增值税发票", "抖音涨粉",
    "考研网课资料", "考公资料 押题卷", "教资面试资料", "二手游戏账号", "港版手机", "奶粉直邮",
    "王者定位赛代打", "吃鸡代练上段位",
    "网贷不看征信", "GPS定位器批发", "酒店钟点房特价", "体检套餐团购", "病历夹定制印刷",
]  # fmt: skip

BENIGN_FRAMES: dict[str, list[str]] = {
    "news": [
        "记者在{platform}搜索发现,有账号声称可以查询{quoted},报价{price}元,出单时间{a}至{b}天。"
        "记者已将相关线索提供给警方。",
        "{city}警方近日打掉一个非法出售{listed}的犯罪团伙,抓获犯罪嫌疑人{n}名,涉案金额{money}万元。",
        "法院审理查明,被告人在网络上发布可查{listed}的信息招揽买家,非法获利{money}万余元,"
        "一审以侵犯公民个人信息罪判处有期徒刑{a}年。",
        "记者在{platform}看到这样一条帖子:“{ad}”。经核实,发帖账号已被平台封禁,线索已移交公安。",
        "{city}检察院通报:一名医院信息科员工违规导出{listed}并出售,已被提起公诉。",
        "调查发现,{platform}上仍有人以“{first}”“{second}”为名招揽生意,报价{price}元起,"
        "专家提醒买卖双方都涉嫌违法。",
        "据警方介绍,该团伙在群里发布“{first}秒出”等广告,以虚拟货币收款,目前{n}名成员已全部落网。",
        "一起涉及{n}万条{first}的泄露事件引发关注,涉事单位称已修补漏洞并向监管部门报告。",
        # A reporter quoting a whole ad: the ad alone is an offer, the report is not.
        "该账号曾发布一条标题为“{ad}”的帖子,评论区有人询价,记者调查后已向警方反映。",
        "记者以买家身份联系了一个名为“{ad}”的帖子的发布者,对方报价{price}元,要求先付定金。",
        "{city}警方披露,嫌疑人在{platform}发帖称“{ad}”,以此招揽买家,目前已被刑事拘留。",
        "检方指控,被告人多次发布“{ad}”等内容,非法获利{money}万余元。",
        "记者注意到,有用户在{platform}发布名为“{ad}”的帖子,正文附有多张截图,目前帖子已被删除。",
        "{city}网警通报:一网民发布“{ad}”的信息招揽生意,已被依法查处。",
        "这条写着“{ad}”的帖子,在{platform}上存在了{n}天才被删除,期间有不少人留言询价。",
        "一名网友向记者提供截图:某账号发帖“{ad}”,留言区不少人询问价格。",
        "记者搜索关键词后发现,“{ad}”这类帖子仍能被搜到,平台称将尽快清理。",
        "在{platform}上,一条内容为“{ad}”的帖子已被举报,发帖人账号目前显示异常。",
        "举报人称,对方在群里发了“{ad}”,随后要求加好友私聊,他没有理会并报了警。",
        # Headlines and subheadings: short, but they ask or report, they do not sell.
        "花钱就能查{first}?",
        "{first}被明码标价的背后",
        "谁在倒卖{first}和{second}",
        "调查:“{first}秒出”的黑色产业链",
        "{first}为何屡屡泄露",
        "花钱能查{med}",
        "{med}能查?记者调查",
        "谁能查到你的{med}",
        "{med}被明码标价",
        # The vague and insider ads' own words, quoted by the people who expose them.
        "记者调查发现,所谓“{hint}”其实是从非法渠道买来的数据,{first}一条卖{price}元。",
        "{city}一家{buyer}被查:从医院内部人员手中购买{first}{n}万条,用于电话推销。",
        "{city}警方破获一起倒卖{first}案,{hospital}{n}名员工涉案,下游买家多为{buyer}。",
        "{med}和{med2}在黑市为何受追捧?专家称{buyer}的精准营销是主要需求。",
        "{city}一名{hospital}前员工带走{n}万条{med},被判侵犯公民个人信息罪。",
        "{med}泄露之后,患者会面临哪些风险?",
        # How hospitals collect patients' details: the insider ads' nouns in a privacy debate.
        "{city}有患者反映,在{hospital}挂号要填身份证、电话、住址甚至职业,担心这些信息另作他用。",
        "专家认为,医院采集患者信息应遵循最小必要原则,建档时收集的{med}不应用于诊疗以外的用途。",
        "看病要先建档,{hospital}表示患者的{med}由信息科统一保管,调阅须经审批并留痕。",
        "患者信息安全谁来管?{city}多家医院开始对{med}的查询设置权限和审计。",
    ],
    "police_warning": [
        "【{city}警方提醒】网上声称能查{quoted}的广告都是违法犯罪,"
        "购买他人信息同样要承担刑事责任,发现请拨打110举报。",
        "反诈提醒:看到“{first}”“{second}”“秒出”“担保”之类的广告,请勿联系,更不要转账,"
        "截图后向网警举报。",
        "网警提示:有人冒充“内部渠道”兜售{listed},实为诈骗加违法,市民切勿上当。",
        "{city}公安提醒:买卖{first}等个人信息,情节严重的可判处{a}年以上有期徒刑。",
        "警方提醒:网上自称“{hint}”的账号,不是骗子就是违法,不要加好友,更不要转账。",
        "反诈中心提示:“{hint}”“懂的来”这类帖子背后是非法买卖个人信息,请及时举报。",
    ],
    "victim": [
        "求助:有人在网上查到了我的{pair},还发到了群里,我该怎么报警和维权?",
        "我的{first}被人泄露了,对方还在{platform}上挂我,已经报警,还能做些什么?",
        "被开盒了,{pair}全被公开,每天都有陌生电话,有没有人知道怎么让平台删帖?",
        "刚在{hospital}做完检查,第二天就有{buyer}打电话推销,连我的{med}都知道,该去哪投诉?",
        "我的{med}被前同事拿去发到群里了,这算侵犯隐私吗?要怎么取证?",
    ],
    "forum_chatter": [
        "看到有人在群里发广告说能查{listed},这种东西一看就违法,已经举报了。",
        "刚才群里有人发“{ad}”,我已经截图举报给群主了,大家别信。",
        "新闻里说{first}一条才卖{price}元,我们的隐私就值这点钱吗?",
    ],
    "buyer": [
        "有人知道哪里能查{first}吗?家里有急事。——楼下:这是违法的,别找这种渠道,去报警。",
        "请问网上那些说能查{pair}的靠谱吗?有没有被骗过的朋友?",
        "有{first}的吗?——回复:收这种东西是犯罪,劝你打消念头。",
    ],
    "everyday": [
        "下周去{city}出差,酒店已经订好了,{a}晚一共{total}元,到了直接刷身份证开房。",
        "到{city}南站了吗?到了给我发个定位,我{n}分钟后到。",
        "我把共享位置打开了,你看着我的实时定位过来就行,大概还有{n}分钟。",
        "快递一直显示在{city}中转,查了好几次物流轨迹都没动,客服说{a}天内送到。",
        "今天去医院复诊,医生看了之前的病历和体检报告,说恢复得不错,{a}个月后再来。",
    ],
    "hotel": [
        "推荐{city}这家酒店:开房送早餐,一晚{total}元,离地铁站只要{n}分钟。",
        "{city}的民宿比酒店便宜,这次开了间大床房{price}元一晚,老板还送了水果。",
    ],
    "lost_phone": [
        "手机在{city}地铁上丢了,用“查找设备”看到定位在终点站,联系工作人员后找回来了。",
        "提醒:给家里老人的手机打开定位共享,走丢时{n}分钟就能找到人。",
    ],
    "hukou_guide": [
        "{city}户籍迁移办理指南:携带身份证和户口本到迁入地派出所申请,一般{a}个工作日办结。",
        "在{city}工作满{a}年可以申请落户,户籍业务可在公安政务服务平台网上预约。",
    ],
    "bank_statement": [
        "办签证要近{a}个月的银行流水,在手机银行里申请电子流水,{n}分钟就发到邮箱了。",
        "本人持身份证到{city}任一网点柜台即可打印银行流水,加盖业务章,每页收费{a}元。",
    ],
    "background_check": [
        "{city}一家企业的HR介绍:入职背调需候选人书面授权,只核实学历和工作经历;"
        "个人征信报告可到人民银行网点免费打印。",
        "{city}一家公司因未经同意背调员工婚姻和病史被起诉,律师提醒背调范围要与岗位相关。",
        "{city}律师提醒:背景调查只能核实与岗位相关的信息,擅自查询候选人的{first}可能违法。",
    ],
    "hospital_notice": [
        "{hospital}病案复印须知:本人携带身份证办理,代办需授权委托书,复印件{a}个工作日内邮寄。",
        "{hospital}提醒:本院从不电话推销,也不会向任何人提供患者的{first},请勿轻信“代查”信息。",
        "{hospital}已全面启用电子健康卡,患者可凭二维码挂号、缴费和查询检查报告。",
        "{hospital}声明:网传本院内部人员出售{first}一事,本院已报警并配合调查。",
        # Everyday hospital news: the word 医院 alone must not sound like an insider's ad.
        "{hospital}{city}院区全面开诊,设有内科、外科、妇产科等{n}个科室。",
        "{hospital}新院区今日启用,门诊、住院和体检中心同步搬迁,原址保留急诊。",
        "{city}又一家三甲医院分院开业,{hospital}专家团队每周坐诊{a}天。",
        "{hospital}产科开设孕妇学校,每周{a}次课程,新手爸妈可免费报名。",
        "{hospital}体检中心调整营业时间,周末上午照常开放,报告{a}个工作日内出。",
        "{hospital}提醒新手爸妈:自称能拿到{first}的推销电话与本院无关,请直接挂断并举报。",
    ],
    "official_guide": [
        "{city}医保局提示:参保人可通过国家医保服务平台App查询本人的医保记录和消费明细,"
        "也可持社保卡到经办窗口打印,请勿轻信任何自称能代查的人员。",
        # Lawful ways to see one's own records: the words of the medical ads, nothing for sale.
        "如何查询本人的{med}?登录{city}健康App,实名认证后即可查看,也可到{hospital}窗口申请打印。",
        "{city}卫健委提醒:{med}和{med2}属于敏感个人信息,医疗机构不得向第三方提供。",
        "患者可凭身份证在{hospital}自助机查询{med},保存期限{a}年,如需纸质版请到服务台。",
    ],
    "face_news": [
        "{city}一小区强制刷脸进门引争议,业主认为人脸信息属于敏感个人信息,物业应提供其他方式。",
        "警方通报:一团伙收购他人照片制作活体视频,用于代过人脸验证,{n}名嫌疑人被抓获。",
        "专家提醒,网上兜售“{first}”服务的卖家往往骗取身份证照片,群众切勿上当。",
    ],
    "job_ad": [
        "【招聘】{hospital}招聘{role}{a}名,月薪{total}0元起,五险一金,有意者{job_contact}。",
        "诚聘{role}:负责日常登记和资料整理,{city}本地优先,待遇面议,{job_contact}。",
    ],
    "english": [
        "Police in {city} arrested {n} people accused of selling {latin} through Telegram ads.",
        "Report: {latin} from Chinese hospitals is offered on dark markets for as little as "
        "{price} yuan, researchers warn.",
        "How to protect yourself after a leak of {latin}: change passwords and watch for scams.",
    ],
    "spam_other": [
        "{goods} {turn} {trust} {price} {contact}",
        "【{goods}】{opener} {contact}",
        "{goods} 价格{price} {turn} 需要的私",
    ],
}
# How often each benign genre is drawn: the genres nearest to an offer weigh most.
BENIGN_WEIGHTS = {"news": 8, "police_warning": 2, "spam_other": 4, "forum_chatter": 2, "buyer": 2}
# Genres whose reposts circulate in traditional script.
TRADITIONAL_GENRES = {"news", "police_warning", "face_news", "forum_chatter"}


def _quoted_ad(rng: random.Random) -> str:
    """An ad as a reporter or a user quotes it, on one line; every style of offer gets quoted."""
    labels = rng.choice(LABEL_SETS)
    if rng.random() < OTHER_STYLE_SHARE:
        return _offer_style(rng, labels)[1].replace("\n", " ")
    genre = rng.choice(["forum_title", "forum_title", "telegram", "group_chat", "tieba_reply"])
    return OFFER_GENRES[genre](rng, _services(rng, labels, 2, 3)).replace("\n", " ")


def _benign_values(rng: random.Random, services: list[str]) -> dict[str, object]:
    a = rng.randint(1, 3)
    medical = rng.sample(SERVICES["medical"], 2)
    return {
        "city": rng.choice(CITIES),
        "med": medical[0],
        "med2": medical[1],
        "hint": rng.choice(VAGUE_HINTS[rng.choice(sorted(VAGUE_HINTS))]),
        "buyer": rng.choice(MEDICAL_BUYERS),
        "latin": rng.choice(SERVICES_LATIN[rng.choice(sorted(SERVICES_LATIN))]),
        "platform": rng.choice(PLATFORMS),
        "hospital": rng.choice(HOSPITALS),
        "quoted": "".join(f"“{service}”" for service in services),
        "listed": "、".join(services),
        "pair": "和".join(services[:2]),
        "first": services[0],
        "second": services[1],
        "ad": _quoted_ad(rng),
        "goods": rng.choice(OTHER_GOODS),
        "role": rng.choice(JOB_ROLES),
        "job_contact": rng.choice(JOB_CONTACTS).format(n=rng.randint(10, 999)),
        "turn": _pick(rng, TURNAROUND),
        "trust": rng.choice(TRUST),
        "opener": rng.choice(OPENERS),
        "contact": _pick(rng, CONTACTS, market=False),
        "price": rng.choice([30, 50, 300, 500, 800, 1200]),
        "a": a,
        "b": a + rng.randint(1, 2),
        "n": rng.randint(3, 30),
        "money": rng.randint(2, 900),
        "total": rng.randint(4, 20) * 100,
    }


def compose_benign(rng: random.Random) -> Example:
    """One generated benign text; news-like genres sometimes reposted in traditional script."""
    genres = sorted(BENIGN_FRAMES)
    genre = rng.choices(genres, weights=[BENIGN_WEIGHTS.get(g, 1) for g in genres])[0]
    services = rng.sample(SERVICES[rng.choice(sorted(SERVICES))], 3)
    text = rng.choice(BENIGN_FRAMES[genre]).format(**_benign_values(rng, services))
    if genre in TRADITIONAL_GENRES and rng.random() < TRADITIONAL_BENIGN_SHARE:
        text = TRANSFORMS["traditional"](text, rng)
    return Example(text, (), genre)


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
    """Both shipped files: the split hand-written texts, then the generated training texts."""
    rng = random.Random(SEED)
    train, heldout = split_handwritten(load_dataset(HANDWRITTEN))
    taken = {normalize(example.text) for example in train + heldout}
    for compose, count in ((compose_offer, GENERATED_OFFERS), (compose_benign, GENERATED_BENIGN)):
        train += generate(rng, compose, count, taken)
    return BuiltData(train=train, heldout=heldout)


def render(examples: list[Example]) -> str:
    """JSON lines, one example per line, as ``models.dataset`` reads them."""
    lines = [
        json.dumps({"text": e.text, "labels": list(e.labels), "genre": e.genre}, ensure_ascii=False)
        for e in examples
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    built = build()
    for path, examples in ((TRAIN_OUTPUT, built.train), (HELDOUT_OUTPUT, built.heldout)):
        path.write_text(render(examples), encoding="utf-8")
        print(f"wrote {len(examples)} examples to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
