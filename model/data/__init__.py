"""Inputs: every input declared once (schema), a dataset read and checked (inputs, workbook),
changed by overrides and named scenarios, and the synthetic registry of installations."""
