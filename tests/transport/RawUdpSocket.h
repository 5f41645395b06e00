// A plain POSIX UDP socket on loopback that observes what a transport really put on the wire: the
// bytes, the sender and the TTL / hop limit of each datagram (IP_RECVTTL / IPV6_RECVHOPLIMIT).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

class RawUdpSocket {
public:
    struct Datagram {
        QByteArray data;
        int ttl = -1;
    };

    explicit RawUdpSocket(bool v6) : _v6(v6) {
        _fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        const int on = 1;
        sockaddr_storage local {};
        socklen_t length;
        if (v6) {
            ::setsockopt(_fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
            ::setsockopt(_fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
            auto *address = reinterpret_cast<sockaddr_in6 *>(&local);
            address->sin6_family = AF_INET6;
            address->sin6_addr = in6addr_loopback;
            length = sizeof(sockaddr_in6);
        } else {
            ::setsockopt(_fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
            auto *address = reinterpret_cast<sockaddr_in *>(&local);
            address->sin_family = AF_INET;
            address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            length = sizeof(sockaddr_in);
        }
        _ok = _fd >= 0 && ::bind(_fd, reinterpret_cast<sockaddr *>(&local), length) == 0
              && ::getsockname(_fd, reinterpret_cast<sockaddr *>(&local), &length) == 0;
        _port = ntohs(v6 ? reinterpret_cast<sockaddr_in6 *>(&local)->sin6_port
                         : reinterpret_cast<sockaddr_in *>(&local)->sin_port);
    }
    ~RawUdpSocket() {
        if (_fd >= 0) {
            ::close(_fd);
        }
    }
    RawUdpSocket(const RawUdpSocket &) = delete;
    RawUdpSocket &operator=(const RawUdpSocket &) = delete;

    bool isValid() const { return _ok; }
    quint16 port() const { return _port; }

    // Moves waiting datagrams into the inbox and says whether it holds any. No blocking, and true
    // stays true until take(), so QTRY_VERIFY(raw.hasDatagram()) can evaluate it again.
    bool hasDatagram() {
        Datagram datagram;
        while (tryReceive(&datagram)) {
            _inbox.append(datagram);
        }
        return !_inbox.isEmpty();
    }
    Datagram take() { return _inbox.takeFirst(); }

private:
    bool tryReceive(Datagram *out) {
        char buffer[65536];
        alignas(cmsghdr) char control[256];
        iovec vector { buffer, sizeof(buffer) };
        msghdr header {};
        header.msg_iov = &vector;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof(control);
        const ssize_t n = ::recvmsg(_fd, &header, MSG_DONTWAIT);
        if (n < 0) {
            return false;
        }
        out->data = QByteArray(buffer, int(n));
        out->ttl = -1;
        for (cmsghdr *message = CMSG_FIRSTHDR(&header); message; message = CMSG_NXTHDR(&header, message)) {
            if ((message->cmsg_level == IPPROTO_IP && message->cmsg_type == IP_TTL)
                || (message->cmsg_level == IPPROTO_IPV6 && message->cmsg_type == IPV6_HOPLIMIT)) {
                std::memcpy(&out->ttl, CMSG_DATA(message), sizeof(int));
            }
        }
        return true;
    }

public:
    // Sends to 127.0.0.1 or ::1 at port.
    bool sendTo(quint16 port, const QByteArray &data) {
        sockaddr_storage to {};
        socklen_t length;
        if (_v6) {
            auto *address = reinterpret_cast<sockaddr_in6 *>(&to);
            address->sin6_family = AF_INET6;
            address->sin6_addr = in6addr_loopback;
            address->sin6_port = htons(port);
            length = sizeof(sockaddr_in6);
        } else {
            auto *address = reinterpret_cast<sockaddr_in *>(&to);
            address->sin_family = AF_INET;
            address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            address->sin_port = htons(port);
            length = sizeof(sockaddr_in);
        }
        return ::sendto(_fd, data.constData(), size_t(data.size()), 0, reinterpret_cast<sockaddr *>(&to), length)
               == data.size();
    }

private:
    bool _v6;
    bool _ok = false;
    int _fd = -1;
    quint16 _port = 0;
    QList<Datagram> _inbox;
};
