"""Negation around a target term: what the opinion model reads as a reversed opinion.

Character n-grams see "不贵" but not that 不 reverses 贵, nor that "一点也不贵", "并不贵" and
"不算贵" say the same. Two readings of a target's own clause:

- **negated predicate:** the words right after the term are negated ("价格不贵", "噪音不大",
  "态度一点也不差", "费用不算高"): the predicate (贵, 大, 差, 高) is returned so that every form of
  the negation shares one feature of the opinion model (`_opinion.target_features`), and the blend
  leaves such a target to the opinion model (`_opinion.blended`: the document model reads plain
  n-grams);
- **absent:** the term is said to be absent — a negator right before it ("没有异响了",
  "无任何异响", "再也没有抖动") or an absence right after it ("异响没有了", "抖动消失了") — and
  nothing else is said about it in its clause; whether that is good news depends on the term
  (`_opinion.reversing`).

And one more reading, **quantity** (`quantity`): the words after the term say only how much of
it there is, more or less (a negation reverses it): "价格偏高", "排队的人很多", "油耗不高"; whether
more is good news depends on the aspect (`taxonomy.Aspect.direction`, `_opinion`). A comparison
says the same ("收费还比报价贵", "手续费比别家低", "等的时间比预约的长多了": more or less than
something else), and of a time it may say early or late instead (`timing`: "交车比约定的还早",
"比预约的晚了两天", "比以前快多了"), which is good or bad news whatever the aspect's direction.
"""

from __future__ import annotations

import re

_FILLER = re.compile(r"[\s的了啊呀吧呢哦哈嘛啦!！?？.。,，、~～…]*")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# how far before the term a negator may stand ("没什么异响" … "再也没有任何异响")
_ABSENT_BEFORE = re.compile(r"(?:没有|没|无|不再|再也没有?)(?:任何|什么|一点|啥)?$")
_ABSENT_AFTER = re.compile(
    r"(?:也|都|已经|就|全|全都|完全|基本|基本上|再也|彻底|终于)*"
    r"(?:没有了|没了|消失了?|不见了|没有再出现|再没出现|没再出现)"
)
_ADVERBS = r"(?:也|都|并|还|倒|可|真|根本|完全|实在|一点儿?(?:也|都)?|丝毫)*"
_NEGATED_PREDICATE = re.compile(
    r"(?:的)?(?:是)?" + _ADVERBS + r"(?:不|没有?|并不|并没有?)(?:太|算|怎么|是很|是太|是|很|够|会)?"
    r"([\u4e00-\u9fff]{1,2})"
)
_TRAILING = "的了啊呀吧呢哦哈嘛啦"
_DEGREE = (
    r"(?:非常|特别|十分|相当|超级|极其|比较|有点|有些|很|太|挺|蛮|偏|过|略|更|好|真|超|这么|那么)"
)
# a complement that only says how far it goes: "贵得离谱", "高得吓人", "少得可怜", "贵死了"
_EXTREME = r"(?:得(?:离谱|吓人|要命|可怕|可怜|惊人|出奇|过分|夸张|不行|很)|死了?|爆了?|极了)?"
# "价格偏高", "噪音也不小", "排队的人很多", "等的时间太长了": what the quantity is of may stand
# between (的 + a word of up to three characters)
_QUANTITY = re.compile(
    r"(?:的[一-鿿]{1,3}?)?(?:也|都|还|就|真的|实在|确实|的确|是)*"
    r"(?P<negated>不|不算|并不|不太|不是很|没那么|没有那么)?" + _DEGREE + r"*"
    r"(?P<quantity>[高多大长贵低少小短]|便宜)" + _EXTREME + r"[的了啊呀吧呢哦哈嘛啦!！~～。.]*"
)
_MORE = frozenset(["高", "多", "大", "长", "贵"])
# "<term> [也/还] [不]比 <what> [还/更/要 …] <quantity> [多了/不少/两天 …]", or "没有 <what> [那么]
# <quantity>" (less than it); what is compared with holds no degree or opinion word, so that
# "比上次好很多" is not read as "…很 | 多"
_AMOUNT = (
    r"(?:[一二两三四五六七八九十百千半几\d]+(?:个|多)?"
    r"(?:小时|分钟|天|周|星期|个月|月|块|元|倍|次)?)"
)
_COMPARISON = re.compile(
    r"(?:的[一-鿿]{1,3}?)?(?:也|都|还|就|可|真的|实在|确实|明显)*"
    r"(?:(?P<unlike>不|并不)?比(?!较)|(?P<short_of>没有|没))(?P<than>[^，,。.!！?？；;很太好差不]{1,12}?)"
    r"(?:还要|还|更加|更|都|也|要|稍微|稍|略|明显|足足|那么|这么|非常|特别|相当|有点|有些|偏)*"
    r"(?P<quantity>[高多大长贵低少小短早晚快慢迟]|便宜)"
    r"(?:了|得多|多了|很多|好多|不少|一些|一点儿?|点|" + _AMOUNT + r")*"
    r"[的了啊呀吧呢哦哈嘛啦!！~～。.]*"
)
_TIMING = {"早": 1, "快": 1, "晚": -1, "慢": -1, "迟": -1}
_NOT_PREDICATES = frozenset("不没有是")


