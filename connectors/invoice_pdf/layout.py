"""The page as positioned text: lines of cells, and "the value of this label" lookups.

Invoices are forms. A label and its value sit in one of three places: in the same run of
text ("Er referens: Åsa Öberg"), in the next column of the same line ("Fakturanummer:
F000877") or under it in a column-header layout ("Invoice Date:" with "03/20/2023" below).
PyMuPDF's words carry boxes, so the page is rebuilt here as lines (words whose vertical
centres agree) split into cells wherever the horizontal gap is wider than a word space; the
field rules then ask for "the cell after this label" without caring which of the three
layouts a supplier chose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# A gap wider than this share of the text height separates two cells: word spaces are about
# a quarter of the font size, column gaps several times that.
_CELL_GAP = 0.45
_MONOSPACE_GAP = 1.1  # ... or this many average letter widths (a monospaced space is one), whichever is wider
# Words whose vertical centres differ by less than this share of their height share a line.
_SAME_LINE = 0.4
# How far below a label its value may sit, in line heights (column-header layouts).
_BELOW = 2.6
# Lines of one block (an address) are at most this share of the text height apart; a wider
# gap starts a new block.
_BLOCK_GAP = 0.7
_LABEL_PUNCTUATION = " \t:#"
_MAX_TEXT = 120

Word = tuple[float, float, float, float, str]


@dataclass(frozen=True, slots=True)
class Cell:
    """Words on one line with no column gap between them."""

    text: str
    page: int
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def overlaps(self, other: Cell) -> bool:
        return min(self.x1, other.x1) - max(self.x0, other.x0) > 0


@dataclass(frozen=True, slots=True)
class Line:
    page: int
    index: int  # position in Layout.lines, so lookups can walk on from a match
    cells: tuple[Cell, ...]
    y0: float
    y1: float
    height: float  # of its tallest cell

    @classmethod
    def of(cls, page: int, index: int, cells: tuple[Cell, ...]) -> Line:
        return cls(page, index, cells, min(c.y0 for c in cells), max(c.y1 for c in cells),
                   max(c.height for c in cells))

    @property
    def text(self) -> str:
        return " ".join(cell.text for cell in self.cells)

    def after(self, cell: Cell) -> Cell | None:
        """The next cell to the right."""
        position = self.cells.index(cell)
        return self.cells[position + 1] if position + 1 < len(self.cells) else None


Placed = tuple[Line, Cell]


@dataclass(frozen=True, slots=True)
class Match:
    """A label found at the start of a cell, and the text that followed it in that cell."""

    line: Line
    cell: Cell
    label: str
    rest: str


def is_label(text: str) -> bool:
    """A cell that reads like a label ("Due Date:") is not a value of the label before it."""
    return text.endswith(":")


def text_value(value: str) -> str | None:
    """A printed value as text (a name, a reference): not empty, not itself a label, not a paragraph."""
    value = value.strip()
    return value if value and not is_label(value) and len(value) <= _MAX_TEXT else None


class Layout:
    """All lines of the document, page by page, top to bottom."""

    def __init__(self, pages: Sequence[Sequence[Word]], sizes: Sequence[tuple[float, float]]) -> None:
        lines: list[Line] = []
        for page, words in enumerate(pages):
            for cells in _lines(page, words):
                lines.append(Line.of(page, len(lines), cells))
        self.lines: tuple[Line, ...] = tuple(lines)
        self.sizes = tuple(sizes)  # (width, height) per page
        self._block_index: tuple[list[tuple[Placed, ...]], dict[Cell, tuple[Placed, ...]]] | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def cell_text(self, skip: set[Cell] | frozenset[Cell] = frozenset()) -> str:
        """The text with a tab between cells and a newline between lines (cells in `skip` left out):
        identifier patterns may cross from a label's cell to the next, never into a value's digits."""
        return "\n".join("\t".join(cell.text for cell in line.cells if cell not in skip) for line in self.lines)

    def find(self, label: re.Pattern[str]) -> Iterator[Match]:
        """Every cell that starts with `label` (a pattern matched at the cell's start)."""
        for line in self.lines:
            for cell in line.cells:
                found = label.match(cell.text)
                if found:
                    yield Match(line, cell, found.group(0).strip(), cell.text[found.end():].strip(_LABEL_PUNCTUATION))

    def values(self, label: re.Pattern[str], parse: Callable[[str], T | None], *, below: bool = True) -> Iterator[
            tuple[T, Match]]:
        """The parsed value of every occurrence of `label`, wherever the layout put it.

        Text after the label in its own cell is the value, and nothing else is tried when it
        does not parse: "Total HT" is not "Total" followed by a value. An empty rest means the
        value is in the next cell, or (with `below`) in the first cell under the label.
        """
        for match in self.find(label):
            if match.rest:
                value = parse(match.rest)
                if value is not None:
                    yield value, match
                continue
            right = match.line.after(match.cell)
            if right is not None and not is_label(right.text):
                value = parse(right.text)
                if value is not None:
                    yield value, match
                    continue
            if below:
                under = self.below(match.line, match.cell)
                value = parse(under.text) if under is not None and not is_label(under.text) else None
                if value is not None:
                    yield value, match

    def first(self, labels: Sequence[re.Pattern[str]], parse: Callable[[str], T | None], *, below: bool = True,
              last: bool = False) -> tuple[T, Match] | None:
        """The value of the first label in `labels` (most specific first) that has one.

        `last` takes the label's last occurrence, for totals: sub-totals come before the total.
        """
        for label in labels:
            found = list(self.values(label, parse, below=below))
            if found:
                return found[-1] if last else found[0]
        return None

    def below(self, line: Line, cell: Cell) -> Cell | None:
        """The nearest cell under `cell` that shares some of its horizontal extent."""
        for following in self.lines[line.index + 1:]:
            if following.page != line.page or following.y0 - line.y1 > _BELOW * line.height:
                return None
            for candidate in following.cells:
                if candidate.overlaps(cell):
                    return candidate
        return None

    def block(self, cell: Cell) -> tuple[Placed, ...]:
        """The block `cell` belongs to: left-aligned cells stacked at line spacing, as an address is printed."""
        return self._blocks()[1][cell]

    def blocks(self) -> list[tuple[Placed, ...]]:
        """Every block on every page, in the order of their first lines."""
        return self._blocks()[0]

    def _blocks(self) -> tuple[list[tuple[Placed, ...]], dict[Cell, tuple[Placed, ...]]]:
        if self._block_index is None:
            blocks: list[list[Placed]] = []
            growing: list[list[Placed]] = []  # blocks the current line may still continue
            for line in self.lines:
                growing = [b for b in growing if b[-1][0].page == line.page
                           and line.y0 - b[-1][1].y1 <= _BLOCK_GAP * line.height]
                started: list[list[Placed]] = []
                for cell in line.cells:
                    best = min(
                        (b for b in growing if _continues(b[-1], line, cell)),
                        key=lambda b: cell.y0 - b[-1][1].y1, default=None,
                    )
                    if best is None:
                        started.append([(line, cell)])
                    else:
                        best.append((line, cell))
                blocks += started
                growing += started
            frozen = [tuple(block) for block in blocks]
            self._block_index = (frozen, {cell: block for block in frozen for _, cell in block})
        return self._block_index


def _continues(last: Placed, line: Line, cell: Cell) -> bool:
    above, previous = last
    return (
        above.page == line.page and above.index < line.index
        and -0.3 * cell.height <= cell.y0 - previous.y1 <= _BLOCK_GAP * cell.height
        and abs(cell.x0 - previous.x0) <= max(4.0, 0.5 * cell.height)
    )


def _lines(page: int, words: Sequence[Word]) -> Iterator[tuple[Cell, ...]]:
    """Group words into lines by vertical centre, then split each line into cells at column gaps."""
    rows: list[list[Word]] = []
    centre = height = 0.0
    for word in sorted(words, key=lambda w: (w[1] + w[3]) / 2):
        middle, size = (word[1] + word[3]) / 2, word[3] - word[1]
        if rows and abs(middle - centre) <= _SAME_LINE * min(size, height):
            rows[-1].append(word)
            continue
        rows.append([word])
        centre, height = middle, size
    for row in rows:
        row.sort(key=lambda w: w[0])
        cells: list[Cell] = []
        group = [row[0]]
        for word in row[1:]:
            if word[0] - group[-1][2] > _gap(group[-1], word):
                cells.append(_cell(page, group))
                group = [word]
            else:
                group.append(word)
        cells.append(_cell(page, group))
        yield tuple(cells)


def _gap(left: Word, right: Word) -> float:
    """The widest gap that is still a word space between these two words.

    A share of the text height suits proportional fonts (a space is about a quarter of the
    size); a monospaced font's space is as wide as its letters, so the letters' average width
    is the other bound.
    """
    height = min(left[3] - left[1], right[3] - right[1])
    letter = min((w[2] - w[0]) / max(len(w[4]), 1) for w in (left, right))
    return max(_CELL_GAP * height, _MONOSPACE_GAP * letter)


def _cell(page: int, words: list[Word]) -> Cell:
    return Cell(
        " ".join(w[4] for w in words), page,
        min(w[0] for w in words), min(w[1] for w in words), max(w[2] for w in words), max(w[3] for w in words),
    )
