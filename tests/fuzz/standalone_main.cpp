// Runs a libFuzzer target without libFuzzer, so every build (g++, ASan) exercises the fuzz
// targets in CTest: each seed file as it is, then a fixed number of deterministic mutations of
// it (bit flips, byte overwrites, truncations, duplications, splices with another seed).
// Real coverage-guided fuzzing uses the `fuzz` preset (clang, -fsanitize=fuzzer).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

void runOne(const std::string &input)
{
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()), input.size());
}

std::string mutate(std::string input, const std::vector<std::string> &seeds, std::mt19937 &rng)
{
    auto pick = [&](std::size_t n) {
        return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    };
    const int rounds = 1 + static_cast<int>(pick(4));
    for (int r = 0; r < rounds; ++r) {
        switch (pick(6)) {
        case 0:
            if (!input.empty())
                input[pick(input.size())] ^= static_cast<char>(1u << pick(8));
            break;
        case 1:
            if (!input.empty())
                input[pick(input.size())] = static_cast<char>(pick(256));
            break;
        case 2:
            input.resize(pick(input.size() + 1));
            break;
        case 3:
            if (!input.empty()) {
                const auto at = pick(input.size());
                input.insert(at, input.substr(at, pick(64)));
            }
            break;
        case 4: {
            const auto &other = seeds[pick(seeds.size())];
            const auto at = pick(input.size() + 1);
            input = input.substr(0, at) + other.substr(pick(other.size() + 1));
            break;
        }
        case 5:
            if (!input.empty()) {
                const auto at = pick(input.size());
                input.erase(at, pick(32));
            }
            break;
        }
    }
    return input;
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<std::string> seeds;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path path = argv[i];
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(path)) {
            for (const auto &entry : std::filesystem::recursive_directory_iterator(path))
                if (entry.is_regular_file())
                    files.push_back(entry.path());
        } else {
            files.push_back(path);
        }
        for (const auto &file : files) {
            std::ifstream in(file, std::ios::binary);
            std::ostringstream content;
            content << in.rdbuf();
            seeds.push_back(content.str());
        }
    }
    seeds.push_back({});
    const int mutationsPerSeed =
        std::getenv("FUZZ_MUTATIONS") ? std::atoi(std::getenv("FUZZ_MUTATIONS")) : 500;
    std::mt19937 rng(20261124);
    std::size_t runs = 0;
    for (const auto &seed : seeds) {
        runOne(seed);
        ++runs;
        for (int m = 0; m < mutationsPerSeed; ++m, ++runs)
            runOne(mutate(seed, seeds, rng));
    }
    std::printf("%zu inputs from %zu seeds, no crash\n", runs, seeds.size());
    return 0;
}
