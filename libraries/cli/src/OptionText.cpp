#include "OptionText.h"

namespace OptionText {

bool wholeNumber(const QString &text, qint64 min, qint64 max, qint64 *value) {
    bool ok = false;
    const qint64 number = text.toLongLong(&ok);
    if (!ok || number < min || number > max) {
        return false;
    }
    *value = number;
    return true;
}

bool decimalSeconds(const QString &text, double min, double max, double *value) {
    bool ok = false;
    const double number = text.toDouble(&ok);
    if (!ok || !(number >= min && number <= max)) { // the negation also rejects NaN
        return false;
    }
    *value = number;
    return true;
}

bool flag(const QString &text, bool *value) {
    if (text == QLatin1String("true")) {
        *value = true;
        return true;
    }
    if (text == QLatin1String("false")) {
        *value = false;
        return true;
    }
    return false;
}

QString fill(const QString &pattern, const QStringList &arguments) {
    QString result;
    result.reserve(pattern.size());
    for (int i = 0; i < pattern.size(); ++i) {
        const QChar c = pattern.at(i);
        if (c == QLatin1Char('%') && i + 1 < pattern.size() && pattern.at(i + 1).isDigit()) {
            const int index = pattern.at(i + 1).digitValue() - 1;
            if (index >= 0 && index < arguments.size()) {
                result += arguments.at(index);
                ++i;
                continue;
            }
        }
        result += c;
    }
    return result;
}

} // namespace OptionText
