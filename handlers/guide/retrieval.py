"""Which guide entry a resident's question is about, or none.

Residents do not type the entry's words: “身分证掉咧咋整”, “sfz到期”, “良民证”, voice-to-text without
punctuation, a whole story around one question. The question is first folded to canonical words
(homophones, abbreviations, dialect, old names, see CANON). Two readers then judge it:

- the entry model (EntryModel): a linear SVM over character 1-3-grams and jieba words, trained on
  every way of asking of every entry (library.yaml, and the many more of asking.yaml) plus one class
  of questions the guide does not answer (unrelated.yaml). It chooses the entry.
- the nearest examples: TF-IDF similarity to each entry's examples, and how much of what the question
  is about the entry covers (support). They vouch for the model's choice, or not.

The answer is given only when the model is sure, or fairly sure with the nearest examples agreeing
(see confident): a question the guide cannot place goes to the officer instead of a wrong answer.

Both are trained with scikit-learn into plain arrays (train_arrays) and read with numpy alone: the
built-in guide is shipped trained (model.npz, `jingmin guide-train`), a community's own entries are
trained once in a child process and kept in its data directory (retriever_for).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import re
import subprocess
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from handlers.intents import segment
from handlers.intents.normalize import normalize
from handlers.intents.segment import tokens
from handlers.intents.vectors import Columns, Tfidf, char_grams

log = logging.getLogger(__name__)

# (pattern, canonical word). Order matters: longer, more specific patterns first.
CANON: tuple[tuple[str, str], ...] = (
    (r"身[分份][证正政症]|身份[正政症]|生份证|深份证|省份证|sfz|shenfenzheng|身份ID", "身份证"),
    (r"户[囗口][簿薄部布本]|户口本子|户口本儿|户口页|hkb", "户口本"),
    (r"户囗|护口", "户口"),
    (r"居[住注主][证正政]|jzz|暂住证", "居住证"),
    (r"派[出处初][所锁]|pcs|公安局派出所", "派出所"),
    (r"警[务物][室是事处站]|jws|警务工作站", "警务室"),
    (r"港[澳奥傲]通(?!行)|港[澳奥傲]证|港[澳奥傲]通[形型行]证", "港澳通行证"),
    (r"港奥", "港澳"),
    (r"台[湾弯]通(?!行)|台湾证|赴台证", "台湾通行证"),
    (r"护[照找罩招]本?|户[照招]|hz(?![a-z])", "护照"),
    (r"驾[照招]|驾[驶使]本|驾[驶使][证正]|驾本儿?|jsz|jz(?![a-z])", "驾驶证"),
    (r"无犯罪记录证明|无犯罪证明|无犯[罪最醉]记录|无犯[罪最醉]|良民证|无违法犯罪|wfz[a-z]*|wfzjl", "无犯罪记录证明"),
    (r"回乡证", "港澳通行证"),
    (r"洋车子?|脚踏车|单车|自行车子", "自行车"),
    (r"摄像头|录像|探头", "监控"),
    (r"片[儿]?警|管片民警|社区警察", "社区民警"),
    (r"电[瓶平]车|电驴子?|小电驴|电摩|电动自行车|电单车|ddc(?![a-z])", "电动车"),
    (r"狗狗|狗子|小狗|宠物狗|犬只", "狗"),
    (r"咋整|咋办|咋弄|咋搞|咋个办|咋个整|咋子|怎么整|怎么弄|怎么搞|怎么个办法|肿么办|怎办|如何办理|如何处理|如何是好|怎么处理|怎么操作",
     "怎么办"),
    (r"啥时候|啥时|几时|多会儿|什么点", "什么时候"),
    (r"啥子|啥|嘛子|么子", "什么"),
    (r"俺们|咱们|咱|我们这|我们", "我们"),
    (r"俺|额滴|偶滴", "我"),
    (r"丢咧|丢啦|丢失了?|[弄搞整]丢了?|[弄搞整]没了|掉了|掉咧|不见了|找不着了?|找不到了?|没了", "丢了"),
    (r"补[领发]|重新办|再办一张|补一张|补个", "补办"),
    (r"过期|到期|快到期|期满|有效期到了|超期", "到期"),
    (r"娃娃|娃子|小娃|小孩子|小孩儿|小孩|宝宝|宝贝|崽|闺女|儿子|小朋友", "孩子"),
    (r"老爷子|老太太|老头子?|老太婆|老人家|老母亲|老父亲|爷爷|奶奶|姥姥|姥爷|外婆|外公", "老人"),
    (r"上户口|报户口|落户口|入户口|登户口", "上户口"),
    (r"户藉|户机", "户籍"),
    (r"落护|洛户", "落户"),
    (r"签[住柱]|迁注", "签注"),
    (r"准签证|准迁正", "准迁证"),
    (r"证名|正明", "证明"),
    (r"几点钟|几点|多久开门", "几点"),
    (r"哪嘎达|哪疙瘩|哪旮旯|哪块|哪儿|哪里|哪个地方|什么地方|啥地方", "哪里"),
    (r"wx|vx|薇信|威信", "微信"),
    (r"yhk|银行咔", "银行卡"),
    (r"sj(?![a-z])|手级|收机", "手机"),
    # 东北话: 整 is any doing (“整个身份证”, “上哪整”), 这嘎达 is here, 搁 is at.
    (r"整(?![天夜齐洁理容栋座条])", "办"),
    (r"这嘎达|这旮旯|这疙瘩|这块儿", "这里"),
    (r"搁(?=这|那|哪|家)", "在"),
)
_CANON = tuple((re.compile(p), w) for p, w in CANON)

# Words that say nothing about which entry: they only blur the word vectors.
STOPWORDS = frozenset("""
请问 问 问一下 问问 想问 想 我 你 您 他 她 的 了 吗 呢 啊 呀 吧 么 嘛 哦 哈 呗 咧 啦 哎 唉 嗯 要 需要 什么 怎么
怎么办 怎样 如何 哪里 哪 几 个 一下 一个 是 有 在 去 到 可以 能 能不能 可不可以 会 和 跟 还 都 也 就 得 给
时候 谢谢 麻烦 您好 你好 老师 警官 同志 大哥 姐 那个 这个 就是 然后 现在 那 这 我们 他们 自己 一般 请 帮 帮忙
""".split())
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
# A phone, ID or card number (and its label: “电话13812345678” is the asker's own) says nothing
# about the topic; 110, 12123, 96110 do, and are short.
_LONG_NUMBER = re.compile(r"(?:我的)?(?:电话|手机号?|联系方式|号码|身份证号)?[:：是]?\d[\d\s*-]{5,}[\dxX]")

# How a question is asked, not what about: “物业费一年多少钱” shares “多少钱” with the entry on the
# cost of an ID card, and nothing else. An entry must share something beyond these to be chosen.
GENERIC = re.compile("|".join((
    r"请问一下|请问|问一下|问问|想问|我想|想要|打听一下|麻烦|谢谢|您好|你好|同志|警官|老师",
    r"怎么办理?|怎么样|如何|怎样|怎么|什么时候|什么|哪里|去哪|在哪|到哪|哪个|哪些|多少钱|多少|多久|几天|几点|几岁|开门|关门",
    r"需要|要不要|能不能|可不可以|可以|能否|行不行|是不是|有没有|还能|能|会不会|应该|必须|得|要",
    r"带什么|材料|手续|流程|条件|证件|东西|办理|办|弄|搞|处理|申请|找谁|谁管|报警",
    r"一下|一个|这个|那个|这种|就是|然后|现在|我们|我的|我家|家里|自己|一般|具体",
    r"[我你您他她它的了吗呢啊呀吧么嘛哦哈呗咧啦哎唉嗯是有在去到和跟还都也就给把被让对不没很太]",
)))


def content(text: str) -> str:
    """What a canonical text is about, without the words every question has."""
    return GENERIC.sub("", text)


# Numbers said aloud (voice-to-text, elderly typing): “幺二幺二三”, “九六一一零” are 12123, 96110.
_SPOKEN_DIGITS = str.maketrans("零〇幺一二三四五六七八九", "001123456789")
_SPOKEN_NUMBER = re.compile(r"[零〇幺一二三四五六七八九]{3,}")


def canonical(text: str) -> str:
    """Normalized text with look-alikes folded and punctuation dropped (voice-to-text has none)."""
    text = _SPOKEN_NUMBER.sub(lambda m: m.group().translate(_SPOKEN_DIGITS), normalize(text))
    text = _LONG_NUMBER.sub("", text)
    for pattern, word in _CANON:
        text = pattern.sub(word, text)
    return _PUNCT.sub("", text)


def words(text: str) -> list[str]:
    """jieba words of a canonical text, without the ones that fit every question."""
    return [t for t in tokens(text) if t not in STOPWORDS]


class Matchable(Protocol):
    id: str
    title: str
    keywords: tuple[str, ...]
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    entry_id: str
    score: float  # similarity to the entry's examples (0..1)
    runner_up: float  # the best score of any other entry
    support: float  # how much of what the question is about the entry covers (see _coverage)
    decision: float | None = None  # the entry model's decision value (see EntryModel); None: no model
    nearest: str = ""  # the entry whose examples are most similar, when the model chose another


# The nearest-example gate, used only when there is no entry model (a guide of one entry).
# Tuned on tests/data/guide_questions.tsv (see tests/test_guide_accuracy.py). A question is answered
# from its best entry only when the entry is similar enough (MIN_SCORE), covers enough of what the
# question is about (MIN_SUPPORT), and the two together are convincing (MIN_SUM): a very similar
# entry may cover a little less (“我好像被骗了咋整”), a merely similar one must cover more.
MIN_SCORE = 0.30
MIN_SUPPORT = 0.30
MIN_SUM = 0.75
MIN_MARGIN = 0.0  # ahead of the next entry by; 0: near neighbours (换领/异地) are often both right
CHAR_WEIGHT = 0.3  # characters vs words in the combined vector
ANSWER_WEIGHT = 0.2  # an entry's answer in its profile, against its examples
WINDOW = 16  # characters of a piece of a long message (see best)
LONG_MESSAGE = 30  # characters (without punctuation) from which a message is also read in pieces
UNKNOWN_WEIGHT = 0.6  # an n-gram no entry has, against the rarest one an entry has (see _coverage)
PROFILE_WEIGHT = 0.6  # the whole entry vs its best example
MODEL_C = 1.0  # the entry model's regularisation (LinearSVC C)
LOCAL_LIFT = 5.0  # times the plugin's bonus (LOCAL_BONUS, 0.2) for a local entry on its topic: a decision unit
MODEL_MIN_DF = 1  # examples an n-gram or word must occur in (2 loses 3-4 points on both files)
MODEL_WINDOW = 20  # characters of a piece of a long message, for the model (see _decisions)
# The model's gate, chosen on both evaluation files (tests/test_guide_accuracy.py) for few wrong
# answers: decisions are SVM margins, about -1 (no) to +1 (yes).
SURE = -0.3  # a decision from which the model is believed alone ...
SURE_SUPPORT = 0.2  # ... if the entry covers this much of the question (“菜市场几点开门” is not 派出所几点开门)
AGREED = -0.5  # a decision from which it is believed when the nearest examples agree ...
AGREED_SUPPORT = 0.3  # ... and the entry covers this much of the question


GATE_SUPPORT = min(SURE_SUPPORT, AGREED_SUPPORT, MIN_SUPPORT)  # below it no gate answers (see answerable)
MODEL_PATH = Path(__file__).with_name("model.npz")  # the built-in guide, trained (see `jingmin guide-train`)
# What the arrays are made from besides the entries: a change of any of it is a new model.
RECIPE = (CANON, sorted(STOPWORDS), GENERIC.pattern, _LONG_NUMBER.pattern, CHAR_WEIGHT, ANSWER_WEIGHT,
          MODEL_C, MODEL_MIN_DF, segment.DOMAIN_WORDS, segment.DICTIONARY.stat().st_size,
          2)  # the arrays' layout: raise it when train_arrays changes what it writes


class Retriever:
    """The entries' vectors and model as plain arrays: trained in a second or two (jieba,
    scikit-learn) when the entries are new, else loaded (the built-in guide is shipped trained,
    model.npz). Questions are scored with numpy alone (handlers/intents/vectors.py)."""

    def __init__(self, entries: list[Matchable], unrelated: tuple[str, ...] = (), arrays=None) -> None:
        """unrelated: questions no entry answers (see EntryModel); arrays: trained before (see save)."""
        if arrays is None:
            arrays = train_arrays(entries, unrelated)
        self.ids = [e.id for e in entries] if len(arrays) else []  # nothing to match on: matches nothing
        if not self.ids:
            return
        self.chars, self.words = Tfidf.load(arrays, "chars_"), Tfidf.load(arrays, "words_")
        self.owners = np.asarray(arrays["owners"], dtype=np.int64)
        self.examples, self.profiles = Columns.load(arrays, "examples_"), Columns.load(arrays, "profiles_")
        self.topics, self.vocabulary = Tfidf.load(arrays, "topics_"), Columns.load(arrays, "vocabulary_")
        self.idf = self.topics.idf
        self.unknown_weight = UNKNOWN_WEIGHT * float(self.idf.max()) if len(self.idf) else 1.0
        self.model = EntryModel(arrays) if "model_coef" in arrays else None

    def _vector(self, folded: str, cut: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """A canonical text (and its words) as the examples are: char 2-3-grams and words, unit length."""
        char_ids, char_w = self.chars.weights(char_grams(folded, 2, 3))
        word_ids, word_w = self.words.weights(cut)
        ids = np.concatenate([char_ids, word_ids + len(self.chars)])
        w = np.concatenate([char_w * CHAR_WEIGHT, word_w * (1 - CHAR_WEIGHT)])
        norm = math.sqrt(float(w @ w))
        return ids, (w / norm if norm > 0 else w)

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: the score (0..1) and the support (see Hit)."""
        if not self.ids:
            return np.zeros(0), np.zeros(0)
        folded = canonical(text)
        return self._score(folded, words(folded)), self._coverage(folded)

    def _score(self, folded: str, cut: list[str]) -> np.ndarray:
        """Per entry: the best example's similarity and the whole entry's, mixed."""
        ids, w = self._vector(folded, cut)
        best = np.zeros(len(self.ids))
        np.maximum.at(best, self.owners, self.examples.dot(ids, w))
        return (1 - PROFILE_WEIGHT) * best + PROFILE_WEIGHT * self.profiles.dot(ids, w)

    def _coverage(self, folded: str) -> np.ndarray:
        """Per entry: the share of what the question is about (its content n-grams, weighted by
        rarity) that the entry's examples also talk about. “派出所能办结婚登记吗” shares 派出所 with
        the entry on the station's address, not 结婚登记: low coverage, not answered from it."""
        grams = set(char_grams(content(folded), 1, 2))
        if not grams:
            return np.zeros(len(self.ids))
        get = self.topics.index.get
        known = np.fromiter((i for i in map(get, grams) if i is not None), dtype=np.intp)
        weights = self.idf[known]
        total = float(weights.sum()) + self.unknown_weight * (len(grams) - len(known))
        return self.vocabulary.dot(known, weights) / total

    def answerable(self, text: str, bonus: np.ndarray | None = None) -> Hit | None:
        """The best entry if it may be answered (see `confident`), else None. Cheap for chatter:
        an entry is answered only if it covers enough of the question (the support), so a text that
        no entry covers enough, whole or in pieces, is let go before any segmentation or scoring."""
        folded = canonical(text)
        if not self.ids or not folded:
            return None
        texts = [folded, *_pieces(folded, WINDOW)]
        support = [self._coverage(t) for t in texts]
        if max(float(s.max()) for s in support) < GATE_SUPPORT:
            return None
        hit = self._best(folded, texts, support, bonus)
        return hit if confident(hit) else None

    def best(self, text: str, bonus: np.ndarray | None = None) -> Hit | None:
        """The best entry, whether or not it is good enough (see `confident`): the entry model's
        choice, with the similarity and support of that entry and whether the nearest examples agree."""
        folded = canonical(text)
        if not self.ids or not folded:
            return None
        texts = [folded, *_pieces(folded, WINDOW)]
        return self._best(folded, texts, [self._coverage(t) for t in texts], bonus)

    def _best(self, folded: str, texts: list[str], support: list[np.ndarray], bonus: np.ndarray | None) -> Hit:
        cut = _Words()  # each text is segmented once, for the vectors and for the model
        nearest, scores = self._nearest(texts, support, bonus, cut)
        if self.model is None:
            return nearest
        decision, unlifted = self._decisions(folded, bonus, nearest.entry_id, cut, support[0])
        top = int(np.argmax(decision))
        # The lift chooses which entry answers, never how sure the model is: that stays its own
        # best decision (“吃了吗 17” shares a “17” with the 警务室 hours: lifted a whole unit, the
        # hours' -1.1 passed for sure and answered the greeting).
        sure = min(float(decision[top]), unlifted)
        if self.ids[top] == nearest.entry_id:
            return replace(nearest, decision=sure)
        return Hit(self.ids[top], float(scores[top]), nearest.score, float(support[0][top]), sure, nearest.entry_id)

    def _decisions(self, folded: str, bonus: np.ndarray | None, nearest: str, cut: _Words,
                   support: np.ndarray) -> tuple[np.ndarray, float]:
        """The model's decisions, and the best of them before a community's own entries were
        lifted; for a long message, the entry both the model and the nearest examples choose
        also gets its best piece's: the question is one clause of the story, and the rest of it
        only dilutes the decision. `support`: how much of the question each entry covers (a
        community's own entry is lifted only where it covers some)."""
        decisions = self.model.decisions([folded, *_pieces(folded, MODEL_WINDOW)], cut)
        decision, top = decisions[0], int(np.argmax(decisions[0]))
        if self.ids[top] == nearest:
            for piece in decisions[1:]:
                if int(np.argmax(piece)) == top:  # a piece only vouches for the whole message's choice
                    decision[top] = max(decision[top], piece[top])
        if bonus is not None and len(bonus) == len(decision):
            # A community's own entry has a few examples against a built-in's dozens: the model
            # leans to the built-in on a shared topic, so the local one is lifted on the model's scale.
            # Only where it covers the question: lifted everywhere, the config's 警务室 hours
            # outranked every built-in entry for a question about dog licences, and then (covering
            # none of it) answered nothing.
            return decision + np.where(support >= GATE_SUPPORT, bonus * LOCAL_LIFT, 0.0), float(decision.max())
        return decision, float(decision.max())

    def nearest(self, folded: str, bonus: np.ndarray | None = None) -> Hit | None:
        """The entry whose examples are most similar to a canonical text."""
        if not self.ids or not folded:
            return None
        texts = [folded, *_pieces(folded, WINDOW)]
        return self._nearest(texts, [self._coverage(t) for t in texts], bonus, _Words())[0]

    def _nearest(self, texts: list[str], support: list[np.ndarray], bonus: np.ndarray | None,
                 cut: _Words) -> tuple[Hit, np.ndarray]:
        """The nearest entry, and the whole message's scores. A long message (voice-to-text, a
        resident telling the whole story) is also read in overlapping pieces (texts[1:]): the
        question is often one clause of it, and the piece that says it is judged alone."""
        scores = [self._score(t, cut[t]) for t in texts]
        if bonus is not None and len(bonus) == len(self.ids):
            scores = [s + bonus for s in scores]
        whole = hit = _hit(self.ids, scores[0], support[0])
        for row in range(1, len(scores)):
            piece = _hit(self.ids, scores[row], support[row])
            # A piece may only vouch for the entry the whole message is closest to: alone,
            # “要准备些什么材料去哪里办” would pick any entry about materials.
            if piece.entry_id == whole.entry_id and piece.score + piece.support > hit.score + hit.support:
                hit = Hit(piece.entry_id, piece.score, whole.runner_up, piece.support)
        return hit, scores[0]

    def ranked(self, text: str, n: int = 5) -> list[tuple[str, float]]:
        scores, _ = self.scores(text)
        return [(self.ids[i], float(scores[i])) for i in np.argsort(-scores)[:n]]


