"""Parametric value distributions with closed-form v(q), R(q), V(q), S(q) (paper, Section 2 and Figure 1)."""
from __future__ import annotations

import math

import numpy as np
from scipy import special

from . import kinds
from .base import MAX_SCALE, Distribution, as_q, check_curves, check_scale
from .errors import InputError


def check_positive(name: str, value: float, what: str = "a finite number > 0") -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise InputError(name, f"must be {what}, got {value!r}")
    return value


def check_finite(name: str, value: float, lo: float = -math.inf) -> float:
    value = float(value)
    if not math.isfinite(value) or value < lo:
        bound = "" if lo == -math.inf else f" >= {lo:g}"
        raise InputError(name, f"must be a finite number{bound}, got {value!r}")
    return value


def _clip01(x):
    return np.clip(x, 0.0, 1.0)


def _safe_log(q):
    with np.errstate(divide="ignore"):
        return np.log(q)


def _R_log_space(dist, q, log_r):
    """R(q) = q v(q), from ``log_r(q)`` = ln R(q) where q v(q) overflows (v(q) beyond the doubles at a tiny
    q while R(q) is finite: a heavy tail at q < 1e-16)."""
    q = as_q(q)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = q * dist._v(q)
        big = np.isinf(out) & (q > 0)
        if np.any(big):
            out = np.where(big, np.exp(log_r(np.where(big, q, 0.5))), out)
    return np.where(q == 0, dist.R0, out)


class Uniform(Distribution):
    """Uniform[low, high]: v(q) = high - q (high - low); MHR. Domain 0 <= low < high <= ``MAX_SCALE``."""

    name = "uniform"

    def __init__(self, low: float = 0.0, high: float = 1.0):
        self.low = check_scale("low", low, 0.0)
        self.high = check_scale("high", high, 0.0)
        if not self.high > self.low:
            raise InputError("high", f"must be > low ({self.low:g}), got {self.high:g}")
        self.support = (self.low, self.high)
        check_curves(self, "high")

    def _v(self, q):
        return self.high - q * (self.high - self.low)

    def _V(self, q):
        return q * self.high - 0.5 * q * q * (self.high - self.low)

    def _S(self, q):
        return 0.5 * q * q * (self.high - self.low)

    def sf(self, x):
        return _clip01((self.high - np.asarray(x, float)) / (self.high - self.low))

    def cdf(self, x):
        return 1.0 - self.sf(x)

    def pdf(self, x):
        x = np.asarray(x, float)
        return np.where((x >= self.low) & (x <= self.high), 1.0 / (self.high - self.low), 0.0)

    def numba_spec(self):
        return kinds.pack(kinds.UNIFORM, self.low, self.high)

    @property
    def spec(self):
        return f"uniform:low={self.low:g},high={self.high:g}"


class Exponential(Distribution):
    """Exponential(rate): v(q) = -ln(q) / rate; the only distribution both MHR and anti-MHR."""

    name = "exponential"

    def __init__(self, rate: float = 1.0):
        # domain: 1/MAX_SCALE <= rate <= MAX_SCALE, so v(1e-300) = 690.8 / rate and the mean stay finite
        self.rate = check_scale("rate", rate)
        self.support = (0.0, math.inf)
        check_curves(self, "rate")

    def _v(self, q):
        return -_safe_log(q) / self.rate

    def _V(self, q):
        with np.errstate(invalid="ignore"):
            return np.where(q == 0, 0.0, q * (1.0 - _safe_log(q)) / self.rate)

    def _S(self, q):
        return q / self.rate

    def sf(self, x):
        x = np.asarray(x, float)
        return np.where(x <= 0, 1.0, np.exp(-self.rate * np.maximum(x, 0.0)))

    def cdf(self, x):
        return 1.0 - self.sf(x)

    def pdf(self, x):
        x = np.asarray(x, float)
        return np.where(x >= 0, self.rate * np.exp(-self.rate * np.maximum(x, 0.0)), 0.0)

    def numba_spec(self):
        return kinds.pack(kinds.EXPONENTIAL, self.rate)

    @property
    def spec(self):
        return f"exponential:rate={self.rate:g}"


