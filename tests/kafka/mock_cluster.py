"""librdkafka's mock Kafka cluster (from the confluent-kafka wheel), driven through ctypes.

It speaks the Kafka protocol on loopback and can take brokers down, fail requests with
chosen error codes and delay responses: precise faults a real broker cannot be asked
for. kafka-python needs api_version=(2, 3) against it. Test-only; experimental upstream.
"""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path

PRODUCE = 0  # ApiKey of Produce requests
_RD_KAFKA_PRODUCER = 0


def librdkafka_path() -> Path | None:
    spec = importlib.util.find_spec("confluent_kafka")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    libs = sorted((package.parent / "confluent_kafka.libs").glob("librdkafka*.so*"))
    return libs[0] if libs else None


def _load(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    p, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    signatures: dict[str, tuple[list[object], object]] = {
        "rd_kafka_conf_new": ([], p),
        "rd_kafka_conf_set": ([p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, sz], i),
        "rd_kafka_new": ([i, p, ctypes.c_char_p, sz], p),
        "rd_kafka_destroy": ([p], None),
        "rd_kafka_mock_cluster_new": ([p, i], p),
        "rd_kafka_mock_cluster_destroy": ([p], None),
        "rd_kafka_mock_cluster_bootstraps": ([p], ctypes.c_char_p),
        "rd_kafka_mock_topic_create": ([p, ctypes.c_char_p, i, i], i),
        "rd_kafka_mock_broker_set_down": ([p, ctypes.c_int32], i),
        "rd_kafka_mock_broker_set_up": ([p, ctypes.c_int32], i),
        "rd_kafka_mock_partition_set_leader": (
            [p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32],
            i,
        ),
        "rd_kafka_mock_push_request_errors_array": (
            [p, ctypes.c_int16, sz, ctypes.POINTER(ctypes.c_int)],
            None,
        ),
    }
    for name, (args, restype) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = restype
    return lib


class MockCluster:
    def __init__(self, brokers: int = 1, path: Path | None = None) -> None:
        lib_path = path or librdkafka_path()
        if lib_path is None:
            raise FileNotFoundError("librdkafka from the confluent-kafka wheel not found")
        self.brokers = brokers
        self._lib = _load(lib_path)
        errstr = ctypes.create_string_buffer(512)
        conf = self._lib.rd_kafka_conf_new()
        self._lib.rd_kafka_conf_set(conf, b"log_level", b"0", errstr, len(errstr))
        self._rk = self._lib.rd_kafka_new(_RD_KAFKA_PRODUCER, conf, errstr, len(errstr))
        if not self._rk:
            raise RuntimeError(errstr.value.decode())
        self._cluster = self._lib.rd_kafka_mock_cluster_new(self._rk, brokers)
        if not self._cluster:
            raise RuntimeError("rd_kafka_mock_cluster_new failed")
        self.bootstrap: str = self._lib.rd_kafka_mock_cluster_bootstraps(self._cluster).decode()

    def create_topic(self, name: str, partitions: int = 1) -> None:
        err = self._lib.rd_kafka_mock_topic_create(self._cluster, name.encode(), partitions, 1)
        if err:
            raise RuntimeError(f"mock topic create {name}: error {err}")

    def set_leader(self, topic: str, partition: int, broker_id: int) -> None:
        self._lib.rd_kafka_mock_partition_set_leader(
            self._cluster, topic.encode(), partition, broker_id
        )

    def all_down(self) -> None:
        """Every broker down (never just a leader: kafka-python then loops forever)."""
        for broker_id in range(1, self.brokers + 1):
            self._lib.rd_kafka_mock_broker_set_down(self._cluster, broker_id)

    def all_up(self) -> None:
        for broker_id in range(1, self.brokers + 1):
            self._lib.rd_kafka_mock_broker_set_up(self._cluster, broker_id)

    def fail_next(self, api_key: int, errors: list[int]) -> None:
        """The next len(errors) requests of `api_key` fail with these error codes, in order."""
        array = (ctypes.c_int * len(errors))(*errors)
        self._lib.rd_kafka_mock_push_request_errors_array(
            self._cluster, api_key, len(errors), array
        )

    def delay_next(self, api_key: int, rtts_ms: list[int], broker_id: int = 1) -> None:
        """The broker answers its next len(rtts_ms) `api_key` requests successfully, each
        only after its delay: with a delay over request_timeout_ms the client has given up
        (an acknowledgement lost) although the broker applied the request."""
        fn = self._lib.rd_kafka_mock_broker_push_request_error_rtts  # variadic (err, rtt) pairs
        pairs = [arg for rtt in rtts_ms for arg in (ctypes.c_int(0), ctypes.c_int(rtt))]
        fn(
            ctypes.c_void_p(self._cluster),
            ctypes.c_int32(broker_id),
            ctypes.c_int16(api_key),
            ctypes.c_size_t(len(rtts_ms)),
            *pairs,
        )

    def close(self) -> None:
        if self._cluster:
            self._lib.rd_kafka_mock_cluster_destroy(self._cluster)
            self._cluster = None
        if self._rk:
            self._lib.rd_kafka_destroy(self._rk)
            self._rk = None
