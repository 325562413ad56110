"""The console's "Start a campaign" form: the groups it offers in words, what it posts read as
the API's document (CampaignCreateSchema, the same rules as POST /api/v1/campaigns) and the
schema's or the use case's refusals put against their fields."""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from services.panel.campaigns import start_campaign
from services.panel.console_forms import FormRefused, Problems, kept, reasons_of
from services.panel.models import Campaign
from services.panel.queries import join_page_wards
from services.panel.schemas import CampaignCreateSchema
from shared.errors import RuleBroken
from shared.profile import CATEGORIES, PROFILE_DIMENSIONS, category_label, dimension_label

LABELS = {"name": "Name", "code": "Code", "cost": "Cost"}
# The page's own words where the API's are a programmer's.
WORDS = {"name": "Enter a name for the campaign.",
         "cost": "Enter what the campaign costs in pounds, like 250 or 1200.50."}


def group_options(session: Session) -> list[dict]:
    """Each dimension a campaign may aim at, its groups as (value, words): wards by name."""
    options = []
    for dimension in PROFILE_DIMENSIONS:
        if dimension == "area":
            items = join_page_wards(session)
        else:
            items = [(c, category_label(dimension, c)) for c in CATEGORIES[dimension]]
        if items:
            options.append({"dimension": dimension, "id": f"group-{dimension}",
                            "label": dimension_label(dimension), "items": items})
    return options


def document(form: MultiDict) -> dict:
    """What the form posted, as the JSON a client of the API would send."""
    found: dict = {"code": form.get("code", "").strip().upper() or None,
                   "target_group": {d: form.getlist(f"group-{d}") for d in PROFILE_DIMENSIONS
                                    if form.getlist(f"group-{d}")}}
    if name := form.get("name", "").strip():
        found["name"] = name
    cost = form.get("cost", "").strip().removeprefix("£").replace(",", "")
    found["cost"] = cost or None
    return found


def _reason(field_id: str, reason: str) -> tuple[str, str]:
    """(label, reason) in the page's words for a field left empty or not a number."""
    if field_id == "name" or (field_id == "cost" and not reason.startswith("Must be from")):
        return "", WORDS[field_id]
    return LABELS.get(field_id, ""), reason


def problems(messages: dict) -> Problems:
    """CampaignCreateSchema's errors against the page's fields; a target group's against
    its dimension's boxes."""
    found = Problems()
    order = {name: i for i, name in enumerate(("name", "code", "target_group", "cost"))}
    for name, reasons in sorted(messages.items(), key=lambda item: order.get(item[0], 0)):
        if name == "target_group" and isinstance(reasons, dict):
            for dimension, why in reasons.items():
                found.add(f"group-{dimension}", dimension_label(dimension), reasons_of(why)[0])
            continue
        field_id = name if name in LABELS else "name"
        for reason in dict.fromkeys(reasons_of(reasons)):
            found.add(field_id, *_reason(field_id, reason))
    return found


def create_from_form(session: Session, *, agency: str, form: MultiDict) -> Campaign:
    """A new campaign of the agency from the posted form; FormRefused with what is wrong."""
    try:
        data = CampaignCreateSchema().load(document(form))
    except ValidationError as error:
        raise FormRefused(problems(error.messages)) from None
    try:
        return start_campaign(session, agency=agency, data=data)
    except RuleBroken as broken:
        raise kept(broken, LABELS, "code") from None
