"""The audit log in words and without personal data: every action the code records has a word in
both languages, and an export's filters keep only known names and never a KEY:VALUE's value."""

from __future__ import annotations

import re
from pathlib import Path

from tiyan.services.audit_trail import CUSTOMER_VIEW, EXPORT, audit_filters
from tiyan.web.i18n import catalogue

SOURCE = Path(__file__).parents[3] / "src" / "tiyan"
# action="x" passed to audit.record, and the actions handed to the services' _audit helpers
RECORDED = re.compile(r"""action=["']([a-z_.]+)["']|_audit\(conn, ctx, actor, ["']([a-z_.]+)["']"""
                      r"""|fail_attempt\([^)]*["']([a-z_.]+)["']\)""")


def recorded_actions() -> set[str]:
    found = {CUSTOMER_VIEW, EXPORT}
    for path in SOURCE.rglob("*.py"):
        for match in RECORDED.finditer(path.read_text(encoding="utf-8")):
            found.update(group for group in match.groups() if group)
    return found


def test_every_recorded_action_has_a_word_in_both_languages() -> None:
    actions = recorded_actions()
    assert {"export", "customer.view", "customer.erase", "reveal_phone"} <= actions
    for locale in ("en", "zh-CN"):
        words = catalogue(locale)
        missing = sorted(a for a in actions if f"audit.actions.{a}" not in words)
        assert missing == [], (locale, missing)
        kinds = ("responses", "dashboard", "voc", "case_attachment")
        assert all(f"audit.export.{k}" in words for k in kinds)


def test_export_filters_keep_known_names_and_no_personal_values() -> None:
    kept = audit_filters({"unit": "n1", "from": "2026-11-01", "attr": "phone:13812345678",
                          "answer": "why:张三说的", "13812345678": "1", "q": "王小明",
                          "segment": "", "staff": None, "kpi": "x" * 100})
    assert kept == {"unit": "n1", "from": "2026-11-01", "attr": "phone:…", "answer": "why:…",
                    "kpi": "x" * 64, "q": "…"}  # words searched for: only that there were
