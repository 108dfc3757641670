import re
from pathlib import Path

from tiyan.domain.access import Role
from tiyan.domain.responses import Channel
from tiyan.web.i18n import LOCALES, Translator, catalogue, negotiate
from tiyan.web.ui.render import NAVIGATION

TEMPLATES = Path(__file__).parents[3] / "src" / "tiyan" / "web" / "templates"
KEY_USE = re.compile(r"""\bt(?:\.word)?\(\s*["']([a-z0-9_.]+)["']""")


def test_both_catalogues_hold_the_same_keys_and_no_empty_text():
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert set(zh) == set(en)
    assert all(v.strip() for v in [*zh.values(), *en.values()])


def test_every_key_a_template_uses_exists():
    keys = set(catalogue("en"))
    used = {m for path in TEMPLATES.glob("*.html") for m in KEY_USE.findall(path.read_text())}
    fixed = {k for k in used if not k.endswith((".", "_"))}
    assert fixed and fixed <= keys, fixed - keys
    prefixes = used - fixed  # keys completed from a value in the template, e.g. t("role." ~ r)
    assert all(any(k.startswith(p) for k in keys) for p in prefixes), [
        p for p in prefixes if not any(k.startswith(p) for k in keys)]


def test_keys_built_from_values_cover_every_value():
    keys = set(catalogue("en"))
    families = {
        "channel.": [c.value for c in Channel],
        "role.": [r.value for r in Role],
        "surveys.status.": ["draft", "active", "closed"],
        "login.error.": ["not_authenticated", "forbidden", "rate_limited"],
    }
    for prefix, values in families.items():
        assert {f"{prefix}{v}" for v in values} <= keys, prefix


def test_every_code_of_a_case_has_a_word() -> None:
    from tiyan.domain.callbacks import OUTCOMES
    from tiyan.domain.cases import CaseStatus, TimerKind
    from tiyan.services.notifications import CHANNELS

    keys = set(catalogue("en"))
    families = {
        "cases.status.": [s.value for s in CaseStatus],
        "case.timer.": [k.value for k in TimerKind],
        "case.event.": ["opened", "acknowledged", "in_progress", "resolved", "closed",
                        "reopened", "note", "root_cause", "escalated", "callback", "attachment"],
        "callbacks.outcome.": list(OUTCOMES),
        "case.channel.": list(CHANNELS),
        "case.delivery.": ["queued", "sent", "failed", "retrying"],
    }
    for prefix, values in families.items():
        assert {f"{prefix}{v}" for v in values} <= keys, prefix


def test_a_stored_code_without_a_word_is_shown_as_itself() -> None:
    for locale in LOCALES:
        t = Translator(locale)
        assert t.word("cases.status.", "new") == t("cases.status.new")
        assert t.word("cases.status.", "on_hold") == "on_hold"
        assert t.word("callbacks.outcome.", None) == ""


def test_navigation_labels_exist_in_both_languages():
    for locale in LOCALES:
        t = Translator(locale)
        assert all(t(item.key) for item in NAVIGATION)


def test_language_negotiation_prefers_explicit_choice_then_cookie_then_user_then_browser():
    assert negotiate("en", "zh-CN", None, None, "zh-CN") == "en"
    assert negotiate(None, "en", "zh-CN", None, "zh-CN") == "en"
    assert negotiate(None, None, "en", "zh-CN", "zh-CN") == "en"
    assert negotiate(None, None, None, "en-US,en;q=0.9", "zh-CN") == "en"
    assert negotiate(None, None, None, "zh-TW", "en") == "zh-CN"
    assert negotiate("fr", None, None, None, "zh-CN") == "zh-CN"


def test_an_errors_place_is_said_in_words_or_not_at_all():
    zh, en = Translator("zh-CN"), Translator("en")
    assert zh.place("tasks, line 2") == "任务，第 2 行"
    assert en.place("items, line 3") == "items, line 3"
    assert zh.place("sampling_percent") == "抽样比例"
    assert en.place("sampling_percent") == "sample (%)"
    assert zh.place("line 2: ") == "第 2 行"
    for code in ("answers.nps", "question \"q1\".skip_to[1]", "task_due0", "tasks, bogus", ""):
        assert zh.place(code) is None and en.place(code) is None  # no code reaches a page
    assert zh.place(None) is None
