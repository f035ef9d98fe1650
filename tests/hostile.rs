//! Hostile inputs (DESIGN §6, trust boundary; §2, exit codes).
//!
//! Every input is built at test time in a temporary folder and fed to the real binary, which
//! runs under a timeout guard while its peak memory is measured. Unusable inputs must end with
//! exit status 2 and one stderr line naming the file and the reason; a usable bundle with
//! hostile parts must be analysed (exit 0) with the bad parts listed in the JSON `coverage`
//! section. For every input, `analyze -o DIR` must write its reports into `DIR` and nothing
//! anywhere else; bombs must stay within [`BOMB_PEAK_RSS`].
use std::ffi::OsStr;
use std::fs::File;
use std::io::{Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// Longest any single run of the binary may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Folder every zip/tar bundle is nested under, as the generator does.
const ROOT: &str = "supportbundle_0f1e2d3c_2024-01-02T03-04-05Z/";
/// Inflated size of every bomb entry.
const BOMB_BYTES: usize = 300 << 20;

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// What one run of the binary produced.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
    what: String,
    /// Peak resident memory of the process, in bytes (polled `VmHWM`, see [`run_for`]).
    peak_rss: u64,
}

impl Out {
    /// Panics with the whole run shown unless the exit status is `code`.
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "{}: expected exit {code}, got {:?} after {:?}\n--- stderr:\n{}\n--- stdout (first 2000 chars):\n{}",
            self.what,
            self.code,
            self.took,
            self.stderr,
            self.stdout.chars().take(2000).collect::<String>()
        );
        assert!(
            !self.stderr.contains("panicked"),
            "{}: the binary panicked:\n{}",
            self.what,
            self.stderr
        );
        self
    }

    /// The JSON printed on stdout.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not JSON ({e}):\n{}",
                self.what,
                self.stdout.chars().take(2000).collect::<String>()
            )
        })
    }
}

/// The binary, run from `cwd` (so a relative path it might wrongly create lands in a folder the
/// test inspects), with colours and progress off.
fn sbdiag(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sbdiag"));
    c.current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE");
    c
}

/// Spawns, drains both pipes, polls for up to [`TIMEOUT`]; kills and fails when longer.
fn run(cmd: &mut Command) -> Out {
    run_for(cmd, TIMEOUT)
}

