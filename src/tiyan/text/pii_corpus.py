"""A generated corpus of Chinese customer comments with personal data in them, and gold spans.

Used to measure redaction (bench/redaction.py) and in tests. Every comment mixes ordinary feedback,
zero to three pieces of personal data of any kind, written the ways people write them (spaces,
dashes, full-width digits, +86, lower-case x …), and decoys that look like personal data but are
not: order and tracking numbers, long digit strings, prices, dates, hotline numbers, model codes,
street names without a house number.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from tiyan.text.redact import (
    ADDRESS,
    BANK_CARD,
    EMAIL,
    ID_CARD,
    LANDLINE,
    MOBILE,
    PLATE,
    id_card_check_char,
)

FULL_WIDTH_OFFSET = 0xFEE0
_CHINESE_NUMERALS = str.maketrans("0123456789", "零一二三四五六七八九")


@dataclass(frozen=True)
class GoldSpan:
    """Personal data of `kind` at `text[start:end]`."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class LabelledText:
    """A generated comment and the personal data in it."""

    text: str
    spans: tuple[GoldSpan, ...]


@dataclass
class _Builder:
    pieces: list[str] = field(default_factory=list)
    spans: list[GoldSpan] = field(default_factory=list)
    length: int = 0

    def add(self, text: str) -> None:
        self.pieces.append(text)
        self.length += len(text)

    def add_pii(self, kind: str, text: str) -> None:
        self.spans.append(GoldSpan(kind, self.length, self.length + len(text)))
        self.add(text)

    def build(self) -> LabelledText:
        return LabelledText("".join(self.pieces), tuple(self.spans))


def generate_pii_corpus(n: int, seed: int = 0) -> list[LabelledText]:
    """`n` comments; the same seed gives the same corpus."""
    rng = random.Random(seed)
    return [_comment(rng) for _ in range(n)]


def _comment(rng: random.Random) -> LabelledText:
    builder = _Builder()
    builder.add(rng.choice(OPENINGS))
    for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
        kind = rng.choice(tuple(_PII_MAKERS))
        builder.add(rng.choice(INTROS[kind]))
        builder.add_pii(kind, _PII_MAKERS[kind](rng))
        builder.add(rng.choice(JOINS))
    for _ in range(rng.choice((0, 1, 1, 2))):
        builder.add(_decoy(rng))
        builder.add(rng.choice(JOINS))
    builder.add(rng.choice(CLOSINGS))
    return builder.build()


# --- ordinary text -------------------------------------------------------------------------------

OPENINGS = (
    "车子保养完了，",
    "这次来店里换机油，",
    "服务顾问态度不错，",
    "酒店前台办理入住很慢，",
    "外卖送得太慢了，",
    "快递到了但是包装破了，",
    "营业厅排队排了一个小时，",
    "信用卡被多扣了年费，",
    "房间很干净，",
    "宽带又断网了，",
    "钣金喷漆做得还行，",
    "",
    "您好，",
    "投诉一下：",
    "The service was slow, ",
    "上次的问题还没解决，",
    "菜的味道一般，量也少，",
    "退货申请一直没人处理，",
)
JOINS = ("，", "。", "；", " ", "，麻烦", "，", "！")
CLOSINGS = (
    "谢谢。",
    "希望尽快处理。",
    "",
    "辛苦了！",
    "下次不来了。",
    "满意。",
    "请回电。",
    "thanks",
)
INTROS: dict[str, tuple[str, ...]] = {
    MOBILE: (
        "我的手机号是",
        "联系电话：",
        "手机",
        "请打",
        "有事打我电话",
        "回访请拨",
        "微信同号",
        "tel:",
        "电话 ",
        "联系我",
        "号码是",
        "",
        "我电话",
        "打",
    ),
    LANDLINE: ("座机：", "公司电话", "家里电话是", "固话", "办公室电话 ", "", "电话(", "前台电话"),
    ID_CARD: ("身份证号", "身份证：", "证件号码是", "登记的身份证", "ID:", "", "我的身份证号码 "),
    BANK_CARD: (
        "卡号",
        "银行卡号：",
        "退款请打到",
        "我的储蓄卡",
        "信用卡",
        "工资卡 ",
        "",
        "账号：",
    ),
    EMAIL: ("邮箱", "邮箱：", "发票发到", "email: ", "请发邮件到", "", "我的邮箱是 "),
    PLATE: ("车牌", "车牌号", "我的车", "车号：", "", "开的是", "车牌号是 "),
    ADDRESS: ("地址：", "寄到", "我住在", "收货地址", "送到", "家在", "", "公司在"),
}


