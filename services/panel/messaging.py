"""The words of every message panel sends, by template and channel."""

from __future__ import annotations

from string import Formatter

TEMPLATES = {
    "invitation": {
        "subject": "Have your say: {survey_title}",
        "email": (
            "Hello,\n\n{lead_agency_name} and partners are asking the panel about: {survey_title}.\n\n"
            "What it is for: {purpose}\n"
            "It will inform this decision: {decision}, due by {decision_due}.\n\n"
            "Answer here: {link}\n\n"
            "We will tell you what was decided and why.\n\n"
            "You are getting this because you joined the civicpanel citizens' panel."
        ),
        "sms": "civicpanel: have your say on {survey_title}: {link} Reply STOP to opt out",
    },
    "outcome": {
        "subject": "You said, we did: {survey_title}",
        "email": (
            "Hello,\n\nThank you for answering: {survey_title}.\n\n"
            "What we did: {we_did}\n\nWhy: {why}\n\n"
            "Read the full report: {link}\n\n"
            "You are getting this because you joined the civicpanel citizens' panel."
        ),
        "sms": "civicpanel: you said, we did on {survey_title}: {link} Reply STOP to opt out",
    },
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def render(template: str, channel: str, context: dict, link: str) -> tuple[str, str]:
    """The subject and body of one message; missing context reads as an empty string."""
    words = TEMPLATES[template]
    values = {name: "" for name in placeholders(words["subject"] + words[channel])}
    values.update(context)
    values["link"] = link
    return words["subject"].format(**values), words[channel].format(**values)
