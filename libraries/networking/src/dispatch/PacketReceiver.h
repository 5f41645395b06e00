// The registry from packet type to listener (Overte's PacketReceiver). It decodes each datagram,
// drops and counts what does not fit (malformed, unknown type, wrong version, nobody listening),
// and calls the listener's member function on the listener's own thread. A destroyed listener
// drops out by itself: each is held as a QPointer, checked again on the listener's thread right
// before a queued call (cross-thread messages wait in a per-thread batch, see deliverQueued()).
//
// STUN datagrams are not Overte packets; they are handed to the stunDatagramReceived() signal.
//
// Three ways to listen, one dispatch path:
//  - upstream's: a ListenerReference made by makeUnsourcedListenerReference() or
//    makeSourcedListenerReference(), passed to registerListener() or registerListenerForTypes();
//  - ours: registerListener(type, object, &T::method) with the same ReceivedMessagePointer method;
//  - direct: registerDirectListener(type, object, &T::method) for a hot path. The method gets a
//    PacketView (type, version, sender, the payload as a view into the datagram) synchronously and
//    nothing is allocated per packet; the view is valid only during the call. A direct listener
//    must live on the receiver's thread: registration refuses any other.
#pragma once

#include "ReceivedMessage.h"

#include <WireError.h>

#include <QtCore/QEnableSharedFromThis>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QSharedPointer>
#include <QtCore/QThread>

#include <array>
#include <bitset>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

class UdpTransport;

class PacketReceiver : public QObject {
    Q_OBJECT
public:
    enum class DropReason : quint8 { Malformed, UnknownType, VersionMismatch, NoListener, Count };

    // A listener as upstream registers it: an object and its slot, held weakly.
    class ListenerReference : public QEnableSharedFromThis<ListenerReference> {
    public:
        virtual ~ListenerReference() = default;
        // Calls the slot on the caller's thread; false when the object is gone.
        virtual bool invokeDirectly(const QSharedPointer<ReceivedMessage> &message,
                                    const QSharedPointer<Node> &sourceNode) = 0;
        virtual bool isSourced() const = 0;
        virtual QObject *getObject() const = 0;
    };
    using ListenerReferencePointer = QSharedPointer<ListenerReference>;
    using PacketTypeList = std::vector<PacketType>;

    template <class T>
    static ListenerReferencePointer makeUnsourcedListenerReference(T *target,
                                                                   void (T::*slot)(QSharedPointer<ReceivedMessage>));
    template <class T>
    static ListenerReferencePointer
    makeSourcedListenerReference(T *target, void (T::*slot)(QSharedPointer<ReceivedMessage>, QSharedPointer<Node>));

    // What a direct listener is handed; every member is valid only during the call.
    struct PacketView {
        PacketType type;
        PacketVersion version;
        const IpEndpoint &sender;
        const QByteArray &payload; // a view into the datagram when it arrived in plain form
    };

    struct Counters {
        quint64 datagrams = 0;
        quint64 stun = 0;
        quint64 dispatched = 0;
        std::array<quint64, size_t(DropReason::Count)> dropped {};
        std::array<quint64, 256> receivedByType {}; // dispatched packets, by type byte
    };

    explicit PacketReceiver(QObject *parent = nullptr);
    ~PacketReceiver() override;

    // Feeds this receiver from a transport's datagramReceived signal.
    void attach(UdpTransport *transport);

    // Registers listener->method for a type, replacing an earlier listener of that type.
    // The method takes a ReceivedMessagePointer. Returns false for a type outside the table.
    template <typename T>
    bool registerListener(PacketType type, T *listener, void (T::*method)(ReceivedMessagePointer)) {
        static_assert(std::is_base_of<QObject, T>::value, "listeners are QObjects");
        return registerCallback(type, listener, [listener, method](ReceivedMessagePointer message) {
            (listener->*method)(std::move(message));
        });
    }
    // Upstream's registration. deliverPending changes nothing here: an ICE message is one datagram.
    // False for a type outside the table or a null listener.
    bool registerListener(PacketType type, const ListenerReferencePointer &listener, bool deliverPending = false);
    bool registerListenerForTypes(PacketTypeList types, const ListenerReferencePointer &listener);

    // A same-thread listener for a hot path (see the head of this file). False for a type outside
    // the table, a null listener, or one living on another thread than this receiver.
    template <typename T>
    bool registerDirectListener(PacketType type, T *listener, void (T::*method)(const PacketView &)) {
        static_assert(std::is_base_of<QObject, T>::value, "listeners are QObjects");
        return registerDirect(type, listener,
                              [listener, method](const PacketView &view) { (listener->*method)(view); });
    }

