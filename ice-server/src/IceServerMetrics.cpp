#include "IceServerMetrics.h"

#include "MetaverseKeyFetcher.h"

#include <PacketHeaders.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <functional>
#include <map>
#include <vector>

using prometheus::Counter;
using prometheus::Gauge;

struct IceServerMetrics::Families {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

    prometheus::Family<Counter> &counterFamily(const std::string &name, const std::string &help) {
        return prometheus::BuildCounter().Name(name).Help(help).Register(*registry);
    }
    prometheus::Family<Gauge> &gaugeFamily(const std::string &name, const std::string &help) {
        return prometheus::BuildGauge().Name(name).Help(help).Register(*registry);
    }

    Counter *datagrams = nullptr;
    std::map<int, Counter *> packetsIn, packetsOut;
    Counter *stunIn = nullptr, *stunOut = nullptr;
    std::map<int, Counter *> drops;
    Counter *acked = nullptr, *deniedNoKey = nullptr, *deniedBadSignature = nullptr;
    Counter *cacheHits = nullptr, *rsaVerifies = nullptr, *queriesAnswered = nullptr;
    Counter *registrations = nullptr, *expirations = nullptr, *moves = nullptr;
    Gauge *domains = nullptr;
    Counter *fetchesStarted = nullptr, *refusedInFlight = nullptr, *refusedRate = nullptr, *negativeHits = nullptr;
    std::map<int, Counter *> fetchOutcomes;
    Gauge *fetchesInFlight = nullptr, *cachedKeys = nullptr, *directoryKeys = nullptr;
    Counter *limitedSources = nullptr;
    Gauge *trackedSources = nullptr;
    Gauge *healthy = nullptr;
};

IceServerMetrics::IceServerMetrics() : d(new Families) {
    d->datagrams = &d->counterFamily("ice_server_datagrams_received_total", "UDP datagrams received").Add({});
    auto &in = d->counterFamily("ice_server_packets_received_total", "Overte packets accepted for handling, by type");
    auto &out = d->counterFamily("ice_server_packets_sent_total", "Overte packets sent, by type");
    const PacketType *types = allPacketTypes();
    for (int i = 0; i < packetTypeTableSize(); ++i) {
        const int number = int(types[i]);
        d->packetsIn[number] = &in.Add({ { "type", packetTypeName(types[i]) } });
        d->packetsOut[number] = &out.Add({ { "type", packetTypeName(types[i]) } });
    }
    d->stunIn = &d->counterFamily("ice_server_stun_requests_total", "STUN datagrams received").Add({});
    d->stunOut = &d->counterFamily("ice_server_stun_responses_total", "STUN binding responses sent").Add({});
    auto &drops = d->counterFamily("ice_server_packets_dropped_total", "Datagrams dropped, by reason");
    for (int reason = 0; reason < IceServerStats::DropCount; ++reason) {
        d->drops[reason] = &drops.Add({ { "reason", IceServerStats::dropName(reason) } });
    }
    auto &heartbeats = d->counterFamily("ice_server_heartbeats_total", "Heartbeats answered, by result");
    d->acked = &heartbeats.Add({ { "result", "acked" } });
    d->deniedNoKey = &heartbeats.Add({ { "result", "denied_no_key" } });
    d->deniedBadSignature = &heartbeats.Add({ { "result", "denied_bad_signature" } });
    d->cacheHits = &d->counterFamily("ice_server_verify_cache_hits_total",
                                     "Heartbeats whose RSA verify was skipped (byte-identical to one verified)")
                        .Add({});
    d->rsaVerifies = &d->counterFamily("ice_server_rsa_verifies_total", "RSA signature verifications").Add({});
    d->queriesAnswered = &d->counterFamily("ice_server_queries_answered_total", "Queries for a registered domain")
                              .Add({});
    d->registrations = &d->counterFamily("ice_server_domain_registrations_total", "Domains registered").Add({});
    d->expirations = &d->counterFamily("ice_server_domain_expirations_total", "Domains dropped after silence").Add({});
    d->moves = &d->counterFamily("ice_server_active_socket_moves_total", "Domain active sockets moved").Add({});
    d->domains = &d->gaugeFamily("ice_server_registered_domains", "Domains currently registered").Add({});
    d->fetchesStarted = &d->counterFamily("ice_server_key_fetches_started_total", "Metaverse key GETs started").Add({});
    auto &outcomes = d->counterFamily("ice_server_key_fetches_total", "Metaverse key GETs finished, by outcome");
    for (int i = 0; i < int(MetaverseKeyFetcher::Outcome::Count); ++i) {
        d->fetchOutcomes[i] = &outcomes.Add(
            { { "outcome", MetaverseKeyFetcher::outcomeName(MetaverseKeyFetcher::Outcome(i)) } });
    }
    auto &refused = d->counterFamily("ice_server_key_fetches_refused_total", "Key GETs not started because of a bound");
    d->refusedInFlight = &refused.Add({ { "bound", "in_flight" } });
    d->refusedRate = &refused.Add({ { "bound", "per_second" } });
    d->negativeHits = &d->counterFamily("ice_server_key_negative_cache_hits_total",
                                        "Lookups answered by the negative cache")
                           .Add({});
    d->fetchesInFlight = &d->gaugeFamily("ice_server_key_fetches_in_flight", "Key GETs in flight").Add({});
    d->cachedKeys = &d->gaugeFamily("ice_server_cached_keys", "Keys fetched from the metaverse and cached").Add({});
    d->directoryKeys = &d->gaugeFamily("ice_server_directory_keys", "Keys in the key directory").Add({});
    d->limitedSources = &d->counterFamily("ice_server_rate_limited_sources_total",
                                          "Times a source address went over its rate limit")
                             .Add({});
    d->trackedSources = &d->gaugeFamily("ice_server_rate_limit_tracked_sources", "Source addresses with a bucket")
                             .Add({});
    d->healthy = &d->gaugeFamily("ice_server_healthy", "1 when /status says healthy").Add({});
}

