//! `sbdiag serve` started for a test: on a free port of 127.0.0.1, its kubeconfig in a
//! temporary folder, killed when dropped; kubectl on it, and raw HTTP requests. The binary is
//! this build's, or `$SBDIAG_SERVE_BIN` when set (a release build, for the figures
//! `tests/serve_load.rs` prints).
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A running `sbdiag serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn start(bundle: &Path, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("kubeconfig");
        let bin = std::env::var_os("SBDIAG_SERVE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sbdiag")));
        let mut child = Command::new(bin)
            .arg("serve")
            .arg(bundle)
            .arg("--kubeconfig")
            .arg(&kc)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sbdiag serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Server {
            child,
            dir,
            addr: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("serve prints export KUBECONFIG=… when ready");
        assert_eq!(
            line.trim(),
            format!("export KUBECONFIG={}", kc.display()),
            "first line of serve"
        );
        let text = std::fs::read_to_string(&kc).unwrap();
        server.addr = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: http://"))
            .expect("server line in the kubeconfig")
            .to_string();
        assert!(server.addr.starts_with("127.0.0.1:"), "{text}");
        server
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(kubectl_bin().expect("kubectl"))
            .args(args)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .arg("--request-timeout=30s")
            .env("KUBECONFIG", self.kubeconfig())
            .output()
            .expect("run kubectl")
    }

    /// kubectl's stdout, asserting success.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A raw HTTP/1.1 request: (status code, body bytes as text, chunked framing included).
    pub fn raw(&self, method: &str, target: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            s,
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).into_owned();
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (code, text)
    }
}

/// kubectl: `/usr/bin/kubectl` or on PATH. Missing: the test fails under CI, else is skipped.
pub fn kubectl_bin() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("kubectl"))
            .find(|k| k.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is not installed (CI is set): apt-get install kubectl"
        );
        eprintln!("skipping: kubectl is not installed");
    }
    found
}
