#include "ExitCodeHelp.h"

namespace {
QString meaning(IceExitCode::Code code) {
    switch (code) {
    case IceExitCode::Success: return QString();
    case IceExitCode::UsageError: return QStringLiteral("usage or configuration error (bad option, port in use)");
    case IceExitCode::IceServerSilent:
        return QStringLiteral("ice-server silent: nothing came back from the ice-server");
    case IceExitCode::DomainUnknown:
        return QStringLiteral("domain unknown: the ice-server answers (its STUN reply) but sends no peer information\n"
                              "for the domain (not registered there, or its heartbeats are not verified)");
    case IceExitCode::PunchFailed:
        return QStringLiteral("punch failed: the domain's sockets are known but no ping got a reply");
    case IceExitCode::IceServerLookupFailed: return QStringLiteral("the ice-server's name does not resolve");
    case IceExitCode::StunFailed: return QStringLiteral("STUN failed: no answer from the --stun-server");
    case IceExitCode::RelayAuthFailed:
        return QStringLiteral("relay authentication failed: the --turn-server rejected the credentials\n"
                              "(a TURN server that does not answer is no error: the direct attempt's result stands)");
    }
    return QString();
}
} // namespace

QString exitCodeHelp(const QString &success, IceExitCode::Code last, const QMap<int, QString> &details) {
    QList<IceExitCode::Code> codes;
    for (int code = IceExitCode::Success; code <= last; ++code) {
        codes.append(IceExitCode::Code(code));
    }
    return exitCodeHelp(success, codes, details);
}

QString exitCodeHelp(const QString &success, const QList<IceExitCode::Code> &codes, const QMap<int, QString> &details) {
    QString text = QStringLiteral("Exit codes:");
    for (IceExitCode::Code code : codes) {
        const QString line = (code == IceExitCode::Success ? success : meaning(IceExitCode::Code(code)))
                             + details.value(code);
        text += QStringLiteral("\n  %1  ").arg(code)
                + QString(line).replace(QLatin1Char('\n'), QStringLiteral("\n     "));
    }
    return text;
}
