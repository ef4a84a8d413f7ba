"""Properties that must hold for any input, checked with hypothesis.

Normalisation is idempotent over arbitrary text, and a clear offer keeps its classification
however a seller disguises it with the transforms of models.evasion.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.evasion import TRANSFORMS, obfuscate
from models.lexicon import canonicalize
from models.normalize import normalize
from models.predict import Classifier

# Characters sellers mix into ads: Chinese (simplified and traditional), separators,
# invisible characters, emoji, look-alike digits and letters, full-width forms.
_AD_ALPHABET = st.sampled_from(
    list(
        "开盒查档户籍開戶檔乾干後发髮里裡著着询扣企鹅飞机薇信电报纸料"
        "*.-_ ~·|/@:\u200b\u200d\ufeff\ufe0f❤✈🐧🔥①⑴❶⓪０ＡａΑαΗηНнⅤ0123456789qvxtgucfkhsdwz"
    )
)
_ANY_TEXT = st.one_of(st.text(), st.text(_AD_ALPHABET))

_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Clear offers written for these tests, two per category.
OFFERS = {
    "medical": [
        "出售医院就诊记录、住院记录、医保记录,全国可查,微信 abc12345,价格私聊,当天出",
        "精准出病历和体检报告,查询本人历史医疗记录,QQ 123456789,一单300元,1-2天出单",
    ],
    "doxxing": [
        "专业开盒,可查询户籍 开房记录 轨迹 机主,飞机 @kaihe_bot,全户300U,秒出",
        "社工库查档,身份证号查全户、手机定位、快递地址,微信 chadang88,担保交易,24小时内出",
    ],
    "biometric": [
        "代过人脸,照片活化做眨眼摇头视频,过活体认证,微信 face_pass1,200元一次,秒出",
        "人脸解封 代过实名 手持身份证 四件套出售,QQ 987654321,50 USDT,当天出",
    ],
}
_ADS = [(category, text) for category, texts in OFFERS.items() for text in texts]


@_SETTINGS
@given(_ANY_TEXT)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@_SETTINGS
@given(_ANY_TEXT)
def test_canonicalize_is_idempotent(text: str) -> None:
    once = canonicalize(text)
    assert canonicalize(once) == once


def test_the_offers_are_classified_as_their_category(classifier: Classifier) -> None:
    for category, text in _ADS:
        assert category in classifier.predict_one(text).labels, text


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@_SETTINGS
@given(seed=st.integers(0, 2**32 - 1), ad=st.sampled_from(_ADS))
def test_an_ad_keeps_its_classification_under_each_transform(
    classifier: Classifier, name: str, seed: int, ad: tuple[str, str]
) -> None:
    _, text = ad
    disguised = TRANSFORMS[name](text, random.Random(seed))
    assert classifier.predict_one(disguised).labels == classifier.predict_one(text).labels, (
        disguised
    )


@_SETTINGS
@given(seed=st.integers(0, 2**32 - 1), ad=st.sampled_from(_ADS))
def test_an_ad_keeps_its_classification_under_two_transforms(
    classifier: Classifier, seed: int, ad: tuple[str, str]
) -> None:
    _, text = ad
    disguised = obfuscate(text, random.Random(seed), k=2)
    assert classifier.predict_one(disguised).labels == classifier.predict_one(text).labels, (
        disguised
    )
