#include "CommandLine.h"
#include "OptionText.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QFileInfo>

#include <cstdio>

namespace {
const QString ConfigOptionName = QStringLiteral("config");

QString longName(const QCommandLineOption &option) {
    return option.names().constLast(); // Qt lists short names first
}
} // namespace

CommandLine::CommandLine() {
    _parser.addHelpOption();
}

void CommandLine::setDescription(const QString &description) {
    _parser.setApplicationDescription(description);
}

void CommandLine::setUsageError(int exitCode, const QString &hint) {
    _usageExitCode = exitCode;
    _usageHint = hint;
}

void CommandLine::addVersionOption(const QStringList &names) {
    _versionNames = names;
    _parser.addOption(QCommandLineOption(names, QStringLiteral("Displays version information.")));
}

void CommandLine::addOption(const QCommandLineOption &option, Occurs occurs) {
    _parser.addOption(option);
    _declared.insert(longName(option), { !option.valueName().isEmpty(), occurs });
}

void CommandLine::addConfigFileOption(const QString &defaultPath) {
    _defaultConfigPath = defaultPath;
    _hasConfigOption = true;
    _parser.addOption(QCommandLineOption(
        ConfigOptionName,
        QStringLiteral("Read options from FILE: one 'key = value' line per long option, named without '--' "
                       "(e.g. 'port = 7337'; flags take true or false), '#' starts a comment line; a repeatable "
                       "option is one line per value. Options on the command line win over the file. "
                       "Default: %1, when it exists.")
            .arg(defaultPath),
        QStringLiteral("FILE")));
}

CommandLine::Outcome CommandLine::parse(const QStringList &arguments) {
    _errorString.clear();
    _fileValues.clear();
    _config = ConfigFile();
    _outcome = Outcome::UsageError;
    if (!_parser.parse(arguments)) {
        _errorString = _parser.errorText();
        return _outcome;
    }
    // Qt adds --help-all beside --help; a core application has no Qt options to add, so both show help.
    if (_parser.isSet(QStringLiteral("help")) || _parser.isSet(QStringLiteral("help-all"))) {
        return _outcome = Outcome::ShowHelp;
    }
    if (!_versionNames.isEmpty() && _parser.isSet(_versionNames.constLast())) {
        return _outcome = Outcome::ShowVersion;
    }
    if (!_parser.positionalArguments().isEmpty()) {
        _errorString = QStringLiteral("unexpected argument '%1'").arg(_parser.positionalArguments().constFirst());
        return _outcome;
    }
    if (_hasConfigOption && !readConfigFile()) {
        return _outcome;
    }
    return _outcome = Outcome::Run;
}

CommandLine::Outcome CommandLine::outcome() const {
    return hasError() ? Outcome::UsageError : _outcome;
}

int CommandLine::finish() const {
    switch (outcome()) {
    case Outcome::ShowHelp: std::fputs(qPrintable(helpText()), stdout); return 0;
    case Outcome::ShowVersion:
        std::printf("%s %s\n", qPrintable(QCoreApplication::applicationName()),
                    qPrintable(QCoreApplication::applicationVersion()));
        return 0;
    case Outcome::UsageError:
    case Outcome::Run: // finish() after a successful read is a caller's slip; say so rather than exit 0
        return printError(_errorString.isEmpty() ? QStringLiteral("internal error: no usage error to report")
                          : _usageHint.isEmpty() ? _errorString
                                                 : _errorString + QLatin1Char('\n') + _usageHint,
                          _usageExitCode);
    }
    return _usageExitCode;
}

bool CommandLine::readConfigFile() {
    QString path;
    if (_parser.isSet(ConfigOptionName)) {
        path = _parser.value(ConfigOptionName);
    } else if (!_defaultConfigPath.isEmpty() && QFileInfo::exists(_defaultConfigPath)) {
        path = _defaultConfigPath;
    } else {
        return true;
    }
    if (!_config.load(path)) {
        _errorString = _config.errorString();
        return false;
    }
    for (const ConfigFile::Entry &entry : _config.entries()) {
        if (!acceptEntry(entry)) {
            return false;
        }
    }
    return true;
}

bool CommandLine::acceptEntry(const ConfigFile::Entry &entry) {
    const QString where = _config.location(entry.line) + QStringLiteral(": ");
    const auto declared = _declared.constFind(entry.key);
    if (declared == _declared.constEnd()) {
        _errorString = where
                       + QStringLiteral("unknown key '%1' (the keys are the long options of --help, "
                                        "without '--')")
                             .arg(entry.key);
        return false;
    }
    bool on = false;
    if (!declared->takesValue && !OptionText::flag(entry.value, &on)) {
        _errorString = where + QStringLiteral("%1 wants true or false, not '%2'").arg(entry.key, entry.value);
        return false;
    }
    QList<Value> &values = _fileValues[entry.key];
    if (declared->occurs == Occurs::Once && !values.isEmpty()) {
        _errorString = where
                       + QStringLiteral("%1 is already set on line %2").arg(entry.key).arg(values.constFirst().line);
        return false;
    }
    values.append({ entry.value, entry.line });
    return true;
}

