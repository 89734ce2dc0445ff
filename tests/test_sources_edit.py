"""`chipwire sources add|remove|enable|disable|import|export|check|status` on a real
sources file, OPML files and feeds served on loopback, through the real typer app."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from chipwire.cli import app
from chipwire.settings import SHIPPED_SOURCES, Settings
from ingest.opml import read_opml, write_opml
from ingest.sources import Source, SourcesError, SourcesWatch, load_all_sources
from ingest.sources_file import SourcesFile
from tests.crawlkit import close_crawlers, crawler  # noqa: F401
from tests.loopback import LoopbackServer

SOURCES = """\
# Our feeds: reviewed like code.
sources:
  # The wire we trust most.
  - id: wire
    name: Sample wire
    feed: https://news.example.org/rss
    poll_interval_s: 600  # they asked us to be gentle

  # Government listing, checked by hand.
  - id: mofcom
    name: MOFCOM
    kind: html_list
    feed: https://mofcom.example.cn/list/
    official: true
    agency: CN:MOFCOM
    html_list: {item: "ul.list li", date: "span"}
"""


def cli(tmp_path: Path, *args: str, sources: str | None = SOURCES) -> tuple[int, str, str]:
    path = tmp_path / "sources.yaml"
    if sources is not None:
        path.write_text(sources, encoding="utf-8")
    env = {
        "CHIPWIRE_SOURCES_FILE": str(path),
        "CHIPWIRE_DATA_DIR": str(tmp_path / "data"),
        "CHIPWIRE_ALLOW_PRIVATE_ADDRESSES": "true",
        "COLUMNS": "250",
    }
    result = CliRunner().invoke(app, ["sources", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_add_disable_enable_remove_keep_the_files_comments_and_order(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    assert (
        cli(tmp_path, "add", "https://chips.example.com/feed.xml", "--name", "Chips Daily")[0] == 0
    )
    for step in (["disable", "wire"], ["enable", "wire"], ["disable", "mofcom"]):
        code, out, _ = cli(tmp_path, *step, sources=None)
        assert code == 0, out
    code, out, _ = cli(tmp_path, "remove", "chips-daily", sources=None)
    assert code == 0 and "removed chips-daily" in out
    text = path.read_text(encoding="utf-8")
    for comment in (
        "# Our feeds: reviewed like code.",
        "  # The wire we trust most.",
        "poll_interval_s: 600  # they asked us to be gentle",
        "  # Government listing, checked by hand.",
        'html_list: {item: "ul.list li", date: "span"}',
    ):
        assert comment in text
    assert text.index("# Government listing") < text.index("id: mofcom")
    by_id = {s.id: s for s in load_all_sources(path)}
    assert list(by_id) == ["wire", "mofcom"]
    assert by_id["wire"].enabled and not by_id["mofcom"].enabled


def test_a_new_source_is_validated_and_listed(tmp_path: Path) -> None:
    code, out, _ = cli(
        tmp_path, "add", "https://www.mofcom.example.cn/en/rss", "--official",
        "--agency", "CN:MOFCOM", "--language", "en", "--interval", "1800",
    )  # fmt: skip
    assert code == 0 and "added mofcom-example-cn" in out.replace("www-", "")
    code, out, _ = cli(tmp_path, "list", "--json", sources=None)
    added = [json.loads(line) for line in out.splitlines()][-1]
    assert added["agency"] == "CN:MOFCOM" and added["official"] and added["poll_interval_s"] == 1800


def test_mistakes_are_one_line_and_exit_2_leaving_the_file_as_it_was(tmp_path: Path) -> None:
    cases = [
        (["add", "javascript:alert(1)"], "feed must be an http(s) URL"),
        (["add", "https://x.example/f", "--id", "wire"], "source id 'wire' is already in"),
        (["add", "https://NEWS.example.org/rss?utm_source=x"], "is already in"),
        (["add", "https://x.example/f", "--agency", "mofcom"], "agency"),
        (["remove", "nope"], "no source with id 'nope'"),
        (["disable", "nope"], "no source with id 'nope'"),
    ]
    for args, message in cases:
        code, _, err = cli(tmp_path, *args)
        assert code == 2 and message in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1
        assert (tmp_path / "sources.yaml").read_text(encoding="utf-8") == SOURCES


def test_without_a_sources_file_the_first_edit_copies_the_shipped_one(tmp_path: Path) -> None:
    env = {
        "CHIPWIRE_DATA_DIR": str(tmp_path / "data"),
        "CHIPWIRE_SOURCES_FILE": "",
        "COLUMNS": "250",
    }
    env.pop("CHIPWIRE_SOURCES_FILE")
    runner = CliRunner()
    result = runner.invoke(app, ["sources", "disable", "ustr"], env=env)
    assert result.exit_code == 0, result.stderr
    made = tmp_path / "data" / "sources.yaml"
    assert "was made from the shipped list" in result.stdout and made.is_file()
    assert "# chipwire default sources" in made.read_text(encoding="utf-8")
    settings_now = Settings(data_dir=tmp_path / "data")
    assert settings_now.sources_file == made  # chipwire uses it from now on
    assert not next(s for s in load_all_sources(made) if s.id == "ustr").enabled


OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="1.0">
  <head><title>reader export</title></head>
  <body>
    <outline text="Policy">
      <outline text="Trade" title="Trade desk" type="rss" xmlUrl="https://trade.example.com/rss"
        htmlUrl="https://trade.example.com/"/>
      <outline text="Nested">
        <outline text="Fab news" xmlurl="https://fabs.example.net/atom.xml"/>
      </outline>
    </outline>
    <outline type="rss" xmlUrl="https://untitled.example.org/feed" htmlUrl="https://site.example.org/"/>
    <outline text="Again" xmlUrl="https://NEWS.example.org/rss#top"/>
    <outline text="Bad" xmlUrl="javascript:alert(1)"/>
    <outline text="A link" type="link" url="https://example.org/page"/>
  </body>
</opml>
"""


