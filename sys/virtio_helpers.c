// SPDX-License-Identifier: GPL-2.0
/* C helpers for the virtio abstractions (prototypes in virtio_helpers.h). */
#include "bindings.h"
