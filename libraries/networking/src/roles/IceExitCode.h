// Process exit codes of Icebreaker's client tools (interface-stub, ice-client): one per way an ICE
// connection attempt fails, the same in every tool, so scripts can tell the failures apart.
#pragma once

#include "DomainHandler.h"

namespace IceExitCode {

enum Code : int {
    Success = 0,
    UsageError = 1, // bad option, port in use
    IceServerSilent = 2,
    DomainUnknown = 3,
    PunchFailed = 4,
    IceServerLookupFailed = 5,
    StunFailed = 6,     // an explicitly given STUN server never answered
    RelayAuthFailed = 7 // the TURN server rejected the credentials (--turn-user/--turn-password/--turn-secret)
};

// The exit code for the way DomainHandler gave up.
inline Code forError(DomainHandler::Error error) {
    switch (error) {
    case DomainHandler::Error::NoError: return Success;
    case DomainHandler::Error::IceServerSilent: return IceServerSilent;
    case DomainHandler::Error::DomainUnknown: return DomainUnknown;
    case DomainHandler::Error::PunchFailed: return PunchFailed;
    case DomainHandler::Error::IceServerLookupFailed: return IceServerLookupFailed;
    case DomainHandler::Error::RelayAuthFailed: return RelayAuthFailed;
    }
    return UsageError;
}

} // namespace IceExitCode
