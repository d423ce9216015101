//! RSASSA-PSS (RFC 8017, 8.1.1) with SHA-384 over the shipped key, done here because the `rsa`
//! crate's big-integer exponentiation made one SignedToken cost milliseconds. A signature is a
//! number fixed by the key, the message and the salt (EMSA-PSS encoding, then `EM^d mod n`), so
//! any correct computation writes the same bytes; the tests below hold this one to the `rsa`
//! crate's on the same salts.
//!
//! Not constant-time, on purpose: the key is public (it ships in `model/keys/` so that anyone can
//! verify tokens), so there is nothing for a timing channel to leak.

use rand_core::RngCore;
use rsa::traits::PrivateKeyParts;
use rsa::{BigUint, RsaPrivateKey};
use sha2::{Digest, Sha384};

/// SHA-384's output length, which is also the salt length PS384 uses.
const HASH_BYTES: usize = 48;

/// An odd modulus in 64-bit limbs (least significant first) with its Montgomery constants.
struct Modulus {
    n: Vec<u64>,
    /// `-n⁻¹ mod 2⁶⁴`.
    n0_inv: u64,
    /// `R² mod n`, with `R = 2^(64·limbs)`: multiplies a number into Montgomery form.
    r2: Vec<u64>,
}

fn limbs(x: &BigUint, count: usize) -> Vec<u64> {
    let bytes = x.to_bytes_le();
    (0..count)
        .map(|i| {
            let mut limb = [0u8; 8];
            for (k, b) in bytes.iter().skip(i * 8).take(8).enumerate() {
                limb[k] = *b;
            }
            u64::from_le_bytes(limb)
        })
        .collect()
}

fn from_limbs(limbs: &[u64]) -> BigUint {
    let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    BigUint::from_bytes_le(&bytes)
}

/// `a >= b` for numbers of the same limb count.
fn at_least(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x > y;
        }
    }
    true
}

/// `a -= b` for numbers of the same limb count, `a >= b`.
fn subtract(a: &mut [u64], b: &[u64]) {
    let mut borrow = false;
    for (x, y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(*y);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        *x = d;
        borrow = b1 || b2;
    }
}

impl Modulus {
    fn new(n: &BigUint) -> Modulus {
        let count = n.to_bytes_le().len().div_ceil(8);
        let n_limbs = limbs(n, count);
        // Newton's iteration doubles the correct low bits of an inverse of the odd n[0]:
        // 1 → 2 → ... → 64 bits in six steps.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n_limbs[0].wrapping_mul(inv)));
        }
        let r2 = (BigUint::from(1u8) << (128 * count)) % n;
        Modulus {
            r2: limbs(&r2, count),
            n: n_limbs,
            n0_inv: inv.wrapping_neg(),
        }
    }

    /// `a·b·R⁻¹ mod n` (CIOS), for `a, b < n`; `t` is scratch of `limbs + 2`.
    fn mul(&self, a: &[u64], b: &[u64], t: &mut [u64], out: &mut [u64]) {
        let l = self.n.len();
        t.fill(0);
        for &bi in b {
            let mut carry = 0u64;
            for j in 0..l {
                let x = u128::from(t[j]) + u128::from(a[j]) * u128::from(bi) + u128::from(carry);
                t[j] = x as u64;
                carry = (x >> 64) as u64;
            }
            let x = u128::from(t[l]) + u128::from(carry);
            t[l] = x as u64;
            t[l + 1] = (x >> 64) as u64;
            let m = t[0].wrapping_mul(self.n0_inv);
            let x = u128::from(t[0]) + u128::from(m) * u128::from(self.n[0]);
            let mut carry = (x >> 64) as u64;
            for j in 1..l {
                let x = u128::from(t[j]) + u128::from(m) * u128::from(self.n[j]) + u128::from(carry);
                t[j - 1] = x as u64;
                carry = (x >> 64) as u64;
            }
            let x = u128::from(t[l]) + u128::from(carry);
            t[l - 1] = x as u64;
            t[l] = t[l + 1] + (x >> 64) as u64;
        }
        out.copy_from_slice(&t[..l]);
        if t[l] != 0 || at_least(out, &self.n) {
            subtract(out, &self.n);
        }
    }

    /// `base^exp mod n`, four exponent bits at a time.
    fn pow(&self, base: &BigUint, exp: &BigUint) -> BigUint {
        let l = self.n.len();
        let mut t = vec![0u64; l + 2];
        let reduced = limbs(&(base % from_limbs(&self.n)), l);
        // table[i] = base^i in Montgomery form.
        let mut table = vec![vec![0u64; l]; 16];
        let mut one = vec![0u64; l];
        one[0] = 1;
        self.mul(&one, &self.r2, &mut t, &mut table[0]);
        self.mul(&reduced, &self.r2, &mut t, &mut table[1]);
        for i in 2..16 {
            let (done, rest) = table.split_at_mut(i);
            self.mul(&done[i - 1], &done[1], &mut t, &mut rest[0]);
        }
        let mut acc = table[0].clone();
        let mut tmp = vec![0u64; l];
        let bytes = exp.to_bytes_be();
        let nibbles = bytes.iter().flat_map(|b| [b >> 4, b & 0x0f]);
        for (k, nibble) in nibbles.enumerate() {
            if k > 0 {
                for _ in 0..4 {
                    self.mul(&acc, &acc, &mut t, &mut tmp);
                    std::mem::swap(&mut acc, &mut tmp);
                }
            }
            if nibble != 0 {
                self.mul(&acc, &table[usize::from(nibble)], &mut t, &mut tmp);
                std::mem::swap(&mut acc, &mut tmp);
            }
        }
        // Out of Montgomery form: multiply by 1.
        self.mul(&acc, &one, &mut t, &mut tmp);
        from_limbs(&tmp)
    }
}