class _Words(dict):
    """words() of each text asked for, cut once."""

    def __missing__(self, text: str) -> list[str]:
        self[text] = found = words(text)
        return found


def model_key(entries: list[Matchable], unrelated: tuple[str, ...] = ()) -> str:
    """What a trained guide is made from: the entries' every text, the unrelated questions and the recipe."""
    key = (tuple((e.id, e.title, tuple(e.keywords), tuple(e.questions), tuple(getattr(e, "asked", ())),
                  getattr(e, "answer", "") or "") for e in entries), tuple(unrelated), RECIPE)
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def save(arrays: dict, key: str, path: Path) -> None:
    """Arrays only (no pickle: loading runs no code), written whole or not at all."""
    buf = io.BytesIO()
    np.savez_compressed(buf, key=np.array(key), **arrays)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)


def load(path: Path, key: str) -> dict | None:
    """The arrays saved at `path` if they were trained from `key`'s entries, else None."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files if k != "key"} if str(z["key"]) == key else None
    except (OSError, ValueError, KeyError):
        return None


# A bot trains in a child process (see _train_apart); the test suite, which trains many guides and
# has scikit-learn loaded anyway, trains in its own (a child costs ~3 s more to start).
TRAIN_APART = True
_built: OrderedDict[str, Retriever] = OrderedDict()
_BUILT_KEEP = 4  # a few guides (each ~25 MB) per process
_built_lock = threading.Lock()  # guides are built in worker threads and let go on the event loop


def retriever_for(entries: list[Matchable], unrelated: tuple[str, ...] = (), cache: Path | None = None,
                  train: bool = True) -> Retriever | None:
    """The Retriever of these entries, built once per process for the same contents: a restart of
    the App, a second bot on one process (and each test's bot) need not build it again. Trained
    only for entries not trained before: the built-in guide is shipped trained (model.npz), and
    what was trained for a community's own entries is kept in `cache` (its data directory).
    Any change of an entry (an officer's edit) is a new key, so it is trained anew: with a `cache`,
    in a process of its own, so the bot never loads scikit-learn (~75 MB it would keep).
    train=False: None instead of training."""
    key = model_key(entries, unrelated)
    with _built_lock:
        found = _built.get(key)
    if found is None:
        saved = cache / f"guide-{key}.npz" if cache is not None else None
        arrays = load(MODEL_PATH, key)
        if arrays is None and saved is not None:
            arrays = load(saved, key)
        if arrays is None and not train:
            return None
        if arrays is None and saved is not None and TRAIN_APART:
            arrays = _train_apart(entries, unrelated, key, saved)
        if arrays is None:
            arrays = train_arrays(entries, unrelated)
        found = Retriever(entries, unrelated, arrays)
    with _built_lock:
        _built[key] = found
        _built.move_to_end(key)
        while len(_built) > _BUILT_KEEP:
            _built.popitem(last=False)
    return found


def forget(retriever: Retriever) -> None:
    """Drop a guide no longer answering from the process's cache: the built-in one answering while
    a community's own entries were trained, or the guide as it was before an officer's edit (its
    arrays stay in the data directory, see retriever_for). A bot still using it keeps it."""
    with _built_lock:
        for key in [k for k, r in _built.items() if r is retriever]:
            del _built[key]


def _train_apart(entries: list[Matchable], unrelated: tuple[str, ...], key: str, path: Path) -> dict | None:
    """Trained by a child process into `path` (kept for the next start: the latest few of the
    directory), then loaded; None if that failed (then it is trained here)."""
    plain = [{"id": e.id, "title": e.title, "keywords": list(e.keywords), "questions": list(e.questions),
              "asked": list(getattr(e, "asked", ())), "answer": getattr(e, "answer", "") or ""} for e in entries]
    job = json.dumps({"entries": plain, "unrelated": list(unrelated), "key": key, "path": str(path)})
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # This file run as a script: the guide package (the plugin, its storage) is not imported.
        done = subprocess.run([sys.executable, __file__], input=job, capture_output=True, text=True, env=env, cwd=root, timeout=600)
        if done.returncode:
            raise OSError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
        for old in sorted(path.parent.glob("guide-*.npz"), key=lambda p: p.stat().st_mtime)[:-3]:
            old.unlink(missing_ok=True)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("guide: training in %s failed (%s); training in the bot's process", path.parent, exc)
        return None
    return load(path, key)


@dataclass(frozen=True)
class _Plain:
    id: str
    title: str
    keywords: tuple[str, ...]
    questions: tuple[str, ...]
    asked: tuple[str, ...]
    answer: str


def _train_job() -> None:
    """The child of _train_apart: the job (JSON) on stdin, the arrays to its path."""
    job = json.loads(sys.stdin.read())
    entries = [_Plain(e["id"], e["title"], tuple(e["keywords"]), tuple(e["questions"]), tuple(e["asked"]), e["answer"])
               for e in job["entries"]]
    save(train_arrays(entries, tuple(job["unrelated"])), job["key"], Path(job["path"]))


def train_arrays(entries: list[Matchable], unrelated: tuple[str, ...]) -> dict:
    """The arrays of a Retriever (see Retriever.__init__), from the entries' texts. Uses scipy and
    scikit-learn, imported here only: a bot whose guide is trained before never loads them."""
    import scipy.sparse as sp

    examples, owners = [], []
    for i, entry in enumerate(entries):
        for text in (entry.title, *entry.keywords, *entry.questions, *getattr(entry, "asked", ())):
            if canonical(text):
                examples.append(canonical(text))
                owners.append(i)
    if not examples:
        return {}
    arrays: dict = {"owners": np.array(owners, dtype=np.int64)}
    cut = _Words()
    chars = Tfidf.fit([char_grams(t, 2, 3) for t in examples], sublinear=True)
    word_vectors = Tfidf.fit([cut[t] for t in examples], sublinear=True)
    chars.save(arrays, "chars_")
    word_vectors.save(arrays, "words_")
    probe = Retriever.__new__(Retriever)  # only its _vector, for the examples as for questions
    probe.chars, probe.words = chars, word_vectors
    dim = len(chars) + len(word_vectors)

    def matrix(texts: list[str]):
        rows = [probe._vector(t, words(t)) for t in texts]
        return _csr(rows, dim)

    vectors = matrix(examples)
    Columns.of(vectors).save(arrays, "examples_")
    # An entry's profile: all its examples at once, for questions that mix their words.
    onehot = sp.csr_matrix((np.ones(len(owners)), (owners, np.arange(len(owners)))), shape=(len(entries), len(owners)))
    profiles = _unit_rows(onehot @ vectors)
    if ANSWER_WEIGHT:  # the answer's words help a little: it describes the situation too
        said = matrix([canonical(getattr(e, "answer", "") or "") for e in entries])
        profiles = _unit_rows(profiles + ANSWER_WEIGHT * said)
    Columns.of(profiles).save(arrays, "profiles_")
    # What each entry talks about: the n-grams of its examples once the question words are gone,
    # and of its answer (it names what the entry is about: 工本费, 拍照, 户口本 ...).
    answers = [content(canonical(getattr(e, "answer", "") or "")) for e in entries]
    documents = [set(char_grams(content(t), 1, 2)) for t in examples] + [set(char_grams(a, 1, 2)) for a in answers]
    topics = Tfidf.fit([list(d) for d in documents], binary=True)
    topics.save(arrays, "topics_")
    talks: list[set[int]] = [set() for _ in entries]
    for owner, grams in zip(owners + list(range(len(entries))), documents):
        talks[owner].update(topics.index[g] for g in grams)
    pairs = [(e, g) for e, grams in enumerate(talks) for g in grams]
    rows, cols = (np.array(c, dtype=np.int64) for c in zip(*pairs)) if pairs else (np.zeros(0, np.int64),) * 2
    Columns.of(sp.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(entries), len(topics)))
               ).save(arrays, "vocabulary_")
    if len(set(owners)) > 1:
        EntryModel.train(examples, owners, unrelated, cut, arrays)
    return arrays


def _csr(rows: list[tuple[np.ndarray, np.ndarray]], dim: int):
    import scipy.sparse as sp

    indptr = np.cumsum([0] + [len(ids) for ids, _ in rows])
    indices = np.concatenate([ids for ids, _ in rows]) if rows else np.zeros(0, np.intp)
    data = np.concatenate([w for _, w in rows]) if rows else np.zeros(0)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), dim))


class EntryModel:
    """A linear model over entries (one-vs-rest linear SVM on character 1-3-grams and jieba words),
    trained on every way of asking of every entry. Unlike the nearest example it learns which words
    tell entries apart (驾 from 身份, 迁出 from 迁入) and which say nothing, so it places situations
    and odd wordings better; it trains in about a second, so it is rebuilt with the guide."""

    def __init__(self, arrays) -> None:
        self.chars, self.words = Tfidf.load(arrays, "model_chars_"), Tfidf.load(arrays, "model_words_")
        # features x classes, kept in float16 (8 MB for the built-in guide instead of 16; the same
        # answers on every blind question set, and as fast): only known features are looked up,
        # so it needs no zero row for unknown ones (FeatureRows would copy it to add one).
        self.coef = np.asarray(arrays["model_coef"], dtype=np.float16)
        self.intercept = np.asarray(arrays["model_intercept"], dtype=np.float64)
        self.classes = np.asarray(arrays["model_classes"], dtype=np.intp)
        self.size = int(arrays["model_size"])

    @staticmethod
    def train(examples: list[str], owners: list[int], unrelated: tuple[str, ...], cut: _Words, arrays: dict) -> None:
        from sklearn.svm import LinearSVC

        size = max(owners) + 1
        # Questions of other offices (社保, 结婚登记 ...) are one more class, “not the guide”: what
        # shares words with an entry but is about something else is then placed there, not on the entry.
        unrelated = [t for t in (canonical(u) for u in unrelated) if t]
        texts, labels = examples + unrelated, owners + [size] * len(unrelated)
        chars = Tfidf.fit([char_grams(t, 1, 3) for t in texts], sublinear=True)
        word_vectors = Tfidf.fit([cut[t] for t in texts], sublinear=True)
        rows = []
        for t in texts:
            char_ids, char_w = chars.weights(char_grams(t, 1, 3))
            word_ids, word_w = word_vectors.weights(cut[t])
            rows.append((np.concatenate([char_ids, word_ids + len(chars)]), np.concatenate([char_w, word_w])))
        svm = LinearSVC(C=MODEL_C, random_state=0).fit(_csr(rows, len(chars) + len(word_vectors)), labels)
        chars.save(arrays, "model_chars_")
        word_vectors.save(arrays, "model_words_")
        arrays["model_coef"] = np.ascontiguousarray(svm.coef_.T, dtype=np.float32)  # half the memory, the same choices
        arrays["model_intercept"] = svm.intercept_.astype(np.float64)
        arrays["model_classes"] = svm.classes_.astype(np.int64)
        arrays["model_size"] = np.array(size)

    def decisions(self, folded: list[str], cut: _Words | None = None) -> np.ndarray:
        """Per canonical text and entry, how strongly the model says the text is about the entry
        (above 0: yes). Where “not the guide” wins, every entry is put below it: none is answered."""
        cut = _Words() if cut is None else cut
        raw = []
        for text in folded:
            char_ids, char_w = self.chars.weights(char_grams(text, 1, 3))
            word_ids, word_w = self.words.weights(cut[text])
            ids = np.concatenate([char_ids, word_ids + len(self.chars)])
            raw.append(np.concatenate([char_w, word_w]) @ self.coef.take(ids, axis=0) + self.intercept)
        raw = np.array(raw)
        if len(self.classes) == 2:  # a binary SVM gives one value: for the second class
            raw = np.hstack([-raw, raw])
        values = np.full((len(folded), self.size + 1), -10.0)
        values[:, self.classes] = raw
        entries, other = values[:, :self.size], values[:, self.size:]
        return np.where(other > entries.max(axis=1, keepdims=True), np.minimum(entries, other - 1.0), entries)


def confident(hit: Hit | None, min_score: float = MIN_SCORE, min_margin: float = MIN_MARGIN,
              min_support: float = MIN_SUPPORT, min_sum: float = MIN_SUM) -> bool:
    """Whether to answer from the hit's entry. With the entry model: when the model is sure on its
    own, or fairly sure and the nearest examples agree and the entry covers the question."""
    if hit is None:
        return False
    if hit.decision is not None:
        if hit.decision >= SURE and hit.support >= SURE_SUPPORT:
            return True
        agreed = not hit.nearest
        return agreed and hit.decision >= AGREED and hit.support >= AGREED_SUPPORT
    return (hit.score >= min_score and hit.support >= min_support
            and hit.score + hit.support >= min_sum and hit.score - hit.runner_up >= min_margin)


def _pieces(folded: str, size: int) -> list[str]:
    """Overlapping pieces of a long message (none for a short one)."""
    if len(folded) <= LONG_MESSAGE:
        return []
    return [folded[start:start + size] for start in range(0, len(folded) - size // 2, size // 2)]


def _hit(ids: list[str], scores: np.ndarray, support: np.ndarray) -> Hit:
    order = np.argsort(-scores)
    top = int(order[0])
    runner = float(scores[order[1]]) if len(order) > 1 else 0.0
    return Hit(ids[top], float(scores[top]), runner, float(support[top]))


def _unit_rows(matrix):
    import scipy.sparse as sp

    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ matrix


if __name__ == "__main__":  # the child of _train_apart
    _train_job()
