"""Reading, validating and writing `rota.scenario/1` files."""

from scheduler.scenario.load import load_scenario, parse_scenario, dump_scenario
from scheduler.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "parse_scenario", "dump_scenario"]
