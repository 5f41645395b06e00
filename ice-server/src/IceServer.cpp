#include "IceServer.h"

#include "IceServerCluster.h"
#include "IceServerLogging.h"

#include <CryptoBackend.h>
#include <StunMessage.h>
#include <UdpTransport.h>

const char *IceServerStats::dropName(int drop) {
    switch (drop) {
    case RateLimited: return "rate_limited";
    case Malformed: return "malformed";
    case UnknownType: return "unknown_type";
    case VersionMismatch: return "version_mismatch";
    case NoListener: return "no_listener";
    case UnknownDomain: return "unknown_domain";
    case TableFull: return "table_full";
    case ReplayIgnored: return "replay_ignored";
    case SendFailed: return "send_failed";
    default: return "?";
    }
}

IceServer::IceServer(UdpTransport *transport, DomainKeyStore *keys, const IceServerSettings &settings, QObject *parent)
    : IceServer(transport, keys, settings, Clock(), nullptr, parent) {}

IceServerShared IceServerShared::create(const IceServerSettings &settings, int threads) {
    IceServerShared shared;
    shared.peers = std::make_shared<PeerTable>(settings.maxDomains, settings.effectiveTakeoverSilenceMs());
    // Many more shards than threads, so two workers seldom want the same lock.
    shared.rateLimiter = std::make_shared<SourceRateLimiter>(settings.rateLimit, threads > 1 ? 64 * threads : 1);
    return shared;
}

IceServer::IceServer(UdpTransport *transport, DomainKeyStore *keys, const IceServerSettings &settings, Clock clock,
                     CryptoBackend *crypto, QObject *parent)
    : IceServer(transport, keys, settings, IceServerShared::create(settings), std::move(clock), crypto, parent) {}

IceServer::IceServer(UdpTransport *transport, DomainKeyStore *keys, const IceServerSettings &settings,
                     const IceServerShared &shared, Clock clock, CryptoBackend *crypto, QObject *parent)
    : QObject(parent), _transport(transport), _keys(keys), _clock(clock ? std::move(clock) : Clock(&monotonicMs)),
      _crypto(crypto ? crypto : CryptoBackend::defaultBackend()), _settings(settings), _sender(transport),
      _ackDatagram(NLDatagram::create(PacketType::ICEServerHeartbeatACK).toDatagram()),
      _deniedDatagram(NLDatagram::create(PacketType::ICEServerHeartbeatDenied).toDatagram()), _shared(shared),
      _rateLimiter(*_shared.rateLimiter), _peers(*_shared.peers) {
    _receiver.registerDirectListener(PacketType::ICEServerHeartbeat, this, &IceServer::processPacketView);
    _receiver.registerDirectListener(PacketType::ICEServerQuery, this, &IceServer::processPacketView);
    connect(&_receiver, &PacketReceiver::stunDatagramReceived, this, &IceServer::processStun);
    connect(_keys, &DomainKeyStore::keyRevoked, this, &IceServer::dropPeer);
    _sweepTimer.setInterval(_settings.sweepIntervalMs);
    connect(&_sweepTimer, &QTimer::timeout, this, &IceServer::clearInactivePeers);
}

void IceServer::start() {
    connect(_transport, &UdpTransport::datagramReceived, this, &IceServer::processDatagram, Qt::UniqueConnection);
    if (_settings.sweepIntervalMs > 0) {
        _sweepTimer.start();
    }
}

void IceServer::processDatagram(const QByteArray &datagram, const IpEndpoint &sender) {
    ++_counts.datagramsIn;
    // The limit comes before any decoding, so a flood costs a hash lookup per datagram.
    if (!_rateLimiter.allow(sender, _clock())) {
        ++_counts.drops[IceServerStats::RateLimited];
        qCDebug(ice_server_packets) << "rate limited" << sender;
        return;
    }
    _receiver.handleDatagram(datagram, sender);
}

void IceServer::processPacketView(const PacketReceiver::PacketView &packet) {
    switch (packet.type) {
    case PacketType::ICEServerHeartbeat: processHeartbeat(packet.payload, packet.sender); break;
    case PacketType::ICEServerQuery: processQuery(packet.payload, packet.sender); break;
    default: break;
    }
}

void IceServer::send(PacketType type, const QByteArray &payload, const IpEndpoint &destination) {
    if (!_sender.sendPacket(type, payload, destination)) {
        ++_counts.drops[IceServerStats::SendFailed];
    }
}

void IceServer::sendEncoded(QByteArray &datagram, const IpEndpoint &destination) {
    if (!_sender.sendEncoded(datagram, destination)) {
        ++_counts.drops[IceServerStats::SendFailed];
    }
}

