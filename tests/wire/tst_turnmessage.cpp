// TurnMessage and ChannelData against golden bytes: RFC 5769's four sample messages (MESSAGE-INTEGRITY
// with short-term and long-term credentials, FINGERPRINT), TURN messages whose bytes were computed
// by an independent implementation (Python's hmac, hashlib and zlib; see the comment on each row),
// the method/class bit interleaving, and a table of malformed input.
#include "WireGolden.h"
#include "WireInvariants.h"

#include <TurnMessage.h>

#include <QtCore/QRandomGenerator>
#include <QtTest/QtTest>

using golden::addr;
using golden::errorName;
using golden::hex;
using wireinvariants::sameSockAddr;
using wireinvariants::sameTurn;

Q_DECLARE_METATYPE(TurnMessage)

namespace {

const QByteArray kTxid = hex("00 11 22 33 44 55 66 77 88 99 aa bb");
// RFC 5769 2.1-2.3 share this short-term password; the key is the password itself.
const QByteArray kRfcShortTermKey = "VOkJxbRl1RmTxUk/WvJxBt";

// RFC 5769 2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MI, FINGERPRINT.
const QByteArray kRfc21 = hex("00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
                              "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
                              "00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36"
                              "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
                              "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
                              "80 28 00 04 e5 7a 3b cf");
// RFC 5769 2.2: IPv4 response.
const QByteArray kRfc22 = hex("01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
                              "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
                              "00 20 00 08 00 01 a1 47 e1 12 a6 43"
                              "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7"
                              "80 28 00 04 c0 7d 4c 96");
// RFC 5769 2.3: IPv6 response.
const QByteArray kRfc23 = hex("01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
                              "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
                              "00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"
                              "00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41"
                              "80 28 00 04 c8 fb 0b 4c");
// RFC 5769 2.4: long-term credentials. USERNAME is "マトリックス" (18 bytes UTF-8), the password
// "The<U+00AD>M<U+00AA>tr<U+2168>" whose SASLprep form "TheMatrIX" makes the key.
const QByteArray kRfc24 = hex(
    "00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
    "00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00"
    "00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41"
    "00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
    "00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66");
const QByteArray kRfc24User = hex("e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9");

// MD5("u:R:p"), the key of the golden rows below.
const QByteArray kKey = hex("65 3e bc c7 4a ab 44 e1 3b a6 7d f5 6c 92 f1 d2");

TurnMessage message(TurnMessage::Method method, TurnMessage::Class messageClass) {
    TurnMessage m;
    m.method = method;
    m.messageClass = messageClass;
    m.transactionId = kTxid;
    return m;
}

TurnMessage signedRequest(TurnMessage::Method method) {
    TurnMessage m = message(method, TurnMessage::Request);
    m.username = "u";
    m.realm = "R";
    m.nonce = "nonce-1";
    return m;
}

// A STUN-framed datagram around raw attribute bytes, length filled in.
QByteArray stun(const char *type, const QByteArray &attributes) {
    QByteArray out = hex(type);
    out += char(attributes.size() >> 8);
    out += char(attributes.size() & 0xff);
    return out + hex("21 12 a4 42") + kTxid + attributes;
}

} // namespace

class tst_TurnMessage : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void messageType_data();
    void messageType();
    void rfc5769_data();
    void rfc5769();
    void rfc5769LongTermReencodes();
    void golden_data();
    void golden();
    void integrityCoversEveryByte();
    void attributesAfterIntegrityIgnored();
    void firstOccurrenceCounts();
    void channelData_data();
    void channelData();
    void malformed_data();
    void malformed();
    void framing_data();
    void framing();
    void garbage();
};

