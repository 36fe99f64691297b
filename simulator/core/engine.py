"""``simulate``: the estimation loop over chunks (``docs/architecture.md`` "Statistics", "Two ways to draw a market").

A run of S auctions is cut into chunks whose boundaries depend only on (S, n) (``ChunkPlan``; on S alone in
order-statistic mode); chunk i draws from the stream of ``SeedSequence(seed, spawn_key=(i,))``
(``kernels/rng.py``) and is summarised by a pure function (``kernels.profile.profile_chunk``; in order-statistic mode
``kernels.orderstat.orderstat_chunk``, which draws only the top order statistics and pool counts, at a cost
independent of n). A backend maps a batch of chunks to their summaries; the summaries are merged in chunk order
(``accumulate.py``). Between batches the loop checks the precision target, updates the progress bar and lets
Ctrl-C stop the run with the chunks merged so far (``partial``). Same seed => same numbers, whatever the
threads or the backend.

The run is about one ``distributions.Market``; what is known about it exactly comes from the mechanisms
(``Mechanism.exact(market)``, ``mechanisms.benchmarks.all_benchmarks``, cached by market value): the engine
computes no exact value of its own.
"""
from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
import warnings as pywarnings
from dataclasses import dataclass

import numpy as np

from distributions import Market
from distributions.errors import InputError, InputTypeError
from mechanisms.benchmarks import all_benchmarks
from mechanisms.ironing import UnboundedError
from mechanisms.rule import MixtureRule, QuantileRule

from ..kernels import jitcache, rng
from .accumulate import Moments
from ..kernels.compiled import compile_rules, distinct_rules
from .diagnostics import MIN_CI_SAMPLES, ci_note, ci_warnings, tail_index
from ..kernels.orderstat import orderstat_batch, orderstat_chunk
from ..kernels.profile import METRICS, profile_batch, profile_chunk
from .result import SimulationResult, z_value

#: profile mode costs O(n) per auction; beyond this the order-statistic mode is the tool
PROFILE_MAX_N = 10 ** 9
MODES = ("auto", "profile", "orderstat")
#: mode="auto" draws order statistics above this many buyers (and for any n beyond the exact ints of a float)
AUTO_ORDERSTAT_N = 1000
#: an order-statistic auction costs about this many profile-mode buyer values (ChunkPlan's n in that mode)
ORDERSTAT_COST = 32
#: mode -> (chunk kernel, batch kernel), both f(state(s), size(s), rules, kind, params, n)
KERNELS = {"profile": (profile_chunk, profile_batch), "orderstat": (orderstat_chunk, orderstat_batch)}
#: target size of a chunk (buyer values) and the least number of chunks of a run (for the threads)
CHUNK_VALUES = 1 << 20
MIN_CHUNKS = 64
#: work per parallel call (buyer values, plus a per-auction overhead): first batch, then doubling to the cap;
#: at least MIN_BATCH_CHUNKS chunks per call (a constant, not the thread count: stopping points stay the same)
BATCH_WORK_FIRST = 1 << 23
BATCH_WORK_MAX = 1 << 28
AUCTION_OVERHEAD = 64
MIN_BATCH_CHUNKS = 8


# ---------------------------------------------------------------------- mechanisms
@dataclass
class Entry:
    """One mechanism of a run: display name, compiled-to rule, units, and the Mechanism object if any."""

    name: str
    rule: QuantileRule | MixtureRule
    m: int
    mechanism: object = None


def _units(rule) -> int:
    return max(_units(r) for r in rule.rules) if isinstance(rule, MixtureRule) else rule.m  # or a ClassRule's m


