// The TURN relay options every binary shares (--turn-server, --turn-user, --turn-password or
// --turn-secret, --relay), declared and read once so interface-stub, ice-client and domain-server
// word them and their errors the same way, and the step that puts the result on a node list.
#pragma once

#include <RelayConfig.h>

class CommandLine;
class LimitedNodeList;

namespace RelayOptions {

// Adds the five options. fallbackHelp says in --relay's help when this binary falls back to the
// relay (e.g. "when direct punching fails").
void declare(CommandLine *commandLine, const QString &fallbackHelp);
// Fills config; a bad or inconsistent combination is recorded on commandLine (false returned).
// --relay defaults to fallback when --turn-server is given, never otherwise.
bool read(CommandLine *commandLine, RelayConfig *config);
// Resolves the TURN server (blocking, once at startup) and gives nodeList its TurnClient. Nothing
// happens when config has no server or its mode is never; false (and why) when the name does not
// resolve to an IPv4 address.
bool apply(const RelayConfig &config, LimitedNodeList *nodeList, QString *errorString);

} // namespace RelayOptions
