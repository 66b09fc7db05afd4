"""Generating a message's AI slot texts: only the allowed inputs, guardrails on every output."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from hcs.ai.guardrails import Finding, passes, run_guardrails
from hcs.ai.judge import judged
from hcs.ai.prompting import system_prompt_record
from hcs.ai.providers import AIProvider
from hcs.ai.slots import Slot, slot_from
from hcs.errors import AIUnavailable


def digest(value: Any) -> str:
    """A short digest of one input value, so provenance names what the model saw without it."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def allowed_inputs(slot: Slot, data: Mapping[str, Any]) -> dict[str, Any]:
    """Data minimisation: the slot sees its declared inputs and nothing else."""
    return {name: data[name] for name in slot.inputs if data.get(name) is not None}


def _shown(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{"check": f.check, "passed": f.passed, "detail": f.detail} for f in findings]


def generate_slot(
    slot: Slot,
    data: Mapping[str, Any],
    provider: AIProvider,
    *,
    category: str,
    locale: str,
    guardrails: Mapping[str, Any],
) -> dict[str, Any]:
    """One slot's text: generated, checked, and replaced or blocked when a guardrail fails."""
    inputs = allowed_inputs(slot, data)
    record: dict[str, Any] = {
        "instruction": slot.instruction,
        "on_failure": slot.on_failure,
        "inputs": {name: digest(v) for name, v in inputs.items()},
    }
    try:
        generation = provider.generate(slot, inputs, category=category, locale=locale)
    except AIUnavailable as exc:
        findings = [Finding("provider", False, f"the model was unavailable: {exc}")]
        record.update(provider=provider.name, generated=None, raw="", model="", parameters={})
        record["system_prompt"] = system_prompt_record()
    else:
        findings = run_guardrails(
            generation.text,
            slot,
            inputs,
            category=category,
            locale=locale,
            finish_reason=generation.finish_reason,
            **guardrails,
        )
        record["judge"] = judged(provider.judge, generation.text, slot, inputs, findings)
        record.update(
            provider=generation.provider,
            model=generation.model,
            parameters=generation.parameters,
            prompt_digest=generation.prompt_digest,
            system_prompt=generation.system_prompt,
            raw=generation.raw,
            generated=generation.text,
            latency_ms=generation.latency_ms,
            finish_reason=generation.finish_reason,
        )
    ok = passes(findings)
    record["findings"] = _shown(findings)
    record["blocked"] = not ok and slot.on_failure == "block"
    record["used_fallback"] = not ok and slot.on_failure != "block"
    record["text"] = record["generated"] if ok else (None if record["blocked"] else slot.fallback)
    record["flagged"] = not ok
    return record


def generate_all(
    slots: list[dict[str, Any]],
    data: Mapping[str, Any],
    provider: AIProvider,
    *,
    category: str,
    locale: str,
    guardrails: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    """Every slot of a version, by name."""
    return {
        definition["name"]: generate_slot(
            slot_from(definition),
            data,
            provider,
            category=category,
            locale=locale,
            guardrails=guardrails,
        )
        for definition in slots
    }
