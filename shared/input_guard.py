"""Refuses, once for every service and before any view runs, request input no database column
can hold: NUL characters, lone surrogates, non-finite numbers, JSON nested too deep, and
path ids beyond the database's integer range.

PostgreSQL refuses NUL in text and SQLite's and PostgreSQL's integers stop at 2**63 (our
columns at 2**31); without this check such input reaches the database and fails as a 500.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from flask import Flask, render_template, request
from werkzeug.routing import IntegerConverter

from shared.errors import error_body, wants_json

# The range of the INTEGER columns ids and counts are stored in.
DB_INTEGER_MAX = 2**31 - 1
DB_INTEGER_MIN = -(2**31)
# Deeper than any document the APIs take (a survey is about 5 deep); deeper still and
# Python's JSON parser itself fails with a RecursionError.
MAX_JSON_DEPTH = 32

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


ID_TEXT = re.compile(r"[0-9]{1,10}")


def id_from_text(value: str | None) -> int | None:
    """A record's id as a form field or query string gives it (ASCII digits within the id
    columns' range), or None for anything else ("²", "-1", twenty nines)."""
    if value is None or not ID_TEXT.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= DB_INTEGER_MAX else None


class BadInput(ValueError):
    """Input refused before it reaches a view: where it was, which field, and why."""

    def __init__(self, location: str, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.location = location
        self.field = field
        self.reason = reason


class DatabaseIntegerConverter(IntegerConverter):
    """`<int:...>` that matches only ids the database can hold, so a bigger one is a 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=DB_INTEGER_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def integer_path_parameter(converter: IntegerConverter) -> dict:
    """How flask-smorest documents a DatabaseIntegerConverter: an integer with its bounds."""
    schema = {"type": "integer", "maximum": converter.max}
    if converter.min is not None:
        schema["minimum"] = converter.min
    elif not converter.signed:
        schema["minimum"] = 0
    return schema


def _text_problem(value: str) -> str | None:
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain a NUL character"
    return "must be valid Unicode text (it has a lone surrogate)"


def _json_problems(value, path: str, depth: int) -> Iterator[tuple[str, str]]:
    if depth > MAX_JSON_DEPTH:
        yield path or "(body)", f"is nested more than {MAX_JSON_DEPTH} levels deep"
        return
    if isinstance(value, str):
        if (problem := _text_problem(value)) is not None:
            yield path or "(body)", problem
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield path or "(body)", "must be a finite number"
    elif isinstance(value, dict):
        for key, item in value.items():
            if (problem := _text_problem(key)) is not None:
                yield f"{path}.{key!r}" if path else repr(key), f"name {problem}"
            yield from _json_problems(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_problems(item, f"{path}.{index}" if path else str(index), depth + 1)


def check_request_input() -> None:
    """Raise BadInput for the first unstorable value of the request's path, query, form or
    JSON body."""
    for location, pairs in (("path", (request.view_args or {}).items()),
                            ("query", request.args.items(multi=True)),
                            ("form", request.form.items(multi=True) if request.form else ())):
        pairs = [(name, value) for name, value in pairs]
        # One search over all of them (the common case: nothing found), then the culprit.
        if not pairs or UNSTORABLE.search("".join(
                text for pair in pairs for text in pair if isinstance(text, str))) is None:
            continue
        for name, value in pairs:
            for text in (name, value):
                if isinstance(text, str) and (problem := _text_problem(text)) is not None:
                    raise BadInput(location, name if text is value else repr(name), problem)
    if request.is_json and request.content_length != 0:
        try:
            body = request.get_json(silent=True)  # cached: the view reads the same parse
        except RecursionError:
            raise BadInput("json", "(body)",
                           f"is nested more than {MAX_JSON_DEPTH} levels deep") from None
        for field, problem in _json_problems(body, "", 0):
            raise BadInput("json", field, problem)


def bad_input_answer(exc: BadInput):
    message = f"{exc.field} {exc.reason}."
    if wants_json():
        errors = {exc.location: {exc.field: [exc.reason]}}
        return error_body(400, "Bad Request", message, errors), 400
    return render_template("message_page.html", heading="There is a problem with what was sent",
                           paragraphs=[message]), 400


def init_input_guard(app: Flask) -> None:
    """Bound `<int:...>` ids and check every request's input (call before adding routes)."""
    app.url_map.converters["int"] = DatabaseIntegerConverter
    app.before_request(check_request_input)
    app.register_error_handler(BadInput, bad_input_answer)
