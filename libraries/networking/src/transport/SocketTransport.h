// A UdpTransport over real sockets: what a daemon binds, sizes and reports. Two implementations
// share it, the portable QUdpSocketTransport and Linux's batched NativeUdpTransport;
// makeSocketTransport() picks one, so callers name neither.
#pragma once

#include "UdpTransport.h"

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtNetwork/QHostAddress>

#include <memory>

class SocketTransport : public UdpTransport {
    Q_OBJECT
public:
    using UdpTransport::UdpTransport;

    // Binds one more socket. Port 0 picks one for the first socket; later sockets reuse it when
    // given 0, so every address listens on the same port. QHostAddress::AnyIPv6 listens on IPv6
    // only (so an AnyIPv4 socket can share the port); QHostAddress::Any is one dual-stack socket
    // whose IPv4 senders are reported as IPv4. On failure errorString() says why.
    virtual bool bind(const QHostAddress &address, quint16 port = 0) = 0;
    // Closes all sockets (e.g. to move to a fresh local port after a stale NAT mapping).
    virtual void close() = 0;

    // Whether sockets bound from now on may share their address and port with other sockets that
    // ask for the same (SO_REUSEPORT): the kernel then hands each sender (by a hash of source and
    // destination address and port) to one of them, so a daemon can serve one port from several
    // threads, and any of the sockets can answer any sender from the same address and port.
    // Off by default, so a second daemon cannot silently split our traffic. False (and nothing
    // changes) where the platform has no SO_REUSEPORT.
    bool setReusePort(bool on);
    bool reusePort() const { return _reusePort; }
    static bool reusePortAvailable();

    virtual quint16 localPort() const = 0;
    virtual QList<IpEndpoint> boundSockets() const = 0;
    QString errorString() const override { return _errorString; }
    // Closes every socket and binds the same addresses again on one new random port (0.0.0.0 when
    // nothing was bound).
    bool rebindToFreshPort() override;

    // Kernel buffer sizes for every bound socket; a busy daemon wants more than the default. The
    // kernel may cap them (net.core.rmem_max / wmem_max).
    virtual void setReceiveBufferSize(int bytes) = 0;
    virtual void setSendBufferSize(int bytes) = 0;

protected:
    QString _errorString;
    bool _reusePort = false;
};

// Which SocketTransport makeSocketTransport() builds. Auto is Native where it exists (Linux),
// otherwise Qt.
enum class TransportKind { Auto, Qt, Native };

// "auto", "qt" or "native" (as a command line takes it); false in *ok for anything else.
TransportKind parseTransportKind(const QString &text, bool *ok);
QString transportKindName(TransportKind kind);
// Native is only built on Linux; elsewhere asking for it gives the Qt transport.
bool nativeTransportAvailable();

std::unique_ptr<SocketTransport> makeSocketTransport(TransportKind kind = TransportKind::Auto,
                                                     QObject *parent = nullptr);
