// StunMessage against golden bytes: the binding request of docs/protocol.md section 6, its
// worked XOR-MAPPED-ADDRESS example, the mapped addresses of RFC 5769's sample responses, the
// MAPPED-ADDRESS fallback, attribute padding, transaction checks and malformed input.
#include "WireGolden.h"
#include "WireInvariants.h"

#include <StunMessage.h>

#include <QtCore/QRandomGenerator>
#include <QtTest/QtTest>

using golden::addr;
using golden::errorName;
using golden::hex;
using wireinvariants::sameSockAddr;

namespace {

const QByteArray kTxid = hex("00 11 22 33 44 55 66 77 88 99 aa bb");
// RFC 5769 sections 2.2 and 2.3 use this transaction ID.
const QByteArray kRfcTxid = hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae");
const QByteArray kCookie = hex("21 12 a4 42");
// RFC 5769's SOFTWARE attribute: "test vector", 11 bytes, padded with one 0x20.
const QByteArray kRfcSoftware = hex("80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20");
// Section 6: 203.0.113.5:40102 as XOR-MAPPED-ADDRESS.
const QByteArray kSection6Xor = hex("00 20 00 08 00 01 bd b4 ea 12 d5 47");

QByteArray stun(const char *type, const QByteArray &txid, const QByteArray &attributes) {
    QByteArray out = hex(type);
    out += char(attributes.size() >> 8);
    out += char(attributes.size() & 0xff);
    return out + kCookie + txid + attributes;
}

} // namespace

class tst_StunMessage : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void bindingRequest_data();
    void bindingRequest();
    void bindingRequestIsRandom();
    void successResponse_data();
    void successResponse();
    void rfc5769_data();
    void rfc5769();
    void transactionMismatch();
    void mappedAddressFallback_data();
    void mappedAddressFallback();
    void unpaddedAttribute_data();
    void unpaddedAttribute();
    void errors_data();
    void errors();
    void looksLikeStun_data();
    void looksLikeStun();
    void stunMustBeTestedFirst();
    void truncations_data();
    void truncations();
    void garbage();
};

void tst_StunMessage::bindingRequest_data() {
    QTest::addColumn<QByteArray>("transactionId");
    QTest::newRow("counting") << kTxid;
    QTest::newRow("rfc 5769") << kRfcTxid;
    QTest::newRow("zeros") << QByteArray(12, '\0');
    // Overte uses the first 12 bytes of a v4 UUID (section 6).
    QTest::newRow("uuid prefix") << hex("0f 1e 2d 3c 4b 5a 49 78 87 96 a5 b4");
}

void tst_StunMessage::bindingRequest() {
    QFETCH(QByteArray, transactionId);
    StunMessage request;
    request.type = StunMessage::BindingRequest;
    request.transactionId = transactionId;
    const QByteArray expected = hex("00 01 00 00 21 12 a4 42") + transactionId;
    QCOMPARE(request.encode().toHex(' '), expected.toHex(' '));
    QVERIFY(StunMessage::looksLikeStun(expected));

    const auto decoded = StunMessage::decode(expected);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QCOMPARE(decoded.value.type, quint16(StunMessage::BindingRequest));
    QCOMPARE(decoded.value.transactionId, transactionId);
    QVERIFY(decoded.value.mappedSocket().isNull());
    // A request is not an answer.
    QCOMPARE(StunMessage::parseBindingResponse(expected, transactionId).error, WireError::NotStun);
}

void tst_StunMessage::bindingRequestIsRandom() {
    const StunMessage a = StunMessage::bindingRequest();
    const StunMessage b = StunMessage::bindingRequest();
    QCOMPARE(int(a.transactionId.size()), StunMessage::TransactionIdSize);
    QVERIFY(a.transactionId != b.transactionId);
    const QByteArray bytes = a.encode();
    QCOMPARE(int(bytes.size()), 20);
    QCOMPARE(bytes.left(8), hex("00 01 00 00 21 12 a4 42"));
    QCOMPARE(bytes.mid(8), a.transactionId);
}