class _PowerTail(Distribution):
    """Shared algebra of Pareto I and Lomax: v(q) = scale (q^{-1/shape} - shift)."""

    shift = 0.0
    #: smallest shape: v(1e-16) = scale 1e16^(1/shape) <= 1e100 * 1e160 stays finite where a simulation draws
    MIN_SHAPE = 0.1

    def __init__(self, shape: float, scale: float = 1.0):
        self.shape = check_scale("shape", shape, self.MIN_SHAPE)
        self.scale = check_scale("scale", scale)

    def _qpow(self, q, e):
        with np.errstate(divide="ignore"):
            return np.exp(e * _safe_log(q))

    def _v(self, q):
        return self.scale * (self._qpow(q, -1.0 / self.shape) - self.shift)

    def R(self, q):
        """R(q) = q v(q); where v(q) overflows (a heavy tail below q = 1e-16) R = scale q^(1 - 1/shape)
        (the shift is negligible there) stays finite as long as the true value is."""
        q = as_q(q)
        with np.errstate(invalid="ignore", over="ignore"):
            out = q * self._v(q)
            out = np.where(np.isinf(out), self.scale * self._qpow(q, 1.0 - 1.0 / self.shape), out)
        return np.where(q == 0, self.R0, out)

    @property
    def R0(self):
        if self.shape > 1:
            return 0.0
        return self.scale if self.shape == 1 else math.inf

    def _V(self, q):
        if self.shape <= 1:
            return np.where(q == 0, 0.0, math.inf)
        a = 1.0 - 1.0 / self.shape
        return self.scale * (self._qpow(q, a) / a - self.shift * q)

    def _S(self, q):
        if self.shape <= 1:
            return np.where(q == 0, 0.0, math.inf)
        return self.scale * self._qpow(q, 1.0 - 1.0 / self.shape) / (self.shape - 1.0)

    def pdf(self, x):
        x = np.asarray(x, float)
        z = x / self.scale + self.shift
        ok = x >= self.support[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ok, self.shape / self.scale * np.power(np.where(ok, z, 1.0), -self.shape - 1), 0.0)

    def sf(self, x):
        x = np.asarray(x, float)
        z = np.maximum(x / self.scale + self.shift, 1.0)
        return np.power(z, -self.shape)

    def cdf(self, x):
        return 1.0 - self.sf(x)


class Lomax(_PowerTail):
    """Lomax (Pareto II): Pr[v >= x] = (1 + x/scale)^(-shape); regular and anti-MHR for shape >= 1."""

    name = "lomax"
    shift = 1.0

    def __init__(self, shape: float = 3.0, scale: float = 1.0):
        super().__init__(shape, scale)
        self.support = (0.0, math.inf)
        check_curves(self, "shape")

    def _v(self, q):
        with np.errstate(divide="ignore"):
            return self.scale * np.expm1(-_safe_log(q) / self.shape)

    def numba_spec(self):
        return kinds.pack(kinds.LOMAX, self.shape, self.scale)

    @property
    def spec(self):
        return f"lomax:shape={self.shape:g},scale={self.scale:g}"


class Pareto(_PowerTail):
    """Pareto type I: Pr[v >= x] = (x/scale)^(-shape) on [scale, inf); regular and anti-MHR."""

    name = "pareto"

    def __init__(self, shape: float = 2.0, scale: float = 1.0):
        super().__init__(shape, scale)
        self.support = (self.scale, math.inf)
        check_curves(self, "shape")

    def numba_spec(self):
        return kinds.pack(kinds.PARETO, self.shape, self.scale)

    @property
    def spec(self):
        return f"pareto:shape={self.shape:g},scale={self.scale:g}"