void tst_TurnMessage::messageType_data() {
    QTest::addColumn<int>("method");
    QTest::addColumn<int>("messageClass");
    QTest::addColumn<int>("type");
    // RFC 8656 table: the request, indication and response types a TURN client sees on the wire.
    QTest::newRow("Binding request") << int(TurnMessage::Binding) << int(TurnMessage::Request) << 0x0001;
    QTest::newRow("Binding success") << int(TurnMessage::Binding) << int(TurnMessage::SuccessResponse) << 0x0101;
    QTest::newRow("Allocate request") << int(TurnMessage::Allocate) << int(TurnMessage::Request) << 0x0003;
    QTest::newRow("Allocate success") << int(TurnMessage::Allocate) << int(TurnMessage::SuccessResponse) << 0x0103;
    QTest::newRow("Allocate error") << int(TurnMessage::Allocate) << int(TurnMessage::ErrorResponse) << 0x0113;
    QTest::newRow("Refresh request") << int(TurnMessage::Refresh) << int(TurnMessage::Request) << 0x0004;
    QTest::newRow("Refresh error") << int(TurnMessage::Refresh) << int(TurnMessage::ErrorResponse) << 0x0114;
    QTest::newRow("Send indication") << int(TurnMessage::Send) << int(TurnMessage::Indication) << 0x0016;
    QTest::newRow("Data indication") << int(TurnMessage::Data) << int(TurnMessage::Indication) << 0x0017;
    QTest::newRow("CreatePermission success")
        << int(TurnMessage::CreatePermission) << int(TurnMessage::SuccessResponse) << 0x0108;
    QTest::newRow("ChannelBind request") << int(TurnMessage::ChannelBind) << int(TurnMessage::Request) << 0x0009;
    QTest::newRow("ChannelBind error") << int(TurnMessage::ChannelBind) << int(TurnMessage::ErrorResponse) << 0x0119;
    // The highest method bits land above C1: 0xFFF -> 0x3EEF.
    QTest::newRow("method 0xfff request") << 0xFFF << int(TurnMessage::Request) << 0x3EEF;
    QTest::newRow("method 0xfff error") << 0xFFF << int(TurnMessage::ErrorResponse) << 0x3FFF;
}

void tst_TurnMessage::messageType() {
    QFETCH(int, method);
    QFETCH(int, messageClass);
    QFETCH(int, type);
    QCOMPARE(int(TurnMessage::composeType(quint16(method), TurnMessage::Class(messageClass))), type);
    QCOMPARE(int(TurnMessage::methodOf(quint16(type))), method);
    QCOMPARE(int(TurnMessage::classOf(quint16(type))), messageClass);
}

void tst_TurnMessage::rfc5769_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<bool>("fingerprint");
    QTest::addColumn<QByteArray>("username");
    QTest::addColumn<SockAddr>("mapped");

    QTest::newRow("2.1 request") << kRfc21 << kRfcShortTermKey << true << QByteArray("evtj:h6vY") << SockAddr();
    QTest::newRow("2.2 ipv4 response") << kRfc22 << kRfcShortTermKey << true << QByteArray()
                                       << addr("192.0.2.1", 32853);
    QTest::newRow("2.3 ipv6 response") << kRfc23 << kRfcShortTermKey << true << QByteArray()
                                       << addr("2001:db8:1234:5678:11:2233:4455:6677", 32853);
    QTest::newRow("2.4 long-term") << kRfc24 << TurnMessage::longTermKey(kRfc24User, "example.org", "TheMatrIX")
                                   << false << kRfc24User << SockAddr();
}

void tst_TurnMessage::rfc5769() {
    QFETCH(QByteArray, datagram);
    QFETCH(QByteArray, key);
    QFETCH(bool, fingerprint);
    QFETCH(QByteArray, username);
    QFETCH(SockAddr, mapped);

    const auto decoded = TurnMessage::decode(datagram);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QCOMPARE(decoded.value.username, username);
    QVERIFY(sameSockAddr(decoded.value.mappedAddress, mapped));
    QVERIFY(decoded.value.hasIntegrity);
    QCOMPARE(decoded.value.hasFingerprint, fingerprint);

    QVERIFY(TurnMessage::checkIntegrity(datagram, key));
    QCOMPARE(TurnMessage::checkFingerprint(datagram), fingerprint);
    QVERIFY(!TurnMessage::checkIntegrity(datagram, key + "x"));
    QVERIFY(!TurnMessage::checkIntegrity(datagram, QByteArray()));
}

