//! Finding identifiers as words: where one of many strings stands between non-alphanumeric
//! characters, in any ASCII case. The rewriter and the leak check both look for every
//! identifier in every line of a bundle, so this is where redaction spends most of its time.
//!
//! An identifier can only be accepted where the character before it is not alphanumeric, so
//! only those positions are tried, and of those only where the first two bytes can begin an
//! identifier (one table of byte pairs looked up along the line, then the byte before and a
//! hashed set of the first four bytes at the rare pairs that pass); there an anchored
//! Aho-Corasick automaton says which identifier, the longest, starts. The matches are exactly
//! those of an unanchored leftmost-longest search that retries one position further when a
//! match is not a whole word (the property test below holds the two together).
use aho_corasick::{
    AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, Input, Match, MatchKind, StartKind,
};

use super::ids::boundary;

/// A set of identifiers to find as words.
pub struct Words {
    ac: AhoCorasick,
    /// Pairs of bytes, as they stand (`first << 8 | second`), that can begin an identifier:
    /// lower-cased, an identifier begins with them (a one-byte identifier begins every pair
    /// its byte begins). The scan looks up every pair of a line here and nothing else: one
    /// byte per pair, as a table indexed by a `u16` needs no bounds check.
    start: Box<[bool; 1 << 16]>,
    /// Pairs of first bytes (ASCII lower-cased) of identifiers shorter than four bytes.
    short_pairs: Bits,
    /// The first four bytes (ASCII lower-cased) of the longer ones, hashed.
    quads: Bits,
}

/// A set of bits; a position past its end is never set.
struct Bits(Vec<u64>);

