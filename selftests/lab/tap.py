#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reads a test guest's console log, prints the report and the TAP of every selftest, and
counts the results. Usage: tap.py LOG MODE NAME [RESULT_FILE]. Exit status 1 on any failure."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reports  # noqa: E402

log_path, mode, name = sys.argv[1:4]
# The full TAP of every program, or (make run without V=1) one line per program.
verbose = mode != "run" or os.environ.get("V", "0") not in ("", "0")
result_file = sys.argv[4] if len(sys.argv) > 4 else ""
text = open(log_path, errors="replace").read().replace("\r", "")
lines = text.splitlines()
passed = failed = skipped = 0
problems = []
skips = []

def section(begin, end):
    out, inside = [], False
    for ln in lines:
        if ln.startswith(begin):
            inside = True
            continue
        if ln.startswith(end):
            break
        if inside:
            out.append(ln)
    return out

def fail(msg):
    global failed
    failed += 1
    problems.append(msg)
    print(f"not ok - {name}: {msg}")

if "VIOMMU-BOOT ok" not in text:
    print("\n".join(lines[-40:]))
    fail("guest did not reach /init")
m = re.search(r"^VIOMMU-INSMOD (\S+) (\S+)", text, re.M)
if m and m.group(1) != "ok":
    fail(f"insmod {m.group(2)} failed")
for ln in lines:
    if ln.startswith("VIOMMU-WAIT missing"):
        fail(f"endpoint {ln.split()[-1]} never appeared (deferred probe?)")
    if ln.startswith("VIOMMU-VFIO-"):
        print("# " + ln)
    if ln.startswith("VIOMMU-VFIO-BIND failed"):
        fail("binding to vfio-pci failed: " + ln.split(None, 2)[2])

if mode == "run":
    print(f"==== {name}: guest report ====")
    print("\n".join(section("VIOMMU-REPORT-BEGIN", "VIOMMU-REPORT-END")))

# Each selftest program: from VIOMMU-TEST-BEGIN to VIOMMU-TEST-END rc=N. kselftest output:
# "1..N" (the plan), "ok N fixture[.variant].test", "ok N name # SKIP reason", "not ok N name";
# "1..0 # SKIP reason" when a whole program skips; "Bail out! msg" before a program gives up.
KSFT_SKIP = 4  # exit status of a program whose every test skipped
nested_re = re.compile(r"^# (not ok|ok) \d+ (.*)$")
ksft_prog_re = re.compile(r"^# selftests: (\S+): (\S+)$")

