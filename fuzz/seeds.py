#!/usr/bin/env python3
"""Writes the seed corpora of sbdiag's fuzz targets from the project's own samples.

    python3 fuzz/seeds.py [OUT]        # default: fuzz/seeds/<target>/

Deterministic (fixed zip/tar timestamps, sorted input); nothing is copied from outside the
repository. Seeds larger than a target's -max_len (see run.sh) would be cut by libFuzzer, so
every seed is kept under it:

  split     every List file of samples/*/yamls (deduplicated; long ones cut after an item)
  decode    the same, each preceded by a line with its bundle-relative path
  archive   small bundles made of sample files as zip (deflated and stored), tar, tar.gz; and
            the samples' node zips as they are
  pipeline  choices for the bundle grammar (fuzz/src/grammar.rs; two per sample, the first
            byte picks the sample, the last the report format, each format in turn); small
            textual bundles (`=== <entry name>` sections, node zips as nested `+++ `
            sections, see fuzz/src/lib.rs) of each sample, under 15 KB, once per report
            format (an `@format` entry; the target renders one report a run): its metadata,
            the head of its generation log, the first node of its node list with the long
            lists the grammar also cuts (cached images, managed fields) cut to two entries,
            the head of each file of one node zip, then its smallest files; plus two of the
            small archives above. A run's cost grows with its bundle: small seeds keep the
            target fast (see run.sh)
  redact    the same as pipeline (once each: it renders no report), and larger textual
            bundles (up to 24 KB of files)
  serve     textual HTTP requests (see `TextRequest` in fuzz/src/lib.rs) as kubectl sends
            them to the sample the target serves: discovery, list, get, Table, watch, label and
            field selectors, pod logs, access reviews, writes
  mcp       JSON-RPC frames as an MCP client sends them (tools/list, tools/call of every tool,
            logging, ping, cancellation, bad frames), and direct tool calls (`@TOOL` then the
            arguments) over the sample the target loads
"""
import hashlib
import io
import json
import os
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "samples"
# Keep in step with MAX_LEN in run.sh.
MAX_TEXT = 64 * 1024
MAX_ARCHIVE = 128 * 1024
MAX_PIPELINE = 64 * 1024
# The pipeline target's -max_len (targets.sh).
MAX_SMALL = 16 * 1024
# The pipeline target's textual bundles (its -max_len in targets.sh is 16 KB).
SMALL_BUNDLE = 8 * 1024
# Keys whose block sequences are cut to their first CAPPED_ENTRIES entries (as CAPPED in
# src/grammar.rs does).
CAPPED = ("images", "managedFields")
CAPPED_ENTRIES = 2
ROOT = "supportbundle_3f6c2a1e-8b7d-4e2a-9c41-5d0e7a9b1c23_2025-02-14T09-41-07Z/"
EPOCH = (2025, 2, 14, 9, 41, 7)
# The sample the `serve` and `mcp` targets load (SAMPLE in src/lib.rs), and the other sample
# the `mcp` target loads.
SERVE_SAMPLE = "upgrade-blocked-v1.4.0"
OTHER_SAMPLE = "upgrade-failed-leftovers-v1.4.0"
# What kubectl sends: `get` asks for a Table, falling back to a list.
KUBECTL_TABLE = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
KUBECTL_UA = "kubectl/v1.31.4 (linux/amd64) kubernetes/a78aa47"


def samples():
    return sorted(p for p in SAMPLES.iterdir() if (p / "metadata.yaml").is_file())


def files_of(sample):
    """(bundle-relative path, bytes) of every file of a sample, sorted."""
    out = []
    for p in sorted(sample.rglob("*")):
        if p.is_file():
            out.append((p.relative_to(sample).as_posix(), p.read_bytes()))
    return out


