// TPM evidence on swtpm: Vigil's in-process quote + verify next to tpm2_quote + tpm2_checkquote
// for the same PCR selection in the same run, and ES256 signing with the TPM and software keys.
//   bench_tpm [runs]      (default 50; starts its own swtpm)
#include "attestation/attestverifier.h"
#include "attestation/tpm/tpmdevicekey.h"
#include "attestation/tpm/tpmidentity.h"
#include "protocol/jose/softwaredevicekey.h"
#include "swtpmsimulator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace vigil::attestation;
using vigil::Bytes;
using vigil::fromHex;
using vigil::protocol::SoftwareDeviceKey;
using vigil::protocol::QuoteEvidence;
using SteadyClock = std::chrono::steady_clock;

extern char **environ;

namespace {

double median(std::vector<double> samples)
{
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

void print(const char *name, const std::vector<double> &samples)
{
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    std::printf("%-34s runs=%-4zu median=%8.3f ms  p10=%8.3f  p90=%8.3f\n", name, sorted.size(),
                sorted[sorted.size() / 2], sorted[sorted.size() / 10],
                sorted[sorted.size() * 9 / 10]);
}

// Times operation(i) per run; untimed() runs after each, outside the measurement.
template <typename F>
std::vector<double> measure(int runs, F &&operation, const std::function<void()> &untimed = {})
{
    std::vector<double> samples;
    for (int i = 0; i < runs; ++i) {
        const auto start = SteadyClock::now();
        operation(i);
        samples.push_back(
            std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
        if (untimed)
            untimed();
    }
    return samples;
}

// Runs a tool directly (no shell) in dir and fails loudly: a silent failure would make the
// comparison meaningless.
void run(const std::string &dir, std::vector<std::string> argv)
{
    std::vector<char *> args;
    for (auto &a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", 0, 0);
    pid_t pid = 0;
    int status = -1;
    if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) == 0)
        waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&actions);
    if (status != 0) {
        std::fprintf(stderr, "bench_tpm: %s failed (status %d)\n", argv[0].c_str(), status);
        std::exit(1);
    }
}

} // namespace

int main(int argc, char **argv)
{
    const int runs = argc > 1 ? std::max(5, std::atoi(argv[1])) : 50;
    setenv("TSS2_LOG", "all+NONE", 0);
    vigil::test::SwtpmSimulator sim;
    setenv("TPM2TOOLS_TCTI", sim.tcti().c_str(), 1);
    const std::string dir = sim.scratchDirectory().string();
    const std::string nonce = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const Bytes nonceBytes = *fromHex(nonce);
    const std::vector<unsigned> pcrs{0, 1, 2, 3, 4, 5, 6, 7};
    const std::string selection = "sha256:0,1,2,3,4,5,6,7";

    // tpm2-tools run first: Vigil's keys stay loaded and would not leave them a slot.
    // tpm2-tools' AK: same kind of key (restricted ECDSA P-256) under an owner primary. swtpm
    // has no resource manager, so flush what the setup tools leave loaded.
    run(dir, {"tpm2_createprimary", "-Q", "-C", "o", "-G", "ecc", "-c", "primary.ctx"});
    run(dir, {"tpm2_flushcontext", "-t"});
    run(dir, {"tpm2_create", "-Q", "-C", "primary.ctx", "-G", "ecc256:ecdsa-sha256:null", "-a",
              "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign", "-u",
              "ak.pub", "-r", "ak.priv"});
    run(dir, {"tpm2_flushcontext", "-t"});
    run(dir,
        {"tpm2_load", "-Q", "-C", "primary.ctx", "-u", "ak.pub", "-r", "ak.priv", "-c", "ak.ctx"});
    run(dir, {"tpm2_flushcontext", "-t"});

    const auto tools = measure(
        runs,
        [&](int) {
            run(dir, {"tpm2_quote", "-Q", "-c", "ak.ctx", "-l", selection, "-q", nonce, "-m",
                      "quote.msg", "-s", "quote.sig", "-o", "quote.pcrs", "-g", "sha256"});
            run(dir, {"tpm2_checkquote", "-Q", "-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig",
                      "-f", "quote.pcrs", "-g", "sha256", "-q", nonce});
        },
        [&] {
            // Without a resource manager tpm2_quote leaves the AK loaded; flushing is not its cost.
            run(dir, {"tpm2_flushcontext", "-t"});
        });
    auto identity = std::make_shared<TpmIdentity>(std::make_shared<Tpm>(sim.tcti()),
                                                  sim.scratchDirectory() / "state");
    std::printf("swtpm %s, %d runs, PCRs %s, 32-byte nonce\n", sim.tcti().c_str(), runs,
                selection.c_str());

    const auto vigil = measure(runs, [&](int) {
        const QuoteEvidence quote = identity->quote(nonceBytes, pcrs);
        verifyQuote(quote, identity->attestationKeyPublic(), nonceBytes);
    });
    print("vigil quote + verifyQuote", vigil);
    print("tpm2_quote + tpm2_checkquote", tools);
    std::printf("ratio vigil/tpm2-tools (median)      %.3f  (must be <= 1)\n",
                median(vigil) / median(tools));

    const Bytes digest(32, 0x42);
    TpmDeviceKey tpmKey(identity);
    const auto softwareKey = SoftwareDeviceKey::create(sim.scratchDirectory() / "software.pem");
    print("ES256 sign, TPM device key", measure(runs, [&](int) { tpmKey.sign(digest); }));
    print("ES256 sign, software device key",
          measure(runs * 10, [&](int) { softwareKey->sign(digest); }));
    return 0;
}
