#include "UpstreamStyleIceServer.h"

#include <QtCore/QDataStream>

UpstreamStyleIceServer::UpstreamStyleIceServer(PacketReceiver &receiver) {
    receiver.registerListener(PacketType::ICEServerHeartbeat,
                              PacketReceiver::makeUnsourcedListenerReference<UpstreamStyleIceServer>(
                                  this, &UpstreamStyleIceServer::processHeartbeat));
    receiver.registerListener(PacketType::ICEServerQuery,
                              PacketReceiver::makeUnsourcedListenerReference<UpstreamStyleIceServer>(
                                  this, &UpstreamStyleIceServer::processQuery));
}

void UpstreamStyleIceServer::processHeartbeat(QSharedPointer<ReceivedMessage> message) {
    // No signature check in this fragment: it is about the reading shapes.
    auto packet = NLPacket::create(message->getType(), message->getSize());
    packet->write(message->getMessage());
    packet->reset();
    QDataStream heartbeatStream(packet.get());
    QUuid senderUUID;
    SockAddr publicSocket, localSocket;
    heartbeatStream >> senderUUID >> publicSocket >> localSocket;

    SharedNetworkPeer matchingPeer = activePeers.value(senderUUID);
    if (!matchingPeer) {
        matchingPeer = QSharedPointer<NetworkPeer>::create(senderUUID, publicSocket, localSocket);
        activePeers.insert(senderUUID, matchingPeer);
    } else {
        matchingPeer->setPublicSocket(publicSocket);
        matchingPeer->setLocalSocket(localSocket);
    }
    matchingPeer->setLastHeardMicrostamp(1234);
    matchingPeer->activateMatchingOrNewSymmetricSocket(message->getSenderSockAddr());
}

void UpstreamStyleIceServer::processQuery(QSharedPointer<ReceivedMessage> message) {
    QUuid senderUUID;
    SockAddr publicSocket, localSocket;
    QUuid connectRequestID;
    {
        QByteArray payload = message->readAll();
        QDataStream queryStream(payload);
        queryStream >> senderUUID >> publicSocket >> localSocket >> connectRequestID;
    }
    SharedNetworkPeer matchingPeer = activePeers.value(connectRequestID);
    if (matchingPeer) {
        sendPeerInformationPacket(*matchingPeer, &message->getSenderSockAddr());
        NetworkPeer dummyPeer(senderUUID, publicSocket, localSocket);
        Q_UNUSED(dummyPeer);
    }
}

void UpstreamStyleIceServer::sendPeerInformationPacket(const NetworkPeer &peer, const SockAddr *destinationSockAddr) {
    Q_UNUSED(destinationSockAddr);
    auto peerPacket = NLPacket::create(PacketType::ICEServerPeerInformation);
    peerPacket->write(peer.toByteArray());
    lastPeerInformation = std::move(peerPacket);
}
