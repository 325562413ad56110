"""What a survey's results say and may say in public: figures through the one small-cell
rule (`shared.disclosure`), headlines, what most preferred, who answered."""

from __future__ import annotations

from shared.disclosure import is_small, suppress_counts, suppress_line
from shared.profile import LABELS

UNDER_REPRESENTED = 0.8
OVER_REPRESENTED = 1.25
DIMENSION_NAMES = {"age_band": "aged", "gender": "", "ethnicity": "", "disability": "",
                   "area": "living in", "deprivation_decile": "in deprivation decile",
                   "tenure": ""}


def publishable_question(question: dict, threshold: int) -> dict:
    """One question's result as it may be published.

    Its counts and base are one line of the small-cell rule. A weighted percentage is
    hidden wherever its count is, since it would give the count away; a mean is hidden
    with a hidden base.
    """
    counts, base = suppress_line(question.get("counts") or {}, threshold,
                                 total=question.get("base") or 0)
    weighted = question.get("weighted_percent")
    if weighted is not None:
        weighted = {answer: None if counts.get(answer, 0) is None else round(share, 1)
                    for answer, share in weighted.items()}
    hidden_base = base is None
    return {
        **question,
        "base": base,
        "counts": counts,
        "weighted_percent": weighted,
        "mean": None if hidden_base else question.get("mean"),
        "weighted_mean": None if hidden_base else question.get("weighted_mean"),
    }


def published_themes(themes: list[dict], threshold: int) -> dict[str, list[dict]]:
    """Each free-text question's themes as they may be published, by question code: a count
    the one rule hides (surveys sends it as None; a small one is hidden here too) reads
    "fewer than" the threshold, with no share and no quotes; three quotes at most."""
    by_question: dict[str, list[dict]] = {}
    for theme in themes:
        count = theme.get("count")
        hidden = count is None or is_small(count, threshold)
        share = theme.get("share")
        by_question.setdefault(theme["question_code"], []).append({
            "label": theme["label"], "count": None if hidden else count,
            "small": bool(theme.get("small")) or (count is not None and is_small(count,
                                                                                 threshold)),
            "percent": None if hidden or share is None else round(100 * share),
            "weighted": bool(theme.get("weighted")),
            "quotes": [] if hidden else list(theme.get("quotes") or [])[:3]})
    return by_question


def published_results(results: list[dict], threshold: int) -> list[dict]:
    """A report's results as they may be published."""
    return [publishable_question(question, threshold) for question in results]


def has_weighted_figures(results: list[dict]) -> bool:
    """Whether any result carries a figure weighted to the population."""
    return any(q.get("weighted_percent") or q.get("weighted_mean") is not None
               for q in results)


def as_percent(values: dict[str, float]) -> dict[str, float]:
    """Shares as percentages, whether they came as fractions of one or as percentages."""
    total = sum(v for v in values.values() if v is not None)
    scale = 100.0 if 0 < total <= 1.0001 else 1.0
    return {answer: share * scale for answer, share in values.items() if share is not None}


def answer_shares(question: dict) -> tuple[dict[str, float], bool]:
    """Each answer's share in percent, weighted when the survey was; and whether it was."""
    if question.get("weighted_percent"):
        return as_percent(question["weighted_percent"]), True
    counts, base = question.get("counts") or {}, question.get("base") or 0
    if not base:
        return {}, False
    return {answer: 100.0 * count / base for answer, count in counts.items()}, False


def most_preferred(question: dict) -> dict | None:
    """The answer most respondents chose to one question, or None when nothing was chosen.

    `answer` is None when two answers tie for first place.
    """
    shares, weighted = answer_shares(question)
    if not shares or max(shares.values()) <= 0:
        return None
    top = max(shares.values())
    leaders = [answer for answer, share in shares.items() if share == top]
    return {"question": question["code"], "text": question["text"],
            "answer": leaders[0] if len(leaders) == 1 else None, "share": round(top, 1),
            "weighted": weighted, "majority": top > 50.0}


def preference_question(results: list[dict], code: str | None = None) -> dict | None:
    """The question the decision answers: the one named, else the first single-choice one."""
    for question in results:
        if code is not None and question["code"] == code:
            return question
    if code is not None:
        return None
    return next((q for q in results if q["type"] == "single_choice" and q.get("counts")), None)


def relation_implied(results: list[dict], code: str | None, chosen: str | None) -> str | None:
    """"follows" or "goes_against" what most preferred, from the answer the decision chose."""
    question = preference_question(results, code)
    if question is None or chosen is None:
        return None
    preferred = most_preferred(question)
    if preferred is None or preferred["answer"] is None:
        return None
    return "follows" if preferred["answer"] == chosen else "goes_against"


