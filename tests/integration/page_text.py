"""What a person reads on a page, and the checks of issue 16 on it: no English sentence and no
code in a Chinese page, no catalogue key anywhere, no Chinese in an English page's labels, and
every time of day in the viewer's zone with the zone named.

Visible text is the text of the page's elements less scripts, styles and form fields' values;
text inside an element with a `lang` attribute is written in that language on purpose (what
people typed: a guest's English comment, a name) and is not the page's own words; nor is
text in `<code>`, `<kbd>`, `<samp>` and `<pre>` (an identifier, command or example shown to be
typed as it is)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from tiyan.web.i18n import catalogue

HIDDEN = {"script", "style", "template", "noscript", "textarea", "title"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
# Text shown as it is typed: codes, commands and file columns a person must type themselves.
LITERAL = {"code", "kbd", "samp", "pre"}
# Where a page's own words sit: column headers, buttons, navigation, legends.
CHROME = {"thead", "button", "nav", "legend", "summary"}

# Words that stay as they are in a Chinese page: the names of measures, formats, products and
# protocols people know by these letters, and the demo's brands (names, not sentences).
ALLOWED_WORDS = {
    "NPS", "CSAT", "CES", "CSI", "KPI", "VOC", "CSV", "Excel", "XLSX", "PDF", "PNG", "SVG",
    "JSON", "API", "URL", "QR", "SMS", "HTTP", "HTTPS", "HMAC", "SLA", "ID", "IP", "UTC",
    "WeCom", "DingTalk", "Feishu", "Slack", "Webhook", "webhook", "Standard", "Webhooks",
    "tiyan", "SHA", "IANA", "Asia", "Shanghai", "e-mail", "E-mail", "OK", "AM", "PM",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
LINK = re.compile(r"\b(?:https?://|/)[\w./?=&%-]+")
ZONE = re.compile(r"\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b")  # an IANA zone name: Asia/Shanghai
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,]+[A-Za-z][A-Za-z'’-]*){2,}")
# snake_case (`follow_up`) and kebab-case (`gz-tianhe`, a unit's code) identifiers
CODE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+(?![\w.@/-])")
# A moment of the day; a span of two ("09:00–18:00") is business hours, a wall-clock rule.
TIME_OF_DAY = re.compile(r"(?<![\d.:–-])\d{1,2}:\d{2}(?![\d:–-])")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class PageText:
    text: list[str] = field(default_factory=list)  # the page's own visible words
    chrome: list[str] = field(default_factory=list)  # labels, headers, buttons, navigation
    titles: list[str] = field(default_factory=list)  # title attributes (tooltips)

    @property
    def joined(self) -> str:
        return " ".join(self.text)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PageText()
        self.stack: list[tuple[str, bool, bool, bool]] = []  # tag, hidden, foreign, chrome

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("title"):
            self.page.titles.append(str(values["title"]))
        if tag in VOID:
            return
        hidden, foreign, chrome = self.stack[-1][1:] if self.stack else (False, False, False)
        self.stack.append((tag, hidden or tag in HIDDEN or "hidden" in values,
                           foreign or tag in LITERAL or ("lang" in values and tag != "html"),
                           chrome or tag in CHROME))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not data.strip() or not self.stack:
            return
        _, hidden, foreign, chrome = self.stack[-1]
        if hidden or foreign:
            return
        self.page.text.append(data.strip())
        if chrome:
            self.page.chrome.append(data.strip())


def read(html: str) -> PageText:
    reader = _Reader()
    reader.feed(html)
    return reader.page


def _plain(text: str) -> str:
    text = EMAIL.sub(" ", text)
    text = LINK.sub(" ", text)
    return ZONE.sub(" ", text)


def english_sentences(page: PageText, typed: frozenset[str] = frozenset()) -> list[str]:
    """Runs of three or more English words (allowed words break a run), but for those that
    are part of something a person typed in English (`typed`: customers' English answers)."""
    found = []
    for chunk in page.text:
        words = " ".join(w if w.strip(",") not in ALLOWED_WORDS else "|"
                         for w in _plain(chunk).split())
        found += [m.group(0) for m in ENGLISH_RUN.finditer(words)
                  if not any(m.group(0) in text for text in typed)]
    return found


def _namespaces() -> set[str]:
    return {key.split(".")[0] for key in catalogue("en")}


def catalogue_keys(page: PageText) -> list[str]:
    """Text that looks like a catalogue key: a known first part, a dot, more."""
    spaces = "|".join(sorted(_namespaces(), key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w@.-])(?:{spaces})\.[a-z0-9_]+(?:\.[a-z0-9_]+)*")
    texts = [*page.text, *page.titles]
    return [m.group(0) for text in texts for m in pattern.finditer(EMAIL.sub(" ", text))]


def codes(page: PageText, typed: frozenset[str] = frozenset()) -> list[str]:
    """Identifiers shown as words (`follow_up`, `in_progress`, `gz-tianhe`), but for words
    people typed (`well-equipped` in a guest's comment)."""
    return [m.group(0) for text in page.text for m in CODE.finditer(_plain(text))
            if not any(m.group(0) in typed_text for typed_text in typed)]


# A text of its own that is one or two lowercase words (`regular` in a segment cell, `reached`
# in an outcome cell): a code shown as it is stored. Two-letter words are left alone (the
# survey editor tags each language's field with its tag, `en`). Sentences of three or more words are
# english_sentences' and snake_case or kebab-case codes are codes'.
BARE = re.compile(r"[a-z]{3,}(?: [a-z]{2,})?")


def bare_words(page: PageText, typed: frozenset[str] = frozenset()) -> list[str]:
    """Element texts that are one or two lowercase English words, but for allowed words and
    texts a person typed as they are (a customer's one-word English answer)."""
    found = []
    for text in page.text:
        plain = _plain(text).strip(" ·:：,，;；()（）!?.")
        if (BARE.fullmatch(plain) and plain not in ALLOWED_WORDS
                and plain not in typed and text.strip() not in typed):
            found.append(plain)
    return found


def time_problems(page: PageText, zone: str) -> list[str]:
    """A time of day shown without the zone named on the page, or written as a machine does."""
    problems = [m.group(0) for text in page.text for m in ISO_TIME.finditer(text)]
    problems += [text for text in page.text if re.search(r"\bUTC\b", text)]
    shown = any(TIME_OF_DAY.search(text) for text in page.text)
    if shown and zone not in page.joined and not any(zone in x for x in page.titles):
        problems.append(f"times shown without naming {zone}")
    return problems


def chinese_chrome(page: PageText) -> list[str]:
    return [text for text in page.chrome if CJK.search(text)]
