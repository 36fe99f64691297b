"""The epsilon-Bayes-Nash check of a symmetric bid function: the deterministic part (payoffs, best deviation,
paired gain). The sampling of values and rivals is in ``simulator.families.bidding.bne_check``.

A profile where every buyer bids b(v) is an epsilon-BNE when no buyer of any value gains more than epsilon
in expectation by bidding anything else (slides ``002``, "Game Within a Mechanism": b(v_i) maximises i's
expected payoff given b_{-i}). For a buyer of value v against rivals whose highest bid is T1 and second highest
T2 (one draw of the rivals' values, all bidding with the profile's bid function), a bid beta earns

    first price:  (v - beta) 1{beta > T1, beta >= r}
    all pay:      v 1{beta > T1} - beta
    third price:  (v - T2) 1{beta > T1}        (the winner pays the third-highest bid, the rivals' second)

The best deviation is searched on one sample of rivals (a grid over the relevant bids, then finer grids
around the best point), and its gain over b(v) is estimated on an independent sample, as the mean of the
paired per-draw differences with its standard error: unbiased for that deviation's true gain, which is at most
the largest possible gain at v. So the search's own overfitting does not inflate the reported gain.
"""
from __future__ import annotations

import numpy as np

from distributions.errors import InputError

KINDS = ("first-price", "all-pay", "third-price")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InputError("format", f"unknown bid format {kind!r}; allowed: {', '.join(KINDS)}")
    return kind


def payoff(kind: str, v: float, bid: float, top1: np.ndarray, top2: np.ndarray, reserve: float = 0.0) -> np.ndarray:
    """Per-draw payoff of bidding ``bid`` with value v against rivals' top bids (top1, top2); -inf = no bid."""
    if not np.isfinite(bid):
        return np.zeros(top1.shape)
    win = (bid > top1) & (bid >= reserve)
    if kind == "first-price":
        return np.where(win, v - bid, 0.0)
    if kind == "all-pay":
        return np.where(win, v, 0.0) - bid
    return np.where(win, v - np.where(np.isfinite(top2), top2, 0.0), 0.0)


def payoff_curve(kind: str, v: float, bids: np.ndarray, top1: np.ndarray, top2: np.ndarray,
                 reserve: float = 0.0) -> np.ndarray:
    """Mean payoff of each candidate bid over the rivals' draws, via the rivals sorted by T1 (O(S log S))."""
    order = np.argsort(top1, kind="stable")
    t1 = top1[order]
    wins = np.searchsorted(t1, bids, side="left")  # draws with T1 < bid
    S = float(len(t1))
    if kind == "first-price":
        out = (v - bids) * wins / S
    elif kind == "all-pay":
        out = v * wins / S - bids
    else:
        t2 = np.where(np.isfinite(top2[order]), top2[order], 0.0)
        paid = np.concatenate([[0.0], np.cumsum(t2)])
        out = (v * wins - paid[wins]) / S
    return np.where(bids >= reserve, out, 0.0 if kind != "all-pay" else -bids)


def best_deviation(kind: str, v: float, own: float, top1: np.ndarray, top2: np.ndarray, reserve: float = 0.0,
                   grid: int = 256, rounds: int = 3) -> float:
    """The bid with the largest mean payoff on this sample: a grid over [reserve, hi] (hi covers v, the own
    bid and the rivals' top bids: nothing above max T1 wins more), then ``rounds`` finer grids of the same size
    around the best point. Abstaining (no bid) is a candidate under a reserve."""
    finite = top1[np.isfinite(top1)]
    hi = max(v, own if np.isfinite(own) else 0.0, float(np.max(finite)) if finite.size else 0.0) * 1.001 + 1e-300
    lo = reserve
    cand = np.linspace(lo, hi, grid)
    best = float(cand[np.argmax(payoff_curve(kind, v, cand, top1, top2, reserve))])
    step = (hi - lo) / (grid - 1)
    for _ in range(rounds):
        cand = np.linspace(max(lo, best - step), min(hi, best + step), grid)
        best = float(cand[np.argmax(payoff_curve(kind, v, cand, top1, top2, reserve))])
        step = 2 * step / (grid - 1)
    if reserve > 0 and payoff_curve(kind, v, np.array([best]), top1, top2, reserve)[0] < 0:
        return -np.inf
    return best


def deviation_gain(kind: str, v: float, own: float, dev: float, top1: np.ndarray, top2: np.ndarray,
                   reserve: float = 0.0) -> tuple[float, float]:
    """(mean, standard error) of the paired per-draw gain payoff(dev) - payoff(own) on an evaluation sample."""
    d = payoff(kind, v, dev, top1, top2, reserve) - payoff(kind, v, own, top1, top2, reserve)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