// 2.4 pads with zeros as our encoder does, so decoding and signing again reproduces it exactly.
void tst_TurnMessage::rfc5769LongTermReencodes() {
    const auto decoded = TurnMessage::decode(kRfc24);
    QVERIFY(decoded.ok());
    QCOMPARE(decoded.value.type(), quint16(0x0001));
    QCOMPARE(decoded.value.realm, QByteArray("example.org"));
    QCOMPARE(decoded.value.nonce, QByteArray("f//499k954d6OL34oL9FSTvy64sA"));
    const QByteArray key = TurnMessage::longTermKey(kRfc24User, "example.org", "TheMatrIX");
    QCOMPARE(decoded.value.encode(key).toHex(' '), kRfc24.toHex(' '));
}

void tst_TurnMessage::golden_data() {
    QTest::addColumn<TurnMessage>("message");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("datagram");

    // Bytes from Python: hmac.new(md5(b"u:R:p"), ..., sha1), zlib.crc32(...) ^ 0x5354554e.
    TurnMessage unauth = message(TurnMessage::Allocate, TurnMessage::Request);
    unauth.requestedTransport = TurnMessage::TransportUdp;
    QTest::newRow("Allocate, first try") << unauth << QByteArray()
                                         << hex("00 03 00 10 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 19 00 "
                                                "04 11 00 00 00 80 28 00 04 7d 6c 71 a7");

    TurnMessage alloc = signedRequest(TurnMessage::Allocate);
    alloc.requestedTransport = TurnMessage::TransportUdp;
    QTest::newRow("Allocate, long-term credentials")
        << alloc << kKey
        << hex("00 03 00 44 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 06 00 01 75 00 00 00 00 15 00 07 6e 6f "
               "6e 63 65 2d 31 00"
               "00 14 00 01 52 00 00 00 00 19 00 04 11 00 00 00 00 08 00 14 29 13 cb a2 9d 69 33 e3 fd ee 7b 37 40 0a "
               "b9 9e 77 70 07 6c"
               "80 28 00 04 41 0a 78 d4");

    TurnMessage release = signedRequest(TurnMessage::Refresh);
    release.lifetime = 0;
    QTest::newRow("Refresh, LIFETIME 0") << release << kKey
                                         << hex("00 04 00 44 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 06 00 "
                                                "01 75 00 00 00 00 15 00 07 6e 6f 6e 63 65 2d 31 00"
                                                "00 14 00 01 52 00 00 00 00 0d 00 04 00 00 00 00 00 08 00 14 d2 fc d8 "
                                                "e2 52 f9 7d fe a2 a9 4b ea 93 c9 d2 dd 49 91 75 99"
                                                "80 28 00 04 c8 11 13 a2");

    TurnMessage permission = signedRequest(TurnMessage::CreatePermission);
    permission.peerAddresses = { addr("192.0.2.1", 0) };
    QTest::newRow("CreatePermission") << permission << kKey
                                      << hex("00 08 00 48 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 06 00 01 "
                                             "75 00 00 00 00 15 00 07 6e 6f 6e 63 65 2d 31 00"
                                             "00 14 00 01 52 00 00 00 00 12 00 08 00 01 21 12 e1 12 a6 43 00 08 00 14 "
                                             "b0 14 e9 9a 2e 91 17 08 42 2f 5c d3 63 4b 6e 2a"
                                             "23 b6 57 4e 80 28 00 04 75 76 cc 98");

    TurnMessage bind = signedRequest(TurnMessage::ChannelBind);
    bind.channelNumber = 0x4001;
    bind.peerAddresses = { addr("192.0.2.1", 32853) };
    QTest::newRow("ChannelBind") << bind << kKey
                                 << hex("00 09 00 50 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 06 00 01 75 00 "
                                        "00 00 00 15 00 07 6e 6f 6e 63 65 2d 31 00"
                                        "00 14 00 01 52 00 00 00 00 0c 00 04 40 01 00 00 00 12 00 08 00 01 a1 47 e1 12 "
                                        "a6 43 00 08 00 14 8f 1f aa c6 3e 05 20 63"
                                        "5a 13 57 da 23 d1 ff 74 0d 89 e8 fc 80 28 00 04 24 29 20 28");

    TurnMessage send = message(TurnMessage::Send, TurnMessage::Indication);
    send.peerAddresses = { addr("192.0.2.1", 32853) };
    send.data = QByteArray("hello");
    QTest::newRow("Send indication") << send << QByteArray()
                                     << hex("00 16 00 18 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 12 00 08 "
                                            "00 01 a1 47 e1 12 a6 43 00 13 00 05 68 65 6c 6c 6f 00 00 00");

    TurnMessage data = send;
    data.method = TurnMessage::Data;
    QTest::newRow("Data indication") << data << QByteArray()
                                     << hex("00 17 00 18 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 12 00 08 "
                                            "00 01 a1 47 e1 12 a6 43 00 13 00 05 68 65 6c 6c 6f 00 00 00");

    TurnMessage allocated = message(TurnMessage::Allocate, TurnMessage::SuccessResponse);
    allocated.lifetime = 600;
    allocated.relayedAddress = addr("203.0.113.1", 49160);
    allocated.mappedAddress = addr("198.51.100.7", 40102);
    QTest::newRow("Allocate success") << allocated << kKey
                                      << hex("01 03 00 40 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 0d 00 04 "
                                             "00 00 02 58 00 16 00 08 00 01 e1 1a ea 12 d5 43"
                                             "00 20 00 08 00 01 bd b4 e7 21 c0 45 00 08 00 14 74 1f f2 61 9a 29 5d 33 "
                                             "b6 c2 0e 0f c8 0c d2 0f 4e c4 5b 0d"
                                             "80 28 00 04 02 df 4a 7e");

    TurnMessage challenge = message(TurnMessage::Allocate, TurnMessage::ErrorResponse);
    challenge.nonce = "nonce-1";
    challenge.realm = "R";
    challenge.errorCode = 401;
    challenge.errorReason = "Unauthorized";
    QTest::newRow("Allocate 401 with REALM and NONCE")
        << challenge << QByteArray()
        << hex("01 13 00 30 21 12 a4 42 00 11 22 33 44 55 66 77 88 99 aa bb 00 15 00 07 6e 6f 6e 63 65 2d 31 00 00 14 "
               "00 01 52 00 00 00"
               "00 09 00 10 00 00 04 01 55 6e 61 75 74 68 6f 72 69 7a 65 64 80 28 00 04 93 37 69 b6");
}

