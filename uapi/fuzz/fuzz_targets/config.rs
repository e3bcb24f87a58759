//! Config space validation on arbitrary config bytes, features and page
//! sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use virtio_iommu_proto::config::{validate_bytes, PROBE_SIZE_MAX};
use virtio_iommu_proto::wire::{self, has_feature};

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let features = u64::from_le_bytes(data[..8].try_into().unwrap());
    let page_size = 1u64 << (data[8] % 64);
    let cfg = &data[9..];
    if let Ok(c) = validate_bytes(cfg, features, page_size) {
        assert!(cfg.len() >= wire::CFG_SIZE);
        assert!(c.granule.is_power_of_two());
        assert!(c.granule <= page_size);
        assert_eq!(c.pgsize_bitmap & (c.granule - 1), 0);
        assert!(c.pgsize_bitmap & c.granule != 0);
        assert!(c.input_start <= c.input_end);
        assert!(c.first_domain <= c.last_domain);
        if let Some(id) = c.identity_domain {
            assert!(has_feature(features, wire::F_BYPASS_CONFIG));
            assert!(id < c.first_domain);
        }
        assert!(c.probe_size <= PROBE_SIZE_MAX);
        if !has_feature(features, wire::F_PROBE) {
            assert_eq!(c.probe_size, 0);
        }
    }
});
