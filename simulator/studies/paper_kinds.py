"""The kinds of point (``compute.KINDS``) of the paper scripts that are no sweep over markets: each point's
``dist`` names one of the script's instances, and its rows are the script's, so that an experiment file writes
the script's CSV files byte for byte (``experiments/theorem_e1.toml``, ...). The computations live in
``simulator.paper``; these functions only map a point to them, and check a study before it runs.

- ``theorem-e1`` / ``theorem-e1-curves``: an instance of Theorem E.1 (``paper.theorem_e1.parse_instance``: E.2.2
  and E.2.1 at their minimisers, E.1 with K, a regular distribution): its row of theorem_e1.csv, or its ratio
  against U (theorem_e1_curves.csv);
- ``theorem-e1-scan``: ``E.2.2:q=Q,s=S``, a point of the E.2.2 family (theorem_e1_family_scan.csv);
- ``theorem-e1-simulation``: the 0.8532 instance's frontier mechanism and best posted price simulated
  (theorem_e1_simulation.csv);
- ``gallery`` / ``gallery-frontier``: a class of the frontier gallery (``paper.gallery.GALLERY``: its
  distribution, n and structure theorem): its row of gallery.csv (frontier, simulated solutions, structure
  checks), or its extreme points (gallery_<class>.csv);
- ``theorem42``: a (distribution, m) cell of Theorem 4.2 with n buyers (the KS solution with m units against
  Ψ(m/n), simulated when samples > 0); its distribution is a library spec or ``truncexp-atom:K=K``;
- ``demo-cells``: a section of ``auction-sim demo`` (``paper.demo.SECTIONS``: example42, frontier, table1 for
  demo_cells.csv, asymmetric for demo_asymmetric.csv).
"""
from __future__ import annotations

from distributions.errors import InputError

from .study import Point, Study


def _describe(p: Point) -> str:
    return ", ".join(f"{k} = {v}" for k, v in p.values.items()) or "the point"


def _points_parse(study: Study, label, parse) -> None:
    """Every point's ``dist`` is accepted by ``parse`` (an InputError names the field and the point)."""
    for p in study.points():
        try:
            parse(p.dist)
        except InputError as exc:
            raise InputError(label("axis" if p.values and p.dist != study.dist else "dist"),
                             f"at {_describe(p)}: {exc.message}") from None


def _instances_only(study: Study, label, samples: bool = False) -> None:
    """No mechanisms, no n or m, and (unless the kind simulates) no simulation: the point's instance sets them."""
    if study.mechanisms:
        raise InputError(label("mechanism"), f"compute = {study.compute} takes no mechanism")
    if study.m != 1 or any(a.name in ("m", "n") for a in study.axes):
        raise InputError(label("axis"), f"compute = {study.compute} takes no axis over n or m")
    if study.n is not None:
        raise InputError(label("n"), f"compute = {study.compute} takes no n: its instances set their own")
    if samples and not study.samples:
        raise InputError(label("samples"), f"compute = {study.compute} simulates: give samples > 0")
    if not samples and study.samples:
        raise InputError(label("samples"), f"compute = {study.compute} is exact only (samples = 0)")


# ---------------------------------------------------------------------- Theorem E.1
def e1_rows(study: Study, point: Point) -> list[dict]:
    """theorem_e1.csv's row of the point's instance."""
    from ..paper.theorem_e1 import instance_rows

    return instance_rows(point.dist)


def e1_curve_rows(study: Study, point: Point) -> list[dict]:
    """theorem_e1_curves.csv's rows of the point's instance (the ratio against U)."""
    from ..paper.theorem_e1 import curve_rows

    return curve_rows(point.dist)


def e1_scan_rows(study: Study, point: Point) -> list[dict]:
    """theorem_e1_family_scan.csv's row of ``E.2.2:q=Q,s=S``."""
    from ..paper.theorem_e1 import scan_rows

    return scan_rows(point.dist)


def e1_simulation_rows(study: Study, point: Point) -> list[dict]:
    """theorem_e1_simulation.csv's rows of ``E.2.2:grid=G`` (the study's samples, seed and budget)."""
    from ..paper.theorem_e1 import simulation_rows

    return simulation_rows(point.dist, study.samples, study.seed, study.budget)


def check_e1(study: Study, label) -> None:
    """An instance per point (``theorem_e1.parse_instance``): E.2.2:grid=G, E.2.1:grid=G, E.1:K=K or a spec."""
    from ..paper.theorem_e1 import INSTANCE_GRAMMAR, parse_instance

    _instances_only(study, label)

    def parse(spec):
        family, params = parse_instance(spec)
        if family == "E.2.2" and "grid" not in params:
            raise InputError("dist", f"expected an instance ({INSTANCE_GRAMMAR}; q and s are for "
                                     f"compute = theorem-e1-scan), got {spec!r}")

    _points_parse(study, label, parse)