impl Bits {
    fn new(bits: usize) -> Bits {
        Bits(vec![0; bits.div_ceil(64)])
    }

    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    fn has(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// 2^20 bits: a few hundred identifiers leave it nearly empty, so few places pass by chance.
const QUAD_BITS: u32 = 20;

/// The hash of the first four bytes of `b`, ASCII lower-cased (`None` when shorter).
fn quad(b: &[u8]) -> Option<usize> {
    let w = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
    // ASCII lower-casing of the four bytes at once: set bit 5 of the upper-case letters.
    let upper = w.wrapping_add(0x3f3f_3f3f) & !w.wrapping_add(0x2525_2525) & !w & 0x8080_8080;
    let lower = w | (upper >> 2);
    Some((lower.wrapping_mul(0x9E37_79B1) >> (32 - QUAD_BITS)) as usize)
}

fn fold(b: u8) -> usize {
    b.to_ascii_lowercase() as usize
}

impl Words {
    /// The finder of `words` (pattern ids are their positions); `None` when there is none or
    /// the automaton cannot be built.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<Words> {
        let words: Vec<&str> = words.into_iter().collect();
        if words.is_empty() {
            return None;
        }
        let mut pairs = Bits::new(1 << 16);
        let mut short_pairs = Bits::new(1 << 16);
        let mut quads = Bits::new(1 << QUAD_BITS);
        let mut set = |a: usize, b: usize, short: bool| {
            pairs.set(a << 8 | b);
            if short {
                short_pairs.set(a << 8 | b);
            }
        };
        for w in &words {
            let Some(&a) = w.as_bytes().first() else {
                continue;
            };
            match w.as_bytes() {
                [_] => (0..256).for_each(|b| set(fold(a), b, true)),
                [_, b] | [_, b, _] => set(fold(a), fold(*b), true),
                [_, b, ..] => {
                    set(fold(a), fold(*b), false);
                    if let Some(q) = quad(w.as_bytes()) {
                        quads.set(q);
                    }
                }
                [] => {}
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .start_kind(StartKind::Anchored)
            // A full DFA: a few hundred identifiers, tried at few places of each line.
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)
            .ok()?;
        // Every pair as it may stand, in either ASCII case: set when its lower-cased pair is.
        let mut start = Box::new([false; 1 << 16]);
        for (i, s) in start.iter_mut().enumerate() {
            *s = pairs.has(fold((i >> 8) as u8) << 8 | fold(i as u8));
        }
        Some(Words {
            ac,
            start,
            short_pairs,
            quads,
        })
    }

    /// The next place at or after `from` where an identifier may start: not after an ASCII
    /// letter or digit, and beginning with a pair of bytes an identifier begins with. The
    /// loop looks up each pair of bytes in one table (a few instructions a byte); the rare
    /// pairs that pass are then tried in full.
    fn next_start(&self, b: &[u8], from: usize) -> Option<usize> {
        let tail = b.get(from..)?;
        let next = tail.get(1..).unwrap_or_default();
        for (j, (&c, &n)) in tail.iter().zip(next).enumerate() {
            if self.starts(c, n) && self.tried(b, from + j) {
                return Some(from + j);
            }
        }
        // The last byte: a one-byte identifier at the very end has no second byte; any pair
        // it begins is set, so 0 stands in.
        let last = b.len().checked_sub(1).filter(|l| *l >= from)?;
        let c = *b.get(last)?;
        (self.starts(c, 0) && self.tried(b, last)).then_some(last)
    }

    /// Whether an identifier can begin with bytes `c`, `n`.
    #[inline(always)]
    fn starts(&self, c: u8, n: u8) -> bool {
        self.start
            .get(usize::from(u16::from(c) << 8 | u16::from(n)))
            .copied()
            .unwrap_or(false)
    }

    /// Whether an identifier may start at `i`, where the pair of bytes allows one: not after
    /// an ASCII letter or digit, and, for the longer identifiers, with the first four bytes of
    /// one.
    fn tried(&self, b: &[u8], i: usize) -> bool {
        if i > 0 && b.get(i - 1).is_some_and(u8::is_ascii_alphanumeric) {
            return false;
        }
        let next = b.get(i + 1).map_or(0, |n| fold(*n));
        let pair = b.get(i).map_or(0, |c| fold(*c)) << 8 | next;
        self.short_pairs.has(pair) || b.get(i..).and_then(quad).is_some_and(|q| self.quads.has(q))
    }

    /// The identifiers that stand as words in `l`, left to right, the longest where several
    /// start at one place.
    pub fn find_iter<'a>(&'a self, l: &'a str) -> impl Iterator<Item = Match> + 'a {
        let b = l.as_bytes();
        let mut p = 0;
        std::iter::from_fn(move || {
            while let Some(at) = self.next_start(b, p) {
                p = at + 1;
                let input = Input::new(l).span(at..b.len()).anchored(Anchored::Yes);
                if let Some(m) = self.ac.find(input)
                    && !m.is_empty()
                    && boundary(l, m.start(), m.end())
                {
                    p = m.end();
                    return Some(m);
                }
            }
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: an unanchored leftmost-longest search from the last position, retried
    /// one character further when the match is not a whole word.
    fn reference(ac: &AhoCorasick, l: &str) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < l.len() {
            let Some(m) = ac.find(Input::new(l).span(pos..l.len())) else {
                break;
            };
            if boundary(l, m.start(), m.end()) {
                out.push((m.start(), m.end(), m.pattern().as_usize()));
                pos = m.end();
            } else {
                pos = m.start() + 1;
                while !l.is_char_boundary(pos) {
                    pos += 1;
                }
            }
        }
        out
    }

    const WORDS: &[&str] = &[
        "01",
        "prod",
        "node1",
        "web",
        "web-01",
        "web-01x",
        "x",
        "Acme.Prod",
        "é-vm",
        "-lead",
    ];
    const PIECES: &[&str] = &[
        "01",
        "prod",
        "node1",
        "NODE1",
        "web",
        "web-01",
        "web-01x",
        "x",
        "acme.prod",
        "é-vm",
        "é",
        "-lead",
        "-",
        ".",
        " ",
        "a",
        "1",
        "_",
        "\n",
        "node",
        "we",
        "virt-launcher-",
        "\u{1F600}",
    ];

    proptest::proptest! {
        #[test]
        fn same_matches_as_the_unanchored_search(ix in proptest::collection::vec(0usize..1000, 0..40)) {
            let l: String = ix.iter().map(|i| PIECES[i % PIECES.len()]).collect();
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(WORDS)
                .unwrap();
            let words = Words::new(WORDS.iter().copied()).unwrap();
            let got: Vec<_> = words
                .find_iter(&l)
                .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
                .collect();
            proptest::prop_assert_eq!(got, reference(&ac, &l), "{:?}", l);
        }
    }

    #[test]
    fn four_bytes_fold_as_ascii() {
        for (a, b) in [
            ("NoDe", "node"),
            ("ABCZ", "abcz"),
            ("@[`{", "@[`{"),
            ("É-Vm", "É-vm"),
        ] {
            let (a, b) = (a.as_bytes(), b.as_bytes());
            let folded: Vec<u8> = a[..4].iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(folded, b[..4]);
            assert_eq!(quad(a), quad(b), "{a:?}");
        }
        assert_ne!(quad(b"node"), quad(b"nodf"));
    }

    #[test]
    fn words_only() {
        let w = Words::new(["web-01", "node1"]).unwrap();
        let found: Vec<&str> = ["virt-launcher-web-01-abc on NODE1", "web-012 node12 xnode1"]
            .iter()
            .flat_map(|l| w.find_iter(l).map(|m| &l[m.start()..m.end()]))
            .collect();
        assert_eq!(found, ["web-01", "NODE1"]);
        assert!(Words::new(std::iter::empty()).is_none());
    }
}
