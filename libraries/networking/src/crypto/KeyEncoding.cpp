#include "KeyEncoding_p.h"

namespace {

const QByteArray kBegin = QByteArrayLiteral("-----BEGIN ");
const QByteArray kEnd = QByteArrayLiteral("-----END ");
const QByteArray kDashes = QByteArrayLiteral("-----");

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

} // namespace

namespace KeyEncoding {

bool looksLikePem(const QByteArray &data) {
    return data.contains(kBegin);
}

bool decodePem(const QByteArray &data, PemBlock *block, QString *errorString) {
    const auto fail = [errorString](const QString &why) {
        if (errorString)
            *errorString = why;
        return false;
    };
    const qsizetype begin = data.indexOf(kBegin);
    if (begin < 0)
        return fail(QStringLiteral("no PEM BEGIN line"));
    const qsizetype labelStart = begin + kBegin.size();
    const qsizetype labelEnd = data.indexOf(kDashes, labelStart);
    const qsizetype lineEnd = data.indexOf('\n', labelStart);
    if (labelEnd < 0 || (lineEnd >= 0 && labelEnd > lineEnd))
        return fail(QStringLiteral("malformed PEM BEGIN line"));
    const QByteArray label = data.mid(labelStart, labelEnd - labelStart);

    const QByteArray endLine = kEnd + label + kDashes;
    const qsizetype bodyStart = labelEnd + kDashes.size();
    const qsizetype end = data.indexOf(endLine, bodyStart);
    if (end < 0)
        return fail(QStringLiteral("PEM block \"%1\" has no matching END line").arg(QString::fromLatin1(label)));

    const QByteArray body = data.mid(bodyStart, end - bodyStart);
    if (body.contains(':'))
        return fail(QStringLiteral("PEM block \"%1\" has headers; encrypted PEM keys are not supported")
                        .arg(QString::fromLatin1(label)));
    QByteArray der;
    if (!decodeBase64(body, &der) || der.isEmpty())
        return fail(QStringLiteral("PEM block \"%1\" is not valid base64").arg(QString::fromLatin1(label)));
    block->label = label;
    block->der = der;
    return true;
}

QByteArray encodePem(const QByteArray &label, const QByteArray &der) {
    const QByteArray base64 = der.toBase64();
    QByteArray out = kBegin + label + kDashes + '\n';
    for (qsizetype i = 0; i < base64.size(); i += 64)
        out += base64.mid(i, 64) + '\n';
    out += kEnd + label + kDashes + '\n';
    return out;
}

bool decodeBase64(const QByteArray &text, QByteArray *out) {
    QByteArray compact;
    compact.reserve(text.size());
    for (const char c : text) {
        if (!isSpace(c))
            compact.append(c);
    }
    if (compact.isEmpty() || compact.size() % 4 != 0)
        return false;
    const auto result = QByteArray::fromBase64Encoding(compact, QByteArray::AbortOnBase64DecodingErrors);
    if (!result)
        return false;
    *out = result.decoded;
    return true;
}

} // namespace KeyEncoding
