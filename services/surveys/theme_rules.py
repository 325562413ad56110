"""Analysts' edits of themes, kept as rules and applied after every run, so they survive one.

A rule names a theme by its anchor: the answers the theme held when the edit was made. After a
run, the rule applies to the theme now holding most of those answers, if it holds at least
half of them; otherwise the rule has lapsed (the answers it was about went their own ways)
and is reported as such. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

KINDS = ("rename", "merge", "split", "move", "no_quote")
QUOTES_KEPT = 5  # candidates kept per theme; the report shows up to three
QUOTE_LENGTH = (15, 300)


@dataclass
class Working:
    """A theme while the rules are applied to it."""

    words: list[str]
    answers: list[int]  # answer ids, strongest first
    language: str = "en"
    label: str = ""

    def __post_init__(self) -> None:
        self.label = self.label or auto_label(self.words)


@dataclass
class Applied:
    themes: list[Working]
    not_quoted: set[int] = field(default_factory=set)
    lapsed: list[int] = field(default_factory=list)  # ids of rules that found no theme


def auto_label(words: Sequence[str]) -> str:
    """A theme's most telling words, three at most, a pair not repeating its own words."""
    picked: list[str] = []
    for word in words:
        parts = word.split()
        if any(part in chosen.split() for chosen in picked for part in parts):
            if len(parts) > 1:  # "street lights" says more than "street": keep the pair
                picked = [p for p in picked if p not in parts] + [word]
            continue
        picked.append(word)
        if len(picked) == 3:
            break
    return ", ".join(picked).capitalize() if picked else "Other comments"


def matching(themes: Sequence[Working], anchor: Iterable[int]) -> int | None:
    """The index of the theme holding most of the anchor's answers (at least half)."""
    anchor = set(anchor)
    if not anchor:
        return None
    overlaps = [len(anchor.intersection(t.answers)) for t in themes]
    if not overlaps:
        return None
    best = max(range(len(themes)), key=lambda i: overlaps[i])
    return best if overlaps[best] * 2 >= len(anchor) and overlaps[best] > 0 else None


Splitter = Callable[[list[int]], list[tuple[list[str], list[int]]]]


def apply_edits(themes: list[Working], edits: Sequence[Mapping], split: Splitter) -> Applied:
    """The themes with every edit applied in the order made. `split` divides a theme's
    answers into two (words, answers) parts."""
    applied = Applied([Working(t.words, list(t.answers), t.language, t.label) for t in themes])
    for edit in edits:
        if not _apply(applied, edit, split):
            applied.lapsed.append(edit.get("id", 0))
    applied.themes = [t for t in applied.themes if t.answers]
    return applied


def _apply(applied: Applied, edit: Mapping, split: Splitter) -> bool:
    kind, detail, themes = edit["kind"], edit["detail"], applied.themes
    if kind == "no_quote":
        applied.not_quoted.add(int(detail["answer_id"]))
        return True
    if kind == "merge":
        found = [matching(themes, anchor) for anchor in detail["anchors"]]
        indices = sorted({i for i in found if i is not None}, key=found.index)
        if len(indices) < 2:
            return False
        into = themes[indices[0]]
        for index in indices[1:]:
            into.answers += themes[index].answers
            into.words += [w for w in themes[index].words if w not in into.words]
            themes[index].answers = []
        if detail.get("label"):
            into.label = detail["label"]
        applied.themes = [t for t in themes if t.answers]
        return True
    index = matching(themes, detail.get("anchor", ()))
    if index is None:
        return False
    theme = themes[index]
    if kind == "rename":
        theme.label = detail["label"]
    elif kind == "split":
        if len(theme.answers) < 2:
            return False
        parts = [Working(words, answers, theme.language) for words, answers
                 in split(theme.answers) if answers]
        applied.themes = themes[:index] + parts + themes[index + 1:]
    elif kind == "move":
        answer = int(detail["answer_id"])
        for other in themes:
            if answer in other.answers:
                other.answers.remove(answer)
        theme.answers.append(answer)
    return True


@dataclass(frozen=True)
class Summary:
    label: str
    words: list[str]
    language: str
    answers: list[int]
    count: int
    share: float
    weighted_share: float | None
    quotes: list[int]


def summarise(applied: Applied, texts: Mapping[int, str],
              weights: Mapping[int, float] | None = None) -> list[Summary]:
    """Each theme's count, its share of the question's answers (weighted too, with the
    survey's weights), and the answers to quote: the most typical first, of a readable length,
    none marked not to be quoted, those with a placeholder last."""
    total = sum(len(t.answers) for t in applied.themes) or 1
    weight_total = sum(weights.get(a, 1.0) for t in applied.themes for a in t.answers) \
        if weights else 0.0
    summaries = []
    for theme in sorted(applied.themes, key=lambda t: -len(t.answers)):
        weighted = (sum(weights.get(a, 1.0) for a in theme.answers) / weight_total
                    if weights and weight_total else None)
        summaries.append(Summary(theme.label, theme.words, theme.language, theme.answers,
                                 len(theme.answers), len(theme.answers) / total, weighted,
                                 _quotes(theme.answers, texts, applied.not_quoted)))
    return summaries


def _quotes(answers: Sequence[int], texts: Mapping[int, str], not_quoted: set[int]) -> list[int]:
    low, high = QUOTE_LENGTH
    clean, marked = [], []
    for answer in answers:  # strongest first: stop once enough are found
        text = texts.get(answer, "")
        if answer in not_quoted or not low <= len(text) <= high:
            continue
        (marked if "[" in text else clean).append(answer)
        if len(clean) >= QUOTES_KEPT:
            break
    return (clean + marked)[:QUOTES_KEPT]
