//! Random map/unmap sequences: the record (planner) against the naive spec
//! device and a page-granular model.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use virtio_iommu_proto::mappings::{MapError, Mappings, UnmapPlan};
use virtio_iommu_proto::testing::{BTreeStore, SpecDevice};
use virtio_iommu_proto::wire::S_OK;

const G: u64 = 0x1000;

/// start page -> (pages, phys page)
#[derive(Default)]
struct Model(BTreeMap<u64, (u64, u64)>);

impl Model {
    fn owner(&self, p: u64) -> Option<(u64, u64, u64)> {
        self.0
            .range(..=p)
            .next_back()
            .filter(|(s, (n, _))| p < *s + n)
            .map(|(s, (n, ph))| (*s, *n, *ph))
    }
}

fuzz_target!(|data: &[u8]| {
    // Pages live near the top of the 64-bit space when the first byte is odd,
    // to exercise overflow handling.
    let base: u64 = if data.first().copied().unwrap_or(0) & 1 == 1 {
        u64::MAX / G - 256
    } else {
        0
    };
    let mut rec = Mappings::new(BTreeStore::default());
    let mut dev = SpecDevice::default();
    let mut model = Model::default();
    for op in data.get(1..).unwrap_or(&[]).chunks_exact(3) {
        let (kind, page, n) = (op[0], u64::from(op[1]), u64::from(op[2] % 32) + 1);
        let page = page.min(255);
        let n = n.min(256 - page);
        if kind % 3 != 0 {
            let phys = u64::from(kind) * 16;
            let free = (page..page + n).all(|p| model.owner(p).is_none());
            match rec.map((base + page) * G, phys * G, n * G, 3) {
                Ok(m) => {
                    assert!(free);
                    assert_eq!(dev.map(m), S_OK);
                    model.0.insert(page, (n, phys));
                }
                Err(MapError::Overlap { .. }) => assert!(!free),
                Err(e) => panic!("unexpected {e:?}"),
            }
        } else {
            // Model of the planner.
            let split = matches!(model.owner(page), Some((s, _, _)) if s < page);
            let mut want = 0;
            if !split {
                let victims: Vec<u64> = model
                    .0
                    .iter()
                    .filter(|(s, (len, _))| **s < page + n && page < **s + len)
                    .map(|(s, _)| *s)
                    .collect();
                for s in victims {
                    want += model.0.remove(&s).unwrap().0 * G;
                }
            }
            let plan = rec.plan_unmap((base + page) * G, n * G);
            assert_eq!(plan.bytes(), want);
            assert_eq!(matches!(plan, UnmapPlan::Split { .. }), split);
            if let UnmapPlan::Unmap {
                virt_start,
                virt_end,
                ..
            } = plan
            {
                assert_eq!(
                    dev.unmap(virt_start, virt_end),
                    S_OK,
                    "device refused planned UNMAP"
                );
                assert_eq!(rec.commit_unmap(&plan), want);
            }
        }
        assert!(rec.iter().eq(dev.sorted()));
        for p in [page, page + n - 1, page + n] {
            let want = model.owner(p).map(|(s, _, ph)| (ph + p - s) * G + 7);
            assert_eq!(rec.iova_to_phys((base + p) * G + 7), want);
        }
    }
    assert_eq!(rec.clear(), model.0.len());
});
