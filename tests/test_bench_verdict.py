"""bench/userpath.py decides a budget by an interval, not by one noisy median."""

from __future__ import annotations

import math
import random

import pytest

from bench.userpath import median_interval


@pytest.mark.parametrize(
    ("n", "k", "coverage"),
    [(5, 1, 0.9375), (10, 2, 0.9785), (20, 6, 0.9586), (30, 10, 0.9572)],
)
def test_interval_is_the_order_statistics_of_the_sign_test(n, k, coverage):
    low, high, covered = median_interval([float(x) for x in range(n, 0, -1)])
    assert (low, high) == (float(k), float(n - k + 1))
    assert covered == pytest.approx(coverage, abs=5e-4)


def test_interval_covers_the_median_as_often_as_it_says():
    """Ratios scattered like this machine's (+-25 %) around a known median of 1.1."""
    rng = random.Random(7)
    trials, covered = 2000, 0
    for _ in range(trials):
        ratios = [1.1 * math.exp(rng.gauss(0.0, 0.12)) for _ in range(20)]
        low, high, coverage = median_interval(ratios)
        covered += low <= 1.1 <= high
    assert coverage == pytest.approx(0.9586, abs=5e-4)
    assert covered / trials == pytest.approx(coverage, abs=0.02)
