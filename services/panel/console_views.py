"""Panel managers' console pages in panel: the panel as a whole."""

from __future__ import annotations

from flask import Blueprint, render_template

from services.panel import queries
from services.panel.campaigns_views import campaigns_pages
from services.panel.imports_views import imports_pages
from services.panel.members_views import members_pages
from services.panel.representativeness_views import representativeness_pages
from services.panel.targets_views import targets_pages
from shared.console import staff_page
from shared.db import get_session

console = Blueprint("console", __name__, template_folder="templates")
# The panel managers' areas, each a blueprint of its own module.
CONSOLE_AREAS = (members_pages, imports_pages, targets_pages, representativeness_pages,
                 campaigns_pages)


@console.get("/panel")
@staff_page("panel_manager", "admin")
def panel_home():
    return render_template("console/panel_home.html",
                           counts=queries.members_by_status(get_session()))
