//! Pseudonyms: keyed, deterministic and shaped like what they replace. The same original
//! gives the same pseudonym in every file and format of a run, and in every run that reuses
//! the mapping file (`--map`), which holds the key and, for people, the pairs made.
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// What an identifier is, which decides the shape of its pseudonym.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A node's name (also its host name).
    Node,
    /// A namespace chosen by the user.
    Namespace,
    /// A virtual machine.
    Vm,
    /// A VM image (name or display name).
    Image,
    /// A volume claim.
    Volume,
    /// A network (attachment definition, cluster network, VLAN config).
    Network,
    /// A Secret's name.
    Secret,
    /// Any other object named by the user.
    Name,
    /// The cluster id (the `harvester-system` namespace UID) and the support bundle's name.
    ClusterId,
    /// A domain name or a host name under one.
    Domain,
    /// An e-mail address.
    Email,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A MAC address.
    Mac,
    /// Free text written by the user (the bundle's issue description).
    Text,
}

impl Class {
    fn prefix(self) -> &'static str {
        match self {
            Class::Node => "node",
            Class::Namespace => "ns",
            Class::Vm => "vm",
            Class::Image => "image",
            Class::Volume => "vol",
            Class::Network => "net",
            Class::Secret => "secret",
            Class::Name => "name",
            Class::ClusterId => "cluster",
            Class::Domain => "dom",
            Class::Email => "user",
            Class::Ipv4 | Class::Ipv6 | Class::Mac => "",
            Class::Text => "text",
        }
    }
}

/// The mapping file (`--map FILE`): the key, and every pair made with it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct MapFile {
    /// What the file is, for whoever finds it.
    #[serde(default)]
    about: String,
    /// The key, hex.
    key: String,
    /// Pairs made (originals included: keep the file private).
    #[serde(default)]
    pairs: Vec<Pair>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pair {
    class: Class,
    original: String,
    pseudonym: String,
}

/// The pseudonym maker of one run.
pub struct Pseudonyms {
    key: [u8; 32],
    made: Mutex<BTreeMap<(Class, String), String>>,
    /// Every pseudonym given, so that no two originals share one (a bundle of ten thousand
    /// VMs has a few pairs whose six hex digits agree).
    given: Mutex<std::collections::HashSet<String>>,
}

