#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host tests of the console report detector (reports.py) over console excerpts of both
architectures (consoles/*.log): one per report kind, and clean logs that must pass. Each
excerpt is also checked with printk timestamps and caller ids added. Run by make check."""
import os
import unittest

import reports

HERE = os.path.dirname(os.path.abspath(__file__))
CONSOLES = os.path.join(HERE, "consoles")

# excerpt -> (kind of the first report, test running then)
EXPECTED = {
    "arm64-sleeping-in-atomic.log": ("BUG", "iommu_groups_test"),
    "arm64-lockdep-irq-inversion.log": ("WARNING", "dma_integrity_test"),
    "arm64-warning-with-cut-here.log": ("cut here", None),
    "arm64-null-deref.log": ("Oops", None),
    "arm64-kasan.log": ("KASAN", None),
    "arm64-workqueue-lockup.log": ("BUG", None),
    "x86-sleeping-in-atomic.log": ("BUG", None),
    "x86-warning-no-cut-here.log": ("WARNING", None),
    "x86-gpf.log": ("Oops", None),
    "x86-kmemleak.log": ("kmemleak", None),
    "x86-kmemleak-object.log": ("kmemleak", None),
    "x86-rcu-stall.log": ("RCU stall", None),
    "x86-rcu-preempt-stall.log": ("RCU stall", None),
    "x86-soft-lockup.log": ("soft lockup", None),
    "x86-hung-task.log": ("hung task", None),
    "x86-dma-api.log": ("DMA-API", None),
    "x86-ubsan.log": ("UBSAN", None),
    "x86-lockdep-circular.log": ("WARNING", None),
    "x86-lockdep-inconsistent.log": ("WARNING", None),
    "x86-kfence.log": ("KFENCE", None),
    "x86-interleaved.log": ("BUG", None),
    # Real: x86_64 debug kernel, this driver's release_device calling dev_iommu_priv_set without
    # iommu_probe_device_lock (7.3's "WARNING: file:line at func, CPU#n: comm" format).
    "x86-debug-real-lockdep-assert.log": ("cut here", None),
    # Real: arm64 64K debug kernel, the driver of main 63f6e0b at insmod (GFP_KERNEL under the
    # IRQ-off request queue lock), the reports of issue 13 that the old pattern missed.
    "arm64-debug-real-sleeping-in-atomic.log": ("BUG", None),
    "arm64-debug-real-irq-inversion.log": ("WARNING", None),
}
CLEAN = ["arm64-clean.log", "x86-clean.log"]


def read(name):
    with open(os.path.join(CONSOLES, name)) as f:
        return f.read().splitlines()


def timestamped(lines):
    """The same console as a kernel with PRINTK_TIME and PRINTK_CALLER prints it (kernel lines
    only: the lab's own markers and TAP come from user space)."""
    out = []
    for i, ln in enumerate(lines):
        user = ln.startswith(("VIOMMU-", "ok ", "not ok ", "#", "TAP ", "1.."))
        out.append(ln if user else f"[{i * 0.0123:12.6f}][    T{i % 7 + 1}] {ln}")
    return out


class Excerpts(unittest.TestCase):
    def test_every_excerpt_is_listed(self):
        self.assertEqual(sorted(os.listdir(CONSOLES)), sorted(list(EXPECTED) + CLEAN))

    def check(self, name, lines):
        kind, test = EXPECTED[name]
        found = reports.find(lines)
        self.assertTrue(found, f"{name}: no report found")
        self.assertEqual((found[0].kind, found[0].test), (kind, test), f"{name}: {found[0]}")

    def test_reports_found(self):
        for name in EXPECTED:
            with self.subTest(name=name):
                self.check(name, read(name))

    def test_reports_found_with_timestamps(self):
        for name in EXPECTED:
            with self.subTest(name=name):
                self.check(name, timestamped(read(name)))

    def test_clean_logs_pass(self):
        for name in CLEAN:
            for lines in (read(name), timestamped(read(name))):
                with self.subTest(name=name):
                    self.assertEqual(reports.find(lines), [])

    def test_first_line_named(self):
        found = reports.find(read("arm64-lockdep-irq-inversion.log"))
        self.assertIn("possible irq lock inversion dependency detected", found[0].line)
        self.assertIn("during dma_integrity_test", repr(found[0]))


class Allowances(unittest.TestCase):
    WARN = read("arm64-warning-with-cut-here.log")
    TEXT = "late IOMMU probe at driver bind, something fishy here!"

    def wrap(self, test, body, allow=None):
        head = [f"VIOMMU-TEST-BEGIN {test}", "TAP version 13"]
        if allow:
            head.append(f"# VIOMMU-ALLOW-REPORT: {allow}")
        return head + body + ["VIOMMU-TEST-END rc=0"]

    def test_allowed_by_exact_text_with_its_trace(self):
        allow = "WARNING: CPU: 0 PID: 63 at drivers/iommu/iommu.c:654"
        self.assertEqual(reports.find(self.wrap("t", self.WARN, allow)), [])

    def test_other_text_not_allowed(self):
        allow = "WARNING: CPU: 0 PID: 63 at drivers/iommu/iommu.c:655"
        self.assertTrue(reports.find(self.wrap("t", self.WARN, allow)))

    def test_allowance_ends_with_its_test(self):
        allow = "WARNING: CPU: 0 PID: 63 at drivers/iommu/iommu.c:654"
        lines = self.wrap("a", [], allow) + self.wrap("b", self.WARN)
        found = reports.find(lines)
        self.assertTrue(found)
        self.assertEqual(found[0].test, "b")

    def test_no_allowance_outside_tests(self):
        lines = ["# VIOMMU-ALLOW-REPORT: WARNING: CPU"] + self.WARN
        self.assertTrue(reports.find(lines))

    def test_report_after_allowed_block_counts(self):
        allow = "WARNING: CPU: 0 PID: 63 at drivers/iommu/iommu.c:654"
        body = self.WARN + read("arm64-kasan.log")
        found = reports.find(self.wrap("t", body, allow))
        self.assertEqual([r.kind for r in found][:1], ["KASAN"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
