"""The keyword baseline: the yardstick the classifier is measured against.

This is what AIL's trackers and the DFA "sensitive word" filters of Chinese platforms do: a word
list per category, matched on normalised text, and any hit flags the text for that category.
The lists are the lexicon's service terms (``models/data/lexicon.txt``) grouped by category, so
the baseline knows every word the classifier's lexicon knows, and it matches after the same
normalisation and alias rewriting as the classifier (full-width folding, invisible characters
removed, cx → 查询, kf → 开房), so simple disguises do not fool it either. What it cannot do
is tell an offer from a news report that names the same records; the classifier has to beat
it at exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from models import CATEGORIES
from models.lexicon import canonicalize
from models.normalize import normalize

# The lexicon's service terms per category. Terms that name no category by themselves (cx =
# 查询, 社工, 业务单: the menu) are left out: a word-list filter that flagged every 查询 would
# flag half the internet, and nobody runs one like that.
CATEGORY_TERMS: dict[str, tuple[str, ...]] = {
    "medical": (
        "医疗记录", "就诊记录", "就医记录", "住院记录", "病历", "用药记录", "医保记录",
        "体检报告", "婚检", "人流记录", "堕胎记录", "精神科记录", "产妇信息", "新生儿信息",
        "婴儿料", "预产滚动信息",
    ),
    "doxxing": (
        "开盒", "开盒挂人", "开盒师", "盒武器", "人肉", "人肉搜索", "查档", "信息查档",
        "查档全家", "查人", "社工库", "社工库机器人", "查档机器人", "猎魔查询", "开发者查询",
        "户籍", "全户", "单头全户", "地区个户", "高价个户", "机主", "机主实名", "三网", "定位",
        "手机定位", "轨迹", "行踪轨迹", "手机轨迹", "车轨迹", "定位踪迹", "身份证大轨迹", "开房",
        "开房记录", "同住记录", "出行记录", "出入境", "火车记录", "航班记录", "流水",
        "银行流水", "微支流水", "银行预留", "名下资产", "动产不动产", "婚姻记录", "服刑记录",
        "涉诉", "网逃", "反查", "银行卡反", "微反", "抖音反", "快递地址", "外卖地址",
        "身份证正反面", "社保记录", "料子", "杂料", "出料", "一手数据", "大头料子", "慢线大头",
        "人口数据", "撞库", "拖库", "洗库",
    ),
    "biometric": (
        "人脸", "人脸四件套", "人脸贩子", "过脸", "过人脸", "代过人脸", "代过实名", "刷脸",
        "破解人脸", "人脸解封", "活体", "过活体", "照片活化", "真人认证视频", "手持身份证",
        "四件套", "指纹膜",
    ),
}


class KeywordBaseline:
    """A word-list matcher: one compiled alternation per category (longest terms first, as a
    DFA or Aho-Corasick automaton would report the longest match).
    """

    def __init__(self, terms: dict[str, Sequence[str]] | None = None) -> None:
        lists = CATEGORY_TERMS if terms is None else terms
        self.terms = {category: tuple(lists.get(category, ())) for category in CATEGORIES}
        self._patterns = {
            category: _alternation(words) for category, words in self.terms.items() if words
        }

    def matches(self, text: str) -> dict[str, list[str]]:
        """The listed words found in *text*, per category (categories without a hit omitted)."""
        normal = canonicalize(text)
        found = {
            category: pattern.findall(normal) for category, pattern in self._patterns.items()
        }
        return {category: words for category, words in found.items() if words}

    def flags(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one boolean column per category in CATEGORIES order."""
        result = np.zeros((len(texts), len(CATEGORIES)), dtype=bool)
        for row, text in enumerate(texts):
            normal = canonicalize(text)
            for column, category in enumerate(CATEGORIES):
                pattern = self._patterns.get(category)
                result[row, column] = bool(pattern and pattern.search(normal))
        return result


def _alternation(words: Sequence[str]) -> re.Pattern[str]:
    ordered = sorted({normalize(word) for word in words}, key=lambda word: (-len(word), word))
    return re.compile("|".join(map(re.escape, ordered)))