// The cluster's counters, each read from a Status by a small function so update() is one loop.
struct IceServerMetrics::ClusterFamilies {
    using Read = std::function<quint64(const ClusterLink::Status &)>;
    std::vector<std::pair<Counter *, Read>> counters;
    Gauge *up = nullptr, *owned = nullptr;
    prometheus::Family<Gauge> *info = nullptr;
    Gauge *infoGauge = nullptr;
    std::string infoNode, infoRedis;

    void add(Families &d, const std::string &name, const std::string &help, Read read) {
        counters.emplace_back(&d.counterFamily(name, help).Add({}), std::move(read));
    }
    void add(prometheus::Family<Counter> &family, const std::string &label, const std::string &value, Read read) {
        counters.emplace_back(&family.Add({ { label, value } }), std::move(read));
    }
};

IceServerMetrics::~IceServerMetrics() = default;

namespace {
void advance(Counter *counter, quint64 now, quint64 before) {
    if (counter && now > before) {
        counter->Increment(double(now - before));
    }
}
} // namespace

void IceServerMetrics::update(const IceServerStats &s, bool healthy) {
    const IceServerStats &p = _previous;
    advance(d->datagrams, s.datagramsIn, p.datagramsIn);
    for (auto &entry : d->packetsIn) {
        advance(entry.second, s.packetsInByType[size_t(entry.first)], p.packetsInByType[size_t(entry.first)]);
    }
    for (auto &entry : d->packetsOut) {
        advance(entry.second, s.packetsOutByType[size_t(entry.first)], p.packetsOutByType[size_t(entry.first)]);
    }
    advance(d->stunIn, s.stunIn, p.stunIn);
    advance(d->stunOut, s.stunOut, p.stunOut);
    for (auto &entry : d->drops) {
        advance(entry.second, s.drops[size_t(entry.first)], p.drops[size_t(entry.first)]);
    }
    advance(d->acked, s.heartbeatsAcked, p.heartbeatsAcked);
    advance(d->deniedNoKey, s.deniedNoKey, p.deniedNoKey);
    advance(d->deniedBadSignature, s.deniedBadSignature, p.deniedBadSignature);
    advance(d->cacheHits, s.verifyCacheHits, p.verifyCacheHits);
    advance(d->rsaVerifies, s.rsaVerifies, p.rsaVerifies);
    advance(d->queriesAnswered, s.queriesAnswered, p.queriesAnswered);
    advance(d->registrations, s.registrations, p.registrations);
    advance(d->expirations, s.expirations, p.expirations);
    advance(d->moves, s.moves, p.moves);
    d->domains->Set(s.registeredDomains);
    advance(d->fetchesStarted, s.keyFetchesStarted, p.keyFetchesStarted);
    for (auto &entry : d->fetchOutcomes) {
        advance(entry.second, s.keyFetchOutcomes[size_t(entry.first)], p.keyFetchOutcomes[size_t(entry.first)]);
    }
    advance(d->refusedInFlight, s.keyFetchesRefusedInFlight, p.keyFetchesRefusedInFlight);
    advance(d->refusedRate, s.keyFetchesRefusedRate, p.keyFetchesRefusedRate);
    advance(d->negativeHits, s.keyNegativeHits, p.keyNegativeHits);
    d->fetchesInFlight->Set(s.keyFetchesInFlight);
    d->cachedKeys->Set(s.cachedKeys);
    d->directoryKeys->Set(s.directoryKeys);
    advance(d->limitedSources, s.rateLimitedSources, p.rateLimitedSources);
    d->trackedSources->Set(s.rateLimitTrackedSources);
    d->healthy->Set(healthy ? 1 : 0);
    _previous = s;
}

