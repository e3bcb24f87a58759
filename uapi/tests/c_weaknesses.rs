//! One test per C-driver weakness (2, 4, 5, 6) from the project notes. Each
//! also runs a re-implementation of the naive C behaviour and shows that it
//! gets the case wrong, so the test would fail on a naive implementation.

use virtio_iommu_proto::fault::{decode_fault, FaultError};
use virtio_iommu_proto::mappings::{Mapping, Mappings, UnmapPlan};
use virtio_iommu_proto::probe::{parse_properties, ProbeError};
use virtio_iommu_proto::request::{fold_batch, parse_reply, ReqError, Status};
use virtio_iommu_proto::testing::{BTreeStore, SpecDevice};
use virtio_iommu_proto::wire::{self, S_OK};

fn tail(status: u8) -> [u8; 4] {
    [status, 0, 0, 0]
}

/// Weakness 2: the status of batched MAP/UNMAP requests is never checked.
/// A naive implementation looks only at the last request of the batch
/// (`naive_last` below) and reports success although the second MAP failed.
#[test]
fn c_weakness_2_batched_status_folded() {
    let replies = [
        tail(S_OK),
        tail(wire::S_INVAL),
        tail(S_OK),
        tail(wire::S_NOMEM),
    ];
    let naive_last = |r: &[[u8; 4]]| parse_reply(r.last().unwrap(), 4);
    // The naive fold misses the INVAL in the middle of the batch...
    let naive_mid = [tail(S_OK), tail(wire::S_INVAL), tail(S_OK)];
    assert_eq!(naive_last(&naive_mid), Ok(()));
    // ...the real fold does not.
    let f = fold_batch(naive_mid.iter().map(|t| parse_reply(t, 4)));
    assert_eq!(f.result(), Err(ReqError::Status(Status::Inval)));
    assert_eq!(f.first_error(), Some((1, ReqError::Status(Status::Inval))));
    assert_eq!(f.failures(), 1);

    let f = fold_batch(replies.iter().map(|t| parse_reply(t, 4)));
    assert_eq!(f.first_error(), Some((1, ReqError::Status(Status::Inval))));
    assert_eq!(f.failures(), 2);
    assert_eq!(f.count(), 4);
    assert_eq!(f.result().unwrap_err().to_errno(), -22);
    // A short used length in the batch is a failure too.
    let f = fold_batch([parse_reply(&tail(S_OK), 4), parse_reply(&tail(S_OK), 1)]);
    assert_eq!(
        f.result(),
        Err(ReqError::UsedLen {
            used: 1,
            expected: 4
        })
    );
}

/// The C driver's `viommu_del_mappings` + `viommu_unmap_pages`: remove every
/// record starting at or after `iova` and overlapping the range (stop at one
/// starting before), *then* compare with `size`, then send
/// `UNMAP [iova, iova + unmapped - 1]`.
fn c_unmap(rec: &mut Mappings<BTreeStore>, dev: &mut SpecDevice, iova: u64, size: u64) -> u64 {
    let end = iova + size - 1;
    let mut unmapped = 0;
    let overlapping: Vec<Mapping> = rec
        .iter()
        .filter(|m| m.iova <= end && m.last >= iova)
        .collect();
    for m in overlapping {
        if m.iova < iova {
            break;
        }
        unmapped += m.size();
        rec.remove_exact(m.iova);
    }
    if unmapped < size {
        return 0;
    }
    if dev.unmap(iova, iova + unmapped - 1) != S_OK {
        return 0;
    }
    unmapped
}

fn setup(maps: &[(u64, u64)]) -> (Mappings<BTreeStore>, SpecDevice) {
    let mut rec = Mappings::new(BTreeStore::default());
    let mut dev = SpecDevice::default();
    for &(iova, size) in maps {
        let m = rec.map(iova, iova, size, 3).unwrap();
        assert_eq!(dev.map(m), S_OK);
    }
    (rec, dev)
}

