// The "Exit codes:" paragraph of the client tools' --help, written once from IceExitCode so that
// interface-stub and ice-client describe the same code the same way.
#pragma once

#include <IceExitCode.h>

#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QString>

// Lists codes 0 to last. success says what 0 means for the tool; details adds a tool's own
// sentence to a code's line (a '\n' in either continues on an indented line).
QString exitCodeHelp(const QString &success, IceExitCode::Code last, const QMap<int, QString> &details = {});
// The same for the codes listed, in that order (a tool that never returns some code leaves it out).
QString exitCodeHelp(const QString &success, const QList<IceExitCode::Code> &codes,
                     const QMap<int, QString> &details = {});
