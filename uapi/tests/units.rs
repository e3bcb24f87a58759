//! Unit tests of the wire encoding, requests, config, probe, resv and
//! identity planning.

use virtio_iommu_proto::config::{validate, validate_bytes, ConfigError, PROBE_SIZE_MAX};
use virtio_iommu_proto::fault::{decode_fault, FaultReason};
use virtio_iommu_proto::mappings::{identity_ranges, range_last, MapError, Mappings};
use virtio_iommu_proto::probe::{parse_properties, ProbeError, ResvKind, ResvRegion};
use virtio_iommu_proto::request::{
    parse_reply, probe_properties, ReqError, Request, Status, STATUS_POISON,
};
use virtio_iommu_proto::resv::{
    add_region, for_each_report, msi_policy, CapacityFull, FixedRegions, MsiPolicy, RegionList,
    Report, ReportType, SW_MSI_BASE, SW_MSI_LEN,
};
use virtio_iommu_proto::testing::{BTreeStore, VecRegions};
use virtio_iommu_proto::wire::{self, feature, Config, FaultRecord, Le32, Le64};

#[test]
fn le_newtypes_are_little_endian() {
    assert_eq!(Le32::new(0x1234_5678).to_bytes(), [0x78, 0x56, 0x34, 0x12]);
    assert_eq!(
        Le64::from_bytes([1, 0, 0, 0, 0, 0, 0, 0x80]).get(),
        0x8000_0000_0000_0001
    );
    assert_eq!(wire::Le16::new(0xabcd).get(), 0xabcd);
}

