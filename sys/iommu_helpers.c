// SPDX-License-Identifier: GPL-2.0
/* C helpers for the iommu abstractions (prototypes in iommu_helpers.h). */
#include "bindings.h"