def test_import_reads_nested_outlines_and_skips_duplicates(tmp_path: Path) -> None:
    opml = tmp_path / "reader.opml"
    opml.write_text(OPML, encoding="utf-8")
    code, out, err = cli(tmp_path, "import", str(opml))
    assert code == 0, err
    assert "imported 3 source(s)" in out and "1 already present, 1 invalid" in out
    assert "javascript:alert(1)" in err
    added = load_all_sources(tmp_path / "sources.yaml")[2:]
    assert [(s.id, s.name, s.feed) for s in added] == [
        ("trade-desk", "Trade desk", "https://trade.example.com/rss"),
        ("fab-news", "Fab news", "https://fabs.example.net/atom.xml"),
        ("site-example-org", "site.example.org", "https://untitled.example.org/feed"),
    ]
    code, out, _ = cli(tmp_path, "import", str(opml), sources=None)  # again: nothing new
    assert code == 0 and "imported 0 source(s)" in out and "4 already present" in out


def test_hostile_opml_is_refused_without_expanding_anything(tmp_path: Path) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + ']><opml version="2.0"><body><outline text="&h;" xmlUrl="https://x.example/f"/>'
        "</body></opml>"
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<opml version="2.0"><body><outline text="&x;" xmlUrl="https://x.example/f"/></body></opml>'
    )
    for name, body in (("laughs", laughs), ("external", external), ("broken", "<opml><body>")):
        path = tmp_path / f"{name}.opml"
        path.write_text(body, encoding="utf-8")
        code, _, err = cli(tmp_path, "import", str(path))
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "refused" in err or "not well-formed" in err
        assert (tmp_path / "sources.yaml").read_text(encoding="utf-8") == SOURCES


