"""Bulk CSV import of an existing panel: good rows in, every bad row reported, idempotent by id."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.panel.consent import set_consent
from services.panel.members import (
    DuplicateMember,
    add_member,
    find_duplicate,
    normalised_contacts,
)
from services.panel.models import Member, MemberImport
from services.panel.schemas import EXTRA_PREFIX, ImportRowSchema
from shared.bus import Bus, utcnow
from shared.profile import PROFILE_DIMENSIONS

PROGRESS_EVERY = 200  # rows between progress commits
MAX_ERRORS = 10_000


class UnreadableFile(ValueError):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.problem = {"line": line, "field": "file", "reason": reason}


def read_rows(body: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and each data row with its line: the row's number as a spreadsheet shows
    it (the header is line 1), even when a quoted cell holds a line break."""
    reader = csv.DictReader(io.StringIO(body.lstrip("\ufeff"), newline=""))
    rows: list[tuple[int, dict]] = []
    try:
        for line, row in enumerate(reader, start=2):
            rows.append((line, row))
    except csv.Error as exc:
        raise UnreadableFile(len(rows) + 2, f"not readable as CSV: {exc}") from None
    return list(reader.fieldnames or []), rows


def header_problems(header: list[str], declared: dict) -> list[dict]:
    """Missing required columns, and `extra_` columns for attributes nobody declared."""
    required = [name for name, f in ImportRowSchema().fields.items() if f.required]
    problems = [{"line": 1, "field": name, "reason": "missing column"}
                for name in required if name not in header]
    allowed = ", ".join(EXTRA_PREFIX + name for name in declared) or "none"
    problems += [{"line": 1, "field": column,
                  "reason": f"not an attribute the partnership collects (declared: {allowed})"}
                 for column in header
                 if column.startswith(EXTRA_PREFIX) and column[len(EXTRA_PREFIX):] not in declared]
    repeated = sorted({column for column in header if header.count(column) > 1})
    problems += [{"line": 1, "field": column,
                  "reason": "appears more than once in the header: keep one"}
                 for column in repeated]
    return problems


def row_errors(line: int, messages: dict) -> list[dict]:
    """Every problem of one row, named by its column: an extra's by its `extra_` column."""
    errors = []
    for field, reasons in sorted(messages.items()):
        if field == "extra" and isinstance(reasons, dict):
            for name, why in sorted(reasons.items()):
                errors.extend({"line": line, "field": f"{EXTRA_PREFIX}{name}", "reason": r}
                              for r in _reasons(why))
            continue
        errors.extend({"line": line, "field": field, "reason": r} for r in _reasons(reasons))
    return errors


def _reasons(messages) -> list[str]:
    """marshmallow's messages for one field as sentences: a dict's (a value of a Dict field,
    say) and a list's unpacked."""
    if isinstance(messages, dict):
        return [reason for value in messages.values() for reason in _reasons(value)]
    if isinstance(messages, list):
        return [reason for value in messages for reason in _reasons(value)]
    return [str(messages)]


def import_row(session: Session, data: dict, *, allow_drama: bool) -> str:
    """Add or update one valid row; "added" or "updated". Raises DuplicateMember."""
    existing = session.scalar(select(Member).where(Member.external_id == data["external_id"]))
    email, phone = normalised_contacts(data, allow_drama)
    if existing is None:
        add_member(session, source="import", allow_drama_range=allow_drama, data={
            "external_id": data["external_id"], "email": email, "phone": phone,
            "preferred_channel": data["preferred_channel"], "language": data["language"],
            "profile": {**{k: data.get(k) for k in PROFILE_DIMENSIONS}, "extra": data["extra"]},
            "consent": {"surveys": data["consent_surveys"],
                        "outcomes": data["consent_outcomes"]},
        })
        return "added"
    if existing.status == "erased":
        return "updated"  # never bring an erased member back
    duplicate = find_duplicate(session, email, phone, ignore_id=existing.id)
    if duplicate:
        raise DuplicateMember(duplicate)
    existing.email, existing.phone = email, phone
    existing.preferred_channel, existing.language = data["preferred_channel"], data["language"]
    for column in PROFILE_DIMENSIONS:
        setattr(existing, column, data.get(column))
    existing.extra = data["extra"]
    for purpose in ("surveys", "outcomes"):
        granted = data[f"consent_{purpose}"]
        if getattr(existing, f"consent_{purpose}") != granted:
            set_consent(session, existing, purpose, granted, source="import")
    return "updated"


