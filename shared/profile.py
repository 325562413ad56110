"""The categories of a member's non-identifying profile, shared by every service."""

AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
GENDERS = ("female", "male", "other")
ETHNICITIES = ("asian", "black", "mixed", "white", "other")
DISABILITY = ("disabled", "not_disabled")
TENURES = ("owned", "social_rented", "private_rented")

LABELS = {
    "age_band": {band: band.replace("-", " to ") for band in AGE_BANDS},
    "gender": {"female": "Female", "male": "Male", "other": "Another gender"},
    "ethnicity": {
        "asian": "Asian, Asian British or Asian Welsh",
        "black": "Black, Black British, Black Welsh, Caribbean or African",
        "mixed": "Mixed or Multiple ethnic groups",
        "white": "White",
        "other": "Other ethnic group",
    },
    "disability": {"disabled": "Disabled", "not_disabled": "Not disabled"},
    "tenure": {"owned": "Owned (including shared ownership)", "social_rented": "Social rented",
               "private_rented": "Private rented (including rent free)"},
}
