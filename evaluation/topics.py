"""Topic matching quality (`python -m evaluation --only topics`): precision and recall of
"is this article about this topic?" on hand-labelled development articles
(evaluation/topics/labels.json), for Parley's matcher (knowledge.topics) and baselines.

The articles are ingested in-process into a fresh archive with the real model. The labelled
articles are split in two halves: thresholds are chosen on the "tune" half only and every
figure is given for the "report" half too, which nothing was tuned on.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from evaluation.folds import REPOSITORY
from knowledge import topics
from knowledge.terms import content_terms
from parley.services import Services, build_services
from parley.settings import Settings
from storage.models import Article, Passage, PassageVector
from storage.vectors import blob_to_vector

LABELS = Path(__file__).resolve().parent / "topics" / "labels.json"
# Up to 1.40: Parley's score adds the share of topic words (0–1) to a cosine.
THRESHOLDS = [round(0.20 + 0.01 * step, 2) for step in range(121)]


@dataclass(frozen=True)
class LabelledArticle:
    """An article as the matchers see it: title, passages and their vectors."""

    key: str
    title: str
    passages: tuple[str, ...]
    vectors: np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class TopicQuery:
    """A topic as the matchers see it: its text, its vector and its terms."""

    text: str
    vector: np.ndarray[Any, np.dtype[np.float32]]
    terms: frozenset[str]


Matcher = Callable[[TopicQuery, LabelledArticle], bool]


@dataclass
class Counts:
    """Matches against labels."""

    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    misses: list[str] = field(default_factory=list)  # "topic: article" wrongly left out
    wrong: list[str] = field(default_factory=list)  # "topic: article" wrongly matched

    def figures(self) -> dict[str, Any]:
        """Precision, recall and F1 (None when undefined), with the counts."""
        found = self.true_positive + self.false_positive
        relevant = self.true_positive + self.false_negative
        precision = self.true_positive / found if found else None
        recall = self.true_positive / relevant if relevant else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else None
        )
        return {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "true_positive": self.true_positive,
            "false_positive": self.false_positive,
            "false_negative": self.false_negative,
            "missed": self.misses,
            "wrongly_matched": self.wrong,
        }


def load_labels(path: Path = LABELS) -> dict[str, Any]:
    """The labels file, as committed."""
    labels: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return labels


def article_files(labels: dict[str, Any], data_dir: Path) -> dict[str, Path]:
    """Each labelled article's key (its file name without extension) and file."""
    files: dict[str, Path] = {}
    for name, folder in labels["articles"].items():
        root = data_dir / name / "articles" if name == "negotiations-dev" else REPOSITORY / folder
        for path in sorted(root.iterdir()):
            if path.suffix in (".html", ".txt", ".md"):
                files[path.stem] = path
    return files


@contextmanager
def labelled_archive(files: dict[str, Path]) -> Iterator[tuple[Services, dict[str, int]]]:
    """A fresh archive holding the files, and each key's article id."""
    with tempfile.TemporaryDirectory(prefix="parley-topics-") as folder:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite:///{Path(folder) / 'topics.db'}",
            seeds_dir=str(Path(folder) / "no-seeds"),
        )
        services = build_services(settings)
        try:
            yield services, _ingest(services, files)
        finally:
            services.close()