def cut(data, limit):
    """`data` cut before `limit` bytes at the start of a List item (or a line)."""
    if len(data) <= limit:
        return data
    head = data[:limit]
    at = head.rfind(b"\n- ")
    if at <= 0:
        at = head.rfind(b"\n")
    return head[: at + 1] if at > 0 else head


class Out:
    def __init__(self, root, target):
        self.dir = root / target
        self.dir.mkdir(parents=True, exist_ok=True)
        self.seen = set()

    def prune(self):
        """Removes the seeds of an earlier run that this run did not write."""
        for name in os.listdir(self.dir):
            if name not in self.seen:
                (self.dir / name).unlink()

    def add(self, data, limit):
        if not data or len(data) > limit:
            return
        h = hashlib.sha1(data).hexdigest()
        if h not in self.seen:
            self.seen.add(h)
            (self.dir / h).write_bytes(data)


def zipped(files, method):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in files:
            info = zipfile.ZipInfo(ROOT + name, EPOCH)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def tarred(files, gz):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(ROOT + name)
            info.size = len(data)
            info.mtime = 1739526067
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    if not gz:
        return raw
    import gzip

    return gzip.compress(raw, compresslevel=6, mtime=0)


def mini_bundle(files, budget, node_zip=False):
    """The sample's metadata, generation log, node list (and first node zip) and then its
    smallest files, up to `budget` bytes in all."""
    first = ["metadata.yaml", "bundleGenerationError.log", "yamls/cluster/v1/nodes.yaml"]
    if node_zip:
        first += [n for n, _ in files if n.startswith("nodes/") and n.endswith(".zip")][:1]
    by_name = dict(files)
    chosen = [(n, by_name[n]) for n in first if n in by_name]
    total = sum(len(d) for _, d in chosen)
    rest = sorted((len(d), n) for n, d in files if n not in first)
    for size, name in rest:
        if total + size > budget:
            break
        chosen.append((name, by_name[name]))
        total += size
    return sorted(chosen)


def indent(line):
    return len(line) - len(line.lstrip(b" "))


def cap_lists(text):
    """`text` (YAML) with the block sequence under each CAPPED key cut to its first
    CAPPED_ENTRIES entries (cap_lists in src/grammar.rs)."""
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        t = line.rstrip()
        key = t.lstrip()
        while key.startswith(b"- "):
            key = key[2:]
        if not key.endswith(b":") or key[:-1].decode(errors="replace") not in CAPPED:
            continue
        col = len(t) - len(key)

        def in_block(l):
            d = indent(l)
            return not l.strip() or d > col or (d == col and l[d:].startswith(b"- "))

        if i >= len(lines) or not in_block(lines[i]):
            continue
        entry_col, entries = indent(lines[i]), 0
        while i < len(lines) and in_block(lines[i]):
            l = lines[i]
            if indent(l) == entry_col and l[entry_col:].startswith(b"-"):
                entries += 1
            if entries <= CAPPED_ENTRIES:
                out.append(l)
            i += 1
    return b"".join(out)


def first_lines(data, n):
    """The first `n` lines of `data`."""
    return b"".join(data.splitlines(keepends=True)[:n])


def first_item(text):
    """A List file (the generator's layout: items at column 0) with only its first item."""
    out, items = [], 0
    for line in text.splitlines(keepends=True):
        if line.startswith(b"- "):
            items += 1
        elif not line.startswith(b" "):
            items = 0
        if items < 2:
            out.append(line)
    return b"".join(out)


