#!/usr/bin/env bash
# Build and run every cargo-fuzz target of the uapi host crate.
#   usage: uapi/fuzz.sh [SECONDS] [TARGET...]   (default 60 s, all targets)
# Env: FUZZ_SANITIZER (address|none, default address), FUZZ_NICE (default 10).
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable rustc through
# RUSTC_BOOTSTRAP=1 (cargo-fuzz passes -Z flags). Exits non-zero on a crash.
set -euo pipefail
secs=${1:-60}
shift || true
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	targets=(probe fault config mappings)
fi
san=${FUZZ_SANITIZER:-address}
nice=${FUZZ_NICE:-10}
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz not installed" >&2; exit 2; }
nice -n "$nice" cargo fuzz build -O -a -s "$san"
mkdir -p logs
status=0
for t in "${targets[@]}"; do
	mkdir -p "corpus/$t"
	seeds=()
	[ -d "seeds/$t" ] && seeds=("seeds/$t")
	log="logs/$t.log"
	if nice -n "$nice" cargo fuzz run -O -a -s "$san" "$t" "corpus/$t" "${seeds[@]}" -- \
		-max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
		res=ok
	else
		res=CRASH
		status=1
		tail -n 40 "$log" >&2
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
	printf '%-9s %-5s execs=%s exec/s=%s %s time=%ss\n' "$t" "$res" "${execs:-?}" "${rate:-?}" "${cov}" "$secs"
done
exit $status
