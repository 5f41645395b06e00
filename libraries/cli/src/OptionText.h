// Conversions from an option's text to a value, the same whether the text came from the command
// line or a config file. No messages here: CommandLine words them, so each binary keeps its own.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

namespace OptionText {

// A whole number (decimal, optional sign) within [min, max].
bool wholeNumber(const QString &text, qint64 min, qint64 max, qint64 *value);

// A number of seconds with an optional fraction ("2.5") within [min, max].
bool decimalSeconds(const QString &text, double min, double max, double *value);

// A config file's flag: "true" or "false".
bool flag(const QString &text, bool *value);

// pattern with %1, %2, ... replaced by arguments in one pass, so an argument that itself holds "%2"
// stays as it is (QString::arg would substitute it again, and with only %2 in the pattern it would
// put the first argument there).
QString fill(const QString &pattern, const QStringList &arguments);

} // namespace OptionText
