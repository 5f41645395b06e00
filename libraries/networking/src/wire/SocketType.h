// The kind of socket an address belongs to, as upstream spells it. Icebreaker speaks UDP only;
// the type is carried so upstream-style code can construct and inspect addresses unchanged.
#pragma once

#include <QtCore/QtGlobal>

enum class SocketType : quint8 { Unknown, UDP, WebRTC };

// "UDP", "WebRTC" or "Unknown".
const char *socketTypeToString(SocketType type);
