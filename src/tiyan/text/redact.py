"""PII redaction: find personal data in a comment and replace it with a readable placeholder.

Kinds and their placeholders are in PLACEHOLDERS. Detection works on a copy of the text where
full-width characters (１３８, ＠, －, （）) are mapped one-to-one to ASCII, so offsets stay
those of the original text.

Numbers are read as *runs* of digit groups joined by single spaces or dashes (138 1234 5678,
138-1234-5678, +86 138…). A run is classified as a whole by its digits (mobile prefix and length,
ID-card date and checksum, bank-card Luhn check, landline area code); a run that is none of these as
a whole is split at its separators and the pieces are tried. Long digit strings (order numbers,
tracking numbers) match no rule and stay; numbers right after words such as 订单号 or 快递单号 are
never taken for phones or cards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache

MOBILE = "mobile"
LANDLINE = "landline"
ID_CARD = "id_card"
BANK_CARD = "bank_card"
EMAIL = "email"
PLATE = "plate"
ADDRESS = "address"

PLACEHOLDERS = {
    MOBILE: "[手机号]",
    LANDLINE: "[电话]",
    ID_CARD: "[身份证]",
    BANK_CARD: "[银行卡]",
    EMAIL: "[邮箱]",
    PLATE: "[车牌]",
    ADDRESS: "[地址]",
}
KINDS = tuple(PLACEHOLDERS)

# When two findings overlap, the kind listed first wins.
_PRIORITY = (EMAIL, ID_CARD, BANK_CARD, MOBILE, LANDLINE, PLATE, ADDRESS)

# --- patterns ------------------------------------------------------------------------------------

# Full-width ASCII (！ to ～), the ideographic space and common dashes, mapped one-to-one.
TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
TO_ASCII.update({0x3000: ord(" "), 0x2014: ord("-"), 0x2013: ord("-"), 0x2212: ord("-")})
QUICK_CHECK = re.compile("[0-9\uff10-\uff19@\uff20]")
EMAIL_PATTERN = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
NUMBER_RUN = re.compile(
    r"(?<![\d.])(?:\+ ?)?(?:\(\d{2,4}\) ?)?\d+(?:(?: ?- ?| {1,2})\d+)*(?:[Xx](?![A-Za-z]))?(?![\d])"
)
DIGIT_GROUP = re.compile(r"\d+(?:[Xx](?![A-Za-z]))?")
MOBILE_PATTERN = re.compile(r"1[3-9]\d{9}")
_NUMERAL = "〇零一二三四五六七八九幺"
SPELLED_MOBILE_PATTERN = re.compile(
    rf"(?<![{_NUMERAL}])[一幺][三四五六七八九](?:[ \-]?[{_NUMERAL}]){{9}}(?![{_NUMERAL}])"
)
LANDLINE_PATTERN = re.compile(r"0(?:[12]\d|[3-9]\d{2})[2-9]\d{6,7}")
# Company hotlines (400/800 in China, toll-free 8XX in North America) are not personal data.
TOLL_FREE_PREFIXES = ("400", "800", "888", "877", "866", "855", "844", "833")
CONTEXT_CHARS = 12
MAX_GROUPS = 6  # no phone, ID or card number is written in more digit groups than this
CLAUSE_BREAK = re.compile(r"[，。；！？,;!?\n]")
NOT_PII_CONTEXT = (
    "订单",
    "单号",
    "编号",
    "编码",
    "批号",
    "货号",
    "流水",
    "运单",
    "工单",
    "发票",
    "批次",
    "序列号",
    "型号",
    "条码",
    "条形码",
    "qq号",
    "qq:",
    "sku",
    "order",
    "tracking",
    "invoice",
    "ref",
    "no.",
    "#",
)
CARD_CONTEXT = ("卡号", "银行卡", "储蓄卡", "信用卡", "借记卡", "账号", "card")
PHONE_CONTEXT = ("电话", "座机", "固话", "手机", "致电", "拨打", "联系方式", "tel", "phone", "call")
_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|"
    "广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
PLATE_PATTERN = re.compile(
    "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
    r"[A-Za-z][·•・.\- ]?(?P<tail>[A-Za-z0-9]{5,6})(?![A-Za-z0-9])"
)
# A place-name character: Chinese, but not a word that usually comes right before an address.
_NOT_IN_NAMES = "在住到是的址为了我你他她去送从往和与请把给向于寄发收至位即有处面边旁近说"
_NAME = f"(?:(?![{_NOT_IN_NAMES}])[\u4e00-\u9fa5])"
_UNIT = r"(?: ?(?:[A-Za-z]座|[A-Za-z]?\d+(?:-\d+)?(?:号楼|栋|幢|座|单元|楼|层|室|号|户)))"
_ESTATE = "(?:小区|园|城|苑|府|庭|湾|居|里|坊|村|广场|大厦|中心|公馆|公寓|大楼)"
_ESTATE_UNIT = r"(?: ?(?:[A-Za-z]座|[A-Za-z]?\d+(?:-\d+)?(?:号楼|栋|幢|座|单元|室)))"
# compiled on first use (`_address_pattern`): ≈ 6 ms of every process's start-up otherwise, and
# only text with an ADDRESS_ANCHOR needs it
ADDRESS_REGEX = (
    rf"(?:(?:{_PROVINCES})(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?)?"
    rf"(?:{_NAME}{{1,6}}?(?:市|州|盟))?(?:{_NAME}{{1,6}}?(?:区|县|旗))?"
    rf"(?:{_NAME}{{1,6}}?(?:镇|乡|街道))?"
    rf"(?:{_NAME}{{1,8}}?(?:路|街|大道|大街|巷|胡同|弄|道) ?\d+(?:-\d+)?(?:号|弄)(?!线)"
    rf"(?:{_NAME}{{1,8}}?{_ESTATE})?{_UNIT}*"
    rf"|{_NAME}{{1,8}}?{_ESTATE}{_ESTATE_UNIT}{_UNIT}*)"
)
# Every address ends in a numbered unit: a digit right before 号/弄 (a street number) or
# before 号楼/栋/幢/座/单元/室 (an estate's unit), or a letter before 座. Text without one
# holds no address, and this search is much cheaper than the address pattern's scan, which tries
# every position.
ADDRESS_ANCHOR = re.compile(r"\d(?:号|弄|栋|幢|座|单元|室)|[A-Za-z]座")


@dataclass(frozen=True)
class Finding:
    """A piece of personal data at `text[start:end]` of the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """The redacted text and what was found in the original."""

    text: str
    findings: tuple[Finding, ...]


