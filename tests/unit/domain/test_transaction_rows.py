from decimal import Decimal

import pytest

from tiyan.domain.transaction_rows import parse_amount


@pytest.mark.parametrize(("raw", "amount"), [
    ("88元", Decimal("88.00")), ("¥1,234.5", Decimal("1234.50")), (12.345, Decimal("12.34")),
    ("9999999999999", Decimal("9999999999999.00")),
])
def test_amounts_in_the_usual_spellings_are_read(raw, amount):
    assert parse_amount(raw) == amount


@pytest.mark.parametrize(("raw", "reason"), [
    ("1e30", "too large"), ("10000000000000", "too large"), ("NaN", "finite"),
    ("abc", "not a number"), ("", "no amount"), (True, "not an amount"),
])
def test_amounts_that_cannot_be_stored_are_refused_with_a_reason(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_amount(raw)