fn planned_unmap(
    rec: &mut Mappings<BTreeStore>,
    dev: &mut SpecDevice,
    iova: u64,
    size: u64,
) -> u64 {
    let plan = rec.plan_unmap(iova, size);
    if let UnmapPlan::Unmap {
        virt_start,
        virt_end,
        ..
    } = plan
    {
        if dev.unmap(virt_start, virt_end) != S_OK {
            return 0;
        }
        return rec.commit_unmap(&plan);
    }
    0
}

/// Weakness 4: unmap ranges that start in a hole or span gaps desynchronise
/// the C driver's interval tree and the device.
#[test]
fn c_weakness_4_unmap_hole_and_gaps_keep_device_in_sync() {
    // (a) Range starts in a hole and spans a gap: [0, 0x4000) over mappings
    // [0x1000, 0x2000) and [0x3000, 0x4000).
    let maps = [(0x1000, 0x1000), (0x3000, 0x1000)];
    let (mut rec, mut dev) = setup(&maps);
    let c_ret = c_unmap(&mut rec, &mut dev, 0, 0x4000);
    // C: unmapped (0x2000) < size → returns 0, but the records are gone
    // while the device still has both mappings.
    assert_eq!(c_ret, 0);
    assert_ne!(
        rec.iter().collect::<Vec<_>>(),
        dev.sorted(),
        "naive C stays in sync?"
    );

    let (mut rec, mut dev) = setup(&maps);
    assert_eq!(planned_unmap(&mut rec, &mut dev, 0, 0x4000), 0x2000);
    assert_eq!(rec.iter().collect::<Vec<_>>(), dev.sorted());
    assert!(dev.maps.is_empty());

    // (b) Range starts in a hole, mapping runs past the range end:
    // [0, 0x2000) over [0x1000, 0x3000).
    let (mut rec, mut dev) = setup(&[(0x1000, 0x2000)]);
    // C: unmapped = 0x2000 >= size → UNMAP [0, 0x1fff] straddles → RANGE,
    // returns 0 with the record already removed.
    assert_eq!(c_unmap(&mut rec, &mut dev, 0, 0x2000), 0);
    assert_ne!(rec.iter().collect::<Vec<_>>(), dev.sorted());

    let (mut rec, mut dev) = setup(&[(0x1000, 0x2000)]);
    assert_eq!(planned_unmap(&mut rec, &mut dev, 0, 0x2000), 0x2000);
    assert_eq!(rec.iter().collect::<Vec<_>>(), dev.sorted());

    // (c) Gap in the middle with enough total size: C sends an UNMAP ending
    // inside the second mapping → device RANGE, record already gone.
    let maps = [(0x0, 0x1000), (0x2000, 0x2000)];
    let (mut rec, mut dev) = setup(&maps);
    assert_eq!(c_unmap(&mut rec, &mut dev, 0, 0x3000), 0);
    assert_ne!(rec.iter().collect::<Vec<_>>(), dev.sorted());
    let (mut rec, mut dev) = setup(&maps);
    assert_eq!(planned_unmap(&mut rec, &mut dev, 0, 0x3000), 0x3000);
    assert_eq!(rec.iter().collect::<Vec<_>>(), dev.sorted());

    // (d) Splitting at the start is refused with nothing sent or removed.
    let (mut rec, mut dev) = setup(&[(0x1000, 0x2000)]);
    assert!(matches!(
        rec.plan_unmap(0x2000, 0x1000),
        UnmapPlan::Split { .. }
    ));
    assert_eq!(planned_unmap(&mut rec, &mut dev, 0x2000, 0x1000), 0);
    assert_eq!(rec.iter().count(), 1);
    assert_eq!(rec.iter().collect::<Vec<_>>(), dev.sorted());
}

fn prop(type_: u16, length: u16, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&type_.to_le_bytes());
    v.extend_from_slice(&length.to_le_bytes());
    v.extend_from_slice(value);
    v
}

fn resv_value(subtype: u8, start: u64, end: u64) -> Vec<u8> {
    let mut v = vec![subtype, 0, 0, 0];
    v.extend_from_slice(&start.to_le_bytes());
    v.extend_from_slice(&end.to_le_bytes());
    v
}