void tst_TurnMessage::golden() {
    QFETCH(TurnMessage, message);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, datagram);

    // Every golden row ends in FINGERPRINT except the indications (which never carry trailers here).
    const bool fingerprint = datagram.size() >= 8 && datagram.mid(datagram.size() - 8, 2) == hex("80 28");
    QCOMPARE(message.encode(key, fingerprint).toHex(' '), datagram.toHex(' '));

    const auto decoded = TurnMessage::decode(datagram);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QVERIFY(sameTurn(decoded.value, message));
    QCOMPARE(decoded.value.hasIntegrity, !key.isEmpty());
    QCOMPARE(decoded.value.hasFingerprint, fingerprint);
    QCOMPARE(TurnMessage::checkFingerprint(datagram), fingerprint);
    if (!key.isEmpty()) {
        QVERIFY(TurnMessage::checkIntegrity(datagram, key));
        QVERIFY(!TurnMessage::checkIntegrity(datagram, TurnMessage::longTermKey("u", "R", "wrong")));
    }
}

// Flipping any bit before the HMAC (header included) or inside it breaks the integrity check;
// flipping any bit at all breaks the fingerprint.
void tst_TurnMessage::integrityCoversEveryByte() {
    TurnMessage alloc = signedRequest(TurnMessage::Allocate);
    alloc.requestedTransport = TurnMessage::TransportUdp;
    const QByteArray datagram = alloc.encode(kKey, true);
    const int integrityEnd = datagram.size() - 8;
    for (int i = 0; i < datagram.size(); ++i) {
        QByteArray tampered = datagram;
        tampered[i] = char(tampered[i] ^ 0x01);
        if (i < integrityEnd && TurnMessage::checkIntegrity(tampered, kKey)) {
            QFAIL(qPrintable(QStringLiteral("integrity still holds with byte %1 flipped").arg(i)));
        }
        if (TurnMessage::checkFingerprint(tampered)) {
            QFAIL(qPrintable(QStringLiteral("fingerprint still holds with byte %1 flipped").arg(i)));
        }
    }
}

