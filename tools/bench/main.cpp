// strata-bench: an MQTT load generator for Strata and other brokers.
// See runner.hpp for how a run is driven and docs/benchmarks.md for use.
#include <iostream>

#include "tools/bench/options.hpp"
#include "tools/bench/relay.hpp"
#include "tools/bench/runner.hpp"

int main(int argc, char** argv) {
  std::string error;
  auto options = strata::bench::parse_options(argc, argv, error);
  if (!options) {
    if (error.empty()) {
      std::cout << strata::bench::usage();
      return 0;
    }
    std::cerr << "strata-bench: " << error << "\n" << strata::bench::usage();
    return 2;
  }
  if (options->scenario == strata::bench::Scenario::relay) {
    strata::bench::Relay relay(*options);
    return relay.run();
  }
  strata::bench::Runner runner(*options);
  return runner.run();
}
