"""Long texts as menu rows: at most a row's width, broken at spaces, paths cut after a "/"."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from claude_usage_gauge.core.text import CONTINUATION, ROW_MAX, wrap


def test_a_long_step_becomes_indented_rows_that_read_back_whole() -> None:
    step = (
        "4. If it comes back: 'Reset credentials file…' in the menu (or run: claude-usage-gauge "
        "credentials reset) moves the sign-in aside (nothing is deleted; 'Restore credentials…' "
        "puts it back), then sign in as above."
    )
    rows = wrap(step)
    assert len(rows) > 2
    assert all(len(row) <= ROW_MAX for row in rows)
    assert rows[0].startswith("4. If it comes back")
    assert all(row.startswith(CONTINUATION) and row[len(CONTINUATION)] != " " for row in rows[1:])
    assert " ".join(row.strip() for row in rows) == step


def test_a_short_text_is_one_row_and_blank_text_none() -> None:
    assert wrap("Refresh now") == ["Refresh now"]
    assert wrap("   ") == []


def test_a_path_longer_than_a_row_is_cut_after_a_separator() -> None:
    path = "/home/someone-with-a-long-name/.local/share/claude-usage-gauge/credential-backups"
    rows = wrap(path, indent="")
    assert len(rows) == 2
    assert rows[0].endswith("/")
    assert "".join(rows) == path


def test_a_word_without_separators_is_cut_where_it_must() -> None:
    rows = wrap("x" * 150)
    assert [len(row) for row in rows] == [60, 60, 38]  # 60 + 56 + 34, after the indent


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=600), st.integers(10, 80))
def test_no_row_is_ever_wider_than_asked(text: str, width: int) -> None:
    rows = wrap(text, width)
    assert all(len(row) <= width for row in rows)
    # Nothing is lost but the spaces between words.
    assert "".join("".join(rows).split()) == "".join(text.split())
