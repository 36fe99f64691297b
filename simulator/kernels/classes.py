"""Markets of several buyer classes: the draw of a chunk and the outcome of score auctions on it (issue 14).

A market holds K classes, class k with n_k i.i.d. buyers of distribution F_k (``distributions.Market.of``).
Every mechanism on such a market is described ex post as an m-unit *score auction* (``mechanisms.classes``'s
``ClassRule``): per class k a participation quantile r_k (a buyer with quantile q > r_k abstains), a score
sigma_k(q) non-increasing in her quantile (the value for second-price, the ironed virtual value for Myerson:
textbook ``004_...`` Prop. 5.3), pools (lo, hi] where sigma_k is flat and ties are broken at random, and
threshold_k(t) = the lowest value of class k with score >= t. The highest scores win; payments follow the DSIC
payment identity (``docs/architecture.md``, "Ex-post rules") with the bids replaced by scores:

* group the participants into levels of equal score (across classes), highest first, and fill the m slots;
  T = the first level that does not win entirely, c its size (c_k of class k), s = m - (winners above T);
* a class-k member of T wins with probability s / c and pays W0_k = threshold_k(score_T) (the bid of her
  class's pool at that score when there is one);
* a class-k winner above T pays W1_k - (W1_k - W0_k)(s + 1)/(c + 1), W1_k = the lowest value of class k with a
  score > score_T (the next value above her class's pool at score_T, else W0_k): lowering her report into T she
  would win with probability (s + 1)/(c + 1), below it never;
* both are at least reserve_k (``ClassScore.reserve``: what a class-k winner who meets no competition pays,
  threshold_k(-inf)); with at most m participants every winner pays her class's reserve.

Only the W of the classes that pay them are computed: a pool's bid and next, her own value v(q) when T is a
lone buyer of the same class (the score is strictly decreasing off the pools), else threshold_k(score_T), each
distinct score once per chunk. A payment that comes out infinite or NaN (a threshold inconsistent with the
scores) stops the run with a ``FloatingPointError`` naming the class: no NaN reaches an estimate.

The metrics of one auction are conditional expectations over the random tie-break and over where the members
of a pool lie inside it (their scores are equal; given the count they are i.i.d. uniform on the pool), hence
unbiased: revenue, buyers' surplus, welfare, units sold, and per class the surplus and the expected number of
units won (the probability that the class wins, for one unit).

Two draws of the same market, exact in law (``docs/architecture.md``, "Two ways to draw a market"):

* profile mode draws all n_k quantiles of every class (a uniform each) and keeps per class the
  min(M + 1, n_k) smallest and the count of every cell of the class's pool partition: cost O(sum n_k);
* order-statistic mode draws per class only those smallest quantiles and the counts of the cells that the
  listed buyers' pools reach (``orderstat.draw_market``: sequential minima and binomials in float n): the
  cost is independent of every n_k (n_k = 1e30 costs what 10 costs).

The classes are then merged by score. A chunk is a pure function of (its xoshiro256+ state, size, plan):
``classes_chunk``; same seed, same numbers. The draw, the level walk, the prices and the metrics are numba
kernels; the scores, values and thresholds are the mechanisms' vectorised Python functions, called once per
chunk on arrays. Order-statistic mode runs ~0.7-1.0 M auctions/s with two classes on this 2-core machine
(one class, ``kernels.orderstat``: ~5 M/s), the same at n_k = 10 and 1e30.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

import distributions.kernels
import distributions.kinds
from distributions.errors import InputError, InputTypeError
from mechanisms.rule import QuantileRule

from . import compiled, jitcache, orderstat, profile, rng, samplers
from .compiled import compile_rules
from .orderstat import cell_layout, draw_market
from .profile import METRICS, cell_of, insert_top
from .samplers import next_uniform

jitcache.register(__file__, [distributions.kernels, distributions.kinds, rng, compiled, profile, samplers,
                             orderstat])

def metric_names(n_classes: int) -> tuple[str, ...]:
    """revenue, surplus, welfare, sold, surplus[1..K] (each class's buyers' surplus), win[1..K] (the expected
    units each class wins: for one unit, the probability that the class wins)."""
    return (METRICS + tuple(f"surplus[{k + 1}]" for k in range(n_classes))
            + tuple(f"win[{k + 1}]" for k in range(n_classes)))


# ---------------------------------------------------------------------- the plan (Python)
@dataclass(frozen=True)
class ClassPart:
    """One class as one score auction sees it: participation quantile r, reserve payment, the score sigma(q),
    the threshold t -> lowest value with score >= t, the value v(q), and its pools (lo, hi] with their score,
    bid (lowest value), next (lowest value above) and mean value (V(hi) - V(lo)) / (hi - lo)."""

    r: float
    reserve: float
    score: object
    threshold: object
    value: object
    pool_lo: np.ndarray
    pool_hi: np.ndarray
    pool_score: np.ndarray
    pool_bid: np.ndarray
    pool_next: np.ndarray
    pool_mean: np.ndarray


@dataclass(frozen=True)
class Component:
    """A score auction of m units run with probability ``prob`` as part of mechanism ``mechanism``; its classes'
    pools laid end to end (class k: pool_start[k] .. pool_start[k+1]-1) and reserves, for ``level_prices``."""

    m: int
    prob: float
    mechanism: int
    parts: tuple

    def __post_init__(self):
        cat = lambda name: np.ascontiguousarray(np.concatenate([getattr(p, name) for p in self.parts]))  # noqa
        object.__setattr__(self, "pool_start", np.cumsum([0] + [p.pool_lo.size for p in self.parts]))
        object.__setattr__(self, "pool_score", cat("pool_score"))
        object.__setattr__(self, "pool_bid", cat("pool_bid"))
        object.__setattr__(self, "pool_next", cat("pool_next"))
        object.__setattr__(self, "reserve", np.array([p.reserve for p in self.parts], dtype=np.float64))


@dataclass(frozen=True)
class ClassesPlan:
    """What a chunk reads: the classes' counts, the components of all mechanisms, per class the merged pool
    cells of all its components (a ``CompiledRules`` whose pools are that class's pools, for the draw)."""

    counts: tuple
    components: tuple
    cells: tuple
    units: int
    n_mechanisms: int

    @property
    def metrics(self) -> tuple[str, ...]:
        return metric_names(len(self.counts))


def _array(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(-1))


def _pools(score_class, dist, score, threshold):
    """The pools of a class description as arrays (lo, hi, score, bid, next): ``pools`` of
    ``mechanisms.classes.rule.Pool`` (q_lo, q_hi, score, bid, next), or bare (lo, hi) rows, whose score is
    sigma(hi), bid threshold(score) and next v(lo) (the lowest value above the pool; inf at lo = 0)."""
    rows = list(getattr(score_class, "pools", None) or ())
    lo = _array([p[0] for p in rows])
    hi = _array([p[1] for p in rows])
    if rows and all(len(p) >= 5 for p in rows):
        return lo, hi, _array([p[2] for p in rows]), _array([p[3] for p in rows]), _array([p[4] for p in rows])
    pool_score = score(hi) if rows else np.zeros(0)
    with np.errstate(all="ignore"):
        nxt = np.where(lo > 0, np.asarray(dist.v(np.maximum(lo, 1e-300)), dtype=float), math.inf)
        bid = threshold(pool_score) if rows else np.zeros(0)
    return lo, hi, _array(pool_score), _array(bid), _array(nxt)


def _vectorised(f):
    """A scalar-or-array function as one that takes and returns float64 arrays."""
    def call(x):
        x = np.asarray(x, dtype=np.float64)
        return np.broadcast_to(np.asarray(f(x), dtype=np.float64), x.shape).astype(np.float64)
    return call


def class_part(score_class, dist) -> ClassPart:
    """A ``mechanisms.classes.rule.ClassScore`` (``r``, ``score``, ``pools``, ``threshold_value``, ``reserve``)
    of the class with distribution ``dist``, as the kernels read it (module doc). Without ``reserve`` a lone
    winner pays threshold_value(-inf)."""
    r = float(score_class.r)
    score = _vectorised(score_class.score)
    threshold = _vectorised(score_class.threshold_value)
    lo, hi, pool_score, bid, nxt = _pools(score_class, dist, score, threshold)
    if np.any(hi <= lo) or np.any(lo[1:] < hi[:-1]) or (lo.size and (lo[0] < 0 or hi[-1] > r + 1e-15)):
        raise InputError("pools", "a class's pools must be disjoint, sorted, non-empty intervals inside [0, r]")
    reserve = getattr(score_class, "reserve", None)
    if reserve is None:
        reserve = float(threshold(np.array([-math.inf]))[0])
    with np.errstate(all="ignore"):  # the mean value on a pool; v at its middle when it is too thin to difference
        mean = (np.asarray(dist.V(hi), float) - np.asarray(dist.V(lo), float)) / (hi - lo) if lo.size else lo
        thin = (hi - lo) < 1e-8 * hi
        if thin.any():
            mean = np.where(thin, np.asarray(dist.v(0.5 * (lo + hi)), float), mean)
    return ClassPart(r, float(reserve), score, threshold, _vectorised(dist.v), lo, hi, pool_score, bid, nxt,
                     _array(mean))


def _components(rule):
    """(probability, score auction) pairs of a rule: a ``ClassRule``, or a mixture (``probs``, ``rules``)."""
    if hasattr(rule, "classes"):
        return [(1.0, rule)]
    if hasattr(rule, "probs") and hasattr(rule, "rules"):
        out = []
        for p, sub in zip(rule.probs, rule.rules):
            out += [(float(p) * q, r) for q, r in _components(sub)]
        return out
    raise InputTypeError("rule", f"a market of several classes needs score auctions (ClassRule), got "
                                 f"{type(rule).__name__}")


def compile_classes(rules, market) -> ClassesPlan:
    """The plan of a run: the components of every mechanism's rule (each a ClassRule or a mixture of them) for
    the market's classes, and per class the merged cells of its pools (``compiled.compile_rules``)."""
    classes = market.classes
    comps = []
    for k, rule in enumerate(rules):
        for prob, sub in _components(rule):
            if len(sub.classes) != len(classes):
                raise InputError("rule", f"expected one score per class ({len(classes)}), got {len(sub.classes)}")
            parts = tuple(class_part(sc, bc.dist) for sc, bc in zip(sub.classes, classes))
            comps.append(Component(int(sub.m), prob, k, parts))
    units = max(c.m for c in comps)
    cells = []
    for k in range(len(classes)):
        cells.append(compile_rules([QuantileRule(c.m, c.parts[k].r, 0.0, c.parts[k].pool_lo, c.parts[k].pool_hi,
                                                 c.parts[k].pool_lo, c.parts[k].pool_lo) for c in comps]))
    counts = tuple(bc.count for bc in classes)
    return ClassesPlan(counts, tuple(comps), tuple(cells), units, len(rules))


# ---------------------------------------------------------------------- the draw (numba)
@numba.njit(cache=True, inline="always")
def profile_draw(st, n, top, cap, cnt, bounds, pooled_top):
    """All n quantiles of a class (uniforms from ``st``): the cap smallest into ``top`` (sorted), the count of
    each pool cell into ``cnt``."""
    for t in range(cap):
        top[t] = 2.0
    for c in range(cnt.shape[0]):
        cnt[c] = 0.0
    nb = bounds.shape[0]
    for i in range(n):
        u = next_uniform(st)
        if u < top[cap - 1]:
            insert_top(top, cap, u)
        if u <= pooled_top:
            c = cell_of(bounds, nb, u)
            cnt[c] += 1.0


@numba.njit(cache=True, inline="always")
def class_items(top, cap, cnt, r, m, p0, p1, pool_lo, pool_hi, cell_first, cell_last, out_q, out_pool, out_cnt, j, a):
    """The class's bidders as component j sees them in auction a, highest first, until they hold more than m
    buyers: a listed buyer in no pool is an item of one (out_pool -1); a pool holding listed buyers is one item
    (its index among the component's pools p0..p1-1, its whole count). The rest of the m + 1 slots get count 0."""
    width = out_q.shape[2]
    idx = 0
    items = 0
    total = 0.0
    p = p0
    while idx < cap and top[idx] <= r and total <= m and items < width:
        u = top[idx]
        while p < p1 and pool_hi[p] < u:
            p += 1
        out_q[j, a, items] = u
        if p < p1 and pool_lo[p] < u:
            c = 0.0
            for cell in range(cell_first[p], cell_last[p] + 1):
                c += cnt[cell]
            out_pool[j, a, items] = p - p0
            out_cnt[j, a, items] = c
            while idx < cap and top[idx] <= pool_hi[p]:
                idx += 1
        else:
            out_pool[j, a, items] = -1
            out_cnt[j, a, items] = 1.0
            idx += 1
        total += out_cnt[j, a, items]
        items += 1
    for i in range(items, width):
        out_q[j, a, i] = 1.0
        out_pool[j, a, i] = -1
        out_cnt[j, a, i] = 0.0


@numba.njit(cache=True)
def draw_items(st, size, n, orderstat_mode, cells, m_max, q_out, pool_out, cnt_out):
    """``size`` auctions' draws of one class from ``st`` (advanced in place), as the items of every component
    (``class_items``): q_out, pool_out, cnt_out of shape (components, size, m_max + 1). A class is drawn by
    ``profile_draw`` or by ``orderstat.draw_market`` (without pool members: every pool is one item)."""
    cap = int(min(m_max + 1.0, n))
    top = np.empty(cap)
    bounds = cells.cell_bounds
    cnt = np.zeros(bounds.shape[0] + 1)
    cell_hi, reach, _keys = cell_layout(cells)
    perm = np.empty(cap, dtype=np.int64)
    mem = np.zeros((cnt.shape[0], 0))
    pooled_top = cells.pooled_top
    r, m, pool_start = cells.r, cells.m, cells.pool_start
    pool_lo, pool_hi, first, last = cells.pool_lo, cells.pool_hi, cells.pool_cell_first, cells.pool_cell_last
    whole = 0 if orderstat_mode else int(n)
    for a in range(size):
        if orderstat_mode:
            draw_market(st, n, top, cap, cnt, mem, mem, bounds, bounds.shape[0], cell_hi, reach, perm, 0,
                        pooled_top, False)
        else:
            profile_draw(st, whole, top, cap, cnt, bounds, pooled_top)
        for j in range(m.shape[0]):
            class_items(top, cap, cnt, r[j], m[j], pool_start[j], pool_start[j + 1], pool_lo, pool_hi, first, last,
                        q_out, pool_out, cnt_out, j, a)


# ---------------------------------------------------------------------- the merge by score (numba)
@numba.njit(cache=True)
def level_walk(score, cnt, val, m, out_t, out_s, out_c, out_item, above, above_val, in_t, in_t_val):
    """Merge the classes' items (score, count, value sum; shape (K, size, L), each class's items highest score
    first) into levels of equal score and fill m slots (module doc). Per auction: the score of T (out_t; -inf
    when every participant wins), s, c, the item k L + i that joined T last; per class the buyers above T and
    their values, its members of T and theirs."""
    n_classes, size, width = score.shape
    head = np.zeros(n_classes, dtype=np.int64)
    for a in range(size):
        for k in range(n_classes):
            head[k] = 0
            above[k, a] = 0.0
            above_val[k, a] = 0.0
            in_t[k, a] = 0.0
            in_t_val[k, a] = 0.0
        filled = 0.0
        out_t[a] = -math.inf
        out_s[a] = 0.0
        out_c[a] = 0.0
        while True:
            level = -math.inf
            for k in range(n_classes):
                if head[k] < width and cnt[k, a, head[k]] > 0.0 and score[k, a, head[k]] > level:
                    level = score[k, a, head[k]]
            if level == -math.inf:
                break
            c = 0.0
            for k in range(n_classes):
                while head[k] < width and cnt[k, a, head[k]] > 0.0 and score[k, a, head[k]] == level:
                    in_t[k, a] += cnt[k, a, head[k]]
                    in_t_val[k, a] += val[k, a, head[k]]
                    c += cnt[k, a, head[k]]
                    out_item[a] = k * width + head[k]
                    head[k] += 1
            if filled + c > m:
                out_t[a] = level
                out_s[a] = m - filled
                out_c[a] = c
                break
            for k in range(n_classes):
                above[k, a] += in_t[k, a]
                above_val[k, a] += in_t_val[k, a]
                in_t[k, a] = 0.0
                in_t_val[k, a] = 0.0
            filled += c


@numba.njit(cache=True)
def level_prices(level, s, c, item, val, above, in_t, pool_start, pool_score, pool_bid, pool_next, w0, w1, ask):
    """W0, W1 of each class against T (module doc) where it pays them: a pool of the class at T's score gives its
    bid and next; T a lone buyer of the same class (off the pools the score is strictly decreasing) her value
    v(q) twice; otherwise ``ask`` (threshold(score of T), a Python function: ``chunk_metrics``)."""
    n_classes, size, width = val.shape
    for a in range(size):
        for k in range(n_classes):
            ask[k, a] = False
            w0[k, a] = math.nan
            w1[k, a] = math.nan
            if c[a] == 0.0 or not (above[k, a] > 0.0 or (in_t[k, a] > 0.0 and s[a] > 0.0)):
                continue
            found = False
            for p in range(pool_start[k], pool_start[k + 1]):
                if pool_score[p] == level[a]:
                    w0[k, a] = pool_bid[p]
                    w1[k, a] = pool_next[p]
                    found = True
                    break
            if found:
                continue
            if c[a] == 1.0 and item[a] // width == k:
                w0[k, a] = w1[k, a] = val[k, a, item[a] % width]
            else:
                ask[k, a] = True


@numba.njit(cache=True)
def assemble(s, c, above, above_val, in_t, in_t_val, w0, w1, reserve, out):
    """The metrics of each auction (``metric_names`` order) into out (G, size): a class-k winner above T pays
    W1 - (W1 - W0)(s + 1)/(c + 1), a member of T wins w.p. s / c and pays W0 (both at least reserve_k); with no
    T every winner pays reserve_k. Surplus = welfare - revenue, per class too."""
    n_classes, size = above.shape
    for a in range(size):
        has_t = c[a] > 0.0
        share = s[a] / c[a] if has_t else 0.0
        keep = (s[a] + 1.0) / (c[a] + 1.0) if has_t else 0.0
        revenue = 0.0
        welfare = 0.0
        sold = 0.0
        for k in range(n_classes):
            lo = max(w0[k, a], reserve[k])
            hi = max(w1[k, a], reserve[k])
            pay = 0.0
            if above[k, a] > 0.0:
                pay += above[k, a] * ((hi - (hi - lo) * keep) if has_t else reserve[k])
            if in_t[k, a] > 0.0 and share > 0.0:
                pay += share * in_t[k, a] * lo
            wins = above[k, a] + share * in_t[k, a]
            value = above_val[k, a] + (share * in_t_val[k, a] if share > 0.0 else 0.0)
            out[4 + k, a] = value - pay
            out[4 + n_classes + k, a] = wins
            revenue += pay
            welfare += value
            sold += wins
        out[0, a] = revenue
        out[1, a] = welfare - revenue
        out[2, a] = welfare
        out[3, a] = sold


# ---------------------------------------------------------------------- a chunk
def _item_scores(part: ClassPart, q, pool, cnt, gen):
    """Scores and value sums of one class's items: sigma(q) and v(q) for a single buyer, the pool's score and
    count x mean value for a pool (the members' values given the count: unbiased); -inf and 0 for empty slots.
    A pool whose mean value is infinite (a tail index <= 1 reaching q = 0) takes count x v(U) instead, U uniform
    on the pool from ``gen`` (the chunk's generator): still unbiased, and finite on every draw."""
    single = (pool < 0) & (cnt > 0)
    pooled = pool >= 0
    score = np.full(q.shape, -math.inf)
    val = np.zeros(q.shape)
    if single.any():
        score[single] = part.score(q[single])
        val[single] = part.value(q[single])
    if pooled.any():
        score[pooled] = part.pool_score[pool[pooled]]
        mean = part.pool_mean[pool[pooled]]
        wild = ~np.isfinite(mean)
        if wild.any():
            p = pool[pooled][wild]
            lo, hi = part.pool_lo[p], part.pool_hi[p]
            mean[wild] = part.value(hi - (hi - lo) * gen.random(p.size))  # U in (lo, hi]
        val[pooled] = cnt[pooled] * mean
    return score, val


def component_metrics(comp: Component, q, pool, cnt, gen):
    """The metrics (metric_names order, shape (G, size)) of one component on a chunk's items (arrays
    (K, size, L)): scores (Python), ``level_walk``, ``level_prices``, the thresholds it asks for (Python, each
    distinct score once), ``assemble``."""
    n_classes, size, _ = q.shape
    score, val = np.empty(q.shape), np.empty(q.shape)
    for k, part in enumerate(comp.parts):
        score[k], val[k] = _item_scores(part, q[k], pool[k], cnt[k], gen)
    level, s, c, item = np.empty(size), np.empty(size), np.empty(size), np.zeros(size, dtype=np.int64)
    above, above_val, in_t, in_t_val, w0, w1 = (np.empty((n_classes, size)) for _ in range(6))
    ask = np.empty((n_classes, size), dtype=np.bool_)
    level_walk(score, cnt, val, float(comp.m), level, s, c, item, above, above_val, in_t, in_t_val)
    level_prices(level, s, c, item, val, above, in_t, comp.pool_start, comp.pool_score, comp.pool_bid,
                 comp.pool_next, w0, w1, ask)
    for k, part in enumerate(comp.parts):
        rows = np.flatnonzero(ask[k])
        if rows.size:
            levels, back = np.unique(level[rows], return_inverse=True)
            w0[k, rows] = w1[k, rows] = part.threshold(levels)[back]
    out = np.empty((4 + 2 * n_classes, size))
    assemble(s, c, above, above_val, in_t, in_t_val, w0, w1, comp.reserve, out)
    if not np.isfinite(out).all():  # every value drawn is finite (q >= 2^-53), so is every payment
        k = int(np.flatnonzero((~np.isfinite(out[4:4 + n_classes])).any(axis=1))[0])
        bad = float(level[~np.isfinite(out[4 + k])][0])
        paid = float(comp.parts[k].threshold(np.array([bad]))[0])
        raise FloatingPointError(f"class {k + 1}'s threshold_value({bad!r}) = {paid!r}: a winner above a level at "
                                 f"that score would pay it, but her own value scores higher (the rule's description "
                                 f"of class {k + 1} is inconsistent)")
    return out


def chunk_metrics(state, size: int, plan: ClassesPlan, orderstat_mode: bool) -> np.ndarray:
    """The per-auction metrics (G metrics, K mechanisms, size) of one chunk from the xoshiro256+ ``state`` (not
    modified): classes drawn in order, each for all ``size`` auctions, then every component on the same draws."""
    st = np.array(state, dtype=np.uint64)
    n_comp = len(plan.components)
    width = plan.units + 1
    q = np.empty((len(plan.counts), n_comp, size, width))
    pool = np.empty(q.shape, dtype=np.int64)
    cnt = np.empty(q.shape)
    for k, (n, cells) in enumerate(zip(plan.counts, plan.cells)):
        draw_items(st, size, float(n), orderstat_mode, cells, float(plan.units), q[k], pool[k], cnt[k])
    gen = np.random.default_rng([int(w) for w in st])  # the stream's state after the draws: same seed, same numbers
    out = np.zeros((len(plan.metrics), plan.n_mechanisms, size))
    for j, comp in enumerate(plan.components):
        L = comp.m + 1
        out[:, comp.mechanism] += comp.prob * component_metrics(comp, q[:, j, :, :L], pool[:, j, :, :L],
                                                                cnt[:, j, :, :L], gen)
    return out


def classes_chunk(state, size: int, plan: ClassesPlan, orderstat_mode: bool):
    """One chunk as a pure function: (mean (G, K), co-moments (G, K, K)) of ``size`` auctions, like
    ``profile.profile_chunk``."""
    x = chunk_metrics(state, int(size), plan, orderstat_mode)
    mean = x.mean(axis=2)
    d = x - mean[:, :, None]
    return mean, np.einsum("gks,gjs->gkj", d, d)


def classes_batch(states, sizes, plan: ClassesPlan, orderstat_mode: bool):
    """Chunks b = 0..B-1 in order: means (B, G, K), co-moments (B, G, K, K)."""
    pairs = [classes_chunk(states[b], sizes[b], plan, orderstat_mode) for b in range(len(sizes))]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
