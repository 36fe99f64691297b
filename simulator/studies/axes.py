"""The axes of a study: what varies from one point of a sweep to the next.

An axis is ``NAME=SPEC`` (``auction-sim sweep --axis``, the ``axis`` list of an experiment file):

    n=10..1e30:log:30      30 values spaced evenly in log from 10 to 1e30 (10, 100, ..., 1e30)
    shape=2..6:lin:5       5 values spaced evenly from 2 to 6
    r=0,0.25,0.5           the values listed
    n=100                  one value

Values on a grid are rounded to 12 significant digits, so that 10..1e30:log:30 gives exactly 1e23 and
0..1:lin:11 exactly 0.3; a grid of n or m is rounded to whole numbers, each kept once (n=2..1000:log:10 is
2, 4, 8, 16, 32, 63, 126, 251, 501, 1000). ``n`` and ``m`` set the market's number of buyers and units; any other NAME is a
placeholder written ``{NAME}`` in the distribution or mechanism specs (``lomax:shape={shape}``,
``spa:reserve={r}``) and replaced by each value (``format_value``). An experiment file may also give an axis
as a table ``{name = "d", values = ["uniform", "exponential"]}`` (optionally ``log = true``), whose values may
be spec strings.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from distributions.errors import InputError

#: the names an axis may have: n, m or a placeholder (an identifier)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: at most this many values on one axis
MAX_VALUES = 10_000
#: significant digits a grid value keeps (``grid``)
DIGITS = 12
GRAMMAR = "NAME=LO..HI:log:K, NAME=LO..HI:lin:K or NAME=V1,V2,... (e.g. n=10..1e30:log:30)"


@dataclass(frozen=True)
class Axis:
    """One axis: its name, its values in order, and whether it is spaced in log (plotted on a log scale)."""

    name: str
    values: tuple
    log: bool = False

    @property
    def placeholder(self) -> str:
        """How the axis appears in a spec string: ``{name}``."""
        return "{" + self.name + "}"

    def as_dict(self) -> dict:
        return {"name": self.name, "values": list(self.values), "log": self.log}


def rounded(x: float) -> float | int:
    """x to ``DIGITS`` significant digits; an int when whole and small (so that n = 10 prints as 10)."""
    y = float(f"{float(x):.{DIGITS}g}")
    return int(y) if y.is_integer() and abs(y) < 2 ** 53 else y


def format_value(value) -> str:
    """The text that replaces ``{NAME}`` in a spec: a number in its shortest exact form (0.3, 2, 1e+30), a
    string as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return repr(float(value)) if not float(value).is_integer() or abs(value) >= 1e16 else str(int(value))


def _number(label: str, text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise InputError(label, f"expected a number in {text!r}; an axis is {GRAMMAR}") from None
    if not math.isfinite(x):
        raise InputError(label, f"expected a finite number, got {text!r}")
    return x


def grid(label: str, lo: float, hi: float, kind: str, count: int) -> tuple:
    """``count`` values from lo to hi, spaced evenly (``lin``) or evenly in log (``log``), rounded."""
    if count == 1:
        return (rounded(lo),)
    if kind == "log":
        if not (lo > 0 and hi > 0):
            raise InputError(label, f"a log axis needs positive ends, got {lo:g}..{hi:g}")
        a, b = math.log10(lo), math.log10(hi)
        return tuple(rounded(10.0 ** (a + (b - a) * i / (count - 1))) for i in range(count))
    return tuple(rounded(lo + (hi - lo) * i / (count - 1)) for i in range(count))


def parse_values(label: str, spec: str) -> tuple[tuple, bool]:
    """(values, log) of an axis SPEC: ``LO..HI:log|lin:K`` or ``V1,V2,...`` (numbers, or words for a
    placeholder)."""
    spec = spec.strip()
    if ".." in spec:
        ends, _, rest = spec.partition(":")
        kind, _, count_text = rest.partition(":")
        lo_text, _, hi_text = ends.partition("..")
        if kind not in ("log", "lin") or not count_text:
            raise InputError(label, f"expected LO..HI:log:K or LO..HI:lin:K, got {spec!r}")
        count = _number(label, count_text)
        if count != int(count) or not 1 <= count <= MAX_VALUES:
            raise InputError(label, f"expected a number of points K from 1 to {MAX_VALUES}, got {count_text!r}")
        return grid(label, _number(label, lo_text), _number(label, hi_text), kind, int(count)), kind == "log"
    items = [t.strip() for t in spec.split(",")]
    if not spec or any(not t for t in items):
        raise InputError(label, f"empty value in {spec!r}; an axis is {GRAMMAR}")
    if len(items) > MAX_VALUES:
        raise InputError(label, f"at most {MAX_VALUES} values, got {len(items)}")
    values = tuple(_maybe_number(t) for t in items)
    return values, False


def _maybe_number(text: str):
    try:
        x = float(text)
    except ValueError:
        return text
    return rounded(x) if math.isfinite(x) else text


def check_name(label: str, name: str) -> str:
    if not NAME.match(name or ""):
        raise InputError(label, f"an axis name is n, m or a placeholder name such as shape or r, got {name!r}; "
                                f"an axis is {GRAMMAR}")
    return name


def parse_axis(text: str, label: str = "--axis") -> Axis:
    """``NAME=SPEC`` -> Axis (module doc); bad text is InputError(label)."""
    if not isinstance(text, str) or "=" not in text:
        raise InputError(label, f"expected {GRAMMAR}, got {text!r}")
    name, _, spec = text.partition("=")
    name = check_name(label, name.strip())
    values, log = parse_values(label, spec)
    if name in ("n", "m") and ".." in spec:  # a grid of counts: whole numbers, each once
        values = tuple(dict.fromkeys(rounded(round(v)) if abs(v) < 2 ** 53 else v for v in values))
    return Axis(name, values, log)


def axis_from_values(name: str, values, label: str, log: bool = False) -> Axis:
    """An axis from a list of values (an experiment file's ``{name = ..., values = [...], log = true}``;
    ``log``: plotted on a log scale)."""
    if not isinstance(log, bool):
        raise InputError(label, f"log is true or false, got {log!r}")
    if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
        raise InputError(label, f"values must be a list of 1 to {MAX_VALUES} numbers or strings, got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise InputError(label, f"a value is a number or a string, got {v!r}")
        if isinstance(v, (int, float)) and not math.isfinite(v):
            raise InputError(label, f"a value must be finite, got {v!r}")
        out.append(v if isinstance(v, str) else rounded(v))
    return Axis(check_name(label, str(name)), tuple(out), log)


def substitute(spec: str, values: dict) -> str:
    """``spec`` with each ``{NAME}`` replaced by its value (``format_value``)."""
    for name, value in values.items():
        spec = spec.replace("{" + name + "}", format_value(value))
    return spec


def placeholders(spec: str) -> set[str]:
    """The ``{NAME}`` placeholders of a spec string."""
    return set(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", spec))