FILENAME_MAX = MemberImport.__table__.c.filename.type.length
NOT_IN_A_FILENAME = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def kept_filename(filename: str) -> str:
    """An uploaded file's name as it is kept and shown: no control characters, at most
    FILENAME_MAX characters (a browser or client may send anything there)."""
    return NOT_IN_A_FILENAME.sub("", filename or "")[:FILENAME_MAX]


def start_import(session: Session, bus: Bus, *, agency: str, filename: str,
                 body: str) -> MemberImport:
    """Queue a CSV import for panel's worker; followed on its own URL."""
    run = MemberImport(agency=agency, body=body, filename=kept_filename(filename))
    session.add(run)
    session.flush()
    bus.send(session, "panel.import_members", {"import_id": run.id})
    session.commit()
    return run


def import_queued(session: Session, payload: dict, *, allow_drama: bool) -> None:
    """The worker's side of start_import (a bus handler: the inbox row commits with the
    first progress, and a retry after a crash sees the run "running" and carries on)."""
    run = session.get(MemberImport, payload["import_id"])
    if run is None or run.status not in ("queued", "running"):
        return
    run_import(session, run, allow_drama=allow_drama)


def import_now(session: Session, *, agency: str, filename: str, body: str, allow_drama: bool,
               progress: Callable[[MemberImport], None] | None = None) -> MemberImport:
    """Import a CSV here and now (the CLI), committing progress as it goes."""
    run = MemberImport(agency=agency, filename=kept_filename(filename), body=body)
    session.add(run)
    session.commit()
    run_import(session, run, allow_drama=allow_drama,
               progress=(lambda: progress(run)) if progress else None)
    return run


def run_import(session: Session, run: MemberImport, *, allow_drama: bool,
               progress: Callable[[], None] | None = None) -> None:
    """Work through an import's rows, committing progress as it goes."""
    try:
        header, rows = read_rows(run.body)
    except UnreadableFile as exc:
        header, rows = [], []
        errors = [exc.problem]
    else:
        errors = header_problems(header, current_app.config["PROFILE_EXTRA_ATTRIBUTES"])
    run.status, run.total_rows = "running", len(rows)
    if errors:
        run.errors, run.status, run.finished_at = errors, "failed", utcnow()
        session.commit()
        return
    session.commit()
    schema = ImportRowSchema()
    added = updated = 0
    seen: dict[str, int] = {}
    for count, (line, raw) in enumerate(rows, start=1):
        beyond = [cell for cell in raw.pop(None, []) if cell.strip()]
        try:
            data = schema.load(raw)
        except ValidationError as exc:
            errors += row_errors(line, exc.messages)
            data = None
        if beyond:  # cells under no column: the row is not read as it was meant
            errors.append({"line": line, "field": "file", "reason":
                           f"{len(beyond)} cell(s) beyond the header's last column"})
            data = None
        if data is not None:
            if data["external_id"] in seen:
                errors.append({"line": line, "field": "external_id",
                               "reason": f"repeats line {seen[data['external_id']]}"})
            else:
                seen[data["external_id"]] = line
                try:
                    with session.begin_nested():
                        outcome = import_row(session, data, allow_drama=allow_drama)
                    added += outcome == "added"
                    updated += outcome == "updated"
                except DuplicateMember as exc:
                    errors.append({"line": line, "field": exc.field, "reason": str(exc)})
        if count % PROGRESS_EVERY == 0 or count == len(rows):
            run.processed_rows, run.added, run.updated = count, added, updated
            run.errors = list(errors[:MAX_ERRORS])
            session.commit()
            if progress:
                progress()
    run.processed_rows, run.added, run.updated = len(rows), added, updated
    run.errors = list(errors[:MAX_ERRORS])
    run.status, run.finished_at = "finished", utcnow()
    session.commit()