def test_export_then_import_through_the_cli_gives_the_same_sources(tmp_path: Path) -> None:
    code, out, _ = cli(tmp_path, "export", "--opml")
    assert code == 0 and out.startswith("<?xml")
    (tmp_path / "all.opml").write_text(out, encoding="utf-8")
    code, yaml_out, _ = cli(tmp_path, "export", sources=None)
    assert code == 0 and "id: mofcom" in yaml_out
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    code, _, err = cli(fresh, "import", str(tmp_path / "all.opml"), sources="sources: []\n")
    assert code == 0, err
    assert load_all_sources(fresh / "sources.yaml") == load_all_sources(tmp_path / "sources.yaml")


_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=30,
).filter(str.strip)
_source = st.builds(
    lambda n, name, path, official, interval, enabled, kind: Source.model_validate(
        {
            "id": f"s{n}",
            "name": name.strip(),
            "feed": f"https://h{n}.example.com/{path}",
            "official": official,
            "poll_interval_s": interval,
            "enabled": enabled,
            "kind": kind,
            **({"html_list": {"item": "li", "date": "span"}} if kind == "html_list" else {}),
        }
    ),
    st.integers(0, 10**6),
    _text,
    st.from_regex(r"[a-z0-9/_-]{0,20}", fullmatch=True),
    st.booleans(),
    st.none() | st.floats(1, 86400),
    st.booleans(),
    st.sampled_from(["feed", "federal_register", "html_list"]),
)


@settings(max_examples=60)
@given(st.lists(_source, max_size=8, unique_by=lambda s: s.feed.split("/")[2]))
def test_opml_export_then_import_gives_the_same_sources(sources: list[Source]) -> None:
    ids = [s.id for s in sources]
    if len(set(ids)) != len(ids):
        return
    imported = read_opml(write_opml(sources), existing=[])
    assert imported.added == sources and not imported.invalid and not imported.duplicates


def _rss(server: LoopbackServer, ages_min: list[int], now: datetime | None = None) -> str:
    now = now or datetime.now(UTC).replace(microsecond=0)
    items = "".join(
        f"<item><title>n{age}</title><link>{server.url(f'/p{age}.html')}</link>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=age), usegmt=True)}</pubDate></item>"
        for age in ages_min
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Lanport Wire</title>'
        f"<ttl>20</ttl>{items}</channel></rss>"
    )


def test_check_shows_what_chipwire_would_see_and_stores_nothing(
    tmp_path: Path, server: LoopbackServer
) -> None:
    feed = server.add(
        "/rss", _rss(server, [5, 35, 65, 95]), Content_Type="application/rss+xml",
        ETag='"v1"', Cache_Control="max-age=300",
    )  # fmt: skip
    code, out, err = cli(tmp_path, "check", feed, "--json")
    assert code == 0, err
    seen = json.loads(out)
    assert seen["title"] == "Lanport Wire" and seen["items"] == 4 and seen["status"] == 200
    assert seen["etag"] == '"v1"' and seen["cache_control"] == "max-age=300"
    assert seen["feed_hints"] == ["ttl 20m"] and seen["newest_age"] in ("5m", "4m", "6m")
    assert seen["interval_s"] == 1200 and "ttl 20m" in seen["interval"]
    code, out, _ = cli(tmp_path, "check", feed)
    assert code == 0 and "Lanport Wire" in out and "ttl 20m" in out
    assert not (tmp_path / "data" / "state.sqlite").exists()

    server.add("/gone", "nope", status=404)
    code, _, err = cli(tmp_path, "check", server.url("/gone"))
    # one clear line (log records of the fetch may precede it, never a traceback)
    assert code == 1 and "Traceback" not in err
    assert [line for line in err.splitlines() if "http-404" in line] == [
        err.strip().splitlines()[-1]
    ]
    code, _, err = cli(tmp_path, "check", "file:///etc/passwd")
    assert code == 2 and "not an http(s) URL" in err


