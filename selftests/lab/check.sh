#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# 'make check': host tests, short fuzzing, module builds (both architectures, clippy, rustfmt)
# and the guest selftests on both architectures: the project's own, then the kernel's VFIO
# selftests (SUITE=vfio, a boot of their own). Prints TAP-style detail and ends with one line
# "N passed, N failed, N skipped". Exits non-zero on any failure.
#   CHECK_ARCHES (default "x86_64 arm64"), CHECK_DRIVERS (default "rust"; "rust c" adds the C
#   baseline), CHECK_SUITES (default "default vfio"), FUZZ_SECONDS, CHECK_EXTRA (more guest runs,
#   see below).
. "$(dirname "$0")/common.sh"
CHECK_ARCHES=${CHECK_ARCHES:-x86_64 arm64}
CHECK_DRIVERS=${CHECK_DRIVERS:-rust}
CHECK_SUITES=${CHECK_SUITES:-default vfio}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# Guest runs beyond the plain ones, separated by ';', each a list of vm.sh settings, run for
# every driver in CHECK_DRIVERS: firmware paths, page sizes, virtio-iommu granules. A granule
# above the kernel's page size makes a refusal run (see vm.sh). The debug kernels (KASAN,
# lockdep, atomic-sleep checks, DMA-API debugging, selftests/config.debug) run the default suite:
# VARIANT=debug on x86_64, and on arm64 combined with 64K pages and granule 64k (VARIANT=64k-debug,
# one build and one boot for both). Each is one more kernel build when the cache is cold. DRIVERS=... in a run limits it to those drivers of
# CHECK_DRIVERS (sw_msi is a parameter of the Rust driver only). CHECK_EXTRA= (empty) runs none.
# The boot-stress runs (REPEAT=20 per architecture): every endpoint in its IOMMU group and a
# DMA read through each disk, boot after boot (a registration race once left an endpoint
# untranslated in 4 of 10 boots). The uniprocessor x86_64 kernel (VARIANT=up) is not in the
# default set: it is one more cold kernel build, and the driver from before the fix did not
# fail there either (0 of 30 boots).
BOOT_STRESS=iommu_groups_test,dma_integrity_test:disks_behind_iommu+read_hash_1m
CHECK_EXTRA=${CHECK_EXTRA-ARCH=arm64 FIRMWARE=acpi;
	ARCH=arm64 QEMU_IOMMU_OPTS=granule=64k;
	ARCH=x86_64 QEMU_IOMMU_OPTS=granule=64k;
	ARCH=arm64 DRIVERS=rust MODPARAMS=sw_msi=1 ONLY=resv_regions_test,msi_irq_test,vfio_edu_test;
	ARCH=x86_64 REPEAT=20 ONLY=$BOOT_STRESS;
	ARCH=arm64 REPEAT=20 ONLY=$BOOT_STRESS;
	ARCH=x86_64 VARIANT=debug;
	ARCH=arm64 VARIANT=64k-debug QEMU_IOMMU_OPTS=granule=64k}
cd "$SRC_DIR"
# Host builds go to the cache: a clean clone does not rebuild libFuzzer and the test crates.
CARGO_CACHE=$CACHE/cargo-target
P=0; F=0; S=0; FAILED=()
T0=$(date +%s)
ok() { P=$((P + 1)); echo "ok - $1"; }
notok() { F=$((F + 1)); FAILED+=("$1"); echo "not ok - $1"; }
skip() { S=$((S + 1)); echo "ok - $1 # SKIP $2"; }
step() { # step NAME CMD...: one result for the whole command, timed
	local name=$1 t0; shift
	echo "# ==== $name"; t0=$(date +%s)
	if "$@"; then ok "$name"; else notok "$name"; fi
	echo "# step took $(($(date +%s) - t0)) s"
}

