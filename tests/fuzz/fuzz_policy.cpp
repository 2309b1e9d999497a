// The policy file, and the appraisal of whatever a device may put in its snapshot. The input is
// tried as a policy and, when it is a posture snapshot, appraised against the default policy and
// one with PCR reference values: any exception but PolicyError (from the policy) or
// std::invalid_argument (from the snapshot's own parser) is a bug, and so is a crash.
#include "server/policy/appraisal.h"
#include "server/policy/policy.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    try {
        const auto policy = server::parsePolicy(text);
        // A policy that parsed must describe itself consistently.
        for (const auto &[index, values] : policy.pcrReferenceValues)
            if (values.empty() || index > 23)
                __builtin_trap();
    } catch (const server::PolicyError &) {
    }

    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (!json.is_object())
        return 0;
    posture::PostureSnapshot snapshot;
    try {
        snapshot = posture::PostureSnapshot::fromJson(json);
    } catch (const std::invalid_argument &) {
        return 0;
    }
    server::Policy strict;
    strict.allowOtherDistributions = false;
    strict.pcrReferenceValues[7] = {vigil::Bytes(32, 0x07)};
    protocol::PcrValues pcrs{{0, vigil::Bytes(32, 0)}, {7, vigil::Bytes(20, 7)}};
    const auto now = snapshot.collectedAt;
    for (const auto &policy : {server::Policy{}, strict}) {
        const auto verdict = server::appraise(policy, snapshot, &pcrs, "tpm", now);
        for (const auto &check : verdict.checks)
            if (!check.pass && check.remediation.empty())
                __builtin_trap(); // every failing check says what to do
        server::appraise(policy, snapshot, nullptr, "software", now);
    }
    return 0;
}
