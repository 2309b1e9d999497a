// Times full posture snapshots on this machine.
//   cold: a new engine each time, so every cache (package-manager queries, desktop settings)
//         starts empty — what the first report after a start costs;
//   warm: one engine, caches filled — what every later report costs.
// Prints median and spread for both, and each collector's warm median to show the slowest.
#include "posture/host/host.h"
#include "posture/postureengine.h"
#include "posture/standardcollectors.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace vigil::posture;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Stats
{
    double median, p10, p90, min, max;
};

Stats stats(std::vector<double> samples)
{
    std::sort(samples.begin(), samples.end());
    auto at = [&](double q) {
        return samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1) + 0.5)];
    };
    return {at(0.5), at(0.1), at(0.9), samples.front(), samples.back()};
}

void print(const char *name, std::size_t runs, const Stats &s)
{
    std::printf("%-26s runs=%-4zu median=%8.3f ms  p10=%8.3f  p90=%8.3f  min=%8.3f  max=%8.3f\n",
                name, runs, s.median, s.p10, s.p90, s.min, s.max);
}

double msSince(SteadyClock::time_point start)
{
    return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

} // namespace

int main(int argc, char **argv)
{
    const int coldRuns = argc > 1 ? std::atoi(argv[1]) : 5;
    const int warmRuns = argc > 2 ? std::atoi(argv[2]) : 200;
    auto host = std::make_shared<const Host>(Host::local());

    std::vector<double> cold;
    for (int i = 0; i < coldRuns; ++i) {
        PostureEngine engine(host, standardCollectors());
        const auto start = SteadyClock::now();
        engine.collect();
        cold.push_back(msSince(start));
    }

    PostureEngine engine(host, standardCollectors());
    engine.collect(); // fill the caches
    std::vector<double> warm;
    std::map<std::string, std::vector<double>> perCheck;
    for (int i = 0; i < warmRuns; ++i) {
        const auto start = SteadyClock::now();
        const auto snapshot = engine.collect();
        warm.push_back(msSince(start));
        for (const auto &check : snapshot.checks)
            perCheck[check.id].push_back(static_cast<double>(check.duration.count()) / 1000.0);
    }

    std::printf("posture snapshot benchmark (%u collectors)\n", unsigned(perCheck.size()));
    print("snapshot.cold", cold.size(), stats(cold));
    print("snapshot.warm", warm.size(), stats(warm));
    for (const auto &[id, samples] : perCheck)
        print(("warm." + id).c_str(), samples.size(), stats(samples));
    const double target = 10.0;
    const auto warmMedian = stats(warm).median;
    std::printf("target: warm median <= %.1f ms -> %s (%.3f ms)\n", target,
                warmMedian <= target ? "met" : "NOT MET", warmMedian);
    return 0;
}