def kselftest_cases(cur, out):
    """run_kselftest.sh (SUITE=kselftest): the programs are the results; their cases, one level
    down ("# ok N case"), are summarised per program with every skip's reason."""
    prog, counts, reasons = None, {}, []
    for x in out:
        m = ksft_prog_re.match(x)
        if m:
            prog = m.group(2)
            counts[prog] = [0, 0, 0]
            continue
        m = nested_re.match(x)
        if not m or prog is None:
            continue
        if m.group(1) != "ok":
            counts[prog][1] += 1
        elif skip_re.search(m.group(2)):
            counts[prog][2] += 1
            test, reason = skip_re.split(m.group(2), 1)
            reasons.append(f"{prog}: {test}: {reason.strip()}")
        else:
            counts[prog][0] += 1
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    print(f"# ---- {name}: {cur}: cases per program (passed, failed, skipped)")
    for p, c in counts.items():
        print(f"#   {p}: {c[0]} passed, {c[1]} failed, {c[2]} skipped")
    print(f"#   all cases: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
    for r in reasons:
        print(f"#   case skipped: {r}")
cur, out = None, []
tap_re = re.compile(r"^(not ok|ok) \d+ (.*)$")
plan_re = re.compile(r"^1\.\.(\d+)(?:\s*#\s*SKIP\s*(.*))?$", re.I)
skip_re = re.compile(r"\s*#\s*SKIP\b\s*", re.I)
for ln in lines:
    if ln.startswith("VIOMMU-TEST-BEGIN "):
        cur, out = ln.split(None, 1)[1], []
        if verbose:
            print(f"# ---- {name}: {cur}")
        continue
    if cur is None:
        continue
    if ln.startswith("VIOMMU-TEST-END "):
        rc = int(ln.rsplit("rc=", 1)[1]) if "rc=" in ln else -1
        verdicts = [tap_re.match(x) for x in out]
        verdicts = [v for v in verdicts if v]
        plans = [plan_re.match(x) for x in out]
        plan = next((p for p in plans if p), None)
        bail = next((x for x in out if x.startswith("Bail out!")), None)
        all_skipped = bool(verdicts)
        for v in verdicts:
            if v.group(1) == "ok":
                if skip_re.search(v.group(2)):
                    skipped += 1
                    test, reason = skip_re.split(v.group(2), 1)
                    skips.append(f"{cur}: {test or '(whole program)'}: {reason.strip() or '(no reason given)'}")
                else:
                    passed += 1
                    all_skipped = False
            else:
                failed += 1
                all_skipped = False
                problems.append(f"{cur}: {v.group(2)}")
        whole_skip = plan is not None and plan.group(1) == "0" and plan.group(2) is not None
        if whole_skip and not verdicts:
            skipped += 1
            skips.append(f"{cur}: (whole program): {plan.group(2).strip() or '(no reason given)'}")
        how = f" ({bail})" if bail else ""
        if plan is not None and len(verdicts) < int(plan.group(1)):
            # Crashed or gave up half-way, or a result line was garbled.
            fail(f"{cur} stopped after {len(verdicts)} of {plan.group(1)} results, status {rc}{how}")
        elif not verdicts and not whole_skip:
            fail(f"{cur} printed no TAP result, status {rc}{how}")
        elif rc != 0 and not any(v.group(1) == "not ok" for v in verdicts) and \
                not (rc == KSFT_SKIP and (all_skipped or whole_skip)):
            fail(f"{cur} exited with status {rc} without a failing test line{how}")
        if cur.startswith("run_kselftest"):
            kselftest_cases(cur, out)
        if not verbose:
            n_ok = sum(1 for v in verdicts if v.group(1) == "ok" and not skip_re.search(v.group(2)))
            n_skip = sum(1 for v in verdicts if v.group(1) == "ok" and skip_re.search(v.group(2)))
            n_fail = sum(1 for v in verdicts if v.group(1) != "ok")
            verdict = "FAIL" if n_fail or rc not in (0, KSFT_SKIP) else "ok"
            print(f"{verdict:4} {cur}: {n_ok} passed, {n_fail} failed, {n_skip} skipped")
        cur = None
        continue
    out.append(ln)
    if verbose:
        print(ln)
if cur is not None:
    print("\n".join(lines[-30:]))
    fail(f"{cur} did not finish (guest crashed or timed out)")
elif mode != "shell" and "VIOMMU-DONE" not in text and "VIOMMU-BOOT ok" in text:
    print("\n".join(lines[-30:]))
    fail("guest did not finish its run")

# A kernel report anywhere in the run (BUG, WARNING, oops, lockdep, KASAN, DMA-API, kmemleak,
# stalls: reports.py, shared by every guest run) is a failure of the run.
dmesg = section("VIOMMU-DMESG-BEGIN", "VIOMMU-DMESG-END")
if dmesg:
    print(f"# ---- {name}: kernel log (iommu/dma lines)")
    for ln in dmesg:
        print("# " + ln)
found = reports.find(lines)
if found:
    first = found[0]
    for ln in lines[max(0, first.index - 5):first.index + 40]:
        print("# " + ln)
    kinds = sorted({r.kind for r in found})
    fail(f"kernel log has {len(found)} report line(s) ({', '.join(kinds)}); first: {first!r}")
m = re.search(r"^VIOMMU-KMEMLEAK (\d+)", text, re.M)
if m:
    print(f"# kmemleak: {m.group(1)} unreferenced objects")

print(f"# {name}: {passed} passed, {failed} failed, {skipped} skipped")
for p in problems:
    print(f"#   failed: {p}")
for s in skips:
    print(f"#   skipped: {s}")
if result_file:
    with open(result_file, "w") as f:
        f.write(f"{passed} {failed} {skipped}\n")
sys.exit(1 if failed else 0)
