"""A service's message catalogues and its message templates, in one language.

English is the source language: the texts in the code and templates are English, and
`translations/<language>/LC_MESSAGES/messages.po` beside a service's code gives the other
languages. The .po file is read and compiled in memory the first time a language is needed,
so there is no .mo file to build, commit or let go stale.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined

SOURCE_LANGUAGE = "en"
# Jinja's i18n extension, with the whitespace inside a {% trans %} block collapsed: a paragraph
# can wrap over lines in a template and still be one message in the catalogue. The same
# options are given to pybabel's extractor (see the services' babel.cfg).
JINJA_OPTIONS = {"extensions": ["jinja2.ext.i18n"], "trimmed": True}


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, translate later"
    """Mark a text for the catalogue where it is defined; it is translated where it is used."""
    return message


def catalogue_path(service_dir: Path, language: str) -> Path:
    return service_dir / "translations" / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(service_dir: Path, language: str) -> NullTranslations:
    """The service's translations into language; English (the texts as written) when the
    service has no catalogue for it."""
    path = catalogue_path(service_dir, language)
    if language == SOURCE_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalogue = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalogue)  # fuzzy entries are left out, so they read as English
    compiled.seek(0)
    return Translations(compiled)


@cache
def templates(service_dir: Path, language: str) -> Environment:
    """The service's templates, translated into language.

    StrictUndefined: a placeholder missing from the context is an error, never a blank in a
    message people receive.
    """
    environment = Environment(loader=FileSystemLoader(service_dir / "templates"),
                              undefined=StrictUndefined, autoescape=False,
                              extensions=JINJA_OPTIONS["extensions"])
    environment.policies["ext.i18n.trimmed"] = JINJA_OPTIONS["trimmed"]
    environment.install_gettext_translations(translations(service_dir, language),  # type: ignore[attr-defined]
                                             newstyle=True)
    return environment
