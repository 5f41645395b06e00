// RedisConnection against a real redis-server: handshake (AUTH forms, SELECT), pipelining,
// failures with their reasons, back-off, a killed and restarted server, a paused server caught by
// the command deadline while the event loop keeps running, and the subscriber role.
#include "RedisTestServer.h"

#include <cluster/RedisConnection.h>

#include <QtCore/QLoggingCategory>
#include <QtCore/QTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>

using redistest::RedisTestServer;

namespace {

// Everything logged while a test runs, to prove a password never reaches the log.
QStringList g_log;
QtMessageHandler g_previousHandler = nullptr;
void captureLog(QtMsgType type, const QMessageLogContext &context, const QString &message) {
    g_log << message;
    if (g_previousHandler) {
        g_previousHandler(type, context, message);
    }
}

RedisConnection::Options optionsFor(const QString &url, int timeoutMs = 2000) {
    RedisConnection::Options options;
    options.url = RedisUrl::parse(url);
    options.commandTimeoutMs = timeoutMs;
    options.reconnectMinMs = 50;
    options.reconnectMaxMs = 400;
    options.clientName = QStringLiteral("tst_redisconnection");
    return options;
}

} // namespace

class tst_RedisConnection : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void commandsArePipelinedInOrder();
    void auth_data();
    void auth();
    void selectsTheDatabase();
    void badDatabaseIsAClearError();
    void refusedConnectBacksOff();
    void killedServerIsDetectedAndReconnected();
    void pausedServerHitsTheDeadline();
    void subscriberGetsMessagesAndProbes();
    void invalidUrlIsNotTried();
    void commandsRefusedWhenDown();
};

void tst_RedisConnection::initTestCase() {
    QVERIFY2(RedisTestServer::available(),
             "redis-server is not installed (Debian: redis-server; scripts/deps.sh test)");
}

void tst_RedisConnection::commandsArePipelinedInOrder() {
    RedisTestServer server;
    QVERIFY(server.start());
    RedisConnection connection(optionsFor(server.url()));
    QSignalSpy states(&connection, &RedisConnection::stateChanged);
    connection.open();
    QCOMPARE(connection.state(), RedisConnection::State::Connecting);
    QTRY_COMPARE_WITH_TIMEOUT(connection.state(), RedisConnection::State::Connected, 5000);
    QCOMPARE(connection.error(), RedisConnection::Error::NoError);
    QCOMPARE(states.size(), 2);

    // 100 INCRs sent back to back, before any reply: callbacks come in order with 1..100.
    QList<qint64> seen;
    for (int i = 0; i < 100; ++i) {
        QVERIFY(connection.command({ "INCR", "icebreaker:counter" },
                                   [&seen](const RedisReply &reply) { seen << reply.integer(); }));
    }
    QVERIFY(connection.pendingCount() >= 1);
    QTRY_COMPARE_WITH_TIMEOUT(seen.size(), 100, 5000);
    for (int i = 0; i < 100; ++i) {
        QCOMPARE(seen.at(i), qint64(i + 1));
    }
    QCOMPARE(connection.pendingCount(), 0);
    // Error replies are replies: delivered and counted, the connection stays up.
    RedisReply error;
    QVERIFY(connection.command({ "NOSUCHCOMMAND" }, [&error](const RedisReply &reply) { error = reply; }));
    QTRY_VERIFY_WITH_TIMEOUT(error.isError(), 5000);
    QVERIFY(error.bytes().startsWith("ERR unknown command"));
    QCOMPARE(connection.counters().errorReplies, quint64(1));
    QVERIFY(connection.isConnected());
    QVERIFY(server.cli({ "CLIENT", "LIST" }).contains("name=tst_redisconnection"));
}

