"""reports/json_text.py writes exactly what json.dumps(indent=2, ensure_ascii=False) writes, and fails as it fails."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from beanflex.reports.json_text import dumps

CASES = [
    {}, [], "", None, True, 0, -3, 1.5, "naïve € \"quoted\" \\ \n\t \x01",
    {"a": [1, "x", None, True, False, 2.25, [], {}], "b": {}, "c": [[[]]], "d": ({"e": "f"}, ("g",))},
    {1: "int key", 2.5: "float key", True: "bool key", None: "none key", "s": [{"": ""}]},
    [{"rows": [{"kind": "label", "gain": "-1.00", "members": [{"weight": "0.5"}], "gaps": []}]}],
]


@pytest.mark.parametrize("value", CASES)
def test_same_text_as_json(value):
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_what_json_handles_its_own_way_goes_to_json():
    nan = {"x": [float("nan"), float("inf")]}
    assert dumps(nan) == json.dumps(nan, indent=2, ensure_ascii=False)  # NaN, Infinity as json spells them
    with pytest.raises(TypeError, match="Decimal"):
        dumps({"x": Decimal("1.10")})  # never written as a number: json's error
    with pytest.raises(TypeError, match="keys must be"):
        dumps({(1, 2): "tuple key"})
