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
            byte picks the sample), textual bundles (`=== <entry name>` sections, node zips
            as nested `+++ ` sections, see fuzz/src/lib.rs) of the small files of each
            sample, plus two of the small archives above
  redact    the same as pipeline
"""
import hashlib
import io
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
ROOT = "supportbundle_3f6c2a1e-8b7d-4e2a-9c41-5d0e7a9b1c23_2025-02-14T09-41-07Z/"
EPOCH = (2025, 2, 14, 9, 41, 7)


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


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "seeds"
    split, decode = Out(root, "split"), Out(root, "decode")
    archive, pipeline = Out(root, "archive"), Out(root, "pipeline")
    redact = Out(root, "redact")
    every = samples()
    for i, sample in enumerate(every):
        for k in range(2):
            pipeline.add(choices(i, len(every), sample.name, k), MAX_PIPELINE)
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
        pipeline.add(text, MAX_PIPELINE)
        if sample.name.startswith("upgrade-blocked"):
            opts = b"=== @from-version\nv1.4.0\n=== @to-version\nv1.4.1\n"
            pipeline.add(text + opts, MAX_PIPELINE)
            pipeline.add(zipped(small, zipfile.ZIP_DEFLATED), MAX_PIPELINE)
            pipeline.add(tarred(small, gz=True), MAX_PIPELINE)
    for name in sorted(os.listdir(pipeline.dir)):
        redact.add((pipeline.dir / name).read_bytes(), MAX_PIPELINE)
    for o in (split, decode, archive, pipeline, redact):
        print(f"{o.dir}: {len(o.seen)} seeds")


if __name__ == "__main__":
    os.umask(0o022)
    main()
