// RedisUrl: every accepted form, every rejected form with the error it names, and a redacted form
// that never shows the password.
#include <cluster/RedisUrl.h>

#include <QtTest/QTest>

Q_DECLARE_METATYPE(RedisUrl::Error)

class tst_RedisUrl : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void valid_data();
    void valid();
    void invalid_data();
    void invalid();
};

void tst_RedisUrl::valid_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("database");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("redacted");

    QTest::newRow("host only") << "redis://localhost"
                               << "localhost" << 6379 << 0 << ""
                               << ""
                               << "redis://localhost:6379/0";
    QTest::newRow("upper-case scheme") << "REDIS://db.internal"
                                       << "db.internal" << 6379 << 0 << ""
                                       << ""
                                       << "redis://db.internal:6379/0";
    QTest::newRow("port and db") << "redis://10.0.0.5:6380/2"
                                 << "10.0.0.5" << 6380 << 2 << ""
                                 << ""
                                 << "redis://10.0.0.5:6380/2";
    QTest::newRow("trailing slash") << "redis://10.0.0.5/"
                                    << "10.0.0.5" << 6379 << 0 << ""
                                    << ""
                                    << "redis://10.0.0.5:6379/0";
    QTest::newRow("password only") << "redis://:s3cret@10.0.0.5"
                                   << "10.0.0.5" << 6379 << 0 << ""
                                   << "s3cret"
                                   << "redis://:***@10.0.0.5:6379/0";
    QTest::newRow("ACL user") << "redis://icebreaker:s3cret@redis.lan:7000/15"
                              << "redis.lan" << 7000 << 15 << "icebreaker"
                              << "s3cret"
                              << "redis://icebreaker:***@redis.lan:7000/15";
    QTest::newRow("'@' and ':' in password") << "redis://u:p@ss:w@rd@h"
                                             << "h" << 6379 << 0 << "u"
                                             << "p@ss:w@rd"
                                             << "redis://u:***@h:6379/0";
    QTest::newRow("percent-encoded password") << "redis://u:a%2Fb%40c@h"
                                              << "h" << 6379 << 0 << "u"
                                              << "a/b@c"
                                              << "redis://u:***@h:6379/0";
    QTest::newRow("IPv6") << "redis://[::1]:6390/1"
                          << "::1" << 6390 << 1 << ""
                          << ""
                          << "redis://[::1]:6390/1";
    QTest::newRow("IPv6 no port") << "redis://:pw@[2001:db8::5]"
                                  << "2001:db8::5" << 6379 << 0 << ""
                                  << "pw"
                                  << "redis://:***@[2001:db8::5]:6379/0";
    QTest::newRow("max port") << "redis://h:65535"
                              << "h" << 65535 << 0 << ""
                              << ""
                              << "redis://h:65535/0";
}

void tst_RedisUrl::valid() {
    QFETCH(QString, text);
    const RedisUrl url = RedisUrl::parse(text);
    QVERIFY2(url.isValid(), qPrintable(url.errorString()));
    QCOMPARE(url.error(), RedisUrl::Error::NoError);
    QVERIFY(url.errorString().isEmpty());
    QTEST(url.host(), "host");
    QTEST(int(url.port()), "port");
    QTEST(url.database(), "database");
    QTEST(url.user(), "user");
    QTEST(url.password(), "password");
    QTEST(url.redacted(), "redacted");
    if (url.hasPassword()) {
        QVERIFY(!url.redacted().contains(url.password()));
    }
}

void tst_RedisUrl::invalid_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<RedisUrl::Error>("error");
    QTest::addColumn<QString>("mentions"); // the error text names the problem

    QTest::newRow("empty") << "" << RedisUrl::Error::Empty << "no Redis URL";
    QTest::newRow("no scheme") << "localhost:6379" << RedisUrl::Error::BadScheme << "redis://";
    QTest::newRow("http") << "http://localhost" << RedisUrl::Error::BadScheme << "redis://";
    QTest::newRow("TLS") << "rediss://localhost" << RedisUrl::Error::BadScheme << "TLS";
    QTest::newRow("no host") << "redis://" << RedisUrl::Error::BadHost << "no host";
    QTest::newRow("no host, port") << "redis://:6379" << RedisUrl::Error::BadHost << "no host";
    QTest::newRow("password without colon") << "redis://s3cret@h" << RedisUrl::Error::BadUserInfo << ":PASSWORD@";
    QTest::newRow("empty password") << "redis://user:@h" << RedisUrl::Error::BadUserInfo << "empty password";
    QTest::newRow("port 0") << "redis://h:0" << RedisUrl::Error::BadPort << "1 to 65535";
    QTest::newRow("port too big") << "redis://h:65536" << RedisUrl::Error::BadPort << "1 to 65535";
    QTest::newRow("port not a number") << "redis://h:63x9" << RedisUrl::Error::BadPort << "63x9";
    QTest::newRow("port with sign") << "redis://h:+6379" << RedisUrl::Error::BadPort << "+6379";
    QTest::newRow("empty port") << "redis://h:/1" << RedisUrl::Error::BadPort << "empty port";
    QTest::newRow("db not a number") << "redis://h/first" << RedisUrl::Error::BadDatabase << "first";
    QTest::newRow("db negative") << "redis://h/-1" << RedisUrl::Error::BadDatabase << "-1";
    QTest::newRow("db path") << "redis://h/1/2" << RedisUrl::Error::BadDatabase << "1/2";
    QTest::newRow("space in host") << "redis://my host" << RedisUrl::Error::BadHost << "my host";
    QTest::newRow("bare IPv6") << "redis://::1" << RedisUrl::Error::BadHost << "";
    QTest::newRow("unclosed IPv6") << "redis://[::1:6379" << RedisUrl::Error::BadHost << "']'";
    QTest::newRow("IPv4 in brackets") << "redis://[10.0.0.1]" << RedisUrl::Error::BadHost << "IPv6";
    QTest::newRow("query") << "redis://h?timeout=5" << RedisUrl::Error::Unsupported << "query";
}

void tst_RedisUrl::invalid() {
    QFETCH(QString, text);
    QFETCH(QString, mentions);
    const RedisUrl url = RedisUrl::parse(text);
    QVERIFY(!url.isValid());
    QTEST(url.error(), "error");
    QVERIFY2(url.errorString().contains(mentions), qPrintable(url.errorString()));
    QCOMPARE(url.redacted(), QStringLiteral("redis://(invalid)"));
}

QTEST_GUILESS_MAIN(tst_RedisUrl)
#include "tst_redisurl.moc"
