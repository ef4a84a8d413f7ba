"""Generated offers: the market's parts poured into the layouts of its genres.

An offer is assembled from services, a price in 元/U/USDT, a turnaround, escrow terms and a
contact written with its aliases, and laid out as a Telegram post, forum title, forum title +
body, Tieba reply, group-chat spam line, paste price list or bot menu; a share is written in a
less common style (vague hints with a price or contact, insiders selling medical records to
clinics and insurers, English or pinyin) and a share is disguised with the sellers' evasion
habits from :mod:`models.evasion`. The parts are shared with :mod:`models.compose_benign`,
whose texts quote them without offering anything. :mod:`models.builddata` assembles both.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from models.dataset import Example
from models.evasion import obfuscate

OBFUSCATED_OFFER_SHARE = 0.4  # sellers disguise many ads, not all
OTHER_STYLE_SHARE = 0.3  # vague, insider and Latin-script offers


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
CITIES = ["广州", "成都", "杭州", "南京", "西安", "郑州", "济南", "长沙", "昆明", "沈阳", "合肥",
          "福州"]  # fmt: skip
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


def pick(rng: random.Random, parts: list[str], *, market: bool = True) -> str:
    """One of *parts* with its {slots} filled; ``market=False`` for other goods' ads."""
    syllables = GENERIC_SYLLABLES + MARKET_SYLLABLES if market else GENERIC_SYLLABLES
    return _fill(rng, rng.choice(parts), syllables)


def pick_services(
    rng: random.Random, labels: Iterable[str], low: int = 2, high: int = 4
) -> list[str]:
    """Between *low* and *high* services of each of *labels*, in random order."""
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
        parts = [f"【{rng.choice(OPENERS)}】", " ".join(services), pick(rng, TURNAROUND),
                 rng.choice(TRUST), _price(rng), pick(rng, CONTACTS)]  # fmt: skip
        return " ".join(parts)
    if layout == 1:
        mark = rng.choice(["✅", "🔥", "📌", "🔍", "⭐"])
        listed = " ".join(f"{mark}{service}" for service in services)
        return f"{listed} {pick(rng, TURNAROUND)} {rng.choice(TRUST)} {pick(rng, CONTACTS)}"
    lines = [f"📣{rng.choice(OPENERS)}📣", *(f"· {service}" for service in services)]
    return "\n".join([*lines, f"{pick(rng, TURNAROUND)} {_price(rng)}起", pick(rng, CONTACTS)])


def _offer_forum_title(rng: random.Random, services: list[str]) -> str:
    layout = rng.choices(range(4), weights=[1, 2, 1, 1])[0]  # the terse title is the commonest
    if layout == 0:
        return f"[出] {' '.join(services)} {rng.choice(TRUST)} {pick(rng, TURNAROUND)}"
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
        listed="、".join(services), trust=rng.choice(TRUST), turn=pick(rng, TURNAROUND),
        opener=rng.choice(OPENERS), price=_price(rng), contact=pick(rng, CONTACTS),
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
        pair="和".join(services[:2]), first=services[0], turn=pick(rng, TURNAROUND),
        contact=pick(rng, CONTACTS), price=_price(rng), trust=rng.choice(TRUST),
    )  # fmt: skip


def _offer_group_chat(rng: random.Random, services: list[str]) -> str:
    layout = rng.randrange(4)
    if layout == 0:
        return f"{'/'.join(services)} 都能做 {pick(rng, CONTACTS)}"
    if layout == 1:
        quoted = rng.choice([" ".join, "、".join, lambda s: "".join(f"“{x}”" for x in s)])
        return f"可cx {quoted(services)} 等 {rng.choice(['私', '价格私聊', '滴滴', ''])}".strip()
    if layout == 2:
        closing = rng.choice(["私", "加我", "扣1"])
        return f"接 {' '.join(services)} {pick(rng, TURNAROUND)} {closing}"
    return f"有需要{services[0]}的老板私我 {' '.join(services[1:])}也有 {_price(rng)}"


def _offer_price_list(rng: random.Random, services: list[str]) -> str:
    if rng.random() < 0.25:
        return _per_record_list(rng, services)
    separator = rng.choice([":", " ", " — ", "|"])
    lines = [f"{service}{separator}{_price(rng)}" for service in services]
    header = rng.choice(["【价目表】", "业务清单", "今日报价", "🏷 价格一览", "信息类目表"])
    footer = f"{pick(rng, TURNAROUND)} {rng.choice(TRUST)} {pick(rng, CONTACTS)}"
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
    price, contact = _price(rng), pick(rng, CONTACTS)
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
        contact=pick(rng, CONTACTS), turn=pick(rng, TURNAROUND),
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
        price=rng.choice(["cheap", _price(rng)]), contact=pick(rng, CONTACTS),
    )  # fmt: skip


def offer_style(rng: random.Random, labels: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]]:
    """``(genre, text, labels)`` in a less common style: vague, insider or Latin-script.

    A vague offer hints at one trade only, and an insider sells medical records only, so
    their labels narrow to what the text offers.
    """
    insider = ["insider"] * 2 if "medical" in labels else []
    style = rng.choice(["vague", "vague", "latin", *insider])
    if style == "vague":
        label = rng.choice(labels)
        text = _offer_vague(rng, label, pick_services(rng, (label,), 1, 1))
        return rng.choice(["group_chat", "telegram", "tieba_reply"]), text, (label,)
    if style == "insider":
        text = _offer_medical_insider(rng, pick_services(rng, ("medical",), 2, 3))
        return rng.choice(["telegram", "group_chat", "forum_post"]), text, ("medical",)
    return "telegram", _offer_latin(rng, labels), labels


def compose_offer(rng: random.Random) -> Example:
    """One generated offer; a share of them disguised with the sellers' evasion transforms."""
    labels = rng.choice(LABEL_SETS)
    genre = rng.choice(sorted(OFFER_GENRES))
    if rng.random() < OTHER_STYLE_SHARE:
        genre, text, labels = offer_style(rng, labels)
    else:
        text = OFFER_GENRES[genre](rng, pick_services(rng, labels))
    if rng.random() < OBFUSCATED_OFFER_SHARE:
        text = obfuscate(text, rng, k=rng.randint(1, 2))
    return Example(text, labels, genre)
