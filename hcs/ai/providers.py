"""Where slot text comes from: an OpenAI-compatible model, or the offline personalizer."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import openai

from hcs.ai.network import guarded_client
from hcs.ai.prompting import build_messages, prompt_digest, system_prompt_record
from hcs.ai.slots import Slot
from hcs.errors import AIUnavailable
from hcs.infrastructure.config import Settings
from hcs.infrastructure.destinations import check_destination

if TYPE_CHECKING:
    from hcs.ai.judge import Judge

GREETINGS = {
    "en": "Hi",
    "de": "Hallo",
    "fr": "Bonjour",
    "es": "Hola",
    "nl": "Hallo",
    "it": "Ciao",
    "pt": "Olá",
}
# English sentence openers that read naturally after "Hi Ann, "; other words keep their capital.
_LOWER_AFTER_GREETING = frozenset(
    "a an as at it our thank thanks the there this we you your just here".split()
)
# What is kept of an answer: far above any slot's bound, far below what could swamp the archive.
MAX_RAW_CHARS = 20_000
_FIRST_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|['’ .-](?=[^\W\d_])){0,39}\Z")


@dataclass(frozen=True)
class Generation:
    """One slot text and its provenance: who wrote it, with what, from which prompt."""

    text: str
    provider: str
    model: str
    parameters: dict[str, Any]
    prompt_digest: str
    raw: str
    latency_ms: int
    finish_reason: str | None = None
    # {"version", "digest" (of the fixed text), "sent_digest" (of the system message sent)}
    system_prompt: dict[str, str] = field(default_factory=system_prompt_record)


class AIProvider(Protocol):
    """Writes the text of one slot from its approved instruction and allowed inputs."""

    name: str
    judge: Judge | None

    def generate(
        self, slot: Slot, inputs: Mapping[str, Any], *, category: str, locale: str
    ) -> Generation:
        """The slot's text; raises AIUnavailable when there is none."""
        ...


def _elapsed_ms(start: float) -> int:
    return int((time.perf_counter() - start) * 1000)


class OfflineProvider:
    """Deterministic, no network: the approved fallback, greeted by first name when allowed."""

    name = "offline"
    model = "offline-personalizer-1"
    # Offline means no network at all: the deterministic checks only.
    judge: Judge | None = None

    def compose(self, slot: Slot, inputs: Mapping[str, Any], locale: str) -> str:
        """`"Hi Ann, " + fallback` when first_name is an input and fits; else the fallback."""
        language = locale.replace("_", "-").split("-")[0].lower()
        greeting = GREETINGS.get(language, GREETINGS["en"])
        first_name = inputs.get("first_name") if "first_name" in slot.inputs else None
        if not isinstance(first_name, str) or not _FIRST_NAME.match(first_name.strip()):
            return slot.fallback
        fallback = slot.fallback.strip()
        first_word = fallback.split(" ", 1)[0].strip(",.!").lower()
        if first_word in {g.lower() for g in GREETINGS.values()}:
            return slot.fallback
        if language == "en" and first_word in _LOWER_AFTER_GREETING:
            fallback = fallback[0].lower() + fallback[1:]
        text = f"{greeting} {first_name.strip()}, {fallback}"
        return text if len(text) <= slot.max_chars else slot.fallback

    def generate(
        self, slot: Slot, inputs: Mapping[str, Any], *, category: str, locale: str
    ) -> Generation:
        """Compose the text; the prompt it would have sent is still digested for provenance."""
        start = time.perf_counter()
        messages = build_messages(slot, inputs, category=category, locale=locale)
        text = self.compose(slot, inputs, locale)
        return Generation(
            text=text,
            provider=self.name,
            model=self.model,
            parameters={"strategy": "greeting+fallback" if text != slot.fallback else "fallback"},
            prompt_digest=prompt_digest(messages),
            raw=text,
            latency_ms=_elapsed_ms(start),
            finish_reason="stop",
            system_prompt=system_prompt_record(messages),
        )


