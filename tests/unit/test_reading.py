"""Bytes to records: encodings, delimiters, line ends, quoting, ragged rows, binary files."""

from __future__ import annotations

from datetime import date

import pytest

from importer.errors import UnreadableFile
from importer.model import Activity, Rejection
from importer.read.csv_source import open_csv, sniff
from importer.read.text import count_records, delimiter_of, encoding_of

HEADER = "Aktivitet,Startdatum,Slutdatum\n"


def read(data: bytes, **kwargs):
    return list(open_csv(data, file_name="t.csv", **kwargs))


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Aktivitet,Startdatum\nMöte,2026-01-01\n".encode(), "utf-8"),
        ("Aktivitet,Startdatum\nMöte,2026-01-01\n".encode("utf-8-sig"), "utf-8-sig"),
        ("Aktivitet,Startdatum\nMöte,2026-01-01\n".encode("cp1252"), "cp1252"),
        ("Aktivitet\tStartdatum\nMöte\t2026-01-01\n".encode("utf-16"), "utf-16"),
        ("Aktivitet;Startdatum\rMöte på Åland;2026-01-01\r".encode("mac_roman"), "mac_roman"),
        ("Aktivitet;Startdatum\r\nMöte på Åland;2026-01-01\r\n".encode("cp850"), "cp850"),
    ],
)
def test_swedish_letters_survive_every_encoding(data, encoding):
    """UTF-8 with and without BOM, Windows-1252, Excel's UTF-16, Mac Roman ("CSV (Macintosh)")
    and DOS cp850 all read 'Möte' intact."""
    source = open_csv(data, file_name="t.csv")
    assert source.encoding == encoding
    (row,) = list(source)
    assert row.name in ("Möte", "Möte på Åland")


def test_cp1252_typographic_characters():
    """Windows-1252-only bytes (en dash, curly quotes) decode as themselves, not as latin-1."""
    data = "Aktivitet;Startdatum\nÅrsredovisning – “klar”;2026-01-01\n".encode("cp1252")
    (row,) = read(data)
    assert row.name == "Årsredovisning – “klar”"


@pytest.mark.parametrize("text", ["Budget 500 € och 200 €", "Plan… mer… ännu…", "Svar – “ja”"])
def test_windows_punctuation_is_not_taken_for_mac_letters(text):
    """Euro signs, ellipses and dashes in a Windows-1252 file keep it Windows-1252."""
    data = f"Aktivitet;Startdatum\n{text};2026-01-01\n".encode("cp1252")
    assert encoding_of(data) == "cp1252"


def test_undecodable_bytes_still_decode():
    """Bytes undefined in Windows-1252 pick a plausible code page or latin-1, never an error."""
    data = b"Aktivitet,Startdatum\nM\x81\x8d\x8f\x90\x9d,2026-01-01\n"
    assert encoding_of(data) in ("latin-1", "cp850", "cp437", "mac_roman", "iso8859_15", "cp1250")
    (row,) = read(data)
    assert len(row.name) == 6


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ('"a,x";b;c\n"1,2";2;3\n', ";"),
        ('name,start,desc\n"one; two; three",2026-01-01,"a;b;c"\n', ","),
        ("Namn;Startdatum;Anteckning\nMöte;2026-01-01;Kl. 10, rum 3\n", ";"),
    ],
)
def test_delimiter_is_counted_outside_quotes(text, delimiter):
    """The delimiter is the candidate that splits the first lines consistently outside quotes."""
    assert delimiter_of(text) == delimiter


def test_crlf_and_quoted_newlines_count_as_one_row():
    """A quoted field may hold line breaks and delimiters; such a record is one row."""
    data = (
        'Aktivitet,Startdatum,Beskrivning\r\n'
        '"Möte, stort",2026-01-01,"rad ett\r\nrad två"\r\n'
        'Nästa,2026-02-01,x\r\n'
    ).encode()
    source = open_csv(data, file_name="t.csv")
    rows = list(source)
    assert source.total_rows == 2
    assert [r.row_number for r in rows] == [2, 3]
    assert rows[0].name == "Möte, stort"
    assert rows[0].description == "rad ett\r\nrad två"


def test_ragged_rows_are_padded_or_cut():
    """Short rows are padded and long rows cut to the header, never a crash."""
    data = (HEADER + "Kort,2026-01-01\nLång,2026-01-01,2026-01-02,extra,mer\n").encode()
    rows = read(data)
    assert [(r.name, r.end) for r in rows] == [("Kort", date(2026, 1, 1)),
                                             ("Lång", date(2026, 1, 2))]


def test_nul_bytes_are_stripped():
    """Stray NUL bytes disappear instead of ending up in names."""
    data = (HEADER + "Mö\x00te,2026-01-01,\n").encode()
    (row,) = read(data)
    assert row.name == "Möte"


def test_huge_cells_are_capped():
    """A name over 200 characters is rejected; a huge description is cut with a marker."""
    big = "x" * 50_000
    data = f"Aktivitet,Startdatum,Beskrivning\n{'n' * 201},2026-01-01,\nOk,2026-01-01,{big}\n"
    rejected, accepted = read(data.encode())
    assert isinstance(rejected, Rejection) and "200" in rejected.reason
    assert rejected.column == "Aktivitet"
    assert len(accepted.description) == 10_000 and accepted.description.endswith("[…]")