class EqualRevenue(Distribution):
    """Equal revenue: F(v) = 1 - 1/v on [1, high), atom of mass 1/high at high; R(q) = 1 for q >= 1/high."""

    name = "equal-revenue"

    def __init__(self, high: float = 100.0):
        self.high = check_finite("high", high)
        if not 1 < self.high <= MAX_SCALE:
            raise InputError("high", f"must be a finite number in (1, {MAX_SCALE:g}], got {self.high!r}")
        self.support = (1.0, self.high)
        check_curves(self, "high")

    def _v(self, q):
        with np.errstate(divide="ignore"):
            return np.where(q <= 1.0 / self.high, self.high, 1.0 / q)

    def _V(self, q):
        with np.errstate(divide="ignore"):
            return np.where(q <= 1.0 / self.high, q * self.high, 1.0 + _safe_log(q * self.high))

    def _S(self, q):
        with np.errstate(divide="ignore"):
            return np.where(q <= 1.0 / self.high, 0.0, _safe_log(q * self.high))

    def sf(self, x):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore"):
            return np.where(x <= 1, 1.0, np.where(x <= self.high, 1.0 / x, 0.0))

    def cdf(self, x):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore"):
            return np.where(x < 1, 0.0, np.where(x < self.high, 1.0 - 1.0 / np.maximum(x, 1.0), 1.0))

    def pdf(self, x):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore"):
            return np.where((x >= 1) & (x < self.high), 1.0 / (x * x), 0.0)

    @property
    def atoms(self):
        return [(self.high, 1.0 / self.high)]

    def atoms_q(self):
        return [(0.0, 1.0 / self.high, self.high)]

    def numba_spec(self):
        return kinds.pack(kinds.EQUAL_REVENUE, self.high)

    @property
    def spec(self):
        return f"equal-revenue:high={self.high:g}"


class Weibull(Distribution):
    """Weibull: Pr[v >= x] = exp(-(x/scale)^shape). MHR for shape >= 1, anti-MHR for shape <= 1; shape 0.5 is
    not regular (the paper's anti-MHR-but-irregular example)."""

    name = "weibull"

    #: smallest shape: Gamma(1 + 1/shape) <= Gamma(101) ~ 9e157 keeps the mean finite (scale <= 1e100), and
    #: v(1e-16) = scale 36.8^(1/shape) <= 1e256; below it V(0) = Gamma(inf) 0 is NaN
    MIN_SHAPE = 0.01

    def __init__(self, shape: float = 0.5, scale: float = 1.0):
        self.shape = check_scale("shape", shape, self.MIN_SHAPE)
        self.scale = check_scale("scale", scale)
        self.support = (0.0, math.inf)
        check_curves(self, "shape")

    def _v(self, q):
        return self.scale * np.power(-_safe_log(q), 1.0 / self.shape)

    def R(self, q):
        """R(q) = q v(q), in log space where v(q) overflows."""
        return _R_log_space(self, q, lambda t: np.log(t) + math.log(self.scale) + np.log(-np.log(t)) / self.shape)

    def _V(self, q):
        s = 1.0 + 1.0 / self.shape
        return self.scale * special.gamma(s) * special.gammaincc(s, -_safe_log(q))

    def sf(self, x):
        x = np.maximum(np.asarray(x, float), 0.0)
        return np.exp(-np.power(x / self.scale, self.shape))

    def cdf(self, x):
        return -np.expm1(-np.power(np.maximum(np.asarray(x, float), 0.0) / self.scale, self.shape))

    def pdf(self, x):
        x = np.asarray(x, float)
        k, lam = self.shape, self.scale
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.maximum(x, 0.0) / lam
            return np.where(x > 0, k / lam * np.power(z, k - 1) * np.exp(-np.power(z, k)), 0.0)

    def numba_spec(self):
        return kinds.pack(kinds.WEIBULL, self.shape, self.scale)

    @property
    def spec(self):
        return f"weibull:shape={self.shape:g},scale={self.scale:g}"


