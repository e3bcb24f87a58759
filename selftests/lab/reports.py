# SPDX-License-Identifier: GPL-2.0
"""The kernel report detector shared by every guest run (tap.py): finds BUG, WARNING, oops,
panic, lockdep, KASAN/KFENCE/UBSAN, DMA-API, kmemleak, RCU stall, soft lockup and hung-task
reports in a console log, on x86_64 and arm64, with or without printk timestamps.

A selftest that provokes a report on purpose allows it, for itself only, by printing
``VIOMMU-ALLOW-REPORT: <exact text>`` (as a kselftest comment line, ``# VIOMMU-ALLOW-REPORT: ...``)
before provoking it: a report line containing exactly that text, printed while that test runs,
is then not counted. Nothing is allowed by pattern or outside the test that asked.

Host tests: selftests/lab/test_reports.py (in make check)."""
import re

# A printk prefix: optional timestamp "[   12.345678]" and caller id "[    T1]" / "[  C0]".
_PREFIX = r"^(?:\[\s*\d+\.\d+\]\s*)?(?:\[\s*[TC]\d+\]\s*)?"

# Reports recognised at the start of a line (after the printk prefix). (kind, pattern)
_AT_START = [
    ("KASAN", r"BUG: KASAN: "),
    ("KFENCE", r"BUG: KFENCE: "),
    ("soft lockup", r"watchdog: BUG: soft lockup"),
    ("hard lockup", r"watchdog: (?:CPU\d+: )?Watchdog detected hard LOCKUP"),
    ("BUG", r"BUG: "),
    ("BUG", r"kernel BUG at "),
    ("WARNING", r"WARNING: "),
    ("Oops", r"Oops(?::| - )"),
    ("Oops", r"Internal error: "),
    ("Oops", r"Unable to handle kernel "),
    ("panic", r"Kernel panic - not syncing"),
    ("general protection fault", r"(?:Oops: )?general protection fault"),
    ("UBSAN", r"UBSAN: "),
    ("DMA-API", r"DMA-API: "),
    ("kmemleak", r"kmemleak: \d+ new suspected memory leaks"),
    ("kmemleak", r"unreferenced object 0x[0-9a-f]+ "),
    ("RCU stall", r"rcu: INFO: \S+ (?:self-)?detected stalls?"),
    ("RCU stall", r"INFO: rcu_\S+ (?:self-)?detected stalls?"),
    ("hung task", r"INFO: task \S+ blocked for more than \d+ seconds"),
    ("list corruption", r"list_(?:add|del) corruption"),
]
# Reports recognised anywhere in a line: a guest program's unfinished output line may precede the
# kernel's message on the same console line. Only texts no test prints.
_ANYWHERE = [
    ("cut here", r"------------\[ cut here \]------------"),
    ("call trace", r"Call [Tt]race:"),
    ("lockdep", r"possible (?:recursive|circular) locking(?: dependency)? detected"),
    ("lockdep", r"possible irq lock inversion dependency detected"),
    ("lockdep", r"inconsistent lock state"),
    ("lockdep", r"possible unsafe locking scenario"),
    ("lockdep", r"suspicious RCU usage"),
    ("BUG", r"BUG: (?:sleeping function called from invalid context|scheduling while atomic|"
            r"workqueue lockup|KASAN|KFENCE|spinlock|unable to handle)"),
    ("WARNING", r"WARNING: CPU: \d+ PID: \d+ at "),
    ("WARNING", r"WARNING: \S+:\d+ at \S+, CPU#\d+: "),
    ("panic", r"Kernel panic - not syncing"),
]
# Informational lines that match a pattern above and are no report (exact texts, each the
# kernel's own wording, so a new message of the same subsystem still counts).
_NOT_REPORTS = [
    re.compile(_PREFIX + r"DMA-API: preallocated \d+ debug entries$"),
    re.compile(_PREFIX + r"DMA-API: debugging enabled by kernel config$"),
]

_START_RE = [(k, re.compile(_PREFIX + p)) for k, p in _AT_START]
_ANY_RE = [(k, re.compile(p)) for k, p in _ANYWHERE]
ALLOW_RE = re.compile(r"^#?\s*VIOMMU-ALLOW-REPORT: (.+?)\s*$")
TEST_BEGIN = "VIOMMU-TEST-BEGIN "
TEST_END = "VIOMMU-TEST-END "


def kind_of(line):
    """The report kind of one console line, or None."""
    if any(r.match(line) for r in _NOT_REPORTS):
        return None
    for kind, r in _START_RE:
        if r.match(line):
            return kind
    for kind, r in _ANY_RE:
        if r.search(line):
            return kind
    return None


class Report:
    """One report line: its index in the log, kind, text and the test running then."""

    def __init__(self, index, kind, line, test):
        self.index, self.kind, self.line, self.test = index, kind, line, test

    def __repr__(self):
        where = f"during {self.test}" if self.test else "outside any test"
        return f"{self.kind} at console line {self.index + 1} ({where}): {self.line.strip()}"


# After an allowed report, its continuation (the call trace and register dump) is part of it,
# up to the kernel's end-of-trace marker or this many lines.
_BLOCK_LINES = 80
_END_TRACE = re.compile(r"---\[ end trace [0-9a-f]+ \]---")


def find(lines):
    """Every report in `lines` (a console log), in order, except those the running test
    allowed by exact text (with the call trace and `cut here` line of an allowed report)."""
    out, test, allowed, block_end = [], None, [], -1
    for i, ln in enumerate(lines):
        if ln.startswith(TEST_BEGIN):
            test, allowed = ln[len(TEST_BEGIN):].strip(), []
            continue
        if ln.startswith(TEST_END):
            test, allowed = None, []
            continue
        m = ALLOW_RE.match(ln)
        if m and test is not None:
            allowed.append(m.group(1))
            continue
        if i <= block_end and _END_TRACE.search(ln):
            block_end = -1
            continue
        kind = kind_of(ln)
        if kind is None:
            continue
        if test is not None and any(a in ln for a in allowed):
            block_end = i + _BLOCK_LINES
            # The "cut here" line just before an allowed WARNING belongs to it.
            if out and out[-1].kind == "cut here" and i - out[-1].index <= 2:
                out.pop()
            continue
        if i <= block_end and kind in ("call trace", "cut here"):
            continue
        out.append(Report(i, kind, ln, test))
    return out
