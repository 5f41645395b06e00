#include "PacketReceiver.h"

#include <NetworkLogging.h>
#include <StunMessage.h>
#include <UdpTransport.h>

#include <QtCore/QMetaObject>
#include <QtCore/QMutex>

// Cross-thread delivery. Messages for listeners on another thread wait in that thread's queue and
// are delivered in batches by one dispatcher object living there: one posted event per batch, not
// one per message. The event targets the dispatcher, not the listener, so Qt does not discard it
// when a listener dies while its messages wait: the QPointer taken at dispatch time is what keeps
// a destroyed listener from being called, checked on the listener's thread right before the call.
struct PacketReceiver::DeliveryQueue {
    struct Pending {
        QPointer<QObject> listener;
        std::function<void(ReceivedMessagePointer)> call;
        ReceivedMessagePointer message;
    };

    // Also orders the dispatcher's destruction (on its thread) against a receiver queueing.
    QMutex mutex;
    ThreadDispatcher *dispatcher = nullptr; // null once the dispatcher is gone
    std::vector<Pending> pending;

    // False when the dispatcher is gone (its thread finished); the receiver then makes a new one.
    bool enqueue(const Pending &delivery);
};

class PacketReceiver::ThreadDispatcher : public QObject {
public:
    explicit ThreadDispatcher(std::shared_ptr<DeliveryQueue> queue) : _queue(std::move(queue)) {
        _queue->dispatcher = this;
    }
    ~ThreadDispatcher() override {
        QMutexLocker lock(&_queue->mutex);
        _queue->dispatcher = nullptr;
        _queue->pending.clear(); // never to be delivered: the thread is ending or the receiver is gone
    }

    void deliverBatch() {
        std::vector<DeliveryQueue::Pending> batch;
        {
            QMutexLocker lock(&_queue->mutex);
            batch.swap(_queue->pending);
        }
        for (DeliveryQueue::Pending &delivery : batch) {
            // Checked per message: a call may destroy a listener whose messages follow in the batch.
            QObject *listener = delivery.listener.data();
            if (!listener) {
                continue;
            }
            if (listener->thread() != QThread::currentThread()) {
                // Moved to another thread while the message waited: follow it there.
                QPointer<QObject> guard = delivery.listener;
                QMetaObject::invokeMethod(
                    listener,
                    [guard, call = std::move(delivery.call), message = std::move(delivery.message)] {
                        if (guard) {
                            call(message);
                        }
                    },
                    Qt::QueuedConnection);
                continue;
            }
            delivery.call(std::move(delivery.message));
        }
    }

private:
    std::shared_ptr<DeliveryQueue> _queue;
};

bool PacketReceiver::DeliveryQueue::enqueue(const Pending &delivery) {
    QMutexLocker lock(&mutex);
    if (!dispatcher) {
        return false;
    }
    pending.push_back(delivery);
    if (pending.size() == 1) {
        // The first message of a batch posts the event; later ones ride along until it runs.
        ThreadDispatcher *target = dispatcher;
        QMetaObject::invokeMethod(
            target, [target] { target->deliverBatch(); }, Qt::QueuedConnection);
    }
    return true;
}

PacketReceiver::PacketReceiver(QObject *parent) : QObject(parent) {
    qRegisterMetaType<ReceivedMessagePointer>();
    qRegisterMetaType<IpEndpoint>();
    qRegisterMetaType<PacketReceiver::DropReason>();
}

PacketReceiver::~PacketReceiver() {
    // A dispatcher still alive delivers what it holds, then goes (deleteLater runs on its thread).
    for (auto &entry : _queues) {
        QMutexLocker lock(&entry.second->mutex);
        if (entry.second->dispatcher) {
            entry.second->dispatcher->deleteLater();
        }
    }
}

