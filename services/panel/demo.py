"""Synthetic panel members for demos and benchmarks: no real person's data."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.panel.models import Member
from shared.profile import AGE_BANDS, DISABILITY, ETHNICITIES, GENDERS, TENURES

DEMO_WARDS = tuple(f"E0500{code:04d}" for code in range(1001, 1021))
DRAMA_NUMBERS = 1000  # Ofcom's 07700 900000-900999


def synthetic_members(count: int, seed: int = 1) -> list[Member]:
    """Members with plausible profiles, example.org emails and Ofcom drama-range phones."""
    rng = random.Random(seed)
    members = []
    for index in range(count):
        by_sms = index < DRAMA_NUMBERS and rng.random() < 0.3
        members.append(Member(
            email=None if by_sms else f"member{index:06d}@example.org",
            phone=f"+447700900{index % DRAMA_NUMBERS:03d}" if by_sms else None,
            preferred_channel="sms" if by_sms else "email",
            language="en",
            age_band=rng.choices(AGE_BANDS, weights=(8, 14, 15, 17, 17, 15, 14))[0],
            gender=rng.choices(GENDERS, weights=(51, 48, 1))[0],
            ethnicity=rng.choices(ETHNICITIES, weights=(9, 4, 3, 81, 3))[0],
            disability=rng.choices(DISABILITY, weights=(18, 82))[0],
            area=rng.choice(DEMO_WARDS),
            deprivation_decile=rng.randint(1, 10),
            tenure=rng.choices(TENURES, weights=(62, 17, 21))[0],
            consent_surveys=True,
            consent_outcomes=rng.random() < 0.9,
        ))
    return members


def add_demo_members(session: Session, *, count: int, seed: int) -> int:
    """Add synthetic members unless the panel has members; how many it already had."""
    existing = session.scalar(select(func.count()).select_from(Member))
    if not existing:
        session.add_all(synthetic_members(count, seed))
        session.commit()
    return existing or 0
