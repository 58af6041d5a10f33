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
"""

from __future__ import annotations

from collections import OrderedDict

import re
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from handlers.intents.normalize import normalize
from handlers.intents.segment import tokens

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
LOCAL_LIFT = 5.0  # times the plugin's bonus (0.1) for local entries: half a decision unit
MODEL_MIN_DF = 1  # examples an n-gram or word must occur in (2 loses 3-4 points on both files)
MODEL_WINDOW = 20  # characters of a piece of a long message, for the model (see _decisions)
# The model's gate, chosen on both evaluation files (tests/test_guide_accuracy.py) for few wrong
# answers: decisions are SVM margins, about -1 (no) to +1 (yes).
SURE = -0.3  # a decision from which the model is believed alone ...
SURE_SUPPORT = 0.2  # ... if the entry covers this much of the question (“菜市场几点开门” is not 派出所几点开门)
AGREED = -0.5  # a decision from which it is believed when the nearest examples agree ...
AGREED_SUPPORT = 0.3  # ... and the entry covers this much of the question


class Retriever:
    """Built from the entries in a second or two (jieba); rebuilt when officers change the guide."""

    def __init__(self, entries: list[Matchable], unrelated: tuple[str, ...] = ()) -> None:
        """unrelated: questions no entry answers (see EntryModel)."""
        examples, owners = [], []
        for i, entry in enumerate(entries):
            for text in (entry.title, *entry.keywords, *entry.questions, *getattr(entry, "asked", ())):
                if canonical(text):
                    examples.append(canonical(text))
                    owners.append(i)
        self.ids = [e.id for e in entries] if examples else []  # nothing to match on: matches nothing
        if not examples:
            return
        self.owners = np.array(owners, dtype=np.int64)
        self.chars = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True)
        self.words = TfidfVectorizer(analyzer=words, sublinear_tf=True)
        self.chars.fit(examples)
        self.words.fit(examples)
        self.examples = self._vectors(examples)
        # An entry's profile: all its examples at once, for questions that mix their words.
        onehot = sp.csr_matrix((np.ones(len(owners)), (self.owners, np.arange(len(owners)))),
                               shape=(len(entries), len(owners)))
        profiles = _unit_rows(onehot @ self.examples)
        if ANSWER_WEIGHT:  # the answer's words help a little: it describes the situation too
            said = self._vectors([canonical(getattr(e, "answer", "") or "") for e in entries])
            profiles = _unit_rows(profiles + ANSWER_WEIGHT * said)
        self.profiles = profiles
        # What each entry talks about: the n-grams of its examples once the question words are gone.
        self.topics = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), binary=True, use_idf=True)
        # An entry's answer counts too: it names what the entry is about (工本费, 拍照, 户口本 ...).
        answers = [content(canonical(getattr(e, "answer", "") or "")) for e in entries]
        present = self.topics.fit_transform([content(t) for t in examples] + answers)
        present.data[:] = 1.0
        own = sp.hstack([onehot, sp.identity(len(entries), format="csr")]).tocsr()
        self.vocabulary = (own @ present).tocsr()
        self.vocabulary.data[:] = 1.0
        self.idf = self.topics.idf_
        self.unknown_weight = UNKNOWN_WEIGHT * float(self.idf.max()) if len(self.idf) else 1.0
        self.grams = self.topics.build_analyzer()
        self.model = EntryModel(examples, owners, unrelated) if len(set(owners)) > 1 else None

    def _vectors(self, texts: list[str]) -> sp.csr_matrix:
        chars = self.chars.transform(texts) * CHAR_WEIGHT
        word_vectors = self.words.transform(texts) * (1 - CHAR_WEIGHT)
        return _unit_rows(sp.hstack([chars, word_vectors]).tocsr())

    def scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: the score (0..1) and the support (see Hit)."""
        if not self.ids:
            return np.zeros(0), np.zeros(0)
        scores, support = self._scores([canonical(text)])
        return scores[0], support[0]

    def _scores(self, folded: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per canonical text and entry: score and support (one vector pass for all texts)."""
        query = self._vectors(folded).T
        similar = (self.examples @ query).toarray()  # examples x texts
        best = np.zeros((len(self.ids), len(folded)))
        np.maximum.at(best, self.owners, similar)
        profile = (self.profiles @ query).toarray()
        scores = ((1 - PROFILE_WEIGHT) * best + PROFILE_WEIGHT * profile).T
        return scores, np.array([self._coverage(t) for t in folded])

    def _coverage(self, text: str) -> np.ndarray:
        """Per entry: the share of what the question is about (its content n-grams, weighted by
        rarity) that the entry's examples also talk about. “派出所能办结婚登记吗” shares 派出所 with
        the entry on the station's address, not 结婚登记: low coverage, not answered from it."""
        grams = set(self.grams(content(text)))
        if not grams:
            return np.zeros(len(self.ids))
        known = [self.topics.vocabulary_[g] for g in grams if g in self.topics.vocabulary_]
        total = float(self.idf[known].sum()) + self.unknown_weight * (len(grams) - len(known))
        query = np.zeros(len(self.idf))
        query[known] = self.idf[known]
        return self.vocabulary @ query / total

    def best(self, text: str, bonus: np.ndarray | None = None) -> Hit | None:
        """The best entry, whether or not it is good enough (see `confident`): the entry model's
        choice, with the similarity and support of that entry and whether the nearest examples agree."""
        folded = canonical(text)
        if not self.ids or not folded:
            return None
        nearest, scores, support = self._nearest(folded, bonus)
        if self.model is None:
            return nearest
        decision = self._decisions(folded, bonus, nearest.entry_id)
        top = int(np.argmax(decision))
        if self.ids[top] == nearest.entry_id:
            return replace(nearest, decision=float(decision[top]))
        return Hit(self.ids[top], float(scores[top]), nearest.score, float(support[top]),
                   float(decision[top]), nearest.entry_id)

    def _decisions(self, folded: str, bonus: np.ndarray | None, nearest: str) -> np.ndarray:
        """The model's decisions; for a long message, the entry both the model and the nearest
        examples choose also gets its best piece's: the question is one clause of the story, and
        the rest of it only dilutes the decision."""
        decisions = self.model.decisions([folded, *_pieces(folded, MODEL_WINDOW)])
        decision, top = decisions[0], int(np.argmax(decisions[0]))
        if self.ids[top] == nearest:
            for piece in decisions[1:]:
                if int(np.argmax(piece)) == top:  # a piece only vouches for the whole message's choice
                    decision[top] = max(decision[top], piece[top])
        if bonus is not None and len(bonus) == len(decision):
            # A community's own entry has a few examples against a built-in's dozens: the model
            # leans to the built-in on a shared topic, so the local one is lifted on the model's scale.
            decision = decision + bonus * LOCAL_LIFT
        return decision

    def nearest(self, folded: str, bonus: np.ndarray | None = None) -> Hit | None:
        """The entry whose examples are most similar to a canonical text."""
        return self._nearest(folded, bonus)[0] if self.ids and folded else None

    def _nearest(self, folded: str, bonus: np.ndarray | None) -> tuple[Hit, np.ndarray, np.ndarray]:
        """The nearest entry, and the whole message's scores and support. A long message
        (voice-to-text, a resident telling the whole story) is also read in overlapping pieces:
        the question is often one clause of it, and the piece that says it is judged alone."""
        scores, support = self._scores([folded, *_pieces(folded, WINDOW)])
        if bonus is not None and len(bonus) == scores.shape[1]:
            scores = scores + bonus
        whole = hit = _hit(self.ids, scores[0], support[0])
        for row in range(1, len(scores)):
            piece = _hit(self.ids, scores[row], support[row])
            # A piece may only vouch for the entry the whole message is closest to: alone,
            # “要准备些什么材料去哪里办” would pick any entry about materials.
            if piece.entry_id == whole.entry_id and piece.score + piece.support > hit.score + hit.support:
                hit = Hit(piece.entry_id, piece.score, whole.runner_up, piece.support)
        return hit, scores[0], support[0]

    def ranked(self, text: str, n: int = 5) -> list[tuple[str, float]]:
        scores, _ = self.scores(text)
        return [(self.ids[i], float(scores[i])) for i in np.argsort(-scores)[:n]]


_built: OrderedDict[tuple, Retriever] = OrderedDict()
_BUILT_KEEP = 4  # a few guides (each a second or two of training and ~15 MB) per process


def retriever_for(entries: list[Matchable], unrelated: tuple[str, ...] = ()) -> Retriever:
    """The Retriever of these entries, built once per process for the same contents: a restart of
    the App, a second bot on one process (and each test's bot) need not train the same model again.
    Any change of an entry (an officer's edit) is a new key, so it is built anew."""
    key = (tuple((e.id, e.title, tuple(e.keywords), tuple(e.questions), tuple(getattr(e, "asked", ())),
                  getattr(e, "answer", "") or "") for e in entries), tuple(unrelated))
    found = _built.get(key)
    if found is None:
        found = _built[key] = Retriever(entries, unrelated)
        while len(_built) > _BUILT_KEEP:
            _built.popitem(last=False)
    _built.move_to_end(key)
    return found


class EntryModel:
    """A linear model over entries (one-vs-rest linear SVM on character 1-3-grams and jieba words),
    trained on every way of asking of every entry. Unlike the nearest example it learns which words
    tell entries apart (驾 from 身份, 迁出 from 迁入) and which say nothing, so it places situations
    and odd wordings better; it trains in about a second, so it is rebuilt with the guide."""

    def __init__(self, examples: list[str], owners: list[int], unrelated: tuple[str, ...] = ()) -> None:
        self.size = max(owners) + 1
        # Questions of other offices (社保, 结婚登记 ...) are one more class, “not the guide”: what
        # shares words with an entry but is about something else is then placed there, not on the entry.
        unrelated = [t for t in (canonical(u) for u in unrelated) if t]
        texts, labels = examples + unrelated, owners + [self.size] * len(unrelated)
        self.chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=MODEL_MIN_DF)
        self.words = TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=MODEL_MIN_DF)
        features = sp.hstack([self.chars.fit_transform(texts), self.words.fit_transform(texts)]).tocsr()
        self.svm = LinearSVC(C=MODEL_C).fit(features, labels)
        self.svm.coef_ = self.svm.coef_.astype(np.float32)  # half the memory, the same choices
        self.classes = self.svm.classes_

    def decisions(self, folded: list[str]) -> np.ndarray:
        """Per canonical text and entry, how strongly the model says the text is about the entry
        (above 0: yes). Where “not the guide” wins, every entry is put below it: none is answered."""
        features = sp.hstack([self.chars.transform(folded), self.words.transform(folded)]).tocsr()
        raw = np.asarray(features @ self.svm.coef_.T) + self.svm.intercept_  # decision_function, unchecked
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


def _unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ matrix
