// Item 1: every header an upstream caller includes on the ICE paths resolves from the installed
// include directory, with upstream's spellings.
#include <DomainGatekeeper.h>
#include <DomainHandler.h>
#include <DomainServer.h>
#include <IceServer.h>
#include <LimitedNodeList.h>
#include <NLPacket.h>
#include <NetworkPeer.h>
#include <NodeList.h>
#include <PacketHeaders.h>
#include <PacketReceiver.h>
#include <ReceivedMessage.h>
#include <SockAddr.h>
#include <SocketType.h>
#include <udt/PacketHeaders.h>

int includeEverythingLinked() {
    return 1;
}
