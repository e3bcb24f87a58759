// SPDX-License-Identifier: GPL-2.0

//! Validation of the device configuration and negotiated features.
//!
//! Rules (C driver behaviour, plus the checks it lacks):
//! - `VIRTIO_F_VERSION_1` and `F_MAP_UNMAP` are required;
//! - `page_size_mask == 0` is refused; the granule (lowest set bit) must not
//!   exceed the CPU page size; `pgsize_bitmap = page_size_mask`;
//! - without `F_INPUT_RANGE` the input range is the full 64-bit space; with
//!   it, `start > end` is refused;
//! - without `F_DOMAIN_RANGE` domain IDs are `0..=u32::MAX`; with it,
//!   `start > end` is refused;
//! - with `F_BYPASS_CONFIG` the first domain ID is reserved for the static
//!   identity (bypass) domain and paging domains use the rest. If the range
//!   holds a single ID, no ID is reserved: `identity_domain` is `None` and
//!   identity falls back to a 1:1-mapped paging domain;
//! - without `F_PROBE`, `probe_size` is 0; with it, it is capped at
//!   [`PROBE_SIZE_MAX`].

use super::wire::{self, has_feature, Config};

/// Largest `probe_size` accepted (QEMU uses 512).
pub const PROBE_SIZE_MAX: u32 = 0x1_0000;

/// Why the device cannot be driven.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConfigError {
    /// `VIRTIO_F_VERSION_1` was not negotiated.
    NoVersion1,
    /// `F_MAP_UNMAP` was not negotiated.
    NoMapUnmap,
    /// `page_size_mask` is zero.
    PageSizeMaskZero,
    /// The smallest IOMMU page is larger than the CPU page.
    GranuleTooLarge {
        /// Smallest supported IOMMU page size.
        granule: u64,
        /// CPU page size.
        page_size: u64,
    },
    /// `input_range.start > input_range.end`.
    InputRange {
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
    /// `domain_range.start > domain_range.end`.
    DomainRange {
        /// Start.
        start: u32,
        /// End.
        end: u32,
    },
    /// `probe_size` is larger than [`PROBE_SIZE_MAX`].
    ProbeSizeTooLarge(u32),
    /// The config space is shorter than 40 bytes.
    Truncated,
}

impl ConfigError {
    /// Positive errno for probe failure (`EINVAL`, or `ENODEV` = 19 for
    /// missing features and the granule check, as the C driver).
    pub const fn errno(self) -> i32 {
        match self {
            Self::NoVersion1 | Self::NoMapUnmap | Self::GranuleTooLarge { .. } => 19,
            _ => super::request::errno::EINVAL,
        }
    }
}

/// Validated device parameters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DeviceConfig {
    /// Supported page sizes, for `iommu_domain.pgsize_bitmap`.
    pub pgsize_bitmap: u64,
    /// Smallest supported page size (power of two, `<= page_size`).
    pub granule: u64,
    /// First valid IOVA (aperture start).
    pub input_start: u64,
    /// Last valid IOVA (aperture end, inclusive).
    pub input_end: u64,
    /// First domain ID for paging domains.
    pub first_domain: u32,
    /// Last domain ID for paging domains (inclusive).
    pub last_domain: u32,
    /// Domain ID reserved for the static identity domain (`F_BYPASS_CONFIG`).
    pub identity_domain: Option<u32>,
    /// Size of the PROBE properties area; 0 when PROBE is not negotiated.
    pub probe_size: u32,
    /// Raw `bypass` config byte (meaningful with `F_BYPASS_CONFIG`).
    pub bypass: u8,
    /// `F_MMIO` negotiated: `MAP_F_MMIO` may be used.
    pub mmio: bool,
}

/// Validates the raw 40-byte config space `cfg` under `features`
/// (negotiated, including bit 32 VERSION_1), for CPU page size `page_size`.
pub fn validate_bytes(
    cfg: &[u8],
    features: u64,
    page_size: u64,
) -> Result<DeviceConfig, ConfigError> {
    let c = Config::from_bytes(cfg).ok_or(ConfigError::Truncated)?;
    validate(&c, features, page_size)
}

/// Validates a decoded config space; see the module documentation.
pub fn validate(c: &Config, features: u64, page_size: u64) -> Result<DeviceConfig, ConfigError> {
    if !has_feature(features, wire::F_VERSION_1) {
        return Err(ConfigError::NoVersion1);
    }
    if !has_feature(features, wire::F_MAP_UNMAP) {
        return Err(ConfigError::NoMapUnmap);
    }
    let mask = c.page_size_mask.get();
    if mask == 0 {
        return Err(ConfigError::PageSizeMaskZero);
    }
    // Lowest set bit.
    let granule = mask & mask.wrapping_neg();
    if granule > page_size {
        return Err(ConfigError::GranuleTooLarge { granule, page_size });
    }
    let (input_start, input_end) = if has_feature(features, wire::F_INPUT_RANGE) {
        let (start, end) = (c.input_start.get(), c.input_end.get());
        if start > end {
            return Err(ConfigError::InputRange { start, end });
        }
        (start, end)
    } else {
        (0, u64::MAX)
    };
    let (mut first_domain, last_domain) = if has_feature(features, wire::F_DOMAIN_RANGE) {
        let (start, end) = (c.domain_start.get(), c.domain_end.get());
        if start > end {
            return Err(ConfigError::DomainRange { start, end });
        }
        (start, end)
    } else {
        (0, u32::MAX)
    };
    let mut identity_domain = None;
    if has_feature(features, wire::F_BYPASS_CONFIG) && first_domain < last_domain {
        identity_domain = Some(first_domain);
        first_domain = first_domain.saturating_add(1);
    }
    let probe_size = if has_feature(features, wire::F_PROBE) {
        let p = c.probe_size.get();
        if p > PROBE_SIZE_MAX {
            return Err(ConfigError::ProbeSizeTooLarge(p));
        }
        p
    } else {
        0
    };
    Ok(DeviceConfig {
        pgsize_bitmap: mask,
        granule,
        input_start,
        input_end,
        first_domain,
        last_domain,
        identity_domain,
        probe_size,
        bypass: c.bypass,
        mmio: has_feature(features, wire::F_MMIO),
    })
}
