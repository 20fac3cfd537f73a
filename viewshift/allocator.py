"""Keep large freed blocks in the process's heap (glibc), so that a plane sweep's tensors are not paged in afresh.

glibc's ``malloc`` gives every block above its mmap threshold (at most 32 MiB) a mapping of its own and returns it
to the system on ``free``; the next block of that size is mapped again and every one of its pages faults on first
touch. A plane sweep allocates and frees cost volumes of that size in a loop: one fused depth of a fox frame
(360×640, ``fit --frame-depths``) took 10 million page faults and 70 % of its time in the kernel (20 s; 5 s with
the blocks kept), and the geometric depth of a 640×480 frame among 13 takes 3.6 s against 2.4 s
(``bench/allocator_speed.py``). A training step of the ``small`` nets is slower with them kept (0.25 s against
0.175 s, same bench), so the ``viewshift`` commands call :func:`keep_large_blocks` right before they sweep
(``depth`` of several frames or ``--clip``, ``render ... --clip``, ``fit --frame-depths`` after its training), not
at start-up; a Python program can call it too. The cost is memory that is not given back while the process runs
(peak resident memory of that fused depth 1.4 → 1.8 GB).
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
