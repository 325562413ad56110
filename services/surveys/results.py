"""Counting answers into per-question results: pure functions over plain data."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable


def tally_question(question: dict, values: Iterable[str]) -> dict:
    """The base, counts per option or scale point, and the mean of a rating question.

    `question` has code, text, type, options, scale_min and scale_max; free-text
    answers are counted, never quoted, since they may identify someone.
    """
    values = [v for v in values if v != ""]
    result = {"code": question["code"], "text": question["text"], "type": question["type"],
              "base": len(values), "counts": {}, "mean": None, "comments": 0}
    kind = question["type"]
    if kind == "single_choice":
        counted = Counter(values)
        result["counts"] = {option: counted.get(option, 0) for option in question["options"]}
    elif kind == "multiple_choice":
        # Each respondent may pick several: counts are of respondents picking each option.
        counted = Counter(option for value in values for option in json.loads(value))
        result["counts"] = {option: counted.get(option, 0) for option in question["options"]}
    elif kind == "yes_no":
        counted = Counter(values)
        result["counts"] = {"yes": counted.get("yes", 0), "no": counted.get("no", 0)}
    elif kind == "rating":
        points = [int(v) for v in values]
        counted = Counter(points)
        result["counts"] = {
            str(point): counted.get(point, 0)
            for point in range(question["scale_min"], question["scale_max"] + 1)
        }
        result["mean"] = round(sum(points) / len(points), 3) if points else None
    elif kind == "number":
        numbers = [int(v) for v in values]
        result["mean"] = round(sum(numbers) / len(numbers), 3) if numbers else None
    else:
        result["comments"] = len(values)
    return result


def tally(questions: list[dict], answers: Iterable[tuple[str, str]]) -> list[dict]:
    """Results for every question, in order, from (question code, value) pairs."""
    by_code: dict[str, list[str]] = {q["code"]: [] for q in questions}
    for code, value in answers:
        if code in by_code:
            by_code[code].append(value)
    return [tally_question(q, by_code[q["code"]]) for q in questions]
