"""Monte Carlo of the bid formats (``mechanisms.bidding``): values drawn as everywhere else (v(q), q uniform),
turned into equilibrium bids, and the format's ex-post rule (``BidFormat.outcome``) run on the bids, beside
second price (same reserve) on the same values, so that ``DrawResult.paired`` gives the paired revenue
difference and the two revenue variances (revenue equivalence: same mean, different spread).

Two ways to draw a market (as in ``docs/architecture.md``, "Two ways to draw a market"):

* **profile** (n <= ``PROFILE_MAX_N``): all n quantiles of an auction, every buyer bids.
* **orderstat**: only the order statistics the rule reads, exactly in distribution:
  q_(1) = -expm1(log(U_1)/n), then q_(k+1) = q_(k) + (1 - q_(k)) (-expm1(log(U)/(n-k))) (the smallest of the
  n-k others, uniform above q_(k)). First price reads the top two (the second for second price), third price
  the top three. All pay needs every bid: the sweep goes on while q_(k) <= q_cut, q_cut = (log n + 37)/(n-1);
  every buyer above it bids at most b(q_cut) <= exp(-(n-1) q_cut) E[Y], so the bids left out sum to at most
  n e^{-(log n + 37)} E[Y] = e^{-37} E[Y] ~ 1e-16 E[Y] per auction (reported as a note), about log n + 37
  draws per auction at any n.

Several buyer classes (first price only, ``simulate_classes``, ``classes_bne_check``): each class's top two
values are drawn as order statistics, first price reads each class's top (``AsymmetricFirstPrice
.outcome_of_values``), second price the top two across classes, on the same draws.

Bids at sampled quantiles come from ``equilibrium.ChebTable`` (first price, all pay; accurate to 1e-12 of the
largest bid) or the closed form (third price). Heavy tails: welfare and surplus contain the top value (no
finite variance for a tail index a <= 2); first-price and all-pay revenue are bounded by E[Y]; the third-price
payment b(v_(3)) ~ v_(3)^(1+a) has tail index 3a/(1+a).
"""
from __future__ import annotations

import math

import numpy as np

from distributions.errors import InputError
from distributions.tails import tail_index

#: largest n drawn in profile mode (every buyer's value and bid), and the largest that ``auto`` draws so
PROFILE_MAX_N = 1000
AUTO_PROFILE_N = 64
MODES = ("auto", "profile", "orderstat")
METRICS = ("revenue", "surplus", "welfare", "sold")
#: most buyer values handled at once in profile mode (memory)
BLOCK_VALUES = 1 << 21
#: the bid tables end at q = TABLE_TOP; the lowest values (probability 1e-6 each) bid through the quadrature
TABLE_TOP = 1.0 - 1e-6
#: e^{-SWEEP_MARGIN} bounds the all-pay bids left out by the sweep, relative to E[Y]
SWEEP_MARGIN = 37.0


def check_mode(mode: str, n) -> str:
    """``auto`` -> profile for n <= AUTO_PROFILE_N, else orderstat; profile above PROFILE_MAX_N is an error."""
    if mode not in MODES:
        raise InputError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    if mode == "auto":
        return "profile" if float(n) <= AUTO_PROFILE_N else "orderstat"
    if mode == "profile" and float(n) > PROFILE_MAX_N:
        raise InputError("mode", f"profile mode draws every buyer: n = {float(n):g} > {PROFILE_MAX_N}; use orderstat")
    return mode


def top_quantiles(rng, size: int, n, k: int) -> np.ndarray:
    """The k smallest of n uniform quantiles, shape (size, k), increasing along a row (module doc)."""
    n = float(n)
    out = np.empty((size, k))
    prev = np.zeros(size)
    for j in range(k):
        u = 1.0 - rng.random(size)  # (0, 1]
        prev = prev + (1.0 - prev) * -np.expm1(np.log(u) / (n - j))
        out[:, j] = prev
    return out


