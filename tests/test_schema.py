"""The input declarations drive validation, overrides and the README's reference."""

from __future__ import annotations

import pandas as pd
import pytest

from model.data import schema
from tests.conftest import ROOT


def test_readme_reference_matches_declarations():
    readme = (ROOT / "README.md").read_text()
    assert schema.with_reference(readme) == readme, "run: python run.py inputs --update README.md"


@pytest.mark.parametrize("spec", schema.TABLES, ids=lambda t: t.file)
def test_every_column_is_documented(spec):
    text = schema.markdown()
    for field in spec.fields:
        assert f"| `{field.name}` |" in text
        assert field.description


def test_parse_column_kinds_and_ranges():
    field = schema.Field("x", "float", "Mt", "", 0.0, 0.0, 10.0)
    values, bad = field.parse_column(pd.Series(["1.5", "", "abc", "11", "inf"]))
    assert values.tolist()[:2] == [1.5, 0.0]
    assert bad.tolist() == [False, False, True, True, True]
    year = schema.year_field("y", "", None)
    values, bad = year.parse_column(pd.Series(["2030", "", "2030.5"]))
    assert values.iloc[0] == 2030 and pd.isna(values.iloc[1])
    assert bad.tolist() == [False, False, True]
    flag = schema.Field("b", "bool", "", "", False)
    values, bad = flag.parse_column(pd.Series(["TRUE", "no", "", "maybe"]))
    assert values.tolist()[:3] == [True, False, False]
    assert bad.tolist() == [False, False, False, True]


def test_convert_toml_and_text_alike():
    field = schema.SCENARIO["discount_rate"]
    assert field.convert(0.05) == field.convert("0.05") == 0.05
    with pytest.raises(ValueError):
        field.convert(True)
    with pytest.raises(ValueError):
        field.convert("0.9")
