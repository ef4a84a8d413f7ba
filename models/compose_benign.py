"""Generated benign texts that use the market's words and parts without offering anything.

Reporters quoting an ad and its price, police naming the services, victims, hospital notices,
innocent lookups, bookings and guides, job ads, ads for other goods with the same contacts and
prices, and traditional-script reposts of news: frames filled with the parts of
:mod:`models.compose_offers`, so the model learns that the words and the parts alone — a
service, a price, a handle — do not make an offer.
"""

from __future__ import annotations

import random

from models.compose_offers import (
    CITIES,
    CONTACTS,
    LABEL_SETS,
    MEDICAL_BUYERS,
    OFFER_GENRES,
    OPENERS,
    OTHER_STYLE_SHARE,
    SERVICES,
    SERVICES_LATIN,
    TRUST,
    TURNAROUND,
    VAGUE_HINTS,
    offer_style,
    pick,
    pick_services,
)
from models.dataset import Example
from models.evasion import TRANSFORMS

TRADITIONAL_BENIGN_SHARE = 0.25  # reposts of news and warnings in traditional script

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
        return offer_style(rng, labels)[1].replace("\n", " ")
    genre = rng.choice(["forum_title", "forum_title", "telegram", "group_chat", "tieba_reply"])
    return OFFER_GENRES[genre](rng, pick_services(rng, labels, 2, 3)).replace("\n", " ")


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
        "turn": pick(rng, TURNAROUND),
        "trust": rng.choice(TRUST),
        "opener": rng.choice(OPENERS),
        "contact": pick(rng, CONTACTS, market=False),
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