void tst_TurnMessage::attributesAfterIntegrityIgnored() {
    TurnMessage alloc = signedRequest(TurnMessage::Allocate);
    QByteArray datagram = alloc.encode(kKey);
    // Append a LIFETIME after MESSAGE-INTEGRITY (and fix the length): it is not part of the message.
    datagram += hex("00 0d 00 04 00 00 00 10");
    datagram[3] = char(datagram[3] + 8);
    const auto decoded = TurnMessage::decode(datagram);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QVERIFY(!decoded.value.lifetime);
    QVERIFY(decoded.value.hasIntegrity);
}

void tst_TurnMessage::firstOccurrenceCounts() {
    const QByteArray datagram = stun("01 03", hex("00 0d 00 04 00 00 00 0a  00 0d 00 04 00 00 00 14"
                                                  "00 0c 00 04 40 02 00 00  00 0c 00 04 40 03 00 00"));
    const auto decoded = TurnMessage::decode(datagram);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QCOMPARE(*decoded.value.lifetime, quint32(10));
    QCOMPARE(*decoded.value.channelNumber, quint16(0x4002));
}

void tst_TurnMessage::channelData_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<int>("channel");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("encoded");

    QTest::newRow("padded") << hex("40 00 00 05 68 65 6c 6c 6f 00 00 00") << 0x4000 << QByteArray("hello")
                            << hex("40 00 00 05 68 65 6c 6c 6f 00 00 00");
    QTest::newRow("unpadded over UDP") << hex("4f ff 00 05 68 65 6c 6c 6f") << 0x4FFF << QByteArray("hello")
                                       << hex("4f ff 00 05 68 65 6c 6c 6f 00 00 00");
    QTest::newRow("empty payload") << hex("40 01 00 00") << 0x4001 << QByteArray() << hex("40 01 00 00");
    QTest::newRow("multiple of 4") << hex("41 23 00 04 01 02 03 04") << 0x4123 << hex("01 02 03 04")
                                   << hex("41 23 00 04 01 02 03 04");
}

void tst_TurnMessage::channelData() {
    QFETCH(QByteArray, datagram);
    QFETCH(int, channel);
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, encoded);
    const auto decoded = ChannelData::decode(datagram);
    QVERIFY2(decoded.ok(), errorName(decoded.error));
    QCOMPARE(int(decoded.value.channel), channel);
    QCOMPARE(decoded.value.payload, payload);
    QCOMPARE(decoded.value.encode().toHex(' '), encoded.toHex(' '));
    QCOMPARE(turnFraming(datagram), TurnFraming::ChannelData);
}

