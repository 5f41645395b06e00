// The man pages are made from --help; this checks that they still say the same: for every binary,
// the long options of its man page are exactly the long options its --help lists.
#include "ManPageBinaries.h"

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtTest/QtTest>

namespace {
struct Binary {
    const char *name;
    const char *path;
};
const Binary Binaries[] = { ICEBREAKER_MAN_BINARIES };

// Options are introduced at the start of an indented line: "  -v, --verbose" or "  --port <N>".
QStringList helpOptions(const QString &help) {
    static const QRegularExpression line(QStringLiteral("^\\s+(?:-\\S, )?(--[a-z0-9][a-z0-9-]*)"),
                                         QRegularExpression::MultilineOption);
    QStringList options;
    auto it = line.globalMatch(help);
    while (it.hasNext()) {
        options.append(it.next().captured(1));
    }
    return options;
}

// help2man writes each option as a .TP paragraph whose tag line is the option, '-' escaped as "\-".
QStringList manOptions(const QString &roff) {
    static const QRegularExpression option(QStringLiteral("(?:^|[^\\w-])(--[a-z0-9][a-z0-9-]*)"));
    QStringList options;
    const QStringList lines = roff.split(QLatin1Char('\n'));
    for (int i = 0; i + 1 < lines.size(); ++i) {
        if (lines.at(i) != QLatin1String(".TP")) {
            continue;
        }
        // The tag line: keep only the option names (before the first space that follows the name).
        QString tag = lines.at(i + 1);
        tag.replace(QStringLiteral("\\-"), QStringLiteral("-"))
            .remove(QRegularExpression(QStringLiteral("\\\\f[BIRP]")));
        const QRegularExpressionMatch match = option.match(tag);
        if (match.hasMatch()) {
            options.append(match.captured(1));
        }
    }
    return options;
}
} // namespace

class tst_ManPages : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void optionsMatchHelp_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("path");
        for (const Binary &binary : Binaries) {
            QTest::newRow(binary.name) << QString::fromUtf8(binary.name) << QString::fromUtf8(binary.path);
        }
    }
    void optionsMatchHelp() {
        QFETCH(QString, name);
        QFETCH(QString, path);
        QProcess process;
        process.start(path, { QStringLiteral("--help") });
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 0);
        const QStringList help = helpOptions(QString::fromUtf8(process.readAllStandardOutput()));
        QVERIFY2(help.size() >= 3, qPrintable(help.join(QLatin1Char(' '))));

        QFile page(QStringLiteral(ICEBREAKER_MAN_DIR "/") + name + QStringLiteral(".1"));
        QVERIFY2(page.open(QIODevice::ReadOnly), qPrintable(page.fileName()));
        const QStringList man = manOptions(QString::fromUtf8(page.readAll()));
        QCOMPARE(man, help); // same options, same order
    }
};

QTEST_GUILESS_MAIN(tst_ManPages)
#include "tst_manpages.moc"
