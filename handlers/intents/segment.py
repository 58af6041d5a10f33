"""Lazy jieba segmentation with the domain vocabulary added once.

The dictionary is jieba_dict_small.txt: the 60,000 most frequent words of jieba's own
dict.txt (MIT licence). The full dictionary costs ~61 MB of memory once loaded, the small one
~9 MB, and residents' messages use everyday words. It loads on the first call, once per
process, into a tokenizer of our own so other jieba users keep the default dictionary.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import jieba

DICTIONARY = Path(__file__).with_name("jieba_dict_small.txt")
_tokenizer = jieba.Tokenizer(dictionary=str(DICTIONARY))

# Words jieba's general dictionary splits badly; kept whole they become useful features.
DOMAIN_WORDS = (
    "居住证", "身份证", "临时身份证", "户口本", "户籍证明", "无犯罪记录", "无犯罪证明",
    "亲属关系证明", "落户", "上户口", "签注", "警务室", "派出所", "社区民警", "预约码",
    "刷单", "返利", "返佣", "稳赚不赔", "安全账户", "征信", "校园贷", "网贷", "冒充客服",
    "游戏账号", "点卡", "代练", "杀猪盘", "跑分", "银行卡四件套", "传销", "高利贷",
    "煤气味", "燃气泄漏", "不省人事", "喘不上气", "走丢", "走失", "撬锁", "跳楼",
    "物业费", "车位", "漏水", "扰民", "评评理", "咋整", "嘎哈", "老妹儿", "整个号",
)

_lock = threading.Lock()
_ready = False


def _prepare() -> None:
    global _ready
    with _lock:
        if _ready:
            return
        jieba.setLogLevel(logging.WARNING)  # silence the "Building prefix dict" chatter
        _tokenizer.initialize()
        for word in DOMAIN_WORDS:
            _tokenizer.add_word(word, freq=20000)
        _ready = True


def tokens(text: str) -> list[str]:
    """Segment `text`; HMM off because new-word discovery is slow and adds little here."""
    if not _ready:
        _prepare()
    return [t for t in _tokenizer.lcut(text, HMM=False) if not t.isspace()]


def warm_up() -> float:
    """Load the dictionary now; return seconds spent (0 if already loaded)."""
    import time

    if _ready:
        return 0.0
    start = time.perf_counter()
    _prepare()
    return time.perf_counter() - start