def headline(question: dict, threshold: int) -> str:
    """One sentence on a question's result that gives away no hidden small cell."""
    published = publishable_question(question, threshold)
    kind = published["type"]
    if kind == "free_text":
        comments = published.get("comments", 0)
        if 0 < comments < threshold:
            return f"Fewer than {threshold} people wrote a comment."
        return f"{comments} people wrote a comment."
    if published["base"] is None or (question.get("base") or 0) < threshold:
        return f"Fewer than {threshold} people answered, too few to report."
    if kind == "rating":
        weighted = published.get("weighted_mean") is not None
        mean = published["weighted_mean"] if weighted else published.get("mean")
        if mean is None:
            return "No average to report."
        top = max((int(point) for point in published["counts"]), default=0)
        return (f"The average rating was {mean:.1f} out of {top}"
                f"{' (weighted to the population)' if weighted else ''}.")
    preferred = most_preferred(question)
    if preferred is None:
        return "Nobody chose an answer."
    if preferred["answer"] is None:
        return "Two or more answers were chosen equally often."
    if published["counts"].get(preferred["answer"]) is None:
        return f"Too few people chose each answer to report (fewer than {threshold})."
    who = "Most people" if preferred["majority"] else "The largest group"
    how = ", weighted to the population" if preferred["weighted"] else ""
    return f"{who} ({preferred['share']:.0f}%{how}) chose “{preferred['answer']}”."


def group_name(dimension: str, category: str) -> str:
    label = LABELS.get(dimension, {}).get(category, category)
    prefix = DIMENSION_NAMES.get(dimension, "")
    if dimension == "age_band":
        return f"people aged {label}"
    if dimension == "disability":
        return f"{label.lower()} people"
    return f"people {prefix + ' ' if prefix else ''}{label}".replace("  ", " ")


def representativeness_note(representation: list[dict], weighting: dict | None,
                            respondents: int, invited: int, threshold: int,
                            results: list[dict] | None = None) -> list[str]:
    """Sentences on who answered compared with the population, and how results were weighted.

    Each dimension's groups are one line of the small-cell rule: a hidden group's share
    is not given. The results are said to be weighted only when weighted figures exist.
    """
    notes = [f"{respondents} of the {invited} people invited answered."]
    under, over = [], []
    # Shares come as fractions of one (as surveys sends them) or as percentages.
    scale = 100.0 if all(g["population_share"] <= 1 and g["respondent_share"] <= 1
                         for g in representation) else 1.0
    hidden = _hidden_groups(representation, respondents, scale, threshold)
    for group in representation:
        population, answered_share = (group["population_share"] * scale,
                                      group["respondent_share"] * scale)
        key = (group["dimension"], group["category"])
        if key not in hidden:
            shown = f"{answered_share:.0f}%"
        elif 0 < answered_share * respondents / 100 < threshold:
            shown = f"fewer than {threshold} people"
        else:  # hidden so that a smaller group's share cannot be worked out from it
            shown = "a share not shown"
        words = (f"{group_name(group['dimension'], group['category'])} "
                 f"({shown} of those who answered, {population:.0f}% of the population)")
        if group["ratio"] < UNDER_REPRESENTED:
            under.append(words)
        elif group["ratio"] > OVER_REPRESENTED:
            over.append(words)
    if under:
        notes.append("Fewer answered than their share of the population among "
                     + "; ".join(under) + ".")
    if over:
        notes.append("More answered than their share of the population among "
                     + "; ".join(over) + ".")
    if representation and not under and not over:
        notes.append("Those who answered were broadly like the population they come from.")
    notes.append(weighting_note(weighting, results or []))
    return notes


def _hidden_groups(representation: list[dict], respondents: int, scale: float,
                   threshold: int) -> set[tuple[str, str]]:
    """The groups whose number of respondents the small-cell rule hides, per dimension."""
    hidden: set[tuple[str, str]] = set()
    for dimension in dict.fromkeys(g["dimension"] for g in representation):
        counts = {g["category"]: round(g["respondent_share"] * scale * respondents / 100)
                  for g in representation if g["dimension"] == dimension}
        shown = suppress_counts(counts, threshold, total=respondents)
        hidden |= {(dimension, category) for category, count in shown.items() if count is None}
    return hidden


def weighting_note(weighting: dict | None, results: list[dict]) -> str:
    """How the results were weighted, in words that follow what was done."""
    if weighting and weighting.get("converged", False) and has_weighted_figures(results):
        dims = ", ".join(d.replace("_", " ") for d in weighting["dimensions"])
        return (f"Percentages are weighted to the population by {dims}; the weighted "
                f"results count as much as {weighting['effective_sample_size']:.0f} "
                f"people chosen at random would.")
    given = "The results are not weighted: they are the answers as given."
    if not weighting or weighting.get("converged", False):
        return given
    failing = weighting.get("failing")
    if failing and failing.get("nobody_answered"):
        why = (f"nobody who answered is among "
               f"{group_name(failing['dimension'], failing['category'])}, so the answers "
               f"could not be made to match the population")
    elif failing:
        why = (f"matching the population's share of "
               f"{group_name(failing['dimension'], failing['category'])} would have given "
               f"a few people too much weight")
    else:
        why = "no set of weights matched every population figure at once"
    return f"{given} Weighting them to the population was tried, but {why}."