QList<CommandLine::Value> CommandLine::lookup(const QString &name) const {
    if (!_parser.isSet(name)) {
        const auto file = _fileValues.constFind(name);
        if (file != _fileValues.constEnd()) {
            return *file;
        }
    }
    QList<Value> values;
    for (const QString &text : _parser.values(name)) { // given, or the declared default
        values.append({ text, 0 });
    }
    return values;
}

CommandLine::Value CommandLine::last(const QString &name) const {
    const QList<Value> values = lookup(name);
    return values.isEmpty() ? Value() : values.constLast();
}

bool CommandLine::isSet(const QString &name) const {
    return _parser.isSet(name) || _fileValues.contains(name);
}

QString CommandLine::value(const QString &name) const {
    return last(name).text;
}

QStringList CommandLine::values(const QString &name) const {
    QStringList texts;
    for (const Value &value : lookup(name)) {
        texts.append(value.text);
    }
    return texts;
}

bool CommandLine::flag(const QString &name) const {
    if (_parser.isSet(name)) {
        return true;
    }
    bool on = false;
    return _fileValues.contains(name) && OptionText::flag(_fileValues.value(name).constLast().text, &on) && on;
}

qint64 CommandLine::number(const QString &name, qint64 min, qint64 max, const QString &pattern) {
    const Value given = last(name);
    qint64 result = min;
    if (!OptionText::wholeNumber(given.text, min, max, &result)) {
        rejectValue(given, pattern.isEmpty() ? QStringLiteral("--%1 wants a whole number from %2 to %3, not '%4'")
                                                   .arg(name)
                                                   .arg(min)
                                                   .arg(max)
                                                   .arg(given.text)
                                             : OptionText::fill(pattern, { given.text }));
        return min;
    }
    return result;
}

int CommandLine::milliseconds(const QString &name, qint64 min, qint64 max, const QString &pattern) {
    return int(number(name, min, max, pattern));
}

int CommandLine::seconds(const QString &name, qint64 min, qint64 max, const QString &pattern) {
    return int(number(name, min, max, pattern) * 1000);
}

int CommandLine::decimalSeconds(const QString &name, double min, double max, const QString &pattern) {
    const Value given = last(name);
    double result = min;
    if (!OptionText::decimalSeconds(given.text, min, max, &result)) {
        rejectValue(given, OptionText::fill(pattern, { given.text }));
        return int(min * 1000);
    }
    return int(result * 1000);
}

QUuid CommandLine::uuid(const QString &name, const QString &pattern) {
    const Value given = last(name);
    const QUuid id(given.text);
    if (id.isNull()) {
        rejectValue(given, OptionText::fill(pattern, { given.text }));
    }
    return id;
}

QUrl CommandLine::httpUrl(const QString &name, const QString &pattern) {
    const Value given = last(name);
    const QUrl url(given.text, QUrl::StrictMode);
    if (!url.isValid() || !url.scheme().startsWith(QLatin1String("http"))) {
        rejectValue(given, OptionText::fill(pattern, { given.text }));
        return QUrl();
    }
    return url;
}

HostAndPort CommandLine::hostAndPort(const QString &name, quint16 defaultPort, const QString &pattern) {
    const Value given = last(name);
    QString why;
    const HostAndPort result = HostAndPort::parse(given.text, defaultPort, &why);
    if (!result.isValid()) {
        rejectValue(given, OptionText::fill(pattern, { given.text, why }));
    }
    return result;
}

QList<HostAndPort> CommandLine::hostAndPorts(const QString &name, quint16 defaultPort, const QString &pattern) {
    QList<HostAndPort> result;
    for (const Value &given : lookup(name)) {
        QString why;
        const HostAndPort parsed = HostAndPort::parse(given.text, defaultPort, &why);
        if (!parsed.isValid()) {
            rejectValue(given, OptionText::fill(pattern, { given.text, why }));
            return {};
        }
        result.append(parsed);
    }
    return result;
}

bool CommandLine::require(const QString &name, const QString &message) {
    if (isSet(name)) {
        return true;
    }
    fail(message);
    return false;
}

void CommandLine::reject(const QString &name, const QString &message, int index) {
    const QList<Value> values = lookup(name);
    rejectValue(index >= 0 && index < values.size() ? values.at(index) : last(name), message);
}

void CommandLine::rejectValue(const Value &value, const QString &message) {
    if (value.line > 0) {
        fail(_config.location(value.line) + QStringLiteral(": ") + message);
    } else {
        fail(message);
    }
}

void CommandLine::fail(const QString &message) {
    if (_errorString.isEmpty()) { // the first problem is the one to fix first
        _errorString = message;
    }
}

int CommandLine::printError(const QString &message, int exitCode) {
    std::fprintf(stderr, "%s: %s\n", qPrintable(QCoreApplication::applicationName()), qPrintable(message));
    return exitCode;
}