def redact(text: str) -> Redaction:
    """Replace every piece of personal data in `text` with its placeholder."""
    findings = find_pii(text)
    return Redaction(_mask(text, findings), findings)


def find_pii(text: str) -> tuple[Finding, ...]:
    """Non-overlapping findings in `text`, left to right."""
    spelled = _spelled_mobiles(text)
    if not QUICK_CHECK.search(text):
        return tuple(spelled)
    plain = text.translate(TO_ASCII)
    candidates = [*_emails(plain), *_number_runs(plain), *_plates(plain), *_addresses(plain)]
    return _without_overlaps(candidates + spelled)


def _spelled_mobiles(text: str) -> list[Finding]:
    """Mobile numbers written in Chinese numerals (一三八一二三四五六七八)."""
    return [Finding(MOBILE, m.start(), m.end()) for m in SPELLED_MOBILE_PATTERN.finditer(text)]


def _mask(text: str, findings: tuple[Finding, ...]) -> str:
    pieces, position = [], 0
    for finding in findings:
        pieces.append(text[position : finding.start])
        pieces.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)


def _without_overlaps(candidates: list[Finding]) -> tuple[Finding, ...]:
    ranked = sorted(candidates, key=lambda f: (_PRIORITY.index(f.kind), f.start - f.end))
    kept: list[Finding] = []
    for candidate in ranked:
        if all(candidate.end <= other.start or candidate.start >= other.end for other in kept):
            kept.append(candidate)
    return tuple(sorted(kept, key=lambda f: f.start))


