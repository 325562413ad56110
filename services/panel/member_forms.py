"""The console's member forms as the API's documents: "Add a member" (MemberCreateSchema, as
POST /api/v1/members), a change of consent (ConsentChangeSchema, as PATCH …/consent) and an
agency opt-out (as POST …/agency-opt-outs). Each is judged by the API's own schema and use
case, and says back what it did in words."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from services.panel.consent import PURPOSES, change_consent, record_agency_opt_out
from services.panel.console_forms import FormRefused, Problems, kept, reasons_of
from services.panel.member_record import PURPOSE_LABELS
from services.panel.members import add_panel_member
from services.panel.models import AgencyOptOut, ApiKey, Member
from services.panel.queries import join_page_wards, panel_member
from services.panel.schemas import AgencyOptOutSchema, ConsentChangeSchema, MemberCreateSchema
from services.panel.survey_respondents import known_agency_names
from shared.errors import RuleBroken
from shared.profile import (
    CATEGORIES,
    LANGUAGE_LABELS,
    PROFILE_DIMENSIONS,
    REQUIRED_DIMENSIONS,
    category_label,
    dimension_label,
)

CONTACT_FIELDS = ("preferred_channel", "email", "phone", "language", "external_id")
FIELD_ORDER = CONTACT_FIELDS + PROFILE_DIMENSIONS + ("consent",)
LABELS = {"preferred_channel": "How to contact them", "email": "Email address",
          "phone": "Mobile number", "language": "Language", "external_id": "Partner id",
          **{d: dimension_label(d) for d in PROFILE_DIMENSIONS}, "consent": "Consent"}
# The page's own words where the API's are a programmer's ("Missing data for required field.").
REQUIRED = {"preferred_channel": "Select how to contact them.",
            "age_band": "Select their age group.", "gender": "Select their gender.",
            "ethnicity": "Select their ethnic group.",
            "disability": "Select whether they are disabled.", "area": "Select their ward."}
EMAIL_WORDS = "Enter an email address in the correct format, like name@example.com."
# How a member told the panel manager of a change: recorded with it as its source.
HOW_TOLD = (("phone", "By phone"), ("email", "By email"), ("letter", "By letter"),
            ("in_person", "In person"))


def _blank_is_none(form: MultiDict, name: str) -> str | None:
    return form.get(name, "").strip() or None


def member_document(form: MultiDict) -> dict:
    """What "Add a member" posted, as the JSON a client of POST /api/v1/members sends."""
    found: dict = {name: _blank_is_none(form, name) for name in ("external_id", "email", "phone")}
    if channel := _blank_is_none(form, "preferred_channel"):
        found["preferred_channel"] = channel
    found["language"] = _blank_is_none(form, "language") or "en"
    profile = {d: v for d in PROFILE_DIMENSIONS if (v := _blank_is_none(form, d)) is not None}
    extra = {k.removeprefix("extra-"): v.strip() for k, v in form.items()
             if k.startswith("extra-") and v.strip()}
    ticked = set(form.getlist("consent"))
    return {**found, "profile": {**profile, "extra": extra},
            "consent": {purpose: purpose in ticked for purpose in PURPOSES}}


def _words(field_id: str, reason: str) -> tuple[str, str]:
    if reason == "Missing data for required field." and field_id in REQUIRED:
        return "", REQUIRED[field_id]
    if field_id == "email" and reason == "Not a valid email address.":
        return "", EMAIL_WORDS
    return LABELS.get(field_id, field_id.removeprefix("extra-").replace("_", " ").capitalize()
                      ), reason


def member_problems(messages: dict) -> Problems:
    """MemberCreateSchema's errors, nested ones flattened, each against its field."""
    flat: dict[str, list[str]] = {}
    for name, reasons in messages.items():
        if name == "profile" and isinstance(reasons, dict):
            for inner, why in reasons.items():
                if inner == "extra" and isinstance(why, dict):
                    flat.update({f"extra-{k}": reasons_of(v) for k, v in why.items()})
                else:
                    flat[inner if inner in LABELS else "age_band"] = reasons_of(why)
        else:
            flat[name if name in LABELS else "preferred_channel"] = reasons_of(reasons)
    found = Problems()
    for field_id in sorted(flat, key=lambda f: FIELD_ORDER.index(f) if f in FIELD_ORDER
                           else len(FIELD_ORDER)):
        for reason in dict.fromkeys(flat[field_id]):
            found.add(field_id, *_words(field_id, reason))
    return found


