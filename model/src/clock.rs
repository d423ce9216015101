//! The simulated clock (SPEC 2): milliseconds since the epoch, moved only by events, never
//! backwards. The model never reads the wall clock.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The world's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Clock {
    now_ms: Millis,
}

/// 2026-01-01T00:00:00Z: where a fresh world's clock starts unless told otherwise.
pub const DEFAULT_START_MS: Millis = 1_767_225_600_000;

impl Default for Clock {
    fn default() -> Self {
        Clock {
            now_ms: DEFAULT_START_MS,
        }
    }
}

impl Clock {
    pub fn at(now_ms: Millis) -> Self {
        Clock { now_ms }
    }

    pub fn now_ms(&self) -> Millis {
        self.now_ms
    }

    /// Moves the clock to `to_ms` if that is later; an earlier instant leaves it where it is.
    pub fn advance_to(&mut self, to_ms: Millis) {
        self.now_ms = self.now_ms.max(to_ms);
    }

    pub fn advance_by(&mut self, delta_ms: Millis) {
        self.now_ms = self.now_ms.saturating_add(delta_ms.max(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_2_clock_never_moves_backwards() {
        let mut c = Clock::at(1_000);
        c.advance_to(500);
        assert_eq!(c.now_ms(), 1_000);
        c.advance_by(-5);
        assert_eq!(c.now_ms(), 1_000);
        c.advance_by(250);
        assert_eq!(c.now_ms(), 1_250);
        c.advance_to(2_000);
        assert_eq!(c.now_ms(), 2_000);
    }
}
