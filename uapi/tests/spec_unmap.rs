//! The UNMAP examples 1–7 of virtio 1.3 §5.13.6.6 (as also exercised by
//! QEMU's qtest), checked on the device-semantics helper, on the naive spec
//! device, and through the driver-side planner.

use virtio_iommu_proto::mappings::{Mappings, UnmapPlan};
use virtio_iommu_proto::testing::{BTreeStore, SpecDevice};
use virtio_iommu_proto::wire::{S_OK, S_RANGE};

fn m() -> Mappings<BTreeStore> {
    Mappings::new(BTreeStore::default())
}

/// MAP(start, end) in inclusive spec notation.
fn map(ms: &mut Mappings<BTreeStore>, start: u64, end: u64) {
    ms.map(start, 0xa000 + start, end - start + 1, 1).unwrap();
}

fn starts(ms: &Mappings<BTreeStore>) -> Vec<(u64, u64)> {
    ms.iter().map(|m| (m.iova, m.last)).collect()
}

#[test]
fn example_1_unmap_nothing_mapped() {
    let mut ms = m();
    assert_eq!(ms.device_unmap(0, 4), Ok(0));
    assert_eq!(ms.plan_unmap(0, 5), UnmapPlan::Nothing);
}

#[test]
fn example_2_unmap_exact() {
    let mut ms = m();
    map(&mut ms, 0, 9);
    assert_eq!(ms.device_unmap(0, 9), Ok(10));
    assert!(starts(&ms).is_empty());
}

#[test]
fn example_3_unmap_two_adjacent() {
    let mut ms = m();
    map(&mut ms, 0, 4);
    map(&mut ms, 5, 9);
    assert_eq!(ms.device_unmap(0, 9), Ok(10));
    assert!(starts(&ms).is_empty());
}

#[test]
fn example_4_split_refused() {
    let mut ms = m();
    map(&mut ms, 0, 9);
    assert!(ms.device_unmap(0, 4).is_err());
    assert_eq!(starts(&ms), vec![(0, 9)]);
    // QEMU then unmaps with a larger range.
    assert_eq!(ms.device_unmap(0, 10), Ok(10));
}

#[test]
fn example_5_unmap_first_of_two() {
    let mut ms = m();
    map(&mut ms, 0, 4);
    map(&mut ms, 5, 9);
    assert_eq!(ms.device_unmap(0, 4), Ok(5));
    assert_eq!(starts(&ms), vec![(5, 9)]);
}

#[test]
fn example_6_range_larger_than_mapping() {
    let mut ms = m();
    map(&mut ms, 0, 4);
    assert_eq!(ms.device_unmap(0, 9), Ok(5));
    assert!(starts(&ms).is_empty());
}

#[test]
fn example_7_range_with_hole() {
    let mut ms = m();
    map(&mut ms, 0, 4);
    map(&mut ms, 10, 14);
    assert_eq!(ms.device_unmap(0, 14), Ok(10));
    assert!(starts(&ms).is_empty());
    // QEMU's follow-up: only [0,4] goes, [10,14] stays.
    map(&mut ms, 10, 14);
    map(&mut ms, 0, 4);
    assert_eq!(ms.device_unmap(0, 4), Ok(5));
    assert!(ms.map(10, 0, 5, 1).is_err());
}

#[test]
fn qemu_straddle_at_start_is_range() {
    let mut ms = m();
    map(&mut ms, 0, 0xfff);
    assert!(ms.device_unmap(0x10, 0xfff).is_err());
    let mut dev = SpecDevice::default();
    dev.map(ms.find(0).unwrap());
    assert_eq!(dev.unmap(0x10, 0xfff), S_RANGE);
    assert_eq!(dev.unmap(0, 0x1000), S_OK);
}

/// Every example through the planner: the planned UNMAP is accepted by the
/// spec device and leaves it equal to the record.
#[test]
fn examples_through_planner_keep_device_in_sync() {
    type Case<'a> = (&'a [(u64, u64)], (u64, u64));
    let cases: &[Case<'_>] = &[
        (&[], (0, 4)),
        (&[(0, 9)], (0, 9)),
        (&[(0, 4), (5, 9)], (0, 9)),
        (&[(0, 9)], (0, 4)),
        (&[(0, 4), (5, 9)], (0, 4)),
        (&[(0, 4)], (0, 9)),
        (&[(0, 4), (10, 14)], (0, 14)),
    ];
    for (maps, (s, e)) in cases {
        let mut ms = m();
        let mut dev = SpecDevice::default();
        for &(a, b) in *maps {
            map(&mut ms, a, b);
            assert_eq!(dev.map(ms.find(a).unwrap()), S_OK);
        }
        let plan = ms.plan_unmap(*s, e - s + 1);
        if let UnmapPlan::Unmap {
            virt_start,
            virt_end,
            ..
        } = plan
        {
            assert_eq!(dev.unmap(virt_start, virt_end), S_OK);
            ms.commit_unmap(&plan);
        }
        assert_eq!(
            ms.iter().collect::<Vec<_>>(),
            dev.sorted(),
            "case {maps:?} {s}..={e}"
        );
    }
}
