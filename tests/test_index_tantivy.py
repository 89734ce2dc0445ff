"""The embedded index across processes: one writer, many readers, crashes and bad directories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tantivy

from chipwire.errors import Retry
from index.backend import SearchRequest
from index.tantivy_backend import IndexLockedError, IndexOpenError, TantivyBackend
from tests.test_search_samples import ALL, CUSTOMS, make_article

ROOT = Path(__file__).resolve().parents[1]


def python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


READER = """
    import sys
    from index.backend import SearchRequest
    from index.tantivy_backend import TantivyBackend
    backend = TantivyBackend(sys.argv[1])
    for line in sys.stdin:
        hits = backend.search(SearchRequest(query=line.strip(), limit=50))
        print(backend.count(), hits.total, flush=True)
"""


def ask(reader: subprocess.Popen[str], query: str) -> tuple[int, int]:
    assert reader.stdin and reader.stdout
    reader.stdin.write(query + "\n")
    reader.stdin.flush()
    count, total = reader.stdout.readline().split()
    return int(count), int(total)


def test_another_process_reads_while_this_one_writes(tmp_path: Path) -> None:
    writer = TantivyBackend(tmp_path / "index")
    writer.upsert(ALL[:2])
    writer.commit()
    with python(READER, str(tmp_path / "index")) as reader:
        assert ask(reader, "H200") == (2, 2)
        writer.upsert(ALL[2:])  # not committed yet: invisible to readers
        assert ask(reader, "*") == (2, 2)
        writer.commit()
        assert ask(reader, "*") == (len(ALL), len(ALL))
        assert ask(reader, "stance:restrict") == (len(ALL), 2)
        _, errors = reader.communicate(timeout=30)
    writer.close()
    assert reader.returncode == 0, errors


def test_a_second_writer_process_is_refused_clearly(tmp_path: Path) -> None:
    writer = TantivyBackend(tmp_path / "index")
    writer.upsert([CUSTOMS])
    with python(
        """
        import sys
        from index.tantivy_backend import TantivyBackend
        from tests.test_search_samples import LITHO
        try:
            TantivyBackend(sys.argv[1]).upsert([LITHO])
        except Exception as exc:
            print(type(exc).__name__, exc)
        """,
        str(tmp_path / "index"),
    ) as other:
        out, _ = other.communicate(timeout=60)
    assert out.startswith("IndexLockedError")
    assert "another process is writing" in out
    writer.close()


WRITE_FOREVER = """
    import sys
    from datetime import UTC, datetime
    from index.tantivy_backend import TantivyBackend
    from tests.test_search_samples import make_article
    backend = TantivyBackend(sys.argv[1])
    n = 0
    while True:
        batch = [make_article(f"a{n + i}", "Tariff note", "tariff words " * 50,
                              published=datetime(2026, 1, 1, tzinfo=UTC)) for i in range(50)]
        backend.upsert(batch)
        backend.commit()
        n += 50
        print(n, flush=True)
"""


def test_index_survives_a_killed_writer(tmp_path: Path) -> None:
    with python(WRITE_FOREVER, str(tmp_path / "index")) as writer:
        assert writer.stdout
        committed = 0
        for _ in range(6):
            committed = int(writer.stdout.readline())
        os.kill(writer.pid, signal.SIGKILL)  # mid-batch or mid-commit, wherever it is
        writer.communicate(timeout=30)

    reopened = TantivyBackend(tmp_path / "index")
    count = reopened.count()
    assert count >= committed and count % 50 == 0  # whole commits only, nothing torn
    # the dead process's lock is not stale: we can write again, without duplicates
    again = make_article("a0", "Tariff note", "tariff words", published=None)
    reopened.upsert([again])
    reopened.commit()
    assert reopened.count() == count
    reopened.close()


def test_corrupt_index_directory_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "index"
    path.mkdir()
    (path / "meta.json").write_text("{not json")
    with pytest.raises(IndexOpenError, match="rebuild"):
        TantivyBackend(path)


def test_index_built_with_another_schema_gives_a_clear_error(tmp_path: Path) -> None:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=True)
    tantivy.Index(builder.build(), path=str(tmp_path))
    with pytest.raises(IndexOpenError, match="schema does not match"):
        TantivyBackend(tmp_path)


def test_locked_writer_is_a_retry(tmp_path: Path) -> None:
    assert issubclass(IndexLockedError, Retry)
    first = TantivyBackend(tmp_path)
    first.upsert([CUSTOMS])
    second = TantivyBackend(tmp_path)
    with pytest.raises(IndexLockedError):
        second.upsert([CUSTOMS])
    first.close()
    second.upsert([CUSTOMS])
    second.commit()
    assert second.search(SearchRequest(query="customs")).total == 1
    second.close()


def test_a_hit_read_from_the_stored_fields_is_the_hit_of_the_whole_article(
    tmp_path: Path,
) -> None:
    # hits skip validating the whole article; they must still carry every field a hit has
    from index.backend import SearchHit, Snippet
    from index.tantivy_schema import from_stored, hit_from_stored

    backend = TantivyBackend(tmp_path / "index")
    backend.upsert(list(ALL))
    backend.commit()
    searcher = backend._index.searcher()
    for article in ALL:
        query = tantivy.Query.term_query(backend._schema, "id", article.id)
        stored = searcher.doc(searcher.search(query, limit=1).hits[0][1]).to_dict()
        lead = Snippet.plain(article.summary or article.text)
        assert hit_from_stored(stored, 1.5, "") == SearchHit.of(from_stored(stored), 1.5, lead)
    backend.close()
