// An ice-server-like class in upstream's style: it reads heartbeats and queries through a
// QDataStream on the packet, keeps SharedNetworkPeers, and answers with NLPacket::create().
#pragma once

#include <NLPacket.h>
#include <NetworkPeer.h>
#include <PacketReceiver.h>
#include <udt/PacketHeaders.h>

#include <QtCore/QHash>
#include <QtCore/QObject>

class UpstreamStyleIceServer : public QObject {
    Q_OBJECT
public:
    explicit UpstreamStyleIceServer(PacketReceiver &receiver);

    // What upstream's sendPeerInformationPacket writes, kept here instead of a socket.
    std::unique_ptr<NLPacket> lastPeerInformation;
    QHash<QUuid, SharedNetworkPeer> activePeers;

public Q_SLOTS:
    void processHeartbeat(QSharedPointer<ReceivedMessage> message);
    void processQuery(QSharedPointer<ReceivedMessage> message);

private:
    void sendPeerInformationPacket(const NetworkPeer &peer, const SockAddr *destinationSockAddr);
};
