// Transitional: SockAddr is the IpEndpoint value until it becomes upstream's QObject shape.
#pragma once

#include "IpEndpoint.h"

using SockAddr = IpEndpoint;