void tst_StunMessage::successResponse_data() {
    QTest::addColumn<QByteArray>("transactionId");
    QTest::addColumn<SockAddr>("observed");
    QTest::addColumn<QByteArray>("datagram");

    QTest::newRow("section 6 example") << kTxid << addr("203.0.113.5", 40102) << stun("01 01", kTxid, kSection6Xor);
    // Port 32853 = 0x8055, ^ 0x2112 = a1 47; 192.0.2.1 ^ 21 12 a4 42 = e1 12 a6 43.
    QTest::newRow("rfc 5769 ipv4 address")
        << kRfcTxid << addr("192.0.2.1", 32853) << stun("01 01", kRfcTxid, hex("00 20 00 08 00 01 a1 47 e1 12 a6 43"));
    // The IPv6 address is XORed with the cookie and the transaction ID.
    QTest::newRow("rfc 5769 ipv6 address")
        << kRfcTxid << addr("2001:db8:1234:5678:11:2233:4455:6677", 32853)
        << stun("01 01", kRfcTxid, hex("00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"));
    QTest::newRow("port 0, 0.0.0.0") << kTxid << addr("0.0.0.0", 0)
                                     << stun("01 01", kTxid, hex("00 20 00 08 00 01 21 12 21 12 a4 42"));
}

void tst_StunMessage::successResponse() {
    QFETCH(QByteArray, transactionId);
    QFETCH(SockAddr, observed);
    QFETCH(QByteArray, datagram);

    QCOMPARE(StunMessage::bindingSuccess(transactionId, observed).encode().toHex(' '), datagram.toHex(' '));
    QVERIFY(StunMessage::looksLikeStun(datagram));
    const auto decoded = StunMessage::decode(datagram);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QCOMPARE(decoded.value.type, quint16(StunMessage::BindingSuccess));
    QCOMPARE(decoded.value.transactionId, transactionId);
    QVERIFY(sameSockAddr(decoded.value.xorMappedAddress, observed));
    QVERIFY(decoded.value.mappedAddress.isNull());
    const auto mapped = StunMessage::parseBindingResponse(datagram, transactionId);
    QVERIFY2(mapped.ok(), errorName(mapped.error));
    QVERIFY(sameSockAddr(mapped.value, observed));
}

// RFC 5769 2.2 and 2.3 without MESSAGE-INTEGRITY and FINGERPRINT (we check neither), and again
// with those two attributes present as zero-filled placeholders of their real sizes and the
// RFC's original message lengths (0x3c, 0x48), to show they are walked over.
void tst_StunMessage::rfc5769_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<SockAddr>("expected");

    const QByteArray v4 = hex("00 20 00 08 00 01 a1 47 e1 12 a6 43");
    const QByteArray v6 = hex("00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9");
    const QByteArray integrityAndFingerprint = hex("00 08 00 14") + QByteArray(20, '\0') + hex("80 28 00 04")
                                               + QByteArray(4, '\0');
    const SockAddr v4Addr = addr("192.0.2.1", 32853);
    const SockAddr v6Addr = addr("2001:db8:1234:5678:11:2233:4455:6677", 32853);

    QTest::newRow("2.2 ipv4 response") << stun("01 01", kRfcTxid, kRfcSoftware + v4) << v4Addr;
    QTest::newRow("2.2 ipv4 response + MI/FP placeholders")
        << stun("01 01", kRfcTxid, kRfcSoftware + v4 + integrityAndFingerprint) << v4Addr;
    QTest::newRow("2.3 ipv6 response") << stun("01 01", kRfcTxid, kRfcSoftware + v6) << v6Addr;
    QTest::newRow("2.3 ipv6 response + MI/FP placeholders")
        << stun("01 01", kRfcTxid, kRfcSoftware + v6 + integrityAndFingerprint) << v6Addr;
}

void tst_StunMessage::rfc5769() {
    QFETCH(QByteArray, datagram);
    QFETCH(SockAddr, expected);

    if (datagram.size() > 60) {
        QVERIFY(datagram.mid(2, 2) == hex("00 3c") || datagram.mid(2, 2) == hex("00 48"));
    }
    QVERIFY(StunMessage::looksLikeStun(datagram));
    const auto decoded = StunMessage::decode(datagram);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QCOMPARE(decoded.value.transactionId, kRfcTxid);
    QVERIFY(sameSockAddr(decoded.value.xorMappedAddress, expected));
    const auto mapped = StunMessage::parseBindingResponse(datagram, kRfcTxid);
    QVERIFY2(mapped.ok(), errorName(mapped.error));
    QVERIFY(sameSockAddr(mapped.value, expected));
}

void tst_StunMessage::transactionMismatch() {
    const QByteArray response = stun("01 01", kTxid, kSection6Xor);
    QVERIFY(StunMessage::parseBindingResponse(response, kTxid).ok());
    QByteArray other = kTxid;
    other[11] = char(other[11] ^ 1);
    QCOMPARE(StunMessage::parseBindingResponse(response, other).error, WireError::StunTransactionMismatch);
    QCOMPARE(StunMessage::parseBindingResponse(response, kRfcTxid).error, WireError::StunTransactionMismatch);
    QCOMPARE(StunMessage::parseBindingResponse(response, QByteArray()).error, WireError::StunTransactionMismatch);
    QCOMPARE(StunMessage::parseBindingResponse(response, kTxid.left(11)).error, WireError::StunTransactionMismatch);
}

