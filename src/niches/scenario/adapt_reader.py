"""Reading `adapt:`: the period from which the world order is known (`niches adapt`)."""

from __future__ import annotations

from niches.scenario.checks import _Checks, _describe
from niches.scenario.keys import ADAPT_KEYS
from niches.scenario.types import TOTAL, Adapt
from niches.scenario.yamlsource import YNode


class _AdaptSections(_Checks):
    """Read `adapt: {reveal: PERIOD}`."""

    def adapt(self, node: YNode | None, periods: list[str]) -> Adapt | None:
        if node is None:
            return None
        self.locations["adapt"] = node.at_key
        if not isinstance(node.value, dict):
            example = node.text if node.is_scalar() and node.value is not None else "PERIOD"
            self.error(
                node.loc,
                f"adapt must be a mapping, got {_describe(node)}; write adapt: {{reveal: {example}}}",
            )
            return None
        items = node.value
        meant = self.check_keys(items, ADAPT_KEYS, "adapt")
        if "reveal" not in items:
            if "reveal" not in meant:
                self.error(
                    node.at_key,
                    "adapt is missing required key 'reveal': the period from which the world order is "
                    "known, e.g. reveal: 2028",
                )
            return None
        reveal = items["reveal"]
        if not reveal.is_scalar() or reveal.value is None:
            self.error(reveal.loc, f"adapt.reveal must be a period id, got {_describe(reveal)}")
            return None
        if periods == [TOTAL]:
            self.error(
                reveal.loc,
                "adapt needs periods to reveal the world order in; declare them under 'periods'",
            )
            return None
        if not self.ref(reveal, periods, "period", "adapt.reveal"):
            return None
        self.locations["adapt.reveal"] = reveal.loc
        return Adapt(reveal.text)