void IceServer::processHeartbeat(const QByteArray &payload, const IpEndpoint &sender) {
    // payload may be a view into the datagram: nothing below keeps it beyond this call (PeerTable
    // stores its own copy).
    const qint64 now = _clock();
    const QUuid peekedID = IceServerHeartbeat::peekDomainID(payload);
    quint64 serial = 0;
    if (!peekedID.isNull() && _keys->knownSerial(peekedID, now, &serial)
        && _peers.refreshRepeat(peekedID, payload, sender, serial, now)) {
        // The same bytes as the heartbeat last accepted from this socket under the same key: it
        // decodes and verifies as before, so the only thing to do is refresh and ACK. One shard lock,
        // no copy of the key; anything else (or a key that may be refreshing) takes the full path.
        ++_counts.verifyCacheHits;
        ++_counts.heartbeatsAcked;
        qCDebug(ice_server_packets) << "heartbeat" << peekedID << "from" << sender << "repeated";
        sendEncoded(_ackDatagram, sender);
        if (_cluster) {
            announce(peekedID, _keys->lookup(peekedID, now), now);
        }
        return;
    }

    const Decoded<IceServerHeartbeat> decoded = IceServerHeartbeat::fromPayload(payload);
    if (!decoded.ok() || decoded.value.domainID.isNull()) {
        ++_counts.drops[IceServerStats::Malformed];
        qCDebug(ice_server_packets) << "malformed heartbeat from" << sender << wireErrorString(decoded.error);
        return;
    }
    const IceServerHeartbeat &heartbeat = decoded.value;
    const DomainKeyStore::Lookup key = _keys->lookup(heartbeat.domainID, now);
    if (key.state != DomainKeyStore::Lookup::Known) {
        // As upstream: Denied while the key is unknown or still being fetched (docs/protocol.md 3.2).
        ++_counts.deniedNoKey;
        qCDebug(ice_server_packets) << "denied" << heartbeat.domainID << "from" << sender << ": no key"
                                    << (key.state == DomainKeyStore::Lookup::Pending ? "yet" : "");
        sendEncoded(_deniedDatagram, sender);
        return;
    }

    // A payload byte-identical to one already accepted under this key has a good signature,
    // whoever resends it: skip the RSA verify. The replay rule below still decides what it may do.
    if (_peers.isKnownGood(heartbeat.domainID, payload, key.serial)) {
        ++_counts.verifyCacheHits;
    } else {
        ++_counts.rsaVerifies;
        if (!_crypto->verify(key.key, heartbeat.plaintext, heartbeat.signature)) {
            ++_counts.deniedBadSignature;
            _keys->verifyFailed(heartbeat.domainID, now);
            qCDebug(ice_server_packets) << "denied" << heartbeat.domainID << "from" << sender << ": bad signature";
            sendEncoded(_deniedDatagram, sender);
            return;
        }
    }

    const PeerTable::Decision decision = _peers.applyVerifiedHeartbeat(heartbeat, sender, payload, key.serial, now);
    qCDebug(ice_server_packets) << "heartbeat" << heartbeat.domainID << "from" << sender << decisionName(decision);
    switch (decision) {
    case PeerTable::Decision::TableFull:
        // Not Denied: that would make the domain regenerate its key. Silence makes it fail over.
        ++_counts.drops[IceServerStats::TableFull];
        return;
    case PeerTable::Decision::Ignored:
        // The signature is good, so ACK as upstream would; the record stays where it was.
        ++_counts.drops[IceServerStats::ReplayIgnored];
        break;
    case PeerTable::Decision::Registered:
        ++_counts.registrations;
        qCDebug(ice_server) << "domain" << heartbeat.domainID << "registered from" << sender;
        Q_EMIT peerRegistered(heartbeat.domainID);
        break;
    case PeerTable::Decision::Moved: ++_counts.moves; break;
    case PeerTable::Decision::Refreshed: break;
    }
    ++_counts.heartbeatsAcked;
    sendEncoded(_ackDatagram, sender);
    if (_cluster && decision != PeerTable::Decision::Ignored) {
        announce(heartbeat.domainID, key, now);
    }
}

void IceServer::announce(const QUuid &domainID, const DomainKeyStore::Lookup &key, qint64 now) {
    if (const std::optional<PeerTable::Peer> peer = _peers.find(domainID)) {
        _cluster->domainHeard(*peer, key, now);
    }
}

void IceServer::processQuery(const QByteArray &payload, const IpEndpoint &sender) {
    // A layout check instead of a decode: the querier's record is forwarded as received.
    const IceServerQuery::Scanned query = IceServerQuery::scan(payload);
    if (query.error != WireError::NoError) {
        ++_counts.drops[IceServerStats::Malformed];
        qCDebug(ice_server_packets) << "malformed query from" << sender << wireErrorString(query.error);
        return;
    }
    // The querier's record as received, which is byte-identical to upstream's re-encode for every
    // payload the decoder accepts (IceServerQuery::scan).
    const QByteArray querierRecord = QByteArray::fromRawData(payload.constData(), query.recordSize);
    if (_cluster) {
        PeerTable::Route local;
        if (!_peers.route(query.domainID, &local) || !_cluster->answerLocally(query.domainID)) {
            _cluster->resolveQuery(this, query.domainID, querierRecord, sender, _clock());
            return;
        }
    }
    answerQuery(query.domainID, querierRecord, sender);
}

