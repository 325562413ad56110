"""Themes in free-text answers, found on our own machines: TF-IDF over each answer's words
(stop words of the answer's own language taken out) and non-negative matrix factorisation
(scikit-learn's NMF), the number of themes chosen by the coherence of their words.

Pure: texts in, themes out (no database, no Flask), so the worker, the bench and the tests run
the same code. Nothing is downloaded: there is no model but the one fitted here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

# Welsh function words: the English list would leave "yn", "mae" and "y" as a theme's words
# (and would drop nothing Welsh that matters, but it is not Welsh).
WELSH_STOP_WORDS = frozenset("""
a ac ag am ar at bod bydd byddai byddwn cael chi chwi chwe dan dim dros drwy dw dwi dy e ei
eich ein eisiau er eu fe fel fi fod fy fydd gallu gan gennym gyda hefyd hi hwn hwy hyd hyn
hynny i iawn iddi iddo iddyn mae maen mai mewn mor mwy n na nad nag neu ni nhw nid o oedd oes
ohono ond os pa pam pan pe pob pryd pwy rhaid rhy rwy rwyf sut sy sydd tra trwy wedi wneud y
ydw ydy ydych ydyn yma ymhlith yn yno yr yw ble beth llawer angen dylai dylid gwneud
meddwl gwelwch dda wir jyst hoffi lot
""".split())
STOP_WORDS = {"en": frozenset(ENGLISH_STOP_WORDS) | {"think", "really", "just", "like", "need",
                                                     "needs", "want", "would", "lot"},
              "cy": WELSH_STOP_WORDS}
PLACEHOLDER_WORDS = frozenset({"removed", "email", "address", "phone", "number", "postcode",
                               "web", "link", "tynnu", "wedi", "rhif", "ffôn", "cyfeiriad",
                               "bost", "cod", "post", "dolen", "we", "thynnu", "dynnu"})
WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)

MIN_THEMES, MAX_THEMES = 2, 10
FEWEST_TO_SPLIT = 30  # a language with fewer answers is one theme
ANSWERS_PER_THEME = 10  # at least, on average: a smaller theme could not be quoted
SAMPLE_FOR_CHOOSING = 1000  # the number of themes is chosen on this many answers at most
TOP_WORDS = 8
Progress = Callable[[float], None]


def _quiet(_fraction: float) -> None:
    pass


@dataclass(frozen=True)
class FoundTheme:
    words: list[str]  # most telling first
    members: list[int]  # indices of the texts, strongest first
    language: str = "en"


@dataclass(frozen=True)
class Found:
    themes: list[FoundTheme]
    unthemed: list[int]  # texts with no word the themes know (too short, only stop words)
    chosen_from: dict[int, float]  # number of themes tried -> coherence


def tokens(text: str, language: str) -> list[str]:
    stop = STOP_WORDS.get(language, STOP_WORDS["en"])
    words = [w for w in WORD.findall(text.lower()) if w not in stop
             and w not in PLACEHOLDER_WORDS]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def _matrix(texts: Sequence[str], languages: Sequence[str]):
    docs = [tokens(t, lang) for t, lang in zip(texts, languages, strict=True)]
    vectorizer = TfidfVectorizer(analyzer=lambda doc: doc, min_df=2, max_df=0.5,
                                 sublinear_tf=True, dtype=np.float32)
    matrix = vectorizer.fit_transform(docs)
    return matrix, np.asarray(vectorizer.get_feature_names_out())


def _fit(matrix, k: int, seed: int = 0, init: str = "nndsvda"):
    model = NMF(n_components=k, init=init, random_state=seed, max_iter=300, tol=1e-3)
    weights = model.fit_transform(matrix)
    return weights, model.components_


def coherence(components: np.ndarray, present: sparse.csc_matrix, top: int = TOP_WORDS
              ) -> float:
    """Mean normalised pointwise mutual information of each theme's top words over the
    answers (1: they always come together, 0: independent, -1: never)."""
    n = present.shape[0]
    counts = np.asarray(present.sum(axis=0)).ravel()
    scores = []
    for row in components:
        best = np.argsort(row)[::-1][:top]
        columns = present[:, best]
        together = (columns.T @ columns).toarray()
        values = []
        for i in range(len(best)):
            for j in range(i + 1, len(best)):
                both = together[i, j]
                if both == 0:
                    values.append(-1.0)
                    continue
                p_both = both / n
                pmi = np.log(p_both / ((counts[best[i]] / n) * (counts[best[j]] / n)))
                values.append(pmi / -np.log(p_both) if p_both < 1 else 1.0)
        scores.append(np.mean(values) if values else 0.0)
    return float(np.mean(scores))


def choose_count(matrix, vocabulary, seed: int = 0) -> tuple[int, dict[int, float]]:
    """The number of themes whose words hang together: for each number from 2 to 10 (fewer
    for few answers: about 10 answers a theme at least), themes are fitted on a sample of the
    answers and scored by the coherence (NPMI) of their top single words. Past the right
    number coherence falls sharply, as themes split into halves that share their words;
    below it, it barely moves, since lumping two topics keeps each one's words together.
    So the largest number within 0.03 of the best score is taken."""
    n = matrix.shape[0]
    rows = np.sort(np.random.default_rng(seed).permutation(n)[:SAMPLE_FOR_CHOOSING])
    sample = matrix[rows]
    present = (sample > 0).astype(np.float32).tocsc()
    single = np.array([" " not in word for word in vocabulary], dtype=np.float32)
    most = max(MIN_THEMES, min(MAX_THEMES, n // ANSWERS_PER_THEME, matrix.shape[1] // 2))
    scores = {}
    for k in range(MIN_THEMES, most + 1):
        # A random start: the SVD behind nndsvda would cost more than the fit itself.
        _, components = _fit(sample, k, seed, init="random")
        scores[k] = coherence(components * single, present)
    best = max(scores.values())
    chosen = max(k for k, score in scores.items() if score >= best - 0.03)
    return chosen, scores


def find_themes(texts: Sequence[str], languages: Sequence[str], *, seed: int = 0,
                themes: int | None = None, progress: Progress = _quiet) -> Found:
    """Group the texts into themes: each theme's words, most telling first, and its texts,
    strongest first. `themes` fixes their number (else it is chosen).

    Each language is themed on its own: English and Welsh answers share few words, so one
    fit would mostly find the language. A language with few answers is one theme; an
    analyst merges a Welsh theme with its English one where they say the same thing.
    """
    by_language: dict[str, list[int]] = {}
    for index, language in enumerate(languages):
        by_language.setdefault(language if language in STOP_WORDS else "en", []).append(index)
    found = Found([], [], {})
    done = 0
    for language, indices in sorted(by_language.items(), key=lambda kv: -len(kv[1])):
        part = _find_in_one_language([texts[i] for i in indices], language, seed=seed,
                                     themes=themes,
                                     progress=_part_of(progress, done, len(indices), len(texts)))
        found.themes.extend(FoundTheme(t.words, [indices[m] for m in t.members], language)
                            for t in part.themes)
        found.unthemed.extend(indices[m] for m in part.unthemed)
        if not found.chosen_from:
            found.chosen_from.update(part.chosen_from)
        done += len(indices)
    return found


def _part_of(progress: Progress, before: int, size: int, total: int) -> Progress:
    """Progress through one language's answers as progress through them all."""
    return lambda fraction: progress((before + fraction * size) / total)


