"""Independent checks of what the merchant signs, written from the specifications and
not from the server's code: RFC 8032 Ed25519 verification (the reference algorithm),
Crockford base32 as Taler uses it, and the contract hash of taler-exchange's json.c
for contract terms without forgettable fields (SHA-512 over the compact, key-sorted
JSON with its terminating NUL)."""

import hashlib
import hmac
import json

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def crockford_decode(text):
    bits, count, out = 0, 0, bytearray()
    for c in text:
        bits = (bits << 5) | CROCKFORD.index(c)
        count += 5
        if count >= 8:
            count -= 8
            out.append((bits >> count) & 0xFF)
    return bytes(out)


def crockford_encode(data):
    bits, count, out = 0, 0, []
    for byte in data:
        bits = (bits << 8) | byte
        count += 8
        while count >= 5:
            count -= 5
            out.append(CROCKFORD[(bits >> count) & 31])
    if count:
        out.append(CROCKFORD[(bits << (5 - count)) & 31])
    return "".join(out)


def _add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def _decompress(s):
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P or (x == 0 and sign):
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
BASE = _decompress(_GY.to_bytes(32, "little"))


def ed25519_verify(public, message, signature):
    """RFC 8032 section 5.1.7."""
    a = _decompress(public)
    r = _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _equal(_mul(s, BASE), _add(r, _mul(k, a)))


def gnunet_kdf(xts, skm, ctx, length):
    """GNUNET_CRYPTO_kdf: HKDF, extract with HMAC-SHA512, expand with HMAC-SHA256."""
    prk = hmac.new(xts, skm, hashlib.sha512).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + ctx + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def merchant_wire_hash(payto_uri, salt):
    """TALER_merchant_wire_signature_hash: h_wire of a merchant account."""
    return gnunet_kdf(salt, payto_uri.encode() + b"\0", b"merchant-wire-signature", 64)


def contract_hash(terms):
    """TALER_JSON_contract_hash for terms without `$forgettable` fields."""
    assert "$forgettable" not in json.dumps(terms), "forgettable fields need the KDF"
    canonical = json.dumps(terms, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha512(canonical.encode() + b"\0").digest()


def verify_contract(merchant_pub, terms, sig):
    """The merchant's signature over TALER_ProposalDataPS (purpose 1101)."""
    h = contract_hash(terms)
    message = (8 + 64).to_bytes(4, "big") + (1101).to_bytes(4, "big") + h
    return ed25519_verify(crockford_decode(merchant_pub), message, crockford_decode(sig)), h


def _compress(p):
    zinv = pow(p[2], P - 2, P)
    x, y = p[0] * zinv % P, p[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ed25519_keypair(seed):
    """RFC 8032 section 5.1.5: the secret scalar, the prefix and the public key."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:], _compress(_mul(a, BASE))


def ed25519_sign(seed, message):
    """RFC 8032 section 5.1.6."""
    a, prefix, public = ed25519_keypair(seed)
    r = int.from_bytes(hashlib.sha512(prefix + message).digest(), "little") % L
    big_r = _compress(_mul(r, BASE))
    k = int.from_bytes(hashlib.sha512(big_r + public + message).digest(), "little") % L
    return big_r + ((r + k * a) % L).to_bytes(32, "little")


def purpose_block(purpose, payload):
    """GNUnet's signed block: u32 size, u32 purpose, payload (big-endian)."""
    return (8 + len(payload)).to_bytes(4, "big") + purpose.to_bytes(4, "big") + payload


def amount_nbo(amount):
    """TALER_AmountNBO of `CUR:V[.F]`: u64 value, u32 fraction (1e-8), 12-byte currency."""
    currency, number = amount.split(":")
    value, _, fraction = number.partition(".")
    frac = int((fraction + "00000000")[:8])
    return (int(value).to_bytes(8, "big") + frac.to_bytes(4, "big")
            + currency.encode().ljust(12, b"\0"))


def donation_statement_verifies(donau_pub, total, h_donor, year, sig):
    """What the Donau verifier app checks: purpose 1500 over total, donor hash, year."""
    block = purpose_block(1500, amount_nbo(total) + h_donor + year.to_bytes(4, "big"))
    return ed25519_verify(crockford_decode(donau_pub), block, crockford_decode(sig))


# RSA blind signatures as GNU Taler's wallet makes them (taler-util's rsaBlind,
# rsaUnblind, rsaVerify): GNUnet's key encoding and its KDF-based full-domain hash.

def rsa_public_decode(encoded):
    n_len = int.from_bytes(encoded[0:2], "big")
    e_len = int.from_bytes(encoded[2:4], "big")
    assert 4 + n_len + e_len == len(encoded), "not a GNUnet RSA public key"
    return (int.from_bytes(encoded[4:4 + n_len], "big"),
            int.from_bytes(encoded[4 + n_len:], "big"))


def _kdf_mod(n, ikm, salt, ctx):
    nbits = n.bit_length()
    length = (nbits - 1) // 8 + 1
    mask = (1 << (8 - (length * 8 - nbits))) - 1
    counter = 0
    while True:
        out = bytearray(gnunet_kdf(salt, ikm, ctx + counter.to_bytes(2, "big"), length))
        out[0] &= mask
        r = int.from_bytes(out, "big")
        if r < n:
            return r
        counter += 1


def rsa_fdh(encoded_pub, message_hash):
    n, _ = rsa_public_decode(encoded_pub)
    return _kdf_mod(n, message_hash, encoded_pub, b"RSA-FDA FTpsW!")


def _blinding(encoded_pub, secret):
    n, _ = rsa_public_decode(encoded_pub)
    return _kdf_mod(n, secret, b"Blinding KDF extractor HMAC key", b"Blinding KDF")


def _bytes(x):
    return x.to_bytes(max(1, (x.bit_length() + 7) // 8), "big")


def rsa_blind(encoded_pub, message_hash, secret):
    n, e = rsa_public_decode(encoded_pub)
    r = _blinding(encoded_pub, secret)
    return _bytes(rsa_fdh(encoded_pub, message_hash) * pow(r, e, n) % n)


def rsa_unblind(encoded_pub, blind_signature, secret):
    n, _ = rsa_public_decode(encoded_pub)
    r = _blinding(encoded_pub, secret)
    return _bytes(int.from_bytes(blind_signature, "big") * pow(r, -1, n) % n)


def rsa_verify(encoded_pub, message_hash, signature):
    n, e = rsa_public_decode(encoded_pub)
    return pow(int.from_bytes(signature, "big"), e, n) == rsa_fdh(encoded_pub, message_hash)
