"""Build the shipped datasets ``models/data/train.jsonl`` and ``models/data/heldout.jsonl``.

Where the texts come from:

* ``models/data/handwritten.jsonl`` — texts written one by one: offers in every style the
  market uses, and benign texts of many genres that share its vocabulary (news, warnings,
  victims, buyers, hospital notices, official guides, lawful background checks, lost phones,
  hotels, other spam, web page furniture). Edit this file by hand.
* generated texts, made here. An offer is assembled from the market's parts — services,
  a price in 元/U/USDT, a turnaround, escrow terms, a contact written with its aliases — poured
  into one of the genres' layouts (Telegram post, forum title, forum title + body, Tieba reply,
  group-chat spam line, paste price list, bot menu) and, for a share of them, disguised with
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
GENERATED_OFFERS = 1250
GENERATED_BENIGN = 1250
OBFUSCATED_OFFER_SHARE = 0.4  # sellers disguise many ads, not all
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
        "患者名单", "医疗记录",
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
    """One of *parts* with its placeholders filled; ``market=False`` for other goods' ads."""
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
    header = rng.choice(
        ["欢迎使用查询机器人", "🤖 社工库机器人", "查档机器人 指令列表", "自助查询Bot"]
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


def compose_offer(rng: random.Random) -> Example:
    """One generated offer; a share of them disguised with the sellers' evasion transforms."""
    labels = rng.choice(LABEL_SETS)
    genre = rng.choice(sorted(OFFER_GENRES))
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
    "考研网课资料", "二手游戏账号", "港版手机", "奶粉直邮", "王者定位赛代打", "吃鸡代练上段位",
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
        # Headlines and subheadings: short, but they ask or report, they do not sell.
        "花钱就能查{first}?",
        "{first}被明码标价的背后",
        "谁在倒卖{first}和{second}",
        "调查:“{first}秒出”的黑色产业链",
        "{first}为何屡屡泄露",
    ],
    "police_warning": [
        "【{city}警方提醒】网上声称能查{quoted}的广告都是违法犯罪,"
        "购买他人信息同样要承担刑事责任,发现请拨打110举报。",
        "反诈提醒:看到“{first}”“{second}”“秒出”“担保”之类的广告,请勿联系,更不要转账,"
        "截图后向网警举报。",
        "网警提示:有人冒充“内部渠道”兜售{listed},实为诈骗加违法,市民切勿上当。",
        "{city}公安提醒:买卖{first}等个人信息,情节严重的可判处{a}年以上有期徒刑。",
    ],
    "victim": [
        "求助:有人在网上查到了我的{pair},还发到了群里,我该怎么报警和维权?",
        "我的{first}被人泄露了,对方还在{platform}上挂我,已经报警,还能做些什么?",
        "被开盒了,{pair}全被公开,每天都有陌生电话,有没有人知道怎么让平台删帖?",
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
        "入职背调需候选人书面授权,只核实学历和工作经历;个人征信报告可到人民银行网点免费打印。",
        "{city}一家公司因未经同意背调员工婚姻和病史被起诉,律师提醒背调范围要与岗位相关。",
    ],
    "hospital_notice": [
        "{hospital}病案复印须知:本人携带身份证办理,代办需授权委托书,复印件{a}个工作日内邮寄。",
        "{hospital}提醒:本院从不电话推销,也不会向任何人提供患者的{first},请勿轻信“代查”信息。",
        "{hospital}已全面启用电子健康卡,患者可凭二维码挂号、缴费和查询检查报告。",
    ],
    "official_guide": [
        "{city}医保局提示:参保人可通过国家医保服务平台App查询本人的医保记录和消费明细,"
        "也可持社保卡到经办窗口打印,请勿轻信任何自称能代查的人员。",
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
    "spam_other": [
        "{goods} {turn} {trust} {price} {contact}",
        "【{goods}】{opener} {contact}",
        "{goods} 价格{price} {turn} 需要的私",
    ],
}
# How often each benign genre is drawn: the genres nearest to an offer weigh most.
BENIGN_WEIGHTS = {"news": 6, "police_warning": 2, "spam_other": 4, "forum_chatter": 2, "buyer": 2}
# Genres whose reposts circulate in traditional script.
TRADITIONAL_GENRES = {"news", "police_warning", "face_news", "forum_chatter"}


def _benign_values(rng: random.Random, services: list[str]) -> dict[str, object]:
    a = rng.randint(1, 3)
    ad_labels = rng.choice(LABEL_SETS)
    ad_genre = rng.choice(["forum_title", "forum_title", "telegram", "group_chat", "tieba_reply"])
    return {
        "city": rng.choice(CITIES),
        "platform": rng.choice(PLATFORMS),
        "hospital": rng.choice(HOSPITALS),
        "quoted": "".join(f"“{service}”" for service in services),
        "listed": "、".join(services),
        "pair": "和".join(services[:2]),
        "first": services[0],
        "second": services[1],
        "ad": OFFER_GENRES[ad_genre](rng, _services(rng, ad_labels, 2, 3)).replace("\n", " "),
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