/// The private key as the Chinese remainder theorem uses it.
pub(super) struct PssKey {
    p: Modulus,
    q: Modulus,
    p_big: BigUint,
    q_big: BigUint,
    dp: BigUint,
    dq: BigUint,
    /// `q⁻¹ mod p`.
    q_inv: BigUint,
    /// The modulus's length in bytes and bits.
    size: usize,
    bits: usize,
}

impl PssKey {
    /// `None` for a key that is not two primes (the shipped key is).
    pub(super) fn new(key: &RsaPrivateKey) -> Option<PssKey> {
        let [p, q] = key.primes() else { return None };
        let one = BigUint::from(1u8);
        let two = BigUint::from(2u8);
        let p_mod = Modulus::new(p);
        // Fermat: q^(p-2) is q's inverse mod the prime p.
        let q_inv = p_mod.pow(q, &(p - &two));
        let n = p * q;
        Some(PssKey {
            q: Modulus::new(q),
            p: p_mod,
            dp: key.d() % (p - &one),
            dq: key.d() % (q - &one),
            p_big: p.clone(),
            q_big: q.clone(),
            q_inv,
            size: n.to_bytes_be().len(),
            bits: n.bits(),
        })
    }

    /// `m^d mod n` by the Chinese remainder theorem (Garner's recombination).
    fn private(&self, m: &BigUint) -> BigUint {
        let mp = self.p.pow(m, &self.dp);
        let mq = self.q.pow(m, &self.dq);
        let diff = (mp + &self.p_big - (&mq % &self.p_big)) % &self.p_big;
        let h = (diff * &self.q_inv) % &self.p_big;
        mq + h * &self.q_big
    }

    /// The PS384 signature of `message`, its 48-byte salt drawn from `salts` (as many bytes, in
    /// the same order, as the `rsa` crate draws).
    pub(super) fn sign(&self, salts: &mut impl RngCore, message: &[u8]) -> Vec<u8> {
        let mut salt = [0u8; HASH_BYTES];
        salts.fill_bytes(&mut salt);
        let em = encode(&Sha384::digest(message), &salt, self.bits - 1);
        let s = self.private(&BigUint::from_bytes_be(&em)).to_bytes_be();
        let mut out = vec![0u8; self.size.saturating_sub(s.len())];
        out.extend_from_slice(&s);
        out
    }
}

/// EMSA-PSS-ENCODE (RFC 8017, 9.1.1) with SHA-384 and MGF1-SHA-384.
fn encode(m_hash: &[u8], salt: &[u8], em_bits: usize) -> Vec<u8> {
    let em_len = em_bits.div_ceil(8);
    let mut prime = Sha384::new();
    prime.update([0u8; 8]);
    prime.update(m_hash);
    prime.update(salt);
    let h = prime.finalize();
    let db_len = em_len - HASH_BYTES - 1;
    let mut db = vec![0u8; db_len];
    db[db_len - salt.len() - 1] = 0x01;
    db[db_len - salt.len()..].copy_from_slice(salt);
    let mut counter: u32 = 0;
    let mut at = 0;
    while at < db_len {
        let block = Sha384::new()
            .chain_update(h)
            .chain_update(counter.to_be_bytes())
            .finalize();
        for (d, m) in db[at..].iter_mut().zip(block.iter()) {
            *d ^= m;
        }
        at += HASH_BYTES;
        counter += 1;
    }
    db[0] &= 0xff >> (8 * em_len - em_bits);
    db.extend_from_slice(&h);
    db.push(0xbc);
    db
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::pss::SigningKey;
    use rsa::signature::{RandomizedSigner, SignatureEncoding};

    #[test]
    fn signatures_are_the_rsa_crates_byte_for_byte() {
        // SPEC 3.8: a SignedToken is PS384 over the shipped key; the model stays deterministic,
        // so the bytes must be those the `rsa` crate writes on the same salt stream.
        let key = RsaPrivateKey::from_pkcs8_pem(super::super::PRIVATE_PEM).expect("key parses");
        let ours = PssKey::new(&key).expect("two primes");
        let theirs = SigningKey::<Sha384>::new(key);
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        for i in 0..24 {
            let message = format!("header.claims-{i}-{}", "x".repeat(i * 13));
            let expected = theirs.sign_with_rng(&mut b, message.as_bytes()).to_bytes();
            assert_eq!(
                ours.sign(&mut a, message.as_bytes()),
                expected.to_vec(),
                "message {i}"
            );
        }
        // Both drew the same number of salt bytes.
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
