// What the cluster stores in Redis about one domain, and the message nodes send each other, as
// plain values with their byte forms. The codec knows nothing about Redis; ClusterRegistry does.
//
// A registration is a Redis hash at <prefix>domain:<uuid> with three fields:
//   o  owning node ID (UTF-8)            read by the compare-and-set script, so kept out of d
//   e  ownership epoch (decimal)         +1 each time another node takes the domain over
//   d  data, versioned binary:
//        01                              format
//        <IpEndpoint> public socket        our wire form (protocol doc 2.3): 7 bytes for IPv4
//        <IpEndpoint> local socket
//        nn <nn bytes>                   key fingerprint (opaque to the cluster, at most 64 bytes)
//        <8 bytes BE> published at       the writer's wall clock, ms since the Unix epoch
// A forwarded message (PUBLISH on <prefix>node:<id>): 01 | nn | <nn bytes sender node> | payload.
#pragma once

#include <IpEndpoint.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>
#include <QtCore/QUuid>

struct ClusterRecord {
    static constexpr quint8 kFormat = 1;
    static constexpr int kMaxFingerprint = 64;

    QUuid domainId;
    IpEndpoint publicSocket;
    IpEndpoint localSocket;
    QByteArray keyFingerprint;
    QString ownerNode;
    quint32 epoch = 0;
    qint64 publishedAtMs = 0;

    // The d field. The fingerprint is cut to kMaxFingerprint bytes.
    QByteArray encodeData() const;
    // Fills the sockets, fingerprint and time from a d field; false (with why) on anything else
    // than a complete format-1 field with nothing after it.
    bool decodeData(const QByteArray &data, QString *why = nullptr);
};

struct ClusterMessage {
    static constexpr quint8 kFormat = 1;
    static constexpr int kMaxNodeId = 255;
    static constexpr int kMaxPayload = 2048; // a query datagram or a peer record fits many times

    QString fromNode;
    QByteArray payload;

    QByteArray encode() const;
    bool decode(const QByteArray &bytes, QString *why = nullptr);
};
