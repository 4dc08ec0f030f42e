"""The child process of `workbook_to_scenario_bounded`: workbook bytes on stdin, a pickled answer on stdout.

Run as `python -m scheduler.workbook.read_process LANG MAX_BYTES MEMORY_BYTES` (the protocol is
`scheduler.scenario.bounded`'s: memory capped, a ready byte, then the answer).
"""

from __future__ import annotations

import sys

from scheduler.scenario.bounded import serve_in_child
from scheduler.workbook.reader import read_workbook


def main(argv: list[str]) -> int:
    lang, max_bytes, memory_bytes = argv[0], int(argv[1]), int(argv[2])
    out_of_memory = (f"工作簿：读取所需内存超过上限（{memory_bytes / 1e9:.1f} GB）" if lang == "zh-CN"
                     else f"workbook: reading it needs more memory than a workbook may use ({memory_bytes / 1e9:.1f} GB)")
    return serve_in_child(lambda data: read_workbook(data, lang), max_bytes, memory_bytes, out_of_memory)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