void PacketReceiver::deliverQueued(QObject *listener, const std::function<void(ReceivedMessagePointer)> &call,
                                   ReceivedMessagePointer message) {
    QThread *thread = listener->thread();
    const DeliveryQueue::Pending delivery { QPointer<QObject>(listener), call, std::move(message) };
    std::shared_ptr<DeliveryQueue> &queue = _queues[thread];
    if (queue && queue->enqueue(delivery)) {
        return;
    }
    queue = std::make_shared<DeliveryQueue>();
    auto *dispatcher = new ThreadDispatcher(queue);
    dispatcher->moveToThread(thread);
    // Qt's idiom for per-thread objects: the deferred delete runs as the thread ends.
    connect(thread, &QThread::finished, dispatcher, &QObject::deleteLater);
    queue->enqueue(delivery);
}

void PacketReceiver::attach(UdpTransport *transport) {
    connect(transport, &UdpTransport::datagramReceived, this, &PacketReceiver::handleDatagram);
}

bool PacketReceiver::acceptsListener(PacketType type, QObject *listener) const {
    if (!isKnownPacketType(quint8(type)) || !listener) {
        qCWarning(networking) << "refusing listener for" << type << (listener ? "" : "(null listener)");
        return false;
    }
    const Listener &slot = _listeners[quint8(type)];
    if (slot.object && slot.object != listener) {
        qCWarning(networking) << "replacing the listener for" << type;
    }
    return true;
}

bool PacketReceiver::registerCallback(PacketType type, QObject *listener,
                                      std::function<void(ReceivedMessagePointer)> call) {
    if (!acceptsListener(type, listener)) {
        return false;
    }
    Listener &slot = _listeners[quint8(type)];
    slot.object = listener;
    slot.call = std::move(call);
    slot.direct = nullptr;
    return true;
}

bool PacketReceiver::registerDirect(PacketType type, QObject *listener, std::function<void(const PacketView &)> call) {
    if (listener && listener->thread() != thread()) {
        qCWarning(networking) << "refusing direct listener for" << type << ": it lives on another thread";
        return false;
    }
    if (!acceptsListener(type, listener)) {
        return false;
    }
    Listener &slot = _listeners[quint8(type)];
    slot.object = listener;
    slot.call = nullptr;
    slot.direct = std::move(call);
    return true;
}

bool PacketReceiver::registerListener(PacketType type, const ListenerReferencePointer &listener, bool deliverPending) {
    Q_UNUSED(deliverPending);
    if (!listener) {
        qCWarning(networking) << "refusing listener for" << type << "(null listener reference)";
        return false;
    }
    // The reference holds its object weakly and checks it on every call, queued or not.
    return registerCallback(type, listener->getObject(), [listener](ReceivedMessagePointer message) {
        listener->invokeDirectly(message, SharedNodePointer());
    });
}

bool PacketReceiver::registerListenerForTypes(PacketTypeList types, const ListenerReferencePointer &listener) {
    // All or nothing, as upstream: check every type before registering any.
    for (PacketType type : types) {
        if (!isKnownPacketType(quint8(type))) {
            qCWarning(networking) << "refusing listener for types including" << type;
            return false;
        }
    }
    bool ok = true;
    for (PacketType type : types) {
        ok = registerListener(type, listener) && ok;
    }
    return ok;
}

bool PacketReceiver::unregisterListener(QObject *listener) {
    bool removed = false;
    for (Listener &slot : _listeners) {
        if (slot.object && slot.object == listener) {
            slot = Listener();
            removed = true;
        }
    }
    return removed;
}

bool PacketReceiver::unregisterListener(PacketType type, QObject *listener) {
    Listener &slot = _listeners[quint8(type)];
    if (!slot.object || slot.object != listener) {
        return false;
    }
    slot = Listener();
    return true;
}

bool PacketReceiver::hasListener(PacketType type) const {
    return !_listeners[quint8(type)].object.isNull();
}