def absent(text: str, clause_start: int, clause_end: int, start: int, end: int) -> bool:
    """The term text[start:end] is said to be absent in its clause (see the module docstring)."""
    if end <= start:
        return False
    before = text[max(clause_start, start - 8) : start]
    after = text[end:clause_end]
    if _ABSENT_BEFORE.search(before) and _FILLER.fullmatch(after):
        return True
    gone = _ABSENT_AFTER.match(after)
    return gone is not None and bool(_FILLER.fullmatch(after[gone.end() :]))


def negated_predicate(text: str, end: int, clause_end: int) -> str:
    """The predicate negated right after a term ending at `end` ("价格不贵" → "贵"), else ""."""
    after = text[end:clause_end]
    if _ABSENT_AFTER.match(after):
        return ""
    found = _NEGATED_PREDICATE.match(after)
    if found is None:
        return ""
    predicate = found.group(1).rstrip(_TRAILING)
    if not predicate or predicate[0] in _NOT_PREDICATES or not _HAN.match(predicate):
        return ""
    return predicate


def quantity(text: str, end: int, clause_end: int) -> int:
    """What the words after a term ending at `end` say of its quantity, when that is all they
    say: 1 more ("价格很高", "排队的人很多", "噪音也不小"), -1 less ("价格偏低", "油耗不高"),
    0 anything else. Whether more is good news depends on the term (`taxonomy.Aspect.direction`)."""
    found = _QUANTITY.fullmatch(text, end, clause_end)
    if found is not None:
        more = 1 if found.group("quantity") in _MORE else -1
        return -more if found.group("negated") else more
    word, reversed_ = _compared(text, end, clause_end)
    if not word or word in _TIMING:
        return 0
    more = 1 if word in _MORE else -1
    return -more if reversed_ else more


# "早餐种类少", "菜品的选择不多", "款式很丰富": how many kinds of the term there are, the kind word
# right after the term (or the term itself one, "品种太少"); fewer is bad news whatever the term
_KIND_WORD = r"(?:种类|品种|选择|花样|款式|样式|菜式|类型|口味)"
_VARIETY = re.compile(
    r"(?:的)?(?P<kind>" + _KIND_WORD + r")?(?:也|都|还|就|真的|实在|确实|的确|是)*"
    r"(?P<negated>不|不算|并不|不太|不是很|不够|没那么|没有那么)?" + _DEGREE + r"*"
    r"(?P<variety>少|单一|单调|有限|匮乏|不多|多|丰富|多样|齐全|繁多)" + _EXTREME
    + r"[的了啊呀吧呢哦哈嘛啦!！~～。.]*"
)
_FEW = frozenset(["少", "单一", "单调", "有限", "匮乏", "不多"])
# a text holding no kind word says nothing of kinds (a cheap test before the regex)
_VARIETY_HINT = re.compile(_KIND_WORD)


def variety(text: str, end: int, clause_end: int) -> int:
    """What the words after a term ending at `end` say of how many kinds of it there are, when
    that is all they say: 1 many ("早餐种类很丰富", "菜品的选择多"), -1 few ("早餐种类少", "品种太
    少", "款式不够多"), 0 anything else. Unlike a quantity, more kinds are good news for every
    term; a kind word (种类, 品种, 选择 …) must stand after the term unless the term is one."""
    if _VARIETY_HINT.search(text) is None:
        return 0
    found = _VARIETY.fullmatch(text, end, clause_end)
    if found is None:
        return 0
    if not found.group("kind") and not re.search(_KIND_WORD + "$", text[:end]):
        return 0
    many = -1 if found.group("variety") in _FEW else 1
    return -many if found.group("negated") else many


def timing(text: str, end: int, clause_end: int) -> int:
    """What a comparison after a term ending at `end` says of a time, when that is all it says:
    1 good news (earlier or faster than something else: "比约定的时间还早", "比以前快多了"), -1
    bad news ("比预约的晚了两天"), 0 anything else."""
    word, reversed_ = _compared(text, end, clause_end)
    if word not in _TIMING:
        return 0
    return -_TIMING[word] if reversed_ else _TIMING[word]


def _compared(text: str, end: int, clause_end: int) -> tuple[str, bool]:
    """The quantity word of a comparison after a term (see `_COMPARISON`) and whether it is
    reversed ("不比别家贵", "没有别家贵": not more); ("", False) where there is none."""
    if "比" not in text[end:clause_end] and "没" not in text[end:clause_end]:
        return "", False
    found = _COMPARISON.fullmatch(text, end, clause_end)
    if found is None:
        return "", False
    return found.group("quantity"), bool(found.group("unlike") or found.group("short_of"))