def small_bundle(files, budget):
    """The pipeline target's textual bundle of a sample: its metadata, the head of its
    generation log, the first item of its node list with long lists cut (cap_lists), the
    head of each file of its first node zip (as a nested textual bundle), then its smallest
    files while the bundle stays under `budget` bytes."""
    by_name = dict(files)
    out = bytearray()
    for name in ("metadata.yaml", "bundleGenerationError.log", "yamls/cluster/v1/nodes.yaml"):
        if name in by_name:
            data = by_name[name]
            data = first_lines(data, 12) if name.endswith(".log") else cap_lists(first_item(data))
            out += text_bundle([(name, data)])
    zips = [n for n, d in files if n.startswith("nodes/") and n.endswith(".zip")]
    if zips:
        with zipfile.ZipFile(io.BytesIO(by_name[zips[0]])) as z:
            inner = [
                (i.filename, first_lines(z.read(i), 16)) for i in z.infolist() if not i.is_dir()
            ]
        out += b"=== " + (ROOT + zips[0]).encode() + b"\n" + text_bundle(inner, b"+++ ", "")
    taken = {"metadata.yaml", "bundleGenerationError.log", "yamls/cluster/v1/nodes.yaml"}
    for size, name in sorted((len(d), n) for n, d in files if n not in taken):
        if name.endswith(".zip") or len(out) + size > budget:
            continue
        out += text_bundle([(name, by_name[name])])
    return bytes(out)


def text_bundle(files, marker=b"=== ", root=ROOT):
    """Sections `<marker><name>`; a node zip becomes a nested textual bundle (`+++ `)."""
    out = bytearray()
    for name, data in files:
        if marker == b"=== " and name.endswith(".zip") and data.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                inner = [(i.filename, z.read(i)) for i in z.infolist() if not i.is_dir()]
            data = text_bundle(inner, b"+++ ", "")
        out += marker + (root + name).encode() + b"\n" + data
        if not data.endswith(b"\n"):
            out += b"\n"
    return bytes(out)


# The report formats the pipeline target renders, one a run (`Format` in src/lib.rs): the
# name of a textual bundle's `@format` entry and the grammar's last byte that chooses it.
FORMATS = [
    ("json", 0),
    ("sarif", 1),
    ("markdown", 2),
    ("html", 3),
    ("junit", 4),
    ("terminal", 5),
    ("terminal-color-verbose", 23),
]


def choices(index, count, name, k):
    """Bytes for the grammar that pick sample `index` of `count` (the grammar's first choice
    is a byte taken modulo the count) and then choices of their own: never a first byte that
    makes the input raw (0, `=`, `P`, 0x1f)."""
    first = index + count * (1 + k)
    while first in (0, ord("="), ord("P"), 0x1F):
        first += count
    rest = b""
    while len(rest) < 192:
        rest += hashlib.sha256(f"{name}/{k}/{len(rest)}".encode()).digest()
    return bytes([first % 256]) + rest[:192]


def resources(sample):
    """(namespace or None, group, version, plural, first object name or None) of every
    resource list file of the sample's yamls/, sorted."""
    out = []
    for p in sorted((sample / "yamls").rglob("*.yaml")):
        parts = p.relative_to(sample / "yamls").parts
        if parts[0] == "namespaced":
            ns, rest = parts[1], parts[2:]
        else:
            ns, rest = None, parts[1:]
        group, version = (rest[0], rest[1]) if len(rest) == 3 else ("", rest[0])
        name = None
        lines = p.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if line.strip() == "metadata:" and i + 1 < len(lines):
                for nxt in lines[i + 1 : i + 30]:
                    if nxt.strip().startswith("name: "):
                        name = nxt.strip()[len("name: ") :].strip("'\"")
                        break
                if name:
                    break
        out.append((ns, group, version, rest[-1][: -len(".yaml")], name))
    return out


def request(method, target, headers=(), body=b""):
    """A `TextRequest`: `METHOD TARGET`, headers, a blank line, the body."""
    out = f"{method} {target}\n".encode()
    for h in headers:
        out += h.encode() + b"\n"
    if body:
        out += b"\n" + body
    return out


