#!/usr/bin/env python3
"""Writes a large, realistic support bundle for the benchmark: the healthy v1.4.0 scenario of
samples/generate.py with its VM stack (VM, VMI, launcher pod, PVC, PV, Longhorn volume, engine,
replicas and their events) cloned COPIES times and pod logs grown to size.

Clones are made on the rendered YAML text, the way the generator wrote it (yaml.v2 style, sorted
keys, managedFields and all), with every name, volume id and uid of the stack renamed per copy so
owner references and claims stay consistent. Deterministic: the same arguments give the same zip.

    python3 bench/bigbundle.py OUT.zip [--copies 5000] [--log-kib 48] [--system-log-mib 2]
"""
import argparse
import hashlib
import os
import random
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "samples"))
import generate as g  # noqa: E402  (the project's own bundle generator)

VM = "vm-web-01"
PVC_ID = "8bae9db4-b53f-4af3-b368-559386e7fd37"
ITEM_START = "- apiVersion: "
UID_RE = re.compile(r"\buid: ([0-9a-f]{8})-([0-9a-f-]{27})\b")


def split_list(text: str):
    """(header, items, footer) of a List file, split at the items' `- apiVersion:` lines."""
    head_end = text.index("items:\n") + len("items:\n")
    foot = text.rindex("\nkind: List\n") + 1
    body = text[head_end:foot]
    starts = [m.start() for m in re.finditer(r"(?m)^- apiVersion: ", body)]
    items = [body[a:b] for a, b in zip(starts, starts[1:] + [len(body)])]
    return text[:head_end], items, text[foot:]


def is_stack(item: str) -> bool:
    # Instance managers list every replica and engine of their node: they are not cloned.
    return (VM in item or PVC_ID in item) and "kind: InstanceManager" not in item


def clone(item: str, k: int, uids: set) -> str:
    tag = f"{k:05d}"
    out = item.replace(VM, f"vm-{tag}").replace(PVC_ID, f"{k:08x}{PVC_ID[8:]}")

    def new_uid(m):
        u = m.group(1) + "-" + m.group(2)
        if u not in uids:
            return m.group(0)
        return "uid: " + hashlib.sha256(f"{u}/{k}".encode()).hexdigest()[:8] + "-" + m.group(2)

    return UID_RE.sub(new_uid, out)


def grow_log(text: str, kib: int, salt: str) -> str:
    """The log repeated until it holds `kib` KiB, each line given a counter and a random request
    id (seeded by the file name) so it compresses like a real log, not like a repeated one."""
    lines = text.splitlines() or [f"{salt} started"]
    rng = random.Random(salt)
    want = kib * 1024
    out, size, n = [], 0, 0
    while size < want:
        line = lines[n % len(lines)] + f" seq={n} req={rng.getrandbits(64):016x}"
        out.append(line)
        size += len(line) + 1
        n += 1
    return "\n".join(out) + "\n"


def build(copies: int, log_kib: int, system_log_mib: int) -> dict:
    b = g.scenario_healthy_v140()
    files = b.files()
    stack_uids = set()
    lists = {}
    for path, data in files.items():
        if path.startswith("yamls/") and data.startswith(b"apiVersion: v1\nitems:\n"):
            head, items, foot = split_list(data.decode())
            lists[path] = (head, items, foot)
            for it in items:
                if is_stack(it):
                    m = re.search(r"(?m)^    uid: (\S+)$", it)
                    if m:
                        stack_uids.add(m.group(1))
    for path, (head, items, foot) in lists.items():
        stack = [it for it in items if is_stack(it)]
        if not stack:
            continue
        grown = list(items)
        for k in range(1, copies + 1):
            grown.extend(clone(it, k, stack_uids) for it in stack)
        files[path] = (head + "".join(grown) + foot).encode()
    for path in [p for p in files if p.startswith("logs/")]:
        text = files[path].decode()
        if VM in path:
            for k in range(1, copies + 1):
                files[clone(path, k, set())] = grow_log(clone(text, k, set()), log_kib, path).encode()
            files[path] = grow_log(text, log_kib, path).encode()
        else:
            files[path] = grow_log(text, system_log_mib * 1024 // 8, path).encode()
    return files


def write_zip(out: str, files: dict, top: str):
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for rel in sorted(files):
            zi = zipfile.ZipInfo(f"{top}/{rel}", date_time=(2025, 2, 14, 9, 41, 7))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, files[rel], compresslevel=6)
    os.replace(tmp, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--copies", type=int, default=5000, help="VM stacks cloned (16 objects each, plus events.k8s.io copies)")
    ap.add_argument("--log-kib", type=int, default=48, help="size of each VM launcher log")
    ap.add_argument("--system-log-mib", type=int, default=2, help="size of each system pod log / 8")
    args = ap.parse_args(argv)
    files = build(args.copies, args.log_kib, args.system_log_mib)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_zip(args.out, files, "supportbundle_bench_2025-02-14T09-41-07Z")
    size = sum(len(v) for v in files.values())
    yaml = sum(len(v) for k, v in files.items() if k.startswith("yamls/"))
    print(f"wrote {args.out}: {len(files)} files, {size / 1e6:.0f} MB uncompressed "
          f"({yaml / 1e6:.0f} MB YAML), {os.path.getsize(args.out) / 1e6:.0f} MB zipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