# --- personal data -------------------------------------------------------------------------------

_MOBILE_PREFIX_TEXT = """
130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156 157 158 159 166 170 171
173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 193 195 198 199
"""
_MOBILE_PREFIXES = _MOBILE_PREFIX_TEXT.split()


def _digits(rng: random.Random, count: int, first: str = "0123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(count - 1))


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + FULL_WIDTH_OFFSET) if "!" <= c <= "~" else c for c in text)


def _mobile(rng: random.Random) -> str:
    number = rng.choice(_MOBILE_PREFIXES) + _digits(rng, 8)
    style = rng.randrange(10)
    if style == 1:
        number = f"{number[:3]} {number[3:7]} {number[7:]}"
    elif style == 7:
        number = _full_width(f"{number[:3]}-{number[3:7]}-{number[7:]}")
    elif style == 8:
        number = f"{number[:3]}  {number[3:7]}  {number[7:]}"
    elif style == 9:
        number = number.translate(_CHINESE_NUMERALS)
    elif style == 2:
        number = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    elif style == 3:
        number = rng.choice(("+86 ", "+86", "+86-", "0086 ", "86-")) + number
    elif style == 4:
        number = _full_width(number)
    elif style == 5:
        number = f"+86 {number[:3]} {number[3:7]} {number[7:]}"
    return number


_AREA_CODES = (
    "010",
    "020",
    "021",
    "022",
    "023",
    "024",
    "025",
    "027",
    "028",
    "029",
    "0755",
    "0571",
    "0512",
    "0531",
    "0591",
    "0731",
    "0871",
    "0898",
    "0351",
    "0411",
    "0532",
    "0769",
)


def _landline(rng: random.Random) -> str:
    code = rng.choice(_AREA_CODES)
    local = _digits(rng, 8 if len(code) == 3 or rng.random() < 0.7 else 7, first="2345678")
    style = rng.randrange(6)
    if style == 0:
        return f"{code}-{local}"
    if style == 1:
        return f"({code}){local}"
    if style == 2:
        return _full_width(f"({code})") + local
    if style == 3:
        return f"{code} {local[:4]} {local[4:]}"
    if style == 4:
        return f"{code}{local}"
    return _full_width(f"{code}-{local}")


_REGIONS = (
    "110101",
    "110105",
    "310104",
    "310115",
    "440305",
    "440106",
    "320102",
    "330106",
    "510107",
    "420106",
    "610113",
    "370202",
    "350203",
    "430104",
    "500103",
    "210102",
)


def _id_card(rng: random.Random) -> str:
    birth = f"{rng.randint(1950, 2006)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = rng.choice(_REGIONS) + birth + _digits(rng, 3)
    number = first17 + id_card_check_char(first17)
    style = rng.randrange(5)
    if style == 1:
        number = number.lower()
    elif style == 2:
        number = f"{number[:6]} {number[6:14]} {number[14:]}"
    elif style == 3:
        number = _full_width(number)
    return number


