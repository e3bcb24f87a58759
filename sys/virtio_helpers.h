/* SPDX-License-Identifier: GPL-2.0 */
/* C helpers for the virtio abstractions: static inlines and macros Rust cannot call. */
