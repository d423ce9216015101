//! Shards: one campaign split across workers. `--shard K/N` (`campaign::Config::shard`) runs
//! the generated cases of one seed whose index `i` has `i % N == K - 1`; the scenario suite and
//! the concurrent phase run in shard 1 only, so every case, scenario and round runs in exactly
//! one shard. [`merge`] puts the shards' JSON reports (`--json`) together again into the
//! [`Summary`](crate::campaign::Summary) of the whole run, from which `json_report`, the matrix,
//! the JUnit report and the exit code follow as for a run that was never split.

mod merge;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use merge::{merge, merge_summaries, summary_of_report};

/// Shard `index` of `count` (1-based: `1/4` .. `4/4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Shard `index` of `count`, if `1 <= index <= count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count}: the shard is K/N with 1 <= K <= N"
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether generated case `case` runs in this shard.
    pub fn contains(&self, case: u64) -> bool {
        case % self.count == self.index - 1
    }

    /// Whether this shard runs what is not split by case: the scenario suite and the
    /// concurrent phase.
    pub fn runs_unsplit(&self) -> bool {
        self.index == 1
    }

    /// How many of the cases `0..cases` run in this shard.
    pub fn cases_of(&self, cases: u64) -> u64 {
        let first = self.index - 1;
        if cases <= first {
            0
        } else {
            (cases - first).div_ceil(self.count)
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("shard `{s}`: expected K/N, as 2/4"))?;
        let number = |x: &str| {
            x.trim()
                .parse::<u64>()
                .map_err(|e| format!("shard `{s}`: `{x}`: {e}"))
        };
        Shard::new(number(k)?, number(n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_refuses_the_rest() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["", "2", "0/4", "5/4", "1/0", "a/4", "2/b", "-1/4", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_case_falls_in_exactly_one_shard_and_the_counts_add_up() {
        for count in 1..=5 {
            let shards: Vec<Shard> = (1..=count).map(|k| Shard::new(k, count).unwrap()).collect();
            for case in 0..23 {
                assert_eq!(shards.iter().filter(|s| s.contains(case)).count(), 1);
            }
            for cases in 0..23 {
                let total: u64 = shards.iter().map(|s| s.cases_of(cases)).sum();
                assert_eq!(total, cases, "{count} shards of {cases}");
                for s in &shards {
                    assert_eq!(
                        s.cases_of(cases),
                        (0..cases).filter(|c| s.contains(*c)).count() as u64
                    );
                }
            }
        }
    }
}
