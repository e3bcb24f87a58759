//! Fault record decoding on arbitrary event buffers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use virtio_iommu_proto::fault::{decode_fault, FaultError, FaultReason};
use virtio_iommu_proto::wire;

fuzz_target!(|data: &[u8]| {
    match decode_fault(data) {
        Ok(f) => {
            assert_eq!(data.len(), 24);
            assert_eq!(&data[1..4], &[0, 0, 0]);
            assert_eq!(&data[12..16], &[0, 0, 0, 0]);
            let flags = u32::from_le_bytes(data[4..8].try_into().unwrap());
            assert_eq!(f.flags, flags);
            assert_eq!(flags & !wire::FAULT_F_KNOWN, 0);
            assert_eq!(
                f.endpoint,
                u32::from_le_bytes(data[8..12].try_into().unwrap())
            );
            let addr = u64::from_le_bytes(data[16..24].try_into().unwrap());
            assert_eq!(
                f.address,
                (flags & wire::FAULT_F_ADDRESS != 0).then_some(addr)
            );
            match f.reason {
                FaultReason::Domain => assert_eq!(data[0], 1),
                FaultReason::Mapping => assert_eq!(data[0], 2),
                FaultReason::Unknown(r) => assert_eq!(data[0], r),
            }
        }
        Err(FaultError::BadLength(n)) => assert!(n != 24 && n == data.len()),
        Err(FaultError::Reserved) => assert_eq!(data.len(), 24),
    }
});