void tst_StunMessage::mappedAddressFallback_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<SockAddr>("expected");

    const QByteArray mapped = hex("00 01 00 08 00 01 9c a6 cb 00 71 05"); // not XORed
    QTest::newRow("MAPPED-ADDRESS only") << stun("01 01", kTxid, mapped) << addr("203.0.113.5", 40102);
    QTest::newRow("MAPPED-ADDRESS ipv6") << stun(
        "01 01", kTxid, hex("00 01 00 14 00 02 80 55 20 01 0d b8 12 34 56 78 00 11 22 33 44 55 66 77"))
                                         << addr("2001:db8:1234:5678:11:2233:4455:6677", 32853);
    // With both, XOR-MAPPED-ADDRESS wins (NATs that rewrite addresses in payloads miss the XORed one).
    QTest::newRow("both, MAPPED first") << stun("01 01", kTxid,
                                                hex("00 01 00 08 00 01 00 07 01 02 03 04") + kSection6Xor)
                                        << addr("203.0.113.5", 40102);
    QTest::newRow("both, XOR first") << stun("01 01", kTxid, kSection6Xor + hex("00 01 00 08 00 01 00 07 01 02 03 04"))
                                     << addr("203.0.113.5", 40102);
}

void tst_StunMessage::mappedAddressFallback() {
    QFETCH(QByteArray, datagram);
    QFETCH(SockAddr, expected);

    const auto decoded = StunMessage::decode(datagram);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QVERIFY(sameSockAddr(decoded.value.mappedSocket(), expected));
    const auto mapped = StunMessage::parseBindingResponse(datagram, kTxid);
    QVERIFY2(mapped.ok(), errorName(mapped.error));
    QVERIFY(sameSockAddr(mapped.value, expected));

    // Re-encoding keeps both attributes.
    const auto again = StunMessage::decode(decoded.value.encode());
    QVERIFY(again.ok());
    QVERIFY(sameSockAddr(again.value.mappedAddress, decoded.value.mappedAddress));
    QVERIFY(sameSockAddr(again.value.xorMappedAddress, decoded.value.xorMappedAddress));
}

// Upstream skips 4 + length and so misreads whatever follows an attribute whose length is not a
// multiple of 4 (section 6). The value is padded to 4 bytes and the walk must honour that.
void tst_StunMessage::unpaddedAttribute_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::newRow("SOFTWARE length 5 padded to 8")
        << stun("01 01", kTxid, hex("80 22 00 05 61 62 63 64 65 00 00 00") + kSection6Xor);
    QTest::newRow("SOFTWARE length 1 padded to 4")
        << stun("01 01", kTxid, hex("80 22 00 01 61 00 00 00") + kSection6Xor);
    QTest::newRow("SOFTWARE length 3 padded to 4")
        << stun("01 01", kTxid, hex("80 22 00 03 61 62 63 20") + kSection6Xor);
    QTest::newRow("empty attribute then two odd ones")
        << stun("01 01", kTxid,
                hex("80 22 00 00  80 23 00 02 aa bb 00 00  80 24 00 07 01 02 03 04 05 06 07 00") + kSection6Xor);
}

void tst_StunMessage::unpaddedAttribute() {
    QFETCH(QByteArray, datagram);
    QVERIFY(StunMessage::looksLikeStun(datagram));
    const auto mapped = StunMessage::parseBindingResponse(datagram, kTxid);
    QVERIFY2(mapped.ok(), errorName(mapped.error));
    QVERIFY(sameSockAddr(mapped.value, addr("203.0.113.5", 40102)));
}

