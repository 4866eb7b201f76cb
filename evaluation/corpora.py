"""What `make train` asks and of which archive: each dataset's questions over its own files,
and two kinds of question no reply should answer from what it finds.

- *Off-archive* (`elsewhere`): each fold's questions asked of an archive holding only the other
  fold's articles, a user asking about what the archive never covered.
- *Withheld* (`withheld`): each fold's answerable questions asked of an archive of its own
  subject that lacks the file holding their answer: half the fold's files answer the other
  half's questions. A question on the subject that nobody answered (the issue's "a hotel, a
  cost, an interpreter's name") finds sentences sharing many of its words, as these do; the
  datasets hold only a handful of such questions (9 of the news set's 68).

Both stay in the fold of their question, so a fold's held-out figures never train on them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from evaluation import folds

# The datasets `make train` gathers, by the names the fit weighs them under (evaluation.tuning).
DATASETS = ("negotiations", "squad", "elsewhere", "withheld")
OTHER_FOLD = {"a": "b", "b": "a"}
# Off-archive questions: one SQuAD question in this many is asked of the other fold's
# articles, enough to teach what such a question looks like without outweighing the rest.
ELSEWHERE_SQUAD_EVERY = 8
# Withheld questions: one answerable SQuAD question in this many (about 280 a half-fold).
WITHHELD_SQUAD_EVERY = 4


@dataclass(frozen=True)
class Corpus:
    """A dataset's questions and the files that answer them."""

    name: str
    questions: list[folds.Question]
    paths: list[Path]
    # Whether a question counts as answered only when its spans are among the candidates: a
    # news question whose article was withheld may be answered by another report of the fact.
    answered_by_spans: bool = False


def datasets(data_dir: Path, squad_paths: list[Path]) -> dict[str, list[Corpus]]:
    """Every dataset `make train` fits on (DATASETS), by name."""
    return {
        "negotiations": [
            Corpus(
                "negotiations",
                folds.negotiation_questions(data_dir),
                folds.negotiation_articles(data_dir),
            )
        ],
        "squad": [Corpus("squad", folds.squad_questions(data_dir), squad_paths)],
        "elsewhere": off_archive_corpora(data_dir, squad_paths),
        "withheld": withheld_corpora(data_dir, squad_paths),
    }


def off_archive_corpora(data_dir: Path, squad_paths: list[Path]) -> list[Corpus]:
    """Each fold's questions asked of an archive holding only the other fold's articles.
    Nothing there answers them, so they are refusals."""
    news = folds.negotiation_questions(data_dir)
    squad = folds.squad_questions(data_dir)
    corpora = []
    for fold, other in OTHER_FOLD.items():
        corpora += [
            Corpus(
                f"elsewhere-news-{fold}",
                [_unanswerable(q) for q in news if q.fold == fold],
                folds.negotiation_articles_of(other, data_dir),
            ),
            Corpus(
                f"elsewhere-squad-{fold}",
                [_unanswerable(q) for q in squad if q.fold == fold][::ELSEWHERE_SQUAD_EVERY],
                folds.squad_paragraphs_of(other, squad_paths),
            ),
        ]
    return corpora


def withheld_corpora(data_dir: Path, squad_paths: list[Path]) -> list[Corpus]:
    """Each fold's files in two halves (every other one), each half asked the answerable
    questions whose answer is in the other. A news fact is often in several reports, so a news
    question still counts as answered where its span is found; a SQuAD question is answerable
    only from its own paragraph (SQuAD's definition), so it is a refusal."""
    news = [q for q in folds.negotiation_questions(data_dir) if q.answerable]
    squad = [q for q in folds.squad_questions(data_dir) if q.answerable]
    corpora = []
    for fold in folds.FOLDS:
        articles = folds.negotiation_articles_of(fold, data_dir)
        paragraphs = folds.squad_paragraphs_of(fold, squad_paths)
        for half in (0, 1):
            kept, withheld = _halves(articles, half)
            corpora.append(
                Corpus(
                    f"withheld-news-{fold}{half}",
                    [q for q in news if q.fold == fold and q.source in withheld],
                    kept,
                    answered_by_spans=True,
                )
            )
            kept, withheld = _halves(paragraphs, half)
            asked = [_unanswerable(q) for q in squad if q.fold == fold and q.source in withheld]
            corpora.append(
                Corpus(f"withheld-squad-{fold}{half}", asked[::WITHHELD_SQUAD_EVERY], kept)
            )
    return corpora


def _halves(paths: list[Path], half: int) -> tuple[list[Path], set[str]]:
    """One half of the files (every other one, from the first or the second), and the names
    of the other half's, which hold the answers withheld from it."""
    ordered = sorted(paths)
    kept = ordered[half::2]
    return kept, {path.name for path in ordered if path not in kept}


def _unanswerable(question: folds.Question) -> folds.Question:
    return replace(question, spans=(), kind="refuse", stale=())
