#include "NativeUdpTransport.h"

#include "NetworkLogging.h"

#include <QtCore/QSocketNotifier>
#include <QtNetwork/QNetworkInterface>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
// The largest UDP payload (IPv6 without jumbograms: 65,535 - 8); a reused buffer holds any datagram.
constexpr int MaxDatagram = 65527;
// A batched datagram's storage is kept for the next batch up to this size (a full Ethernet frame's payload).
constexpr size_t KeptCapacity = 1500;

union SocketAddress {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
};

QString systemError(int error) {
    return QString::fromLocal8Bit(std::strerror(error));
}

// Fills *out for destination as a socket of the given family sends to it (IPv4 through a
// dual-stack IPv6 socket goes as an IPv4-mapped address). False if the family cannot reach it.
bool toSocketAddress(const IpEndpoint &destination, int family, SocketAddress *out, socklen_t *length) {
    const QHostAddress &address = destination.getAddress();
    const bool isV4 = address.protocol() == QAbstractSocket::IPv4Protocol;
    std::memset(out, 0, sizeof(*out));
    if (family == AF_INET) {
        if (!isV4) {
            return false;
        }
        out->v4.sin_family = AF_INET;
        out->v4.sin_port = htons(destination.getPort());
        out->v4.sin_addr.s_addr = htonl(address.toIPv4Address());
        *length = sizeof(sockaddr_in);
        return true;
    }
    out->v6.sin6_family = AF_INET6;
    out->v6.sin6_port = htons(destination.getPort());
    if (isV4) {
        const quint32 v4 = htonl(address.toIPv4Address());
        out->v6.sin6_addr.s6_addr[10] = 0xff;
        out->v6.sin6_addr.s6_addr[11] = 0xff;
        std::memcpy(out->v6.sin6_addr.s6_addr + 12, &v4, 4);
    } else {
        const Q_IPV6ADDR v6 = address.toIPv6Address();
        std::memcpy(out->v6.sin6_addr.s6_addr, v6.c, 16);
        const QString scope = address.scopeId();
        if (!scope.isEmpty()) {
            bool numeric = false;
            const uint index = scope.toUInt(&numeric);
            out->v6.sin6_scope_id = numeric ? index : uint(QNetworkInterface::interfaceIndexFromName(scope));
        }
    }
    *length = sizeof(sockaddr_in6);
    return true;
}

// One int control message: the TTL or hop limit of this datagram.
void setTtl(msghdr *header, char *buffer, bool destinationIsV4, int ttl) {
    header->msg_control = buffer;
    header->msg_controllen = CMSG_SPACE(sizeof(int));
    cmsghdr *message = CMSG_FIRSTHDR(header);
    // An IPv4 datagram takes IP_TTL even from an IPv6 socket; Linux ignores IPV6_HOPLIMIT there.
    message->cmsg_level = destinationIsV4 ? IPPROTO_IP : IPPROTO_IPV6;
    message->cmsg_type = destinationIsV4 ? IP_TTL : IPV6_HOPLIMIT;
    message->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(message), &ttl, sizeof(int));
}

bool isMappedV4(const in6_addr &address) {
    static const quint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return std::memcmp(address.s6_addr, prefix, 12) == 0;
}

IpEndpoint toSockAddr(const SocketAddress &address) {
    if (address.any.sa_family == AF_INET) {
        return IpEndpoint(QHostAddress(ntohl(address.v4.sin_addr.s_addr)), ntohs(address.v4.sin_port));
    }
    if (isMappedV4(address.v6.sin6_addr)) {
        quint32 v4;
        std::memcpy(&v4, address.v6.sin6_addr.s6_addr + 12, 4);
        return IpEndpoint(QHostAddress(ntohl(v4)), ntohs(address.v6.sin6_port));
    }
    QHostAddress host(address.v6.sin6_addr.s6_addr);
    if (address.v6.sin6_scope_id != 0) {
        host.setScopeId(QNetworkInterface::interfaceNameFromIndex(int(address.v6.sin6_scope_id)));
    }
    return IpEndpoint(host, ntohs(address.v6.sin6_port));
}
} // namespace

struct NativeUdpTransport::Socket {
    int fd = -1;
    bool sendsV4 = false;
    bool sendsV6 = false;
    int family = AF_INET;
    IpEndpoint local;
    std::unique_ptr<QSocketNotifier> notifier;