class Example42(Distribution):
    """The paper's Example 4.2 for n buyers: K = sqrt(ln n)/2, F(v) = 1 - exp(-v^2) on [0, K), atom of mass
    exp(-K^2) = n^(-1/4) at K. MHR; the worst case of Theorems 4.1 (iii) and 5.1."""

    name = "example42"

    def __init__(self, n: float):
        n = float(n)
        if not (math.isfinite(n) and n >= 2):
            raise InputError("n", f"example42 needs a finite number of buyers >= 2 (K = sqrt(ln n)/2), got {n!r}")
        self.n = n
        self.K = 0.5 * math.sqrt(math.log(n))
        self.atom_mass = math.exp(-0.25 * math.log(n))
        self.support = (0.0, self.K)
        check_curves(self, "n")

    def _v(self, q):
        with np.errstate(invalid="ignore"):
            return np.where(q <= self.atom_mass, self.K, np.sqrt(-_safe_log(np.maximum(q, self.atom_mass))))

    def _V(self, q):
        g = math.gamma(1.5)
        p = self.atom_mass
        lp = -math.log(p)
        cont = g * (special.gammaincc(1.5, -_safe_log(np.maximum(q, p))) - special.gammaincc(1.5, lp))
        return np.where(q <= p, q * self.K, p * self.K + cont)

    def sf(self, x):
        x = np.asarray(x, float)
        return np.where(x <= 0, 1.0, np.where(x <= self.K, np.exp(-np.square(np.maximum(x, 0.0))), 0.0))

    def cdf(self, x):
        x = np.asarray(x, float)
        return np.where(x < 0, 0.0, np.where(x < self.K, -np.expm1(-np.square(np.maximum(x, 0))), 1.0))

    def pdf(self, x):
        x = np.asarray(x, float)
        return np.where((x >= 0) & (x < self.K), 2 * x * np.exp(-x * x), 0.0)

    @property
    def atoms(self):
        return [(self.K, self.atom_mass)]

    def atoms_q(self):
        return [(0.0, self.atom_mass, self.K)]

    def numba_spec(self):
        return kinds.pack(kinds.EXAMPLE42, self.K, self.atom_mass)

    @property
    def spec(self):
        return f"example42:n={self.n:g}"


class LogNormal(Distribution):
    """Log-normal: ln v ~ N(mu, sigma^2); v(q) = exp(mu - sigma * Phi^{-1}(q))."""

    name = "lognormal"

    #: |mu| <= ln(MAX_SCALE) (the median e^mu in [1e-100, 1e100]) and sigma <= 30: the mean
    #: e^(mu + sigma^2/2) <= e^680 and v(1e-16) = e^(mu + 8.2 sigma) stay finite
    MAX_MU = math.log(MAX_SCALE)
    MAX_SIGMA = 30.0

    def __init__(self, mu: float = 0.0, sigma: float = 1.0):
        self.mu = check_scale("mu", mu, -self.MAX_MU, self.MAX_MU)
        self.sigma = check_scale("sigma", sigma, 1.0 / MAX_SCALE, self.MAX_SIGMA)
        self.support = (0.0, math.inf)
        check_curves(self, "sigma")

    def _v(self, q):
        with np.errstate(over="ignore"):
            return np.exp(self.mu - self.sigma * special.ndtri(q))

    def _V(self, q):
        with np.errstate(divide="ignore"):
            return np.exp(self.mu + 0.5 * self.sigma ** 2 + special.log_ndtr(self.sigma + special.ndtri(q)))

    def R(self, q):
        """R(q) = q v(q), in log space where v(q) overflows."""
        return _R_log_space(self, q, lambda t: np.log(t) + self.mu - self.sigma * special.ndtri(t))

    def _z(self, x):
        with np.errstate(divide="ignore"):
            return (np.log(np.maximum(np.asarray(x, float), 0.0)) - self.mu) / self.sigma

    def sf(self, x):
        return special.ndtr(-self._z(x))

    def cdf(self, x):
        return special.ndtr(self._z(x))

    def pdf(self, x):
        x = np.asarray(x, float)
        z = self._z(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, np.exp(-0.5 * z * z) / (x * self.sigma * math.sqrt(2 * math.pi)), 0.0)

    def numba_spec(self):
        return kinds.pack(kinds.LOGNORMAL, self.mu, self.sigma)

    @property
    def spec(self):
        return f"lognormal:mu={self.mu:g},sigma={self.sigma:g}"


