"""The console's themes pages: a free-text question's themes beside their chart, one theme's
answers, and the edits that steer them, by the themes API's rules (themes_api.py)."""

from __future__ import annotations

from flask import Blueprint

theme_pages = Blueprint("themes", __name__, template_folder="templates")
