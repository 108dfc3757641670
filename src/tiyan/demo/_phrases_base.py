"""The shape of a phrase book, and the pieces every Chinese or English book shares.

A phrase is a template: `{slot}` parts are filled from the book's slots when a comment is written
(`{very}` → 很 / 非常 / 超级 …), `{staff}` becomes a generic word or the staff member's name, and
`{noun}` (in the mild templates) an aspect's noun. The comment writer lives in comments.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Tone = Literal["promoter", "passive", "detractor"]
TONES: tuple[Tone, ...] = ("promoter", "passive", "detractor")


@dataclass(frozen=True)
class AspectPhrases:
    """What customers say about one aspect when it went well or badly, and what they call it."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]
    nouns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToneKit:
    """Per-tone pieces: openers, closers, whole comments with no aspect, emoji, end marks."""

    openers: Mapping[Tone, tuple[str, ...]]
    closers: Mapping[Tone, tuple[str, ...]]
    general: Mapping[Tone, tuple[str, ...]]
    emoji: Mapping[Tone, tuple[str, ...]]
    endings: Mapping[Tone, tuple[str, ...]]


@dataclass(frozen=True)
class Joints:
    """How clauses are glued: same-polarity joiners, contrasts ('{good}，但是{bad}'), separators."""

    joiners: tuple[str, ...]
    contrast_good_first: tuple[str, ...]
    contrast_bad_first: tuple[str, ...]
    separators: tuple[str, ...]


@dataclass(frozen=True)
class Phrasebook:
    """Everything needed to write comments for one survey in one language."""

    survey: str
    language: Literal["zh", "en"]
    ratings: Mapping[str, AspectPhrases]
    processes: Mapping[str, AspectPhrases]
    tones: ToneKit
    joints: Joints
    mild_positive: tuple[str, ...]
    mild_negative: tuple[str, ...]
    slots: Mapping[str, tuple[str, ...]]
    staff_name_forms: tuple[str, ...]
    staff_thanks: tuple[str, ...]
    pii: Mapping[str, tuple[str, ...]]


ZH_SLOTS: dict[str, tuple[str, ...]] = {
    "very": ("很", "非常", "特别", "挺", "蛮", "超级", "相当", "真的很", "很", "非常"),
    "too": ("太", "实在太", "真是太", "也太", "太"),
    "bit": ("有点", "有些", "稍微有点", "有点儿"),
    "waited": ("等了半天", "等了快半小时", "等了二十多分钟", "等了好久", "足足等了四十分钟"),
}

ZH_JOINTS = Joints(
    joiners=("，", "，", "，", "，而且", "，还有", "；", "。", "，另外", "！", "，再加上"),
    contrast_good_first=(
        "{good}，但是{bad}",
        "{good}，不过{bad}",
        "{good}，就是{bad}",
        "{good}。美中不足的是{bad}",
        "虽然{good}，但是{bad}",
        "{good}；可惜{bad}",
        "{good}，但{bad}",
        "{good}。唯一的遗憾是{bad}",
    ),
    contrast_bad_first=(
        "虽然{good}，但是{bad}",
        "{bad}。说句公道话，{good}",
        "{bad}。唯一的优点是{good}",
        "{bad}。好的地方也有，{good}",
        "{bad}。唯一值得表扬的是{good}",
        "{bad}。平心而论，{good}",
    ),
    separators=("，", "，", "。", "！", " "),
)

ZH_EMOJI: dict[Tone, tuple[str, ...]] = {
    "promoter": ("👍", "👍👍", "😊", "💯", "❤️", "🌹", "😄"),
    "passive": ("🙂", "😐", "🤔"),
    "detractor": ("😡", "👎", "😤", "🙄", "😞", "💢"),
}

ZH_ENDINGS: dict[Tone, tuple[str, ...]] = {
    "promoter": ("", "。", "！", "！！", "～", "~", "。"),
    "passive": ("", "。", "。", "…", "吧"),
    "detractor": ("。", "！", "！！！", "。。。", "", "!!", "！"),
}

ZH_MILD_POSITIVE = (
    "{noun}还可以",
    "{noun}还行",
    "{noun}挺好的",
    "{noun}总体满意",
    "{noun}比较到位",
    "{noun}说得过去",
    "{noun}也还好",
    "{noun}基本满意",
)
ZH_MILD_NEGATIVE = (
    "{noun}一般般",
    "{noun}中规中矩",
    "{noun}还有提升空间",
    "{noun}马马虎虎吧",
    "{noun}有待提高",
    "{noun}不算好也不算差",
    "{noun}就那样",
    "{noun}一般",
)

ZH_PII: dict[str, tuple[str, ...]] = {
    "mobile": (
        "有事打我电话 {mobile}",
        "电话{mobile}，请尽快联系我",
        "我的手机号{mobile}，麻烦回个电话",
        "{mobile} 这是我电话，有问题联系",
        "联系方式：{mobile}",
    ),
    "email": ("邮箱{email}，麻烦发个说明给我", "有结果发我邮箱 {email}", "我的邮箱是{email}"),
    "plate": ("车牌{plate}，可以查一下记录", "我的车是{plate}", "车牌号 {plate}，麻烦核实一下"),
}

EN_SLOTS: dict[str, tuple[str, ...]] = {
    "really": ("really", "very", "super", "extremely", "so", "really", "very"),
    "too": ("too", "far too", "way too", "too"),
    "bit": ("a bit", "rather", "somewhat", "a little"),
}

EN_JOINTS = Joints(
    joiners=(", ", ", and ", "; ", ". ", ". Also, ", ". And ", ", plus ", ". "),
    contrast_good_first=(
        "{good}, but {bad}",
        "{good}. However, {bad}",
        "{good}. Only complaint: {bad}",
        "{good}, although {bad}",
        "{good}. The one downside: {bad}",
        "{good}, though {bad}",
    ),
    contrast_bad_first=(
        "{bad}. To be fair, {good}",
        "{bad}. The only positive: {good}",
        "although {good}, {bad}",
        "{bad}. Credit where due, {good}",
    ),
    separators=(". ", "! ", ". ", " - "),
)

EN_EMOJI: dict[Tone, tuple[str, ...]] = {
    "promoter": ("👍", "😊", "🌟", "❤️"),
    "passive": ("🙂", "😐"),
    "detractor": ("😡", "👎", "😤", "🙄"),
}

EN_ENDINGS: dict[Tone, tuple[str, ...]] = {
    "promoter": (".", "!", "!!", "", "."),
    "passive": (".", "", ".", "..."),
    "detractor": (".", "!", "!!!", "", "."),
}

EN_MILD_POSITIVE = (
    "{noun} was fine",
    "{noun} was decent",
    "{noun} was okay",
    "{noun} was good enough",
    "{noun} was pretty good",
    "{noun} was alright",
)
EN_MILD_NEGATIVE = (
    "{noun} was average",
    "{noun} could be better",
    "{noun} was nothing special",
    "{noun} was so-so",
    "{noun} was mediocre",
    "{noun} needs some work",
)

EN_PII: dict[str, tuple[str, ...]] = {
    "mobile": (
        "call me on {mobile}",
        "my number is {mobile} if you want to follow up",
        "please contact me at {mobile}",
    ),
    "email": ("email me at {email}", "you can reach me at {email}", "my email is {email}"),
    "plate": ("my car is {plate} in your car park",),
}
