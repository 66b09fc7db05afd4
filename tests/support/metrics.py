"""`/metrics` read back as Prometheus samples."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support.world import World


def scrape(world: World) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = world.app.test_client().get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(metrics: dict, name: str, **labels: str) -> float:
    """One sample of a scrape, 0 when absent."""
    return metrics.get((name, frozenset(labels.items())), 0.0)
