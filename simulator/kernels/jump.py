"""Jumping a xoshiro256+ stream ahead by any number of steps J (the polynomial method).

The state transition T of xoshiro256 (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
ACM TOMS 47(4), 2021; ``rng.xoshiro_next``) is linear over GF(2) on the 256 state bits. Its characteristic
polynomial p(x) (degree 256, primitive) satisfies p(T) = 0 (Cayley-Hamilton), so with x^J = q(x) p(x) + c(x),
deg c < 256,

    T^J s = c(T) s = sum over k of c_k T^k s,   k = 0, ..., 255:

run the generator 256 steps from s and XOR together the states whose coefficient c_k is 1 (Haramoto,
Matsumoto, Nishimura, Panneton & L'Ecuyer, "Efficient jump ahead for F2-linear random number generators",
INFORMS J. Computing 20(3), 2008). Vigna's reference ``jump()`` is this computation for J = 2^128 with
c = x^(2^128) mod p written out as its JUMP constant.

Polynomials over GF(2) of degree < 256 are 4 uint64 words, bit k of word i the coefficient of x^(64 i + k),
as ``CHARPOLY`` (x^256 implied) and Vigna's JUMP. ``jump_poly(J)`` computes x^J mod p by square-and-multiply
over the bits of J (a square in GF(2)[x] spreads the bits apart; multiplying by x is a shift), ``jump_state``
applies it. The profile kernel splits a chunk among lanes: lane l starts from the chunk's state jumped l P n
steps, so every auction sees the uniforms of the serial stream. ``jump_words`` and ``jump_state`` allocate
nothing (callable from kernels compiled with ``_nrt=False``); ``jump_state`` accepts the 4 words as an array
or as the tuple ``jump_words`` returns.
"""
from __future__ import annotations

import operator

import numba
import numpy as np

from distributions.errors import InputError, InputTypeError

from . import jitcache, rng
from .rng import xoshiro_next

jitcache.register(__file__, [rng])

#: the characteristic polynomial of the xoshiro256 state transition, x^256 implied: coefficients of
#: x^0..x^255 in 4 words (bit k of word i = coefficient of x^(64 i + k)). Obtained once by Berlekamp-Massey over
#: GF(2) on bit 0 of s0 over 600 steps from the state (1, 2, 3, 4): the linear complexity is 256, so the
#: sequence's minimal polynomial is the characteristic polynomial (p is primitive: period 2^256 - 1). Checked by
#: ``tests/test_jump.py`` (recomputed there; x^(2^128) mod p equals Vigna's JUMP constant).
CHARPOLY = np.array([0x9D116F2BB0F0F001, 0x0280002BCEFD1A5E, 0x04B4EDCF26259F85, 0x0003C03C3F3ECB19],
                    dtype=np.uint64)

_P0 = np.uint64(CHARPOLY[0])
_P1 = np.uint64(CHARPOLY[1])
_P2 = np.uint64(CHARPOLY[2])
_P3 = np.uint64(CHARPOLY[3])
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_U63 = np.uint64(63)
_U32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
#: the most bits of J handed to the compiled loop at once (a limb < 2^62 fits its int64 argument)
_LIMB = 62


@numba.njit(cache=True, inline="always")
def times_x(c0, c1, c2, c3):
    """c(x) x mod p(x): a one-bit shift; the x^256 that falls out is replaced by p(x) - x^256."""
    mask = _ZERO - (c3 >> _U63)
    c3 = ((c3 << _ONE) | (c2 >> _U63)) ^ (_P3 & mask)
    c2 = ((c2 << _ONE) | (c1 >> _U63)) ^ (_P2 & mask)
    c1 = ((c1 << _ONE) | (c0 >> _U63)) ^ (_P1 & mask)
    c0 = (c0 << _ONE) ^ (_P0 & mask)
    return c0, c1, c2, c3


