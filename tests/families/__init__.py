"""Tests that mirror model/families/: one file per constraint family, each a small golden
case on the toy (its rows as a table of coefficients) and its dual's meaning."""
