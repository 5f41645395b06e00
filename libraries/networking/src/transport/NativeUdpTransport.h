// Linux's fast SocketTransport: non-blocking sockets on the Qt event loop (QSocketNotifier), read
// with recvmmsg into reused buffers and answered with sendmmsg batches, so a busy daemon pays a few
// system calls per batch instead of three or four per datagram. Behaves like QUdpSocketTransport
// (same binding rules, IPv4-mapped senders reported as IPv4, per-datagram TTL); the transport
// suite runs both.
#pragma once

#include "SocketTransport.h"

#include <memory>
#include <vector>

class NativeUdpTransport : public SocketTransport {
    Q_OBJECT
public:
    // Datagrams per recvmmsg/sendmmsg call, and per read notification at most ReadBudget, so a
    // flooded socket cannot starve timers and other sockets.
    static constexpr int BatchSize = 64;
    static constexpr int ReadBudget = 4 * BatchSize;

    explicit NativeUdpTransport(QObject *parent = nullptr);
    ~NativeUdpTransport() override;

    bool bind(const QHostAddress &address, quint16 port = 0) override;
    void close() override;

    bool isBound() const override { return !_sockets.empty(); }
    quint16 localPort() const override;
    QList<IpEndpoint> boundSockets() const override;

    // Outside a read loop the datagram leaves at once and the result is the kernel's. Inside one
    // (a slot answering datagramReceived) it joins the socket's batch, which leaves when full or
    // when the read loop ends; the result is then the datagram's size, and a kernel error at the
    // flush is logged (hifi.networking) and counted in sendErrors().
    qint64 writeDatagram(const QByteArray &datagram, const IpEndpoint &destination, int ttl = 0) override;
    IpEndpoint localSocket() const override;

    void setReceiveBufferSize(int bytes) override;
    void setSendBufferSize(int bytes) override;

    // Batched datagrams the kernel refused at a flush, since construction.
    quint64 sendErrors() const { return _sendErrors; }

private:
    struct Socket;
    struct ReceiveBatch;
    class SenderCache;

    void readPending(Socket *socket);
    void flushAll();
    void flush(Socket &socket);
    Socket *socketFor(const QHostAddress &destination) const;
    void setBufferSize(int option, int bytes);

    std::vector<std::unique_ptr<Socket>> _sockets;
    std::unique_ptr<ReceiveBatch> _receive;
    std::unique_ptr<SenderCache> _senders;
    int _readDepth = 0;
    quint64 _generation = 0; // bumped by close(), so a read loop notices its socket is gone
    quint64 _sendErrors = 0;
};
