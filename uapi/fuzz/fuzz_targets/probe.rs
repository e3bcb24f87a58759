//! PROBE properties parsing, region merging and identity planning on
//! arbitrary device output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use virtio_iommu_proto::mappings::identity_ranges;
use virtio_iommu_proto::probe::{parse_properties, ResvKind, ResvRegion};
use virtio_iommu_proto::resv::{
    add_region, for_each_report, msi_policy, FixedRegions, RegionList, ReportType,
};

fuzz_target!(|data: &[u8]| {
    let mut buf = [ResvRegion {
        start: 0,
        end: 0,
        kind: ResvKind::Reserved,
    }; 64];
    let mut list = FixedRegions::new(&mut buf);
    let mut items = 0usize;
    for item in parse_properties(data) {
        items += 1;
        assert!(items <= data.len() / 4 + 1, "parser does not progress");
        if let Ok(r) = item {
            assert!(r.start <= r.end);
            let _ = add_region(&mut list, r);
        }
    }
    let regions = list.as_slice();
    for w in regions.windows(2) {
        assert!(w[0].start <= w[1].start);
    }
    for (sw, maps) in [(false, false), (false, true), (true, false)] {
        let policy = msi_policy(&list, sw, maps);
        let mut windows = 0usize;
        let _ = for_each_report(&list, policy, |r| -> Result<(), ()> {
            assert!(r.start <= r.end);
            windows += usize::from(r.ty == ReportType::SwMsi);
            Ok(())
        });
        assert!(windows <= 1, "more than one software MSI window");
    }
    let granule = 1u64 << (data.first().copied().unwrap_or(12) % 64);
    let mut prev_end: Option<u64> = None;
    for (s, e) in identity_ranges(0, u64::MAX, regions, granule) {
        assert!(s <= e);
        if let Some(p) = prev_end {
            assert!(p < s);
        }
        prev_end = Some(e);
        for r in regions {
            assert!(
                r.end < s || r.start > e,
                "identity range overlaps a reserved region"
            );
        }
    }
    assert!(list.len() <= 64);
});
