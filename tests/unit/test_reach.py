"""Which branches reach a slot, and whether a block included elsewhere always comes with it."""

from __future__ import annotations

import pytest

from templates_store.reach import reach

DISCLOSE = "{{ block('ai-disclosure') }}"


def _covered(source: str) -> bool:
    found = reach(source, part="sms.body.en", names={"opener"})
    assert found.uses, "the slot is read somewhere"
    return all(found.covers("ai-disclosure", chain) for chain in found.uses)


@pytest.mark.parametrize(
    "source",
    [
        f"{{{{ opener }}}} {DISCLOSE}",
        f"{DISCLOSE}{{% if vip %}}{{{{ opener }}}}{{% endif %}}",
        f"{{% if vip %}}{{{{ opener }}}}{DISCLOSE}"
        f"{{% else %}}{{{{ opener }}}}{DISCLOSE}{{% endif %}}",
        f"{{% for x in xs %}}{{{{ opener }}}} {DISCLOSE}{{% endfor %}}",
        f"{{{{ (opener if vip else '') | upper }}}} {DISCLOSE}",
        f"{{% set o = opener %}}{DISCLOSE}{{{{ o }}}}",
    ],
)
def test_a_disclosure_in_the_same_branch_or_above_covers_the_slot(source: str) -> None:
    assert _covered(source)


@pytest.mark.parametrize(
    "source",
    [
        f"{{% if vip %}}{DISCLOSE}{{% endif %}}{{{{ opener }}}}",
        f"{{% if vip %}}{{{{ opener }}}}{DISCLOSE}{{% else %}}{{{{ opener }}}}{{% endif %}}",
        f"{{% if vip %}}{{% elif gold %}}{DISCLOSE}{{% endif %}}{{{{ opener }}}}",
        f"{{% for x in xs %}}{DISCLOSE}{{% endfor %}}{{{{ opener }}}}",
        f"{{% macro d() %}}{DISCLOSE}{{% endmacro %}}{{{{ opener }}}}",
        f"{{{{ {DISCLOSE[3:-3]} if vip else '' }}}}{{{{ opener }}}}",
        f"{{{{ vip and {DISCLOSE[3:-3]} }}}}{{{{ opener }}}}",
        f"{{% set note %}}{DISCLOSE}{{% endset %}}{{{{ opener }}}}",
    ],
)
def test_a_disclosure_in_another_branch_does_not_cover_the_slot(source: str) -> None:
    assert not _covered(source)