class TruncNorm(Distribution):
    """Normal(mean, sd^2) truncated to [low, high] (high may be inf), low >= 0; MHR."""

    name = "truncnorm"

    #: least kept normal mass Z = Phi(-a) - Phi(-b): the simulator's kernel computes ub + q Z in linear
    #: space for draws q >= 2^-64, so q Z must stay a normal double (about a <= 30 standard deviations)
    MIN_MASS = 1e-200

    def __init__(self, mean: float = 1.0, sd: float = 1.0, low: float = 0.0, high: float = math.inf):
        self.mean_ = check_scale("mean", mean, -MAX_SCALE)
        self.sd = check_scale("sd", sd)
        self.low = check_scale("low", low, 0.0)
        self.high = float(high)
        if math.isnan(self.high) or not self.high > self.low or (math.isfinite(self.high) and self.high > MAX_SCALE):
            raise InputError("high", f"must be > low ({self.low:g}) and <= {MAX_SCALE:g} (or inf), got {self.high!r}")
        self.a = (self.low - self.mean_) / self.sd
        self.b = (self.high - self.mean_) / self.sd
        self._ua, self._ub = special.ndtr(-self.a), special.ndtr(-self.b)
        self.Z = self._ua - self._ub
        # log Z and log ub, kept in log space for v(q) at q Z below the smallest double
        self._log_ub = float(special.log_ndtr(-self.b))
        with np.errstate(divide="ignore"):
            self._log_Z = float(special.log_ndtr(-self.a) + np.log(-np.expm1(self._log_ub - special.log_ndtr(-self.a))))
        if not (self.Z >= self.MIN_MASS and self._log_Z > -math.inf):
            raise InputError("low, high", f"the interval keeps a normal mass {self.Z:.3g} < {self.MIN_MASS:g}: "
                                          "too far in the tail for double precision")
        phib = -0.5 * self.b * self.b - 0.5 * math.log(2 * math.pi)  # log phi(b)
        self._a_top = math.exp(min(self._log_Z - phib, 700.0)) if math.isfinite(self.b) else math.inf
        self.support = (self.low, self.high)
        check_curves(self, "sd")

    def _top_series(self, q):
        """Near a finite top (q -> 0): delta(q) = b - z(q) solves int_0^delta phi(b - s) ds = q Z, so
        delta = a q - (b/2) a^2 q^2 + ((2b^2 + 1)/6) a^3 q^3 + O((a q)^4), a = Z / phi(b). Returns
        (delta, int_0^q delta, q delta - int_0^q delta); the closed forms cancel there."""
        a, b = self._a_top, self.b
        aq = a * q
        delta = aq * (1 - 0.5 * b * aq + (2 * b * b + 1) / 6 * aq * aq)
        integral = q * aq * (0.5 - b / 6 * aq + (2 * b * b + 1) / 24 * aq * aq)
        surplus = q * aq * (0.5 - b / 3 * aq + (2 * b * b + 1) / 8 * aq * aq)
        return delta, integral, surplus

    def _series_zone(self, q):
        """Where the top series is used: finite high with phi(b) > 0 and a q <= 1e-3 (truncation error
        ~ (a q)^3 < 1e-9), with a q |b| <= 1e-3 too, so that every term of the series stays small."""
        if not math.isfinite(self._a_top) or self._a_top >= 1e300:
            return np.zeros(np.shape(q), bool)
        aq = np.asarray(q) * self._a_top
        return aq * max(1.0, abs(self.b)) <= 1e-3

    def _v(self, q):
        with np.errstate(divide="ignore"):
            lin = self._ub + q * self.Z
            # q Z under the normal doubles: the upper-tail quantile from its logarithm
            log_p = np.logaddexp(self._log_ub, np.log(q) + self._log_Z)
            x = np.where(lin < 1e-280, special.ndtri_exp(log_p), special.ndtri(lin))
        out = np.clip(self.mean_ - self.sd * x, self.low, self.high)
        zone = self._series_zone(q)
        if np.any(zone):
            out = np.where(zone, self.high - self.sd * self._top_series(q)[0], out)
        return out

    def _V(self, q):
        z = (self._v(q) - self.mean_) / self.sd
        log_c = -0.5 * math.log(2 * math.pi) - self._log_Z  # phi(t) / Z = exp(-t^2/2 + log_c)
        with np.errstate(over="ignore"):
            phib = 0.0 if math.isinf(self.b) else math.exp(-0.5 * self.b * self.b + log_c)
            out = self.mean_ * q + self.sd * (np.exp(-0.5 * z * z + log_c) - phib)
        zone = self._series_zone(q)
        if np.any(zone):
            out = np.where(zone, q * self.high - self.sd * self._top_series(q)[1], out)
        return out

    def _S(self, q):
        zone = self._series_zone(q)
        with np.errstate(invalid="ignore"):
            out = np.where(q == 0, 0.0, self._V(q) - q * self._v(q))
        if np.any(zone):
            out = np.where(zone, self.sd * self._top_series(q)[2], out)
        return out

    def sf(self, x):
        z = (np.asarray(x, float) - self.mean_) / self.sd
        return _clip01((special.ndtr(-z) - self._ub) / self.Z)

    def cdf(self, x):
        return 1.0 - self.sf(x)

    def pdf(self, x):
        x = np.asarray(x, float)
        z = (x - self.mean_) / self.sd
        dens = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * self.sd * self.Z)
        return np.where((x >= self.low) & (x <= self.high), dens, 0.0)

    def numba_spec(self):
        return kinds.pack(kinds.TRUNCNORM, self.mean_, self.sd, self.a, self.b)

    @property
    def spec(self):
        return f"truncnorm:mean={self.mean_:g},sd={self.sd:g},low={self.low:g},high={self.high:g}"