def _find_in_one_language(texts: Sequence[str], language: str, *, seed: int,
                          themes: int | None, progress: Progress) -> Found:
    matrix, vocabulary = _matrix(texts, [language] * len(texts))
    progress(0.2)
    if len(texts) < FEWEST_TO_SPLIT or matrix.shape[1] < MIN_THEMES:
        return _one_theme(matrix, vocabulary, len(texts))
    scores: dict[int, float] = {}
    if themes is None:
        themes, scores = choose_count(matrix, vocabulary, seed)
    progress(0.6)
    weights, components = _fit(matrix, themes, seed)
    progress(1.0)
    return Found(_themes_of(weights, components, vocabulary), _unthemed(weights), scores)


def _one_theme(matrix, vocabulary, count: int) -> Found:
    """Too few answers to split: one theme of them all, named by their commonest words."""
    if not count:
        return Found([], [], {})
    totals = np.asarray(matrix.sum(axis=0)).ravel() if matrix.shape[1] else np.zeros(0)
    words = [str(vocabulary[i]) for i in np.argsort(-totals)[:TOP_WORDS]] if len(totals) else []
    return Found([FoundTheme(words, list(range(count)))], [], {})


def _unthemed(weights: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(weights.max(axis=1) <= 0)]


def _themes_of(weights: np.ndarray, components: np.ndarray, vocabulary) -> list[FoundTheme]:
    owner = weights.argmax(axis=1)
    strength = weights.max(axis=1)
    found = []
    for index, row in enumerate(components):
        members = np.flatnonzero((owner == index) & (strength > 0))
        if not len(members):
            continue
        ordered = members[np.argsort(-strength[members], kind="stable")]
        found.append(FoundTheme([str(w) for w in vocabulary[np.argsort(row)[::-1][:TOP_WORDS]]],
                                [int(i) for i in ordered]))
    return found


def split_in_two(texts: Sequence[str], languages: Sequence[str], *, seed: int = 0
                 ) -> list[FoundTheme]:
    """One theme's texts as two themes (for an analyst who sees two things in one)."""
    language = max(set(languages), key=list(languages).count) if languages else "en"
    matrix, vocabulary = _matrix(texts, [language] * len(texts))
    if len(texts) < 4 or matrix.shape[1] < 2:
        found = Found([], [], {})
    else:
        weights, components = _fit(matrix, 2, seed)
        found = Found(_themes_of(weights, components, vocabulary), _unthemed(weights), {})
    if len(found.themes) < 2:
        half = len(texts) // 2
        return [FoundTheme([], list(range(half))), FoundTheme([], list(range(half, len(texts))))]
    rest = found.unthemed
    if rest:
        found.themes[-1].members.extend(rest)
    return found.themes