/// [`run`] with another timeout.
fn run_for(cmd: &mut Command, timeout: Duration) -> Out {
    let what = format!(
        "sbdiag {}",
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot spawn: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    // Peak memory: the kernel's high-water mark of the process's own address space (VmHWM,
    // which starts afresh at exec), read every 2 ms while it runs. `wait4`'s `ru_maxrss` is no
    // use here: it keeps the test process's peak from before the exec.
    let mut peak_rss = 0;
    let status_file = format!("/proc/{}/status", child.id());
    let status = loop {
        if let Some(hwm) = vm_hwm(&status_file) {
            peak_rss = peak_rss.max(hwm);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {timeout:?}, killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let took = start.elapsed();
    Out {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
        took,
        what,
        peak_rss,
    }
}

/// `VmHWM` of `/proc/<pid>/status`, in bytes; `None` once the process is gone (or a zombie).
fn vm_hwm(status_file: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let kb = text.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// `sbdiag analyze BUNDLE --json [extra...]`, which must exit 0; returns the report.
fn analyze_json(cwd: &Path, bundle: &Path, extra: &[&str]) -> (Out, Value) {
    let out = run(sbdiag(cwd)
        .arg("analyze")
        .arg(bundle)
        .arg("--json")
        .args(extra));
    out.expect_code(0);
    let v = out.json();
    (out, v)
}

/// Asserts an unusable input: exit 2, nothing on stdout, one stderr line that names `file`
/// and contains every one of `reasons` (case-insensitive).
fn assert_refused(out: &Out, file: &Path, reasons: &[&str]) {
    out.expect_code(2);
    assert!(
        out.stdout.is_empty(),
        "{}: stdout should be empty:\n{}",
        out.what,
        out.stdout
    );
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{}: expected one stderr line, got:\n{}",
        out.what,
        out.stderr
    );
    let line = lines[0];
    let name = file.file_name().unwrap().to_string_lossy();
    assert!(
        line.contains(&*name),
        "{}: stderr does not name {name}: {line}",
        out.what
    );
    let lower = line.to_lowercase();
    for r in reasons {
        assert!(
            lower.contains(&r.to_lowercase()),
            "{}: stderr does not say {r:?}: {line}",
            out.what
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the report
// ---------------------------------------------------------------------------------------------

/// `coverage.failed` as (file, error).
fn failed(v: &Value) -> Vec<(String, String)> {
    v["coverage"]["failed"]
        .as_array()
        .unwrap_or_else(|| panic!("no coverage.failed array in {v}"))
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap().to_string(),
                p["error"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `coverage.parse_errors` as (file, line, error).
fn parse_errors(v: &Value) -> Vec<(String, u64, String)> {
    v["coverage"]["parse_errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no coverage.parse_errors array in {v}"))
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap().to_string(),
                p["line"].as_u64().unwrap(),
                p["error"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Asserts the good part of the bundle was analysed.
fn assert_good_part(v: &Value) {
    assert_eq!(
        v["bundle"]["created_at"], "2024-01-02T03:04:05Z",
        "report: {v:#}"
    );
    assert_eq!(
        v["bundle"]["nodes"], 1,
        "nodes.yaml must still be counted: {:#}",
        v["bundle"]
    );
    assert_eq!(v["bundle"]["node_names"], serde_json::json!(["n1"]));
}

/// Asserts `coverage.failed` lists `name` with an error containing `why`.
fn assert_failed(v: &Value, name: &str, why: &str) {
    let f = failed(v);
    assert!(
        f.iter()
            .any(|(file, err)| file == name && err.contains(why)),
        "coverage.failed has no {name:?} with {why:?}: {f:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Building bundles
// ---------------------------------------------------------------------------------------------

const METADATA: &str = "bundlename: \"\"\nbundleversion: 0.1.0\nkubernetesversion: v1.30.1+rke2r1\n\
projectnamespaceuuid: 9b6b22de-6e5d-4905-aec8-1f226e413986\nbundlecreatedat: \"2024-01-02T03:04:05Z\"\n\
issueurl: \"\"\nissuedescription: \"\"\n";

const NODES: &str = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata:\n    \
creationTimestamp: \"2024-01-01T00:00:00Z\"\n    labels:\n      kubernetes.io/hostname: n1\n    \
name: n1\n    uid: 5d7f3a52-0000-4000-8000-000000000001\n  spec:\n    podCIDR: 10.52.0.0/24\n  \
status:\n    conditions:\n    - lastHeartbeatTime: \"2024-01-02T03:00:00Z\"\n      \
lastTransitionTime: \"2024-01-01T00:00:00Z\"\n      message: kubelet is posting ready status\n      \
reason: KubeletReady\n      status: \"True\"\n      type: Ready\n    nodeInfo:\n      \
kubeletVersion: v1.30.1+rke2r1\nkind: List\nmetadata:\n  resourceVersion: \"100\"\n";

/// The configmaps list path (bundle-relative).
const CM_LIST: &str = "yamls/namespaced/default/v1/configmaps.yaml";

/// A generator-style ConfigMap list: `cm1` on lines 3-9, then `extra` (more items, each
/// starting with `- ` at column 0), then the List trailer.
fn configmaps(extra: &[u8]) -> Vec<u8> {
    let mut v =
        b"apiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n    k: v\n  kind: ConfigMap\n  \
metadata:\n    name: cm1\n    namespace: default\n"
            .to_vec();
    v.extend_from_slice(extra);
    v.extend_from_slice(b"kind: List\nmetadata:\n  resourceVersion: \"100\"\n");
    v
}

/// Files of the minimal valid bundle, bundle-relative.
fn good_files() -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (b"metadata.yaml".to_vec(), METADATA.as_bytes().to_vec()),
        (b"bundleGenerationError.log".to_vec(), Vec::new()),
        (
            b"yamls/cluster/v1/nodes.yaml".to_vec(),
            NODES.as_bytes().to_vec(),
        ),
        (CM_LIST.as_bytes().to_vec(), configmaps(b"")),
    ]
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

/// Adds one file under its raw (possibly non-UTF-8) name.
fn zip_add<W: Write + Seek>(w: &mut ZipWriter<W>, name: &[u8], data: &[u8]) {
    w.start_file_with_options(deflated().name(name)).unwrap();
    w.write_all(data).unwrap();
}

/// Writes a zip at `path`: `files` under [`ROOT`], then whatever `extra` adds.
fn write_zip<F>(path: &Path, files: &[(Vec<u8>, Vec<u8>)], extra: F)
where
    F: FnOnce(&mut ZipWriter<File>),
{
    let mut w = ZipWriter::new(File::create(path).unwrap());
    for (name, data) in files {
        let mut full = ROOT.as_bytes().to_vec();
        full.extend_from_slice(name);
        zip_add(&mut w, &full, data);
    }
    extra(&mut w);
    w.finish().unwrap();
}

/// The minimal valid bundle as `dir/name`.
fn good_zip(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    write_zip(&p, &good_files(), |_| {});
    p
}

/// A zip in memory with a single entry `bomb`: [`BOMB_BYTES`] spaces, deflated (about 300 KB).
/// Built once per test process, streaming 1 MiB at a time; bombs are raw-copied from it.
fn bomb_zip() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("bomb", deflated()).unwrap();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..BOMB_BYTES / chunk.len() {
            w.write_all(&chunk).unwrap();
        }
        w.finish().unwrap().into_inner()
    })
}

/// Adds the bomb entry under `name`, without inflating it again.
fn zip_add_bomb<W: Write + Seek>(w: &mut ZipWriter<W>, name: &str) {
    let mut src = ZipArchive::new(Cursor::new(bomb_zip())).unwrap();
    let f = src.by_index_raw(0).unwrap();
    assert_eq!(f.size(), BOMB_BYTES as u64);
    w.raw_copy_file_rename(f, name).unwrap();
}

/// Writes a tar.gz: `files` under [`ROOT`], then whatever `extra` adds.
fn write_tgz<F>(path: &Path, files: &[(Vec<u8>, Vec<u8>)], extra: F)
where
    F: FnOnce(&mut tar::Builder<flate2::write::GzEncoder<File>>),
{
    let gz =
        flate2::write::GzEncoder::new(File::create(path).unwrap(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        let full = format!("{ROOT}{}", String::from_utf8_lossy(name));
        b.append_data(&mut h, full, &data[..]).unwrap();
    }
    extra(&mut b);
    b.into_inner().unwrap().finish().unwrap();
}

/// Wraps a raw deflate stream as one gzip member.
fn gzip_member(deflate: &[u8], crc: u32, size: u64) -> Vec<u8> {
    let mut m = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    m.extend_from_slice(deflate);
    m.extend_from_slice(&crc.to_le_bytes());
    m.extend_from_slice(&(size as u32).to_le_bytes());
    m
}

/// Writes `files` (bundle-relative) as an unpacked bundle folder.
fn write_dir(root: &Path, files: &[(Vec<u8>, Vec<u8>)]) {
    for (name, data) in files {
        let p = root.join(std::str::from_utf8(name).unwrap());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
}

/// Every path under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Inflated size of the big bombs: 2 GiB of spaces less 1 MiB, just under the default
/// `--max-entry-size`, so that only the ratio (or the gzip stream budget) can stop them.
const BIG_BOMB_BYTES: u64 = (2 << 30) - (1 << 20);

/// A zip in memory with one deflated entry `bomb`: [`BIG_BOMB_BYTES`] spaces in about 2 MB.
/// One 1 MiB chunk is deflated once with a full flush (its blocks then stand alone,
/// byte-aligned, referring to nothing before them) and repeated; the CRC is combined, not
/// computed over 3 GiB. Built once per test process in a few milliseconds.
fn big_bomb_zip() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        use flate2::{Compress, Compression, Crc, FlushCompress};
        const CHUNK: usize = 1 << 20;
        let chunk = vec![b' '; CHUNK];
        let mut c = Compress::new(Compression::best(), false);
        let mut block = Vec::with_capacity(64 << 10);
        loop {
            let done = c.total_in() as usize;
            c.compress_vec(&chunk[done..], &mut block, FlushCompress::Full)
                .unwrap();
            if c.total_in() as usize == CHUNK && block.len() < block.capacity() {
                break;
            }
            block.reserve(64 << 10);
        }
        let mut end = Vec::with_capacity(64);
        Compress::new(Compression::best(), false)
            .compress_vec(&[], &mut end, FlushCompress::Finish)
            .unwrap();
        let n = (BIG_BOMB_BYTES / CHUNK as u64) as usize;
        let mut deflate = Vec::with_capacity(block.len() * n + end.len());
        for _ in 0..n {
            deflate.extend_from_slice(&block);
        }
        deflate.extend_from_slice(&end);
        let mut one = Crc::new();
        one.update(&chunk);
        let mut all = Crc::new();
        for _ in 0..n {
            all.combine(&one);
        }
        let mut z = RawZip::default();
        z.entry(b"bomb", 8, all.sum(), BIG_BOMB_BYTES, &deflate);
        z.finish()
    })
}

/// Adds the big bomb entry under `name`, without inflating it.
fn zip_add_big_bomb<W: Write + Seek>(w: &mut ZipWriter<W>, name: &str) {
    let mut src = ZipArchive::new(Cursor::new(big_bomb_zip())).unwrap();
    let f = src.by_index_raw(0).unwrap();
    assert_eq!(f.size(), BIG_BOMB_BYTES);
    assert!(f.compressed_size() < 8 << 20, "{}", f.compressed_size());
    w.raw_copy_file_rename(f, name).unwrap();
}

/// A zip written by hand, fast enough for a million entries (tests run unoptimised): each
/// entry is a local header and its data plus a central record; [`RawZip::alias`] adds central
/// records only, all pointing at one shared empty entry. zip64 end records are written when
/// there are more than 65,535 entries.
#[derive(Default)]
struct RawZip {
    data: Vec<u8>,
    central: Vec<u8>,
    count: u64,
    empty_at: Option<u32>,
}

impl RawZip {
    /// Adds an entry: `method` 0 (stored) or 8 (deflated), `data` as stored in the file.
    fn entry(&mut self, name: &[u8], method: u16, crc: u32, size: u64, data: &[u8]) -> u32 {
        let offset = u32::try_from(self.data.len()).unwrap();
        let size = u32::try_from(size).unwrap();
        let csize = u32::try_from(data.len()).unwrap();
        let d = &mut self.data;
        d.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00");
        d.extend_from_slice(&method.to_le_bytes());
        d.extend_from_slice(&[0, 0, 0x21, 0]); // 1980-01-01 00:00
        d.extend_from_slice(&crc.to_le_bytes());
        d.extend_from_slice(&csize.to_le_bytes());
        d.extend_from_slice(&size.to_le_bytes());
        d.extend_from_slice(&(name.len() as u16).to_le_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(name);
        d.extend_from_slice(data);
        self.record(name, method, crc, csize, size, offset);
        offset
    }

    /// Adds a stored file.
    fn file(&mut self, name: &[u8], body: &[u8]) {
        let mut crc = flate2::Crc::new();
        crc.update(body);
        self.entry(name, 0, crc.sum(), body.len() as u64, body);
    }

    /// Adds an empty file that has a central record only (its data is a shared empty entry).
    fn alias(&mut self, name: &[u8]) {
        let at = match self.empty_at {
            Some(at) => at,
            None => {
                let at = self.entry(b"empty", 0, 0, 0, b"");
                self.empty_at = Some(at);
                at
            }
        };
        self.record(name, 0, 0, 0, 0, at);
    }

    fn record(&mut self, name: &[u8], method: u16, crc: u32, csize: u32, size: u32, at: u32) {
        let c = &mut self.central;
        c.extend_from_slice(b"PK\x01\x02\x14\x03\x14\x00\x00\x00");
        c.extend_from_slice(&method.to_le_bytes());
        c.extend_from_slice(&[0, 0, 0x21, 0]);
        c.extend_from_slice(&crc.to_le_bytes());
        c.extend_from_slice(&csize.to_le_bytes());
        c.extend_from_slice(&size.to_le_bytes());
        c.extend_from_slice(&(name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
        c.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
        c.extend_from_slice(&at.to_le_bytes());
        c.extend_from_slice(name);
        self.count += 1;
    }

    fn finish(self) -> Vec<u8> {
        let RawZip {
            mut data,
            central,
            count,
            ..
        } = self;
        let cd_at = data.len() as u64;
        let cd_len = central.len() as u64;
        data.extend_from_slice(&central);
        let short = u16::try_from(count).ok().filter(|&n| n < u16::MAX);
        if short.is_none() {
            let z64_at = data.len() as u64;
            data.extend_from_slice(b"PK\x06\x06");
            data.extend_from_slice(&44u64.to_le_bytes());
            data.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            data.extend_from_slice(&count.to_le_bytes());
            data.extend_from_slice(&count.to_le_bytes());
            data.extend_from_slice(&cd_len.to_le_bytes());
            data.extend_from_slice(&cd_at.to_le_bytes());
            data.extend_from_slice(b"PK\x06\x07\x00\x00\x00\x00");
            data.extend_from_slice(&z64_at.to_le_bytes());
            data.extend_from_slice(&1u32.to_le_bytes());
        }
        let n = short.unwrap_or(u16::MAX);
        data.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
        data.extend_from_slice(&n.to_le_bytes());
        data.extend_from_slice(&n.to_le_bytes());
        data.extend_from_slice(&u32::try_from(cd_len).unwrap().to_le_bytes());
        data.extend_from_slice(&u32::try_from(cd_at).unwrap().to_le_bytes());
        data.extend_from_slice(&[0, 0]);
        data
    }
}

/// Asserts the run's peak resident memory stayed below `limit` bytes.
/// A tar (not finished) of the good part of every hostile bundle.
fn good_tar_head() -> tar::Builder<Vec<u8>> {
    let mut head = tar::Builder::new(Vec::new());
    for (name, data) in good_files() {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        head.append_data(
            &mut h,
            format!("{ROOT}{}", String::from_utf8_lossy(&name)),
            &data[..],
        )
        .unwrap();
    }
    head
}

/// A tar.gz of the good part, then an entry `name` of `size` spaces whose compressed data is
/// the single entry of `bomb` (a zip), as its own gzip member (MultiGzDecoder reads the
/// members as one stream), then the end-of-archive blocks.
fn tar_gz_with_bomb(name: &str, bomb: &[u8], size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_path(format!("{ROOT}{name}")).unwrap();
    h.set_cksum();
    let mut head = good_tar_head().into_inner().unwrap();
    // `into_inner` wrote the end-of-archive blocks: drop them, then add the bomb's header.
    head.truncate(head.len() - 1024);
    head.extend_from_slice(h.as_bytes());
    let mut src = ZipArchive::new(Cursor::new(bomb)).unwrap();
    let mut f = src.by_index_raw(0).unwrap();
    let crc = f.crc32();
    let mut deflate = Vec::new();
    f.read_to_end(&mut deflate).unwrap();
    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let mut out = gz(&head);
    out.extend(gzip_member(&deflate, crc, size));
    out.extend(gz(&[0u8; 1024]));
    out
}

/// The run ended within 10 s.
fn assert_quick(out: &Out) {
    assert!(
        out.took < Duration::from_secs(10),
        "{} took {:?}",
        out.what,
        out.took
    );
}

fn assert_peak_below(out: &Out, limit: u64) {
    eprintln!(
        "{}: {:?}, peak RSS {} MiB",
        out.what,
        out.took,
        out.peak_rss >> 20
    );
    assert!(
        out.peak_rss > 0 && out.peak_rss < limit,
        "{}: peak RSS {} MiB, limit {} MiB",
        out.what,
        out.peak_rss >> 20,
        limit >> 20
    );
}

/// Every report format: what `-o` writes with `--format` [`ALL_FORMATS`].
const ALL_FORMATS: &str = "html,md,json,sarif,junit";
const ALL_REPORTS: [&str; 5] = [
    "report.html",
    "report.json",
    "report.junit.xml",
    "report.md",
    "report.sarif",
];

/// Runs `sbdiag [extra] analyze BUNDLE -o <t>/contained-out --format <all>` from an empty working folder
/// inside `t`, and asserts that exactly the reports appeared (or nothing at all when the input
/// is refused, `code` 2): nothing written outside the output folder, next to the bundle, in
/// the working folder, nor at the absolute paths hostile entries name. Leaves `t` as it was.
fn assert_output_contained(t: &Path, bundle: &Path, extra: &[&str], code: i32) -> Out {
    let before = tree(t);
    let cwd = t.join("contained-cwd");
    let out_dir = t.join("contained-out");
    std::fs::create_dir(&cwd).unwrap();
    let out = run(sbdiag(&cwd)
        .args(extra)
        .arg("analyze")
        .arg(bundle)
        .arg("-o")
        .arg(&out_dir)
        .args(["--format", ALL_FORMATS]));
    out.expect_code(code);
    let mut want = before.clone();
    want.push("contained-cwd".into());
    if code == 0 {
        want.push("contained-out".into());
        want.extend(ALL_REPORTS.iter().map(|r| format!("contained-out/{r}")));
    }
    want.sort();
    assert_eq!(
        tree(t),
        want,
        "{}: files appeared outside the output folder",
        out.what
    );
    for p in ["/abs/evil.txt", "/evil.txt", "/evil", "/evil-drive.txt"] {
        assert!(!Path::new(p).exists(), "{p} was created");
    }
    std::fs::remove_dir_all(&cwd).unwrap();
    if code == 0 {
        std::fs::remove_dir_all(&out_dir).unwrap();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Unusable inputs: exit 2, one line naming the file and the reason
// ---------------------------------------------------------------------------------------------

#[test]
fn random_bytes_named_zip_are_refused() {
    let t = tmp();
    let p = t.path().join("x.zip");
    // xorshift: deterministic noise that starts with neither a zip, gzip nor tar signature.
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect();
    assert_ne!(&bytes[..2], b"PK");
    assert_ne!(&bytes[..2], &[0x1f, 0x8b]);
    std::fs::write(&p, &bytes).unwrap();
    let out = run(sbdiag(t.path()).arg("analyze").arg(&p).arg("--json"));
    assert_refused(&out, &p, &["not a readable archive"]);
    assert_output_contained(t.path(), &p, &[], 2);
}

#[test]
fn zip_signature_followed_by_garbage_is_refused() {
    let t = tmp();
    let p = t.path().join("x.zip");
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    std::fs::write(&p, &bytes).unwrap();
    let out = run(sbdiag(t.path()).arg("analyze").arg(&p).arg("--json"));
    assert_refused(&out, &p, &["zip"]);
    assert_output_contained(t.path(), &p, &[], 2);
}

#[test]
fn empty_file_is_refused() {
    let t = tmp();
    let p = t.path().join("empty.zip");
    File::create(&p).unwrap();
    let out = run(sbdiag(t.path()).arg("analyze").arg(&p).arg("--json"));
    assert_refused(&out, &p, &["empty"]);
    assert_output_contained(t.path(), &p, &[], 2);
}

#[test]
fn truncated_zip_is_refused() {
    let t = tmp();
    let good = good_zip(t.path(), "good.zip");
    let bytes = std::fs::read(&good).unwrap();
    let p = t.path().join("half.zip");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let out = run(sbdiag(t.path()).arg("analyze").arg(&p).arg("--json"));
    assert_refused(&out, &p, &["truncated"]);
    // `get` goes through the same door.
    let out = run(sbdiag(t.path()).args(["get", "nodes", "-b"]).arg(&p));
    assert_refused(&out, &p, &["truncated"]);
    assert_output_contained(t.path(), &p, &[], 2);
}

#[test]
fn zip_that_is_not_a_bundle_is_refused() {
    let t = tmp();
    let p = t.path().join("photos.zip");
    let mut w = ZipWriter::new(File::create(&p).unwrap());
    zip_add(
        &mut w,
        b"holiday/beach.jpg",
        b"\xff\xd8\xff\xe0 not really a jpeg",
    );
    zip_add(&mut w, b"readme.txt", b"hello\n");
    w.finish().unwrap();
    let out = run(sbdiag(t.path()).arg("analyze").arg(&p).arg("--json"));
    assert_refused(&out, &p, &["not a support bundle"]);
    assert_output_contained(t.path(), &p, &[], 2);
}

#[test]
fn nonexistent_path_is_refused() {
    let t = tmp();
    let p = t.path().join("no-such-bundle.zip");
    let out = run(sbdiag(t.path()).arg("analyze").arg(&p).arg("--json"));
    assert_refused(&out, &p, &["no such file"]);
    let out = run(sbdiag(t.path()).args(["get", "nodes", "-b"]).arg(&p));
    assert_refused(&out, &p, &["no such file"]);
}

#[test]
fn max_entries_is_enforced_for_zip_tar_and_folder() {
    let t = tmp();
    let mut files = good_files();
    for i in 0..4 {
        files.push((
            format!("logs/default/p{i}/c.log").into_bytes(),
            b"log line\n".to_vec(),
        ));
    }
    let z = t.path().join("many.zip");
    write_zip(&z, &files, |_| {});
    let tgz = t.path().join("many.tar.gz");
    write_tgz(&tgz, &files, |_| {});
    let d = t.path().join("many-folder");
    write_dir(&d, &files);
    for p in [&z, &tgz, &d] {
        let out = run(sbdiag(t.path())
            .args(["--max-entries", "5", "analyze"])
            .arg(p)
            .arg("--json"));
        assert_refused(&out, p, &["--max-entries"]);
    }
    // The same bundles are fine under the default limit.
    for p in [&z, &tgz, &d] {
        let (_, v) = analyze_json(t.path(), p, &[]);
        assert_good_part(&v);
    }
    for p in [&z, &tgz, &d] {
        assert_output_contained(t.path(), p, &["--max-entries", "5"], 2);
    }
}

// ---------------------------------------------------------------------------------------------
// The minimal valid bundle
// ---------------------------------------------------------------------------------------------

#[test]
fn minimal_bundle_is_analysed() {
    let t = tmp();
    let p = good_zip(t.path(), "good.zip");
    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_eq!(
        v["bundle"]["cluster_id"],
        "9b6b22de-6e5d-4905-aec8-1f226e413986"
    );
    assert!(
        v["bundle"]["objects"].as_u64().unwrap() >= 2,
        "{:#}",
        v["bundle"]
    );
    assert!(failed(&v).is_empty(), "{:#?}", failed(&v));
    assert!(parse_errors(&v).is_empty(), "{:#?}", parse_errors(&v));
    // Nothing but the bundle itself in the working folder: --json writes no files.
    assert_eq!(tree(t.path()), vec!["good.zip".to_string()]);
    assert_output_contained(t.path(), &p, &[], 0);
}

// ---------------------------------------------------------------------------------------------
// Hostile parts inside an otherwise good bundle: exit 0, reported, rest analysed
// ---------------------------------------------------------------------------------------------

#[test]
fn zip_slip_entries_are_refused_and_nothing_escapes() {
    let t = tmp();
    let work = t.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let p = t.path().join("slip.zip");
    let evil: [&[u8]; 5] = [
        b"../evil.txt",
        b"/abs/evil.txt",
        b"a/../../evil",
        b"..\\evil-backslash.txt",
        b"C:/evil-drive.txt",
    ];
    write_zip(&p, &good_files(), |w| {
        for name in evil {
            zip_add(w, name, b"pwned\n");
        }
        // A slip that would land on a resource list of the bundle.
        let mut over = ROOT.as_bytes().to_vec();
        over.extend_from_slice(b"yamls/../../yamls/cluster/v1/nodes.yaml");
        zip_add(w, &over, b"garbage: [\n");
        // A zip symlink entry (unix mode) over a resource list.
        w.add_symlink(
            format!("{ROOT}yamls/cluster/v1/secrets.yaml"),
            "/etc/passwd",
            deflated(),
        )
        .unwrap();
    });

    let (_, v) = analyze_json(&work, &p, &[]);
    assert_good_part(&v);
    assert_failed(
        &v,
        &format!("{ROOT}yamls/cluster/v1/secrets.yaml"),
        "symbolic link",
    );
    for name in evil {
        let name = String::from_utf8_lossy(name);
        assert_failed(&v, &name, "entry refused");
    }
    assert_failed(
        &v,
        &format!("{ROOT}yamls/../../yamls/cluster/v1/nodes.yaml"),
        "entry refused",
    );

    // Writing reports: only the default reports appear in out/, nothing lands next to the
    // working folder.
    let out_dir = t.path().join("out");
    let out = run(sbdiag(&work).arg("analyze").arg(&p).arg("-o").arg(&out_dir));
    out.expect_code(0);
    assert_eq!(
        tree(&out_dir),
        vec!["report.html", "report.json", "report.md"]
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(written["coverage"]["failed"], v["coverage"]["failed"]);
    assert_eq!(
        tree(t.path()),
        vec![
            "out",
            "out/report.html",
            "out/report.json",
            "out/report.md",
            "slip.zip",
            "work"
        ],
        "files appeared outside the output folder"
    );
    for p in ["/abs/evil.txt", "/evil.txt", "/evil", "/evil-drive.txt"] {
        assert!(!Path::new(p).exists(), "{p} was created");
    }
    assert_output_contained(t.path(), &p, &[], 0);
}

/// The broken-YAML variant: `bad` (lines 10-14 of the ConfigMap list, its unclosed flow on
/// line 14), a Service list cut in the middle of its second item (lines 10-14, the last line
/// without its newline), and a Secret list whose only item has an unclosed flow as metadata
/// (lines 3-5).
fn broken_yaml_files() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut files = good_files();
    files[3].1 = configmaps(
        b"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: bad\n    labels: {app: [unclosed\n",
    );
    let svc = b"apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: svc1\n    \
namespace: default\n  spec:\n    clusterIP: 10.53.0.1\n- apiVersion: v1\n  kind: Service\n  metadata:\n    \
name: \"svc2\n    namespace: def";
    files.push((SVC_LIST.as_bytes().to_vec(), svc.to_vec()));
    files.push((
        SECRET_LIST.as_bytes().to_vec(),
        b"apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: [unclosed\nkind: List\n".to_vec(),
    ));
    files
}

const SVC_LIST: &str = "yamls/namespaced/default/v1/services.yaml";
const SECRET_LIST: &str = "yamls/namespaced/default/v1/secrets.yaml";

#[test]
fn broken_yaml_item_is_a_parse_error_with_its_line() {
    let t = tmp();
    let p = t.path().join("broken.zip");
    write_zip(&p, &broken_yaml_files(), |_| {});
    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    let pe = parse_errors(&v);
    // Each broken item is one parse error in its own file, on a line of the item or the line
    // right after it (where a parser notices the missing bracket or quote).
    for (file, first, last) in [(CM_LIST, 10, 15), (SVC_LIST, 10, 15), (SECRET_LIST, 3, 6)] {
        let lines: Vec<u64> = pe.iter().filter(|e| e.0 == file).map(|e| e.1).collect();
        assert_eq!(lines.len(), 1, "one parse error for {file}: {pe:#?}");
        assert!(
            (first..=last).contains(&lines[0]),
            "{file}: line {} is not within {first}-{last}: {pe:#?}",
            lines[0]
        );
    }
    // The good items of the same files are indexed: Node n1, ConfigMap cm1, Service svc1.
    assert_eq!(v["bundle"]["objects"], 3, "{:#}", v["bundle"]);
    assert_output_contained(t.path(), &p, &[], 0);
}

#[test]
fn parse_error_positions_are_file_positions() {
    let t = tmp();
    let p = t.path().join("broken.zip");
    write_zip(&p, &broken_yaml_files(), |_| {});
    let (_, v) = analyze_json(t.path(), &p, &[]);
    let pe = parse_errors(&v);
    // services.yaml has 14 lines; the unterminated quote opens on line 13.
    let svc: Vec<_> = pe.iter().filter(|e| e.0 == SVC_LIST).collect();
    assert_eq!(svc.len(), 1, "{pe:#?}");
    assert!(
        svc[0].1 <= 14,
        "line {} is past the end of the 14-line file: {pe:#?}",
        svc[0].1
    );
    // Every `line N` quoted in a message names a line of the item (10-14 in both lists).
    for (file, line, err) in pe.iter().filter(|e| e.0 == SVC_LIST || e.0 == CM_LIST) {
        for n in err.split("line ").skip(1) {
            let n: u64 = n
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap();
            assert!(
                (10..=15).contains(&n),
                "{file}:{line}: message quotes line {n}, outside the item (10-14): {err}"
            );
        }
    }
}

#[test]
fn yaml_list_bomb_is_a_parse_error_naming_the_limit() {
    let t = tmp();
    let p = t.path().join("yamlbomb.zip");
    write_zip(&p, &good_files(), |w| {
        zip_add_bomb(w, &format!("{ROOT}yamls/namespaced/default/v1/pods.yaml"));
    });
    for extra in [&[][..], &["--max-ratio", "50"][..]] {
        let (out, v) = analyze_json(t.path(), &p, extra);
        assert_good_part(&v);
        let pe = parse_errors(&v);
        let bomb: Vec<_> = pe
            .iter()
            .filter(|e| e.0 == "yamls/namespaced/default/v1/pods.yaml")
            .collect();
        assert_eq!(
            bomb.len(),
            1,
            "{}: the bomb list must be one parse error: {pe:#?}",
            out.what
        );
        let err = &bomb[0].2;
        let ratio = if extra.is_empty() { "250:1" } else { "50:1" };
        assert!(
            err.contains(ratio) && err.contains("--max-ratio"),
            "{}: error does not name the ratio {ratio} and its flag: {err}",
            out.what
        );
    }
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

#[test]
fn max_ratio_flag_changes_what_counts_as_a_bomb() {
    // An 18 MiB list of spaces compresses about 1000:1: under --max-ratio 2000 it is read
    // (and is no List: one "not a Kubernetes List" parse error at most), under 50 it is refused.
    let t = tmp();
    let p = t.path().join("ratio.zip");
    write_zip(&p, &good_files(), |w| {
        w.start_file(
            format!("{ROOT}yamls/namespaced/default/v1/pods.yaml"),
            deflated(),
        )
        .unwrap();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..18 {
            w.write_all(&chunk).unwrap();
        }
    });
    let (_, strict) = analyze_json(t.path(), &p, &["--max-ratio", "50"]);
    let (_, lax) = analyze_json(t.path(), &p, &["--max-ratio", "2000"]);
    assert_good_part(&strict);
    assert_good_part(&lax);
    let mentions_ratio = |v: &Value| parse_errors(v).iter().any(|e| e.2.contains("--max-ratio"));
    assert!(mentions_ratio(&strict), "{:#?}", parse_errors(&strict));
    assert!(!mentions_ratio(&lax), "{:#?}", parse_errors(&lax));
    for extra in [&["--max-ratio", "50"][..], &["--max-ratio", "2000"][..]] {
        let out = assert_output_contained(t.path(), &p, extra, 0);
        assert_peak_below(&out, BOMB_PEAK_RSS);
    }
}

#[test]
fn log_bomb_is_not_read_by_analyze_and_is_capped_by_logs() {
    let t = tmp();
    let p = t.path().join("logbomb.zip");
    write_zip(&p, &good_files(), |w| {
        zip_add_bomb(w, &format!("{ROOT}logs/default/p/c.log"));
    });
    let (out, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_eq!(v["coverage"]["collected"]["pod_logs"], 1, "{}", out.what);
    // Asking for the log reads it: the ratio cap stops it.
    let out = run(sbdiag(t.path())
        .args(["logs", "p", "-n", "default", "-c", "c", "-b"])
        .arg(&p));
    out.expect_code(2);
    assert!(
        out.stderr.contains("--max-ratio"),
        "{}: {}",
        out.what,
        out.stderr
    );
    assert!(
        out.stdout.len() < 1 << 20,
        "{}: printed {} bytes",
        out.what,
        out.stdout.len()
    );
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

#[test]
fn nested_node_zip_bomb_does_not_stop_analysis() {
    let t = tmp();
    let mut inner = ZipWriter::new(Cursor::new(Vec::new()));
    zip_add(
        &mut inner,
        b"n1/configs/etc/os-release",
        b"NAME=\"SLE Micro\"\nID=sle-micro-rancher\n",
    );
    zip_add_bomb(&mut inner, "n1/logs/kernel.log");
    let inner = inner.finish().unwrap().into_inner();
    let p = t.path().join("nested.zip");
    write_zip(&p, &good_files(), |w| {
        w.start_file(
            format!("{ROOT}nodes/n1.zip"),
            SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
        )
        .unwrap();
        w.write_all(&inner).unwrap();
    });
    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_eq!(
        v["coverage"]["collected"]["node_bundles"],
        serde_json::json!(["n1"])
    );
    // Reading the node log on demand is capped too.
    let out = run(sbdiag(t.path())
        .args(["logs", "n1", "-c", "kernel", "-b"])
        .arg(&p));
    out.expect_code(2);
    assert!(
        out.stderr.contains("--max-ratio"),
        "{}: {}",
        out.what,
        out.stderr
    );
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

#[test]
fn invalid_utf8_in_entry_names_and_yaml_is_tolerated() {
    let t = tmp();
    let mut files = good_files();
    // A ConfigMap whose data and annotation hold bytes that are not UTF-8.
    files[3].1 = configmaps(
        b"- apiVersion: v1\n  data:\n    blob: \"\xff\xfe\xc0\xaf\x80\"\n  kind: ConfigMap\n  metadata:\n    \
annotations:\n      note: caf\xe9 \xed\xa0\x80\n    name: latin1\n    namespace: default\n",
    );
    files.push((
        b"yamls/cluster/v1/\xff\xfe.yaml".to_vec(),
        NODES.as_bytes().to_vec(),
    ));
    files.push((
        b"logs/default/p\xc3\x28/c.log".to_vec(),
        b"\xff\xff\n".to_vec(),
    ));
    files.push((
        b"yamls/namespaced/\xe9t\xe9/v1/pods.yaml".to_vec(),
        b"apiVersion: v1\nitems: []\nkind: List\n".to_vec(),
    ));
    let p = t.path().join("utf8.zip");
    write_zip(&p, &files, |w| {
        // Two raw names that become the same text once made printable.
        zip_add(w, b"\xff/x", b"1");
        zip_add(w, b"\xfe/x", b"2");
    });
    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_eq!(v["bundle"]["created_at"], "2024-01-02T03:04:05Z");
    assert!(
        v["bundle"]["nodes"].as_u64().unwrap() >= 1,
        "{:#}",
        v["bundle"]
    );
    // Both ConfigMaps are indexed.
    let out = run(sbdiag(t.path())
        .args(["get", "configmaps", "-n", "default", "-o", "name", "-b"])
        .arg(&p));
    out.expect_code(0);
    assert!(
        out.stdout.contains("cm1") && out.stdout.contains("latin1"),
        "{}",
        out.stdout
    );

    // The same as an unpacked folder (file names with bytes that are not UTF-8).
    let d = t.path().join("folder");
    for (name, data) in &files {
        use std::os::unix::ffi::OsStrExt;
        let p = d.join(OsStr::from_bytes(name));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let (_, v) = analyze_json(t.path(), &d, &[]);
    assert_eq!(v["bundle"]["created_at"], "2024-01-02T03:04:05Z");
    assert_output_contained(t.path(), &p, &[], 0);
    assert_output_contained(t.path(), &d, &[], 0);
}

#[test]
fn invalid_utf8_in_tar_names_is_tolerated() {
    let t = tmp();
    let p = t.path().join("utf8.tar.gz");
    // A pod log and a resource list folder whose names are not UTF-8, written raw (the
    // builder would refuse them).
    let raw = |head: &str, bad: &[u8], tail: &str| {
        let mut n = format!("{ROOT}{head}").into_bytes();
        n.extend_from_slice(bad);
        n.extend_from_slice(tail.as_bytes());
        n
    };
    let odd: [(Vec<u8>, &[u8]); 2] = [
        (
            raw("logs/default/p", b"\xff\xc3\x28", "/c.log"),
            b"\xff\xfe log\n",
        ),
        (
            raw("yamls/namespaced/", b"\xe9t\xe9", "/v1/pods.yaml"),
            b"apiVersion: v1\nitems: []\nkind: List\n",
        ),
    ];
    write_tgz(&p, &good_files(), |b| {
        for (name, data) in &odd {
            let mut h = tar::Header::new_old();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
    });
    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_eq!(
        v["coverage"]["collected"]["pod_logs"], 1,
        "{:#}",
        v["coverage"]
    );
    assert_output_contained(t.path(), &p, &[], 0);
}

/// "Billion laughs": ten levels of nine aliases each (9^10 strings once expanded), as mapping
/// entries `a:` to `j:` at `indent`.
fn laughs(indent: &str) -> String {
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let mut s = format!("{indent}a: &a [{}]\n", ["\"lol\""; 9].join(","));
    for w in names.windows(2) {
        s.push_str(&format!(
            "{indent}{}: &{} [{}]\n",
            w[1],
            w[1],
            vec![format!("*{}", w[0]); 9].join(",")
        ));
    }
    s
}

#[test]
fn yaml_alias_bomb_finishes_quickly() {
    let t = tmp();
    // In `data`, which no typed view reads...
    let mut item = b"- apiVersion: v1\n  kind: ConfigMap\n  data:\n".to_vec();
    item.extend_from_slice(laughs("    ").as_bytes());
    item.extend_from_slice(b"  metadata:\n    name: lol\n    namespace: default\n");
    // ...and in `metadata`, which every typed view reads, with the labels pointing at the top.
    item.extend_from_slice(b"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n");
    item.extend_from_slice(laughs("    ").as_bytes());
    item.extend_from_slice(b"    labels: *j\n    name: lol2\n    namespace: default\n");
    let mut files = good_files();
    files[3].1 = configmaps(&item);
    let p = t.path().join("lol.zip");
    write_zip(&p, &files, |_| {});
    let (out, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_quick(&out);
    // Reported or ignored, never expanded into the report.
    assert!(
        out.stdout.len() < 1 << 20,
        "report is {} bytes",
        out.stdout.len()
    );
    // Printing the objects must not expand the aliases either.
    for fmt in ["yaml", "json"] {
        let out = run(sbdiag(t.path())
            .args(["get", "configmaps", "-n", "default", "-o", fmt, "-b"])
            .arg(&p));
        assert!(
            matches!(out.code, Some(0 | 2)),
            "{}: {:?} {}",
            out.what,
            out.code,
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert!(
            out.stdout.len() < 8 << 20,
            "{}: printed {} bytes",
            out.what,
            out.stdout.len()
        );
    }
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

/// A ConfigMap list whose items `deep` (from line 10) and `deeper` nest `depth` flow
/// collections: `[` in `data` (closed), `{a: ` in `metadata.labels` (unclosed).
fn deep_files(depth: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut item =
        b"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: deep\n    namespace: default\n  data:\n    x: "
            .to_vec();
    item.extend(std::iter::repeat_n(b'[', depth));
    item.extend(std::iter::repeat_n(b']', depth));
    item.push(b'\n');
    item.extend_from_slice(
        b"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: deeper\n    namespace: default\n    labels: ",
    );
    for _ in 0..depth {
        item.extend_from_slice(b"{a: ");
    }
    item.push(b'\n');
    let mut files = good_files();
    files[3].1 = configmaps(&item);
    files
}

#[test]
fn deep_flow_nesting_is_a_parse_error() {
    let t = tmp();
    let p = t.path().join("deep.zip");
    write_zip(&p, &deep_files(200_000), |_| {});
    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    let pe = parse_errors(&v);
    let lines: Vec<u64> = pe.iter().filter(|e| e.0 == CM_LIST).map(|e| e.1).collect();
    assert_eq!(lines.len(), 2, "both deep items are parse errors: {pe:#?}");
    assert!(
        lines.iter().all(|l| *l >= 10),
        "lines point into the items: {pe:#?}"
    );
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

#[test]
fn moderate_flow_nesting_finishes() {
    // 2,000 levels: far past any real object, still cheap for the quadratic scanner.
    let t = tmp();
    let p = t.path().join("deep2k.zip");
    write_zip(&p, &deep_files(2_000), |_| {});
    let (out, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_quick(&out);
    // Reported or ignored; when reported, in the right file and within the items.
    for (file, line, _) in parse_errors(&v) {
        assert_eq!(file, CM_LIST);
        assert!(line >= 10, "line {line} is not in the deep items");
    }
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

#[test]
fn deep_block_nesting_finishes() {
    // `- - - … x`: 200,000 nested block sequences on one line.
    let t = tmp();
    let mut item =
        b"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: deep\n    namespace: default\n  data:\n    x:\n    "
            .to_vec();
    for _ in 0..200_000 {
        item.extend_from_slice(b"- ");
    }
    item.extend_from_slice(b"x\n");
    let mut files = good_files();
    files[3].1 = configmaps(&item);
    let p = t.path().join("block.zip");
    write_zip(&p, &files, |_| {});
    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    for (file, line, _) in parse_errors(&v) {
        assert_eq!(file, CM_LIST);
        assert!(line >= 10, "line {line} is not in the deep item");
    }
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

#[test]
fn tar_links_are_refused_and_rest_is_read() {
    let t = tmp();
    let p = t.path().join("links.tar.gz");
    let sym = format!("{ROOT}yamls/cluster/v1/secrets.yaml");
    let hard = format!("{ROOT}yamls/cluster/v1/persistentvolumes.yaml");
    write_tgz(&p, &good_files(), |b| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, &sym, "/etc/passwd").unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        h.set_mode(0o644);
        b.append_link(&mut h, &hard, "/etc/passwd").unwrap();
        // A zip-slip name in a tar, written raw (the builder refuses `..`).
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..14].copy_from_slice(b"../evil-tar.tx");
        h.set_size(6);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, &b"pwned\n"[..]).unwrap();
    });
    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_failed(&v, &sym, "link");
    assert_failed(&v, &hard, "link");
    assert_failed(&v, "../evil-tar.tx", "entry refused");
    let text = serde_json::to_string(&v).unwrap();
    assert!(
        !text.contains("root:x:0:0"),
        "/etc/passwd leaked into the report"
    );
    assert_eq!(tree(t.path()), vec!["links.tar.gz".to_string()]);

    let out = run(sbdiag(t.path()).args(["get", "nodes", "-b"]).arg(&p));
    out.expect_code(0);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.split_whitespace().next() == Some("n1")),
        "{}",
        out.stdout
    );
    assert_output_contained(t.path(), &p, &[], 0);
}

#[test]
fn folder_symlinks_are_not_followed() {
    let t = tmp();
    let d = t.path().join("bundle");
    write_dir(&d, &good_files());
    std::os::unix::fs::symlink("/etc/passwd", d.join("yamls/cluster/v1/secrets.yaml")).unwrap();
    std::os::unix::fs::symlink("/etc", d.join("yamls/namespaced/etc")).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../../../../etc/passwd",
        d.join("metadata.yaml.link"),
    )
    .unwrap();
    let (_, v) = analyze_json(t.path(), &d, &[]);
    assert_good_part(&v);
    assert_failed(&v, "yamls/cluster/v1/secrets.yaml", "symbolic link");
    assert_failed(&v, "yamls/namespaced/etc", "symbolic link");
    let text = serde_json::to_string(&v).unwrap();
    assert!(
        !text.contains("root:x:0:0"),
        "/etc/passwd leaked into the report"
    );
    let out = run(sbdiag(t.path())
        .args(["get", "secrets", "-A", "-b"])
        .arg(&d));
    assert!(!out.stdout.contains("root"), "{}", out.stdout);
    assert_output_contained(t.path(), &d, &[], 0);
}

#[test]
fn tar_gz_bomb_is_cut_and_rest_is_read() {
    // good files, then a 300 MB log of spaces: three gzip members (MultiGzDecoder reads them
    // as one stream), the middle one the raw deflate stream of the shared bomb.
    let t = tmp();
    let p = t.path().join("gzbomb.tar.gz");
    let bytes = tar_gz_with_bomb("logs/default/p/c.log", bomb_zip(), BOMB_BYTES as u64);
    std::fs::write(&p, bytes).unwrap();

    let (_, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    let f = failed(&v);
    assert!(
        f.iter()
            .any(|(_, e)| e.contains("limit") || e.contains("bomb")),
        "the cut gzip stream is not reported: {f:#?}"
    );
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

#[test]
fn report_does_not_depend_on_where_the_bundle_lies() {
    let t = tmp();
    let here = t.path().join("a");
    let there = t.path().join("b/c");
    std::fs::create_dir_all(&here).unwrap();
    std::fs::create_dir_all(&there).unwrap();
    let p = here.join("same.zip");
    write_zip(&p, &broken_yaml_files(), |w| {
        zip_add_bomb(w, &format!("{ROOT}yamls/namespaced/default/v1/pods.yaml"));
        zip_add(w, b"../evil.txt", b"x");
    });
    std::fs::copy(&p, there.join("same.zip")).unwrap();
    let (a, _) = analyze_json(t.path(), &p, &[]);
    let (b, _) = analyze_json(&there, Path::new("same.zip"), &[]);
    assert!(
        a.stdout == b.stdout,
        "reports differ:\n{}",
        a.stdout
            .lines()
            .zip(b.stdout.lines())
            .filter(|(x, y)| x != y)
            .map(|(x, y)| format!("- {x}\n+ {y}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn report_is_deterministic() {
    // Hostile but limit-free: the same bundle, run twice and from a copy elsewhere.
    let t = tmp();
    let p = t.path().join("same.zip");
    write_zip(&p, &broken_yaml_files(), |w| {
        zip_add(w, b"../evil.txt", b"x");
        zip_add(w, b"\xff/x", b"1");
        zip_add(w, b"\xfe/x", b"2");
    });
    let there = t.path().join("elsewhere");
    std::fs::create_dir(&there).unwrap();
    std::fs::copy(&p, there.join("same.zip")).unwrap();
    let (a, _) = analyze_json(t.path(), &p, &[]);
    let (b, _) = analyze_json(t.path(), &p, &[]);
    let (c, _) = analyze_json(&there, Path::new("same.zip"), &[]);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout, c.stdout);
}

// ---------------------------------------------------------------------------------------------
// Bombs of gigabytes, a million entries: seconds, bounded memory, nothing written outside -o
// ---------------------------------------------------------------------------------------------

/// Peak memory tolerated while a bundle holding bombs is analysed (about 40 MiB measured:
/// bombs are refused from their declared size, before inflating).
const BOMB_PEAK_RSS: u64 = 256 << 20;

#[test]
fn gigabyte_bombs_are_cut_in_seconds_with_bounded_memory() {
    // 2 GiB of spaces in about 2 MB, as a resource list (read and parsed by analyze), a pod
    // log (searched by analyze), a node zip's os-release (read when the node zip is listed)
    // and as a whole node zip.
    let t = tmp();
    let list = "yamls/namespaced/default/v1/pods.yaml";
    let mut inner = ZipWriter::new(Cursor::new(Vec::new()));
    zip_add_big_bomb(&mut inner, "n1/configs/etc/os-release");
    zip_add(&mut inner, b"n1/logs/kernel.log", b"ok\n");
    let inner = inner.finish().unwrap().into_inner();
    let p = t.path().join("gbomb.zip");
    write_zip(&p, &good_files(), |w| {
        zip_add_big_bomb(w, &format!("{ROOT}{list}"));
        zip_add_big_bomb(
            w,
            &format!("{ROOT}logs/harvester-system/harvester-webhook-1/c.log"),
        );
        w.start_file(
            format!("{ROOT}nodes/n1.zip"),
            SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
        )
        .unwrap();
        w.write_all(&inner).unwrap();
        zip_add_big_bomb(w, &format!("{ROOT}nodes/n2.zip"));
    });
    assert!(std::fs::metadata(&p).unwrap().len() < 16 << 20);
    let (out, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_quick(&out);
    assert_peak_below(&out, BOMB_PEAK_RSS);
    let pe = parse_errors(&v);
    assert!(
        pe.iter()
            .any(|(f, _, e)| f == list && e.contains("--max-ratio")),
        "the list bomb is not a parse error naming --max-ratio: {pe:#?}"
    );
    let fails = failed(&v);
    assert!(
        fails
            .iter()
            .any(|(f, e)| f == "nodes/n2.zip" && (e.contains("limit") || e.contains("bomb"))),
        "the node zip bomb is not reported: {fails:#?}"
    );
    assert!(
        out.stdout.len() < 1 << 20,
        "report is {} bytes",
        out.stdout.len()
    );
    let out = assert_output_contained(t.path(), &p, &[], 0);
    assert_peak_below(&out, BOMB_PEAK_RSS);
    // Stricter caps from the command line still end cleanly.
    let (out, v) = analyze_json(
        t.path(),
        &p,
        &["--max-ratio", "20", "--max-entry-size", "64M"],
    );
    assert_good_part(&v);
    assert_peak_below(&out, BOMB_PEAK_RSS);
}

#[test]
fn gigabyte_tar_gz_bomb_is_cut_with_bounded_memory() {
    // The tar.gz of the bundle, then a 2 GiB entry of spaces as its own gzip member.
    let t = tmp();
    let p = t.path().join("gbomb.tar.gz");
    let bytes = tar_gz_with_bomb(
        "yamls/namespaced/default/v1/pods.yaml",
        big_bomb_zip(),
        BIG_BOMB_BYTES,
    );
    std::fs::write(&p, bytes).unwrap();
    let (out, v) = analyze_json(t.path(), &p, &[]);
    assert_good_part(&v);
    assert_peak_below(&out, BOMB_PEAK_RSS);
    assert_quick(&out);
    let all = format!("{:?}{:?}", failed(&v), parse_errors(&v));
    assert!(
        all.contains("limit") || all.contains("bomb"),
        "the cut gzip stream is not reported: {all}"
    );
    assert_output_contained(t.path(), &p, &[], 0);
}

/// A zip with the minimal bundle (under the short root `b/`) and `n` empty pod logs
/// `b/logs/ns/p<i>/c.log` that exist in the central directory only.
fn million_zip(path: &Path, n: usize) {
    let mut z = RawZip::default();
    for (name, data) in good_files() {
        let mut full = b"b/".to_vec();
        full.extend_from_slice(&name);
        z.file(&full, &data);
    }
    for i in 0..n {
        z.alias(format!("b/logs/ns/p{i:x}/c.log").as_bytes());
    }
    std::fs::write(path, z.finish()).unwrap();
}

#[test]
fn a_million_tiny_entries_over_the_cap_are_refused_quickly() {
    let t = tmp();
    let p = t.path().join("million.zip");
    million_zip(&p, 1_000_000);
    let out = run(sbdiag(t.path()).arg("analyze").arg(&p).arg("--json"));
    assert_refused(&out, &p, &["--max-entries", "500000"]);
    assert!(
        out.took < Duration::from_secs(5),
        "{} took {:?}",
        out.what,
        out.took
    );
    assert_peak_below(&out, 256 << 20);
    let out = assert_output_contained(t.path(), &p, &[], 2);
    assert_refused(&out, &p, &["--max-entries"]);
}

#[test]
fn a_million_tiny_entries_under_the_cap_are_analysed() {
    // About 4 s and 850 MiB for the release binary on a 2-core machine; the unoptimised one
    // `cargo test` builds is about ten times slower (30-40 s), hence its own time limit.
    let limit = if cfg!(debug_assertions) {
        Duration::from_secs(120)
    } else {
        Duration::from_secs(15)
    };
    let t = tmp();
    let p = t.path().join("million.zip");
    million_zip(&p, 1_000_000);
    let out = run_for(
        sbdiag(t.path())
            .args(["--max-entries", "1000010", "analyze"])
            .arg(&p)
            .arg("--json"),
        limit,
    );
    out.expect_code(0);
    let v = out.json();
    assert_eq!(v["bundle"]["created_at"], "2024-01-02T03:04:05Z");
    assert_eq!(v["bundle"]["node_names"], serde_json::json!(["n1"]));
    assert_eq!(v["coverage"]["collected"]["pod_logs"], 1_000_000);
    assert_peak_below(&out, 3 << 29);
    assert!(
        out.stdout.len() < 4 << 20,
        "report is {} bytes",
        out.stdout.len()
    );
}
