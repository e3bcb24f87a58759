#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# 'make profile': where the guest spends its instructions while dma_map_benchmark maps and
# unmaps through the IOMMU, per function, for the C and the Rust driver, in one run. Same guest as
# make bench (one vCPU thread, -icount, kmemleak off unless BENCH_KMEMLEAK=on). Once the
# benchmark runs, QEMU's monitor switches on the log of every executed translation block
# (log in_asm,exec,nochain) for PROFILE_SECONDS host seconds; a block weighs its instruction
# count (from its logged translation; the output says how many blocks could be sized), and
# addresses are symbolized with System.map and, for the module, nm at the address /init printed.
# Prints per driver the top PROFILE_TOP functions (share, instructions per map+unmap), the
# callers of the hottest kernel functions (calls per map+unmap), then the Rust - C difference
# per function.
#   ARCH (x86_64|arm64), PROFILE_SECONDS (default 6), PROFILE_TOP (default 30), DRIVERS (c rust),
#   RUST_MODULE_DIR (as vm.sh).
. "$(dirname "$0")/common.sh"
ARCH=${ARCH:-x86_64}; SECS=${PROFILE_SECONDS:-6}; TOP=${PROFILE_TOP:-30}
export ARCH ONLY=dma_map_benchmark_test:granule_1 CMDLINE="${CMDLINE:+$CMDLINE }nokaslr"
[ "${BENCH_KMEMLEAK:-off}" = on ] || CMDLINE+=" kmemleak=off"
NAME=$ARCH${VARIANT:+-$VARIANT}
B=$("$LAB_DIR/kernel.sh" "$ARCH" ${VARIANT:-})
monitor() { # monitor SOCKET COMMAND: one HMP command
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
try:
    s.recv(4096)
except OSError:
    pass
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.5)
s.close()
PY
}
for d in ${DRIVERS:-c rust}; do
	W=$CACHE/work/$NAME-$d-profile
	mkdir -p "$W"
	rm -f "$W/mon.sock" "$W/exec.log" "$W/console.log"
	log "profiling $NAME DRIVER=$d (${SECS}s of block log)"
	QEMU_EXTRA="-accel tcg,thread=single -icount shift=0,sleep=off -monitor unix:$W/mon.sock,server=on,wait=off -D $W/exec.log" \
		DRIVER=$d MODE=test RUN_TAG=profile "$LAB_DIR/vm.sh" >"$W/run.log" 2>&1 &
	vm=$!
	# The benchmark's first granule has started: its map/unmap loop runs for 2 s of guest time.
	until grep -q 'RUN.*bench.granule_1' "$W/console.log" 2>/dev/null; do
		kill -0 $vm 2>/dev/null || die "guest ended before the benchmark (see $W/run.log)"
		sleep 0.5
	done
	sleep 1
	monitor "$W/mon.sock" "log in_asm,exec,nochain"
	sleep "$SECS"
	monitor "$W/mon.sock" "log none"
	wait $vm || log "guest run failed (see $W/run.log); profiling what was logged"
	grep -a 'VIOMMU-MODULE-TEXT' "$W/console.log" | tail -n1 >"$W/module-text"
done
"$LAB_DIR/inroot.sh" python3 "$LAB_DIR/profile.py" "$B" "$CACHE/work" "$NAME" "$TOP" ${DRIVERS:-c rust}
