"""Intent classifier: holdout quality gates, tricky cases, robustness."""

from __future__ import annotations

import dataclasses
import time

import pytest

from handlers.intents import INTENTS, Classification, classify, dataset, evaluate
from handlers.intents.nb import MODEL_PATH
from handlers.intents.train import build


@pytest.fixture(scope="module")
def holdout_report() -> evaluate.Report:
    return evaluate.run(classify, dataset.load("holdout"))


# --- data set shape -------------------------------------------------------------------

def test_dataset_is_large_and_balanced():
    rows = dataset.load()
    assert len(rows) >= 480
    assert {r.split for r in rows} == {"train", "holdout"}
    assert {r.intent for r in rows} == set(INTENTS)
    holdout = [r for r in rows if r.split == "holdout"]
    assert 0.25 <= len(holdout) / len(rows) <= 0.35
    for intent in INTENTS:
        for split in ("train", "holdout"):
            assert sum(r.intent == intent and r.split == split for r in rows) >= 15, (intent, split)
    assert sum(r.intent == "emergency" for r in rows) >= 40
    texts = [r.text for r in rows]
    assert len(texts) == len(set(texts)), "duplicate messages leak between splits"


def test_shipped_model_matches_train_split():
    """nb_model.json must be rebuilt (python -m handlers.intents.train) after data edits."""
    assert MODEL_PATH.read_text(encoding="utf-8") == build().to_json() + "\n"


# --- holdout quality gates ------------------------------------------------------------

def test_holdout_macro_f1(holdout_report):
    assert holdout_report.macro_f1 >= 0.85, holdout_report.format()


def test_holdout_emergency_recall(holdout_report):
    assert holdout_report.per_class["emergency"][1] >= 0.95, holdout_report.format()


def test_holdout_scam_precision(holdout_report):
    assert holdout_report.per_class["scam"][0] >= 0.9, holdout_report.format()


# --- behaviour on tricky cases --------------------------------------------------------

@pytest.mark.parametrize(
    "text, service",
    [
        ("救命 煤气漏了 屋里全是味", "119"),
        ("8楼窗户往外冒黑烟!!", "119"),
        ("我爸晕倒了快叫救护车", "120"),
        ("有人在砸我家门,说要杀了我", "110"),
        ("孙子在广场找不着了,刚才还在这", "110"),
        ("老妹儿快报警,楼下俩人拿刀干起来了", "110"),
        # a generic call for help never decides the number: the specific danger does
        ("楼下着火了快来人", "119"),
        ("救命!3单元2楼着火了快来人", "119"),
        ("快来人啊我爸晕倒了", "120"),
        ("救命,电梯卡住了里面有人", "119"),
        ("快报警,有人在撬我家门", "110"),
        ("救命啊", "110"),
        ("快报警", "110"),
    ],
)
def test_emergency_and_service(text, service):
    result = classify(text)
    assert (result.intent, result.detail) == ("emergency", service)


@pytest.mark.parametrize(
    "text",
    [
        "今天小区搞消防演习,烟挺大的大家别害怕",
        "看新闻说隔壁区着火了,大家注意用电安全",
        "我家狗丢了,白色泰迪,谁看见说一声",
    ],
)
def test_talk_about_danger_is_not_emergency(text):
    assert classify(text).intent != "emergency"


@pytest.mark.parametrize("text", ["3号楼201", "3号楼", "我家住3单元", "5号楼302室", "明天上午"])
def test_dialog_answers_are_never_emergencies(text):
    """The emergency handler preempts every flow, so a bare address must not read as one."""
    assert classify(text).intent != "emergency"


@pytest.mark.parametrize(
    "text, kind",
    [
        ("兼职刷单日赚300加微信xxx", "刷单返利"),
        ("我是你们王总,换了新号,明天到我办公室一趟", "冒充领导熟人"),
        ("这里是市公安局,你涉嫌洗钱,把钱转到安全账户", "冒充公检法"),
        ("出售吃鸡游戏账号,先付定金再发号", "游戏交易"),
        ("老师带你炒股稳赚不赔,进群领牛股", "虚假投资理财"),
    ],
)
def test_scam_scripts_and_type(text, kind):
    result = classify(text)
    assert (result.intent, result.detail) == ("scam", kind)


@pytest.mark.parametrize(
    "text",
    [
        "反诈讲座在哪开啊,几点",
        "大家注意,有人冒充公安局打电话让转到安全账户,千万别信",
        "我妈差点被刷单的骗了,幸亏看了群里的反诈宣传",
        "超市今天鸡蛋一折,先到先得",
        "联系客服退款了,钱已经到账",
    ],
)
def test_mentions_of_scams_are_not_scam(text):
    assert classify(text).intent != "scam"


@pytest.mark.parametrize(
    "text, intent",
    [
        ("我想约周五上午办居住证", "appointment"),
        ("补办身份证得带啥东西", "consultation"),
        ("建议在车棚装个充电桩", "suggestion"),
        ("举报,后院那家天天聚一帮人赌钱", "tip"),
        ("楼上漏水淹了我家,找他也不管", "dispute"),
        ("谢谢警官,辛苦啦🌹", "other"),
    ],
)
def test_each_intent_plain_case(text, intent):
    assert classify(text).intent == intent


# --- robustness -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x01\x1b[31m\x7f",
        "😀😀😀🙏",
        "\ud800 lone surrogate",
        "ＱＱ：１２３４５６ 全角",
        "a" * 100_000,
        "着火" * 50_000,
        "好" + "\u200b" * 1000,
    ],
)
def test_never_crashes_and_stays_in_range(text):
    result = classify(text)
    assert result.intent in INTENTS
    assert 0.0 <= result.confidence <= 1.0


def test_none_is_treated_as_empty():
    assert classify(None).intent == "other"  # type: ignore[arg-type]


def test_emoji_only_is_other():
    assert classify("👍👍").intent == "other"


def test_large_message_is_bounded_in_time():
    classify("热身")
    start = time.perf_counter()
    classify("随便说点什么," * 15_000)  # ~100 KB
    assert time.perf_counter() - start < 0.5


def test_result_is_frozen():
    result = classify("收到")
    assert isinstance(result, Classification)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.intent = "scam"  # type: ignore[misc]


def test_detail_only_for_emergency_and_scam():
    assert classify("请问居住证怎么办").detail is None