def resolve_mechanisms(mechanisms, market: Market) -> list[Entry]:
    """Mechanism objects (``.name``, ``.rule(market)``, ``.units(market)``, ``.exact(market)``), spec strings
    (``mechanisms.parse_mechanism``), bare ``QuantileRule`` / ``MixtureRule`` objects (on several classes: score
    auctions with ``m`` and ``classes``, ``mechanisms.classes.rule.ClassRule``), or (name, any of those) pairs, as
    run entries with unique names."""
    if isinstance(mechanisms, (str, QuantileRule, MixtureRule)) or hasattr(mechanisms, "rule") \
            or hasattr(mechanisms, "classes"):
        mechanisms = [mechanisms]
    entries: list[Entry] = []
    for i, item in enumerate(mechanisms):
        name = None
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, item = item
        if isinstance(item, str):
            item = _parse_mechanism(item, market)
        if isinstance(item, (QuantileRule, MixtureRule)) or hasattr(item, "classes"):  # or a score auction
            entries.append(Entry(name or f"rule{i + 1}", item, _units(item)))
        elif callable(getattr(item, "rule", None)):
            rule = item.rule(market)
            units = item.units(market) if callable(getattr(item, "units", None)) else _units(rule)
            entries.append(Entry(name or str(getattr(item, "name", f"mechanism{i + 1}")), rule, int(units), item))
        else:
            raise InputTypeError("mechanism", f"cannot simulate {item!r}; give a spec string, a Mechanism or a rule")
    if not entries:
        raise InputError("mechanism", "give at least one mechanism")
    seen: dict[str, int] = {}
    for e in entries:
        seen[e.name] = seen.get(e.name, 0) + 1
        if seen[e.name] > 1:
            e.name = f"{e.name}#{seen[e.name]}"
    return entries


def _parse_mechanism(spec: str, market: Market):
    from mechanisms import parse_mechanism

    return parse_mechanism(spec, market)


@contextlib.contextmanager
def _quiet_numerics():
    """Exact values of distributions without a finite mean overflow on the way to inf: no RuntimeWarnings."""
    with pywarnings.catch_warnings(), np.errstate(all="ignore"):
        pywarnings.simplefilter("ignore", RuntimeWarning)
        yield


#: an exact value that is genuinely unavailable for the market (no closed form, an unbounded optimum, a market
#: the mechanism does not apply to): skipped with a warning. Any other exception is a bug and propagates.
UNAVAILABLE = (NotImplementedError, UnboundedError, InputError)


