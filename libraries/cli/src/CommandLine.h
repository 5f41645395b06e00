// One binary's options, declared once and read from the command line and, for the daemons, from a
// config file whose keys are the long option names. Readers return typed values; a bad value
// records the first error (prefixed "FILE:LINE: " when it came from the file) and returns a
// fallback, so a binary reads every option and checks hasError() once at the end.
#pragma once

#include "ConfigFile.h"

#include <HostAndPort.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QHash>
#include <QtCore/QUrl>
#include <QtCore/QUuid>

class CommandLine {
public:
    enum class Outcome { Run, ShowHelp, ShowVersion, UsageError };
    enum class Occurs { Once, Repeatable };

    CommandLine();

    void setDescription(const QString &description);
    // How a usage error ends the process: its exit code and a line printed after the message
    // (e.g. "Try 'ice-server --help'."; empty for none).
    void setUsageError(int exitCode, const QString &hint);
    void addVersionOption(const QStringList &names);
    // A Repeatable option collects every value; in a config file it is one line per value.
    void addOption(const QCommandLineOption &option, Occurs occurs = Occurs::Once);
    // Adds --config FILE. Without it on the command line, defaultPath is read when it exists.
    void addConfigFileOption(const QString &defaultPath);

    // Parses arguments (argv[0] first) and then the config file, if any.
    Outcome parse(const QStringList &arguments);
    Outcome outcome() const;
    // Ends an early outcome (help, version, usage error) or a failed read: prints to stdout or
    // stderr and returns the exit code for main.
    int finish() const;
    QString helpText() const { return _parser.helpText(); }
    QString configPath() const { return _config.path(); } // the file read; empty when none

    // Readers, valid after parse(). `name` is the long option name.
    bool isSet(const QString &name) const;
    QString value(const QString &name) const; // command line, else file, else the default
    QStringList values(const QString &name) const;
    bool flag(const QString &name) const;

    // Patterns word a rejection; %1 is the text given (and %2 the reason, for addresses). Without
    // one, numbers say "--NAME wants a whole number from MIN to MAX, not 'TEXT'".
    qint64 number(const QString &name, qint64 min, qint64 max, const QString &pattern = QString());
    int milliseconds(const QString &name, qint64 min, qint64 max, const QString &pattern = QString());
    // Whole seconds within [min, max], returned in milliseconds.
    int seconds(const QString &name, qint64 min, qint64 max, const QString &pattern = QString());
    // Seconds with an optional fraction within [min, max], returned in milliseconds.
    int decimalSeconds(const QString &name, double min, double max, const QString &pattern);
    QUuid uuid(const QString &name, const QString &pattern);
    QUrl httpUrl(const QString &name, const QString &pattern);
    HostAndPort hostAndPort(const QString &name, quint16 defaultPort, const QString &pattern);
    QList<HostAndPort> hostAndPorts(const QString &name, quint16 defaultPort, const QString &pattern);

    // False (recording message) when name was given neither on the command line nor in the file.
    bool require(const QString &name, const QString &message);
    // Records message about the value of name (its index-th value for a repeatable option).
    void reject(const QString &name, const QString &message, int index = -1);
    // Records a usage error that belongs to no single value.
    void fail(const QString &message);
    bool hasError() const { return !_errorString.isEmpty(); }
    QString errorString() const { return _errorString; }

    // "<application name>: message" on stderr; returns exitCode (for runtime failures in main).
    static int printError(const QString &message, int exitCode = 1);

private:
    struct Declared {
        bool takesValue = false;
        Occurs occurs = Occurs::Once;
    };
    struct Value {
        QString text;
        int line = 0; // in the config file; 0 when from the command line or the default
    };

    bool readConfigFile();
    bool acceptEntry(const ConfigFile::Entry &entry);
    QList<Value> lookup(const QString &name) const;
    Value last(const QString &name) const;
    void rejectValue(const Value &value, const QString &message);

    QCommandLineParser _parser;
    QHash<QString, Declared> _declared; // long names a config file may use
    QStringList _versionNames;
    QString _defaultConfigPath;
    bool _hasConfigOption = false;
    ConfigFile _config;
    QHash<QString, QList<Value>> _fileValues;
    Outcome _outcome = Outcome::UsageError;
    int _usageExitCode = 1;
    QString _usageHint;
    QString _errorString;
};
