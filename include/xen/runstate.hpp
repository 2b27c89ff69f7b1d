/// \file
/// Runstate areas and the steal-time clock: registration (op 14 or op 5),
/// consistent snapshots of any vCPU, the live view, and per-vCPU steal.
/// See docs/steal.md.
#pragma once

#include <xen/runstate/area.hpp>     // IWYU pragma: export
#include <xen/runstate/snapshot.hpp> // IWYU pragma: export
#include <xen/runstate/steal.hpp>    // IWYU pragma: export
