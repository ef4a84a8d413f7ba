from pathlib import Path

import pytest

from models import CATEGORIES
from models.predict import MAX_TERMS, Classifier

OFFERS = {
    "doxxing": [
        "全国户籍 机主实名 开房记录 行踪轨迹 秒出 担保交易 飞机@test_hezi",
        "专业查档 给手机号出全家户籍和定位 1-2天出单 300U 私聊",
        "【业务单】户籍150 开房800 流水1500 先查后付 扣扣 1234567890",
    ],
    "medical": [
        "医院内部渠道 可查就诊记录 住院病历 医保记录 一条600元 飞机@test_yl",
        "出本月产妇信息 新生儿信息 0.5元一条 量大从优 私聊",
        "体检报告 婚检 人流记录 都能查 保密 2天出单 vx test_med01",
    ],
    "biometric": [
        "代过人脸 活体认证 人脸解封 各平台秒过 成功付款 飞机@test_face",
        "出人脸四件套 手持身份证照片 真人认证视频 一套30U",
        "照片活化 眨眼点头视频 破解人脸识别 包过 薇 test_huoti",
    ],
}
BENIGN = [
    "我被开盒了怎么办?家里地址被人发到群里了,求大家告诉我该怎么报警。",
    "警方提醒:网上所谓能查开房记录和手机定位的广告都是违法的,请勿购买。",
    "周五晚上到上海,酒店已经订好了,到了前台刷身份证就能开房。",
    "手机落在出租车上了,幸好打开了定位,最后找了回来。",
    "本院病案室提供病历复印服务,请患者本人携带身份证到窗口办理。",
    "办理签证需要近六个月的银行流水,可以到开户行柜台打印盖章。",
    "户籍迁移现在可以跨省通办,到迁入地派出所申请即可。",
    "法院以侵犯公民个人信息罪判处出售产妇信息的护士有期徒刑两年。",
    "医院挂号要求刷脸引发争议,专家认为应当提供其他验证方式。",
    "王者荣耀代练上星,安全不封号,QQ 2233445566。",
]


@pytest.mark.parametrize(
    ("category", "text"), [(c, text) for c, texts in OFFERS.items() for text in texts]
)
def test_clear_offers_are_flagged_with_their_category(
    classifier: Classifier, category: str, text: str
) -> None:
    judgement = classifier.predict_one(text)
    assert judgement.is_offer
    assert category in judgement.labels


@pytest.mark.parametrize("text", BENIGN)
def test_typical_benign_texts_are_not_flagged(classifier: Classifier, text: str) -> None:
    judgement = classifier.predict_one(text)
    assert judgement.labels == ()
    assert not judgement.is_offer


def seed_paragraphs(seeds_dir: Path) -> list[str]:
    """Every line of the seed articles that is a paragraph rather than a heading or a crumb."""
    return [
        line.strip()
        for path in sorted(seeds_dir.glob("0*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) >= 8
    ]


def test_every_paragraph_of_the_seed_articles_is_benign(
    classifier: Classifier, seeds_dir: Path
) -> None:
    paragraphs = seed_paragraphs(seeds_dir)
    assert len(paragraphs) > 100
    flagged = [
        (paragraph[:60], judgement.labels)
        for paragraph, judgement in zip(paragraphs, classifier.predict(paragraphs), strict=True)
        if judgement.is_offer
    ]
    assert flagged == []


def test_judgements_carry_all_scores_and_readable_terms(classifier: Classifier) -> None:
    judgement = classifier.predict_one("可查 户籍 开房记录 轨迹 秒出 担保 飞机@terms_test")
    assert set(judgement.scores) == set(CATEGORIES)
    assert all(0.0 <= score <= 1.0 for score in judgement.scores.values())
    assert judgement.labels == tuple(
        c for c in CATEGORIES if judgement.scores[c] >= classifier.thresholds[c]
    )
    terms = [term for term, _ in judgement.terms]
    assert 0 < len(terms) <= MAX_TERMS
    assert "户籍" in terms
    assert all("__" not in term and term.strip() == term for term in terms)
    weights = [weight for _, weight in judgement.terms]
    assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)


def test_benign_judgements_still_explain_the_top_category(classifier: Classifier) -> None:
    judgement = classifier.predict_one("警方提醒:不要购买所谓的开房记录查询服务")
    assert judgement.labels == ()
    assert judgement.terms


def test_batch_prediction_matches_single_predictions(classifier: Classifier) -> None:
    texts = BENIGN + OFFERS["medical"]
    assert classifier.predict(texts) == [classifier.predict_one(text) for text in texts]
    assert classifier.predict([]) == []


def test_huge_hostile_input_is_judged(classifier: Classifier) -> None:
    judgement = classifier.predict_one("开盒" * 500_000)
    assert set(judgement.scores) == set(CATEGORIES)


def seller_texts(seeds_dir: Path) -> list[str]:
    """The two seller texts the 003 article quotes, cut out of it at run time: the post title
    from 历史医疗记录 to the first 随便查 after it, and the 可cx list to the end of its sentence."""
    article = next(seeds_dir.glob("003_*.txt")).read_text(encoding="utf-8")
    title_start = article.index("历史医疗记录")
    title = article[title_start : article.index("随便查", title_start) + len("随便查")]
    list_start = article.index("可cx")
    listing = article[list_start : article.index("。", list_start) + 1]
    return [title, listing]


def test_the_seller_texts_the_news_quotes_are_offers_on_their_own(
    classifier: Classifier, seeds_dir: Path
) -> None:
    texts = seller_texts(seeds_dir)
    assert all(10 < len(text) < 200 for text in texts)
    judgements = classifier.predict(texts)
    assert [j.is_offer for j in judgements] == [True, True], [j.scores for j in judgements]
    assert "medical" in judgements[0].labels


def test_offer_cues_appear_as_readable_terms(classifier: Classifier) -> None:
    judgement = classifier.predict_one("出医保记录 就诊记录 精准出 一条600元 薇 cue_test_01")
    terms = [term for term, _ in judgement.terms]
    assert any(term.startswith("<") and term.endswith(">") for term in terms), terms
