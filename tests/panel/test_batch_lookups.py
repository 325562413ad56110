"""A batch's 1,000 members are found through the index on their refs, not by reading the
whole panel: on PostgreSQL the services' connections price random reads as SSDs do."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text

from services.panel.models import Member
from services.panel.sending import MEMBER_COLUMNS
from shared.db import among, insert_rows, new_session

PANEL_SIZE = 100_000
BATCH = 1_000


def plan_of(session, statement) -> str:
    """The top node of the statement's plan, e.g. "Seq Scan on members"."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    top = session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).first()
    return top[0].split("  (")[0]


@pytest.mark.postgresql_only
def test_a_batchs_members_are_read_through_the_index_not_the_whole_panel(panel_app):
    refs = [str(uuid.uuid4()) for _ in range(PANEL_SIZE)]
    with panel_app.app_context(), new_session() as session:
        insert_rows(session, Member.__table__, [
            {"member_ref": ref, "email": f"m{i}@example.org", "preferred_channel": "email",
             "language": "en", "age_band": "25-34", "gender": "female", "ethnicity": "white",
             "disability": "not_disabled", "area": "E05001001", "consent_surveys": True,
             "consent_outcomes": True} for i, ref in enumerate(refs)])
        session.commit()
        session.execute(text("ANALYZE members"))
        batch = refs[::PANEL_SIZE // BATCH]
        lookup = select(*MEMBER_COLUMNS).where(among(session, Member.member_ref, batch))
        assert plan_of(session, lookup) in ("Bitmap Heap Scan on members",
                                            "Index Scan using members_member_ref_key on members")
        # PostgreSQL's own default reads all 100,000 rows for the 1,000.
        session.execute(text("SET LOCAL random_page_cost = 4"))
        assert plan_of(session, lookup) == "Seq Scan on members"
