// placeholder: filled by the work on the multi-objective issue
#include <benchmark/benchmark.h>
BENCHMARK_MAIN();
