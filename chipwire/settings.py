"""One typed settings object: defaults < chipwire.toml < CHIPWIRE_* environment variables.

Every field is documented in docs/CONFIG.md (a test keeps the table and this class in step).
The config file is `./chipwire.toml` unless `CHIPWIRE_CONFIG` names another.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The feeds chipwire polls unless told otherwise: package data, so an installed wheel has it.
SHIPPED_SOURCES = Path(__file__).resolve().parent.parent / "ingest" / "default_sources.yaml"

GENERIC_SUBJECTS = ["ai-chips", "semiconductors", "chipmaking-equipment", "memory", "legacy-chips"]


class Subscription(BaseModel):
    """One recipient's alert subscription (`[[alert_subscriptions]]` in chipwire.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipient: str = Field(description="Email address")
    subjects: list[str] = Field(default_factory=list, description="Subject ids; empty: all")
    jurisdictions: list[str] = Field(default_factory=list, description="Governments; empty: all")
    min_confidence: float = Field(0.0, ge=0, le=1, description="Raises alert_min_confidence")
    query: str = Field("", description="Saved search: a shift's articles must match it")
    saved_search: str = Field(
        "", description="Or the name of a search saved on the page (/api/saved-searches)"
    )
    proposals: bool = Field(False, description="Count proposed measures as moves")
    delivery: Literal["immediate", "daily"] = Field("immediate", description="Or a daily digest")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHIPWIRE_", extra="forbid")

    # where things live
    data_dir: Path = Field(Path(".chipwire"), description="State, embedded log, index, outbox")
    sources_file: Path = Field(
        SHIPPED_SOURCES,
        description="Sources to poll (YAML: feeds, the Federal Register API, agency listing "
        "pages; docs/SOURCES.md); default: <data_dir>/sources.yaml once `chipwire sources` "
        "has edited one, else the list shipped with chipwire",
    )
    log_level: str = Field("INFO", description="Python logging level")
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text, or one JSON object per line (uvicorn too)"
    )
    malloc_arenas: int = Field(
        2,
        ge=0,
        description="glibc malloc arenas in a pipeline process, as MALLOC_ARENA_MAX "
        "(0: glibc's default of 8 per core; fewer keeps the many threads' freed memory "
        "from piling up)",
    )

    # the two modes
    bus: Literal["embedded", "kafka"] = Field("embedded", description="Message bus backend")
    search: Literal["tantivy", "elasticsearch"] = Field("tantivy", description="Search backend")
    stage_batch_records: int = Field(
        1_000,
        ge=1,
        description="Most messages a stage handles per batch (one publish wait, one commit)",
    )

    # polling and fetching
    poll_interval_s: float = Field(
        300.0,
        gt=0,
        description="Seconds between feed polls until a feed's publishing rate is known",
    )
    poll_min_interval_s: float = Field(
        60.0,
        gt=0,
        description="Adaptive polling: shortest interval (a source's own poll_interval_s wins)",
    )
    poll_max_interval_s: float = Field(
        3600.0,
        gt=0,
        description="Adaptive polling: longest interval, whatever the feed or server says",
    )
    poll_tighten_hours: float = Field(
        6.0,
        ge=0,
        description="After a policy shift, the feeds that covered its subject are polled at "
        "their shortest interval for this many hours",
    )
    crawl_shards: int = Field(
        1, ge=1, description="Crawler replicas sharing the sources (each owns a stable part)"
    )
    crawl_shard: int = Field(
        0, ge=0, description="This replica's share of the sources: 0 .. crawl_shards - 1"
    )
    crawl_sharding: Literal["static", "group"] = Field(
        "static",
        description="static: crawl_shard of crawl_shards; group (Kafka only): the live "
        "crawler replicas share the sources, and a lost replica's sources move to the others",
    )
    crawl_group_partitions: int = Field(
        12,
        ge=1,
        description="crawl_sharding=group: source partitions shared by the replicas (the most "
        "replicas that get a share)",
    )
    fetch_timeout_s: float = Field(15.0, gt=0, description="Wall-clock limit per HTTP fetch")
    max_feed_bytes: int = Field(5_000_000, gt=0, description="Largest feed body accepted")
    max_page_bytes: int = Field(5_000_000, gt=0, description="Largest page body accepted")
    max_redirects: int = Field(5, ge=0, description="Redirect hops followed per fetch")
    user_agent: str = Field(
        "chipwire/0.1 (+https://github.com/chipwire/chipwire)",
        description="User-Agent sent with every request",
    )
    allow_private_addresses: bool = Field(
        False, description="Allow fetching loopback/private IPs (demo and tests only)"
    )
    respect_robots: bool = Field(True, description="Obey robots.txt for article pages")
    fetch_concurrency: int = Field(
        8,
        ge=1,
        description="Global cap: fetches and extractions in flight at once, over all feeds",
    )
    host_min_interval_s: float = Field(
        1.0, ge=0, description="Politeness: seconds between requests to one host"
    )
    host_concurrency: int = Field(1, ge=1, description="Politeness: requests in flight per host")
    extract_workers: int = Field(
        2, ge=0, description="Extraction processes (one per core; 0 extracts in-process)"
    )
    fetch_in_workers: bool = Field(
        False,
        description="Extraction processes fetch their pages themselves (page bytes never "
        "cross a pipe), but a slow site then holds a worker; off: the crawler's threads fetch",
    )
    feed_error_limit: int = Field(
        10, ge=1, description="Errors in a row before a feed backs off to max"
    )
    page_retry_base_s: float = Field(
        60.0, gt=0, description="First wait before a page that failed transiently is fetched again"
    )
    page_retry_max_age_h: float = Field(
        48.0,
        ge=0,
        description="Pages are retried (backoff doubling, Retry-After honoured) this long",
    )

    # dedupe
    near_duplicate_threshold: float = Field(
        0.7, gt=0, le=1, description="MinHash Jaccard above which two texts are one story"
    )
    event_window_h: float = Field(
        72,
        gt=0,
        description="Hours apart within which two outlets' reports of one move can be one "
        "event story (docs/SOURCES.md)",
    )

    # kafka
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    kafka_client_id: str = Field("chipwire", description="Kafka client id")
    kafka_topic_prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Prefix of every topic and consumer group on Kafka (the demo uses its own)",
    )
    kafka_compression: Literal["none", "gzip", "lz4", "zstd", "snappy"] = Field(
        "zstd", description="Producer compression (zstd: chosen in docs/benchmarks.md)"
    )
    kafka_partitions: int = Field(3, ge=1, description="Partitions for created topics")
    kafka_replication: int = Field(1, ge=1, description="Replication factor for created topics")
    # tansu holds a group join for about half the session timeout: 6 s keeps a stage's
    # start near 3 s (5-10 s at 10 s) and still allows three heartbeats per session
    kafka_session_timeout_ms: int = Field(6_000, description="Consumer group session timeout")
    kafka_heartbeat_interval_ms: int = Field(2_000, description="Consumer heartbeat interval")
    kafka_max_poll_interval_ms: int = Field(
        300_000, gt=0, description="Longest gap between polls before the group evicts a consumer"
    )
    kafka_api_version: str = Field(
        "", description="Pin the Kafka protocol version, e.g. 2.3 (empty: negotiate)"
    )
    kafka_linger_ms: int = Field(
        1000, ge=0, description="Producer wait to fill a batch (every publish ends on a flush)"
    )
    kafka_batch_bytes: int = Field(262_144, gt=0, description="Producer batch size per partition")
    kafka_fetch_min_bytes: int = Field(
        65_536, gt=0, description="Bytes a fetch waits for (up to kafka_fetch_max_wait_ms)"
    )
    kafka_fetch_max_wait_ms: int = Field(
        500, ge=0, description="Longest a fetch waits for kafka_fetch_min_bytes"
    )
    kafka_max_partition_fetch_bytes: int = Field(
        4_194_304, gt=0, description="Most bytes one fetch takes from a partition"
    )
    kafka_delivery_timeout_ms: int = Field(
        60_000, gt=0, description="Give up on a record (it stays in the outbox) after this"
    )
    kafka_request_timeout_ms: int = Field(30_000, gt=0, description="Kafka request timeout")
    kafka_bootstrap_timeout_ms: int = Field(
        30_000, gt=0, description="How long a client tries to reach the brokers before failing"
    )
    kafka_max_block_ms: int = Field(
        10_000, gt=0, description="Longest a publish waits for metadata or buffer space"
    )
    kafka_max_request_bytes: int = Field(
        1_048_576, gt=0, description="Largest produce request; must not exceed the broker's"
    )
    kafka_client_metrics: bool = Field(
        False,
        description="kafka-python's own metric sensors (chipwire's metrics do not read them): "
        "a seventh of the client's CPU per request",
    )
    kafka_retention_ms: int = Field(
        2_592_000_000, ge=-1, description="Retention of raw/enriched/alerts topics (-1: forever)"
    )
    kafka_dlq_retention_ms: int = Field(
        2_592_000_000, ge=-1, description="Retention of the dead-letter topic (-1: forever)"
    )

    # search
    index_commit_interval_s: float = Field(
        3.0,
        gt=0,
        description="The longest an article waits for the index commit (then the bus offsets) "
        "while articles keep coming: a commit costs ~40 ms of CPU whatever its size",
    )
    index_commit_quiet_s: float = Field(
        1.0,
        gt=0,
        description="The indexer commits sooner once no new article came for this long: "
        "a lone article is searchable after this",
    )
    index_commit_docs: int = Field(
        1000, ge=1, description="It commits sooner once this many articles wait to be indexed"
    )
    es_url: str = Field("http://127.0.0.1:9200", description="Elasticsearch URL")
    es_index: str = Field("chipwire-articles", description="Elasticsearch alias")
    es_rollover_max_age: str = Field(
        "30d", description="`chipwire index setup` starts a new backing index past this age"
    )
    es_rollover_max_primary_shard_size: str = Field(
        "25gb", description="… or past this primary shard size"
    )

    # alerts
    smtp_host: str = Field("", description="SMTP host; empty writes .eml files to the outbox")
    smtp_port: int = Field(25, description="SMTP port")
    smtp_starttls: bool = Field(False, description="Use STARTTLS")
    smtp_user: str = Field("", description="SMTP user (optional)")
    smtp_password: str = Field("", description="SMTP password (optional)")
    mail_from: str = Field("chipwire@localhost", description="From address of alert emails")
    alert_recipients: list[str] = Field(
        default_factory=lambda: ["analyst@localhost"], description="Who gets alert emails"
    )
    alert_min_confidence: float = Field(
        0.6, ge=0, le=1, description="Signals below this confidence never move the state"
    )
    alert_dedupe_hours: float = Field(
        72, ge=0, description="One email per transition of a pair opened within this window"
    )
    alert_min_relevance: float = Field(
        0.5, ge=0, le=1, description="Articles below this relevance never move the state"
    )
    alert_window_days: float = Field(
        7, gt=0, description="A new direction needs its corroboration within this many days"
    )
    alert_min_publishers: int = Field(
        2, ge=1, description="Independent publishers that confirm a move (one official suffices)"
    )
    alert_generic_subjects: list[str] = Field(
        default_factory=lambda: list(GENERIC_SUBJECTS),
        description="Subjects that keep a state but are never mailed on their own",
    )
    alert_official_domains: list[str] = Field(
        default_factory=lambda: ["gov", "gov.cn", "go.jp", "go.kr", "gov.tw", "gc.ca", "gov.uk"],
        description="Registered-domain suffixes of government publishers (plus named domains)",
    )
    alert_official_sites: list[str] = Field(
        default_factory=lambda: ["mofcom.gov.cn", "government.nl", "europa.eu", "meti.go.jp"],
        description="Registered domains of government publishers",
    )
    alert_realert_hours: float = Field(
        24, ge=0, description="At most one email per recipient and pair within this many hours"
    )
    alert_retry_s: float = Field(
        60, gt=0, description="Seconds between retries of an email the SMTP server refused"
    )
    alert_digest_hour_utc: int = Field(
        7, ge=0, le=23, description="Hour (UTC) at which daily digests are sent"
    )
    alert_subscriptions: list[Subscription] = Field(
        default_factory=list,
        description="Per-recipient subscriptions; empty: every alert_recipients gets every shift",
    )
    public_url: str = Field(
        "", description="Public base URL of the web page; alert emails link to pair timelines"
    )

    # serving
    http_host: str = Field("127.0.0.1", description="Web/API/metrics bind address")
    http_port: int = Field(8765, ge=0, le=65535, description="Web/API/metrics port; 0 disables")
    api_token: str = Field(
        "",
        description="Bearer token the API requires (all but /healthz); needed to bind beyond "
        "loopback",
    )
    health_stall_s: float = Field(
        300.0, gt=0, description="/healthz: a stage failing or stuck this long is unhealthy (503)"
    )

    @model_validator(mode="after")
    def _user_sources(self) -> Settings:
        """Unless sources_file is set, the file `chipwire sources add|import|…` made in
        data_dir, once there is one."""
        edited = self.data_dir / "sources.yaml"
        if "sources_file" not in self.model_fields_set and edited.is_file():
            self.sources_file = edited
        return self

    @model_validator(mode="after")
    def _shard_in_range(self) -> Settings:
        if self.crawl_shard >= self.crawl_shards:
            raise ValueError(
                f"crawl_shard {self.crawl_shard} is not below crawl_shards {self.crawl_shards}"
            )
        if self.crawl_sharding == "group" and self.bus != "kafka":
            raise ValueError("crawl_sharding = 'group' needs bus = 'kafka' (a consumer group)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("CHIPWIRE_CONFIG", "chipwire.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    @property
    def state_db(self) -> Path:
        return self.data_dir / "state.sqlite"

    @property
    def log_db(self) -> Path:
        return self.data_dir / "log.sqlite"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def alerts_db(self) -> Path:
        return self.data_dir / "alerts.sqlite"

    @property
    def events_db(self) -> Path:
        return self.data_dir / "events.sqlite"

    def subscriptions(self) -> list[Subscription]:
        """The configured subscriptions, or one immediate all-subjects one per recipient."""
        if self.alert_subscriptions:
            return list(self.alert_subscriptions)
        return [Subscription(recipient=r) for r in self.alert_recipients]


def settings_table() -> str:
    """The markdown table of every setting (docs/CONFIG.md embeds it; a test keeps it in step)."""
    lines = [
        "| key (chipwire.toml) | environment variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, info in Settings.model_fields.items():
        default = info.default_factory() if info.default_factory else info.default  # type: ignore[call-arg]
        if default == SHIPPED_SOURCES:  # the same on every machine
            default = "<chipwire>/ingest/default_sources.yaml"
        shown = str(default).replace("|", "\\|")
        lines.append(
            f"| `{name}` | `CHIPWIRE_{name.upper()}` | `{shown}` | {info.description or ''} |"
        )
    return "\n".join(lines) + "\n"
