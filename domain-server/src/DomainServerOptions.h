// Everything the domain-server's command line and config file decide, in one value. declare() lists
// the options (and with them --help and the config file's keys); read() turns what was given into
// DomainServer settings with the messages operators know. Tests drive both without a socket.
#pragma once

#include "DomainServer.h"

class CommandLine;

struct DomainServerOptions {
    static constexpr quint16 DefaultPort = 40102; // DomainHandler.h DEFAULT_DOMAIN_SERVER_PORT

    DomainServer::Settings server;
    RelayConfig relay;          // the TURN server and when to register through it (server.relayMode)
    quint16 port = DefaultPort; // UDP, IPv4 (IPv6 takes any free port)
    bool verbose = false;       // log every ICE packet

    static void declare(CommandLine *commandLine, const QString &defaultConfigPath);
    // False when a value is bad or a required one missing; commandLine->errorString() says which.
    static bool read(CommandLine *commandLine, DomainServerOptions *options);
};