void IceServerMetrics::updateCluster(const ClusterLink::Status &c) {
    using S = ClusterLink::Status;
    if (!_cluster) {
        _cluster = std::make_unique<ClusterFamilies>();
        ClusterFamilies &f = *_cluster;
        f.up = &d->gaugeFamily("ice_server_cluster_redis_up", "1 while both Redis connections are up").Add({});
        f.owned = &d->gaugeFamily("ice_server_cluster_owned_domains", "Domains this node publishes to the cluster")
                       .Add({});
        f.info = &d->gaugeFamily("ice_server_cluster_info", "This node's ID and its Redis (password redacted)");
        f.add(*d, "ice_server_cluster_redis_commands_total", "Redis commands sent, both connections",
              [](const S &s) { return s.registry.redisCommands; });
        f.add(*d, "ice_server_cluster_redis_errors_total", "Redis error replies and connection failures",
              [](const S &s) { return s.registry.redisErrors; });
        f.add(*d, "ice_server_cluster_redis_timeouts_total", "Redis commands without a reply in time",
              [](const S &s) { return s.registry.redisTimeouts; });
        f.add(*d, "ice_server_cluster_redis_reconnects_total", "Redis connects after the first",
              [](const S &s) { return s.registry.redisReconnects; });
        f.add(*d, "ice_server_cluster_publish_calls_total", "Verified heartbeats offered to the cluster",
              [](const S &s) { return s.registry.publishCalls; });
        auto &writes = d->counterFamily("ice_server_cluster_writes_total", "Registration writes to Redis, by result");
        f.add(writes, "result", "sent", [](const S &s) { return s.registry.writes; });
        f.add(writes, "result", "error", [](const S &s) { return s.registry.writeErrors; });
        f.add(writes, "result", "rejected", [](const S &s) { return s.registry.rejected; });
        f.add(writes, "result", "takeover", [](const S &s) { return s.registry.takeovers; });
        f.add(writes, "result", "republished", [](const S &s) { return s.registry.republished; });
        f.add(*d, "ice_server_cluster_unpublishes_total", "Registrations withdrawn (domain expired or revoked here)",
              [](const S &s) { return s.registry.unpublishes; });
        f.add(*d, "ice_server_cluster_lookups_total", "Lookups for domains the local table does not answer",
              [](const S &s) { return s.registry.lookups; });
        auto &lookups = d->counterFamily("ice_server_cluster_lookup_results_total", "Lookup answers, by result");
        f.add(lookups, "result", "found", [](const S &s) { return s.registry.lookupsFound; });
        f.add(lookups, "result", "not_found", [](const S &s) { return s.registry.lookupsNotFound; });
        f.add(lookups, "result", "negative_cache", [](const S &s) { return s.registry.negativeHits; });
        f.add(lookups, "result", "shed", [](const S &s) { return s.registry.lookupsShed; });
        f.add(lookups, "result", "error", [](const S &s) { return s.registry.lookupErrors; });
        f.add(*d, "ice_server_cluster_lookups_sent_total", "Lookups that reached Redis",
              [](const S &s) { return s.registry.lookupsSent; });
        f.add(*d, "ice_server_cluster_lookups_coalesced_total", "Lookups that joined one already in flight",
              [](const S &s) { return s.registry.coalesced; });
        f.add(*d, "ice_server_cluster_cross_node_answers_total", "Queries answered for a domain another node holds",
              [](const S &s) { return s.link.crossNodeAnswers; });
        auto &forwards = d->counterFamily("ice_server_cluster_forwards_total",
                                          "Introductions between nodes (Redis pub/sub), by result");
        f.add(forwards, "result", "sent", [](const S &s) { return s.registry.forwardsSent; });
        f.add(forwards, "result", "undelivered", [](const S &s) { return s.registry.forwardsUndelivered; });
        f.add(forwards, "result", "received", [](const S &s) { return s.registry.forwardsReceived; });
        f.add(forwards, "result", "malformed",
              [](const S &s) { return s.registry.forwardsMalformed + s.link.introductionsMalformed; });
        f.add(forwards, "result", "delivered", [](const S &s) { return s.link.introductionsDelivered; });
        f.add(forwards, "result", "stale", [](const S &s) { return s.link.introductionsStale; });
    }
    ClusterFamilies &f = *_cluster;
    for (auto &entry : f.counters) {
        advance(entry.first, entry.second(c), entry.second(_previousCluster));
    }
    f.up->Set(c.healthy ? 1 : 0);
    f.owned->Set(c.ownedDomains);
    const std::string node = c.nodeId.toStdString();
    const std::string redis = c.redis.toStdString();
    if (!f.infoGauge || node != f.infoNode || redis != f.infoRedis) {
        if (f.infoGauge) {
            f.info->Remove(f.infoGauge);
        }
        f.infoGauge = &f.info->Add({ { "node_id", node }, { "redis", redis } });
        f.infoGauge->Set(1);
        f.infoNode = node;
        f.infoRedis = redis;
    }
    _previousCluster = c;
}

std::string IceServerMetrics::text() const {
    return prometheus::TextSerializer().Serialize(d->registry->Collect());
}
