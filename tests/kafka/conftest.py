from tests.kafka.kafka_fixtures import _collect_leaked_sockets, tansu

__all__ = ["_collect_leaked_sockets", "tansu"]
