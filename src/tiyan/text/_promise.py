"""Broken promises: a promise about a target and then a delay or a break ("说好下午四点交车，拖到了
晚上七点", "约好周五取车，结果拖到下周二", "客服答应退款，到现在还没到账").

Character n-grams read 好 in 说好 / 约好 as praise and have seen 拖到 too rarely to weigh it, and
the corpora hold almost no after-sales complaint to learn the pattern from. Whatever the aspect,
a promise that was not kept is bad news about what was promised, so this is a rule
(`_opinion.blended`), like the absence rule: a promise word in the target's clause, or in the
clause before it, and after it, in the target's clause or the next one, a word of delay or of a
promise broken. A promise kept ("说好的优惠都兑现了", "约好十点取车，九点半就好了") holds no such
word and is read as any other opinion.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tiyan.text.segment import Clause

_PROMISE = re.compile(r"说好|约好|讲好|谈好|定好|答应|承诺|保证|许诺|预约的|约定的?|说定")
# still not done ("到现在还没到账", "却没有"), but not still not broken ("用到现在还没坏": a
# guarantee kept)
_NOT_YET = (
    r"(?:(?:到现在|至今)[^，,。]{0,4}?|还是?|都|却)(?:没有?|未)"
    r"(?!有?(?:坏|出.{0,2}(?:问题|毛病|故障)|问题|毛病|故障|异响))|却不"
)
_BROKEN = re.compile(
    r"拖到|拖了|一拖再拖|拖延|推迟|延迟|延期|延后|迟迟|" + _NOT_YET + r"|"
    r"结果(?:又|还|却|都)?(?:没|不|拖|推|晚|迟|等)|(?<![有人天刚方口])才[\u4e00-\u9fff]|等到|"
    r"食言|变卦|反悔|爽约|放鸽子|不认账|没兑现|没有兑现|不兑现|没做到|没有做到|没办到|没实现|"
    r"没有实现|说话不算数?"
)


def broken_promise(clauses: Sequence[Clause], index: int) -> bool:
    """A promise broken about a target of clauses[index] (see the module docstring)."""
    own = clauses[index]
    before = clauses[index - 1] if index > 0 else None
    after = clauses[index + 1] if index + 1 < len(clauses) else None
    promised = _PROMISE.search(own.text)
    if promised is None and before is not None:
        promised = _PROMISE.search(before.text)
        if promised is None:
            return False
        # the promise is in the clause before: the break must be in the target's own clause
        return _BROKEN.search(own.text) is not None
    if promised is None:
        return False
    if _BROKEN.search(own.text, promised.end()) is not None:
        return True
    return after is not None and broken_after(own, after)


def broken_after(own: Clause, after: Clause) -> bool:
    """`own` holds a promise and the clause `after` it a delay or a break: the opinion about a
    target of `own` is in `after` ("约好的上门时间是周六，师傅迟迟没来")."""
    return _PROMISE.search(own.text) is not None and _BROKEN.search(after.text) is not None
