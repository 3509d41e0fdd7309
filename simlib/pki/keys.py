"""Deterministic key derivation for simulated CAs and servers.

Every simulated key is derived from caller-supplied ``material`` bytes, so a
scenario replays to byte-identical keys, certificates and pins on any machine.
These keys are for simulation only: anyone who knows the material knows the key.
Simulated RSA keys are RSA in form (a modulus of exactly the named size, e = 65537, a valid
CRT private key that signs and verifies, pins openssl computes alike) but built for speed, not
secrecy: see :func:`_derive_rsa`.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Mapping
from types import MappingProxyType

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from simlib.pki.pins import PinSource, _public_key

__all__ = ["KEY_ALGORITHMS", "PrivateKey", "derive_private_key", "key_algorithm", "key_type"]

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

_RSA_E = 65537

# Rounds of the search that made the published primes (``_generate_prime``): FIPS 186-5
# Table B.1 asks for at most 5 for random candidates of these sizes, so 10 is double.
# The count is part of that recipe (bases come from the DRBG stream of the candidates).
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
    """A ``bits``-bit probable prime p with gcd(e, p - 1) = 1 (how ``_FIXED_PRIMES`` were made)."""
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


# Derivation tag of simulated RSA keys (v2: one published prime times a small fresh one; v1
# searched two balanced primes in pure Python, about 0.5 s per rsa-2048 key).
_RSA_DOMAIN = b"simlib.pki.keys/rsa-v2"

# Bits of the fresh prime in every simulated RSA modulus. Below 3.3e24 Miller-Rabin with the
# first 13 primes as bases is a proof (Sorenson & Webster 2015), so the prime is certain and
# cheap (microseconds); about 2**72 such primes make two materials sharing one negligible.
_FRESH_BITS = 80
_FRESH_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
_FRESH_SIEVE = math.prod(_small_primes(1 << 10))

# The other factor of each size: a published constant, so a key costs one small prime search,
# not two big ones. Each is _generate_prime(bits, _HashDrbg(_fixed_prime_seed(bits))) -- the v1
# search, top two bits set, p mod e != 1. tests/pki/test_keys.py re-derives the rsa-2048 one
# (the others take 10-25 s) and has OpenSSL test all three for primality.
_FIXED_PRIMES: Mapping[str, int] = MappingProxyType(
    {
        "rsa-2048": int(
            "e7ff6a44e6de09fbcd4b445bca34db01711d236b0f0ea7860120b01396678106b1f3fd823c7fc5c30031"
            "692dea18a223a886de12e2d84067b98065e0ecda7740855bccbd56aa4c44c632ba8b564feec63b2e679c"
            "a43129676a656e5cab63dcdc4678640968a313b0ec8bb90812b75946054643dbf1432fdc497bbc13abfb"
            "5a05aa14093fdd3163184c3afde4ea82215a0d000fac407754ff99015b36faa07dbe842a2fa15b986995"
            "63508155c07c17382e6268415d65a68e7313b1e419430fd22da1b1803e0c09da648864bd973b8c828a26"
            "5db9102e17359e9f419ad2a704a8082957bff6d50287394a6e1abe84babad2cd1af5ddc3",
            16,
        ),
        "rsa-3072": int(
            "e3939b2afe0447ccaaef7a35d80cc49d8f14088600d5f182ba7b4b7204ba89c9f24fafe13f4cbefeabb5"
            "aff1647760db58207678aa77ddd0ad95f3c8a14cecd7c038b0ab544d9cbd8574a225e9a896983f28c356"
            "4e420420ff6da705aeca362d691190a1d46a973ed262714c62fa060ff1cf4344fd1e5faff8cddb746d78"
            "5bd3e47ba30b69a2004e36f25bbf72f75fa0c8af64c78282c0dcd0265e5023256cfe7aca742bee3d36ac"
            "c882957232b27e23c725da066491565ae1b7f2fa76c76b9eb9a92c1b125c5ea5c2e0149d2f7d8a128201"
            "2ac903cd6ddfa1359dbf2fbbebc52e7c0c507c55295ce3b8bfd5d98d7db8a721904ab786d7851bebdca7"
            "0da64132cc22c966174dded47f1c87a5c64fe150219e313d0d918a59959b79822ed7455bab3fcf803019"
            "bfbef7a4999c90b563149f22a125de260de233c932fe136d3e9db62dd30a5260091adf89f4da80bd54a0"
            "036451eb845a364a6680db863f917fbf07b8c52cb1890652234cf3c782d03176db050e8fb19f",
            16,
        ),
        "rsa-4096": int(
            "d3fc626023c2b82e40abf7bd97b113ae5178737b48c5c2b26696330cb3b6fe51bdab3c6f83faecb31830"
            "45f55fa8720e8192ddb12554a9a5fa1bbdfbc23678cab8f2d4349e5a7081ff1ad9764b12c574d485f9da"
            "110b2a10913d6005b08cf1b3c599276eefbd8ea53fea0b9e0d8faa3b277963b97cb7eb83de85a315e14a"
            "7010add96ddb08a4085db21f64ddf259b9dd51411a801e63724792e940057f2f4e3b95d488bec9d1fedd"
            "83eb3b20eaf61f6a675985195082619fcefd5625a94926d243b49156633bb39fa056cfef74d32e448176"
            "c833e22c9b5a018c7c4c0eea810690ee6fa346cc93b00065e3304fd51eea60cba1136f7dfa3a62ab9eae"
            "068db083ab0bec33223d211f4e7e78acc672357f51437a1eb030b220ccead9839f4bdb5bcbe550aa3fd5"
            "2f34293a961a12c5a5814b72fb6d4c0fab839649bdd28dfbed59dee38596c8b17217222a7cc5c5833140"
            "a17209591e34bc699a324bf3d27c136bfeb0f79fee73b8723fdfdc97e70268f5ac136d6590a9127bafa8"
            "688a6b36dbbd13d448ae1cc18657ffe68df2e5c3e44aca65d7a0f958e98ec44d2a9bb7dba3951a47bc6d"
            "383ea8c04ba04ae50f8babf816418d4e6b54fd061cdb39a5091acda72b059bb0b379739984e2c37d9d21"
            "f70a64d8cc5177d242820c2543cd25e00c4bcb756927b0cbadd832444089afeecea25e59475d12b5",
            16,
        ),
    }
)


def _fixed_prime_seed(bits: int) -> bytes:
    return _RSA_DOMAIN + b"\x00fixed prime\x00" + str(bits).encode()


def _is_proven_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for odd ``n`` > 41 below 3.3e24 (exact for that range)."""
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in _FRESH_BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _fresh_prime(drbg: _HashDrbg) -> int:
    """An ``_FRESH_BITS``-bit prime q (top two bits set) with gcd(e, q - 1) = 1."""
    top = 0b11 << (_FRESH_BITS - 2)
    while True:
        candidate = drbg.randbits(_FRESH_BITS) | top | 1
        if math.gcd(candidate, _FRESH_SIEVE) != 1 or candidate % _RSA_E == 1:
            continue
        if _is_proven_prime(candidate):
            return candidate