// Every row is rejected with the named error, by the decoder it is framed for; none crashes, and
// the shared wire invariants hold on each.
void tst_TurnMessage::malformed_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<bool>("isChannelData");
    QTest::addColumn<int>("error");

    const int truncated = int(WireError::Truncated);
    const int badValue = int(WireError::BadValue);
    const int badAddress = int(WireError::BadAddress);
    const int notStun = int(WireError::NotStun);

    QTest::newRow("empty") << QByteArray() << false << truncated;
    QTest::newRow("header only, 19 bytes") << stun("01 03", {}).left(19) << false << truncated;
    QTest::newRow("length says 8, 4 follow")
        << stun("01 03", hex("00 0d 00 04 00 00 02 58")).left(24) << false << notStun;
    QTest::newRow("attribute longer than message")
        << stun("01 03", hex("00 13 00 10 61 62 63 64")) << false << truncated;
    QTest::newRow("attribute length 0xffff") << stun("00 17", hex("00 13 ff ff 61 62 63 64")) << false << truncated;
    QTest::newRow("unpadded last attribute") << stun("00 17", hex("00 13 00 05 61 62 63 64")) << false << truncated;
    QTest::newRow("LIFETIME of 3 bytes") << stun("01 03", hex("00 0d 00 03 00 00 02 00")) << false << badValue;
    QTest::newRow("LIFETIME of 8 bytes") << stun("01 03", hex("00 0d 00 08 00 00 02 58 00 00 02 58")) << false
                                         << badValue;
    QTest::newRow("CHANNEL-NUMBER of 2 bytes") << stun("00 09", hex("00 0c 00 02 40 01 00 00")) << false << badValue;
    QTest::newRow("REQUESTED-TRANSPORT of 1 byte")
        << stun("00 03", hex("00 19 00 01 11 00 00 00")) << false << badValue;
    QTest::newRow("MESSAGE-INTEGRITY of 16 bytes")
        << stun("01 03", hex("00 08 00 10") + QByteArray(16, 'm')) << false << badValue;
    QTest::newRow("FINGERPRINT of 8 bytes")
        << stun("01 03", hex("80 28 00 08") + QByteArray(8, 'f')) << false << badValue;
    QTest::newRow("ERROR-CODE class 2") << stun("01 13", hex("00 09 00 04 00 00 02 00")) << false << badValue;
    QTest::newRow("ERROR-CODE class 7") << stun("01 13", hex("00 09 00 04 00 00 07 00")) << false << badValue;
    QTest::newRow("ERROR-CODE number 100") << stun("01 13", hex("00 09 00 04 00 00 04 64")) << false << badValue;
    QTest::newRow("ERROR-CODE of 2 bytes") << stun("01 13", hex("00 09 00 02 00 00 00 00")) << false << truncated;
    QTest::newRow("XOR-PEER-ADDRESS family 3")
        << stun("00 17", hex("00 12 00 08 00 03 a1 47 e1 12 a6 43")) << false << badAddress;
    QTest::newRow("XOR-PEER-ADDRESS of 4 bytes") << stun("00 17", hex("00 12 00 04 00 01 a1 47")) << false << truncated;
    QTest::newRow("XOR-RELAYED-ADDRESS ipv6 in 8 bytes")
        << stun("01 03", hex("00 16 00 08 00 02 a1 47 e1 12 a6 43")) << false << truncated;
    QTest::newRow("XOR-MAPPED-ADDRESS empty") << stun("01 03", hex("00 20 00 00")) << false << truncated;

    QTest::newRow("ChannelData, 3 bytes") << hex("40 00 00") << true << truncated;
    QTest::newRow("ChannelData, length past the end") << hex("40 00 00 08 61 62 63 64") << true << truncated;
    QTest::newRow("ChannelData, length 0xffff") << hex("40 00 ff ff 61 62 63 64") << true << truncated;
    QTest::newRow("ChannelData, 4 bytes after payload")
        << hex("40 00 00 01 61 00 00 00 00") << true << int(WireError::TrailingBytes);
    QTest::newRow("ChannelData, channel 0x5000") << hex("50 00 00 01 61 00 00 00") << true << badValue;
    QTest::newRow("ChannelData, channel 0x3fff") << hex("3f ff 00 01 61 00 00 00") << true << badValue;
}

void tst_TurnMessage::malformed() {
    QFETCH(QByteArray, datagram);
    QFETCH(bool, isChannelData);
    QFETCH(int, error);
    const WireError got = isChannelData ? ChannelData::decode(datagram).error : TurnMessage::decode(datagram).error;
    QVERIFY2(got == WireError(error), errorName(got));
    QVERIFY(!TurnMessage::checkIntegrity(datagram, kKey));
    QVERIFY(!TurnMessage::checkFingerprint(datagram));
    const auto report = wireinvariants::check(datagram);
    QVERIFY2(report.violation.isEmpty(), qPrintable(report.violation));
}