class Beta(Distribution):
    """Beta(a, b) on [0, 1]: v(q) solves I_{1-x}... i.e. Pr[v >= x] = q (scipy's betainccinv)."""

    name = "beta"

    #: domain of a and b: scipy's incomplete-beta inverse returns NaN for huge parameters (a = 1e200), and
    #: tested finite and monotone up to 1e8 (tests/test_domains.py); below a = 0.05 the bottom quantile
    #: v(1 - 1e-12) ~ (1e-12 a B(a, b))^(1/a) falls under the smallest double (1e-12^20 = 1e-240 at 0.05)
    MIN_AB, MAX_AB = 0.05, 1e8

    def __init__(self, a: float = 2.0, b: float = 5.0):
        self.a = check_scale("a", a, self.MIN_AB, self.MAX_AB)
        self.b = check_scale("b", b, self.MIN_AB, self.MAX_AB)
        self.support = (0.0, 1.0)
        check_curves(self, "a")

    def _v(self, q):
        # 1 - v ~ Beta(b, a): the lower quantile keeps its precision as q -> 0 (betainccinv underflows)
        with np.errstate(invalid="ignore", divide="ignore"):
            low = special.betaincinv(self.b, self.a, q)
            # scipy returns NaN below q ~ 1e-130; there I_x(b, a) ~ x^b / (b B(b, a)) to double precision
            tiny = np.exp((np.log(q) + math.log(self.b) + special.betaln(self.b, self.a)) / self.b)
            low = np.where(np.isnan(low), tiny, low)
            # 1 - low keeps absolute precision ~1e-16, the direct inverse at 1 - q relative precision ~1e-16/q:
            # take the direct one where q > 1 - low (a v(q) so small that 1 - low would round it away)
            direct = special.betaincinv(self.a, self.b, 1.0 - q)
            return np.where((q < 0.5) & (q <= 1.0 - low), 1.0 - low, direct)

    def _V(self, q):
        x = self._v(q)
        # betaincc underflows when v(q) rounds to 1 (q < ~1e-16); V >= R = q v(q) is exact to O(q^2) there
        return np.maximum(self.a / (self.a + self.b) * special.betaincc(self.a + 1.0, self.b, x), q * x)

    def sf(self, x):
        return special.betaincc(self.a, self.b, np.clip(np.asarray(x, float), 0.0, 1.0))

    def cdf(self, x):
        return special.betainc(self.a, self.b, np.clip(np.asarray(x, float), 0.0, 1.0))

    def pdf(self, x):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.exp((self.a - 1) * np.log(x) + (self.b - 1) * np.log1p(-x) - special.betaln(self.a, self.b))
        return np.where((x > 0) & (x < 1), d, 0.0)

    def numba_spec(self):
        """A table (``compound.build_table``; error in ``table_error``): numba has no incomplete beta."""
        if not hasattr(self, "_table"):
            from .compound import build_table
            self._table, self.table_error = build_table(self)
        return kinds.TABLE, self._table

    @property
    def spec(self):
        return f"beta:a={self.a:g},b={self.b:g}"
