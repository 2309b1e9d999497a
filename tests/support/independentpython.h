#pragma once

#include <QByteArray>
#include <QStringList>
#include <exception>

namespace vigil::test {

// Runs `script` with /usr/bin/python3 (Debian's, which sees python3-cryptography and jwcrypto:
// the independent implementation tests compare against), feeding input on stdin. Returns false
// and fills error when python cannot start, runs past 60 s or exits non-zero. Scripts use only
// single quotes: moc mis-tokenises raw strings with an odd number of double quotes.
bool runPython(const char *script, const QStringList &arguments, const QByteArray &input,
               QByteArray &output, QByteArray &error);

inline bool runPython(const char *script, const QByteArray &input, QByteArray &output,
                      QByteArray &error)
{
    return runPython(script, {}, input, output, error);
}

// The message of the E that f throws, or a marker saying what happened instead, so a test can
// compare messages exactly.
template <typename E, typename F> QByteArray thrownMessage(F f)
{
    try {
        f();
    } catch (const E &e) {
        return QByteArray(e.what());
    } catch (const std::exception &e) {
        return "<other exception: " + QByteArray(e.what()) + ">";
    }
    return "<no exception>";
}

} // namespace vigil::test
