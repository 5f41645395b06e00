// Item 1: every header an upstream caller includes on the ICE paths resolves from the installed
// include directory, with upstream's spellings.
#include <udt/PacketHeaders.h>
#include <PacketHeaders.h>
#include <SockAddr.h>
#include <SocketType.h>
#include <NetworkPeer.h>
#include <NLPacket.h>
#include <ReceivedMessage.h>
#include <PacketReceiver.h>
#include <LimitedNodeList.h>
#include <NodeList.h>
#include <DomainHandler.h>
#include <DomainGatekeeper.h>
#include <DomainServer.h>
#include <IceServer.h>

int includeEverythingLinked() { return 1; }