def serve_seeds(sample):
    """kubectl's requests to the sample."""
    ua = f"User-Agent: {KUBECTL_UA}"
    table = [f"Accept: {KUBECTL_TABLE}", ua]
    out = [
        request("GET", "/version?timeout=32s", ["Accept: application/json, */*", ua]),
        request("GET", "/api?timeout=32s", ["Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json", ua]),
        request("GET", "/apis?timeout=32s", [ua]),
        request("GET", "/api/v1?timeout=32s", [ua]),
        request("GET", "/openapi/v2?timeout=32s", ["Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf", ua]),
        request("GET", "/openapi/v3", [ua]),
        request("GET", "/healthz"),
        request("GET", "/readyz?verbose"),
        request("HEAD", "/api/v1/pods"),
        request("GET", "/api/v1/namespaces?limit=500", table),
        request("GET", "/api/v1/nodes?labelSelector=node-role.kubernetes.io%2Fcontrol-plane%3Dtrue&limit=500", table),
        request("GET", "/api/v1/pods?fieldSelector=status.phase%21%3DRunning%2Cstatus.phase%21%3DSucceeded&limit=500", table),
        request("GET", "/api/v1/events?fieldSelector=type%3DWarning&limit=500", table),
        request("GET", "/api/v1/namespaces/harvester-system/events?fieldSelector=involvedObject.name%3Dhvst-upgrade-7dtzq%2CinvolvedObject.namespace%3Dharvester-system%2CinvolvedObject.kind%3DUpgrade&limit=500", [ua]),
        request("GET", "/api/v1/pods?labelSelector=app+in+%28rancher%2Cfleet-controller%29%2C%21job-name&limit=500", table),
        request("GET", "/api/v1/pods?includeObject=Object&limit=500", table),
        request("GET", "/api/v1/pods?watch=true&resourceVersion=1&timeoutSeconds=5", table),
        request("GET", "/api/v1/namespaces/cattle-system/pods?watch=1&fieldSelector=metadata.name%3Drancher-ll288pl58g-jxzlh", [ua]),
        request("GET", "/api/v1/pods?limit=500", ["@age-from capture"] + table),
        request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ["Content-Type: application/json", ua],
                b'{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{"resourceAttributes":{"namespace":"default","verb":"delete","resource":"pods"}},"status":{"allowed":false}}\n'),
        request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", ["Content-Type: application/json", ua],
                b'{"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1","spec":{"namespace":"default"}}\n'),
        request("DELETE", "/api/v1/namespaces/default/pods/x", [ua]),
        request("PATCH", "/apis/apps/v1/namespaces/cattle-system/deployments/rancher?fieldManager=kubectl-edit", ["Content-Type: application/strategic-merge-patch+json"], b'{"spec":{"replicas":0}}'),
        request("PUT", "/api/v1/namespaces/default/configmaps/x", [], b"{}"),
        request("GET", "/api/v1/namespaces/default/pods/a%2Fb/..%2f..%2fetc"),
        request("GET", "/apis/../../etc/passwd"),
    ]
    groups = set()
    for ns, group, version, plural, name in resources(sample):
        base = "/api/v1" if not group else f"/apis/{group}/{version}"
        if group and group not in groups:
            groups.add(group)
            out.append(request("GET", f"/apis/{group}/{version}?timeout=32s", [ua]))
            out.append(request("GET", f"/apis/{group}", [ua]))
        where = f"{base}/namespaces/{ns}/{plural}" if ns else f"{base}/{plural}"
        out.append(request("GET", f"{where}?limit=500", table))
        if name:
            out.append(request("GET", f"{where}/{name}", table))
            out.append(request("GET", f"{where}/{name}", [f"Accept: application/json", ua]))
            out.append(request("GET", f"{where}?fieldSelector=metadata.name%3D{name}&watch=true&resourceVersion=0", table))
    for p in sorted((sample / "logs").glob("*/*/*.log*")):
        ns, pod = p.parts[-3], p.parts[-2]
        container = p.name.split(".log")[0]
        where = f"/api/v1/namespaces/{ns}/pods/{pod}/log"
        out.append(request("GET", f"{where}?container={container}", [ua]))
        out.append(request("GET", f"{where}?container={container}&tailLines=10&sinceSeconds=3600&follow=true&timestamps=true", [ua]))
        out.append(request("GET", f"{where}?container={container}&previous=true", [ua]))
    return out