/// Weakness 5: the C probe parser computes `u16 len = length + 4`, which
/// wraps for length >= 0xfffc (0xfffc + 4 == 0: `cur` never advances, an
/// infinite loop), never checks `cur + len <= probe_size`, uses properties
/// with reserved type bits, and accepts start > end.
#[test]
fn c_weakness_5_probe_len_overflow_terminates() {
    let mut area = prop(
        wire::PROBE_T_RESV_MEM,
        0xfffc,
        &resv_value(0, 0x1000, 0x1fff),
    );
    area.resize(512, 0);

    // Naive C arithmetic: the cursor does not move.
    let naive_len = 0xfffcu16.wrapping_add(4);
    assert_eq!(naive_len, 0, "naive u16 length wraps to zero");

    let items: Vec<_> = parse_properties(&area).take(10).collect();
    assert_eq!(
        items,
        vec![Err(ProbeError::Overrun {
            offset: 0,
            length: 0xfffc
        })]
    );
    for len in [0xfffdu16, 0xfffe, 0xffff, 509] {
        let mut a = prop(wire::PROBE_T_RESV_MEM, len, &[]);
        a.resize(512, 0);
        assert_eq!(parse_properties(&a).count(), 1, "len {len:#x}");
    }

    // Reserved type bits: property ignored (C masks them and uses it).
    let mut a = prop(
        0x1000 | wire::PROBE_T_RESV_MEM,
        20,
        &resv_value(1, 0x8000, 0x8fff),
    );
    a.extend(prop(
        wire::PROBE_T_RESV_MEM,
        20,
        &resv_value(0, 0x1000, 0x1fff),
    ));
    let items: Vec<_> = parse_properties(&a).collect();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].unwrap().start, 0x1000);

    // start > end refused (C turns it into a huge region).
    let a = prop(wire::PROBE_T_RESV_MEM, 20, &resv_value(0, 0x2000, 0x1000));
    assert_eq!(
        parse_properties(&a).next(),
        Some(Err(ProbeError::StartAfterEnd {
            offset: 0,
            start: 0x2000,
            end: 0x1000
        }))
    );
}

fn fault_bytes(reason: u8, reserved: [u8; 3], flags: [u8; 4], ep: u32, addr: u64) -> Vec<u8> {
    let mut v = vec![reason];
    v.extend_from_slice(&reserved);
    v.extend_from_slice(&flags);
    v.extend_from_slice(&ep.to_le_bytes());
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(&addr.to_le_bytes());
    v
}

/// Weakness 6: the C reserved-bit check masks a native-endian u32 of the
/// first 4 bytes with 0xffffff00 — right on little-endian only — and short
/// records are accepted.
#[test]
fn c_weakness_6_fault_endianness_and_length() {
    // flags bytes [0, 1, 0, 0] are le32 0x100 = FAULT_F_ADDRESS.
    let rec = fault_bytes(wire::FAULT_R_MAPPING, [0; 3], [0, 1, 0, 0], 7, 0xdead_b000);
    let f = decode_fault(&rec).unwrap();
    assert_eq!(f.flags, wire::FAULT_F_ADDRESS);
    assert_eq!(f.address, Some(0xdead_b000));
    assert_eq!(f.endpoint, 7);
    // A big-endian native read (what C's le-less access sees on BE) differs.
    let be_flags = u32::from_be_bytes([0, 1, 0, 0]);
    assert_ne!(be_flags & wire::FAULT_F_ADDRESS, wire::FAULT_F_ADDRESS);
    // C's head check on BE: the reason byte lands in the masked bits, so a
    // valid record would be dropped; ours accepts it.
    let head_be = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
    assert_ne!(
        head_be & 0xffff_ff00,
        0,
        "naive BE check drops a valid record"
    );
    // Reserved bytes after the reason → ignored, whatever the endianness.
    let bad = fault_bytes(wire::FAULT_R_MAPPING, [0, 0, 1], [0, 1, 0, 0], 7, 0);
    assert_eq!(decode_fault(&bad), Err(FaultError::Reserved));
    // Short and long records refused.
    assert_eq!(decode_fault(&rec[..20]), Err(FaultError::BadLength(20)));
    let mut long = rec.clone();
    long.push(0);
    assert_eq!(decode_fault(&long), Err(FaultError::BadLength(25)));
}
