"""Free-text answers a test (or the bench) makes up, each with the theme it was written on."""

from __future__ import annotations

import random

# theme -> (English words, Welsh words)
TOPICS = {
    "lighting": (["street lights", "lighting", "dark", "lamps", "bulbs", "alley", "night",
                  "lit", "brighter"],
                 ["goleuadau", "golau", "tywyll", "lampau", "stryd", "nos", "goleuo"]),
    "buses": (["bus", "buses", "timetable", "late", "route", "service", "fares", "stop",
               "evening buses"],
              ["bws", "bysiau", "amserlen", "hwyr", "llwybr", "gwasanaeth", "prisiau"]),
    "litter": (["litter", "bins", "rubbish", "dog mess", "fly tipping", "overflowing",
                "collection", "mess"],
               ["sbwriel", "biniau", "baw", "tipio", "casglu", "llanast"]),
    "police": (["police", "patrols", "officers", "crime", "antisocial", "gangs", "beat",
                "drug dealing"],
               ["heddlu", "patrolau", "swyddogion", "trosedd", "gwrthgymdeithasol", "cyffuriau"]),
    "parks": (["park", "playground", "benches", "grass", "trees", "play area", "swings",
               "green space"],
              ["parc", "maes chwarae", "meinciau", "glaswellt", "coed", "siglenni"]),
}
FILLERS = {
    "en": ["I think", "Please", "The council should", "It would help if", "Honestly",
           "We need", "Something must be done about", "My main worry is"],
    "cy": ["Rwy'n meddwl bod angen", "Os gwelwch yn dda", "Dylai'r cyngor wella",
           "Mae angen", "Fy mhryder mwyaf yw", "A dweud y gwir", "Hoffwn weld newid i",
           "Mae problem gyda"],
}
ENDS = {"en": ["in the town centre", "near the station", "on our road", "at weekends",
               "for years now", "", "", ""],
        "cy": ["yng nghanol y dref", "ger yr orsaf", "ar ein stryd", "ar benwythnosau",
               "ers blynyddoedd", "", "", ""]}


def answers(count: int, *, seed: int = 1, welsh_every: int = 0
            ) -> tuple[list[str], list[str], list[str]]:
    """(texts, languages, the theme each was written on), `count` of each, themes in turn."""
    rng = random.Random(seed)
    topics = list(TOPICS)
    texts, languages, labels = [], [], []
    for index in range(count):
        topic = topics[index % len(topics)]
        language = "cy" if welsh_every and index % welsh_every == 0 else "en"
        words = TOPICS[topic][0 if language == "en" else 1]
        picked = rng.sample(words, k=min(len(words), rng.randint(2, 4)))
        joined = (" and " if language == "en" else " a ").join(picked)
        text = f"{rng.choice(FILLERS[language])} {joined} {rng.choice(ENDS[language])}"
        texts.append(text.strip() + ".")
        languages.append(language)
        labels.append(topic)
    return texts, languages, labels
