"""Jump-ahead of the xoshiro256+ streams (``simulator/kernels/jump.py``): the characteristic polynomial recomputed
here by Berlekamp-Massey, jumps against stepping the generator, composition, Vigna's published JUMP / LONG_JUMP
constants (x^(2^128), x^(2^192) mod p) and his reference ``jump()`` transcribed in plain Python."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from distributions.errors import InputError, InputTypeError
from simulator.kernels import rng
from simulator.kernels.jump import CHARPOLY, jump, jump_poly, jump_state, jump_words


MASK = (1 << 64) - 1
#: Vigna's xoshiro256 jump() and long_jump() constants (xoshiro256plus.c, prng.di.unimi.it)
JUMP = (0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C)
LONG_JUMP = (0x76E15D3EFEFDCBBF, 0xC5004E441C522FB3, 0x77710069854EE241, 0x39109BB02ACBE635)


def step(s):
    """One xoshiro256 state step in Python integers, transcribed from Vigna's C ``next()``."""
    s0, s1, s2, s3 = s
    t = (s1 << 17) & MASK
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = ((s3 << 45) | (s3 >> 19)) & MASK
    return s0, s1, s2, s3


def berlekamp_massey(bits):
    """(connection polynomial C as an int, bit i = c_i, with c_0 = 1; linear complexity L) of a GF(2) sequence."""
    c, b, length, m = 1, 1, 0, 1
    for n, d in enumerate(bits):
        for i in range(1, length + 1):
            d ^= (c >> i) & bits[n - i]
        if d == 0:
            m += 1
        elif 2 * length <= n:
            c, b, length, m = c ^ (b << m), c, n + 1 - length, 1
        else:
            c ^= b << m
            m += 1
    return c, length


def charpoly_int(start=(5, 7, 11, 13), word=2, bit=17, steps=560):
    """p(x) as an int (bit k = coefficient of x^k): the reciprocal x^L C(1/x) of the connection polynomial of
    bit ``bit`` of state word ``word``, a different bit and start than the module's comment used."""
    s, bits = start, []
    for _ in range(steps):
        bits.append((s[word] >> bit) & 1)
        s = step(s)
    c, length = berlekamp_massey(bits)
    assert length == 256  # full linear complexity: the minimal polynomial is the characteristic polynomial
    return sum(1 << (length - i) for i in range(length + 1) if (c >> i) & 1)


P = charpoly_int()


def words(poly_int):
    return tuple((poly_int >> (64 * i)) & MASK for i in range(4))


def x_power_mod_p(J):
    """x^J mod p(x) by Python-integer polynomial arithmetic (right-to-left square-and-multiply)."""
    def mulmod(a, b):
        r = 0
        while b:
            if b & 1:
                r ^= a
            b >>= 1
            a <<= 1
            if a >> 256:
                a ^= P
        return r
    result, base = 1, 2
    while J:
        if J & 1:
            result = mulmod(result, base)
        base = mulmod(base, base)
        J >>= 1
    return result


def reference_jump(s, constants):
    """Vigna's ``jump()`` in Python: XOR together the states whose bit of the constants is set, stepping between."""
    t = [0, 0, 0, 0]
    for w in constants:
        for b in range(64):
            if (w >> b) & 1:
                t = [ti ^ si for ti, si in zip(t, s)]
            s = step(s)
    return tuple(t)


def as_ints(state):
    return tuple(int(w) for w in state)


STATES = rng.chunk_states(1, 0, 3)


def test_charpoly_is_berlekamp_massey():
    assert P >> 256 == 1 and P & 1  # monic of degree 256, p(0) = 1 (T is invertible)
    assert as_ints(CHARPOLY) == words(P)
    assert CHARPOLY.dtype == np.uint64 and CHARPOLY.shape == (4,)
    # another bit sequence of the same generator has the same minimal polynomial
    assert charpoly_int(start=(1, 0, 0, 0), word=0, bit=0) == P


