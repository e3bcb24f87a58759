#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Flat per-function profile of QEMU block logs (make profile, see profile.sh).

usage: profile.py KERNEL_BUILD WORK NAME TOP DRIVER...
Each WORK/NAME-DRIVER-profile/ holds exec.log (QEMU -d in_asm,exec,nochain), module-text
("VIOMMU-MODULE-TEXT mod 0xADDR") and, for the Rust driver, the module build. A block's weight
is its instruction count (from its translation); calls are counted at the entry block of
dma_map_page_attrs, so every figure is also given per map+unmap.
"""
import bisect
import collections
import glob
import os
import re
import subprocess
import sys

TRACE = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
INSN = re.compile(r"^0x([0-9a-f]+):\s")
OP_ENTRY = "dma_map_page_attrs"


def symbols(build, work, driver):
    syms = []
    with open(os.path.join(build, "System.map")) as f:
        for line in f:
            a, t, n = line.split()[:3]
            if t in "tTwW":
                syms.append((int(a, 16), n))
    try:
        _, mod, base = open(os.path.join(work, "module-text")).read().split()
        base = int(base, 16)
    except (OSError, ValueError):
        mod, base = None, 0
    ko = None
    if mod == "virtio_iommu":
        ko = os.path.join(build, "drivers/iommu/virtio-iommu.ko")
    elif mod:
        kos = glob.glob(os.path.join(work, "module-*/src/virtio_iommu_rs.ko"))
        ko = kos[0] if kos else None
    if ko and base:
        out = subprocess.run(["nm", "-C", "--defined-only", ko], capture_output=True, text=True).stdout
        for line in out.splitlines():
            p = line.split(None, 2)
            if len(p) == 3 and p[1] in "tT":
                syms.append((base + int(p[0], 16), "[" + (mod or "?") + "] " + shorten(p[2])))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def shorten(name):
    # Rust paths: keep the last two components, drop generic arguments and hashes.
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    name = re.sub(r"<[^<>]*>", "<>", name)
    name = re.sub(r"<[^<>]*>", "<>", name)
    parts = name.split("::")
    return "::".join(parts[-2:]) if len(parts) > 2 else name


def profile(path, addrs, names):
    """Block sizes, block hits, and calls (caller, callee) seen as a jump to a symbol's start."""
    size, hits, calls = {}, collections.Counter(), collections.Counter()
    fn_of = {}

    def fn(pc):
        f = fn_of.get(pc)
        if f is None:
            i = bisect.bisect_right(addrs, pc) - 1
            f = fn_of[pc] = (names[i], addrs[i] == pc) if i >= 0 else ("?", False)
        return f

    cur, prev = None, None
    with open(path, errors="replace") as f:
        for line in f:
            m = TRACE.match(line)
            if m:
                pc = int(m.group(1), 16)
                hits[pc] += 1
                callee, entry = fn(pc)
                if entry and prev is not None and prev != callee:
                    calls[(prev, callee)] += 1
                prev = callee
                cur = None
                continue
            if line.startswith("IN:"):
                cur = "new"
                continue
            m = INSN.match(line)
            if m and cur is not None:
                a = int(m.group(1), 16)
                if cur == "new":
                    cur = a
                    size[cur] = 0
                size[cur] += 1
            elif not line.strip():
                cur = None
    return size, hits, calls


def main():
    build, work, name, top = sys.argv[1:5]
    top = int(top)
    per_op = {}
    for d in sys.argv[5:]:
        w = os.path.join(work, f"{name}-{d}-profile")
        addrs, names = symbols(build, w, d)
        size, hits, calls = profile(os.path.join(w, "exec.log"), addrs, names)
        known = [size[pc] for pc in hits if pc in size]
        avg = sum(known) / len(known) if known else 1
        fn = collections.Counter()
        ops = 0
        for pc, n in hits.items():
            i = bisect.bisect_right(addrs, pc) - 1
            f = names[i] if i >= 0 else "?"
            fn[f] += n * size.get(pc, avg)
            if i >= 0 and addrs[i] == pc and f == OP_ENTRY:
                ops += n
        total = sum(fn.values())
        ops = max(ops, 1)
        print(f"== {name} DRIVER={d}: {total:.0f} instructions sampled, {ops} map+unmap, "
              f"{total / ops:.0f} per map+unmap ({len(known)} of {len(hits)} blocks sized)")
        for f, v in fn.most_common(top):
            print(f"  {100 * v / total:5.1f}%  {v / ops:8.0f}/op  {f}")
        print(f"  callers of the library functions above (calls per map+unmap):")
        for callee in [f for f, _ in fn.most_common(top)]:
            if callee.startswith("["):
                continue
            cs = [(n, c) for (c, e), n in calls.items() if e == callee]
            cs.sort(reverse=True)
            if cs:
                print(f"    {callee}: " + ", ".join(f"{c} {n / ops:.1f}" for n, c in cs[:4]))
        per_op[d] = {f: v / ops for f, v in fn.items()}
    if len(per_op) == 2:
        (a, pa), (b, pb) = per_op.items()
        print(f"== {b} - {a}, instructions per map+unmap, largest differences")
        keys = set(pa) | set(pb)
        diff = sorted(((pb.get(k, 0) - pa.get(k, 0), k) for k in keys), key=lambda x: -abs(x[0]))
        print(f"  total {sum(pb.values()) - sum(pa.values()):+.0f}")
        for v, k in diff[:top]:
            print(f"  {v:+8.0f}  {k}")


if __name__ == "__main__":
    main()
