#!/usr/bin/env python3
"""The benchmark: speed and memory of `sbdiag analyze` and `sbdiag scan` at bundle scale.

    python3 bench/run.py [--copies 5000] [--runs 3] [--scan-bundles 4] [--json OUT]
                         [--compare NAME=BINARY ...]

It builds the release binary, writes a large realistic bundle with bench/bigbundle.py (cached in
target/bench/, rebuilt when the generator or its arguments change) and measures, in one run and
on this machine:

* `unzip -p BUNDLE > /dev/null`: the baseline (inflating every entry, nothing else);
* `sbdiag analyze BUNDLE --json`: wall time, ratio to the baseline, objects/s, MB/s (of the
  uncompressed bundle) and peak RSS, with its ratio to the uncompressed size;
* `sbdiag analyze BUNDLE -o DIR` (html, md, json written);
* scan throughput: `sbdiag scan` over a folder of distinct medium bundles against analysing
  them one after the other with `sbdiag analyze -o`, in bundles/s and MB/s.

`--compare old=/path/to/an/older/sbdiag` measures other builds on the same bundle in the same run
(before/after numbers of an optimisation), and checks they give the same findings.

Times are the best of --runs runs (the least disturbed by other work); peak RSS is the largest
seen, read from the kernel's accounting of each child (wait4), so nothing is sampled. The
targets of issue 8 are printed with PASS/FAIL: analyze <= 1.5x unzip, peak RSS <= 0.5x the
uncompressed size. A benchmark, not a test: it exits 0 either way unless --check is given.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "bench")
BIN = os.path.join(ROOT, "target", "release", "sbdiag")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def measure(cmd, runs, stdout=subprocess.DEVNULL):
    """Best wall time (s) and largest peak RSS (bytes) of `runs` runs of cmd."""
    best, rss = float("inf"), 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}")
        best = min(best, wall)
        rss = max(rss, usage.ru_maxrss * 1024)  # Linux reports KiB
    return best, rss


def generated(name, args):
    """target/bench/<name>.zip from bigbundle.py ARGS, regenerated when inputs change."""
    stamp = hashlib.sha256()
    for f in ("bench/bigbundle.py", "samples/generate.py"):
        with open(os.path.join(ROOT, f), "rb") as fh:
            stamp.update(fh.read())
    stamp.update(repr(args).encode())
    path = os.path.join(OUT, f"{name}.zip")
    mark = path + ".stamp"
    if not (os.path.exists(path) and os.path.exists(mark) and open(mark).read() == stamp.hexdigest()):
        print(f"generating {os.path.relpath(path, ROOT)} …", file=sys.stderr)
        sh([sys.executable, os.path.join(ROOT, "bench", "bigbundle.py"), path, *args],
           stdout=subprocess.DEVNULL)
        with open(mark, "w") as fh:
            fh.write(stamp.hexdigest())
    return path


def uncompressed(path):
    with zipfile.ZipFile(path) as z:
        return sum(i.file_size for i in z.infolist())


def mb(n):
    return n / 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=5000, help="VM stacks in the large bundle")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scan-bundles", type=int, default=4, help="medium bundles in the scan folder")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=BINARY",
                    help="also measure this build of sbdiag on the large bundle")
    args = ap.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    if not args.no_build:
        sh(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    if not shutil.which("unzip"):
        raise SystemExit("unzip not found: it is the baseline (apt-get install unzip)")

    big = generated(f"big-{args.copies}", ["--copies", str(args.copies)])
    size, zsize = uncompressed(big), os.path.getsize(big)
    report = json.loads(subprocess.run([BIN, "analyze", big, "--json"], check=False,
                                       capture_output=True).stdout)
    objects = report["bundle"]["objects"] + report["bundle"]["duplicate_objects"]
    files = report["bundle"]["files"]

    unzip_t, unzip_rss = measure(["unzip", "-p", big], args.runs)
    an_t, an_rss = measure([BIN, "analyze", big, "--json"], args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        full_t, full_rss = measure([BIN, "analyze", big, "-o", os.path.join(tmp, "r")], args.runs)

    compared = []
    for spec in args.compare:
        name, _, binary = spec.partition("=")
        other = json.loads(subprocess.run([binary, "analyze", big, "--json"], check=False,
                                          capture_output=True).stdout)
        same = [f["id"] for f in other["findings"]] == [f["id"] for f in report["findings"]]
        t, rss = measure([binary, "analyze", big, "--json"], args.runs)
        compared.append({"name": name, "binary": binary, "seconds": t, "peak_rss_bytes": rss,
                         "ratio_to_unzip": t / unzip_t, "same_findings": same})

    # Scan: distinct medium bundles (different sizes, so different SHA-256), one folder.
    medium = [generated(f"medium-{i}", ["--copies", str(400 + i), "--log-kib", "24"])
              for i in range(args.scan_bundles)]
    scan_bytes = sum(uncompressed(m) for m in medium)
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "in")
        os.makedirs(folder)
        for m in medium:
            os.link(m, os.path.join(folder, os.path.basename(m)))
        seq_best = float("inf")
        for _ in range(args.runs):
            t = time.perf_counter()
            for m in medium:
                measure([BIN, "analyze", m, "-o", os.path.join(tmp, "one")], 1)
            seq_best = min(seq_best, time.perf_counter() - t)
        scan_t, scan_rss = measure([BIN, "scan", folder, "-o", os.path.join(tmp, "scan")],
                                   args.runs)

    res = {
        "machine": {"cpus": os.cpu_count()},
        "bundle": {"path": os.path.relpath(big, ROOT), "zip_bytes": zsize,
                   "uncompressed_bytes": size, "files": files, "objects": objects},
        "unzip_p": {"seconds": unzip_t},
        "analyze_json": {"seconds": an_t, "peak_rss_bytes": an_rss,
                         "ratio_to_unzip": an_t / unzip_t,
                         "objects_per_s": objects / an_t, "mb_per_s": mb(size) / an_t,
                         "rss_to_uncompressed": an_rss / size},
        "analyze_reports": {"seconds": full_t, "peak_rss_bytes": full_rss},
        "compared": compared,
        "scan": {"bundles": len(medium), "uncompressed_bytes": scan_bytes,
                 "sequential_analyze_seconds": seq_best, "scan_seconds": scan_t,
                 "scan_peak_rss_bytes": scan_rss,
                 "analyze_bundles_per_s": len(medium) / seq_best,
                 "scan_bundles_per_s": len(medium) / scan_t,
                 "speedup": seq_best / scan_t},
    }
    a, s = res["analyze_json"], res["scan"]
    speed_ok = a["ratio_to_unzip"] <= 1.5
    mem_ok = a["rss_to_uncompressed"] <= 0.5
    print(f"bundle      {res['bundle']['path']}: {mb(zsize):.0f} MB zip, {mb(size):.0f} MB "
          f"uncompressed, {files} files, {objects} objects ({os.cpu_count()} CPUs)")
    print(f"unzip -p    {unzip_t:7.2f} s   {mb(size) / unzip_t:6.0f} MB/s")
    print(f"analyze     {an_t:7.2f} s   {a['mb_per_s']:6.0f} MB/s  {a['objects_per_s']:8.0f} objects/s"
          f"  peak RSS {mb(an_rss):.0f} MB")
    print(f"  ratio to unzip -p      {a['ratio_to_unzip']:.2f}x  (target <= 1.5x: "
          f"{'PASS' if speed_ok else 'FAIL'})")
    print(f"  peak RSS / uncompressed {a['rss_to_uncompressed']:.2f}  (target <= 0.5: "
          f"{'PASS' if mem_ok else 'FAIL'})")
    print(f"analyze -o  {full_t:7.2f} s   (html, md, json written)  peak RSS {mb(full_rss):.0f} MB")
    for c in compared:
        print(f"  vs {c['name']:<10} {c['seconds']:7.2f} s  ({c['ratio_to_unzip']:.2f}x unzip, this build "
              f"{c['seconds'] / an_t:.2f}x faster)  peak RSS {mb(c['peak_rss_bytes']):.0f} MB  "
              f"same findings: {'yes' if c['same_findings'] else 'NO'}")
    print(f"scan        {s['bundles']} bundles, {mb(scan_bytes):.0f} MB: one by one "
          f"{seq_best:.2f} s ({s['analyze_bundles_per_s']:.2f} bundles/s), scan {scan_t:.2f} s "
          f"({s['scan_bundles_per_s']:.2f} bundles/s, {mb(scan_bytes) / scan_t:.0f} MB/s): "
          f"{s['speedup']:.2f}x; scan peak RSS {mb(scan_rss):.0f} MB")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 1 if args.check and not (speed_ok and mem_ok) else 0


if __name__ == "__main__":
    sys.exit(main())