void tst_TurnMessage::framing_data() {
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<int>("framing");
    QTest::newRow("empty") << QByteArray() << int(TurnFraming::Other);
    QTest::newRow("0x00 STUN") << hex("00 01") << int(TurnFraming::Stun);
    QTest::newRow("0x3f STUN range end") << hex("3f") << int(TurnFraming::Stun);
    QTest::newRow("0x40 ChannelData") << hex("40 00 00 00") << int(TurnFraming::ChannelData);
    QTest::newRow("0x4f ChannelData range end") << hex("4f ff") << int(TurnFraming::ChannelData);
    QTest::newRow("0x50 neither") << hex("50") << int(TurnFraming::Other);
    QTest::newRow("0x80 neither (DTLS/RTP range)") << hex("80") << int(TurnFraming::Other);
    QTest::newRow("0xff neither") << hex("ff") << int(TurnFraming::Other);
}

void tst_TurnMessage::framing() {
    QFETCH(QByteArray, datagram);
    QFETCH(int, framing);
    QCOMPARE(int(turnFraming(datagram)), framing);
}

// Random TURN-shaped input (valid header, random attributes) and mutations of the golden rows:
// whatever decodes survives re-encoding, nothing crashes. The fuzzer does the same at scale.
void tst_TurnMessage::garbage() {
    QRandomGenerator rng(0x7452);
    const QList<QByteArray> seeds = { kRfc21, kRfc22, kRfc23, kRfc24, hex("40 00 00 05 68 65 6c 6c 6f 00 00 00") };
    const QList<quint16> types = { 0x0006, 0x0008, 0x0009, 0x000C, 0x000D, 0x0012, 0x0013, 0x0014,
                                   0x0015, 0x0016, 0x0019, 0x0020, 0x8022, 0x8028, 0x0001, 0x7777 };
    int accepted = 0;
    const int runs = 20000;
    for (int run = 0; run < runs; ++run) {
        QByteArray datagram;
        if (run % 2 == 0) {
            QByteArray attributes;
            const int count = rng.bounded(6);
            for (int i = 0; i < count; ++i) {
                const quint16 type = types[rng.bounded(types.size())];
                const int length = rng.bounded(run % 4 == 0 ? 28 : 9);
                QByteArray value(length, Qt::Uninitialized);
                for (char &c : value) {
                    c = char(rng.bounded(256));
                }
                attributes += char(type >> 8);
                attributes += char(type & 0xff);
                attributes += char(0);
                attributes += char(length);
                attributes += value + QByteArray(((length + 3) & ~3) - length, '\0');
            }
            datagram = stun(rng.bounded(2) ? "01 03" : "00 17", attributes);
        } else {
            datagram = seeds[rng.bounded(seeds.size())];
            const int flips = 1 + rng.bounded(3);
            for (int i = 0; i < flips; ++i) {
                const int at = rng.bounded(datagram.size());
                datagram[at] = char(rng.bounded(256));
            }
            if (rng.bounded(4) == 0) {
                datagram.truncate(rng.bounded(datagram.size() + 1));
            }
        }
        const auto report = wireinvariants::check(datagram);
        if (!report.violation.isEmpty()) {
            QFAIL(qPrintable(report.violation + QStringLiteral(" input: ") + QString::fromLatin1(datagram.toHex())));
        }
        accepted += TurnMessage::decode(datagram).ok() ? 1 : 0;
    }
    qInfo("garbage: %d of %d inputs decoded as TURN", accepted, runs);
    // Half the inputs are well-framed with mostly well-formed attributes: many must decode.
    QVERIFY(accepted > runs / 10);
}

QTEST_GUILESS_MAIN(tst_TurnMessage)
#include "tst_turnmessage.moc"