def _derive_rsa(material: bytes, algorithm: str) -> rsa.RSAPrivateKey:
    """n = P * q: P the published prime of the size, q an 80-bit prime drawn from the material.

    Both have their top two bits set, so n has exactly the named size. The key is as public
    as every simulated key (P is in this file and q is small), which costs nothing here; what
    matters is that it is a real RSA key (cryptography builds it, OpenSSL signs with it) and
    that distinct materials give distinct moduli.
    """
    p = _FIXED_PRIMES[algorithm]
    drbg = _HashDrbg(_RSA_DOMAIN + b"\x00" + algorithm.encode() + b"\x00" + material)
    q = _fresh_prime(drbg)
    n = p * q
    d = pow(_RSA_E, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(_RSA_E, n),
    )
    # OpenSSL's check re-tests both primes (about 45 ms for rsa-2048, 100x the derivation):
    # q is proven above and P by tests/pki/test_keys.py.
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


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
# the same key for every simulated rotation and certificate that shows it.
@functools.lru_cache(maxsize=1024)
def derive_private_key(material: bytes, algorithm: str = "ec-p256") -> PrivateKey:
    """Derive a private key deterministically from ``material``.

    EC: the scalar is a SHA-512 counter-mode expansion of the domain tag,
    algorithm and material (curve size + 128 bits), reduced mod (order - 1), plus 1.
    RSA: a published prime of the size less 80 bits times an 80-bit prime drawn from a
    SHA-256 counter-mode DRBG seeded the same way (sieve, then a deterministic
    Miller-Rabin proof), e = 65537; see ``_derive_rsa``.
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
    if algorithm in _FIXED_PRIMES:
        return _derive_rsa(material, algorithm)
    raise ValueError(
        f"unknown key algorithm {algorithm!r}; expected one of {', '.join(KEY_ALGORITHMS)}"
    )


_CURVE_ALGORITHMS = {curve.name: name for name, (curve, _order) in _EC_CURVES.items()}


def key_type(obj: PinSource) -> str:
    """The key type of a key or certificate, the one rule for it: ``"rsa"``, ``"ecdsa"`` (the
    catalogue's and the ACME profiles' words), or the key class's name for any other algorithm."""
    key = _public_key(obj)
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    return type(key).__name__


def key_algorithm(obj: PinSource) -> str | None:
    """The :data:`KEY_ALGORITHMS` name of a key or certificate's key (``"rsa-4096"``,
    ``"ec-p384"``); None for a key a scenario cannot name (other sizes, curves, algorithms)."""
    key = _public_key(obj)
    if isinstance(key, rsa.RSAPublicKey):
        name = f"rsa-{key.key_size}"
        return name if name in _FIXED_PRIMES else None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _CURVE_ALGORITHMS.get(key.curve.name)
    return None