def rpc(id, method, params=None):
    m = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        m["id"] = id
    if params is not None:
        m["params"] = params
    return json.dumps(m, separators=(",", ":"))


def tool_calls(sample, other):
    """(tool, arguments, whether it needs several bundles) as a model calls them."""
    pod, ns, container = "rancher-ll288pl58g-jxzlh", "cattle-system", "rancher"
    return [
        ("bundles", {}, False),
        ("incidents", {}, False),
        ("incidents", {"bundle": sample, "limit": 1, "cursor": "1"}, False),
        ("findings", {"severity": "warning"}, False),
        ("findings", {"rule": "upgrade", "kind": "configmap", "namespace": "harvester-system", "limit": 2}, False),
        ("get", {"kind": "api-resources"}, False),
        ("get", {"kind": "pods", "namespace": ns, "output": "wide"}, False),
        ("get", {"kind": "po", "name": pod, "output": "yaml"}, False),
        ("get", {"kind": "volumes.longhorn.io", "selector": "app!=x,tier in (a,b)", "output": "name"}, False),
        ("get", {"kind": "managedcharts", "cursor": "3", "limit": 2}, False),
        ("describe", {"kind": f"po/{pod}"}, False),
        ("describe", {"kind": "node", "name": "harvester-node"}, False),
        ("events", {"type": "Warning"}, False),
        ("events", {"namespace": "harvester-system", "object": "Upgrade/hvst-upgrade-7dtzq"}, False),
        ("logs", {"pod": pod, "container": container, "grep": "(?i)error|fail", "tail": 5}, False),
        ("logs", {"pod": pod, "namespace": ns, "since": "2h", "until": "2025-02-14T09:00:00Z", "previous": True}, False),
        ("logs", {"pod": "harvester-node-0", "container": "kernel"}, False),
        ("graph", {"object": "managedchart/harvester", "depth": 6}, False),
        ("graph", {"object": f"pod/{pod}", "namespace": ns}, False),
        ("coverage", {}, False),
        ("coverage", {"rule": "upgrade.precheck"}, False),
        ("diff", {"old": other, "new": sample}, True),
        ("diff", {"old": other, "new": sample, "force": True, "limit": 5}, True),
        ("findings", {"bundle": "broken"}, True),
        ("get", {"bundle": sample, "kind": "nodes"}, True),
        ("nope", {}, False),
    ]


