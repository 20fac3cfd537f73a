"""Keep large freed blocks in the process's heap (glibc), so that a plane sweep's tensors are not paged in afresh.

glibc's ``malloc`` gives every block above its mmap threshold (at most 32 MiB) a mapping of its own and returns it
to the system on ``free``; the next block of that size is mapped again and every one of its pages faults on first
touch. A plane sweep allocates and frees cost volumes of that size in a loop: one fused depth of a fox frame
(360×640, ``fit --frame-depths``) took 10 million page faults and 70 % of its time in the kernel (20 s; 5 s with
the blocks kept), and the geometric depth of a 640×480 frame among 13 takes 2.4 s against 4.8 s
(``bench/allocator_speed.py``). A training step is as fast either way (0.275 s against 0.266 s, same bench). The
``viewshift`` command calls :func:`keep_large_blocks` before it runs a command; a Python program using the library
can call it too. The cost is memory that is not given back while the process runs (peak resident memory of that
fused depth 1.4 → 1.8 GB).
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # <malloc.h>
M_MMAP_MAX = -4
TRIM_THRESHOLD = 1 << 30  # free memory above the heap's top given back only beyond 1 GiB


def keep_large_blocks() -> bool:
    """Tell glibc's ``malloc`` never to map a block on its own (``M_MMAP_MAX`` 0) and to keep up to 1 GiB of free
    memory at the heap's top (``M_TRIM_THRESHOLD``), for the rest of the process.

    Returns:
        True when the C library took both settings; False where there is no glibc ``mallopt`` (macOS, Windows, musl),
        which changes nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter already uses
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) & bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
