// Helpers shared by the domain-server component suites: a fake network (FakeTransport with a
// receiver and sender attached), datagram builders for what an ice-server or client would send,
// and decoders for what the domain sent. The sample IDs and sockets are SampleValues.h's.
#pragma once

#include <FakeClock.h>
#include <FakeTransport.h>
#include <IcePackets.h>
#include <NLDatagram.h>
#include <PacketReceiver.h>
#include <PacketSender.h>
#include <SampleValues.h>

#include <QtTest/QtTest>

struct FakeNetwork {
    FakeClock clock; // for the roles a test constructs on this network
    FakeTransport transport { samples::domainLocal() };
    PacketReceiver receiver;
    PacketSender sender { &transport };

    FakeNetwork() { receiver.attach(&transport); }

    void inject(PacketType type, const QByteArray &payload, const SockAddr &from) {
        transport.inject(NLDatagram::create(type, payload).toDatagram(), from);
    }

    // The sent datagrams of one type, decoded.
    QList<std::pair<NLDatagram, FakeTransport::Sent>> sentOfType(PacketType type) const {
        QList<std::pair<NLDatagram, FakeTransport::Sent>> out;
        for (const FakeTransport::Sent &sent : transport.sent()) {
            const Decoded<NLDatagram> packet = NLDatagram::fromDatagram(sent.datagram);
            if (packet.ok() && packet.value.type == type) {
                out.append({ packet.value, sent });
            }
        }
        return out;
    }
};

inline SockAddr sock(const char *address, quint16 port) {
    return SockAddr(QHostAddress(QString::fromLatin1(address)), port);
}