QString PacketReceiver::dropReasonName(DropReason reason) {
    switch (reason) {
    case DropReason::Malformed: return QStringLiteral("malformed");
    case DropReason::UnknownType: return QStringLiteral("unknown_type");
    case DropReason::VersionMismatch: return QStringLiteral("version_mismatch");
    case DropReason::NoListener: return QStringLiteral("no_listener");
    case DropReason::Count: break;
    }
    return QStringLiteral("unknown");
}

void PacketReceiver::drop(DropReason reason, quint8 type, const IpEndpoint &sender) {
    ++_counters.dropped[size_t(reason)];
    Q_EMIT packetDropped(reason, type, sender);
}

bool PacketReceiver::dispatchDirect(Listener &slot, const PacketView &view) {
    QObject *object = slot.object.data();
    if (!object || object->thread() != QThread::currentThread()) {
        // Destroyed, or moved to another thread since registration: a view cannot cross threads.
        if (object) {
            qCWarning(networking) << "direct listener for" << view.type << "moved to another thread; dropping";
        }
        slot = Listener();
        drop(DropReason::NoListener, quint8(view.type), view.sender);
        return false;
    }
    ++_counters.dispatched;
    ++_counters.receivedByType[quint8(view.type)];
    slot.direct(view);
    return true;
}

void PacketReceiver::handleDatagram(const QByteArray &datagram, const IpEndpoint &sender) {
    ++_counters.datagrams;
    // A direct listener's packet in its plain form (the common case: one UDT word, the table's
    // version) is read in place: no decode into a copy, no shared message.
    if (datagram.size() > 4) {
        const quint8 typeByte = quint8(datagram.constData()[4]);
        Listener &slot = _listeners[typeByte];
        if (slot.direct) {
            const int offset = NLDatagram::plainPayloadOffset(datagram, PacketType(typeByte));
            if (offset >= 0) {
                const QByteArray payload = QByteArray::fromRawData(datagram.constData() + offset,
                                                                   datagram.size() - offset);
                dispatchDirect(slot, PacketView { PacketType(typeByte), versionForPacketType(PacketType(typeByte)),
                                                  sender, payload });
                return;
            }
        }
    }
    if (StunMessage::looksLikeStun(datagram)) {
        ++_counters.stun;
        Q_EMIT stunDatagramReceived(datagram, sender);
        return;
    }

    Decoded<NLDatagram> decoded = NLDatagram::fromDatagram(datagram);
    const quint8 typeByte = quint8(decoded.value.type);
    if (decoded.error == WireError::UnknownType) {
        if (!_unknownTypeLogged.test(typeByte)) {
            _unknownTypeLogged.set(typeByte);
            qCInfo(networking) << "dropping packets of unknown type" << typeByte << "(first from" << sender
                               << "); further ones are only counted";
        }
        drop(DropReason::UnknownType, typeByte, sender);
        return;
    }
    if (!decoded.ok()) {
        qCDebug(networking_packets) << "malformed datagram from" << sender << ':' << wireErrorString(decoded.error);
        drop(DropReason::Malformed, 0, sender);
        return;
    }
    if (!decoded.value.versionMatches()) {
        qCDebug(networking_packets) << "version mismatch from" << sender << "for" << decoded.value.type << ": got"
                                    << decoded.value.version << "want" << versionForPacketType(decoded.value.type);
        drop(DropReason::VersionMismatch, typeByte, sender);
        return;
    }
    Listener &slot = _listeners[typeByte];
    if (!slot.object) {
        slot = Listener(); // the listener was destroyed: forget its callback too
        drop(DropReason::NoListener, typeByte, sender);
        return;
    }

    if (slot.direct) {
        dispatchDirect(slot, PacketView { decoded.value.type, decoded.value.version, sender, decoded.value.payload });
        return;
    }

    ++_counters.dispatched;
    ++_counters.receivedByType[typeByte];
    auto message = ReceivedMessagePointer::create(std::move(decoded.value), sender);
    QObject *object = slot.object.data();
    if (object->thread() == QThread::currentThread()) {
        slot.call(std::move(message));
        return;
    }
    deliverQueued(object, slot.call, std::move(message));
}