def check_e1_scan(study: Study, label) -> None:
    """``E.2.2:q=Q,s=S`` at every point."""
    from ..paper.theorem_e1 import parse_instance

    _instances_only(study, label)

    def parse(spec):
        family, params = parse_instance(spec)
        if family != "E.2.2" or "q" not in params:
            raise InputError("dist", f"expected E.2.2:q=Q,s=S (e.g. dist = \"E.2.2:q={{q}},s={{s}}\"), got {spec!r}")

    _points_parse(study, label, parse)


def check_e1_simulation(study: Study, label) -> None:
    """``E.2.2:grid=G`` at every point, and samples > 0."""
    from ..paper.theorem_e1 import parse_instance

    _instances_only(study, label, samples=True)

    def parse(spec):
        family, params = parse_instance(spec)
        if family != "E.2.2" or "grid" not in params:
            raise InputError("dist", f"expected the 0.8532 instance E.2.2:grid=G, got {spec!r}")

    _points_parse(study, label, parse)


# ---------------------------------------------------------------------- the frontier gallery
def gallery_rows(study: Study, point: Point) -> list[dict]:
    """gallery.csv's row of the point's class (``paper.gallery.gallery_market``: the study's tolerance,
    samples, seed and budget)."""
    from ..paper.gallery import gallery_market

    return [gallery_market(point.dist, study.tol, study.samples, study.seed, study.budget)["row"]]


def gallery_frontier_rows(study: Study, point: Point) -> list[dict]:
    """gallery_<class>.csv: the extreme points of the class's frontier with their pooled value ranges."""
    from ..paper.gallery import frontier_rows

    return frontier_rows(point.dist, study.tol)


def check_gallery(study: Study, label) -> None:
    """A class of the gallery (``paper.gallery.GALLERY``) at every point; samples > 0."""
    from ..paper.gallery import gallery_class

    _instances_only(study, label, samples=True)
    _points_parse(study, label, gallery_class)


def check_gallery_frontier(study: Study, label) -> None:
    """A class of the gallery at every point; exact only."""
    from ..paper.gallery import gallery_class

    _instances_only(study, label)
    _points_parse(study, label, gallery_class)


# ---------------------------------------------------------------------- Theorem 4.2
def theorem42_rows(study: Study, point: Point) -> list[dict]:
    """theorem42.csv's row of one (distribution, m) cell (``paper.theorem42.ks_cell``: the study's n,
    tolerance, samples, seed and budget)."""
    from ..paper.theorem42 import ks_cell

    return [ks_cell(point.dist, point.n, point.m, study.tol, study.samples, study.seed, study.budget)]


def check_theorem42(study: Study, label) -> None:
    """No mechanism (the cell is the KS solution's); every point's market exists (a library spec or
    ``truncexp-atom:K=K``) with m <= n."""
    from ..paper.theorem42 import theorem42_market

    if study.mechanisms:
        raise InputError(label("mechanism"), "compute = theorem42 computes the KS solution itself; give no mechanism")
    if study.n is None and not any(a.name == "n" for a in study.axes):
        raise InputError(label("n"), "give the number of buyers n (e.g. n = 1000), or an axis over n")
    axes = {a.name for a in study.axes}
    for p in study.points():
        try:
            if p.m > p.n:
                raise InputError("m", f"the number of units m = {p.m} exceeds the number of buyers n = {p.n}")
            theorem42_market(p.dist, p.n, p.m)
        except InputError as exc:
            arg = exc.argument if exc.argument in ("n", "m") else "dist"
            where = "axis" if arg in axes or (arg == "dist" and p.dist != study.dist) else arg
            why = exc.message if exc.argument in ("dist", "n", "m") else str(exc)
            raise InputError(label(where), f"at {_describe(p)}: {why}") from None


# ---------------------------------------------------------------------- the demo
def demo_rows(study: Study, point: Point) -> list[dict]:
    """The rows of one section of ``auction-sim demo`` (``paper.demo.section_rows``: the study's samples, seed,
    budget and tolerance)."""
    from ..paper.demo import section_rows

    return section_rows(point.dist, study.samples, study.seed, study.budget, study.tol)


def demo_frame(rows):
    """The demo's frame of its cells (``reproduce.cells_frame``: whole-number columns stay exact)."""
    from ..paper.reproduce import cells_frame

    return cells_frame(rows)


def check_demo(study: Study, label) -> None:
    """A section of the demo (``paper.demo.SECTIONS``) at every point; samples > 0."""
    from ..paper.demo import SECTIONS

    def parse(section):
        if section not in SECTIONS:
            raise InputError("dist", f"expected a section of the demo ({', '.join(SECTIONS)}), got {section!r}")

    _instances_only(study, label, samples=True)
    _points_parse(study, label, parse)
