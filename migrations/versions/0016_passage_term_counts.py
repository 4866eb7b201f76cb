"""How many passages hold each search term, kept beside the FTS5 index (SQLite).

FTS5 counts a term's passages by reading its whole posting list: 70-125 ms for a term in
most of a million passages, on every question whose terms were not counted since the last
ingest. The counts are written in the transaction that indexes a passage
(`storage.fulltext.SqliteFullTextIndex.add`) and taken back by the trigger that removes a
passage's terms; the row of the empty term holds how many passages were counted, so a
reader can tell the counts from an index that was written around them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A passage's terms as FTS5 splits them (spaces and apostrophes: "o'brien" is "o" and "brien"),
# as a JSON array for json_each, since a trigger cannot use a recursive query. Backslashes
# and quotes are escaped first; tabs and line breaks, which JSON strings cannot hold, part
# terms as spaces do. `storage.fulltext.counted_terms` splits them the same way.
_REPLACEMENTS = (
    (r"'\'", r"'\\'"),
    ("'\"'", r"""'\"'"""),
    ("''''", "' '"),
    ("'\u2019'", "' '"),
    ("char(9)", "' '"),
    ("char(10)", "' '"),
    ("char(13)", "' '"),
    ("' '", """'","'"""),
)
_TERMS_AS_JSON = "(SELECT terms FROM passage_terms WHERE rowid = old.id)"
for _found, _written in _REPLACEMENTS:
    _TERMS_AS_JSON = f"replace({_TERMS_AS_JSON}, {_found}, {_written})"
_TERMS_AS_JSON = f"""'["' || {_TERMS_AS_JSON} || '"]'"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL counts from its GIN index
    op.execute(
        "CREATE TABLE passage_term_counts ("
        "term TEXT PRIMARY KEY, passages INTEGER NOT NULL) WITHOUT ROWID"
    )
    op.execute(
        "INSERT INTO passage_term_counts (term, passages) "
        "SELECT term, doc FROM passage_terms_vocabulary WHERE term <> ''"
    )
    op.execute(
        "INSERT INTO passage_term_counts (term, passages) SELECT '', count(*) FROM passage_terms"
    )
    op.execute("DROP TRIGGER passages_delete_terms")
    op.execute(
        "CREATE TRIGGER passages_delete_terms AFTER DELETE ON passages BEGIN "
        # Two statements: with both in one (term = '' OR term IN ...), SQLite looked the
        # passage up again for every term, 4 ms a passage where these take 1.
        "UPDATE passage_term_counts SET passages = passages - 1 WHERE term IN "
        f"(SELECT value FROM json_each({_TERMS_AS_JSON}) WHERE value <> ''); "
        "UPDATE passage_term_counts SET passages = passages - 1 WHERE term = '' "
        "AND EXISTS (SELECT 1 FROM passage_terms WHERE rowid = old.id); "
        "DELETE FROM passage_terms WHERE rowid = old.id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER passages_delete_terms")
    op.execute(
        "CREATE TRIGGER passages_delete_terms AFTER DELETE ON passages BEGIN "
        "DELETE FROM passage_terms WHERE rowid = old.id; END"
    )
    op.execute("DROP TABLE passage_term_counts")
