#include "PacketReceiver.h"

#include <NetworkLogging.h>
#include <StunMessage.h>
#include <UdpTransport.h>

#include <QtCore/QMetaObject>

PacketReceiver::PacketReceiver(QObject *parent) : QObject(parent) {
    qRegisterMetaType<ReceivedMessagePointer>();
    qRegisterMetaType<SockAddr>();
    qRegisterMetaType<PacketReceiver::DropReason>();
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
    // The reference holds its object weakly; the slot's QPointer guards the queued delivery too.
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

void PacketReceiver::drop(DropReason reason, quint8 type, const SockAddr &sender) {
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

void PacketReceiver::handleDatagram(const QByteArray &datagram, const SockAddr &sender) {
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
    // Deliver on the listener's thread; it may be gone by the time the event runs.
    QPointer<QObject> guard(object);
    auto call = slot.call;
    QMetaObject::invokeMethod(
        object,
        [guard, call, message] {
            if (guard) {
                call(message);
            }
        },
        Qt::QueuedConnection);
}
