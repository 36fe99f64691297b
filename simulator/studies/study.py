"""A study: one sweep over one or two axes (``axes``), what each point computes (``compute``), and how to
simulate it, as one immutable value. The command line (``auction-sim sweep``) and experiment files
(``auction-sim run``) both build a ``Study`` with ``build_study`` from the same fields, so that the same
fields give the same study and the same output files.

Fields (the experiment file's keys; the flags of ``sweep`` are ``--KEY``): ``name`` (the stem of the output
files), ``title``, ``dist`` (a distribution spec), ``n``, ``m``, ``mechanism`` (specs), ``axis`` (one or
two, ``axes``), ``exact``, ``samples`` (0: no simulation), ``seed``, ``confidence``, ``tol`` (the frontier's
tolerance, for the bargaining solutions), ``budget`` (most buyer values a profile-mode point may draw),
``compute`` (``compute.KINDS``), ``plot`` (the metrics of the figure) and ``plot_y`` (``ratio`` or ``value``).
"""
from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from distributions.errors import InputError

from .axes import Axis, axis_from_values, parse_axis, placeholders, substitute

METRICS = ("revenue", "surplus", "welfare", "sold")
#: the largest number of auctions per point (as ``simulate --samples``)
MAX_SAMPLES = 10 ** 12
#: the most buyer values one profile-mode point may draw by default (``reproduce.DEFAULT_PROFILE_BUDGET``)
DEFAULT_BUDGET = 2e9
STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its index, the axis values, and the market and mechanisms they give."""

    index: int
    values: dict
    dist: str
    n: float
    m: int
    mechanisms: tuple


@dataclass(frozen=True)
class Study:
    """A sweep (module doc). Execution options (backend, progress, output folder) are not part of it: the
    same study gives the same numbers wherever it runs."""

    dist: str
    axes: tuple
    mechanisms: tuple = ()
    n: float | None = None
    m: int = 1
    name: str = "sweep"
    title: str = ""
    exact: bool = True
    samples: int = 0
    seed: int = 0
    confidence: float = 0.95
    tol: float = 1e-6
    budget: float = DEFAULT_BUDGET
    compute: str = "metrics"
    plot: tuple = ("welfare",)
    plot_y: str = "ratio"

    def points(self) -> list[Point]:
        """Every point: the product of the axes, the first varying slowest."""
        out = []
        for i, combo in enumerate(itertools.product(*(a.values for a in self.axes))):
            values = {a.name: v for a, v in zip(self.axes, combo)}
            subs = {k: v for k, v in values.items() if k not in ("n", "m")}
            out.append(Point(i, values, substitute(self.dist, subs), values.get("n", self.n),
                             int(values.get("m", self.m)), tuple(substitute(s, subs) for s in self.mechanisms)))
        return out

    def as_dict(self) -> dict:
        """The study as plain data (recorded in the JSON output; the fields of an experiment file)."""
        return {"name": self.name, "title": self.title, "compute": self.compute, "dist": self.dist, "n": self.n,
                "m": self.m, "mechanism": list(self.mechanisms), "axis": [a.as_dict() for a in self.axes],
                "exact": self.exact, "samples": self.samples, "seed": self.seed, "confidence": self.confidence,
                "tol": self.tol, "budget": self.budget, "plot": list(self.plot), "plot_y": self.plot_y}


def point_seed(seed: int, point: Point) -> int:
    """The seed of a point's market: ``reproduce.market_seed(seed, dist, n)`` (with ``m=M`` when m > 1), the
    seed ``bargaining_cells`` and the demo give the same market, so that a sweep reproduces their numbers.
    Points with the same market share their draws (common random numbers across a mechanism's parameter)."""
    from ..paper.reproduce import market_seed

    key = [point.dist, f"{float(point.n):.17g}"] + ([f"m={point.m}"] if point.m != 1 else [])
    return market_seed(seed, *key)


# ---------------------------------------------------------------------- building a study from fields
def _whole(label: str, value, low: int, high: float, what: str) -> int:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x) or x != math.floor(x) or not low <= x <= high:
        raise InputError(label, f"expected {what} from {low} to {high:g} (e.g. 1000 or 1e4), got {value!r}")
    return int(x)


def _real(label: str, value, what: str, low: float = 0.0, high: float = math.inf) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not (low < x < high):
        raise InputError(label, f"expected {what}, got {value!r}")
    return x


