//! Stable sharding: `--shard K/N` keeps the bundles whose key hashes to `K` modulo `N`.
//!
//! The key is the bundle's path relative to the PATH argument it was found under, with `/`
//! separators (the file or folder name when the argument names the bundle itself). The hash is
//! the first 8 bytes of the SHA-256 of the key's UTF-8 bytes, read as a big-endian integer: it
//! depends on nothing but those bytes, so every machine, operating system and sbdiag build puts
//! a bundle in the same shard as long as the scan starts from the same folder layout (e.g. every
//! pod of a Kubernetes Indexed Job mounting the same volume and running
//! `scan /bundles --shard $JOB_COMPLETION_INDEX/N`). It can be reproduced in a shell:
//! `printf %s "$KEY" | sha256sum | cut -c1-16`, then that hexadecimal number modulo N.
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One shard out of `count`, numbered from 0 (like `JOB_COMPLETION_INDEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0 ≤ index < count`.
    pub index: u64,
    /// Number of shards, at least 1.
    pub count: u64,
}

impl Shard {
    /// Whether the bundle with this key belongs to this shard.
    pub fn contains(&self, key: &str) -> bool {
        self.count > 0 && key_hash(key) % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `K/N` with `0 ≤ K < N`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let err = || format!("{s:?} is not a shard: expected K/N with 0 <= K < N, e.g. 0/4");
        let (k, n) = s.trim().split_once('/').ok_or_else(err)?;
        let index: u64 = k.trim().parse().map_err(|_| err())?;
        let count: u64 = n.trim().parse().map_err(|_| err())?;
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

/// The first 8 bytes of SHA-256(key), big-endian.
pub fn key_hash(key: &str) -> u64 {
    let d = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 8];
    for (x, y) in b.iter_mut().zip(d.iter()) {
        *x = *y;
    }
    u64::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_keys_evenly() {
        let keys: Vec<String> = (0..1000)
            .map(|i| format!("case-{i}/supportbundle_{i}.zip"))
            .collect();
        let mut counts = [0usize; 4];
        for k in &keys {
            let owners: Vec<u64> = (0..4)
                .filter(|&i| Shard { index: i, count: 4 }.contains(k))
                .collect();
            assert_eq!(owners.len(), 1, "{k} is in exactly one shard");
            if let Some(c) = counts.get_mut(owners[0] as usize) {
                *c += 1;
            }
        }
        assert!(counts.iter().all(|&c| c > 200), "{counts:?}");
        assert!(
            keys.iter()
                .all(|k| Shard { index: 0, count: 1 }.contains(k))
        );
    }

    #[test]
    fn shard_of_a_key_never_changes() {
        // Running jobs and re-runs of one shard rely on these: a change moves bundles between
        // shards. (`printf %s healthy-v1.4.0 | sha256sum | cut -c1-16`.)
        assert_eq!(key_hash("healthy-v1.4.0"), 0x19a1_77ee_a61c_d811);
        assert_eq!(key_hash("fleet-stale-v1.4.0"), 0xb912_7646_eb04_fb2f);
        let four = |k: &str| (0..4).find(|&i| Shard { index: i, count: 4 }.contains(k));
        assert_eq!(four("healthy-v1.4.0"), Some(1));
        assert_eq!(four("case-7/supportbundle_7.zip"), Some(3));
    }

    #[test]
    fn parses_k_of_n() {
        assert_eq!("1/3".parse::<Shard>(), Ok(Shard { index: 1, count: 3 }));
        assert!("3/3".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        assert!("x/2".parse::<Shard>().is_err());
        assert!("2".parse::<Shard>().is_err());
        assert_eq!(Shard { index: 0, count: 2 }.to_string(), "0/2");
    }
}
