// ice-echo: the ceiling for one socket. Sends every datagram back to its sender through the same
// QUdpSocketTransport the ice-server uses, so the gap to ice-server is what the protocol costs.
#include <QUdpSocketTransport.h>

#include <QtCore/QCoreApplication>

#include <cstdio>

int main(int argc, char *argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    const quint16 port = args.size() > 1 ? quint16(args[1].toUInt()) : 0;
    QUdpSocketTransport transport;
    if (!transport.bind(QHostAddress::LocalHost, port)) {
        std::fprintf(stderr, "ice-echo: %s\n", qPrintable(transport.errorString()));
        return 1;
    }
    transport.setReceiveBufferSize(8 * 1024 * 1024);
    QObject::connect(&transport, &UdpTransport::datagramReceived, &transport,
                     [&transport](const QByteArray &datagram, const SockAddr &sender) {
                         transport.writeDatagram(datagram, sender);
                     });
    std::fprintf(stderr, "ice-echo listening on UDP 127.0.0.1:%u\n", transport.localPort());
    std::fflush(stderr);
    return QCoreApplication::exec();
}
