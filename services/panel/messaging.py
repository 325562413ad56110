"""The words of every message panel sends, by template, language and channel.

Each template is a directory of Jinja templates in templates/messages/ (subject.txt, email.txt,
sms.txt) written in English inside {% trans %} blocks; translations/cy/LC_MESSAGES/messages.po
gives the Welsh (see docs/architecture.md, "Message texts and languages").
"""

from __future__ import annotations

from pathlib import Path

from shared.catalogues import SOURCE_LANGUAGE, templates
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


def compile_templates() -> None:
    """Compile every message template in every language panel has: a worker does it once,
    as it starts, so no job pays for it (rendering a launch's first message in a fresh
    process took longer than rendering the next thousand)."""
    languages = [SOURCE_LANGUAGE, *(path.name for path in (PANEL_DIR / "translations").iterdir()
                                    if path.is_dir())]
    for language in languages:
        environment = templates(PANEL_DIR, language)
        for path in sorted((PANEL_DIR / "templates" / "messages").rglob("*.txt")):
            environment.get_template(path.relative_to(PANEL_DIR / "templates").as_posix())


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


# Stand-ins for a recipient's own link and unsubscribe address, of different lengths so that
# a template doing anything to them but printing them (a filter, a length) is noticed.
_STAND_INS = (("\x00link-a\x00", "\x00unsubscribe-a\x00"),
              ("\x00link-bb-longer\x00", "\x00unsubscribe-bb-longer\x00"))


class BatchRenderer:
    """Renders one batch's messages: the template once per channel and language, then each
    recipient's link and unsubscribe address put in its place, which is what rendering each
    message does, at a fraction of the cost (a launch renders 100,000 of them).

    Only where the template prints the link and the address as they are: checked by rendering
    with two sets of stand-ins, and otherwise (or for a dialogue's own text) each message is
    rendered in full, as `render` does.
    """

    def __init__(self, template: str, context: dict):
        self.template, self.context = template, context
        self._rendered: dict[tuple, tuple[str, str] | None] = {}

    def render(self, channel: str, link: str | None, language: str = "en",
               unsubscribe: str = "", text: str | None = None) -> tuple[str, str]:
        if text is not None:
            return render(self.template, channel, self.context, link, language=language,
                          unsubscribe=unsubscribe, text=text)
        key = (channel, language, bool(link), bool(unsubscribe))
        if key not in self._rendered:
            self._rendered[key] = self._with_stand_ins(*key)
        rendered = self._rendered[key]
        if rendered is None:
            return render(self.template, channel, self.context, link, language=language,
                          unsubscribe=unsubscribe)
        (link_at, unsubscribe_at), _ = _STAND_INS
        return tuple(part.replace(link_at, link or "").replace(unsubscribe_at, unsubscribe)
                     for part in rendered)

    def _with_stand_ins(self, channel: str, language: str, has_link: bool,
                        has_unsubscribe: bool) -> tuple[str, str] | None:
        """The message with the first stand-ins in it, or None if the template does more with
        the link or the address than print it."""
        first, second = (render(self.template, channel, self.context,
                                link if has_link else "", language=language,
                                unsubscribe=unsubscribe if has_unsubscribe else "")
                         for link, unsubscribe in _STAND_INS)
        (link_a, unsubscribe_a), (link_b, unsubscribe_b) = _STAND_INS
        if any(a.replace(link_a, link_b).replace(unsubscribe_a, unsubscribe_b) != b
               for a, b in zip(first, second, strict=True)):
            return None
        return first
