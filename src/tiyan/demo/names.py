"""Realistic, made-up names and identifiers for tiyan's demo data.

Every function draws from the `random.Random` it is given, so one seed always gives the same world.
Nothing here names a real person, brand or vehicle: names are composed from common surnames and
given-name characters, numbers follow the public formats (mobile prefixes, plates, VIN check digit).
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from typing import Literal

__all__ = [
    "COMPOUND_SURNAMES",
    "DemoNameError",
    "Gender",
    "car_model",
    "email_for",
    "english_name",
    "mobile_number",
    "person_name",
    "plate_number",
    "surname_of",
    "vin",
    "vin_check_digit",
]

Gender = Literal["male", "female"]


class DemoNameError(ValueError):
    """An argument that no realistic name or identifier can be made from."""


def _table(spec: str) -> tuple[tuple[str, str, int], ...]:
    """Parse 'char pinyin weight|…' into (char, pinyin, weight) rows."""
    rows = []
    for item in spec.split("|"):
        char, pinyin, weight = item.split()
        rows.append((char, pinyin, int(weight)))
    return tuple(rows)


# Per-mille shares, roughly as in the published surname rankings.
_SURNAMES = _table(
    "王 wang 71|李 li 70|张 zhang 67|刘 liu 54|陈 chen 45|杨 yang 31|黄 huang 22|赵 zhao 20|"
    "吴 wu 20|周 zhou 19|徐 xu 13|孙 sun 13|马 ma 11|朱 zhu 11|胡 hu 10|郭 guo 10|何 he 9|"
    "高 gao 9|林 lin 9|罗 luo 8|郑 zheng 8|梁 liang 7|谢 xie 6|宋 song 6|唐 tang 6|许 xu 5|"
    "韩 han 5|冯 feng 5|邓 deng 5|曹 cao 5|彭 peng 5|曾 zeng 4|肖 xiao 4|田 tian 4|董 dong 4|"
    "袁 yuan 4|潘 pan 4|于 yu 4|蒋 jiang 4|蔡 cai 4|余 yu 3|杜 du 3|叶 ye 3|程 cheng 3|苏 su 3|"
    "魏 wei 3|吕 lv 3|丁 ding 3|任 ren 3|沈 shen 3|姚 yao 3|卢 lu 3|姜 jiang 3|崔 cui 3|"
    "钟 zhong 3|谭 tan 2|陆 lu 2|汪 wang 2|范 fan 2|金 jin 2|石 shi 2|廖 liao 2|贾 jia 2|"
    "夏 xia 2|韦 wei 2|付 fu 2|方 fang 2|白 bai 2|邹 zou 2|孟 meng 2|熊 xiong 2|秦 qin 2|"
    "邱 qiu 2|江 jiang 2|尹 yin 2|薛 xue 2|闫 yan 2|段 duan 2|雷 lei 2|侯 hou 2|龙 long 2|"
    "史 shi 2|陶 tao 1|黎 li 1|贺 he 1|顾 gu 1|毛 mao 1|郝 hao 1|龚 gong 1|邵 shao 1|万 wan 1|"
    "钱 qian 1|严 yan 1|覃 qin 1|武 wu 1|戴 dai 1|莫 mo 1|孔 kong 1|向 xiang 1|汤 tang 1|"
    "欧阳 ouyang 1"
)
COMPOUND_SURNAMES = frozenset(char for char, _, _ in _SURNAMES if len(char) == 2)

_MALE_CHARS = _table(
    "伟 wei 9|强 qiang 6|磊 lei 6|军 jun 6|勇 yong 5|杰 jie 6|涛 tao 5|明 ming 5|超 chao 5|"
    "刚 gang 4|平 ping 4|辉 hui 5|鹏 peng 5|华 hua 4|飞 fei 4|鑫 xin 4|波 bo 4|斌 bin 4|宇 yu 6|"
    "浩 hao 6|凯 kai 4|健 jian 4|俊 jun 5|帆 fan 3|帅 shuai 3|旭 xu 3|宁 ning 3|龙 long 4|"
    "林 lin 3|峰 feng 4|建 jian 4|国 guo 4|志 zhi 4|海 hai 4|东 dong 4|亮 liang 4|成 cheng 4|"
    "晨 chen 4|阳 yang 4|博 bo 4|轩 xuan 4|睿 rui 4|泽 ze 4|然 ran 3|豪 hao 3|天 tian 3|"
    "航 hang 3|武 wu 2|振 zhen 2|松 song 2|毅 yi 3|锋 feng 2|永 yong 3|德 de 2|兵 bing 2|立 li 2"
)
_FEMALE_CHARS = _table(
    "芳 fang 7|娜 na 6|敏 min 6|静 jing 7|丽 li 6|艳 yan 5|娟 juan 5|霞 xia 4|燕 yan 5|"
    "玲 ling 5|婷 ting 6|雪 xue 5|慧 hui 5|莉 li 4|琳 lin 5|颖 ying 5|倩 qian 4|洁 jie 4|"
    "怡 yi 5|悦 yue 4|萱 xuan 4|梦 meng 4|晴 qing 4|婉 wan 3|琪 qi 4|涵 han 5|璐 lu 3|彤 tong 4|"
    "瑶 yao 4|诗 shi 4|雅 ya 4|月 yue 3|秀 xiu 3|兰 lan 3|红 hong 4|梅 mei 4|凤 feng 3|"
    "英 ying 3|丹 dan 4|萍 ping 4|晶 jing 3|蕾 lei 3|薇 wei 3|妍 yan 3|菲 fei 3"
)
_NEUTRAL_CHARS = _table(
    "子 zi 5|一 yi 4|思 si 5|嘉 jia 5|晓 xiao 6|文 wen 5|欣 xin 5|佳 jia 5|家 jia 3|春 chun 3|"
    "新 xin 2|安 an 3|心 xin 2|雨 yu 4|梓 zi 3|俊 jun 2|可 ke 3|若 ruo 2"
)
_PINYIN = {char: pinyin for char, pinyin, _ in _SURNAMES + _MALE_CHARS + _FEMALE_CHARS}
_PINYIN.update({char: pinyin for char, pinyin, _ in _NEUTRAL_CHARS})


def _weighted(rng: random.Random, rows: Sequence[tuple[str, str, int]]) -> str:
    return rng.choices([row[0] for row in rows], weights=[row[2] for row in rows])[0]


def _chosen_gender(rng: random.Random, gender: str | None) -> Gender:
    if gender == "male":
        return "male"
    if gender == "female":
        return "female"
    if gender is None:
        return "male" if rng.random() < 0.5 else "female"
    raise DemoNameError(f"gender {gender!r} is not supported; use 'male', 'female' or None")


def _given_name(rng: random.Random, gender: Gender) -> str:
    own = _MALE_CHARS if gender == "male" else _FEMALE_CHARS
    if rng.random() < 0.25:
        return _weighted(rng, own)
    last = _weighted(rng, own)
    if gender == "female" and rng.random() < 0.05:
        return last + last  # 婷婷, 莉莉
    first = _weighted(rng, own + _NEUTRAL_CHARS)
    while first == last:
        first = _weighted(rng, own + _NEUTRAL_CHARS)
    return first + last


def person_name(rng: random.Random, *, gender: Gender | None = None) -> str:
    """A Chinese full name such as 王晓静: a common surname and one or two given-name characters."""
    chosen = _chosen_gender(rng, gender)
    return _weighted(rng, _SURNAMES) + _given_name(rng, chosen)


def surname_of(name: str) -> str:
    """The surname of a Chinese full name (欧阳娜 → 欧阳, 王伟 → 王)."""
    if not name:
        raise DemoNameError("cannot take the surname of an empty name")
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_EN_MALE = _words(
    "James John Robert Michael David William Richard Thomas Daniel Matthew Andrew Mark Paul "
    "Steven Kevin Brian George Edward Peter Oliver Jack Harry Samuel Lucas Ethan Noah Liam"
)
_EN_FEMALE = _words(
    "Mary Patricia Jennifer Linda Elizabeth Susan Sarah Karen Emily Emma Olivia Sophie Anna "
    "Laura Rachel Hannah Grace Chloe Lucy Amelia Charlotte Jessica Megan Claire Julia Natalie"
)
_EN_SURNAMES = _words(
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin "
    "Jackson White Harris Clark Lewis Walker Hall Allen Young King Wright Scott Green Baker Adams "
    "Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Murphy "
    "Cook Morgan Bell Cooper Richardson Cox Ward Watson Brooks Bennett Gray Hughes Price Fischer "
    "Schmidt Weber Dubois Laurent Rossi Bianchi Tanaka Suzuki Kim Park Nguyen Silva Costa"
)


def english_name(rng: random.Random, *, gender: Gender | None = None) -> str:
    """A Western full name such as 'Emily Carter', for hotel guests who write in English."""
    chosen = _chosen_gender(rng, gender)
    first = rng.choice(_EN_MALE if chosen == "male" else _EN_FEMALE)
    return f"{first} {rng.choice(_EN_SURNAMES)}"


# Mobile number prefixes in use by the three operators and the virtual operators.
_MOBILE_PREFIXES = tuple(
    [str(p) for p in range(130, 140)]
    + ["145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159"]
    + ["166", "170", "171", "173", "175", "176", "177", "178"]
    + [str(p) for p in range(180, 190)]
    + ["191", "193", "195", "196", "197", "198", "199"]
)


def mobile_number(rng: random.Random) -> str:
    """An 11-digit mainland mobile number with a real operator prefix, e.g. '13812345678'."""
    prefix = rng.choice(_MOBILE_PREFIXES)
    return prefix + "".join(rng.choice(string.digits) for _ in range(8))


PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O on plates


def _plate_serial(rng: random.Random) -> str:
    if rng.random() < 0.15:  # new-energy plate: D or F then five characters
        return rng.choice("DF") + "".join(rng.choice(string.digits) for _ in range(5))
    chars = [rng.choice(string.digits) for _ in range(5)]
    for position in rng.sample(range(5), k=rng.choice((0, 1, 1, 2, 2))):
        chars[position] = rng.choice(_PLATE_LETTERS)
    return "".join(chars)


def plate_number(rng: random.Random, province: str = "粤") -> str:
    """A licence plate such as '粤A·3K2J8' (or a new-energy '粤B·D12345')."""
    if len(province) != 1 or province not in PROVINCES:
        raise DemoNameError(f"province {province!r} is not a province abbreviation like 粤 or 京")
    city = rng.choices("ABCDEFGHJKLMNPQRS", weights=[8, 6] + [2] * 15)[0]
    return f"{province}{city}·{_plate_serial(rng)}"


_MAIL_DOMAINS = (
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "foxmail.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "139.com",
    "yeah.net",
)


def _romanised_parts(name: str) -> list[str] | None:
    """['zhang', 'wei'] for 张伟, ['emily', 'carter'] for 'Emily Carter'; None if unknown."""
    if name.isascii():
        parts = [part.lower() for part in name.split() if part.isalpha()]
        return parts or None
    surname = surname_of(name)
    pinyin = [_PINYIN.get(surname)] + [_PINYIN.get(char) for char in name[len(surname) :]]
    if any(part is None for part in pinyin):
        return None
    return [part for part in pinyin if part is not None]


def _local_part(rng: random.Random, parts: list[str]) -> str:
    """Local parts people pick: zhangwei, zhang.wei, wei.zhang, zhangwei88, wzhang123…"""
    family, given = parts[0], "".join(parts[1:]) or parts[0]
    year = str(rng.randint(1965, 2005))
    shapes = (
        family + given,
        f"{family}.{given}",
        f"{given}.{family}",
        f"{family}{given}{year[2:]}",
        f"{family}_{given}",
        given[0] + family + str(rng.randint(1, 999)),
        f"{family}{year}",
    )
    return rng.choice(shapes)


def email_for(name: str, rng: random.Random) -> str:
    """A plausible e-mail address for a person, e.g. 'zhang.wei88@163.com' or '83472910@qq.com'."""
    parts = _romanised_parts(name)
    if parts is None or (not name.isascii() and rng.random() < 0.2):
        return f"{rng.randint(10_000_000, 3_999_999_999)}@qq.com"
    if name.isascii():  # 'Emily Carter' → given first, family last
        parts = [parts[-1], *parts[:-1]]
    return f"{_local_part(rng, parts)}@{rng.choice(_MAIL_DOMAINS)}"


_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # never I, O or Q
_VIN_VALUES = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
        strict=True,
    )
)
_VIN_VALUES.update({digit: int(digit) for digit in string.digits})
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_YEARS = "LMNPRST"  # model years 2020–2026


def vin_check_digit(vin_text: str) -> str:
    """The check digit (position 9) a 17-character VIN must carry: '0'–'9' or 'X'."""
    if len(vin_text) != 17 or any(char not in _VIN_VALUES for char in vin_text):
        raise DemoNameError(f"{vin_text!r} is not 17 VIN characters (A–Z without I, O, Q; 0–9)")
    total = sum(
        _VIN_VALUES[char] * weight for char, weight in zip(vin_text, _VIN_WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin(rng: random.Random) -> str:
    """A 17-character VIN of a China-built car (WMI starting with L), with a valid check digit."""
    wmi = "L" + "".join(rng.choice(_VIN_CHARS) for _ in range(2))
    descriptor = "".join(rng.choice(_VIN_CHARS) for _ in range(5))
    plant = rng.choice(_VIN_CHARS)
    serial = "".join(rng.choice(string.digits) for _ in range(6))
    draft = f"{wmi}{descriptor}0{rng.choice(_VIN_YEARS)}{plant}{serial}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


_SEGMENTS = (
    "家用轿车",
    "紧凑型轿车",
    "中型轿车",
    "小型SUV",
    "紧凑型SUV",
    "中型SUV",
    "七座MPV",
    "纯电轿车",
    "纯电SUV",
    "插混SUV",
    "插混轿车",
    "城市小车",
)


def car_model(rng: random.Random) -> str:
    """A brand-free model name such as '紧凑型SUV B 型'."""
    return f"{rng.choice(_SEGMENTS)} {rng.choice('ABCDEFLSX')} 型"