void tst_StunMessage::errors_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<int>("decodeError"); // WireError from decode()
    QTest::addColumn<int>("parseError");  // WireError from parseBindingResponse(kTxid)

    const int ok = int(WireError::NoError);
    const int notStun = int(WireError::NotStun);
    const int truncated = int(WireError::Truncated);
    const int badAddress = int(WireError::BadAddress);
    QTest::newRow("empty") << QByteArray() << truncated << truncated;
    QTest::newRow("19 bytes") << stun("01 01", kTxid, {}).left(19) << truncated << truncated;
    QTest::newRow("binding error response") << stun("01 11", kTxid, kSection6Xor) << ok << notStun;
    QTest::newRow("no address attribute")
        << stun("01 01", kTxid, kRfcSoftware) << ok << int(WireError::StunNoMappedAddress);
    QTest::newRow("no attributes") << stun("01 01", kTxid, {}) << ok << int(WireError::StunNoMappedAddress);
    QTest::newRow("family 3") << stun("01 01", kTxid, hex("00 20 00 08 00 03 bd b4 ea 12 d5 47")) << badAddress
                              << badAddress;
    QTest::newRow("family 0") << stun("01 01", kTxid, hex("00 01 00 08 00 00 bd b4 ea 12 d5 47")) << badAddress
                              << badAddress;
    QTest::newRow("XOR-MAPPED-ADDRESS length 4")
        << stun("01 01", kTxid, hex("00 20 00 04 00 01 bd b4")) << truncated << truncated;
    QTest::newRow("ipv6 family in 8 bytes")
        << stun("01 01", kTxid, hex("00 20 00 08 00 02 bd b4 ea 12 d5 47")) << truncated << truncated;
    QTest::newRow("attribute runs past the end")
        << stun("01 01", kTxid, hex("80 22 01 00 61 62 63 64")) << truncated << truncated;
    QTest::newRow("odd attribute at the end")
        << stun("01 01", kTxid, hex("80 22 00 05 61 62 63 64")) << truncated << truncated;
    QByteArray wrongCookie = stun("01 01", kTxid, kSection6Xor);
    wrongCookie[4] = 0x20;
    QTest::newRow("wrong magic cookie") << wrongCookie << notStun << notStun;
    QByteArray topBits = stun("01 01", kTxid, kSection6Xor);
    topBits[0] = char(0x41);
    QTest::newRow("top bits set") << topBits << notStun << notStun;
    QTest::newRow("length beyond datagram") << stun("01 01", kTxid, kSection6Xor).left(28) << notStun << notStun;
    QTest::newRow("bytes beyond length") << stun("01 01", kTxid, kSection6Xor) + hex("00 00 00 00") << notStun
                                         << notStun;
    QByteArray oddLength = stun("01 01", kTxid, kSection6Xor + hex("00"));
    QTest::newRow("length not a multiple of 4") << oddLength << notStun << notStun;
}

void tst_StunMessage::errors() {
    QFETCH(QByteArray, datagram);
    QFETCH(int, decodeError);
    QFETCH(int, parseError);
    const auto decoded = StunMessage::decode(datagram);
    QVERIFY2(decoded.error == WireError(decodeError), errorName(decoded.error));
    const auto mapped = StunMessage::parseBindingResponse(datagram, kTxid);
    QVERIFY2(mapped.error == WireError(parseError), errorName(mapped.error));
    QCOMPARE(StunMessage::looksLikeStun(datagram), decodeError != int(WireError::NotStun) && datagram.size() >= 20);
    const auto report = wireinvariants::check(datagram);
    QVERIFY2(report.violation.isEmpty(), qPrintable(report.violation));
}

void tst_StunMessage::looksLikeStun_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<bool>("isStun");

    QTest::newRow("binding request") << hex("00 01 00 00 21 12 a4 42") + kTxid << true;
    QTest::newRow("section 6 response") << stun("01 01", kTxid, kSection6Xor) << true;
    QTest::newRow("rfc 5769 ipv4") << stun("01 01", kRfcTxid, kRfcSoftware + hex("00 20 00 08 00 01 a1 47 e1 12 a6 43"))
                                   << true;
    for (const auto &example : golden::iceDatagrams()) {
        QTest::addRow("ICE %s", example.name) << example.bytes << false;
        // The same datagrams obfuscated: a receiver still has to tell them from STUN.
        for (int level = 1; level <= 3; ++level) {
            const auto packet = NLDatagram::fromDatagram(example.bytes);
            NLDatagram obfuscated = packet.value;
            obfuscated.udt.obfuscationLevel = quint8(level);
            QTest::addRow("ICE %s level %d", example.name, level) << obfuscated.toDatagram() << false;
        }
    }
}

void tst_StunMessage::looksLikeStun() {
    QFETCH(QByteArray, datagram);
    QFETCH(bool, isStun);
    QCOMPARE(StunMessage::looksLikeStun(datagram), isStun);
    if (!isStun) {
        QVERIFY(NLDatagram::fromDatagram(datagram).ok());
        QCOMPARE(StunMessage::decode(datagram).error, datagram.size() < 20 ? WireError::Truncated : WireError::NotStun);
    }
}

