"""Delimited text as spreadsheets write it: the encoding, the column separator, decimal commas.

A spreadsheet in an Indonesian (or most European) locale saves "CSV" with ``;`` between columns
and ``,`` as the decimal mark; a Windows one may save cp1252 instead of UTF-8. The readers of sites
and villages share these steps, and refuse a workbook or a binary file saved under a text name.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from ..errors import FileFormatError

__all__ = ["sniff", "decimal_commas", "read_text_table"]

#: Column-separator candidates of a delimited text file, in order of preference on a tie.
_DELIMITERS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


def sniff(path: Path) -> tuple[str, str]:
    """(encoding, delimiter) of a delimited text file; refuses spreadsheets and binary files."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileFormatError(f"{path}: this is a spreadsheet (Excel/ODS) saved under a text name; save it as "
                              f"CSV or give it its .xlsx name")
    if b"\x00" in head:
        raise FileFormatError(f"{path}: not a text file (binary content); give a CSV, GeoJSON, GeoPackage or .xlsx")
    cut = head[:head.rfind(b"\n") + 1] or head  # never split a multi-byte character
    try:
        text = cut.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        # a Windows spreadsheet's "CSV" export: cp1252 decodes every byte sequence that matters here
        text = cut.decode("cp1252", errors="replace")
        encoding = "cp1252"
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = [first.count(d) for d in _DELIMITERS]
    delimiter = _DELIMITERS[counts.index(max(counts))] if max(counts) > 0 else ","
    return encoding, delimiter


def decimal_commas(df: pd.DataFrame) -> pd.DataFrame:
    """Columns written with decimal commas (``116,77``, a ';'-separated spreadsheet export) as '116.77'."""
    for c in df.columns:
        text = df[c].astype(str)
        filled = text[text.str.strip() != ""]
        if len(filled) and filled.map(lambda x: bool(_DECIMAL_COMMA.match(x) or _INTEGER.match(x))).all() \
                and filled.str.contains(",").any():
            df[c] = text.str.replace(",", ".", regex=False)
    return df


def _ragged(path: Path, encoding: str, delimiter: str) -> str:
    """The message for rows with more fields than the header (each listed with its line)."""
    import csv

    from ._problems import RowProblems

    problems = RowProblems(str(path))
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, [])
        for i, fields in enumerate(reader, start=1):
            if len(fields) > len(header):
                problems.add(i, "(line)", f"{len(fields)} fields but the header has {len(header)}: "
                                          f"{delimiter.join(fields)[:60]!r}")
    return problems.message() if len(problems) else f"{path}: rows with more fields than the header"


def read_text_table(path, what: str = "table", **kw) -> pd.DataFrame:
    """A delimited text file as a DataFrame: encoding and separator sniffed, decimal commas read when
    the separator is ';'. Missing, empty or malformed files are package errors naming the file."""
    from ..errors import MissingFileError

    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{what} file not found: {path}")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a folder, not a {what} file")
    encoding, delimiter = sniff(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # index_col=False: a row with more fields than the header is an error, never a shifted index
            df = pd.read_csv(path, sep=delimiter, encoding=encoding, index_col=False, **kw)
    except pd.errors.ParserWarning:
        raise FileFormatError(_ragged(path, encoding, delimiter)) from None
    except pd.errors.EmptyDataError as exc:
        raise FileFormatError(f"{path}: the {what} file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: malformed CSV ({exc})") from exc
    return decimal_commas(df) if delimiter == ";" else df