@pytest.mark.parametrize("J", [0, 1, 2, 63, 64, 255, 256, 257, 1000, 12345, 10**6])
def test_jump_equals_stepping(J):
    for state in STATES:
        before = as_ints(state)
        stepped = state.copy()
        rng.uniforms(stepped, J)  # J steps of xoshiro_next, in place
        jumped = jump(state, J)
        assert jumped.dtype == np.uint64
        assert as_ints(jumped) == as_ints(stepped), J
        assert as_ints(state) == before  # jump returns a new state


def test_small_jumps_against_python_stepping():
    s = as_ints(STATES[0])
    for J in range(300):
        assert as_ints(jump(STATES[0], J)) == s, J
        s = step(s)


@pytest.mark.parametrize("J", [0, 1, 255, 256, 2**24 + 7, 2**40 + 12345, 2**62 - 1, 2**62, 2**63 - 1, 2**63,
                               2**100 + 3, 2**200 + 2**70 + 1])
def test_jump_poly_is_x_power_mod_p(J):
    assert as_ints(jump_poly(J)) == words(x_power_mod_p(J))
    if J < 2**63:
        assert as_ints(jump_words(J)) == as_ints(jump_poly(J))


def test_composition():
    a, b = 2**40 + 987654321, 2**40 + 3 * 2**37 + 17
    for state in STATES:
        assert as_ints(jump(jump(state, a), b)) == as_ints(jump(state, a + b))
    # across the 62-bit limbs of the Python wrapper and past 2^63
    a, b = 2**62 + 5, 2**62 + 2**61 + 9
    assert as_ints(jump(jump(STATES[1], a), b)) == as_ints(jump(STATES[1], a + b))


def test_vigna_jump_constants():
    """Vigna's JUMP is x^(2^128) mod p and LONG_JUMP x^(2^192) mod p, in the same bit convention."""
    assert as_ints(jump_poly(2**128)) == JUMP
    assert as_ints(jump_poly(2**192)) == LONG_JUMP
    for state in STATES:
        s = as_ints(state)
        expected = reference_jump(s, JUMP)
        assert as_ints(jump_state(jump_poly(2**128), *state)) == expected
        assert as_ints(jump(state, 2**128)) == expected
        assert as_ints(jump(state, 2**192)) == reference_jump(s, LONG_JUMP)


@numba.njit(_nrt=False)
def lane_starts(state, lanes, stride, out):
    """What the profile kernel does: lane l starts l * stride steps ahead, computed without the NRT."""
    for lane in range(lanes):
        poly = jump_words(np.int64(lane) * stride)
        s0, s1, s2, s3 = jump_state(poly, state[0], state[1], state[2], state[3])
        out[lane, 0] = s0
        out[lane, 1] = s1
        out[lane, 2] = s2
        out[lane, 3] = s3


def test_lanes_see_the_serial_stream():
    """A chunk of size auctions of n buyers in L lanes of P = size // L auctions: lane l's draws from its jumped
    state are exactly draws l P n, ..., (l + 1) P n - 1 of the serial stream."""
    size, n, lanes = 1000, 7, 4
    P = size // lanes
    serial = rng.uniforms(STATES[2].copy(), lanes * P * n)
    starts = np.empty((lanes, 4), dtype=np.uint64)
    lane_starts(STATES[2], lanes, P * n, starts)
    for lane in range(lanes):
        draws = rng.uniforms(starts[lane].copy(), P * n)
        np.testing.assert_array_equal(draws, serial[lane * P * n:(lane + 1) * P * n])


def test_bad_input():
    with pytest.raises(InputError, match="J"):
        jump_poly(-1)
    for bad in (1.5, "3", True):
        with pytest.raises(InputTypeError, match="J"):
            jump_poly(bad)
    with pytest.raises(InputTypeError, match="state"):
        jump(np.zeros(4), 3)
    with pytest.raises(InputTypeError, match="state"):
        jump(np.zeros(3, dtype=np.uint64), 3)
    with pytest.raises(ValueError):
        jump_words(-1)
    assert as_ints(jump_poly(np.int64(5))) == (32, 0, 0, 0)
