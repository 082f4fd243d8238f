"""The source's claims as experiments: when does meta-learning beat transfer learning?

The source asserts that meta-learning helps "especially when data is scarce or tasks are
dissimilar" and that transfer learning "may need more data and compute". Each benchmark module
trains its learners once and measures all three claims on fixed, seeded tasks:

- :mod:`.sinusoid`: MAML against fine-tuning and a linear probe of one pretrained network;
- :mod:`.glyphs`: Prototypical Networks and MAML against fine-tuning and a linear probe.

:func:`.cached.cached_claims` runs either at a named size through the result cache (the book's
notebooks and ``mtl-tutorial claims`` share it). :mod:`.verdicts` turns per-task scores into the
verdicts the book asserts, and :mod:`.seeds` judges them over several training seeds;
:mod:`.distance` measures how far test tasks lie from the training tasks.
"""

from .cached import cached_claims, run_claims
from .distance import class_distance, script_distance, sinusoid_distance
from .glyphs import glyph_claims, merge_classes, script_classes
from .plots import plot_claim, plot_cost, plot_seed_advantages
from .report import (
    CLAIMS,
    Verdict,
    claim_ends,
    claim_table,
    cost_table,
    judge,
    judge_all,
    overall_side,
    result_rows,
    verdict_rows,
    verdict_table,
)
from .results import ClaimResults, geometric_checkpoints
from .seeds import TRAINING_SEEDS, SeedVerdict, judge_seeds, seed_verdict_rows, seed_verdict_table
from .sinusoid import ridge_penalty_sweep, sinusoid_claims, sinusoid_scores
from .sizes import SIZES, ClaimsSize
from .verdicts import Change, advantage, change_in_advantage, crossings, margin, side

__all__ = [
    "CLAIMS",
    "SIZES",
    "TRAINING_SEEDS",
    "SeedVerdict",
    "ClaimsSize",
    "Verdict",
    "judge",
    "judge_all",
    "judge_seeds",
    "Change",
    "ClaimResults",
    "advantage",
    "cached_claims",
    "claim_ends",
    "change_in_advantage",
    "claim_table",
    "cost_table",
    "class_distance",
    "crossings",
    "geometric_checkpoints",
    "glyph_claims",
    "margin",
    "merge_classes",
    "overall_side",
    "plot_claim",
    "plot_cost",
    "plot_seed_advantages",
    "result_rows",
    "ridge_penalty_sweep",
    "run_claims",
    "script_classes",
    "script_distance",
    "seed_verdict_rows",
    "seed_verdict_table",
    "side",
    "sinusoid_distance",
    "verdict_rows",
    "verdict_table",
    "sinusoid_claims",
    "sinusoid_scores",
]