_CARD_PREFIXES = (
    "622202",
    "621700",
    "622848",
    "621661",
    "622588",
    "622609",
    "621226",
    "436742",
    "518710",
    "625965",
    "620522",
    "356833",
    "622700",
    "621483",
)


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial + digit` pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(partial)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str(-total % 10)


def _bank_card(rng: random.Random) -> str:
    length = rng.choice((16, 16, 19, 19, 17, 18))
    partial = rng.choice(_CARD_PREFIXES) + _digits(rng, length - 7)
    number = partial + luhn_check_digit(partial)
    style = rng.randrange(5)
    if style == 1:
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    elif style == 2:
        number = "-".join(number[i : i + 4] for i in range(0, len(number), 4))
    elif style == 3:
        number = _full_width(number)
    return number


_NAMES = (
    "zhangsan",
    "li.ming",
    "wang_fang88",
    "chen.jie",
    "liuyang2019",
    "zhao.lei",
    "xiaoyu",
    "huang123",
    "sunny.zhou",
    "hr",
    "service",
    "kevin.wu",
    "a.b.c",
    "yang-li",
)
_DOMAINS = (
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "gmail.com",
    "outlook.com",
    "foxmail.com",
    "company.com.cn",
    "hotmail.com",
    "yeah.net",
    "example.cn",
)


def _email(rng: random.Random) -> str:
    user = rng.choice((rng.choice(_NAMES), _digits(rng, rng.randint(6, 10), first="123456789")))
    address = f"{user}@{rng.choice(_DOMAINS)}"
    roll = rng.random()
    if roll < 0.1:
        return _full_width(address)
    return address.upper() if roll < 0.2 else address


_PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _plate(rng: random.Random) -> str:
    head = rng.choice(_PLATE_PROVINCES) + rng.choice(_PLATE_LETTERS)
    if rng.random() < 0.3:
        tail = (
            rng.choice("DF") + _digits(rng, 5)
            if rng.random() < 0.6
            else _digits(rng, 5) + rng.choice("DF")
        )
    else:
        letters = rng.sample(range(5), rng.choice((0, 1, 1, 2)))
        tail = "".join(
            rng.choice(_PLATE_LETTERS) if i in letters else rng.choice("0123456789")
            for i in range(5)
        )
    separator = rng.choice(("", "", "", "·", " "))
    plate = head + separator + tail
    return plate.lower() if rng.random() < 0.1 else plate


_PROVINCE_CITY = (
    ("广东省", "深圳市", "南山区"),
    ("广东省", "广州市", "天河区"),
    ("", "北京市", "朝阳区"),
    ("", "上海市", "浦东新区"),
    ("浙江省", "杭州市", "西湖区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("四川省", "成都市", "武侯区"),
    ("湖北省", "武汉市", "洪山区"),
    ("", "重庆市", "渝中区"),
    ("山东省", "青岛市", "市南区"),
    ("福建省", "厦门市", "思明区"),
    ("陕西省", "西安市", "雁塔区"),
)
_ROADS = (
    "科技园路",
    "中山路",
    "人民路",
    "建国路",
    "解放大道",
    "天河北路",
    "文三路",
    "南京东路",
    "长江路",
    "滨海大道",
    "学府街",
    "东风巷",
    "高新南一道",
    "世纪大道",
    "珞喻路",
)
_ESTATES = (
    "阳光花园",
    "碧桂园",
    "万科城",
    "金色家园",
    "翠湖小区",
    "华润大厦",
    "海景公寓",
    "龙湖新村",
)


def _address(rng: random.Random) -> str:
    province, city, district = rng.choice(_PROVINCE_CITY)
    level = rng.randrange(4)
    prefix = (province + city + district, city + district, district, "")[level]
    street = f"{rng.choice(_ROADS)}{rng.randint(1, 2999)}号"
    unit = rng.choice(
        (
            "",
            "",
            f"{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(101, 3208)}室",
            f"{rng.choice(_ESTATES)}{rng.randint(1, 20)}栋{rng.randint(101, 2505)}",
            f"{rng.randint(1, 40)}楼",
            f"{rng.choice('ABCD')}座{rng.randint(101, 1808)}室",
        )
    )
    if unit.endswith(tuple("0123456789")):
        unit += "室"
    if rng.random() < 0.15:
        return prefix + rng.choice(_ESTATES) + f"{rng.randint(1, 30)}栋{rng.randint(101, 2808)}室"
    return prefix + street + unit


_PII_MAKERS: dict[str, Callable[[random.Random], str]] = {
    MOBILE: _mobile,
    LANDLINE: _landline,
    ID_CARD: _id_card,
    BANK_CARD: _bank_card,
    EMAIL: _email,
    PLATE: _plate,
    ADDRESS: _address,
}


# --- decoys --------------------------------------------------------------------------------------


def _decoy(rng: random.Random) -> str:
    return rng.choice(_DECOYS)(rng)


def _order_number(rng: random.Random) -> str:
    word = rng.choice(
        (
            "订单号",
            "订单号：",
            "单号",
            "快递单号 ",
            "运单号",
            "工单编号",
            "流水号",
            "发票号码",
            "order #",
        )
    )
    return word + _digits(rng, rng.choice((11, 12, 16, 18, 19, 20)), first="123456789")


def _long_number(rng: random.Random) -> str:
    """A long digit string that is no phone, ID or card: too long, or a timestamp-like prefix."""
    return rng.choice(("编码", "会员号", "", "条码")) + rng.choice(
        (
            _digits(rng, rng.randint(20, 26)),
            "20" + _digits(rng, rng.randint(10, 16)),
            _digits(rng, 12, first="2"),
        )
    )


def _price_or_date(rng: random.Random) -> str:
    return rng.choice(
        (
            f"花了{rng.randint(100, 20000)}元",
            f"¥{rng.randint(10, 9999)}.{rng.randint(0, 99):02d}",
            f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            f"{rng.randint(2019, 2025)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}到店",
            f"等了{rng.randint(2, 180)}分钟",
            f"跑了{rng.randint(1000, 200000)}公里",
            f"{rng.randint(1, 9)}.{rng.randint(0, 9)}分",
        )
    )


def _service_number(rng: random.Random) -> str:
    return rng.choice(
        (
            f"客服热线400-{_digits(rng, 3)}-{_digits(rng, 4)}",
            f"打了{rng.choice(('10086', '10010', '95588', '12315', '95533'))}",
            f"拨打800{_digits(rng, 7)}",
            f"房间{rng.randint(201, 2899)}",
            f"工号{_digits(rng, 5)}",
        )
    )


def _card_like_number(rng: random.Random) -> str:
    """16 to 19 digits that start like a bank card but fail the Luhn check: not a card."""
    partial = rng.choice(_CARD_PREFIXES) + _digits(rng, rng.randint(16, 19) - 7)
    wrong = (int(luhn_check_digit(partial)) + rng.randint(1, 9)) % 10
    return rng.choice(("", "编码", "批号")) + partial + str(wrong)


def _masked_or_ranged(rng: random.Random) -> str:
    return rng.choice(
        (
            f"{rng.choice(_MOBILE_PREFIXES)}****{_digits(rng, 4)}",
            f"尾号{_digits(rng, 4)}的卡",
            f"{rng.randint(8, 10)}:00-{rng.randint(17, 22)}:00营业",
            f"{rng.randint(1000, 1500)}-{rng.randint(1600, 2500)}元",
            f"{rng.randint(2019, 2025)}.{rng.randint(1, 12)}.{rng.randint(1, 28)}",
            f"V{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
            f"ISBN 978-7-{rng.randint(100, 999)}-{_digits(rng, 5)}-{rng.randint(0, 9)}",
            f"身高{rng.randint(150, 190)}",
            f"第{rng.randint(1, 9)}排{rng.randint(1, 30)}号",
            f"{rng.randint(1, 30)}号楼下的停车场",
            "一一解答",
            "三五成群",
            "一二三四五六七八九十",
            "五一路那家店",
            "十一月三十一号",
        )
    )


def _code_or_place(rng: random.Random) -> str:
    return rng.choice(
        (
            f"型号KFR-{rng.randint(20, 72)}GW",
            f"买的iPhone {rng.randint(11, 16)} Pro",
            f"{rng.randint(1, 9)}号线地铁",
            f"在{rng.choice(_ROADS)}附近",
            f"{rng.choice(_ROADS)}那家店",
            "京东自营",
            "沪深300",
            "川菜馆",
            f"{rng.choice('粤京沪')}A牌照很难拿",
            f"SKU {_digits(rng, 8)}",
            "@客服小王",
            "微博@官方客服",
            f"第{rng.randint(2, 9)}次来",
            f"{rng.randint(3, 12)}个人",
            "user at example dot com",
        )
    )


_DECOYS: tuple[Callable[[random.Random], str], ...] = (
    _order_number,
    _long_number,
    _price_or_date,
    _service_number,
    _code_or_place,
    _card_like_number,
    _masked_or_ranged,
)