void tst_RedisConnection::auth_data() {
    QTest::addColumn<QString>("requirePass");
    QTest::addColumn<QString>("aclUser");
    QTest::addColumn<QString>("aclPassword");
    QTest::addColumn<QString>("userInfo");
    QTest::addColumn<bool>("connects");
    QTest::addColumn<QString>("mentions");

    QTest::newRow("requirepass, right") << "pw-1"
                                        << ""
                                        << ""
                                        << ":pw-1" << true << "";
    QTest::newRow("requirepass, wrong") << "pw-1"
                                        << ""
                                        << ""
                                        << ":nope-1" << false << "WRONGPASS";
    QTest::newRow("requirepass, none given") << "pw-1"
                                             << ""
                                             << ""
                                             << "" << false << "requires a password";
    QTest::newRow("ACL user, right") << ""
                                     << "icebreaker"
                                     << "acl-pw"
                                     << "icebreaker:acl-pw" << true << "";
    QTest::newRow("ACL user, wrong password") << ""
                                              << "icebreaker"
                                              << "acl-pw"
                                              << "icebreaker:nope-2" << false << "user 'icebreaker'";
    QTest::newRow("ACL, unknown user") << ""
                                       << "icebreaker"
                                       << "acl-pw"
                                       << "mallory:acl-pw" << false << "WRONGPASS";
}

