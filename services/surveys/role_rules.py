"""Which roles an agency's staff and API keys may hold, one rule for the console, the API and
the command line: every role, except that only the agencies that look after the shared panel
(PANEL_AGENCIES; every agency when it is empty) may have panel managers, since a panel manager
reads and exports every member's contact details, whichever agency recruited them. Without
it any agency's admin could make themselves one."""

from __future__ import annotations

from dataclasses import dataclass

from shared.messages import ROLES

PANEL_MANAGER = "panel_manager"


@dataclass(frozen=True)
class RoleRules:
    panel_agencies: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config) -> RoleRules:
        return cls(frozenset(config["PANEL_AGENCIES"]))

    def roles_for(self, agency: str) -> list[str]:
        """The roles this agency's staff and keys may hold, in ROLES' order."""
        return [role for role in ROLES if self.problem(role, agency) is None]

    def problem(self, role: str, agency: str) -> str | None:
        """Why this agency's staff or key may not hold this role, or None."""
        if role not in ROLES:
            return f"Must be one of: {', '.join(ROLES)}."
        if role == PANEL_MANAGER and self.panel_agencies and agency not in self.panel_agencies:
            return ("Only staff of the agencies that look after the shared panel can be panel "
                    "managers: they read every member's contact details.")
        return None