# --- emails, plates, addresses ------------------------------------------------------------------


def _emails(plain: str) -> list[Finding]:
    if "@" not in plain:
        return []
    return [Finding(EMAIL, m.start(), m.end()) for m in EMAIL_PATTERN.finditer(plain)]


def _plates(plain: str) -> list[Finding]:
    found = []
    for match in PLATE_PATTERN.finditer(plain):
        if is_plate_tail(match.group("tail")):
            found.append(Finding(PLATE, match.start(), match.end()))
    return found


def is_plate_tail(tail: str) -> bool:
    """Check the 5 (regular) or 6 (new-energy) characters after the province and city letter."""
    digits = sum(char.isdigit() for char in tail)
    if len(tail) == 5:
        return digits >= 3
    upper = tail.upper()
    return digits >= 4 and (upper[0] in "DF" or upper[-1] in "DF")


def _addresses(plain: str) -> list[Finding]:
    if not ADDRESS_ANCHOR.search(plain):
        return []
    return [Finding(ADDRESS, m.start(), m.end()) for m in _address_pattern().finditer(plain)]


@cache
def _address_pattern() -> re.Pattern[str]:
    return re.compile(ADDRESS_REGEX)


# --- number runs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    digits: str
    start: int
    end: int


def _number_runs(plain: str) -> list[Finding]:
    found: list[Finding] = []
    for run in NUMBER_RUN.finditer(plain):
        groups = [
            _Group(m.group(), run.start() + m.start(), run.start() + m.end())
            for m in DIGIT_GROUP.finditer(run.group())
        ]
        context = _context_before(plain, run.start())
        found.extend(_classify_groups(groups, context, run.start()))
    return found


def _context_before(plain: str, position: int) -> str:
    """The words right before a number, back to the previous clause break (lower-cased)."""
    window = plain[max(0, position - CONTEXT_CHARS) : position]
    return CLAUSE_BREAK.split(window)[-1].lower()


def _classify_groups(groups: list[_Group], context: str, run_start: int) -> list[Finding]:
    """Cover the groups left to right with the longest pieces that classify as PII."""
    found, first = [], 0
    while first < len(groups):
        for last in range(min(len(groups), first + MAX_GROUPS), first, -1):
            piece = groups[first:last]
            digits = "".join(g.digits for g in piece)
            lengths = tuple(len(g.digits) for g in piece)
            kind = classify_number(digits, context if first == 0 else "", lengths)
            if kind is not None:
                start = run_start if first == 0 else piece[0].start  # keeps "+86" and "(021)"
                found.append(Finding(kind, start, piece[-1].end))
                first = last
                break
        else:
            first += 1
    return found


def classify_number(digits: str, context: str = "", groups: tuple[int, ...] = ()) -> str | None:
    """The PII kind of a digit string (separators removed), or None.

    `context` holds the words before the number; `groups` the lengths of its digit groups as
    written (138 1234 5678 → (3, 4, 4)); empty when it was written in one piece.
    """
    if any(word in context for word in NOT_PII_CONTEXT):
        return None
    lengths = groups or (len(digits),)
    for rule in _NUMBER_RULES:
        kind = rule(digits, context, lengths)
        if kind is not None:
            return kind
    return None


# How each kind is written: the lengths of its digit groups (one group: written in one piece).
MOBILE_SHAPES = frozenset({(11,), (3, 4, 4), (3, 8), (7, 4), (3, 3, 5)})
ID_CARD_SHAPES = frozenset({(18,), (6, 8, 4), (6, 4, 4, 4), (4, 4, 4, 4, 2)})
LOCAL_NUMBER_SHAPES = frozenset({(7,), (8,), (4, 4), (3, 4), (4, 3)})


def _id_card_rule(digits: str, context: str, lengths: tuple[int, ...]) -> str | None:
    return ID_CARD if lengths in ID_CARD_SHAPES and is_id_card(digits) else None