impl Pseudonyms {
    /// A maker with a fresh secret key (nothing of it is kept unless saved).
    pub fn fresh() -> Pseudonyms {
        let mut h = Sha256::new();
        h.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
        h.update(std::process::id().to_le_bytes());
        // Address-space layout adds what the clock does not.
        h.update((&h as *const Sha256 as usize).to_le_bytes());
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            let mut buf = [0u8; 32];
            if std::io::Read::read_exact(&mut f, &mut buf).is_ok() {
                h.update(buf);
            }
        }
        Pseudonyms::with_key(h.finalize().into())
    }

    /// A maker with a given key (tests, and mapping files).
    pub fn with_key(key: [u8; 32]) -> Pseudonyms {
        Pseudonyms {
            key,
            made: Mutex::new(BTreeMap::new()),
            given: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// The maker of a mapping file: its key when the file exists, a fresh one otherwise.
    pub fn from_map(path: &Path) -> Result<Pseudonyms> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Pseudonyms::fresh()),
            Err(e) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        };
        let bad = |why: String| Error::Entry {
            entry: path.display().to_string(),
            reason: format!("not a sbdiag mapping file: {why}"),
        };
        let m: MapFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let bytes = hex_decode(&m.key).ok_or_else(|| bad("its key is not 64 hex digits".into()))?;
        let p = Pseudonyms::with_key(bytes);
        if let Ok(mut made) = p.made.lock() {
            for pair in m.pairs {
                if let Ok(mut given) = p.given.lock() {
                    given.insert(pair.pseudonym.clone());
                }
                made.insert((pair.class, pair.original), pair.pseudonym);
            }
        }
        Ok(p)
    }

    /// Writes the mapping file: the key and every pair made this run.
    pub fn save(&self, path: &Path) -> Result<()> {
        let pairs = self
            .made
            .lock()
            .map(|m| {
                m.iter()
                    .map(|((class, original), pseudonym)| Pair {
                        class: *class,
                        original: original.clone(),
                        pseudonym: pseudonym.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let m = MapFile {
            about: "sbdiag redact mapping: the key that makes the same pseudonyms again \
                    (sbdiag redact --map THIS_FILE), and the pairs made. It holds the \
                    originals: keep it private, never attach it to a ticket."
                .into(),
            key: self.key.iter().map(|b| format!("{b:02x}")).collect(),
            pairs,
        };
        let text = serde_json::to_string_pretty(&m).unwrap_or_default();
        std::fs::write(path, text + "\n").map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })
    }

    /// Every pair made so far.
    pub fn pairs(&self) -> Vec<(Class, String, String)> {
        self.made
            .lock()
            .map(|m| {
                m.iter()
                    .map(|((c, o), p)| (*c, o.clone(), p.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn digest(&self, class: Class, original: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update([class as u8, 0]);
        h.update(original.as_bytes());
        h.finalize().into()
    }

    fn hex(&self, class: Class, original: &str, n: usize) -> String {
        self.digest(class, original)
            .iter()
            .flat_map(|b| [b >> 4, b & 15])
            .take(n)
            .map(|d| char::from_digit(d.into(), 16).unwrap_or('0'))
            .collect()
    }

    /// Keeps `pseudonym` for `original` unless another original has it already (then `None`);
    /// when `original` got one meanwhile (another thread), that one.
    fn remember(&self, class: Class, original: &str, pseudonym: String) -> Option<String> {
        let (Ok(mut m), Ok(mut given)) = (self.made.lock(), self.given.lock()) else {
            return Some(pseudonym);
        };
        if let Some(p) = m.get(&(class, original.to_string())) {
            return Some(p.clone());
        }
        // An original kept as it is (loopback, an address outside every range) is its own.
        if pseudonym != original && !given.insert(pseudonym.clone()) {
            return None;
        }
        m.insert((class, original.to_string()), pseudonym.clone());
        Some(pseudonym)
    }

    /// What replaces secret material: `REDACTED-` and a keyed digest, so that two equal
    /// secrets stay equal (a CA bundle Fleet compares) and nothing of either is kept. Never
    /// written to the mapping file.
    pub fn secret(&self, original: &str) -> String {
        format!("REDACTED-{}", self.hex(Class::Text, original, 10))
    }

    /// The pseudonym of `original` of `class` (the one a reused mapping file gives, when it
    /// has the pair).
    pub fn of(&self, class: Class, original: &str) -> String {
        if let Some(p) = self
            .made
            .lock()
            .ok()
            .and_then(|m| m.get(&(class, original.to_string())).cloned())
        {
            return p;
        }
        // Another original with the same pseudonym: the next try uses a key derived from this
        // one and the try's number, which keeps the shape.
        let mut salted;
        let mut maker = self;
        for attempt in 1u32.. {
            let p = maker.make(class, original);
            if attempt >= 64 {
                return p;
            }
            if let Some(p) = self.remember(class, original, p) {
                return p;
            }
            let mut h = Sha256::new();
            h.update(self.key);
            h.update(attempt.to_le_bytes());
            salted = Pseudonyms::with_key(h.finalize().into());
            maker = &salted;
        }
        String::new()
    }

    /// The pseudonym this maker's key gives `original`.
    fn make(&self, class: Class, original: &str) -> String {
        match class {
            Class::Ipv4 => self.ipv4(original),
            Class::Ipv6 => self.ipv6(original),
            Class::Mac => self.mac(original),
            Class::Domain => self.domain(original),
            Class::Email => self.email(original),
            Class::ClusterId if is_uuid(original) => self.uuid(original),
            Class::Text => format!("(redacted text {})", self.hex(class, original, 8)),
            _ => format!("{}-{}", class.prefix(), self.hex(class, original, 6)),
        }
    }

    fn uuid(&self, original: &str) -> String {
        let h = self.hex(Class::ClusterId, original, 32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// A host name or domain: the registrable part (the last two labels) becomes
    /// `dom-xxxxxx.example` (RFC 2606), every label before it a pseudonym of its own, so
    /// hosts of one domain stay in one domain.
    fn domain(&self, original: &str) -> String {
        let lower = original.to_ascii_lowercase();
        let labels: Vec<&str> = lower.split('.').filter(|l| !l.is_empty()).collect();
        if labels.len() < 2 {
            return format!("h-{}", self.hex(Class::Domain, &lower, 6));
        }
        let split = labels.len() - 2;
        let (subs, top) = labels.split_at(split);
        let registrable = top.join(".");
        let mut out: Vec<String> = subs
            .iter()
            .map(|l| format!("h-{}", self.hex(Class::Domain, l, 6)))
            .collect();
        out.push(format!(
            "dom-{}.example",
            self.hex(Class::Domain, &registrable, 6)
        ));
        out.join(".")
    }

    fn email(&self, original: &str) -> String {
        match original.rsplit_once('@') {
            Some((local, domain)) => format!(
                "user-{}@{}",
                self.hex(Class::Email, local, 6),
                self.domain(domain)
            ),
            None => format!("user-{}", self.hex(Class::Email, original, 6)),
        }
    }

    /// Prefix-preserving within the address's range: addresses of one subnet stay in one
    /// subnet, private stays private (in the same block), loopback, link-local, unspecified
    /// and broadcast stay as they are.
    fn ipv4(&self, original: &str) -> String {
        let Ok(ip) = original.parse::<std::net::Ipv4Addr>() else {
            return original.to_string();
        };
        let o = ip.octets();
        let v = u32::from(ip);
        let keep_bits = match o {
            [127, ..] | [0, ..] | [255, 255, 255, 255] | [169, 254, ..] | [224..=255, ..] => {
                return original.to_string();
            }
            [10, ..] => 8,
            [172, 16..=31, ..] => 12,
            [192, 168, ..] => 16,
            [100, 64..=127, ..] => 10,
            // Public: the first octet stays (its /8 says little), the rest is permuted; a
            // first octet that holds private or special blocks keeps its second too.
            [172 | 192 | 100 | 198, ..] => 16,
            _ => 8,
        };
        let mut out = v;
        for bit in keep_bits..32 {
            // Flip bit `bit` by a keyed function of the original bits before it.
            let prefix = if bit == 0 { 0 } else { v >> (32 - bit) };
            let d = self.digest(Class::Ipv4, &format!("{bit}/{prefix}"));
            if d[0] & 1 == 1 {
                out ^= 1 << (31 - bit);
            }
        }
        let mapped = std::net::Ipv4Addr::from(out);
        // Never onto the network or broadcast address of a /24 (they read as other things).
        let last = mapped.octets()[3];
        if (last == 0 || last == 255) && o[3] != last {
            let mut b = mapped.octets();
            b[3] = if last == 0 { 1 } else { 254 };
            return std::net::Ipv4Addr::from(b).to_string();
        }
        mapped.to_string()
    }

    /// IPv6: the first 64 bits (the network) and the rest mapped separately, so hosts of
    /// one network stay in one; loopback, unspecified and link-local prefixes kept.
    fn ipv6(&self, original: &str) -> String {
        let Ok(ip) = original.parse::<std::net::Ipv6Addr>() else {
            return original.to_string();
        };
        if ip.is_loopback() || ip.is_unspecified() {
            return original.to_string();
        }
        let v = u128::from(ip);
        let net = (v >> 64) as u64;
        let host = v as u64;
        let link_local = (net >> 48) == 0xfe80;
        let new_net = if link_local {
            net
        } else {
            // The first 16 bits (the kind of address) stay.
            let d = self.digest(Class::Ipv6, &format!("net/{net:x}"));
            let r = u64::from_le_bytes(d[..8].try_into().unwrap_or_default());
            (net & 0xffff_0000_0000_0000) | (r & 0x0000_ffff_ffff_ffff)
        };
        let d = self.digest(Class::Ipv6, &format!("host/{host:x}"));
        let new_host = u64::from_le_bytes(d[..8].try_into().unwrap_or_default());
        std::net::Ipv6Addr::from(((new_net as u128) << 64) | new_host as u128).to_string()
    }

    /// A MAC keeps its vendor (the first three octets), the rest is keyed; the separator and
    /// case are kept.
    fn mac(&self, original: &str) -> String {
        let sep = if original.contains('-') { '-' } else { ':' };
        let upper = original.chars().any(|c| c.is_ascii_uppercase());
        let parts: Vec<&str> = original.split(sep).collect();
        if parts.len() != 6 {
            return original.to_string();
        }
        let d = self.digest(Class::Mac, &original.to_ascii_lowercase());
        let mut out: Vec<String> = parts.iter().take(3).map(|p| p.to_string()).collect();
        out.extend(d[..3].iter().map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        }));
        out.join(&sep.to_string())
    }
}

fn hex_decode(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Whether `s` is a UUID in its usual text form.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pseudonyms {
        Pseudonyms::with_key([7; 32])
    }

    #[test]
    fn no_two_originals_share_a_pseudonym() {
        // Six hex digits: among 20,000 names some agree, and a few MACs' three random octets.
        let p = Pseudonyms::with_key([9; 32]);
        let mut seen = std::collections::HashMap::new();
        for i in 0..20_000 {
            let vm = format!("vm-{i}");
            let ps = p.of(Class::Vm, &vm);
            assert!(ps.starts_with("vm-") && ps.len() == 9, "{ps}");
            if let Some(other) = seen.insert(ps.clone(), vm.clone()) {
                panic!("{vm} and {other} both became {ps}");
            }
            // Asked again: the same.
            assert_eq!(p.of(Class::Vm, &vm), ps);
        }
        let macs: std::collections::HashSet<String> = (0..20_000u32)
            .map(|i| {
                let b = i.to_be_bytes();
                p.of(
                    Class::Mac,
                    &format!("52:54:00:{:02x}:{:02x}:{:02x}", b[1], b[2], b[3]),
                )
            })
            .collect();
        assert_eq!(macs.len(), 20_000);
        assert!(macs.iter().all(|m| m.starts_with("52:54:00:")));
    }

    #[test]
    fn same_original_same_pseudonym_and_shapes() {
        let p = p();
        assert_eq!(p.of(Class::Vm, "web-01"), p.of(Class::Vm, "web-01"));
        assert_ne!(p.of(Class::Vm, "web-01"), p.of(Class::Vm, "web-02"));
        assert!(p.of(Class::Node, "harv1").starts_with("node-"));
        let ip = p.of(Class::Ipv4, "10.20.30.40");
        assert!(ip.starts_with("10."), "{ip}");
        assert_ne!(ip, "10.20.30.40");
        let a = p.of(Class::Ipv4, "192.168.7.10");
        let b = p.of(Class::Ipv4, "192.168.7.11");
        assert!(
            a.starts_with("192.168.") && b.starts_with("192.168."),
            "{a} {b}"
        );
        // One /24 stays one /24.
        assert_eq!(a.rsplit_once('.').unwrap().0, b.rsplit_once('.').unwrap().0);
        let pubip = p.of(Class::Ipv4, "8.8.4.4");
        assert!(pubip.starts_with("8."), "{pubip}");
        assert_eq!(p.of(Class::Ipv4, "127.0.0.1"), "127.0.0.1");
        let mac = p.of(Class::Mac, "52:54:00:AB:CD:EF");
        assert!(
            mac.starts_with("52:54:00:") && mac != "52:54:00:AB:CD:EF",
            "{mac}"
        );
        let d1 = p.of(Class::Domain, "rancher.corp.acme.com");
        let d2 = p.of(Class::Domain, "git.acme.com");
        assert!(
            d1.ends_with(".example") && d1.split('.').count() == 4,
            "{d1}"
        );
        assert_eq!(d1.rsplit('.').nth(1), d2.rsplit('.').nth(1), "{d1} {d2}");
        let e = p.of(Class::Email, "jane@acme.com");
        assert!(e.starts_with("user-") && e.ends_with(".example"), "{e}");
        let u = p.of(Class::ClusterId, "9b6b22de-6e5d-4905-aec8-1f226e413986");
        assert!(is_uuid(&u) && u != "9b6b22de-6e5d-4905-aec8-1f226e413986");
        let v6 = p.of(Class::Ipv6, "fd00:1::5");
        assert!(
            v6.parse::<std::net::Ipv6Addr>().is_ok() && v6.starts_with("fd00:"),
            "{v6}"
        );
    }

    #[test]
    fn a_saved_map_makes_the_same_pseudonyms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.json");
        let first = Pseudonyms::from_map(&path).unwrap();
        let a = first.of(Class::Namespace, "acme-prod");
        first.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("acme-prod") && text.contains(&a));
        let second = Pseudonyms::from_map(&path).unwrap();
        assert_eq!(second.of(Class::Namespace, "acme-prod"), a);
        std::fs::write(&path, "{\"key\": \"zz\"}").unwrap();
        assert!(Pseudonyms::from_map(&path).is_err());
    }
}