def _reason(exc: openai.OpenAIError, timeout: float) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return f"the model did not answer within {timeout:g} s"
    if isinstance(exc, openai.APIStatusError):
        return f"the model endpoint answered HTTP {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        return "the model endpoint could not be reached"
    return f"the model call failed ({type(exc).__name__})"


class OpenAIProvider:
    """Chat completions through the official SDK against any OpenAI-compatible endpoint."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        temperature: float = 0.3,
        judge: Judge | None = None,
        allow: Sequence[str] | None = None,
    ) -> None:
        if not model:
            raise AIUnavailable("no model configured (HCS_AI_MODEL)")
        if not api_key and not base_url:
            raise AIUnavailable("no API key configured (OPENAI_API_KEY)")
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        self.temperature = temperature
        self.judge = judge
        # Self-hosted servers (vLLM, Ollama) take any key; the SDK insists on one.
        self._client = openai.OpenAI(
            api_key=api_key or "unused",
            base_url=base_url or None,
            timeout=timeout,
            max_retries=max_retries,
            # Built by the settings: connections checked as they open (hcs.ai.network).
            http_client=None if allow is None else guarded_client(allow),
        )

    def close(self) -> None:
        """Release the SDK's connection pools (the judge's too)."""
        self._client.close()
        if self.judge is not None:
            self.judge.close()

    def parameters(self, slot: Slot) -> dict[str, Any]:
        """The sampling parameters sent for a slot, as recorded with its text."""
        # About two characters per token leaves room for every language without a runaway.
        return {
            "temperature": self.temperature,
            "max_tokens": min(4096, math.ceil(slot.max_chars / 2) + 16),
            "n": 1,
        }

    def generate(
        self, slot: Slot, inputs: Mapping[str, Any], *, category: str, locale: str
    ) -> Generation:
        """Ask the model once (the SDK retries transient errors); AIUnavailable on failure."""
        messages = build_messages(slot, inputs, category=category, locale=locale)
        parameters = self.parameters(slot)
        start = time.perf_counter()
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                **parameters,
            )
        except openai.OpenAIError as exc:
            raise AIUnavailable(_reason(exc, self.timeout)) from exc
        if not completion.choices:
            raise AIUnavailable("the model answered with no choices")
        raw = (completion.choices[0].message.content or "")[:MAX_RAW_CHARS]
        return Generation(
            text=raw.strip(),
            provider=self.name,
            model=completion.model or self.model,
            parameters={
                **parameters,
                "timeout": self.timeout,
                "max_retries": self.max_retries,
                "finish_reason": completion.choices[0].finish_reason,
            },
            prompt_digest=prompt_digest(messages),
            raw=raw,
            latency_ms=_elapsed_ms(start),
            finish_reason=str(completion.choices[0].finish_reason or "unknown"),
            system_prompt=system_prompt_record(messages),
        )


def build_provider(settings: Settings) -> AIProvider:
    """The configured provider: `offline` (the default) or `openai`."""
    if settings.ai_provider == "offline":
        return OfflineProvider()
    if settings.ai_provider == "openai":
        from hcs.ai.judge import build_judge

        if settings.ai_base_url:  # the SDK's default (api.openai.com) is public
            allow = settings.allowed_private_destinations
            url, field = settings.ai_base_url, "HCS_AI_BASE_URL"
            check_destination(url, allow=allow, field=field, https_only=False)
        return OpenAIProvider(
            settings.ai_base_url,
            settings.ai_api_key,
            settings.ai_model,
            timeout=settings.ai_timeout,
            max_retries=settings.ai_max_retries,
            temperature=settings.ai_temperature,
            judge=build_judge(settings),
            allow=settings.allowed_private_destinations,
        )
    raise AIUnavailable(f"unknown AI provider {settings.ai_provider!r} (offline, openai)")