@numba.njit(cache=True, inline="always")
def spread(w):
    """The low 32 bits of w spread apart: bit k to bit 2k (the square of a GF(2) polynomial, 32 terms)."""
    w &= _LOW32
    w = (w | (w << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    w = (w | (w << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    w = (w | (w << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    w = (w | (w << np.uint64(2))) & np.uint64(0x3333333333333333)
    return (w | (w << _ONE)) & np.uint64(0x5555555555555555)


@numba.njit(cache=True)
def square(c0, c1, c2, c3):
    """c(x)^2 mod p(x): c(x)^2 = sum c_k x^(2k) (GF(2)) = L(x) + x^256 H(x), reduced as L + (H x^256 mod p),
    H times x 256 times (Horner)."""
    h0, h1, h2, h3 = spread(c2), spread(c2 >> _U32), spread(c3), spread(c3 >> _U32)
    for _ in range(256):
        h0, h1, h2, h3 = times_x(h0, h1, h2, h3)
    return (h0 ^ spread(c0), h1 ^ spread(c0 >> _U32), h2 ^ spread(c1), h3 ^ spread(c1 >> _U32))


@numba.njit(cache=True)
def shift_in(c0, c1, c2, c3, J, bits):
    """c(x)^(2^bits) x^J mod p(x) for 0 <= J < 2^bits (the left-to-right square-and-multiply over J's bits)."""
    for b in range(bits - 1, -1, -1):
        c0, c1, c2, c3 = square(c0, c1, c2, c3)
        if (J >> b) & 1:
            c0, c1, c2, c3 = times_x(c0, c1, c2, c3)
    return c0, c1, c2, c3


@numba.njit(cache=True)
def jump_words(J):
    """x^J mod p(x) as a tuple of 4 uint64 words, for 0 <= J < 2^63 (allocation-free: usable in kernels)."""
    if J < 0:
        raise ValueError("J: a jump must be >= 0")
    bits = 0
    while bits < 63 and (J >> bits) > 0:
        bits += 1
    return shift_in(_ONE, _ZERO, _ZERO, _ZERO, J, bits)


@numba.njit(cache=True, inline="always")
def jump_state(poly, s0, s1, s2, s3):
    """The state T^J s = sum_k c_k T^k s of a xoshiro256 stream, for poly = x^J mod p(x) (``jump_poly``,
    ``jump_words``): 256 steps of the generator, each state XORed in where its coefficient is 1 (Haramoto et
    al. 2008; Vigna's ``jump()``). ``poly``: 4 uint64 words, an array or a tuple. Allocation-free."""
    t0 = t1 = t2 = t3 = _ZERO
    for i in range(4):
        w = np.uint64(poly[i])
        for _ in range(64):
            mask = _ZERO - (w & _ONE)
            t0 ^= s0 & mask
            t1 ^= s1 & mask
            t2 ^= s2 & mask
            t3 ^= s3 & mask
            w >>= _ONE
            _, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
    return t0, t1, t2, t3


def _steps(J) -> int:
    """J as a Python int >= 0 (numpy integers accepted), or an input error naming J."""
    if isinstance(J, (bool, np.bool_)):
        raise InputTypeError("J", f"expected a whole number of steps >= 0, got {J!r}")
    try:
        J = operator.index(J)
    except TypeError:
        raise InputTypeError("J", f"expected a whole number of steps >= 0, got {J!r}") from None
    if J < 0:
        raise InputError("J", f"a jump must be >= 0 steps, got {J}")
    return J


def jump_poly(J) -> np.ndarray:
    """x^J mod p(x), 4 uint64 words (the jump polynomial of ``jump_state``), for any integer J >= 0 (J >= 2^63
    too: e.g. ``jump_poly(2**128)`` is Vigna's JUMP). The compiled loop takes J's bits 62 at a time."""
    J = _steps(J)
    c = np.array((1, 0, 0, 0), dtype=np.uint64)
    remaining = J.bit_length()
    while remaining > 0:
        bits = min(_LIMB, remaining)
        remaining -= bits
        c = np.array(shift_in(c[0], c[1], c[2], c[3], (J >> remaining) & ((1 << bits) - 1), bits), dtype=np.uint64)
    return c


def jump(state, J) -> np.ndarray:
    """A new xoshiro256 state (4 uint64): ``state`` advanced J >= 0 steps, as J calls of ``xoshiro_next``."""
    state = np.asarray(state)
    if state.shape != (4,) or state.dtype != np.uint64:
        raise InputTypeError("state", f"expected 4 uint64 words, got shape {state.shape} dtype {state.dtype}")
    s0, s1, s2, s3 = jump_state(jump_poly(J), state[0], state[1], state[2], state[3])
    return np.array((s0, s1, s2, s3), dtype=np.uint64)
