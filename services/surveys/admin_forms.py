"""The admin pages' forms (Flask-WTF, so each carries its CSRF token; GOV.UK widgets), and
how a use case's broken rule is shown against the form's fields."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from marshmallow import validate
from wtforms import (
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from services.surveys.audit import ACTIONS
from shared.errors import RuleBroken
from shared.messages import ROLES

ROLE_LABELS = {
    "admin": "Admin",
    "officer": "Officer",
    "analyst": "Analyst",
    "panel_manager": "Panel manager",
    "decision_owner": "Decision owner",
}
ROLE_HINTS = {
    "admin": "Manages the agency’s users and API keys, and reads the audit log",
    "officer": "Builds, launches and closes surveys; publishes what was done",
    "analyst": "Reads results and pulls weighted data",
    "panel_manager": "Looks after the panel: members, imports, targets and campaigns",
    "decision_owner": "Reads results and writes what was decided",
}
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]
_is_email = validate.Email()


def _an_email(form, field) -> None:
    try:
        _is_email(field.data or "")
    except validate.ValidationError:
        raise ValidationError(
            "Enter an email address in the right format, like name@example.gov.uk") from None


class DateInput(GovDateInput):
    """GOV.UK's day, month and year boxes, empty when the date was not sent at all (the
    widget itself expects all three boxes or none); the day box has the field's id, so the
    error summary's link lands on it."""

    def map_gov_params(self, field, **kwargs):
        if field.raw_data is not None and len(field.raw_data) != 3:
            field.raw_data = None
        params = super().map_gov_params(field, **kwargs)
        params["id"] = f"{field.id}-date"
        params["items"][0]["id"] = field.id  # where the error summary's link leads
        return params


def _role_field(label: str) -> RadioField:
    return RadioField(label, choices=ROLE_CHOICES, widget=GovRadioInput(),
                      validators=[DataRequired(message="Choose a role")])


class InviteForm(FlaskForm):
    name = StringField("Full name", widget=GovTextInput(), validators=[
        DataRequired(message="Enter their full name"), Length(max=200)])
    email = StringField("Work email address", widget=GovTextInput(), validators=[
        DataRequired(message="Enter their work email address"), Length(max=320), _an_email])
    role = _role_field("Role")
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    role = _role_field("New role")
    submit = SubmitField("Change role", widget=GovSubmitInput())


class IssueKeyForm(FlaskForm):
    role = _role_field("The key's role")
    label = StringField("Label (optional)", widget=GovTextInput(), validators=[
        Optional(), Length(max=200, message="Label must be 200 characters or fewer")],
        description="What the key is for, like “Nightly export to the data warehouse”")
    submit = SubmitField("Issue key", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button behind a confirmation page: only the CSRF token is sent."""


def _a_year_of_records(form, field) -> None:
    if field.data and not 2000 <= field.data.year <= 2100:
        raise ValidationError("Enter a year from 2000 to 2100")


class AuditFilterForm(FlaskForm):
    """The audit log's filters: a GET form, so its address can be shared (no token needed)."""

    class Meta:
        csrf = False

    action = SelectField("Action", widget=GovSelect(), validators=[Optional()],
                         choices=[SelectChoice("", "Any action"),
                                  *(SelectChoice(code, label) for code, label in ACTIONS.items())])
    actor = StringField("Who", widget=GovTextInput(), validators=[Optional(), Length(max=320)],
                        description="Part of an email address or an API key’s prefix")
    since = DateField("From", widget=DateInput(), format="%d %m %Y",
                      validators=[Optional(), _a_year_of_records],
                      description="For example, 27 3 2026")
    until = DateField("To", widget=DateInput(), format="%d %m %Y",
                      validators=[Optional(), _a_year_of_records],
                      description="For example, 31 3 2026")

    def validate_until(self, field) -> None:
        since: date | None = self.since.data
        if field.data and since and field.data < since:
            raise ValidationError("The end date must be the same as or after the start date")


def show_rule_broken(form: FlaskForm, exc: RuleBroken) -> None:
    """Put a broken rule's reasons on the form's fields they name; a rule about anything
    else is not the form's to show, and goes to the error page."""
    if not exc.errors or any(name not in form._fields for name in exc.errors):
        raise exc
    for name, reasons in exc.errors.items():
        field = form._fields[name]
        field.errors = [*field.errors, *(reasons if isinstance(reasons, list) else [reasons])]
