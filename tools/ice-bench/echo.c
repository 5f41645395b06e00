/* ice-echo: the ceiling of one UDP socket on one core. A plain C loop that reads up to 64
 * datagrams with recvmmsg and sends each back to its sender with one sendmmsg; no Qt, no protocol.
 * What the ice-server reaches as a share of this is what its transport and protocol cost.
 * Usage: ice-echo [PORT]; prints "ice-echo listening on UDP 127.0.0.1:PORT" to stderr. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { Batch = 64, MaxDatagram = 2048 };

int main(int argc, char **argv) {
    const int port = argc > 1 ? atoi(argv[1]) : 0;
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in local;
    memset(&local, 0, sizeof(local));
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    local.sin_port = htons((unsigned short)port);
    socklen_t length = sizeof(local);
    if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0
        || getsockname(fd, (struct sockaddr *)&local, &length) != 0) {
        fprintf(stderr, "ice-echo: cannot bind UDP 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    const int buffer = 8 * 1024 * 1024; /* as the ice-server in ice-bench (--receive-buffer) */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    fprintf(stderr, "ice-echo listening on UDP 127.0.0.1:%u\n", ntohs(local.sin_port));
    fflush(stderr);

    static char data[Batch][MaxDatagram];
    struct mmsghdr messages[Batch];
    struct iovec vectors[Batch];
    struct sockaddr_in senders[Batch];
    for (;;) {
        for (int i = 0; i < Batch; ++i) {
            vectors[i].iov_base = data[i];
            vectors[i].iov_len = MaxDatagram;
            memset(&messages[i].msg_hdr, 0, sizeof(messages[i].msg_hdr));
            messages[i].msg_hdr.msg_name = &senders[i];
            messages[i].msg_hdr.msg_namelen = sizeof(senders[i]);
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        /* Blocks for the first datagram, then takes whatever else is already queued. */
        const int count = recvmmsg(fd, messages, Batch, MSG_WAITFORONE, NULL);
        if (count < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "ice-echo: recvmmsg: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < count; ++i) {
            vectors[i].iov_len = messages[i].msg_len; /* the answer is the request as received */
        }
        for (int sent = 0; sent < count;) {
            const int n = sendmmsg(fd, messages + sent, (unsigned)(count - sent), 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            sent += n > 0 ? n : 1; /* skip a datagram the kernel refuses */
        }
    }
}
