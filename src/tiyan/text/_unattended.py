"""Nobody attended to it: "前台也没人理", "叫了客房服务，一直没人来", "线上预约没人处理".

"没人" (nobody) followed by what staff are there to do — answer, look after, come, call back,
handle, follow up, explain — says a service was not given, which is bad news about whatever the
clause names. Character n-grams read the verb's words (理, 处理, 说得清) as they read them
anywhere, and the opinion model learned from product reviews, where this hardly occurs. So it is
a rule (`_opinion.decided_rows`), like the broken promise. In the shared corpora the pattern
occurs in reviews labelled negative 95% of the time (docs/models/text.md, section 3); verbs whose
absence is good news (没人打扰, 没人推销, 没人排队) are not in the list.
"""

from __future__ import annotations

import re

_NOBODY = re.compile(
    r"(?:没人|没有人|无人|没个人)(?:[都也还再就]|一直|始终|根本)*"
    r"(?:理|搭理|理睬|管|接|回|联系|告诉|通知|处理|跟进|招呼|来|说得清|解释|答复)"
)


def unattended(text: str) -> bool:
    """`text` (an opinion span) says nobody attended to something (see the module docstring)."""
    return _NOBODY.search(text) is not None
