from tests.kafka.kafka_fixtures import tansu

__all__ = ["tansu"]