def _ingest(services: Services, files: dict[str, Path]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for key, path in files.items():
        plans, problems = services.ingestor.plan_files([str(path)])
        if problems or not plans:
            raise OSError(f"cannot ingest {path}: {problems}")
        services.ingestor.store(plans)
        with services.sessions() as session:
            found = session.scalar(select(Article.id).where(Article.url == plans[0].document.url))
        if found is None:
            raise OSError(f"{path} was not stored (a near-duplicate of another article?)")
        ids[key] = found
    return ids


def read_articles(services: Services, ids: dict[str, int]) -> list[LabelledArticle]:
    """Every labelled article's title, passages and passage vectors."""
    articles = []
    with services.sessions() as session:
        for key, article_id in ids.items():
            article = session.get_one(Article, article_id)
            rows = session.execute(
                select(Passage.text, PassageVector.vector, PassageVector.dimension)
                .join(PassageVector, PassageVector.passage_id == Passage.id)
                .where(Passage.article_id == article_id)
                .order_by(Passage.position)
            ).all()
            vectors = np.stack([blob_to_vector(blob, int(size)) for _, blob, size in rows])
            articles.append(
                LabelledArticle(key, article.title, tuple(text for text, _, _ in rows), vectors)
            )
    return articles


def queries(services: Services, names: Sequence[str]) -> list[TopicQuery]:
    """The topics embedded as Parley embeds a followed topic."""
    vectors = services.embedder.embed(list(names))
    return [
        TopicQuery(name, vector, topics.topic_terms(name))
        for name, vector in zip(names, vectors, strict=True)
    ]


# -- the matchers --------------------------------------------------------------------------
def parley_score(topic: TopicQuery, article: LabelledArticle) -> float:
    """knowledge.topics' relevance: best passage cosine plus the share of topic words."""
    words = topics.article_terms(article.title, article.passages)
    return topics.relevance(topic.vector, topic.terms, passages=article.vectors, words=words)


def meaning_score(topic: TopicQuery, article: LabelledArticle) -> float:
    """Meaning alone: the best passage cosine."""
    return float(np.max(article.vectors @ topic.vector))


def words_only(topic: TopicQuery, article: LabelledArticle) -> bool:
    """The words-only baseline: every content term of the topic occurs in the article."""
    words = set(content_terms(article.title))
    for passage in article.passages:
        words.update(content_terms(passage))
    return bool(topic.terms) and topic.terms <= words


def count(
    matcher: Matcher,
    queries_: Sequence[TopicQuery],
    articles: Sequence[LabelledArticle],
    positives: dict[str, dict[str, str]],
    keys: set[str],
) -> Counts:
    """The matcher's decisions on every (topic, article) pair of these articles."""
    counts = Counts()
    for topic in queries_:
        about = positives[topic.text]
        for article in articles:
            if article.key not in keys:
                continue
            matched, labelled = matcher(topic, article), article.key in about
            if matched and labelled:
                counts.true_positive += 1
            elif matched:
                counts.false_positive += 1
                counts.wrong.append(f"{topic.text}: {article.key}")
            elif labelled:
                counts.false_negative += 1
                counts.misses.append(f"{topic.text}: {article.key}")
    return counts


def at_threshold(
    score: Callable[[TopicQuery, LabelledArticle], float], threshold: float
) -> Matcher:
    """A matcher from a score: at or above the threshold."""
    return lambda topic, article: score(topic, article) >= threshold


def tuned_threshold(
    score: Callable[[TopicQuery, LabelledArticle], float],
    queries_: Sequence[TopicQuery],
    articles: Sequence[LabelledArticle],
    positives: dict[str, dict[str, str]],
    keys: set[str],
) -> float:
    """The threshold with the best F1 on these articles (the middle one of a tie)."""
    scored = [
        (count(at_threshold(score, t), queries_, articles, positives, keys).figures()["f1"] or 0, t)
        for t in THRESHOLDS
    ]
    best = max(f1 for f1, _ in scored)
    tied = [t for f1, t in scored if f1 == best]
    return tied[len(tied) // 2]


def evaluate_topics(data_dir: Path, labels_path: Path = LABELS) -> dict[str, Any]:
    """Every system's figures on each half and overall, with the thresholds used."""
    labels = load_labels(labels_path)
    positives: dict[str, dict[str, str]] = labels["topics"]
    halves = {name: set(keys) for name, keys in labels["halves"].items()}
    halves["all"] = halves["tune"] | halves["report"]
    with labelled_archive(article_files(labels, data_dir)) as (services, ids):
        articles = read_articles(services, ids)
        topic_queries = queries(services, list(positives))
    tune = (topic_queries, articles, positives, halves["tune"])
    parley_tuned = tuned_threshold(parley_score, *tune)
    meaning_tuned = tuned_threshold(meaning_score, *tune)
    systems: dict[str, Matcher] = {
        f"Parley (knowledge.topics, shipped threshold {topics.THRESHOLD:.2f})": at_threshold(
            parley_score, topics.THRESHOLD
        ),
        f"Parley, threshold tuned on the tune half ({parley_tuned:.2f})": at_threshold(
            parley_score, parley_tuned
        ),
        f"meaning only, tuned on the tune half ({meaning_tuned:.2f})": at_threshold(
            meaning_score, meaning_tuned
        ),
        "words only (every topic word in the article)": words_only,
    }
    figures = {
        system: {
            half: count(matcher, topic_queries, articles, positives, keys).figures()
            for half, keys in halves.items()
        }
        for system, matcher in systems.items()
    }
    return {
        "topics": len(positives),
        "articles": len(articles),
        "positives": {
            half: sum(1 for about in positives.values() for key in about if key in keys)
            for half, keys in halves.items()
        },
        "pairs": {half: len(keys) * len(positives) for half, keys in halves.items()},
        "systems": figures,
    }