# 0. Every kernel the runs below need, built in the background from the start: one chain per
#    architecture (its plain kernel first, then its variants in the order the runs use them), the
#    chains side by side. One kernel build alone keeps only about 1.3 of two cores busy (its Rust
#    crates, link and objtool steps are serial), a TCG guest run about 0.8, and the root's
#    download and the single-threaded fuzzers less: overlapped, a cold run costs its CPU time
#    rather than the sum of its steps. The builds run niced, so a guest run keeps its speed. A run
#    that needs a kernel not yet built waits for it on kernel.sh's lock; kernel.sh is idempotent,
#    so a build that failed here is tried again, and reported, by the step that needs it.
IFS=';' read -r -d '' -a extra <<<"${CHECK_EXTRA//$'\n'/ }" || true
declare -A chain=()
for a in $CHECK_ARCHES; do chain[$a]=" $a: "; done
for run in "${extra[@]}"; do
	ra=x86_64; rv=
	for w in $run; do
		case $w in ARCH=*) ra=${w#ARCH=} ;; VARIANT=*) rv=${w#VARIANT=} ;; esac
	done
	[ -n "$run" ] || continue
	[[ ${chain[$ra]:- } == *" $ra:$rv "* ]] || chain[$ra]=${chain[$ra]:- }"$ra:$rv "
done
mkdir -p "$CACHE/logs"
CHAINS=()
for a in "${!chain[@]}"; do
	# setsid: its own process group, so an interrupted check stops the builds too.
	setsid nice -n 10 bash -c 'for k in $1; do "$2/kernel.sh" "${k%%:*}" ${k#*:} || true; done' \
		chain "${chain[$a]}" "$LAB_DIR" >"$CACHE/logs/check-kernels-$a.log" 2>&1 &
	CHAINS+=($!)
done
trap 'for c in "${CHAINS[@]}"; do kill -- -"$c" 2>/dev/null || true; done' EXIT

# 1. Host tests of the protocol core: every cargo test counts.
if [ -f uapi/Cargo.toml ]; then
	echo "# ==== host: cargo test (uapi)"
	out=$(mktemp)
	if (cd uapi && CARGO_TARGET_DIR=$CARGO_CACHE/uapi cargo test --color never 2>&1) | tee "$out"; then
		read -r p f i < <(awk '/^test result:/ {p+=$4; f+=$6; i+=$8} END {print p+0, f+0, i+0}' "$out")
		P=$((P + p)); S=$((S + i))
		[ "$p" -gt 0 ] || notok "host: cargo test ran no test"
	else
		notok "host: cargo test"
		read -r p f i < <(awk '/^test result:/ {p+=$4; f+=$6; i+=$8} END {print p+0, f+0, i+0}' "$out")
		P=$((P + p)); F=$((F + f)); S=$((S + i))
	fi
	rm -f "$out"
	if [ -x uapi/fuzz.sh ] && [ "$FUZZ_SECONDS" -gt 0 ]; then
		if ! command -v cargo-fuzz >/dev/null; then
			echo "# installing cargo-fuzz (once)"
			cargo install --locked cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz >/dev/null
		fi
		step "host: fuzz every target for ${FUZZ_SECONDS}s" \
			env CARGO_TARGET_DIR="$CARGO_CACHE/fuzz" uapi/fuzz.sh "$FUZZ_SECONDS"
	fi
fi

# 1b. Host tests of the console report detector every guest run relies on: every test counts.
echo "# ==== host: report detector (selftests/lab/test_reports.py)"
out=$(mktemp)
python3 "$LAB_DIR/test_reports.py" >"$out" 2>&1 || true
cat "$out"
n=$(sed -n 's/^Ran \([0-9]*\) tests\? in .*/\1/p' "$out")
nf=$(grep -c -E '^(FAIL|ERROR): ' "$out" || true)
if [ -z "$n" ] || [ "$n" = 0 ]; then
	notok "host: report detector tests did not run"
else
	P=$((P + n - nf)); F=$((F + nf))
	[ "$nf" = 0 ] || FAILED+=("host: report detector: $nf failed")
fi
rm -f "$out"

# 2. Module builds: both architectures, clippy with warnings as errors; rustfmt.
if [ -f virtio_iommu.rs ] && grep -q 'module' virtio_iommu.rs && [ -z "${CHECK_NO_RUST:-}" ]; then
	for a in $CHECK_ARCHES; do
		step "build: virtio_iommu_rs.ko for $a (CLIPPY=1, -Dwarnings)" \
			make -s --no-print-directory ARCH="$a" clippy
	done
	step "rustfmtcheck" make -s --no-print-directory rustfmtcheck
fi

# 3. Guest selftests: every count of every selftest program. First the project's own suite on
#    each architecture and driver, then the kernel's VFIO selftests (igb through vfio-pci), then
#    the CHECK_EXTRA runs (parsed in step 0). The runs of each architecture form a lane, in that
#    order; the lanes run side by side (a TCG guest keeps about 0.8 of two cores busy), each
#    waiting for its kernels as they come out of step 0. CHECK_LANES=1: one lane, one run at a
#    time. Each run's output is printed whole, in the order above, once all are done; a line per
#    run says how it went as it ends.
RUNS=() # "ARCH|LABEL|VAR=VALUE ..."
for suite in $CHECK_SUITES; do
	for a in $CHECK_ARCHES; do
		for d in $CHECK_DRIVERS; do
			label="guest: $a DRIVER=$d"
			[ "$suite" = default ] || label="guest $suite: $a DRIVER=$d"
			RUNS+=("$a|$label|SUITE=$suite ARCH=$a DRIVER=$d")
		done
	done
done
for run in "${extra[@]}"; do
	read -ra words <<<"$run"
	[ ${#words[@]} -gt 0 ] || continue
	vars=(); drivers=$CHECK_DRIVERS; ra=x86_64
	for w in "${words[@]}"; do
		case $w in
		DRIVERS=*) drivers=$(printf '%s\n' $CHECK_DRIVERS | grep -xF -f <(tr , '\n' <<<"${w#DRIVERS=}") || true) ;;
		*) vars+=("$w") ;;
		esac
		case $w in ARCH=*) ra=${w#ARCH=} ;; esac
	done
	for d in $drivers; do
		RUNS+=("$ra|guest: ${vars[*]} DRIVER=$d|${vars[*]} DRIVER=$d")
	done
done
OUT=$(mktemp -d)
lane() { # lane ARCH: the runs of ARCH (all runs with CHECK_LANES=1), one after the other
	local i r a label vars t0
	for i in "${!RUNS[@]}"; do
		r=${RUNS[i]}; a=${r%%|*}; r=${r#*|}; label=${r%%|*}; vars=${r#*|}
		[ "${CHECK_LANES:-}" = 1 ] || [ "$a" = "$1" ] || continue
		t0=$(date +%s)
		# shellcheck disable=SC2086 # VAR=VALUE words
		env $vars MODE=test RESULT="$OUT/$i.res" "$LAB_DIR/vm.sh" >"$OUT/$i.log" 2>&1 || true
		echo "# guest run took $(($(date +%s) - t0)) s" >>"$OUT/$i.log"
		echo "# [$a] $label: $(cat "$OUT/$i.res" 2>/dev/null || echo 'no result') (passed failed skipped), $(($(date +%s) - t0)) s"
	done
}
LANES=()
if [ "${CHECK_LANES:-}" = 1 ]; then
	lane all & LANES+=($!)
else
	for a in $(for r in "${RUNS[@]}"; do echo "${r%%|*}"; done | awk '!seen[$0]++'); do
		lane "$a" & LANES+=($!)
	done
fi
wait "${LANES[@]}"
for i in "${!RUNS[@]}"; do
	r=${RUNS[i]#*|}; label=${r%%|*}
	echo "# ==== $label"
	cat "$OUT/$i.log"
	if [ -s "$OUT/$i.res" ]; then
		read -r p f s <"$OUT/$i.res"
		P=$((P + p)); F=$((F + f)); S=$((S + s))
		[ "$f" = 0 ] || FAILED+=("$label: $f failed")
	else
		notok "$label produced no result"
	fi
done
rm -rf "$OUT"

wait "${CHAINS[@]}" 2>/dev/null || true
echo "# make check took $(($(date +%s) - T0)) s"
for x in "${FAILED[@]}"; do echo "# failed: $x"; done
echo "$P passed, $F failed, $S skipped"
[ "$F" = 0 ]
