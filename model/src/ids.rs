//! Seeded identifiers (SPEC 2): ChaCha8 split into independent streams, so drawing a request id
//! never shifts the ids of objects. Same seed and same requests give the same ids.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The id streams of one world.
#[derive(Clone, Debug)]
pub struct IdStreams {
    objects: ChaCha8Rng,
    requests: ChaCha8Rng,
    salts: ChaCha8Rng,
}

const STREAM_OBJECTS: u64 = 1;
const STREAM_REQUESTS: u64 = 2;
const STREAM_SALTS: u64 = 3;

fn stream(seed: u64, id: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(id);
    rng
}

impl IdStreams {
    pub fn new(seed: u64) -> Self {
        IdStreams {
            objects: stream(seed, STREAM_OBJECTS),
            requests: stream(seed, STREAM_REQUESTS),
            salts: stream(seed, STREAM_SALTS),
        }
    }

    /// 32 lowercase hex digits from the object stream (license, grant and token ids).
    pub fn hex32(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.objects.fill_bytes(&mut bytes);
        hex(&bytes)
    }

    /// `n` lowercase alphanumerics from the object stream (EVS environment and connector ids).
    pub fn alnum(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        (0..n)
            .map(|_| ALPHABET[(self.objects.next_u32() % ALPHABET.len() as u32) as usize] as char)
            .collect()
    }

    /// A UUID (version 4 layout) from the request stream.
    pub fn request_id(&mut self) -> String {
        let b = self.request_bytes();
        // 8-4-4-4-12 hex digits, written in place.
        let mut s = String::with_capacity(36);
        for (i, byte) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            push_hex(&mut s, *byte);
        }
        s
    }

    /// The next request id's sixteen bytes: the request stream's, with the version 4 and
    /// variant bits set.
    fn request_bytes(&mut self) -> [u8; 16] {
        let mut b = [0u8; 16];
        self.requests.fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        b
    }

    /// The salt stream, as an RNG for PSS signatures.
    pub fn salts(&mut self) -> &mut ChaCha8Rng {
        &mut self.salts
    }

    /// How far each stream has been drawn (for `World::counters`).
    pub fn positions(&self) -> StreamPositions {
        // 2^64 words is centuries of drawing at any rate a world is asked for ids.
        let at = |rng: &ChaCha8Rng| u64::try_from(rng.get_word_pos()).unwrap_or(u64::MAX);
        StreamPositions {
            objects: at(&self.objects),
            requests: at(&self.requests),
            salts: at(&self.salts),
        }
    }

    /// Moves each stream to a position `positions` returned (of streams of the same seed).
    pub fn seek(&mut self, to: StreamPositions) {
        self.objects.set_word_pos(u128::from(to.objects));
        self.requests.set_word_pos(u128::from(to.requests));
        self.salts.set_word_pos(u128::from(to.salts));
    }
}

/// How many 32-bit words each id stream has handed out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StreamPositions {
    pub objects: u64,
    pub requests: u64,
    pub salts: u64,
}

/// Lowercase hex digits of `bytes` (ids, digests, SigV4 signatures).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        push_hex(&mut s, *b);
    }
    s
}

/// `byte` as two lowercase hex digits.
fn push_hex(s: &mut String, byte: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    s.push(DIGITS[usize::from(byte >> 4)] as char);
    s.push(DIGITS[usize::from(byte & 0x0f)] as char);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_2_same_seed_same_ids_and_streams_are_independent() {
        let mut a = IdStreams::new(7);
        let mut b = IdStreams::new(7);
        let _ = b.request_id();
        assert_eq!(
            a.hex32(),
            b.hex32(),
            "drawing a request id must not shift object ids"
        );
        let id = a.hex32();
        assert_eq!(id.len(), 32);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(IdStreams::new(8).hex32(), IdStreams::new(7).hex32());
        let rid = a.request_id();
        assert_eq!(rid.len(), 36);
        assert_eq!(&rid[14..15], "4");
    }

    #[test]
    fn a_request_id_is_its_sixteen_bytes_in_hex_grouped_8_4_4_4_12() {
        let mut a = IdStreams::new(7);
        for _ in 0..1000 {
            let h = hex(&a.clone().request_bytes());
            let want = [&h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]].join("-");
            assert_eq!(a.request_id(), want);
        }
    }

    #[test]
    fn seeking_to_saved_positions_draws_the_same_ids_again() {
        let mut a = IdStreams::new(7);
        let _ = (a.hex32(), a.request_id(), a.alnum(5));
        let saved = a.positions();
        let next = (a.hex32(), a.request_id(), a.alnum(3), a.salts().next_u64());
        let mut b = IdStreams::new(7);
        assert_ne!(b.positions(), saved);
        b.seek(saved);
        assert_eq!(
            (b.hex32(), b.request_id(), b.alnum(3), b.salts().next_u64()),
            next
        );
    }
}
