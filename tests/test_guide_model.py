"""How the guide's matching decides, on questions a resident would send: the entry model, where the
guide ends (questions of other offices), this community's own entries, and long messages."""

from __future__ import annotations

from handlers.guide.library import LocalFacts
from handlers.guide.plugin import GuideEntry, GuideIndex


def index(*entries: GuideEntry) -> GuideIndex:
    return GuideIndex(list(entries), [], LocalFacts(post="幸福里警务室"))


def test_questions_of_other_offices_are_forwarded_not_answered_from_a_look_alike():
    guide = index()
    for question in ("健康证去哪里办", "房东不退押金怎么办", "失业金怎么领取", "宽带坏了找谁"):
        assert guide.match(question) is None, question


def test_a_communitys_own_entry_on_such_a_topic_answers_it():
    """The shipped “not the guide” questions must not outvote what officers taught the guide."""
    guide = index(GuideEntry(id="sbk", title="社保卡", questions=["社保卡去哪补"],
                             answer="社保卡请到街道社区事务受理中心办理。"))
    assert guide.match("社保卡怎么办").id == "sbk"


def test_wrong_names_dialect_and_spoken_numbers_find_the_entry():
    guide = index()
    asked = {
        "良民证去哪开": "wfz-zhengming",
        "暂住证咋整": "jzz-banli",
        "俺那护招过期了 咋整个新的": "cj-huzhao-huanfa",
        "户囗本找不着了": "hk-hkb-buling",
        "幺二幺二三那个软件咋注册": "jg-12123",
    }
    for question, entry_id in asked.items():
        found = guide.match(question)
        assert found is not None and found.id == entry_id, (question, found and found.id)


def test_a_long_story_is_answered_from_the_clause_that_asks():
    guide = index()
    story = ("我家老头子前两年中风了一直躺在床上下不了地，最近银行说他的身份证过期了，要换了才能"
             "取养老金，可他根本出不了门，听说民警可以到家里来给拍照，想问问要怎么预约")
    assert guide.match(story).id == "sfz-laoren"
