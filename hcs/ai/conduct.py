"""What a text does to the customer: asks, pressures, advises or promises (named policies)."""

from __future__ import annotations

from collections.abc import Sequence

from hcs.ai.commitments import COMMITMENTS
from hcs.ai.intents import Intent, intents_in
from hcs.ai.pressure import ADVICE, PRESSURE
from hcs.ai.requests import REQUESTS
from hcs.ai.topics import topics_named

POLICIES: dict[str, tuple[Intent, ...]] = {
    "requests": REQUESTS,
    "pressure": PRESSURE,
    "advice": ADVICE,
    "commitments": COMMITMENTS,
}


def policy_descriptions() -> list[str]:
    """Every named policy's description, for the system prompt and the judge."""
    return [i.description for group in POLICIES.values() for i in group]


def check_conduct(check: str, text: str, approved: Sequence[str]) -> tuple[bool, str]:
    """One group of named policies; what the approved text itself does is allowed."""
    found = intents_in(text, POLICIES[check], "\n".join(approved))
    if found:
        return False, "does " + ", ".join(found)
    return True, f"none of {len(POLICIES[check])} policies"


def check_forbidden_topics(text: str, forbidden: Sequence[str]) -> tuple[bool, str]:
    """No mention at all of a topic an admin forbade for the category."""
    hits = []
    for topic in topics_named(forbidden):
        match = topic.regex.search(text)
        if match:
            hits.append(topic.name)
    if hits:
        return False, "mentions " + ", ".join(hits)
    return True, f"none of {len(forbidden)} forbidden topics"
