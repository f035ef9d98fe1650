//! Fuzz target: `sbdiag serve`'s answer to one HTTP request, through the function the server
//! calls for every request (`sbdiag::serve::respond`: request parts and body in, response out,
//! no socket), against a sample indexed once per process. Input: a textual request (see
//! `sbdiag_fuzz::TextRequest`): `METHOD TARGET`, header lines, a blank line, the body; a
//! request hyper would refuse (bad method, URI or header) is skipped, as the server never sees
//! it. Checks that every answer is a well-formed HTTP response: a final status (200–599), a
//! valid `Content-Type`, JSON bodies that parse (a watch's events one JSON object per line),
//! every failure a Kubernetes `Status` whose `code` is the HTTP status, nothing for HEAD.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sbdiag::serve::api::Api;
use sbdiag::serve::{AgeFrom, MAX_BODY, Payload, respond, wants_body};
use sbdiag_fuzz::{TextRequest, load_sample};
use serde_json::Value;

/// The API over the sample, with ages as now and as at the capture.
fn apis() -> &'static (Api, Api) {
    static APIS: OnceLock<(Api, Api)> = OnceLock::new();
    APIS.get_or_init(|| {
        let c = Box::leak(Box::new(load_sample()));
        (Api::new(c, AgeFrom::Now), Api::new(c, AgeFrom::Capture))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(req) = TextRequest::parse(data) else {
        return;
    };
    let Some(parts) = req.parts() else {
        return;
    };
    let (now, capture) = apis();
    let api = if req.age_from_capture { capture } else { now };
    // The server reads a wanted body up to MAX_BODY bytes; past that it passes none (413).
    let body = if !wants_body(&parts) {
        Some(&[][..])
    } else if req.body.len() > MAX_BODY {
        None
    } else {
        Some(req.body)
    };
    let resp = respond(api, &parts, body);
    let status = resp.status().as_u16();
    assert!((200..600).contains(&status), "status {status}");
    let ctype = resp
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .expect("every response has a Content-Type")
        .to_str()
        .expect("Content-Type is visible ASCII");
    assert!(
        ctype == "application/json" || ctype == "text/plain",
        "Content-Type {ctype}"
    );
    let head = parts.method == hyper::Method::HEAD;
    match resp.body() {
        Payload::Full(b) if head => assert!(b.is_empty(), "a body for HEAD"),
        Payload::Full(b) if ctype == "application/json" => {
            let v: Value = serde_json::from_slice(b)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(b)));
            if status >= 300 {
                assert_eq!(v["kind"], "Status", "{v}");
                assert_eq!(v["code"], status, "{v}");
                assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
            }
        }
        Payload::Full(b) => assert!(std::str::from_utf8(b).is_ok(), "text that is not UTF-8"),
        Payload::Watch { first, .. } => {
            assert!(!head && status == 200 && ctype == "application/json");
            for line in first.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                let e: Value = serde_json::from_slice(line).unwrap_or_else(|e| {
                    panic!(
                        "watch event not JSON ({e}): {}",
                        String::from_utf8_lossy(line)
                    )
                });
                assert_eq!(e["type"], "ADDED", "{e}");
                assert!(e["object"].is_object(), "{e}");
            }
            assert!(first.is_empty() || first.ends_with(b"\n"));
        }
    }
});