def _bank_card_rule(digits: str, context: str, lengths: tuple[int, ...]) -> str | None:
    if not (16 <= len(digits) <= 19 and digits.isdigit() and _card_shape(lengths)):
        return None
    plausible = digits[0] in "345689" or any(w in context for w in CARD_CONTEXT)
    return BANK_CARD if plausible and luhn_valid(digits) else None


def _card_shape(lengths: tuple[int, ...]) -> bool:
    """One piece, or groups of four with a shorter last one (6222 0212 3456 7890 123)."""
    return len(lengths) == 1 or (set(lengths[:-1]) == {4} and lengths[-1] <= 4)


def _mobile_rule(digits: str, context: str, lengths: tuple[int, ...]) -> str | None:
    national, shape = _without_country_code(digits, lengths)
    if shape not in MOBILE_SHAPES:
        return None
    return MOBILE if MOBILE_PATTERN.fullmatch(national) else None


def _landline_rule(digits: str, context: str, lengths: tuple[int, ...]) -> str | None:
    if lengths in ((3, 3, 4), (1, 3, 3, 4)) and _north_american(digits[-10:], digits[:-10]):
        return LANDLINE
    national, shape = _without_country_code(digits, lengths)
    if national != digits and not national.startswith("0"):
        national = "0" + national
    if _landline_shape(shape) and LANDLINE_PATTERN.fullmatch(national):
        return LANDLINE
    local = lengths in LOCAL_NUMBER_SHAPES and digits[0] not in "01"
    if local and any(word in context for word in PHONE_CONTEXT):
        return LANDLINE
    return None


def _landline_shape(lengths: tuple[int, ...]) -> bool:
    """Area code and number in one piece, or the area code apart (010-62345678, 021 6123 4567)."""
    if len(lengths) == 1:
        return True
    return 2 <= lengths[0] <= 4 and lengths[1:] in {(7,), (8,), (4, 4), (3, 4), (4, 3)}


def _north_american(number: str, country: str) -> bool:
    """(1-)NXX-NXX-XXXX, written in groups: a US/Canadian phone number (not a toll-free one)."""
    plausible = number[0] in "23456789" and number[3] in "23456789"
    return country in ("", "1") and plausible and number[:3] not in TOLL_FREE_PREFIXES


def _without_country_code(digits: str, lengths: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """Drop a leading 86 / 0086, written apart (+86 138…) or in one piece (+8613812345678)."""
    for prefix in ("0086", "86"):
        if not digits.startswith(prefix):
            continue
        if len(lengths) > 1 and lengths[0] == len(prefix):
            return digits[len(prefix) :], lengths[1:]
        if len(lengths) == 1 and len(digits) - len(prefix) in (10, 11):
            return digits[len(prefix) :], (len(digits) - len(prefix),)
    return digits, lengths


_NUMBER_RULES: tuple[Callable[[str, str, tuple[int, ...]], str | None], ...] = (
    _id_card_rule,
    _bank_card_rule,
    _mobile_rule,
    _landline_rule,
)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by bank cards."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_card_check_char(first17: str) -> str:
    """The 18th character of a resident ID card number (GB 11643) for its first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_id_card(number: str) -> bool:
    """An 18-character resident ID: region, valid birth date, sequence and check character."""
    if len(number) != 18 or not number[:17].isdigit() or number[0] not in "123456789":
        return False
    if not _valid_birth_date(number[6:14]):
        return False
    return id_card_check_char(number[:17]) == number[17].upper()


def _valid_birth_date(yyyymmdd: str) -> bool:
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])
    if not 1900 <= year <= 2099:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def findings_by_kind(findings: tuple[Finding, ...]) -> dict[str, list[Finding]]:
    """Group findings by kind (every kind present as a key)."""
    grouped: dict[str, list[Finding]] = {kind: [] for kind in KINDS}
    for finding in findings:
        grouped[finding.kind].append(finding)
    return grouped


_ANY_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))


def strip_placeholders(text: str) -> str:
    """Replace placeholders in redacted text by spaces (e.g. before keyword extraction)."""
    return _ANY_PLACEHOLDER.sub(" ", text)
