// Everything ice-client's command line decides, in one value. declare() lists the options (and with
// them --help); read() turns what was given into IceClientApp's options with the messages users
// know. Tests drive both without a socket.
#pragma once

#include "IceClientApp.h"

class CommandLine;

struct IceClientOptions {
    IceClientApp::Options client;
    bool verbose = false;

    // The Qt logging filter rules: result lines only, or every role's debug output with --verbose.
    QString loggingRules() const;

    static void declare(CommandLine *commandLine);
    // False when a value is bad; commandLine->errorString() says which and why.
    static bool read(CommandLine *commandLine, IceClientOptions *options);
};
