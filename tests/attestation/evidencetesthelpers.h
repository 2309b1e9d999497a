#pragma once

// Shared by the evidence verification tests: expecting an exact EvidenceError.

#include "attestation/evidenceerror.h"
#include "core/bytes.h"

#include <QByteArray>
#include <QTest>
#include <functional>
#include <stdexcept>
#include <string>

namespace vigil::attestation::test {

inline Bytes toBytes(const QByteArray &data)
{
    return Bytes(data.begin(), data.end());
}

// The kind of EvidenceException call throws (and its message); std::runtime_error if it
// throws nothing, which the test reports as an unhandled exception.
inline EvidenceError errorOf(const std::function<void()> &call, std::string *message = nullptr)
{
    try {
        call();
    } catch (const EvidenceException &e) {
        if (message)
            *message = e.what();
        return e.error();
    }
    throw std::runtime_error("expected an EvidenceException, none was thrown");
}

} // namespace vigil::attestation::test

#define QCOMPARE_ERROR(call, expected)                                                             \
    do {                                                                                           \
        std::string message_;                                                                      \
        const auto error_ = vigil::attestation::test::errorOf([&] { (void)(call); }, &message_);   \
        QVERIFY2(error_ == (expected),                                                             \
                 (std::string(vigil::attestation::evidenceErrorName(error_)) + ": " + message_)    \
                     .c_str());                                                                    \
    } while (false)