def _loaded(schema: Schema, document: dict, problems) -> dict:
    try:
        return schema.load(document)
    except ValidationError as error:
        raise FormRefused(problems(error.messages)) from None


def add_member_from_form(session: Session, *, form: MultiDict, allow_drama: bool) -> Member:
    """A member added by hand, by the API's rules; FormRefused with what is wrong (409 for
    someone already on the panel, against the contact detail they share)."""
    data = _loaded(MemberCreateSchema(), member_document(form), member_problems)
    try:
        return add_panel_member(session, data=data, source="console",
                                allow_drama_range=allow_drama)
    except RuleBroken as broken:
        raise kept(broken, LABELS, "email") from None


# -- consent ----------------------------------------------------------------------------

class ConsentForm(Schema):
    """The consent page: each purpose given or not, and how the member said so."""

    how = fields.String(required=True, validate=validate.OneOf(
        [value for value, _ in HOW_TOLD], error="Select how they told you."),
        error_messages={"required": "Select how they told you."})


def change_consent_from_form(session: Session, *, member_ref: str, form: MultiDict,
                             agency: str) -> list[str]:
    """The member's consent as the form gives it (PATCH …/consent's rules), recorded with how
    they said so; what changed, in words (empty when nothing did)."""
    how = _loaded(ConsentForm(), {k: v for k, v in form.items() if k == "how"},
                  lambda m: _simple(m, "how"))["how"]
    document = {p: form.get(p) == "yes" for p in PURPOSES if form.get(p) in ("yes", "no")}
    changes = _loaded(ConsentChangeSchema(), {**document, "source": f"console:{how}"},
                      lambda m: _simple(m, "surveys"))
    before = panel_member(session, member_ref)
    was = {p: getattr(before, f"consent_{p}") for p in PURPOSES}
    member = change_consent(session, member_ref=member_ref, changes=changes, agency=agency)
    return [f"{PURPOSE_LABELS[p]}: {'given' if getattr(member, f'consent_{p}') else 'not given'}"
            for p in PURPOSES if getattr(member, f"consent_{p}") != was[p]]


def _simple(messages: dict, field_id: str) -> Problems:
    found = Problems()
    for reason in dict.fromkeys(reasons_of(messages)):
        found.add(field_id, "", reason)
    return found


# -- agency opt-outs --------------------------------------------------------------------

def opt_out_choices(session: Session, *, member_ref: str, own: str,
                    own_name: str) -> list[tuple[str, str]]:
    """(agency, words) of every agency panel knows (named by surveys, or with keys, and the
    caller's), those the member already opted out of left out; the caller's by its name."""
    member = panel_member(session, member_ref)
    names = {**known_agency_names(session), own: f"{own_name} (your agency)"}
    known = set(session.scalars(select(ApiKey.agency).distinct())) | names.keys()
    out = set(session.scalars(select(AgencyOptOut.agency).where(
        AgencyOptOut.member_id == member.id)))
    return sorted(((a, names.get(a, a)) for a in known - out),
                  key=lambda choice: (choice[0] != own, choice[1].lower()))


def opt_out_from_form(session: Session, *, member_ref: str, form: MultiDict,
                      choices: list[tuple[str, str]], agency: str) -> str:
    """The member opts out of the agency chosen (POST …/agency-opt-outs's rules); its words."""
    words = dict(choices)
    if form.get("agency") not in words:
        found = Problems()
        found.add("agency", "", "Select the agency they want nothing more from.")
        raise FormRefused(found)
    data = _loaded(AgencyOptOutSchema(), {"agency": form["agency"]},
                   lambda m: _simple(m, "agency"))
    record_agency_opt_out(session, member_ref=member_ref, agency=data["agency"],
                          caller_agency=agency, source="console:opt-out")
    return words[data["agency"]]


def member_form_options(session: Session, declared: dict) -> dict:
    """What "Add a member" offers, in words: channels, languages, each dimension's groups
    (wards by name) and whether it must be answered, and the partnership's own attributes."""
    dimensions = []
    for dimension in PROFILE_DIMENSIONS:
        items = join_page_wards(session) if dimension == "area" else [
            (c, category_label(dimension, c)) for c in CATEGORIES[dimension]]
        dimensions.append({"id": dimension, "label": dimension_label(dimension),
                           "items": items, "required": dimension in REQUIRED_DIMENSIONS})
    return {"channels": (("email", "Email"), ("sms", "Text message")),
            "languages": tuple(LANGUAGE_LABELS.items()), "dimensions": dimensions,
            "extras": declared, "purposes": tuple(PURPOSE_LABELS.items())}
