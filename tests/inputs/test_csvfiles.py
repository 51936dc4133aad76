"""The one CSV reader: gzip or plain, strict quoting, bounded fields, errors at file:line:column."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cloudctl.errors import InputError
from cloudctl.inputs.csvfiles import parse_csv, read_csv


def _error(fn, *args, **kwargs) -> InputError:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as e:
        fn(*args, **kwargs)
    return e.value


def test_plain_gzip_bom_crlf_and_blank_lines_give_the_same_table(tmp_path: Path) -> None:
    text = 'code,name\r\n\r\n11,"北京,市"\r\n12,"multi\r\nline"\r\n\r\n13,c\r\n'
    plain = tmp_path / "a.csv"
    plain.write_bytes(b"\xef\xbb\xbf" + text.encode())
    packed = tmp_path / "a.csv.gz"
    packed.write_bytes(gzip.compress(text[:20].encode()) + gzip.compress(text[20:].encode()))  # two members
    for path in (plain, packed):
        table = read_csv(path)
        assert table.header == ["code", "name"]
        assert table.rows == [["11", "北京,市"], ["12", "multi\r\nline"], ["13", "c"]]
        assert [table.line_of(i) for i in range(3)] == [3, 4, 7] == table.row_lines()


def test_gzip_problems_are_errors_with_a_location(tmp_path: Path) -> None:
    fake = tmp_path / "links.csv.gz"
    fake.write_text("a,b\n1,2\n")
    error = _error(read_csv, fake)
    assert "named .gz but is not gzip" in error.message and error.line == 1
    data = gzip.compress(("code,name\n" + "".join(f"{i},n{i}\n" for i in range(20_000))).encode())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    error = _error(read_csv, cut)
    assert "truncated after" in error.message and error.line is not None and 2 < error.line < 20_000
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"a\n" + b"x" * 20_000_000))
    assert "decompresses to more than" in _error(read_csv, bomb, max_bytes=1_000_000).message
    garbage = tmp_path / "garbage.csv.gz"
    garbage.write_bytes(data + b"trailing")
    assert "not gzip data follow" in _error(read_csv, garbage).message


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ('code,name\n1,ok\n2,"never closed\n3,c\n', 3, 2, "never closed"),
    ('code,name\n1,ok\n2,"x"y\n', 3, None, "after the closing quote"),
    ("code,name\n1,ok\n2," + "y" * 300_000 + "\n", 3, 2, "longer than 65,536"),
    ('code,name\n1,ok\n2,"' + "y" * 300_000 + "\n3,z\n", 3, 2, "longer than 65,536"),
    ("", 1, None, "empty"),
])
def test_malformed_csv_is_located(text: str, line: int, column: int | None, words: str) -> None:
    error = _error(parse_csv, text, "t.csv")
    assert (error.file, error.line, error.column) == ("t.csv", line, column), error.render()
    assert words in error.message


def test_not_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("code,name\n11,北京\n".encode("gbk"))
    error = _error(read_csv, path)
    assert "not UTF-8" in error.message and (error.line, error.column) == (2, 4)


def test_names_are_one_line_of_printable_text() -> None:
    table = parse_csv("code,name\n" + "".join(f"{i},n{i}\n" for i in range(10_000)) + '7,"a\x00b"\n', "t.csv")
    error = _error(table.check_text, table.column("name"), "name")
    assert (error.line, error.column, error.field) == (10_002, 2, "name") and "U+0000" in error.message
    for bad in ("\x1b[31mred", "a\u202eb", "a\u2028b", "x" * 201):
        table = parse_csv(f'code,name\n1,"{bad}"\n', "t.csv")
        assert _error(table.check_text, table.column("name"), "name").line == 2
    rare = parse_csv("code,name\n1,\ue170村\n2,\u3000中 文\n", "t.csv")  # private use: rare characters
    rare.check_text(rare.column("name"), "name")


def test_header_and_width_checks() -> None:
    table = parse_csv("a,c\n1,2\n", "t.csv")
    error = _error(table.check_header, ("a", "b"))
    assert (error.line, error.column) == (1, 2) and "unknown column 'c'" in error.message
    table = parse_csv("a,b\n1,2\n\n1,2,3\n", "t.csv")
    error = _error(table.check_width)
    assert error.line == 4 and "3 fields" in error.message
