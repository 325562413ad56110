"""The words of every message panel sends, by template, language and channel.

Each template is a directory of Jinja templates in templates/messages/ (subject.txt, email.txt,
sms.txt) written in English inside {% trans %} blocks; translations/cy/LC_MESSAGES/messages.po
gives the Welsh (see docs/architecture.md, "Message texts and languages").
"""

from __future__ import annotations

from pathlib import Path

from shared.catalogues import templates
from shared.profile import LANGUAGES

PANEL_DIR = Path(__file__).parent
TEMPLATES = ("invitation", "reminder", "outcome", "progress", "dialogue", "confirm_join",
             "already_joined")
# Panel's own messages about joining: never reported to surveys, which did not ask for them.
PANEL_TEMPLATES = ("confirm_join", "already_joined")


def in_language(context: dict, language: str) -> dict:
    """The context for a member of this language: "survey_title_cy" stands in for
    "survey_title" for a Welsh speaker; the other languages' keys are dropped."""
    plain = {key: value for key, value in context.items()
             if key.rpartition("_")[2] not in LANGUAGES}
    suffix = f"_{language}"
    return {**plain, **{key.removesuffix(suffix): value for key, value in context.items()
                        if key.endswith(suffix)}}


def render(template: str, channel: str, context: dict, link: str | None,
           language: str = "en", unsubscribe: str = "", text: str | None = None
           ) -> tuple[str, str]:
    """The subject and body of one message in the member's language; every email ends with
    the unsubscribe link.

    A placeholder the context does not fill raises jinja2.UndefinedError: a message with a
    hole in it is never sent.
    """
    if template not in TEMPLATES:
        raise ValueError(f"no message template called {template!r}")
    environment = templates(PANEL_DIR, language)
    values = {**in_language(context, language), "link": link or "", "unsubscribe": unsubscribe}
    if text is not None:
        values["text"] = text
    subject = environment.get_template(f"messages/{template}/subject.txt").render(values)
    body = environment.get_template(f"messages/{template}/{channel}.txt").render(values)
    if channel == "email":
        body += environment.get_template("messages/footer.txt").render(values)
    return subject, body
