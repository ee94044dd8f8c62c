"""Sections and JSON of the analyses, kept for importers; new code imports the per-analysis modules."""

from __future__ import annotations

from niches.render.coalition import coalition_json, coalition_sections
from niches.render.diff import diff_json, diff_sections
from niches.render.explain import combined_json, combined_line, conflict_json, conflict_section
from niches.render.frontier import (
    displayed,
    frontier_chart,
    frontier_json,
    frontier_mermaid,
    frontier_section,
    per_money_text,
    value_per_money,
)
from niches.render.judges import judges_json, judges_sections
from niches.render.portfolio import change_text, portfolio_text
from niches.render.price import commitments_text, price_json, price_sections
from niches.render.robust import LEVEL_UNCERTAIN, core_section, robust_heading, robust_json, robust_sections
from niches.render.sensitivity import (
    marginals_section,
    order_section,
    prices_section,
    radius_section,
    sensitivity_json,
    sensitivity_sections,
    weights_section,
)
from niches.render.worlds import regret_section, worlds_json, worlds_portfolios_section, worlds_section

__all__ = [
    "LEVEL_UNCERTAIN",
    "change_text",
    "coalition_json",
    "coalition_sections",
    "combined_json",
    "combined_line",
    "commitments_text",
    "conflict_json",
    "conflict_section",
    "core_section",
    "diff_json",
    "diff_sections",
    "displayed",
    "frontier_chart",
    "frontier_json",
    "frontier_mermaid",
    "frontier_section",
    "judges_json",
    "judges_sections",
    "marginals_section",
    "order_section",
    "per_money_text",
    "portfolio_text",
    "price_json",
    "price_sections",
    "prices_section",
    "radius_section",
    "regret_section",
    "robust_heading",
    "robust_json",
    "robust_sections",
    "sensitivity_json",
    "sensitivity_sections",
    "value_per_money",
    "weights_section",
    "worlds_json",
    "worlds_portfolios_section",
    "worlds_section",
]