void tst_RedisConnection::auth() {
    QFETCH(QString, requirePass);
    QFETCH(QString, aclUser);
    QFETCH(QString, aclPassword);
    QFETCH(QString, userInfo);
    QFETCH(bool, connects);
    QFETCH(QString, mentions);
    RedisTestServer server({ requirePass, aclUser, aclPassword });
    QVERIFY(server.start());
    g_log.clear();
    g_previousHandler = qInstallMessageHandler(captureLog);
    struct Restore {
        ~Restore() { qInstallMessageHandler(g_previousHandler); }
    } restore;
    QLoggingCategory::setFilterRules(QStringLiteral("hifi.ice-server.cluster.debug=true"));
    RedisConnection connection(optionsFor(server.url(userInfo)));
    connection.open();
    if (connects) {
        QTRY_COMPARE_WITH_TIMEOUT(connection.state(), RedisConnection::State::Connected, 5000);
        bool done = false;
        QVERIFY(connection.command({ "SET", "icebreaker:k", "v" },
                                   [&done](const RedisReply &reply) { done = !reply.failed(); }));
        QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
        return;
    }
    QTRY_COMPARE_WITH_TIMEOUT(connection.error(), RedisConnection::Error::AuthFailed, 5000);
    QCOMPARE(connection.state() == RedisConnection::State::Connected, false);
    QVERIFY2(connection.errorString().contains(mentions), qPrintable(connection.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(connection.counters().failures >= 2, 5000); // a retry, logged at debug level
    const QString password = userInfo.mid(userInfo.indexOf(QLatin1Char(':')) + 1);
    if (!password.isEmpty()) {
        QVERIFY2(!connection.errorString().contains(password), qPrintable(connection.errorString()));
        QVERIFY(!g_log.isEmpty());
        for (const QString &line : qAsConst(g_log)) {
            QVERIFY2(!line.contains(password), qPrintable(line));
        }
    }
}

void tst_RedisConnection::selectsTheDatabase() {
    RedisTestServer server;
    QVERIFY(server.start());
    RedisConnection connection(optionsFor(server.url(QString(), 3)));
    connection.open();
    QTRY_COMPARE_WITH_TIMEOUT(connection.state(), RedisConnection::State::Connected, 5000);
    bool done = false;
    QVERIFY(connection.command({ "SET", "icebreaker:where", "db3" }, [&done](const RedisReply &) { done = true; }));
    QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
    QCOMPARE(server.cli({ "GET", "icebreaker:where" }, 3), QByteArray("db3"));
    QCOMPARE(server.cli({ "EXISTS", "icebreaker:where" }, 0), QByteArray("0"));
}

void tst_RedisConnection::badDatabaseIsAClearError() {
    RedisTestServer server;
    QVERIFY(server.start());
    RedisConnection connection(optionsFor(server.url(QString(), 99)));
    connection.open();
    QTRY_COMPARE_WITH_TIMEOUT(connection.error(), RedisConnection::Error::SelectFailed, 5000);
    QVERIFY2(connection.errorString().contains(QLatin1String("SELECT 99")), qPrintable(connection.errorString()));
}

void tst_RedisConnection::refusedConnectBacksOff() {
    RedisTestServer server; // never started: its port is free, connects are refused
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close();
    RedisConnection connection(optionsFor(QStringLiteral("redis://127.0.0.1:%1").arg(port)));
    connection.open();
    QTRY_VERIFY_WITH_TIMEOUT(connection.counters().connectAttempts >= 5, 10000);
    QCOMPARE(connection.error(), RedisConnection::Error::ConnectFailed);
    QVERIFY2(connection.errorString().contains(QLatin1String("refused")), qPrintable(connection.errorString()));
    // Back-off: 50 ms doubling to 400 ms, each delay in [base/2, base]. By now the delays are
    // 200-400 ms, so 1.5 s holds 3-8 attempts (2 on a starved machine), never a busy loop.
    const quint64 before = connection.counters().connectAttempts;
    QTest::qWait(1500);
    const quint64 during = connection.counters().connectAttempts - before;
    QVERIFY2(during >= 2 && during <= 8, qPrintable(QString::number(during)));
    QVERIFY(connection.state() != RedisConnection::State::Connected);
}

void tst_RedisConnection::killedServerIsDetectedAndReconnected() {
    RedisTestServer server;
    QVERIFY(server.start());
    RedisConnection connection(optionsFor(server.url()));
    connection.open();
    QTRY_COMPARE_WITH_TIMEOUT(connection.state(), RedisConnection::State::Connected, 5000);
    QSignalSpy states(&connection, &RedisConnection::stateChanged);

    // A command in flight when the server dies gets NoReply, exactly once.
    server.pause();
    int calls = 0;
    RedisReply last = RedisReply::fromHiredis(nullptr);
    QVERIFY(connection.command({ "PING" }, [&](const RedisReply &reply) {
        ++calls;
        last = reply;
    }));
    server.kill();
    QTRY_COMPARE_WITH_TIMEOUT(connection.state(), RedisConnection::State::Down, 5000);
    QCOMPARE(connection.error(), RedisConnection::Error::ConnectionLost);
    QVERIFY2(connection.errorString().contains(QLatin1String("lost")), qPrintable(connection.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 5000);
    QVERIFY(last.isNoReply());

    QVERIFY(server.start());
    QTRY_COMPARE_WITH_TIMEOUT(connection.state(), RedisConnection::State::Connected, 10000);
    QCOMPARE(connection.counters().connects, quint64(2));
    QCOMPARE(calls, 1);
    QVERIFY(states.size() >= 3); // Down, (Connecting, Down)*, Connecting, Connected
}

void tst_RedisConnection::pausedServerHitsTheDeadline() {
    RedisTestServer server;
    QVERIFY(server.start());
    RedisConnection connection(optionsFor(server.url(), 500));
    connection.open();
    QTRY_COMPARE_WITH_TIMEOUT(connection.state(), RedisConnection::State::Connected, 5000);

    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, [&ticks] { ++ticks; });
    ticker.start(20);

    server.pause(); // TCP stays up, nothing answers
    RedisReply reply = RedisReply::fromHiredis(nullptr);
    bool called = false;
    QVERIFY(connection.command({ "PING" }, [&](const RedisReply &r) {
        called = true;
        reply = r;
    }));
    const int ticksAtPause = ticks;
    QTRY_COMPARE_WITH_TIMEOUT(connection.error(), RedisConnection::Error::Timeout, 5000);
    QVERIFY(connection.state() != RedisConnection::State::Connected);
    QVERIFY2(connection.errorString().contains(QLatin1String("no reply")), qPrintable(connection.errorString()));
    QVERIFY(called);
    QVERIFY(reply.isNoReply());
    // The event loop kept running through the outage: 500 ms of deadline at 20 ms per tick.
    QVERIFY2(ticks - ticksAtPause >= 10, qPrintable(QString::number(ticks - ticksAtPause)));
    QCOMPARE(connection.counters().timeouts, quint64(1));

    // Reconnect attempts while paused time out too (the server accepts TCP but never answers).
    QTRY_VERIFY_WITH_TIMEOUT(connection.counters().timeouts >= 2, 5000);
    server.resume();
    QTRY_COMPARE_WITH_TIMEOUT(connection.state(), RedisConnection::State::Connected, 10000);
    bool done = false;
    QVERIFY(connection.command({ "PING" }, [&done](const RedisReply &r) { done = r.bytes() == "PONG"; }));
    QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
}

void tst_RedisConnection::subscriberGetsMessagesAndProbes() {
    RedisTestServer server;
    QVERIFY(server.start());
    RedisConnection::Options subOptions = optionsFor(server.url(), 500);
    subOptions.idleProbeMs = 200;
    RedisConnection subscriber(subOptions);
    QList<QByteArray> messages;
    subscriber.subscribe("icebreaker:node:a", [&messages](const QByteArray &message) { messages << message; });
    QSignalSpy subscribed(&subscriber, &RedisConnection::subscribed);
    subscriber.open();
    QTRY_COMPARE_WITH_TIMEOUT(subscribed.size(), 1, 5000);
    QVERIFY(subscriber.isSubscribed("icebreaker:node:a"));
    QVERIFY(!subscriber.command({ "PING" })); // a subscriber sends nothing else

    RedisConnection publisher(optionsFor(server.url()));
    publisher.open();
    QTRY_VERIFY_WITH_TIMEOUT(publisher.isConnected(), 5000);
    const QByteArray binary("\x00\x01\xff"
                            "binary",
                            9);
    qint64 receivers = -1;
    QVERIFY(publisher.command({ "PUBLISH", "icebreaker:node:a", binary },
                              [&](const RedisReply &r) { receivers = r.integer(); }));
    QTRY_COMPARE_WITH_TIMEOUT(messages.size(), 1, 5000);
    QCOMPARE(messages.at(0), binary);
    QCOMPARE(receivers, qint64(1));

    // Idle probes (repeated SUBSCRIBEs) are answered: the connection stays up, no extra signal.
    const quint64 sentBefore = subscriber.counters().commandsSent;
    QTRY_VERIFY_WITH_TIMEOUT(subscriber.counters().commandsSent >= sentBefore + 3, 5000);
    QVERIFY(subscriber.isConnected());
    QCOMPARE(subscribed.size(), 1);
    QCOMPARE(subscriber.counters().timeouts, quint64(0));

    // A paused server: the probe's deadline notices without any traffic of ours.
    server.pause();
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.error(), RedisConnection::Error::Timeout, 5000);
    server.resume();
    QTRY_COMPARE_WITH_TIMEOUT(subscribed.size(), 2, 10000); // re-subscribed after the reconnect
    QTRY_VERIFY_WITH_TIMEOUT(publisher.isConnected(), 10000);
    QVERIFY(publisher.command({ "PUBLISH", "icebreaker:node:a", "again" }));
    QTRY_COMPARE_WITH_TIMEOUT(messages.size(), 2, 5000);
    QCOMPARE(messages.at(1), QByteArray("again"));
}

void tst_RedisConnection::invalidUrlIsNotTried() {
    RedisConnection connection(optionsFor(QStringLiteral("redis://h:99999")));
    QSignalSpy states(&connection, &RedisConnection::stateChanged);
    connection.open();
    QCOMPARE(connection.state(), RedisConnection::State::Down);
    QCOMPARE(connection.error(), RedisConnection::Error::BadUrl);
    QVERIFY2(connection.errorString().contains(QLatin1String("65535")), qPrintable(connection.errorString()));
    QCOMPARE(connection.counters().connectAttempts, quint64(0));
    QCOMPARE(states.size(), 0);
}

void tst_RedisConnection::commandsRefusedWhenDown() {
    RedisConnection connection(optionsFor(QStringLiteral("redis://127.0.0.1:1")));
    bool called = false;
    QVERIFY(!connection.command({ "PING" }, [&called](const RedisReply &) { called = true; }));
    connection.open();
    QVERIFY(!connection.command({ "PING" }, [&called](const RedisReply &) { called = true; }));
    connection.close();
    QCOMPARE(connection.state(), RedisConnection::State::Down);
    QCOMPARE(connection.error(), RedisConnection::Error::Closed);
    QVERIFY(!called);
}

QTEST_GUILESS_MAIN(tst_RedisConnection)
#include "tst_redisconnection.moc"
