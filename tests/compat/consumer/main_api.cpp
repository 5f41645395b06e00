// The upstream API items, each used the way upstream's callers use it. Exit code 0 only when every
// run-time check holds; a missing or differently shaped item fails the build instead.
#include "UpstreamStyleAddressManager.h"
#include "UpstreamStyleIceServer.h"

#include <DomainGatekeeper.h>
#include <IceServer.h>
#include <LimitedNodeList.h>
#include <NLPacket.h>
#include <NetworkPeer.h>
#include <NodeList.h>
#include <PacketReceiver.h>
#include <ReceivedMessage.h>
#include <SockAddr.h>
#include <udt/PacketHeaders.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDataStream>
#include <QtCore/QEventLoop>
#include <QtCore/QSet>
#include <QtCore/QTimer>
#include <QtCore/QVariant>
#include <QtNetwork/QUdpSocket>

#include <cstdio>
#include <functional>
#include <type_traits>
#include <unordered_map>

int includeEverythingLinked();

namespace {
int failures = 0;
void check(bool ok, const char *what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += ok ? 0 : 1;
}

// ---- Item 2: PacketHeaders ----
static_assert(std::is_same<PacketType, PacketTypeEnum::Value>::value, "PacketType is PacketTypeEnum::Value");
static_assert(std::is_same<PacketVersion, quint8>::value, "PacketVersion is a byte");
static_assert(std::is_same<PingType_t, quint8>::value, "PingType_t is a byte");
static_assert(NUM_BYTES_MD5_HASH == 16, "NUM_BYTES_MD5_HASH");

void packetHeaders() {
    PacketType type = PacketType::Unknown;
    check(type != PacketType::ICEPing, "PacketType::Unknown is its own value");
    const PacketType iceTypes[] = {
        PacketType::ICEServerHeartbeat, PacketType::ICEServerHeartbeatACK,    PacketType::ICEServerHeartbeatDenied,
        PacketType::ICEServerQuery,     PacketType::ICEServerPeerInformation, PacketType::ICEPing,
        PacketType::ICEPingReply
    };
    bool versions = true;
    for (PacketType t : iceTypes) {
        versions = versions && versionForPacketType(t) != 0;
    }
    check(versions, "versionForPacketType(ICE types)");
    PingType_t pingType = PingType::Agnostic;
    pingType = PingType::Local;
    pingType = PingType::Public;
    pingType = PingType::Symmetric;
    check(pingType == 3, "PingType::Symmetric == 3");
}

// ---- Item 3: SockAddr ----
void sockAddr() {
    SockAddr addr(SocketType::UDP, QHostAddress::LocalHost, 40102);
    check(addr.getType() == SocketType::UDP, "SockAddr(SocketType, QHostAddress, quint16), getType");
    SockAddr named(SocketType::UDP, QStringLiteral("127.0.0.1"), 7337);
    check(named.getAddress() == QHostAddress::LocalHost && named.getPort() == 7337,
          "SockAddr(SocketType, hostname, port)");
    const SockAddr resolved(SocketType::UDP, QStringLiteral("localhost"), 7337, true);
    const SockAddr older(QStringLiteral("localhost"), 7337, true);
    check(resolved.getAddress() == QHostAddress::LocalHost && older == resolved,
          "SockAddr([SocketType,] hostname, port, shouldBlockForLookup = true) resolves a name");
    QSet<SockAddr> set { addr, named };
    std::unordered_map<SockAddr, int> map { { addr, 1 } };
    check(set.size() == 2 && map.count(addr) == 1 && qHash(addr, 0) == qHash(SockAddr(addr), 0), "qHash, std::hash");
    addr.clear();
    check(addr.isNull() && addr.getPort() == 0, "clear()");

    // The asynchronous form: upstream callers connect to the lookup signals by member pointer.
    SockAddr pending(SocketType::UDP, QStringLiteral("localhost"), 7337);
    QEventLoop loop;
    bool completed = false;
    QObject::connect(&pending, &SockAddr::lookupCompleted, &loop, [&] {
        completed = true;
        loop.quit();
    });
    QObject::connect(&pending, &SockAddr::lookupFailed, &loop, &QEventLoop::quit);
    QTimer::singleShot(5000, &loop, &QEventLoop::quit);
    loop.exec();
    check(completed && pending.getAddress() == QHostAddress::LocalHost,
          "SockAddr(SocketType, hostname, port) looks up in the background, connect(&SockAddr::lookupCompleted)");
    const SockAddr copy(pending);
    const QVariant variant = QVariant::fromValue(copy);
    check(variant.value<SockAddr>() == pending, "SockAddr is copyable, Q_DECLARE_METATYPE(SockAddr)");
}

// ---- Item 4: NetworkPeer ----
void networkPeer() {
    static_assert(ICE_SERVER_DEFAULT_PORT == 7337, "ICE_SERVER_DEFAULT_PORT");
    static_assert(ICE_HEARBEAT_INTERVAL_MSECS == 1000, "ICE_HEARBEAT_INTERVAL_MSECS");
    static_assert(UDP_PUNCH_PING_INTERVAL_MS == 250, "UDP_PUNCH_PING_INTERVAL_MS");
    static_assert(MAX_ICE_CONNECTION_ATTEMPTS > 0, "MAX_ICE_CONNECTION_ATTEMPTS");

    const SockAddr publicSocket(SocketType::UDP, QHostAddress(QStringLiteral("203.0.113.5")), 40102);
    const SockAddr localSocket(SocketType::UDP, QHostAddress(QStringLiteral("192.168.1.20")), 40102);
    SharedNetworkPeer peer = QSharedPointer<NetworkPeer>::create(QUuid::createUuid(), publicSocket, localSocket);
    int activations = 0;
    QObject::connect(peer.data(), &NetworkPeer::socketActivated, [&](const SockAddr &) { ++activations; });
    int timeouts = 0;
    QObject::connect(peer.data(), &NetworkPeer::pingTimerTimeout, [&] { ++timeouts; });
    peer->activateMatchingOrNewSymmetricSocket(publicSocket);
    check(activations == 1 && peer->getActiveSocket() && *peer->getActiveSocket() == publicSocket, "socketActivated");
    peer->startPingTimer();
    peer->stopPingTimer();
    peer->setLastHeardMicrostamp(42);
    check(peer->getLastHeardMicrostamp() == 42, "get/setLastHeardMicrostamp");

    QByteArray bytes;
    {
        QDataStream out(&bytes, QIODevice::WriteOnly);
        out << *peer;
    }
    NetworkPeer copy;
    QDataStream in(bytes);
    in >> copy;
    check(copy.getUUID() == peer->getUUID() && copy.getPublicSocket() == publicSocket && bytes == peer->toByteArray(),
          "QDataStream << and >> NetworkPeer");
    check(!peer->isNull(), "isNull");
    peer->reset();
    check(peer->isNull() && !peer->getActiveSocket(), "reset");
}

// ---- Items 5 and 6: NLPacket, ReceivedMessage, PacketReceiver ----
void packets() {
    std::unique_ptr<NLPacket> packet = NLPacket::create(PacketType::ICEPing, -1, false, false, 0);
    const QUuid id = QUuid::createUuid();
    packet->write(id.toRfc4122());
    packet->writePrimitive(PingType::Local);
    check(packet->getType() == PacketType::ICEPing && packet->getVersion() == versionForPacketType(PacketType::ICEPing)
              && packet->getPayloadSize() == 17 && packet->getPayload() != nullptr,
          "NLPacket::create, write, writePrimitive, getPayloadSize");
    packet->reset();
    packet->seek(16);
    PingType_t type = 0;
    packet->readPrimitive(&type);
    check(type == PingType::Local, "NLPacket reset, seek, readPrimitive");

    PacketReceiver receiver;
    UpstreamStyleIceServer server(receiver);
    const SockAddr domainSocket(SocketType::UDP, QHostAddress(QStringLiteral("198.51.100.7")), 40102);
    const QUuid domainID = QUuid::createUuid();
    auto heartbeat = NLPacket::create(PacketType::ICEServerHeartbeat);
    {
        QDataStream stream(heartbeat.get());
        stream << domainID << domainSocket << domainSocket << QByteArray("signature");
    }
    receiver.handleDatagram(heartbeat->toDatagram(), domainSocket);
    auto query = NLPacket::create(PacketType::ICEServerQuery);
    {
        QDataStream stream(query.get());
        stream << QUuid::createUuid() << domainSocket << domainSocket << domainID;
    }
    const SockAddr client(SocketType::UDP, QHostAddress(QStringLiteral("203.0.113.9")), 5000);
    receiver.handleDatagram(query->toDatagram(), client);
    check(server.activePeers.contains(domainID) && server.lastPeerInformation
              && server.lastPeerInformation->getPayloadSize() == server.activePeers[domainID]->toByteArray().size(),
          "makeUnsourcedListenerReference + registerListener, QDataStream on a packet");

    ReceivedMessage message(*packet);
    QByteArray head = message.readWithoutCopy(16);
    PingType_t messageType = 0;
    message.readPrimitive(&messageType);
    message.seek(0);
    check(QUuid::fromRfc4122(head) == id && messageType == PingType::Local && message.getRawMessage() != nullptr
              && message.getMessage().size() == 17,
          "ReceivedMessage getMessage, getRawMessage, readPrimitive, readWithoutCopy, seek");

    receiver.unregisterListener(&server);
    check(!receiver.hasListener(PacketType::ICEServerQuery), "unregisterListener(QObject*)");
    check(receiver.registerListenerForTypes({ PacketType::ICEServerHeartbeat, PacketType::ICEServerQuery },
                                            PacketReceiver::makeUnsourcedListenerReference<UpstreamStyleIceServer>(
                                                &server, &UpstreamStyleIceServer::processQuery)),
          "registerListenerForTypes");
}

// ---- Item 7: NodeList is-a LimitedNodeList ----
void nodeList() {
    // Upstream makes it with DependencyManager::set<NodeList>(NodeType::Agent, listenPort).
    NodeList nodeList(NodeType::Agent, INVALID_PORT);
    LimitedNodeList *limited = &nodeList;
    check(limited->isBound() && limited->getLocalPort() != 0 && nodeList.getOwnerType() == char(NodeType::Agent),
          "NodeList(NodeType::Agent, INVALID_PORT) is a bound LimitedNodeList");

    // The connections upstream's NodeList constructor makes.
    DomainHandler &domainHandler = nodeList.getDomainHandler();
    QObject::connect(&domainHandler, &DomainHandler::iceSocketAndIDReceived, &nodeList,
                     &NodeList::handleICEConnectionToDomainServer);
    QObject::connect(&nodeList, &LimitedNodeList::publicSockAddrChanged, &nodeList, &NodeList::sendDomainServerCheckIn);
    QTimer checkInTimer;
    QObject::connect(&checkInTimer, &QTimer::timeout, &nodeList, &NodeList::sendDomainServerCheckIn);
    QTimer stunTimer;
    QObject::connect(&stunTimer, &QTimer::timeout, &nodeList, &LimitedNodeList::sendSTUNRequest);
    nodeList.sendDomainServerCheckIn(); // no domain: nothing sent
    check(nodeList.getSTUNSockAddr().isNull(), "getSTUNSockAddr, sendSTUNRequest and sendDomainServerCheckIn slots");

    const QUuid sessionUUID = QUuid::createUuid();
    QUuid announced;
    QObject::connect(&nodeList, &LimitedNodeList::uuidChanged,
                     [&](const QUuid &ownerUUID, const QUuid &) { announced = ownerUUID; });
    nodeList.setSessionUUID(sessionUUID);
    check(nodeList.getSessionUUID() == sessionUUID && announced == sessionUUID, "get/setSessionUUID, uuidChanged");
    nodeList.flagTimeForConnectionStep(LimitedNodeList::ConnectionStep::SendDSCheckIn);
    check(nodeList.getLastConnectionTimes().contains(LimitedNodeList::SendDSCheckIn), "flagTimeForConnectionStep");

    // Packets as upstream sends them, to a socket of our own on loopback.
    QUdpSocket sink;
    if (!sink.bind(QHostAddress(QHostAddress::LocalHost), 0)) {
        check(false, "bind a loopback sink");
        return;
    }
    const SockAddr sinkSockAddr(SocketType::UDP, QHostAddress::LocalHost, sink.localPort());
    const QUuid iceID = QUuid::createUuid();
    std::unique_ptr<NLPacket> ping = LimitedNodeList::constructICEPingPacket(PingType::Local, iceID);
    ReceivedMessage pingMessage(*ping);
    const qint64 pingBytes = nodeList.sendUnreliablePacket(*ping, sinkSockAddr);
    HMACAuth *noAuth = nullptr;
    const qint64 movedBytes = nodeList.sendPacket(std::move(ping), sinkSockAddr, noAuth);
    check(pingBytes > 17 && movedBytes == pingBytes,
          "constructICEPingPacket, sendUnreliablePacket, sendPacket(unique_ptr)");
    std::unique_ptr<NLPacket> reply = LimitedNodeList::constructICEPingReplyPacket(pingMessage, sessionUUID);
    check(reply && reply->getType() == PacketType::ICEPingReply && reply->getPayloadSize() == 17
              && nodeList.sendPacket(std::move(reply), sinkSockAddr) > 0,
          "constructICEPingReplyPacket(ReceivedMessage&, QUuid)");
    nodeList.sendPeerQueryToIceServer(sinkSockAddr, iceID, sessionUUID);
    check(nodeList.getLastConnectionTimes().contains(LimitedNodeList::SendICEServerQuery), "sendPeerQueryToIceServer");
}

// ---- Item 8: DomainHandler ----
void domainHandler() {
    DomainHandler handler;
    UpstreamStyleAddressManager addressManager;
    // Unambiguous: the member pointer names one slot.
    QObject::connect(&addressManager, &UpstreamStyleAddressManager::possibleDomainChangeRequiredViaICEForID, &handler,
                     &DomainHandler::setIceServerHostnameAndID);
    int discoveries = 0;
    QObject::connect(&handler, &DomainHandler::completedSocketDiscovery, [&] { ++discoveries; });
    const QUuid domainID = QUuid::createUuid();
    Q_EMIT addressManager.possibleDomainChangeRequiredViaICEForID(QStringLiteral("127.0.0.1"), domainID);
    check(handler.requiresICE() && handler.getPendingDomainID() == domainID
              && handler.getICEServerSockAddr()
                     == SockAddr(SocketType::UDP, QHostAddress::LocalHost, ICE_SERVER_DEFAULT_PORT),
          "setIceServerHostnameAndID as a slot, getICEServerSockAddr");
    check(!handler.isSocketKnown() && handler.getIP().isNull(), "isSocketKnown, getIP before discovery");

    const SockAddr local(SocketType::UDP, QHostAddress(QStringLiteral("192.168.1.20")), 40102);
    const SockAddr publicSocket(SocketType::UDP, QHostAddress(QStringLiteral("203.0.113.5")), 40103);
    handler.getICEPeer().setLocalSocket(local);
    handler.getICEPeer().setPublicSocket(publicSocket);
    handler.activateICELocalSocket();
    check(discoveries == 1 && handler.isSocketKnown() && handler.getIP() == local.getAddress()
              && handler.getSockAddr() == local,
          "activateICELocalSocket, completedSocketDiscovery()");
    handler.softReset(QStringLiteral("compat check"));
    check(!handler.isSocketKnown() && handler.requiresICE(), "softReset(QString)");
    handler.getICEPeer().setPublicSocket(publicSocket);
    handler.activateICEPublicSocket();
    check(discoveries == 2 && handler.getSockAddr() == publicSocket, "activateICEPublicSocket");
}

// ---- Item 9: DomainGatekeeper ----
void domainGatekeeper() {
    LimitedNodeList domainNodes(quint16(0));
    const QUuid domainID = QUuid::createUuid();
    DomainGatekeeper gatekeeper(&domainNodes, domainID); // what a host domain server writes
    // Upstream's domain server registers these slots unsourced; the sourced overloads (registered
    // in compat_e2e) leave that unambiguous. The introduction below arrives through this one.
    PacketReceiver &receiver = domainNodes.getPacketReceiver();
    receiver.unregisterListener(&gatekeeper);
    const bool registered = receiver.registerListener(
        PacketType::ICEServerPeerInformation, PacketReceiver::makeUnsourcedListenerReference<DomainGatekeeper>(
                                                  &gatekeeper, &DomainGatekeeper::processICEPeerInformationPacket));
    const bool pingsRegistered = receiver.registerListener(
        PacketType::ICEPing, PacketReceiver::makeUnsourcedListenerReference<DomainGatekeeper>(
                                 &gatekeeper, &DomainGatekeeper::processICEPingPacket));
    const bool repliesRegistered = receiver.registerListener(
        PacketType::ICEPingReply, PacketReceiver::makeUnsourcedListenerReference<DomainGatekeeper>(
                                      &gatekeeper, &DomainGatekeeper::processICEPingReplyPacket));
    check(registered && pingsRegistered && repliesRegistered,
          "makeUnsourcedListenerReference<DomainGatekeeper> for the three processICE... slots");

    // The ice-server introduces a client (on loopback ports nobody answers).
    QUdpSocket sink;
    if (!sink.bind(QHostAddress(QHostAddress::LocalHost), 0)) {
        check(false, "bind a loopback sink");
        return;
    }
    const SockAddr clientSocket(SocketType::UDP, QHostAddress::LocalHost, sink.localPort());
    SharedNetworkPeer peer = QSharedPointer<NetworkPeer>::create(QUuid::createUuid(), clientSocket, clientSocket);
    auto introduction = NLPacket::create(PacketType::ICEServerPeerInformation);
    introduction->write(peer->toByteArray());
    const SockAddr iceServer(SocketType::UDP, QHostAddress::LocalHost, 7);
    receiver.handleDatagram(introduction->toDatagram(), iceServer);
    check(gatekeeper.hasIcePeer(peer->getUUID()), "DomainGatekeeper(LimitedNodeList*, QUuid) takes introductions");

    const quint64 before = gatekeeper.counters().pingsSent;
    gatekeeper.pingPunchForConnectingPeer(peer);
    const quint64 afterDirect = gatekeeper.counters().pingsSent;
    QObject::connect(peer.data(), &NetworkPeer::pingTimerTimeout, &gatekeeper,
                     &DomainGatekeeper::handlePeerPingTimeout);
    Q_EMIT peer->pingTimerTimeout();
    const quint64 afterTimeout = gatekeeper.counters().pingsSent;
    check(afterDirect > before && afterTimeout > afterDirect,
          "pingPunchForConnectingPeer(SharedNetworkPeer), handlePeerPingTimeout via sender()");
    gatekeeper.cleanupICEPeerForNode(peer->getUUID());
    gatekeeper.pingPunchForConnectingPeer(peer);
    check(!gatekeeper.hasIcePeer(peer->getUUID()) && gatekeeper.counters().pingsSent == afterTimeout,
          "cleanupICEPeerForNode");
}
} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    check(includeEverythingLinked() == 1, "every header included");
    packetHeaders();
    sockAddr();
    networkPeer();
    packets();
    nodeList();
    domainHandler();
    domainGatekeeper();
    std::printf("compat_api: %d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