    // Removes every registration of the listener; returns whether there was one.
    bool unregisterListener(QObject *listener);
    bool unregisterListener(PacketType type, QObject *listener);
    bool hasListener(PacketType type) const;

    const Counters &counters() const { return _counters; }
    static QString dropReasonName(DropReason reason);

public Q_SLOTS:
    // Decodes one datagram and dispatches it.
    void handleDatagram(const QByteArray &datagram, const IpEndpoint &sender);

Q_SIGNALS:
    void stunDatagramReceived(const QByteArray &datagram, const IpEndpoint &sender);
    // Emitted for every dropped datagram; type is meaningful for VersionMismatch and NoListener.
    void packetDropped(PacketReceiver::DropReason reason, quint8 type, const IpEndpoint &sender);

private:
    template <class T> class UnsourcedListenerReference;
    template <class T> class SourcedListenerReference;
    class ThreadDispatcher;
    struct DeliveryQueue;

    struct Listener {
        QPointer<QObject> object;
        std::function<void(ReceivedMessagePointer)> call; // queued or same-thread kinds
        std::function<void(const PacketView &)> direct;   // the direct kind
    };

    bool registerCallback(PacketType type, QObject *listener, std::function<void(ReceivedMessagePointer)> call);
    bool registerDirect(PacketType type, QObject *listener, std::function<void(const PacketView &)> call);
    bool acceptsListener(PacketType type, QObject *listener) const;
    void drop(DropReason reason, quint8 type, const IpEndpoint &sender);
    bool dispatchDirect(Listener &slot, const PacketView &view);
    void deliverQueued(QObject *listener, const std::function<void(ReceivedMessagePointer)> &call,
                       ReceivedMessagePointer message);

    std::array<Listener, 256> _listeners;
    // One delivery queue per thread that has listeners other than this receiver's; touched only on
    // the receiver's thread.
    std::unordered_map<QThread *, std::shared_ptr<DeliveryQueue>> _queues;
    std::bitset<256> _unknownTypeLogged;
    Counters _counters;
};

template <class T> class PacketReceiver::UnsourcedListenerReference : public PacketReceiver::ListenerReference {
public:
    UnsourcedListenerReference(T *target, void (T::*slot)(QSharedPointer<ReceivedMessage>))
        : _target(target), _slot(slot) {}
    bool invokeDirectly(const QSharedPointer<ReceivedMessage> &message, const QSharedPointer<Node> &) override {
        if (_target.isNull()) {
            return false;
        }
        (_target.data()->*_slot)(message);
        return true;
    }
    bool isSourced() const override { return false; }
    QObject *getObject() const override { return _target.data(); }

private:
    QPointer<T> _target;
    void (T::*_slot)(QSharedPointer<ReceivedMessage>);
};

template <class T> class PacketReceiver::SourcedListenerReference : public PacketReceiver::ListenerReference {
public:
    SourcedListenerReference(T *target, void (T::*slot)(QSharedPointer<ReceivedMessage>, QSharedPointer<Node>))
        : _target(target), _slot(slot) {}
    bool invokeDirectly(const QSharedPointer<ReceivedMessage> &message,
                        const QSharedPointer<Node> &sourceNode) override {
        if (_target.isNull()) {
            return false;
        }
        (_target.data()->*_slot)(message, sourceNode);
        return true;
    }
    bool isSourced() const override { return true; }
    QObject *getObject() const override { return _target.data(); }

private:
    QPointer<T> _target;
    void (T::*_slot)(QSharedPointer<ReceivedMessage>, QSharedPointer<Node>);
};

template <class T>
PacketReceiver::ListenerReferencePointer
PacketReceiver::makeUnsourcedListenerReference(T *target, void (T::*slot)(QSharedPointer<ReceivedMessage>)) {
    return QSharedPointer<UnsourcedListenerReference<T>>::create(target, slot);
}

template <class T>
PacketReceiver::ListenerReferencePointer
PacketReceiver::makeSourcedListenerReference(T *target,
                                             void (T::*slot)(QSharedPointer<ReceivedMessage>, QSharedPointer<Node>)) {
    return QSharedPointer<SourcedListenerReference<T>>::create(target, slot);
}

Q_DECLARE_METATYPE(PacketReceiver::DropReason)