    // Answers waiting for the end of the read loop. Each is a copy of the caller's bytes in storage
    // kept from batch to batch. Sharing the caller's QByteArray instead made a caller that rewrites
    // a reused datagram in place (an ACK stamped with the next sequence number) detach it while the
    // batch still held the previous one: an allocation and a copy per datagram. A copy of a few
    // hundred bytes into warm storage costs less than that, and less than the shared reference
    // count's two atomic operations on a line the caller's thread keeps touching.
    struct Outgoing {
        std::vector<char> data;
        SocketAddress to;
        socklen_t toLength;
        int ttl;
    };
    // The first pendingCount are queued; the others keep their storage for the next batch.
    std::vector<Outgoing> pending;
    int pendingCount = 0;

    ~Socket() {
        notifier.reset();
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

// recvmmsg's arrays and one reusable QByteArray per slot. A slot's bytes are handed out as the
// QByteArray itself; if a receiver keeps a copy, the slot takes a fresh buffer rather than
// overwrite it.
struct NativeUdpTransport::ReceiveBatch {
    mmsghdr headers[BatchSize];
    iovec vectors[BatchSize];
    SocketAddress names[BatchSize];
    QByteArray buffers[BatchSize];

    void prepare(int count) {
        for (int i = 0; i < count; ++i) {
            QByteArray &buffer = buffers[i];
            if (!buffer.isDetached() || buffer.capacity() < MaxDatagram + 1) {
                buffer = QByteArray();
                buffer.reserve(MaxDatagram + 1);
            }
            buffer.resize(MaxDatagram); // within capacity: no allocation, no fill
            vectors[i].iov_base = buffer.data();
            vectors[i].iov_len = size_t(MaxDatagram);
            msghdr &header = headers[i].msg_hdr;
            std::memset(&header, 0, sizeof(header));
            header.msg_name = &names[i];
            header.msg_namelen = sizeof(SocketAddress);
            header.msg_iov = &vectors[i];
            header.msg_iovlen = 1;
        }
    }
};

// The last senders seen, so a datagram from a known peer costs a compare instead of building a
// QHostAddress (a heap allocation in Qt). Direct-mapped: a collision only costs the miss.
class NativeUdpTransport::SenderCache {
public:
    const IpEndpoint &lookup(const SocketAddress &address) {
        Key key {};
        if (address.any.sa_family == AF_INET) {
            key.address[10] = key.address[11] = 0xff;
            std::memcpy(key.address + 12, &address.v4.sin_addr, 4);
            key.port = address.v4.sin_port;
        } else {
            std::memcpy(key.address, address.v6.sin6_addr.s6_addr, 16);
            key.port = address.v6.sin6_port;
            key.scope = address.v6.sin6_scope_id;
        }
        Entry &entry = _entries[slot(key)];
        if (!entry.used || std::memcmp(&entry.key, &key, sizeof(Key)) != 0) {
            entry.key = key;
            entry.value = toSockAddr(address);
            entry.used = true;
        }
        return entry.value;
    }

private:
    struct Key {
        quint8 address[16];
        quint32 scope;
        quint16 port;
        quint16 zero; // keeps memcmp over the whole struct defined
    };
    struct Entry {
        Key key;
        bool used = false;
        IpEndpoint value;
    };
    static constexpr int Bits = 10;

    static quint32 slot(const Key &key) {
        quint32 words[4];
        std::memcpy(words, key.address, 16);
        const quint32 mixed = (words[0] ^ words[1] ^ words[2] ^ words[3] ^ key.scope) + key.port * 0x10001u;
        return (mixed * 0x9E3779B1u) >> (32 - Bits);
    }

    Entry _entries[1 << Bits];
};

NativeUdpTransport::NativeUdpTransport(QObject *parent)
    : SocketTransport(parent), _receive(std::make_unique<ReceiveBatch>()), _senders(std::make_unique<SenderCache>()) {}

NativeUdpTransport::~NativeUdpTransport() = default;

bool NativeUdpTransport::bind(const QHostAddress &address, quint16 port) {
    if (port == 0 && !_sockets.empty()) {
        port = localPort();
    }
    auto socket = std::make_unique<Socket>();
    SocketAddress local {};
    socklen_t length = 0;
    int v6Only = 1;
    switch (address.protocol()) {
    case QAbstractSocket::IPv4Protocol:
        socket->family = AF_INET;
        socket->sendsV4 = true;
        toSocketAddress(IpEndpoint(address, port), AF_INET, &local, &length);
        break;
    case QAbstractSocket::IPv6Protocol:
        socket->family = AF_INET6;
        socket->sendsV6 = true;
        toSocketAddress(IpEndpoint(address, port), AF_INET6, &local, &length);
        break;
    case QAbstractSocket::AnyIPProtocol:
        // One dual-stack socket, as QUdpSocket binds QHostAddress::Any.
        socket->family = AF_INET6;
        socket->sendsV4 = socket->sendsV6 = true;
        v6Only = 0;
        local.v6.sin6_family = AF_INET6;
        local.v6.sin6_port = htons(port);
        length = sizeof(sockaddr_in6);
        break;
    default:
        _errorString = QStringLiteral("cannot bind UDP %1: not an IP address")
                           .arg(IpEndpoint(address, port).toString());
        return false;
    }
    auto fail = [&](const char *step) {
        _errorString = QStringLiteral("cannot bind UDP %1: %2 (%3)")
                           .arg(IpEndpoint(address, port).toString(), systemError(errno), QLatin1String(step));
        return false;
    };
    socket->fd = ::socket(socket->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (socket->fd < 0) {
        return fail("socket");
    }
    // No SO_REUSEADDR (QUdpSocket's DontShareAddress): a second daemon must not split our traffic.
    // SO_REUSEPORT only when asked for (one daemon's threads sharing a port).
    const int one = 1;
    if (_reusePort && ::setsockopt(socket->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        return fail("SO_REUSEPORT");
    }
    if (socket->family == AF_INET6
        && ::setsockopt(socket->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6Only, sizeof(v6Only)) != 0) {
        return fail("IPV6_V6ONLY");
    }
    if (::bind(socket->fd, &local.any, length) != 0) {
        return fail("bind");
    }
    SocketAddress bound {};
    socklen_t boundLength = sizeof(bound);
    if (::getsockname(socket->fd, &bound.any, &boundLength) != 0) {
        return fail("getsockname");
    }
    socket->local = v6Only ? toSockAddr(bound) : IpEndpoint(QHostAddress(QHostAddress::Any), ntohs(bound.v6.sin6_port));
    if (socket->family == AF_INET6 && v6Only && isMappedV4(bound.v6.sin6_addr)) {
        // toSockAddr reports mapped addresses as IPv4; a v6-only socket is bound to IPv6.
        socket->local = IpEndpoint(QHostAddress(bound.v6.sin6_addr.s6_addr), ntohs(bound.v6.sin6_port));
    }
    socket->pending.resize(BatchSize);
    socket->notifier = std::make_unique<QSocketNotifier>(socket->fd, QSocketNotifier::Read, this); // moves with us
    Socket *raw = socket.get();
    connect(socket->notifier.get(), &QSocketNotifier::activated, this, [this, raw] { readPending(raw); });
    _sockets.push_back(std::move(socket));
    return true;
}

void NativeUdpTransport::close() {
    ++_generation;
    _sockets.clear();
}

quint16 NativeUdpTransport::localPort() const {
    return _sockets.empty() ? 0 : _sockets.front()->local.getPort();
}

QList<IpEndpoint> NativeUdpTransport::boundSockets() const {
    QList<IpEndpoint> result;
    for (const auto &socket : _sockets) {
        result.append(socket->local);
    }
    return result;
}

IpEndpoint NativeUdpTransport::localSocket() const {
    return _sockets.empty() ? IpEndpoint() : _sockets.front()->local;
}

void NativeUdpTransport::setBufferSize(int option, int bytes) {
    for (const auto &socket : _sockets) {
        if (::setsockopt(socket->fd, SOL_SOCKET, option, &bytes, sizeof(bytes)) != 0) {
            qCWarning(networking) << "cannot set socket buffer size" << bytes << systemError(errno);
        }
    }
}

void NativeUdpTransport::setReceiveBufferSize(int bytes) {
    setBufferSize(SO_RCVBUF, bytes);
}

void NativeUdpTransport::setSendBufferSize(int bytes) {
    setBufferSize(SO_SNDBUF, bytes);
}

NativeUdpTransport::Socket *NativeUdpTransport::socketFor(const QHostAddress &destination) const {
    const bool v6 = destination.protocol() == QAbstractSocket::IPv6Protocol;
    for (const auto &socket : _sockets) {
        if (v6 ? socket->sendsV6 : socket->sendsV4) {
            return socket.get();
        }
    }
    return nullptr;
}

qint64 NativeUdpTransport::writeDatagram(const QByteArray &datagram, const IpEndpoint &destination, int ttl) {
    Socket *socket = socketFor(destination.getAddress());
    SocketAddress to;
    socklen_t toLength;
    if (!socket || destination.isNull() || destination.getPort() == 0
        || !toSocketAddress(destination, socket->family, &to, &toLength)) {
        qCDebug(networking_packets) << "no socket can send to" << destination;
        return -1;
    }
    if (_readDepth > 0) {
        Socket::Outgoing &out = socket->pending[size_t(socket->pendingCount++)];
        out.data.assign(datagram.constData(), datagram.constData() + datagram.size());
        out.to = to;
        out.toLength = toLength;
        out.ttl = ttl;
        if (socket->pendingCount >= BatchSize) {
            flush(*socket);
        }
        return datagram.size();
    }
    // Outside a read loop nothing else is coming to share a batch with: waiting would only add latency.
    iovec vector { const_cast<char *>(datagram.constData()), size_t(datagram.size()) };
    msghdr header {};
    header.msg_name = &to;
    header.msg_namelen = toLength;
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (ttl > 0) {
        setTtl(&header, control, destination.getAddress().protocol() == QAbstractSocket::IPv4Protocol, ttl);
    }
    ssize_t sent;
    do {
        sent = ::sendmsg(socket->fd, &header, 0);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        qCDebug(networking_packets) << "cannot send to" << destination << systemError(errno);
        return -1;
    }
    return sent;
}

void NativeUdpTransport::flush(Socket &socket) {
    const int count = socket.pendingCount;
    if (count == 0) {
        return;
    }
    mmsghdr headers[BatchSize];
    iovec vectors[BatchSize];
    alignas(cmsghdr) char control[BatchSize][CMSG_SPACE(sizeof(int))];
    for (int i = 0; i < count; ++i) {
        Socket::Outgoing &out = socket.pending[size_t(i)];
        vectors[i].iov_base = out.data.data();
        vectors[i].iov_len = out.data.size();
        msghdr &header = headers[i].msg_hdr;
        std::memset(&header, 0, sizeof(header));
        header.msg_name = &out.to;
        header.msg_namelen = out.toLength;
        header.msg_iov = &vectors[i];
        header.msg_iovlen = 1;
        if (out.ttl > 0) {
            const bool toV4 = out.to.any.sa_family == AF_INET || isMappedV4(out.to.v6.sin6_addr);
            setTtl(&header, control[i], toV4, out.ttl);
        }
    }
    int done = 0;
    while (done < count) {
        const int sent = ::sendmmsg(socket.fd, headers + done, unsigned(count - done), 0);
        if (sent > 0) {
            done += sent;
            continue;
        }
        const int error = errno;
        if (error == EINTR) {
            continue;
        }
        if (error == EAGAIN || error == EWOULDBLOCK) {
            // The send buffer is full: the rest would meet the same; drop them as a full queue would.
            _sendErrors += quint64(count - done);
            qCDebug(networking) << "send buffer full, dropped" << (count - done) << "datagrams";
            break;
        }
        // sendmmsg stops at the first datagram the kernel refuses: skip it and send the rest.
        ++_sendErrors;
        qCDebug(networking) << "cannot send a datagram of" << vectors[done].iov_len << "bytes:" << systemError(error);
        ++done;
    }
    socket.pendingCount = 0;
    for (int i = 0; i < count; ++i) {
        std::vector<char> &data = socket.pending[size_t(i)].data;
        if (data.capacity() > KeptCapacity) {
            std::vector<char>().swap(data); // a rare large datagram: do not keep its storage
        }
    }
}

void NativeUdpTransport::flushAll() {
    for (const auto &socket : _sockets) {
        flush(*socket);
    }
}

void NativeUdpTransport::readPending(Socket *socket) {
    // The receive slots are shared: a slot that spins the event loop must not have a nested read
    // overwrite datagrams not yet delivered. The notifier is level-triggered and fires again.
    if (_readDepth > 0) {
        return;
    }
    ++_readDepth;
    const quint64 generation = _generation;
    const int fd = socket->fd;
    int budget = ReadBudget;
    while (budget > 0) {
        const int want = qMin(BatchSize, budget);
        _receive->prepare(want);
        const int count = ::recvmmsg(fd, _receive->headers, unsigned(want), MSG_DONTWAIT, nullptr);
        if (count <= 0) {
            if (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                qCDebug(networking) << "receive failed:" << systemError(errno);
            }
            break;
        }
        for (int i = 0; i < count; ++i) {
            QByteArray &buffer = _receive->buffers[i];
            buffer.resize(int(_receive->headers[i].msg_len));
            Q_EMIT datagramReceived(buffer, _senders->lookup(_receive->names[i]));
            if (generation != _generation) {
                --_readDepth; // closed by a receiver: the socket and its batch are gone
                return;
            }
        }
        budget -= count;
        if (count < want) {
            break; // drained
        }
    }
    --_readDepth;
    flushAll();
}
