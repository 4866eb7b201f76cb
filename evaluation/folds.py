"""The evaluation's questions and their folds, in one place for the eval and the training.

The answer ranking is trained with cross-fitting: the model that answers fold "a" is trained
on fold "b" only, and the other way round, so every figure the eval reports is held-out. Both
the eval and the training script must therefore split the questions exactly as defined here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FOLDS = ("a", "b")
REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPOSITORY.parent / "shared" / "data"
WEIGHTS = REPOSITORY / "evaluation" / "weights"
SEED_QUESTIONS = REPOSITORY / "tests" / "eval" / "seed_questions.json"
SEEDS = REPOSITORY / "seeds"
# The evidence `make train` gathers (retrieval and embeddings, the slow part), reused by
# `make train TRAIN_ARGS=--reuse` and by evaluation.crossfit; the seed questions' likewise.
TRAIN_EVIDENCE = REPOSITORY / "evaluation" / "results" / "train-evidence.pkl"
SEED_EVIDENCE = REPOSITORY / "evaluation" / "results" / "seed-evidence.pkl"

NEGOTIATIONS = "negotiations-dev"
SQUAD_FILE = Path("squad2-train-sample") / "train-v2.0-first10.json"
SQUAD_FOLD_A_ARTICLES = 5  # data[0:5] is fold "a", the rest fold "b"

# Fold "a" is the US–Iran nuclear talks, fold "b" the US–China trade talks.
IRAN_WORDS = re.compile(r"\b(?:iran|iranian|tehran)\b", re.IGNORECASE)
CHINA_WORDS = re.compile(r"\b(?:china|chinese|beijing)\b", re.IGNORECASE)
# Refuse questions have no evidence article, so their own words decide; whole words only,
# so that "Oman" does not match "woman".
IRAN_QUESTION = re.compile(
    r"\b(?:iran|iranian|tehran|iaea|fordow|uranium|araghchi|araqchi|witkoff|khamenei|oman|"
    r"muscat|nuclear)\b",
    re.IGNORECASE,
)
TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Question:
    """One question to ask, what a correct reply quotes, and the fold it belongs to."""

    text: str
    spans: tuple[str, ...]  # any one of them in the quoted text makes the reply correct
    kind: str  # fact | number | time | refuse
    stale: tuple[str, ...] = ()  # superseded answers; quoting one is a stale reply
    fold: str | None = None  # "a", "b", or None for questions never trained on
    as_of: str | None = None  # for time questions: the date of the newest evidence
    # The name of the file that holds its answer (a news article, a SQuAD paragraph's file).
    source: str | None = None

    @property
    def answerable(self) -> bool:
        """Whether the archive answers it (otherwise the bot should decline)."""
        return self.kind != "refuse"


def negotiation_questions(data_dir: Path = DEFAULT_DATA) -> list[Question]:
    """The negotiations-dev questions, each in the fold of its topic."""
    folder = data_dir / NEGOTIATIONS
    items: list[dict[str, Any]] = json.loads((folder / "questions.json").read_text("utf-8"))
    return [
        Question(
            text=_one_line(item["q"]),
            spans=tuple(item["any"]),
            kind=item["kind"],
            stale=tuple(item["stale"] or ()),
            fold=_negotiation_fold(item, folder),
            as_of=item["as_of"],
            source=Path(item["evidence"]).name if item["evidence"] else None,
        )
        for item in items
    ]


def negotiation_articles(data_dir: Path = DEFAULT_DATA) -> list[Path]:
    """What to ingest for the negotiations-dev questions: its articles folder."""
    return [data_dir / NEGOTIATIONS / "articles"]


def negotiation_articles_of(fold: str, data_dir: Path = DEFAULT_DATA) -> list[Path]:
    """The negotiations-dev articles of one fold's negotiation only."""
    articles = sorted((data_dir / NEGOTIATIONS / "articles").glob("*.html"))
    return [path for path in articles if _article_fold(path) == fold]


