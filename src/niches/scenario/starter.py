"""The commented starter scenario `niches init` writes, and the schema file it writes beside it."""

SCHEMA_FILE = "niches.schema.json"
"""`niches init` writes the schema under this name next to the starter, which points editors at it."""

STARTER = """\
# yaml-language-server: $schema=./niches.schema.json
# (`niches init` wrote that file beside this one; `niches schema` prints it again)
#
# A starter scenario for `niches`. Edit it, then:
#   niches validate scenario.yaml     # check it
#   niches solve scenario.yaml        # the recommended portfolio and why
#   niches sensitivity scenario.yaml  # how fragile that is
# Every key is explained in the README; options/kazakhstan.yaml is a full example.

name: My country 2027-2029
description: Which functional niches to build up over three years.
units: USD million            # the label for all money below

periods: [2027, 2028, 2029]   # period ids (compared as text)

budget:                       # a cap per period, and `total` over all periods
  2027: 120
  2028: 140
  2029: 160
  total: 400

capacities:
  diplomats: 60               # a non-money limit; levels say how much they use

criteria:                     # what a niche is worth; weights are normalised
  relevance: 0.4
  soft_power: 0.3
  economic: [0.2, 0.4]        # a contested weight: a range (its midpoint is used)

powers: [USA, China, EU]      # whose leverage `exposure` tracks

worlds:                       # world orders; probabilities sum to 1
  rules: 0.3
  deals: 0.5
  blocs: 0.2

niches:
  mediation:
    name: Mediation platform
    levels:                   # ordered; at most one level is chosen
      host:
        cost: 10              # the same amount in every period
        scores: {relevance: 5, soft_power: 6, economic: 1}
        uses: {diplomats: 10}
      lead:
        cost: {2027: 15, 2028: 25, 2029: 30}   # or per period
        scores: {relevance: 7, soft_power: [7, 9], economic: 2}
        uses: {diplomats: 25}
    outlook: {deals: 1.3, blocs: 0.8}          # value multiplier per world
  logistics:
    name: Transit corridor    # `start: [2027, 2028]` here would let it start later (or `any`)
    levels:
      corridor:
        cost: 60
        scores: {relevance: 6, soft_power: 3, economic: {low: 4, mode: 6, high: 9}}
        uses: {diplomats: 15}
    exposure: {China: 0.4, EU: 0.3}            # share of spend that depends on a power
    synergy: {minerals: 1.0}                   # bonus when both are chosen
  minerals:
    name: Critical minerals
    cost: 50                  # a niche with one level (named `invest`)
    scores: {relevance: 7, soft_power: 2, economic: [3, 8]}
    uses: {diplomats: 10}
    exposure: {USA: 0.5, China: 0.2}
  education:
    name: Scholarships and campuses
    cost: 30
    scores: {relevance: 3, soft_power: 7, economic: 2}
    uses: {diplomats: 10}
    exposure: {USA: 0.3, EU: 0.3}

rules:
  min_niches: 2
  max_exposure: 0.45          # no power above 45% of spend-weighted exposure
  cvar_tail: 0.3
  min_cvar: 8                 # the worst 30% must still deliver (or {share: 0.8} of the best)

deals:                        # offers to fund niches, taken (or not) with them
  eu_corridor:
    partner: EU               # a power: the money it brings counts as exposure to it
    niches: [logistics]       # funds these, and is taken only with them (or `niche.level`)
    share: 0.3                # pays 30% of their cost (or `amount: 20`: per period)
    reliability: {blocs: 0.6} # may break: there, what it funds is lost with odds 40%
    value: {rules: 0.5}       # a bonus while it holds
    conditions: {excludes: [china_corridor]}   # `requires:` niches or deals
  china_corridor:
    partner: China
    niches: [logistics.corridor]
    amount: 25
    reliability: {deals: 0.9, blocs: 0.8}

objective: expected           # expected, worst_case, cvar or regret

assertions:                   # what `niches check` guards in CI
  recommend: [mediation]
  min_expected_value: 10
  max_exposure: {China: 0.45}

adapt:                        # `niches adapt`: from 2028 on the world order is known; what starts
  reveal: 2028                # before it is decided now, what starts then may differ by world
"""
