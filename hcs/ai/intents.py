"""Matching what a sentence does: a cue and an object near each other, not negated, in a clause."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from hcs.ai.unicode import skeleton

# Said before a cue, these turn a request into its opposite ("we will never ask for your PIN").
NEGATIONS = (
    r"never|not|\w*n't|cannot|unable|no one|nobody|no|none|neither|nor|without",
    r"nie|niemals|nicht|kein\w*|niemand",
    r"jamais|ne|n'|pas|aucun\w*|personne",
    r"nunca|jamás|ningun\w*|nadie",
    r"nooit|niet|geen|mai|non|nessun\w*",
    # Protective and third-party framings: "keep your PIN to yourself", "if anyone asks for".
    r"keep|protect|behalten|schützen|gardez|protégez|guarde|proteja",
)
# Said anywhere before the object, these make the whole sentence about someone else's request.
_THIRD_PARTY = re.compile(
    r"\b(?:if (?:someone|anyone|a caller|a stranger|you are asked|you get asked)|should anyone|"
    r"wenn (?:jemand|sie jemand)|falls jemand|si quelqu'un|si on vous|si alguien|si le piden)\b"
)
_NEGATION = re.compile(r"(?:(?<!\w)|(?='))(?:" + "|".join(NEGATIONS) + r")(?!\w)")
_CLAUSES = re.compile(r"(?<=[.!?;:])\s+|\n+|\s+[-–—]\s+|,\s+(?:but|aber|mais|pero|maar|ma)\s+")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_LEET_WORD = re.compile(r"\b(?=\w*[a-z])(?=\w*[0-9@$])[\w@$]{3,}\b")
_SPACED = re.compile(r"(?<!\w)(?:\w[ .\-_*/|]){2,}\w(?!\w)")
_ONE_LETTER_WORDS = frozenset("a i y o e à".split())


def _unleet(match: re.Match[str]) -> str:
    return match.group().translate(_LEET)


def _unspace(match: re.Match[str]) -> str:
    return re.sub(r"[ .\-_*/|]", "", match.group())


def _unspace_after_word(match: re.Match[str]) -> str:
    # "a d i s c o u n t": a one-letter word may stand before the spelled-out one.
    letters = _unspace(match)
    if letters[0] in _ONE_LETTER_WORDS and len(letters) > 4:
        return letters[0] + " " + letters[1:]
    return letters


def plain_forms(text: str) -> tuple[str, ...]:
    """The text as it reads to a person: look-alikes folded, letters re-joined, leet undone."""
    base = " ".join(skeleton(text).casefold().replace("’", "'").split())
    joined = _SPACED.sub(_unspace, base)
    unleet = _LEET_WORD.sub(_unleet, joined)
    split = _LEET_WORD.sub(_unleet, _SPACED.sub(_unspace_after_word, base))
    return tuple(dict.fromkeys((base, joined, unleet, split)))


def _alternation(parts: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"(?:(?<!\w)|(?='))(?:" + "|".join(parts) + r")(?!\w)")


@dataclass(frozen=True)
class Intent:
    """A named thing a text must not do: cue + object in one clause, or a phrase on its own."""

    name: str
    description: str
    objects: tuple[str, ...]
    cues: tuple[str, ...]
    phrases: tuple[str, ...] = ()
    window: int = 80
    negatable: bool = True

    @cached_property
    def object_rx(self) -> re.Pattern[str]:
        """The objects of every language as one expression."""
        return _alternation(self.objects)

    @cached_property
    def cue_rx(self) -> re.Pattern[str]:
        """The cues of every language as one expression."""
        return _alternation(self.cues)

    @cached_property
    def phrase_rx(self) -> re.Pattern[str] | None:
        """Phrases that do the thing on their own."""
        return _alternation(self.phrases) if self.phrases else None

    def found_in(self, clause: str) -> bool:
        """Whether one (normalised) clause does this."""
        if self.phrase_rx is not None and (m := self.phrase_rx.search(clause)):
            if not (self.negatable and _negated(clause, m.start(), m.start())):
                return True
        for obj in self.object_rx.finditer(clause):
            for cue in self.cue_rx.finditer(clause):
                near = abs(cue.start() - obj.start()) <= self.window
                if near and not (self.negatable and _negated(clause, cue.start(), obj.start())):
                    return True
        return False


# German puts "never" after the object of a main clause: "geben Sie Ihre PIN niemals weiter".
_NEGATION_AFTER = re.compile(r"^\W*(?:[^\W\d_]+\W+){0,2}(?:nie|niemals|keinesfalls)(?!\w)")


def _negated(clause: str, cue: int, obj: int) -> bool:
    position = max(cue, obj)
    before = re.split(r"[,;:]", clause[max(0, position - 60) : position])[-1]
    after = re.sub(r"^\w+", "", clause[position : position + 60])
    return bool(
        _NEGATION.search(before)
        or _THIRD_PARTY.search(clause[:obj])
        or _NEGATION_AFTER.search(after)
    )


@lru_cache(maxsize=512)
def clauses(text: str) -> tuple[str, ...]:
    """Each clause of each plain form of the text, once."""
    found = (c for form in plain_forms(text) for c in _CLAUSES.split(form) if c.strip())
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=512)
def _done_by(text: str, intents: tuple[Intent, ...]) -> tuple[str, ...]:
    parts = clauses(text)
    return tuple(dict.fromkeys(i.name for i in intents if any(i.found_in(c) for c in parts)))


def intents_in(text: str, intents: Sequence[Intent], approved: str = "") -> list[str]:
    """The names of the intents the text carries out that the approved text does not."""
    allowed = set(_done_by(approved, tuple(intents))) if approved else set()
    return [name for name in _done_by(text, tuple(intents)) if name not in allowed]