def _text(label: str, value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(label, f"expected {what}, got {value!r}")
    return value.strip()


def _numeric(value):
    """A number given as text (a flag: ``1e30``) as a number; anything else as it is (checked by the caller)."""
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return value
    return value


def _list(label: str, value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def build_study(fields: dict, label) -> Study:
    """A checked ``Study`` from ``fields`` (module doc; a missing key takes its default). ``label(key)`` names
    a field in errors (``--samples`` on the command line, ``study.toml: sweep 1: samples`` in a file)."""
    from .compute import KINDS

    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InputError(label(unknown[0]), f"unknown key; allowed: {', '.join(FIELDS)}")
    compute = fields.get("compute", "metrics")
    if compute not in KINDS:
        raise InputError(label("compute"), f"expected one of {', '.join(KINDS)}, got {compute!r}")
    kw = dict(compute=compute, dist=_text(label("dist"), fields.get("dist"), "a distribution spec"),
              axes=_axes(fields.get("axis"), label("axis")),
              mechanisms=tuple(_text(label("mechanism"), s, "a mechanism spec")
                               for s in _list(label("mechanism"), fields.get("mechanism"))))
    kw.update(_options(fields, label))
    if len(set(kw["mechanisms"])) < len(kw["mechanisms"]):
        raise InputError(label("mechanism"), f"a mechanism is given twice: {list(kw['mechanisms'])}")
    names = [a.name for a in kw["axes"]]
    if "n" not in names and (KINDS[compute].markets or fields.get("n") is not None):
        from distributions.market import check_count

        if fields.get("n") is None:
            raise InputError(label("n"), "give the number of buyers n, or an axis over n (n=10..1e30:log:30)")
        kw["n"] = check_count(_numeric(fields["n"]), label("n"))
    study = Study(**kw)
    _check_placeholders(study, label)
    KINDS[compute].check(study, label)
    return study


#: the keys of an experiment file's sweep (and, as --KEY, the flags of ``auction-sim sweep``)
FIELDS = ("name", "title", "compute", "dist", "n", "m", "mechanism", "axis", "exact", "samples", "seed",
          "confidence", "tol", "budget", "plot", "plot_y")


def _options(fields: dict, label) -> dict:
    """The scalar fields of a study, checked."""
    from distributions.market import check_units

    get = fields.get
    name = get("name", "sweep")
    if not isinstance(name, str) or not STEM.match(name):
        raise InputError(label("name"), f"expected a file stem (letters, digits, _ . -), got {name!r}")
    exact = get("exact", True)
    if not isinstance(exact, bool):
        raise InputError(label("exact"), f"expected true or false, got {exact!r}")
    plot = tuple(_list(label("plot"), get("plot", ["welfare"])))
    if plot in (("none",), ("",)):
        plot = ()
    bad = [p for p in plot if p not in METRICS]
    if bad:
        raise InputError(label("plot"), f"expected metrics among {', '.join(METRICS)} (or none), got {bad[0]!r}")
    if get("plot_y", "ratio") not in ("ratio", "value"):
        raise InputError(label("plot_y"), f"expected ratio or value, got {get('plot_y')!r}")
    title = get("title", "")
    if not isinstance(title, str):
        raise InputError(label("title"), f"expected a string, got {title!r}")
    return dict(name=name, title=title, exact=exact, m=check_units(_numeric(get("m", 1)), label("m")),
                samples=_whole(label("samples"), get("samples", 0), 0, MAX_SAMPLES, "a number of auctions"),
                seed=_whole(label("seed"), get("seed", 0), 0, 2 ** 63 - 1, "an integer seed"),
                confidence=_real(label("confidence"), get("confidence", 0.95), "a level strictly between 0 and 1",
                                 0.0, 1.0),
                tol=_real(label("tol"), get("tol", 1e-6), "a positive tolerance (e.g. 1e-6)", 0.0, 1.0),
                budget=_real(label("budget"), get("budget", DEFAULT_BUDGET), "a positive number of buyer values"),
                plot=plot, plot_y=get("plot_y", "ratio"))


def _axes(items, label: str) -> tuple:
    """One or two axes from ``NAME=SPEC`` strings (or an experiment file's {name, values} tables)."""
    items = _list(label, items)
    if not 1 <= len(items) <= 2:
        raise InputError(label, f"give one axis or two (their product), got {len(items)}")
    axes = []
    for item in items:
        if isinstance(item, Axis):
            axes.append(item)
        elif isinstance(item, dict):
            if not {"name", "values"} <= set(item) <= {"name", "values", "log"}:
                raise InputError(label, f"an axis table has the keys name, values and optionally log, got "
                                        f"{sorted(item)}")
            axes.append(axis_from_values(item["name"], item["values"], label, item.get("log", False)))
        else:
            axes.append(parse_axis(item, label))
    if len(axes) == 2 and axes[0].name == axes[1].name:
        raise InputError(label, f"two axes named {axes[0].name!r}")
    for a in axes:
        if a.name in ("n", "m") and any(isinstance(v, str) for v in a.values):
            raise InputError(label, f"{a.name} takes numbers, got {a.values!r}")
    return tuple(axes)


def _check_placeholders(study: Study, label) -> None:
    """Every ``{NAME}`` of the specs has an axis, and every axis other than n and m appears in a spec."""
    used = placeholders(study.dist) | set().union(*(placeholders(s) for s in study.mechanisms))
    names = {a.name for a in study.axes}
    for name in sorted(used - names):
        where = "dist" if "{" + name + "}" in study.dist else "mechanism"
        raise InputError(label(where), f"placeholder {{{name}}} has no axis; add --axis {name}=...")
    for name in sorted(names - used - {"n", "m"}):
        raise InputError(label("axis"), f"axis {name!r} is neither n, m nor a {{{name}}} placeholder of the "
                                        f"distribution or mechanism specs")


def check_points(study: Study, label) -> None:
    """Every point's market and mechanisms are valid (checked before any work, so that a bad grid fails at
    once with the field that gave it), unless the study's kind records an undefined market as skipped."""
    from distributions import Market
    from mechanisms import parse_mechanism

    from .compute import KINDS

    if KINDS[study.compute].skips_bad_markets or not KINDS[study.compute].markets:
        return
    axis_label = label("axis")
    for p in study.points():
        try:
            market = Market.iid(p.dist, p.n, p.m)
        except InputError as exc:
            where = label("dist") if exc.argument in ("dist", "market") or not p.values else axis_label
            raise InputError(where, f"at {_describe(p)}: {exc}") from exc
        for spec in p.mechanisms:
            try:
                parse_mechanism(spec, market).market_for(market)
            except InputError as exc:
                raise InputError(label("mechanism"), f"{spec!r} at {_describe(p)}: {exc}") from exc


def _describe(p: Point) -> str:
    return ", ".join(f"{k} = {v}" for k, v in p.values.items()) or "the point"