def _unavailable(what: str, exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else repr(exc)
    return f"{what} unavailable: {text}"


def exact_values(entries: list[Entry], market: Market, warnings: list[str], metrics=METRICS) -> dict:
    """Exact revenue, surplus, welfare and units sold of each mechanism: ``Mechanism.exact(market)`` (its own
    units, ``Mechanism.units``), None where unknown. A bare rule has none (it knows no market). Several classes:
    also the per-class metrics the Exact carries (``exact_metric``)."""
    out = {}
    for e in entries:
        out[e.name] = {}
        if e.mechanism is None or not hasattr(e.mechanism, "exact"):
            continue
        try:
            with _quiet_numerics():
                ex = e.mechanism.exact(market)
        except NotImplementedError:  # no exact form: nothing to report (as before)
            continue
        except UNAVAILABLE as exc:
            warnings.append(_unavailable(f"exact values of {e.name}", exc))
            continue
        out[e.name] = {m: _finite_or_none(exact_metric(ex, m)) for m in metrics}
    return out


#: per-class metric -> its key in a row of ``mechanisms.classes.exact.ClassesExact.per_class``
PER_CLASS_KEY = {"surplus": "surplus", "win": "win_probability"}


def exact_metric(ex, metric: str):
    """One metric of an ``Exact``: an attribute (revenue, surplus, welfare, sold), or for several classes
    surplus[k] / win[k] (k from 1) from row k of its ``per_class`` (the class's surplus and the probability that
    it wins, i.e. its expected units) when it has one; None otherwise."""
    name, bracket, index = metric.partition("[")
    if not bracket:
        return getattr(ex, metric, None)
    rows = getattr(ex, "per_class", None) or ()
    k = int(index.rstrip("]")) - 1
    return rows[k].get(PER_CLASS_KEY.get(name, "")) if k < len(rows) else None


def benchmark_values(units: set[int], market: Market, warnings: list[str]) -> dict:
    """OPT, Pi*, U* (``mechanisms.benchmarks.all_benchmarks``, cached by market value) of the market with each
    number of units in the run."""
    out = {}
    for m in sorted(units):
        try:
            with _quiet_numerics():
                values = all_benchmarks(market.with_units(m))
        except UNAVAILABLE as exc:
            warnings.append(_unavailable(f"benchmarks for m = {m}", exc))
            continue
        out[m] = {key: _finite_or_none(value) for key, value in values.items()}
    return out


def _finite_or_none(x):
    """x as a float (+inf kept: an infinite expectation is printed as infinite), None for None or NaN."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


# ---------------------------------------------------------------------- chunks and backends
@dataclass(frozen=True)
class ChunkPlan:
    """Chunk boundaries of a run of ``samples`` auctions of n buyers: a function of (samples, n) only.
    Chunks hold ``per_chunk`` auctions (about CHUNK_VALUES values, and at least MIN_CHUNKS chunks when
    samples allow), the last one the rest. Batches (between precision checks) start at BATCH_WORK_FIRST and
    double up to BATCH_WORK_MAX, with at least MIN_BATCH_CHUNKS chunks."""

    samples: int
    n: int

    @property
    def per_chunk(self) -> int:
        return max(1, min(-(-CHUNK_VALUES // self.n), -(-self.samples // MIN_CHUNKS)))

    @property
    def n_chunks(self) -> int:
        return -(-self.samples // self.per_chunk)

    def sizes(self, first: int, count: int) -> np.ndarray:
        start = np.arange(first, first + count, dtype=np.int64) * self.per_chunk
        return np.minimum(start + self.per_chunk, self.samples) - start

    def batches(self):
        """(first chunk, number of chunks) of each batch, in order."""
        work_per_chunk = self.per_chunk * (self.n + AUCTION_OVERHEAD)
        first, work = 0, BATCH_WORK_FIRST
        while first < self.n_chunks:
            count = min(max(MIN_BATCH_CHUNKS, work // work_per_chunk), self.n_chunks - first)
            yield first, count
            first += count
            work = min(2 * work, BATCH_WORK_MAX)


def _threads_backend(states, sizes, rules, kind, params, n, mode="profile"):
    return KERNELS[mode][1](states, sizes, rules, kind, params, n)


def _serial_backend(states, sizes, rules, kind, params, n, mode="profile"):
    chunk = KERNELS[mode][0]
    pairs = [chunk(states[b], sizes[b], rules, kind, params, n) for b in range(len(sizes))]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


#: backend name -> f(states (B, 4) uint64, sizes (B,) int64, rules tuple, kind, params, n) -> (means, comoments);
#: order-statistic mode calls it with mode="orderstat" too (n then a float), so a backend that runs that mode
#: takes a ``mode`` keyword (``KERNELS``; chunk kernel "simulator.kernels.orderstat:orderstat_chunk")
BACKENDS = {"threads": _threads_backend, "serial": _serial_backend}
#: backends in modules of their own, imported on use: ``open_backend(client=, scheduler=)`` returns such an f,
#: which may carry ``plan`` (a ChunkPlan subclass: its own chunk sizes) and ``close()``
SCALE_OUT = {"dask": "simulator.backends.dask_backend", "cuda": "simulator.backends.cuda_backend"}


def _open_backend(backend: str, client, scheduler):
    if backend in SCALE_OUT:
        import importlib

        return importlib.import_module(SCALE_OUT[backend]).open_backend(client=client, scheduler=scheduler)
    if client is not None or scheduler is not None:
        raise InputError("scheduler", f"client= and scheduler= need backend='dask', got backend={backend!r}")
    return BACKENDS[backend]


# ---------------------------------------------------------------------- validation
def _check_market(market) -> Market:
    """The market of a run: a ``distributions.Market`` (validated there; one class of i.i.d. buyers, or several:
    ``simulate_classes``). A bare distribution or spec string is refused: it has no n."""
    if not isinstance(market, Market):
        raise InputTypeError("market", f"expected a Market, got {type(market).__name__} {market!r}; "
                                       "use Market.iid(dist, n)")
    return market


def _check_seed(seed) -> int:
    """The seed of a run: an int >= 0 (numpy integers too; not a bool or a float); None draws a fresh one."""
    if seed is None:
        return rng.fresh_seed()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputTypeError("seed", f"expected an integer >= 0, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise InputError("seed", f"expected an integer >= 0, got {seed}")
    return int(seed)


def _profile_n(n) -> int:
    """n in profile mode, which draws every buyer: at most PROFILE_MAX_N (the Market checked the rest)."""
    if n > PROFILE_MAX_N:
        raise InputError("n", f"profile mode draws every buyer and takes n <= {PROFILE_MAX_N:.0e}, got {n:g}; "
                         "larger markets need --mode orderstat (or auto)")
    return int(n)


def _kernel_n(mode: str, n):
    """The number of buyers as the kernels of ``mode`` take it: an int in profile mode, a float (1e30 allowed)
    in order-statistic mode."""
    return _profile_n(n) if mode == "profile" else float(n)


def _check_mode(mode: str, n, orderstat_ok: bool = True) -> str:
    """The mode of a run: "auto" is order-statistic mode when n > AUTO_ORDERSTAT_N or n >= 2^53 (not an exact
    int), if the backend runs it (``orderstat_ok``: it takes mode=), else profile mode. Checks n for it."""
    if mode not in MODES:
        raise InputError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    if mode == "auto":
        big = n > AUTO_ORDERSTAT_N or n >= 2.0 ** 53
        mode = "orderstat" if big and (orderstat_ok or n > PROFILE_MAX_N) else "profile"
    if mode == "orderstat" and not orderstat_ok:
        raise InputError("mode", "this backend runs profile mode only; use mode profile or backend threads")
    _kernel_n(mode, n)
    return mode


def _takes_mode(run_batch) -> bool:
    """Whether a backend accepts mode= (and so runs the order-statistic kernels)."""
    import inspect

    try:
        params = inspect.signature(run_batch).parameters
    except (TypeError, ValueError):
        return False
    return "mode" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _check_args(samples, precision, confidence, backend) -> int:
    if isinstance(samples, float) and samples.is_integer():
        samples = int(samples)
    if not isinstance(samples, (int, np.integer)) or isinstance(samples, bool) or samples <= 0:
        raise InputError("samples", f"expected a whole number of auctions > 0, got {samples!r}")
    if precision is not None and not (0.0 < float(precision) < 1.0):
        raise InputError("precision", f"expected a relative CI half-width in (0, 1), got {precision!r}")
    if not (0.0 < float(confidence) < 1.0):
        raise InputError("confidence", f"expected a level in (0, 1), got {confidence!r}")
    if backend not in BACKENDS and backend not in SCALE_OUT:
        raise InputError("backend", f"expected one of {', '.join([*BACKENDS, *SCALE_OUT])}, got {backend!r}")
    return int(samples)


class _CtrlC:
    """Turns Ctrl-C (SIGINT) into a flag checked between batches, so that a numba call in flight finishes and
    the run stops with the chunks merged so far (a signal arriving inside a nopython call would otherwise
    surface as a SystemError). Only in the main thread; elsewhere KeyboardInterrupt is caught as usual."""

    def __init__(self):
        self.hit = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.hit = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _progress_bar(progress, total: int):
    from tqdm import tqdm

    enabled = sys.stderr.isatty() if progress is None else bool(progress)
    return tqdm(total=total, unit=" auctions", unit_scale=True, disable=not enabled, delay=1.0, leave=False,
                file=sys.stderr, dynamic_ncols=True)


# ---------------------------------------------------------------------- the loop
def simulate(mechanisms, market: Market, *, samples: int = 1_000_000, seed: int | None = 0,
             precision: float | None = None, confidence: float = 0.95, mode: str = "auto", backend: str = "threads",
             progress=None, exact: bool = True, benchmarks: bool = True, client=None, scheduler: str | None = None
             ) -> SimulationResult:
    """Monte Carlo estimates of revenue, buyers' surplus, welfare and units sold of every mechanism on the
    same draws of the i.i.d. buyers of ``market`` (a market of several buyer classes: ``simulate_classes``, the
    same arguments, plus per-class metrics).

    mechanisms: spec strings, Mechanism objects, QuantileRule/MixtureRule, or (name, any of those) pairs; a
    Mechanism sells its own units (``Mechanism.units(market)``), and its exact values and the benchmarks come
    from ``mechanisms`` (``Mechanism.exact(market)``, ``benchmarks.all_benchmarks``).
    market: a ``distributions.Market`` (``Market.iid(dist, n)``; a bare distribution is refused). The other
    arguments are keywords only.
    samples: number of auctions (the cap when ``precision`` is set).
    seed: int >= 0 (None draws one, recorded in the result). precision: stop once the CI half-width of every
    revenue estimate is below ``precision`` times the estimate (checked between batches). mode: "profile"
    (draw all n values; n <= 1e9), "orderstat" (``kernels.orderstat``: only the top order statistics and pool
    counts, so an auction costs the same at n = 10 and n = 1e30) or "auto" (orderstat above n = 1000).
    backend: "threads" (numba prange), "serial", "dask" (``backends.dask_backend``: on the cluster of
    ``client``, a distributed.Client, or of ``scheduler``, "tcp://host:port"; same numbers as the threads) or
    "cuda" (``backends.cuda_backend``: numba.cuda kernels, their own random streams and chunks). progress:
    None = a tqdm bar on stderr when it is a terminal and the run is long. Ctrl-C returns the estimates of the
    chunks done so far, with ``partial`` set.
    """
    start_time = time.perf_counter()
    samples = _check_args(samples, precision, confidence, backend)
    market = _check_market(market)
    if not market.is_iid:  # several buyer classes: score auctions (``kernels.classes``)
        return simulate_classes(mechanisms, market, samples=samples, seed=seed, precision=precision,
                                confidence=confidence, mode=mode, backend=backend, progress=progress, exact=exact,
                                benchmarks=benchmarks, client=client, scheduler=scheduler)
    dist, n = market.dist, market.n
    _check_mode(mode, n)  # bad mode or n: fail before any work
    entries = resolve_mechanisms(mechanisms, market)
    seed = _check_seed(seed)

    distinct, index = distinct_rules([e.rule for e in entries])  # each distinct rule runs once
    rules = compile_rules(distinct)  # ``CompiledRules``: the named tuple of arrays every backend hands to its kernels
    kind, params = dist.numba_spec()
    jitcache.refresh_all()  # stale numba caches of edited kernel sources go before the first call
    run_batch = _open_backend(backend, client, scheduler)
    try:
        mode = _check_mode(mode, n, _takes_mode(run_batch))
    except InputError:
        getattr(run_batch, "close", lambda: None)()
        raise
    n_kernel = _kernel_n(mode, n)
    mode_kw = {} if mode == "profile" else {"mode": mode}  # profile-only backends are called as before
    plan = getattr(run_batch, "plan", ChunkPlan)(samples, n_kernel if mode == "profile" else ORDERSTAT_COST)
    moments = Moments.empty(len(METRICS), len(entries))
    warnings: list[str] = []
    zcrit = z_value(confidence)
    alpha = tail_index(dist)  # the rows' ci_valid / ci_note and these warnings: one rule (``diagnostics``)
    checked = precision_rows(alpha, n_kernel, [e.m for e in entries])
    moments, partial = run_chunks(plan, lambda states, sizes: spread_columns(
                                      run_batch(states, sizes, rules, kind, params, n_kernel, **mode_kw), index),
                                  seed, moments, (precision, zcrit, checked), progress,
                                  getattr(run_batch, "close", lambda: None))
    warnings += run_warnings(moments, partial, samples, (precision, zcrit, checked))
    warnings[:0] = ci_warnings(alpha, n_kernel, {e.name: e.m for e in entries}, moments.count)
    analytic = exact_values(entries, market, warnings) if exact else {}
    bench = benchmark_values({e.m for e in entries}, market, warnings) if benchmarks else {}
    return SimulationResult(distribution=market.label, n=n, seed=seed, mechanisms=[e.name for e in entries],
                            units=[e.m for e in entries], moments=moments, confidence=confidence, mode=mode,
                            samples_requested=samples, analytic=analytic, benchmarks=bench, partial=partial,
                            warnings=warnings, elapsed=time.perf_counter() - start_time, tail_index=alpha)


def spread_columns(summaries, index: np.ndarray):
    """(means (B, 4, K'), co-moments (B, 4, K', K')) of the distinct rules -> those of the K mechanisms, mechanism
    k reading distinct rule index[k] (``compiled.distinct_rules``)."""
    means, comoments = summaries
    if len(index) == means.shape[2] and np.array_equal(index, np.arange(len(index))):
        return means, comoments
    return means[:, :, index], comoments[:, :, index][:, :, :, index]


def run_chunks(plan: ChunkPlan, run_batch, seed: int, moments: Moments, target, progress, close=lambda: None):
    """The loop over the batches of ``plan``: chunk states from ``seed``, ``run_batch(states, sizes) -> (means,
    comoments)``, merged in chunk order into ``moments``; stops at the precision target ``target`` = (precision
    or None, zcrit, checked rows) or at Ctrl-C (then partial). Returns (moments, partial)."""
    precision, zcrit, checked = target
    samples = plan.samples
    partial = False
    bar = _progress_bar(progress, samples)
    try:
        with _CtrlC() as ctrl_c:
            for first, count in plan.batches():
                states = rng.chunk_states(seed, first, count)
                sizes = plan.sizes(first, count)
                means, comoments = run_batch(states, sizes)
                moments = moments.merged(sizes, means, comoments)  # one assignment: Ctrl-C leaves it whole
                bar.update(int(sizes.sum()))
                if ctrl_c.hit:
                    raise KeyboardInterrupt
                if precision is not None and _precise(moments, zcrit, precision, checked):
                    break
    except KeyboardInterrupt:
        partial = moments.count < samples
    finally:
        bar.close()
        close()
    return moments, partial


def run_warnings(moments: Moments, partial: bool, samples: int, target) -> list[str]:
    """The warnings of a run's end: interrupted, or the precision target (precision, zcrit, checked) not met."""
    precision, zcrit, checked = target
    out = []
    if partial:
        out.append(f"interrupted: estimates from the first {moments.count} of {samples} auctions")
    if precision is not None and not partial and not _precise(moments, zcrit, precision, checked):
        out.append(f"precision {precision:g} not reached within {samples} samples"
                   + ("" if checked.any() else " (no revenue estimate has a valid CI: heavy tail)"))
    return out


def precision_rows(alpha: float, n, units: list[int]) -> np.ndarray:
    """Which mechanisms' revenue CIs can be valid at all (``diagnostics.ci_note`` without the sample-size
    clause): the precision target looks at those only, since an interval that is not valid measures nothing."""
    return np.array([not ci_note(alpha, n, m, "revenue", MIN_CI_SAMPLES) for m in units], dtype=bool)


def _precise(moments: Moments, zcrit: float, precision: float, checked: np.ndarray) -> bool:
    """Every checked revenue estimate's CI half-width below ``precision`` times its absolute value (False
    while fewer than ``MIN_CI_SAMPLES`` auctions, or when no revenue CI is valid)."""
    if moments.count < MIN_CI_SAMPLES or not checked.any():
        return False
    g = METRICS.index("revenue")
    half = zcrit * moments.stderr[g][checked]
    return bool(np.all((half == 0) | (half < precision * np.abs(moments.mean[g][checked]))))


# ---------------------------------------------------------------------- several buyer classes
#: a several-class run computes its outcomes with numpy on whole chunks, so chunks are large (fewer Python
#: calls): about CLASS_VALUES buyer values, at most CLASS_CHUNK auctions (memory: classes x components x units)
CLASS_VALUES = 1 << 22
CLASS_CHUNK = 1 << 16


@dataclass(frozen=True)
class ClassChunkPlan(ChunkPlan):
    """``ChunkPlan`` of a several-class run: chunks of about CLASS_VALUES buyer values, at most CLASS_CHUNK
    auctions (no minimum number of chunks: they run one after the other). A function of (samples, n) only."""

    @property
    def per_chunk(self) -> int:
        return max(1, min(-(-CLASS_VALUES // self.n), CLASS_CHUNK, self.samples))


def simulate_classes(mechanisms, market: Market, *, samples: int, seed, precision, confidence: float, mode: str,
                     backend: str, progress, exact: bool, benchmarks: bool, client, scheduler) -> SimulationResult:
    """``simulate`` on a market of several buyer classes (``kernels.classes``: every mechanism's rule is a score
    auction, a ``ClassRule``, or a mixture of them). Same chunks, seeds, CIs and rows as the i.i.d. engine, plus
    the per-class metrics surplus[k] and win[k]. Runs on the CPU (backend threads or serial); profile mode draws
    every buyer of every class, order-statistic mode only each class's top order statistics and pool counts."""
    from ..kernels import classes as kernels_classes

    start_time = time.perf_counter()
    if backend not in BACKENDS or client is not None or scheduler is not None:
        raise InputError("backend", f"a market of several buyer classes runs on the CPU (threads or serial), got "
                                    f"{backend!r}")
    n = market.n
    try:
        mode = _check_mode(mode, n)  # n = all classes' buyers together (profile mode draws every one)
    except InputError as exc:
        raise exc.renamed("buyers") if exc.argument == "n" else exc
    entries = resolve_mechanisms(mechanisms, market)
    seed = _check_seed(seed)
    rules = kernels_classes.compile_classes([e.rule for e in entries], market)
    orderstat = mode == "orderstat"
    plan = ClassChunkPlan(samples, ORDERSTAT_COST * len(market.classes) if orderstat else _profile_n(n))
    alpha = min(tail_index(c.dist) for c in market.classes)  # the heaviest tail decides which CIs are valid
    target = (precision, z_value(confidence), precision_rows(alpha, float(n), [e.m for e in entries]))
    jitcache.refresh_all()
    moments, partial = run_chunks(plan, lambda states, sizes: kernels_classes.classes_batch(states, sizes, rules,
                                                                                            orderstat),
                                  seed, Moments.empty(len(rules.metrics), len(entries)), target, progress)
    warnings = ci_warnings(alpha, float(n), {e.name: e.m for e in entries}, moments.count)
    warnings += run_warnings(moments, partial, samples, target)
    analytic = exact_values(entries, market, warnings, rules.metrics) if exact else {}
    bench = benchmark_values({e.m for e in entries}, market, warnings) if benchmarks else {}
    classes = [{"class": k + 1, "count": c.count, "distribution": c.dist.spec} for k, c in enumerate(market.classes)]
    return SimulationResult(distribution=market.label, n=n, seed=seed, mechanisms=[e.name for e in entries],
                            units=[e.m for e in entries], moments=moments, confidence=confidence, mode=mode,
                            samples_requested=samples, analytic=analytic, benchmarks=bench, partial=partial,
                            warnings=warnings, elapsed=time.perf_counter() - start_time, tail_index=alpha,
                            metrics=rules.metrics, classes=classes)
