"""keep_large_blocks: large tensors allocated and freed in a loop stop faulting their pages in afresh."""

from __future__ import annotations

import subprocess
import sys

import pytest

LOOP = """
import resource, sys, torch
if sys.argv[1] == "keep":
    from viewshift.allocator import keep_large_blocks
    assert keep_large_blocks()
for _ in range(10):  # (kept: the heap settles within the first 5)
    torch.ones(64 << 18)  # 64 MiB, above glibc's largest mmap threshold (32 MiB), freed at once
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    torch.ones(64 << 18)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", LOOP, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_kept_blocks_are_not_paged_in_again():
    # 10 blocks of 16384 pages each: every page faults once per block by default, none once the heap holds one
    assert faults("default") > 10 * 16384 * 0.9
    assert faults("keep") < 1000
