"""Schemathesis hooks for tests/api/test_schemathesis.py (loaded by `st run` through SCHEMATHESIS_HOOKS).

The workbook upload's body is an .xlsx file (`type: string, format: binary`): sent as the bytes generated,
as an octet stream would be (schemathesis has no serializer of its own for the spreadsheet type).
"""

import schemathesis

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

schemathesis.serializer.alias(XLSX, "application/octet-stream")