def test_rejection_values_are_capped():
    """Raw cells kept in a rejection are cut at 10,000 characters."""
    data = f"Aktivitet,Startdatum\nX,{'9' * 200_000}\n".encode()
    (row,) = read(data)
    assert isinstance(row, Rejection)
    assert max(len(v) for v in row.values) <= 10_000


def test_leading_blank_lines_and_blank_rows():
    """Blank lines before the header and between rows are skipped; row numbers stay the
    spreadsheet's."""
    data = ("\n\n" + HEADER + "A,2026-01-01,\n,,\n   \nB,2026-01-02,\n\n").encode()
    source = open_csv(data, file_name="t.csv")
    rows = list(source)
    assert source.total_rows == 2
    assert [(r.name, r.row_number) for r in rows] == [("A", 4), ("B", 7)]


def test_count_on_bytes_agrees_with_csv_pass():
    """The byte-level count used for quote-free files matches what iteration yields."""
    data = (HEADER + "A,2026-01-01,\n,,\n\t\nB,2026-01-02,\r\n\xa0,2026-01-01,\n").encode()
    assert count_records(data, "utf-8", ",", skip=1) == 3
    source = open_csv(data, file_name="t.csv")
    assert source.total_rows == len(list(source)) == 3


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PK\x03\x04" + b"\x00" * 100, "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel"),
        (b"%PDF-1.7\n" + bytes(range(256)), "PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG"),
        (bytes(range(256)) * 20, "inte en textfil"),
    ],
)
def test_binary_files_are_not_text(data, what):
    """Binary uploads fail with not_text and say what they look like."""
    for call in (lambda: open_csv(data, file_name="x"), lambda: sniff(data, complete=True)):
        with pytest.raises(UnreadableFile) as info:
            call()
        assert info.value.code == "not_text"
        assert what in info.value.message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"\r\n \n\t\n", "empty_file"),
        (b"\xef\xbb\xbf", "empty_file"),
        (b"Aktivitet,Startdatum\n", "no_data_rows"),
        (b"Aktivitet,Startdatum\n,\n\n", "no_data_rows"),
        (b"Kundnummer,Belopp\n1,200\n2,300\n", "no_usable_column"),
        (b"Namn,Ort\nAnna,Lund\n", "no_usable_column"),
        (b"Mote,2026-01-01,2026-01-02\nX,2026-02-01,2026-02-02\n", "no_header"),
    ],
)
def test_files_that_cannot_be_an_import(data, code):
    """Empty, header-only, unusable and headerless files fail with their specific code."""
    with pytest.raises(UnreadableFile) as info:
        open_csv(data, file_name="t.csv")
    assert info.value.code == code
    with pytest.raises(UnreadableFile) as info:
        sniff(data, complete=True)
    assert info.value.code == code


def test_sniff_accepts_a_prefix_cut_mid_row():
    """A valid file cut anywhere (mid-row, mid-character, mid-quote) is not rejected."""
    body = "".join(f'"Möte {i}, del",2026-01-{i % 28 + 1:02d},"rad\nny"\n' for i in range(3000))
    data = ("Aktivitet,Startdatum,Beskrivning\n" + body).encode()
    for cut in (5, 20, 33, 34, 35, 40, 41, 100, 1001, 4097, 65536):
        assert sniff(data[:cut], complete=False) is None, cut  # raises UnreadableFile if rejected


def test_sniff_judges_no_data_only_for_complete_files():
    """A prefix holding just the header may be followed by rows: only a whole file is empty."""
    sniff(b"Aktivitet,Startdatum\n", complete=False)
    with pytest.raises(UnreadableFile):
        sniff(b"Aktivitet,Startdatum\n", complete=True)


def test_iterating_twice_gives_the_same_rows():
    """The source streams from the bytes; a second pass yields the same rows."""
    source = open_csv((HEADER + "A,2026-01-01,\nB,x,\n").encode(), file_name="t.csv")
    first = list(source)
    assert first == list(source)
    assert isinstance(first[0], Activity) and isinstance(first[1], Rejection)


def test_title_lines_above_the_header_are_skipped():
    """An Excel title line above the real header is not taken for the header."""
    data = "Årsplan 2026;;;\n\nExporterad 2026-01-05;;;\nAktivitet;Start;Slut;Ansvarig\nA;2026-01-01;;Eva\n"
    source = open_csv(data.encode("cp1252"), file_name="t.csv")
    (row,) = list(source)
    assert source.layout.header_row == 4
    assert (row.row_number, row.name, row.label) == (5, "A", "Eva")


def test_lone_cr_line_ends():
    """Old Mac line ends (CR only) are records too, counted by the csv pass."""
    data = b"Aktivitet,Startdatum\rA,2026-01-01\rB,2026-01-02\r"
    source = open_csv(data, file_name="t.csv")
    assert source.total_rows == 2
    assert [r.name for r in source] == ["A", "B"]
