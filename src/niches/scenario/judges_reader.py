"""Reading the judgement files a scenario lists under `judges:` and setting the group's aggregate."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from pathlib import PurePath

from niches.numbers import plural
from niches.scenario import ahp, inputs
from niches.scenario import judges as panel
from niches.scenario.checks import _hint, _num
from niches.scenario.criteria_reader import _CriteriaSections
from niches.scenario.judges import Judge
from niches.scenario.keys import JUDGE_KEYS, PAIRWISE, SIZE_LIMITS
from niches.scenario.types import Criterion, Niche, Score, World
from niches.scenario.yamlsource import Location, Problem, YNode, parse_yaml


class _JudgeSections(_CriteriaSections):
    """Read `judges:` (each judge's file) and apply their aggregate to the scenario."""

    def judges(
        self, node: YNode, criteria: list[Criterion], worlds: list[World], niches: list[Niche]
    ) -> list[Judge]:
        """Read every judgement file `node` lists (paths relative to the scenario, globs allowed)."""
        naming = None if self.file.startswith("<") else self.file
        found: list[Judge] = []
        names: dict[str, str] = {}
        for item in self.id_list(node, "judges"):
            pattern = item.text
            try:
                where = self.files.named(pattern, naming)
            except inputs.InputError as exc:
                self.error(item.loc, f"judges: '{pattern}' {exc.message}")
                continue
            if any(ch in pattern for ch in "*?["):
                paths = self.files.matching(where, naming)
                if not paths:
                    self.error(
                        item.loc, f"judges: '{pattern}' matches no file (paths are relative to the scenario)"
                    )
            else:
                paths = [where]
            for path in paths:
                judge = self.judge_file(path, item, criteria, worlds, niches)
                if judge is None:
                    continue
                if judge.name in names:
                    self.error(
                        item.loc,
                        f"judge '{judge.name}' is named in both {names[judge.name]} and {judge.source}; "
                        "give each judge one file",
                    )
                    continue
                names[judge.name] = judge.source
                found.append(judge)
        return found

    def judge_file(
        self, path: PurePath, item: YNode, criteria: list[Criterion], worlds: list[World], niches: list[Niche]
    ) -> Judge | None:
        """Read one judgement file; its problems are located in it."""
        shown = str(path)
        if not self.files.exists(path):
            self.error(item.loc, f"judges: no such file {shown}; check the path (relative to the scenario)")
            return None
        try:
            text = self.files.read_text(path)
        except inputs.InputError as exc:
            self.error(item.loc, f"judges: {shown}: {exc.message}")
            return None
        parsed = parse_yaml(text, shown, SIZE_LIMITS)
        self.problems.extend(parsed.problems)
        if parsed.root is None:
            if not parsed.problems:
                self.problems.append(
                    Problem(Location(shown, 1, 1), "the judgement file is empty; it needs 'judge'")
                )
            return None
        items = self.mapping(parsed.root, "a judgement file")
        if items is None:
            return None
        where = f"judgement file {shown}"
        self.check_keys(items, JUDGE_KEYS, "a judgement file")
        if "judge" not in items:
            self.error(
                parsed.root.loc, f"{where} is missing required key 'judge' (who gives these judgements)"
            )
            return None
        name = self.text(items["judge"], "judge")
        if name is None:
            return None
        ids = [c.id for c in criteria]
        weights: dict[str, float] | None = None
        matrix = None
        cr = None
        if "weights" in items:
            wnode = items["weights"]
            witems = self.mapping(wnode, f"weights of judge '{name}'") or {}
            if PAIRWISE in witems:
                extra = [k for k in witems if k != PAIRWISE]
                for key in extra:
                    self.error(witems[key].at_key, f"weights of judge '{name}' give 'pairwise'; drop '{key}'")
                a = self.comparisons(witems[PAIRWISE], ids, f"pairwise comparisons of judge '{name}'")
                if a is not None and not extra:
                    prio = ahp.priorities(a)
                    weights, matrix, cr = dict(zip(ids, prio.weights, strict=True)), a, prio.cr
                    self.cr_warning(a, prio, ids, witems[PAIRWISE], f"judge '{name}':")
            elif witems:
                raw: dict[str, float] = {}
                for key, child in witems.items():
                    if self.key_ref(key, child, ids, "criterion", f"weights of judge '{name}'"):
                        w = self.number(child, f"weight of {key} by judge '{name}'", low=0)
                        if w is not None:
                            raw[key] = w
                missing = [c for c in ids if c not in witems]
                if missing:
                    self.error(
                        wnode.at_key,
                        f"judge '{name}' gives no weight for {', '.join(missing)}; "
                        "give every criterion a weight (0 is allowed) or none",
                    )
                elif len(raw) == len(ids):
                    total = math.fsum(raw.values())
                    if total <= 0:
                        self.error(wnode.at_key, f"weights of judge '{name}' are all 0")
                    else:
                        weights = {c: raw[c] / total for c in ids}
        probabilities: dict[str, float] = {}
        if "probabilities" in items:
            world_ids = [w.id for w in worlds]
            for key, child in (
                self.mapping(items["probabilities"], f"probabilities of judge '{name}'") or {}
            ).items():
                if self.key_ref(key, child, world_ids, "world", f"probabilities of judge '{name}'"):
                    p = self.number(child, f"probability of {key} by judge '{name}'", low=0, high=1)
                    if p is not None:
                        probabilities[key] = p
        scores: dict[tuple[str, str, str], float] = {}
        if "scores" in items:
            by_id = {n.id: n for n in niches}
            for key, child in (self.mapping(items["scores"], f"scores of judge '{name}'") or {}).items():
                target = self.score_target(key, child, by_id, name)
                if target is None:
                    continue
                for crit, cnode in (self.mapping(child, f"scores of judge '{name}' for {key}") or {}).items():
                    if self.key_ref(crit, cnode, ids, "criterion", f"scores of judge '{name}' for {key}"):
                        score = self.score(cnode, f"score of {key} on {crit} by judge '{name}'")
                        if score is not None:
                            scores[target[0], target[1], crit] = score.mean
        return Judge(
            name,
            shown,
            weights,
            None if matrix is None else tuple(tuple(r) for r in matrix),
            cr,
            probabilities,
            scores,
        )

    def score_target(
        self, key: str, child: YNode, niches: dict[str, Niche], judge: str
    ) -> tuple[str, str] | None:
        """Return (niche, declared level) a judge's score key `niche` or `niche.level` names."""
        nid, dot, lid = key.partition(".")
        where = f"scores of judge '{judge}'"
        if not self.key_ref(nid, child, list(niches), "niche", where):
            return None
        levels = list(dict.fromkeys(lv.base for lv in niches[nid].levels))
        if not dot:
            if len(levels) == 1:
                return nid, levels[0]
            self.error(
                child.at_key,
                f"niche '{nid}' has {plural(len(levels), 'level')} ({', '.join(levels)}); "
                f"name one, as {nid}.{levels[0]}",
            )
            return None
        if lid not in levels:
            self.error(child.at_key, f"unknown level '{lid}' of niche '{nid}' in {where}{_hint(lid, levels)}")
            return None
        return nid, lid

    def apply_judges(
        self,
        judges: list[Judge],
        how: str,
        criteria: list[Criterion],
        worlds: list[World],
        niches: list[Niche],
        node: YNode | None,
    ) -> tuple[list[Criterion], list[World], list[Niche], list[panel.Judged]] | None:
        """Return criteria, worlds and niches with every judged value set to the group's aggregate,
        and the figures the judges changed (declared, each judge's, the group's)."""
        given: dict[panel.Judgement, dict[str, float]] = {}
        for judge in judges:
            for judgement, value in judge.values().items():
                given.setdefault(judgement, {})[judge.name] = value
        if how == "geometric":
            bad = [j for j, vs in given.items() if any(v <= 0 for v in vs.values())]
            if bad:
                where = node.loc if node is not None else Location(self.file, 1, 1)
                self.error(
                    where,
                    f"aggregate: geometric needs judgements above 0; {panel.label(bad[0])} has "
                    f"{_num(min(given[bad[0]].values()))}; use mean or median",
                )
                return None

        def group(values: Iterable[float], value: float) -> Score:
            low_mode_high = panel.spread(list(values))
            if low_mode_high is None:
                return Score.point(value)
            low, mode, high = low_mode_high
            return Score(low, high, mode, "triangular", value)

        judged: list[panel.Judged] = []

        def record(
            judgement: panel.Judgement, declared: float | None, figures: Mapping[str, float], value: float
        ) -> None:
            if (
                declared is None
                or abs(value - declared) > 1e-12
                or any(abs(v - value) > 1e-12 for v in figures.values())
            ):
                judged.append(panel.Judged(judgement, declared, dict(figures), value))

        ids = [c.id for c in criteria]
        weights = panel.group_weights(judges, ids, how)
        if weights is not None:
            by_judge = {j.name: j.weights for j in judges if j.weights is not None}
            for c in criteria:
                record(
                    ("weight", c.id), c.weight, {name: w[c.id] for name, w in by_judge.items()}, weights[c.id]
                )
            criteria = [
                dataclasses.replace(
                    c,
                    weight=weights[c.id],
                    raw_weight=group(given.get(("weight", c.id), {}).values(), weights[c.id]),
                )
                for c in criteria
            ]
        declared = {w.id: w.probability for w in worlds}
        views = {j.name: panel.completed(j.probabilities, declared) for j in judges if j.probabilities}
        if views:
            found = panel.group_probabilities(list(views.values()), how)
            for w in worlds:
                record(
                    ("probability", w.id), w.probability, {n: v[w.id] for n, v in views.items()}, found[w.id]
                )
            worlds = [dataclasses.replace(w, probability=found[w.id]) for w in worlds]
        scored = {j[1:]: vs for j, vs in given.items() if j[0] == "score"}
        for (nid, base, cid), figures in scored.items():
            niche = next((n for n in niches if n.id == nid), None)
            level = next((lv for lv in niche.levels if lv.base == base), None) if niche else None
            before = None
            if level is not None and cid in level.scores and level.share:
                before = level.scores[cid].mean / level.share
            record(("score", nid, base, cid), before, figures, panel.combine(list(figures.values()), how))
        if scored:
            niches = [
                dataclasses.replace(
                    n,
                    levels=tuple(
                        dataclasses.replace(
                            lv,
                            scores={
                                c: (
                                    group(
                                        scored[n.id, lv.base, c].values(),
                                        panel.combine(list(scored[n.id, lv.base, c].values()), how),
                                    ).scaled(lv.share)
                                    if (n.id, lv.base, c) in scored
                                    else s
                                )
                                for c, s in lv.scores.items()
                            },
                        )
                        for lv in n.levels
                    ),
                )
                for n in niches
            ]
        return criteria, worlds, niches, judged
