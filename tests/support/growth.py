"""How a cost grows with its input: the timing of the tests that check work is linear.

CPU time of the calling thread, not wall time (on a busy machine a longer run is more often
paused for another process), the least of a few runs, without the garbage collector (its passes
over every live object would add growth of their own).
"""

import gc
import time
from collections.abc import Callable

# Linear work grows 4x when its input does, quadratic 16x: the margin is for noise
MAX_GROWTH = 6.0
# A run this long has shown how it grows
ENOUGH_S = 0.05


def cpu_cost(run: Callable[[], object], repeats: int = 3, enough_s: float = ENOUGH_S) -> float:
    """The least CPU time of this thread over ``repeats`` runs of ``run``; a run slower than
    ``enough_s`` is its own evidence and is not repeated."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.thread_time()
            run()
            best = min(best, time.thread_time() - started)
            if best > enough_s:
                break
    finally:
        gc.enable()
    return best


def growth(
    run: Callable[[object], object], make: Callable[[int], object], n: int, most: int = 10**6
) -> float:
    """How many times longer ``run`` takes on ``make(4 n)`` than on ``make(n)``, ``n`` first
    grown fourfold (4 n to at most ``most``) until a run takes long enough to time; past
    MAX_GROWTH, the lesser of that and the next step's (16 n against 4 n)."""
    while 16 * n <= most and cpu_cost(lambda size=n: run(make(size))) < ENOUGH_S / 4:
        n *= 4
    small, large = make(n), make(4 * n)
    ratio = cpu_cost(lambda: run(large)) / cpu_cost(lambda: run(small))
    if ratio <= MAX_GROWTH:
        return ratio
    # One step further before a busy moment is taken for the code's growth: what grows
    # faster than its input does so again at every size, noise seldom twice
    larger = make(16 * n)
    again = cpu_cost(lambda: run(larger)) / cpu_cost(lambda: run(large))
    return min(ratio, again)
