// PacketReceiver: dispatch by type, what it drops and counts, listener lifetime and threads.
#include <FakeTransport.h>
#include <IcePackets.h>
#include <PacketReceiver.h>
#include <PacketSender.h>
#include <StunMessage.h>

#include <QtCore/QRegularExpression>
#include <QtCore/QSemaphore>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

namespace {

class Listener : public QObject {
    Q_OBJECT
public:
    QList<ReceivedMessagePointer> messages;
    QList<QThread *> threads;

    void handle(ReceivedMessagePointer message) {
        messages.append(message);
        threads.append(QThread::currentThread());
        Q_EMIT handled();
    }

Q_SIGNALS:
    void handled();
};

// Counts its calls outside itself, so a call made after it was destroyed still shows.
class CountingListener : public QObject {
    Q_OBJECT
public:
    static inline QAtomicInt calls;
    void handle(ReceivedMessagePointer) { calls.ref(); }
};

class DirectListener : public QObject {
    Q_OBJECT
public:
    QList<PacketType> types;
    QList<PacketVersion> versions;
    QList<SockAddr> senders;
    QList<QByteArray> payloads;
    QList<QThread *> threads;

    void handle(const PacketReceiver::PacketView &packet) {
        types.append(packet.type);
        versions.append(packet.version);
        senders.append(packet.sender);
        payloads.append(QByteArray(packet.payload.constData(), packet.payload.size())); // a copy: the view dies
        threads.append(QThread::currentThread());
    }
};

class SourcedListener : public QObject {
    Q_OBJECT
public:
    QList<PacketType> types;
    int nullNodes = 0;

    void handle(QSharedPointer<ReceivedMessage> message, SharedNodePointer node) {
        types.append(message->getType());
        nullNodes += node.isNull() ? 1 : 0;
    }
};

const SockAddr kSender(QHostAddress(QStringLiteral("203.0.113.5")), 40102);

QByteArray pingDatagram(PacketVersion version = versionForPacketType(PacketType::ICEPing)) {
    IcePing ping;
    ping.senderID = QUuid(QStringLiteral("{11223344-5566-7788-99aa-bbccddeeff00}"));
    ping.pingType = PingType::Public;
    NLDatagram packet = NLDatagram::create(PacketType::ICEPing, ping.toPayload());
    packet.version = version;
    return packet.toDatagram();
}

} // namespace