def sweep_quantiles(rng, size: int, n, q_cut: float, at_least: int = 0) -> np.ndarray:
    """Every order statistic of n uniform quantiles up to q_cut, and the first ``at_least`` of them in any case
    (a third-price format run beside all pay reads the top three), shape (size, K), +inf past the last one."""
    n = float(n)
    cols, prev = [], np.zeros(size)
    live = np.ones(size, dtype=bool)
    j = 0
    while (np.any(live) or j < at_least) and j < n:
        u = 1.0 - rng.random(size)
        nxt = prev + (1.0 - prev) * -np.expm1(np.log(u) / (n - j))
        live &= nxt <= q_cut
        cols.append(np.where(live | (j < at_least), nxt, np.inf))
        prev, j = nxt, j + 1
    return np.column_stack(cols) if cols else np.full((size, 1), np.inf)


def sweep_cut(n) -> float:
    """q_cut = (log n + SWEEP_MARGIN) / (n - 1), at most 1."""
    n = float(n)
    return min(1.0, (math.log(n) + SWEEP_MARGIN) / (n - 1.0))


def bid_function(fmt, market):
    """q -> equilibrium bids (-inf: no bid) for sampled quantiles: the tabulated first-price / all-pay bid, or
    the third-price closed form. Quantiles below the table's end 1e-20/n are never drawn (a draw is >= 1e-16/n)."""
    from mechanisms.bidding import equilibrium as eq
    from mechanisms.bidding.formats import AllPay, FirstPrice

    dist = fmt.dist_of(market)
    n = float(market.n)
    N = eq.rivals(n)
    if not isinstance(fmt, (FirstPrice, AllPay)) or N == 0.0:
        return lambda q: fmt.bid_q(market, q)
    r = fmt.reserve if isinstance(fmt, FirstPrice) else 0.0
    q_r = float(np.clip(dist.sf(r), 0.0, 1.0)) if r > 0 else 1.0
    if q_r <= 0.0:
        return lambda q: np.full(np.shape(q), -np.inf)
    t_lo = math.log(max(eq.Q_FLOOR, 1e-20 / n))
    q_top = min(q_r, TABLE_TOP)
    brk = [math.log(p) for p in eq.kinks_q(dist) if p < q_top]
    table = eq.ChebTable(lambda t: eq.first_price_bid(dist, n, r, np.exp(t)), t_lo, math.log(q_top), brk)

    def first(q):
        q = np.asarray(q, dtype=float)
        out = table(np.log(np.maximum(q, eq.Q_FLOOR)))
        low = q > q_top  # the lowest values: bid directly (b is not smooth in log q at q = 1)
        if np.any(low):
            out[low] = eq.first_price_bid(dist, n, r, q[low])
        return out
    if isinstance(fmt, FirstPrice):
        return first
    return lambda q: np.exp(N * np.log1p(-np.asarray(q, dtype=float))) * first(q)


def _draw(formats, market, mode: str, rng, size: int) -> np.ndarray:
    """The quantiles of one block of auctions, one draw for every format: (size, n) in profile mode, otherwise
    the top ones that the formats read (all pay: the sweep; third price: three; else two)."""
    from mechanisms.bidding.formats import AllPay, ThirdPrice

    n = market.n
    if mode == "profile":
        return 1.0 - rng.random((size, int(n)))
    top = int(min(n, 3 if any(isinstance(f, ThirdPrice) for f in formats) else 2))
    if any(isinstance(f, AllPay) for f in formats):
        q = sweep_quantiles(rng, size, n, sweep_cut(n), top if top > 2 else 0)
        if q.shape[1] < 2:
            q = np.column_stack([q, np.full(size, np.inf)])
        return q
    return top_quantiles(rng, size, n, top)


def _block(formats, market, mode: str, bids_of, rng, size: int) -> dict:
    """Per-draw metrics of every format (its rule on its bids) and of second price with each format's reserve,
    all on the same values: one draw (and in profile mode one ranking) serves every format."""
    from mechanisms.auctions import SecondPrice
    from mechanisms.bidding.equilibrium import value_curve

    v = value_curve(market.dist)
    q = _draw(formats, market, mode, rng, size)
    drawn = np.isfinite(q)
    rows = np.arange(size)
    out, welfare_at = {}, {}
    for fmt, bid in zip(formats, bids_of):
        bids = np.full(q.shape, -np.inf)
        bids[drawn] = bid(q[drawn])
        win, revenue = fmt.outcome(bids)
        sold = win >= 0
        q_win = q[rows, np.maximum(win, 0)]
        welfare = np.where(sold, np.asarray(v(np.where(sold, q_win, 1.0)), dtype=float), 0.0)
        out[fmt.name] = {"revenue": revenue, "surplus": welfare - revenue, "welfare": welfare, "sold": sold * 1.0}
        welfare_at.setdefault(fmt.reserve, welfare)  # equilibrium bidding is efficient above the reserve
    for reserve, welfare in welfare_at.items():
        out[SecondPrice(reserve).name] = _second_price(market.dist, v, reserve, q, welfare)
    return out


