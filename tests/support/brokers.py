"""The loopback message brokers the Celery tests use."""

from tests.support.parallel import redis_db

# A Redis db per pytest-xdist worker; RabbitMQ queues are named uniquely by each test.
REDIS = f"redis://127.0.0.1:6379/{redis_db()}"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
