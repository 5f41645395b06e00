// A stand-in for upstream's AddressManager: the signal it emits when a place resolves to a domain
// reached through an ice-server, connected to DomainHandler's slot the way upstream's NodeList does.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QUuid>

class UpstreamStyleAddressManager : public QObject {
    Q_OBJECT
Q_SIGNALS:
    void possibleDomainChangeRequiredViaICEForID(const QString &iceServerHostname, const QUuid &domainID);
};
