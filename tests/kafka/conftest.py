from tests.kafka.kafka_fixtures import _collect_leaked_sockets

# the `tansu` broker fixture lives in tests/conftest.py: defined once, one broker a session
__all__ = ["_collect_leaked_sockets"]