bool IceServer::answerQuery(const QUuid &domainID, const QByteArray &querierRecord, const IpEndpoint &querier) {
    PeerTable::Route domain; // a copy: another thread may change the record meanwhile
    if (!_peers.route(domainID, &domain)) {
        ++_counts.drops[IceServerStats::UnknownDomain];
        qCDebug(ice_server_packets) << "query from" << querier << "for unknown domain" << domainID;
        return false;
    }
    ++_counts.queriesAnswered;
    qCDebug(ice_server_packets) << "query from" << querier << "for" << domainID << "-> domain at"
                                << domain.activeSocket;
    // The domain's record to the querier's observed address, the querier's self-reported record to
    // the domain (docs/protocol.md 3.4).
    send(PacketType::ICEServerPeerInformation, domain.peerInformation, querier);
    send(PacketType::ICEServerPeerInformation, querierRecord, domain.activeSocket);
    return true;
}

void IceServer::answerForOtherNode(const QByteArray &domainInformation, const IpEndpoint &querier) {
    ++_counts.queriesAnswered;
    send(PacketType::ICEServerPeerInformation, domainInformation, querier);
}

bool IceServer::introduceQuerier(const QUuid &domainID, const QByteArray &querierRecord) {
    PeerTable::Route domain;
    if (!_peers.route(domainID, &domain)) {
        return false;
    }
    send(PacketType::ICEServerPeerInformation, querierRecord, domain.activeSocket);
    return true;
}

void IceServer::processStun(const QByteArray &datagram, const IpEndpoint &sender) {
    ++_counts.stunIn;
    const Decoded<StunMessage> decoded = StunMessage::decode(datagram);
    if (!decoded.ok() || decoded.value.type != StunMessage::BindingRequest) {
        ++_counts.drops[IceServerStats::Malformed];
        return;
    }
    // Tell the requester where it was seen from (what the domain and client use as their public
    // socket when this ice-server is also their STUN server).
    const QByteArray response = StunMessage::bindingSuccess(decoded.value.transactionId, sender).encode();
    if (_transport->writeDatagram(response, sender) == response.size()) {
        ++_counts.stunOut;
    } else {
        ++_counts.drops[IceServerStats::SendFailed];
    }
}

void IceServer::dropPeer(const QUuid &domainID) {
    if (_peers.remove(domainID)) {
        qCInfo(ice_server) << "domain" << domainID << "unregistered: its key was revoked";
        if (_cluster) {
            _cluster->domainDropped(domainID);
        }
        Q_EMIT peerRemoved(domainID);
    }
}

void IceServer::clearInactivePeers() {
    const int before = _peers.size();
    QList<QUuid> expired;
    const int removed = _peers.expire(_clock(), _settings.peerTimeoutMs, _cluster ? &expired : nullptr);
    for (const QUuid &domainID : qAsConst(expired)) {
        _cluster->domainDropped(domainID);
    }
    if (removed > 0) {
        _counts.expirations += quint64(removed);
        qCDebug(ice_server) << removed << "of" << before << "domains expired";
        Q_EMIT peersExpired(removed);
    }
}

IceServerStats IceServer::stats() const {
    IceServerStats s = trafficStats();
    addSharedStats(&s);
    return s;
}

IceServerStats IceServer::trafficStats() const {
    IceServerStats s = _counts;
    const PacketReceiver::Counters &rx = _receiver.counters();
    s.packetsInByType = rx.receivedByType;
    for (int type = 0; type < 256; ++type) {
        s.packetsOutByType[size_t(type)] = _sender.sentCount(PacketType(type));
    }
    s.drops[IceServerStats::Malformed] += rx.dropped[size_t(PacketReceiver::DropReason::Malformed)];
    s.drops[IceServerStats::UnknownType] += rx.dropped[size_t(PacketReceiver::DropReason::UnknownType)];
    s.drops[IceServerStats::VersionMismatch] += rx.dropped[size_t(PacketReceiver::DropReason::VersionMismatch)];
    s.drops[IceServerStats::NoListener] += rx.dropped[size_t(PacketReceiver::DropReason::NoListener)];
    return s;
}

void IceServer::addSharedStats(IceServerStats *stats) const {
    IceServerStats &s = *stats;
    s.registeredDomains = _peers.size();

    s.rateLimitTrackedSources = _rateLimiter.trackedSources();
    s.rateLimitedSources = _rateLimiter.counters().limitedSources;

    s.keyNegativeHits = _keys->counters().negativeHits;
    s.cachedKeys = _keys->cachedKeys();
    if (const KeyDirectory *directory = _keys->directory()) {
        s.directoryKeys = directory->size();
    }
    if (const MetaverseKeyFetcher *fetcher = _keys->fetcher()) {
        const MetaverseKeyFetcher::Counters &f = fetcher->counters();
        s.keyFetchesStarted = f.started;
        s.keyFetchesRefusedInFlight = f.refusedInFlight;
        s.keyFetchesRefusedRate = f.refusedRate;
        for (size_t i = 0; i < s.keyFetchOutcomes.size() && i < f.outcomes.size(); ++i) {
            s.keyFetchOutcomes[i] = f.outcomes[i];
        }
        s.keyFetchesInFlight = fetcher->inFlight();
    }
}
