// Upstream callers include the packet table as <udt/PacketHeaders.h>; it is the same header as
// <PacketHeaders.h>.
#pragma once

#include "../PacketHeaders.h"
