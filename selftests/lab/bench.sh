#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# 'make bench': dma_map_benchmark through the C driver and the Rust driver, alternating boots of
# the same QEMU topology, ROUNDS times each; prints the median per-call map/unmap latency of each
# driver and the Rust/C ratios, all measured in this one run. Ratios < 1 mean Rust is faster.
# "paired" is the median of the per-round ratios (each round boots C, then Rust).
# BENCH_CLOCK=icount (default): QEMU counts guest time in executed instructions (one vCPU thread,
# -icount shift=0), so the figures no longer depend on host load and repeat exactly; they measure
# the guest code path (driver + IOMMU core + device emulation seen as instructions).
# BENCH_CLOCK=host: wall-clock TCG, as a user sees it, but noisy on a loaded host.
. "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-3}
case ${BENCH_CLOCK:-icount} in
icount) export QEMU_EXTRA="${QEMU_EXTRA:+$QEMU_EXTRA }-accel tcg,thread=single -icount shift=0,sleep=off" ;;
host) ;;
*) die "BENCH_CLOCK is icount or host" ;;
esac
# kmemleak off (BENCH_KMEMLEAK=on keeps it): a kmemleak kernel records a stack trace at every
# allocation, about 25000 guest instructions each (make profile), which no production kernel
# pays and which would weigh each driver by its allocation count rather than its code path.
[ "${BENCH_KMEMLEAK:-off}" = on ] || export CMDLINE="${CMDLINE:+$CMDLINE }kmemleak=off"
ARCH=${ARCH:-x86_64}
export ARCH ONLY=dma_map_benchmark_test
OUT=$(mktemp -d)
for r in $(seq "$ROUNDS"); do
	for d in c rust; do
		log "round $r/$ROUNDS: $ARCH DRIVER=$d"
		DRIVER=$d MODE=test RUN_TAG=${RUN_TAG:-bench} "$LAB_DIR/vm.sh" >"$OUT/$d.$r.log" 2>&1 ||
			{ tail -n 30 "$OUT/$d.$r.log" >&2; die "benchmark boot failed ($d, round $r)"; }
		grep -h '^# dma_map_benchmark:' "$OUT/$d.$r.log" >>"$OUT/$d.lines" || true
	done
done
python3 - "$OUT" "$ARCH" "$ROUNDS" <<'PY'
import os, re, statistics, sys
out, arch, rounds = sys.argv[1:4]
def load(d):
    res = {}
    for ln in open(f"{out}/{d}.lines"):
        kv = dict(re.findall(r"(\w+)=([\d.]+)", ln))
        g = kv["granule"]
        res.setdefault(g, {"map": [], "unmap": []})
        res[g]["map"].append(float(kv["map_us"]))
        res[g]["unmap"].append(float(kv["unmap_us"]))
    return res
c, r = load("c"), load("rust")
clock = "instruction-counted guest time (-icount)" if os.environ.get("BENCH_CLOCK", "icount") == "icount" else "host wall clock"
print(f"dma_map_benchmark on {arch} (edu endpoint, 1 thread), median of {rounds} boots per driver, {clock}")
print(f"{'granule':>8} {'op':>6} {'C us':>9} {'Rust us':>9} {'Rust/C':>7} {'paired':>7}")
for g in sorted(c, key=int):
    for op in ("map", "unmap"):
        cm, rm = statistics.median(c[g][op]), statistics.median(r[g][op])
        # Boots of one round run back to back: their ratio is less exposed to host load.
        paired = statistics.median(x / y for x, y in zip(r[g][op], c[g][op]))
        print(f"{g:>8} {op:>6} {cm:9.2f} {rm:9.2f} {rm / cm:7.2f} {paired:7.2f}")
PY
rm -rf "$OUT"
