"""The one place for the search's cadence and step sizes (how they were chosen: bench/RESULTS.md, "Search tuning history")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchConfig:
    """How large and how long each step of the neighbourhood search is, and how often each kind comes round.

    Step size and time:
    - `max_free`: the most candidates a step frees; a larger neighbourhood is sampled down to it
      (keeping the incumbent's sessions in it), except the steps that start from another roster
      and the whole-days steps, which free exactly what they need.
    - `step_seconds`: the most one step's CP-SAT solve may take. Many small steps beat few large
      ones; a month that fits one model gains from smaller ones still (`SMALL_MONTH`).
    - `min_step_seconds`, `deadline_margin`: a step always gets at least the first and ends the
      second before the deadline; `last_step_seconds` (or `step_seconds`, if less) is the time
      left below which no step starts.

    Cadence:
    - `flow_every`: soft steps between two steps from another roster (the townships above their
      floors re-packed, else the cheapest experts for the sessions as placed). The stuck
      townships get their whole-days steps at that point and half-way to the next.
    - `repack_share`: the most of the time left that one round of re-packed townships may take.
    - `reassign_across_per_round`: how many "reassign across specialties" steps a round of soft
      steps holds (each a new random sample of the sessions placed).
    - `week_township_share`: a week step frees that week at 1/N of the townships (at least one).
    - `chains_seconds`: the most one step of augmenting chains (solver.augment) may take; it comes
      before an unmet step, once per incumbent, while coverage is above its floor.

    Whole-days and whole-township steps:
    - `whole_days_tries`: day sets tried in a row for a township the re-pack left above its floors.
    - `whole_days_max_free`: a whole-days step frees up to this many times `max_free` (a sample of
      its days would not hold the trade), else it is left out.
    - `whole_days_step_factor`: and may take this many times `step_seconds`.
    - `whole_township_sample`: a township is freed whole only where `max_free` holds at least
      1/N of its candidates (a thinner sample rarely finds a better timetable).
    """

    max_free: int = 3_000
    step_seconds: float = 1.0
    min_step_seconds: float = 0.2
    deadline_margin: float = 0.1
    last_step_seconds: float = 0.5
    flow_every: int = 8
    repack_share: float = 0.25
    reassign_across_per_round: int = 3
    week_township_share: int = 4
    chains_seconds: float = 2.0
    whole_days_tries: int = 3
    whole_days_max_free: int = 3
    whole_days_step_factor: float = 2
    whole_township_sample: int = 3


# A large month (above solver.engine.LARGE_MONTH_CANDIDATES): the defaults.
LARGE_MONTH = SearchConfig()
# A month that fits one CP-SAT model: many smaller steps.
SMALL_MONTH = SearchConfig(max_free=1_000, step_seconds=0.3, chains_seconds=0.5)
