//! Property tests: mapping bookkeeping against a page-granular model and the
//! naive spec device; identity planner, region merging and parsers against
//! brute force.

use std::collections::BTreeMap;

use proptest::prelude::*;
use virtio_iommu_proto::mappings::{identity_ranges, MapError, Mappings, UnmapPlan};
use virtio_iommu_proto::probe::{parse_properties, ResvKind, ResvRegion};
use virtio_iommu_proto::resv::{add_region, FixedRegions, RegionList};
use virtio_iommu_proto::testing::{BTreeStore, SpecDevice, VecRegions};
use virtio_iommu_proto::wire::S_OK;

const G: u64 = 0x1000;
const PAGES: u64 = 64;

#[derive(Clone, Debug)]
enum Op {
    Map { page: u64, n: u64, phys: u64 },
    Unmap { page: u64, n: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..PAGES, 1..8u64, 0..1000u64).prop_map(|(page, n, phys)| Op::Map { page, n, phys }),
        (0..PAGES, 1..20u64).prop_map(|(page, n)| Op::Unmap { page, n }),
    ]
}

/// Page-granular model: start page -> (pages, phys page).
#[derive(Default)]
struct Model {
    spans: BTreeMap<u64, (u64, u64)>,
}

impl Model {
    fn owner(&self, page: u64) -> Option<(u64, u64, u64)> {
        self.spans
            .range(..=page)
            .next_back()
            .filter(|(s, (n, _))| page < *s + n)
            .map(|(s, (n, p))| (*s, *n, *p))
    }
    fn map(&mut self, page: u64, n: u64, phys: u64) -> bool {
        if (page..page + n).any(|p| self.owner(p).is_some()) {
            return false;
        }
        self.spans.insert(page, (n, phys));
        true
    }
    fn unmap(&mut self, page: u64, n: u64) -> u64 {
        if let Some((s, _, _)) = self.owner(page) {
            if s < page {
                return 0;
            }
        }
        let victims: Vec<u64> = self
            .spans
            .iter()
            .filter(|(s, (len, _))| **s < page + n && page < **s + len)
            .map(|(s, _)| *s)
            .collect();
        let mut pages = 0;
        for s in victims {
            pages += self.spans.remove(&s).unwrap().0;
        }
        pages * G
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mappings_match_model_and_device(ops in proptest::collection::vec(op(), 1..60)) {
        let mut rec = Mappings::new(BTreeStore::default());
        let mut dev = SpecDevice::default();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Map { page, n, phys } => {
                    let ok = model.map(page, n, phys);
                    match rec.map(page * G, phys * G, n * G, 3) {
                        Ok(m) => {
                            prop_assert!(ok);
                            prop_assert_eq!(dev.map(m), S_OK);
                        }
                        Err(MapError::Overlap { .. }) => prop_assert!(!ok),
                        Err(e) => prop_assert!(false, "unexpected {:?}", e),
                    }
                }
                Op::Unmap { page, n } => {
                    let want = model.unmap(page, n);
                    let plan = rec.plan_unmap(page * G, n * G);
                    prop_assert_eq!(plan.bytes(), want);
                    if let UnmapPlan::Unmap { virt_start, virt_end, .. } = plan {
                        prop_assert_eq!(dev.unmap(virt_start, virt_end), S_OK);
                        prop_assert_eq!(rec.commit_unmap(&plan), want);
                    }
                }
            }
            prop_assert_eq!(rec.iter().collect::<Vec<_>>(), dev.sorted());
            for p in 0..PAGES + 8 {
                let want = model.owner(p).map(|(s, _, ph)| (ph + (p - s)) * G + 0x123);
                prop_assert_eq!(rec.iova_to_phys(p * G + 0x123), want);
            }
        }
    }

    #[test]
    fn identity_ranges_cover_exactly(
        start in 0..1024u64, len in 0..1024u64, g_shift in 0..5u32,
        raw in proptest::collection::vec((0..1100u64, 0..64u64, any::<bool>()), 0..6),
        top in any::<bool>(),
    ) {
        let g = 1u64 << g_shift;
        // Optionally shift everything to the top of the 64-bit space.
        let base = if top { u64::MAX - 2047 } else { 0 };
        let mut regions: Vec<ResvRegion> = raw
            .iter()
            .map(|&(s, l, msi)| ResvRegion {
                start: base + s.min(2047),
                end: base + (s + l).min(2047),
                kind: if msi { ResvKind::Msi } else { ResvKind::Reserved },
            })
            .collect();
        regions.sort_by_key(|r| r.start);
        let ap_s = base + start;
        let ap_e = base + (start + len).min(2047);
        let out: Vec<(u64, u64)> = identity_ranges(ap_s, ap_e, &regions, g).collect();
        // Brute force per granule page.
        let mut expect = Vec::new();
        let mut page = (ap_s - base).div_ceil(g) * g;
        while page + g - 1 <= ap_e - base {
            let (ps, pe) = (base + page, base + page + g - 1);
            let free = regions.iter().all(|r| r.end < ps || r.start > pe);
            expect.push((ps, pe, free));
            page += g;
        }
        let covered = |a: u64| out.iter().any(|&(s, e)| s <= a && a <= e);
        for (ps, pe, free) in expect {
            prop_assert_eq!(covered(ps), free, "page {:#x}", ps);
            prop_assert_eq!(covered(pe), free);
        }
        for w in out.windows(2) {
            prop_assert!(w[0].1 < w[1].0);
        }
        for &(s, e) in &out {
            prop_assert!(s >= ap_s && e <= ap_e && s <= e);
            prop_assert_eq!((s - base) % g, 0);
            prop_assert_eq!((e - base + 1) % g, 0);
        }
    }

    #[test]
    fn resv_merge_is_sorted_and_preserves_coverage(
        raw in proptest::collection::vec((0..200u64, 0..40u64, any::<bool>()), 0..20),
    ) {
        let mut list = VecRegions::default();
        let mut buf = [ResvRegion { start: 0, end: 0, kind: ResvKind::Reserved }; 32];
        let mut fixed = FixedRegions::new(&mut buf);
        let regions: Vec<ResvRegion> = raw.iter().map(|&(s, l, msi)| ResvRegion {
            start: s, end: s + l, kind: if msi { ResvKind::Msi } else { ResvKind::Reserved },
        }).collect();
        for r in &regions {
            add_region(&mut list, *r).unwrap();
            add_region(&mut fixed, *r).unwrap();
        }
        prop_assert_eq!(fixed.as_slice(), &list.0[..]);
        for w in list.0.windows(2) {
            prop_assert!((w[0].start, w[0].kind) <= (w[1].start, w[1].kind));
        }
        for (i, a) in list.0.iter().enumerate() {
            prop_assert!(a.start <= a.end);
            for b in list.0.iter().skip(i + 1) {
                if a.kind == b.kind {
                    prop_assert!(a.end + 1 < b.start || b.end + 1 < a.start, "{:?} {:?}", a, b);
                }
            }
        }
        for kind in [ResvKind::Reserved, ResvKind::Msi] {
            for addr in 0..260u64 {
                let inp = regions.iter().any(|r| r.kind == kind && r.start <= addr && addr <= r.end);
                let out = list.0.iter().any(|r| r.kind == kind && r.start <= addr && addr <= r.end);
                prop_assert_eq!(inp, out);
            }
        }
        prop_assert_eq!(list.len(), list.0.len());
    }

    #[test]
    fn probe_parser_never_panics_and_terminates(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let n = parse_properties(&data).count();
        prop_assert!(n <= data.len() / 4 + 1);
        for r in parse_properties(&data).flatten() {
            prop_assert!(r.start <= r.end);
        }
    }
}
