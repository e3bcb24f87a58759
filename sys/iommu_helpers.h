/* SPDX-License-Identifier: GPL-2.0 */
/* C helpers for the iommu abstractions: static inlines and macros Rust cannot call. */