def test_status_reports_health_cadence_items_and_publish_to_fetch_delay(
    tmp_path: Path, server: LoopbackServer
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    feed = server.add("/rss", _rss(server, [30, 60, 90], now))
    for path in ("/p30.html", "/p60.html", "/p90.html", "/p2.html"):
        server.add(path, "<html><body><p>short</p></body></html>", Content_Type="text/html")
    sources = f"sources:\n  - id: wire\n    name: Wire\n    feed: {feed}\n"
    settings_ = Settings(
        data_dir=tmp_path / "data", sources_file=tmp_path / "sources.yaml",
        allow_private_addresses=True, host_min_interval_s=0, extract_workers=0,
        respect_robots=False,
    )  # fmt: skip
    source = Source(id="wire", name="Wire", feed=feed)
    crawler(settings_).poll_feed(source)
    server.add("/rss", _rss(server, [2, 30, 60, 90], now))  # one new item, published 2 min ago
    crawler(settings_).poll_feed(source)

    code, out, err = cli(tmp_path, "status", "--json", sources=sources)
    assert code == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["source_id"] == "wire" and row["errors_in_a_row"] == 0
    assert row["last_success_at"] and row["next_check_at"] and row["items_seen"] == 4
    assert 110 <= row["median_delay_s"] <= 150
    assert row["interval_s"] == 1200 and row["interval_reason"] == "server asks ttl 20m"
    code, out, _ = cli(tmp_path, "status", sources=sources)
    assert code == 0 and "ttl 20m" in out and "wire" in out


def test_removing_a_shipped_source_keeps_every_other_sources_comment(tmp_path: Path) -> None:
    shipped = SHIPPED_SOURCES.read_text(encoding="utf-8")
    lines = shipped.splitlines()
    path = tmp_path / "sources.yaml"
    every = load_all_sources(SHIPPED_SOURCES)
    # first, after a flow mapping, before and after a section heading, last but one, last
    picked = ["federal-register-bis", "bis-press", "ustr", "ec-dg-trade", "csis", "merics"]
    for source in [s for s in every if s.id in picked]:
        at = lines.index(f"  - id: {source.id}")
        own = at
        while lines[own - 1].lstrip().startswith("#"):
            own -= 1
        path.write_text(shipped, encoding="utf-8")
        edited = SourcesFile.open(Settings(data_dir=tmp_path, sources_file=path))
        edited.remove(source.id)
        edited.save()
        text = path.read_text(encoding="utf-8")
        kept = [line for line in lines if line.lstrip().startswith("#")]
        gone = set(lines[own:at])
        assert [line for line in text.splitlines() if line.lstrip().startswith("#")] == [
            line for line in kept if line not in gone
        ], source.id
        assert "\n\n\n" not in text and "sources:\n\n" not in text
        assert load_all_sources(path) == [s for s in every if s.id != source.id]


def test_a_sources_file_named_but_missing_is_started_by_the_first_add(tmp_path: Path) -> None:
    code, _, err = cli(tmp_path, "add", "https://chips.example.com/feed.xml", sources=None)
    assert code == 0, err
    assert [s.id for s in load_all_sources(tmp_path / "sources.yaml")] == ["chips-example-com"]


def test_the_crawl_reads_the_sources_file_again_only_when_it_changed(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES)
    watch = SourcesWatch(path)
    assert watch.current()[0].id == "wire"
    before = path.stat()
    # same size and modification time: taken as unchanged, not parsed again
    path.write_text(SOURCES.replace("wire", "w1re"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert watch.current()[0].id == "wire"
    path.write_text(SOURCES.replace("id: wire", "id: wire-2"))
    assert watch.current()[0].id == "wire-2"
    path.write_text("sources: [")
    for _ in range(2):  # a bad file is refused at every look, not only at the first
        with pytest.raises(SourcesError, match="not valid YAML"):
            watch.current()
    path.write_text(SOURCES)
    assert watch.current()[0].id == "wire"