def mcp_seeds(sample, other):
    out = []
    calls = tool_calls(sample, other)
    for tool, args, several in calls:
        out.append(("@@" if several else "@").encode() + tool.encode() + b"\n" + json.dumps(args).encode())
    frames = [rpc(1, "tools/list")]
    for i, (tool, args, several) in enumerate(calls):
        if not several:
            frames.append(rpc(10 + i, "tools/call", {"name": tool, "arguments": args}))
    out.append(("\n".join(frames) + "\n").encode())
    for f in frames[1:]:
        out.append(f.encode() + b"\n")
    odd = [
        rpc(None, "notifications/initialized"),
        rpc(2, "ping"),
        rpc(3, "logging/setLevel", {"level": "error"}),
        rpc(4, "tools/list", {"cursor": "abc"}),
        rpc(5, "tools/call", {"name": "get"}),
        rpc(6, "tools/call", {"name": "get", "arguments": {"kind": 7}}),
        rpc(7, "tools/call", {"name": "logs", "arguments": {"pod": "x", "grep": "(("}}),
        rpc(8, "resources/list"),
        rpc(9, "prompts/get", {"name": "x"}),
        rpc(10, "nonexistent/method", {}),
        rpc(11, "tools/call", {"name": "get", "arguments": {"kind": "pods"}, "_meta": {"progressToken": 1}}),
        rpc(None, "notifications/cancelled", {"requestId": 11, "reason": "user"}),
        rpc(12, "initialize", {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
        rpc(None, "notifications/roots/list_changed"),
        '{"jsonrpc":"2.0","id":13,"result":{}}',
        '{"jsonrpc":"2.0","id":14,"error":{"code":-32601,"message":"no"}}',
        '[{"jsonrpc":"2.0","id":15,"method":"ping"}]',
        '{"jsonrpc":"1.0","id":16,"method":"ping"}',
        '{"jsonrpc":"2.0","id":null,"method":"ping"}',
        '{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
        '{not json',
        '',
        '\ufeff' + rpc(17, "ping"),
        "Content-Length: 40\r",
    ]
    out.append(("\n".join(odd) + "\n").encode())
    for f in odd:
        out.append(f.encode() + b"\n")
    return out


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "seeds"
    split, decode = Out(root, "split"), Out(root, "decode")
    archive, pipeline = Out(root, "archive"), Out(root, "pipeline")
    redact = Out(root, "redact")
    serve, mcp = Out(root, "serve"), Out(root, "mcp")
    every = samples()
    for i, sample in enumerate(every):
        for k in range(2):
            c = choices(i, len(every), sample.name, k)
            redact.add(c, MAX_PIPELINE)
            _, last = FORMATS[(2 * i + k) % len(FORMATS)]
            pipeline.add(c[:-1] + bytes([last]), MAX_SMALL)
    for sample in every:
        files = files_of(sample)
        for name, data in files:
            if name.startswith("yamls/") and name.endswith(".yaml"):
                split.add(cut(data, MAX_TEXT), MAX_TEXT)
                head = name.encode() + b"\n"
                decode.add(head + cut(data, MAX_TEXT - len(head)), MAX_TEXT)
            if name.startswith("nodes/") and name.endswith(".zip"):
                archive.add(data, MAX_ARCHIVE)
        small = mini_bundle(files, 24 * 1024)
        archive.add(zipped(small, zipfile.ZIP_DEFLATED), MAX_ARCHIVE)
        archive.add(zipped(small, zipfile.ZIP_STORED), MAX_ARCHIVE)
        archive.add(tarred(small, gz=False), MAX_ARCHIVE)
        archive.add(tarred(small, gz=True), MAX_ARCHIVE)
        text = text_bundle(mini_bundle(files, 24 * 1024, node_zip=True))
        redact.add(text, MAX_PIPELINE)
        little = small_bundle(files, SMALL_BUNDLE)
        redact.add(little, MAX_PIPELINE)
        for fmt, _ in FORMATS:
            pipeline.add(little + b"=== @format\n" + fmt.encode() + b"\n", MAX_SMALL)
        if sample.name.startswith("upgrade-blocked"):
            opts = b"=== @from-version\nv1.4.0\n=== @to-version\nv1.4.1\n"
            for data in (text + opts, zipped(small, zipfile.ZIP_DEFLATED), tarred(small, gz=True)):
                redact.add(data, MAX_PIPELINE)
            pipeline.add(little + opts, MAX_SMALL)
            pipeline.add(zipped(small, zipfile.ZIP_DEFLATED), MAX_SMALL)
            pipeline.add(tarred(small, gz=True), MAX_SMALL)
    for seed in serve_seeds(SAMPLES / SERVE_SAMPLE):
        serve.add(seed, MAX_TEXT)
    for seed in mcp_seeds(SERVE_SAMPLE, OTHER_SAMPLE):
        mcp.add(seed, MAX_TEXT)
    for o in (split, decode, archive, pipeline, redact, serve, mcp):
        o.prune()
        print(f"{o.dir}: {len(o.seen)} seeds")


if __name__ == "__main__":
    os.umask(0o022)
    main()
