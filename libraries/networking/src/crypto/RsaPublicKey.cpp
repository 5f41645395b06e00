#include "RsaPublicKey.h"

#include "KeyEncoding_p.h"
#include "OpenSslKeys_p.h"
#include "RsaKeyData_p.h"

namespace {

using OpenSslKeys::PublicDer;

RsaPublicKey fail(QString *errorString, const QString &why) {
    if (errorString)
        *errorString = why;
    return {};
}

// DER of unknown form: SPKI is what metaverse servers hand out, so try it first.
OpenSslKeys::PkeyPtr parseAnyDer(const QByteArray &der, QString *errorString) {
    QString spkiError;
    OpenSslKeys::PkeyPtr key = OpenSslKeys::parsePublicDer(der, PublicDer::SubjectPublicKeyInfo, &spkiError);
    if (key || spkiError.startsWith(QLatin1String("not an RSA key"))) {
        if (errorString)
            *errorString = spkiError;
        return key;
    }
    QString pkcs1Error;
    key = OpenSslKeys::parsePublicDer(der, PublicDer::Pkcs1, &pkcs1Error);
    if (!key && errorString)
        *errorString = QStringLiteral("neither an RSA SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey: %1; %2")
                           .arg(spkiError, pkcs1Error);
    return key;
}

} // namespace

RsaPublicKey::RsaPublicKey(std::shared_ptr<const RsaPublicKeyData> data) : d(std::move(data)) {}

RsaPublicKey RsaPublicKey::fromData(const QByteArray &data, QString *errorString) {
    if (data.trimmed().isEmpty())
        return fail(errorString, QStringLiteral("empty public key data"));

    QString error;
    OpenSslKeys::PkeyPtr key;
    if (data.at(0) == 0x30) { // a DER SEQUENCE; no base64 or PEM text starts with '0'
        key = parseAnyDer(data, &error);
    } else if (KeyEncoding::looksLikePem(data)) {
        KeyEncoding::PemBlock block;
        if (!KeyEncoding::decodePem(data, &block, &error))
            return fail(errorString, error);
        if (block.label == "PUBLIC KEY")
            key = OpenSslKeys::parsePublicDer(block.der, PublicDer::SubjectPublicKeyInfo, &error);
        else if (block.label == "RSA PUBLIC KEY")
            key = OpenSslKeys::parsePublicDer(block.der, PublicDer::Pkcs1, &error);
        else
            error = QStringLiteral("PEM block \"%1\" is not a public key").arg(QString::fromLatin1(block.label));
    } else {
        QByteArray der;
        if (!KeyEncoding::decodeBase64(data, &der))
            return fail(errorString, QStringLiteral("public key is neither DER, PEM nor base64"));
        key = parseAnyDer(der, &error);
    }
    if (!key)
        return fail(errorString, error);

    auto shared = std::make_shared<RsaPublicKeyData>();
    shared->subjectPublicKeyInfo = OpenSslKeys::subjectPublicKeyInfoDer(key.get());
    shared->pkcs1 = OpenSslKeys::pkcs1PublicDer(key.get());
    shared->bits = EVP_PKEY_get_bits(key.get());
    if (shared->subjectPublicKeyInfo.isEmpty() || shared->pkcs1.isEmpty())
        return fail(errorString, QStringLiteral("could not re-encode the public key"));
    return RsaPublicKey(std::move(shared));
}

int RsaPublicKey::bits() const {
    return d ? d->bits : 0;
}

QByteArray RsaPublicKey::toSubjectPublicKeyInfoDer() const {
    return d ? d->subjectPublicKeyInfo : QByteArray();
}

QByteArray RsaPublicKey::toPkcs1Der() const {
    return d ? d->pkcs1 : QByteArray();
}

QByteArray RsaPublicKey::toBase64() const {
    return toSubjectPublicKeyInfoDer().toBase64();
}

QByteArray RsaPublicKey::toPem() const {
    return d ? KeyEncoding::encodePem("PUBLIC KEY", d->subjectPublicKeyInfo) : QByteArray();
}