def _negotiation_fold(item: dict[str, Any], folder: Path) -> str:
    if item["evidence"]:
        return _article_fold(folder / item["evidence"])
    return "a" if IRAN_QUESTION.search(item["q"]) else "b"


def _article_fold(path: Path) -> str:
    # Tags are dropped so that meta attributes and URLs do not vote twice for the topic.
    text = TAG.sub(" ", path.read_text("utf-8"))
    return "a" if len(IRAN_WORDS.findall(text)) > len(CHINA_WORDS.findall(text)) else "b"


def squad_questions(data_dir: Path = DEFAULT_DATA) -> list[Question]:
    """Every SQuAD 2.0 question of the sample; unanswerable ones are "refuse" questions."""
    questions = []
    for index, article in enumerate(_squad_articles(data_dir)):
        fold = _squad_fold(index)
        for number, paragraph in enumerate(article["paragraphs"], start=1):
            for qa in paragraph["qas"]:
                text = _one_line(qa["question"])
                if not text:
                    continue  # `parley ask` skips blank lines: it would shift every answer
                impossible = bool(qa.get("is_impossible"))
                questions.append(
                    Question(
                        text=text,
                        spans=() if impossible else tuple(a["text"] for a in qa["answers"]),
                        kind="refuse" if impossible else "fact",
                        fold=fold,
                        source=_paragraph_file(index, number),
                    )
                )
    return questions


def write_squad_paragraphs(folder: Path, data_dir: Path = DEFAULT_DATA) -> list[Path]:
    """Write each SQuAD paragraph as one plain-text article in the folder; return the files.

    The first line is a title ("Beyoncé — paragraph 3"), then a blank line, then the context:
    Parley's plain-text parser takes a short unpunctuated first line for the title, and would
    otherwise take the start of the paragraph itself for one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, article in enumerate(_squad_articles(data_dir)):
        title = article["title"].replace("_", " ")
        for number, paragraph in enumerate(article["paragraphs"], start=1):
            path = folder / _paragraph_file(index, number)
            context = " ".join(paragraph["context"].split())
            path.write_text(f"{title} — paragraph {number}\n\n{context}\n", encoding="utf-8")
            paths.append(path)
    return paths


def _paragraph_file(article_index: int, number: int) -> str:
    return f"{article_index:02d}-{number:03d}.txt"


def squad_contexts(data_dir: Path = DEFAULT_DATA) -> list[str]:
    """The text of every SQuAD paragraph of the sample, in order."""
    return [
        " ".join(paragraph["context"].split())
        for article in _squad_articles(data_dir)
        for paragraph in article["paragraphs"]
    ]


def squad_paragraphs_of(fold: str, paths: Sequence[Path]) -> list[Path]:
    """Of the files `write_squad_paragraphs` wrote, those of one fold's articles."""
    return [path for path in paths if _squad_fold(int(path.name.split("-")[0])) == fold]


def _squad_fold(article_index: int) -> str:
    return "a" if article_index < SQUAD_FOLD_A_ARTICLES else "b"


def _squad_articles(data_dir: Path) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads((data_dir / SQUAD_FILE).read_text("utf-8"))
    articles: list[dict[str, Any]] = data["data"]
    return articles


def seed_questions(path: Path = SEED_QUESTIONS) -> list[Question]:
    """The seed article's questions: never trained on, so they have no fold."""
    evaluation: dict[str, Any] = json.loads(path.read_text("utf-8"))
    covered = [
        Question(text=_one_line(item["question"]), spans=tuple(item["expect"]), kind="fact")
        for item in evaluation["covered"]
    ]
    uncovered = [
        Question(text=_one_line(text), spans=(), kind="refuse") for text in evaluation["uncovered"]
    ]
    return covered + uncovered


def weights_file(fold: str) -> Path:
    """The answer model that answers this fold: trained on the other fold only."""
    return WEIGHTS / f"fold-{fold}.json"


def _one_line(text: str) -> str:
    # Questions go to `parley ask` one per line, so a newline inside one would split it.
    return " ".join(text.split())
