"""JSON from outside nests at most MAX_DEPTH levels; brackets inside strings do not count."""

from __future__ import annotations

import json

import pytest

from tiyan.domain.json_depth import MAX_DEPTH, TooDeep, loads, too_deep_at


def test_the_limit_itself_parses_and_one_more_level_is_refused_where_it_starts() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    deeper = '{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
    with pytest.raises(TooDeep) as refused:
        loads(deeper)
    assert isinstance(refused.value, json.JSONDecodeError)  # every bad-JSON handler takes it
    assert refused.value.pos == len('{"a": ') + MAX_DEPTH - 1
    assert refused.value.msg == f"nested deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_thousands_of_levels_are_refused_without_a_recursion_error(depth: int) -> None:
    with pytest.raises(TooDeep):
        loads("[" * depth + "]" * depth)
    with pytest.raises(TooDeep):
        loads(b'{"a":' * depth + b"1" + b"}" * depth)


def test_brackets_inside_strings_and_escapes_do_not_count() -> None:
    text = json.dumps({"comment": "[[[[{{{{" * 100, "quote": 'he said "[[["' + "\\" * 3})
    assert too_deep_at(text) is None and loads(text)["comment"].startswith("[[[[")
    with pytest.raises(json.JSONDecodeError):
        loads("{broken")


def test_a_comments_file_row_nested_too_deep_is_a_row_error(tmp_path) -> None:  # noqa: ANN001
    from tiyan.text._rows import Columns, read_rows

    path = tmp_path / "comments.jsonl"
    path.write_text('{"id": 1, "text": "好"}\n{"id": 2, "text": ' + "[" * 5000 + "]" * 5000
                    + '}\n{"id": 3, "text": "差"}\n', encoding="utf-8")
    rows = list(read_rows(path, Columns()))
    assert [r.text for r in rows] == ["好", None, "差"]
    assert rows[1].error == f"row 2: not valid JSON (nested deeper than {MAX_DEPTH} levels)"