def _second_price(dist, v, reserve: float, q: np.ndarray, welfare: np.ndarray) -> dict:
    """Second price with the reserve on the same quantiles: the top value above the reserve wins and pays
    max(second value, reserve)."""
    two = np.partition(q, 1, axis=1)[:, :2] if q.shape[1] > 1 else np.column_stack([q[:, 0], np.full(len(q), np.inf)])
    q_r = float(np.clip(dist.sf(reserve), 0.0, 1.0)) if reserve > 0 else 1.0
    sold = np.isfinite(two[:, 0]) & (np.minimum.reduce(two, axis=1) <= q_r)
    second = np.where(np.isfinite(two[:, 1]), np.asarray(v(np.minimum(np.max(two, axis=1), 1.0)), float), 0.0)
    second = np.where(two[:, 1] <= q_r, second, 0.0)
    revenue = np.where(sold, np.maximum(second, reserve), 0.0)
    return {"revenue": revenue, "surplus": welfare - revenue, "welfare": welfare, "sold": sold * 1.0}


def as_formats(fmt) -> list:
    """A bid format, or several (their names distinct), as a list."""
    formats = list(fmt) if isinstance(fmt, (list, tuple)) else [fmt]
    names = [f.name for f in formats]
    if not formats or len(set(names)) != len(names):
        raise InputError("formats", f"expected one or more different bid formats, got {names}")
    return formats


