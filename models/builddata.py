"""Build the shipped training set ``models/data/train.jsonl``.

The training set has two parts:

* ``models/data/handwritten.jsonl`` — texts written one by one: offers in every style the
  market uses, and benign texts of many genres (news, warnings, victims, hospital notices,
  official guides, everyday chat, other spam, web page furniture). Edit this file by hand.
* composed texts, made here from the market's parts (services, prices, turnaround, escrow,
  contacts) and from benign frames that use the same words (reporters quoting a price list,
  police naming the services, innocent bookings and lookups). Composition adds the many small
  variations of price, handle and wording that real channels repeat, so the model learns the
  shape of an offer rather than one seller's handle.

Run ``python -m models.builddata`` after editing either part; the output is deterministic and
``tests/models/test_builddata.py`` fails when the committed file is stale.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

from models.dataset import Example, load_dataset

DATA = Path(__file__).resolve().parent / "data"
HANDWRITTEN = DATA / "handwritten.jsonl"
OUTPUT = DATA / "train.jsonl"
SEED = 20240521
COMPOSED_OFFERS = 170
COMPOSED_BENIGN = 120

SERVICES = {
    "doxxing": [
        "户籍",
        "全户",
        "机主",
        "三网机主",
        "定位",
        "实时定位",
        "轨迹",
        "行踪轨迹",
        "开房记录",
        "同住记录",
        "出行记录",
        "火车记录",
        "航班",
        "出入境",
        "银行流水",
        "微支流水",
        "婚姻",
        "名下资产",
        "快递地址",
        "外卖地址",
        "身份证照片",
        "银行卡反",
        "微反",
        "涉诉",
        "网逃",
    ],
    "medical": [
        "病历",
        "就诊记录",
        "住院记录",
        "用药记录",
        "医保记录",
        "社保记录",
        "体检报告",
        "婚检",
        "人流记录",
        "精神科记录",
        "产妇信息",
        "新生儿信息",
        "预产滚动信息",
        "患者名单",
    ],
    "biometric": [
        "过人脸",
        "代过实名",
        "活体",
        "人脸解封",
        "照片活化",
        "人脸四件套",
        "真人认证视频",
        "手持身份证照",
        "刷脸代过",
        "指纹膜",
    ],
}
OPENERS = [
    "长期接单",
    "专业团队",
    "诚信经营",
    "新渠道上线",
    "老板看过来",
    "渠道稳定",
    "全国可做",
    "一手渠道",
    "内部渠道",
    "系统直出",
    "懂的来",
    "十年老店",
    "量大从优",
    "今日特价",
]
TRUST = ["担保交易", "第三方担保", "先查后付", "不成功不收费", "支持担保", "可走担保", "定金+尾款"]
TURNAROUND = ["秒出", "当天出", "{a}-{b}天出单", "出单时间{a}-{b}天", "{h}小时内出", "加急当天出"]
CONTACTS = [
    "飞机@{handle}",
    "TG: @{handle}",
    "t.me/{handle}",
    "电报 @{handle}",
    "纸飞机 {handle}",
    "V:{handle}",
    "vx {handle}",
    "薇 {handle}",
    "加薇❤️ {handle}",
    "Q {qq}",
    "扣扣:{qq}",
    "企鹅 {qq}",
    "私聊",
    "私信详谈",
    "看头像联系",
]
SYLLABLES = [
    "cx",
    "hezi",
    "chadang",
    "dw",
    "gj",
    "kf",
    "data",
    "king",
    "pro",
    "vip",
    "yi",
    "liao",
    "face",
    "lian",
    "sgk",
    "zhao",
    "ren",
    "xin",
    "bao",
    "an",
    "hk",
    "tw",
    "88",
    "666",
]

BENIGN_CITIES = ["广州", "成都", "杭州", "南京", "西安", "郑州", "济南", "长沙", "昆明", "沈阳"]
BENIGN_PLATFORMS = ["某社交平台", "某短视频平台", "某贴吧", "某二手交易平台", "境外聊天软件"]


def _handle(rng: random.Random) -> str:
    return "_".join(rng.sample(SYLLABLES, 2)) + str(rng.randint(1, 99))


def _qq(rng: random.Random) -> str:
    return str(rng.randint(1_000_000_000, 3_999_999_999))


def _price(rng: random.Random) -> str:
    amount = rng.choice([50, 80, 100, 150, 200, 300, 500, 600, 800, 1000, 1200, 1500, 2000])
    return rng.choice([f"{amount}元", f"{amount // 7}U", f"{amount // 7} USDT", "价格私聊"])


def _fill(rng: random.Random, template: str) -> str:
    a = rng.randint(1, 3)
    return template.format(
        handle=_handle(rng), qq=_qq(rng), a=a, b=a + rng.randint(1, 2), h=rng.choice([2, 6, 12])
    )


def _services(rng: random.Random, labels: list[str]) -> list[str]:
    chosen: list[str] = []
    for label in labels:
        chosen += rng.sample(SERVICES[label], rng.randint(2, 4))
    rng.shuffle(chosen)
    return chosen


def _offer_telegram(rng: random.Random, services: list[str]) -> str:
    return " ".join(
        [
            f"【{rng.choice(OPENERS)}】",
            " ".join(services),
            _fill(rng, rng.choice(TURNAROUND)),
            rng.choice(TRUST),
            _price(rng),
            _fill(rng, rng.choice(CONTACTS)),
        ]
    )


def _offer_group_chat(rng: random.Random, services: list[str]) -> str:
    return f"{'/'.join(services)} 都能做 {_fill(rng, rng.choice(CONTACTS))}"


def _offer_forum_title(rng: random.Random, services: list[str]) -> str:
    return f"[出] {' '.join(services)} {rng.choice(TRUST)} {_fill(rng, rng.choice(TURNAROUND))}"


def _offer_price_list(rng: random.Random, services: list[str]) -> str:
    lines = [f"{service}:{_price(rng)}" for service in services]
    footer = f"{_fill(rng, rng.choice(TURNAROUND))} {_fill(rng, rng.choice(CONTACTS))}"
    return "\n".join(["【价目表】", *lines, footer])


def _offer_bot_menu(rng: random.Random, services: list[str]) -> str:
    commands = [f"/{chr(ord('a') + n)}{n} {service}" for n, service in enumerate(services)]
    closing = rng.choice(["余额不足请充值", "每日签到送积分", "邀请好友得余额", "充值支持USDT"])
    return "\n".join(["欢迎使用查询机器人", *commands, closing])


OFFER_STYLES: dict[str, Callable[[random.Random, list[str]], str]] = {
    "telegram": _offer_telegram,
    "group_chat": _offer_group_chat,
    "forum_title": _offer_forum_title,
    "price_list": _offer_price_list,
    "bot_menu": _offer_bot_menu,
}
LABEL_SETS = (
    [["doxxing"]] * 5
    + [["medical"]] * 3
    + [["biometric"]] * 3
    + [
        ["doxxing", "medical"],
        ["doxxing", "biometric"],
    ]
)


def compose_offer(rng: random.Random) -> Example:
    labels = rng.choice(LABEL_SETS)
    genre = rng.choice(sorted(OFFER_STYLES))
    return Example(OFFER_STYLES[genre](rng, _services(rng, labels)), tuple(labels), genre)


# Benign frames that use the market's words: reporters quoting an ad, police naming the
# services, victims, and innocent bookings and lookups. Placeholders are filled by
# _benign_values().
BENIGN_FRAMES = [
    (
        "news",
        "记者在{platform}搜索发现,有账号声称可以查询{quoted},报价{price}元,"
        "出单时间{a}至{b}天。记者已将相关线索提供给警方。",
    ),
    (
        "news",
        "{city}警方近日打掉一个非法出售{listed}的犯罪团伙,抓获犯罪嫌疑人{n}名,涉案金额{money}万元。",
    ),
    (
        "news",
        "法院审理查明,被告人在网络上发布可查{listed}的信息招揽买家,非法获利{money}万余元,"
        "一审以侵犯公民个人信息罪判处有期徒刑{a}年。",
    ),
    (
        "police_warning",
        "【{city}警方提醒】网上声称能查{quoted}的广告都是违法犯罪,"
        "购买他人信息同样要承担刑事责任,发现请拨打110举报。",
    ),
    ("victim", "求助:有人在网上查到了我的{pair},还发到了群里,我该怎么报警和维权?"),
    ("forum_chatter", "看到有人在群里发广告说能查{listed},这种东西一看就违法,已经举报了。"),
    ("everyday", "下周去{city}出差,酒店已经订好了,{a}晚一共{total}元,到了直接刷身份证开房。"),
    ("everyday", "到{city}南站了吗?到了给我发个定位,我{n}分钟后到。"),
    (
        "official_guide",
        "{city}医保局提示:参保人可通过国家医保服务平台App查询本人的医保记录和消费明细,"
        "也可持社保卡到经办窗口打印,请勿轻信任何自称能代查的人员。",
    ),
]


def _benign_values(rng: random.Random, services: list[str]) -> dict[str, object]:
    a = rng.randint(1, 3)
    return {
        "city": rng.choice(BENIGN_CITIES),
        "platform": rng.choice(BENIGN_PLATFORMS),
        "quoted": "".join(f"“{service}”" for service in services),
        "listed": "、".join(services),
        "pair": "和".join(services[:2]),
        "price": rng.choice([300, 500, 800, 1200]),
        "a": a,
        "b": a + rng.randint(1, 2),
        "n": rng.randint(3, 30),
        "money": rng.randint(2, 900),
        "total": rng.randint(4, 20) * 100,
    }


def compose_benign(rng: random.Random) -> Example:
    genre, frame = rng.choice(BENIGN_FRAMES)
    services = rng.sample(SERVICES[rng.choice(sorted(SERVICES))], 3)
    return Example(frame.format(**_benign_values(rng, services)), (), genre)


def build() -> list[Example]:
    """The full training set: the handwritten texts, then the composed ones, no duplicates."""
    rng = random.Random(SEED)
    examples = load_dataset(HANDWRITTEN)
    seen = {example.text for example in examples}
    for compose, count in ((compose_offer, COMPOSED_OFFERS), (compose_benign, COMPOSED_BENIGN)):
        added = 0
        while added < count:
            example = compose(rng)
            if example.text not in seen:
                seen.add(example.text)
                examples.append(example)
                added += 1
    return examples


def render(examples: list[Example]) -> str:
    """JSON lines, one example per line, as ``models.dataset`` reads them."""
    lines = [
        json.dumps({"text": e.text, "labels": list(e.labels), "genre": e.genre}, ensure_ascii=False)
        for e in examples
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    OUTPUT.write_text(render(build()), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
