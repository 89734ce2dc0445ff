"""Crawler replicas share the sources by a stable hash of each source's id: every source
has exactly one owner, and an owner does not change when the file is edited."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chipwire.runner import Pipeline
from chipwire.settings import Settings
from ingest.sources import Source, in_partitions, load_sources, shard_of


@given(
    st.lists(st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True), unique=True),
    st.integers(min_value=1, max_value=7),
)
def test_every_source_has_exactly_one_owner(ids: list[str], shards: int) -> None:
    owners = [shard_of(source_id, shards) for source_id in ids]
    assert all(0 <= owner < shards for owner in owners)
    assert owners == [shard_of(source_id, shards) for source_id in ids]


def write_sources(path: Path, count: int) -> None:
    lines = ["sources:"]
    for n in range(count):
        lines += [
            f"  - id: feed-{n}",
            f"    name: Feed {n}",
            f"    feed: http://127.0.0.1:9/{n}.xml",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_replicas_split_the_sources_between_them(tmp_path: Path) -> None:
    sources_file = tmp_path / "sources.yaml"
    write_sources(sources_file, 30)
    owned: list[str] = []
    for shard in range(3):
        settings = Settings(
            data_dir=tmp_path / f"data{shard}",
            sources_file=sources_file,
            crawl_shards=3,
            crawl_shard=shard,
        )
        mine = [s.id for s in Pipeline.sources_of(settings)]
        assert mine, "each of three replicas owns some of 30 sources"
        owned += mine
    assert sorted(owned) == sorted(s.id for s in load_sources(sources_file))


def test_a_shard_beyond_the_replicas_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="crawl_shard 3 is not below crawl_shards 3"):
        Settings(data_dir=tmp_path, crawl_shards=3, crawl_shard=3)


@given(
    st.lists(st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True), unique=True),
    st.integers(min_value=1, max_value=24),
    st.integers(min_value=1, max_value=5),
)
def test_a_group_split_of_the_partitions_gives_each_source_one_owner(
    ids: list[str], partitions: int, replicas: int
) -> None:
    sources = [Source(id=i, name=i, feed=f"http://127.0.0.1:9/{i}.xml") for i in ids]
    shares = [frozenset(range(r, partitions, replicas)) for r in range(replicas)]  # disjoint
    owned = [s.id for share in shares for s in in_partitions(sources, partitions, share)]
    assert sorted(owned) == sorted(ids)


def test_group_sharding_needs_kafka(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="crawl_sharding = 'group' needs bus = 'kafka'"):
        Settings(data_dir=tmp_path, crawl_sharding="group")
