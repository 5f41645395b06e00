// The registry from packet type to listener (Overte's PacketReceiver). It decodes each datagram,
// drops and counts what does not fit (malformed, unknown type, wrong version, nobody listening),
// and calls the listener's member function on the listener's own thread. A destroyed listener
// drops out by itself: each is held as a QPointer.
//
// STUN datagrams are not Overte packets; they are handed to the stunDatagramReceived() signal.
#pragma once

#include "ReceivedMessage.h"

#include <WireError.h>

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QThread>

#include <array>
#include <bitset>
#include <functional>

class UdpTransport;

class PacketReceiver : public QObject {
    Q_OBJECT
public:
    enum class DropReason : quint8 { Malformed, UnknownType, VersionMismatch, NoListener, Count };

    struct Counters {
        quint64 datagrams = 0;
        quint64 stun = 0;
        quint64 dispatched = 0;
        std::array<quint64, size_t(DropReason::Count)> dropped {};
        std::array<quint64, 256> receivedByType {};   // dispatched packets, by type byte
    };

    explicit PacketReceiver(QObject *parent = nullptr);

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
    // Removes every registration of the listener; returns whether there was one.
    bool unregisterListener(QObject *listener);
    bool unregisterListener(PacketType type, QObject *listener);
    bool hasListener(PacketType type) const;

    const Counters &counters() const { return _counters; }
    static QString dropReasonName(DropReason reason);

public Q_SLOTS:
    // Decodes one datagram and dispatches it.
    void handleDatagram(const QByteArray &datagram, const SockAddr &sender);

Q_SIGNALS:
    void stunDatagramReceived(const QByteArray &datagram, const SockAddr &sender);
    // Emitted for every dropped datagram; type is meaningful for VersionMismatch and NoListener.
    void packetDropped(PacketReceiver::DropReason reason, quint8 type, const SockAddr &sender);

private:
    struct Listener {
        QPointer<QObject> object;
        std::function<void(ReceivedMessagePointer)> call;
    };

    bool registerCallback(PacketType type, QObject *listener, std::function<void(ReceivedMessagePointer)> call);
    void drop(DropReason reason, quint8 type, const SockAddr &sender);

    std::array<Listener, 256> _listeners;
    std::bitset<256> _unknownTypeLogged;
    Counters _counters;
};

Q_DECLARE_METATYPE(PacketReceiver::DropReason)
