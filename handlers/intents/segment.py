"""Lazy jieba segmentation with the domain vocabulary added once.

The dictionary is jieba_dict_small.txt: the 60,000 most frequent words of jieba's own
dict.txt (MIT licence). The full dictionary costs ~61 MB of memory once loaded, the small one
~9 MB, and residents' messages use everyday words. It loads on the first call, once per
process, into a tokenizer of our own so other jieba users keep the default dictionary.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path


def _import_jieba():
    """jieba reads its files through pkg_resources when it can import it: 12 MB of a running
    bot's memory for what a plain open() does (its own fallback, used here)."""
    saved = sys.modules.get("pkg_resources")
    if saved is None:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import fails: the fallback
    try:
        import jieba
    finally:
        if saved is None:
            del sys.modules["pkg_resources"]
    return jieba


jieba = _import_jieba()

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


_words: frozenset[str] | None = None
_starts: frozenset[str] = frozenset()  # the first two characters of every word
LONGEST = 4  # longer words are rare in chat, and their 4-character pieces are n-grams anyway


def _vocabulary() -> frozenset[str]:
    global _words, _starts
    if _words is None:
        if not _ready:
            _prepare()
        words = frozenset(w for w, f in _tokenizer.FREQ.items() if f > 0 and 1 < len(w) <= LONGEST)
        _starts = frozenset(w[:2] for w in words)
        _words = words
    return _words


def words(text: str) -> list[str]:
    """Forward maximum matching over the same dictionary: the longest known word at each
    position. About ten times faster than jieba's DAG search, and for the classifier's
    features as good (5-fold CV, handlers/intents/evaluate.py); use tokens() for real
    segmentation."""
    vocab = _words if _words is not None else _vocabulary()
    starts = _starts
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i:i + 2] not in starts:  # no word begins here: most positions, one lookup
            out.append(text[i])
            i += 1
            continue
        for size in range(min(LONGEST, n - i), 1, -1):
            piece = text[i:i + size]
            if piece in vocab:
                out.append(piece)
                i += size
                break
        else:
            out.append(text[i])
            i += 1
    return out


def warm_up() -> float:
    """Load the dictionary now; return seconds spent (0 if already loaded)."""
    import time

    if _ready:
        return 0.0
    start = time.perf_counter()
    _prepare()
    return time.perf_counter() - start
