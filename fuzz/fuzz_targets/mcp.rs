//! Fuzz target: `sbdiag mcp`'s answers to arbitrary messages, over samples analysed once per
//! process. Two kinds of input:
//!
//! * `@TOOL` (one sample loaded) or `@@TOOL` (two samples and one that failed to load) on the
//!   first line, then the tool's JSON arguments: the tool dispatch (`sbdiag::mcp::tools::call`)
//!   called directly. Every call answers text or an error message, without panicking.
//! * Anything else: JSON-RPC frames, one per line, sent to the server through rmcp (the
//!   transport `sbdiag mcp` uses on stdio, here over an in-memory pipe) after `initialize`
//!   and before a final `ping`. Every line the server writes must be a JSON-RPC 2.0
//!   notification or response (a result or an error), and the final `ping` must be answered
//!   (within 8 s): bad frames do not end or stall the session.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rmcp::ServiceExt;
use sbdiag::archive::Limits;
use sbdiag::mcp::{Bundles, Loaded, Server, Slot, tools};
use sbdiag_fuzz::{SAMPLE, sample_path};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// Analysed once: the runtime, one bundle, several bundles, and the channel the server waits
/// for its bundles on (already holding them).
struct World {
    rt: tokio::runtime::Runtime,
    one: Arc<Bundles>,
    several: Arc<Bundles>,
    ready: watch::Sender<Option<Arc<Bundles>>>,
}

fn load(name: &str) -> Slot {
    let path = sample_path(name);
    let l = Loaded::load(&path, &Limits::default(), &|_, _| {})
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Slot::Ready(Box::new(l))
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let one = Arc::new(Bundles {
            slots: vec![load(SAMPLE)],
        });
        let several = Arc::new(Bundles {
            slots: vec![
                load("upgrade-failed-leftovers-v1.4.0"),
                load(SAMPLE),
                Slot::Failed {
                    name: "broken".into(),
                    path: "broken.zip".into(),
                    error: "broken.zip: not a support bundle (no metadata.yaml)".into(),
                },
            ],
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (ready, _) = watch::channel(Some(one.clone()));
        World {
            rt,
            one,
            several,
            ready,
        }
    })
}

/// One tool called directly.
fn call(w: &World, data: &[u8]) {
    let (first, args) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let (bundles, name) = match first.strip_prefix(b"@@") {
        Some(n) => (&w.several, n),
        None => (&w.one, &first[1..]),
    };
    let name = String::from_utf8_lossy(name);
    // What rmcp hands the server: arguments absent, null or an object.
    let args = if args.trim_ascii().is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(args) {
            Ok(Value::Object(m)) => Some(m),
            Ok(Value::Null) => None,
            _ => return,
        }
    };
    match tools::call(&name, args, bundles) {
        Ok(a) => assert!(!a.text.trim().is_empty(), "an empty answer"),
        Err(m) => assert!(!m.trim().is_empty(), "an empty error"),
    }
}

const INITIALIZE: &str = concat!(
    r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","#,
    r#""capabilities":{},"clientInfo":{"name":"fuzz","version":"0"}}}"#,
    "\n",
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    "\n"
);
const LAST: &str = "fuzz-last-ping";

/// Checks one line the server wrote; true when it answers the final ping.
fn check_line(line: &str) -> bool {
    let v: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("the server wrote a line that is not JSON ({e}): {line}"));
    assert_eq!(v["jsonrpc"], "2.0", "{line}");
    if v.get("method").is_some() {
        assert!(v["method"].is_string(), "{line}");
        assert!(v.get("id").is_none(), "the server sent a request: {line}");
        return false;
    }
    match (v.get("result"), v.get("error")) {
        (Some(r), None) => {
            assert!(
                v.get("id").is_some_and(|id| !id.is_null()),
                "a result without an id: {line}"
            );
            assert!(r.is_object(), "{line}");
            if let Some(c) = r.get("content") {
                assert!(c.is_array(), "{line}");
            }
        }
        // An error to a message whose id could not be read has none (MCP 2026-07-28).
        (None, Some(e)) => {
            assert!(e["code"].is_i64(), "{line}");
            assert!(e["message"].is_string(), "{line}");
        }
        _ => panic!("neither a notification nor a response (one of result and error): {line}"),
    }
    v["id"] == LAST
}

/// The frames sent through rmcp to a fresh session.
fn frames(w: &'static World, data: &[u8]) {
    let mut input = INITIALIZE.as_bytes().to_vec();
    input.extend_from_slice(data);
    if !input.ends_with(b"\n") {
        input.push(b'\n');
    }
    input.extend_from_slice(
        format!(r#"{{"jsonrpc":"2.0","id":"{LAST}","method":"ping"}}"#).as_bytes(),
    );
    input.push(b'\n');
    w.rt.block_on(async move {
        let (client, server_io) = tokio::io::duplex(64 * 1024);
        let (progress_tx, progress) = mpsc::unbounded_channel();
        drop(progress_tx);
        let server = Server::new(w.ready.subscribe(), progress);
        let session = tokio::spawn(async move {
            if let Ok(s) = server.serve(tokio::io::split(server_io)).await {
                let _ = s.waiting().await;
            }
        });
        let (read, mut write) = tokio::io::split(client);
        // Written while the replies are read, so that neither side's pipe fills and stalls.
        let writer = tokio::spawn(async move {
            let _ = write.write_all(&input).await;
            write
        });
        let mut lines = tokio::io::BufReader::new(read).lines();
        let answered = tokio::time::timeout(Duration::from_secs(8), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if check_line(&line) {
                    return true;
                }
            }
            false
        })
        .await;
        match answered {
            Ok(true) => {}
            Ok(false) => panic!("the server ended the session before answering the last ping"),
            Err(_) => panic!("the server did not answer the last ping within 8 s"),
        }
        // Closing the pipe ends the session.
        if let Ok(mut write) = writer.await {
            let _ = write.shutdown().await;
        }
        drop(lines);
        let _ = tokio::time::timeout(Duration::from_secs(8), session).await;
    });
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    if data.starts_with(b"@") {
        call(w, data);
    } else {
        frames(w, data);
    }
});
