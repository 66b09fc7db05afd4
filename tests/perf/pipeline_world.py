"""A database ready to send: migrated, with API keys and a published personalized email."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hcs.http.app import create_app
from hcs.infrastructure import migrate
from tests.support.flows import reviewed
from tests.support.world import World, add_people, settings_for

TEMPLATE = "order-shipped"
SUBJECT = "Your order {{ order_id }} is on its way, {{ first_name }}"
HTML = """\
<!doctype html>
<html lang="en">
<body style="font-family: Helvetica, Arial, sans-serif; color: #222222;">
  <table role="presentation" width="100%">
    <tr><td>
      <h1>Thank you for your order, {{ first_name|title }}!</h1>
      <p>Order <strong>{{ order_id }}</strong> was placed on {{ placed_on }}.</p>
      <table class="lines">
        <tr><th>Item</th><th>Qty</th><th>Price</th></tr>
        {% for line in lines %}
        <tr class="{{ loop.cycle('odd', 'even') }}">
          <td>{{ line.name }}</td>
          <td>{{ line.qty }}</td>
          <td>{{ line.price }}</td>
        </tr>
        {% endfor %}
      </table>
      <p><strong>Total: {{ total }}</strong></p>
      <p>Delivery to:<br>{{ address.street }}<br>{{ address.postcode }} {{ address.city }}</p>
      {% if lines|length > 3 %}
      <p>Your order ships in {{ lines|length // 3 }} parcels.</p>
      {% endif %}
      <p><a href="https://track.example.com/{{ order_id }}">Track your parcel</a></p>
    </td></tr>
    <tr><td class="footer">
      <p>Acme &amp; Co &middot; 12 rue de la Paix, 75002 Paris</p>
      <p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
    </td></tr>
  </table>
</body>
</html>
"""
VARIABLES = [
    {"name": "order_id", "type": "string", "required": True},
    {"name": "first_name", "type": "string", "required": True, "data_class": "personal"},
    {"name": "placed_on", "type": "date", "required": True},
    {"name": "lines", "type": "list", "required": True},
    {"name": "total", "type": "string", "required": True},
    {"name": "address", "type": "object", "required": True, "data_class": "personal"},
]
NAMES = ["ana", "bo", "cy", "dee", "eli", "fay", "gus", "hal"]


def data(n: int) -> dict[str, Any]:
    """The personal data of the n-th customer (JSON, as a backend would send it)."""
    return {
        "order_id": f"A-{100000 + n}",
        "first_name": NAMES[n % len(NAMES)],
        "placed_on": "2026-11-23",
        "lines": [
            {"name": f"Ceramic mug #{i}", "qty": (n + i) % 3 + 1, "price": "12.50 EUR"}
            for i in range(n % 4 + 2)
        ],
        "total": f"{25 + n % 100}.00 EUR",
        "address": {
            "street": f"{n % 90 + 1} quai des Chartrons",
            "postcode": "33000",
            "city": "Bordeaux",
        },
    }


def send(n: int) -> dict[str, Any]:
    """One message of a batch, to the n-th customer."""
    return {"to": {"email": f"customer{n}@example.com", "name": f"Customer {n}"}, "data": data(n)}


def publish(world: World) -> None:
    """The personalized order email, reviewed and published."""
    ana = world.as_("ana@example.com")
    template = {
        "key": TEMPLATE,
        "name": "Order shipped",
        "category": "transactional",
        "channels": ["email"],
    }
    assert ana.post("/templates", template).status_code == 201
    parts = {"email": {"en": {"subject": SUBJECT, "html": HTML}}}
    draft = ana.post(
        f"/templates/{TEMPLATE}/versions",
        {"parts": parts, "variables": VARIABLES, "sample_data": data(0)},
    )
    assert draft.status_code == 201, draft.get_json()
    reviewed(world, TEMPLATE, 1, "lee@example.com")
    published = world.as_("lee@example.com").post(f"/templates/{TEMPLATE}/versions/1/publish")
    assert published.status_code == 200, published.get_json()


def ready_world(url: str, var_dir: Path, **fields: Any) -> World:
    """Migrated, with people and keys (`world.keys["system"]` sends), the email published;
    `fields` are settings over the tests' ones."""
    migrate.upgrade(url)
    world = World(create_app(settings_for(url, var_dir=var_dir, **fields)), add_people(url))
    publish(world)
    return world
