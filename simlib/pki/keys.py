"""Deterministic key derivation for simulated CAs and servers.

Every simulated key is derived from caller-supplied ``material`` bytes, so a
scenario replays to byte-identical keys, certificates and pins on any machine.
These keys are for simulation only: anyone who knows the material knows the key.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Mapping
from types import MappingProxyType

from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = ["KEY_ALGORITHMS", "PrivateKey", "derive_private_key"]

KEY_ALGORITHMS = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096")

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# Version tag mixed into every derivation. Changing it (or anything else in the
# derivation) changes every simulated key and pin, so the golden vectors in
# tests/pki/test_keys.py must be updated deliberately if it ever changes.
_DOMAIN = b"simlib.pki.keys/v1"

# Group orders from SEC 2 v2 / FIPS 186-4 D.1.2; cryptography does not expose them.
_EC_CURVES: Mapping[str, tuple[ec.EllipticCurve, int]] = MappingProxyType(
    {
        "ec-p256": (
            ec.SECP256R1(),
            0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        ),
        "ec-p384": (
            ec.SECP384R1(),
            0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
        ),
    }
)
_RSA_BITS: Mapping[str, int] = MappingProxyType(
    {"rsa-2048": 2048, "rsa-3072": 3072, "rsa-4096": 4096}
)

_RSA_E = 65537

# FIPS 186-5 Table B.1 asks for 5 / 4 / 4 rounds for random 1024 / 1536 / 2048-bit
# candidates (error <= 2**-112 / 2**-128 / 2**-144); our candidates are random
# DRBG output, so 10 rounds is double the requirement for every supported size.
# The count is part of the derivation (bases come from the same DRBG stream as
# the candidates), so changing it can change derived RSA keys: keep it fixed.
_MILLER_RABIN_ROUNDS = 10


def _small_primes(limit: int) -> tuple[int, ...]:
    """Odd primes below ``limit`` (sieve of Eratosthenes)."""
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for i in range(2, math.isqrt(limit) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytes(len(range(i * i, limit, i)))
    return tuple(i for i in range(3, limit) if sieve[i])


# Product of the odd primes below 2**14: one gcd against it rejects about 88 % of
# odd candidates before any (much slower) modular exponentiation. Immutable int.
_SIEVE_PRODUCT = math.prod(_small_primes(1 << 14))


class _HashDrbg:
    """SHA-256 counter-mode byte stream: block i = SHA-256(seed || i as 8 bytes).

    Not a general-purpose CSPRNG API; it exists so RSA generation is a pure,
    portable function of its seed.
    """

    def __init__(self, seed: bytes) -> None:
        self._seed = hashlib.sha256(seed).digest()
        self._counter = 0
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def randbits(self, k: int) -> int:
        """Uniform integer in [0, 2**k)."""
        value = int.from_bytes(self.read((k + 7) // 8), "big")
        return value >> (-k % 8)

    def randrange(self, low: int, high: int) -> int:
        """Uniform integer in [low, high) by rejection sampling (no modulo bias)."""
        span = high - low
        bits = span.bit_length()
        while True:
            value = self.randbits(bits)
            if value < span:
                return low + value


def _is_probable_prime(n: int, drbg: _HashDrbg) -> bool:
    """Miller-Rabin with ``_MILLER_RABIN_ROUNDS`` bases drawn from ``drbg``."""
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(_MILLER_RABIN_ROUNDS):
        x = pow(drbg.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _generate_prime(bits: int, drbg: _HashDrbg) -> int:
    """A ``bits``-bit probable prime p with gcd(e, p - 1) = 1."""
    # Top two bits set so the product of two such primes has exactly 2*bits bits.
    top = 0b11 << (bits - 2)
    while True:
        candidate = drbg.randbits(bits) | top | 1
        if math.gcd(candidate, _SIEVE_PRODUCT) != 1:
            continue
        # e is prime, so gcd(e, p - 1) = 1 exactly when p mod e != 1.
        if candidate % _RSA_E == 1:
            continue
        if _is_probable_prime(candidate, drbg):
            return candidate


def _derive_rsa(material: bytes, algorithm: str) -> rsa.RSAPrivateKey:
    bits = _RSA_BITS[algorithm]
    half = bits // 2
    drbg = _HashDrbg(_DOMAIN + b"\x00" + algorithm.encode() + b"\x00" + material)
    p = _generate_prime(half, drbg)
    while True:
        q = _generate_prime(half, drbg)
        # FIPS 186-4 B.3.1: |p - q| > 2**(nlen/2 - 100), so Fermat factoring is hopeless.
        if abs(p - q) > 1 << (half - 100) and (p * q).bit_length() == bits:
            break
    if p < q:
        p, q = q, p
    n = p * q
    lam = math.lcm(p - 1, q - 1)
    d = pow(_RSA_E, -1, lam)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(_RSA_E, n),
    )
    return numbers.private_key()


def _derive_ec(material: bytes, algorithm: str) -> ec.EllipticCurvePrivateKey:
    curve, order = _EC_CURVES[algorithm]
    # Expand to at least 128 bits more than the order so the reduction bias is negligible.
    needed = (order.bit_length() + 128 + 7) // 8
    prefix = _DOMAIN + b"\x00" + algorithm.encode() + b"\x00"
    stream = b""
    counter = 0
    while len(stream) < needed:
        stream += hashlib.sha512(prefix + counter.to_bytes(4, "big") + material).digest()
        counter += 1
    scalar = int.from_bytes(stream[:needed], "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, curve)


# Pure-function memo, not simulation state: the result depends only on the
# arguments, so caching cannot change any outcome; it only avoids re-deriving
# the same RSA key (tens to hundreds of ms) for every simulated rotation.
@functools.lru_cache(maxsize=1024)
def derive_private_key(material: bytes, algorithm: str = "ec-p256") -> PrivateKey:
    """Derive a private key deterministically from ``material``.

    EC: the scalar is a SHA-512 counter-mode expansion of the domain tag,
    algorithm and material (curve size + 128 bits), reduced mod (order - 1), plus 1.
    RSA: two primes of half the size from a SHA-256 counter-mode DRBG seeded the
    same way (small-prime sieve, then Miller-Rabin with DRBG bases), e = 65537.
    The algorithm is part of the seed, so one material gives unrelated keys per
    algorithm. Results are memoized (see the comment above).

    Args:
        material (bytes): seed bytes; equal material and algorithm give an equal key.
        algorithm (str): one of :data:`KEY_ALGORITHMS`.

    Returns:
        An ``EllipticCurvePrivateKey`` or ``RSAPrivateKey`` (e = 65537).

    Raises:
        ValueError: ``algorithm`` is not in :data:`KEY_ALGORITHMS`.
        TypeError: ``material`` is not ``bytes``.
    """
    if not isinstance(material, bytes):
        raise TypeError(f"material must be bytes, not {type(material).__name__}")
    if algorithm in _EC_CURVES:
        return _derive_ec(material, algorithm)
    if algorithm in _RSA_BITS:
        return _derive_rsa(material, algorithm)
    raise ValueError(
        f"unknown key algorithm {algorithm!r}; expected one of {', '.join(KEY_ALGORITHMS)}"
    )
