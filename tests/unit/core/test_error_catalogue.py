"""Every error a person can see has a key of the error catalogue with both translations
(issue 16): a scan of the source finds each place that builds a typed error or a Phrase and
checks that it names a key, not an English sentence, and passes the values its template names."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

import tiyan
from tiyan.errors import (
    ERROR_LOCALES,
    InvalidInput,
    NotFound,
    Phrase,
    TiyanError,
    error_catalogue,
)

SOURCE = Path(tiyan.__file__).parent
# Where a key is computed, not written: each is checked where it is made (see the notes).
COMPUTED = {
    ("domain/indices.py", "check_definition"),        # re-raises a MetricsError with its own key
    ("services/responses.py", "_found"),         # callers pass a literal key and its values
    ("errors.py", "_value_from_json"),           # a Phrase read back from stored JSON
    ("errors.py", "phrase"),                     # an error's own key and values, as a value
}
# The calls that reject an imported row, and the position of the reason among their arguments.
ROW_PROBLEM_CALLS = {"RowProblem": 2, "problem": 1, "_bad": 1}
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){2,}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _error_classes(trees: dict[str, ast.Module]) -> set[str]:
    """TiyanError and every class below it, by name, across the package."""
    names = {"TiyanError"}
    while True:
        more = {node.name for tree in trees.values() for node in ast.walk(tree)
                if isinstance(node, ast.ClassDef) and node.name not in names
                and any(isinstance(b, ast.Name) and b.id in names for b in node.bases)}
        if not more:
            return names
        names |= more


def _own_init(trees: dict[str, ast.Module]) -> set[str]:
    return {node.name for tree in trees.values() for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and any(
                isinstance(f, ast.FunctionDef) and f.name == "__init__" for f in node.body)}


def _trees() -> dict[str, ast.Module]:
    return {str(path.relative_to(SOURCE)): ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(SOURCE.rglob("*.py"))}


class _Builds(ast.NodeVisitor):
    """Each call that builds a typed error or a Phrase, with the function it is in; a
    super().__init__ inside an error class counts as building one."""

    def __init__(self, classes: set[str], errors: set[str]) -> None:
        self.classes = classes | {"Phrase"}
        self.errors = errors
        self.functions, self.owners = ["<module>"], [""]
        self.found: list[tuple[str, ast.Call]] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.owners.append(node.name)
        self.generic_visit(node)
        self.owners.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        callee = node.func
        called = callee.id if isinstance(callee, ast.Name) else \
            callee.attr if isinstance(callee, ast.Attribute) else None
        init = called == "__init__" and isinstance(callee, ast.Attribute) and \
            isinstance(callee.value, ast.Call) and self.owners[-1] in self.errors
        if called in self.classes or init:
            self.found.append((self.functions[-1], node))
        self.generic_visit(node)


def _calls(trees: dict[str, ast.Module]) -> Iterator[tuple[str, str, ast.Call]]:
    """(file, enclosing function, call) for each error or Phrase being built; an error class
    with an __init__ of its own (e.g. Refused(reason, url)) is checked where that __init__
    calls super().__init__."""
    errors = _error_classes(trees) - {"TiyanError"}
    classes = errors - _own_init(trees)
    for name, tree in trees.items():
        finder = _Builds(classes, errors)
        finder.visit(tree)
        for function, call in finder.found:
            yield name, function, call


def test_both_catalogues_hold_the_same_keys_with_the_same_values_named() -> None:
    english, chinese = error_catalogue("en"), error_catalogue("zh-CN")
    assert set(ERROR_LOCALES) == {"en", "zh-CN"}
    assert sorted(english) == sorted(chinese)
    for key, template in english.items():
        assert _fields(template) == _fields(chinese[key]), key


def test_the_chinese_catalogue_reads_as_chinese() -> None:
    for key, template in error_catalogue("zh-CN").items():
        words = re.sub(r"\{[^}]*\}|`[^`]*`|\"[^\"]*\"|TIYAN_\w+", " ", template)
        assert not ENGLISH.search(words), (key, template)
        assert CHINESE.search(template) or not re.search(r"[A-Za-z]{4,}", words), key


def test_every_error_raised_names_a_key_with_both_translations_and_its_values() -> None:
    trees = _trees()
    keys = error_catalogue("en")
    problems, used, families = [], set(), set()
    for name, function, call in _calls(trees):
        if not call.args:
            continue
        first = call.args[0]
        here = f"{name}:{call.lineno} ({function})"
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            key = first.value
            if key not in keys:
                problems.append(f"{here}: {key!r} is not a key of the error catalogue")
                continue
            used.add(key)
            given = {k.arg for k in call.keywords if k.arg} - {"where"}
            if isinstance(call.func, ast.Name) and call.func.id == "Phrase":
                given = {k.value for k in call.args[1].keys} if len(call.args) > 1 and \
                    isinstance(call.args[1], ast.Dict) else set()  # type: ignore[misc]
            if not any(k.arg is None for k in call.keywords) and given != _fields(keys[key]):
                problems.append(f"{here}: {key} names {sorted(_fields(keys[key]))}, "
                                f"given {sorted(given)}")
        elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
            prefix = str(first.values[0].value)
            family = {k for k in keys if k.startswith(prefix)}
            if not family:
                problems.append(f"{here}: no key starts with {prefix!r}")
            families |= family
        elif (name, function) not in COMPUTED:
            problems.append(f"{here}: the message is not a key of the error catalogue")
    assert not problems, "\n".join(problems)
    literal = _literal_keys(trees, keys)
    unused = set(keys) - used - families - literal
    assert not unused, f"catalogue entries no code uses: {sorted(unused)}"


def _row_problem_calls(trees: dict[str, ast.Module]) -> Iterator[tuple[str, ast.Call]]:
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                callee = node.func
                called = callee.id if isinstance(callee, ast.Name) else \
                    callee.attr if isinstance(callee, ast.Attribute) else None
                if called in ROW_PROBLEM_CALLS:
                    yield f"{name}:{node.lineno}", node


def test_every_rejected_import_row_says_why_with_a_key_of_the_catalogue() -> None:
    """Row problems of the feedback and transaction imports (issue 16): each reason is a Phrase
    (checked for its key and values by the scan above) or a value made elsewhere, never an
    English text that only English readers could read."""
    trees, found = _trees(), []
    for here, call in _row_problem_calls(trees):
        position = ROW_PROBLEM_CALLS[call.func.id if isinstance(call.func, ast.Name)
                                     else call.func.attr]  # type: ignore[attr-defined]
        reason = call.args[position] if len(call.args) > position else next(
            (k.value for k in call.keywords if k.arg in ("why", "reason")), None)
        found.append(here)
        if reason is None:
            continue
        texts = [n for n in ast.walk(reason) if isinstance(n, ast.JoinedStr)
                 or (isinstance(n, ast.Constant) and isinstance(n.value, str)
                     and ENGLISH.search(n.value))]
        phrase = isinstance(reason, ast.Call) and isinstance(reason.func, ast.Name) and \
            reason.func.id in ("Phrase", "time_problem", "_csv_problem")
        assert phrase or not texts, f"{here}: a row problem given as English text"
        assert phrase or isinstance(reason, (ast.Name, ast.BoolOp)), \
            f"{here}: a row problem's reason is not a Phrase"
    files = {here.split(":")[0] for here in found}
    assert {"domain/feedback_rows.py", "domain/transaction_rows.py",
            "services/table_files.py", "services/feedback_import.py",
            "services/transactions.py"} <= files, files
    assert len(found) >= 30, len(found)  # the scan still finds them


def test_a_stored_row_problem_is_read_back_in_each_language() -> None:
    from tiyan.domain.feedback_rows import RowProblem
    from tiyan.errors import placed_text, stored_text

    problem = RowProblem(3, "评分", Phrase("import_rows.rating_out_of_range",
                                           {"low": 1.0, "high": 5.0}), "9")
    stored = problem.as_json()
    assert stored["reason"] == "the rating is outside 1–5"
    assert stored_text(stored, "zh-CN") == "评分超出 1–5 的范围"
    assert placed_text(stored, "en") == "line 3, column 评分: the rating is outside 1–5"
    assert placed_text(stored, "zh-CN") == "第 3 行“评分”列：评分超出 1–5 的范围"
    nested = RowProblem(4, "time", Phrase("import_rows.unparseable_time", {
        "why": Phrase("import_rows.time_year", {"year": 1900})})).as_json()
    assert stored_text(nested, "zh-CN") == "无法解析时间：1900 年不是合理的年份"
    assert stored_text(nested, "en") == nested["reason"] == \
        "unparseable time: 1900 is not a plausible year"
    older = {"line": 5, "column": "text", "reason": "the text is empty", "value": None}
    assert stored_text(older, "zh-CN") == "the text is empty"  # no key: its text as stored
    assert placed_text({"line": None, "column": None, "reason": "gone"}, "zh-CN") == "gone"


def _literal_keys(trees: dict[str, ast.Module], keys: dict[str, str] | object) -> set[str]:
    """Keys written as plain strings elsewhere (handed on to where the error is made)."""
    known = set(keys)  # type: ignore[call-overload]
    return {node.value for tree in trees.values() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value in known}


def test_an_error_keeps_english_for_logs_and_speaks_each_language_on_request() -> None:
    error = InvalidInput("responses.not_whole_number", value=42, low=0, high=10,
                         where="answers.nps")
    assert error.message == str(error) == "42 is not a whole number from 0 to 10"
    assert error.text("zh-CN") == "42 不是 0 到 10 的整数"
    assert error.to_dict("zh-CN") == {"code": "invalid_input", "key": "responses.not_whole_number",
                                      "message": "42 不是 0 到 10 的整数", "where": "answers.nps"}


def test_a_phrase_value_is_said_in_the_messages_language() -> None:
    error = NotFound("alerts.no_code", v_key=Phrase("alerts.scope.touchpoints"), code="x")
    assert error.message == 'no touchpoint has the code "x"'
    assert error.text("zh-CN") == "没有代码为“x”的触点"


def test_a_text_that_is_no_key_is_kept_as_it_is() -> None:
    error = TiyanError("a library said this")
    assert error.key is None and error.text("zh-CN") == "a library said this"


@pytest.mark.parametrize("locale", ERROR_LOCALES)
def test_every_template_fills_with_its_named_values(locale: str) -> None:
    for key, template in error_catalogue(locale).items():
        values = {name: 1 for name in _fields(template)}
        try:
            template.format(**values)
        except (ValueError, TypeError):  # a date format spec: fill with a date instead
            import datetime as dt

            template.format(**{name: dt.date(2026, 1, 2) for name in values})
        assert key


def test_a_case_status_change_refused_names_the_statuses_in_words() -> None:
    from tiyan.domain.cases import CaseStatus, check_transition
    from tiyan.errors import Conflict

    with pytest.raises(Conflict) as refused:
        check_transition(CaseStatus.NEW, CaseStatus.CLOSED)
    assert refused.value.message == \
        "a new case cannot become closed (allowed: acknowledged, in_progress, resolved)"
    assert refused.value.text("zh-CN") == \
        "“新建”的工单不能变为“已关闭”（可变为：已确认、处理中、已解决）"