// A STUN response whose length's low byte has bit 5 set reads as a UDT word with M=1, and with
// the right transaction ID byte it is a well-formed NL packet. So a receiver must ask
// looksLikeStun() before NLDatagram::fromDatagram() (PacketReceiver does), never the other way round.
void tst_StunMessage::stunMustBeTestedFirst() {
    // Length 0x34: word 0x34000101 = M=1, obfuscation 2. The NL type byte is txid[4] ^ 0x61 ("adraribs").
    const QByteArray txid = hex("00 00 00 00 46 76 00 00 00 00 00 00");
    const QByteArray software = hex("80 22 00 24") + QByteArray(36, 'x');
    const QByteArray datagram = stun("01 01", txid, kSection6Xor + software);
    QCOMPARE(datagram.mid(2, 2), hex("00 34"));
    QVERIFY(StunMessage::looksLikeStun(datagram));
    const auto mapped = StunMessage::parseBindingResponse(datagram, txid);
    QVERIFY2(mapped.ok(), errorName(mapped.error));
    QVERIFY(sameSockAddr(mapped.value, addr("203.0.113.5", 40102)));

    const auto packet = NLDatagram::fromDatagram(datagram);
    QVERIFY(packet.ok());
    QVERIFY(packet.value.udt.message);
    QCOMPARE(int(packet.value.udt.obfuscationLevel), 2);
    QCOMPARE(packet.value.type, PacketType::ICEPing);
    QCOMPARE(int(packet.value.version), 0x76 ^ 0x64);
}

void tst_StunMessage::truncations_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::newRow("binding request") << hex("00 01 00 00 21 12 a4 42") + kTxid;
    QTest::newRow("section 6 response") << stun("01 01", kTxid, kSection6Xor);
    QTest::newRow("rfc 5769 ipv6") << stun(
        "01 01", kRfcTxid,
        kRfcSoftware + hex("00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"));
}

// A cut datagram no longer matches its length field: never decoded, never taken for a mapping.
void tst_StunMessage::truncations() {
    QFETCH(QByteArray, datagram);
    for (int length = 0; length < datagram.size(); ++length) {
        const QByteArray cut = datagram.left(length);
        QVERIFY(!StunMessage::looksLikeStun(cut));
        const auto decoded = StunMessage::decode(cut);
        QCOMPARE(decoded.error, length < 20 ? WireError::Truncated : WireError::NotStun);
        QVERIFY(!StunMessage::parseBindingResponse(cut, datagram.mid(8, 12)).ok());
    }
}

// STUN-shaped noise: a valid header over random attributes, so the attribute walk is exercised.
void tst_StunMessage::garbage() {
    const quint32 seed = 5769;
    qInfo("STUN garbage seed %u", seed);
    QRandomGenerator rng(seed);
    int decoded = 0;
    for (int run = 0; run < 20000; ++run) {
        QByteArray attributes;
        const int count = int(rng.bounded(6));
        for (int i = 0; i < count; ++i) {
            const quint16 types[] = { 0x0001, 0x0020, 0x8022, quint16(rng.bounded(65536)) };
            const quint16 type = types[rng.bounded(4)];
            const int length = int(rng.bounded(2) ? rng.bounded(24) : rng.bounded(300));
            attributes += char(type >> 8);
            attributes += char(type & 0xff);
            attributes += char(length >> 8);
            attributes += char(length & 0xff);
            QByteArray value((length + 3) & ~3, '\0');
            for (char &c : value) {
                c = char(rng.bounded(256));
            }
            if (length >= 2 && rng.bounded(2)) {
                value[1] = char(1 + rng.bounded(2)); // a plausible family byte
            }
            attributes += rng.bounded(8) == 0 ? value.left(int(rng.bounded(int(value.size()) + 1))) : value;
        }
        attributes.truncate(attributes.size() & ~3);
        const QByteArray datagram = stun(rng.bounded(2) ? "01 01" : "00 01", kTxid, attributes);
        const auto report = wireinvariants::check(datagram);
        QVERIFY2(report.violation.isEmpty(),
                 qPrintable(report.violation + QStringLiteral("; input ") + QString::fromLatin1(datagram.toHex())));
        decoded += StunMessage::decode(datagram).ok() ? 1 : 0;
    }
    qInfo("STUN garbage: %d of 20000 decoded", decoded);
    QVERIFY(decoded > 0);
}

QTEST_GUILESS_MAIN(tst_StunMessage)
#include "tst_stunmessage.moc"