#[test]
fn constants_match_spec() {
    assert_eq!(wire::VIRTIO_ID_IOMMU, 23);
    assert_eq!(
        [
            wire::F_INPUT_RANGE,
            wire::F_DOMAIN_RANGE,
            wire::F_MAP_UNMAP,
            wire::F_BYPASS,
            wire::F_PROBE,
            wire::F_MMIO,
            wire::F_BYPASS_CONFIG
        ],
        [0, 1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        [
            wire::T_ATTACH,
            wire::T_DETACH,
            wire::T_MAP,
            wire::T_UNMAP,
            wire::T_PROBE
        ],
        [1, 2, 3, 4, 5]
    );
    assert_eq!(wire::S_NOMEM, 8);
    assert_eq!(
        (wire::MAP_F_READ, wire::MAP_F_WRITE, wire::MAP_F_MMIO),
        (1, 2, 4)
    );
    assert_eq!(wire::FAULT_F_ADDRESS, 0x100);
    assert_eq!(wire::DRIVER_FEATURES, 0x77);
    assert_eq!(wire::CFG_SIZE, 40);
}

#[test]
fn encode_map_request() {
    let req = Request::Map {
        domain: 5,
        virt_start: 0x1000,
        virt_end: 0x1fff,
        phys_start: 0x8000_0000,
        flags: wire::MAP_F_READ | wire::MAP_F_WRITE,
    };
    let mut buf = [0xaau8; 64];
    let l = req.encode(&mut buf, 0).unwrap();
    assert_eq!((l.readable, l.writable, l.total()), (36, 4, 40));
    let b = &buf[..40];
    assert_eq!(&b[0..4], &[3, 0, 0, 0]);
    assert_eq!(&b[4..8], &5u32.to_le_bytes());
    assert_eq!(&b[8..16], &0x1000u64.to_le_bytes());
    assert_eq!(&b[16..24], &0x1fffu64.to_le_bytes());
    assert_eq!(&b[24..32], &0x8000_0000u64.to_le_bytes());
    assert_eq!(&b[32..36], &3u32.to_le_bytes());
    assert_eq!(&b[36..40], &[STATUS_POISON, 0, 0, 0]);
    assert_eq!(buf[40], 0xaa, "nothing written past the request");
    // An unwritten (poisoned) tail is a failure.
    assert_eq!(
        parse_reply(&b[36..], 0),
        Err(ReqError::Status(Status::Unknown(0xff)))
    );
}

#[test]
fn encode_other_requests() {
    let mut buf = [0u8; 24];
    let l = Request::Attach {
        domain: 1,
        endpoint: 0x10,
        bypass: true,
    }
    .encode(&mut buf, 0)
    .unwrap();
    assert_eq!((l.readable, l.writable), (20, 4));
    assert_eq!(
        &buf[..20],
        &[1, 0, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    );
    Request::Detach {
        domain: 2,
        endpoint: 3,
    }
    .encode(&mut buf, 0)
    .unwrap();
    assert_eq!(&buf[..12], &[2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    let mut buf = [0u8; 32];
    let l = Request::Unmap {
        domain: 1,
        virt_start: 0,
        virt_end: u64::MAX,
    }
    .encode(&mut buf, 0)
    .unwrap();
    assert_eq!((l.readable, l.writable), (28, 4));
    assert_eq!(&buf[16..24], &[0xff; 8]);
    assert_eq!(buf[28], STATUS_POISON);
    // PROBE: 72 readable, probe_size + 4 writable, poisoned status at the end.
    let mut buf = vec![0x55u8; 72 + 512 + 4];
    let l = Request::Probe { endpoint: 9 }
        .encode(&mut buf, 512)
        .unwrap();
    assert_eq!((l.readable, l.writable), (72, 516));
    assert_eq!(&buf[..8], &[5, 0, 0, 0, 9, 0, 0, 0]);
    assert!(buf[8..72 + 512].iter().all(|&b| b == 0));
    assert_eq!(buf[72 + 512], STATUS_POISON);
    assert_eq!(probe_properties(&buf[72..]).len(), 512);
    // Too small a buffer.
    assert_eq!(
        Request::Probe { endpoint: 9 }.encode(&mut buf[..100], 512),
        Err(ReqError::BufferTooSmall)
    );
}

#[test]
fn status_errno_mapping_matches_c() {
    let cases = [
        (wire::S_OK, 0),
        (wire::S_IOERR, 5),
        (wire::S_UNSUPP, 38),
        (wire::S_DEVERR, 5),
        (wire::S_INVAL, 22),
        (wire::S_RANGE, 34),
        (wire::S_NOENT, 2),
        (wire::S_FAULT, 14),
        (wire::S_NOMEM, 12),
        (9, 5),
        (0xff, 5),
    ];
    for (s, e) in cases {
        assert_eq!(Status::from_u8(s).errno(), e, "status {s}");
        if s != 0 {
            assert_eq!(parse_reply(&[s, 0, 0, 0], 4).unwrap_err().to_errno(), -e);
        }
    }
}

#[test]
fn used_length_rule() {
    let ok = [0u8, 0, 0, 0];
    assert_eq!(parse_reply(&ok, 4), Ok(()));
    assert_eq!(
        parse_reply(&ok, 0),
        Ok(()),
        "0 = not reported, tail trusted"
    );
    for used in [1, 2, 3, 5, u32::MAX] {
        assert_eq!(
            parse_reply(&ok, used),
            Err(ReqError::UsedLen { used, expected: 4 })
        );
    }
    // A PROBE reply must be fully written.
    let probe = vec![0u8; 516];
    assert_eq!(parse_reply(&probe, 516), Ok(()));
    assert!(parse_reply(&probe, 4).is_err());
    assert_eq!(parse_reply(&ok[..3], 0), Err(ReqError::BufferTooSmall));
}

fn cfg(mask: u64, input: (u64, u64), dom: (u32, u32), probe: u32) -> Config {
    Config {
        page_size_mask: Le64::new(mask),
        input_start: Le64::new(input.0),
        input_end: Le64::new(input.1),
        domain_start: Le32::new(dom.0),
        domain_end: Le32::new(dom.1),
        probe_size: Le32::new(probe),
        bypass: 1,
        reserved: [0; 3],
    }
}

const BASE: u64 = (1 << 32) | (1 << 2);
const ALL: u64 = BASE | 0x7f;

#[test]
fn config_validation() {
    let c = cfg(0xffff_ffff_ffff_f000, (0, (1 << 39) - 1), (0, 0xffff), 512);
    let d = validate_bytes(&c.to_bytes(), ALL, 4096).unwrap();
    assert_eq!(d.granule, 4096);
    assert_eq!(d.pgsize_bitmap, 0xffff_ffff_ffff_f000);
    assert_eq!((d.input_start, d.input_end), (0, (1 << 39) - 1));
    assert_eq!(d.identity_domain, Some(0));
    assert_eq!((d.first_domain, d.last_domain), (1, 0xffff));
    assert_eq!(d.probe_size, 512);
    assert!(d.mmio);
    assert_eq!(
        validate_bytes(&c.to_bytes()[..39], ALL, 4096),
        Err(ConfigError::Truncated)
    );

    // Without the range features: full ranges, no probe, no identity id.
    let d = validate(&c, BASE, 4096).unwrap();
    assert_eq!((d.input_start, d.input_end), (0, u64::MAX));
    assert_eq!(
        (d.first_domain, d.last_domain, d.identity_domain),
        (0, u32::MAX, None)
    );
    assert_eq!(d.probe_size, 0);
    assert!(!d.mmio);

    assert_eq!(
        validate(&c, ALL & !(1 << 32), 4096),
        Err(ConfigError::NoVersion1)
    );
    assert_eq!(
        validate(&c, ALL & !(1 << 2), 4096),
        Err(ConfigError::NoMapUnmap)
    );
    assert_eq!(
        validate(&cfg(0, (0, 1), (0, 1), 0), ALL, 4096),
        Err(ConfigError::PageSizeMaskZero)
    );
    assert_eq!(
        validate(&cfg(0x1_0000 | 0x20_0000, (0, 1), (0, 1), 0), ALL, 4096),
        Err(ConfigError::GranuleTooLarge {
            granule: 0x1_0000,
            page_size: 4096
        })
    );
    assert_eq!(
        validate(&cfg(0x1000, (5, 4), (0, 1), 0), ALL, 4096),
        Err(ConfigError::InputRange { start: 5, end: 4 })
    );
    assert_eq!(
        validate(&cfg(0x1000, (0, 4), (3, 2), 0), ALL, 4096),
        Err(ConfigError::DomainRange { start: 3, end: 2 })
    );
    assert_eq!(
        validate(&cfg(0x1000, (0, 4), (0, 2), PROBE_SIZE_MAX + 1), ALL, 4096),
        Err(ConfigError::ProbeSizeTooLarge(PROBE_SIZE_MAX + 1))
    );
    // A single domain id with BYPASS_CONFIG: no identity id reserved.
    let d = validate(&cfg(0x1000, (0, 4), (7, 7), 0), ALL, 4096).unwrap();
    assert_eq!(
        (d.first_domain, d.last_domain, d.identity_domain),
        (7, 7, None)
    );
    // Range ending at u32::MAX.
    let d = validate(&cfg(0x1000, (0, 4), (u32::MAX - 1, u32::MAX), 0), ALL, 4096).unwrap();
    assert_eq!(
        (d.identity_domain, d.first_domain, d.last_domain),
        (Some(u32::MAX - 1), u32::MAX, u32::MAX)
    );
    // Granule smaller than the page size is fine; 64K pages accept 64K granule.
    assert_eq!(
        validate(&cfg(0x1_0000, (0, 4), (0, 2), 0), ALL, 0x1_0000)
            .unwrap()
            .granule,
        0x1_0000
    );
    assert_eq!(feature(64), 0);
}

fn resv_prop(type_: u16, len: u16, sub: u8, s: u64, e: u64) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&type_.to_le_bytes());
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&[sub, 0, 0, 0]);
    v.extend_from_slice(&s.to_le_bytes());
    v.extend_from_slice(&e.to_le_bytes());
    v.resize(4 + len as usize, 0);
    v
}

#[test]
fn probe_parsing_rules() {
    let mut a = resv_prop(1, 20, 1, 0xfee0_0000, 0xfeef_ffff);
    a.extend(resv_prop(7, 20, 0, 1, 2)); // unknown type: skipped
    a.extend(resv_prop(1, 28, 9, 0x1000, 0x1fff)); // unknown subtype, longer value
    a.extend(resv_prop(1, 12, 0, 0, 0)); // too short: error, parsing goes on
    a.extend(resv_prop(1, 20, 0, 5, 5));
    let items: Vec<_> = parse_properties(&a).collect();
    assert_eq!(
        items,
        vec![
            Ok(ResvRegion {
                start: 0xfee0_0000,
                end: 0xfeef_ffff,
                kind: ResvKind::Msi
            }),
            Ok(ResvRegion {
                start: 0x1000,
                end: 0x1fff,
                kind: ResvKind::Reserved
            }),
            Err(ProbeError::ResvMemTooShort {
                offset: 80,
                length: 12
            }),
            Ok(ResvRegion {
                start: 5,
                end: 5,
                kind: ResvKind::Reserved
            }),
        ]
    );
    // NONE stops, even with data after it; trailing < 4 bytes end quietly.
    let mut b = resv_prop(1, 20, 0, 1, 2);
    b.extend([0, 0, 0, 0]);
    b.extend(resv_prop(1, 20, 0, 3, 4));
    assert_eq!(parse_properties(&b).count(), 1);
    let mut c = resv_prop(1, 20, 0, 1, 2);
    c.extend([1, 0, 9]);
    assert_eq!(parse_properties(&c).count(), 1);
    // NONE type with a reserved bit is not the end: it is ignored.
    let mut d = vec![0x00, 0x80, 0, 0];
    d.extend(resv_prop(1, 20, 0, 1, 2));
    assert_eq!(parse_properties(&d).count(), 1);
    // Value runs one byte past the end.
    let e = resv_prop(1, 20, 0, 1, 2);
    assert_eq!(
        parse_properties(&e[..23]).collect::<Vec<_>>(),
        vec![Err(ProbeError::Overrun {
            offset: 0,
            length: 20
        })]
    );
    assert_eq!(parse_properties(&[]).count(), 0);
}

fn r(start: u64, end: u64, kind: ResvKind) -> ResvRegion {
    ResvRegion { start, end, kind }
}

#[test]
fn resv_merge_rules() {
    use ResvKind::*;
    let mut l = VecRegions::default();
    // Same region from two endpoint IDs.
    add_region(&mut l, r(0x1000, 0x1fff, Reserved)).unwrap();
    add_region(&mut l, r(0x1000, 0x1fff, Reserved)).unwrap();
    assert_eq!(l.0, vec![r(0x1000, 0x1fff, Reserved)]);
    // Adjacent same kind merges; different kind overlapping stays.
    add_region(&mut l, r(0x2000, 0x2fff, Reserved)).unwrap();
    add_region(&mut l, r(0x1800, 0x27ff, Msi)).unwrap();
    add_region(&mut l, r(0, 0xff, Msi)).unwrap();
    assert_eq!(
        l.0,
        vec![
            r(0, 0xff, Msi),
            r(0x1000, 0x2fff, Reserved),
            r(0x1800, 0x27ff, Msi)
        ]
    );
    // Bridging region merges three into one.
    add_region(&mut l, r(0x100, 0x17ff, Msi)).unwrap();
    assert_eq!(l.0, vec![r(0, 0x27ff, Msi), r(0x1000, 0x2fff, Reserved)]);
    // Top of the address space.
    add_region(&mut l, r(u64::MAX - 1, u64::MAX, Reserved)).unwrap();
    add_region(&mut l, r(u64::MAX, u64::MAX, Reserved)).unwrap();
    assert_eq!(l.0.last(), Some(&r(u64::MAX - 1, u64::MAX, Reserved)));

    assert_eq!((SW_MSI_BASE, SW_MSI_LEN), (0x800_0000, 0x10_0000));

    // Fixed capacity.
    let mut buf = [r(0, 0, Reserved); 2];
    let mut f = FixedRegions::new(&mut buf);
    add_region(&mut f, r(10, 10, Reserved)).unwrap();
    add_region(&mut f, r(0, 0, Reserved)).unwrap();
    assert_eq!(add_region(&mut f, r(20, 20, Reserved)), Err(CapacityFull));
    add_region(&mut f, r(1, 9, Reserved)).unwrap(); // merges all into one
    assert_eq!(f.as_slice(), &[r(0, 10, Reserved)]);
    assert!(!f.is_empty());
}

#[test]
fn identity_planner() {
    use ResvKind::*;
    let regions = [
        r(0x8000_0000 + 0x10, 0x8000_0fff, Msi),
        r(0xfee0_0000, 0xfeef_ffff, Msi),
    ];
    let v: Vec<_> = identity_ranges(0, (1 << 32) - 1, &regions, 0x1000).collect();
    assert_eq!(
        v,
        vec![
            (0, 0x7fff_ffff),
            (0x8000_1000, 0xfedf_ffff),
            (0xfef0_0000, 0xffff_ffff)
        ]
    );
    // Full 64-bit aperture, region at the very top.
    let top = [r(u64::MAX - 0xfff, u64::MAX, Reserved)];
    let v: Vec<_> = identity_ranges(0, u64::MAX, &top, 0x1000).collect();
    assert_eq!(v, vec![(0, u64::MAX - 0x1000)]);
    let v: Vec<_> = identity_ranges(0, u64::MAX, &[], 0x1000).collect();
    assert_eq!(v, vec![(0, u64::MAX)]);
    // Unaligned aperture is narrowed, everything reserved gives nothing.
    let v: Vec<_> = identity_ranges(0x10, 0x2fff, &[], 0x1000).collect();
    assert_eq!(v, vec![(0x1000, 0x2fff)]);
    assert_eq!(
        identity_ranges(0, u64::MAX, &[r(0, u64::MAX, Msi)], 0x1000).count(),
        0
    );
    assert_eq!(identity_ranges(5, 4, &[], 1).count(), 0);
    assert_eq!(identity_ranges(0x10, 0x20, &[], 0x1000).count(), 0);
}

#[test]
fn mappings_basics() {
    let mut m = Mappings::new(BTreeStore::default());
    assert_eq!(m.map(0, 0, 0, 1), Err(MapError::BadRange));
    assert_eq!(m.map(u64::MAX, 0, 2, 1), Err(MapError::BadRange));
    let top = m.map(u64::MAX - 0xfff, 0x5000, 0x1000, 1).unwrap();
    assert_eq!(top.last, u64::MAX);
    assert_eq!(m.iova_to_phys(u64::MAX), Some(0x5fff));
    assert!(matches!(
        m.map(u64::MAX - 0x1fff, 0, 0x2000, 1),
        Err(MapError::Overlap { .. })
    ));
    m.map(0x1000, 0x10_0000, 0x2000, 3).unwrap();
    assert_eq!(m.iova_to_phys(0x2abc), Some(0x10_1abc));
    assert_eq!(m.iova_to_phys(0x3000), None);
    let replay: Vec<_> = m.iter().map(|x| Request::map_from(9, &x)).collect();
    assert_eq!(replay.len(), 2);
    assert_eq!(
        replay[0],
        Request::Map {
            domain: 9,
            virt_start: 0x1000,
            virt_end: 0x2fff,
            phys_start: 0x10_0000,
            flags: 3
        }
    );
    // Unmap up to the top of the space with a size that wraps.
    let plan = m.plan_unmap(u64::MAX - 0xfff, u64::MAX);
    assert_eq!(plan.bytes(), 0x1000);
    assert_eq!(m.commit_unmap(&plan), 0x1000);
    assert_eq!(range_last(u64::MAX, 1), Some(u64::MAX));
    assert_eq!(m.clear(), 1);
    assert_eq!(m.iter().count(), 0);
}

#[test]
fn fault_decoding() {
    let rec = FaultRecord {
        reason: wire::FAULT_R_DOMAIN,
        flags: Le32::new(wire::FAULT_F_WRITE),
        endpoint: Le32::new(0x0100_0002),
        address: Le64::new(0x1234),
        ..Default::default()
    };
    let b = rec.to_bytes();
    assert_eq!(&b[8..12], &[2, 0, 0, 1]);
    let f = decode_fault(&b).unwrap();
    assert_eq!(f.reason, FaultReason::Domain);
    assert_eq!(f.endpoint, 0x0100_0002);
    assert!(f.write() && !f.read() && !f.exec());
    assert_eq!(f.address, None, "no ADDRESS flag, no address");
    let mut b2 = b;
    b2[0] = 77;
    assert_eq!(decode_fault(&b2).unwrap().reason, FaultReason::Unknown(77));
    let mut b3 = b;
    b3[13] = 1; // reserved1
    assert!(decode_fault(&b3).is_err());
    let mut b4 = b;
    b4[5] = 0x02; // flag bit 9: reserved
    assert!(decode_fault(&b4).is_err());
    assert_eq!(FaultRecord::from_bytes(&b), Some(rec));
}

/// Reports of `list` under `policy`.
fn reports(list: &VecRegions, policy: MsiPolicy) -> Vec<(u64, u64, ReportType)> {
    let mut out = Vec::new();
    for_each_report(list, policy, |r: Report| -> Result<(), ()> {
        out.push((r.start, r.end, r.ty));
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn msi_policy_per_platform() {
    use ReportType::{Msi as M, Reserved as R, SwMsi as S};
    use ResvKind::{Msi, Reserved};
    let its = r(0x809_0000, 0x809_ffff, Msi);
    let mut one = VecRegions::default();
    add_region(&mut one, r(0x1000, 0x1fff, Reserved)).unwrap();
    add_region(&mut one, its).unwrap();
    // x86: doorbells are not mapped by dma-iommu, the bypass region is reported as is.
    assert_eq!(msi_policy(&one, false, false), MsiPolicy::Bypass);
    assert_eq!(
        reports(&one, MsiPolicy::Bypass),
        vec![(0x1000, 0x1fff, R), (0x809_0000, 0x809_ffff, M)]
    );
    // arm64/ITS: the doorbell becomes a software window at the same place, kept out of DMA.
    assert_eq!(msi_policy(&one, false, true), MsiPolicy::Doorbell);
    assert_eq!(
        reports(&one, MsiPolicy::Doorbell),
        vec![
            (0x1000, 0x1fff, R),
            (0x809_0000, 0x809_ffff, R),
            (0x809_0000, 0x809_ffff, S)
        ]
    );
    // The module parameter wins everywhere: probed MSI kept out of DMA, window at 0x8000000.
    for maps in [false, true] {
        assert_eq!(msi_policy(&one, true, maps), MsiPolicy::Software);
    }
    let sw = reports(&one, MsiPolicy::Software);
    assert_eq!(
        sw,
        vec![
            (0x1000, 0x1fff, R),
            (0x809_0000, 0x809_ffff, R),
            (SW_MSI_BASE, SW_MSI_BASE + SW_MSI_LEN - 1, S)
        ]
    );
    // Exactly one software window in every policy (iommufd refuses more, or one next to an
    // MSI region).
    for p in [MsiPolicy::Bypass, MsiPolicy::Doorbell, MsiPolicy::Software] {
        let rs = reports(&one, p);
        let sw = rs.iter().filter(|x| x.2 == S).count();
        let hw = rs.iter().filter(|x| x.2 == M).count();
        assert!(sw <= 1 && !(sw == 1 && hw > 0), "{p:?}: {rs:?}");
    }
    // Nothing probed: the C driver's software window.
    let empty = VecRegions::default();
    assert_eq!(msi_policy(&empty, false, false), MsiPolicy::Software);
    assert_eq!(msi_policy(&empty, false, true), MsiPolicy::Software);
    assert_eq!(
        reports(&empty, MsiPolicy::Software),
        vec![(0x800_0000, 0x80f_ffff, S)]
    );
    // Two doorbells where dma-iommu maps them: one window cannot cover both, go software.
    let mut two = VecRegions::default();
    add_region(&mut two, its).unwrap();
    add_region(&mut two, r(0x10_0000_0000, 0x10_0000_ffff, Msi)).unwrap();
    assert_eq!(msi_policy(&two, false, true), MsiPolicy::Software);
    assert_eq!(msi_policy(&two, false, false), MsiPolicy::Bypass);
    // Errors from `emit` stop the walk.
    let mut n = 0;
    assert_eq!(
        for_each_report(&one, MsiPolicy::Doorbell, |_| {
            n += 1;
            if n == 2 {
                Err(7)
            } else {
                Ok(())
            }
        }),
        Err(7)
    );
    assert_eq!(n, 2);
}

#[test]
fn requests_display_addresses_in_hex() {
    let r = Request::Unmap {
        domain: 3,
        virt_start: 0x10_0000,
        virt_end: 0x10_ffff,
    };
    assert_eq!(r.to_string(), "UNMAP domain 3 [0x100000-0x10ffff]");
    let r = Request::Map {
        domain: 1,
        virt_start: 0x1000,
        virt_end: 0x1fff,
        phys_start: 0xfee0_0000,
        flags: 3,
    };
    assert_eq!(
        r.to_string(),
        "MAP domain 1 [0x1000-0x1fff] to 0xfee00000 flags 0x3"
    );
}
