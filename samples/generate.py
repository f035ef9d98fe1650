#!/usr/bin/env python3
"""Deterministic generator of sample Harvester support bundles (unpacked).

Usage:
    python3 samples/generate.py            # (re)write every scenario folder under samples/
    python3 samples/generate.py --check    # regenerate into a temp dir, exit 1 on any difference
    python3 samples/generate.py --selftest # run the doctests of the YAML emitter

Python 3.11, standard library only. Nothing depends on the clock or on randomness:
every uid, hash, IP and timestamp is derived from names and from the fixed capture time,
so two runs give byte-identical trees.

Layout of this file:
  (a) YAML emitter mimicking gopkg.in/yaml.v2 (v2.2.8, as vendored by support-bundle-kit)
      plus the support-bundle-kit JSON rewrite (`toObjCommon`) that produces the "null" quirks;
  (b) small object builders (node, pod, workloads, services, events, Fleet, Longhorn, KubeVirt...);
  (c) base_cluster(): a coherent healthy 3-node Harvester cluster as an in-memory model;
  (d) scenarios: functions that start from the base and modify it;
  (e) writing / checking the folders.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import datetime as dt
import decimal
import functools
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile

SAMPLES_DIR = os.path.dirname(os.path.abspath(__file__))

# ===========================================================================================
# (a) YAML emitter (gopkg.in/yaml.v2 + libyaml emitter behaviour) and the SBK JSON rewrite
# ===========================================================================================


def go_float(f: float) -> str:
    """Format a number like Go's strconv.FormatFloat(f, 'g', -1, 64) (what yaml.v2 prints).

    >>> [go_float(x) for x in (0, 3, 100, 999999, 1000000, 231131136, 1.073741824e10)]
    ['0', '3', '100', '999999', '1e+06', '2.31131136e+08', '1.073741824e+10']
    >>> [go_float(x) for x in (0.5, 0.0001, 0.00001, -2500000, 1.5e21)]
    ['0.5', '0.0001', '1e-05', '-2.5e+06', '1.5e+21']
    """
    f = float(f)
    if f != f:
        return ".nan"
    if f in (float("inf"), float("-inf")):
        return ".inf" if f > 0 else "-.inf"
    if f == 0:
        return "-0" if str(f).startswith("-") else "0"
    sign, digits, exp = decimal.Decimal(repr(f)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exp += 1
    while len(digits) > 1 and digits[0] == 0:  # repr never gives these, be safe
        digits.pop(0)
    nd = len(digits)
    dp = nd + exp  # value = 0.d1d2..dn * 10^dp
    ds = "".join(str(d) for d in digits)
    neg = "-" if sign else ""
    x = dp - 1
    if x < -4 or x >= 6:  # shortest %g switches to %e at exponent 6
        mant = ds[0] + ("." + ds[1:] if nd > 1 else "")
        es = "-" if x < 0 else "+"
        return f"{neg}{mant}e{es}{abs(x):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * (-dp)}{ds}"
    if dp >= nd:
        return f"{neg}{ds}{'0' * (dp - nd)}"
    return f"{neg}{ds[:dp]}.{ds[dp:]}"


def _yaml_key_less(a: str, b: str) -> bool:
    """yaml.v2 sorter.go keyList.Less for two string keys (natural order, non-letters first)."""
    ar, br = a, b
    for i in range(min(len(ar), len(br))):
        if ar[i] == br[i]:
            continue
        al, bl = ar[i].isalpha(), br[i].isalpha()
        if al and bl:
            return ar[i] < br[i]
        if al or bl:
            return bl
        an = bn = 0
        if ar[i] == "0" or br[i] == "0":
            j = i - 1
            while j >= 0 and ar[j].isdigit():
                if ar[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(ar) and ar[ai].isdigit():
            an = an * 10 + int(ar[ai])
            ai += 1
        bi = i
        while bi < len(br) and br[bi].isdigit():
            bn = bn * 10 + int(br[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ar[i] < br[i]
    return len(ar) < len(br)


def yaml_sorted_keys(keys):
    """Sort mapping keys like yaml.v2.

    >>> yaml_sorted_keys(["b", "a", ".", "node10", "node2", "a_b", "a1", "Z"])
    ['.', 'Z', 'a', 'a_b', 'a1', 'b', 'node2', 'node10']
    """
    return sorted(keys, key=functools.cmp_to_key(
        lambda x, y: -1 if _yaml_key_less(x, y) else (1 if _yaml_key_less(y, x) else 0)))


_RESOLVE_MAP = {
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
    "", "~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
    "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<",
}
_TS_RES = [
    re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[Tt]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
    re.compile(r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?$"),
    re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"),
]
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|infinity|nan)$", re.I)
_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


def _go_parse_int(s: str) -> bool:
    """strconv.ParseInt/ParseUint(s, 0, 64) succeeds?"""
    body = s[1:] if s[:1] in "+-" else s
    try:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", body):
            v = int(body[2:], 16)
        elif re.fullmatch(r"0[oO][0-7]+", body):
            v = int(body[2:], 8)
        elif re.fullmatch(r"0[bB][01]+", body):
            v = int(body[2:], 2)
        elif re.fullmatch(r"0[0-7]*", body):
            v = int(body, 8) if len(body) > 1 else 0
        elif re.fullmatch(r"[1-9][0-9]*", body):
            v = int(body)
        else:
            return False
    except ValueError:
        return False
    return v < 2 ** 64


def resolves_to_str(s: str) -> bool:
    """Would yaml.v2 read this string back as a string if written plain?

    >>> [resolves_to_str(s) for s in ("abc", "true", "123456", "2024-05-01T10:00:00Z", "1.2.3", "v1.4.0", "")]
    [True, False, False, False, True, True, False]
    """
    if s == "":
        return False
    c = s[0]
    if c in "+-":
        hint = "S"
    elif c.isdigit() and c.isascii():
        hint = "D"
    elif c in "yYnNtTfFoO~":
        hint = "M"
    elif c == ".":
        hint = "."
    else:
        return True
    if s in _RESOLVE_MAP:
        return False
    if hint == "M":
        return True
    if hint == ".":
        return not _GO_FLOAT.match(s)
    if any(r.match(s) for r in _TS_RES):
        return False
    plain = s.replace("_", "")
    if _go_parse_int(plain):
        return False
    if _YAML_FLOAT.match(plain):
        return False
    if plain.startswith("0b") and re.fullmatch(r"[01]+", plain[2:]):
        return False
    if plain.startswith("-0b") and re.fullmatch(r"[01]+", plain[3:]):
        return False
    return True


def _printable(ch: str) -> bool:
    o = ord(ch)
    return (o == 0x0A or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF
            or (0xE000 <= o <= 0xFFFD and o != 0xFEFF))


_BREAKS = "\r\n\x85\u2028\u2029"


def _analyze(s: str) -> dict:
    """libyaml yaml_emitter_analyze_scalar: which styles may represent s."""
    r = dict(multiline=False, flow_plain=True, block_plain=True, single=True, block=True)
    if s == "":
        r.update(flow_plain=False, block_plain=True, single=True, block=False)
        return r
    block_ind = flow_ind = False
    if s.startswith("---") or s.startswith("..."):
        block_ind = flow_ind = True
    line_breaks = special = False
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = previous_space = previous_break = False
    preceded_by_ws = True
    n = len(s)
    for i, ch in enumerate(s):
        followed_by_ws = i + 1 >= n or s[i + 1] in " \t"
        if i == 0:
            if ch in "#,[]{}&*!|>'\"%@`":
                flow_ind = block_ind = True
            elif ch in "?:":
                flow_ind = True
                if followed_by_ws:
                    block_ind = True
            elif ch == "-" and followed_by_ws:
                flow_ind = block_ind = True
        else:
            if ch in ",?[]{}":
                flow_ind = True
            elif ch == ":":
                flow_ind = True
                if followed_by_ws:
                    block_ind = True
            elif ch == "#" and preceded_by_ws:
                flow_ind = block_ind = True
        if not _printable(ch):
            special = True
        if ch == " ":
            if i == 0:
                leading_space = True
            if i == n - 1:
                trailing_space = True
            if previous_break:
                break_space = True
            previous_space, previous_break = True, False
        elif ch in _BREAKS:
            line_breaks = True
            if i == 0:
                leading_break = True
            if i == n - 1:
                trailing_break = True
            if previous_space:
                space_break = True
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_by_ws = ch in " \t" or ch in _BREAKS
    r["multiline"] = line_breaks
    if leading_space or leading_break or trailing_space or trailing_break:
        r["flow_plain"] = r["block_plain"] = False
    if trailing_space:
        r["block"] = False
    if break_space:
        r["flow_plain"] = r["block_plain"] = r["single"] = False
    if space_break or special:
        r["flow_plain"] = r["block_plain"] = r["single"] = r["block"] = False
    if line_breaks:
        r["flow_plain"] = r["block_plain"] = False
    if flow_ind:
        r["flow_plain"] = False
    if block_ind:
        r["block_plain"] = False
    return r


_ESCAPES = {"\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f",
            "\r": "r", "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_",
            "\u2028": "L", "\u2029": "P"}


class _Out:
    """The bits of libyaml emitter state that decide where text goes."""
    BEST_WIDTH = 80

    def __init__(self):
        self.buf: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True

    def put(self, ch: str):
        self.buf.append(ch)
        self.column += 1

    def put_break(self):
        self.buf.append("\n")
        self.column = 0

    def write_indent(self, indent: int):
        indent = max(indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.put_break()
        while self.column < indent:
            self.put(" ")
        self.whitespace = True
        self.indention = True

    def indicator(self, text: str, need_ws: bool, is_ws: bool, is_indention: bool):
        if need_ws and not self.whitespace:
            self.put(" ")
        for ch in text:
            self.put(ch)
        self.whitespace = is_ws
        self.indention = self.indention and is_indention

    # --- scalar writers (emitterc.go) ---
    def plain(self, s: str, indent: int, allow_breaks: bool):
        if not self.whitespace:
            self.put(" ")
        spaces = False
        for i, ch in enumerate(s):
            if ch == " ":
                nxt = s[i + 1] if i + 1 < len(s) else ""
                if allow_breaks and not spaces and self.column > self.BEST_WIDTH and nxt != " ":
                    self.write_indent(indent)
                else:
                    self.put(ch)
                spaces = True
            else:
                self.put(ch)
                self.indention = False
                spaces = False
        self.whitespace = False
        self.indention = False

    def single(self, s: str, indent: int, allow_breaks: bool):
        self.indicator("'", True, False, False)
        spaces = False
        n = len(s)
        for i, ch in enumerate(s):
            if ch == " ":
                nxt = s[i + 1] if i + 1 < n else ""
                if (allow_breaks and not spaces and self.column > self.BEST_WIDTH
                        and 0 < i < n - 1 and nxt != " "):
                    self.write_indent(indent)
                else:
                    self.put(ch)
                spaces = True
            else:
                if ch == "'":
                    self.put("'")
                self.put(ch)
                self.indention = False
                spaces = False
        self.indicator("'", False, False, False)
        self.whitespace = False
        self.indention = False

    def double(self, s: str, indent: int, allow_breaks: bool):
        self.indicator('"', True, False, False)
        spaces = False
        n = len(s)
        for i, ch in enumerate(s):
            o = ord(ch)
            if not _printable(ch) or o == 0xFEFF or ch in _BREAKS or ch in '"\\':
                self.put("\\")
                if ch in _ESCAPES:
                    self.put(_ESCAPES[ch])
                elif o <= 0xFF:
                    for c in "x%02X" % o:
                        self.put(c)
                elif o <= 0xFFFF:
                    for c in "u%04X" % o:
                        self.put(c)
                else:
                    for c in "U%08X" % o:
                        self.put(c)
                spaces = False
            elif ch == " ":
                if allow_breaks and not spaces and self.column > self.BEST_WIDTH and 0 < i < n - 1:
                    self.write_indent(indent)
                    if i + 1 < n and s[i + 1] == " ":
                        self.put("\\")
                else:
                    self.put(ch)
                spaces = True
            else:
                self.put(ch)
                spaces = False
        self.indicator('"', False, False, False)
        self.whitespace = False
        self.indention = False

    def literal(self, s: str, indent: int):
        self.indicator("|", True, False, False)
        if s[:1] == " " or s[:1] in _BREAKS:
            self.indicator(str(2), False, False, False)
        chomp = ""
        if not s or s[-1] not in _BREAKS:
            chomp = "-"
        elif len(s) == 1 or s[-2] in _BREAKS:
            chomp = "+"
        if chomp:
            self.indicator(chomp, False, False, False)
        self.put_break()
        self.indention = True
        self.whitespace = True
        breaks = True
        for ch in s:
            if ch in _BREAKS:
                self.put_break()
                self.indention = True
                breaks = True
            else:
                if breaks:
                    self.write_indent(indent)
                self.put(ch)
                self.indention = False
                breaks = False


def _emit_scalar_text(out: _Out, value, indent: int, simple_key: bool):
    """Emit one scalar; indent is the indent of the enclosing collection (libyaml emitter.indent)."""
    sindent = 0 if indent < 0 else indent + 2  # yaml_emitter_increase_indent(flow=true)
    if value is None:
        out.plain("null", sindent, not simple_key)
        return
    if value is True or value is False:
        out.plain("true" if value else "false", sindent, not simple_key)
        return
    if isinstance(value, (int, float)):
        out.plain(go_float(value), sindent, not simple_key)
        return
    s = str(value)
    if "\n" in s:
        style = "literal"
    elif resolves_to_str(s) and not _BASE60.match(s):
        style = "plain"
    else:
        style = "double"
    a = _analyze(s)
    if style == "plain":
        if not a["block_plain"]:
            style = "single"
        if s == "" and simple_key:
            style = "single"
    if style == "single" and not a["single"]:
        style = "double"
    if style == "literal" and (not a["block"] or simple_key):
        style = "double"
    if style == "plain":
        out.plain(s, sindent, not simple_key)
    elif style == "single":
        out.single(s, sindent, not simple_key)
    elif style == "double":
        out.double(s, sindent, not simple_key)
    else:
        out.literal(s, sindent)


def _emit_node(out: _Out, v, indent: int, mapping_context: bool):
    if isinstance(v, dict):
        if not v:
            out.indicator("{", True, True, False)
            out.indicator("}", False, False, False)
            return
        mindent = 0 if indent < 0 else indent + 2
        for k in yaml_sorted_keys(list(v.keys())):
            out.write_indent(mindent)
            _emit_scalar_text(out, k, mindent, simple_key=True)
            out.indicator(":", False, False, False)
            _emit_node(out, v[k], mindent, mapping_context=True)
    elif isinstance(v, list):
        if not v:
            out.indicator("[", True, True, False)
            out.indicator("]", False, False, False)
            return
        indentless = mapping_context and not out.indention
        sindent = indent if indentless else (0 if indent < 0 else indent + 2)
        for item in v:
            out.write_indent(sindent)
            out.indicator("-", True, False, True)
            _emit_node(out, item, sindent, mapping_context=False)
    else:
        _emit_scalar_text(out, v, indent, simple_key=False)


def yaml_dump(obj) -> str:
    """Serialise like yaml.v2 Marshal of a decoded-JSON value (maps sorted, block style).

    >>> print(yaml_dump({"items": [{"b": 1000000, "a": ""}], "kind": "List", "metadata": {}}), end="")
    items:
    - a: ""
      b: 1e+06
    kind: List
    metadata: {}
    >>> print(yaml_dump({"s": ["True", "123456", "2024-05-01T10:00:00Z", "*x", "a: b", "v1.4.0", []]}), end="")
    s:
    - "True"
    - "123456"
    - "2024-05-01T10:00:00Z"
    - '*x'
    - 'a: b'
    - v1.4.0
    - []
    >>> print(yaml_dump({"m": "line1\\nline2\\n", "n": "x\\ny", "z": None}), end="")
    m: |
      line1
      line2
    "n": |-
      x
      y
    z: null
    >>> print(yaml_dump({"message": "word " * 20}), end="")
    message: 'word word word word word word word word word word word word word word word
      word word word word word '
    """
    out = _Out()
    _emit_node(out, obj, -1, mapping_context=False)
    out.write_indent(0)  # document end
    return "".join(out.buf)


def go_json(obj, sort_keys=False) -> str:
    """Compact JSON as the API server sends it. Built-in types come out in Go struct field order
    (our builders insert keys in that order); custom resources are unstructured maps, which
    encoding/json writes with sorted keys. The order decides which nulls SBK rewrites."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)


_NULL_RE1 = re.compile(r'("[a-zA-Z]+":)(null,)')
_NULL_RE2 = re.compile(r'(\\"[a-zA-Z]+\\":)(null,)')


def sbk_rewrite_json(raw: str):
    """support-bundle-kit toObjCommon: textual rewrites of the raw LIST JSON, then parse.

    >>> sbk_rewrite_json('{"a":null,"b":"","c":null,"d":"x\\\\"","e":{"f":null}}')
    {'a': 'null', 'b': 'null', 'c': 'null', 'd': 'x"null', 'e': {'f': None}}
    """
    s = _NULL_RE1.sub(r'\1"null",', raw)
    s = _NULL_RE2.sub(r'\1\\"null\\",', s)
    s = s.replace('""', '"null"')
    return json.loads(s)


def sbk_list_yaml(group_version: str, kind: str, items: list, list_rv: str, crd: bool,
                  metrics: bool = False) -> str:
    """Render one yamls/... file exactly as SBK writes it from the API LIST response."""
    meta = {} if metrics else {"resourceVersion": list_rv}
    if crd:
        meta["continue"] = ""
    raw = {"apiVersion": group_version, "items": items, "kind": kind + "List", "metadata": meta}
    obj = sbk_rewrite_json(go_json(raw, sort_keys=crd))
    obj["kind"] = "List"
    obj["apiVersion"] = "v1"
    for it in obj["items"]:
        it["apiVersion"] = group_version
        it["kind"] = kind
    return yaml_dump(obj)


# ===========================================================================================
# (b) deterministic helpers and object builders
# ===========================================================================================

CAPTURE = dt.datetime(2025, 2, 14, 9, 41, 7, tzinfo=dt.timezone.utc)


def ts(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(days=0, hours=0, minutes=0, seconds=0) -> dt.datetime:
    return CAPTURE - dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def h(*parts) -> str:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()


def uid(*parts) -> str:
    # another cluster (see cluster_shape) gets other uids for the same names; the base keeps its own
    x = h("uid", *parts) if CLUSTER_ID == BASE_CLUSTER_ID else h("uid", CLUSTER_ID, *parts)
    return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-{'89ab'[int(x[16], 16) % 4]}{x[17:20]}-{x[20:32]}"


RV_EPOCH = dt.datetime(2024, 5, 17, 8, 0, 0, tzinfo=dt.timezone.utc)


def rv(t: dt.datetime, *parts) -> str:
    """A resourceVersion (a numeric string, so yaml.v2 quotes it) that grows with the time of the
    object's last write, like etcd revisions do: ~0.07 writes/s since the cluster was installed."""
    return str(48000000 + int((t - RV_EPOCH).total_seconds() * 0.07) + int(h("rv", *parts)[:4], 16) % 40)


_K8S_ALNUM = "bcdfghjklmnpqrstvwxz2456789"


def suffix(n: int, *parts) -> str:
    x = int(h("sfx", *parts), 16)
    out = []
    for _ in range(n):
        x, r = divmod(x, len(_K8S_ALNUM))
        out.append(_K8S_ALNUM[r])
    return "".join(out)


def container_id(*parts) -> str:
    return "containerd://" + h("cid", *parts)


def image_digest(image: str) -> str:
    return image.split(":")[0] + "@sha256:" + h("img", image)


def meta(name, namespace=None, *, created, generate_name=None, labels=None, annotations=None,
         owners=None, finalizers=None, generation=None, managed=None, uid_=None, deleted=None, updated=None):
    """ObjectMeta in Go struct field order (matters for the SBK null rewrite).
    `updated` = time of the last write (drives resourceVersion), defaults to `created`."""
    m = {"name": name}
    if generate_name:
        m["generateName"] = generate_name
    if namespace:
        m["namespace"] = namespace
    m["uid"] = uid_ or uid(namespace or "", name, generate_name or "")
    m["resourceVersion"] = rv(max(updated or created, created), namespace or "", name)
    if generation is not None:
        m["generation"] = generation
    m["creationTimestamp"] = ts(created)
    if deleted is not None:
        m["deletionTimestamp"] = ts(deleted)
    if labels:
        m["labels"] = dict(labels)
    if annotations:
        m["annotations"] = dict(annotations)
    if owners:
        m["ownerReferences"] = owners
    if finalizers:
        m["finalizers"] = list(finalizers)
    if managed:
        m["managedFields"] = managed
    return m


def touch(obj, t: dt.datetime):
    """Record a later write to obj at time t (bumps its resourceVersion accordingly)."""
    md = obj["metadata"]
    md["resourceVersion"] = rv(t, md.get("namespace") or "", md["name"])
    return obj


def owner(kind, name, owner_uid, api_version, controller=True):
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": owner_uid,
            "controller": controller, "blockOwnerDeletion": True}


def managed_field(manager, api_version, time, fields, operation="Update", subresource=None):
    mf = {"manager": manager, "operation": operation, "apiVersion": api_version, "time": ts(time),
          "fieldsType": "FieldsV1", "fieldsV1": fields}
    if subresource:
        mf["subresource"] = subresource
    return mf


def cond(ctype, status="True", *, at, reason=None, message=None, probe=False, heartbeat=None):
    """A core condition in Go struct order: type, status, [lastHeartbeatTime|lastProbeTime], ..."""
    c = {"type": ctype, "status": status}
    if heartbeat is not None:
        c["lastHeartbeatTime"] = ts(heartbeat)
    if probe:
        c["lastProbeTime"] = None  # JSON null followed by a comma -> "null" in the bundle
    c["lastTransitionTime"] = ts(at)
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def wcond(ctype, status="True", *, at, reason=None, message=None):
    """wrangler genericcondition (Fleet/Harvester/Rancher CRs)."""
    c = {"type": ctype, "status": status, "lastUpdateTime": ts(at)}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


FAKE_CA = ("-----BEGIN CERTIFICATE-----\n"
           "MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhya2UyLXNl\n"
           "cnZlci1jYUAxNzE1OTMzNTYzMB4XDTI0MDUxNzA4MTI0M1oXDTM0MDUxNTA4MTI0\n"
           "M1owIzEhMB8GA1UEAwwYcmtlMi1zZXJ2ZXItY2FAMTcxNTkzMzU2MzBZMBMGByqG\n"
           "SM49AgEGCCqGSM49AwEHA0IABFNhbXBsZSBjZXJ0aWZpY2F0ZSBmb3Igc2JkaWFn\n"
           "IHRlc3RzIG9ubHkgLSBub3QgYSByZWFsIGtleQ==\n"
           "-----END CERTIFICATE-----\n")

def node_images(v=None):
    """(image, tag, size) of the images in a node's status.images for a release (default: V)."""
    v = v or V
    return [
        ("rancher/harvester", v["harvester"], 1.03985766e8),
        ("rancher/harvester-webhook", v["harvester"], 4.5771372e7),
        ("registry.suse.com/suse/sles/15.6/virt-launcher", v["kubevirt"], 2.9814412e8),
        ("registry.suse.com/suse/sles/15.6/virt-handler", v["kubevirt"], 1.00145862e8),
        ("longhornio/longhorn-manager", v["longhorn"], 1.02391577e8),
        ("longhornio/longhorn-instance-manager", v["longhorn"], 2.98331829e8),
        ("rancher/rancher", v["rancher"], 6.63781912e8),
        ("rancher/fleet-agent", v["fleet"], 5.7394716e7),
        ("rancher/hardened-kubernetes", v["k8s_build"], 1.94521163e8),
        ("rancher/hardened-etcd", v["etcd_build"], 6.4389311e7),
        ("rancher/mirrored-pause", "3.6", 301463),
    ]


def node_obj(name, *, ip, pod_cidr, machine, created, cpu=16, mem_ki=65776468, ready_since,
             rke2=None, os_image=None, unschedulable=False,
             ready="True", extra_labels=None, extra_annotations=None, taints=None, control_plane=True):
    """A Harvester node. control_plane=False gives a worker (RKE2 agent: no control-plane/etcd/master
    roles, no etcd annotations or managed-etcd finalizer). rke2 / os_image default to V."""
    rke2 = rke2 or V["rke2"]
    os_image = os_image or V["os"]
    labels = {
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": "rke2",
        "beta.kubernetes.io/os": "linux", "cpu-model.node.kubevirt.io/Skylake-Server": "true",
        "cpumanager": "false", "harvesterhci.io/managed": "true",
        "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
        "kubevirt.io/schedulable": "true", "node-role.kubernetes.io/control-plane": "true",
        "node-role.kubernetes.io/etcd": "true", "node-role.kubernetes.io/master": "true",
        "node.kubernetes.io/instance-type": "rke2",
        "topology.longhorn.io/node": name,
        "rke.cattle.io/machine": uid("machine", name),
    }
    if not control_plane:
        for k in ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/etcd",
                  "node-role.kubernetes.io/master"):
            labels.pop(k)
    labels.update(extra_labels or {})
    annotations = {
        "cluster.x-k8s.io/cluster-name": "local", "cluster.x-k8s.io/cluster-namespace": "fleet-local",
        "cluster.x-k8s.io/machine": machine, "cluster.x-k8s.io/owner-kind": "MachineSet",
        "csi.volume.kubernetes.io/nodeid": json.dumps({"driver.longhorn.io": name}, separators=(",", ":")),
        "etcd.rke2.cattle.io/node-address": ip,
        "etcd.rke2.cattle.io/node-name": f"{name}-{h('etcd', name)[:8]}",
        "kubevirt.io/heartbeat": ts(ago(seconds=41)),
        "node.alpha.kubernetes.io/ttl": "0",
        "rke2.io/hostname": name, "rke2.io/internal-ip": ip,
        "rke2.io/node-args": json.dumps(["server", "--cluster-cidr", "10.52.0.0/16", "--service-cidr",
                                         "10.53.0.0/16", "--cluster-dns", "10.53.0.10", "--token",
                                         "********"], separators=(",", ":")),
        "rke2.io/node-config-hash": base64.b32encode(bytes.fromhex(h("cfg", name)[:40])).decode(),
        "rke2.io/node-env": "{}",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    if not control_plane:
        annotations.pop("etcd.rke2.cattle.io/node-address")
        annotations.pop("etcd.rke2.cattle.io/node-name")
        annotations["rke2.io/node-args"] = json.dumps(["agent", "--token", "********"], separators=(",", ":"))
    if name.endswith("-0"):
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = (
            json.dumps({"apiVersion": "v1", "kind": "Node",
                        "metadata": {"annotations": {}, "labels": {"node-role.kubernetes.io/etcd": "true"},
                                     "name": name}}, separators=(",", ":")) + "\n")
    annotations.update(extra_annotations or {})
    finalizers = ["wrangler.cattle.io/node", "wrangler.cattle.io/managed-etcd-controller"]
    rke2_fields = {"f:metadata": {"f:annotations": {"f:etcd.rke2.cattle.io/node-address": {},
                                                    "f:etcd.rke2.cattle.io/node-name": {}},
                                  "f:finalizers": {".": {}, 'v:"wrangler.cattle.io/node"': {},
                                                   'v:"wrangler.cattle.io/managed-etcd-controller"': {}}}}
    if not control_plane:
        finalizers = finalizers[:1]
        rke2_fields = {"f:metadata": {"f:finalizers": {".": {}, 'v:"wrangler.cattle.io/node"': {}}}}
    mf = [managed_field("rke2", "v1", created + dt.timedelta(minutes=1), rke2_fields),
          managed_field("kubelet", "v1", ready_since, {
              "f:status": {"f:conditions": {'k:{"type":"Ready"}': {"f:lastHeartbeatTime": {},
                                                                 "f:status": {}}}}}, subresource="status")]
    md = meta(name, created=created, labels=labels, annotations=annotations,
              finalizers=finalizers,
              managed=mf, uid_=uid("node", name), updated=CAPTURE - dt.timedelta(seconds=20))
    spec = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr], "providerID": f"rke2://{name}"}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    hb = ago(seconds=23 + int(h("hb", name)[:2], 16) % 30)
    mem = f"{mem_ki}Ki"
    alloc_mem = f"{mem_ki - 524288}Ki"
    status = {
        "capacity": {"cpu": str(cpu), "devices.kubevirt.io/kvm": "1k", "devices.kubevirt.io/tun": "1k",
                     "ephemeral-storage": "153707984Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                     "memory": mem, "pods": "200"},
        "allocatable": {"cpu": str(cpu), "devices.kubevirt.io/kvm": "1k", "devices.kubevirt.io/tun": "1k",
                        "ephemeral-storage": "149526236211", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                        "memory": alloc_mem, "pods": "200"},
        "conditions": [
            cond("NetworkUnavailable", "False", at=ready_since, heartbeat=ready_since,
                 reason="FlannelIsUp", message="Flannel is running on this node"),
            cond("MemoryPressure", "False", at=ready_since, heartbeat=hb, reason="KubeletHasSufficientMemory",
                 message="kubelet has sufficient memory available"),
            cond("DiskPressure", "False", at=ready_since, heartbeat=hb, reason="KubeletHasNoDiskPressure",
                 message="kubelet has no disk pressure"),
            cond("PIDPressure", "False", at=ready_since, heartbeat=hb, reason="KubeletHasSufficientPID",
                 message="kubelet has sufficient PID available"),
            cond("Ready", ready, at=ready_since, heartbeat=hb,
                 reason="KubeletReady" if ready == "True" else "NodeStatusUnknown",
                 message="kubelet is posting ready status" if ready == "True"
                 else "Kubelet stopped posting node status."),
        ],
        "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": h("mid", name)[:32], "systemUUID": uid("sys", name).upper(),
                     "bootID": uid("boot", name), "kernelVersion": V["kernel"],
                     "osImage": os_image, "containerRuntimeVersion": "containerd://" + V["containerd"].lstrip("v"),
                     "kubeletVersion": rke2, "kubeProxyVersion": rke2,
                     "operatingSystem": "linux", "architecture": "amd64"},
        "images": [{"names": [image_digest(f"docker.io/{i}:{t}"), f"docker.io/{i}:{t}"], "sizeBytes": s}
                   for i, t, s in node_images()],
    }
    return {"metadata": md, "spec": spec, "status": status}


def namespace_obj(name, created, uid_=None, labels=None):
    lab = {"kubernetes.io/metadata.name": name}
    lab.update(labels or {})
    return {"metadata": meta(name, created=created, labels=lab, uid_=uid_ or uid("ns", name)),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def container(name, image, *, args=None, ports=None, env=None, probe_port=None, mounts=None,
              requests=None):
    c = {"name": name, "image": image}
    if args:
        c["args"] = list(args)
    if ports:
        c["ports"] = [{"name": pn, "containerPort": p, "protocol": "TCP"} for pn, p in ports]
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env]
    c["resources"] = {"requests": requests} if requests else {}
    if mounts:
        c["volumeMounts"] = [{"name": n, "mountPath": p} for n, p in mounts]
    if probe_port:
        c["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": probe_port, "scheme": "HTTPS"},
                               "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                               "failureThreshold": 3}
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    c["imagePullPolicy"] = "IfNotPresent"
    return c


def pod_spec(containers, *, service_account="default", node=None, host_network=False,
             tolerations=None, priority_class=None):
    s = {"volumes": [{"name": "kube-api-access", "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}],
        "defaultMode": 420}}],
         "containers": containers, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
         "dnsPolicy": "ClusterFirst", "serviceAccountName": service_account,
         "serviceAccount": service_account}
    if node:
        s["nodeName"] = node
    if host_network:
        s["hostNetwork"] = True
    s["securityContext"] = {}
    s["schedulerName"] = "default-scheduler"
    if tolerations:
        s["tolerations"] = tolerations
    if priority_class:
        s["priorityClassName"] = priority_class
    s["priority"] = 2000001000 if priority_class == "system-node-critical" else (
        2000000000 if priority_class == "system-cluster-critical" else 0)
    s["enableServiceLinks"] = True
    s["preemptionPolicy"] = "PreemptLowerPriority"
    return s


def template(labels, spec, annotations=None):
    m = {"creationTimestamp": None, "labels": dict(labels)}  # null followed by a comma -> "null"
    if annotations:
        m["annotations"] = annotations
    return {"metadata": m, "spec": spec}


def pod_obj(name, namespace, *, spec, labels, owner_ref, created, started, node, node_ip, pod_ip,
            restarts=None, ready=True, phase="Running", annotations=None, qos="BestEffort",
            last_restart=None, managed=None):
    """A Pod with status consistent with spec (one containerStatus per container)."""
    restarts = restarts or {}
    spec = copy.deepcopy(spec)
    spec["nodeName"] = node
    cstat = []
    for c in spec["containers"]:
        rc = restarts.get(c["name"], 0)
        st = {"name": c["name"]}
        run_since = started
        if rc:
            run_since = last_restart or started + dt.timedelta(hours=2)
            st["lastState"] = {"terminated": {"exitCode": 2, "reason": "Error",
                                              "startedAt": ts(started + dt.timedelta(seconds=3)),
                                              "finishedAt": ts(run_since - dt.timedelta(seconds=2)),
                                              "containerID": container_id(namespace, name, c["name"], "prev")}}
        else:
            st["lastState"] = {}
        if phase == "Running":
            st["state"] = {"running": {"startedAt": ts(run_since + dt.timedelta(seconds=4))}}
        else:
            st["state"] = {"waiting": {"reason": "ContainerCreating"}}
        st["ready"] = ready
        st["restartCount"] = rc
        st["image"] = "docker.io/" + c["image"] if "/" in c["image"] and "." not in c["image"].split("/")[0] \
            else c["image"]
        st["imageID"] = image_digest(st["image"])
        st["containerID"] = container_id(namespace, name, c["name"])
        st["started"] = phase == "Running"
        cstat.append(st)
    rs = "True" if ready else "False"
    ready_at = started + dt.timedelta(seconds=15)
    conds = [
        cond("PodReadyToStartContainers", "True", at=started + dt.timedelta(seconds=3), probe=True),
        cond("Initialized", "True", at=started, probe=True),
        cond("Ready", rs, at=ready_at, probe=True,
             reason=None if ready else "ContainersNotReady",
             message=None if ready else "containers with unready status: [%s]" % " ".join(
                 c["name"] for c in spec["containers"])),
        cond("ContainersReady", rs, at=ready_at, probe=True,
             reason=None if ready else "ContainersNotReady",
             message=None if ready else "containers with unready status: [%s]" % " ".join(
                 c["name"] for c in spec["containers"])),
        cond("PodScheduled", "True", at=created, probe=True),
    ]
    status = {"phase": phase, "conditions": conds, "hostIP": node_ip, "hostIPs": [{"ip": node_ip}],
              "podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "startTime": ts(started),
              "containerStatuses": cstat, "qosClass": qos}
    gen = owner_ref["name"] + "-" if owner_ref and owner_ref["kind"] in ("ReplicaSet", "DaemonSet") else None
    md = meta(name, namespace, created=created, generate_name=gen, labels=labels, annotations=annotations,
              owners=[owner_ref] if owner_ref else None, managed=managed,
              updated=max([ready_at] + [dt.datetime.strptime(c["state"]["running"]["startedAt"], "%Y-%m-%dT%H:%M:%SZ")
                                        .replace(tzinfo=dt.timezone.utc) + dt.timedelta(seconds=12)
                                        for c in cstat if "running" in c["state"]]))
    return {"metadata": md, "spec": spec, "status": status}


def deployment_obj(name, namespace, *, replicas, labels, pod_spec_, created, updated,
                   ready=None, annotations=None, revision=1, chart_labels=None):
    ready = replicas if ready is None else ready
    lab = dict(labels)
    lab.update(chart_labels or {})
    ann = {"deployment.kubernetes.io/revision": str(revision)}
    ann.update(annotations or {})
    md = meta(name, namespace, created=created, labels=lab, annotations=ann, generation=revision + 1,
              updated=updated)
    spec = {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
            "template": template(labels, pod_spec_),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}
    avail = "True" if ready >= replicas else "False"
    status = {"observedGeneration": revision + 1, "replicas": replicas, "updatedReplicas": replicas,
              "readyReplicas": ready, "availableReplicas": ready,
              "conditions": [
                  {"type": "Progressing", "status": "True", "lastUpdateTime": ts(updated),
                   "lastTransitionTime": ts(created), "reason": "NewReplicaSetAvailable",
                   "message": f'ReplicaSet "{name}-{rs_hash(namespace, name)}" has successfully progressed.'},
                  {"type": "Available", "status": avail, "lastUpdateTime": ts(updated),
                   "lastTransitionTime": ts(updated),
                   "reason": "MinimumReplicasAvailable" if avail == "True" else "MinimumReplicasUnavailable",
                   "message": "Deployment has minimum availability." if avail == "True"
                   else "Deployment does not have minimum availability."}]}
    if ready == 0:
        status.pop("readyReplicas")
        status.pop("availableReplicas")
        status["unavailableReplicas"] = replicas
    elif ready < replicas:
        status["unavailableReplicas"] = replicas - ready
    return {"metadata": md, "spec": spec, "status": status}


def rs_hash(namespace, name):
    return suffix(10, "rs", namespace, name)


def replicaset_obj(dep, *, created):
    name = dep["metadata"]["name"]
    ns = dep["metadata"]["namespace"]
    hsh = rs_hash(ns, name)
    labels = dict(dep["spec"]["selector"]["matchLabels"])
    labels["pod-template-hash"] = hsh
    rep = dep["spec"]["replicas"]
    ready = dep["status"].get("readyReplicas", 0)
    md = meta(f"{name}-{hsh}", ns, created=created, labels=labels,
              annotations={"deployment.kubernetes.io/desired-replicas": str(rep),
                           "deployment.kubernetes.io/max-replicas": str(rep + max(1, rep // 4)),
                           "deployment.kubernetes.io/revision": dep["metadata"]["annotations"][
                               "deployment.kubernetes.io/revision"]},
              owners=[owner("Deployment", name, dep["metadata"]["uid"], "apps/v1")], generation=1)
    tpl = copy.deepcopy(dep["spec"]["template"])
    tpl["metadata"]["labels"]["pod-template-hash"] = hsh
    spec = {"replicas": rep, "selector": {"matchLabels": labels}, "template": tpl}
    status = {"replicas": rep, "fullyLabeledReplicas": rep, "observedGeneration": 1}
    if ready:
        status["readyReplicas"] = ready
        status["availableReplicas"] = ready
    return {"metadata": md, "spec": spec, "status": status}


def daemonset_obj(name, namespace, *, labels, pod_spec_, created, desired, ready=None, generation=1,
                  chart_labels=None):
    ready = desired if ready is None else ready
    lab = dict(labels)
    lab.update(chart_labels or {})
    md = meta(name, namespace, created=created, labels=lab,
              annotations={"deprecated.daemonset.template.generation": str(generation)}, generation=generation)
    spec = {"selector": {"matchLabels": dict(labels)}, "template": template(labels, pod_spec_),
            "updateStrategy": {"type": "RollingUpdate",
                               "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10}
    status = {"currentNumberScheduled": desired, "numberMisscheduled": 0,
              "desiredNumberScheduled": desired, "numberReady": ready, "observedGeneration": generation,
              "updatedNumberScheduled": desired, "numberAvailable": ready}
    if ready < desired:
        status["numberUnavailable"] = desired - ready
    return {"metadata": md, "spec": spec, "status": status}


def statefulset_obj(name, namespace, *, labels, pod_spec_, created, replicas=1, service_name=None):
    md = meta(name, namespace, created=created, labels=labels, generation=1)
    spec = {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
            "template": template(labels, pod_spec_), "serviceName": service_name or name,
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10, "persistentVolumeClaimRetentionPolicy":
                {"whenDeleted": "Retain", "whenScaled": "Retain"}}
    rev = f"{name}-{suffix(10, 'sts', namespace, name)}"
    status = {"observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas,
              "currentReplicas": replicas, "updatedReplicas": replicas, "currentRevision": rev,
              "updateRevision": rev, "collisionCount": 0, "availableReplicas": replicas}
    return {"metadata": md, "spec": spec, "status": status}


def service_obj(name, namespace, *, cluster_ip, ports, selector=None, created, labels=None,
                svc_type="ClusterIP", annotations=None):
    md = meta(name, namespace, created=created, labels=labels, annotations=annotations)
    spec = {"ports": [{"name": pn, "protocol": "TCP", "port": p, "targetPort": tp} for pn, p, tp in ports]}
    if selector:
        spec["selector"] = dict(selector)
    spec.update({"clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "type": svc_type,
                 "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                 "internalTrafficPolicy": "Cluster"})
    return {"metadata": md, "spec": spec, "status": {"loadBalancer": {}}}


def endpoints_obj(svc, pods, *, created, node_of=None, extra_addresses=None):
    """Endpoints pointing at the (ready) pod IPs behind a service."""
    name = svc["metadata"]["name"]
    ns = svc["metadata"]["namespace"]
    addrs, not_ready = [], []
    for p in pods:
        a = {"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
             "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                           "uid": p["metadata"]["uid"]}}
        ok = all(c["ready"] for c in p["status"]["containerStatuses"])
        (addrs if ok else not_ready).append(a)
    addrs.extend(extra_addresses or [])
    subset = {}
    if addrs:
        subset["addresses"] = sorted(addrs, key=lambda a: a["ip"])
    if not_ready:
        subset["notReadyAddresses"] = sorted(not_ready, key=lambda a: a["ip"])
    subset["ports"] = [{"name": p["name"], "port": p["targetPort"] if isinstance(p["targetPort"], int)
                        else p["port"], "protocol": "TCP"} for p in svc["spec"]["ports"]]
    labels = dict(svc["metadata"].get("labels") or {})
    md = meta(name, ns, created=created, labels=labels or None,
              annotations={"endpoints.kubernetes.io/last-change-trigger-time": ts(created)},
              uid_=uid("ep", ns, name))
    return {"metadata": md, "subsets": [subset]}


def endpointslice_obj(svc, pods, *, created):
    name = svc["metadata"]["name"]
    ns = svc["metadata"]["namespace"]
    eps = []
    for p in sorted(pods, key=lambda p: p["status"]["podIP"]):
        ok = all(c["ready"] for c in p["status"]["containerStatuses"])
        eps.append({"addresses": [p["status"]["podIP"]],
                    "conditions": {"ready": ok, "serving": ok, "terminating": False},
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                  "uid": p["metadata"]["uid"]},
                    "nodeName": p["spec"]["nodeName"]})
    md = meta(f"{name}-{suffix(5, 'eps', ns, name)}", ns, created=created, generate_name=name + "-",
              labels={"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                      "kubernetes.io/service-name": name},
              owners=[owner("Service", name, svc["metadata"]["uid"], "v1")], generation=1)
    return {"metadata": md, "addressType": "IPv4", "endpoints": eps,
            "ports": [{"name": p["name"], "protocol": "TCP",
                       "port": p["targetPort"] if isinstance(p["targetPort"], int) else p["port"]}
                      for p in svc["spec"]["ports"]]}


def event_pair(namespace, *, involved, reason, message, first, last, count=1, etype="Normal",
               component="kubelet", host=None):
    """The same event as core v1 Event and as events.k8s.io/v1 Event (both are collected)."""
    name = f"{involved['name']}.{h('ev', namespace, involved['name'], reason, message)[:16]}"
    md = meta(name, namespace, created=first, uid_=uid("event", namespace, name))
    md["managedFields"] = [managed_field(component, "v1", first, {
        "f:count": {}, "f:firstTimestamp": {}, "f:involvedObject": {}, "f:lastTimestamp": {},
        "f:message": {}, "f:reason": {}, "f:reportingComponent": {}, "f:source": {"f:component": {}},
        "f:type": {}})]
    src = {"component": component}
    if host:
        src["host"] = host
    core = {"metadata": md, "involvedObject": involved, "reason": reason, "message": message,
            "source": src, "firstTimestamp": ts(first), "lastTimestamp": ts(last), "count": count,
            "type": etype, "eventTime": None, "reportingComponent": component,
            "reportingInstance": host or ""}
    new = {"metadata": copy.deepcopy(md), "eventTime": None, "reportingController": component,
           "reportingInstance": host or "", "reason": reason, "regarding": involved, "note": message,
           "type": etype, "deprecatedSource": src, "deprecatedFirstTimestamp": ts(first),
           "deprecatedLastTimestamp": ts(last), "deprecatedCount": count}
    return core, new


def configmap_obj(name, namespace, data, *, created, labels=None, annotations=None):
    return {"metadata": meta(name, namespace, created=created, labels=labels, annotations=annotations),
            "data": data}


def pvc_obj(name, namespace, *, volume, size, created, sc="harvester-longhorn", mode="Block",
            access="ReadWriteMany", annotations=None, labels=None, owners=None):
    ann = {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
           "volume.beta.kubernetes.io/storage-provisioner": "driver.longhorn.io",
           "volume.kubernetes.io/storage-provisioner": "driver.longhorn.io"}
    ann.update(annotations or {})
    md = meta(name, namespace, created=created, labels=labels, annotations=ann, owners=owners,
              finalizers=["kubernetes.io/pvc-protection"])
    return {"metadata": md,
            "spec": {"accessModes": [access], "resources": {"requests": {"storage": size}},
                     "volumeName": volume, "storageClassName": sc, "volumeMode": mode},
            "status": {"phase": "Bound", "accessModes": [access], "capacity": {"storage": size}}}


def pv_obj(name, *, pvc, size, created, sc="harvester-longhorn", mode="Block", access="ReadWriteMany",
           replicas=3):
    md = meta(name, created=created, annotations={"pv.kubernetes.io/provisioned-by": "driver.longhorn.io",
                                                  "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                                                  "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""},
              finalizers=["kubernetes.io/pv-protection", "external-attacher/driver-longhorn-io"])
    return {"metadata": md, "spec": {
        "capacity": {"storage": size},
        "csi": {"driver": "driver.longhorn.io", "volumeHandle": name, "fsType": "ext4",
                "volumeAttributes": {"migratable": "true", "numberOfReplicas": str(replicas),
                                     "staleReplicaTimeout": "30",
                                     "storage.kubernetes.io/csiProvisionerIdentity":
                                         "1731999601234-9876-driver.longhorn.io"}},
        "accessModes": [access],
        "claimRef": {"kind": "PersistentVolumeClaim", "namespace": pvc["metadata"]["namespace"],
                     "name": pvc["metadata"]["name"], "uid": pvc["metadata"]["uid"],
                     "apiVersion": "v1", "resourceVersion": pvc["metadata"]["resourceVersion"]},
        "persistentVolumeReclaimPolicy": "Delete", "storageClassName": sc, "volumeMode": mode},
        "status": {"phase": "Bound", "lastPhaseTransitionTime": ts(created)}}


# ---- Harvester / Rancher / Fleet / Longhorn / KubeVirt custom resources (keys sorted by the
# ---- API server since CRs are unstructured, so insertion order only matters for readability)

def harvester_setting(name, value=None, default=None, *, created, annotations=None):
    o = {"metadata": meta(name, created=created, annotations=annotations,
                          uid_=uid("hsetting", name))}
    if default is not None:
        o["default"] = default
    if value is not None:
        o["value"] = value
    return o


def rancher_setting(name, value, default="", *, created, source=""):
    return {"metadata": meta(name, created=created, uid_=uid("rsetting", name)),
            "customized": False, "default": default, "source": source, "value": value}


def crd_obj(plural, group, kind, versions, *, created, scope="Namespaced", short=None):
    name = f"{plural}.{group}"
    vs = [{"name": v, "served": True, "storage": i == len(versions) - 1,
           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
           "subresources": {"status": {}}} for i, v in enumerate(versions)]
    names = {"kind": kind, "listKind": kind + "List", "plural": plural, "singular": kind.lower()}
    if short:
        names["shortNames"] = short
    return {"metadata": meta(name, created=created, generation=1, uid_=uid("crd", name)),
            "spec": {"group": group, "names": names, "scope": scope, "versions": vs,
                     "conversion": {"strategy": "None"}},
            "status": {"acceptedNames": names, "conditions": [
                cond("NamesAccepted", "True", at=created, reason="NoConflicts", message="no conflicts found"),
                cond("Established", "True", at=created, reason="InitialNamesAccepted",
                     message="the initial names have been accepted")],
                "storedVersions": [versions[-1]]}}


def webhook_entry(name, *, service_ns, service_name, path, rules, failure="Fail", port=443,
                  timeout=10, side_effects="None", ns_selector=None):
    return {"name": name, "clientConfig": {"service": {"namespace": service_ns, "name": service_name,
                                                       "path": path, "port": port},
                                           "caBundle": base64.b64encode(FAKE_CA.encode()).decode()},
            "rules": rules, "failurePolicy": failure, "matchPolicy": "Equivalent",
            "namespaceSelector": ns_selector or {}, "objectSelector": {}, "sideEffects": side_effects,
            "timeoutSeconds": timeout, "admissionReviewVersions": ["v1", "v1beta1"]}


def rule(groups, versions, resources, ops=("CREATE", "UPDATE"), scope="*"):
    return {"operations": list(ops), "apiGroups": list(groups), "apiVersions": list(versions),
            "resources": list(resources), "scope": scope}


def bundle_summary(desired=1, ready=1, state=None, non_ready=None):
    s = {"desiredReady": desired, "ready": ready}
    if state:
        s[state[0].lower() + state[1:]] = desired - ready
    if non_ready:
        s["nonReadyResources"] = non_ready
    return s


def fleet_bundle(name, *, created, updated, resources, default_ns, release=None, labels=None,
                 annotations=None, owners=None, chart=None, generation=1, ready=True,
                 ready_message=None, non_ready=None, state=None):
    """fleet.cattle.io/v1alpha1 Bundle (Fleet 0.10 shape). `resources` lists the live objects
    the chart deploys ({apiVersion, kind, name, namespace}); they go to status.resourceKey."""
    spec = {"defaultNamespace": default_ns, "resources": [], "targets": [{"clusterName": "local",
                                                                           "clusterSelector": {}}],
            "rolloutStrategy": {}}
    if chart:
        spec["helm"] = {"chart": chart[0], "version": chart[1], "releaseName": release or name,
                        "takeOwnership": True, "timeoutSeconds": 600, "values": {}}
        spec["resources"] = [{"name": f"{chart[0]}/Chart.yaml",
                              "content": f"apiVersion: v2\nname: {chart[0]}\nversion: {chart[1]}\n"}]
    else:
        spec["resources"] = [{"name": f"{r['kind']}-{r.get('namespace', '')}-{r['name']}.yaml",
                              "content": json.dumps({"kind": r["kind"], "apiVersion": r["apiVersion"],
                                                     "metadata": {"name": r["name"],
                                                                  "namespace": r.get("namespace", ""),
                                                                  "creationTimestamp": None}},
                                                    separators=(",", ":"))}
                             for r in resources]
    rd = 1 if ready else 0
    conds = [wcond("Ready", "True" if ready else "False", at=updated,
                   reason=None if ready else "Error", message=ready_message)]
    status = {"conditions": conds,
              "display": {"readyClusters": f"{rd}/1"} | ({"state": state} if state else {}),
              "maxNew": 50, "maxUnavailable": 1, "maxUnavailablePartitions": 0,
              "observedGeneration": generation,
              "partitions": [{"count": 1, "maxUnavailable": 1, "name": "All",
                              "summary": bundle_summary(1, rd, state, non_ready),
                              "unavailable": 1 - rd}],
              "resourceKey": sorted(resources, key=lambda r: (r["apiVersion"], r["kind"],
                                                              r.get("namespace", ""), r["name"])),
              "resourcesSha256Sum": h("bundle-res", name),
              "summary": bundle_summary(1, rd, state, non_ready),
              "unavailable": 1 - rd, "unavailablePartitions": 0}
    md = meta(name, "fleet-local", created=created, labels=labels, annotations=annotations,
              owners=owners, generation=generation, updated=updated)
    return {"metadata": md, "spec": spec, "status": status}


def managedchart_obj(name, *, chart, version, default_ns, release, bundle, created, values=None):
    """management.cattle.io/v3 ManagedChart: its status is a copy of Bundle mcc-<name>'s status."""
    st = copy.deepcopy(bundle["status"])
    st["conditions"] = st["conditions"] + [wcond("Defined", "True", at=created)]
    for k in ("resourceKey", "resourcesSha256Sum"):
        st.pop(k, None)
    md = meta(name, "fleet-local", created=created, generation=bundle["metadata"]["generation"],
              finalizers=["wrangler.cattle.io/on-mcc-bundle-remove"],
              updated=dt.datetime.strptime(bundle["status"]["conditions"][0]["lastUpdateTime"],
                                           "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc))
    spec = {"chart": chart, "version": version, "defaultNamespace": default_ns, "releaseName": release,
            "repoName": "harvester-charts", "timeoutSeconds": 600, "targets": [{"clusterName": "local",
                                                                                 "clusterSelector": {}}],
            "values": values or {}, "diff": {"comparePatches": []}}
    return {"metadata": md, "spec": spec, "status": st}


def lh_volume(name, *, size_bytes, node, created, pvc_ns, pvc_name, pv_name, pod_name=None,
              workloads=None, state="attached", robustness="healthy", replicas=3, frontend="blockdev",
              backing_image=""):
    attached = state == "attached"
    conds = [wcond("TooManySnapshots", "False", at=created),
             wcond("Scheduled", "True", at=created),
             wcond("Restore", "False", at=created),
             wcond("WaitForBackingImage", "False", at=created)]
    for c in conds:  # Longhorn conditions use lastProbeTime/lastTransitionTime, message, reason
        c.pop("lastUpdateTime")
        c["lastProbeTime"] = ""
        c["lastTransitionTime"] = ts(created)
        c["message"] = ""
        c["reason"] = ""
    ks = {"namespace": pvc_ns, "pvcName": pvc_name, "pvName": pv_name, "pvStatus": "Bound",
          "lastPodRefAt": "" if attached else ts(ago(days=3)), "lastPVCRefAt": "",
          "workloadsStatus": workloads or None}  # null, and last in the object: stays a YAML null
    return {"metadata": meta(name, "longhorn-system", created=created, generation=3,
                             labels={"longhornvolume": name, "recurring-job-group.longhorn.io/default": "enabled",
                                     "setting.longhorn.io/remove-snapshots-during-filesystem-trim": "ignored",
                                     "setting.longhorn.io/replica-auto-balance": "ignored",
                                     "setting.longhorn.io/snapshot-data-integrity": "ignored"},
                             finalizers=["longhorn.io"]),
            "spec": {"accessMode": "rwx", "backingImage": backing_image, "dataEngine": "v1",
                     "dataLocality": "disabled", "frontend": frontend, "migratable": True,
                     "numberOfReplicas": replicas, "size": str(size_bytes), "staleReplicaTimeout": 30,
                     "replicaAutoBalance": "ignored", "revisionCounterDisabled": True,
                     "snapshotDataIntegrity": "ignored", "unmapMarkSnapChainRemoved": "ignored",
                     "nodeID": node if attached else "", "encrypted": False, "fromBackup": "",
                     "restoreVolumeRecurringJob": "ignored"},
            "status": {"actualSize": int(size_bytes * 0.31) // 4096 * 4096, "cloneStatus":
                       {"snapshot": "", "sourceVolume": "", "state": ""},
                       "conditions": conds, "currentImage": f"longhornio/longhorn-engine:{V['longhorn']}",
                       "currentNodeID": node if attached else "", "frontendDisabled": False,
                       "isStandby": False, "kubernetesStatus": ks, "lastBackup": "",
                       "lastDegradedAt": "", "ownerID": node or "harvester-node-0",
                       "remountRequestedAt": ts(created), "restoreRequired": False,
                       "robustness": robustness, "shareEndpoint": "", "shareState": "",
                       "state": state}}


def lh_replica(vol, node, *, created, disk_uuid, im_name, running=True, failed_at=""):
    vname = vol["metadata"]["name"]
    name = f"{vname}-r-{h('rep', vname, node)[:8]}"
    return {"metadata": meta(name, "longhorn-system", created=created, generation=2,
                             labels={"longhorn.io/backing-image": "", "longhornnode": node,
                                     "longhornvolume": vname},
                             owners=[owner("Volume", vname, vol["metadata"]["uid"], "longhorn.io/v1beta2")],
                             finalizers=["longhorn.io"]),
            "spec": {"active": True, "dataDirectoryName": f"{vname}-{h('dir', vname, node)[:8]}",
                     "dataEngine": "v1", "desireState": "running" if running else "stopped",
                     "diskID": disk_uuid, "diskPath": "/var/lib/harvester/defaultdisk",
                     "failedAt": failed_at, "nodeID": node, "volumeName": vname,
                     "volumeSize": vol["spec"]["size"], "image": f"longhornio/longhorn-engine:{V['longhorn']}",
                     "healthyAt": ts(created + dt.timedelta(minutes=1)), "rebuildRetryCount": 0},
            "status": {"currentImage": f"longhornio/longhorn-engine:{V['longhorn']}",
                       "currentState": "running" if running else "stopped",
                       "instanceManagerName": im_name if running else "",
                       "ip": f"10.52.{int(node[-1])}.{40 + int(node[-1])}" if running else "",
                       "ownerID": node, "port": 10000 + int(h("port", vname, node)[:2], 16) if running else 0,
                       "started": running, "storageIP": f"10.52.{int(node[-1])}.{40 + int(node[-1])}"
                       if running else ""}}


def lh_engine(vol, *, created, im_name, replicas):
    vname = vol["metadata"]["name"]
    node = vol["status"]["currentNodeID"]
    attached = bool(node)
    name = f"{vname}-e-0"
    rmode = {r["metadata"]["name"]: "RW" for r in replicas} if attached else {}
    raddr = {r["metadata"]["name"]: f"tcp://{r['status']['ip']}:{r['status']['port']}"
             for r in replicas} if attached else {}
    return {"metadata": meta(name, "longhorn-system", created=created, generation=2,
                             labels={"longhornnode": node, "longhornvolume": vname} if attached
                             else {"longhornvolume": vname},
                             owners=[owner("Volume", vname, vol["metadata"]["uid"], "longhorn.io/v1beta2")],
                             finalizers=["longhorn.io"]),
            "spec": {"active": True, "dataEngine": "v1", "desireState": "running" if attached else "stopped",
                     "frontend": "blockdev", "image": f"longhornio/longhorn-engine:{V['longhorn']}",
                     "nodeID": node, "replicaAddressMap": raddr, "volumeName": vname,
                     "volumeSize": vol["spec"]["size"]},
            "status": {"currentImage": f"longhornio/longhorn-engine:{V['longhorn']}",
                       "currentReplicaAddressMap": raddr, "currentSize": vol["spec"]["size"],
                       "currentState": "running" if attached else "stopped",
                       "endpoint": f"/dev/longhorn/{vname}" if attached else "",
                       "instanceManagerName": im_name if attached else "", "ownerID": node or "harvester-node-0",
                       "replicaModeMap": rmode, "started": attached,
                       "isExpanding": False, "lastExpansionError": "", "lastRestoredBackup": ""}}


def lh_node(name, *, created, disk_uuid, scheduled_bytes=0, ready=True):
    disk_name = f"default-disk-{h('disk', name)[:16]}"
    return {"metadata": meta(name, "longhorn-system", created=created, generation=1,
                             finalizers=["longhorn.io"]),
            "spec": {"allowScheduling": True, "evictionRequested": False, "instanceManagerCPURequest": 0,
                     "name": name, "tags": [],
                     "disks": {disk_name: {"allowScheduling": True, "diskType": "filesystem",
                                           "evictionRequested": False, "path": "/var/lib/harvester/defaultdisk",
                                           "storageReserved": 0, "tags": [], "diskDriver": ""}}},
            "status": {"autoEvicting": False,
                       "conditions": [
                           {"type": "Ready", "status": "True" if ready else "False", "lastProbeTime": "",
                            "lastTransitionTime": ts(created), "message": "",
                            "reason": "" if ready else "KubernetesNodeNotReady"},
                           {"type": "Schedulable", "status": "True", "lastProbeTime": "",
                            "lastTransitionTime": ts(created), "message": "", "reason": ""},
                           {"type": "MountPropagation", "status": "True", "lastProbeTime": "",
                            "lastTransitionTime": ts(created), "message": "", "reason": ""}],
                       "diskStatus": {disk_name: {
                           "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": "",
                                           "lastTransitionTime": ts(created), "message": "",
                                           "reason": ""}],
                           "diskType": "filesystem", "diskUUID": disk_uuid, "filesystemType": "ext2/ext3",
                           "storageAvailable": 381021863936 - scheduled_bytes // 3,
                           "storageMaximum": 502068477952, "storageScheduled": scheduled_bytes}},
                       "region": "", "zone": "", "snapshotCheckStatus": {}}}


def lh_setting(name, value, *, created):
    return {"metadata": meta(name, "longhorn-system", created=created, uid_=uid("lhsetting", name)),
            "value": value, "status": {"applied": True}}


# ===========================================================================================
# (c) the cluster model and base_cluster()
# ===========================================================================================

# (group/version, resource) -> (Kind, served from a CRD (list metadata.continue: "null"))
RESOURCES = {
    ("v1", "nodes"): ("Node", False), ("v1", "namespaces"): ("Namespace", False),
    ("v1", "persistentvolumes"): ("PersistentVolume", False), ("v1", "pods"): ("Pod", False),
    ("v1", "services"): ("Service", False), ("v1", "endpoints"): ("Endpoints", False),
    ("v1", "events"): ("Event", False), ("v1", "configmaps"): ("ConfigMap", False),
    ("v1", "persistentvolumeclaims"): ("PersistentVolumeClaim", False),
    ("v1", "secrets"): ("Secret", False), ("v1", "serviceaccounts"): ("ServiceAccount", False),
    ("apps/v1", "deployments"): ("Deployment", False), ("apps/v1", "replicasets"): ("ReplicaSet", False),
    ("apps/v1", "daemonsets"): ("DaemonSet", False), ("apps/v1", "statefulsets"): ("StatefulSet", False),
    ("discovery.k8s.io/v1", "endpointslices"): ("EndpointSlice", False),
    ("events.k8s.io/v1", "events"): ("Event", False),
    ("networking.k8s.io/v1", "ingresses"): ("Ingress", False),
    ("storage.k8s.io/v1", "storageclasses"): ("StorageClass", False),
    ("apiextensions.k8s.io/v1", "customresourcedefinitions"): ("CustomResourceDefinition", False),
    ("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations"):
        ("ValidatingWebhookConfiguration", False),
    ("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations"):
        ("MutatingWebhookConfiguration", False),
    ("metrics.k8s.io/v1beta1", "nodes"): ("NodeMetrics", False),
    ("metrics.k8s.io/v1beta1", "pods"): ("PodMetrics", False),
    ("harvesterhci.io/v1beta1", "settings"): ("Setting", True),
    ("harvesterhci.io/v1beta1", "versions"): ("Version", True),
    ("harvesterhci.io/v1beta1", "upgrades"): ("Upgrade", True),
    ("harvesterhci.io/v1beta1", "supportbundles"): ("SupportBundle", True),
    ("harvesterhci.io/v1beta1", "virtualmachineimages"): ("VirtualMachineImage", True),
    ("harvesterhci.io/v1beta1", "blockdevices"): ("BlockDevice", True),
    ("management.cattle.io/v3", "settings"): ("Setting", True),
    ("management.cattle.io/v3", "managedcharts"): ("ManagedChart", True),
    ("fleet.cattle.io/v1alpha1", "bundles"): ("Bundle", True),
    ("fleet.cattle.io/v1alpha1", "clusters"): ("Cluster", True),
    ("cluster.x-k8s.io/v1beta1", "clusters"): ("Cluster", True),
    ("cluster.x-k8s.io/v1beta1", "machines"): ("Machine", True),
    ("longhorn.io/v1beta2", "volumes"): ("Volume", True),
    ("longhorn.io/v1beta2", "replicas"): ("Replica", True),
    ("longhorn.io/v1beta2", "engines"): ("Engine", True),
    ("longhorn.io/v1beta2", "nodes"): ("Node", True),
    ("longhorn.io/v1beta2", "settings"): ("Setting", True),
    ("longhorn.io/v1beta2", "instancemanagers"): ("InstanceManager", True),
    ("longhorn.io/v1beta2", "backingimages"): ("BackingImage", True),
    ("longhorn.io/v1beta2", "backingimagemanagers"): ("BackingImageManager", True),
    ("storage.k8s.io/v1", "volumeattachments"): ("VolumeAttachment", False),
    ("kubevirt.io/v1", "virtualmachines"): ("VirtualMachine", True),
    ("kubevirt.io/v1", "virtualmachineinstances"): ("VirtualMachineInstance", True),
    ("kubevirt.io/v1", "kubevirts"): ("KubeVirt", True),
    # used by the upgrade / backup scenarios
    ("batch/v1", "jobs"): ("Job", False), ("batch/v1", "cronjobs"): ("CronJob", False),
    ("policy/v1", "poddisruptionbudgets"): ("PodDisruptionBudget", False),
    ("upgrade.cattle.io/v1", "plans"): ("Plan", True),
    ("harvesterhci.io/v1beta1", "upgradelogs"): ("UpgradeLog", True),
    ("harvesterhci.io/v1beta1", "schedulevmbackups"): ("ScheduleVMBackup", True),
    ("harvesterhci.io/v1beta1", "virtualmachinebackups"): ("VirtualMachineBackup", True),
    ("kubevirt.io/v1", "virtualmachineinstancemigrations"): ("VirtualMachineInstanceMigration", True),
    ("provisioning.cattle.io/v1", "clusters"): ("Cluster", True),
    ("harvesterhci.io/v1beta1", "addons"): ("Addon", True),
    ("devices.harvesterhci.io/v1beta1", "pcideviceclaims"): ("PCIDeviceClaim", True),
    ("devices.harvesterhci.io/v1beta1", "pcidevices"): ("PCIDevice", True),
    ("logging.banzaicloud.io/v1beta1", "loggings"): ("Logging", True),
    ("logging.banzaicloud.io/v1beta1", "clusterflows"): ("ClusterFlow", True),
    ("logging.banzaicloud.io/v1beta1", "clusteroutputs"): ("ClusterOutput", True),
}


class BundleModel:
    """In-memory support bundle: YAML lists, pod logs, node zips and the top-level files."""

    def __init__(self, bundle_name, cluster_id, created_at, k8s_version):
        self.bundle_name = bundle_name
        self.cluster_id = cluster_id
        self.created_at = created_at
        self.k8s_version = k8s_version
        self.issue_url = ""
        self.issue_description = ""
        # (namespace or None, group/version, resource) -> list of objects
        self.lists: dict[tuple, list] = {}
        self.logs: dict[str, str] = {}                 # "ns/pod/container.log[.1]" -> text
        self.node_files: dict[str, dict[str, str]] = {}  # node -> {path under <node>/: text}
        self.errors: list[str] = []                    # bundleGenerationError.log lines

    # -- objects --
    def add(self, gv, resource, obj, namespace=None):
        assert (gv, resource) in RESOURCES, (gv, resource)
        ns = namespace or obj["metadata"].get("namespace")
        self.lists.setdefault((ns, gv, resource), []).append(obj)
        return obj

    def get(self, gv, resource, name, namespace=None):
        for o in self.lists.get((namespace, gv, resource), []):
            if o["metadata"]["name"] == name:
                return o
        raise KeyError((namespace, gv, resource, name))

    def items(self, gv, resource, namespace=None):
        return self.lists.get((namespace, gv, resource), [])

    def remove(self, gv, resource, name, namespace=None):
        lst = self.lists[(namespace, gv, resource)]
        lst[:] = [o for o in lst if o["metadata"]["name"] != name]

    # -- rendering --
    def files(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        md = (f'bundlename: {yaml_scalar(self.bundle_name)}\n'
              f'bundleversion: 0.1.0\n'
              f'kubernetesversion: {yaml_scalar(self.k8s_version)}\n'
              f'projectnamespaceuuid: {yaml_scalar(self.cluster_id)}\n'
              f'bundlecreatedat: {yaml_scalar(ts(self.created_at))}\n'
              f'issueurl: {yaml_scalar(self.issue_url)}\n'
              f'issuedescription: {yaml_scalar(self.issue_description)}\n')
        out["metadata.yaml"] = md.encode()
        out["bundleGenerationError.log"] = "".join(line + "\n" for line in self.errors).encode()
        for (ns, gv, res), objs in self.lists.items():
            if not objs:
                continue  # SBK >= v0.0.29 does not write empty lists
            kind, crd = RESOURCES[(gv, res)]
            objs = sorted(objs, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
            path = (f"yamls/cluster/{gv}/{res}.yaml" if ns is None
                    else f"yamls/namespaced/{ns}/{gv}/{res}.yaml")
            list_rv = str(int(rv(self.created_at, "list")) + 60 + int(h("listrv", path)[:4], 16) % 300)
            out[path] = sbk_list_yaml(gv, kind, objs, list_rv, crd,
                                      metrics=gv.startswith("metrics.k8s.io")).encode()
        for rel, text in self.logs.items():
            out["logs/" + rel] = text.encode()
        for node, files in self.node_files.items():
            out[f"nodes/{node}.zip"] = make_zip(node, files, self.created_at + dt.timedelta(seconds=95))
        return out


def yaml_scalar(s: str) -> str:
    """One scalar as yaml.v2 writes it at top level (used for metadata.yaml)."""
    return yaml_dump({"x": s})[3:].rstrip("\n")


def make_zip(top: str, files: dict[str, str], when: dt.datetime) -> bytes:
    """A node bundle zip: one top folder, explicit directory entries, fixed timestamps."""
    date_time = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    entries = set()
    for path in files:
        parts = path.split("/")
        for i in range(1, len(parts)):
            entries.add("/".join(parts[:i]) + "/")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted([top + "/"] + [f"{top}/{d}" for d in entries] + [f"{top}/{p}" for p in files]):
            zi = zipfile.ZipInfo(name, date_time=date_time)
            zi.create_system = 3
            if name.endswith("/"):
                zi.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(zi, b"")
            else:
                zi.external_attr = 0o100644 << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(zi, files[name[len(top) + 1:]].encode())
    return buf.getvalue()


# ---- constants of the base cluster -------------------------------------------------------

CLUSTER_ID = "3f6c2a1e-8b7d-4e2a-9c41-5d0e7a9b1c23"   # uid of namespace harvester-system
BASE_CLUSTER_ID = CLUSTER_ID

# Component versions of a Harvester release. Node-level keys (what the OS image and RKE2 bring)
# and chart-level keys (what the ManagedCharts / Rancher upgrade deploy) are separate so that a
# cluster in the middle of an upgrade can mix them (see cluster_shape(versions=...)).
V140 = {
    # node level
    "server_version": "v1.4.0", "os": "Harvester v1.4.0", "os_variant": "Harvester-20241011",
    "kernel": "5.14.21-150500.55.80-default", "containerd": "v1.7.21-k3s2", "system_agent": "v0.3.9",
    "rke2": "v1.29.9+rke2r1", "k8s_build": "v1.29.9-rke2r1-build20240912",
    "etcd_build": "v3.5.13-k3s1-build20240910", "calico": "v3.28.1-build20240806",
    "flannel": "v0.25.6-build20240910", "multus": "v4.1.0-build20240910", "coredns": "v1.11.1-build20240910",
    "metrics_server": "v0.7.1-build20240910",
    # chart level
    "harvester": "v1.4.0", "chart": "1.4.0", "rancher": "v2.9.2", "rancher_webhook": "v0.5.2",
    "fleet": "v0.10.2", "capi": "v1.7.3", "suc": "v0.13.4", "longhorn": "v1.7.1", "engine_image": "ei-51cc7b9c",
    "im_image": "imi-a1873aa3", "kubevirt": "1.2.2-150600.5.9.1", "kubevirt_tag": "v1.2.2", "sbk": "v0.0.46",
    "whereabouts": "v0.1.1", "lb": "v0.4.0", "network": "v0.5.4", "ndm": "v0.7.2",
    "monitoring_chart": "103.1.1+up45.31.1", "logging_chart": "103.1.1+up4.4.0",
    "logging_chart_release": "103.1.0+up4.4.0", "min_upgradable": "v1.3.1",
    "fleet_agent_kind": "StatefulSet",
    # history: the Version objects (name, releaseDate, minUpgradableVersion), the past upgrade
    "versions": (("v1.4.0", "20241021", "v1.3.1"), ("v1.4.1", "20250123", "v1.3.2")),
    "next": "v1.4.1", "previous": "v1.3.2", "past_upgrade": "hvst-upgrade-7dtzq",
}
# v1.4.1 (the release the v1.4.0 samples upgrade to)
V141 = dict(V140, **{
    "server_version": "v1.4.1", "os": "Harvester v1.4.1", "os_variant": "Harvester-20250117",
    "kernel": "5.14.21-150500.55.88-default", "containerd": "v1.7.23-k3s2", "system_agent": "v0.3.11",
    "rke2": "v1.30.9+rke2r1", "k8s_build": "v1.30.9-rke2r1-build20250115",
    "etcd_build": "v3.5.16-k3s1-build20250115", "calico": "v3.29.1-build20250115",
    "flannel": "v0.26.2-build20250115", "multus": "v4.1.3-build20250115", "coredns": "v1.12.0-build20250115",
    "metrics_server": "v0.7.2-build20250115",
    "harvester": "v1.4.1", "chart": "1.4.1", "rancher": "v2.10.1", "rancher_webhook": "v0.6.2",
    "fleet": "v0.11.2", "capi": "v1.8.3", "suc": "v0.14.2", "longhorn": "v1.7.2", "engine_image": "ei-db6c2b6f",
    "im_image": "imi-2e0b8b0d", "lb": "v0.4.1", "network": "v0.5.5", "ndm": "v0.7.3",
    "min_upgradable": "v1.3.2", "versions": V140["versions"], "next": "v1.4.1", "previous": "v1.4.0",
})
V141_CHARTS = {k: V141[k] for k in ("harvester", "chart", "rancher", "rancher_webhook", "fleet", "capi", "suc",
                                    "longhorn", "engine_image", "im_image", "lb", "network", "ndm")}
# v1.5.0 (clean-v1.5.0): same synthetic timeline as the v1.4.0 base, other release numbers
V150 = dict(V140, **{
    "server_version": "v1.5.0", "os": "Harvester v1.5.0", "os_variant": "Harvester-20250416",
    "kernel": "5.14.21-150500.55.100-default", "containerd": "v2.0.4-k3s2", "system_agent": "v0.3.12",
    "rke2": "v1.32.3+rke2r1", "k8s_build": "v1.32.3-rke2r1-build20250312",
    "etcd_build": "v3.5.19-k3s1-build20250306", "calico": "v3.29.2-build20250306",
    "flannel": "v0.26.4-build20250306", "multus": "v4.1.4-build20250306", "coredns": "v1.12.0-build20250306",
    "metrics_server": "v0.7.2-build20250306",
    "harvester": "v1.5.0", "chart": "1.5.0", "rancher": "v2.11.0", "rancher_webhook": "v0.7.0",
    "fleet": "v0.12.0", "capi": "v1.9.5", "suc": "v0.15.2", "longhorn": "v1.8.1", "engine_image": "ei-7f4c3a91",
    "im_image": "imi-9c1d6e25", "kubevirt": "1.4.0-150600.5.15.1", "kubevirt_tag": "v1.4.0", "sbk": "v0.0.52",
    "whereabouts": "v0.1.1", "lb": "v0.5.0", "network": "v1.0.0", "ndm": "v0.8.0",
    "monitoring_chart": "105.1.2+up61.3.2", "logging_chart": "105.2.0+up4.10.0",
    "logging_chart_release": "105.2.0+up4.10.0", "min_upgradable": "v1.4.2",
    "fleet_agent_kind": "Deployment",
    "versions": (("v1.5.0", "20241021", "v1.4.2"), ("v1.5.1", "20250123", "v1.4.2")),
    "next": "v1.5.1", "previous": "v1.4.2", "past_upgrade": "hvst-upgrade-w2m5d",
})
RELEASES = {"v1.4.0": V140, "v1.4.1": V141, "v1.5.0": V150}
V = dict(V140)
RKE2 = V["rke2"]
HARVESTER = V["harvester"]
RANCHER = V["rancher"]
LONGHORN = V["longhorn"]
KUBEVIRT = V["kubevirt"]
NODES = ["harvester-node-0", "harvester-node-1", "harvester-node-2"]
NODE_IPS = {n: f"10.10.0.{10 + i}" for i, n in enumerate(NODES)}
VIP = "10.10.0.5"
INSTALLED = ago(days=273, hours=1, minutes=28, seconds=24)        # 2024-05-17T08:12:43Z
UPGRADED = dt.datetime(2024, 11, 19, 14, 5, 12, tzinfo=dt.timezone.utc)  # v1.3.2 -> v1.4.0
REBOOTS = {n: UPGRADED + dt.timedelta(minutes=62 + 31 * i) for i, n in enumerate(NODES)}
ROLLED_OUT = UPGRADED + dt.timedelta(hours=2, minutes=47)          # charts settled after the upgrade
DS_ROLLOUT = None  # see cluster_shape(ds_rollout=...)
WEB_VM_START = CAPTURE - dt.timedelta(minutes=35, seconds=12)   # vm-web-01 (on NODES[1]) was started
DRAINED = {}  # {node: time}: Deployment pods that would run there were evicted then (see cluster_shape)
BUNDLE_NAME = "bundle-kx7vq"
COLLECTED_NAMESPACES = ["default", "kube-system", "cattle-system", "cattle-dashboards",
                        "cattle-fleet-clusters-system", "cattle-fleet-local-system", "cattle-fleet-system",
                        "cattle-logging-system", "cattle-monitoring-system", "cattle-provisioning-capi-system",
                        "fleet-local", "harvester-system", "local", "longhorn-system"]
FLEET_CLUSTER_NS = "cluster-fleet-local-local-1a3d67d0a899"


def node_index(node: str) -> int:
    return NODES.index(node)


CONTROL_PLANE_COUNT = 3  # Harvester promotes the first three nodes to management (etcd + control plane)


def is_control_plane(node: str) -> bool:
    return node_index(node) < CONTROL_PLANE_COUNT


@contextlib.contextmanager
def cluster_shape(nodes=3, *, cluster_id=None, bundle_name=None, reboots=None, versions=None,
                  rolled_out=None, ds_rollout=None, web_vm_start=None, drained=None):
    """Rebind the module constants that describe the cluster (NODES, NODE_IPS, REBOOTS, CLUSTER_ID,
    BUNDLE_NAME, V and the version shortcuts, ROLLED_OUT, DS_ROLLOUT) for the duration of a
    scenario, and restore them afterwards. Everything in this file reads them at call time, so a
    scenario that builds *and* edits its model inside the block sees one coherent cluster. nodes=3
    with no overrides is exactly the base cluster.
    reboots: {node: boot time} overriding the default boot of some nodes.
    versions: keys of V140 to override (e.g. the chart-level keys of the target release while an
    upgrade is half done, or a whole other release).
    rolled_out: when the chart workloads (Deployments, ManagedCharts) last rolled out.
    ds_rollout: if set, the pods of chart DaemonSets and the instance managers were restarted by
    that rollout (not only by the node's last boot).
    web_vm_start: when vm-web-01 was started on NODES[1] (its events are kept only if < 1 h old).
    drained: {node: time}: the Deployment pods base_cluster would put on that node were evicted at that
    time and run on the other nodes (a node being drained)."""
    g = globals()
    saved = {k: g[k] for k in ("NODES", "NODE_IPS", "REBOOTS", "CLUSTER_ID", "BUNDLE_NAME", "V", "RKE2",
                               "HARVESTER", "RANCHER", "LONGHORN", "KUBEVIRT", "ROLLED_OUT", "DS_ROLLOUT",
                               "WEB_VM_START", "DRAINED")}
    try:
        g["NODES"] = [f"harvester-node-{i}" for i in range(nodes)]
        g["NODE_IPS"] = {n: f"10.10.0.{10 + i}" for i, n in enumerate(g["NODES"])}
        g["REBOOTS"] = {n: UPGRADED + dt.timedelta(minutes=62 + 31 * i) for i, n in enumerate(g["NODES"])}
        g["REBOOTS"].update(reboots or {})
        if cluster_id:
            g["CLUSTER_ID"] = cluster_id
        if bundle_name:
            g["BUNDLE_NAME"] = bundle_name
        g["V"] = dict(V140, **(versions or {}))
        g.update(RKE2=g["V"]["rke2"], HARVESTER=g["V"]["harvester"], RANCHER=g["V"]["rancher"],
                 LONGHORN=g["V"]["longhorn"], KUBEVIRT=g["V"]["kubevirt"])
        if rolled_out:
            g["ROLLED_OUT"] = rolled_out
        g["DS_ROLLOUT"] = ds_rollout
        if web_vm_start:
            g["WEB_VM_START"] = web_vm_start
        g["DRAINED"] = dict(drained or {})
        yield
    finally:
        g.update(saved)


class _IPs:
    """Deterministic pod IP allocation per node (pod CIDR 10.52.<node index>.0/24)."""

    def __init__(self):
        self.next = {n: 17 for n in NODES}

    def pod_ip(self, node):
        ip = f"10.52.{node_index(node)}.{self.next[node]}"
        self.next[node] += 3
        return ip


def helm_owned(obj, release, release_ns, chart, bundle):
    """Mark an object as deployed by a Fleet bundle through Helm (labels/annotations Fleet uses)."""
    md = obj["metadata"]
    md.setdefault("labels", {}).update({
        "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": chart,
        "objectset.rio.cattle.io/hash": h("objectset", bundle)[:40]})
    md.setdefault("annotations", {}).update({
        "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": release_ns,
        "objectset.rio.cattle.io/id": f"default-{bundle}-cattle-fleet-local-system"})
    return obj


def resource_ref(obj, api_version, kind):
    r = {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"]}
    if obj["metadata"].get("namespace"):
        r["namespace"] = obj["metadata"]["namespace"]
    return r


def logts(t: dt.datetime, *salt) -> str:
    """Kubelet log prefix: RFC 3339 with nanoseconds, UTC (sub-microsecond digits from a hash)."""
    ns = t.microsecond * 1000 + int(h("logts", ts(t), *salt)[:4], 16) % 1000
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ns:09d}Z"


def pod_log(entries, salt=""):
    """entries: [(datetime the program wrote the line, text)]. The kubelet prefix is a little
    later than the program's own timestamp and strictly increasing."""
    out = []
    last = None
    for i, (t, text) in enumerate(entries):
        cand = t + dt.timedelta(microseconds=150 + int(h("pl", salt, i)[:4], 16) % 900)
        if last is not None and cand <= last:
            cand = last + dt.timedelta(microseconds=31 + int(h("pl2", salt, i)[:2], 16))
        last = cand
        out.append(f"{logts(cand, salt, i)} {text}\n")
    return "".join(out)


def klog(level, t, pid, src, msg):
    return f"{level}{t.strftime('%m%d %H:%M:%S.%f')} {pid:>7} {src}] {msg}"


def logrus(level, t, msg, **fields):
    extra = "".join(f" {k}={json.dumps(v) if ' ' in str(v) else v}" for k, v in fields.items())
    return f'time="{ts(t)}" level={level} msg="{msg}"{extra}'


def journal(t, host, ident, pid, msg):
    """journalctl -o short-precise: no year, microseconds, node local time (UTC on Harvester)."""
    proc = f"{ident}[{pid}]" if pid else ident
    return f"{t.strftime('%b %d %H:%M:%S.%f')} {host} {proc}: {msg}"


class Clock:
    """Monotonic sub-second jitter for hand-written log lines: at(t) returns t plus a
    deterministic fraction of a second, never going backwards."""

    def __init__(self, salt):
        self.salt = salt
        self.last = None
        self.n = 0

    def at(self, t: dt.datetime) -> dt.datetime:
        self.n += 1
        c = t + dt.timedelta(microseconds=int(h("clk", self.salt, self.n)[:5], 16) % 400000)
        if self.last is not None and c <= self.last:
            c = self.last + dt.timedelta(microseconds=1500 + int(h("clk2", self.salt, self.n)[:3], 16) % 9000)
        self.last = c
        return c


def repo_info(v) -> str:
    """Upgrade.status.repoInfo: the repo's harvester-release.yaml as the controller stores it."""
    return (f"release:\n  harvester: {v['harvester']}\n  harvesterChart: {v['chart']}\n  os: {v['os']}\n"
            f"  kubernetes: {v['rke2']}\n  rancher: {v['rancher']}\n  monitoringChart: {v['monitoring_chart']}\n"
            f"  minUpgradableVersion: {v['min_upgradable']}\n")


# ===========================================================================================
# base_cluster(): a coherent, healthy 3-node Harvester v1.4.0 cluster
# ===========================================================================================

def base_cluster(description="Routine health check before the v1.4.1 upgrade") -> BundleModel:
    """The healthy cluster (shape from NODES/REBOOTS/..., see cluster_shape()). The model keeps the
    builder closures in b.helpers so that scenarios can add chart workloads the same way."""
    b = BundleModel(BUNDLE_NAME, CLUSTER_ID, CAPTURE, RKE2)
    b.issue_description = description
    ips = _IPs()
    nodes = {}

    # ---- nodes, namespaces ---------------------------------------------------------------
    machines = {n: f"custom-{h('machine-name', n)[:12]}" for n in NODES}
    for i, n in enumerate(NODES):
        nodes[n] = b.add("v1", "nodes", node_obj(
            n, ip=NODE_IPS[n], pod_cidr=f"10.52.{i}.0/24", machine=machines[n],
            created=INSTALLED + dt.timedelta(minutes=27 * i), ready_since=REBOOTS[n] + dt.timedelta(minutes=2),
            cpu=16 if i else 24, mem_ki=65776468 if i else 98543212, control_plane=is_control_plane(n)))
    ns_names = ["default", "kube-system", "kube-public", "kube-node-lease", "cattle-system",
                "cattle-fleet-local-system", "cattle-fleet-system", "cattle-fleet-clusters-system",
                "cattle-monitoring-system", "cattle-provisioning-capi-system", "cattle-impersonation-system",
                "fleet-local", "fleet-default", FLEET_CLUSTER_NS, "harvester-system", "harvester-public",
                "longhorn-system", "local"]
    for i, ns in enumerate(ns_names):
        created = INSTALLED + dt.timedelta(minutes=i // 4, seconds=7 * i)
        b.add("v1", "namespaces", namespace_obj(ns, created, uid_=CLUSTER_ID if ns == "harvester-system" else None))
    for ns in ["default", "kube-system", "cattle-system", "cattle-fleet-local-system", "cattle-fleet-system",
               "cattle-fleet-clusters-system", "cattle-monitoring-system", "cattle-provisioning-capi-system",
               "fleet-local", "harvester-system", "longhorn-system", "local"]:
        b.add("v1", "configmaps", configmap_obj("kube-root-ca.crt", ns, {"ca.crt": FAKE_CA},
                                                created=INSTALLED + dt.timedelta(minutes=1),
                                                annotations={"kubernetes.io/description":
                                                             "Contains a CA bundle that can be used to verify the "
                                                             "kube-apiserver when using internal endpoints such as "
                                                             "the internal service IP or kubernetes.default.svc. No "
                                                             "other usage is guaranteed across distributions of "
                                                             "Kubernetes clusters."}))

    # ---- workload helpers ----------------------------------------------------------------
    all_pods = {}  # (ns, name) -> pod

    def add_deployment(ns, name, replicas, containers, *, on, labels=None, created=None, rollout=None,
                       sa=None, restarts=None, chart=None, priority=None):
        labels = labels or {"app": name}
        created = created or INSTALLED + dt.timedelta(minutes=9)
        rollout = rollout or ROLLED_OUT
        spec = pod_spec(containers, service_account=sa or name, priority_class=priority)
        dep = deployment_obj(name, ns, replicas=replicas, labels=labels, pod_spec_=spec, created=created,
                             updated=rollout + dt.timedelta(minutes=2), revision=3 if created < UPGRADED else 1)
        if chart:
            helm_owned(dep, *chart)
        b.add("apps/v1", "deployments", dep)
        rs = b.add("apps/v1", "replicasets", replicaset_obj(dep, created=rollout))
        pods = []
        for k in range(replicas):
            node = on[k % len(on)]
            pname = f"{rs['metadata']['name']}-{suffix(5, 'pod', ns, name, k)}"
            started = max(rollout, REBOOTS[node] + dt.timedelta(minutes=4)) + dt.timedelta(seconds=11 * k)
            if node in DRAINED:  # evicted by the drain, the replacement runs on another node
                alt = [n for n in NODES if n not in DRAINED]
                evicted = DRAINED[node]
                node = alt[int(h("drain", ns, name, k)[:4], 16) % len(alt)]
                pname = f"{rs['metadata']['name']}-{suffix(5, 'pod', ns, name, k, 'drained')}"
                started = max(started, evicted + dt.timedelta(seconds=3 + 2 * k))
            pod = pod_obj(pname, ns, spec=spec, labels=rs["spec"]["selector"]["matchLabels"],
                          owner_ref=owner("ReplicaSet", rs["metadata"]["name"], rs["metadata"]["uid"], "apps/v1"),
                          created=started - dt.timedelta(seconds=2), started=started, node=node,
                          node_ip=NODE_IPS[node], pod_ip=ips.pod_ip(node),
                          restarts=(restarts or {}).get(k))
            pods.append(b.add("v1", "pods", pod))
            all_pods[(ns, pname)] = pod
        return dep, pods

    def add_daemonset(ns, name, containers, *, labels=None, created=None, host_network=False, sa=None,
                      restarts=None, chart=None, nodes=None):
        nodes = nodes or NODES
        labels = labels or {"app": name}
        created = created or INSTALLED + dt.timedelta(minutes=8)
        spec = pod_spec(containers, service_account=sa or name, host_network=host_network,
                        tolerations=[{"operator": "Exists"}], priority_class="system-node-critical")
        ds = daemonset_obj(name, ns, labels=labels, pod_spec_=spec, created=created, desired=len(nodes),
                           generation=2 if created < UPGRADED else 1)
        if chart:
            helm_owned(ds, *chart)
        b.add("apps/v1", "daemonsets", ds)
        pods = []
        for k, node in enumerate(nodes):
            pname = f"{name}-{suffix(5, 'dspod', ns, name, node)}"
            started = REBOOTS[node] + dt.timedelta(seconds=40 + 13 * len(all_pods) % 90)
            if DS_ROLLOUT and (chart or ns == "longhorn-system"):
                # restarted by the chart rollout, one node after the other
                started = max(started, DS_ROLLOUT + dt.timedelta(seconds=25 * k + 13 * len(all_pods) % 20))
            pod = pod_obj(pname, ns, spec=spec, labels=dict(labels, **{
                "controller-revision-hash": suffix(10, "crh", ns, name), "pod-template-generation": "2"}),
                          owner_ref=owner("DaemonSet", name, ds["metadata"]["uid"], "apps/v1"),
                          created=started - dt.timedelta(seconds=1), started=started, node=node,
                          node_ip=NODE_IPS[node],
                          pod_ip=NODE_IPS[node] if host_network else ips.pod_ip(node),
                          restarts=(restarts or {}).get(node),
                          last_restart=REBOOTS[node] + dt.timedelta(days=40, hours=3, minutes=12))
            pods.append(b.add("v1", "pods", pod))
            all_pods[(ns, pname)] = pod
        last = max(REBOOTS.values()) + dt.timedelta(minutes=2)
        if DS_ROLLOUT:
            last = max([last] + [parse_ts(p["status"]["startTime"]) + dt.timedelta(seconds=30) for p in pods])
        touch(ds, last)
        return ds, pods

    def add_service(ns, name, ip, ports, selector, pods, *, created=None, labels=None, chart=None,
                    slice_=False, annotations=None):
        created = created or INSTALLED + dt.timedelta(minutes=9)
        svc = service_obj(name, ns, cluster_ip=ip, ports=ports, selector=selector, created=created,
                          labels=labels, annotations=annotations)
        if chart:
            helm_owned(svc, *chart)
        b.add("v1", "services", svc)
        ep = b.add("v1", "endpoints", endpoints_obj(svc, pods, created=created))
        touch(ep, max(max(REBOOTS.values()), ROLLED_OUT, *[dt.datetime.strptime(
            p["status"]["startTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc) for p in pods]) +
              dt.timedelta(seconds=20))
        if slice_:
            b.add("discovery.k8s.io/v1", "endpointslices", endpointslice_obj(svc, pods, created=created))
        return svc

    harvester_chart = ("harvester", "harvester-system", f"harvester-{V['chart']}", "mcc-harvester")
    img = {
        "harvester": f"rancher/harvester:{V['harvester']}", "webhook": f"rancher/harvester-webhook:{V['harvester']}",
        "virt-api": f"registry.suse.com/suse/sles/15.6/virt-api:{KUBEVIRT}",
        "virt-controller": f"registry.suse.com/suse/sles/15.6/virt-controller:{KUBEVIRT}",
        "virt-handler": f"registry.suse.com/suse/sles/15.6/virt-handler:{KUBEVIRT}",
        "virt-operator": f"registry.suse.com/suse/sles/15.6/virt-operator:{KUBEVIRT}",
        "virt-launcher": f"registry.suse.com/suse/sles/15.6/virt-launcher:{KUBEVIRT}",
        "lh-manager": f"longhornio/longhorn-manager:{LONGHORN}", "lh-ui": f"longhornio/longhorn-ui:{LONGHORN}",
        "lh-engine": f"longhornio/longhorn-engine:{LONGHORN}",
        "lh-im": f"longhornio/longhorn-instance-manager:{LONGHORN}",
        "rancher": f"rancher/rancher:{RANCHER}", "rancher-webhook": f"rancher/rancher-webhook:{V['rancher_webhook']}",
        "fleet": f"rancher/fleet:{V['fleet']}", "fleet-agent": f"rancher/fleet-agent:{V['fleet']}",
        "sbk": f"rancher/support-bundle-kit:{V['sbk']}",
    }

    # ---- kube-system ----------------------------------------------------------------------
    wb_chart = ("harvester", "harvester-system", f"whereabouts-{V['whereabouts'].lstrip('v')}", "mcc-harvester")
    _, whereabouts = add_daemonset("kube-system", "harvester-whereabouts", [container(
        "whereabouts", f"rancher/harvester-whereabouts:{V['whereabouts']}",
        args=["-c", "SLEEP=false /install-cni.sh && /ip-control-loop"],
        requests={"cpu": "100m", "memory": "100Mi"})], labels={"app": "whereabouts"}, host_network=True,
        sa="harvester-whereabouts", chart=wb_chart)
    _, canal = add_daemonset("kube-system", "rke2-canal", [
        container("calico-node", f"rancher/hardened-calico:{V['calico']}",
                  requests={"cpu": "250m"}),
        container("kube-flannel", f"rancher/hardened-flannel:{V['flannel']}",
                  args=["--ip-masq", "--kube-subnet-mgr", "--iface=mgmt-br"])],
        labels={"k8s-app": "canal"}, host_network=True, sa="canal")
    add_daemonset("kube-system", "rke2-multus", [container(
        "kube-rke2-multus", f"rancher/hardened-multus-cni:{V['multus']}",
        args=["--multus-conf-file=auto", "--multus-kubeconfig-file-host=/etc/cni/net.d/multus.d/multus.kubeconfig"])],
        labels={"app": "rke2-multus"}, host_network=True, sa="multus")
    add_daemonset("kube-system", "kube-vip", [container(
        "kube-vip", "ghcr.io/kube-vip/kube-vip-iptables:v0.8.1", args=["manager"],
        env=[("cp_enable", "false"), ("enable_service_security", "true"), ("lb_enable", "true"),
             ("svc_enable", "true"), ("vip_interface", "mgmt-br"), ("vip_leaderelection", "true")])],
        labels={"app.kubernetes.io/name": "kube-vip"}, host_network=True, sa="kube-vip", chart=harvester_chart,
        nodes=[n for n in NODES if is_control_plane(n)])
    dns_dep, dns_pods = add_deployment("kube-system", "rke2-coredns-rke2-coredns", 2, [container(
        "coredns", f"rancher/hardened-coredns:{V['coredns']}", args=["-conf", "/etc/coredns/Corefile"],
        ports=[("dns", 53), ("dns-tcp", 53), ("metrics", 9153)], requests={"cpu": "100m", "memory": "128Mi"})],
        on=NODES[1:], labels={"app.kubernetes.io/instance": "rke2-coredns", "app.kubernetes.io/name":
                              "rke2-coredns", "k8s-app": "kube-dns"}, sa="coredns", priority="system-cluster-critical")
    ms_dep, ms_pods = add_deployment("kube-system", "rke2-metrics-server", 1, [container(
        "metrics-server", f"rancher/hardened-k8s-metrics-server:{V['metrics_server']}",
        args=["--secure-port=10250", "--kubelet-preferred-address-types=InternalIP"], ports=[("https", 10250)])],
        on=[NODES[0]], labels={"app": "rke2-metrics-server", "release": "rke2-metrics-server"},
        sa="rke2-metrics-server", priority="system-cluster-critical")
    add_service("kube-system", "rke2-coredns-rke2-coredns", "10.53.0.10",
                [("udp-53", 53, 53), ("tcp-53", 53, 53)], dns_dep["spec"]["selector"]["matchLabels"], dns_pods,
                labels={"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"})
    add_service("kube-system", "rke2-metrics-server", "10.53.17.241", [("https", 443, "https")],
                ms_dep["spec"]["selector"]["matchLabels"], ms_pods)
    # static control-plane pods (mirror pods owned by the Node)
    for n in [n for n in NODES if is_control_plane(n)]:
        for comp, image, cmd in (
                ("etcd", f"rancher/hardened-etcd:{V['etcd_build']}", ["etcd", "--config-file=/var/lib/rancher/rke2/server/db/etcd/config"]),
                ("kube-apiserver", f"rancher/hardened-kubernetes:{V['k8s_build']}",
                 ["kube-apiserver", "--advertise-address=" + NODE_IPS[n], "--service-cluster-ip-range=10.53.0.0/16"])):
            spec = pod_spec([container(comp, image, args=cmd[1:])], priority_class="system-cluster-critical")
            spec["containers"][0]["command"] = cmd[:1]
            spec["hostNetwork"] = True
            pname = f"{comp}-{n}"
            started = REBOOTS[n] + dt.timedelta(seconds=35)
            restarts = {comp: 1} if (comp == "etcd" and n == NODES[0]) else None
            pod = pod_obj(pname, "kube-system", spec=spec, labels={"component": comp, "tier": "control-plane"},
                          owner_ref={"apiVersion": "v1", "kind": "Node", "name": n,
                                     "uid": nodes[n]["metadata"]["uid"], "controller": True},
                          created=started, started=started, node=n, node_ip=NODE_IPS[n], pod_ip=NODE_IPS[n],
                          restarts=restarts, last_restart=REBOOTS[n] + dt.timedelta(minutes=3),
                          annotations={"kubernetes.io/config.hash": h("cfg", comp, n)[:32],
                                       "kubernetes.io/config.mirror": h("cfg", comp, n)[:32],
                                       "kubernetes.io/config.seen": ts(started) .replace("Z", ".472117912Z"),
                                       "kubernetes.io/config.source": "file"}, qos="Burstable")
            b.add("v1", "pods", pod)
            all_pods[("kube-system", pname)] = pod
    kv_cm = configmap_obj("kube-vip", "kube-system", {"cidr-global": f"{VIP}/32"}, created=INSTALLED +
                          dt.timedelta(minutes=14))
    kv_cm["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(
        {"apiVersion": "v1", "data": {"cidr-global": f"{VIP}/32"}, "kind": "ConfigMap",
         "metadata": {"annotations": {}, "creationTimestamp": None, "name": "kube-vip",
                      "namespace": "kube-system"}}, separators=(",", ":")) + "\n"}
    b.add("v1", "configmaps", kv_cm)

    # ---- harvester-system -----------------------------------------------------------------
    hv_dep, hv_pods = add_deployment("harvester-system", "harvester", 3, [container(
        "apiserver", img["harvester"], ports=[("https", 8443), ("profile", 6060)],
        env=[("HARVESTER_SERVER_HTTPS_PORT", "8443"), ("HARVESTER_DEBUG", "false"),
             ("HARVESTER_SERVER_HTTP_PORT", "0"), ("HCI_MODE", "true"), ("RANCHER_EMBEDDED", "true"),
             ("NAMESPACE", "harvester-system")],
        requests={"cpu": "250m", "memory": "256Mi"})], on=NODES,
        labels={"app.kubernetes.io/component": "apiserver", "app.kubernetes.io/name": "harvester"},
        chart=harvester_chart)
    wh_dep, wh_pods = add_deployment("harvester-system", "harvester-webhook", 3, [container(
        "harvester-webhook", img["webhook"], ports=[("https", 9443)], env=[("HARVESTER_WEBHOOK_SERVER_HTTPS_PORT",
                                                                            "9443"), ("NAMESPACE", "harvester-system")],
        probe_port=9443)], on=NODES[1:] + NODES[:1],
        labels={"app.kubernetes.io/component": "webhook-server", "app.kubernetes.io/name": "harvester"},
        chart=harvester_chart)
    lb_dep, lb_pods = add_deployment("harvester-system", "harvester-load-balancer", 1, [container(
        "harvester-load-balancer", f"rancher/harvester-load-balancer:{V['lb']}")], on=NODES[2:],
        labels={"app.kubernetes.io/instance": "harvester", "app.kubernetes.io/name": "harvester-load-balancer"},
        chart=("harvester", "harvester-system", f"harvester-load-balancer-{V['lb'].lstrip('v')}", "mcc-harvester"))
    va_dep, va_pods = add_deployment("harvester-system", "virt-api", 2, [container(
        "virt-api", img["virt-api"], ports=[("virt-api", 8443)], probe_port=8443)], on=NODES[:2],
        labels={"kubevirt.io": "virt-api"}, sa="kubevirt-apiserver")
    add_deployment("harvester-system", "virt-controller", 2, [container(
        "virt-controller", img["virt-controller"], probe_port=8443)], on=NODES[1:],
        labels={"kubevirt.io": "virt-controller"}, sa="kubevirt-controller")
    add_deployment("harvester-system", "virt-operator", 1, [container(
        "virt-operator", img["virt-operator"], probe_port=8443)], on=NODES[2:],
        labels={"kubevirt.io": "virt-operator"}, sa="kubevirt-operator", chart=(
            "harvester", "harvester-system", f"kubevirt-operator-{V['kubevirt_tag'].lstrip('v')}", "mcc-harvester"))
    _, vh_pods = add_daemonset("harvester-system", "virt-handler", [container(
        "virt-handler", img["virt-handler"], probe_port=8443)], labels={"kubevirt.io": "virt-handler"},
        sa="kubevirt-handler", restarts={NODES[2]: {"virt-handler": 1}})
    _, nc_pods = add_daemonset("harvester-system", "harvester-network-controller", [container(
        "harvester-network", f"rancher/harvester-network-controller:{V['network']}")],
        labels={"app.kubernetes.io/component": "agent", "app.kubernetes.io/name": "harvester-network-controller"},
        host_network=True, chart=("harvester", "harvester-system",
                                  f"harvester-network-controller-{V['network'].lstrip('v')}", "mcc-harvester"))
    _, nd_pods = add_daemonset("harvester-system", "harvester-node-disk-manager", [container(
        "harvester-node-disk-manager", f"rancher/harvester-node-disk-manager:{V['ndm']}")],
        labels={"app.kubernetes.io/name": "harvester-node-disk-manager"},
        chart=("harvester", "harvester-system", f"harvester-node-disk-manager-{V['ndm'].lstrip('v')}",
               "mcc-harvester"))
    sb_created = CAPTURE - dt.timedelta(seconds=14)
    sb_dep, sb_pods = add_deployment("harvester-system", f"supportbundle-manager-{BUNDLE_NAME}", 1, [container(
        "manager", img["sbk"], args=["/usr/bin/support-bundle-kit", "manager"],
        env=[("SUPPORT_BUNDLE_TARGET_NAMESPACES", ",".join(COLLECTED_NAMESPACES[3:])),
             ("SUPPORT_BUNDLE_NAME", BUNDLE_NAME), ("SUPPORT_BUNDLE_DEBUG", "true"),
             ("SUPPORT_BUNDLE_MANAGER_POD_IP", ""), ("SUPPORT_BUNDLE_IMAGE", img["sbk"]),
             ("SUPPORT_BUNDLE_IMAGE_PULL_POLICY", "IfNotPresent"), ("SUPPORT_BUNDLE_NODE_SELECTOR",
                                                                    "harvesterhci.io/managed=true"),
             ("SUPPORT_BUNDLE_EXCLUDE_RESOURCES", "settings.harvesterhci.io,authconfigs.management.cattle.io,"
                                                  "authtokens.management.cattle.io,samltokens.management.cattle.io,"
                                                  "tokens.management.cattle.io,users.management.cattle.io"),
             ("SUPPORT_BUNDLE_EXTRA_COLLECTORS", "harvester"), ("SUPPORT_BUNDLE_ISSUE_URL", ""),
             ("SUPPORT_BUNDLE_DESCRIPTION", b.issue_description), ("SUPPORT_BUNDLE_NODE_TIMEOUT", "30m")],
        ports=[("http", 8080)])], on=NODES[:1], labels={"app": "support-bundle-manager",
                                                        "rancher/supportbundle": BUNDLE_NAME},
        created=sb_created, rollout=sb_created, sa="harvester")
    hv_sel = hv_dep["spec"]["selector"]["matchLabels"]
    add_service("harvester-system", "harvester", "10.53.104.17", [("https", 8443, 8443)], hv_sel, hv_pods,
                chart=harvester_chart)
    add_service("harvester-system", "harvester-webhook", "10.53.211.88", [("https", 443, 9443)],
                         wh_dep["spec"]["selector"]["matchLabels"], wh_pods, chart=harvester_chart, slice_=True)
    add_service("harvester-system", "virt-api", "10.53.45.112", [("", 443, 8443)],
                va_dep["spec"]["selector"]["matchLabels"], va_pods, labels={"kubevirt.io": "virt-api"})
    add_service("harvester-system", "harvester-load-balancer-webhook", "10.53.90.5", [("https", 443, 8443)],
                lb_dep["spec"]["selector"]["matchLabels"], lb_pods)

    # ---- longhorn-system ------------------------------------------------------------------
    lh_chart = ("harvester", "harvester-system", f"longhorn-{V['longhorn'].lstrip('v')}", "mcc-harvester")
    lhm_ds, lhm_pods = add_daemonset("longhorn-system", "longhorn-manager", [container(
        "longhorn-manager", img["lh-manager"], args=["longhorn-manager", "-d", "daemon", "--engine-image",
                                                     img["lh-engine"], "--instance-manager-image", img["lh-im"],
                                                     "--service-account", "longhorn-service-account"],
        ports=[("manager", 9500), ("conversion-wh", 9501), ("admission-wh", 9502), ("recov-backend", 9503)],
        probe_port=9501)], labels={"app": "longhorn-manager"}, sa="longhorn-service-account", chart=lh_chart)
    ei = V["engine_image"]
    _, ei_pods = add_daemonset("longhorn-system", f"engine-image-{ei}", [container(
        f"engine-image-{ei}", img["lh-engine"])], labels={"longhorn.io/component": "engine-image",
                                                         "longhorn.io/engine-image": ei},
        sa="longhorn-service-account")
    lhui_dep, lhui_pods = add_deployment("longhorn-system", "longhorn-ui", 1, [container(
        "longhorn-ui", img["lh-ui"], ports=[("http", 8000)])], on=NODES[1:2], labels={"app": "longhorn-ui"},
        sa="longhorn-ui-service-account", chart=lh_chart)
    lhdd_dep, _ = add_deployment("longhorn-system", "longhorn-driver-deployer", 1, [container(
        "longhorn-driver-deployer", img["lh-manager"])], on=NODES[2:], labels={"app": "longhorn-driver-deployer"},
        sa="longhorn-service-account", chart=lh_chart)
    add_service("longhorn-system", "longhorn-backend", "10.53.88.201", [("manager", 9500, "manager")],
                {"app": "longhorn-manager"}, lhm_pods, labels={"app": "longhorn-manager"}, chart=lh_chart)
    add_service("longhorn-system", "longhorn-frontend", "10.53.150.74", [("http", 80, "http")],
                {"app": "longhorn-ui"}, lhui_pods, labels={"app": "longhorn-ui"}, chart=lh_chart)
    im_names = {n: f"instance-manager-{h('im', n)[:32]}" for n in NODES}
    for n in NODES:
        im = {"metadata": meta(im_names[n], "longhorn-system", created=REBOOTS[n] + dt.timedelta(minutes=2),
                               generation=1, labels={"longhorn.io/component": "instance-manager",
                                                     "longhorn.io/data-engine": "v1",
                                                     "longhorn.io/instance-manager-image": V["im_image"],
                                                     "longhorn.io/instance-manager-type": "aio",
                                                     "longhorn.io/managed-by": "longhorn-manager",
                                                     "longhorn.io/node": n},
                               owners=[owner("Node", n, uid("lhnode", n), "longhorn.io/v1beta2")]),
              "spec": {"dataEngine": "v1", "image": img["lh-im"], "nodeID": n, "type": "aio"},
              "status": {"apiMinVersion": 1, "apiVersion": 5, "currentState": "running",
                         "dataEngineSpecApiVersion": "", "instanceEngines": {}, "instanceReplicas": {},
                         "ip": f"10.52.{node_index(n)}.{40 + node_index(n)}", "ownerID": n,
                         "proxyApiMinVersion": 1, "proxyApiVersion": 1}}
        b.add("longhorn.io/v1beta2", "instancemanagers", touch(im, CAPTURE - dt.timedelta(minutes=35)))
        started = REBOOTS[n] + dt.timedelta(minutes=2, seconds=20)
        if DS_ROLLOUT:
            started = max(started, DS_ROLLOUT + dt.timedelta(minutes=3, seconds=40 * node_index(n)))
        spec = pod_spec([container("instance-manager", img["lh-im"], args=[
            "instance-manager", "--debug", "daemon", "--listen", "0.0.0.0:8500"])],
            service_account="longhorn-service-account")
        pod = pod_obj(im_names[n], "longhorn-system", spec=spec,
                      labels=im["metadata"]["labels"], owner_ref=owner("InstanceManager", im_names[n],
                                                                       im["metadata"]["uid"], "longhorn.io/v1beta2"),
                      created=started, started=started, node=n, node_ip=NODE_IPS[n],
                      pod_ip=im["status"]["ip"], qos="Burstable")
        b.add("v1", "pods", pod)
        all_pods[("longhorn-system", im_names[n])] = pod
    disk_uuids = {n: uid("diskuuid", n) for n in NODES}
    for n in NODES:
        b.add("longhorn.io/v1beta2", "nodes", lh_node(n, created=INSTALLED + dt.timedelta(minutes=15 + 27 *
                                                                                              node_index(n)),
                                                      disk_uuid=disk_uuids[n], scheduled_bytes=53687091200))
        lhn = b.get("longhorn.io/v1beta2", "nodes", n, "longhorn-system")
        lhn["metadata"]["uid"] = uid("lhnode", n)
    for name, value in (("default-replica-count", "3"), ("storage-over-provisioning-percentage", "200"),
                        ("storage-minimal-available-percentage", "25"), ("auto-salvage", "true"),
                        ("replica-replenishment-wait-interval", "600"), ("backup-target", ""),
                        ("concurrent-replica-rebuild-per-node-limit", "5"),
                        ("node-down-pod-deletion-policy", "delete-both-statefulset-and-deployment-pod"),
                        ("taint-toleration", "kubevirt.io/drain:NoSchedule"),
                        ("current-longhorn-version", LONGHORN)):
        b.add("longhorn.io/v1beta2", "settings", lh_setting(name, value, created=INSTALLED + dt.timedelta(minutes=16)))
    for n in NODES:
        bd_name = h("blockdevice", n)[:32]
        b.add("harvesterhci.io/v1beta1", "blockdevices", {
            "metadata": meta(bd_name, "longhorn-system", created=INSTALLED + dt.timedelta(minutes=20),
                             labels={"kubernetes.io/hostname": n, "ndm.harvesterhci.io/device-type": "disk"},
                             generation=1),
            "spec": {"devPath": "/dev/sdb", "fileSystem": {"forceFormatted": False, "mountPoint": "",
                                                             "provisioned": False},
                     "nodeName": n},
            "status": {"deviceStatus": {"capacity": {"physicalBlockSizeBytes": 512, "sizeBytes": 1099511627776},
                                        "details": {"busPath": "pci-0000:00:10.0-scsi-0:0:1:0",
                                                    "deviceType": "disk", "driveType": "HDD",
                                                    "model": "Virtual_disk", "serialNumber": h("serial", n)[:16],
                                                    "storageController": "SCSI", "vendor": "VMware",
                                                    "wwn": "0x" + h("wwn", n)[:16]},
                                        "devPath": "/dev/sdb", "fileSystem": {"mountPoint": "", "type": ""},
                                        "partitioned": False},
                       "provisionPhase": "Unprovisioned", "state": "Active", "tags": []}})

    # ---- cattle-system, fleet, capi --------------------------------------------------------
    r_dep, r_pods = add_deployment("cattle-system", "rancher", 1, [container(
        "rancher", img["rancher"], args=["--no-cacerts", "--http-listen-port=80", "--https-listen-port=443",
                                         "--add-local=true"], ports=[("http", 80)],
        env=[("CATTLE_NAMESPACE", "cattle-system"), ("CATTLE_PEER_SERVICE", "rancher"),
             ("CATTLE_BOOTSTRAP_PASSWORD", ""), ("IMPERATIVE_API_DIRECT", "true")])],
        on=NODES[:1], labels={"app": "rancher"}, created=INSTALLED + dt.timedelta(minutes=6))
    rw_dep, rw_pods = add_deployment("cattle-system", "rancher-webhook", 1, [container(
        "rancher-webhook", img["rancher-webhook"], ports=[("https", 9443)])], on=NODES[1:2],
        labels={"app": "rancher-webhook"}, created=INSTALLED + dt.timedelta(minutes=8))
    add_deployment("cattle-system", "system-upgrade-controller", 1, [container(
        "system-upgrade-controller", f"rancher/system-upgrade-controller:{V['suc']}")], on=NODES[2:],
        labels={"upgrade.cattle.io/controller": "system-upgrade-controller"},
        created=INSTALLED + dt.timedelta(minutes=8))
    add_service("cattle-system", "rancher", "10.53.31.2", [("http", 80, 80), ("https-internal", 443, 444)],
                        {"app": "rancher"}, r_pods, labels={"app": "rancher"},
                        created=INSTALLED + dt.timedelta(minutes=6))
    add_service("cattle-system", "rancher-webhook", "10.53.77.140", [("https", 443, 9443)],
                {"app": "rancher-webhook"}, rw_pods, created=INSTALLED + dt.timedelta(minutes=8))
    b.add("networking.k8s.io/v1", "ingresses", {
        "metadata": meta("rancher", "cattle-system", created=INSTALLED + dt.timedelta(minutes=6), generation=1,
                         labels={"app": "rancher"},
                         annotations={"nginx.ingress.kubernetes.io/proxy-connect-timeout": "30",
                                      "nginx.ingress.kubernetes.io/proxy-read-timeout": "1800",
                                      "nginx.ingress.kubernetes.io/proxy-send-timeout": "1800"}),
        "spec": {"ingressClassName": "nginx", "rules": [{"http": {"paths": [{"path": "/", "pathType":
                                                                             "ImplementationSpecific",
                                                                             "backend": {"service": {"name": "rancher",
                                                                                                     "port": {"number": 80}}}}]}}]},
        "status": {"loadBalancer": {"ingress": [{"ip": NODE_IPS[n]} for n in NODES]}}})
    fc_dep, _ = add_deployment("cattle-fleet-system", "fleet-controller", 1, [
        container("fleet-controller", img["fleet"], args=["fleetcontroller"]),
        container("fleet-cleanup", img["fleet"], args=["fleetcontroller", "cleanup"]),
        container("fleet-agentmanagement", img["fleet"], args=["fleetcontroller", "agentmanagement"])],
        on=NODES[1:2], labels={"app": "fleet-controller"}, created=INSTALLED + dt.timedelta(minutes=7))
    add_deployment("cattle-fleet-system", "gitjob", 1, [container("gitjob", img["fleet"], args=["fleet", "gitjob"])],
                   on=NODES[2:], labels={"app": "gitjob"}, created=INSTALLED + dt.timedelta(minutes=7))
    add_deployment("cattle-provisioning-capi-system", "capi-controller-manager", 1, [container(
        "manager", f"rancher/mirrored-cluster-api-controller:{V['capi']}", args=["--leader-elect"])], on=NODES[:1],
        labels={"cluster.x-k8s.io/provider": "cluster-api"}, created=INSTALLED + dt.timedelta(minutes=7))
    fa_spec = pod_spec([container("fleet-agent", img["fleet-agent"], args=["fleetagent"],
                                  env=[("NAMESPACE", "cattle-fleet-local-system"), ("AGENT_SCOPE", ""),
                                       ("CHECKIN_INTERVAL", "15m0s"), ("GENERATION", "bundle")])],
                       service_account="fleet-agent")
    fa_start = REBOOTS[NODES[2]] + dt.timedelta(minutes=6)
    fa_created = UPGRADED + dt.timedelta(minutes=48)
    if DS_ROLLOUT:  # the Rancher upgrade redeployed the agent (a new object, see patch_fleet_cluster)
        fa_start = max(fa_start, DS_ROLLOUT - dt.timedelta(minutes=11, seconds=40))
        fa_created = fa_start - dt.timedelta(seconds=3)
    if V["fleet_agent_kind"] == "Deployment":  # Fleet >= v0.12 runs the agent as a Deployment
        fa_sts, (fa_pod,) = add_deployment("cattle-fleet-local-system", "fleet-agent", 1, fa_spec["containers"],
                                           on=NODES[2:3], labels={"app": "fleet-agent"}, created=fa_created,
                                           rollout=fa_start, sa="fleet-agent")
        helm_owned(fa_sts, "fleet-agent-local", "cattle-fleet-local-system",
                   f"fleet-agent-local-{V['fleet'].lstrip('v')}", "fleet-agent-local")
        fa_kind = "Deployment"
    else:
        fa_sts = statefulset_obj("fleet-agent", "cattle-fleet-local-system", labels={"app": "fleet-agent"},
                                 pod_spec_=fa_spec, created=fa_created)
        helm_owned(fa_sts, "fleet-agent-local", "cattle-fleet-local-system",
                   f"fleet-agent-local-{V['fleet'].lstrip('v')}", "fleet-agent-local")
        b.add("apps/v1", "statefulsets", fa_sts)
        fa_node = NODES[2]
        if fa_node in DRAINED:  # evicted by the drain; the StatefulSet recreated it elsewhere
            fa_start = max(fa_start, DRAINED[fa_node] + dt.timedelta(seconds=9))
            fa_node = [n for n in NODES if n not in DRAINED][-1]
        fa_pod = b.add("v1", "pods", pod_obj(
            "fleet-agent-0", "cattle-fleet-local-system", spec=fa_spec,
            labels={"app": "fleet-agent", "apps.kubernetes.io/pod-index": "0",
                    "controller-revision-hash": fa_sts["status"]["currentRevision"],
                    "statefulset.kubernetes.io/pod-name": "fleet-agent-0"},
            owner_ref=owner("StatefulSet", "fleet-agent", fa_sts["metadata"]["uid"], "apps/v1"),
            created=fa_start, started=fa_start, node=fa_node, node_ip=NODE_IPS[fa_node],
            pod_ip=ips.pod_ip(fa_node)))
        all_pods[("cattle-fleet-local-system", "fleet-agent-0")] = fa_pod
        fa_kind = "StatefulSet"

    # ---- webhooks, CRDs, storage classes, settings ----------------------------------------
    b.add("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", {
        "metadata": meta("harvester-validator", created=INSTALLED + dt.timedelta(minutes=11), generation=4),
        "webhooks": [webhook_entry("validator.harvesterhci.io", service_ns="harvester-system",
                                   service_name="harvester-webhook", path="/v1/webhook/validation",
                                   rules=[rule(["harvesterhci.io"], ["v1beta1"],
                                               ["keypairs", "settings", "upgrades", "versions",
                                                "virtualmachineimages", "virtualmachinebackups"],
                                               ("CREATE", "UPDATE", "DELETE"), "Namespaced"),
                                          rule([""], ["v1"], ["persistentvolumeclaims", "nodes"],
                                               ("CREATE", "UPDATE", "DELETE")),
                                          rule(["kubevirt.io"], ["v1"], ["virtualmachines"],
                                               ("CREATE", "UPDATE", "DELETE"), "Namespaced")],
                                   timeout=10)]})
    b.add("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", {
        "metadata": meta("virt-api-validator", created=INSTALLED + dt.timedelta(minutes=13), generation=3,
                         labels={"app.kubernetes.io/component": "kubevirt", "kubevirt.io": "virt-api-validator"},
                         annotations={"kubevirt.io/install-strategy-identifier": h("kvis")[:40],
                                      "kubevirt.io/install-strategy-version": V["kubevirt_tag"]}),
        "webhooks": [webhook_entry("virtualmachine-validator.kubevirt.io", service_ns="harvester-system",
                                   service_name="virt-api", path="/virtualmachines-validate",
                                   rules=[rule(["kubevirt.io"], ["v1alpha3", "v1"], ["virtualmachines"])]),
                     webhook_entry("virtualmachineinstances-create-validator.kubevirt.io",
                                   service_ns="harvester-system", service_name="virt-api",
                                   path="/virtualmachineinstances-validate-create",
                                   rules=[rule(["kubevirt.io"], ["v1alpha3", "v1"], ["virtualmachineinstances"],
                                               ("CREATE",))])]})
    b.add("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", {
        "metadata": meta("rancher.cattle.io", created=INSTALLED + dt.timedelta(minutes=8), generation=2),
        "webhooks": [webhook_entry("rancher.cattle.io.namespaces", service_ns="cattle-system",
                                   service_name="rancher-webhook", path="/v1/webhook/validation/namespaces",
                                   rules=[rule([""], ["v1"], ["namespaces"], ("CREATE", "UPDATE"), "Cluster")],
                                   failure="Ignore"),
                     webhook_entry("rancher.cattle.io.clusters.provisioning.cattle.io", service_ns="cattle-system",
                                   service_name="rancher-webhook",
                                   path="/v1/webhook/validation/clusters.provisioning.cattle.io",
                                   rules=[rule(["provisioning.cattle.io"], ["v1"], ["clusters"],
                                               ("CREATE", "UPDATE", "DELETE"))])]})
    b.add("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", {
        "metadata": meta("harvester-mutator", created=INSTALLED + dt.timedelta(minutes=11), generation=4),
        "webhooks": [webhook_entry("mutator.harvesterhci.io", service_ns="harvester-system",
                                   service_name="harvester-webhook", path="/v1/webhook/mutation",
                                   rules=[rule([""], ["v1"], ["pods", "persistentvolumeclaims"], ("CREATE", "UPDATE")),
                                          rule(["kubevirt.io"], ["v1"], ["virtualmachines"], ("CREATE", "UPDATE"))])]})
    b.add("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", {
        "metadata": meta("virt-api-mutator", created=INSTALLED + dt.timedelta(minutes=13), generation=3,
                         labels={"app.kubernetes.io/component": "kubevirt", "kubevirt.io": "virt-api-mutator"}),
        "webhooks": [webhook_entry("virtualmachines-mutator.kubevirt.io", service_ns="harvester-system",
                                   service_name="virt-api", path="/virtualmachines-mutate",
                                   rules=[rule(["kubevirt.io"], ["v1alpha3", "v1"], ["virtualmachines"])])]})
    b.add("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", {
        "metadata": meta("rancher.cattle.io", created=INSTALLED + dt.timedelta(minutes=8), generation=2),
        "webhooks": [webhook_entry("rancher.cattle.io.secrets", service_ns="cattle-system",
                                   service_name="rancher-webhook", path="/v1/webhook/mutation/secrets",
                                   rules=[rule([""], ["v1"], ["secrets"], ("CREATE",), "Namespaced")],
                                   failure="Ignore")]})
    crd_t = INSTALLED + dt.timedelta(minutes=5)
    crds = [crd_obj("settings", "harvesterhci.io", "Setting", ["v1beta1"], created=crd_t, scope="Cluster"),
            crd_obj("versions", "harvesterhci.io", "Version", ["v1beta1"], created=crd_t),
            crd_obj("upgrades", "harvesterhci.io", "Upgrade", ["v1beta1"], created=crd_t),
            crd_obj("virtualmachineimages", "harvesterhci.io", "VirtualMachineImage", ["v1beta1"], created=crd_t,
                    short=["vmimage", "vmimages"]),
            crd_obj("supportbundles", "harvesterhci.io", "SupportBundle", ["v1beta1"], created=crd_t),
            crd_obj("volumes", "longhorn.io", "Volume", ["v1beta1", "v1beta2"], created=crd_t, short=["lhv"]),
            crd_obj("virtualmachines", "kubevirt.io", "VirtualMachine", ["v1alpha3", "v1"], created=crd_t,
                    short=["vm", "vms"]),
            crd_obj("bundles", "fleet.cattle.io", "Bundle", ["v1alpha1"], created=crd_t),
            crd_obj("managedcharts", "management.cattle.io", "ManagedChart", ["v3"], created=crd_t),
            crd_obj("prometheuses", "monitoring.coreos.com", "Prometheus", ["v1"], created=crd_t, short=["prom"]),
            crd_obj("clusterflows", "logging.banzaicloud.io", "ClusterFlow", ["v1beta1"], created=crd_t,
                    short=["lcf"])]
    for c in crds:
        b.add("apiextensions.k8s.io/v1", "customresourcedefinitions", c)
    for sc_name, params, default in (
            ("harvester-longhorn", {"migratable": "true", "numberOfReplicas": "3", "staleReplicaTimeout": "30"}, True),
            ("longhorn", {"dataEngine": "v1", "dataLocality": "disabled", "fromBackup": "", "fsType": "ext4",
                          "numberOfReplicas": "3", "staleReplicaTimeout": "30"}, False),
            ("longhorn-image-kx9pd", {"backingImage": "default-image-kx9pd", "backingImageDataSourceType": "download",
                                      "backingImageDataSourceParameters": '{"url":"https://cloud-images.ubuntu.com/'
                                                                          'jammy/current/jammy-server-cloudimg-amd64.img"}',
                                      "migratable": "true", "numberOfReplicas": "3", "staleReplicaTimeout": "30"},
             False)):
        ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else None
        if sc_name == "longhorn":  # applied by longhorn-driver-deployer from the longhorn-storageclass ConfigMap
            ann = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                {"allowVolumeExpansion": True, "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                 "metadata": {"annotations": {}, "name": "longhorn"}, "parameters": params,
                 "provisioner": "driver.longhorn.io", "reclaimPolicy": "Delete",
                 "volumeBindingMode": "Immediate"}, separators=(",", ":")) + "\n"}
        b.add("storage.k8s.io/v1", "storageclasses", {
            "metadata": meta(sc_name, created=INSTALLED + dt.timedelta(minutes=16), annotations=ann),
            "provisioner": "driver.longhorn.io", "parameters": params, "reclaimPolicy": "Delete",
            "allowVolumeExpansion": True, "volumeBindingMode": "Immediate"})
    st = INSTALLED + dt.timedelta(minutes=10)
    for name, default, value in (
            ("server-version", V["server_version"], V["server_version"]),
            ("release-download-url", "https://releases.rancher.com/harvester", None),
            ("upgrade-checker-enabled", "true", None),
            ("upgrade-checker-url", "https://harvester-upgrade-responder.rancher.io/v1/checkupgrade", None),
            ("support-bundle-image", json.dumps({"repository": "rancher/support-bundle-kit", "tag": V["sbk"],
                                                 "imagePullPolicy": "IfNotPresent"}, separators=(",", ":")), None),
            ("support-bundle-namespaces", "", None),
            ("support-bundle-timeout", "10", None),
            ("support-bundle-expiration", "30", None),
            ("support-bundle-node-collection-timeout", "30", None),
            ("overcommit-config", '{"cpu":1600,"memory":150,"storage":200}', None),
            ("backup-target", '{"type":"","endpoint":""}', None),
            ("log-level", "info", "info"),
            ("ntp-servers", "", '{"ntpServers":["0.suse.pool.ntp.org","1.suse.pool.ntp.org"]}'),
            ("default-storage-class", "longhorn", "harvester-longhorn"),
            ("storage-network", "", None),
            ("vm-force-reset-policy", '{"enable":true,"period":15}', None),
            ("auto-rotate-rke2-certs", '{"enable":false,"expiringInHours":240}', None),
            ("upgrade-config", '{"imagePreloadOption":{"strategy":{"type":"sequential"}},"restoreVM":false}', None),
            ("ui-source", "auto", None),
            ("kubeconfig-default-token-ttl-minutes", "0", None)):
        b.add("harvesterhci.io/v1beta1", "settings", harvester_setting(name, value, default, created=st))
    for name, value, default in (("server-version", RANCHER, ""), ("server-url", f"https://{VIP}", ""),
                                 ("install-uuid", uid("rancher-install"), ""),
                                 ("ui-pl", "Harvester", "rancher"),
                                 ("fleet-default-workspace-name", "fleet-default", "fleet-default"),
                                 ("rke2-default-version", "", "")):
        b.add("management.cattle.io/v3", "settings", rancher_setting(name, value, default,
                                                                        created=INSTALLED + dt.timedelta(minutes=6)))

    # ---- VMs, images, volumes ---------------------------------------------------------------
    image_name = "image-kx9pd"
    vmimage = {
        "metadata": meta(image_name, "default", created=INSTALLED + dt.timedelta(days=2, hours=3), generation=2,
                         annotations={"harvesterhci.io/storageClassName": "harvester-longhorn"},
                         labels={"harvesterhci.io/image-type": "raw_qcow2", "harvesterhci.io/os-type": "ubuntu"},
                         finalizers=["wrangler.cattle.io/vm-image-controller"],
                         managed=[managed_field("harvester", "harvesterhci.io/v1beta1",
                                                INSTALLED + dt.timedelta(days=2, hours=3), {
                                                    "f:metadata": {"f:finalizers": {
                                                        ".": {}, 'v:"wrangler.cattle.io/vm-image-controller"': {}}},
                                                    "f:status": {".": {}, "f:appliedUrl": {}, "f:progress": {},
                                                                 "f:size": {}, "f:storageClassName": {}}})]),
        "spec": {"backend": "backingimage", "checksum": "", "displayName": "ubuntu-22.04-server-cloudimg-amd64.img",
                 "pvcName": "", "pvcNamespace": "", "retry": 3, "sourceType": "download",
                 "storageClassParameters": {"migratable": "true", "numberOfReplicas": "3",
                                            "staleReplicaTimeout": "30"},
                 "targetStorageClassName": "harvester-longhorn",
                 "url": "https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img"},
        "status": {"appliedUrl": "https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img",
                   "conditions": [{"lastUpdateTime": ts(INSTALLED + dt.timedelta(days=2, hours=3, minutes=2)),
                                   "status": "True", "type": "Imported"},
                                  {"lastUpdateTime": ts(INSTALLED + dt.timedelta(days=2, hours=3)),
                                   "status": "True", "type": "Initialized"}],
                   "progress": 100, "size": 231131136, "storageClassName": "longhorn-image-kx9pd",
                   "targetStorageClassName": "harvester-longhorn", "virtualSize": 2361393152}}
    b.add("harvesterhci.io/v1beta1", "virtualmachineimages", vmimage)

    def add_vm(name, *, node, running, disk_gi, cpu, mem, created, started=None, sc=None, replica_nodes=None):
        """A VM with one disk. sc=None: the disk is cloned from image-kx9pd (backing image);
        otherwise a blank volume of that StorageClass with one replica per node of replica_nodes."""
        replica_nodes = replica_nodes or NODES[:3]
        pvc_name = f"{name}-disk-0-{suffix(5, 'pvc', name)}"
        pvc_uid = uid("default", pvc_name, "")
        pv_name = f"pvc-{pvc_uid}"
        size = f"{disk_gi}Gi"
        pvc_sc = sc or "longhorn-image-kx9pd"
        owned_by = json.dumps([{"schema": "kubevirt.io.virtualmachine", "refs": [f"default/{name}"]}],
                              separators=(",", ":"))
        pvc = pvc_obj(pvc_name, "default", volume=pv_name, size=size, created=created, sc=pvc_sc,
                      annotations={"harvesterhci.io/imageId": f"default/{image_name}",
                                   "harvesterhci.io/owned-by": owned_by} if sc is None else
                      {"harvesterhci.io/owned-by": owned_by})
        b.add("v1", "persistentvolumeclaims", pvc)
        b.add("v1", "persistentvolumes", pv_obj(pv_name, pvc=pvc, size=size, created=created,
                                                sc=pvc_sc, replicas=len(replica_nodes)))
        vm_uid = uid("vm", name)
        labels = {"harvesterhci.io/creator": "harvester", "harvesterhci.io/os": "ubuntu"}
        vm_tpl = {"metadata": {"annotations": {"harvesterhci.io/sshNames": "[]"}, "creationTimestamp": None,
                               "labels": {"harvesterhci.io/vmName": name}},
                  "spec": {"architecture": "amd64",
                           "domain": {"cpu": {"cores": cpu, "sockets": 1, "threads": 1},
                                      "devices": {"disks": [{"bootOrder": 1, "disk": {"bus": "virtio"},
                                                             "name": "disk-0"},
                                                            {"disk": {"bus": "virtio"}, "name": "cloudinitdisk"}],
                                                  "interfaces": [{"masquerade": {}, "model": "virtio",
                                                                  "name": "default"}]},
                                      "features": {"acpi": {"enabled": True}}, "machine": {"type": "q35"},
                                      "memory": {"guest": mem}, "resources": {"limits": {"cpu": str(cpu),
                                                                                         "memory": mem}}},
                           "evictionStrategy": "LiveMigrateIfPossible", "hostname": name,
                           "networks": [{"name": "default", "pod": {}}],
                           "terminationGracePeriodSeconds": 120,
                           "volumes": [{"name": "disk-0", "persistentVolumeClaim": {"claimName": pvc_name}},
                                       {"cloudInitNoCloud": {"userData": "#cloud-config\npackage_update: true\n"
                                                                         "packages:\n  - qemu-guest-agent\n"},
                                        "name": "cloudinitdisk"}]}}
        vm = {"metadata": meta(name, "default", created=created, generation=4 if running else 2, labels=labels,
                               uid_=vm_uid,
                               annotations={"harvesterhci.io/vmRunStrategy": "RerunOnFailure",
                                            "harvesterhci.io/volumeClaimTemplates": json.dumps([{
                                                "metadata": {"name": pvc_name, "annotations": {
                                                    "harvesterhci.io/imageId": f"default/{image_name}"}}
                                                if sc is None else {"name": pvc_name},
                                                "spec": {"accessModes": ["ReadWriteMany"], "resources": {
                                                    "requests": {"storage": size}}, "volumeMode": "Block",
                                                    "storageClassName": pvc_sc}}],
                                                separators=(",", ":")),
                                            "kubevirt.io/latest-observed-api-version": "v1",
                                            "kubevirt.io/storage-observed-api-version": "v1",
                                            "network.harvesterhci.io/ips": "[]"},
                               finalizers=["kubevirt.io/virtualMachineControllerFinalize",
                                           "wrangler.cattle.io/VMController.UnsetOwnerOfPVCs"]),
              "spec": {"runStrategy": "RerunOnFailure" if running else "Halted", "template": vm_tpl},
              "status": {"conditions": [], "desiredGeneration": 4 if running else 2,
                         "observedGeneration": 4 if running else 2,
                         "printableStatus": "Running" if running else "Stopped",
                         "ready": running, "created": running,
                         "volumeSnapshotStatuses": [{"enabled": True, "name": "disk-0"},
                                                    {"enabled": False, "name": "cloudinitdisk",
                                                     "reason": "Snapshot is not supported for this volumeSource "
                                                               "type [cloudinitdisk]"}]}}
        if running:
            vm["status"]["conditions"] = [
                {"lastProbeTime": None, "lastTransitionTime": ts(started + dt.timedelta(seconds=21)),
                 "status": "True", "type": "Ready"},
                {"lastProbeTime": None, "lastTransitionTime": None, "message": "All of the VMI's DVs are bound "
                 "and not running", "reason": "AllDVsReady", "status": "True", "type": "DataVolumesReady"},
                {"lastProbeTime": None, "lastTransitionTime": None, "status": "True", "type": "LiveMigratable"}]
        else:
            vm["status"].pop("ready")
            vm["status"].pop("created")
            vm["status"]["conditions"] = [
                {"lastProbeTime": ts(created + dt.timedelta(days=3)), "lastTransitionTime":
                 ts(created + dt.timedelta(days=3)), "message": "VMI does not exist", "reason": "VMINotExists",
                 "status": "False", "type": "Ready"}]
        if running:
            touch(vm, started + dt.timedelta(seconds=21))
        b.add("kubevirt.io/v1", "virtualmachines", vm)
        vol = lh_volume(pv_name, size_bytes=disk_gi * 1073741824, node=node if running else "",
                        created=created, pvc_ns="default", pvc_name=pvc_name, pv_name=pv_name,
                        state="attached" if running else "detached",
                        robustness="healthy" if running else "unknown", replicas=len(replica_nodes),
                        backing_image="default-image-kx9pd" if sc is None else "",
                        workloads=[{"podName": f"virt-launcher-{name}-{suffix(5, 'launcher', name)}",
                                    "podStatus": "Running", "workloadName": name,
                                    "workloadType": "VirtualMachineInstance"}] if running else [])
        if running:
            touch(vol, started + dt.timedelta(seconds=8))
        b.add("longhorn.io/v1beta2", "volumes", vol)
        reps = [b.add("longhorn.io/v1beta2", "replicas",
                      lh_replica(vol, n, created=created, disk_uuid=disk_uuids[n], im_name=im_names[n],
                                 running=running)) for n in replica_nodes]
        b.add("longhorn.io/v1beta2", "engines", lh_engine(vol, created=created, im_name=im_names.get(node, ""),
                                                         replicas=reps))
        if running:
            im = b.get("longhorn.io/v1beta2", "instancemanagers", im_names[node], "longhorn-system")
            im["status"]["instanceEngines"][f"{pv_name}-e-0"] = {
                "spec": {"dataEngine": "v1", "name": f"{pv_name}-e-0"},
                "status": {"endpoint": "", "errorMsg": "", "listen": "", "portEnd": 10015, "portStart": 10015,
                           "resourceVersion": 0, "state": "running", "type": "engine"}}
            for r in reps:
                rim = b.get("longhorn.io/v1beta2", "instancemanagers", r["status"]["instanceManagerName"],
                            "longhorn-system")
                rim["status"]["instanceReplicas"][r["metadata"]["name"]] = {
                    "spec": {"dataEngine": "v1", "name": r["metadata"]["name"]},
                    "status": {"endpoint": "", "errorMsg": "", "listen": "", "portEnd": r["status"]["port"] + 9,
                               "portStart": r["status"]["port"], "resourceVersion": 0, "state": "running",
                               "type": "replica"}}
            vmi_uid = uid("vmi", name)
            launcher = f"virt-launcher-{name}-{suffix(5, 'launcher', name)}"
            pod_ip = ips.pod_ip(node)
            lspec = pod_spec([container("compute", img["virt-launcher"], args=[
                "--qemu-timeout", "279s", "--name", name, "--uid", vmi_uid, "--namespace", "default",
                "--kubevirt-share-dir", "/var/run/kubevirt", "--ephemeral-disk-dir",
                "/var/run/kubevirt-ephemeral-disks", "--container-disk-dir", "/var/run/kubevirt/container-disks",
                "--grace-period-seconds", "135", "--hook-sidecars", "0", "--ovmf-path", "/usr/share/OVMF"],
                requests={"cpu": f"{cpu * 1000 // 16}m", "memory": "4403768Ki"}),
                container("guest-console-log", img["virt-launcher"], args=["--serial-socket",
                                                                           f"/var/run/kubevirt-private/{vmi_uid}/"
                                                                           "virt-serial0", "--namespace",
                                                                           "default", "--vmi", name])],
                service_account="default")
            lpod = pod_obj(launcher, "default", spec=lspec,
                           labels={"harvesterhci.io/vmName": name, "kubevirt.io": "virt-launcher",
                                   "kubevirt.io/created-by": vmi_uid, "kubevirt.io/nodeName": node,
                                   "vm.kubevirt.io/name": name},
                           owner_ref=owner("VirtualMachineInstance", name, vmi_uid, "kubevirt.io/v1"),
                           created=started, started=started + dt.timedelta(seconds=2), node=node,
                           node_ip=NODE_IPS[node], pod_ip=pod_ip, qos="Burstable",
                           annotations={"harvesterhci.io/sshNames": "[]",
                                        "kubevirt.io/domain": name,
                                        "kubevirt.io/migrationTransportUnix": "true",
                                        "post.hook.backup.velero.io/command": '["/usr/bin/virt-freezer", "--unfreeze",'
                                                                             ' "--name", "%s", "--namespace", "default"]'
                                                                             % name,
                                        "k8s.v1.cni.cncf.io/network-status": json.dumps(
                                            [{"name": "k8s-pod-network", "ips": [pod_ip], "default": True,
                                              "dns": {}}], indent=4)})
            b.add("v1", "pods", lpod)
            all_pods[("default", launcher)] = lpod
            vmi = {"metadata": meta(name, "default", created=started - dt.timedelta(seconds=1), generation=11,
                                    uid_=vmi_uid,
                                    labels={"harvesterhci.io/vmName": name, "kubevirt.io/nodeName": node},
                                    annotations={"harvesterhci.io/sshNames": "[]",
                                                 "kubevirt.io/latest-observed-api-version": "v1",
                                                 "kubevirt.io/storage-observed-api-version": "v1"},
                                    owners=[owner("VirtualMachine", name, vm_uid, "kubevirt.io/v1")],
                                    finalizers=["kubevirt.io/virtualMachineControllerFinalize",
                                                "foregroundDeleteVirtualMachine"]),
                   "spec": copy.deepcopy(vm_tpl["spec"]),
                   "status": {"activePods": {lpod["metadata"]["uid"]: node},
                              "conditions": [
                                  {"lastProbeTime": None, "lastTransitionTime": ts(started + dt.timedelta(seconds=21)),
                                   "status": "True", "type": "Ready"},
                                  {"lastProbeTime": None, "lastTransitionTime": None, "status": "True",
                                   "type": "LiveMigratable"},
                                  {"lastProbeTime": ts(started + dt.timedelta(seconds=40)), "lastTransitionTime": None,
                                   "status": "True", "type": "AgentConnected"}],
                              "currentCPUTopology": {"cores": cpu, "sockets": 1, "threads": 1},
                              "guestOSInfo": {"id": "ubuntu", "kernelRelease": "5.15.0-131-generic",
                                              "kernelVersion": "#141-Ubuntu SMP", "name": "Ubuntu",
                                              "prettyName": "Ubuntu 22.04.5 LTS", "version": "22.04",
                                              "versionId": "22.04"},
                              "interfaces": [{"infoSource": "domain, guest-agent", "interfaceName": "enp1s0",
                                              "ipAddress": pod_ip, "ipAddresses": [pod_ip],
                                              "mac": "52:54:00:" + ":".join(h("mac", name)[i:i + 2]
                                                                             for i in (0, 2, 4)),
                                              "name": "default", "queueCount": 1}],
                              "launcherContainerImageVersion": img["virt-launcher"],
                              "machine": {"type": "pc-q35-8.2"}, "migrationMethod": "BlockMigration",
                              "migrationTransport": "Unix", "nodeName": node, "phase": "Running",
                              "phaseTransitionTimestamps": [
                                  {"phase": "Pending", "phaseTransitionTimestamp": ts(started)},
                                  {"phase": "Scheduling", "phaseTransitionTimestamp": ts(started)},
                                  {"phase": "Scheduled", "phaseTransitionTimestamp": ts(started + dt.timedelta(seconds=9))},
                                  {"phase": "Running", "phaseTransitionTimestamp": ts(started + dt.timedelta(seconds=12))}],
                              "qosClass": "Burstable", "selinuxContext": "none",
                              "volumeStatus": [{"name": "cloudinitdisk", "size": 1048576, "target": "vdb"},
                                               {"name": "disk-0", "persistentVolumeClaimInfo": {
                                                   "accessModes": ["ReadWriteMany"], "capacity": {"storage": size},
                                                   "filesystemOverhead": "0", "requests": {"storage": size},
                                                   "volumeMode": "Block"}, "target": "vda"}]}}
            b.add("kubevirt.io/v1", "virtualmachineinstances", touch(vmi, started + dt.timedelta(seconds=40)))
            return vm, vmi, lpod
        return vm, None, None

    vm_start = WEB_VM_START
    vm_web, vmi_web, launcher_web = add_vm("vm-web-01", node=NODES[1], running=True, disk_gi=40, cpu=2, mem="4Gi",
                                           created=INSTALLED + dt.timedelta(days=4, hours=6), started=vm_start)
    add_vm("vm-test-01", node=NODES[2], running=False, disk_gi=10, cpu=1, mem="2Gi",
           created=INSTALLED + dt.timedelta(days=30, hours=2))
    b.add("kubevirt.io/v1", "kubevirts", {
        "metadata": meta("kubevirt", "harvester-system", created=INSTALLED + dt.timedelta(minutes=12), generation=5,
                         finalizers=["foregroundDeleteKubeVirt"]),
        "spec": {"certificateRotateStrategy": {}, "configuration": {"developerConfiguration": {
            "featureGates": ["LiveMigration", "HotplugVolumes", "HostDevices", "GPU", "CPUManager", "VMPersistentState"]}},
            "customizeComponents": {}, "imagePullPolicy": "IfNotPresent", "workloadUpdateStrategy": {}},
        "status": {"conditions": [
            {"lastProbeTime": ts(ROLLED_OUT), "lastTransitionTime": ts(ROLLED_OUT), "message":
             "All components are ready.", "reason": "AllComponentsReady", "status": "True", "type": "Available"},
            {"lastProbeTime": ts(ROLLED_OUT), "lastTransitionTime": ts(ROLLED_OUT), "message":
             "All components are ready.", "reason": "AllComponentsReady", "status": "False", "type": "Progressing"},
            {"lastProbeTime": ts(ROLLED_OUT), "lastTransitionTime": ts(ROLLED_OUT), "message":
             "All components are ready.", "reason": "AllComponentsReady", "status": "False", "type": "Degraded"}],
            "observedKubeVirtRegistry": "registry.suse.com/suse/sles/15.6",
            "observedKubeVirtVersion": KUBEVIRT, "operatorVersion": V["kubevirt_tag"], "phase": "Deployed",
            "targetKubeVirtRegistry": "registry.suse.com/suse/sles/15.6", "targetKubeVirtVersion": KUBEVIRT}})
    b.add("v1", "services", service_obj("kubernetes", "default", cluster_ip="10.53.0.1",
                                        ports=[("https", 443, 6443)], created=INSTALLED,
                                        labels={"component": "apiserver", "provider": "kubernetes"}))
    b.add("v1", "endpoints", {"metadata": meta("kubernetes", "default", created=INSTALLED,
                                               labels={"endpointslice.kubernetes.io/skip-mirror": "true"}),
                              "subsets": [{"addresses": [{"ip": NODE_IPS[n]} for n in NODES
                                                         if is_control_plane(n)],
                                           "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]})

    # ---- Harvester CRs in harvester-system -------------------------------------------------
    for k, (ver, date, minup) in enumerate(V["versions"]):
        b.add("harvesterhci.io/v1beta1", "versions", {
            "metadata": meta(ver, "harvester-system", created=ago(days=120) if k == 0 else ago(days=21, hours=4),
                             generation=1),
            "spec": {"isoChecksum": hashlib.sha512(ver.encode()).hexdigest(),
                     "isoURL": f"https://releases.rancher.com/harvester/{ver}/harvester-{ver}-amd64.iso",
                     "minUpgradableVersion": minup, "releaseDate": date, "tags": []}})
    up_name = V["past_upgrade"]
    b.add("harvesterhci.io/v1beta1", "upgrades", {
        "metadata": meta(up_name, "harvester-system", created=UPGRADED, generation=4,
                         labels={"harvesterhci.io/latestUpgrade": "true", "harvesterhci.io/upgradeState": "Succeeded",
                                 "harvesterhci.io/upgradeCleanup": "Succeeded"}),
        "spec": {"image": "", "logEnabled": False, "version": V["server_version"]},
        "status": {"conditions": [
            {"type": t, "status": "True", "lastUpdateTime": ts(UPGRADED + dt.timedelta(minutes=m))}
            for t, m in (("Completed", 157), ("ImageReady", 6), ("RepoReady", 9), ("NodesPrepared", 31),
                         ("SystemServicesUpgraded", 58), ("NodesUpgraded", 157))] +
                                 [{"type": "LogReady", "status": "False", "reason": "Disabled",
                                   "message": "Upgrade observability is administratively disabled",
                                   "lastUpdateTime": ts(UPGRADED)}],
                   "imageID": f"harvester-system/{up_name}", "previousVersion": V["previous"],
                   "nodeStatuses": {n: {"state": "Succeeded"} for n in NODES},
                   "repoInfo": repo_info(V)}})
    b.add("harvesterhci.io/v1beta1", "supportbundles", {
        "metadata": meta(BUNDLE_NAME, "harvester-system", created=CAPTURE - dt.timedelta(seconds=16), generation=1),
        "spec": {"description": b.issue_description, "issueURL": "",
                 "nodeTimeout": 0, "timeout": 0},
        "status": {"conditions": [{"type": "Initialized", "status": "True",
                                   "lastUpdateTime": ts(CAPTURE - dt.timedelta(seconds=15))}],
                   "filename": "", "filesize": 0, "progress": 20, "state": "generating"}})

    # ---- Fleet / ManagedCharts / CAPI -------------------------------------------------------
    def refs(*pairs):
        return [resource_ref(o, av, k) for o, av, k in pairs]

    get = b.get
    hv_resources = refs(
        (get("apps/v1", "deployments", "harvester", "harvester-system"), "apps/v1", "Deployment"),
        (get("apps/v1", "deployments", "harvester-webhook", "harvester-system"), "apps/v1", "Deployment"),
        (get("apps/v1", "deployments", "harvester-load-balancer", "harvester-system"), "apps/v1", "Deployment"),
        (get("apps/v1", "deployments", "virt-operator", "harvester-system"), "apps/v1", "Deployment"),
        (get("apps/v1", "daemonsets", "harvester-network-controller", "harvester-system"), "apps/v1", "DaemonSet"),
        (get("apps/v1", "daemonsets", "harvester-node-disk-manager", "harvester-system"), "apps/v1", "DaemonSet"),
        (get("apps/v1", "daemonsets", "harvester-whereabouts", "kube-system"), "apps/v1", "DaemonSet"),
        (get("apps/v1", "daemonsets", "kube-vip", "kube-system"), "apps/v1", "DaemonSet"),
        (get("apps/v1", "daemonsets", "longhorn-manager", "longhorn-system"), "apps/v1", "DaemonSet"),
        (get("apps/v1", "deployments", "longhorn-ui", "longhorn-system"), "apps/v1", "Deployment"),
        (get("apps/v1", "deployments", "longhorn-driver-deployer", "longhorn-system"), "apps/v1", "Deployment"),
        (get("v1", "services", "harvester", "harvester-system"), "v1", "Service"),
        (get("v1", "services", "harvester-webhook", "harvester-system"), "v1", "Service"),
        (get("v1", "services", "longhorn-backend", "longhorn-system"), "v1", "Service"),
        (get("v1", "services", "longhorn-frontend", "longhorn-system"), "v1", "Service"),
        (get("storage.k8s.io/v1", "storageclasses", "harvester-longhorn"), "storage.k8s.io/v1", "StorageClass"))
    crd_res = lambda group: [resource_ref(c, "apiextensions.k8s.io/v1", "CustomResourceDefinition")
                             for c in crds if c["spec"]["group"] == group]
    charts = (
        ("harvester", "harvester", V["chart"], "harvester-system", hv_resources),
        ("harvester-crd", "harvester-crd", V["chart"], "harvester-system",
         crd_res("harvesterhci.io") + crd_res("kubevirt.io") + crd_res("longhorn.io")),
        ("rancher-logging-crd", "rancher-logging-crd", V["logging_chart"], "cattle-logging-system",
         crd_res("logging.banzaicloud.io")),
        ("rancher-monitoring-crd", "rancher-monitoring-crd", V["monitoring_chart"], "cattle-monitoring-system",
         crd_res("monitoring.coreos.com")),
    )
    mc_created = INSTALLED + dt.timedelta(minutes=4)
    for mc_name, chart, version, ns, resources in charts:
        bname = f"mcc-{mc_name}"
        gen = 3 if mc_name.startswith("harvester") else 2
        bundle = fleet_bundle(bname, created=mc_created, updated=ROLLED_OUT, resources=resources, default_ns=ns,
                              release=mc_name, chart=(chart, version), generation=gen,
                              labels={"objectset.rio.cattle.io/hash": h("objectset", bname)[:40]},
                              annotations={"objectset.rio.cattle.io/applied": base64.b64encode(
                                  h("applied", bname).encode()).decode()[:60],
                                           "objectset.rio.cattle.io/id": "mcc-bundle",
                                           "objectset.rio.cattle.io/owner-gvk": "management.cattle.io/v3, "
                                                                                "Kind=ManagedChart",
                                           "objectset.rio.cattle.io/owner-name": mc_name,
                                           "objectset.rio.cattle.io/owner-namespace": "fleet-local"})
        b.add("fleet.cattle.io/v1alpha1", "bundles", bundle)
        b.add("management.cattle.io/v3", "managedcharts", managedchart_obj(
            mc_name, chart=chart, version=version, default_ns=ns, release=mc_name, bundle=bundle,
            created=mc_created))
    fa_bundle = fleet_bundle("fleet-agent-local", created=INSTALLED + dt.timedelta(minutes=7), updated=fa_start +
                             dt.timedelta(minutes=1), default_ns="cattle-fleet-local-system", generation=2,
                             resources=refs((fa_sts, "apps/v1", fa_kind)),
                             labels={"fleet.cattle.io/managed": "true"},
                             annotations={"objectset.rio.cattle.io/id": "fleet-manage-agent"})
    b.add("fleet.cattle.io/v1alpha1", "bundles", fa_bundle)
    n_bundles = len(charts) + 1
    b.add("fleet.cattle.io/v1alpha1", "clusters", {
        "metadata": meta("local", "fleet-local", created=INSTALLED + dt.timedelta(minutes=7), generation=3,
                         updated=CAPTURE - dt.timedelta(minutes=7, seconds=41),
                         labels={"management.cattle.io/cluster-display-name": "local",
                                 "management.cattle.io/cluster-name": "local", "name": "local",
                                 "objectset.rio.cattle.io/hash": h("objectset", "cluster-local")[:40],
                                 "provider.cattle.io": "harvester"},
                         annotations={"objectset.rio.cattle.io/id": "fleet-cluster",
                                      "objectset.rio.cattle.io/owner-gvk": "provisioning.cattle.io/v1, Kind=Cluster",
                                      "objectset.rio.cattle.io/owner-name": "local",
                                      "objectset.rio.cattle.io/owner-namespace": "fleet-local"}),
        "spec": {"agentAffinity": {}, "agentNamespace": "cattle-fleet-local-system",
                 "clientID": h("clientid")[:52], "kubeConfigSecret": "local-kubeconfig",
                 "kubeConfigSecretNamespace": "fleet-local", "redeployAgentGeneration": 1},
        "status": {"agent": {"lastSeen": ts(CAPTURE - dt.timedelta(minutes=7, seconds=41)),
                             "namespace": "cattle-fleet-local-system"},
                   "agentAffinityHash": "", "agentDeployedGeneration": 1, "agentMigrated": True,
                   "agentNamespaceMigrated": True, "agentTLSMode": "system-store",
                   "apiServerCAHash": h("ca")[:64], "apiServerURL": "https://10.53.0.1:443",
                   "cattleNamespaceMigrated": True,
                   "conditions": [wcond("Processed", at=INSTALLED + dt.timedelta(minutes=8)),
                                  wcond("Ready", at=ROLLED_OUT), wcond("Imported", at=INSTALLED +
                                                                       dt.timedelta(minutes=8)),
                                  wcond("Reconciled", at=INSTALLED + dt.timedelta(minutes=8))],
                   "desiredReadyGitRepos": 0, "display": {"readyBundles": f"{n_bundles}/{n_bundles}"},
                   "garbageCollectionInterval": "15m0s", "namespace": FLEET_CLUSTER_NS, "readyGitRepos": 0,
                   "resourceCounts": {"desiredReady": 0, "missing": 0, "modified": 0, "notReady": 0,
                                      "orphaned": 0, "ready": 0, "unknown": 0, "waitApplied": 0},
                   "summary": {"desiredReady": n_bundles, "ready": n_bundles}}})
    b.add("cluster.x-k8s.io/v1beta1", "clusters", {
        "metadata": meta("local", "fleet-local", created=INSTALLED + dt.timedelta(minutes=6), generation=2,
                         finalizers=["cluster.cluster.x-k8s.io"]),
        "spec": {"controlPlaneEndpoint": {"host": "localhost", "port": 6443},
                 "controlPlaneRef": {"apiVersion": "rke.cattle.io/v1", "kind": "RKEControlPlane", "name": "local",
                                     "namespace": "fleet-local"},
                 "infrastructureRef": {"apiVersion": "rke.cattle.io/v1", "kind": "RKECluster", "name": "local",
                                       "namespace": "fleet-local"}},
        "status": {"conditions": [{"lastTransitionTime": ts(REBOOTS[NODES[2]] + dt.timedelta(minutes=3)),
                                   "status": "True", "type": t}
                                  for t in ("Ready", "ControlPlaneInitialized", "ControlPlaneReady",
                                            "InfrastructureReady")],
                   "controlPlaneReady": True, "infrastructureReady": True, "observedGeneration": 2,
                   "phase": "Provisioned"}})
    for n in NODES:
        m = machines[n]
        b.add("cluster.x-k8s.io/v1beta1", "machines", {
            "metadata": meta(m, "fleet-local", created=INSTALLED + dt.timedelta(minutes=27 * node_index(n)),
                             generation=2,
                             labels={"cluster.x-k8s.io/cluster-name": "local",
                                     "cluster.x-k8s.io/control-plane": "true",
                                     "rke.cattle.io/cluster-name": "local",
                                     "rke.cattle.io/control-plane-role": "true", "rke.cattle.io/etcd-role": "true",
                                     "rke.cattle.io/worker-role": "true"} if is_control_plane(n) else
                             {"cluster.x-k8s.io/cluster-name": "local", "rke.cattle.io/cluster-name": "local",
                              "rke.cattle.io/worker-role": "true"},
                             finalizers=["machine.cluster.x-k8s.io"]),
            "spec": {"bootstrap": {"configRef": {"apiVersion": "rke.cattle.io/v1", "kind": "RKEBootstrap",
                                                 "name": m, "namespace": "fleet-local"},
                                   "dataSecretName": f"{m}-machine-bootstrap"},
                     "clusterName": "local",
                     "infrastructureRef": {"apiVersion": "rke.cattle.io/v1", "kind": "CustomMachine",
                                           "name": m, "namespace": "fleet-local"},
                     "nodeDeletionTimeout": "10s", "providerID": f"rke2://{n}"},
            "status": {"bootstrapReady": True, "infrastructureReady": True, "lastUpdated": ts(REBOOTS[n] +
                                                                                             dt.timedelta(minutes=3)),
                       "nodeInfo": nodes[n]["status"]["nodeInfo"],
                       "nodeRef": {"apiVersion": "v1", "kind": "Node", "name": n, "uid": nodes[n]["metadata"]["uid"]},
                       "observedGeneration": 2, "phase": "Running"}})
        b.add("v1", "secrets", {
            "metadata": meta(f"{m}-machine-plan", "fleet-local", created=INSTALLED + dt.timedelta(minutes=27 *
                                                                                                    node_index(n)),
                             labels={"rke.cattle.io/cluster-name": "local", "rke.cattle.io/machine-name": m},
                             annotations={"rke.cattle.io/join-url": f"https://{NODE_IPS[NODES[0]]}:9345",
                                          "rke.cattle.io/post-drain": "", "rke.cattle.io/pre-drain": ""}),
            "data": {"applied-checksum": base64.b64encode(h("plan", n).encode()).decode(),
                     "failure-count": base64.b64encode(b"0").decode(),
                     "probe-statuses": base64.b64encode(json.dumps(
                         {"kube-apiserver": {"healthy": True, "successCount": 1},
                          "kubelet": {"healthy": True, "successCount": 1}}, separators=(",", ":")).encode()).decode(),
                     "success-count": base64.b64encode(b"1").decode()},
            "type": "rke.cattle.io/machine-plan"})

    # ---- events (core v1 + events.k8s.io/v1 copies) ----------------------------------------
    sb_pod = sb_pods[0]
    sb_rs = b.get("apps/v1", "replicasets", f"supportbundle-manager-{BUNDLE_NAME}-{rs_hash('harvester-system', f'supportbundle-manager-{BUNDLE_NAME}')}", "harvester-system")

    def ref(obj, kind, api_version, field_path=None):
        r = {"kind": kind, "namespace": obj["metadata"].get("namespace"), "name": obj["metadata"]["name"],
             "uid": obj["metadata"]["uid"], "apiVersion": api_version,
             "resourceVersion": obj["metadata"]["resourceVersion"]}
        if r["namespace"] is None:
            r.pop("namespace")
        if field_path:
            r["fieldPath"] = field_path
        return r

    web_pvc = vm_web["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    web_volume = b.get("longhorn.io/v1beta2", "volumes",
                       b.get("v1", "persistentvolumeclaims", web_pvc, "default")["spec"]["volumeName"],
                       "longhorn-system")
    t0 = sb_created
    evs = [
        ("harvester-system", ref(sb_dep, "Deployment", "apps/v1"), "ScalingReplicaSet",
         f"Scaled up replica set {sb_rs['metadata']['name']} to 1", t0, "deployment-controller", None),
        ("harvester-system", ref(sb_rs, "ReplicaSet", "apps/v1"), "SuccessfulCreate",
         f"Created pod: {sb_pod['metadata']['name']}", t0, "replicaset-controller", None),
        ("harvester-system", ref(sb_pod, "Pod", "v1"), "Scheduled",
         f"Successfully assigned harvester-system/{sb_pod['metadata']['name']} to {NODES[0]}", t0,
         "default-scheduler", None),
        ("harvester-system", ref(sb_pod, "Pod", "v1", "spec.containers{manager}"), "Pulled",
         f'Container image "{img["sbk"]}" already present on machine', t0 + dt.timedelta(seconds=2), "kubelet",
         NODES[0]),
        ("harvester-system", ref(sb_pod, "Pod", "v1", "spec.containers{manager}"), "Created",
         "Created container manager", t0 + dt.timedelta(seconds=2), "kubelet", NODES[0]),
        ("harvester-system", ref(sb_pod, "Pod", "v1", "spec.containers{manager}"), "Started",
         "Started container manager", t0 + dt.timedelta(seconds=3), "kubelet", NODES[0]),
        ("default", ref(vm_web, "VirtualMachine", "kubevirt.io/v1"), "SuccessfulCreate",
         "Started the virtual machine by creating the new virtual machine instance vm-web-01", vm_start,
         "virtualmachine-controller", None),
        ("default", ref(vmi_web, "VirtualMachineInstance", "kubevirt.io/v1"), "SuccessfulCreate",
         f"Created virtual machine pod {launcher_web['metadata']['name']}", vm_start, "virtualmachine-controller",
         None),
        ("default", ref(launcher_web, "Pod", "v1"), "Scheduled",
         f"Successfully assigned default/{launcher_web['metadata']['name']} to {NODES[1]}", vm_start,
         "default-scheduler", None),
        ("default", ref(launcher_web, "Pod", "v1", "spec.containers{compute}"), "Started",
         "Started container compute", vm_start + dt.timedelta(seconds=6), "kubelet", NODES[1]),
        ("default", ref(vmi_web, "VirtualMachineInstance", "kubevirt.io/v1"), "Created",
         "VirtualMachineInstance defined.", vm_start + dt.timedelta(seconds=10), "virt-handler", NODES[1]),
        ("default", ref(vmi_web, "VirtualMachineInstance", "kubevirt.io/v1"), "Started",
         "VirtualMachineInstance started.", vm_start + dt.timedelta(seconds=12), "virt-handler", NODES[1]),
        ("longhorn-system", ref(web_volume, "Volume", "longhorn.io/v1beta2"),
         "Attached", f"volume is attached to {NODES[1]}", vm_start + dt.timedelta(seconds=5), "longhorn-volume",
         NODES[1]),
    ]
    for ns, inv, reason, msg, first, comp, host in evs:
        if first < CAPTURE - dt.timedelta(hours=1):
            continue  # the API server keeps events for 1 h (--event-ttl)
        core, new = event_pair(ns, involved=inv, reason=reason, message=msg, first=first, last=first,
                               component=comp, host=host)
        b.add("v1", "events", core)
        b.add("events.k8s.io/v1", "events", new)

    # ---- metrics ---------------------------------------------------------------------------
    for n in NODES:
        b.add("metrics.k8s.io/v1beta1", "nodes", {
            "metadata": {"name": n, "creationTimestamp": ts(CAPTURE), "labels": nodes[n]["metadata"]["labels"]},
            "timestamp": ts(CAPTURE - dt.timedelta(seconds=9)), "window": "10.071s",
            "usage": {"cpu": f"{1800000000 + int(h('cpu', n)[:6], 16) % 900000000}n",
                      "memory": f"{18000000 + int(h('mem', n)[:6], 16) % 9000000}Ki"}})
    for (ns, pname), pod in sorted(all_pods.items()):
        if ns != "harvester-system":
            continue
        b.add("metrics.k8s.io/v1beta1", "pods", {
            "metadata": {"name": pname, "namespace": ns, "creationTimestamp": ts(CAPTURE),
                         "labels": pod["metadata"]["labels"]},
            "timestamp": ts(CAPTURE - dt.timedelta(seconds=11)), "window": "11.318s",
            "containers": [{"name": c["name"], "usage": {"cpu": f"{int(h('pcpu', pname, c['name'])[:6], 16) % 50000000}n",
                                                         "memory": f"{40000 + int(h('pmem', pname)[:5], 16) % 400000}Ki"}}
                           for c in pod["spec"]["containers"]]})

    # ---- misc configmaps, PVCs of the system ---------------------------------------------
    b.add("v1", "configmaps", configmap_obj("harvester-helpers", "harvester-system", {
        "promote.sh": "#!/usr/bin/env bash\nset -e\n\nROLE=$1\necho \"Promote node to $ROLE\"\n"},
        created=INSTALLED + dt.timedelta(minutes=9)))
    b.add("v1", "configmaps", configmap_obj("longhorn-storageclass", "longhorn-system", {
        "storageclass.yaml": "kind: StorageClass\napiVersion: storage.k8s.io/v1\nmetadata:\n  name: longhorn\n"
                             "provisioner: driver.longhorn.io\nallowVolumeExpansion: true\nreclaimPolicy: Delete\n"
                             "volumeBindingMode: Immediate\nparameters:\n  numberOfReplicas: \"3\"\n"},
        created=INSTALLED + dt.timedelta(minutes=9)))
    b.add("v1", "configmaps", configmap_obj("fleet-agent", "cattle-fleet-local-system", {
        "config": json.dumps({"clientID": h("clientid")[:52], "agentTLSMode": "system-store",
                              "garbageCollectionInterval": "15m0s"})}, created=UPGRADED + dt.timedelta(minutes=48)))

    b.errors = sbk_errors(nodes_with_missing_previous=[("etcd-harvester-node-0", "etcd")])
    b.logs = base_logs(b, all_pods)
    b.helpers = {"add_deployment": add_deployment, "add_daemonset": add_daemonset, "add_service": add_service,
                 "add_vm": add_vm, "all_pods": all_pods, "img": img, "ips": ips, "harvester_chart": harvester_chart,
                 "im_names": im_names, "disk_uuids": disk_uuids, "machines": machines}
    for n in NODES:
        b.node_files[n] = node_bundle_files(n)
    return b


def sbk_errors(nodes_with_missing_previous=()):
    """bundleGenerationError.log: verbs-less resources of every collected namespace + log errors."""
    msg = "the server does not allow this method on the requested resource"
    lines = [f"Failed to get {p}: {msg}" for p in (
        "/apis/authentication.k8s.io/v1/selfsubjectreviews", "/apis/authentication.k8s.io/v1/tokenreviews",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews")]
    for ns in COLLECTED_NAMESPACES:
        lines.append(f"Failed to get /api/v1/namespaces/{ns}/bindings: {msg}")
        lines.append(f"Failed to get /apis/authorization.k8s.io/v1/namespaces/{ns}/localsubjectaccessreviews: {msg}")
    for pod, c in nodes_with_missing_previous:
        lines.append(f"BUG: Support bundle: cannot get log for pod {pod} container {c}: previous terminated "
                     f'container "{c}" in pod "{pod}" not found')
    return lines


def dep_prefix(ns, deployment):
    """Name prefix of the pods of a Deployment (<deployment>-<pod-template-hash>-)."""
    return f"{deployment}-{rs_hash(ns, deployment)}-"


def _started(pod, cname=None):
    for cs in pod["status"]["containerStatuses"]:
        if cname is None or cs["name"] == cname:
            return dt.datetime.strptime(cs["state"]["running"]["startedAt"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=dt.timezone.utc)
    raise KeyError(cname)


def web_volume_name():
    """Longhorn volume (= PV name) of vm-web-01's disk, as built by base_cluster()."""
    pvc = f"vm-web-01-disk-0-{suffix(5, 'pvc', 'vm-web-01')}"
    return f"pvc-{uid('default', pvc, '')}"


def base_logs(b: BundleModel, all_pods: dict) -> dict:
    """Pod logs for a representative subset of pods (every line: RFC 3339 nano timestamp + space).
    Each entry is (time the program wrote it, text); programs print their own timestamps."""
    logs = {}

    def pick(ns, prefix, node=None):
        for (pns, name), pod in sorted(all_pods.items()):
            if pns == ns and name.startswith(prefix) and (node is None or pod["spec"]["nodeName"] == node):
                return pod
        if node is not None and node in DRAINED:  # its pods run elsewhere now
            return pick(ns, prefix)
        raise KeyError((ns, prefix, node))

    def put(pod, cname, entries, previous=False):
        md = pod["metadata"]
        key = f"{md['namespace']}/{md['name']}/{cname}.log" + (".1" if previous else "")
        logs[key] = pod_log(entries, salt=key)

    def sec(t, s):
        return t + dt.timedelta(seconds=s)

    def frac(t, fmt="%Y-%m-%dT%H:%M:%S.%fZ"):
        return t.strftime(fmt)

    recent = CAPTURE - dt.timedelta(minutes=9, seconds=30)

    # harvester apiserver (logrus text)
    hv = pick("harvester-system", dep_prefix("harvester-system", "harvester"), NODES[0])
    c = Clock("hv")
    t = _started(hv)
    put(hv, "apiserver", [(x, logrus(m[0], x, m[1], **m[2])) for x, m in (
        (c.at(t), ("info", "Starting harvester server", {"version": HARVESTER})),
        (c.at(t), ("info", "Active TLS secret harvester-system/serving-cert (ver=48012217) (count 4): map[listener.cattle.io/cn-10.10.0.5:10.10.0.5 listener.cattle.io/cn-harvester:harvester listener.cattle.io/fingerprint:SHA1=0F4B]", {})),
        (c.at(sec(t, 1)), ("info", "Listening on :8443", {})),
        (c.at(sec(t, 2)), ("info", "Starting harvesterhci.io/v1beta1, Kind=Setting controller", {})),
        (c.at(sec(t, 2)), ("info", "Starting harvesterhci.io/v1beta1, Kind=Upgrade controller", {})),
        (c.at(sec(t, 2)), ("info", "Starting kubevirt.io/v1, Kind=VirtualMachine controller", {})),
        (c.at(recent), ("info", "Syncing settings", {"setting": "server-version"})),
        (c.at(sec(recent, 37)), ("info", "Refreshing upgrade-checker versions", {"found": V["next"]})),
        (c.at(CAPTURE - dt.timedelta(seconds=16)), ("info", f"create supportbundle harvester-system/{BUNDLE_NAME}", {})),
    )])
    # harvester-webhook
    wh = pick("harvester-system", dep_prefix("harvester-system", "harvester-webhook"), NODES[1])
    c = Clock("wh")
    t = _started(wh)
    put(wh, "harvester-webhook", [(x, logrus("info", x, m)) for x, m in (
        (c.at(t), "Starting webhook server"),
        (c.at(t), "add validation handler for [upgrades].harvesterhci.io (Upgrade)"),
        (c.at(t), "add validation handler for [virtualmachineimages].harvesterhci.io (VirtualMachineImage)"),
        (c.at(t), "add mutation handler for [pods]. (Pod)"),
        (c.at(sec(t, 1)), "Active TLS secret harvester-system/harvester-webhook-tls (ver=48012301) (count 1): map[listener.cattle.io/cn-harvester-webhook.harvester-system.svc:harvester-webhook.harvester-system.svc]"),
        (c.at(sec(t, 1)), "Listening on :9443"),
    )])
    # support bundle manager (log fetched during the cluster phase, so it ends right there)
    sb = pick("harvester-system", "supportbundle-manager-")
    c = Clock("sb")
    t = _started(sb)
    first = c.at(t)
    put(sb, "manager", [(first, "+ exec tini -- /usr/bin/support-bundle-kit manager")] + [
        (x, logrus(lvl, x, m)) for x, lvl, m in (
            (c.at(sec(t, 1)), "info", "running phase init"),
            (c.at(sec(t, 1)), "debug", f"Create a local state store. (harvester-system/{BUNDLE_NAME})"),
            (c.at(sec(t, 1)), "debug", f"Get supportbundle harvester-system/{BUNDLE_NAME} state generating"),
            (c.at(sec(t, 2)), "info", "succeed to run phase init. Progress (20)."),
            (CAPTURE + dt.timedelta(microseconds=18211), "info", "running phase cluster bundle"),
            (CAPTURE + dt.timedelta(microseconds=18420), "debug", "generating cluster bundle..."),
            (CAPTURE + dt.timedelta(microseconds=131337), "debug", f"Get supportbundle harvester-system/{BUNDLE_NAME}"))])

    # virt-handler with one restart: previous instance (.log.1) ends in a panic
    vh = pick("harvester-system", "virt-handler-", NODES[2])
    prev = vh["status"]["containerStatuses"][0]["lastState"]["terminated"]
    p_start = dt.datetime.strptime(prev["startedAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    p_end = dt.datetime.strptime(prev["finishedAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)

    def kv(component, level, x, msg, pos, **kw):
        d = {"component": component, "level": level, "msg": msg, "pos": pos, "timestamp": frac(x)}
        d.update(kw)
        return json.dumps(d, separators=(",", ":"))

    c = Clock("vh-prev")
    starting = [(c.at(p_start), "info", "set verbosity to 2", "virt-handler.go:473", {}),
                (c.at(p_start), "info", "Starting virt-handler controller.", "vm.go:1564", {})]
    crash = c.at(p_end - dt.timedelta(seconds=2))
    put(vh, "virt-handler", [(x, kv("virt-handler", lvl, x, m, pos, **kw)) for x, lvl, m, pos, kw in starting + [
        (crash, "error", "failed to get domain stats", "cmd-client.go:412",
         {"reason": "rpc error: code = Unavailable desc = connection error"})]] + [
        (crash + dt.timedelta(microseconds=900), line) for line in (
            "panic: runtime error: invalid memory address or nil pointer dereference",
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x30 pc=0x1c3a2f1]", "",
            "goroutine 4512 [running]:",
            "kubevirt.io/kubevirt/pkg/virt-handler.(*VirtualMachineController).updateDomainStats(...)")],
        previous=True)
    c = Clock("vh")
    t = _started(vh)
    put(vh, "virt-handler", [(x, kv("virt-handler", "info", x, m, pos, **kw)) for x, m, pos, kw in (
        (c.at(t), "set verbosity to 2", "virt-handler.go:473", {}),
        (c.at(t), "Starting virt-handler controller.", "vm.go:1564", {}),
        (c.at(sec(t, 1)), "certificate with common name 'kubevirt.io:system:node:virt-handler' retrieved.",
         "cert-manager.go:198", {}),
        (c.at(recent), "Processing event default/vm-test-01", "vm.go:1791",
         {"kind": "VirtualMachineInstance", "name": "vm-test-01", "namespace": "default"}))])

    # rke2-canal: a pod with two containers, two logs
    cn = pick("kube-system", "rke2-canal-", NODES[0])
    c = Clock("calico")
    t = _started(cn)
    put(cn, "calico-node", [(x, f"{x.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} {m}") for x, m in (
        (c.at(t), "[INFO][9] startup/startup.go 431: Early log level set to info"),
        (c.at(t), f"[INFO][9] startup/startup.go 760: Using autodetected IPv4 address on interface mgmt-br: "
                  f"{NODE_IPS[NODES[0]]}/24"),
        (c.at(recent), "[INFO][71] felix/summary.go 100: Summarising 12 dataplane reconciliation loops over "
                       "1m2.1s: avg=5ms longest=14ms (resync-filter-v4)"),
        (c.at(sec(recent, 62)), "[INFO][71] felix/summary.go 100: Summarising 8 dataplane reconciliation loops "
                                "over 1m2.1s: avg=4ms longest=9ms ()"))])
    c = Clock("flannel")
    put(cn, "kube-flannel", [(x, klog("I", x, 1, src, m)) for x, src, m in (
        (c.at(t), "main.go:212", "CLI flags config: {etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 "
                                 "etcdPrefix:/coreos.com/network iface:[mgmt-br] ipMasq:true "
                                 "subnetFile:/run/flannel/subnet.env}"),
        (c.at(t), "kube.go:139", "Waiting 10m0s for node controller to sync"),
        (c.at(sec(t, 1)), "main.go:412", "Current network or subnet (10.52.0.0/16, 10.52.0.0/24) is not equal to "
                                         "previous one (0.0.0.0/0, 0.0.0.0/0), trying to recycle old iptables rules"),
        (c.at(sec(t, 1)), "main.go:434", "Running backend."))])

    # etcd on node-0 (restartCount 1; its previous log could not be fetched -> error log line)
    et = pick("kube-system", "etcd-harvester-node-0")
    c = Clock("etcd")
    t = _started(et)

    def etcd(x, msg, caller, **kw):
        d = {"level": "info", "ts": frac(x), "caller": caller, "msg": msg}
        d.update(kw)
        return json.dumps(d, separators=(",", ":"))

    put(et, "etcd", [(x, etcd(x, *m[:2], **m[2])) for x, m in (
        (c.at(t), ("starting etcd", "etcdmain/etcd.go:73", {})),
        (c.at(sec(t, 2)), ("raft.node: elected leader at term 58", "raft/node.go:324",
                           {"raft-id": h("raft", NODES[1])[:16]})),
        (c.at(sec(t, 3)), ("ready to serve client requests", "embed/serve.go:103", {})),
        (c.at(recent), ("compact tree index", "mvcc/index.go:214", {"revision": 49712204})),
        (c.at(sec(recent, 1)), ("finished scheduled compaction", "mvcc/kvstore_compaction.go:66",
                                {"compact-revision": 49712204, "took": "61.044112ms"})))])
    # whereabouts
    wa = pick("kube-system", "harvester-whereabouts-", NODES[0])
    c = Clock("wa")
    t = _started(wa)
    put(wa, "whereabouts", [(x, f"{ts(x)} {m}") for x, m in (
        (c.at(t), "[debug] Filesystem watcher started"), (c.at(t), "[verbose] reconciler started"),
        (c.at(recent), "[verbose] reconciler success"),
        (c.at(sec(recent, 300)), "[verbose] reconciler success"))])
    # longhorn-manager on the node where the VM volume is attached
    lm = pick("longhorn-system", "longhorn-manager-", NODES[1])
    c = Clock("lm")
    t = _started(lm)
    vname = web_volume_name()
    att = WEB_VM_START + dt.timedelta(seconds=2)
    put(lm, "longhorn-manager", [(x, logrus("info", x, m, **kw)) for x, m, kw in (
        (c.at(t), "Starting Longhorn manager", {"version": LONGHORN}),
        (c.at(sec(t, 3)), "Starting longhorn volume controller", {"node": NODES[1]}),
        (c.at(att), f"Volume {vname} requested to be attached to {NODES[1]}",
         {"controller": "longhorn-volume", "node": NODES[1]}),
        (c.at(sec(att, 3)), f"Volume got new owner {NODES[1]}", {"volume": vname}),
        (c.at(sec(att, 6)), "Volume is attached", {"state": "attached", "volume": vname}))])
    # fleet-agent (cluster status heartbeat every 15 min)
    fa = pick("cattle-fleet-local-system", "fleet-agent-")
    c = Clock("fa")
    t = _started(fa)
    last_seen = CAPTURE - dt.timedelta(minutes=7, seconds=41)

    def cr(x, logger, msg, **kw):
        d = {"level": "info", "ts": ts(x), "logger": logger, "msg": msg}
        d.update(kw)
        return json.dumps(d, separators=(",", ":"))

    put(fa, "fleet-agent", [(x, cr(x, lg, m, **kw)) for x, lg, m, kw in (
        (c.at(t), "setup", "starting agent", {"version": V["fleet"]}),
        (c.at(sec(t, 1)), "bundledeployment", "Starting Controller", {"controller": "bundledeployment"}),
        (c.at(sec(t, 15)), "clusterstatus", "Reported cluster status", {}),
        (c.at(last_seen - dt.timedelta(minutes=15)), "clusterstatus", "Reported cluster status", {}),
        (c.at(last_seen), "clusterstatus", "Reported cluster status", {}))])
    # rancher
    ra = pick("cattle-system", dep_prefix("cattle-system", "rancher"))
    c = Clock("rancher")
    t = _started(ra)
    put(ra, "rancher", [(x, f"{x.strftime('%Y/%m/%d %H:%M:%S')} [INFO] {m}") for x, m in (
        (c.at(t), f"Rancher version {RANCHER} (c6f3f3b9a3b0b5c4a0e0f9b3e3f0b3d5c0a8d7e2) is starting"),
        (c.at(t), "Listening on /tmp/log.sock"),
        (c.at(t), "Running in single server mode, will not peer connections"),
        (c.at(recent), "[mgmt-auth-crtb-controller] Updating owner label for roleBinding crb-4xk2f"))])
    # fleet-controller: a pod with three containers
    fcp = pick("cattle-fleet-system", dep_prefix("cattle-fleet-system", "fleet-controller"))
    c = Clock("fc")
    t = _started(fcp)
    put(fcp, "fleet-controller", [(x, cr(x, lg, m, **kw)) for x, lg, m, kw in (
        (c.at(t), "setup", "starting controller", {"version": V["fleet"]}),
        (c.at(sec(t, 2)), "bundle", "Starting Controller", {"controller": "bundle"}))])
    put(fcp, "fleet-agentmanagement", [(x, logrus("info", x, "Starting fleet.cattle.io/v1alpha1, Kind=Cluster "
                                                           "controller")) for x in (c.at(t),)])
    put(fcp, "fleet-cleanup", [(x, logrus("info", x, "Starting fleet.cattle.io/v1alpha1, Kind=ClusterRegistration "
                                                   "controller")) for x in (c.at(t),)])
    # virt-launcher of vm-web-01: two containers
    vl = pick("default", "virt-launcher-vm-web-01-")
    c = Clock("vl")
    t = _started(vl, "compute")
    vmi_uid = vl["metadata"]["labels"]["kubevirt.io/created-by"]
    vmi_kw = {"kind": "", "name": "vm-web-01", "namespace": "default", "uid": vmi_uid}
    put(vl, "compute", [(x, kv("virt-launcher", "info", x, m, pos, **kw)) for x, m, pos, kw in (
        (c.at(t), "Collected all requested hook sidecar sockets", "manager.go:88", {}),
        (c.at(t), "Sorted all collected sidecar sockets per hook point based on their priority and name: map[]",
         "manager.go:91", {}),
        (c.at(sec(t, 1)), "Connecting to libvirt daemon: qemu+unix:///session?socket=/var/run/libvirt/virtqemud-sock",
         "libvirt.go:500", {}),
        (c.at(sec(t, 4)), "Domain started.", "manager.go:1116", vmi_kw),
        (c.at(sec(t, 4)), "Synced vmi", "server.go:208", vmi_kw))])
    c = Clock("console")
    t = _started(vl, "guest-console-log")
    put(vl, "guest-console-log", [(c.at(sec(t, s)), m) for s, m in (
        (5, "[    0.000000] Linux version 5.15.0-131-generic (buildd@lcy02-amd64-092) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) "
            "11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) #141-Ubuntu SMP Fri Jan 10 21:18:28 UTC 2025 (Ubuntu "
            "5.15.0-131.141-generic 5.15.173)"),
        (14, "[  OK  ] Started OpenBSD Secure Shell server."), (15, "[  OK  ] Reached target Multi-User System."),
        (16, ""), (16, "Ubuntu 22.04.5 LTS vm-web-01 ttyS0"), (16, ""), (16, "vm-web-01 login: "))])
    return logs


def node_bundle_files(node: str, release=None) -> dict:
    """Files of nodes/<node>.zip below the top folder <node>/ (SBK collector-harvester layout).
    release: the version dict of the OS the node runs (default: the release of V's server version)."""
    rv_ = release or RELEASES.get(V["server_version"], V)
    i = node_index(node)
    boot = REBOOTS[node]
    f = {}
    f["configs/etc/hostname"] = node + "\n"
    f["configs/etc/os-release"] = (
        'NAME="SLE Micro"\nVERSION="5.5"\nVERSION_ID="5.5"\n'
        f'PRETTY_NAME="{rv_["os"]}"\nID="sle-micro-rancher"\n'
        'ID_LIKE="suse"\nANSI_COLOR="0;32"\nCPE_NAME="cpe:/o:suse:sle-micro-rancher:5.5"\nVARIANT="Harvester"\n'
        f'VARIANT_ID="{rv_["os_variant"]}"\nGRUB_ENTRY_NAME="{rv_["os"]}"\n')
    f["configs/etc/harvester-release.yaml"] = (
        f"harvester: {rv_['server_version']}\nharvesterChart: {rv_['server_version'].lstrip('v')}\nos: {rv_['os']}\n"
        f"kubernetes: {rv_['rke2']}\nrancher: {rv_['rancher']}\nmonitoringChart: {rv_['monitoring_chart']}\n"
        f"loggingChart: {rv_['logging_chart_release']}\n"
        f"kubevirt: {rv_['kubevirt']}\nlonghorn: {rv_['longhorn']}\nminUpgradableVersion: '{rv_['min_upgradable']}'\n")
    note = "# Note: this file is re-formatted by support-bundle-kit collector.\n"
    server = is_control_plane(node)
    if server:
        f["configs/etc/rancher/rke2/config.yaml.d/90-harvester-server.yaml"] = (
            note + "cni: multus,canal\ncluster-cidr: 10.52.0.0/16\nservice-cidr: 10.53.0.0/16\ncluster-dns: 10.53.0.10\n"
            f"tls-san:\n  - {VIP}\ntoken: '***'\nkubelet-arg:\n  - max-pods=200\n  - image-gc-high-threshold=85\n")
    else:
        f["configs/etc/rancher/rke2/config.yaml.d/90-harvester-agent.yaml"] = (
            note + "token: '***'\nkubelet-arg:\n  - max-pods=200\n  - image-gc-high-threshold=85\n")
    f["configs/etc/rancher/rke2/config.yaml.d/50-rancher.yaml"] = (
        note + f"node-label:\n  - rke.cattle.io/machine={uid('machine', node)}\n"
        "private-registry: /etc/rancher/rke2/registries.yaml\n" +
        (f"server: https://{NODE_IPS[NODES[0]]}:9345\n" if i else "") + "agent-token: '***'\n")
    f["configs/etc/rancher/agent/config.yaml"] = (
        note + "workDirectory: /var/lib/rancher/agent/work\nlocalPlanDirectory: /var/lib/rancher/agent/plans\n"
        "appliedPlanDirectory: /var/lib/rancher/agent/applied\nremoteEnabled: true\nlocalEnabled: true\n"
        "preserveWorkDirectory: false\n")

    def jfile(salt, entries, cut=0):
        c = Clock(f"{node}/{salt}")
        text = "".join(journal(c.at(t), node, ident, pid, msg) + "\n" for t, ident, pid, msg in entries)
        return text[cut:]  # `journalctl ... | tail -c 10m` can start in the middle of a line

    def sec(s):
        return boot + dt.timedelta(seconds=s)

    rp = 2100 + 37 * i

    def rlog(t, m):
        return f'time="{ts(t)}" level=info msg="{m}"'

    if server:
        f["logs/rke2-server.log"] = jfile("rke2", [
            (sec(0), "rke2", rp, rlog(sec(0), f"Starting rke2 {rv_['rke2']} (a7f84b6c0b79f2b5f9a3b94f6a3b4c8e1e0d7f13)")),
            (sec(1), "rke2", rp, rlog(sec(1), "Managed etcd cluster bootstrap already complete and initialized")),
            (sec(25), "rke2", rp, rlog(sec(25), "Tunnel server egress proxy mode: agent")),
            (sec(40), "rke2", rp, rlog(sec(40), f"Labels and annotations have been set successfully on node: {node}")),
            (sec(41), "systemd", 1, "Started Rancher Kubernetes Engine v2 (server)."),
        ] + [(t, "rke2", rp, rlog(t, "Reconciling ETCDSnapshotFile resources"))
             for t in (CAPTURE - dt.timedelta(hours=2 - k, minutes=17) for k in range(3))], cut=23)
    else:
        f["logs/rke2-agent.log"] = jfile("rke2-agent", [
            (sec(0), "rke2", rp, rlog(sec(0), f"Starting rke2 agent {rv_['rke2']} (a7f84b6c0b79f2b5f9a3b94f6a3b4c8e1e0d7f13)")),
            (sec(1), "rke2", rp, rlog(sec(1), f"Adding server to load balancer rke2-agent-load-balancer: "
                                              f"{NODE_IPS[NODES[0]]}:9345")),
            (sec(24), "rke2", rp, rlog(sec(24), "Tunnel server egress proxy mode: agent")),
            (sec(38), "rke2", rp, rlog(sec(38), f"Labels and annotations have been set successfully on node: {node}")),
            (sec(39), "systemd", 1, "Started Rancher Kubernetes Engine v2 (agent)."),
        ], cut=17)
    vol = web_volume_name()
    attach = WEB_VM_START + dt.timedelta(seconds=6)
    f["logs/kernel.log"] = jfile("kernel", [
        (sec(0), "kernel", None, "microcode: microcode updated early to revision 0x2007006, date = 2023-03-06"),
        (sec(0), "kernel", None, f"Linux version {rv_['kernel']} (geeko@buildhost) (gcc (SUSE Linux) "
                                 "7.5.0, GNU ld (GNU Binutils; SUSE Linux Enterprise 15) 2.41.0.20230908-150100.7.46) "
                                 "#1 SMP PREEMPT_DYNAMIC Tue Oct 8 08:50:38 UTC 2024 (6e1d3d4)"),
        (sec(0), "kernel", None, "Command line: BOOT_IMAGE=(loop0)/boot/vmlinuz console=tty1 root=LABEL=COS_STATE "
                                 "cos-img/filename=/cOS/active.img panic=5 net.ifnames=1 rd.cos.oemlabel=COS_OEM "
                                 "rd.cos.mount=LABEL=COS_OEM:/oem rd.cos.mount=LABEL=COS_PERSISTENT:/usr/local "
                                 "rd.cos.oemtimeout=120 audit=1 audit_backlog_limit=8192 intel_iommu=on amd_iommu=on "
                                 "iommu=pt multipath=off"),
        (sec(9), "kernel", None, "EXT4-fs (sda5): mounted filesystem with ordered data mode. Opts: (null). "
                                 "Quota mode: none."),
        (sec(31), "kernel", None, "mgmt-br: port 1(eno1) entered forwarding state"),
    ] + ([(attach, "kernel", None, "scsi host7: iSCSI Initiator over TCP/IP"),
          (attach, "kernel", None, "sd 7:0:0:1: [sdc] 83886080 512-byte logical blocks: (42.9 GB/40.0 GiB)")]
         if i == 1 else []))
    f["logs/iscsid.log"] = jfile("iscsid", [(sec(12), "systemd", 1, "Started Open-iSCSI.")] + (
        [(attach, "iscsid", 1432, f"iscsid: Connection1:0 to [target: iqn.2019-10.io.longhorn:{vol}, portal: "
                                  f"10.52.1.41,3260] through [iface: default] is operational now")] if i == 1 else []))
    f["logs/rancher-system-agent.log"] = jfile("rsa", [
        (sec(20), "rancher-system-agent", 1777, rlog(sec(20), f"Rancher System Agent version {rv_['system_agent']} (8a7b3b1) is "
                                                              "starting")),
        (sec(21), "rancher-system-agent", 1777, rlog(sec(21), "Starting remote watch of plans"))])
    kp = 3311 + 11 * i
    c = Clock(f"{node}/kubelet")
    f["logs/kubelet.log"] = "".join(klog("I", c.at(t), kp, src, m) + "\n" for t, src, m in [
        (sec(30), "server.go:484", f'"Kubelet version" kubeletVersion="{rv_["rke2"]}"'),
        (sec(31), "kubelet_node_status.go:76", f'"Successfully registered node" node="{node}"'),
        (CAPTURE - dt.timedelta(minutes=21), "image_gc_manager.go:311", '"Image garbage collection succeeded"'),
    ] + ([(CAPTURE - dt.timedelta(seconds=15), "kubelet.go:2455",
           f'"SyncLoop ADD" source="api" pods=["harvester-system/supportbundle-manager-{BUNDLE_NAME}"]')]
         if i == 0 else []))
    c = Clock(f"{node}/containerd")
    f["logs/containerd.log"] = "".join(
        f'time="{t.strftime("%Y-%m-%dT%H:%M:%S.%f")}{int(h("cd", node, m)[:3], 16) % 1000:03d}Z" level=info msg="{m}"{extra}\n'
        for t, m, extra in [
            (c.at(sec(0)), "starting containerd", f" revision= version={rv_['containerd']}"),
            (c.at(sec(2)), "containerd successfully booted in 0.094127s", ""),
            (c.at(CAPTURE - dt.timedelta(minutes=3)),
             f'ImageCreate event name:\\"docker.io/rancher/support-bundle-kit:{V["sbk"]}\\" '
             'labels:{key:\\"io.cri-containerd.image\\" value:\\"managed\\"}', "")])
    f["logs/console.log"] = "".join(logrus("info", t, m) + "\n" for t, m in [
        (sec(50), "Harvester console started"), (sec(51), f"management URL: https://{VIP}"),
        (sec(180), "Status: Ready")])
    return f


# ===========================================================================================
# (d) scenarios
# ===========================================================================================

def scenario_healthy_v140() -> BundleModel:
    """A healthy 3-node Harvester v1.4.0 cluster: every check of sbdiag should pass."""
    return base_cluster()


# ---- shared helpers for the Fleet scenarios ------------------------------------------------

def parse_ts(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def all_pods_of(b: BundleModel):
    return [p for (ns, gv, res), lst in sorted(b.lists.items(), key=lambda kv: str(kv[0]))
            if gv == "v1" and res == "pods" for p in lst]


def find_pod(b: BundleModel, ns, prefix, node=None):
    for p in sorted(b.items("v1", "pods", ns), key=lambda p: p["metadata"]["name"]):
        if p["metadata"]["name"].startswith(prefix) and (node is None or p["spec"]["nodeName"] == node):
            return p
    raise KeyError((ns, prefix, node))


def obj_ref(obj, kind, api_version, field_path=None):
    """involvedObject / regarding reference of an event (same shape as base_cluster's)."""
    r = {"kind": kind, "namespace": obj["metadata"].get("namespace"), "name": obj["metadata"]["name"],
         "uid": obj["metadata"]["uid"], "apiVersion": api_version,
         "resourceVersion": obj["metadata"]["resourceVersion"]}
    if r["namespace"] is None:
        r.pop("namespace")
    if field_path:
        r["fieldPath"] = field_path
    return r


def add_events(b: BundleModel, specs):
    """specs: (namespace, involved ref, reason, message, first, last, count, type, component, host)."""
    for ns, inv, reason, msg, first, last, count, etype, comp, host in specs:
        core, new = event_pair(ns, involved=inv, reason=reason, message=msg, first=first, last=last, count=count,
                               etype=etype, component=comp, host=host)
        touch(core, last)
        touch(new, last)
        b.add("v1", "events", core)
        b.add("events.k8s.io/v1", "events", new)


def set_pod_ready(pod, ready: bool, at: dt.datetime, reason=None, message=None):
    """Rewrite the pod's Ready and ContainersReady conditions (status, lastTransitionTime)."""
    conds = pod["status"]["conditions"]
    for i, c in enumerate(conds):
        if c["type"] in ("Ready", "ContainersReady"):
            conds[i] = cond(c["type"], "True" if ready else "False", at=at, probe=True,
                            reason=None if ready else (reason or "ContainersNotReady"),
                            message=None if ready else message)


def crash_loop(pod, cname, *, restarts, last_start, last_finish, not_ready_since, exit_code=1):
    """A container in CrashLoopBackOff: waiting now, last run terminated with exit_code."""
    md = pod["metadata"]
    cid = container_id(md["namespace"], md["name"], cname, "run", restarts)
    for cs in pod["status"]["containerStatuses"]:
        if cs["name"] != cname:
            continue
        cs["lastState"] = {"terminated": {"exitCode": exit_code, "reason": "Error", "startedAt": ts(last_start),
                                          "finishedAt": ts(last_finish), "containerID": cid}}
        cs["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                   "message": f"back-off 5m0s restarting failed container={cname} "
                                              f"pod={md['name']}_{md['namespace']}({md['uid']})"}}
        cs["ready"] = False
        cs["restartCount"] = restarts
        cs["containerID"] = cid
        cs["started"] = False
    set_pod_ready(pod, False, not_ready_since, message=f"containers with unready status: [{cname}]")
    touch(pod, last_finish + dt.timedelta(seconds=1))


def survive_reboot(pod, *, old_boot, new_boot, down, new_start):
    """Turn a pod that base_cluster built as 'created after the node's last boot' into a pod that
    already existed before that boot and had its containers restarted by it (what a DaemonSet pod
    really looks like after a node reboot): old creation/startTime, restartCount + 1,
    lastState.terminated (exit 255, reason Unknown) at shutdown, fresh running/Ready times."""
    st = pod["status"]
    md = pod["metadata"]
    old_start = old_boot + (parse_ts(st["startTime"]) - new_boot)
    md["creationTimestamp"] = ts(old_start - dt.timedelta(seconds=1))
    st["startTime"] = ts(old_start)
    for cs in st["containerStatuses"]:
        prev_run = old_start + dt.timedelta(seconds=4)
        cs["lastState"] = {"terminated": {"exitCode": 255, "reason": "Unknown", "startedAt": ts(prev_run),
                                          "finishedAt": ts(down), "containerID": cs["containerID"]}}
        cs["state"] = {"running": {"startedAt": ts(new_start + dt.timedelta(seconds=4))}}
        cs["restartCount"] += 1
        cs["containerID"] = container_id(md["namespace"], md["name"], cs["name"], "boot", ts(new_boot))
    ready_at = new_start + dt.timedelta(seconds=15)
    for i, c in enumerate(st["conditions"]):
        at = {"PodReadyToStartContainers": new_start + dt.timedelta(seconds=3), "Initialized": old_start,
              "Ready": ready_at, "ContainersReady": ready_at,
              "PodScheduled": old_start - dt.timedelta(seconds=1)}[c["type"]]
        st["conditions"][i] = cond(c["type"], "True", at=at, probe=True)
    touch(pod, ready_at)
    return ready_at


# ---- Fleet status formats (Fleet 0.10: summary family A; reference/fleet-status.md §3.6) ----

def fleet_name(e) -> str:
    """Prefix of NonReadyStatus.String()/ModifiedStatus.String(): lower(kind).<apiVersion up to '/'> [ns/]name."""
    av = e["apiVersion"].split("/")[0]
    return f"{e['kind'].lower()}.{av} " + (f"{e['namespace']}/{e['name']}" if e.get("namespace") else e["name"])


def non_ready_string(e) -> str:
    s = e["summary"]
    tr, er = s.get("transitioning", False), s.get("error", False)
    prefix = "[progressing,error] " if tr and er else "[progressing] " if tr else "error] " if er else ""
    return f"{fleet_name(e)} {prefix}{', '.join(s.get('message', []))}"


def modified_string(e) -> str:
    if e.get("missing"):
        return f"{fleet_name(e)} missing"
    if e.get("delete"):
        return f"{fleet_name(e)} extra"
    return f"{fleet_name(e)} modified {e['patch']}"


def ready_message(state, kind, name, modified=(), non_ready=()) -> str:
    parts = ([f"{state}(1) [{kind} {name}]"] + [modified_string(m) for m in list(modified)[:4]] +
             [non_ready_string(n) for n in list(non_ready)[:4]])
    return "; ".join(sorted(parts))


def non_ready_entry(obj, api_version, kind, summary):
    e = {"uid": obj["metadata"]["uid"], "kind": kind, "apiVersion": api_version}
    if obj["metadata"].get("namespace"):
        e["namespace"] = obj["metadata"]["namespace"]
    e["name"] = obj["metadata"]["name"]
    e["summary"] = summary
    return e


def modified_entry(obj, api_version, kind, patch: dict):
    e = {"kind": kind, "apiVersion": api_version}
    if obj["metadata"].get("namespace"):
        e["namespace"] = obj["metadata"]["namespace"]
    e["name"] = obj["metadata"]["name"]
    e["patch"] = json.dumps(patch, separators=(",", ":"), sort_keys=True)  # Go marshals the map sorted
    return e


def set_fleet_claim(b: BundleModel, mc_name, *, state, at, non_ready=(), modified=()):
    """Record one Fleet verdict for bundle fleet-local/mcc-<mc_name> on cluster fleet-local/local:
    the Bundle status (fleet-controller), its copy on ManagedChart fleet-local/<mc_name> (Rancher,
    plus its own Defined condition) and the aggregate on Cluster fleet-local/local. Returns the
    Bundle and Cluster Ready messages."""
    bname = f"mcc-{mc_name}"
    entry = {"name": "fleet-local/local", "bundleState": state}
    if modified:
        entry["modifiedStatus"] = list(modified)
    if non_ready:
        entry["nonReadyStatus"] = list(non_ready)
    bmsg = ready_message(state, "Cluster", "fleet-local/local", modified, non_ready)
    bundle = b.get("fleet.cattle.io/v1alpha1", "bundles", bname, "fleet-local")
    st = bundle["status"]
    st["conditions"] = [wcond("Ready", "False", at=at, reason="Error", message=bmsg)]
    st["display"] = {"readyClusters": "0/1", "state": state}
    st["summary"] = bundle_summary(1, 0, state, [entry])
    # unavailable counts BDs not applied or not ready; a BD that is only Modified is still ready
    unavailable = 0 if state == "Modified" else 1
    st["unavailable"] = unavailable
    st["partitions"][0]["summary"] = bundle_summary(1, 0, state, [copy.deepcopy(entry)])
    st["partitions"][0]["unavailable"] = unavailable
    touch(bundle, at)
    mc = b.get("management.cattle.io/v3", "managedcharts", mc_name, "fleet-local")
    defined = [c for c in mc["status"]["conditions"] if c["type"] == "Defined"]
    mst = copy.deepcopy(st)
    for k in ("resourceKey", "resourcesSha256Sum"):
        mst.pop(k, None)
    mst["conditions"] = mst["conditions"] + defined
    mc["status"] = mst
    touch(mc, at)
    cl = b.get("fleet.cattle.io/v1alpha1", "clusters", "local", "fleet-local")
    cst = cl["status"]
    n = cst["summary"]["desiredReady"]
    centry = dict(copy.deepcopy(entry), name=bname)
    cmsg = ready_message(state, "Bundle", bname, modified, non_ready)
    cst["conditions"] = [wcond("Ready", "False", at=at, reason="Error", message=cmsg) if c["type"] == "Ready"
                         else c for c in cst["conditions"]]
    cst["summary"] = bundle_summary(n, n - 1, state, [centry])
    cst["display"] = {"readyBundles": f"{n - 1}/{n}", "state": state}
    touch(cl, max(at, parse_ts(cst["agent"]["lastSeen"])))
    return bmsg, cmsg


def set_agent_last_seen(b: BundleModel, last_seen: dt.datetime):
    cl = b.get("fleet.cattle.io/v1alpha1", "clusters", "local", "fleet-local")
    cl["status"]["agent"]["lastSeen"] = ts(last_seen)
    ready = [c for c in cl["status"]["conditions"] if c["type"] == "Ready"][0]
    touch(cl, max(last_seen, parse_ts(ready["lastUpdateTime"])))


def fleet_json(x, logger, msg, level="info", **kw):
    d = {"level": level, "ts": ts(x), "logger": logger, "msg": msg}
    d.update(kw)
    return json.dumps(d, separators=(",", ":"))


def fleet_agent_heartbeat_log(b: BundleModel, last_seen: dt.datetime):
    """fleet-agent-0 log of a healthy agent whose last check-in was last_seen (replaces base's)."""
    fa = find_pod(b, "cattle-fleet-local-system", "fleet-agent-0")
    key = f"cattle-fleet-local-system/{fa['metadata']['name']}/fleet-agent.log"
    c = Clock("fa")
    t = _started(fa)
    b.logs[key] = pod_log([(x, fleet_json(x, lg, m, **kw)) for x, lg, m, kw in (
        (c.at(t), "setup", "starting agent", {"version": "v0.10.2"}),
        (c.at(t + dt.timedelta(seconds=1)), "bundledeployment", "Starting Controller",
         {"controller": "bundledeployment"}),
        (c.at(t + dt.timedelta(seconds=15)), "clusterstatus", "Reported cluster status", {}),
        (c.at(last_seen - dt.timedelta(minutes=15)), "clusterstatus", "Reported cluster status", {}),
        (c.at(last_seen), "clusterstatus", "Reported cluster status", {}))], salt=key)


# ---- chart workloads the four Fleet scenarios add to the base cluster ------------------------

NETWORK_CHART = ("harvester", "harvester-system", "harvester-network-controller-0.5.4", "mcc-harvester")
NETWORK_WEBHOOK = "harvester-network-webhook"
NETWORK_WEBHOOK_IMAGE = "rancher/harvester-network-webhook:v0.5.4"
SNAPSHOT_WEBHOOK = "harvester-snapshot-validation-webhook"
ROTATED_CA = ("-----BEGIN CERTIFICATE-----\n"
              "MIIBeDCCAR6gAwIBAgIBADAKBggqhkjOPQQDAjAkMSIwIAYDVQQDDBloYXJ2ZXN0\n"
              "ZXItc25hcHNob3Qtd2ViaG9vazAeFw0yNTAxMDQwMzE3MjlaFw0yNjAxMDQwMzE3\n"
              "MjlaMCQxIjAgBgNVBAMMGWhhcnZlc3Rlci1zbmFwc2hvdC13ZWJob29rMFkwEwYH\n"
              "KoZIzj0CAQYIKoZIzj0DAQcDQgAEUm90YXRlZCBjZXJ0aWZpY2F0ZSBmb3Igc2Jk\n"
              "aWFnIHRlc3RzIG9ubHkgLSBub3QgYSByZWFsIGtleQ==\n"
              "-----END CERTIFICATE-----\n")


def snapshot_webhook_entry(ca_pem: str):
    e = webhook_entry("validation-webhook.snapshot.storage.k8s.io", service_ns="harvester-system",
                      service_name=SNAPSHOT_WEBHOOK, path="/volumesnapshot",
                      rules=[rule(["snapshot.storage.k8s.io"], ["v1", "v1beta1"],
                                  ["volumesnapshots", "volumesnapshotcontents"])],
                      failure="Ignore", timeout=2)
    e["clientConfig"]["caBundle"] = base64.b64encode(ca_pem.encode()).decode()
    return e


def add_chart_extras(b: BundleModel, *, network_webhook_image=NETWORK_WEBHOOK_IMAGE, network_webhook_rollout=None,
                     snapshot_ca=FAKE_CA):
    """Chart objects of Bundle mcc-harvester that base_cluster does not model: Deployment + Service
    harvester-network-webhook (harvester-network-controller subchart), and the volume-snapshot
    validation webhook (Deployment, Service, ValidatingWebhookConfiguration). All carry Fleet's and
    Helm's ownership markers and are listed in the bundle's resourceKey."""
    hp = b.helpers
    hv_chart = hp["harvester_chart"]
    nw_dep, nw_pods = hp["add_deployment"]("harvester-system", NETWORK_WEBHOOK, 1, [container(
        NETWORK_WEBHOOK, network_webhook_image, ports=[("https", 8443)], env=[("NAMESPACE", "harvester-system")],
        probe_port=8443)], on=NODES[1:2], labels={"app.kubernetes.io/component": "webhook-server",
                                                 "app.kubernetes.io/name": NETWORK_WEBHOOK},
        chart=NETWORK_CHART, rollout=network_webhook_rollout)
    nw_svc = hp["add_service"]("harvester-system", NETWORK_WEBHOOK, "10.53.66.21", [("https", 443, 8443)],
                               nw_dep["spec"]["selector"]["matchLabels"], nw_pods, chart=NETWORK_CHART)
    sn_dep, sn_pods = hp["add_deployment"]("harvester-system", SNAPSHOT_WEBHOOK, 1, [container(
        "snapshot-validation-webhook", "rancher/mirrored-sig-storage-snapshot-validation-webhook:v6.2.2",
        args=["--tls-cert-file=/etc/snapshot-validation-webhook/certs/tls.crt",
              "--tls-private-key-file=/etc/snapshot-validation-webhook/certs/tls.key", "--port=8443"],
        ports=[("https", 8443)])], on=NODES[2:3], labels={"app": SNAPSHOT_WEBHOOK}, chart=hv_chart)
    sn_svc = hp["add_service"]("harvester-system", SNAPSHOT_WEBHOOK, "10.53.148.9", [("https", 443, 8443)],
                               sn_dep["spec"]["selector"]["matchLabels"], sn_pods, chart=hv_chart)
    for svc in (nw_svc, sn_svc):  # meta() derives uids from namespace/name only: keep the Deployments' unique
        svc["metadata"]["uid"] = uid("service", svc["metadata"]["namespace"], svc["metadata"]["name"])
    vwc = helm_owned({"metadata": meta(SNAPSHOT_WEBHOOK, created=INSTALLED + dt.timedelta(minutes=9), generation=2,
                                       updated=ROLLED_OUT),
                      "webhooks": [snapshot_webhook_entry(snapshot_ca)]}, *hv_chart)
    b.add("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", vwc)
    bundle = b.get("fleet.cattle.io/v1alpha1", "bundles", "mcc-harvester", "fleet-local")
    rk = bundle["status"]["resourceKey"] + [
        resource_ref(nw_dep, "apps/v1", "Deployment"), resource_ref(nw_svc, "v1", "Service"),
        resource_ref(sn_dep, "apps/v1", "Deployment"), resource_ref(sn_svc, "v1", "Service"),
        resource_ref(vwc, "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration")]
    bundle["status"]["resourceKey"] = sorted(rk, key=lambda r: (r["apiVersion"], r["kind"], r.get("namespace", ""),
                                                                r["name"]))
    return {"nw_dep": nw_dep, "nw_pod": nw_pods[0], "nw_svc": nw_svc, "vwc": vwc}


# ---- (1) fleet-stale-v1.4.0 ---------------------------------------------------------------

STALE_CLUSTER_ID = "6e1b9c47-2d3a-4f8e-b5c0-91a7d4e3f682"
STALE_T0 = CAPTURE - dt.timedelta(days=2)                 # harvester-node-5 goes down for a reboot
STALE_BOOT = STALE_T0 + dt.timedelta(seconds=40)          # ... and boots again (node Ready at +2m)


def scenario_fleet_stale_v140() -> BundleModel:
    """harvester/harvester#7454 on 7 nodes: harvester-node-5 rebooted two days before the capture.
    While it was down Fleet recorded the chart DaemonSets at 6/7; its monitor passes followed the
    other DaemonSets back to 7/7, but the last event - harvester-whereabouts' node-5 pod becoming
    Ready - never reached the agent (Fleet 0.10 has no periodic resync). So Bundle mcc-harvester,
    ManagedChart harvester and Cluster local still say `Available: 6/7` while the captured DaemonSet
    is 7/7; the agent is alive (fresh lastSeen, no restart), nothing is paused, and the upgrade to
    v1.4.1 is refused by the v1.4.0 webhook (`managed chart harvester is not ready`)."""
    node5 = "harvester-node-5"
    with cluster_shape(7, cluster_id=STALE_CLUSTER_ID, bundle_name="bundle-q4r7z",
                       reboots={node5: STALE_BOOT}):
        b = base_cluster(description="Upgrade to v1.4.1 is refused: managed chart harvester is not ready")
        add_chart_extras(b)
        old_boot = UPGRADED + dt.timedelta(minutes=62 + 31 * node_index(node5))
        node_ready = STALE_BOOT + dt.timedelta(minutes=2)
        down = STALE_T0 - dt.timedelta(seconds=17)
        # every DaemonSet pod on node-5 survived the reboot with a container restart; the
        # harvester-whereabouts one is the last to become Ready again
        ds_pods = [p for p in all_pods_of(b) if p["spec"]["nodeName"] == node5
                   and p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"]
        bundle_ds = {r["name"] for r in b.get("fleet.cattle.io/v1alpha1", "bundles", "mcc-harvester",
                                                "fleet-local")["status"]["resourceKey"] if r["kind"] == "DaemonSet"}
        others_ready = []
        wa_pod = None
        for k, p in enumerate(sorted(ds_pods, key=lambda p: p["metadata"]["name"])):
            owner_name = p["metadata"]["ownerReferences"][0]["name"]
            if owner_name == "harvester-whereabouts":
                wa_pod = p
                continue
            r = survive_reboot(p, old_boot=old_boot, new_boot=STALE_BOOT, down=down,
                               new_start=node_ready + dt.timedelta(seconds=6 + 5 * k))
            touch(b.get("apps/v1", "daemonsets", owner_name, p["metadata"]["namespace"]),
                  r + dt.timedelta(seconds=1))  # its status counted the pod Ready again
            if owner_name in bundle_ds:
                others_ready.append(r)
        wa_ready = survive_reboot(wa_pod, old_boot=old_boot, new_boot=STALE_BOOT, down=down,
                                  new_start=STALE_T0 + dt.timedelta(minutes=3, seconds=50))
        wa_ds = b.get("apps/v1", "daemonsets", "harvester-whereabouts", "kube-system")
        touch(wa_ds, wa_ready + dt.timedelta(seconds=1))
        # Fleet's last monitor pass: right after the last other chart DaemonSet was 7/7 again
        claim_at = max(others_ready) + dt.timedelta(seconds=6)
        assert claim_at < wa_ready
        summary = {"state": "in-progress", "transitioning": True, "message": ["Available: 6/7"]}
        set_fleet_claim(b, "harvester", state="NotReady", at=claim_at,
                        non_ready=[non_ready_entry(wa_ds, "apps/v1", "DaemonSet", summary)])
        last_seen = CAPTURE - dt.timedelta(minutes=3, seconds=52)
        set_agent_last_seen(b, last_seen)
        fleet_agent_heartbeat_log(b, last_seen)
        # the refused upgrade: Version v1.4.1 exists (base); the v1.4.0 webhook denied the Upgrade
        # CREATE (UI requests carry generateName, hence the empty name). AdmissionHandler.admit logs
        # the rejection at debug level.
        wh = find_pod(b, "harvester-system", dep_prefix("harvester-system", "harvester-webhook"), NODES[1])
        key = f"harvester-system/{wh['metadata']['name']}/harvester-webhook.log"
        req = ("Request (user: user-wp5tq, harvesterhci.io/v1beta1, Kind=Upgrade, namespace: harvester-system, "
               "name: , operation: CREATE)")
        c = Clock("wh-deny")
        lines = []
        for t in (CAPTURE - dt.timedelta(minutes=47, seconds=12), CAPTURE - dt.timedelta(minutes=44, seconds=3)):
            x1, x2 = c.at(t), c.at(t)
            lines += [(x1, logrus("debug", x1, f"{req} admitting validation")),
                      (x2, logrus("debug", x2, f"{req} operation is rejected: managed chart harvester is not "
                                               "ready, please wait for it to be ready"))]
        b.logs[key] += pod_log(lines, salt=key + "#deny")
        return b


# ---- (2) fleet-agent-down-v1.4.0 ----------------------------------------------------------

def scenario_fleet_agent_down_v140() -> BundleModel:
    """The reverse case (S2): every Bundle/ManagedChart and Cluster local claim Ready, but the
    fleet-agent has been crash-looping for 60 h (last check-in 60 h before the capture), and since
    58 h the harvester-network-controller pod on harvester-node-1 crash-loops too: the captured
    DaemonSet is 2/3, which Fleet never saw."""
    with cluster_shape(3, bundle_name="bundle-m2h9x"):
        b = base_cluster(description="VMs on harvester-node-1 lost their VLAN network")
        add_chart_extras(b)
        last_seen = CAPTURE - dt.timedelta(hours=60)
        set_agent_last_seen(b, last_seen)
        # fleet-agent-0: crash loop since just after its last check-in
        fa = find_pod(b, "cattle-fleet-local-system", "fleet-agent-0")
        fa_down = last_seen + dt.timedelta(minutes=6, seconds=14)
        fa_fin = CAPTURE - dt.timedelta(minutes=1, seconds=48)
        fa_restarts = int((fa_fin - fa_down).total_seconds() // 313) + 5
        fa_run = dt.timedelta(seconds=13)
        crash_loop(fa, "fleet-agent", restarts=fa_restarts, last_start=fa_fin - fa_run, last_finish=fa_fin,
                   not_ready_since=fa_down)
        sts = b.get("apps/v1", "statefulsets", "fleet-agent", "cattle-fleet-local-system")
        sts["status"].pop("readyReplicas")   # zero: omitted by the API server
        sts["status"]["availableReplicas"] = 0
        touch(sts, fa_down + dt.timedelta(seconds=1))
        key = f"cattle-fleet-local-system/{fa['metadata']['name']}/fleet-agent.log"
        lease = "cattle-fleet-local-system/fleet-agent-lock"
        lease_url = ("https://10.53.0.1:443/apis/coordination.k8s.io/v1/namespaces/cattle-fleet-local-system/"
                     "leases/fleet-agent-lock?timeout=5s")

        def agent_run(start, salt):
            c = Clock(salt)

            def at(s):
                return c.at(start + dt.timedelta(seconds=s))

            # the lease is acquired, but the API server answers too slowly for the informer caches to
            # sync and for the lease to be renewed: leadership is lost before any BundleDeployment is
            # reconciled and before the first cluster status check-in (~15 s after start)
            x = [at(0), at(0), at(1), at(1), at(1), at(7), at(10), at(11), at(12), at(12), at(12)]
            bd_url = (f"https://10.53.0.1:443/apis/fleet.cattle.io/v1alpha1/namespaces/{FLEET_CLUSTER_NS}/"
                      "bundledeployments?limit=500&resourceVersion=0")
            return [
                (x[0], fleet_json(x[0], "setup", "starting agent", version="v0.10.2")),
                (x[1], klog("I", x[1], 1, "leaderelection.go:250", f"attempting to acquire leader lease {lease}...")),
                (x[2], klog("I", x[2], 1, "leaderelection.go:260", f"successfully acquired lease {lease}")),
                (x[3], fleet_json(x[3], "bundledeployment", "Starting EventSource", controller="bundledeployment",
                                  source="kind source: *v1alpha1.BundleDeployment")),
                (x[4], fleet_json(x[4], "bundledeployment", "Starting Controller", controller="bundledeployment")),
                (x[5], klog("E", x[5], 1, "leaderelection.go:347", f'error retrieving resource lock {lease}: '
                                                                   f'Get "{lease_url}": context deadline exceeded')),
                (x[6], klog("E", x[6], 1, "leaderelection.go:347", f'error retrieving resource lock {lease}: '
                                                                   f'Get "{lease_url}": context deadline exceeded')),
                (x[7], klog("W", x[7], 1, "reflector.go:547", f"k8s.io/client-go@v0.29.8/tools/cache/reflector.go:229: "
                                                              f"failed to list *v1alpha1.BundleDeployment: Get "
                                                              f'"{bd_url}": net/http: TLS handshake timeout')),
                (x[8], klog("I", x[8], 1, "leaderelection.go:285",
                            f"failed to renew lease {lease}: timed out waiting for the condition")),
                (x[9], fleet_json(x[9], "setup", "leader election lost", level="error")),
                (x[10], fleet_json(x[10], "setup", "problem running manager", level="error",
                                   error="leader election lost"))]

        prev_start = fa_fin - fa_run - dt.timedelta(minutes=5, seconds=13)
        b.logs[key] = pod_log(agent_run(fa_fin - fa_run, "fa-run"), salt=key)
        b.logs[key + ".1"] = pod_log(agent_run(prev_start, "fa-prev"), salt=key + ".1")
        # harvester-network-controller on harvester-node-1: crash loop since 58 h
        nc = find_pod(b, "harvester-system", "harvester-network-controller-", NODES[1])
        nc_down = CAPTURE - dt.timedelta(hours=58)
        nc_fin = CAPTURE - dt.timedelta(minutes=3, seconds=4)
        nc_restarts = int((nc_fin - nc_down).total_seconds() // 311) + 5
        nc_run = dt.timedelta(seconds=11)
        crash_loop(nc, "harvester-network", restarts=nc_restarts, last_start=nc_fin - nc_run, last_finish=nc_fin,
                   not_ready_since=nc_down)
        ds = b.get("apps/v1", "daemonsets", "harvester-network-controller", "harvester-system")
        ds["status"]["numberReady"] = 2
        ds["status"]["numberAvailable"] = 2
        ds["status"]["numberUnavailable"] = 1
        touch(ds, nc_down + dt.timedelta(seconds=1))
        nkey = f"harvester-system/{nc['metadata']['name']}/harvester-network.log"

        def nc_run_log(start, salt):
            c = Clock(salt)
            x = [c.at(start + dt.timedelta(seconds=s)) for s in (0, 0, 1, 1, 9, 10)]
            return [(t, logrus(lvl, t, m)) for t, (lvl, m) in zip(x, (
                ("info", "Starting network controller"),
                ("info", "Starting network.harvesterhci.io/v1beta1, Kind=VlanConfig controller"),
                ("info", "Starting network.harvesterhci.io/v1beta1, Kind=LinkMonitor controller"),
                ("info", f"sync vlan config vlan-net-{NODES[1]}"),
                ("error", "ensure uplink of cluster network vm-net failed: bond vm-net-bo: link eno2 not found"),
                ("fatal", "failed to start network controller: setup uplink failed: link eno2 not found")))]

        b.logs[nkey] = pod_log(nc_run_log(nc_fin - nc_run, "nc-run"), salt=nkey)
        b.logs[nkey + ".1"] = pod_log(nc_run_log(nc_fin - nc_run - dt.timedelta(minutes=5, seconds=11), "nc-prev"),
                                      salt=nkey + ".1")
        add_events(b, [
            ("cattle-fleet-local-system", obj_ref(fa, "Pod", "v1", "spec.containers{fleet-agent}"), "BackOff",
             f"Back-off restarting failed container fleet-agent in pod fleet-agent-0_cattle-fleet-local-system"
             f"({fa['metadata']['uid']})", fa_down + dt.timedelta(seconds=40), CAPTURE - dt.timedelta(seconds=26),
             int((CAPTURE - fa_down).total_seconds() // 13), "Warning", "kubelet", NODES[2]),
            ("harvester-system", obj_ref(nc, "Pod", "v1", "spec.containers{harvester-network}"), "BackOff",
             f"Back-off restarting failed container harvester-network in pod {nc['metadata']['name']}_harvester-system"
             f"({nc['metadata']['uid']})", nc_down + dt.timedelta(seconds=35), CAPTURE - dt.timedelta(seconds=51),
             int((CAPTURE - nc_down).total_seconds() // 13), "Warning", "kubelet", NODES[1])])
        return b


# ---- (3) fleet-drift-v1.4.0 ----------------------------------------------------------------

DRIFT_CA_ROTATED = CAPTURE - dt.timedelta(days=41, hours=6, minutes=22)
DRIFT_EDIT = CAPTURE - dt.timedelta(days=6, hours=3, minutes=12, seconds=9)
DRIFT_SC_RECREATED = CAPTURE - dt.timedelta(days=9, hours=1, minutes=47, seconds=33)


def scenario_fleet_drift_v140() -> BundleModel:
    """Bundle mcc-harvester Modified with two drifts: the snapshot validation webhook's caBundle was
    rotated in the live object (benign: the patch differs from the live object only in
    clientConfig.caBundle), and Deployment harvester-network-webhook was edited by hand to a hotfix
    image (not benign: Fleet would revert it). And harvester/harvester#7072: the admin recreated the
    default StorageClass harvester-longhorn from its saved YAML with numberOfReplicas "2" (metadata
    kept, so Fleet still sees it as its own and reports it modified; StorageClass parameters are
    immutable, so a plain redeploy would fail). Every workload is ready."""
    hotfix = NETWORK_WEBHOOK_IMAGE + "-hotfix1"
    with cluster_shape(3, bundle_name="bundle-t5w8c"):
        b = base_cluster(description="mcc-harvester shows Modified after the network webhook hotfix")
        x = add_chart_extras(b, network_webhook_image=hotfix, network_webhook_rollout=DRIFT_EDIT,
                             snapshot_ca=ROTATED_CA)
        ns = "harvester-system"
        # (a) the caBundle rotation: chart value = the CA the chart was rendered with
        vwc = x["vwc"]
        touch(vwc, DRIFT_CA_ROTATED)
        vwc["metadata"]["generation"] = 3
        desired = copy.deepcopy(vwc["webhooks"][0])
        desired["clientConfig"]["caBundle"] = base64.b64encode(FAKE_CA.encode()).decode()
        mod_vwc = modified_entry(vwc, "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration",
                                 {"webhooks": [desired]})
        # (b) the hand edit of the network webhook image (kubectl edit, no last-applied annotation)
        dep = x["nw_dep"]
        done = DRIFT_EDIT + dt.timedelta(seconds=21)
        dmd = dep["metadata"]
        dmd["generation"] += 1
        dmd["annotations"]["deployment.kubernetes.io/revision"] = "4"
        dep["status"]["observedGeneration"] = dmd["generation"]
        for c in dep["status"]["conditions"]:
            if c["type"] == "Available":
                c["lastUpdateTime"] = c["lastTransitionTime"] = ts(ROLLED_OUT + dt.timedelta(minutes=2))
            else:
                c["lastUpdateTime"] = ts(done)
        dmd["managedFields"] = [
            managed_field("helm", "apps/v1", UPGRADED + dt.timedelta(minutes=58), {
                "f:metadata": {"f:annotations": {".": {}, "f:meta.helm.sh/release-name": {},
                                                 "f:meta.helm.sh/release-namespace": {},
                                                 "f:objectset.rio.cattle.io/id": {}},
                               "f:labels": {".": {}, "f:app.kubernetes.io/managed-by": {},
                                            "f:objectset.rio.cattle.io/hash": {}}},
                "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                    f'k:{{"name":"{NETWORK_WEBHOOK}"}}': {".": {}, "f:image": {}, "f:name": {}}}}}}}),
            managed_field("kubectl-edit", "apps/v1", DRIFT_EDIT, {
                "f:spec": {"f:template": {"f:spec": {"f:containers": {
                    f'k:{{"name":"{NETWORK_WEBHOOK}"}}': {"f:image": {}}}}}}}),
            managed_field("kube-controller-manager", "apps/v1", done, {
                "f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}},
                "f:status": {"f:conditions": {'k:{"type":"Progressing"}': {"f:lastUpdateTime": {},
                                                                           "f:message": {}, "f:reason": {}}},
                             "f:observedGeneration": {}}}, subresource="status")]
        touch(dep, done)
        new_rs = b.get("apps/v1", "replicasets", f"{NETWORK_WEBHOOK}-{rs_hash(ns, NETWORK_WEBHOOK)}", ns)
        new_rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "4"
        # the chart's ReplicaSet (revision 3), scaled down by the rollout
        chart_dep = copy.deepcopy(dep)
        chart_dep["spec"]["template"]["spec"]["containers"][0]["image"] = NETWORK_WEBHOOK_IMAGE
        chart_dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "3"
        old_rs = replicaset_obj(chart_dep, created=ROLLED_OUT)
        old_hash = suffix(10, "rs", ns, NETWORK_WEBHOOK, "rev3")
        old_name = f"{NETWORK_WEBHOOK}-{old_hash}"
        for lab in (old_rs["metadata"]["labels"], old_rs["spec"]["selector"]["matchLabels"],
                    old_rs["spec"]["template"]["metadata"]["labels"]):
            lab["pod-template-hash"] = old_hash
        old_rs["metadata"]["name"] = old_name
        old_rs["metadata"]["uid"] = uid(ns, old_name, "")
        old_rs["metadata"]["generation"] = 2
        old_rs["spec"]["replicas"] = 0
        old_rs["status"] = {"replicas": 0, "observedGeneration": 2}
        touch(old_rs, done)
        b.add("apps/v1", "replicasets", old_rs)
        patch = {"spec": {"template": {"spec": {"containers": [{"name": NETWORK_WEBHOOK,
                                                                "image": NETWORK_WEBHOOK_IMAGE}]}}}}
        mod_dep = modified_entry(dep, "apps/v1", "Deployment", patch)
        # (c) harvester/harvester#7072: the default StorageClass recreated with 2 replicas
        sc = b.get("storage.k8s.io/v1", "storageclasses", "harvester-longhorn")
        sc["parameters"]["numberOfReplicas"] = "2"
        sc["metadata"]["uid"] = uid("storageclass", "harvester-longhorn", "recreated")
        sc["metadata"]["creationTimestamp"] = ts(DRIFT_SC_RECREATED)
        touch(sc, DRIFT_SC_RECREATED)
        mod_sc = modified_entry(sc, "storage.k8s.io/v1", "StorageClass",
                                {"parameters": {"numberOfReplicas": "3"}})
        claim_at = done + dt.timedelta(seconds=6)
        set_fleet_claim(b, "harvester", state="Modified", at=claim_at,
                        modified=[mod_vwc, mod_dep, mod_sc])
        return b


# ---- (4) fleet-not-ready-v1.4.0 -------------------------------------------------------------

NOT_READY_DELETED = CAPTURE - dt.timedelta(minutes=31, seconds=10)


def scenario_fleet_not_ready_v140() -> BundleModel:
    """A genuine NotReady: the harvester-network-webhook pod was deleted 31 min before the capture;
    its replacement landed on harvester-node-0, whose image cache no longer holds the image, and the
    cluster cannot reach the registry: ImagePullBackOff, Deployment 0/1. Fleet's claim is current."""
    with cluster_shape(3, bundle_name="bundle-j6p3v"):
        b = base_cluster(description="harvester-network-webhook is not available")
        x = add_chart_extras(b)
        ns = "harvester-system"
        node = NODES[0]
        dep, old_pod, svc = x["nw_dep"], x["nw_pod"], x["nw_svc"]
        b.remove("v1", "pods", old_pod["metadata"]["name"], ns)
        rs = b.get("apps/v1", "replicasets", f"{NETWORK_WEBHOOK}-{rs_hash(ns, NETWORK_WEBHOOK)}", ns)
        created = NOT_READY_DELETED + dt.timedelta(milliseconds=400)
        pname = f"{rs['metadata']['name']}-{suffix(5, 'pod', ns, NETWORK_WEBHOOK, 'replacement')}"
        pod = pod_obj(pname, ns, spec=dep["spec"]["template"]["spec"], labels=rs["spec"]["selector"]["matchLabels"],
                      owner_ref=owner("ReplicaSet", rs["metadata"]["name"], rs["metadata"]["uid"], "apps/v1"),
                      created=created, started=created + dt.timedelta(seconds=1), node=node,
                      node_ip=NODE_IPS[node], pod_ip=b.helpers["ips"].pod_ip(node), ready=False, phase="Pending")
        image = NETWORK_WEBHOOK_IMAGE
        cs = pod["status"]["containerStatuses"][0]
        cs["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}
        cs["image"] = image
        cs["imageID"] = ""
        cs.pop("containerID")
        conds = pod["status"]["conditions"]
        for i, c in enumerate(conds):
            if c["type"] in ("Ready", "ContainersReady"):
                conds[i] = cond(c["type"], "False", at=created + dt.timedelta(seconds=1), probe=True,
                                reason="ContainersNotReady",
                                message=f"containers with unready status: [{NETWORK_WEBHOOK}]")
        touch(pod, CAPTURE - dt.timedelta(seconds=44))
        b.add("v1", "pods", pod)
        rs["status"].pop("readyReplicas")
        rs["status"].pop("availableReplicas")
        touch(rs, created)
        st = dep["status"]
        st.pop("readyReplicas")
        st.pop("availableReplicas")
        st["unavailableReplicas"] = 1
        for c in st["conditions"]:
            if c["type"] == "Available":
                c.update({"status": "False", "lastUpdateTime": ts(NOT_READY_DELETED),
                          "lastTransitionTime": ts(NOT_READY_DELETED), "reason": "MinimumReplicasUnavailable",
                          "message": "Deployment does not have minimum availability."})
        touch(dep, NOT_READY_DELETED)
        ep = b.get("v1", "endpoints", NETWORK_WEBHOOK, ns)
        new_ep = endpoints_obj(svc, [pod], created=parse_ts(ep["metadata"]["creationTimestamp"]))
        ep["subsets"] = new_ep["subsets"]
        ep["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"] = ts(created)
        touch(ep, created + dt.timedelta(seconds=1))
        summary = {"state": "updating", "transitioning": True,
                   "message": ["Deployment does not have minimum availability.", "Available: 0/1"]}
        set_fleet_claim(b, "harvester", state="NotReady", at=NOT_READY_DELETED + dt.timedelta(seconds=6),
                        non_ready=[non_ready_entry(dep, "apps/v1", "Deployment", summary)])
        ref = obj_ref(pod, "Pod", "v1", f"spec.containers{{{NETWORK_WEBHOOK}}}")
        old_ref = obj_ref(old_pod, "Pod", "v1", f"spec.containers{{{NETWORK_WEBHOOK}}}")
        pulls = 11
        last = CAPTURE - dt.timedelta(minutes=2, seconds=37)
        backoffs = int((CAPTURE - created).total_seconds() // 15)
        pull_err = (f'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/{image}": failed to '
                    f'resolve reference "docker.io/{image}": failed to do request: Head '
                    f'"https://registry-1.docker.io/v2/rancher/{NETWORK_WEBHOOK}/manifests/v0.5.4": dial tcp: lookup '
                    f'registry-1.docker.io on 10.10.0.1:53: no such host')
        first = created + dt.timedelta(seconds=2)
        add_events(b, [
            (ns, old_ref, "Killing", f"Stopping container {NETWORK_WEBHOOK}", NOT_READY_DELETED, NOT_READY_DELETED,
             1, "Normal", "kubelet", old_pod["spec"]["nodeName"]),
            (ns, obj_ref(rs, "ReplicaSet", "apps/v1"), "SuccessfulCreate", f"Created pod: {pname}", created, created,
             1, "Normal", "replicaset-controller", None),
            (ns, obj_ref(pod, "Pod", "v1"), "Scheduled", f"Successfully assigned {ns}/{pname} to {node}", created,
             created, 1, "Normal", "default-scheduler", None),
            (ns, ref, "Pulling", f'Pulling image "{image}"', first, last, pulls, "Normal", "kubelet", node),
            (ns, ref, "Failed", f'Failed to pull image "{image}": {pull_err}', first, last, pulls, "Warning",
             "kubelet", node),
            (ns, ref, "Failed", "Error: ErrImagePull", first, last, pulls, "Warning", "kubelet", node),
            (ns, ref, "BackOff", f'Back-off pulling image "{image}"', first + dt.timedelta(seconds=1),
             CAPTURE - dt.timedelta(seconds=44), backoffs, "Normal", "kubelet", node),
            (ns, ref, "Failed", "Error: ImagePullBackOff", first + dt.timedelta(seconds=1),
             CAPTURE - dt.timedelta(seconds=44), backoffs, "Warning", "kubelet", node)])
        return b


# ---- builders shared by the upgrade scenarios (jobs, plans, Upgrade/UpgradeLog, repo VM, PDBs) -----

UPGRADE_IMAGE = "rancher/harvester-upgrade"
UPGRADE_SA = "system-upgrade-controller"
DRAIN_OPTIONS = json.dumps({"IgnoreErrors": False, "deleteEmptyDirData": True, "disableEviction": False,
                            "enabled": True, "force": True, "gracePeriod": 0, "ignoreDaemonSets": True,
                            "postDrainHooks": [{"annotation": "harvesterhci.io/post-hook"}],
                            "preDrainHooks": [{"annotation": "harvesterhci.io/pre-hook"}],
                            "skipWaitForDeleteTimeoutSeconds": 0, "timeout": 0}, separators=(",", ":"))


def safe_concat_name(*parts) -> str:
    """wrangler name.SafeConcatName: join with '-'; above 63 characters keep 57 and add a hash."""
    full = "-".join(parts)
    if len(full) < 64:
        return full
    return full[:57] + "-" + hashlib.sha256(full.encode()).hexdigest()[:5]


def hcond(ctype, status="True", at=None, reason=None, message=None):
    """harvesterhci.io Condition as wrangler writes it (an Unknown created condition has no time)."""
    c = {"type": ctype, "status": status}
    if at is not None:
        c["lastUpdateTime"] = ts(at)
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def job_obj(name, ns, *, labels, pod_spec_, created, started, finished, succeeded=True, failed_pods=0,
            owners=None, annotations=None, ttl=None, backoff_limit=6, active_deadline=None):
    """batch/v1 Job (k8s 1.29 defaults) that has finished: Complete, or Failed with BackoffLimitExceeded."""
    juid = uid("job", ns, name)
    ctl = {"batch.kubernetes.io/controller-uid": juid, "batch.kubernetes.io/job-name": name,
           "controller-uid": juid, "job-name": name}
    md = meta(name, ns, created=created, labels=labels or ctl, annotations=annotations, owners=owners,
              generation=1, uid_=juid, updated=finished + dt.timedelta(seconds=1))
    ps = copy.deepcopy(pod_spec_)
    ps["restartPolicy"] = "Never"
    spec = {"parallelism": 1, "completions": 1}
    if active_deadline:
        spec["activeDeadlineSeconds"] = active_deadline
    spec["backoffLimit"] = backoff_limit
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": juid}}
    spec["template"] = template(dict(labels or {}, **ctl), ps)
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    spec.update({"completionMode": "NonIndexed", "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"})
    if succeeded:
        c = {"type": "Complete", "status": "True", "lastProbeTime": ts(finished), "lastTransitionTime": ts(finished)}
        status = {"conditions": [c], "startTime": ts(started), "completionTime": ts(finished), "succeeded": 1}
        if failed_pods:
            status["failed"] = failed_pods
    else:
        c = {"type": "Failed", "status": "True", "lastProbeTime": ts(finished), "lastTransitionTime": ts(finished),
             "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}
        status = {"conditions": [c], "startTime": ts(started), "failed": failed_pods}
    status.update({"terminating": 0, "uncountedTerminatedPods": {}, "ready": 0})
    return {"metadata": md, "spec": spec, "status": status}


def finish_pod(pod, *, finished, exit_code=0):
    """Turn a pod built by pod_obj into a finished one (phase Succeeded / Failed)."""
    st = pod["status"]
    ok = exit_code == 0
    st["phase"] = "Succeeded" if ok else "Failed"
    run = parse_ts(st["startTime"]) + dt.timedelta(seconds=1)
    for cs in st["containerStatuses"]:
        cs["lastState"] = {}
        cs["state"] = {"terminated": {"exitCode": exit_code, "reason": "Completed" if ok else "Error",
                                      "startedAt": ts(run), "finishedAt": ts(finished),
                                      "containerID": cs["containerID"]}}
        cs["ready"] = False
        cs["started"] = False
    created = parse_ts(pod["metadata"]["creationTimestamp"])
    why = "PodCompleted" if ok else "PodFailed"
    st["conditions"] = [
        cond("PodReadyToStartContainers", "False", at=finished + dt.timedelta(seconds=1), probe=True),
        cond("Initialized", "True", at=created, probe=True, reason="PodCompleted" if ok else None),
        cond("Ready", "False", at=finished, probe=True, reason=why),
        cond("ContainersReady", "False", at=finished, probe=True, reason=why),
        cond("PodScheduled", "True", at=created, probe=True)]
    touch(pod, finished + dt.timedelta(seconds=1))
    return pod


def job_pod(b, job, *, node, created, finished, exit_code=0, k=0, host_network=False):
    """The pod of a Job on node: finished, or running when finished is None."""
    jmd = job["metadata"]
    ns = jmd["namespace"]
    tpl = job["spec"]["template"]
    name = f"{jmd['name']}-{suffix(5, 'jobpod', ns, jmd['name'], k)}"
    pod = pod_obj(name, ns, spec=tpl["spec"], labels=tpl["metadata"]["labels"],
                  owner_ref=owner("Job", jmd["name"], jmd["uid"], "batch/v1"), created=created,
                  started=created + dt.timedelta(seconds=1), node=node, node_ip=NODE_IPS[node],
                  pod_ip=NODE_IPS[node] if host_network else b.helpers["ips"].pod_ip(node))
    pod["metadata"]["generateName"] = jmd["name"] + "-"
    if finished is not None:
        finish_pod(pod, finished=finished, exit_code=exit_code)
    return b.add("v1", "pods", pod)


def upgrade_job_spec(command, args, env, *, node=None, host=False):
    """Pod spec of the Harvester upgrade jobs (applyManifestsJob / applyNodeJob in
    pkg/controller/master/upgrade/common.go)."""
    c = container("apply", f"{UPGRADE_IMAGE}:{V141['harvester']}")
    c["command"] = [command]
    if args:
        c["args"] = list(args)
    c["env"] = [{"name": k, "value": v} for k, v in env] + (
        [{"name": "HARVESTER_UPGRADE_POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                           "fieldPath": "metadata.name"}}}]
        if host else [])
    if host:
        c["volumeMounts"] = [{"name": "host-root", "mountPath": "/host"}]
        c["securityContext"] = {"capabilities": {"add": ["CAP_SYS_BOOT"]}, "privileged": True}
    spec = pod_spec([c], service_account="harvester")
    spec["tolerations"] = [
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoExecute"},
        {"key": "kubevirt.io/drain", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        {"key": "kubernetes.io/arch", "operator": "Equal", "value": "amd64", "effect": "NoSchedule"},
        {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"},
        {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm", "effect": "NoSchedule"}]
    if host:
        spec["volumes"] = [{"name": "host-root", "hostPath": {"path": "/", "type": "Directory"}}] + spec["volumes"]
        spec.update({"hostNetwork": True, "hostPID": True, "hostIPC": True, "dnsPolicy": "ClusterFirstWithHostNet"})
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In",
                                                         "values": [node]}]}]}}}
    return spec


def upgrade_owner(up):
    return {"apiVersion": "harvesterhci.io/v1beta1", "kind": "Upgrade", "name": up["metadata"]["name"],
            "uid": up["metadata"]["uid"]}


def add_manifest_job(b, up, *, node, created, finished, succeeded=True, failed_pods=0):
    U = up["metadata"]["name"]
    labels = {"harvesterhci.io/upgrade": U, "harvesterhci.io/upgradeComponent": "manifest"}
    spec = upgrade_job_spec("upgrade_manifests.sh", None, [("HARVESTER_UPGRADE_NAME", U)])
    job = job_obj(safe_concat_name(U, "apply-manifests"), "harvester-system", labels=labels, pod_spec_=spec,
                  created=created, started=created, finished=finished, succeeded=succeeded,
                  failed_pods=failed_pods, owners=[upgrade_owner(up)], ttl=604800)
    return b.add("batch/v1", "jobs", job)


def add_node_job(b, up, node, job_type, *, created, finished):
    U = up["metadata"]["name"]
    labels = {"harvesterhci.io/node": node, "harvesterhci.io/upgrade": U,
              "harvesterhci.io/upgradeComponent": "node", "harvesterhci.io/upgradeJobType": job_type}
    spec = upgrade_job_spec("do_upgrade_node.sh", [job_type], [("HARVESTER_UPGRADE_NAME", U),
                                                             ("HARVESTER_UPGRADE_NODE_NAME", node)],
                            node=node, host=True)
    job = job_obj(safe_concat_name(U, job_type, node), "harvester-system", labels=labels, pod_spec_=spec,
                  created=created, started=created, finished=finished, owners=[upgrade_owner(up)], ttl=604800)
    job["spec"]["template"]["metadata"]["labels"] = dict(
        {"harvesterhci.io/upgrade": U, "harvesterhci.io/upgradeComponent": "node",
         "harvesterhci.io/upgradeJobType": job_type},
        **{k: v for k, v in job["spec"]["template"]["metadata"]["labels"].items() if "job" in k or "uid" in k})
    return b.add("batch/v1", "jobs", job)


def plan_hash(*parts) -> str:
    """SUC Plan status.latestHash (sha224 of the plan's spec: 56 hex digits)."""
    return hashlib.sha224("\x00".join(parts).encode()).hexdigest()


def plan_obj(name, *, created, version, upgrade_spec, concurrency=1, deadline=None, labels=None,
             tolerations, applying=None, resolved, managed=None):
    spec = {"concurrency": concurrency}
    if deadline:
        spec["jobActiveDeadlineSecs"] = deadline
    spec.update({"nodeSelector": {"matchLabels": {"harvesterhci.io/managed": "true"}},
                 "serviceAccountName": UPGRADE_SA, "tolerations": tolerations, "upgrade": upgrade_spec,
                 "version": version})
    status = {"conditions": [{"lastUpdateTime": ts(resolved), "reason": "Version", "status": "True",
                              "type": "LatestResolved"}],
              "latestHash": plan_hash(name, version), "latestVersion": version}
    if applying:
        status["applying"] = list(applying)
    return {"metadata": meta(name, "cattle-system", created=created, labels=labels, generation=1,
                             updated=resolved, managed=managed),
            "spec": spec, "status": status}


def prepare_plan(U, previous_version, *, created, resolved):
    """<U>-prepare (preparePlan() in common.go): preloads the new images on every node, one at a time."""
    tol = [{"key": "CriticalAddonsOnly", "operator": "Exists"},
           {"effect": "NoSchedule", "key": "kubevirt.io/drain", "operator": "Exists"},
           {"effect": "NoExecute", "key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}] + [
        {"effect": "NoSchedule", "key": "kubernetes.io/arch", "operator": "Equal", "value": a}
        for a in ("amd64", "arm64", "arm")]
    return plan_obj(f"{U}-prepare", created=created, version=U, deadline=3600, resolved=resolved,
                    labels={"harvesterhci.io/upgrade": U, "harvesterhci.io/upgradeComponent": "node"},
                    tolerations=tol,
                    upgrade_spec={"args": ["prepare"], "command": ["do_upgrade_node.sh"],
                                  "env": [{"name": "HARVESTER_UPGRADE_NAME", "value": U}],
                                  "image": f"{UPGRADE_IMAGE}:{previous_version}"})


SKIP_RESTART_ARGS = ("set -x && mkdir -p /run/systemd/system/rancher-system-agent.service.d && echo -e "
                     "'[Service]\\nEnvironmentFile=-/run/systemd/system/rancher-system-agent.service.d/"
                     "10-harvester-upgrade.env' | tee /run/systemd/system/rancher-system-agent.service.d/"
                     "override.conf && echo 'INSTALL_RKE2_SKIP_ENABLE=true' | tee /run/systemd/system/"
                     "rancher-system-agent.service.d/10-harvester-upgrade.env && systemctl daemon-reload && "
                     "systemctl restart rancher-system-agent.service")


def skip_restart_plan(U, *, created, resolved, applying=None):
    """<U>-skip-restart-rancher-system-agent, created by upgrade_manifests.sh with kubectl (no
    harvesterhci.io/upgrade label: the controller's cleanup does not know it)."""
    name = f"{U}-skip-restart-rancher-system-agent"
    version = h("skip-restart", U)[:8]
    mf = [managed_field("kubectl-create", "upgrade.cattle.io/v1", created, {"f:spec": {
        ".": {}, "f:concurrency": {}, "f:nodeSelector": {}, "f:serviceAccountName": {}, "f:tolerations": {},
        "f:upgrade": {".": {}, "f:args": {}, "f:command": {}, "f:image": {}}, "f:version": {}}}),
          managed_field("system-upgrade-controller", "upgrade.cattle.io/v1", resolved, {"f:status": {
              ".": {}, "f:conditions": {}, "f:latestHash": {}, "f:latestVersion": {}}}, subresource="status")]
    return plan_obj(name, created=created, version=version, concurrency=10, resolved=resolved,
                    tolerations=[{"operator": "Exists"}], applying=applying, managed=mf,
                    upgrade_spec={"args": ["sh", "-c", SKIP_RESTART_ARGS], "command": ["chroot", "/host"],
                                  "image": "registry.suse.com/bci/bci-base:15.6"})


def label_nodes_with_plan(b, plan, nodes):
    """SUC marks each node that completed a plan with plan.upgrade.cattle.io/<plan>=<latestHash>."""
    for n in nodes:
        nd = b.get("v1", "nodes", n)
        nd["metadata"]["labels"][f"plan.upgrade.cattle.io/{plan['metadata']['name']}"] = plan["status"]["latestHash"]


def upgrade_obj(U, *, created, version, previous, labels, conditions, node_statuses, repoinfo, updated,
                generation, annotations=None, log=True):
    st = {"conditions": conditions, "imageID": f"harvester-system/{U}", "nodeStatuses": node_statuses,
          "previousVersion": previous, "repoInfo": repoinfo}
    if log:
        st["upgradeLog"] = safe_concat_name(U, "upgradelog")
    return {"metadata": meta(U, "harvester-system", created=created, generate_name="hvst-upgrade-", labels=labels,
                             annotations=annotations, finalizers=["wrangler.cattle.io/harvester-upgrade-controller"],
                             generation=generation, updated=updated, uid_=uid("upgrade", U)),
            "spec": {"image": "", "logEnabled": log, "version": version},
            "status": st}


def release_file(v, extra=True) -> str:
    """harvester-release.yaml as served by the upgrade repo VM (and printed by wait_repo)."""
    s = (f"harvester: {v['harvester']}\nharvesterChart: {v['chart']}\nos: {v['os']}\nkubernetes: {v['rke2']}\n"
         f"rancher: {v['rancher']}\nmonitoringChart: {v['monitoring_chart']}\n"
         f"loggingChart: {v['logging_chart_release']}\nloggingChartHarvesterEventRouter: 0.4.0\n"
         f"kubevirt: {v['kubevirt']}\nminUpgradableVersion: '{v['min_upgradable']}'\n")
    if extra:
        fl = v["fleet"].lstrip("v")
        wh = v["rancher_webhook"].lstrip("v")
        s += (f"rancherDependencies:\n  fleet:\n    chart: 105.0.1+up{fl}\n    app: {fl}\n"
              f"  fleet-crd:\n    chart: 105.0.1+up{fl}\n    app: {fl}\n"
              f"  rancher-webhook:\n    chart: 105.0.1+up{wh}\n    app: {wh}\n")
    return s


def iso_image(U, version, *, created, imported, up):
    """The VirtualMachineImage the upgrade downloads the ISO into (CreateImageFromISO)."""
    url = f"https://releases.rancher.com/harvester/{version}/harvester-{version}-amd64.iso"
    return {"metadata": meta(U, "harvester-system", created=created, generation=2, updated=imported,
                             labels={"harvesterhci.io/upgrade": U},
                             annotations={"harvesterhci.io/storageClassName": "harvester-longhorn"},
                             owners=[upgrade_owner(up)], finalizers=["wrangler.cattle.io/vm-image-controller"]),
            "spec": {"backend": "backingimage", "checksum": hashlib.sha512(version.encode()).hexdigest(),
                     "displayName": f"{U}-{version}", "pvcName": "", "pvcNamespace": "", "retry": 3,
                     "sourceType": "download",
                     "storageClassParameters": {"migratable": "true", "numberOfReplicas": "3",
                                                "staleReplicaTimeout": "30"},
                     "targetStorageClassName": "harvester-longhorn", "url": url},
            "status": {"appliedUrl": url,
                       "conditions": [{"lastUpdateTime": ts(imported), "status": "True", "type": "Imported"},
                                      {"lastUpdateTime": ts(created + dt.timedelta(seconds=2)), "status": "True",
                                       "type": "Initialized"}],
                       "progress": 100, "size": 6216351744, "storageClassName": f"longhorn-{U}",
                       "targetStorageClassName": "harvester-longhorn", "virtualSize": 6216351744}}


def add_lh_volume(b, pv_name, *, size_bytes, node, created, attached_at, pvc_ns, pvc_name, pod_name=None,
                  workload=None, workload_type=None, replica_nodes=None, backing_image="", frontend="blockdev",
                  access="rwx", engine_name=None):
    """A Longhorn volume with its replicas and engine, registered in the instance managers.
    node=None: detached."""
    hp = b.helpers
    replica_nodes = replica_nodes or NODES[:3]
    attached = node is not None
    vol = lh_volume(pv_name, size_bytes=size_bytes, node=node or "", created=created, pvc_ns=pvc_ns,
                    pvc_name=pvc_name, pv_name=pv_name, state="attached" if attached else "detached",
                    robustness="healthy" if attached else "unknown", replicas=len(replica_nodes),
                    frontend=frontend, backing_image=backing_image,
                    workloads=[{"podName": pod_name, "podStatus": "Running", "workloadName": workload,
                                "workloadType": workload_type}] if attached and pod_name else [])
    vol["spec"]["accessMode"] = access
    if not backing_image:
        vol["metadata"]["labels"].pop("recurring-job-group.longhorn.io/default", None)
    touch(vol, attached_at)
    b.add("longhorn.io/v1beta2", "volumes", vol)
    reps = [b.add("longhorn.io/v1beta2", "replicas",
                  lh_replica(vol, n, created=created, disk_uuid=hp["disk_uuids"][n], im_name=hp["im_names"][n],
                             running=attached)) for n in replica_nodes]
    eng = lh_engine(vol, created=created, im_name=hp["im_names"].get(node, ""), replicas=reps)
    if engine_name:
        eng["metadata"]["name"] = engine_name
        eng["metadata"]["uid"] = uid("longhorn-system", engine_name, "")
    b.add("longhorn.io/v1beta2", "engines", eng)
    if attached:
        register_engine(b, eng, node)
        for r in reps:
            register_replica(b, r)
    return vol, reps, eng


def register_engine(b, eng, node, state="running"):
    im = b.get("longhorn.io/v1beta2", "instancemanagers", b.helpers["im_names"][node], "longhorn-system")
    name = eng["metadata"]["name"]
    im["status"]["instanceEngines"][name] = {
        "spec": {"dataEngine": "v1", "name": name},
        "status": {"endpoint": "", "errorMsg": "", "listen": "", "portEnd": 10015, "portStart": 10015,
                   "resourceVersion": 0, "state": state, "type": "engine"}}


def register_replica(b, r):
    rim = b.get("longhorn.io/v1beta2", "instancemanagers", r["status"]["instanceManagerName"], "longhorn-system")
    rim["status"]["instanceReplicas"][r["metadata"]["name"]] = {
        "spec": {"dataEngine": "v1", "name": r["metadata"]["name"]},
        "status": {"endpoint": "", "errorMsg": "", "listen": "", "portEnd": r["status"]["port"] + 9,
                   "portStart": r["status"]["port"], "resourceVersion": 0, "state": "running", "type": "replica"}}


def add_pvc_volume(b, pvc_name, ns, *, size_gi, node, created, attached_at, sc="harvester-longhorn",
                   mode="Block", access="ReadWriteMany", pod_name=None, workload=None, workload_type=None,
                   annotations=None, labels=None, owners=None, backing_image="", replica_nodes=None):
    """PVC + PV + Longhorn volume (attached to node, or detached with node=None)."""
    pvc_uid = uid(ns, pvc_name, "")
    pv_name = f"pvc-{pvc_uid}"
    size = f"{size_gi}Gi"
    pvc = pvc_obj(pvc_name, ns, volume=pv_name, size=size, created=created, sc=sc, mode=mode, access=access,
                  annotations=annotations, labels=labels, owners=owners)
    pvc["metadata"]["uid"] = pvc_uid
    b.add("v1", "persistentvolumeclaims", pvc)
    nrep = len(replica_nodes or NODES[:3])
    pv = pv_obj(pv_name, pvc=pvc, size=size, created=created, sc=sc, mode=mode, access=access, replicas=nrep)
    if mode == "Filesystem":
        pv["spec"]["csi"]["fsType"] = "ext4"
    b.add("v1", "persistentvolumes", pv)
    vol, reps, eng = add_lh_volume(b, pv_name, size_bytes=size_gi * 1073741824, node=node, created=created,
                                   attached_at=attached_at, pvc_ns=ns, pvc_name=pvc_name, pod_name=pod_name,
                                   workload=workload, workload_type=workload_type, backing_image=backing_image,
                                   replica_nodes=replica_nodes,
                                   access="rwx" if access == "ReadWriteMany" else "rwo",
                                   frontend="blockdev")
    return pvc, vol, reps, eng


def vmi_status(name, node, *, pod, started, cpu, size, live_migratable=True, reason=None,
               message=None, volumes=None, interfaces_ip=None, guest=True):
    """status of a running VirtualMachineInstance (shape of base_cluster's add_vm)."""
    conds = [{"lastProbeTime": None, "lastTransitionTime": ts(started + dt.timedelta(seconds=21)),
              "status": "True", "type": "Ready"},
             {"lastProbeTime": None, "lastTransitionTime": None, "status": "True", "type": "LiveMigratable"}
             if live_migratable else
             {"lastProbeTime": None, "lastTransitionTime": None, "message": message, "reason": reason,
              "status": "False", "type": "LiveMigratable"}]
    if guest:
        conds.append({"lastProbeTime": ts(started + dt.timedelta(seconds=40)), "lastTransitionTime": None,
                      "status": "True", "type": "AgentConnected"})
    ip = interfaces_ip or pod["status"]["podIP"]
    st = {"activePods": {pod["metadata"]["uid"]: node}, "conditions": conds,
          "currentCPUTopology": {"cores": cpu, "sockets": 1, "threads": 1}}
    if guest:
        st["guestOSInfo"] = {"id": "ubuntu", "kernelRelease": "5.15.0-131-generic", "kernelVersion": "#141-Ubuntu SMP",
                             "name": "Ubuntu", "prettyName": "Ubuntu 22.04.5 LTS", "version": "22.04",
                             "versionId": "22.04"}
    st.update({"interfaces": [{"infoSource": "domain, guest-agent" if guest else "domain", "interfaceName": "enp1s0",
                               "ipAddress": ip, "ipAddresses": [ip],
                               "mac": "52:54:00:" + ":".join(h("mac", name)[i:i + 2] for i in (0, 2, 4)),
                               "name": "default", "queueCount": 1}],
               "launcherContainerImageVersion": f"registry.suse.com/suse/sles/15.6/virt-launcher:{KUBEVIRT}",
               "machine": {"type": "pc-q35-8.2"}, "migrationMethod": "BlockMigration", "migrationTransport": "Unix",
               "nodeName": node, "phase": "Running",
               "phaseTransitionTimestamps": [
                   {"phase": "Pending", "phaseTransitionTimestamp": ts(started)},
                   {"phase": "Scheduling", "phaseTransitionTimestamp": ts(started)},
                   {"phase": "Scheduled", "phaseTransitionTimestamp": ts(started + dt.timedelta(seconds=9))},
                   {"phase": "Running", "phaseTransitionTimestamp": ts(started + dt.timedelta(seconds=12))}],
               "qosClass": "Burstable", "selinuxContext": "none",
               "volumeStatus": volumes or [{"name": "disk-0", "persistentVolumeClaimInfo": {
                   "accessModes": ["ReadWriteMany"], "capacity": {"storage": size}, "filesystemOverhead": "0",
                   "requests": {"storage": size}, "volumeMode": "Block"}, "target": "vda"}]})
    return st


def launcher_pod(b, vm_name, ns, node, *, vmi_uid, created, cpu, mem_request="4403768Ki", extra_labels=None,
                 resources_extra=None, name_salt=""):
    """virt-launcher-<vm>-xxxxx pod (compute + guest-console-log containers) on node."""
    img = b.helpers["img"]["virt-launcher"]
    launcher = f"virt-launcher-{vm_name}-{suffix(5, 'launcher', vm_name, name_salt)}"
    pod_ip = b.helpers["ips"].pod_ip(node)
    req = {"cpu": f"{cpu * 1000 // 16}m", "memory": mem_request}
    req.update(resources_extra or {})
    lspec = pod_spec([container("compute", img, args=[
        "--qemu-timeout", "279s", "--name", vm_name, "--uid", vmi_uid, "--namespace", ns,
        "--kubevirt-share-dir", "/var/run/kubevirt", "--ephemeral-disk-dir", "/var/run/kubevirt-ephemeral-disks",
        "--container-disk-dir", "/var/run/kubevirt/container-disks", "--grace-period-seconds", "135",
        "--hook-sidecars", "0", "--ovmf-path", "/usr/share/OVMF"], requests=req),
        container("guest-console-log", img, args=["--serial-socket", f"/var/run/kubevirt-private/{vmi_uid}/virt-serial0",
                                                  "--namespace", ns, "--vmi", vm_name])], service_account="default")
    labels = {"harvesterhci.io/vmName": vm_name, "kubevirt.io": "virt-launcher", "kubevirt.io/created-by": vmi_uid,
              "kubevirt.io/nodeName": node, "vm.kubevirt.io/name": vm_name}
    labels.update(extra_labels or {})
    pod = pod_obj(launcher, ns, spec=lspec, labels=labels,
                  owner_ref=owner("VirtualMachineInstance", vm_name, vmi_uid, "kubevirt.io/v1"),
                  created=created, started=created + dt.timedelta(seconds=2), node=node, node_ip=NODE_IPS[node],
                  pod_ip=pod_ip, qos="Burstable",
                  annotations={"harvesterhci.io/sshNames": "[]", "kubevirt.io/domain": vm_name,
                               "kubevirt.io/migrationTransportUnix": "true",
                               "k8s.v1.cni.cncf.io/network-status": json.dumps(
                                   [{"name": "k8s-pod-network", "ips": [pod_ip], "default": True, "dns": {}}],
                                   indent=4)})
    b.add("v1", "pods", pod)
    b.helpers["all_pods"][(ns, launcher)] = pod
    return pod


def im_pdb(b, node, *, created):
    """The PodDisruptionBudget longhorn-manager keeps on an instance manager that still runs
    engines/replicas (minAvailable 1 on a single pod: never disruptable)."""
    im = b.get("longhorn.io/v1beta2", "instancemanagers", b.helpers["im_names"][node], "longhorn-system")
    name = im["metadata"]["name"]
    md = meta(name, "longhorn-system", created=created, generation=1, uid_=uid("pdb", name),
              managed=[managed_field("longhorn-manager", "policy/v1", created, {
                  "f:spec": {"f:minAvailable": {}, "f:selector": {}}}),
                  managed_field("kube-controller-manager", "policy/v1", created + dt.timedelta(seconds=1), {
                      "f:status": {"f:conditions": {".": {}, 'k:{"type":"DisruptionAllowed"}': {
                          ".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {},
                          "f:reason": {}, "f:status": {}, "f:type": {}}}, "f:currentHealthy": {},
                          "f:desiredHealthy": {}, "f:expectedPods": {}, "f:observedGeneration": {}}},
                                subresource="status")])
    return b.add("policy/v1", "poddisruptionbudgets", {
        "metadata": md,
        "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(im["metadata"]["labels"])}},
        "status": {"observedGeneration": 1, "disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1,
                   "expectedPods": 1,
                   "conditions": [{"type": "DisruptionAllowed", "status": "False", "observedGeneration": 1,
                                   "lastTransitionTime": ts(created + dt.timedelta(seconds=1)),
                                   "reason": "InsufficientPods", "message": ""}]}})


def add_namespace(b, name, created):
    """A namespace with the kube-root-ca.crt ConfigMap every namespace gets."""
    b.add("v1", "namespaces", namespace_obj(name, created))
    b.add("v1", "configmaps", configmap_obj("kube-root-ca.crt", name, {"ca.crt": FAKE_CA},
                                            created=created + dt.timedelta(seconds=1),
                                            annotations={"kubernetes.io/description":
                                                         "Contains a CA bundle that can be used to verify the "
                                                         "kube-apiserver when using internal endpoints such as "
                                                         "the internal service IP or kubernetes.default.svc. No "
                                                         "other usage is guaranteed across distributions of "
                                                         "Kubernetes clusters."}))


def bump_fleet_cluster_bundles(b, extra=1):
    """A Bundle was added after base_cluster: count it in Cluster fleet-local/local (ready)."""
    cl = b.get("fleet.cattle.io/v1alpha1", "clusters", "local", "fleet-local")
    s = cl["status"]["summary"]
    s["desiredReady"] += extra
    s["ready"] += extra
    cl["status"]["display"]["readyBundles"] = f"{s['ready']}/{s['desiredReady']}"



LOGGING_CHART = ("rancher-logging", "103.1.0+up4.4.0")


def upgradelog_obj(U, up, *, created, started, infra_ready, stopped=None, state="Collecting", download_ready):
    """UpgradeLog <U>-upgradelog (v1.4: conditions Started, LoggingOperatorReady, InfraReady, Stopped,
    DownloadReady; the upgradeLogState annotation tells whether the teardown ran)."""
    L = safe_concat_name(U, "upgradelog")
    conds = [hcond("Started", "True", started), hcond("LoggingOperatorReady", "True", created + dt.timedelta(seconds=31)),
             hcond("InfraReady", "True", infra_ready),
             hcond("Stopped", "True", stopped) if stopped else hcond("Stopped", "Unknown"),
             hcond("DownloadReady", "True", download_ready)]
    ann = {"harvesterhci.io/clusterFlow": "ClusterFlowReady", "harvesterhci.io/clusterOutput": "ClusterOutputReady",
           "harvesterhci.io/fluentBit": "FluentBitReady", "harvesterhci.io/fluentd": "FluentdReady",
           "harvesterhci.io/upgradeLogState": state}
    return {"metadata": meta(L, "harvester-system", created=created, labels={"harvesterhci.io/upgrade": U},
                             annotations=ann, owners=[upgrade_owner(up)], generation=9,
                             finalizers=["wrangler.cattle.io/harvester-upgradelog-controller"],
                             updated=stopped or download_ready, uid_=uid("upgradelog", L)),
            "spec": {"upgradeName": U},
            "status": {"conditions": conds}}


def add_logging_operator_chart(b, U, *, created, deployment=None, ready=True):
    """ManagedChart <U>-upgradelog-operator (prepareOperator) and its Bundle; ready=True: Ready."""
    L = safe_concat_name(U, "upgradelog")
    name = safe_concat_name(L, "operator")
    labels = {"harvesterhci.io/upgradeLog": L, "harvesterhci.io/upgradeLogComponent": "operator"}
    res = [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "cattle-logging-system",
            "name": f"{name}-rancher-logging"},
           {"apiVersion": "v1", "kind": "ServiceAccount", "namespace": "cattle-logging-system",
            "name": f"{name}-rancher-logging"},
           {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "name": f"{name}-rancher-logging"},
           {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "name": f"{name}-rancher-logging"}]
    bname = f"mcc-{name}"
    bundle = fleet_bundle(bname, created=created, updated=created + dt.timedelta(minutes=1, seconds=12),
                          resources=res, default_ns="cattle-logging-system", release=name, chart=LOGGING_CHART,
                          labels={"objectset.rio.cattle.io/hash": h("objectset", bname)[:40]},
                          annotations={"objectset.rio.cattle.io/applied": base64.b64encode(
                              h("applied", bname).encode()).decode()[:60],
                                       "objectset.rio.cattle.io/id": "mcc-bundle",
                                       "objectset.rio.cattle.io/owner-gvk": "management.cattle.io/v3, Kind=ManagedChart",
                                       "objectset.rio.cattle.io/owner-name": name,
                                       "objectset.rio.cattle.io/owner-namespace": "fleet-local"})
    bundle["spec"]["targets"] = [{"clusterName": "local", "clusterSelector": {"matchExpressions": [
        {"key": "provisioning.cattle.io/unmanaged-system-agent", "operator": "DoesNotExist"}]}}]
    b.add("fleet.cattle.io/v1alpha1", "bundles", bundle)
    mc = managedchart_obj(name, chart=LOGGING_CHART[0], version=LOGGING_CHART[1], default_ns="cattle-logging-system",
                          release=name, bundle=bundle, created=created)
    mc["metadata"]["labels"] = labels
    mc["metadata"]["uid"] = uid("managedchart", name)
    mc["spec"].pop("version")  # prepareOperator leaves it empty: the repo's latest chart
    mc["spec"].pop("timeoutSeconds")
    mc["spec"]["targets"] = copy.deepcopy(bundle["spec"]["targets"])
    b.add("management.cattle.io/v3", "managedcharts", mc)
    bump_fleet_cluster_bundles(b)
    return mc, bundle


def vmbackup_obj(name, vm, *, created, kind, ready, progress, svmb=None, stamp=None, target=None,
                 finished=None):
    """harvesterhci.io VirtualMachineBackup of vm (type backup or snapshot); ready=False with no
    error = still processing (what the upgrade webhook's C10 looks for)."""
    vmd = vm["metadata"]
    ns = vmd["namespace"]
    labels = ann = None
    if svmb is not None:
        labels = {"harvesterhci.io/svmbackupTimestamp": stamp, "harvesterhci.io/svmbackupUID": svmb["metadata"]["uid"]}
        ann = {"harvesterhci.io/svmbackupId": f"{ns}/{svmb['metadata']['name']}"}
    vols = []
    for v in vm["spec"]["template"]["spec"]["volumes"]:
        if "persistentVolumeClaim" not in v:
            continue
        pvc_name = v["persistentVolumeClaim"]["claimName"]
        vb = {"creationTime": ts(created + dt.timedelta(seconds=3)), "csiDriverName": "driver.longhorn.io",
              "name": f"{name}-volume-{pvc_name}",
              "persistentVolumeClaim": {"metadata": {"name": pvc_name, "namespace": ns},
                                        "spec": {"accessModes": ["ReadWriteMany"], "resources": {
                                            "requests": {"storage": "40Gi"}}, "volumeMode": "Block"}},
              "progress": progress, "readyToUse": ready, "volumeName": v["name"], "volumeSize": 42949672960}
        if kind == "backup":
            vb["longhornBackupName"] = f"backup-{h('lhbackup', name, pvc_name)[:16]}"
        vols.append(vb)
    st = {"conditions": [hcond("InProgress", "False" if ready else "True", finished if ready else created),
                         hcond("Ready", "True" if ready else "False", finished if ready else created)],
          "creationTime": ts(created + dt.timedelta(seconds=3)),
          "csiDriverVolumeSnapshotClassNames": {"driver.longhorn.io": "longhorn" if kind == "backup"
                                                else "longhorn-snapshot"},
          "progress": progress, "readyToUse": ready,
          "source": {"metadata": {"name": vmd["name"], "namespace": ns,
                                  "annotations": {k: v for k, v in vmd["annotations"].items()
                                                  if k.startswith("harvesterhci.io/")},
                                  "labels": dict(vmd["labels"])},
                     "spec": copy.deepcopy(vm["spec"])},
          "sourceUID": vmd["uid"], "volumeBackups": vols}
    if kind == "backup":
        st["backupTarget"] = target
    return {"metadata": meta(name, ns, created=created, labels=labels, annotations=ann, generation=1,
                             finalizers=["wrangler.cattle.io/harvester-vm-backup-controller"],
                             updated=finished or CAPTURE - dt.timedelta(seconds=47)),
            "spec": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vmd["name"]},
                     "type": kind},
            "status": st}


def add_schedule(b, name, vm, *, created, cron, retain, max_failure, kind, suspended_at=None, in_progress=None,
                 target=None, every=dt.timedelta(hours=6)):
    """ScheduleVMBackup with its last `retain` VM backups/snapshots (named svmb-<uid>-<time>, like the
    controller does). suspended_at: suspended by the admin then (status.suspended true, BackupSuspend
    condition). Otherwise active: status.suspended is false and, being omitempty, absent.
    in_progress: the time of the latest run, still processing (readyToUse false, no error)."""
    ns = vm["metadata"]["namespace"]
    suid = uid("svmbackup", ns, name)
    svmb = {"metadata": meta(name, ns, created=created, uid_=suid, generation=2 if suspended_at else 1,
                             finalizers=["wrangler.cattle.io/harvester-svmbackup-controller"]),
            "spec": {"cron": cron, "maxFailure": max_failure, "retain": retain, "suspend": bool(suspended_at),
                     "vmbackup": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
                                             "name": vm["metadata"]["name"]}, "type": kind}},
            "status": {}}
    # the runs: every `every` since creation, the last `retain` kept (+ the one in progress)
    last = suspended_at or in_progress or CAPTURE
    runs = []
    t = created.replace(minute=0, second=0) + every
    while t < last:
        runs.append(t)
        t += every
    if in_progress is not None:
        runs.append(in_progress)
    keep = runs[-(retain + (1 if in_progress is not None else 0)):]
    infos = []
    for t in keep:
        stamp = t.strftime("%Y%m%d.%H%M")
        bname = f"svmb-{suid}-{stamp}"
        running = in_progress is not None and t == in_progress
        vb = vmbackup_obj(bname, vm, created=t + dt.timedelta(seconds=2), kind=kind, ready=not running,
                          progress=37 if running else 100, svmb=svmb, stamp=stamp, target=target,
                          finished=None if running else t + dt.timedelta(minutes=4, seconds=17))
        b.add("harvesterhci.io/v1beta1", "virtualmachinebackups", vb)
        info = {"name": bname, "readyToUse": not running,
                "volumeBackupInfo": [{"name": v["name"], "readyToUse": v["readyToUse"]}
                                     for v in vb["status"]["volumeBackups"]]}
        infos.append(info)
    svmb["status"]["vmbackupInfo"] = infos
    if suspended_at:
        svmb["status"]["suspended"] = True
        svmb["status"]["conditions"] = [hcond("BackupSuspend", "True", suspended_at,
                                              reason="Proactive Schedule Suspend",
                                              message="Proactive Schedule Suspend")]
    touch(svmb, max([suspended_at or created] + [t + dt.timedelta(minutes=5) for t in keep if t != in_progress]
                    + ([in_progress + dt.timedelta(seconds=9)] if in_progress else [])))
    b.add("harvesterhci.io/v1beta1", "schedulevmbackups", svmb)
    return svmb


def merge_log(b, key, entries, salt):
    """Add (time, text) lines to a pod log, keeping the kubelet timestamps in order."""
    old = b.logs.get(key, "").splitlines(keepends=True)
    new = pod_log(entries, salt=salt).splitlines(keepends=True)
    b.logs[key] = "".join(sorted(old + new, key=lambda line: line.split(" ", 1)[0]))


def xtrace_log(start, steps, salt):
    """(time, line) entries for a `bash -ex` script: steps are (seconds after start, [lines])."""
    c = Clock(salt)
    out = []
    for s, lines in steps:
        for line in lines:
            out.append((c.at(start + dt.timedelta(seconds=s)), line))
    return out


def add_repo_vm(b, up, *, node, created, running_since, version):
    """The upgrade repo VM (Repo.createVM / createService): VM, VMI, virt-launcher pod, its PVC
    upgrade-repo-<U>-disk-0 (RWX block 10Gi from the ISO image), PV, Longhorn volume, Service."""
    U = up["metadata"]["name"]
    vm_name = f"upgrade-repo-{U}"
    pvc_name = f"{vm_name}-disk-0"
    ns = "harvester-system"
    vm_uid = uid("vm", ns, vm_name)
    vmi_uid = uid("vmi", ns, vm_name)
    sc = f"longhorn-{U}"
    labels = {"harvesterhci.io/creator": "harvester", "harvesterhci.io/upgrade": U,
              "harvesterhci.io/upgradeComponent": "repo"}
    tpl_labels = dict(labels, **{"harvesterhci.io/vmName": vm_name})
    pod = launcher_pod(b, vm_name, ns, node, vmi_uid=vmi_uid, created=running_since, cpu=1, mem_request="1283008Ki",
                       extra_labels=tpl_labels)
    owned_by = json.dumps([{"schema": "kubevirt.io.virtualmachine", "refs": [f"{ns}/{vm_name}"]}],
                          separators=(",", ":"))
    add_pvc_volume(b, pvc_name, ns, size_gi=10, node=node, created=created + dt.timedelta(seconds=1),
                   attached_at=running_since + dt.timedelta(seconds=6), sc=sc, pod_name=pod["metadata"]["name"],
                   workload=vm_name, workload_type="VirtualMachineInstance",
                   annotations={"harvesterhci.io/imageId": f"{ns}/{U}", "harvesterhci.io/owned-by": owned_by},
                   backing_image=f"{ns}-{U}")
    user_data = ("#cloud-config\nruncmd:\n  - mkdir -p /srv/www/htdocs/harvester-iso\n"
                 "  - mount -o ro /dev/sr0 /srv/www/htdocs/harvester-iso\n  - systemctl start nginx\n")
    vmi_spec = {"architecture": "amd64",
                "domain": {"cpu": {"cores": 1, "model": "host-passthrough", "sockets": 1, "threads": 1},
                           "devices": {"disks": [{"bootOrder": 1, "cdrom": {"bus": "scsi"}, "name": "disk-0"},
                                                 {"cdrom": {"bus": "scsi"}, "name": "cloudinitdisk"}],
                                       "inputs": [{"bus": "usb", "name": "tablet", "type": "tablet"}],
                                       "interfaces": [{"masquerade": {}, "model": "virtio", "name": "default"}]},
                           "firmware": {"bootloader": {"efi": {"secureBoot": False}}},
                           "machine": {"type": "q35"},
                           "resources": {"limits": {"cpu": "1", "memory": "1G"},
                                         "requests": {"cpu": "1", "memory": "1G"}}},
                "evictionStrategy": "LiveMigrateIfPossible", "hostname": vm_name,
                "networks": [{"name": "default", "pod": {}}],
                "readinessProbe": {"failureThreshold": 5, "httpGet": {"path": "/harvester-iso/harvester-release.yaml",
                                                                      "port": 80}, "timeoutSeconds": 30},
                "volumes": [{"name": "disk-0", "persistentVolumeClaim": {"claimName": pvc_name}},
                            {"cloudInitNoCloud": {"userData": user_data}, "name": "cloudinitdisk"}]}
    vct = json.dumps([{"metadata": {"name": pvc_name, "annotations": {"harvesterhci.io/imageId": f"{ns}/{U}"}},
                       "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "10Gi"}},
                                "volumeMode": "Block", "storageClassName": sc}, "status": {}}], separators=(",", ":"))
    vm = {"metadata": meta(vm_name, ns, created=created, generation=2, labels=labels, uid_=vm_uid,
                           annotations={"harvesterhci.io/removedPersistentVolumeClaims": pvc_name,
                                        "harvesterhci.io/volumeClaimTemplates": vct,
                                        "kubevirt.io/latest-observed-api-version": "v1",
                                        "kubevirt.io/storage-observed-api-version": "v1",
                                        "network.harvesterhci.io/ips": "[]"},
                           owners=[upgrade_owner(up)],
                           finalizers=["kubevirt.io/virtualMachineControllerFinalize",
                                       "wrangler.cattle.io/VMController.UnsetOwnerOfPVCs"],
                           updated=running_since + dt.timedelta(seconds=40)),
          "spec": {"runStrategy": "RerunOnFailure",
                   "template": {"metadata": {"creationTimestamp": None, "labels": tpl_labels}, "spec": vmi_spec}},
          "status": {"conditions": [
              {"lastProbeTime": None, "lastTransitionTime": ts(running_since + dt.timedelta(seconds=38)),
               "status": "True", "type": "Ready"},
              {"lastProbeTime": None, "lastTransitionTime": None, "status": "True", "type": "LiveMigratable"}],
              "created": True, "desiredGeneration": 2, "observedGeneration": 2, "printableStatus": "Running",
              "ready": True, "volumeSnapshotStatuses": [
                  {"enabled": True, "name": "disk-0"},
                  {"enabled": False, "name": "cloudinitdisk",
                   "reason": "Snapshot is not supported for this volumeSource type [cloudinitdisk]"}]}}
    b.add("kubevirt.io/v1", "virtualmachines", vm)
    vmi = {"metadata": meta(vm_name, ns, created=running_since - dt.timedelta(seconds=1), generation=9, uid_=vmi_uid,
                            labels=dict(tpl_labels, **{"kubevirt.io/nodeName": node}),
                            annotations={"kubevirt.io/latest-observed-api-version": "v1",
                                         "kubevirt.io/storage-observed-api-version": "v1"},
                            owners=[owner("VirtualMachine", vm_name, vm_uid, "kubevirt.io/v1")],
                            finalizers=["kubevirt.io/virtualMachineControllerFinalize", "foregroundDeleteVirtualMachine"],
                            updated=running_since + dt.timedelta(seconds=40)),
           "spec": copy.deepcopy(vmi_spec),
           "status": vmi_status(vm_name, node, pod=pod, started=running_since, cpu=1, size="10Gi",
                                guest=False,
                                volumes=[{"name": "cloudinitdisk", "size": 1048576, "target": "sdb"},
                                         {"name": "disk-0", "persistentVolumeClaimInfo": {
                                             "accessModes": ["ReadWriteMany"], "capacity": {"storage": "10Gi"},
                                             "filesystemOverhead": "0", "requests": {"storage": "10Gi"},
                                             "volumeMode": "Block"}, "target": "sda"}])}
    b.add("kubevirt.io/v1", "virtualmachineinstances", vmi)
    svc = service_obj(vm_name, ns, cluster_ip=f"10.53.{100 + int(h('repo', U)[:2], 16) % 100}.{int(h('repo', U)[2:4], 16)}",
                      ports=[("", 80, 80)], selector={"harvesterhci.io/upgrade": U,
                                                       "harvesterhci.io/upgradeComponent": "repo"},
                      created=created + dt.timedelta(seconds=1), labels=labels)
    svc["metadata"]["ownerReferences"] = [upgrade_owner(up)]
    svc["metadata"]["uid"] = uid("service", ns, vm_name)
    b.add("v1", "services", svc)
    ep = endpoints_obj(svc, [pod], created=created + dt.timedelta(seconds=1))
    touch(ep, running_since + dt.timedelta(seconds=40))
    b.add("v1", "endpoints", ep)
    # the StorageClass of the ISO image (VirtualMachineImage status.storageClassName)
    b.add("storage.k8s.io/v1", "storageclasses", {
        "metadata": meta(sc, created=created - dt.timedelta(minutes=8)),
        "provisioner": "driver.longhorn.io",
        "parameters": {"backingImage": f"{ns}-{U}", "backingImageDataSourceType": "download",
                       "backingImageDataSourceParameters": json.dumps(
                           {"url": f"https://releases.rancher.com/harvester/{version}/harvester-{version}-amd64.iso"},
                           separators=(",", ":")),
                       "migratable": "true", "numberOfReplicas": "3", "staleReplicaTimeout": "30"},
        "reclaimPolicy": "Delete", "allowVolumeExpansion": True, "volumeBindingMode": "Immediate"})
    return vm, vmi, pod


def simple_deployment(b, name, ns, containers, *, node, labels, created, sa="default", chart=None, owners=None,
                      extra_labels=None, volumes=None, ready=True):
    """A one-replica Deployment with its ReplicaSet and pod on node, rolled out at created."""
    spec = pod_spec(containers, service_account=sa)
    if volumes:
        spec["volumes"] = volumes + spec["volumes"]
    dep = deployment_obj(name, ns, replicas=1, labels=labels, pod_spec_=spec, created=created,
                         updated=created + dt.timedelta(seconds=40), ready=1 if ready else 0)
    dep["metadata"]["labels"].update(extra_labels or {})
    if chart:
        helm_owned(dep, *chart)
    if owners:
        dep["metadata"]["ownerReferences"] = owners
    b.add("apps/v1", "deployments", dep)
    rs = b.add("apps/v1", "replicasets", replicaset_obj(dep, created=created))
    pname = f"{rs['metadata']['name']}-{suffix(5, 'pod', ns, name, 0)}"
    pod = pod_obj(pname, ns, spec=spec, labels=rs["spec"]["selector"]["matchLabels"],
                  owner_ref=owner("ReplicaSet", rs["metadata"]["name"], rs["metadata"]["uid"], "apps/v1"),
                  created=created + dt.timedelta(seconds=1), started=created + dt.timedelta(seconds=2), node=node,
                  node_ip=NODE_IPS[node], pod_ip=b.helpers["ips"].pod_ip(node))
    b.add("v1", "pods", pod)
    b.helpers["all_pods"][(ns, pname)] = pod
    return dep, pod


def add_upgradelog_infra(b, up, ulog, *, created, node, collecting, operator=True):
    """Sub-objects of an UpgradeLog (pkg/controller/master/upgradelog): the rancher-logging operator
    chart, the Logging <L>-infra with its fluentd StatefulSet and fluent-bit DaemonSet, ClusterFlow,
    ClusterOutput (only while collecting), the log-archive PVC, the downloader Deployment and Service
    (kept after the teardown)."""
    L = ulog["metadata"]["name"]
    ns = "harvester-system"
    lref = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "UpgradeLog", "name": L, "uid": ulog["metadata"]["uid"]}
    comp = lambda c: {"harvesterhci.io/upgradeLog": L, "harvesterhci.io/upgradeLogComponent": c}  # noqa: E731
    t_op = created + dt.timedelta(seconds=6)
    t_infra = created + dt.timedelta(seconds=52)
    op_name = safe_concat_name(L, "operator")
    if operator:
        add_namespace(b, "cattle-logging-system", INSTALLED + dt.timedelta(minutes=4, seconds=40))
        op_dep, _ = simple_deployment(
            b, f"{op_name}-rancher-logging", "cattle-logging-system",
            [container("rancher-logging", "rancher/mirrored-kube-logging-logging-operator:4.4.0",
                       args=["-enable-leader-election=true"], ports=[("http", 8080)])],
            node=node, labels={"app.kubernetes.io/instance": op_name, "app.kubernetes.io/name": "rancher-logging"},
            created=t_op, sa=f"{op_name}-rancher-logging",
            chart=(op_name, "cattle-logging-system", f"rancher-logging-{LOGGING_CHART[1]}", f"mcc-{op_name}"))
    # the log archive: fluentd writes it, the downloader serves it
    pvc_name = safe_concat_name(L, "log-archive")
    fluentd_pod = f"{L}-infra-fluentd-0"
    _, lvol, _, _ = add_pvc_volume(b, pvc_name, ns, size_gi=1, node=node, created=t_infra, attached_at=t_infra + dt.timedelta(seconds=20),
                   mode="Filesystem", access="ReadWriteOnce", labels=comp("log-archive"), owners=[lref],
                   pod_name=fluentd_pod if collecting else None,
                   workload=f"{L}-infra-fluentd" if collecting else None,
                   workload_type="StatefulSet" if collecting else None)
    if collecting:
        b.add("logging.banzaicloud.io/v1beta1", "loggings", {
            "metadata": meta(f"{L}-infra", created=t_infra, labels=comp("infra"), owners=[lref], generation=1,
                             finalizers=["logging.banzaicloud.io/finalizer"]),
            "spec": {"controlNamespace": ns, "flowConfigCheckDisabled": True,
                     "fluentbit": {"image": {"repository": "rancher/mirrored-fluent-fluent-bit", "tag": "1.9.5"},
                                   "labels": comp("shipper")},
                     "fluentd": {"configReloaderImage": {"repository": "rancher/mirrored-jimmidyson-configmap-reload",
                                                         "tag": "v0.4.0"},
                                 "disablePvc": True,
                                 "extraVolumes": [{"containerName": "fluentd", "path": "/archive",
                                                   "volume": {"pvc": {"source": {"claimName": pvc_name,
                                                                                 "readOnly": False}}},
                                                   "volumeName": "log-archive"}],
                                 "fluentOutLogrotate": {"age": "10", "enabled": True, "path": "/fluentd/log/out",
                                                        "size": "10485760"},
                                 "image": {"repository": "rancher/mirrored-banzaicloud-fluentd",
                                           "tag": "v1.14.6-alpine-5"},
                                 "labels": comp("aggregator"), "scaling": {"drain": {"enabled": True}}}},
            "status": {"configCheckResults": {}, "problemsCount": 0}})
        b.add("logging.banzaicloud.io/v1beta1", "clusterflows", {
            "metadata": meta(safe_concat_name(L, "clusterflow"), ns, created=t_infra + dt.timedelta(seconds=40),
                             labels=comp("clusterflow"), owners=[lref], generation=1),
            "spec": {"filters": [{"tag_normaliser": {}}, {"dedot": {"de_dot_nested": True, "de_dot_separator": "-"}}],
                     "globalOutputRefs": [safe_concat_name(L, "clusteroutput")],
                     "match": [{"select": {"labels": {}, "namespaces": [n]}} for n in
                               ("kube-system", "harvester-system", "longhorn-system")] +
                              [{"select": {"labels": {"app": "rancher"}, "namespaces": ["cattle-system"]}},
                               {"select": {"container_names": ["upgrade"],
                                           "labels": {"upgrade.cattle.io/controller": "system-upgrade-controller"},
                                           "namespaces": ["cattle-system"]}}]},
            "status": {"active": True, "problemsCount": 0}})
        b.add("logging.banzaicloud.io/v1beta1", "clusteroutputs", {
            "metadata": meta(safe_concat_name(L, "clusteroutput"), ns, created=t_infra + dt.timedelta(seconds=40),
                             labels=comp("clusteroutput"), owners=[lref], generation=1),
            "spec": {"file": {"append": True, "buffer": {"flush_at_shutdown": True, "flush_mode": "immediate",
                                                         "timekey": "1d", "timekey_use_utc": True,
                                                         "timekey_wait": "0m"},
                              "path": "/archive/logs/${tag}"}},
            "status": {"active": True, "problemsCount": 0}})
        linfra = {"apiVersion": "logging.banzaicloud.io/v1beta1", "kind": "Logging", "name": f"{L}-infra",
                  "uid": uid("", f"{L}-infra", ""), "controller": True, "blockOwnerDeletion": True}
        flabels = dict(comp("aggregator"), **{"app.kubernetes.io/managed-by": f"{L}-infra",
                                              "app.kubernetes.io/name": "fluentd"})
        fspec = pod_spec([container("fluentd", "rancher/mirrored-banzaicloud-fluentd:v1.14.6-alpine-5",
                                    ports=[("fluentd-input", 24240)], mounts=[("log-archive", "/archive")]),
                          container("config-reloader", "rancher/mirrored-jimmidyson-configmap-reload:v0.4.0")],
                         service_account=f"{L}-infra-fluentd")
        fspec["volumes"] = [{"name": "log-archive", "persistentVolumeClaim": {"claimName": pvc_name}}] + fspec["volumes"]
        sts = statefulset_obj(f"{L}-infra-fluentd", ns, labels=flabels, pod_spec_=fspec,
                              created=t_infra + dt.timedelta(seconds=2))
        sts["metadata"]["ownerReferences"] = [linfra]
        b.add("apps/v1", "statefulsets", sts)
        fpod = pod_obj(fluentd_pod, ns, spec=fspec, labels=dict(flabels, **{
            "apps.kubernetes.io/pod-index": "0", "controller-revision-hash": sts["status"]["currentRevision"],
            "statefulset.kubernetes.io/pod-name": fluentd_pod}),
                       owner_ref=owner("StatefulSet", sts["metadata"]["name"], sts["metadata"]["uid"], "apps/v1"),
                       created=t_infra + dt.timedelta(seconds=3), started=t_infra + dt.timedelta(seconds=25),
                       node=node, node_ip=NODE_IPS[node], pod_ip=b.helpers["ips"].pod_ip(node))
        b.add("v1", "pods", fpod)
        blabels = dict(comp("shipper"), **{"app.kubernetes.io/managed-by": f"{L}-infra",
                                           "app.kubernetes.io/name": "fluentbit"})
        bspec = pod_spec([container("fluent-bit", "rancher/mirrored-fluent-fluent-bit:1.9.5",
                                    ports=[("http-metrics", 2020)])], service_account=f"{L}-infra-fluentbit",
                         tolerations=[{"operator": "Exists"}])
        ds = daemonset_obj(f"{L}-infra-fluentbit", ns, labels=blabels, pod_spec_=bspec,
                           created=t_infra + dt.timedelta(seconds=2), desired=len(NODES))
        ds["metadata"]["ownerReferences"] = [linfra]
        b.add("apps/v1", "daemonsets", ds)
        for k, n in enumerate(NODES):
            st = max(t_infra + dt.timedelta(seconds=4 + 3 * k), REBOOTS[n] + dt.timedelta(minutes=1, seconds=10))
            b.add("v1", "pods", pod_obj(
                f"{L}-infra-fluentbit-{suffix(5, 'dspod', ns, L, n)}", ns, spec=bspec, labels=dict(blabels, **{
                    "controller-revision-hash": suffix(10, "crh", ns, L), "pod-template-generation": "1"}),
                owner_ref=owner("DaemonSet", ds["metadata"]["name"], ds["metadata"]["uid"], "apps/v1"),
                created=st - dt.timedelta(seconds=1), started=st, node=n, node_ip=NODE_IPS[n],
                pod_ip=b.helpers["ips"].pod_ip(n)))
            b.get("v1", "pods", f"{L}-infra-fluentbit-{suffix(5, 'dspod', ns, L, n)}", ns)["metadata"]["generateName"] = \
                ds["metadata"]["name"] + "-"
        touch(ds, max(REBOOTS[n] for n in NODES) + dt.timedelta(minutes=2))
    # the downloader (kept after the teardown)
    dl_labels = comp("downloader")
    dl, dl_pod = simple_deployment(
        b, safe_concat_name(L, "downloader"), ns,
        [container("downloader", f"{UPGRADE_IMAGE}:{up['status']['previousVersion']}", ports=[("http", 80)],
                   mounts=[("log-archive", "/srv/www/htdocs/")])],
        node=node, labels=dl_labels, created=t_infra + dt.timedelta(minutes=1, seconds=4), owners=[lref],
        volumes=[{"name": "log-archive", "persistentVolumeClaim": {"claimName": pvc_name, "readOnly": True}}])
    dl["spec"]["template"]["spec"]["containers"][0]["command"] = ["nginx", "-g", "daemon off;"]
    if not collecting:  # only the downloader still mounts the archive
        lvol["status"]["kubernetesStatus"]["workloadsStatus"] = [
            {"podName": dl_pod["metadata"]["name"], "podStatus": "Running",
             "workloadName": f"{dl['metadata']['name']}-{rs_hash(ns, dl['metadata']['name'])}",
             "workloadType": "ReplicaSet"}]
    svc = service_obj(L, ns, cluster_ip=f"10.53.{int(h('ulsvc', L)[:2], 16)}.{int(h('ulsvc', L)[2:4], 16)}",
                      ports=[("http", 80, "http")], selector=dl_labels, created=t_infra + dt.timedelta(minutes=1, seconds=4),
                      labels=dl_labels)
    svc["metadata"]["ownerReferences"] = [lref]
    svc["metadata"]["uid"] = uid("service", ns, L)
    b.add("v1", "services", svc)
    b.add("v1", "endpoints", endpoints_obj(svc, [dl_pod], created=t_infra + dt.timedelta(minutes=1, seconds=4)))
    return add_logging_operator_chart(b, up["metadata"]["name"], created=t_op)


def node_images_status(v):
    return [{"names": [image_digest(f"docker.io/{i}:{t}"), f"docker.io/{i}:{t}"], "sizeBytes": s}
            for i, t, s in node_images(v)]


def add_provisioning_cluster(b, *, upgrading, condition):
    """provisioning.cattle.io/v1 Cluster fleet-local/local; upgrading: Harvester's upgradeKubernetes()
    set the new kubernetesVersion, bumped provisionGeneration and added the drain hooks."""
    rke = {"provisionGeneration": 2 if upgrading else 1, "registries": {}}
    if upgrading:
        drain = {"deleteEmptyDirData": True, "enabled": True, "force": True, "ignoreDaemonSets": True,
                 "postDrainHooks": [{"annotation": "harvesterhci.io/post-hook"}],
                 "preDrainHooks": [{"annotation": "harvesterhci.io/pre-hook"}]}
        rke["upgradeStrategy"] = {"controlPlaneConcurrency": "1", "controlPlaneDrainOptions": copy.deepcopy(drain),
                                  "workerConcurrency": "1", "workerDrainOptions": copy.deepcopy(drain)}
    ctype, cstatus, creason, cmsg, cat = condition
    conds = [{"lastUpdateTime": ts(INSTALLED + dt.timedelta(minutes=9)), "status": "True", "type": t}
             for t in ("Created", "RKECluster", "BackingNamespaceCreated", "DefaultProjectCreated",
                       "SystemProjectCreated", "InitialRolesPopulated", "Provisioned", "Ready")]
    conds.append({"lastUpdateTime": ts(cat), "message": cmsg, "reason": creason, "status": cstatus, "type": ctype})
    return b.add("provisioning.cattle.io/v1", "clusters", {
        "metadata": meta("local", "fleet-local", created=INSTALLED + dt.timedelta(minutes=6), generation=4 if upgrading else 2,
                         uid_=uid("provisioning-cluster", "local"), updated=cat,
                         labels={"provisioning.cattle.io/management-cluster-name": "local"},
                         finalizers=["wrangler.cattle.io/provisioning-cluster-remove",
                                     "wrangler.cattle.io/rke-cluster-remove"]),
        "spec": {"kubernetesVersion": V141["rke2"] if upgrading else V["rke2"], "localClusterAuthEndpoint": {},
                 "rkeConfig": rke},
        "status": {"agentDeployed": True, "clientSecretName": "local-kubeconfig", "clusterName": "local",
                   "conditions": conds, "fleetWorkspaceName": "fleet-local",
                   "observedGeneration": 4 if upgrading else 2, "ready": True}})


def migrate_web_vm(b, src, dst, start, end):
    """vm-web-01 is live-migrated src -> dst (KubeVirt evacuation on the kubevirt.io/drain taint):
    a new virt-launcher pod on dst, VMI status.migrationState, a Succeeded
    VirtualMachineInstanceMigration, the Longhorn volume attached to dst through a new engine e-1;
    the source engine e-0 is left behind as an orphan (spec.nodeID "", stopped) that src's instance
    manager still lists (longhorn/longhorn#6764)."""
    hp = b.helpers
    vmi = b.get("kubevirt.io/v1", "virtualmachineinstances", "vm-web-01", "default")
    vmi_uid = vmi["metadata"]["uid"]
    old = find_pod(b, "default", "virt-launcher-vm-web-01-")
    b.remove("v1", "pods", old["metadata"]["name"], "default")
    hp["all_pods"].pop(("default", old["metadata"]["name"]), None)
    for k in [k for k in b.logs if k.startswith(f"default/{old['metadata']['name']}/")]:
        del b.logs[k]
    mig_name = f"kubevirt-evacuation-{suffix(5, 'evac', 'vm-web-01', src)}"
    mig_uid = uid("vmim", "default", mig_name)
    pod = launcher_pod(b, "vm-web-01", "default", dst, vmi_uid=vmi_uid, created=start + dt.timedelta(seconds=1),
                       cpu=2, extra_labels={"kubevirt.io/migrationJobUID": mig_uid}, name_salt="migration-target")
    pod["metadata"]["annotations"]["kubevirt.io/migrationJobName"] = mig_name
    md = vmi["metadata"]
    md["labels"]["kubevirt.io/nodeName"] = dst
    st = vmi["status"]
    ip = pod["status"]["podIP"]
    st["activePods"] = {pod["metadata"]["uid"]: dst}
    st["nodeName"] = dst
    st["interfaces"][0]["ipAddress"] = ip
    st["interfaces"][0]["ipAddresses"] = [ip]
    st["migrationState"] = {"completed": True, "endTimestamp": ts(end), "migrationUid": mig_uid,
                            "mode": "PreCopy", "sourceNode": src, "sourcePod": old["metadata"]["name"],
                            "startTimestamp": ts(start + dt.timedelta(seconds=9)), "targetDirectMigrationNodePorts": {
                                str(38000 + int(h("mport", mig_name)[:3], 16) % 2000): 0},
                            "targetNode": dst, "targetNodeAddress": NODE_IPS[dst],
                            "targetNodeDomainDetected": True, "targetNodeDomainReadyTimestamp": ts(end),
                            "targetPod": pod["metadata"]["name"]}
    touch(vmi, end + dt.timedelta(seconds=2))
    b.add("kubevirt.io/v1", "virtualmachineinstancemigrations", {
        "metadata": meta(mig_name, "default", created=start, generate_name="kubevirt-evacuation-", generation=1,
                         uid_=mig_uid, labels={"kubevirt.io/vmi-name": "vm-web-01"},
                         annotations={"kubevirt.io/evacuationMigration": src,
                                      "kubevirt.io/latest-observed-api-version": "v1",
                                      "kubevirt.io/storage-observed-api-version": "v1"},
                         finalizers=["kubevirt.io/migrationJobFinalize"], updated=end + dt.timedelta(seconds=1)),
        "spec": {"vmiName": "vm-web-01"},
        "status": {"phase": "Succeeded", "phaseTransitionTimestamps": [
            {"phase": p, "phaseTransitionTimestamp": ts(start + dt.timedelta(seconds=s))}
            for p, s in (("Pending", 0), ("Scheduling", 1), ("Scheduled", 4), ("PreparingTarget", 5),
                         ("TargetReady", 8), ("Running", 9))] + [
            {"phase": "Succeeded", "phaseTransitionTimestamp": ts(end)}]}})
    # Longhorn: the volume follows the VM through a second engine; e-0 is orphaned
    vname = web_volume_name()
    vol = b.get("longhorn.io/v1beta2", "volumes", vname, "longhorn-system")
    vol["spec"]["nodeID"] = dst
    vol["status"]["currentNodeID"] = dst
    vol["status"]["ownerID"] = dst
    vol["status"]["kubernetesStatus"]["workloadsStatus"] = [{"podName": pod["metadata"]["name"], "podStatus": "Running",
                                                             "workloadName": "vm-web-01",
                                                             "workloadType": "VirtualMachineInstance"}]
    touch(vol, end + dt.timedelta(seconds=5))
    e0 = b.get("longhorn.io/v1beta2", "engines", f"{vname}-e-0", "longhorn-system")
    e1 = copy.deepcopy(e0)
    e1["metadata"] = meta(f"{vname}-e-1", "longhorn-system", created=start + dt.timedelta(seconds=5), generation=2,
                          labels={"longhornnode": dst, "longhornvolume": vname},
                          owners=copy.deepcopy(e0["metadata"]["ownerReferences"]), finalizers=["longhorn.io"],
                          updated=end + dt.timedelta(seconds=4))
    e1["spec"]["nodeID"] = dst
    e1["status"]["instanceManagerName"] = hp["im_names"][dst]
    e1["status"]["ownerID"] = dst
    b.add("longhorn.io/v1beta2", "engines", e1)
    register_engine(b, e1, dst)
    e0["spec"].update({"active": False, "desireState": "stopped", "nodeID": "", "replicaAddressMap": {}})
    e0["status"].update({"currentReplicaAddressMap": {}, "currentState": "stopped", "endpoint": "",
                         "instanceManagerName": "", "replicaModeMap": {}, "started": False})
    e0["metadata"]["labels"] = {"longhornvolume": vname}
    touch(e0, end + dt.timedelta(seconds=6))
    # the target's virt-launcher log
    c = Clock("vl-target")
    kw = {"kind": "", "name": "vm-web-01", "namespace": "default", "uid": vmi_uid}

    def kv(x, msg, pos, **extra):
        d = {"component": "virt-launcher", "level": "info", "msg": msg, "pos": pos,
             "timestamp": x.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        d.update(extra)
        return json.dumps(d, separators=(",", ":"))
    t0 = start + dt.timedelta(seconds=4)
    entries = [(x, kv(x, m, p, **e)) for x, m, p, e in (
        (c.at(t0), "Collected all requested hook sidecar sockets", "manager.go:88", {}),
        (c.at(t0 + dt.timedelta(seconds=1)), "Connecting to libvirt daemon: qemu+unix:///session?socket=/var/run/libvirt/"
                                             "virtqemud-sock", "libvirt.go:500", {}),
        (c.at(start + dt.timedelta(seconds=9)), "Prepared migration target pod", "server.go:116", kw),
        (c.at(end - dt.timedelta(seconds=1)), "Domain is in state Paused reason Migration", "client.go:290", kw),
        (c.at(end), "Domain is in state Running reason Unknown", "client.go:290", kw),
        (c.at(end + dt.timedelta(seconds=1)), "Synced vmi", "server.go:208", kw))]
    key = f"default/{pod['metadata']['name']}/compute.log"
    b.logs[key] = pod_log(entries, salt=key)
    key = f"default/{pod['metadata']['name']}/guest-console-log.log"
    b.logs[key] = pod_log([(c.at(end + dt.timedelta(seconds=30)), "[184417.102377] IPv6: ADDRCONF(NETDEV_CHANGE): "
                                                                   "enp1s0: link becomes ready")], salt=key)
    return pod


def launcher_logs(b, pod, vm_name, started):
    """compute + guest-console-log logs of a virt-launcher pod whose domain started at `started`."""
    md = pod["metadata"]
    kw = {"kind": "", "name": vm_name, "namespace": md["namespace"], "uid": md["labels"]["kubevirt.io/created-by"]}
    c = Clock(f"vl-{vm_name}")

    def kv(x, msg, pos, **extra):
        d = {"component": "virt-launcher", "level": "info", "msg": msg, "pos": pos,
             "timestamp": x.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        d.update(extra)
        return json.dumps(d, separators=(",", ":"))
    xs = [c.at(started + dt.timedelta(seconds=s)) for s in (0, 0, 1, 4, 4)]
    msgs = (("Collected all requested hook sidecar sockets", "manager.go:88", {}),
            ("Connecting to libvirt daemon: qemu+unix:///session?socket=/var/run/libvirt/virtqemud-sock",
             "libvirt.go:500", {}),
            ("Domain started.", "manager.go:1116", kw), ("Synced vmi", "server.go:208", kw))
    key = f"{md['namespace']}/{md['name']}/compute.log"
    b.logs[key] = pod_log([(x, kv(x, m, p_, **e)) for x, (m, p_, e) in zip(xs[1:], msgs)], salt=key)
    key = f"{md['namespace']}/{md['name']}/guest-console-log.log"
    x = c.at(started + dt.timedelta(seconds=16))
    b.logs[key] = pod_log([(x, ""), (x, f"Ubuntu 22.04.5 LTS {vm_name} ttyS0"), (x, ""), (x, f"{vm_name} login: ")],
                          salt=key)


def apply_manifests_log(U, start, end):
    """Output of upgrade_manifests.sh (v1.4.1, bash -e) for a run that succeeded, condensed."""
    repo = f"http://upgrade-repo-{U}.harvester-system/harvester-iso"
    c = Clock(U + "#am")
    span = (end - start).total_seconds()
    steps = []

    def at(frac, lines):
        steps.append((start + dt.timedelta(seconds=span * frac), lines))
    at(0.0, release_file(V141).splitlines())
    at(0.001, [f'Downloading the file from "{repo}/harvester-release.yaml" to "/tmp/tmp.Vb3qTn8WdA.yaml"...',
               f'Downloading the file from "{repo}/bundle/metadata.yaml" to "/tmp/tmp.kP2xLr9QeZ.yaml"...'])
    at(0.003, ["managedchart.management.cattle.io/harvester patched",
               "managedchart.management.cattle.io/harvester-crd patched",
               "managedchart.management.cattle.io/rancher-monitoring-crd patched",
               "managedchart.management.cattle.io/rancher-logging-crd patched",
               'Error from server (NotFound): managedcharts.management.cattle.io "rancher-monitoring" not found',
               'Error from server (NotFound): managedcharts.management.cattle.io "rancher-logging" not found',
               f"Creating plan {U}-skip-restart-rancher-system-agent to make rancher-system-agent temporarily skip "
               "restarting RKE2 server...",
               f"plan.upgrade.cattle.io/{U}-skip-restart-rancher-system-agent created"])
    for k in range(3):
        at(0.005 + 0.006 * k, [f"Waiting for plan {U}-skip-restart-rancher-system-agent to complete..."])
    at(0.024, [f"Plan {U}-skip-restart-rancher-system-agent completes.",
               f"Deleting plan {U}-skip-restart-rancher-system-agent...",
               f'plan.upgrade.cattle.io "{U}-skip-restart-rancher-system-agent" deleted', "Upgrading Rancher"])
    at(0.06, ["Rancher values:", "bootstrapPassword: admin", "hostPort: 0", "ingress:", "  enabled: false",
              "noDefaultAdmin: false", "rancherImage: rancher/rancher", f"rancherImageTag: {V140['rancher']}",
              "replicas: -2", "systemDefaultRegistry: \"\"", "tls: external",
              "rancher shell-image is , patch is not needed",
              "CAPI cluster fleet-local/local is provisioned (current generation: 2).",
              'clusterrepo.catalog.cattle.io "rancher-charts" deleted',
              'clusterrepo.catalog.cattle.io "rancher-rke2-charts" deleted',
              'clusterrepo.catalog.cattle.io "rancher-partner-charts" deleted',
              'setting.management.cattle.io "chart-default-branch" deleted'])
    at(0.22, ['Release "rancher" has been upgraded. Happy Helming!', "NAME: rancher",
              f"LAST DEPLOYED: {(start + dt.timedelta(seconds=span * 0.09)).strftime('%a %b %d %H:%M:%S %Y')}",
              "NAMESPACE: cattle-system", "STATUS: deployed", "REVISION: 4", "TEST SUITE: None"])
    at(0.23, ["Wait for Rancher to be upgraded...", "Wait for Rancher dependencies helm releases...",
              "Wait for Rancher dependencies rollout...",
              'deployment "fleet-controller" successfully rolled out',
              'deployment "rancher-webhook" successfully rolled out',
              "statefulset rolling update complete 1 pods at revision fleet-agent-6b9c7d8f4d...",
              "Wait for cluster settling down...",
              "Waiting for CAPI cluster fleet-local/local to be provisioned (current phase: Provisioned, current "
              "generation: 2)..."])
    at(0.30, ["CAPI cluster fleet-local/local is provisioned (current generation: 3).",
              "cluster.fleet.cattle.io/local patched", "waiting for fleet-agent creation timestamp to be updated"])
    at(0.33, ["statefulset rolling update complete 1 pods at revision fleet-agent-7f5c9b6d8b...",
              "cluster.provisioning.cattle.io/local labeled", "cluster.provisioning.cattle.io/local patched",
              "Check current local-rke-state secret type...",
              "Current secret type is: rke.cattle.io/cluster-state, skip update", "Upgrading Harvester Cluster Repo",
              "deployment.apps/harvester-cluster-repo patched",
              'Waiting for deployment "harvester-cluster-repo" rollout to finish: 1 old replicas are pending termination...',
              'deployment "harvester-cluster-repo" successfully rolled out',
              "clusterrepo.catalog.cattle.io/harvester-charts patched",
              "Ensuring existing rancher-expose Ingress has ingress class name specified",
              "The ingress class name of the rancher-expose Ingress has been set: nginx", "Upgrading Harvester",
              "kubevirt additionalGuestMemoryOverheadRatio is not found, skip",
              "managedchart.management.cattle.io/harvester-crd patched",
              "patch longhorn nodeDrainPolicy to allow-if-replica-is-stopped",
              "longhorn detachManuallyAttachedVolumesWhenCordoned has been set in managedchart, do not patch again",
              "managedchart.management.cattle.io/harvester configured",
              "managedchart.management.cattle.io/harvester patched",
              "managedchart.management.cattle.io/harvester-crd patched",
              "Waiting for ManagedChart fleet-local/harvester from generation 3", "Target version: 1.4.1, Target state: ready",
              "Current version: 1.4.1, Current state: WaitApplied, Current generation: 3"])
    for k in range(6):
        at(0.34 + 0.05 * k, ["Sleep for 5 seconds to retry", "Current version: 1.4.1, Current state: NotReady, "
                                                             "Current generation: 4"])
    at(0.66, ["Current version: 1.4.1, Current state: null, Current generation: 4",
              "Waiting for ManagedChart fleet-local/harvester-crd from generation 3",
              "Target version: 1.4.1, Target state: ready",
              "Current version: 1.4.1, Current state: null, Current generation: 4",
              f"Waiting for KubeVirt to upgraded to {V141['kubevirt']}...",
              "Sync containerd-registry setting to Rancher", "Rancher registries already set",
              "Waiting for LH settling down...", "Waiting for longhorn-manager to be upgraded..."])
    at(0.72, ["Waiting for longhorn-manager to be upgraded (2/3)..."] +
       [line for n in NODES for line in (
           f"Checking instance-manager (aio) pod on node {n}...",
           f"Checking instance-manager (aio) (image=longhornio/longhorn-instance-manager:{V141['longhorn']}) on "
           f"node {n} OK.")])
    at(0.80, [f"Upgrading Managedchart rancher-monitoring-crd to {V141['monitoring_chart']}",
              f"the rancher-monitoring-crd has already been target version {V141['monitoring_chart']}, nothing to "
              "upgrade", "managedchart.management.cattle.io/rancher-monitoring-crd patched",
              f"Upgrading Managedchart rancher-logging-crd to {V141['logging_chart']}",
              f"the rancher-logging-crd has already been target version {V141['logging_chart']}, nothing to upgrade",
              "managedchart.management.cattle.io/rancher-logging-crd patched", "Applying extra manifests",
              "No extra manifests in /usr/local/share/extra_manifests/v1.4.0 to apply",
              "addon.harvesterhci.io/vm-import-controller patched", "addon.harvesterhci.io/pcidevices-controller patched",
              "addon.harvesterhci.io/harvester-seeder patched", "upgrade addon rancher_monitoring",
              f"try to patch addon rancher-monitoring in cattle-monitoring-system to {V141['monitoring_chart']}",
              "addon is not found, nothing to do", "upgrade addon rancher_logging",
              f"try to patch addon rancher-logging in cattle-logging-system to {V141['logging_chart_release']}",
              "addon is not found, nothing to do", "Only versions before v1.4.0 need this patch.", ""])
    at(0.99, [(start + dt.timedelta(seconds=span * 0.99)).strftime("%a %b %d %H:%M:%S UTC %Y"),
              "NAMESPACE     NAME                                          BUNDLEDEPLOYMENTS-READY   STATUS",
              "fleet-local   fleet-agent-local                             1/1",
              "fleet-local   local-managed-system-agent                    1/1",
              "fleet-local   mcc-harvester                                 1/1",
              "fleet-local   mcc-harvester-crd                             1/1",
              "fleet-local   mcc-local-managed-system-upgrade-controller   1/1",
              "fleet-local   mcc-rancher-logging-crd                       1/1",
              "fleet-local   mcc-rancher-monitoring-crd                    1/1",
              f"fleet-local   mcc-{U}-upgradelog-operator        1/1",
              "all bundles are ready"])
    return [(c.at(x), line) for x, lines in steps for line in lines]


def pre_drain_log(U, node, start, engines, wait_vol, mig_start, mig_end):
    """Output of `upgrade_node.sh pre-drain` (bash -ex) on node: waits for the volumes to be healthy,
    runs the live-migrate detector, taints the node, waits for the VMs to leave."""
    repo = f"http://upgrade-repo-{U}.harvester-system/harvester-iso"
    head = ["+++ dirname /usr/local/bin/upgrade_node.sh", "++ cd /usr/local/bin", "++ pwd",
            "+ SCRIPT_DIR=/usr/local/bin", "+ source /usr/local/bin/lib.sh", "++ UPGRADE_NAMESPACE=harvester-system",
            f"++ UPGRADE_REPO_URL={repo}", f"++ UPGRADE_REPO_VM_NAME=upgrade-repo-{U}",
            f"++ UPGRADE_REPO_RELEASE_FILE={repo}/harvester-release.yaml",
            f"++ UPGRADE_REPO_SQUASHFS_IMAGE={repo}/rootfs.squashfs", f"++ UPGRADE_REPO_BUNDLE_ROOT={repo}/bundle",
            f"++ UPGRADE_REPO_BUNDLE_METADATA={repo}/bundle/metadata.yaml", "++ CACHED_BUNDLE_METADATA=",
            "++ HOST_DIR=/host", "+ UPGRADE_TMP_DIR=/host/usr/local/upgrade_tmp",
            "+ STATE_DIR=/host/run/initramfs/cos-state", "+ MAX_PODS=200", "+ mkdir -p /host/usr/local/upgrade_tmp",
            "+ case $1 in", "+ command_pre_drain", "+ recover_rancher_system_agent",
            "+ chroot /host /bin/bash -c 'rm -rf /run/systemd/system/rancher-system-agent.service.d && systemctl "
            "daemon-reload && systemctl restart rancher-system-agent.service'", "+ wait_longhorn_engines",
            "++ kubectl get nodes --selector=harvesterhci.io/managed=true,node-role.harvesterhci.io/witness!=true -o json",
            "++ jq -r '.items | length'", "+ local node_count=3", "+ kubectl get engines.longhorn.io -n longhorn-system -o json",
            "+ jq -r '.items | map(select(.status.currentState == \"running\")) | map(.metadata.name + \" \" + "
            ".metadata.labels.longhornvolume) | .[]'", "+ read -r lh_engine lh_volume"]
    steps = [(0, head)]
    s = 3
    for vol in engines:
        steps.append((s, [f"+ echo Checking running engine {vol}-e-0...", f"Checking running engine {vol}-e-0...",
                          "+ true", "+ '[' 3 -gt 2 ']'"]))
        waits = int(((mig_start - start).total_seconds() - 12 - s - 6) // 10) if vol == wait_vol else 0
        for k in range(waits + 1):
            healthy = k == waits
            rb = "healthy" if healthy else "degraded"
            lines = [f"++ kubectl get volumes.longhorn.io/{vol} -n longhorn-system '-o=jsonpath={{.status.robustness}}'",
                     f"+ robustness={rb}", f"+ '[' {rb} = healthy ']'"]
            if healthy:
                lines += [f"+ echo 'Volume {vol} is healthy.'", f"Volume {vol} is healthy.", "+ break",
                          "+ read -r lh_engine lh_volume"]
            else:
                lines += [f"+ '[' -f /tmp/skip-{vol} ']'", f"+ echo 'Waiting for volume {vol} to be healthy...'",
                          f"Waiting for volume {vol} to be healthy...", "+ sleep 10", "+ true", "+ '[' 3 -gt 2 ']'"]
            steps.append((s, lines))
            s += 10 if not healthy else 0.4
    ms = (mig_start - start).total_seconds()
    steps.append((ms - 12, [f"+ upgrade-helper vm-live-migrate-detector {node} --shutdown"]))
    steps.append((ms - 11, [logrus("info", mig_start - dt.timedelta(seconds=11), f"Checking vms on node {node}..."),
                            logrus("info", mig_start - dt.timedelta(seconds=11),
                                   "vm default/vm-web-01 can be live migrated to node(s): [harvester-node-2]"),
                            logrus("info", mig_start - dt.timedelta(seconds=11), "There are no non-live-migratable VMs "
                                                                                 f"on node {node}, skip shutting down")]))
    steps.append((ms - 5, [f"+ kubectl taint node {node} --overwrite kubevirt.io/drain=draining:NoSchedule",
                           f"node/{node} modified", "+ wait_vms_out_or_shutdown", "+ local vm_count"]))
    me = (mig_end - start).total_seconds()
    x = ms - 4
    while True:
        done = x > me
        cnt = 0 if done else 1
        lines = ["+ true", "++ get_running_vm_count", "++ local vmioutput=/tmp/vmioutput.yaml",
                 "++ rm -f /tmp/vmioutput.yaml", "++ local EXIT_CODE=0",
                 f"++ kubectl get vmi -A -l kubevirt.io/nodeName={node} -o yaml", "++ [[ 0 -eq 0 ]]",
                 "+++ yq e '.items |  map(select(.status.phase!=\"Succeeded\")) | length' /tmp/vmioutput.yaml",
                 f"++ local count={cnt}", f"++ echo {cnt}", "++ rm -f /tmp/vmioutput.yaml", f"+ vm_count={cnt}",
                 f"+ '[' {cnt} = 0 ']'"]
        if done:
            lines += ["+ break", f"+ echo 'all VMs on node {node} have been live-migrated or shutdown'",
                      f"all VMs on node {node} have been live-migrated or shutdown", "+ wait_evacuation_pdb_gone",
                      "+ kubectl get pdb -o name -A", "+ grep kubevirt-migration-pdb-kubevirt-evacuation-",
                      "+ remove_rke2_canal_config", "+ rm -f /host/var/lib/rancher/rke2/server/manifests/rke2-canal-config.yaml",
                      "+ disable_rke2_charts", "+ cat"]
            steps.append((x, lines))
            break
        lines += ["+ echo 'Waiting for VM live-migration or shutdown...(count: 1)'",
                  "Waiting for VM live-migration or shutdown...(count: 1)", "+ sleep 5"]
        steps.append((x, lines))
        x += 5
    return xtrace_log(start, steps, salt=U + node + "#pre")


def post_drain_log(U, node, start):
    """Output of `upgrade_node.sh post-drain` (bash -ex), condensed: RKE2 is upgraded, the OS image
    is written, the reboot is scheduled."""
    repo = f"http://upgrade-repo-{U}.harvester-system/harvester-iso"
    rke2 = V141["rke2"]
    steps = [(0, ["+ case $1 in", "+ command_post_drain", "+ wait_repo", "++ get_repo_vm_status",
                  f"++ kubectl get virtualmachines.kubevirt.io upgrade-repo-{U} -n harvester-system "
                  "'-o=jsonpath={.status.printableStatus}'", "+ [[ Running == \\R\\u\\n\\n\\i\\n\\g ]]",
                  f"+ curl -sfL {repo}/harvester-release.yaml"] + release_file(V141).splitlines() +
              ["+ detect_repo", "++ mktemp --suffix=.yaml", "+ release_file=/tmp/tmp.Q7nD2kZpLc.yaml",
               f"+ download_file {repo}/harvester-release.yaml /tmp/tmp.Q7nD2kZpLc.yaml",
               f'Downloading the file from "{repo}/harvester-release.yaml" to "/tmp/tmp.Q7nD2kZpLc.yaml"...']),
             (2, ["+ set_max_pods", "+ cat", "+ set_reserved_resource", "+ set_rke2_device_permissions",
                  "+ set_oem_cleanup_kubelet", "+ cat", "+ wait_rke2_upgrade", f"++ echo -n {rke2}",
                  "++ sed 's/-rc[[:digit:]]*//g'", f"+ REPO_RKE2_VERSION_WITHOUT_RC={rke2}", "++ get_node_rke2_version",
                  f"++ kubectl get node {node} -o yaml", "++ yq -e e .status.nodeInfo.kubeletVersion -",
                  f"+ '[' {rke2} = {rke2} ']'", "+ clean_rke2_archives",
                  f"+ kubectl taint node {node} kubevirt.io/drain-", f"node/{node} untainted",
                  "+ convert_nodenetwork_to_vlanconfig", "+ '[' -z v1.4.0 ']'",
                  "+ detect_node_current_harvester_version", "NODE_CURRENT_HARVESTER_VERSION is: v1.4.0",
                  "The UPGRADE_PREVIOUS_VERSION is v1.4.0, NODE_CURRENT_HARVESTER_VERSION is v1.4.0, will check "
                  "nodenetwork upgrade node option", "There is nothing to do in nodenetwork", "+ upgrade_os",
                  "+ trap clean_up_tmp_files EXIT", "++ source /host/etc/os-release", "++ echo Harvester v1.4.0",
                  "+ CURRENT_OS_VERSION='Harvester v1.4.0'", "+ '[' 'Harvester v1.4.1' = 'Harvester v1.4.0' ']'"]),
             (4, [f'Downloading the file from "{repo}/rootfs.squashfs" to "/host/usr/local/upgrade_tmp/tmp.3sJw8vXcRe"...']),
             (118, ["+ mount /host/usr/local/upgrade_tmp/tmp.3sJw8vXcRe /host/tmp/tmp.Zm4cHq0tUi",
                    "+ cleanup_incomplete_state_file", "+ sparsify_passive_img",
                    "Ensuring /host/run/initramfs/cos-state/cOS/passive.img is sparse...",
                    "  was: 2.8G\t/host/run/initramfs/cos-state/cOS/passive.img",
                    "  now: 1.9G\t/host/run/initramfs/cos-state/cOS/passive.img",
                    "+ chroot /host elemental upgrade --logfile /usr/local/upgrade_tmp/elemental-upgrade-20250214.log "
                    "--directory /tmp/tmp.Zm4cHq0tUi --config-dir /tmp/tmp.Hn5Lw2PsAo --debug"]),
             (470, ["+ umount /host/tmp/tmp.Zm4cHq0tUi", "+ rm -rf /host/usr/local/upgrade_tmp/tmp.3sJw8vXcRe",
                    "+ replace_with_mgmtvlan", "VLAN ID:  Not found, assign vlan_id=1",
                    "File not found: /etc/wicked/scripts/setup_bond.sh",
                    "Updated /etc/wicked/scripts/setup_bridge.sh with VLAN ID 1",
                    "Updated /oem/90_custom.yaml with VLAN ID 1", "+ reboot_if_job_succeed", "+ cat", "+ cat",
                    "+ chmod +x /host/tmp/upgrade-reboot.sh", "+ cat", "+ chroot /host systemctl daemon-reload",
                    "+ chroot /host systemctl start upgrade-reboot", "+ clean_up_tmp_files",
                    "Clean up tmp files..."])]
    return xtrace_log(start, steps, salt=U + node + "#post")


# ---- (5) upgrade-stuck-predrained-v1.4.0 ----------------------------------------------------

STUCK_UPGRADE = "hvst-upgrade-mq7xk"
STUCK_PREDRAINED = CAPTURE - dt.timedelta(hours=3, minutes=10, seconds=4)   # node-1 reached Pre-drained
STUCK_PRE1 = STUCK_PREDRAINED - dt.timedelta(minutes=7, seconds=31)        # node-1 pre-drain job created
STUCK_SYS = STUCK_PRE1 - dt.timedelta(minutes=26, seconds=21)              # SystemServicesUpgraded
STUCK_SYS0 = STUCK_SYS - dt.timedelta(minutes=27, seconds=41)              # apply-manifests job created
STUCK_PREP = STUCK_SYS0 - dt.timedelta(seconds=4)                          # NodesPrepared
STUCK_REPO = STUCK_PREP - dt.timedelta(minutes=25, seconds=12)             # RepoReady
STUCK_IMG = STUCK_REPO - dt.timedelta(minutes=3, seconds=4)                # ImageReady
STUCK_T0 = STUCK_IMG - dt.timedelta(minutes=8, seconds=38)                 # the Upgrade is created
STUCK_LOG = STUCK_T0 + dt.timedelta(minutes=1, seconds=51)                 # LogReady
STUCK_N0_BOOT = STUCK_SYS + dt.timedelta(minutes=18, seconds=20)           # harvester-node-0 reboots
STUCK_N0_DONE = STUCK_SYS + dt.timedelta(minutes=20, seconds=41)           # ... and is Succeeded
STUCK_MIG = STUCK_PREDRAINED - dt.timedelta(minutes=1, seconds=49)         # vm-web-01 migrates to node-2
STUCK_MIG_END = STUCK_MIG + dt.timedelta(minutes=1, seconds=11)
STUCK_DRAIN = STUCK_PREDRAINED + dt.timedelta(seconds=12)                  # Rancher cordons and drains node-1


def scenario_upgrade_stuck_predrained_v140() -> BundleModel:
    """harvester/harvester#7366 (docs v1.4.0 -> v1.4.1 known issue 1): upgrade hvst-upgrade-mq7xk to
    v1.4.1 is in UpgradingNodes for 3 h 10 min. Phases 0-3 are done (logging infrastructure, ISO image,
    repo VM on harvester-node-2, image preload, system services: the ManagedCharts, Rancher v2.10.1,
    Fleet, Longhorn v1.7.2 and the Harvester v1.4.1 workloads are rolled out), harvester-node-0 is
    upgraded (RKE2 v1.30.9, OS Harvester v1.4.1, rebooted) and Succeeded. harvester-node-1's pre-drain
    job finished (vm-web-01 was live-migrated to harvester-node-2 by the kubevirt.io/drain taint), the
    node is Pre-drained, cordoned, and Rancher's drain has evicted every Deployment pod - but the
    Longhorn instance-manager of node-1 cannot be evicted: its PodDisruptionBudget stays because
    longhorn-manager still counts the engine pvc-...-e-0 of vm-web-01's volume, orphaned by the
    migration (spec.nodeID "", currentState stopped) - "removing harvester-node-1 PDB is blocked".
    harvester-node-2 waits with its images preloaded. The server-version setting is still v1.4.0
    (it changes at the very end); Longhorn's replica-replenishment-wait-interval is 1800 for the
    duration (the original 600 is saved on the Upgrade)."""
    U = STUCK_UPGRADE
    n0, n1, n2 = NODES
    with cluster_shape(3, bundle_name="bundle-p7d2w", versions=V141_CHARTS, rolled_out=STUCK_SYS - dt.timedelta(minutes=6),
                       ds_rollout=STUCK_SYS - dt.timedelta(minutes=12), reboots={n0: STUCK_N0_BOOT},
                       web_vm_start=CAPTURE - dt.timedelta(days=2, hours=6, minutes=14, seconds=3),
                       drained={n1: STUCK_DRAIN}):
        b = base_cluster(description="Upgrade to v1.4.1 stuck at harvester-node-1 (Pre-drained) for 3 hours")
        hp = b.helpers
        machines = hp["machines"]
        # ---- the past upgrade is no longer the latest --------------------------------------------
        old = b.get("harvesterhci.io/v1beta1", "upgrades", V["past_upgrade"], "harvester-system")
        old["metadata"]["labels"].pop("harvesterhci.io/latestUpgrade")
        old["status"]["repoInfo"] = repo_info(V140)
        touch(old, STUCK_T0 + dt.timedelta(seconds=1))
        # ---- the Upgrade -------------------------------------------------------------------------
        t = lambda **kw: STUCK_SYS + dt.timedelta(**kw)  # noqa: E731
        up = b.add("harvesterhci.io/v1beta1", "upgrades", upgrade_obj(
            U, created=STUCK_T0, version="v1.4.1", previous="v1.4.0", generation=31,
            labels={"harvesterhci.io/latestUpgrade": "true", "harvesterhci.io/upgradeState": "UpgradingNodes"},
            annotations={"harvesterhci.io/replica-replenishment-wait-interval": "600"},
            conditions=[hcond("Completed", "Unknown"), hcond("LogReady", "True", STUCK_LOG),
                        hcond("ImageReady", "True", STUCK_IMG), hcond("RepoReady", "True", STUCK_REPO),
                        hcond("NodesPrepared", "True", STUCK_PREP), hcond("SystemServicesUpgraded", "True", STUCK_SYS),
                        hcond("NodesUpgraded", "Unknown")],
            node_statuses={n0: {"state": "Succeeded"}, n1: {"state": "Pre-drained"}, n2: {"state": "Images preloaded"}},
            repoinfo=repo_info(V141), updated=STUCK_PREDRAINED))
        # ---- logging infrastructure (phase 0) -----------------------------------------------------
        ulog = b.add("harvesterhci.io/v1beta1", "upgradelogs", upgradelog_obj(
            U, up, created=STUCK_T0 + dt.timedelta(seconds=2), started=STUCK_LOG - dt.timedelta(seconds=3),
            infra_ready=STUCK_LOG - dt.timedelta(seconds=20), download_ready=STUCK_LOG + dt.timedelta(seconds=31)))
        add_upgradelog_infra(b, up, ulog, created=STUCK_T0 + dt.timedelta(seconds=2), node=n2, collecting=True)
        # ---- ISO image and repo VM (phase 1) ------------------------------------------------------
        b.add("harvesterhci.io/v1beta1", "virtualmachineimages", iso_image(
            U, "v1.4.1", created=STUCK_LOG + dt.timedelta(seconds=1), imported=STUCK_IMG, up=up))
        add_repo_vm(b, up, node=n2, created=STUCK_IMG + dt.timedelta(seconds=2),
                    running_since=STUCK_IMG + dt.timedelta(seconds=9), version="v1.4.1")
        # ---- image preload (phase 2): the prepare plan; its SUC jobs are gone (900 s TTL) ---------
        prep = b.add("upgrade.cattle.io/v1", "plans", prepare_plan(U, "v1.4.0", created=STUCK_REPO + dt.timedelta(seconds=1),
                                                                   resolved=STUCK_REPO + dt.timedelta(seconds=2)))
        label_nodes_with_plan(b, prep, NODES)
        # phase 3 created and deleted the skip-restart plan; its label stays on the nodes
        skip = skip_restart_plan(U, created=STUCK_SYS0 + dt.timedelta(seconds=31), resolved=STUCK_SYS0 + dt.timedelta(seconds=32))
        label_nodes_with_plan(b, skip, NODES)
        old_images = node_images_status(V140)
        known = {tuple(i["names"]) for i in old_images}
        for n in NODES:  # the running v1.4.0 images and the preloaded v1.4.1 ones
            b.get("v1", "nodes", n)["status"]["images"] = old_images + [
                i for i in node_images_status(V141) if tuple(i["names"]) not in known]
        # ---- jobs: apply-manifests (phase 3), node-0 pre/post-drain, node-1 pre-drain -------------
        am = add_manifest_job(b, up, node=n2, created=STUCK_SYS0, finished=STUCK_SYS - dt.timedelta(seconds=2))
        am_pod = job_pod(b, am, node=n2, created=STUCK_SYS0 + dt.timedelta(seconds=1), finished=STUCK_SYS - dt.timedelta(seconds=2))
        b.logs[f"harvester-system/{am_pod['metadata']['name']}/apply.log"] = pod_log(
            apply_manifests_log(U, STUCK_SYS0 + dt.timedelta(seconds=4), STUCK_SYS - dt.timedelta(seconds=3)),
            salt=U + "#am")
        add_node_job(b, up, n0, "pre-drain", created=t(seconds=8), finished=t(minutes=2, seconds=51))
        pd0 = add_node_job(b, up, n0, "post-drain", created=t(minutes=9, seconds=5), finished=t(minutes=17, seconds=32))
        pd0_pod = job_pod(b, pd0, node=n0, created=t(minutes=9, seconds=6), finished=t(minutes=17, seconds=32),
                          host_network=True)
        b.logs[f"harvester-system/{pd0_pod['metadata']['name']}/apply.log"] = pod_log(
            post_drain_log(U, n0, t(minutes=9, seconds=9)), salt=U + "#pd0")
        pre1 = add_node_job(b, up, n1, "pre-drain", created=STUCK_PRE1, finished=STUCK_PREDRAINED - dt.timedelta(seconds=5))
        pre1_pod = job_pod(b, pre1, node=n1, created=STUCK_PRE1 + dt.timedelta(seconds=1),
                           finished=STUCK_PREDRAINED - dt.timedelta(seconds=5), host_network=True)
        web_vol = web_volume_name()
        repo_vol = f"pvc-{uid('harvester-system', f'upgrade-repo-{U}-disk-0', '')}"
        log_vol = f"pvc-{uid('harvester-system', safe_concat_name(safe_concat_name(U, 'upgradelog'), 'log-archive'), '')}"
        b.logs[f"harvester-system/{pre1_pod['metadata']['name']}/apply.log"] = pod_log(
            pre_drain_log(U, n1, STUCK_PRE1 + dt.timedelta(seconds=4), [web_vol, repo_vol, log_vol], web_vol,
                          STUCK_MIG, STUCK_MIG_END), salt=U + "#pre1")
        # ---- Longhorn: replica replenishment extended for the node upgrades ------------------------
        rr = b.get("longhorn.io/v1beta2", "settings", "replica-replenishment-wait-interval", "longhorn-system")
        rr["value"] = "1800"
        touch(rr, t(seconds=2))
        # ---- harvester-node-0: upgraded ------------------------------------------------------------
        nd0 = b.get("v1", "nodes", n0)
        nd0["status"]["nodeInfo"].update({"kubeletVersion": V141["rke2"], "kubeProxyVersion": V141["rke2"],
                                          "osImage": V141["os"], "kernelVersion": V141["kernel"],
                                          "containerRuntimeVersion": "containerd://" + V141["containerd"].lstrip("v"),
                                          "bootID": uid("boot", n0, "v1.4.1")})
        for p in b.items("v1", "pods", "kube-system"):
            if p["spec"]["nodeName"] == n0 and p["metadata"]["labels"].get("tier") == "control-plane":
                for c in p["spec"]["containers"]:
                    c["image"] = c["image"].replace(V140["k8s_build"], V141["k8s_build"]).replace(
                        V140["etcd_build"], V141["etcd_build"])
                for cs in p["status"]["containerStatuses"]:
                    cs["image"] = cs["image"].replace(V140["k8s_build"], V141["k8s_build"]).replace(
                        V140["etcd_build"], V141["etcd_build"])
                    cs["imageID"] = image_digest(cs["image"])
        b.node_files[n0] = node_bundle_files(n0, V141)
        # ---- harvester-node-1: tainted by the pre-drain script, cordoned by Rancher's drain ---------
        taint_at = STUCK_MIG - dt.timedelta(seconds=4)
        nd1 = b.get("v1", "nodes", n1)
        nd1["spec"]["unschedulable"] = True
        nd1["spec"]["taints"] = [{"key": "kubevirt.io/drain", "value": "draining", "effect": "NoSchedule"},
                                 {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                                  "timeAdded": ts(STUCK_DRAIN)}]
        nd1["metadata"]["managedFields"] += [
            managed_field("kubectl-taint", "v1", taint_at, {"f:spec": {"f:taints": {}}}),
            managed_field("rancher-system-agent", "v1", STUCK_DRAIN, {"f:spec": {"f:unschedulable": {}}})]
        # ---- the RKE2 upgrade with drain hooks (provisioning cluster, machine-plan secrets) ----------
        add_provisioning_cluster(b, upgrading=True, condition=(
            "Updated", "Unknown", "Waiting", f"configuring control plane node(s) {machines[n1]}: draining node",
            STUCK_DRAIN))
        for n, pre, post in ((n0, True, True), (n1, True, False)):
            sec = b.get("v1", "secrets", f"{machines[n]}-machine-plan", "fleet-local")
            ann = sec["metadata"]["annotations"]
            if pre:
                ann["rke.cattle.io/pre-drain"] = ann["harvesterhci.io/pre-hook"] = DRAIN_OPTIONS
            if post:
                ann["rke.cattle.io/post-drain"] = ann["harvesterhci.io/post-hook"] = DRAIN_OPTIONS
            touch(sec, STUCK_N0_DONE if n == n0 else STUCK_PREDRAINED)
        # ---- vm-web-01: live-migrated node-1 -> node-2 by the drain taint -------------------------------
        migrate_web_vm(b, n1, n2, STUCK_MIG, STUCK_MIG_END)
        # ---- Longhorn PDBs: node-1's is blocked by the orphan engine e-0 ---------------------------------
        for n in NODES:
            pod = b.get("v1", "pods", hp["im_names"][n], "longhorn-system")
            im_pdb(b, n, created=parse_ts(pod["status"]["startTime"]) + dt.timedelta(seconds=20))
        lm = find_pod(b, "longhorn-system", "longhorn-manager-", n1)
        lm_key = f"longhorn-system/{lm['metadata']['name']}/longhorn-manager.log"
        im1 = hp["im_names"][n1]
        c = Clock("lm-pdb")
        t0 = _started(lm)
        x0, x1 = c.at(t0), c.at(t0 + dt.timedelta(seconds=3))
        lines = [(x0, logrus("info", x0, "Starting Longhorn manager", version=V["longhorn"])),
                 (x1, logrus("info", x1, "Starting longhorn instance manager controller", node=n1))]
        blocked = (f"Node {im1} is marked unschedulable but removing {n1} PDB is blocked: some volumes are still "
                   f"attached InstanceEngines count 1 {web_vol}-e-0")
        x = STUCK_DRAIN + dt.timedelta(seconds=3)
        while x < CAPTURE - dt.timedelta(seconds=20):
            x1 = c.at(x)
            lines.append((x1, f'time="{ts(x1)}" level=info msg="{blocked}" '
                              'func="controller.(*InstanceManagerController).syncInstanceManagerPDB" '
                              f'file="instance_manager_controller.go:823" controller=longhorn-instance-manager node={n1}'))
            x += dt.timedelta(seconds=90)
        b.logs[lm_key] = pod_log(lines, salt=lm_key)
        # ---- the upgrade controller's view (leader: the harvester pod on node-0) -------------------------
        hv = find_pod(b, "harvester-system", dep_prefix("harvester-system", "harvester"), n0)
        hv_key = f"harvester-system/{hv['metadata']['name']}/apiserver.log"
        c = Clock("hv-upgrade")
        handle = (f"handle upgrade harvester-system/{U} with labels map[harvesterhci.io/latestUpgrade:true "
                  "harvesterhci.io/upgradeState:UpgradingNodes]")
        entries = []
        for x in (STUCK_PRE1 - dt.timedelta(seconds=2), STUCK_PREDRAINED - dt.timedelta(seconds=4),
                  STUCK_PREDRAINED + dt.timedelta(hours=1, minutes=2), STUCK_PREDRAINED + dt.timedelta(hours=2, minutes=4)):
            x1 = c.at(x)
            entries.append((x1, logrus("info", x1, handle)))
        merge_log(b, hv_key, entries, salt=hv_key + "#upgrade")
        return b


# ---- (6) upgrade-failed-leftovers-v1.4.0 ------------------------------------------------------

FAILED_UPGRADE = "hvst-upgrade-x7b2p"
FAILED_OLD_UPGRADE = "hvst-upgrade-8hk2d"
FAILED_T0 = CAPTURE - dt.timedelta(days=9, hours=2, minutes=14, seconds=37)
FAILED_LOG = FAILED_T0 + dt.timedelta(minutes=1, seconds=48)
FAILED_IMG = FAILED_T0 + dt.timedelta(minutes=9, seconds=2)
FAILED_REPO = FAILED_IMG + dt.timedelta(minutes=3, seconds=11)
FAILED_PREP = CAPTURE - dt.timedelta(days=6, hours=20, minutes=31, seconds=12)   # node-2's preload took 2 days
FAILED_SYS0 = FAILED_PREP + dt.timedelta(seconds=4)
FAILED_ADMIN = CAPTURE - dt.timedelta(days=5, hours=1, minutes=22, seconds=9)   # the troubleshooting session


def failed_manifest_runs(start):
    """(created, finished, first) of the 7 pods of the apply-manifests Job (backoffLimit 6): the first
    dies when `kubectl delete plan` meets an etcd leader change, the retries on AlreadyExists; the Job
    controller waits 10 s, 20 s, 40 s ... between them."""
    runs = []
    t = start + dt.timedelta(seconds=1)
    fin = t + dt.timedelta(minutes=1, seconds=47)
    runs.append((t, fin, True))
    delay = 10
    for _ in range(6):
        t = fin + dt.timedelta(seconds=delay + 1)
        fin = t + dt.timedelta(seconds=14 + int(h("run", delay)[:1], 16) % 5)
        runs.append((t, fin, False))
        delay *= 2
    return runs


def failed_manifest_log(U, created, finished, first):
    """upgrade_manifests.sh (bash -e) of one attempt: the first run creates the skip-restart plan and
    fails deleting it; the retries fail creating it again."""
    repo = f"http://upgrade-repo-{U}.harvester-system/harvester-iso"
    c = Clock(f"{U}#fail#{ts(created)}")
    t = created + dt.timedelta(seconds=2)
    tmp = "tmp." + suffix(10, "mktemp", U, ts(created)).replace("b", "B")
    out = [(c.at(t), line) for line in release_file(V141).splitlines()]
    out += [(c.at(t + dt.timedelta(seconds=1)), line) for line in (
        f'Downloading the file from "{repo}/harvester-release.yaml" to "/tmp/tmp.{suffix(10, "rel", ts(created))}.yaml"...',
        f'Downloading the file from "{repo}/bundle/metadata.yaml" to "/tmp/tmp.{suffix(10, "meta", ts(created))}.yaml"...')]
    out += [(c.at(t + dt.timedelta(seconds=3)), line) for line in (
        "managedchart.management.cattle.io/harvester patched", "managedchart.management.cattle.io/harvester-crd patched",
        "managedchart.management.cattle.io/rancher-monitoring-crd patched",
        "managedchart.management.cattle.io/rancher-logging-crd patched",
        'Error from server (NotFound): managedcharts.management.cattle.io "rancher-monitoring" not found',
        'Error from server (NotFound): managedcharts.management.cattle.io "rancher-logging" not found',
        f"Creating plan {U}-skip-restart-rancher-system-agent to make rancher-system-agent temporarily skip restarting "
        "RKE2 server...")]
    if first:
        out.append((c.at(t + dt.timedelta(seconds=4)), f"plan.upgrade.cattle.io/{U}-skip-restart-rancher-system-agent created"))
        for k in range(9):
            out.append((c.at(t + dt.timedelta(seconds=5 + 10 * k)),
                        f"Waiting for plan {U}-skip-restart-rancher-system-agent to complete..."))
        out += [(c.at(finished - dt.timedelta(seconds=2)), f"Plan {U}-skip-restart-rancher-system-agent completes."),
                (c.at(finished - dt.timedelta(seconds=2)), f"Deleting plan {U}-skip-restart-rancher-system-agent..."),
                (c.at(finished - dt.timedelta(seconds=1)), "Error from server: etcdserver: leader changed")]
    else:
        out.append((c.at(finished - dt.timedelta(seconds=1)),
                    f'Error from server (AlreadyExists): error when creating "/tmp/{tmp}.yaml": plans.upgrade.cattle.io '
                    f'"{U}-skip-restart-rancher-system-agent" already exists'))
    return out


def scenario_upgrade_failed_leftovers_v140() -> BundleModel:
    """A failed upgrade and what it left behind; nothing is upgrading now. hvst-upgrade-x7b2p (v1.4.0 ->
    v1.4.1) was created 9 days ago; the image preload on harvester-node-2 took two days (its disk was
    full), then phase 3 failed: the first apply-manifests pod paused the ManagedCharts, created the
    Plan ...-skip-restart-rancher-system-agent, and died when `kubectl delete plan` met an etcd leader
    change; the six retries died on `plans.upgrade.cattle.io ... already exists`, the Job failed
    (BackoffLimitExceeded, 6 d 20 h ago, still within its 7-day TTL) and so did the Upgrade
    (SystemServicesUpgraded False -> Completed False, upgradeState Failed). The UpgradeLog was stopped,
    but its operator ManagedChart survived the teardown (as in harvester/harvester#7560).
    Leftovers: repo VM upgrade-repo-hvst-upgrade-x7b2p (Running, its VMI, pod, PVC, Service), the ISO
    VirtualMachineImage, Plans ...-prepare and ...-skip-restart-rancher-system-agent, ManagedCharts
    harvester, harvester-crd, rancher-monitoring-crd and rancher-logging-crd paused, the UpgradeLog's
    downloader and archive. Five days ago an admin's troubleshooting made it worse (managedFields show
    each edit): he deleted the logging operator Deployment (ManagedChart
    hvst-upgrade-x7b2p-upgradelog-operator: Modified, deployment missing -> blocks C12), re-applied the
    old Upgrade hvst-upgrade-8hk2d from a saved YAML (two Upgrades now carry latestUpgrade=true: the
    node controller logs "there are 2 on-going upgrades"), annotated harvester-node-0 with
    harvesterhci.io/pendingOSImage "Harvester v1.4.1" (its OS is v1.4.0) and set Longhorn's
    replica-replenishment-wait-interval to 1800 "as the upgrade does"."""
    U = FAILED_UPGRADE
    n0, n1, n2 = NODES
    runs = failed_manifest_runs(FAILED_SYS0)
    failed = runs[-1][1] + dt.timedelta(seconds=1)
    with cluster_shape(3, bundle_name="bundle-f4k8m", versions={"past_upgrade": FAILED_OLD_UPGRADE}):
        b = base_cluster(description="Cannot start the v1.4.1 upgrade again after the failed attempt")
        hp = b.helpers
        # ---- the failed Upgrade --------------------------------------------------------------------
        up = b.add("harvesterhci.io/v1beta1", "upgrades", upgrade_obj(
            U, created=FAILED_T0, version="v1.4.1", previous="v1.4.0", generation=17,
            labels={"harvesterhci.io/latestUpgrade": "true", "harvesterhci.io/upgradeState": "Failed"},
            conditions=[hcond("Completed", "False", failed + dt.timedelta(seconds=1)),
                        hcond("LogReady", "True", FAILED_LOG), hcond("ImageReady", "True", FAILED_IMG),
                        hcond("RepoReady", "True", FAILED_REPO), hcond("NodesPrepared", "True", FAILED_PREP),
                        hcond("SystemServicesUpgraded", "False", failed + dt.timedelta(seconds=1),
                              reason="BackoffLimitExceeded", message="Job has reached the specified backoff limit")],
            node_statuses={n: {"state": "Images preloaded"} for n in NODES},
            repoinfo=repo_info(V141), updated=failed + dt.timedelta(seconds=1)))
        ulog = b.add("harvesterhci.io/v1beta1", "upgradelogs", upgradelog_obj(
            U, up, created=FAILED_T0 + dt.timedelta(seconds=2), started=FAILED_LOG - dt.timedelta(seconds=3),
            infra_ready=FAILED_LOG - dt.timedelta(seconds=20), download_ready=FAILED_LOG + dt.timedelta(seconds=31),
            stopped=failed + dt.timedelta(seconds=3), state="Stopped"))
        op_mc, op_bundle = add_upgradelog_infra(b, up, ulog, created=FAILED_T0 + dt.timedelta(seconds=2), node=n2,
                                                collecting=False)
        # the admin deleted the operator Deployment: Fleet reports it missing
        op_name = op_mc["metadata"]["name"]
        dep_name = f"{op_name}-rancher-logging"
        for res in ("deployments", "replicasets"):
            for o in list(b.items("apps/v1", res, "cattle-logging-system")):
                b.remove("apps/v1", res, o["metadata"]["name"], "cattle-logging-system")
        for p in list(b.items("v1", "pods", "cattle-logging-system")):
            b.remove("v1", "pods", p["metadata"]["name"], "cattle-logging-system")
            hp["all_pods"].pop(("cattle-logging-system", p["metadata"]["name"]), None)
        set_fleet_claim(b, op_name, state="Modified", at=FAILED_ADMIN + dt.timedelta(seconds=41), modified=[
            {"kind": "Deployment", "apiVersion": "apps/v1", "namespace": "cattle-logging-system", "name": dep_name,
             "missing": True}])
        # ---- ISO image, repo VM (still running), plans ----------------------------------------------
        b.add("harvesterhci.io/v1beta1", "virtualmachineimages", iso_image(
            U, "v1.4.1", created=FAILED_LOG + dt.timedelta(seconds=1), imported=FAILED_IMG, up=up))
        add_repo_vm(b, up, node=n2, created=FAILED_IMG + dt.timedelta(seconds=2),
                    running_since=FAILED_IMG + dt.timedelta(seconds=9), version="v1.4.1")
        prep = b.add("upgrade.cattle.io/v1", "plans", prepare_plan(U, "v1.4.0", created=FAILED_REPO + dt.timedelta(seconds=1),
                                                                   resolved=FAILED_REPO + dt.timedelta(seconds=2)))
        label_nodes_with_plan(b, prep, NODES)
        skip = b.add("upgrade.cattle.io/v1", "plans", skip_restart_plan(
            U, created=runs[0][0] + dt.timedelta(seconds=6), resolved=runs[0][0] + dt.timedelta(seconds=7)))
        label_nodes_with_plan(b, skip, NODES)
        for n in NODES:  # the preloaded v1.4.1 images
            nd = b.get("v1", "nodes", n)
            known = {tuple(i["names"]) for i in nd["status"]["images"]}
            nd["status"]["images"] += [i for i in node_images_status(V141) if tuple(i["names"]) not in known]
        # ---- the failed apply-manifests Job and its 7 pods ------------------------------------------
        am = add_manifest_job(b, up, node=n1, created=FAILED_SYS0, finished=failed, succeeded=False, failed_pods=7)
        for k, (cr, fin, first) in enumerate(runs):
            pod = job_pod(b, am, node=(n1, n0, n1, n0, n1, n0, n1)[k], created=cr, finished=fin, exit_code=1, k=k)
            b.logs[f"harvester-system/{pod['metadata']['name']}/apply.log"] = pod_log(
                failed_manifest_log(U, cr, fin, first), salt=f"{U}#run{k}")
        # ---- the ManagedCharts the script paused ----------------------------------------------------------
        paused_at = runs[0][0] + dt.timedelta(seconds=5)
        for name in ("harvester", "harvester-crd", "rancher-monitoring-crd", "rancher-logging-crd"):
            mc = b.get("management.cattle.io/v3", "managedcharts", name, "fleet-local")
            bundle = b.get("fleet.cattle.io/v1alpha1", "bundles", f"mcc-{name}", "fleet-local")
            mc["spec"]["paused"] = True
            bundle["spec"]["paused"] = True
            for o in (mc, bundle):
                o["metadata"]["generation"] += 1
                o["status"]["observedGeneration"] += 1
                touch(o, paused_at)
        # ---- the troubleshooting session five days ago -------------------------------------------------------
        old = b.get("harvesterhci.io/v1beta1", "upgrades", FAILED_OLD_UPGRADE, "harvester-system")
        old_md = old["metadata"]
        saved = {"apiVersion": "harvesterhci.io/v1beta1", "kind": "Upgrade",
                 "metadata": {"annotations": {}, "labels": dict(old_md["labels"]), "name": FAILED_OLD_UPGRADE,
                              "namespace": "harvester-system"},
                 "spec": old["spec"]}
        old_md["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration":
                                 json.dumps(saved, separators=(",", ":"), sort_keys=True) + "\n"}
        old_md["managedFields"] = [managed_field("kubectl-client-side-apply", "harvesterhci.io/v1beta1", FAILED_ADMIN, {
            "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
                           "f:labels": {"f:harvesterhci.io/latestUpgrade": {}}}})]
        touch(old, FAILED_ADMIN)
        nd0 = b.get("v1", "nodes", n0)
        nd0["metadata"]["annotations"]["harvesterhci.io/pendingOSImage"] = V141["os"]
        nd0["metadata"]["managedFields"].append(managed_field(
            "kubectl-annotate", "v1", FAILED_ADMIN + dt.timedelta(minutes=3, seconds=12),
            {"f:metadata": {"f:annotations": {"f:harvesterhci.io/pendingOSImage": {}}}}))
        rr = b.get("longhorn.io/v1beta2", "settings", "replica-replenishment-wait-interval", "longhorn-system")
        rr["value"] = "1800"
        rr["metadata"]["managedFields"] = [managed_field("kubectl-edit", "longhorn.io/v1beta2",
                                                         FAILED_ADMIN + dt.timedelta(minutes=5, seconds=40),
                                                         {"f:value": {}})]
        touch(rr, FAILED_ADMIN + dt.timedelta(minutes=5, seconds=40))
        # ---- what the harvester controllers logged -----------------------------------------------------------
        hv = find_pod(b, "harvester-system", dep_prefix("harvester-system", "harvester"), n0)
        hv_key = f"harvester-system/{hv['metadata']['name']}/apiserver.log"
        c = Clock("hv-failed")
        entries = []
        for x, lvl, msg in (
                (FAILED_SYS0 - dt.timedelta(seconds=1), "info", f"handle upgrade harvester-system/{U} with labels "
                 "map[harvesterhci.io/latestUpgrade:true harvesterhci.io/upgradeState:PreparingNodes]"),
                (failed + dt.timedelta(seconds=1), "info", f"handle upgrade harvester-system/{U} with labels "
                 "map[harvesterhci.io/latestUpgrade:true harvesterhci.io/upgradeState:UpgradingSystemServices]")):
            x1 = c.at(x)
            entries.append((x1, logrus(lvl, x1, msg)))
        x = FAILED_ADMIN + dt.timedelta(minutes=3, seconds=13)
        delay = dt.timedelta(milliseconds=5)
        while x < CAPTURE - dt.timedelta(seconds=30):
            x1 = c.at(x)
            entries.append((x1, logrus("error", x1, f"error syncing '{n0}': handler harvester-upgrade-node-controller: "
                                                    "there are 2 on-going upgrades, requeuing")))
            x += delay
            delay = min(delay * 2, dt.timedelta(seconds=1000))
        merge_log(b, hv_key, entries, salt=hv_key + "#failed")
        return b


# ---- (7) upgrade-blocked-v1.4.0 ------------------------------------------------------------

BLOCKED_DISK_ERRORS = CAPTURE - dt.timedelta(days=1, hours=6, minutes=12, seconds=31)   # sdb on node-2 fails
BLOCKED_MAINTENANCE = CAPTURE - dt.timedelta(days=1, hours=4, minutes=3, seconds=18)  # node-2 -> maintenance
BLOCKED_WEB_START = CAPTURE - dt.timedelta(days=6, hours=3, minutes=7, seconds=40)
GPU_RESOURCE = "nvidia.com/TU104GL_TESLA_T4"


def scenario_upgrade_blocked_v140() -> BundleModel:
    """Nothing is upgrading (the only Upgrade is the old succeeded v1.3.2 -> v1.4.0 one, still the
    latestUpgrade), but an Upgrade to v1.4.1 would be refused by the v1.4.0 webhook for several
    reasons at once; it reports only the first (degraded volumes), see harvester-webhook's log:
    - C7: the data disk of harvester-node-2 threw I/O errors 30 h ago (node kernel.log) and the
      replica of vm-web-01's volume on it failed; it cannot be rebuilt (node-2 is cordoned, the two
      other nodes hold a replica already): robustness degraded, 2 of 3 replicas;
    - C15: 28 h ago the admin put harvester-node-2 into maintenance mode for the disk replacement
      (cordoned, maintain-status completed, its Deployment pods evicted to the other nodes; Ready);
    - C10 + C11: the hourly backup schedule default/svmbackup-vm-web-01 is active (status.suspended
      false, hence absent: the field is omitempty) and its 09:00 backup is still processing
      (readyToUse false, no error; the NFS target is slow);
    - C22: VM vm-db-01 (harvester-node-0) runs on a 1-replica volume (StorageClass
      harvester-longhorn-single), attached;
    - C24: VM vm-gpu-01 (harvester-node-1) has a PCI passthrough GPU (spec.domain.devices.hostDevices),
      its VMI is LiveMigratable=False.
    Everything else is healthy: ManagedCharts Ready, CAPI cluster Provisioned, machines Running."""
    with cluster_shape(3, bundle_name="bundle-h3c9t", web_vm_start=BLOCKED_WEB_START,
                       drained={NODES[2]: BLOCKED_MAINTENANCE + dt.timedelta(seconds=20)}):
        b = base_cluster(description="Upgrade to v1.4.1 is refused: there are degraded volumes")
        hp = b.helpers
        n0, n1, n2 = NODES
        # ---- harvester-node-2 in maintenance mode ----------------------------------------------
        node2 = b.get("v1", "nodes", n2)
        node2["spec"]["unschedulable"] = True
        node2["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                                    "timeAdded": ts(BLOCKED_MAINTENANCE)}]
        node2["metadata"]["annotations"]["harvesterhci.io/maintain-status"] = "completed"
        node2["metadata"]["managedFields"].append(managed_field("harvester", "v1", BLOCKED_MAINTENANCE, {
            "f:metadata": {"f:annotations": {"f:harvesterhci.io/maintain-status": {}}},
            "f:spec": {"f:unschedulable": {}}}))
        # ---- C7: the failed replica of vm-web-01's volume on harvester-node-2 ---------------------
        wv = b.get("longhorn.io/v1beta2", "volumes", web_volume_name(), "longhorn-system")
        wname = wv["metadata"]["name"]
        failed = BLOCKED_DISK_ERRORS + dt.timedelta(seconds=4)
        wv["status"]["robustness"] = "degraded"
        wv["status"]["lastDegradedAt"] = ts(failed)
        for c in wv["status"]["conditions"]:
            if c["type"] == "Scheduled":
                c.update({"status": "False", "lastTransitionTime": ts(failed + dt.timedelta(minutes=10)),
                          "reason": "ReplicaSchedulingFailure",
                          "message": "precheck new replica failed: disks are unavailable"})
        touch(wv, failed + dt.timedelta(minutes=10))
        rep = [r for r in b.items("longhorn.io/v1beta2", "replicas", "longhorn-system")
               if r["spec"]["volumeName"] == wname and r["spec"]["nodeID"] == n2][0]
        rep["spec"]["failedAt"] = ts(failed)
        rep["spec"]["desireState"] = "stopped"
        rep["status"].update({"currentState": "stopped", "instanceManagerName": "", "ip": "", "port": 0,
                              "started": False, "storageIP": ""})
        touch(rep, failed + dt.timedelta(seconds=2))
        im2 = b.get("longhorn.io/v1beta2", "instancemanagers", hp["im_names"][n2], "longhorn-system")
        im2["status"]["instanceReplicas"].pop(rep["metadata"]["name"])
        eng = b.get("longhorn.io/v1beta2", "engines", f"{wname}-e-0", "longhorn-system")
        eng["spec"]["replicaAddressMap"] = {k: v for k, v in eng["spec"]["replicaAddressMap"].items()
                                            if k != rep["metadata"]["name"]}
        for k in ("currentReplicaAddressMap", "replicaModeMap"):
            eng["status"][k] = {r: v for r, v in eng["status"][k].items() if r != rep["metadata"]["name"]}
        touch(eng, failed + dt.timedelta(seconds=1))
        # the replica was on node-2's data disk, sdb
        provision_extra_disk(b, n2, rep, CAPTURE - dt.timedelta(days=41, hours=5, minutes=2))
        b.node_files[n2]["logs/kernel.log"] += "".join(
            journal(t, n2, "kernel", None, m) + "\n" for t, m in (
                (BLOCKED_DISK_ERRORS, "sd 2:0:1:0: [sdb] tag#87 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK "
                                      "cmd_age=30s"),
                (BLOCKED_DISK_ERRORS, "sd 2:0:1:0: [sdb] tag#87 Sense Key : Medium Error [current]"),
                (BLOCKED_DISK_ERRORS + dt.timedelta(microseconds=41), "sd 2:0:1:0: [sdb] tag#87 Add. Sense: Unrecovered "
                                                                   "read error"),
                (BLOCKED_DISK_ERRORS + dt.timedelta(microseconds=88), "I/O error, dev sdb, sector 734003968 op 0x1:(WRITE) "
                                                                   "flags 0x8800 phys_seg 32 prio class 2"),
                (BLOCKED_DISK_ERRORS + dt.timedelta(seconds=3), "EXT4-fs warning (device sdb): ext4_end_bio:343: I/O error "
                                                             "10 writing to inode 2883597 starting block 91750496)")))
        # ---- C11 + C10: an active hourly backup schedule, its 09:00 run still in progress --------
        target = "nfs://10.10.0.200:/var/nfs/harvester"
        bt = b.get("harvesterhci.io/v1beta1", "settings", "backup-target")
        bt["value"] = json.dumps({"type": "nfs", "endpoint": target}, separators=(",", ":"))
        touch(bt, CAPTURE - dt.timedelta(days=9, hours=2))
        lbt = b.get("longhorn.io/v1beta2", "settings", "backup-target", "longhorn-system")
        lbt["value"] = target
        touch(lbt, CAPTURE - dt.timedelta(days=9, hours=2))
        vm_web = b.get("kubevirt.io/v1", "virtualmachines", "vm-web-01", "default")
        add_schedule(b, "svmbackup-vm-web-01", vm_web, created=CAPTURE - dt.timedelta(days=8, hours=23, minutes=14),
                     cron="0 * * * *", retain=8, max_failure=4, kind="backup", target={"endpoint": target},
                     in_progress=CAPTURE.replace(minute=0, second=0), every=dt.timedelta(hours=1))
        # ---- C22: vm-db-01 on a single-replica volume (harvester-node-0) ----------------------------
        b.add("storage.k8s.io/v1", "storageclasses", {
            "metadata": meta("harvester-longhorn-single", created=CAPTURE - dt.timedelta(days=40, hours=5)),
            "provisioner": "driver.longhorn.io",
            "parameters": {"migratable": "true", "numberOfReplicas": "1", "staleReplicaTimeout": "30"},
            "reclaimPolicy": "Delete", "allowVolumeExpansion": True, "volumeBindingMode": "Immediate"})
        db_start = CAPTURE - dt.timedelta(days=2, hours=7)
        _, _, pod_db = hp["add_vm"]("vm-db-01", node=n0, running=True, disk_gi=60, cpu=4, mem="8Gi",
                                    created=CAPTURE - dt.timedelta(days=39, hours=22), started=db_start,
                                    sc="harvester-longhorn-single", replica_nodes=[n0])
        launcher_logs(b, pod_db, "vm-db-01", db_start + dt.timedelta(seconds=6))
        # ---- C24: vm-gpu-01 with a PCI passthrough GPU (harvester-node-1) ------------------------
        addr = "0000:65:00.0"
        dev = f"{n1}-000065000"
        claim_t = CAPTURE - dt.timedelta(days=20, hours=1, minutes=5)
        for nd in (b.get("v1", "nodes", n1),):
            for k in ("capacity", "allocatable"):
                nd["status"][k][GPU_RESOURCE] = "1"
        b.add("devices.harvesterhci.io/v1beta1", "pcidevices", {
            "metadata": meta(dev, created=INSTALLED + dt.timedelta(days=30), labels={"nodename": n1},
                             generation=1, uid_=uid("pcidevice", dev)),
            "spec": {},
            "status": {"address": addr, "classId": "0302", "description": "3D controller: NVIDIA Corporation TU104GL "
                                                                         "[Tesla T4]",
                       "deviceId": "1eb8", "iommuGroup": "44", "kernelDriverInUse": "vfio-pci", "nodeName": n1,
                       "resourceName": GPU_RESOURCE, "vendorId": "10de"}})
        b.add("devices.harvesterhci.io/v1beta1", "pcideviceclaims", {
            "metadata": meta(dev, created=claim_t, generation=1, uid_=uid("pcideviceclaim", dev),
                             finalizers=["wrangler.cattle.io/PCIDeviceClaimOnRemove"],
                             owners=[{"apiVersion": "devices.harvesterhci.io/v1beta1", "kind": "PCIDevice",
                                      "name": dev, "uid": uid("pcidevice", dev)}]),
            "spec": {"address": addr, "nodeName": n1, "userName": "admin"},
            "status": {"kernelDriverToUnbind": "nvidia", "passthroughEnabled": True}})
        gpu_start = CAPTURE - dt.timedelta(days=6, hours=1, minutes=44)
        vm_gpu, vmi_gpu, pod_gpu = hp["add_vm"]("vm-gpu-01", node=n1, running=True, disk_gi=80, cpu=8, mem="32Gi",
                                                created=claim_t + dt.timedelta(minutes=12), started=gpu_start)
        launcher_logs(b, pod_gpu, "vm-gpu-01", gpu_start + dt.timedelta(seconds=6))
        host_devs = [{"deviceName": GPU_RESOURCE, "name": dev}]
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [n1]}]}]}}}
        for spec in (vm_gpu["spec"]["template"]["spec"], vmi_gpu["spec"]):
            spec["domain"]["devices"]["hostDevices"] = copy.deepcopy(host_devs)
            spec["affinity"] = copy.deepcopy(affinity)
        why = {"reason": "HostDeviceNotLiveMigratable", "message": "VMI uses a PCI host devices"}
        for conds in (vmi_gpu["status"]["conditions"], vm_gpu["status"]["conditions"]):
            for c in conds:
                if c["type"] == "LiveMigratable":
                    c.update({"status": "False", **why})
        for c in pod_gpu["spec"]["containers"]:
            if c["name"] == "compute":
                c["resources"] = {"limits": {GPU_RESOURCE: "1"}, "requests": dict(c["resources"]["requests"],
                                                                                  **{GPU_RESOURCE: "1"})}
        pod_gpu["spec"]["affinity"] = copy.deepcopy(affinity)
        # ---- what the webhook answered (AdmissionHandler logs the rejection at debug level) --------
        wh = find_pod(b, "harvester-system", dep_prefix("harvester-system", "harvester-webhook"), n1)
        key = f"harvester-system/{wh['metadata']['name']}/harvester-webhook.log"
        req = ("Request (user: user-wp5tq, harvesterhci.io/v1beta1, Kind=Upgrade, namespace: harvester-system, "
               "name: , operation: CREATE)")
        c = Clock("wh-deny-blocked")
        lines = []
        for t in (CAPTURE - dt.timedelta(minutes=26, seconds=40), CAPTURE - dt.timedelta(minutes=12, seconds=5)):
            x1, x2 = c.at(t), c.at(t)
            lines += [(x1, logrus("debug", x1, f"{req} admitting validation")),
                      (x2, logrus("debug", x2, f"{req} operation is rejected: there are degraded volumes, please "
                                               "check all volumes are healthy"))]
        b.logs[key] += pod_log(lines, salt=key + "#deny")
        return b


# ---- (8) clean-v1.5.0 ------------------------------------------------------------------------

CLEAN150_CLUSTER_ID = "8d2f4b61-0c7e-4a95-b3d8-2e6f1a9c7b40"


def scenario_clean_v150() -> BundleModel:
    """A clean, healthy Harvester v1.5.0 cluster (Rancher v2.11.0, Fleet v0.12.0 with the agent as a
    Deployment, RKE2 v1.32.3, Longhorn v1.8.1, KubeVirt 1.4.0), 3 nodes, on the same synthetic
    timeline as the v1.4.0 samples: the past upgrade hvst-upgrade-w2m5d (v1.4.2 -> v1.5.0) succeeded
    and is the only one labelled latestUpgrade, Version v1.5.1 is offered. Nodes carry
    harvesterhci.io/managed=true and cluster.x-k8s.io/machine=<machine> matching the machines'
    nodeRefs (what the v1.5.1+ check C21 reads); the running VM is live-migratable; every volume has 3
    healthy replicas; the only VM backup schedule (snapshots of vm-web-01) is suspended. Every
    upgrade admission check an analyzer can evaluate from YAML passes."""
    with cluster_shape(3, cluster_id=CLEAN150_CLUSTER_ID, bundle_name="bundle-r8n2f", versions=V150):
        b = base_cluster(description="Health check before the v1.5.1 upgrade")
        # a suspended snapshot schedule of vm-web-01 (suspended by the admin before the upgrade)
        vm = b.get("kubevirt.io/v1", "virtualmachines", "vm-web-01", "default")
        created = CAPTURE - dt.timedelta(days=12, hours=3, minutes=8)
        suspended = CAPTURE - dt.timedelta(days=1, hours=2, minutes=41)
        add_schedule(b, "svmb-vm-web-01-snap", vm, created=created, cron="0 */6 * * *", retain=4, max_failure=2,
                     kind="snapshot", suspended_at=suspended)
        return b


# ---- helpers shared by the webhook-down and node-down scenarios -------------------------------

def pod_is_ready(pod) -> bool:
    """What the endpoints controllers read: the pod's Ready condition (not the containerStatuses,
    which a lost kubelet no longer updates)."""
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])


def pod_changed_at(pod) -> dt.datetime:
    """Last change of a pod that the endpoints controllers react to (Ready flip, deletion)."""
    t = max(parse_ts(c["lastTransitionTime"]) for c in pod["status"]["conditions"]
            if c["type"] in ("Ready", "DisruptionTarget"))
    return t


def _selects(selector, pod) -> bool:
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def sync_service_endpoints(b: BundleModel):
    """Recompute Endpoints and EndpointSlices of every Service with a selector from the pods as
    they are now (ready by the Ready condition; terminating pods leave Endpoints and stay in the
    EndpointSlice as terminating). Objects whose content does not change are left untouched, so
    on an unmodified base_cluster() this is a no-op."""
    for (ns, gv, res), svcs in sorted(b.lists.items(), key=lambda kv: str(kv[0])):
        if gv != "v1" or res != "services":
            continue
        for svc in svcs:
            sel = svc["spec"].get("selector")
            if not sel:
                continue
            name = svc["metadata"]["name"]
            pods = [p for p in b.items("v1", "pods", ns) if _selects(sel, p)]
            live = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
            changed = max([pod_changed_at(p) for p in pods], default=None)
            try:
                ep = b.get("v1", "endpoints", name, ns)
            except KeyError:
                ep = None
            if ep is not None:
                addrs, not_ready = [], []
                for p in live:
                    a = {"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                         "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                       "uid": p["metadata"]["uid"]}}
                    (addrs if pod_is_ready(p) else not_ready).append(a)
                subset = {}
                if addrs:
                    subset["addresses"] = sorted(addrs, key=lambda a: a["ip"])
                if not_ready:
                    subset["notReadyAddresses"] = sorted(not_ready, key=lambda a: a["ip"])
                subset["ports"] = ep["subsets"][0]["ports"]
                if ep["subsets"] != [subset]:
                    ep["subsets"] = [subset]
                    ep["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"] = ts(changed)
                    touch(ep, changed + dt.timedelta(seconds=1))
            for sl in b.items("discovery.k8s.io/v1", "endpointslices", ns):
                if sl["metadata"]["labels"].get("kubernetes.io/service-name") != name:
                    continue
                eps = []
                for p in sorted(pods, key=lambda p: p["status"]["podIP"]):
                    term = "deletionTimestamp" in p["metadata"]
                    ok = pod_is_ready(p)
                    eps.append({"addresses": [p["status"]["podIP"]],
                                "conditions": {"ready": ok and not term, "serving": ok, "terminating": term},
                                "targetRef": {"kind": "Pod", "namespace": ns, "name": p["metadata"]["name"],
                                              "uid": p["metadata"]["uid"]},
                                "nodeName": p["spec"]["nodeName"]})
                if sl["endpoints"] != eps:
                    sl["endpoints"] = eps
                    touch(sl, changed + dt.timedelta(seconds=1))


def rebuild_pod_metrics(b: BundleModel, down_nodes=()):
    """metrics.k8s.io PodMetrics of harvester-system (what base_cluster() collects) for the pods
    metrics-server can measure now: containers running, node reachable. Same values as the base
    for the pods the base had."""
    ns = "harvester-system"
    key = (ns, "metrics.k8s.io/v1beta1", "pods")
    b.lists[key] = []
    for pod in sorted(b.items("v1", "pods", ns), key=lambda p: p["metadata"]["name"]):
        pname = pod["metadata"]["name"]
        if pod["spec"]["nodeName"] in down_nodes:
            continue
        if not any("running" in cs["state"] for cs in pod["status"]["containerStatuses"]):
            continue
        b.add("metrics.k8s.io/v1beta1", "pods", {
            "metadata": {"name": pname, "namespace": ns, "creationTimestamp": ts(CAPTURE),
                         "labels": pod["metadata"]["labels"]},
            "timestamp": ts(CAPTURE - dt.timedelta(seconds=11)), "window": "11.318s",
            "containers": [{"name": c["name"], "usage": {"cpu": f"{int(h('pcpu', pname, c['name'])[:6], 16) % 50000000}n",
                                                         "memory": f"{40000 + int(h('pmem', pname)[:5], 16) % 400000}Ki"}}
                           for c in pod["spec"]["containers"]]})


def logrus_q(level, t, msg, **fields):
    """logrus text line whose message contains quotes (the TextFormatter escapes them)."""
    return logrus(level, t, msg.replace("\\", "\\\\").replace('"', '\\"'), **fields)


def kv_log(component, level, t, msg, pos, **kw):
    """KubeVirt JSON log line (same shape as base_logs' virt-handler lines)."""
    d = {"component": component, "level": level, "msg": msg, "pos": pos,
         "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    d.update(kw)
    return json.dumps(d, separators=(",", ":"))


def crash_timeline(first_start, run, salt, *, until=None):
    """Container starts of a crash-looping container (kubelet back-off 10 s doubling to 5 min,
    plus a few seconds until the next pod sync): [start_0, start_1, ...] up to `until`."""
    until = until or CAPTURE
    starts = [first_start]
    k = 0
    while True:
        backoff = min(10 * 2 ** k, 300) + 1 + int(h("sync", salt, k)[:2], 16) % 9
        nxt = starts[-1] + run + dt.timedelta(seconds=backoff)
        if nxt + run >= until - dt.timedelta(seconds=20):
            return starts
        starts.append(nxt)
        k += 1


# ---- (9) webhook-down-v1.4.0 -----------------------------------------------------------------

WH_URL = "https://harvester-webhook.harvester-system.svc:443/v1/webhook/validation?timeout=10s"
WH_SECRET_EDIT = CAPTURE - dt.timedelta(hours=1, minutes=53, seconds=39)   # TLS secret replaced by hand
WH_DELETED = CAPTURE - dt.timedelta(hours=1, minutes=52, seconds=7)        # the 3 webhook pods deleted
WH_IMAGE_CREATED = WH_DELETED - dt.timedelta(minutes=14, seconds=38)      # image-w4r7t download started
WH_WEB_START = CAPTURE - dt.timedelta(days=1, hours=2, minutes=31, seconds=5)
WH_IMAGE = "image-w4r7t"
WH_RUN = dt.timedelta(seconds=2)                                           # each webhook run until the fatal


def webhook_refused(svc_ip, webhook="validator.harvesterhci.io", url=WH_URL) -> str:
    """The API server's error when a webhook's Service has no endpoint (kube-proxy rejects)."""
    return (f'Internal error occurred: failed calling webhook "{webhook}": failed to call webhook: '
            f'Post "{url}": dial tcp {svc_ip}:443: connect: connection refused')


def scenario_webhook_down_v140() -> BundleModel:
    """Harvester's admission webhook has no ready backend for 1 h 52 min. The admin replaced the
    TLS secret harvester-system/harvester-webhook-tls by hand (a certificate whose key does not
    match; Secrets are not in a bundle) and deleted the three harvester-webhook pods so that they
    would load it. The ReplicaSet recreated them on the same nodes (pods CREATE pass: the
    mutator fails open), and every run of the new pods ends ~2 s after start with
    `level=fatal msg="failed to run webhook server: failed to load TLS secret
    harvester-system/harvester-webhook-tls: tls: private key does not match public key"`:
    CrashLoopBackOff (25 restarts each), Deployment 0/3, Endpoints and EndpointSlice only not-ready.
    ValidatingWebhookConfiguration harvester-validator (validator.harvesterhci.io, failurePolicy
    Fail) therefore refuses every call it intercepts with `failed calling webhook
    "validator.harvesterhci.io": ... dial tcp 10.53.211.88:443: connect: connection refused`:
    - VirtualMachineImage default/image-w4r7t (an ISO download started 15 min before) is stuck at
      37 %: harvester's backing-image-controller cannot update it (harvester pod log, a
      FailedUpdate event on the image);
    - virt-handler cannot patch its node's heartbeat (node UPDATE is validated too): its log has
      `Can't patch node ...` every minute, every node's kubevirt.io/heartbeat is 1 h 52 min old.
    MutatingWebhookConfiguration harvester-mutator (mutator.harvesterhci.io) is failurePolicy
    Ignore here, as Harvester writes it (with Fail no pod could have been created during the
    outage, the support-bundle manager's included). Fleet's claim on mcc-harvester (NotReady:
    Deployment harvester-webhook Available 0/3) is current. vm-web-01 was started a day earlier
    (a start during the outage would have been refused). Everything else is healthy."""
    with cluster_shape(3, bundle_name="bundle-p4v8n", web_vm_start=WH_WEB_START):
        b = base_cluster(description="Image upload stuck at 37%, UI says failed calling webhook "
                                     "validator.harvesterhci.io")
        hp = b.helpers
        ns = "harvester-system"
        name = "harvester-webhook"
        svc = b.get("v1", "services", name, ns)
        svc_ip = svc["spec"]["clusterIP"]
        refused = webhook_refused(svc_ip)
        # ---- the mutator fails open (as Harvester configures it) ---------------------------------
        mwc = b.get("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", "harvester-mutator")
        mwc["webhooks"][0]["failurePolicy"] = "Ignore"
        # ---- the three webhook pods, deleted and recreated into a crash loop ----------------------
        dep = b.get("apps/v1", "deployments", name, ns)
        rs = b.get("apps/v1", "replicasets", f"{name}-{rs_hash(ns, name)}", ns)
        old = sorted([p for p in b.items("v1", "pods", ns) if p["metadata"]["name"].startswith(dep_prefix(ns, name))],
                     key=lambda p: NODES.index(p["spec"]["nodeName"]))
        for p in old:
            b.remove("v1", "pods", p["metadata"]["name"], ns)
            hp["all_pods"].pop((ns, p["metadata"]["name"]), None)
            for key in [k for k in b.logs if k.startswith(f"{ns}/{p['metadata']['name']}/")]:
                del b.logs[key]
        image = hp["img"]["webhook"]
        new_pods = []
        events = []
        for k, op in enumerate(old):
            node = op["spec"]["nodeName"]
            created = WH_DELETED + dt.timedelta(seconds=1)
            started = created + dt.timedelta(seconds=1 + k)
            pname = f"{rs['metadata']['name']}-{suffix(5, 'pod', ns, name, k, 'recreated')}"
            pod = pod_obj(pname, ns, spec=dep["spec"]["template"]["spec"], labels=rs["spec"]["selector"]["matchLabels"],
                          owner_ref=owner("ReplicaSet", rs["metadata"]["name"], rs["metadata"]["uid"], "apps/v1"),
                          created=created, started=started, node=node, node_ip=NODE_IPS[node],
                          pod_ip=hp["ips"].pod_ip(node), ready=False)
            starts = crash_timeline(started + dt.timedelta(seconds=1), WH_RUN, f"wh-{k}")
            restarts = len(starts) - 1
            crash_loop(pod, name, restarts=restarts, last_start=starts[-1], last_finish=starts[-1] + WH_RUN,
                       not_ready_since=started)
            b.add("v1", "pods", pod)
            hp["all_pods"][(ns, pname)] = pod
            new_pods.append(pod)
            # logs: the last run (.log) and the one before (.log.1) end in the same fatal error
            key = f"{ns}/{pname}/{name}.log"

            def run_log(start, salt):
                c = Clock(salt)
                x = [c.at(start), c.at(start), c.at(start), c.at(start), c.at(start + dt.timedelta(seconds=1)),
                     c.at(start + dt.timedelta(seconds=1))]
                return [(x[0], logrus("info", x[0], "Starting webhook server")),
                        (x[1], logrus("info", x[1], "add validation handler for [upgrades].harvesterhci.io (Upgrade)")),
                        (x[2], logrus("info", x[2], "add validation handler for [virtualmachineimages].harvesterhci.io "
                                                    "(VirtualMachineImage)")),
                        (x[3], logrus("info", x[3], "add mutation handler for [pods]. (Pod)")),
                        (x[4], logrus("info", x[4], "Loading TLS secret harvester-system/harvester-webhook-tls")),
                        (x[5], logrus("fatal", x[5], "failed to run webhook server: failed to load TLS secret "
                                                     "harvester-system/harvester-webhook-tls: tls: private key does "
                                                     "not match public key"))]

            b.logs[key] = pod_log(run_log(starts[-1], f"{key}#run"), salt=key)
            b.logs[key + ".1"] = pod_log(run_log(starts[-2], f"{key}#prev"), salt=key + ".1")
            cref = obj_ref(pod, "Pod", "v1", f"spec.containers{{{name}}}")
            first_backoff = starts[0] + WH_RUN + dt.timedelta(seconds=1)
            for reason, msg, first, last, count, etype in (
                    ("Pulled", f'Container image "{image}" already present on machine', starts[0], starts[-1],
                     restarts + 1, "Normal"),
                    ("Created", f"Created container {name}", starts[0], starts[-1], restarts + 1, "Normal"),
                    ("Started", f"Started container {name}", starts[0], starts[-1], restarts + 1, "Normal"),
                    ("BackOff", f"Back-off restarting failed container {name} in pod {pname}_{ns}"
                                f"({pod['metadata']['uid']})", first_backoff,
                     CAPTURE - dt.timedelta(seconds=7 + 9 * k),
                     int((CAPTURE - first_backoff).total_seconds() // 13), "Warning")):
                events.append((ns, cref, reason, msg, first, last, count, etype, "kubelet", node))
        st = dep["status"]
        st.pop("readyReplicas", None)
        st.pop("availableReplicas", None)
        st["unavailableReplicas"] = dep["spec"]["replicas"]
        for c in st["conditions"]:
            if c["type"] == "Available":
                c.update({"status": "False", "lastUpdateTime": ts(WH_DELETED), "lastTransitionTime": ts(WH_DELETED),
                          "reason": "MinimumReplicasUnavailable",
                          "message": "Deployment does not have minimum availability."})
        touch(dep, WH_DELETED + dt.timedelta(seconds=1))
        rs["status"].pop("readyReplicas", None)
        rs["status"].pop("availableReplicas", None)
        touch(rs, WH_DELETED + dt.timedelta(seconds=1))
        sync_service_endpoints(b)
        rebuild_pod_metrics(b)
        summary = {"state": "updating", "transitioning": True,
                   "message": ["Deployment does not have minimum availability.",
                               f"Available: 0/{dep['spec']['replicas']}"]}
        set_fleet_claim(b, "harvester", state="NotReady", at=WH_DELETED + dt.timedelta(seconds=6),
                        non_ready=[non_ready_entry(dep, "apps/v1", "Deployment", summary)])
        # ---- impact 1: an ISO download whose progress harvester can no longer record ---------------
        url = "https://download.rockylinux.org/pub/rocky/9/isos/x86_64/Rocky-9.5-x86_64-dvd.iso"
        last_ok = WH_DELETED - dt.timedelta(seconds=6)
        vmimage = {
            "metadata": meta(WH_IMAGE, "default", created=WH_IMAGE_CREATED, generation=38,
                             annotations={"harvesterhci.io/storageClassName": "harvester-longhorn"},
                             labels={"harvesterhci.io/image-type": "iso", "harvesterhci.io/os-type": "rocky"},
                             finalizers=["wrangler.cattle.io/vm-image-controller"], updated=last_ok,
                             managed=[managed_field("harvester", "harvesterhci.io/v1beta1", last_ok, {
                                 "f:metadata": {"f:finalizers": {
                                     ".": {}, 'v:"wrangler.cattle.io/vm-image-controller"': {}}},
                                 "f:status": {".": {}, "f:appliedUrl": {}, "f:conditions": {}, "f:progress": {},
                                              "f:size": {}, "f:storageClassName": {}}})]),
            "spec": {"backend": "backingimage", "checksum": "", "displayName": "Rocky-9.5-x86_64-dvd.iso",
                     "pvcName": "", "pvcNamespace": "", "retry": 3, "sourceType": "download",
                     "storageClassParameters": {"migratable": "true", "numberOfReplicas": "3",
                                                "staleReplicaTimeout": "30"},
                     "targetStorageClassName": "harvester-longhorn", "url": url},
            "status": {"appliedUrl": url,
                       "conditions": [{"lastUpdateTime": ts(WH_IMAGE_CREATED + dt.timedelta(seconds=3)),
                                       "reason": "Importing", "status": "Unknown", "type": "Imported"},
                                      {"lastUpdateTime": ts(WH_IMAGE_CREATED + dt.timedelta(seconds=3)),
                                       "reason": "Initialized", "status": "True", "type": "Initialized"}],
                       "progress": 37, "size": 11013259264, "storageClassName": f"longhorn-{WH_IMAGE}",
                       "targetStorageClassName": "harvester-longhorn"}}
        b.add("harvesterhci.io/v1beta1", "virtualmachineimages", vmimage)
        b.add("storage.k8s.io/v1", "storageclasses", {
            "metadata": meta(f"longhorn-{WH_IMAGE}", created=WH_IMAGE_CREATED + dt.timedelta(seconds=2)),
            "provisioner": "driver.longhorn.io",
            "parameters": {"backingImage": f"default-{WH_IMAGE}", "backingImageDataSourceType": "download",
                           "backingImageDataSourceParameters": json.dumps({"url": url}, separators=(",", ":")),
                           "migratable": "true", "numberOfReplicas": "3", "staleReplicaTimeout": "30"},
            "reclaimPolicy": "Delete", "allowVolumeExpansion": True, "volumeBindingMode": "Immediate"})
        # the backing-image-controller retries with the workqueue's back-off (5 ms doubling, max 30 s)
        hv = find_pod(b, ns, dep_prefix(ns, "harvester"), NODES[0])
        hkey = f"{ns}/{hv['metadata']['name']}/apiserver.log"
        err_line = (f"error syncing 'longhorn-system/default-{WH_IMAGE}': handler backing-image-controller: "
                    f"{refused}, requeuing")
        t = WH_DELETED + dt.timedelta(seconds=2, milliseconds=410)
        delay, fails = 0.005, []
        while t < CAPTURE - dt.timedelta(seconds=5):
            fails.append(t)
            t = t + dt.timedelta(seconds=delay) + dt.timedelta(milliseconds=11 + int(h("bi", len(fails))[:2], 16))
            delay = min(delay * 2, 30.0)
        merge_log(b, hkey, [(x, logrus_q("error", x, err_line)) for x in fails], salt=hkey + "#refused")
        img_ref = obj_ref(vmimage, "VirtualMachineImage", "harvesterhci.io/v1beta1")
        events.append(("default", img_ref, "FailedUpdate",
                       f"failed to update VirtualMachineImage default/{WH_IMAGE}: {refused}", fails[0], fails[-1],
                       25 + int((fails[-1] - fails[0]).total_seconds() // 300), "Warning", "harvester", None))
        # ---- impact 2: virt-handler's node heartbeat (a node PATCH) is refused on every node -------
        for i, n in enumerate(NODES):
            nd = b.get("v1", "nodes", n)
            nd["metadata"]["annotations"]["kubevirt.io/heartbeat"] = ts(WH_DELETED - dt.timedelta(seconds=17 + 13 * i))
        vh = find_pod(b, ns, "virt-handler-", NODES[2])
        vkey = f"{ns}/{vh['metadata']['name']}/virt-handler.log"
        beat = WH_DELETED - dt.timedelta(seconds=17 + 13 * 2) + dt.timedelta(minutes=1)
        c = Clock("vh-heartbeat")
        lines = []
        while beat < CAPTURE:
            x = c.at(beat)
            lines.append((x, kv_log("virt-handler", "error", x, f"Can't patch node {NODES[2]}", "heartbeat.go:103",
                                    reason=refused)))
            beat += dt.timedelta(minutes=1)
        merge_log(b, vkey, lines, salt=vkey + "#heartbeat")
        add_events(b, events)
        return b


# ---- (10) node-down-vm-degraded-v1.4.0 ----------------------------------------------------------

ND_DEATH = CAPTURE - dt.timedelta(minutes=27, seconds=21)          # harvester-node-2 stops (power loss)
ND_LAST_STATUS = ND_DEATH - dt.timedelta(minutes=2, seconds=47)     # the kubelet's last full status post
ND_FAILED = ND_DEATH + dt.timedelta(seconds=9)                      # the engine marks node-2's replica ERR
ND_NOT_READY = ND_DEATH + dt.timedelta(seconds=40)                  # node-monitor-grace-period
ND_EVICT = ND_NOT_READY + dt.timedelta(seconds=300)                 # default tolerationSeconds of unreachable
ND_UNSCHEDULABLE = ND_DEATH + dt.timedelta(minutes=5, seconds=14)   # virt-controller: virt-handler unresponsive
ND_REPLENISH = ND_FAILED + dt.timedelta(minutes=10)                 # replica-replenishment-wait-interval 600
ND_WEB_START = CAPTURE - dt.timedelta(days=3, hours=5, minutes=12, seconds=40)
ND_SUPERVISOR_ERR = "proxy error from 127.0.0.1:9345 while dialing {ip}:10250, code 503: 503 Service Unavailable"


def scenario_node_down_vm_degraded_v140() -> BundleModel:
    """harvester-node-2 lost power 27 min before the capture and has not come back. Its kubelet
    stopped posting status: 40 s later the node controller set Ready (and the pressure conditions)
    Unknown / NodeStatusUnknown "Kubelet stopped posting node status.", tainted it
    node.kubernetes.io/unreachable NoSchedule + NoExecute and flipped every pod on it to Ready
    False (NodeNotReady events); 5 min later the taint evicted the pods that do not tolerate it:
    Deployment pods are Terminating there with replacements Running on node-0/-1, fleet-agent-0
    (StatefulSet) and node-2's instance-manager stay Terminating without one, DaemonSet pods stay
    (every DaemonSet 2/3), the mirror pods of etcd / kube-apiserver stay (Ready False).
    Storage: the engine of vm-web-01's volume (on harvester-node-1, where the VM keeps running)
    marked the replica on node-2 ERR 9 s after the power loss: replica failedAt, desireState
    stopped, volume robustness degraded (2 of 3), a new replica cannot be scheduled (the two
    live nodes already hold one: Scheduled False, ReplicaSchedulingFailure); Longhorn Node
    harvester-node-2 Ready False (KubernetesNodeNotReady), its instance manager unknown.
    The failure is < 30 min old on purpose: the volume's staleReplicaTimeout is 30 min, after
    which Longhorn deletes the failed replica.
    Also from the node loss: no nodes/harvester-node-2.zip (a node that is not Ready is not
    waited for), no logs of node-2's pods (one BUG line each in bundleGenerationError.log), no
    metrics of node-2, etcd on node-0 logs its lost peer, `kubernetes` endpoints without node-2,
    node-2 labelled kubevirt.io/schedulable=false by virt-controller; the Fleet agent ran on
    node-2: its last check-in is 37 min old and every Fleet claim still says Ready.
    Chain: VM default/vm-web-01 -> VMI (harvester-node-1) -> virt-launcher pod (volume disk-0 ->
    PVC) -> PVC (spec.volumeName) -> PV (spec.claimRef, name = Longhorn volume) -> Longhorn Volume
    -> Replica (spec.volumeName, spec.nodeID harvester-node-2) -> Node harvester-node-2."""
    with cluster_shape(3, bundle_name="bundle-w7d4k", web_vm_start=ND_WEB_START):
        b = base_cluster(description="harvester-node-2 is down; vm-web-01 volume degraded")
        hp = b.helpers
        n0, n1, n2 = NODES
        ip2 = NODE_IPS[n2]
        events = []
        # ---- the Node ------------------------------------------------------------------------------
        node2 = b.get("v1", "nodes", n2)
        conds = node2["status"]["conditions"]
        for i, c in enumerate(conds):
            if c["type"] in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready"):
                conds[i] = cond(c["type"], "Unknown", at=ND_NOT_READY, heartbeat=ND_LAST_STATUS,
                                reason="NodeStatusUnknown", message="Kubelet stopped posting node status.")
        node2["spec"]["taints"] = [
            {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": ts(ND_NOT_READY)},
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": ts(ND_NOT_READY)}]
        node2["metadata"]["labels"]["kubevirt.io/schedulable"] = "false"
        node2["metadata"]["annotations"]["kubevirt.io/heartbeat"] = ts(ND_DEATH - dt.timedelta(seconds=23))
        node2["metadata"]["managedFields"] += [
            managed_field("kube-controller-manager", "v1", ND_NOT_READY, {"f:spec": {"f:taints": {}}}),
            managed_field("kube-controller-manager", "v1", ND_NOT_READY, {"f:status": {"f:conditions": {
                f'k:{{"type":"{t}"}}': {"f:lastTransitionTime": {}, "f:message": {}, "f:reason": {}, "f:status": {}}
                for t in ("DiskPressure", "MemoryPressure", "PIDPressure", "Ready")}}}, subresource="status"),
            managed_field("virt-controller", "v1", ND_UNSCHEDULABLE, {"f:metadata": {"f:labels": {
                "f:kubevirt.io/schedulable": {}}}})]
        touch(node2, ND_UNSCHEDULABLE)
        events.append(("default", obj_ref(node2, "Node", "v1"), "NodeNotReady",
                       f"Node {n2} status is now: NodeNotReady", ND_NOT_READY, ND_NOT_READY, 1, "Normal",
                       "node-controller", None))
        # the apiserver of node-2 no longer renews its lease: the `kubernetes` endpoints drop it
        kep = b.get("v1", "endpoints", "kubernetes", "default")
        kep["subsets"][0]["addresses"] = [a for a in kep["subsets"][0]["addresses"] if a["ip"] != ip2]
        touch(kep, ND_DEATH + dt.timedelta(seconds=19))
        # ---- its pods: Ready False, then the NoExecute taint evicts what does not tolerate it ------
        pods2 = sorted([p for p in all_pods_of(b) if p["spec"]["nodeName"] == n2],
                       key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
        replaced = {}   # ReplicaSet name -> [(old pod, new pod)]
        evicted = []
        for k, pod in enumerate(pods2):
            md = pod["metadata"]
            pns, pname = md["namespace"], md["name"]
            set_ready = [i for i, c in enumerate(pod["status"]["conditions"]) if c["type"] == "Ready"][0]
            pod["status"]["conditions"][set_ready] = cond("Ready", "False", at=ND_NOT_READY, probe=True)
            touch(pod, ND_NOT_READY)
            events.append((pns, obj_ref(pod, "Pod", "v1"), "NodeNotReady", "Node is not ready",
                           ND_NOT_READY, ND_NOT_READY, 1, "Warning", "node-controller", None))
            tolerates = any(t.get("operator") == "Exists" and not t.get("key")
                            for t in pod["spec"].get("tolerations") or [])
            mirror = "kubernetes.io/config.mirror" in (md.get("annotations") or {})
            if tolerates or mirror:
                continue
            ev_at = ND_EVICT + dt.timedelta(milliseconds=40 * k)
            deleted = ev_at + dt.timedelta(seconds=pod["spec"]["terminationGracePeriodSeconds"])
            new_md = {}
            for key_, val in md.items():   # Go ObjectMeta order: ..., creationTimestamp, deletion*, labels
                new_md[key_] = val
                if key_ == "creationTimestamp":
                    new_md["deletionTimestamp"] = ts(deleted)
                    new_md["deletionGracePeriodSeconds"] = pod["spec"]["terminationGracePeriodSeconds"]
            pod["metadata"] = new_md
            pod["status"]["conditions"].append(
                cond("DisruptionTarget", "True", at=ev_at, probe=True, reason="DeletionByTaintManager",
                     message="Taint manager: deleting due to NoExecute taint"))
            touch(pod, ev_at)
            evicted.append(pod)
            events.append((pns, obj_ref(pod, "Pod", "v1"), "TaintManagerEviction",
                           f"Marking for deletion Pod {pns}/{pname}", ev_at, ev_at, 1, "Normal",
                           "taint-eviction-controller", None))
            own = (md.get("ownerReferences") or [{}])[0]
            if own.get("kind") == "ReplicaSet":
                replaced.setdefault((pns, own["name"]), []).append(pod)
        # Deployment pods: the ReplicaSet creates a replacement on a live node at once
        for (pns, rs_name), olds in sorted(replaced.items()):
            rs = b.get("apps/v1", "replicasets", rs_name, pns)
            dep_name = rs["metadata"]["ownerReferences"][0]["name"]
            dep = b.get("apps/v1", "deployments", dep_name, pns)
            ready_at = []
            for j, op in enumerate(olds):
                alt = [n0, n1][int(h("replace", pns, dep_name, j)[:2], 16) % 2]
                created = parse_ts(op["metadata"]["deletionTimestamp"]) - dt.timedelta(seconds=30)
                pname = f"{rs_name}-{suffix(5, 'pod', pns, dep_name, j, 'unreachable')}"
                new = pod_obj(pname, pns, spec=dep["spec"]["template"]["spec"],
                              labels=rs["spec"]["selector"]["matchLabels"],
                              owner_ref=owner("ReplicaSet", rs_name, rs["metadata"]["uid"], "apps/v1"),
                              created=created, started=created + dt.timedelta(seconds=1), node=alt,
                              node_ip=NODE_IPS[alt], pod_ip=hp["ips"].pod_ip(alt))
                b.add("v1", "pods", new)
                hp["all_pods"][(pns, pname)] = new
                ready_at.append(parse_ts([c for c in new["status"]["conditions"] if c["type"] == "Ready"][0]
                                         ["lastTransitionTime"]))
                events += [
                    (pns, obj_ref(rs, "ReplicaSet", "apps/v1"), "SuccessfulCreate", f"Created pod: {pname}",
                     created, created, 1, "Normal", "replicaset-controller", None),
                    (pns, obj_ref(new, "Pod", "v1"), "Scheduled", f"Successfully assigned {pns}/{pname} to {alt}",
                     created, created, 1, "Normal", "default-scheduler", None)]
                for ct in new["spec"]["containers"]:
                    cref = obj_ref(new, "Pod", "v1", f"spec.containers{{{ct['name']}}}")
                    t1 = created + dt.timedelta(seconds=1)
                    events += [
                        (pns, cref, "Pulled", f'Container image "{ct["image"]}" already present on machine', t1, t1,
                         1, "Normal", "kubelet", alt),
                        (pns, cref, "Created", f"Created container {ct['name']}", t1, t1, 1, "Normal", "kubelet", alt),
                        (pns, cref, "Started", f"Started container {ct['name']}", t1, t1, 1, "Normal", "kubelet", alt)]
            back = max(ready_at)
            for c in dep["status"]["conditions"]:   # unavailable from NotReady until the replacement is Ready
                if c["type"] == "Available":
                    c["lastUpdateTime"] = c["lastTransitionTime"] = ts(back)
                else:
                    c["lastUpdateTime"] = ts(back)
            touch(dep, back)
            touch(rs, back)
        # StatefulSet fleet-agent: no replacement while fleet-agent-0 is Terminating on node-2
        fa_sts = b.get("apps/v1", "statefulsets", "fleet-agent", "cattle-fleet-local-system")
        fa_sts["status"].pop("readyReplicas", None)
        fa_sts["status"]["availableReplicas"] = 0
        touch(fa_sts, ND_NOT_READY)
        set_agent_last_seen(b, CAPTURE - dt.timedelta(minutes=37, seconds=41))
        # DaemonSets: node-2's pod is not ready
        for (pns, gv, res), lst in list(b.lists.items()):
            if gv != "apps/v1" or res != "daemonsets":
                continue
            for ds in lst:
                uid_ = ds["metadata"]["uid"]
                if any(p["spec"]["nodeName"] == n2 and any(o["uid"] == uid_ for o in p["metadata"].get(
                        "ownerReferences", [])) for p in b.items("v1", "pods", pns)):
                    st = ds["status"]
                    st["numberReady"] = st["desiredNumberScheduled"] - 1
                    st["numberAvailable"] = st["desiredNumberScheduled"] - 1
                    st["numberUnavailable"] = 1
                    touch(ds, ND_NOT_READY)
        sync_service_endpoints(b)
        # ---- Longhorn ------------------------------------------------------------------------------
        lhn = b.get("longhorn.io/v1beta2", "nodes", n2, "longhorn-system")
        lh_msg = f"Kubernetes node {n2} not ready: NodeStatusUnknown"
        for c in lhn["status"]["conditions"]:
            if c["type"] == "Ready":
                c.update({"status": "False", "lastTransitionTime": ts(ND_NOT_READY + dt.timedelta(seconds=1)),
                          "reason": "KubernetesNodeNotReady", "message": lh_msg})
        touch(lhn, ND_NOT_READY + dt.timedelta(seconds=1))
        events.append(("longhorn-system", obj_ref(lhn, "Node", "longhorn.io/v1beta2"), "KubernetesNodeNotReady",
                       lh_msg, ND_NOT_READY + dt.timedelta(seconds=1), ND_NOT_READY + dt.timedelta(seconds=1), 1,
                       "Warning", "longhorn-node-controller", n0))
        im2 = b.get("longhorn.io/v1beta2", "instancemanagers", hp["im_names"][n2], "longhorn-system")
        im2["status"]["currentState"] = "unknown"
        im2["status"]["ownerID"] = n0
        touch(im2, ND_NOT_READY + dt.timedelta(seconds=2))
        vname = web_volume_name()
        vol = b.get("longhorn.io/v1beta2", "volumes", vname, "longhorn-system")
        rep = [r for r in b.items("longhorn.io/v1beta2", "replicas", "longhorn-system")
               if r["spec"]["volumeName"] == vname and r["spec"]["nodeID"] == n2][0]
        rname = rep["metadata"]["name"]
        rep["spec"]["failedAt"] = ts(ND_FAILED)
        rep["spec"]["desireState"] = "stopped"
        rep["status"].update({"currentState": "stopped", "instanceManagerName": "", "ip": "", "port": 0,
                              "started": False, "storageIP": "", "ownerID": n0})
        touch(rep, ND_NOT_READY + dt.timedelta(seconds=3))
        eng = b.get("longhorn.io/v1beta2", "engines", f"{vname}-e-0", "longhorn-system")
        eng["spec"]["replicaAddressMap"] = {k: v for k, v in eng["spec"]["replicaAddressMap"].items() if k != rname}
        for k in ("currentReplicaAddressMap", "replicaModeMap"):
            eng["status"][k] = {r: v for r, v in eng["status"][k].items() if r != rname}
        touch(eng, ND_FAILED + dt.timedelta(seconds=1))
        vol["status"]["robustness"] = "degraded"
        vol["status"]["lastDegradedAt"] = ts(ND_FAILED)
        sched_msg = "precheck new replica failed: nodes are unavailable"
        for c in vol["status"]["conditions"]:
            if c["type"] == "Scheduled":
                c.update({"status": "False", "lastTransitionTime": ts(ND_REPLENISH),
                          "reason": "ReplicaSchedulingFailure", "message": sched_msg})
        touch(vol, ND_REPLENISH)
        events.append(("longhorn-system", obj_ref(vol, "Volume", "longhorn.io/v1beta2"), "Degraded",
                       f"volume {vname} became degraded", ND_FAILED, ND_FAILED, 1, "Normal", "longhorn-volume", n1))
        lm = find_pod(b, "longhorn-system", "longhorn-manager-", n1)
        lkey = f"longhorn-system/{lm['metadata']['name']}/longhorn-manager.log"
        c = Clock("lm-node-down")
        x = [c.at(ND_FAILED), c.at(ND_NOT_READY + dt.timedelta(seconds=1)), c.at(ND_REPLENISH),
             c.at(ND_REPLENISH + dt.timedelta(minutes=5))]
        vol_kw = {"controller": "longhorn-volume", "currentEngine": f"{vname}-e-0", "node": n1, "owner": n1,
                  "state": "attached", "volume": vname}
        merge_log(b, lkey, [
            (x[0], logrus("warning", x[0], f"Replica {rname} is marked as failed, current state running, mode ERR, "
                                           f"engine name {vname}-e-0, active true", **vol_kw)),
            (x[1], logrus("warning", x[1], f"Kubernetes node {n2} not ready: NodeStatusUnknown",
                          controller="longhorn-node", node=n1)),
            (x[2], logrus("warning", x[2], "Failed to replenish replicas", error=sched_msg, **vol_kw)),
            (x[3], logrus("warning", x[3], "Failed to replenish replicas", error=sched_msg, **vol_kw))],
            salt=lkey + "#node-down")
        # ---- the VM keeps running on harvester-node-1; its launcher pod mounts the PVC -------------
        vm = b.get("kubevirt.io/v1", "virtualmachines", "vm-web-01", "default")
        pvc_name = vm["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
        launcher = find_pod(b, "default", "virt-launcher-vm-web-01-")
        launcher["spec"]["volumes"].append({"name": "disk-0", "persistentVolumeClaim": {"claimName": pvc_name}})
        compute = [ct for ct in launcher["spec"]["containers"] if ct["name"] == "compute"][0]
        rebuilt = {}
        for key_, val in compute.items():   # Go Container order: ..., resources, volumeMounts, volumeDevices, ...
            rebuilt[key_] = val
            if key_ == "resources":
                rebuilt["volumeDevices"] = [{"name": "disk-0", "devicePath": "/dev/disk-0"}]
        compute.clear()
        compute.update(rebuilt)
        # ---- etcd on node-0 lost its peer -----------------------------------------------------------
        peer = h("raft", n2)[:16]
        local = h("raft", n0)[:16]
        c = Clock("etcd-peer-down")
        elines = []
        for typ in ("stream MsgApp v2", "stream Message"):
            x = c.at(ND_DEATH + dt.timedelta(seconds=4))
            elines.append((x, json.dumps({"level": "warn", "ts": x.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                          "caller": "rafthttp/stream.go:421",
                                          "msg": "lost TCP streaming connection with remote peer",
                                          "stream-reader-type": typ, "local-member-id": local,
                                          "remote-peer-id": peer, "error": "read tcp 10.10.0.10:2380->"
                                                                           f"{ip2}:2380: i/o timeout"},
                                         separators=(",", ":"))))
        t = ND_DEATH + dt.timedelta(seconds=30)
        while t < CAPTURE:
            for rt in ("ROUND_TRIPPER_SNAPSHOT", "ROUND_TRIPPER_RAFT_MESSAGE"):
                x = c.at(t)
                elines.append((x, json.dumps({"level": "warn", "ts": x.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                              "caller": "rafthttp/probing_status.go:68",
                                              "msg": "prober detected unhealthy status", "round-tripper-name": rt,
                                              "remote-peer-id": peer, "rtt": "0s",
                                              "error": f"dial tcp {ip2}:2380: connect: no route to host"},
                                             separators=(",", ":"))))
            t += dt.timedelta(seconds=30)
        ekey = "kube-system/etcd-harvester-node-0/etcd.log"
        merge_log(b, ekey, elines, salt=ekey + "#peer-down")
        # ---- what the support bundle could not collect from node-2 ----------------------------------
        b.node_files.pop(n2)
        b.lists[(None, "metrics.k8s.io/v1beta1", "nodes")] = [
            m for m in b.items("metrics.k8s.io/v1beta1", "nodes") if m["metadata"]["name"] != n2]
        rebuild_pod_metrics(b, down_nodes=(n2,))
        on2 = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods2}
        for key in [k for k in b.logs if tuple(k.split("/")[:2]) in on2]:
            del b.logs[key]
        bug = []   # (namespace order, pod, container order, previous, line)
        for p in pods2:
            pns, pname = p["metadata"]["namespace"], p["metadata"]["name"]
            if pns not in COLLECTED_NAMESPACES:
                continue
            for ci, cs in enumerate(p["status"]["containerStatuses"]):
                cname = cs["name"]
                for prev in ([False, True] if cs["restartCount"] else [False]):
                    q = "previous=true&timestamps=true" if prev else "timestamps=true"
                    err = (f'Get "https://{ip2}:10250/containerLogs/{pns}/{pname}/{cname}?{q}": '
                           + ND_SUPERVISOR_ERR.format(ip=ip2))
                    bug.append((COLLECTED_NAMESPACES.index(pns), pname, ci, prev,
                                f"BUG: Support bundle: cannot get log for pod {pname} container {cname}: {err}"))
        for line in b.errors:
            if line.startswith("BUG: Support bundle: cannot get log for pod etcd-harvester-node-0 "):
                bug.append((COLLECTED_NAMESPACES.index("kube-system"), "etcd-harvester-node-0", 0, True, line))
        b.errors = [ln for ln in b.errors if not ln.startswith("BUG:")] + [x[-1] for x in sorted(bug)]
        add_events(b, events)
        return b


# ---- (11) storage-lost-v1.4.0 --------------------------------------------------------------------

SL_DELETED = CAPTURE - dt.timedelta(days=2, hours=3, minutes=14, seconds=9)   # PV and claim deleted
SL_LH_GONE = SL_DELETED - dt.timedelta(minutes=4, seconds=31)                # Longhorn volume deleted
SL_FAULTED = CAPTURE - dt.timedelta(hours=6, minutes=41, seconds=12)         # vm-test-01's replicas fail
SL_BI_FAILED = CAPTURE - dt.timedelta(days=1, hours=2, minutes=7, seconds=44)  # node-2's image copy fails
SL_BI_MSG = ("failed to process backing image file: failed to calculate checksum for the tmp file after "
             "processing: open /data/backing-images/default-image-kx9pd-3c1f9e07/backing.tmp: input/output error")


def set_deleting(obj, at: dt.datetime):
    """Mark obj as being deleted at `at` (deletionTimestamp right after creationTimestamp, as
    ObjectMeta orders it)."""
    md = {}
    for k, v in obj["metadata"].items():
        md[k] = v
        if k == "creationTimestamp":
            md["deletionTimestamp"] = ts(at)
            md["deletionGracePeriodSeconds"] = 0
    obj["metadata"] = md
    touch(obj, at)


def volume_attachment(pv_name, node, *, created):
    """The CSI external-attacher's VolumeAttachment for a Longhorn PV attached to node."""
    name = "csi-" + hashlib.sha256(f"{pv_name}driver.longhorn.io{node}".encode()).hexdigest()
    return {"metadata": meta(name, created=created, annotations={"csi.alpha.kubernetes.io/node-id": node},
                             finalizers=["external-attacher/driver-longhorn-io"]),
            "spec": {"attacher": "driver.longhorn.io", "nodeName": node,
                     "source": {"persistentVolumeName": pv_name}},
            "status": {"attached": True}}


def scenario_storage_lost_v140() -> BundleModel:
    """Longhorn storage gone wrong under running workloads, the chain from pod to disk broken at
    three places.
    Lost volume: Deployment default/web-cache (one pod on harvester-node-0) mounts claim
    web-cache-data (PV pvc-…, Filesystem, RWO). Someone deleted the volume in Longhorn's UI
    (Longhorn deleted the Volume, its engine and replicas: nothing of it is left) and, 4.5 min
    later, the PV and the claim with kubectl, 2d3h before the capture: both wait on their
    finalizers (pvc-protection while the pod mounts it, external-attacher while the
    VolumeAttachment says attached to harvester-node-0), the pod keeps running, and
    longhorn-manager on node-0 logs `volume.longhorn.io "pvc-…" not found` every 5 minutes.
    Faulted volume: the three replicas of stopped VM vm-test-01's volume failed 6h41m before the
    capture (failedAt set, stopped), so the detached volume is faulted and cannot be scheduled
    (Scheduled False, ReplicaSchedulingFailure).
    Backing image: image default-image-kx9pd (the VM image the VM disks are cloned from) has a
    failed copy on harvester-node-2's disk ("failed to calculate checksum … input/output
    error") and the BackingImageManager of that disk is unknown; the copies on node-0 and
    node-1 are ready."""
    b = base_cluster(description="web-cache pod lost its data volume; vm-test-01 will not start")
    hp = b.helpers
    n0, n1, n2 = NODES
    events = []
    # ---- the lost volume -------------------------------------------------------------------------
    created = ROLLED_OUT + dt.timedelta(days=12, hours=4, minutes=3)
    dep, pod = simple_deployment(
        b, "web-cache", "default",
        [container("web-cache", "registry.suse.com/suse/nginx:1.21", ports=[("http", 8080)],
                   mounts=[("data", "/var/cache/nginx")])],
        node=n0, labels={"app": "web-cache"}, created=created,
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "web-cache-data"}}])
    pvc, vol, reps, eng = add_pvc_volume(
        b, "web-cache-data", "default", size_gi=5, node=n0, created=created, attached_at=created,
        mode="Filesystem", access="ReadWriteOnce", pod_name=pod["metadata"]["name"],
        workload=dep["metadata"]["name"], workload_type="Deployment", sc="harvester-longhorn")
    pv_name = pvc["spec"]["volumeName"]
    pv = b.get("v1", "persistentvolumes", pv_name)
    # Longhorn deleted the volume, its engine and replicas: nothing of it is left in longhorn.io.
    b.remove("longhorn.io/v1beta2", "volumes", pv_name, "longhorn-system")
    b.remove("longhorn.io/v1beta2", "engines", eng["metadata"]["name"], "longhorn-system")
    for r in reps:
        b.remove("longhorn.io/v1beta2", "replicas", r["metadata"]["name"], "longhorn-system")
        rim = b.get("longhorn.io/v1beta2", "instancemanagers", r["status"]["instanceManagerName"],
                    "longhorn-system")
        rim["status"]["instanceReplicas"].pop(r["metadata"]["name"], None)
    eim = b.get("longhorn.io/v1beta2", "instancemanagers", hp["im_names"][n0], "longhorn-system")
    eim["status"]["instanceEngines"].pop(eng["metadata"]["name"], None)
    set_deleting(pv, SL_DELETED)
    set_deleting(pvc, SL_DELETED + dt.timedelta(seconds=2))
    b.add("storage.k8s.io/v1", "volumeattachments", volume_attachment(pv_name, n0, created=created))
    lm = find_pod(b, "longhorn-system", "longhorn-manager-", n0)
    lkey = f"longhorn-system/{lm['metadata']['name']}/longhorn-manager.log"
    c = Clock("storage-lost")
    lines = [(c.at(SL_LH_GONE), logrus("info", SL_LH_GONE, "Deleted volume", controller="longhorn-volume",
                                         node=n0, volume=pv_name))]
    t = SL_LH_GONE + dt.timedelta(minutes=5)
    pname = pod["metadata"]["name"]
    while t < CAPTURE:
        x = c.at(t)
        lines.append((x, klog("E", x, 1, "kubernetes_pod_controller.go:145",
                              f"longhorn-kubernetes-pod-controller: fail to sync default/{pname}: "
                              f'volume.longhorn.io "{pv_name}" not found')))
        t += dt.timedelta(minutes=5)
    merge_log(b, lkey, lines, salt=lkey + "#lost")
    events += [
        ("default", obj_ref(pvc, "PersistentVolumeClaim", "v1"), "VolumeFailedDelete",
         f'rpc error: code = NotFound desc = volume {pv_name} not found', SL_DELETED,
         CAPTURE - dt.timedelta(minutes=3, seconds=12), 611, "Warning", "persistentvolume-controller", None)]
    # ---- the faulted volume of vm-test-01 ----------------------------------------------------------
    vm = b.get("kubevirt.io/v1", "virtualmachines", "vm-test-01", "default")
    claim = vm["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    tpvc = b.get("v1", "persistentvolumeclaims", claim, "default")
    tvol = b.get("longhorn.io/v1beta2", "volumes", tpvc["spec"]["volumeName"], "longhorn-system")
    tvol["status"]["robustness"] = "faulted"
    tvol["status"]["lastDegradedAt"] = ts(SL_FAULTED)
    for cnd in tvol["status"]["conditions"]:
        if cnd["type"] == "Scheduled":
            cnd.update({"status": "False", "reason": "ReplicaSchedulingFailure",
                        "lastTransitionTime": ts(SL_FAULTED + dt.timedelta(seconds=3)),
                        "message": "insufficient storage"})
    touch(tvol, SL_FAULTED + dt.timedelta(seconds=3))
    for k, r in enumerate(r for r in b.items("longhorn.io/v1beta2", "replicas", "longhorn-system")
                          if r["spec"]["volumeName"] == tvol["metadata"]["name"]):
        r["spec"]["failedAt"] = ts(SL_FAULTED + dt.timedelta(seconds=k))
        r["spec"]["healthyAt"] = ts(SL_FAULTED - dt.timedelta(days=9))
        touch(r, SL_FAULTED + dt.timedelta(seconds=k))
    events.append(("longhorn-system", obj_ref(tvol, "Volume", "longhorn.io/v1beta2"), "Faulted",
                   f"volume {tvol['metadata']['name']} became faulted", SL_FAULTED, SL_FAULTED, 1, "Warning",
                   "longhorn-volume-controller", None))
    # ---- the backing image the VM disks are cloned from ---------------------------------------------
    bi_created = INSTALLED + dt.timedelta(days=3, hours=2)
    bi_uuid = "3c1f9e07"
    files = {}
    for n in NODES:
        disk = hp["disk_uuids"][n]
        bad = n == n2
        files[disk] = {"lastStateTransitionTime": ts(SL_BI_FAILED if bad else bi_created + dt.timedelta(minutes=4)),
                       "message": SL_BI_MSG if bad else "", "progress": 100,
                       "state": "failed" if bad else "ready"}
        bim_name = f"backing-image-manager-{h('bim', n)[:4]}-{disk[:4]}"
        b.add("longhorn.io/v1beta2", "backingimagemanagers", {
            "metadata": meta(bim_name, "longhorn-system", created=bi_created, generation=1,
                             labels={"longhorn.io/component": "backing-image-manager",
                                     "longhorn.io/disk-uuid": disk, "longhorn.io/managed-by": "longhorn-manager",
                                     "longhorn.io/node": n},
                             finalizers=["longhorn.io"], updated=SL_BI_FAILED if bad else bi_created),
            "spec": {"backingImages": {"default-image-kx9pd": bi_uuid}, "diskPath": "/var/lib/harvester/defaultdisk",
                     "diskUUID": disk, "image": f"longhornio/backing-image-manager:{V['longhorn']}", "nodeID": n},
            "status": {"apiMinVersion": 1, "apiVersion": 1,
                       "backingImageFileMap": {"default-image-kx9pd": {
                           "currentChecksum": "" if bad else h("checksum", "kx9pd") * 2,
                           "message": SL_BI_MSG if bad else "", "name": "default-image-kx9pd",
                           "progress": 100, "size": 2361393152, "state": "failed" if bad else "ready",
                           "uuid": bi_uuid}},
                       "currentState": "unknown" if bad else "running",
                       "ip": f"10.52.{node_index(n)}.{60 + node_index(n)}", "ownerID": n}})
    b.add("longhorn.io/v1beta2", "backingimages", {
        "metadata": meta("default-image-kx9pd", "longhorn-system", created=bi_created, generation=3,
                         annotations={"harvesterhci.io/imageId": "default/image-kx9pd"},
                         finalizers=["longhorn.io"], updated=SL_BI_FAILED),
        "spec": {"checksum": "", "disks": {hp["disk_uuids"][n]: "" for n in NODES}, "minNumberOfCopies": 3,
                 "sourceParameters": {"url": "http://10.52.0.12:8000/images/image-kx9pd"},
                 "sourceType": "download"},
        "status": {"checksum": h("checksum", "kx9pd") * 2, "diskFileStatusMap": files,
                   "ownerID": n0, "size": 2361393152, "uuid": bi_uuid}})
    add_events(b, events)
    return b
# ---- the v1.7+ upgrade flow (issue 17) ---------------------------------------------------------
# Release numbers read from the harvester/harvester tags: the Harvester version, its chart and the
# Longhorn chart it depends on (deploy/charts/harvester/Chart.yaml). Every other component keeps
# the v1.5.0 sample's numbers: these samples exercise the upgrade flow, not those versions.
V170 = dict(V150, **{
    "server_version": "v1.7.0", "os": "Harvester v1.7.0", "harvester": "v1.7.0", "chart": "1.7.0",
    "longhorn": "v1.10.1", "min_upgradable": "v1.6.0",
    "versions": (("v1.7.0", "20251203", "v1.6.0"), ("v1.7.1", "20260115", "v1.6.0")),
    "next": "v1.7.1", "previous": "v1.6.1", "past_upgrade": "hvst-upgrade-c6v9n",
})
V181 = dict(V150, **{
    "server_version": "v1.8.1", "os": "Harvester v1.8.1", "harvester": "v1.8.1", "chart": "1.8.1",
    "longhorn": "v1.11.2", "min_upgradable": "v1.7.0",
    "versions": (("v1.8.1", "20260602", "v1.7.0"), ("v1.8.2", "20260812", "v1.7.0")),
    "next": "v1.8.2", "previous": "v1.8.0", "past_upgrade": "hvst-upgrade-q2w8d",
})
V182 = dict(V181, **{
    "server_version": "v1.8.2", "os": "Harvester v1.8.2", "harvester": "v1.8.2", "chart": "1.8.2",
    "versions": (("v1.8.2", "20260812", "v1.7.0"), ("v1.9.0", "20261104", "v1.8.0")),
    "next": "v1.9.0", "previous": "v1.8.1", "past_upgrade": "hvst-upgrade-k8r3t",
})
V190 = dict(V182, **{
    "server_version": "v1.9.0", "os": "Harvester v1.9.0", "harvester": "v1.9.0", "chart": "1.9.0",
    "min_upgradable": "v1.8.0",
    "versions": (("v1.9.0", "20261104", "v1.8.0"), ("v1.9.1", "20261201", "v1.8.0")),
    "next": "v1.9.1", "previous": "v1.8.2", "past_upgrade": "hvst-upgrade-w5c7j",
})
UNAVAILABLE_UPGRADE = "hvst-upgrade-u3n6b"
UNAVAILABLE_CLUSTER_ID = "d47a9c02-5e1b-4f38-b6a0-7c3e9d2f1a84"
HOTPLUG_CLUSTER_ID = "8c2e5a71-0f4d-4b9a-a6e3-2d7b1c9f4e50"
PAUSED_UPGRADE = "hvst-upgrade-p4z7k"
PAUSED_CLUSTER_ID = "3b9e6c10-7d4f-4e21-9a85-5c2d8f0e6a17"
LIVEMIGRATE_UPGRADE = "hvst-upgrade-k8r3t"
LIVEMIGRATE_CLUSTER_ID = "6f1a2d94-3c8b-4b07-8e52-9d4c7a1b2e38"


def os_upgrade_image(U, version, *, created, imported, up):
    """The v1.7.1+ repository image (CreateImageFromISO): CDI backend, StorageClass longhorn-static,
    annotation harvesterhci.io/os-upgrade-image "True"."""
    img = iso_image(U, version, created=created, imported=imported, up=up)
    img["metadata"]["annotations"] = {"harvesterhci.io/os-upgrade-image": "True"}
    img["spec"].update({"backend": "cdi", "targetStorageClassName": "longhorn-static"})
    img["spec"].pop("storageClassParameters", None)
    img["status"].update({"storageClassName": "longhorn-static", "targetStorageClassName": "longhorn-static"})
    return img


def add_repo_deployment(b, up, *, created, on):
    """The v1.7+ repository: Deployment upgrade-repo-<U> (nginx serving the ISO from the image's
    volume), 2 replicas on a multi-node cluster, owned by the Upgrade."""
    U = up["metadata"]["name"]
    labels = {"harvesterhci.io/upgrade": U, "harvesterhci.io/upgradeComponent": "repo"}
    dep, pods = b.helpers["add_deployment"](
        "harvester-system", f"upgrade-repo-{U}", 2,
        [container("nginx-iso-server", f"{UPGRADE_IMAGE}:{V['harvester']}", ports=[("http", 80)])],
        on=on, labels=labels, created=created, rollout=created, sa="harvester")
    dep["metadata"]["ownerReferences"] = [dict(upgrade_owner(up), blockOwnerDeletion=True, controller=True)]
    return dep, pods


def scenario_upgrade_paused_node_v170() -> BundleModel:
    """A v1.7.0 cluster upgrading to v1.7.1 in manual node-upgrade mode: setting upgrade-config has
    nodeUpgradeOption.strategy mode manual with pauseNodes harvester-node-0 and harvester-node-1,
    which the mutator copied into the Upgrade's harvesterhci.io/node-upgrade-pause-map. Phases 0-3 are
    done (logging disabled for this upgrade, the OS image hvst-upgrade-p4z7k imported into
    longhorn-static, the repository Deployment upgrade-repo-hvst-upgrade-p4z7k with 2 ready nginx
    pods, images preloaded, system services upgraded); harvester-node-0, the first node to upgrade,
    is "Node-upgrade paused" (AdministrativelyPaused) since 41 min: the admin has not resumed it yet.
    Nothing is stuck."""
    U = PAUSED_UPGRADE
    n0, n1, n2 = NODES
    t0 = CAPTURE - dt.timedelta(hours=1, minutes=37)
    img_at, repo_at = t0 + dt.timedelta(minutes=6), t0 + dt.timedelta(minutes=8)
    prep_at, sys_at = t0 + dt.timedelta(minutes=29), t0 + dt.timedelta(minutes=55)
    paused_at = CAPTURE - dt.timedelta(minutes=41)
    with cluster_shape(3, cluster_id=PAUSED_CLUSTER_ID, bundle_name="bundle-m3p6v", versions=V170):
        b = base_cluster(description="Upgrade to v1.7.1 waiting at harvester-node-0")
        cfg = b.get("harvesterhci.io/v1beta1", "settings", "upgrade-config")
        cfg["value"] = json.dumps({"imagePreloadOption": {"strategy": {"type": "sequential"}}, "restoreVM": False,
                                   "nodeUpgradeOption": {"strategy": {"mode": "manual",
                                                                      "pauseNodes": [n0, n1]}},
                                   "logReadyTimeout": "5"}, separators=(",", ":"))
        touch(cfg, t0 - dt.timedelta(minutes=3))
        old = b.get("harvesterhci.io/v1beta1", "upgrades", V["past_upgrade"], "harvester-system")
        old["metadata"]["labels"].pop("harvesterhci.io/latestUpgrade")
        touch(old, t0 + dt.timedelta(seconds=1))
        pause = json.dumps({n0: "pause", n1: "pause"}, separators=(",", ":"))
        up = b.add("harvesterhci.io/v1beta1", "upgrades", upgrade_obj(
            U, created=t0, version="v1.7.1", previous="v1.7.0", generation=23, log=False,
            labels={"harvesterhci.io/latestUpgrade": "true", "harvesterhci.io/upgradeState": "UpgradingNodes"},
            annotations={"harvesterhci.io/node-upgrade-pause-map": pause,
                         "harvesterhci.io/replica-replenishment-wait-interval": "600"},
            conditions=[hcond("Completed", "Unknown"),
                        hcond("LogReady", "False", t0 + dt.timedelta(seconds=1), reason="Disabled",
                              message="Upgrade observability is administratively disabled"),
                        hcond("ImageReady", "True", img_at), hcond("RepoReady", "True", repo_at),
                        hcond("NodesPrepared", "True", prep_at), hcond("SystemServicesUpgraded", "True", sys_at),
                        hcond("NodesUpgraded", "Unknown")],
            node_statuses={n0: {"state": "Node-upgrade paused", "reason": "AdministrativelyPaused",
                                "message": "Node upgrade paused as requested by the user"},
                           n1: {"state": "Images preloaded"}, n2: {"state": "Images preloaded"}},
            repoinfo=repo_info(dict(V170, harvester="v1.7.1", chart="1.7.1", os="Harvester v1.7.1")),
            updated=paused_at))
        b.add("harvesterhci.io/v1beta1", "virtualmachineimages", os_upgrade_image(
            U, "v1.7.1", created=t0 + dt.timedelta(seconds=2), imported=img_at, up=up))
        add_repo_deployment(b, up, created=img_at + dt.timedelta(seconds=3), on=[n1, n2])
        prep = b.add("upgrade.cattle.io/v1", "plans", prepare_plan(U, "v1.7.0", created=repo_at + dt.timedelta(seconds=1),
                                                                   resolved=repo_at + dt.timedelta(seconds=2)))
        label_nodes_with_plan(b, prep, NODES)
        rr = b.get("longhorn.io/v1beta2", "settings", "replica-replenishment-wait-interval", "longhorn-system")
        rr["value"] = "1800"
        touch(rr, sys_at + dt.timedelta(seconds=4))
        return b


def scenario_upgrade_failed_livemigrate_v181() -> BundleModel:
    """A v1.8.1 cluster after a failed upgrade to v1.8.2 (hvst-upgrade-k8r3t, 2 days ago): phase 3's
    upgrade_manifests.sh backed up ManagedChart harvester's KubeVirt workloadUpdateMethods
    (["LiveMigrate"]) in the Upgrade annotation harvesterhci.io/kubevirt-workload-update-methods and set
    them to [], the controller had disabled the descheduler addon (annotation
    harvesterhci.io/reenable-descheduler-addon "true", the addon labelled with the upgrade) and applied the
    skip-rke2-manifests plan; then the apply-manifests Job failed (BackoffLimitExceeded) and the Upgrade
    with it. The failed upgrade's cleanup first waits for the remove-skip-rke2-manifests plan, which
    harvester-node-2 never completed (no plan label on it): the cleanup never ran (upgradeCleanup
    Pending), so LiveMigrate is still removed, the descheduler still disabled, and the repository
    Deployment and the OS image are still there."""
    U = LIVEMIGRATE_UPGRADE
    n0, n1, n2 = NODES
    t0 = CAPTURE - dt.timedelta(days=2, hours=3, minutes=12)
    img_at, repo_at = t0 + dt.timedelta(minutes=7), t0 + dt.timedelta(minutes=9)
    prep_at = t0 + dt.timedelta(minutes=33)
    failed = t0 + dt.timedelta(hours=1, minutes=4)
    with cluster_shape(3, cluster_id=LIVEMIGRATE_CLUSTER_ID, bundle_name="bundle-l9w2c", versions=V181):
        b = base_cluster(description="After the failed v1.8.2 upgrade: CPU hotplug no longer works")
        old = b.get("harvesterhci.io/v1beta1", "upgrades", V["past_upgrade"], "harvester-system")
        old["metadata"]["labels"].pop("harvesterhci.io/latestUpgrade")
        touch(old, t0 + dt.timedelta(seconds=1))
        up = b.add("harvesterhci.io/v1beta1", "upgrades", upgrade_obj(
            U, created=t0, version="v1.8.2", previous="v1.8.1", generation=19, log=False,
            labels={"harvesterhci.io/latestUpgrade": "true", "harvesterhci.io/upgradeState": "Failed",
                    "harvesterhci.io/upgradeCleanup": "Pending"},
            annotations={"harvesterhci.io/kubevirt-workload-update-methods": '["LiveMigrate"]',
                         "harvesterhci.io/reenable-descheduler-addon": "true",
                         "harvesterhci.io/apply-skip-rke2-manifests-plan-completed": "true",
                         "harvesterhci.io/replica-replenishment-wait-interval": "600"},
            conditions=[hcond("Completed", "False", failed + dt.timedelta(seconds=1)),
                        hcond("LogReady", "False", t0 + dt.timedelta(seconds=1), reason="Disabled",
                              message="Upgrade observability is administratively disabled"),
                        hcond("ImageReady", "True", img_at), hcond("RepoReady", "True", repo_at),
                        hcond("NodesPrepared", "True", prep_at),
                        hcond("SystemServicesUpgraded", "False", failed + dt.timedelta(seconds=1),
                              reason="BackoffLimitExceeded", message="Job has reached the specified backoff limit")],
            node_statuses={n: {"state": "Images preloaded"} for n in NODES},
            repoinfo=repo_info(dict(V181, harvester="v1.8.2", chart="1.8.2", os="Harvester v1.8.2")),
            updated=failed + dt.timedelta(seconds=1)))
        b.add("harvesterhci.io/v1beta1", "virtualmachineimages", os_upgrade_image(
            U, "v1.8.2", created=t0 + dt.timedelta(seconds=2), imported=img_at, up=up))
        add_repo_deployment(b, up, created=img_at + dt.timedelta(seconds=3), on=[n0, n1])
        prep = b.add("upgrade.cattle.io/v1", "plans", prepare_plan(U, "v1.8.1", created=repo_at + dt.timedelta(seconds=1),
                                                                   resolved=repo_at + dt.timedelta(seconds=2)))
        label_nodes_with_plan(b, prep, NODES)
        tol = [{"key": "CriticalAddonsOnly", "operator": "Exists"},
               {"effect": "NoSchedule", "key": "kubevirt.io/drain", "operator": "Exists"}]
        for action, at, nodes in (("apply", prep_at + dt.timedelta(minutes=2), NODES),
                                  ("remove", failed + dt.timedelta(seconds=4), [n0, n1])):
            plan = b.add("upgrade.cattle.io/v1", "plans", plan_obj(
                f"{U}-skip-manifests-{action}", created=at, version=U, resolved=at + dt.timedelta(seconds=1),
                concurrency=3, tolerations=tol,
                labels={"harvesterhci.io/upgrade": U,
                        "harvesterhci.io/upgradeComponent": f"{action}-skip-rke2-manifests"},
                upgrade_spec={"command": ["sh", "-c"], "env": [{"name": "MANIFESTS", "value": "rke2-multus.yaml"},
                                                               {"name": "SKIP_ACTION", "value": action}],
                              "image": f"{UPGRADE_IMAGE}:v1.8.1"}))
            label_nodes_with_plan(b, plan, nodes)
        # KubeVirt workload updates emptied by disable_kubevirt_workload_live_migration
        mc = b.get("management.cattle.io/v3", "managedcharts", "harvester", "fleet-local")
        mc["spec"].setdefault("values", {}).setdefault("kubevirt", {}).setdefault("spec", {})[
            "workloadUpdateStrategy"] = {"workloadUpdateMethods": []}
        # the descheduler addon, disabled by the upgrade (addUpgradeLabelToDeschedulerAddons)
        b.add("harvesterhci.io/v1beta1", "addons", {
            "metadata": meta("descheduler", "kube-system", created=INSTALLED + dt.timedelta(days=40), generation=4,
                             labels={"addon.harvesterhci.io/experimental": "false", "harvesterhci.io/upgrade": U},
                             updated=prep_at + dt.timedelta(minutes=1), uid_=uid("addon", "descheduler")),
            "spec": {"chart": "descheduler", "enabled": False, "repo": "http://harvester-cluster-repo.cattle-system.svc/charts",
                     "valuesContent": "", "version": "0.33.0"},
            "status": {"status": "AddonDisabled"}})
        return b


def add_kubernetes_endpointslice(b):
    """The EndpointSlice `kubernetes` the API servers keep for default/kubernetes (the v1.9 webhook's
    certificate check reads it instead of the Endpoints; base_cluster() has only the Endpoints)."""
    svc = b.get("v1", "services", "kubernetes", "default")
    b.add("discovery.k8s.io/v1", "endpointslices", {
        "metadata": meta("kubernetes", "default", created=INSTALLED, generation=1,
                         labels={"kubernetes.io/service-name": "kubernetes"}),
        "addressType": "IPv4",
        "endpoints": [{"addresses": [NODE_IPS[n]], "conditions": {"ready": True}} for n in NODES
                      if is_control_plane(n)],
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]})
    return svc


def scenario_upgrade_chart_unavailable_v190() -> BundleModel:
    """A v1.9.0 cluster upgrading to v1.9.1, in phase 3 (UpgradingSystemServices) for 38 min: phases 0-2
    are done (logging disabled for this upgrade, the OS image imported into longhorn-static, the
    repository Deployment with 2 ready nginx pods, images preloaded on every node); the apply-manifests
    Job runs upgrade_manifests.sh, whose wait_managed_chart in v1.9 waits for each ManagedChart to be
    Ready *and* to report status.unavailable 0 (harvester/harvester#10693). ManagedChart harvester is
    Ready, but Fleet counts 1 unavailable bundle deployment since the chart update 31 min ago: the
    script keeps waiting (a v1.8 script would have gone on)."""
    U = UNAVAILABLE_UPGRADE
    n0, n1, n2 = NODES
    t0 = CAPTURE - dt.timedelta(hours=1, minutes=22)
    img_at, repo_at = t0 + dt.timedelta(minutes=6), t0 + dt.timedelta(minutes=8)
    prep_at = t0 + dt.timedelta(minutes=44)
    sys_start = CAPTURE - dt.timedelta(minutes=38)
    chart_at = CAPTURE - dt.timedelta(minutes=31)
    with cluster_shape(3, cluster_id=UNAVAILABLE_CLUSTER_ID, bundle_name="bundle-v4q9t", versions=V190):
        b = base_cluster(description="Upgrade to v1.9.1 has not left system services for half an hour")
        add_kubernetes_endpointslice(b)
        old = b.get("harvesterhci.io/v1beta1", "upgrades", V["past_upgrade"], "harvester-system")
        old["metadata"]["labels"].pop("harvesterhci.io/latestUpgrade")
        touch(old, t0 + dt.timedelta(seconds=1))
        up = b.add("harvesterhci.io/v1beta1", "upgrades", upgrade_obj(
            U, created=t0, version="v1.9.1", previous="v1.9.0", generation=17, log=False,
            labels={"harvesterhci.io/latestUpgrade": "true", "harvesterhci.io/upgradeState": "UpgradingSystemServices"},
            annotations={"harvesterhci.io/replica-replenishment-wait-interval": "600"},
            conditions=[hcond("Completed", "Unknown"),
                        hcond("LogReady", "False", t0 + dt.timedelta(seconds=1), reason="Disabled",
                              message="Upgrade observability is administratively disabled"),
                        hcond("ImageReady", "True", img_at), hcond("RepoReady", "True", repo_at),
                        hcond("NodesPrepared", "True", prep_at), hcond("SystemServicesUpgraded", "Unknown")],
            node_statuses={n: {"state": "Images preloaded"} for n in NODES},
            repoinfo=repo_info(dict(V190, harvester="v1.9.1", chart="1.9.1", os="Harvester v1.9.1")),
            updated=sys_start))
        b.add("harvesterhci.io/v1beta1", "virtualmachineimages", os_upgrade_image(
            U, "v1.9.1", created=t0 + dt.timedelta(seconds=2), imported=img_at, up=up))
        add_repo_deployment(b, up, created=img_at + dt.timedelta(seconds=3), on=[n1, n2])
        prep = b.add("upgrade.cattle.io/v1", "plans", prepare_plan(U, "v1.9.0", created=repo_at + dt.timedelta(seconds=1),
                                                                   resolved=repo_at + dt.timedelta(seconds=2)))
        label_nodes_with_plan(b, prep, NODES)
        job = add_manifest_job(b, up, node=n0, created=sys_start, finished=sys_start)
        job["metadata"]["generation"] = 1
        job["status"] = {"active": 1, "ready": 1, "startTime": ts(sys_start), "terminating": 0,
                         "uncountedTerminatedPods": {}}
        touch(job, sys_start + dt.timedelta(seconds=4))
        job_pod(b, job, node=n0, created=sys_start + dt.timedelta(seconds=1), finished=None)
        # Fleet: the harvester chart's bundle deployment is not counted available since the update.
        for group, kind, name in (("management.cattle.io/v3", "managedcharts", "harvester"),
                                  ("fleet.cattle.io/v1alpha1", "bundles", "mcc-harvester")):
            o = b.get(group, kind, name, "fleet-local")
            o["status"]["unavailable"] = 1
            for part in o["status"].get("partitions", []):
                part["unavailable"] = 1
            touch(o, chart_at)
        return b


def scenario_hotplug_pending_v182() -> BundleModel:
    """A v1.8.2 cluster before the v1.9.0 upgrade. An hour ago the user hot-plugged a 20 Gi disk into the
    running vm-web-01 (`virtctl addvolume`): KubeVirt recorded the request in the VM's
    status.volumeRequests, but with the DeclarativeHotplugVolumes feature gate such requests are no longer
    processed, so it stays pending. From v1.8.2 the upgrade webhook refuses an upgrade while any VM has
    one (check C25); v1.8.1's webhook has no such check."""
    with cluster_shape(3, cluster_id=HOTPLUG_CLUSTER_ID, bundle_name="bundle-h2p8v", versions=V182):
        b = base_cluster(description="Before the v1.9.0 upgrade: a hot-plugged disk never appeared in vm-web-01")
        vm = b.get("kubevirt.io/v1", "virtualmachines", "vm-web-01", "default")
        vm["status"]["volumeRequests"] = [{"addVolumeOptions": {
            "disk": {"disk": {"bus": "scsi"}, "name": "hotplug-data"},
            "name": "hotplug-data",
            "volumeSource": {"persistentVolumeClaim": {"claimName": "vm-web-01-hotplug-data", "hotpluggable": True}}}}]
        touch(vm, CAPTURE - dt.timedelta(minutes=58, seconds=21))
        return b


DISK_ERRORS_FIRST = CAPTURE - dt.timedelta(hours=5, minutes=12, seconds=8)   # sdc on node-1 starts failing
GHOST_NODE = "harvester-node-3"
GHOST_REMOVED = CAPTURE - dt.timedelta(days=3, hours=2)                      # node-3 deleted from the cluster


CLOCK_DRIFT_FROM = CAPTURE - dt.timedelta(days=2, hours=5, minutes=3)   # node-2's clock falls behind
CLOCK_BEHIND = dt.timedelta(hours=1, minutes=47, seconds=37)              # by this much
CLOCK_FIXED = CAPTURE - dt.timedelta(days=2, hours=2, minutes=41)         # chrony steps it back


def add_clock_trouble(b, node):
    """node's clock falls 1 h 47 min behind (its time source lost): etcd on harvester-node-0 logs
    `prober found high clock drift` about node's member for 18 min; then rke2-server on node is
    restarted and fails 3 times (its x509 check of the other servers' certificates: "not yet valid",
    the node's time being before their start), systemd hits the start limit; 2 h 22 min later, with
    the clock fixed, rke2-server is started again and runs. The journal lines carry the node's own
    (wrong) time until the fix."""
    peer = h("etcd-member", node)[:16]
    drift = []
    for k in range(7):
        t = CLOCK_DRIFT_FROM + dt.timedelta(seconds=150 * k + 3)
        d = CLOCK_BEHIND + dt.timedelta(milliseconds=211 * k)
        secs = d.total_seconds()
        drift.append((t, go_json({"level": "warn", "ts": ts(t).replace("Z", f".{t.microsecond:06d}Z"),
                                  "caller": "rafthttp/probing_status.go:82",
                                  "msg": "prober found high clock drift",
                                  "round-tripper-name": "ROUND_TRIPPER_RAFT_MESSAGE", "remote-peer-id": peer,
                                  "clock-drift": f"{int(secs // 3600)}h{int(secs % 3600 // 60)}m{secs % 60:.3f}s",
                                  "rtt": "1.104ms"}, sort_keys=False)))
    merge_log(b, f"kube-system/etcd-{NODES[0]}/etcd.log", drift, "clock-drift")
    fail_at = CLOCK_DRIFT_FROM + dt.timedelta(minutes=21)
    local = fail_at - CLOCK_BEHIND                 # what node's clock says
    ip0 = NODE_IPS[NODES[0]]
    c = Clock(f"{node}/clock")
    lines = []
    rp = 4100 + 37 * node_index(node)
    for k in range(3):
        t = local + dt.timedelta(seconds=6 * k)
        start = c.at(t)
        lines.append((start, "rke2", rp + k, f'time="{ts(start)}" level=info msg="Starting rke2 {V["rke2"]} '
                                              '(a7f84b6c0b79f2b5f9a3b94f6a3b4c8e1e0d7f13)"'))
        bad = c.at(t + dt.timedelta(seconds=1))
        lines.append((bad, "rke2", rp + k,
                      f'time="{ts(bad)}" level=fatal msg="starting kubernetes: preparing server: failed to get CA '
                      f'certs: Get \\"https://{ip0}:9345/cacerts\\": tls: failed to verify certificate: x509: '
                      f'certificate has expired or is not yet valid: current time {ts(bad)} is before '
                      f'{ts(fail_at.replace(microsecond=0) - dt.timedelta(minutes=3))}"'))
        e = c.at(t + dt.timedelta(seconds=1))
        lines.append((e, "systemd", 1, "rke2-server.service: Main process exited, code=exited, status=1/FAILURE"))
        lines.append((c.at(e), "systemd", 1, "rke2-server.service: Failed with result 'exit-code'."))
        lines.append((c.at(e), "systemd", 1, "Failed to start Rancher Kubernetes Engine v2 (server)."))
        if k < 2:
            lines.append((c.at(t + dt.timedelta(seconds=6)), "systemd", 1,
                          f"rke2-server.service: Scheduled restart job, restart counter is at {k + 1}."))
    gave_up = c.at(local + dt.timedelta(seconds=18))
    lines.append((gave_up, "systemd", 1, "rke2-server.service: Start request repeated too quickly."))
    lines.append((c.at(gave_up), "systemd", 1, "rke2-server.service: Failed with result 'start-limit-hit'."))
    back = c.at(CLOCK_FIXED + dt.timedelta(minutes=2))
    lines.append((back, "rke2", rp + 9, f'time="{ts(back)}" level=info msg="Starting rke2 {V["rke2"]} '
                                         '(a7f84b6c0b79f2b5f9a3b94f6a3b4c8e1e0d7f13)"'))
    up = c.at(back + dt.timedelta(seconds=41))
    lines.append((up, "systemd", 1, "Started Rancher Kubernetes Engine v2 (server)."))
    # The unit's journal is in time order (journalctl), so the new lines go where their times say.
    text = b.node_files[node]["logs/rke2-server.log"]
    first, rest = text.split("\n", 1) if not text.startswith("-- ") else ("", text)
    old = rest.splitlines()
    new = [journal(t, node, ident, pid, m) for t, ident, pid, m in lines]
    def when(line):
        t = dt.datetime.strptime(f"{CAPTURE.year} " + line[:22], "%Y %b %d %H:%M:%S.%f")
        return t.replace(year=t.year - 1) if t.month > CAPTURE.month else t
    merged = sorted(old + new, key=when)
    # rke2 runs as a new process after the restart.
    merged = [re.sub(r"rke2\[\d+\]", f"rke2[{rp + 9}]", line)
              if when(line) > back.replace(tzinfo=None) else line for line in merged]
    b.node_files[node]["logs/rke2-server.log"] = first + "\n" + "\n".join(merged) + "\n"


EXTRA_DISK_ADDED = CAPTURE - dt.timedelta(days=9, hours=4, minutes=12)   # node-0's sdb provisioned
EXTRA_DISK_FIRST = CAPTURE - dt.timedelta(hours=2, minutes=7, seconds=41)  # and failing since


def provision_extra_disk(b, node, replica, at):
    """Provision node's second disk /dev/sdb (its BlockDevice in base_cluster()) as a Longhorn disk at
    `at`: mounted at /var/lib/harvester/extra-disks/<BlockDevice name>, added to Longhorn node `node`
    under that name; `replica` (a Longhorn Replica on node) is moved onto it."""
    bd_name = h("blockdevice", node)[:32]
    mount = f"/var/lib/harvester/extra-disks/{bd_name}"
    bd = b.get("harvesterhci.io/v1beta1", "blockdevices", bd_name, "longhorn-system")
    bd["spec"]["fileSystem"] = {"forceFormatted": True, "mountPoint": mount, "provisioned": True}
    bd["status"]["deviceStatus"]["fileSystem"] = {"LastFormattedAt": ts(at), "mountPoint": mount, "type": "ext4"}
    bd["status"]["provisionPhase"] = "Provisioned"
    touch(bd, at + dt.timedelta(seconds=9))
    disk_uuid = uid("diskuuid", node, bd_name)
    lhn = b.get("longhorn.io/v1beta2", "nodes", node, "longhorn-system")
    lhn["spec"]["disks"][bd_name] = {"allowScheduling": True, "diskType": "filesystem", "evictionRequested": False,
                                     "path": mount, "storageReserved": 0, "tags": [], "diskDriver": ""}
    first = next(iter(lhn["status"]["diskStatus"].values()))
    lhn["status"]["diskStatus"][bd_name] = dict(copy.deepcopy(first), diskUUID=disk_uuid, filesystemType="ext2/ext3",
                                                storageAvailable=1082331758592 - 42949672960 // 3,
                                                storageMaximum=1082331758592, storageScheduled=42949672960)
    touch(lhn, at + dt.timedelta(seconds=20))
    replica["spec"].update({"diskID": disk_uuid, "diskPath": mount})


def add_failing_extra_disk(b, node):
    """node's second disk /dev/sdb, provisioned 9 days ago as a Longhorn disk that now holds the replica of
    vm-web-01's volume on node; for 2 h the kernel logs read errors on it (`[sdb] tag#… FAILED Result`,
    `Medium Error`, `I/O error, dev sdb`), every few minutes, while Longhorn still shows the replica
    running."""
    vol = web_volume_name()
    rep = next(r for r in b.items("longhorn.io/v1beta2", "replicas", "longhorn-system")
               if r["spec"]["volumeName"] == vol and r["spec"]["nodeID"] == node)
    provision_extra_disk(b, node, rep, EXTRA_DISK_ADDED)
    lines = []
    for k in range(9):
        t = EXTRA_DISK_FIRST + dt.timedelta(minutes=14 * k, seconds=k * 7 % 11)
        sector = 18350080 + 4096 * k
        lines += [
            (t, f"sd 2:0:1:0: [sdb] tag#{17 + k} FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK "
                "cmd_age=3s"),
            (t + dt.timedelta(microseconds=40), f"sd 2:0:1:0: [sdb] tag#{17 + k} Sense Key : Medium Error [current]"),
            (t + dt.timedelta(microseconds=90), f"I/O error, dev sdb, sector {sector} op 0x0:(READ) flags 0x0 "
                                                "phys_seg 8 prio class 2"),
        ]
    b.node_files[node]["logs/kernel.log"] += "".join(
        journal(t, node, "kernel", None, m) + "\n" for t, m in sorted(lines))


def scenario_node_disk_errors_v140() -> BundleModel:
    """What the nodes say and the API does not. A grafana Deployment in default runs on harvester-node-1
    on a 10 Gi Filesystem (ext4) Longhorn volume, attached there as sdc; 5 h 12 min before the capture
    its filesystem starts failing: harvester-node-1's kernel.log holds 1,200 `EXT4-fs error (device sdc):
    ... comm grafana-server` lines (the last 8 s before the capture), an `I/O error, dev sdc` and the
    kernel's `callbacks suppressed` notes, while the pod is still Running and ready. harvester-node-3 was
    deleted from the cluster 3 days ago but its machine kept running: its kubelet still posts
    `NodeHasSufficientMemory` events about itself (count 4,127, the last 2 min before the capture)."""
    with cluster_shape(3, bundle_name="bundle-d4k7s"):
        b = base_cluster(description="grafana dashboards fail to load")
        node = NODES[1]
        ns = "default"
        created = CAPTURE - dt.timedelta(days=6, hours=3, minutes=14)
        _, pod = simple_deployment(
            b, "grafana", ns,
            [container("grafana", "docker.io/grafana/grafana:10.4.2", ports=[("http", 3000)],
                       mounts=[("storage", "/var/lib/grafana")])],
            node=node, labels={"app": "grafana"}, created=created,
            volumes=[{"name": "storage", "persistentVolumeClaim": {"claimName": "grafana-data"}}])
        add_pvc_volume(b, "grafana-data", ns, size_gi=10, node=node, created=created,
                       attached_at=created + dt.timedelta(seconds=31), mode="Filesystem", access="ReadWriteOnce",
                       pod_name=pod["metadata"]["name"], workload=pod["metadata"]["ownerReferences"][0]["name"],
                       workload_type="ReplicaSet")
        lines = [(DISK_ERRORS_FIRST - dt.timedelta(microseconds=310),
                  "I/O error, dev sdc, sector 4196352 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2")]
        for k in range(1200):
            t = DISK_ERRORS_FIRST + dt.timedelta(seconds=15 * k + k % 7, microseconds=1733 * k % 1000000)
            lines.append((t, "EXT4-fs error (device sdc): __ext4_find_entry:1682: inode #2: comm grafana-server: "
                             "reading directory lblock 0"))
            if k % 100 == 99:
                lines.append((t + dt.timedelta(seconds=5), "EXT4-fs error: 10 callbacks suppressed"))
        lines.append((CAPTURE - dt.timedelta(seconds=8), "EXT4-fs error (device sdc): __ext4_find_entry:1682: "
                                                         "inode #2: comm grafana-server: reading directory lblock 0"))
        b.node_files[node]["logs/kernel.log"] += "".join(
            journal(t, node, "kernel", None, m) + "\n" for t, m in sorted(lines))
        add_clock_trouble(b, NODES[2])
        add_failing_extra_disk(b, NODES[0])
        add_events(b, [(
            "default", {"kind": "Node", "name": GHOST_NODE, "uid": GHOST_NODE}, "NodeHasSufficientMemory",
            f"Node {GHOST_NODE} status is now: NodeHasSufficientMemory", GHOST_REMOVED + dt.timedelta(minutes=3),
            CAPTURE - dt.timedelta(minutes=2, seconds=14), 4127, "Normal", "kubelet", GHOST_NODE)])
        return b


# ---- VM truth (issue 16, item 4) ----------------------------------------------------------------
VS_STOP = CAPTURE - dt.timedelta(hours=3, minutes=12, seconds=41)     # vm-test-01 stop requested
VS_GRACE = 135                                                          # launcher grace period (s)
VS_FAULTED = CAPTURE - dt.timedelta(hours=1, minutes=47, seconds=5)    # vm-db-01's replicas fail
VS_MIGRATE = CAPTURE - dt.timedelta(minutes=52, seconds=18)            # vm-web-01 migration asked


def scenario_vm_stuck_v140() -> BundleModel:
    """What the VMs print against what their objects say.
    Stuck launcher: vm-test-01 ran on harvester-node-2; 3h12m before the capture the user stopped
    it (runStrategy Halted). KubeVirt deleted its VMI, the VM prints Stopped, but the launcher pod
    stays Terminating on harvester-node-2 (deletionTimestamp = stop + 135 s grace), its
    containers exited, while the kubelet reports FailedKillPod every few minutes (38 times) and
    the VM's volume is still attached there (VolumeAttachment attached, Longhorn volume attached).
    Faulted volume: vm-db-01 runs on harvester-node-0; 1h47m before the capture its three replicas
    failed (failedAt set, stopped): the Longhorn volume is attached but faulted and the VM is
    paused on the I/O error (VMI condition Paused, PausedIOError; printableStatus Paused).
    Failed migration: the user migrated vm-web-01 52 min before the capture; the target pod could
    not be scheduled (anti-affinity and node selector), KubeVirt gave up after its 5-minute
    unschedulable timeout and deleted the target pod: the migration is Failed, the VM keeps running
    on harvester-node-1."""
    b = base_cluster(description="vm-test-01 will not start again; vm-db-01 is paused; vm-web-01 does not migrate")
    hp = b.helpers
    n0, n1, n2 = NODES
    events = []
    # ---- vm-test-01: stopped, its launcher pod stuck terminating on node-2 ------------------------
    vm = b.get("kubevirt.io/v1", "virtualmachines", "vm-test-01", "default")
    started = VS_STOP - dt.timedelta(days=5, hours=2, minutes=9)
    vmi_uid = uid("vmi", "vm-test-01")
    pod = launcher_pod(b, "vm-test-01", "default", n2, vmi_uid=vmi_uid, created=started, cpu=1,
                       mem_request="2270208Ki")
    launcher_logs(b, pod, "vm-test-01", started + dt.timedelta(seconds=2))
    deadline = VS_STOP + dt.timedelta(seconds=VS_GRACE)
    md = {}
    for k, v in pod["metadata"].items():
        md[k] = v
        if k == "creationTimestamp":
            md["deletionTimestamp"] = ts(deadline)
            md["deletionGracePeriodSeconds"] = VS_GRACE
    pod["metadata"] = md
    exited = VS_STOP + dt.timedelta(seconds=41)
    for cs in pod["status"]["containerStatuses"]:
        st = cs["state"].get("running", {}).get("startedAt")
        cs["state"] = {"terminated": {"containerID": cs.get("containerID", ""), "exitCode": 0, "reason": "Completed",
                                      "startedAt": st, "finishedAt": ts(exited)}}
        cs["ready"] = False
        cs["started"] = False
    set_pod_ready(pod, False, exited, message="containers with unready status: [compute guest-console-log]")
    touch(pod, exited)
    # The kubelet on node-2 keeps failing to tear the pod's sandbox down (as its events say).
    c = Clock("vm-stuck-kubelet")
    pname, puid = pod["metadata"]["name"], pod["metadata"]["uid"]
    kl = []
    t = deadline + dt.timedelta(minutes=2, seconds=3)
    while t < CAPTURE - dt.timedelta(minutes=4):
        x = c.at(t)
        kl.append((x, klog("E", x, 3333, "pod_workers.go:1298",
                           f'"Error syncing pod, skipping" err="failed to \\"KillPodSandbox\\" for '
                           f'\\"{puid}\\" with KillPodSandboxError: \\"rpc error: code = DeadlineExceeded '
                           f'desc = context deadline exceeded\\"" pod="default/{pname}" podUID="{puid}"')))
        t += dt.timedelta(minutes=37)
    log = b.node_files[n2]["logs/kubelet.log"].splitlines(keepends=True)
    b.node_files[n2]["logs/kubelet.log"] = "".join(sorted(log[:2]) + [m + "\n" for _, m in kl] + log[2:])
    for c in vm["status"]["conditions"]:
        c["lastProbeTime"] = ts(VS_STOP + dt.timedelta(seconds=3))
        c["lastTransitionTime"] = ts(VS_STOP + dt.timedelta(seconds=3))
    touch(vm, VS_STOP + dt.timedelta(seconds=3))
    claim = vm["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    tpvc = b.get("v1", "persistentvolumeclaims", claim, "default")
    vname = tpvc["spec"]["volumeName"]
    tvol = b.get("longhorn.io/v1beta2", "volumes", vname, "longhorn-system")
    tvol["spec"]["nodeID"] = n2
    tvol["status"].update({"state": "attached", "robustness": "healthy", "currentNodeID": n2, "ownerID": n2})
    tvol["status"]["kubernetesStatus"]["workloadsStatus"] = [{"podName": pod["metadata"]["name"],
                                                              "podStatus": "Running", "workloadName": "vm-test-01",
                                                              "workloadType": "VirtualMachineInstance"}]
    touch(tvol, started + dt.timedelta(seconds=8))
    for r in b.items("longhorn.io/v1beta2", "replicas", "longhorn-system"):
        if r["spec"]["volumeName"] == vname:
            r["spec"]["desireState"] = "running"
            r["status"].update({"currentState": "running", "started": True})
    eng = b.get("longhorn.io/v1beta2", "engines", f"{vname}-e-0", "longhorn-system")
    eng["spec"].update({"nodeID": n2, "desireState": "running"})
    eng["status"].update({"currentState": "running", "started": True, "endpoint": f"/dev/longhorn/{vname}",
                          "instanceManagerName": hp["im_names"][n2], "ownerID": n2})
    eng["metadata"]["labels"] = {"longhornnode": n2, "longhornvolume": vname}
    b.add("storage.k8s.io/v1", "volumeattachments", volume_attachment(vname, n2, created=started))
    events.append(("default", obj_ref(pod, "Pod", "v1"), "FailedKillPod",
                   f'error killing pod: failed to "KillPodSandbox" for "{pod["metadata"]["uid"]}" with '
                   'KillPodSandboxError: "rpc error: code = DeadlineExceeded desc = context deadline exceeded"',
                   deadline + dt.timedelta(minutes=2, seconds=3), CAPTURE - dt.timedelta(minutes=4, seconds=22), 38,
                   "Warning", "kubelet", n2))
    # ---- vm-db-01: running on node-0 on a volume whose replicas all failed -------------------------
    db_created = INSTALLED + dt.timedelta(days=40, hours=3)
    db_started = CAPTURE - dt.timedelta(days=2, hours=6, minutes=31)
    dvm, dvmi, dpod = hp["add_vm"]("vm-db-01", node=n0, running=True, disk_gi=20, cpu=2, mem="4Gi",
                                   created=db_created, started=db_started)
    launcher_logs(b, dpod, "vm-db-01", db_started + dt.timedelta(seconds=2))
    paused_at = VS_FAULTED + dt.timedelta(seconds=2)
    dvmi["status"]["conditions"].append({"lastProbeTime": None, "lastTransitionTime": ts(paused_at),
                                         "message": "VMI was paused, low-level IO error detected",
                                         "reason": "PausedIOError", "status": "True", "type": "Paused"})
    touch(dvmi, paused_at)
    dvm["status"]["printableStatus"] = "Paused"
    dvm["status"]["conditions"].append({"lastProbeTime": None, "lastTransitionTime": ts(paused_at),
                                        "message": "VMI was paused, low-level IO error detected",
                                        "reason": "PausedIOError", "status": "True", "type": "Paused"})
    touch(dvm, paused_at)
    dclaim = dvm["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    dvol = b.get("longhorn.io/v1beta2", "volumes",
                 b.get("v1", "persistentvolumeclaims", dclaim, "default")["spec"]["volumeName"], "longhorn-system")
    dvol["status"]["robustness"] = "faulted"
    dvol["status"]["lastDegradedAt"] = ts(VS_FAULTED)
    touch(dvol, VS_FAULTED + dt.timedelta(seconds=1))
    for k, r in enumerate(r for r in b.items("longhorn.io/v1beta2", "replicas", "longhorn-system")
                          if r["spec"]["volumeName"] == dvol["metadata"]["name"]):
        r["spec"]["failedAt"] = ts(VS_FAULTED - dt.timedelta(seconds=2 - k))
        r["spec"]["desireState"] = "stopped"
        r["status"].update({"currentState": "stopped", "started": False, "instanceManagerName": "", "ip": "",
                            "port": 0, "storageIP": ""})
        touch(r, VS_FAULTED - dt.timedelta(seconds=2 - k))
    events.append(("longhorn-system", obj_ref(dvol, "Volume", "longhorn.io/v1beta2"), "Faulted",
                   f"volume {dvol['metadata']['name']} became faulted", VS_FAULTED, VS_FAULTED, 1, "Warning",
                   "longhorn-volume-controller", None))
    # ---- vm-web-01: a migration that failed because no node could take the VM ----------------------
    wvmi = b.get("kubevirt.io/v1", "virtualmachineinstances", "vm-web-01", "default")
    mig_name = f"vm-web-01-{suffix(5, 'mig', 'vm-web-01')}"
    mig_uid = uid("vmim", "default", mig_name)
    target = f"virt-launcher-vm-web-01-{suffix(5, 'launcher', 'vm-web-01', 'migration-target')}"
    failed_at = VS_MIGRATE + dt.timedelta(minutes=5, seconds=9)
    mig = {"metadata": meta(mig_name, "default", created=VS_MIGRATE, generate_name="vm-web-01-", generation=1,
                            uid_=mig_uid, labels={"kubevirt.io/vmi-name": "vm-web-01"},
                            annotations={"kubevirt.io/latest-observed-api-version": "v1",
                                         "kubevirt.io/storage-observed-api-version": "v1"},
                            finalizers=["kubevirt.io/migrationJobFinalize"], updated=failed_at),
           "spec": {"vmiName": "vm-web-01"},
           "status": {"phase": "Failed", "phaseTransitionTimestamps": [
               {"phase": "Pending", "phaseTransitionTimestamp": ts(VS_MIGRATE)},
               {"phase": "Scheduling", "phaseTransitionTimestamp": ts(VS_MIGRATE + dt.timedelta(seconds=1))},
               {"phase": "Failed", "phaseTransitionTimestamp": ts(failed_at)}]}}
    b.add("kubevirt.io/v1", "virtualmachineinstancemigrations", mig)
    target_ref = {"kind": "Pod", "namespace": "default", "name": target, "uid": uid("pod", "default", target),
                  "apiVersion": "v1", "resourceVersion": rv(VS_MIGRATE, "target")}
    events += [
        ("default", obj_ref(mig, "VirtualMachineInstanceMigration", "kubevirt.io/v1"), "SuccessfulCreate",
         f"Created migration target pod default/{target}", VS_MIGRATE + dt.timedelta(seconds=1),
         VS_MIGRATE + dt.timedelta(seconds=1), 1, "Normal", "virtualmachine-controller", None),
        ("default", target_ref, "FailedScheduling",
         "0/3 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 2 node(s) didn't match "
         "Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
         "scheduling.", VS_MIGRATE + dt.timedelta(seconds=1), VS_MIGRATE + dt.timedelta(minutes=4, seconds=31),
         6, "Warning", "default-scheduler", None),
        ("default", obj_ref(mig, "VirtualMachineInstanceMigration", "kubevirt.io/v1"), "FailedMigration",
         "Migration target pod for VMI [default/vm-web-01] is currently unschedulable.",
         VS_MIGRATE + dt.timedelta(minutes=5, seconds=8), VS_MIGRATE + dt.timedelta(minutes=5, seconds=8), 1,
         "Warning", "virtualmachine-controller", None),
        ("default", obj_ref(mig, "VirtualMachineInstanceMigration", "kubevirt.io/v1"), "SuccessfulDelete",
         f"Deleted pending migration target pod default/{target} because unschedulable pod timeout of 300 "
         "seconds was exceeded", failed_at, failed_at, 1, "Normal", "virtualmachine-controller", None)]
    touch(wvmi, failed_at)
    add_events(b, events)
    return b


SCENARIOS = {
    "healthy-v1.4.0": scenario_healthy_v140,
    "fleet-stale-v1.4.0": scenario_fleet_stale_v140,
    "fleet-agent-down-v1.4.0": scenario_fleet_agent_down_v140,
    "fleet-drift-v1.4.0": scenario_fleet_drift_v140,
    "fleet-not-ready-v1.4.0": scenario_fleet_not_ready_v140,
    "upgrade-stuck-predrained-v1.4.0": scenario_upgrade_stuck_predrained_v140,
    "upgrade-failed-leftovers-v1.4.0": scenario_upgrade_failed_leftovers_v140,
    "upgrade-blocked-v1.4.0": scenario_upgrade_blocked_v140,
    "clean-v1.5.0": scenario_clean_v150,
    "webhook-down-v1.4.0": scenario_webhook_down_v140,
    "node-down-vm-degraded-v1.4.0": scenario_node_down_vm_degraded_v140,
    "storage-lost-v1.4.0": scenario_storage_lost_v140,
    "upgrade-paused-node-v1.7.0": scenario_upgrade_paused_node_v170,
    "upgrade-failed-livemigrate-v1.8.1": scenario_upgrade_failed_livemigrate_v181,
    "node-disk-errors-v1.4.0": scenario_node_disk_errors_v140,
    "vm-stuck-v1.4.0": scenario_vm_stuck_v140,
    "hotplug-pending-v1.8.2": scenario_hotplug_pending_v182,
    "upgrade-chart-unavailable-v1.9.0": scenario_upgrade_chart_unavailable_v190,
}


# ===========================================================================================
# (e) writing and checking
# ===========================================================================================

def render_all() -> dict[str, dict[str, bytes]]:
    return {name: fn().files() for name, fn in SCENARIOS.items()}


def write_tree(root: str, files: dict[str, bytes]):
    if os.path.isdir(root):
        shutil.rmtree(root)
    for rel, data in sorted(files.items()):
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)


def tree_files(root: str) -> dict[str, bytes]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root).replace(os.sep, "/")] = open(p, "rb").read()
    return out


def check(samples_dir: str) -> int:
    rendered = render_all()
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, files in rendered.items():
            write_tree(os.path.join(tmp, name), files)
            want = tree_files(os.path.join(tmp, name))
            have = tree_files(os.path.join(samples_dir, name)) if os.path.isdir(os.path.join(samples_dir, name)) else {}
            for rel in sorted(set(want) | set(have)):
                if rel not in have:
                    bad.append(f"missing: {name}/{rel}")
                elif rel not in want:
                    bad.append(f"extra:   {name}/{rel}")
                elif want[rel] != have[rel]:
                    bad.append(f"differs: {name}/{rel}")
    for line in bad:
        print(line)
    if bad:
        print(f"{len(bad)} file(s) differ from the generator output; run python3 samples/generate.py")
        return 1
    print(f"ok: {sum(len(f) for f in rendered.values())} files in {len(rendered)} scenario(s) match")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare committed folders with a fresh generation")
    ap.add_argument("--selftest", action="store_true", help="run the emitter doctests")
    ap.add_argument("--out", default=SAMPLES_DIR, help="where scenario folders go (default: samples/)")
    args = ap.parse_args(argv)
    if args.selftest:
        import doctest
        res = doctest.testmod(sys.modules[__name__])
        print(f"{res.attempted - res.failed} passed, {res.failed} failed")
        return 1 if res.failed else 0
    if args.check:
        return check(args.out)
    for name, files in render_all().items():
        write_tree(os.path.join(args.out, name), files)
        print(f"wrote {name}/ ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
