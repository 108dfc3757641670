"""Clauses that ask, for information or for a service: "请问酒店有停车场吗？", "早餐几点开始？",
"请帮我查一下话费".

A question that only asks holds no opinion, but the Chinese document model, trained on reviews
(two classes, no neutral), reads one as it reads the reviews' questions, which nearly all
complain ("怎么还没到？", "不是说好送王老吉吗？"): "你们店周末营业吗？" came out negative (-0.92),
enough to open a case. So a clause **asks** when

- it is put as a question (a question mark after it, 请问 before it, 吗 or 呢 at its end) and
  holds a word that asks (几, 多少, 什么, 谁, 怎么, 哪里, 有没有, 是否, 吗 …), or it holds a
  word that asks wherever it stands (几点, 多久, 多少, 怎么, 如何, 是否, the A-not-A form
  有没有, 能不能 …: "宽带安装一般要几天") and does not report what someone said or knew
  ("告诉我大概多少钱");
- and nothing in it complains: the words of a rhetorical question (为什么, 凭什么, 难道,
  怎么还, 怎么会, 竟然, 到底 …), a negator outside the A-not-A form ("不是说好的吗", "没货吗"), a
  degree or a comparison (这么, 那么, 太, 比), a request for more or less of something or to
  change it ("能快点吗", "可否包装好一些", "能不能把画面去掉"), "how am I to" ("让我怎么保修"),
  an exclamation mark or repeated question marks ("怎么回事？？？").

A request for a service or an action asks too ("请帮我查一下话费", "我想改一下套餐", "麻烦帮我转
人工"), under the same conditions: "赶紧帮我处理一下" and "我要投诉" complain. A bare question mark
asks nothing by itself ("这是新鲜的？" is sarcasm). A comment **only asks** when one of its
clauses asks and each of the others is a greeting or thanks (`only_asks`).
English needs none of this: the English model learned a neutral class, questions included, from
its tweets. `bench/questions.py` measures the rules on messages written for it and never used to
write them, and their cost on the reviews of the shared corpora.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tiyan.text.segment import Clause, split_clauses

# what opens a question: it may stand alone as a clause, like a greeting ("请问，…")
_OPENERS = r"请问|想问|问一下|问下|咨询一下|咨询下|麻烦问一下|打扰一下"
# a question put as one: a question mark after the clause (see `asks`), an opener before it, 吗
# or 呢 at its end
_MARKED = re.compile(r"^(?:" + _OPENERS + r")|[吗么呢][啊呀]?$")
# the A-not-A form asks by itself: 有没有, 是不是, 能不能, 要不要, 可不可以
_A_NOT_A = r"([\u4e00-\u9fff])[不没]\1"
_A_NOT_A_FORM = re.compile(_A_NOT_A)
# words that ask wherever they stand (and that the cheap test `may_ask` looks for as they are)
_ASKING_WORDS = r"多久|多长时间|多少|是否|能否|可否|有无"
# words that ask wherever they stand, marked or not ("宽带安装一般要几天", "保单受益人怎么变更"),
# unless the clause reports what someone said, asked or knew ("开单时就告诉我大概多少钱", "还打电话
# 问车况怎么样", "了解如何预防"); 几 after 好, 十 or 了 is "several" ("回购了几次")
_INTERROGATIVE = re.compile(
    r"几点|(?<![好十了])几[天个号次保年月]$|什么时候|哪[里儿个些家天位种款]|怎么|怎样|如何|"
    + _ASKING_WORDS + "|" + _A_NOT_A
)
# words that ask only in a clause marked as a question ("什么都差" asks nothing)
_WEAK_INTERROGATIVE = re.compile(r"什么|啥|谁|(?<![好十了])几(?!乎)|[吗么][啊呀]?$")
_REPORTED = re.compile(
    r"告诉|说|讲|通知|知道|清楚|了解|学|教|解释|提醒|介绍|确认|(?<![请想])问(?!一下|下)|希望|建议|"
    r"检查|看看"
)
# a request for a service or an action ("请帮我查一下话费", "我想改一下套餐", "麻烦帮我转人工"): it
# asks for something, and is no more an opinion than a question is
_REQUEST = re.compile(
    r"^(?:你好|您好)?(?:请|麻烦|劳驾)?(?:你|您|你们)?帮(?:我|忙|我们)|"
    r"^(?:请|麻烦)(?:你|您|你们)?给我|^(?:能|可以|能不能|可不可以)帮我|"
    r"^我(?:想|要|需要|打算|准备)(?:办理?|改|更改|修改|变更|取消|开通|关闭|查询?|咨询|换|更换|预约|"
    r"了解|退订|续费|充值|交|缴|补办|补|挂失|注销|升级|转|申请|订|定|预订)|"
    r"^转人工|^人工(?:客服|服务)?$"
)
# words that complain wherever they stand in a clause
_COMPLAINING_WORDS = (
    r"投诉|举报|退款|赔|差评|12315|尽快|赶紧|赶快|马上|立刻|立即|再不|"
    r"为什么|为何|为啥|凭什么|难道|竟然|居然|到底|究竟|"
    r"怎么(?:还|又|会|能|可能|就|老是|总是|这么|那么|回事|搞|弄的|没|不|是|只|有|成|变)|"
    r"这么|那么|太|又|比(?!较|如)|所谓|就是|这叫|这个叫|叫我|什么意思|逗|搞错|什么鬼|什么玩意|"
    r"啥玩意|也叫|就这|好意思|(?:能不能|可不可以|能否|可否)(?:把|别|不要)|[让叫][^，,。]{0,4}怎么"
)
_COMPLAINING_WORD = re.compile(_COMPLAINING_WORDS)
# and what complains at a clause's end, or in the punctuation after it
_COMPLAINS = re.compile(
    _COMPLAINING_WORDS + r"|怎么.*了$|"
    r"(?:(?<!几)点儿?|一些)(?:[吗么嘛呢啊吧]|[?？!！。.~～]*$)|"
    r"[?？!！]{2,}|[!！]"
)
# a text holding none of these asks nothing (a cheap test before the clauses)
_MAY_ASK = re.compile(
    r"[?？吗么呢几哪谁怎如帮]|请|麻烦|劳驾|我想|我要|我需要|我打算|我准备|转人工|人工|想问|问下|问一下|"
    r"咨询|" + _ASKING_WORDS + "|" + _A_NOT_A
)
# negators, looked for outside the A-not-A forms
_NEGATOR = re.compile(r"[不没未别]")
_COURTESY = re.compile(
    r"(?:你好|您好|hi|hello|谢谢|多谢|感谢|谢了|麻烦了?|麻烦您了?|打扰了?|辛苦了?|在吗|急|想问一下|"
    + _OPENERS + r")[啊呀哈啦!！。.~～]*",
    re.IGNORECASE,
)


def _negated(text: str) -> bool:
    """A negator in `text` outside the A-not-A form (有没有 asks; 没有 does not)."""
    return _NEGATOR.search(_A_NOT_A_FORM.sub("", text)) is not None


def asks(clause: str, after: str = "") -> bool:
    """Whether `clause` asks, for information or for a service, and does not complain (see the
    module docstring); `after` is the punctuation that follows it in its text ("？？？"
    complains)."""
    return _puts_a_request_or_question(clause, after) and not (
        _COMPLAINS.search(clause + after) or _negated(clause)
    )


def _puts_a_request_or_question(clause: str, after: str) -> bool:
    if _REQUEST.search(clause):
        return True
    if "?" in after or "？" in after or _MARKED.search(clause):
        return bool(_INTERROGATIVE.search(clause) or _WEAK_INTERROGATIVE.search(clause))
    return bool(_INTERROGATIVE.search(clause)) and not _REPORTED.search(clause)


def may_ask(text: str) -> bool:
    """False when no clause of `text` can ask (a cheap test before the clauses)."""
    return _MAY_ASK.search(text) is not None


def asking_clauses(text: str, clauses: Sequence[Clause] | None = None) -> list[bool]:
    """For each clause of `text` (`split_clauses` unless given), whether it asks."""
    found = clauses if clauses is not None else split_clauses(text)
    if not may_ask(text):
        return [False] * len(found)
    following = [clause.start for clause in found[1:]] + [len(text)]
    return [
        asks(clause.text, text[clause.end : after])
        for clause, after in zip(found, following, strict=True)
    ]


def only_asks(text: str, clauses: Sequence[Clause] | None = None) -> bool:
    """Whether `text` only asks: one clause at least asks, and every other one is a greeting or
    thanks. A clause that says what the question is about ("我上周办了卡，怎么开通手机银行？")
    makes it more than a question: the Chinese model could not tell such a clause from the one
    before a rhetorical question ("车停你们店里被刮了，谁负责？"), and letting the calm ones through
    turned 8 of 50 written complaints neutral to gain 4 of 50 questions."""
    if not may_ask(text):
        return False
    # a negator outside the A-not-A form, or a word that complains, anywhere: the clause holding
    # it does not ask, and no greeting or thanks holds one
    if _negated(text) or _COMPLAINING_WORD.search(text):
        return False
    found = clauses if clauses is not None else split_clauses(text)
    if not found:
        return False
    asking = asking_clauses(text, found)
    return any(asking) and all(
        asked or _COURTESY.fullmatch(clause.text) is not None
        for clause, asked in zip(found, asking, strict=True)
    )
