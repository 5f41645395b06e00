// End to end on loopback, in one process, built against the installed package: our IceServer
// (Icebreaker::iceserver) with the domain's key in its key directory; a domain server
// (Icebreaker::domain) whose DomainGatekeeper is registered with upstream's sourced listener
// references (makeSourcedListenerReference);
// and a client NodeList whose handlers are registered the way upstream's NodeList constructor
// registers them. Exit code 0 once the client discovered the domain's socket and the gatekeeper
// saw the client connect; 1 on timeout.
#include <DomainGatekeeper.h>
#include <DomainHandler.h>
#include <DomainKeyStore.h>
#include <DomainServer.h>
#include <IceServer.h>
#include <KeyDirectory.h>
#include <LimitedNodeList.h>
#include <NodeList.h>
#include <PacketReceiver.h>
#include <QUdpSocketTransport.h>
#include <RsaPrivateKey.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>

#include <cstdio>

namespace {
int fail(const char *why) {
    std::printf("compat_e2e: FAIL %s\n", why);
    return 1;
}
} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QTemporaryDir dir;
    const QUuid domainID = QUuid::createUuid();
    const RsaPrivateKey key = RsaPrivateKey::generate(2048);
    const QString keypairPath = dir.filePath(QStringLiteral("domain.key"));
    QFile publicKey(dir.filePath(QStringLiteral("keys/%1.pem").arg(domainID.toString(QUuid::WithoutBraces))));
    if (!dir.isValid() || key.isNull() || !key.saveToFile(keypairPath)
        || !QDir(dir.path()).mkdir(QStringLiteral("keys")) || !publicKey.open(QIODevice::WriteOnly)
        || publicKey.write(key.publicKey().toPem()) < 0) {
        return fail("cannot prepare the domain key");
    }
    publicKey.close();

    // ---- our ice-server ----
    QUdpSocketTransport iceTransport;
    if (!iceTransport.bind(QHostAddress::LocalHost, 0)) {
        return fail("cannot bind the ice-server");
    }
    KeyDirectory keys(dir.filePath(QStringLiteral("keys")));
    if (!keys.start()) {
        return fail("cannot read the key directory");
    }
    DomainKeyStore keyStore(&keys, nullptr, KeyFetchSettings());
    IceServer iceServer(&iceTransport, &keyStore);
    iceServer.start();
    const quint16 icePort = iceTransport.localPort();

    // ---- the domain: our DomainServer's ICE part, its gatekeeper registered upstream's way ----
    LimitedNodeList domainNodes(quint16(0));
    domainNodes.setLocalSocketProbeTarget(QHostAddress::LocalHost);
    DomainServer::Settings settings;
    settings.domainID = domainID;
    settings.keypairPath = keypairPath;
    settings.iceServers = { HostAndPort { QStringLiteral("127.0.0.1"), icePort } };
    DomainServer domainServer(settings, &domainNodes);
    // Our DomainServer heartbeats; the gatekeeper is the host's own, made as a host makes it.
    PacketReceiver &domainReceiver = domainNodes.getPacketReceiver();
    domainReceiver.unregisterListener(domainServer.gatekeeper());
    DomainGatekeeper hostGatekeeper(&domainNodes, domainID);
    DomainGatekeeper *gatekeeper = &hostGatekeeper;
    domainReceiver.unregisterListener(gatekeeper);
    // As a host whose packet handlers all take their source node registers them.
    domainReceiver.registerListener(PacketType::ICEServerPeerInformation,
                                    PacketReceiver::makeSourcedListenerReference<DomainGatekeeper>(
                                        gatekeeper, &DomainGatekeeper::processICEPeerInformationPacket));
    domainReceiver.registerListener(PacketType::ICEPing, PacketReceiver::makeSourcedListenerReference<DomainGatekeeper>(
                                                             gatekeeper, &DomainGatekeeper::processICEPingPacket));
    domainReceiver.registerListener(PacketType::ICEPingReply,
                                    PacketReceiver::makeSourcedListenerReference<DomainGatekeeper>(
                                        gatekeeper, &DomainGatekeeper::processICEPingReplyPacket));
    if (!domainServer.start()) {
        return fail("the domain server did not start");
    }
    bool domainSawClient = false;
    QObject::connect(gatekeeper, &DomainGatekeeper::peerConnected, [&] { domainSawClient = true; });

    // ---- the client: a NodeList (is-a LimitedNodeList), wired as upstream's constructor wires it ----
    NodeList nodeList(NodeType::Agent, INVALID_PORT);
    nodeList.setLocalSocketProbeTarget(QHostAddress::LocalHost);
    nodeList.setStunServer(QStringLiteral("127.0.0.1"), icePort); // our ice-server answers STUN
    DomainHandler &domainHandler = nodeList.getDomainHandler();
    QObject::connect(&domainHandler, &DomainHandler::iceSocketAndIDReceived, &nodeList,
                     &NodeList::handleICEConnectionToDomainServer);
    QObject::connect(&nodeList, &LimitedNodeList::publicSockAddrChanged, &nodeList, &NodeList::sendDomainServerCheckIn);
    QTimer checkInTimer;
    QObject::connect(&checkInTimer, &QTimer::timeout, &nodeList, &NodeList::sendDomainServerCheckIn);
    checkInTimer.start(NodeList::DOMAIN_SERVER_CHECK_IN_MSECS);
    PacketReceiver &packetReceiver = nodeList.getPacketReceiver();
    packetReceiver.unregisterListener(&nodeList);
    packetReceiver.unregisterListener(&domainHandler);
    packetReceiver.registerListener(PacketType::ICEServerPeerInformation,
                                    PacketReceiver::makeUnsourcedListenerReference<DomainHandler>(
                                        &domainHandler, &DomainHandler::processICEResponsePacket));
    packetReceiver.registerListener(PacketType::ICEPing, PacketReceiver::makeUnsourcedListenerReference<NodeList>(
                                                             &nodeList, &NodeList::processICEPingPacket));
    packetReceiver.registerListener(PacketType::ICEPingReply,
                                    PacketReceiver::makeUnsourcedListenerReference<DomainHandler>(
                                        &domainHandler, &DomainHandler::processICEPingReplyPacket));

    bool clientConnected = false;
    QObject::connect(&domainHandler, &DomainHandler::completedSocketDiscovery, [&] { clientConnected = true; });
    QTimer check;
    QObject::connect(&check, &QTimer::timeout, [&] {
        if (clientConnected && domainSawClient) {
            app.exit(0);
        }
    });
    check.start(20);
    QTimer::singleShot(20000, &app, [&] { app.exit(1); });

    // Registration first (the domain heartbeats every second), then the client asks for the domain.
    QObject::connect(&iceServer, &IceServer::peerRegistered, [&] {
        nodeList.startSTUNPublicSocketUpdate();
        domainHandler.setIceServerHostPortAndID(QStringLiteral("127.0.0.1"), icePort, domainID);
    });
    const int rc = app.exec();
    std::printf("compat_e2e: client %s, domain %s\n", clientConnected ? "connected" : "NOT connected",
                domainSawClient ? "saw the client" : "did NOT see the client");
    return rc;
}
