// The user key (docs/mfa.md "User key"): PIN-to-signature latency on swtpm, whole and in its
// steps, and the software key's scrypt-bound unlock for comparison.
//   bench_userkey [runs]      (default 50; starts its own swtpm)
#include "app/agent/mfa/softwareuserkey.h"
#include "app/agent/mfa/tpmuserkey.h"
#include "attestation/tpm/tpm.h"
#include "swtpmsimulator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace vigil;
using attestation::Tpm;
using attestation::TpmKeyBlobs;
using attestation::TpmObject;
using SteadyClock = std::chrono::steady_clock;

namespace {

void print(const char *name, std::vector<double> samples)
{
    std::sort(samples.begin(), samples.end());
    std::printf("%-44s runs=%-4zu median=%8.3f ms  p10=%8.3f  p90=%8.3f\n", name, samples.size(),
                samples[samples.size() / 2], samples[samples.size() / 10],
                samples[samples.size() * 9 / 10]);
}

template <typename F> std::vector<double> measure(int runs, F &&operation)
{
    std::vector<double> samples;
    for (int i = 0; i < runs; ++i) {
        const auto start = SteadyClock::now();
        operation(i);
        samples.push_back(
            std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    }
    return samples;
}

} // namespace

int main(int argc, char **argv)
{
    const int runs = argc > 1 ? std::max(10, std::atoi(argv[1])) : 50;
    setenv("TSS2_LOG", "all+NONE", 0);
    test::SwtpmSimulator sim;
    const auto tpm = std::make_shared<Tpm>(sim.tcti());
    const SecretBytes pin(std::string_view("482916"));
    const Bytes digest(32, 0x42);
    std::printf("swtpm %s, %d runs, 6-byte PIN\n", sim.tcti().c_str(), runs);

    // What vigild does per sign-in: recreate the SRK, load the key, sign in a salted session.
    const auto key = agent::TpmUserKey::create(tpm, sim.scratchDirectory() / "user", pin);
    print("TPM user key: PIN -> signature (whole)",
          measure(runs, [&](int) { key->sign(digest, pin); }));

    // Its steps, with the SRK and key kept loaded where a step does not need them afresh.
    print("  storage root key (CreatePrimary)",
          measure(runs, [&](int) { tpm->createStorageRootKey(); }));
    {
        const TpmObject srk = tpm->createStorageRootKey();
        const TpmKeyBlobs blobs = tpm->createPinKey(srk, pin);
        print("  load the user key", measure(runs, [&](int) { tpm->loadKey(srk, blobs); }));
        const TpmObject loaded = tpm->loadKey(srk, blobs);
        print("  salted session + TPM2_Sign",
              measure(runs, [&](int) { tpm->signWithPin(loaded, pin, srk, digest); }));
        // For comparison: a key without authValue (like the device key), password session.
        const TpmObject deviceKey =
            tpm->loadKey(srk, tpm->createKey(srk, attestation::signingKeyTemplate()));
        print("  TPM2_Sign, no PIN (device key)",
              measure(runs, [&](int) { tpm->sign(deviceKey, digest); }));
    }
    print("TPM user key: create (enrollment)", measure(std::max(10, runs / 5), [&](int i) {
              agent::TpmUserKey::create(tpm, sim.scratchDirectory() / ("new" + std::to_string(i)),
                                        pin);
          }));
    const SecretBytes otherPin(std::string_view("739104"));
    print("TPM user key: change PIN", measure(std::max(10, runs / 5), [&](int i) {
              key->changePin(i % 2 ? otherPin : pin, i % 2 ? pin : otherPin);
          }));

    SystemClock clock;
    const auto software =
        agent::SoftwareUserKey::create(sim.scratchDirectory() / "software", pin, clock);
    print("software user key: PIN -> signature",
          measure(std::max(10, runs / 5), [&](int) { software->sign(digest, pin); }));
    print("  scrypt N=2^15 r=8 p=1 alone", measure(std::max(10, runs / 5), [&](int) {
              agent::scryptSealingKey(pin, Bytes(16, 1));
          }));
    return 0;
}