class tst_PacketReceiver : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void dispatchesToTheRegisteredListener() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        Listener listener;
        QVERIFY(receiver.registerListener(PacketType::ICEPing, &listener, &Listener::handle));
        QVERIFY(receiver.hasListener(PacketType::ICEPing));
        QVERIFY(!receiver.hasListener(PacketType::ICEPingReply));

        transport.inject(pingDatagram(), kSender);

        QCOMPARE(listener.messages.size(), 1);
        const ReceivedMessagePointer message = listener.messages.first();
        QCOMPARE(message->getType(), PacketType::ICEPing);
        QCOMPARE(message->getSenderEndpoint(), kSender.endpoint());
        QCOMPARE(message->getSenderSockAddr(), kSender);
        // Upstream's SockAddr form is made once, on first use, and stays the same object.
        QCOMPARE(&message->getSenderSockAddr(), &message->getSenderSockAddr());
        QCOMPARE(message->getSize(), IcePing::PayloadSize);
        const auto ping = IcePing::fromPayload(message->getMessage());
        QVERIFY(ping.ok());
        QCOMPARE(ping.value.pingType, PingType::Public);
        QCOMPARE(receiver.counters().dispatched, quint64(1));
        QCOMPARE(receiver.counters().receivedByType[quint8(PacketType::ICEPing)], quint64(1));
    }

    void refusesTypesOutsideTheTable() {
        PacketReceiver receiver;
        Listener listener;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("refusing listener")));
        QVERIFY(!receiver.registerListener(PacketType(200), &listener, &Listener::handle));
    }

    void dropsAndCountsWrongVersions() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        Listener listener;
        receiver.registerListener(PacketType::ICEPing, &listener, &Listener::handle);
        QSignalSpy dropped(&receiver, &PacketReceiver::packetDropped);

        transport.inject(pingDatagram(17), kSender);

        QVERIFY(listener.messages.isEmpty());
        QCOMPARE(dropped.size(), 1);
        QCOMPARE(dropped.first().at(0).value<PacketReceiver::DropReason>(),
                 PacketReceiver::DropReason::VersionMismatch);
        QCOMPARE(dropped.first().at(1).value<quint8>(), quint8(PacketType::ICEPing));
        QCOMPARE(receiver.counters().dropped[size_t(PacketReceiver::DropReason::VersionMismatch)], quint64(1));
        QCOMPARE(receiver.counters().dispatched, quint64(0));
    }

    void countsUnknownTypesAndLogsOnce() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        const QByteArray unknown = QByteArray::fromHex("01000000c811deadbeef");
        static int unknownTypeLines = 0;
        unknownTypeLines = 0;
        const QtMessageHandler previous = qInstallMessageHandler(
            [](QtMsgType, const QMessageLogContext &, const QString &text) {
                if (text.contains(QStringLiteral("unknown type 200"))) {
                    ++unknownTypeLines;
                }
            });
        for (int i = 0; i < 5; ++i) {
            transport.inject(unknown, kSender);
        }
        qInstallMessageHandler(previous);
        QCOMPARE(unknownTypeLines, 1);
        QCOMPARE(receiver.counters().dropped[size_t(PacketReceiver::DropReason::UnknownType)], quint64(5));
    }

    void dropsMalformedAndUnlistenedPackets() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        transport.inject(QByteArray::fromHex("0100"), kSender);     // shorter than a UDT header
        transport.inject(QByteArray::fromHex("01000000"), kSender); // no NL header
        transport.inject(pingDatagram(), kSender);                  // valid, nobody listening
        const auto &dropped = receiver.counters().dropped;
        QCOMPARE(dropped[size_t(PacketReceiver::DropReason::Malformed)], quint64(2));
        QCOMPARE(dropped[size_t(PacketReceiver::DropReason::NoListener)], quint64(1));
        QCOMPARE(receiver.counters().datagrams, quint64(3));
    }

    void routesStunToItsOwnSignal() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        QSignalSpy stun(&receiver, &PacketReceiver::stunDatagramReceived);
        const QByteArray request = StunMessage::bindingRequest().encode();
        transport.inject(request, kSender);
        QCOMPARE(stun.size(), 1);
        QCOMPARE(stun.first().at(0).toByteArray(), request);
        QCOMPARE(stun.first().at(1).value<IpEndpoint>(), kSender);
        QCOMPARE(receiver.counters().stun, quint64(1));
    }

    void destroyedListenerDropsOut() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        auto *listener = new Listener;
        receiver.registerListener(PacketType::ICEPing, listener, &Listener::handle);
        delete listener;
        QVERIFY(!receiver.hasListener(PacketType::ICEPing));
        transport.inject(pingDatagram(), kSender); // must not touch the dead listener
        QCOMPARE(receiver.counters().dropped[size_t(PacketReceiver::DropReason::NoListener)], quint64(1));
    }

    void unregisterRemovesEveryRegistration() {
        PacketReceiver receiver;
        Listener listener;
        Listener other;
        receiver.registerListener(PacketType::ICEPing, &listener, &Listener::handle);
        receiver.registerListener(PacketType::ICEPingReply, &listener, &Listener::handle);
        receiver.registerListener(PacketType::ICEServerQuery, &other, &Listener::handle);
        QVERIFY(!receiver.unregisterListener(PacketType::ICEServerQuery, &listener));
        QVERIFY(receiver.unregisterListener(&listener));
        QVERIFY(!receiver.hasListener(PacketType::ICEPing));
        QVERIFY(!receiver.hasListener(PacketType::ICEPingReply));
        QVERIFY(receiver.hasListener(PacketType::ICEServerQuery));
        QVERIFY(!receiver.unregisterListener(&listener));
        QVERIFY(receiver.unregisterListener(PacketType::ICEServerQuery, &other));
    }

    void deliversOnTheListenersThread() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        QThread worker;
        worker.start();
        Listener listener;
        listener.moveToThread(&worker);
        receiver.registerListener(PacketType::ICEPing, &listener, &Listener::handle);
        QSignalSpy handled(&listener, &Listener::handled);

        transport.inject(pingDatagram(), kSender);

        QTRY_COMPARE_WITH_TIMEOUT(handled.size(), 1, 5000);
        worker.quit();
        QVERIFY(worker.wait(5000));
        QCOMPARE(listener.threads.size(), 1);
        QCOMPARE(listener.threads.first(), &worker);
        QVERIFY(listener.threads.first() != QThread::currentThread());
    }

    void queuedDeliveryToADestroyedListenerIsDropped() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        QThread worker;
        worker.start();
        auto *listener = new CountingListener;
        listener->moveToThread(&worker);
        CountingListener::calls.storeRelaxed(0);
        receiver.registerListener(PacketType::ICEPing, listener, &CountingListener::handle);

        // Hold the worker inside an event, queue the delivery behind it, then (still on the worker,
        // the listener's own thread) delete the listener before releasing the worker's loop.
        QSemaphore holding;
        QSemaphore release;
        QObject blocker;
        blocker.moveToThread(&worker);
        QMetaObject::invokeMethod(
            &blocker,
            [&holding, &release, listener] {
                holding.release();
                release.acquire();
                delete listener;
            },
            Qt::QueuedConnection);
        QVERIFY(holding.tryAcquire(1, 5000));
        transport.inject(pingDatagram(), kSender);
        QCOMPARE(receiver.counters().dispatched, quint64(1)); // queued, not yet delivered
        release.release();

        // A later event on the worker runs only after everything queued before it.
        QSemaphore drained;
        QMetaObject::invokeMethod(
            &blocker, [&drained] { drained.release(); }, Qt::QueuedConnection);
        QVERIFY(drained.tryAcquire(1, 5000));
        worker.quit();
        QVERIFY(worker.wait(5000));
        QCOMPARE(CountingListener::calls.loadRelaxed(), 0);
        QVERIFY(!receiver.hasListener(PacketType::ICEPing));
    }

    void queuedDeliveriesArriveInOrderOnTheListenersThread() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        QThread worker;
        worker.start();
        Listener listener;
        listener.moveToThread(&worker);
        receiver.registerListener(PacketType::ICEPing, &listener, &Listener::handle);
        QSignalSpy handled(&listener, &Listener::handled);

        // With the worker held, three messages queue; they arrive in order, on the worker.
        QSemaphore holding;
        QSemaphore release;
        QObject blocker;
        blocker.moveToThread(&worker);
        QMetaObject::invokeMethod(
            &blocker,
            [&holding, &release] {
                holding.release();
                release.acquire();
            },
            Qt::QueuedConnection);
        QVERIFY(holding.tryAcquire(1, 5000));
        for (int i = 0; i < 3; ++i) {
            transport.inject(pingDatagram(), kSender);
        }
        release.release();
        QTRY_COMPARE_WITH_TIMEOUT(handled.size(), 3, 5000);
        worker.quit();
        QVERIFY(worker.wait(5000));
        QCOMPARE(listener.threads, QList<QThread *>({ &worker, &worker, &worker }));
    }

    void directListenerGetsAViewOnItsThread_data() {
        QTest::addColumn<bool>("plainForm");
        QTest::newRow("plain, read in place") << true;
        QTest::newRow("obfuscated, decoded first") << false;
    }

    void directListenerGetsAViewOnItsThread() {
        QFETCH(bool, plainForm);
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        DirectListener listener;
        QVERIFY(receiver.registerDirectListener(PacketType::ICEPing, &listener, &DirectListener::handle));
        QVERIFY(receiver.hasListener(PacketType::ICEPing));

        IcePing ping;
        ping.senderID = QUuid::createUuid();
        ping.pingType = PingType::Local;
        NLDatagram packet = NLDatagram::create(PacketType::ICEPing, ping.toPayload());
        if (!plainForm) {
            packet.udt.obfuscationLevel = 2;
        }
        transport.inject(packet.toDatagram(), kSender);

        QCOMPARE(listener.types, QList<PacketType>({ PacketType::ICEPing }));
        QCOMPARE(listener.versions, QList<PacketVersion>({ versionForPacketType(PacketType::ICEPing) }));
        QCOMPARE(listener.senders, QList<SockAddr>({ kSender }));
        QCOMPARE(listener.payloads, QList<QByteArray>({ ping.toPayload() }));
        QCOMPARE(listener.threads, QList<QThread *>({ QThread::currentThread() }));
        QCOMPARE(receiver.counters().dispatched, quint64(1));
        QCOMPARE(receiver.counters().receivedByType[size_t(PacketType::ICEPing)], quint64(1));
    }

    void directListenerStillGetsVersionChecks() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        DirectListener listener;
        receiver.registerDirectListener(PacketType::ICEPing, &listener, &DirectListener::handle);
        transport.inject(pingDatagram(versionForPacketType(PacketType::ICEPing) + 1), kSender);
        transport.inject(pingDatagram().left(5), kSender);
        QVERIFY(listener.types.isEmpty());
        QCOMPARE(receiver.counters().dropped[size_t(PacketReceiver::DropReason::VersionMismatch)], quint64(1));
        QCOMPARE(receiver.counters().dropped[size_t(PacketReceiver::DropReason::Malformed)], quint64(1));
    }

    void directListenerOnAnotherThreadIsRefused() {
        PacketReceiver receiver;
        QThread worker;
        DirectListener listener;
        listener.moveToThread(&worker);
        QVERIFY(!receiver.registerDirectListener(PacketType::ICEPing, &listener, &DirectListener::handle));
        QVERIFY(!receiver.hasListener(PacketType::ICEPing));
    }

    void destroyedDirectListenerDropsOut() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        auto *listener = new DirectListener;
        receiver.registerDirectListener(PacketType::ICEPing, listener, &DirectListener::handle);
        delete listener;
        transport.inject(pingDatagram(), kSender);
        QCOMPARE(receiver.counters().dropped[size_t(PacketReceiver::DropReason::NoListener)], quint64(1));
        QCOMPARE(receiver.counters().dispatched, quint64(0));
    }

    void upstreamListenerReferences() {
        FakeTransport transport;
        PacketReceiver receiver;
        receiver.attach(&transport);
        Listener unsourced;
        SourcedListener sourced;
        QVERIFY(receiver.registerListener(PacketType::ICEPing, PacketReceiver::makeUnsourcedListenerReference<Listener>(
                                                                   &unsourced, &Listener::handle)));
        QVERIFY(receiver.registerListenerForTypes(
            { PacketType::ICEPingReply, PacketType::ICEServerPeerInformation },
            PacketReceiver::makeSourcedListenerReference<SourcedListener>(&sourced, &SourcedListener::handle)));
        QVERIFY(!receiver.registerListenerForTypes(
            { PacketType::ICEPingReply, PacketType(200) },
            PacketReceiver::makeUnsourcedListenerReference<Listener>(&unsourced, &Listener::handle)));
        QVERIFY(!receiver.registerListener(PacketType::ICEPing, PacketReceiver::ListenerReferencePointer()));

        transport.inject(pingDatagram(), kSender);
        NLDatagram reply = NLDatagram::create(PacketType::ICEPingReply,
                                              IcePing { QUuid::createUuid(), PingType::Public }.toPayload());
        transport.inject(reply.toDatagram(), kSender);
        QCOMPARE(unsourced.messages.size(), 1);
        QCOMPARE(unsourced.messages.first()->getType(), PacketType::ICEPing);
        QCOMPARE(sourced.types, QList<PacketType>({ PacketType::ICEPingReply }));
        QCOMPARE(sourced.nullNodes, 1); // ICE packets carry no node

        receiver.unregisterListener(&sourced);
        QVERIFY(!receiver.hasListener(PacketType::ICEPingReply));
        QVERIFY(!receiver.hasListener(PacketType::ICEServerPeerInformation));
        QVERIFY(receiver.hasListener(PacketType::ICEPing));
    }

    void senderStampsPerDestinationSequenceNumbers() {
        FakeTransport transport;
        PacketSender sender(&transport);
        const SockAddr a(QHostAddress(QStringLiteral("198.51.100.7")), 40102);
        const SockAddr b(QHostAddress(QStringLiteral("198.51.100.8")), 40102);
        QVERIFY(sender.sendPacket(PacketType::ICEServerHeartbeatACK, {}, a));
        QVERIFY(sender.sendPacket(PacketType::ICEServerHeartbeatACK, {}, a));
        QVERIFY(sender.sendPacket(PacketType::ICEServerHeartbeatDenied, {}, b, 2));
        const auto sent = transport.sent();
        QCOMPARE(sent.size(), 3);
        QCOMPARE(sent[0].datagram, QByteArray::fromHex("010000003f11"));
        QCOMPARE(sent[1].datagram, QByteArray::fromHex("020000003f11"));
        QCOMPARE(sent[2].datagram, QByteArray::fromHex("010000003c11"));
        QCOMPARE(sent[2].ttl, 2);
        QCOMPARE(sender.sentCount(PacketType::ICEServerHeartbeatACK), quint64(2));
    }
};

QTEST_GUILESS_MAIN(tst_PacketReceiver)
#include "tst_packetreceiver.moc"
