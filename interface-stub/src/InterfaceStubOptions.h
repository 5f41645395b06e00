// Everything the interface-stub's command line decides, in one value. declare() lists the options
// (and with them --help); read() turns what was given into client settings with the messages users
// know. Tests drive both without a socket.
#pragma once

#include "StubClient.h"

#include <HostAndPort.h>
#include <PunchTtlSchedule.h>
#include <RelayConfig.h>

class CommandLine;

struct InterfaceStubOptions {
    StubClient::Options client;
    HostAndPort stunServer; // the ice-server itself unless --stun-server is given
    PunchTtlSchedule punchTtl = PunchTtlSchedule::defaultSchedule();
    quint16 port = 0; // 0: a random port, and a fresh one for each new punch attempt
    RelayConfig relay;
    bool verbose = false;

    // The Qt logging filter rules: result lines only, or the roles' chatter with --verbose.
    QString loggingRules() const;

    static void declare(CommandLine *commandLine);
    // False when a value is bad or a required one missing; commandLine->errorString() says which.
    static bool read(CommandLine *commandLine, InterfaceStubOptions *options);
};
