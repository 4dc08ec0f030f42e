"""The child process of `bounded.parse_scenario_bounded`: scenario bytes on stdin, a pickled answer on stdout.

Run as `python -m scheduler.scenario.parse_process SOURCE MAX_BYTES MEMORY_BYTES`; it caps its own address
space first, so a memory bomb ends in a MemoryError answer (or the kernel's refusal), never in the service.
"""

from __future__ import annotations

import sys

from scheduler.scenario.bounded import serve_in_child
from scheduler.scenario.load import parse_scenario


def main(argv: list[str]) -> int:
    source, max_bytes, memory_bytes = argv[0], int(argv[1]), int(argv[2])
    return serve_in_child(
        lambda data: parse_scenario(data, source=source, max_bytes=max_bytes),
        max_bytes,
        memory_bytes,
        f"{source} needs more memory to read than a scenario may use ({memory_bytes / 1e9:.1f} GB)",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