def make_outcome(fmt, market, mode: str = "auto"):
    """``outcome(rng, size)`` for ``simulator.core.draws.simulate_draws`` (module doc) of a format or a list of
    formats on the same draws; profile blocks hold at most ``BLOCK_VALUES`` values."""
    formats = as_formats(fmt)
    for f in formats:
        f.dist_of(market)
    mode = check_mode(mode, market.n)
    bids_of = [bid_function(f, market) for f in formats]
    rows = max(1, BLOCK_VALUES // int(market.n)) if mode == "profile" else 1 << 16

    def outcome(rng, size: int) -> dict:
        parts = [_block(formats, market, mode, bids_of, rng, min(rows, size - i)) for i in range(0, size, rows)]
        return {name: {k: np.concatenate([p[name][k] for p in parts]) for k in METRICS} for name in parts[0]}

    return outcome, mode


def heavy_notes(fmt, market) -> dict:
    """mechanism -> metric -> why the normal CI is not valid (module doc), only where one is not."""
    from mechanisms.auctions import SecondPrice
    from mechanisms.bidding.formats import ThirdPrice

    out = {}
    for f in as_formats(fmt):
        alpha, n = tail_index(f.dist_of(market)), float(market.n)
        tails = {"welfare": alpha, "surplus": alpha}
        fmt_rev = 3 * alpha / (1 + alpha) if isinstance(f, ThirdPrice) else math.inf
        for name, rev in ((f.name, fmt_rev), (SecondPrice(f.reserve).name, 2 * alpha if n > 1 else math.inf)):
            notes = {k: f"infinite variance: tail index {t:.3g} <= 2" for k, t in dict(tails, revenue=rev).items()
                     if t <= 2.0 + 1e-9}
            if notes:
                out[name] = notes
    return out


def exact_values(fmt, market) -> dict:
    """mechanism -> metric -> exact value, each format's (from its bid function) and second price's."""
    from mechanisms.auctions import SecondPrice

    out = {}
    for f in as_formats(fmt):
        for name, ex in ((f.name, f.exact(market)), (SecondPrice(f.reserve).name,
                                                     SecondPrice(f.reserve).exact(market))):
            out[name] = {"revenue": ex.revenue, "surplus": ex.surplus, "welfare": ex.welfare, "sold": ex.sold}
    return out


def simulate_bidding(fmt, market, samples: int, seed: int = 0, mode: str = "auto", confidence: float = 0.95,
                     chunk: int = 1 << 16, progress: bool = False):
    """Simulate a bid format, or several on the same draws, beside second price with each format's reserve: a
    ``DrawResult`` (exact values attached; notes for heavy tails and for the all-pay sweep's truncation);
    ``paired`` gives any two formats' difference on the same draws (revenue equivalence)."""
    from mechanisms.bidding.formats import AllPay
    from simulator.core.draws import simulate_draws

    formats = as_formats(fmt)
    outcome, mode = make_outcome(formats, market, mode)
    notes = heavy_notes(formats, market)
    title = f"{', '.join(f.name for f in formats)}, n = {float(market.n):g}, {market.dist.spec} ({mode})"
    if any(isinstance(f, AllPay) for f in formats) and mode == "orderstat":
        title += f"; bids above q = {sweep_cut(market.n):.3g} left out: at most e^-37 E[Y] per auction"
    return simulate_draws(outcome, samples=samples, seed=seed, exact=exact_values(formats, market),
                          confidence=confidence, chunk=chunk, progress=progress, notes=notes, title=title)


def rival_top_bids(fmt, market, bid, mode: str, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(T1, T2): the highest and second-highest bid of a buyer's n - 1 rivals, ``size`` draws. ``bid`` maps
    values to bids (None: the format's equilibrium). Profile mode bids for every rival; orderstat mode bids for
    the top two rival values only, so it assumes ``bid`` is non-decreasing."""
    from mechanisms.bidding.equilibrium import value_curve

    dist = market.dist
    N = int(float(market.n) - 1) if float(market.n) < 2 ** 53 else float(market.n)
    if N == 0:
        return np.full(size, -np.inf), np.full(size, -np.inf)
    if mode == "profile":
        q = 1.0 - rng.random((size, int(N)))
    else:
        q = top_quantiles(rng, size, N, min(2, int(min(N, 2))))
    if bid is None:
        bids = bid_function(fmt, market)(q)
    else:
        values = np.asarray(value_curve(dist)(q), dtype=float).reshape(q.shape)
        bids = np.asarray(bid(values), dtype=float).reshape(q.shape)
    if bids.shape[1] == 1:
        return bids[:, 0], np.full(size, -np.inf)
    two = -np.partition(-bids, 1, axis=1)[:, :2]
    return two[:, 0], two[:, 1]


def bne_check(fmt, market, bid=None, values: int = 32, rivals: int = 20000, seed: int = 0, mode: str = "auto",
              grid: int = 256, confidence: float = 0.95) -> dict:
    """The epsilon-BNE check of ``bid`` (values -> bids; None: the format's equilibrium) when every buyer uses
    it (``mechanisms.bidding.bne_check``): for ``values`` sampled values, the best deviation found against one
    sample of ``rivals`` draws and its paired gain on an independent sample of the same size.

    Returns {"rows": per value (value, bid, deviation, gain, stderr, z), "largest": the row with the largest
    estimated gain with its CI at ``confidence`` and a Bonferroni CI over the values (level 1 - (1-c)/values),
    "significant": whether that Bonferroni CI lies above 0}."""
    from mechanisms.bidding import bne_check as bc

    kind = bc.check_kind(fmt.name.split(":")[0])
    dist = fmt.dist_of(market)
    mode = check_mode(mode, float(market.n) - 1 if float(market.n) > 1 else 1)
    root = np.random.SeedSequence(seed)
    draw_rng, search_rng, eval_rng = (np.random.default_rng(s) for s in root.spawn(3))
    v = np.sort(np.asarray(dist.v(1.0 - draw_rng.random(values)), dtype=float))
    own = fmt.bid(market, v) if bid is None else np.asarray(bid(v), dtype=float).reshape(v.shape)
    s1, s2 = rival_top_bids(fmt, market, bid, mode, search_rng, rivals)
    e1, e2 = rival_top_bids(fmt, market, bid, mode, eval_rng, rivals)
    rows = []
    for vi, bi in zip(v, own):
        dev = bc.best_deviation(kind, float(vi), float(bi), s1, s2, fmt.reserve, grid)
        gain, err = bc.deviation_gain(kind, float(vi), float(bi), dev, e1, e2, fmt.reserve)
        rows.append({"value": float(vi), "bid": float(bi), "deviation": float(dev), "gain": gain, "stderr": err,
                     "z": gain / err if err > 0 else 0.0})
    return dict({"format": fmt.name, "n": market.n, "mode": mode, "values": values, "rivals": rivals, "seed": seed,
                 "confidence": confidence, "rows": rows}, **largest_gain(rows, confidence))


def largest_gain(rows: list, confidence: float) -> dict:
    """{"largest": the row with the largest estimated gain with its CI at ``confidence`` and a Bonferroni CI
    over all rows (level 1 - (1-c)/len(rows)), "significant": whether that Bonferroni CI lies above 0}."""
    from scipy import stats

    top = max(rows, key=lambda r: r["gain"])
    zc = float(stats.norm.ppf(0.5 + confidence / 2))
    zb = float(stats.norm.ppf(1 - (1 - confidence) / (2 * len(rows))))
    largest = dict(top, ci_low=top["gain"] - zc * top["stderr"], ci_high=top["gain"] + zc * top["stderr"],
                   bonferroni_low=top["gain"] - zb * top["stderr"], bonferroni_high=top["gain"] + zb * top["stderr"])
    return {"largest": largest, "significant": bool(largest["bonferroni_low"] > 0)}


# --- several buyer classes: first price (``mechanisms.bidding.asymmetric``) beside second price --------------

def class_tops(market, rng, size: int) -> list[np.ndarray]:
    """Per class k, the values of its top min(2, n_k) buyers, shape (size, 1 or 2), decreasing along a row
    (``top_quantiles``: exact in distribution; values v_k(q))."""
    out = []
    for c in market.classes:
        q = top_quantiles(rng, size, c.count, min(2, int(min(float(c.count), 2))))
        out.append(np.asarray(c.dist.v(q), dtype=float).reshape(q.shape))
    return out


def classes_second_price(reserve: float, tops: list[np.ndarray]) -> dict:
    """Second price with reserve r on the drawn values: the highest value >= r wins and pays max(second highest
    value, r); only the top two values across the classes matter. Metrics as ``AsymmetricFirstPrice.outcome``."""
    size = len(tops[0])
    allv = np.column_stack(tops + [np.full(size, -np.inf)] * 2)
    owner = np.concatenate([np.full(t.shape[1], k) for k, t in enumerate(tops)] + [[-1, -1]])
    order = np.argsort(-allv, axis=1, kind="stable")[:, :2]
    rows = np.arange(size)
    first, second = allv[rows, order[:, 0]], allv[rows, order[:, 1]]
    sold = first >= reserve
    pay = np.where(sold, np.maximum(np.where(np.isfinite(second), second, 0.0), reserve), 0.0)
    welfare = np.where(sold, first, 0.0)
    out = {"revenue": pay, "welfare": welfare, "surplus": welfare - pay, "sold": sold * 1.0}
    winner = owner[order[:, 0]]
    for k in range(len(tops)):
        mine = sold & (winner == k)
        out[f"win[{k + 1}]"] = mine * 1.0
        out[f"surplus[{k + 1}]"] = np.where(mine, welfare - pay, 0.0)
    return out


def classes_exact(fpa, spa, market) -> dict:
    """mechanism -> metric -> exact value: ``AsymmetricFirstPrice.exact_metrics`` and second price's
    ``exact`` with its per-class rows (win probability, class surplus)."""
    ex = spa.exact(market)
    second = {"revenue": ex.revenue, "welfare": ex.welfare, "surplus": ex.surplus, "sold": ex.sold}
    for k, row in enumerate(ex.per_class):
        second[f"win[{k + 1}]"], second[f"surplus[{k + 1}]"] = row["win_probability"], row["surplus"]
    return {fpa.name: fpa.exact_metrics(market), spa.name: second}


def simulate_classes(market, reserve=None, samples: int = 100_000, seed: int = 0, confidence: float = 0.95,
                     chunk: int = 1 << 16, progress: bool = False):
    """First price in the asymmetric equilibrium beside second price (same reserve) on the same draws, for a
    market of several buyer classes: a ``DrawResult`` with revenue, welfare, surplus, sold, win[k], surplus[k] and
    their exact values (``classes_exact``); ``paired("fpa", "spa", "revenue")`` is the revenue difference that
    asymmetry opens (``004`` remark after Proposition 5.2)."""
    from mechanisms.auctions import SecondPrice
    from mechanisms.bidding.asymmetric import AsymmetricFirstPrice
    from simulator.core.draws import simulate_draws

    fpa = AsymmetricFirstPrice(reserve)
    spa = SecondPrice(fpa.reserve or 0.0)
    exact = classes_exact(fpa, spa, market)

    def outcome(rng, size: int) -> dict:
        tops = class_tops(market, rng, size)
        return {fpa.name: fpa.outcome_of_values(market, [t[:, 0] for t in tops]),
                spa.name: classes_second_price(spa.reserve, tops)}

    title = f"{fpa.name} vs {spa.name}, classes {market.label}"
    return simulate_draws(outcome, samples=samples, seed=seed, exact=exact, confidence=confidence, chunk=chunk,
                          progress=progress, title=title)


def classes_rival_top(market, k: int, bids, rng, size: int) -> np.ndarray:
    """T1: the highest bid of a class-k buyer's rivals (the n_k - 1 others of class k and every buyer of the
    other classes), ``size`` draws; ``bids[j]`` maps class j's values to bids. Only each class's top rival value
    is drawn (``top_quantiles``), so the bid functions are assumed non-decreasing."""
    top = np.full(size, -np.inf)
    for j, c in enumerate(market.classes):
        count = float(c.count) - (1.0 if j == k else 0.0)
        if count < 1:
            continue
        v = np.asarray(c.dist.v(top_quantiles(rng, size, count, 1)[:, 0]), dtype=float)
        top = np.maximum(top, np.asarray(bids[j](v), dtype=float).reshape(size))
    return top


def classes_bne_check(market, reserve=None, bid=None, values: int = 32, rivals: int = 20000, seed: int = 0,
                      grid: int = 256, confidence: float = 0.95) -> dict:
    """The epsilon-BNE check of first price with several buyer classes (``mechanisms.bidding.bne_check``): for
    ``values`` sampled values of each class k, the best deviation against one sample of ``rivals`` draws of the
    rivals' highest bid (the other classes bidding with their own bid functions) and its paired gain on an
    independent sample. ``bid``: None (the asymmetric equilibrium β_k, ``AsymmetricFirstPrice``), one function
    of the value for every class, or a sequence of one per class. Rows as ``bne_check`` plus "class"; the
    Bonferroni correction runs over all classes' values."""
    from mechanisms.bidding import bne_check as bc
    from mechanisms.bidding.asymmetric import AsymmetricFirstPrice

    fpa = AsymmetricFirstPrice(reserve)
    K = len(market.classes)
    if bid is None:
        eq = fpa.solve(market)
        bids = [lambda v, k=k: eq.bid(k, v) for k in range(K)]
    else:
        fpa.solve(market)  # the same checks of the market as the equilibrium's
        bids = list(bid) if isinstance(bid, (list, tuple)) else [bid] * K
        if len(bids) != K:
            raise InputError("bid", f"expected one bid function per class ({K}), got {len(bids)}")
    r = fpa.reserve or 0.0
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3 * K)]
    rows = []
    for k, c in enumerate(market.classes):
        draw_rng, search_rng, eval_rng = streams[3 * k:3 * k + 3]
        v = np.sort(np.asarray(c.dist.v(1.0 - draw_rng.random(values)), dtype=float))
        own = np.asarray(bids[k](v), dtype=float).reshape(v.shape)
        s1 = classes_rival_top(market, k, bids, search_rng, rivals)
        e1 = classes_rival_top(market, k, bids, eval_rng, rivals)
        none = np.full(rivals, -np.inf)
        for vi, bi in zip(v, own):
            dev = bc.best_deviation("first-price", float(vi), float(bi), s1, none, r, grid)
            gain, err = bc.deviation_gain("first-price", float(vi), float(bi), dev, e1, none, r)
            rows.append({"class": k + 1, "value": float(vi), "bid": float(bi), "deviation": float(dev),
                         "gain": gain, "stderr": err, "z": gain / err if err > 0 else 0.0})
    return dict({"format": fpa.name, "classes": market.label, "values": values, "rivals": rivals, "seed": seed,
                 "confidence": confidence, "rows": rows}, **largest_gain(rows, confidence))
