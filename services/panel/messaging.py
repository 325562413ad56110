"""The words of every message panel sends, by template, language and channel."""

from __future__ import annotations

from string import Formatter

FOOTER = {
    "en": ("\n\nYou are getting this because you joined the civicpanel citizens' panel.\n"
           "To stop all messages from every agency: {unsubscribe}"),
    "cy": ("\n\nRydych yn cael hwn am i chi ymuno â phanel dinasyddion civicpanel.\n"
           "I atal pob neges gan bob asiantaeth: {unsubscribe}"),
}

# Panel's own messages about joining: never reported to surveys, which did not ask for them.
PANEL_TEMPLATES = ("confirm_join", "already_joined")

TEMPLATES = {
    "en": {
        "invitation": {
            "subject": "Have your say: {survey_title}",
            "email": (
                "Hello,\n\n{lead_agency_name} and partners are asking the panel about: "
                "{survey_title}.\n\n"
                "What it is for: {purpose}\n"
                "It will inform this decision: {decision}, due by {decision_due}.\n\n"
                "Answer here: {link}\n\n"
                "We will tell you what was decided and why."
            ),
            "sms": "civicpanel: have your say on {survey_title}: {link} Reply STOP to opt out",
        },
        "reminder": {
            "subject": "Reminder: have your say on {survey_title}",
            "email": ("Hello,\n\nThere is still time to answer: {survey_title}.\n\n"
                      "Answer here: {link}"),
            "sms": "civicpanel: still time to have your say on {survey_title}: {link} "
                   "Reply STOP to opt out",
        },
        "outcome": {
            "subject": "You said, we did: {survey_title}",
            "email": (
                "Hello,\n\nThank you for answering: {survey_title}.\n\n"
                "What we did: {we_did}\n\nWhy: {why}\n\n"
                "Read the full report: {link}"
            ),
            "sms": "civicpanel: you said, we did on {survey_title}: {link} Reply STOP to opt out",
        },
        "progress": {
            "subject": "Progress on {survey_title}",
            "email": "Hello,\n\nAn update on {survey_title}: {update}\n\n{link}",
            "sms": "civicpanel: update on {survey_title}: {update} Reply STOP to opt out",
        },
        "dialogue": {"subject": "", "email": "{text}", "sms": "{text}"},
        "confirm_join": {
            "subject": "Confirm you want to join civicpanel",
            "email": ("Hello,\n\nThank you for signing up to the civicpanel citizens' panel.\n\n"
                      "Confirm here that it was you: {link}\n\n"
                      "If it was not you, ignore this email and nothing will happen."),
            "sms": "civicpanel: reply YES to confirm you want to join the citizens' panel. "
                   "Reply STOP to opt out",
        },
        "already_joined": {
            "subject": "Someone tried to join civicpanel with your email address",
            "email": ("Hello,\n\nSomeone, perhaps you, tried to join the civicpanel citizens' "
                      "panel with this email address. You are already on the panel, so nothing "
                      "has changed.\n\nIf you have not confirmed yet, use the link in the "
                      "first email we sent you.\n\n"
                      "If it was not you, you can ignore this email."),
            "sms": "civicpanel: someone tried to join the citizens' panel with this number. "
                   "You are already on the panel, so nothing has changed. Reply STOP to opt out",
        },
    },
    "cy": {
        "invitation": {
            "subject": "Dweud eich dweud: {survey_title}",
            "email": (
                "Helo,\n\nMae {lead_agency_name} a'i bartneriaid yn holi'r panel am: "
                "{survey_title}.\n\n"
                "Diben: {purpose}\n"
                "Bydd yn llywio'r penderfyniad hwn: {decision}, erbyn {decision_due}.\n\n"
                "Atebwch yma: {link}\n\n"
                "Byddwn yn dweud wrthych beth a benderfynwyd a pham."
            ),
            "sms": "civicpanel: dwedwch eich dweud ar {survey_title}: {link} "
                   "Atebwch STOP i optio allan",
        },
        "reminder": {
            "subject": "Nodyn atgoffa: {survey_title}",
            "email": "Helo,\n\nMae amser o hyd i ateb: {survey_title}.\n\nAtebwch yma: {link}",
            "sms": "civicpanel: mae amser o hyd i ateb {survey_title}: {link} "
                   "Atebwch STOP i optio allan",
        },
        "outcome": {
            "subject": "Dywedoch chi, gwnaethom ni: {survey_title}",
            "email": ("Helo,\n\nDiolch am ateb: {survey_title}.\n\nBeth wnaethom ni: {we_did}\n\n"
                      "Pam: {why}\n\nDarllenwch yr adroddiad llawn: {link}"),
            "sms": "civicpanel: dywedoch chi, gwnaethom ni ar {survey_title}: {link} "
                   "Atebwch STOP i optio allan",
        },
    },
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def render(template: str, channel: str, context: dict, link: str | None,
           language: str = "en", unsubscribe: str = "", text: str | None = None
           ) -> tuple[str, str]:
    """The subject and body of one message; missing context reads as an empty string.

    A language without this template falls back to English; every email ends with the
    unsubscribe link.
    """
    words = TEMPLATES.get(language, {}).get(template) or TEMPLATES["en"][template]
    footer = FOOTER.get(language, FOOTER["en"]) if channel == "email" else ""
    values = {name: "" for name in placeholders(words["subject"] + words[channel] + footer)}
    values.update(context)
    values["link"] = link or ""
    values["unsubscribe"] = unsubscribe
    if text is not None:
        values["text"] = text
    return words["subject"].format(**values), (words[channel] + footer).format(**values)
