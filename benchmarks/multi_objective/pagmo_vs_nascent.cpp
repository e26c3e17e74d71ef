// NSGA-II cross-check: pagmo2's nsga2 against nascent::strategy::nsga2 on the same bi-objective
// NAS-Bench-201 problem (maximise test_acc@200, minimise latency:<device> in ms), both fed by one
// nascent::bench::nb201_objectives_evaluator, so both see identical objective values.
//
// Protocol, both sides:
//   - population NP (pagmo wants a multiple of 4, >= 8), NP random cells first, then generations of
//     NP offspring each; a run of G generations makes NP * (G + 1) fitness evaluations, repeats
//     included (pagmo evaluates every offspring; nascent's strategy is driven by ask/tell here,
//     one evaluation per ask, so its count is the same).
//   - hypervolume at budget B = that of the Pareto front of the first B evaluations of the run
//     (in evaluation order), reference point = the nadir of the exact front of all 15,625 cells,
//     exactly as `nascent run --objectives` computes it; also given as a ratio to the exact
//     front's.
//   - pagmo: nsga2 with its default settings (cr = 0.95, eta_c = 10, m = 0.01, eta_m = 50). With
//     all six variables integer (get_nix() = 6), pagmo 2.18 applies two-point crossover to the
//     integer part (SBX only touches continuous variables; eta_c unused) and its "polynomial
//     mutation" resamples each integer gene uniformly in [0, 4] with probability m (eta_m unused).
//   - nascent: strategy::nsga2 defaults (crossover probability 0.9, mutation probability 1.0), the
//     space's uniform crossover and point mutation (one edge changed to one of the 4 other ops).
//
// Timing: time per generation of pagmo's nsga2::evolve (G generations, timed as one call) against
// nascent's G * NP ask / evaluate / tell steps, after the same NP-cell initial population (not
// timed) on both sides; both make NP fitness evaluations per generation. Times are the CPU time of
// the thread (CLOCK_THREAD_CPUTIME_ID), so that other processes on a shared machine do not land
// on one side; runs alternate which side goes first; the ratio is taken per repetition and its
// median reported. The fitness calls are then timed alone: the cells each side evaluated in its
// generations, replayed in order, pagmo's through pagmo::problem::fitness (type-erased, with its
// input checks, fevals counter and returned vector), nascent's through the evaluator; subtracting
// NP of them per generation gives each side's algorithm-only time.
//
// Usage: pagmo_vs_nascent [--data DIR] [--dataset cifar10] [--device pixel3] [--pops 20,52]
//                         [--budgets 100,300,1000] [--seeds 100] [--timing-reps 7] [--json FILE]

#include <nascent/bench/nb201_latency.hpp>
#include <nascent/bench/nb201_objectives.hpp>
#include <nascent/bench/nb201_table.hpp>
#include <nascent/core/rng.hpp>
#include <nascent/exec/multi_objective.hpp>
#include <nascent/io/data_dir.hpp>
#include <nascent/pareto/archive.hpp>
#include <nascent/pareto/hypervolume.hpp>
#include <nascent/pareto/sort.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/nsga2.hpp>

#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/config.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/types.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// The data directory when neither --data nor $NASCENT_DATA is given (run.sh passes the one beside
// the source tree, ../shared/data).
#ifndef NASCENT_BENCH_DATA_DIR
#define NASCENT_BENCH_DATA_DIR "/work/shared/data"
#endif

namespace {

using namespace nascent;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// CPU time of the calling thread: the timings below count the time this thread ran, not the time
// other processes on a shared machine took from it.
double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// ---------------------------------------------------------------------------------------------
// The pagmo problem: six integer genes (edge ops 0..4), fitness (-test_acc, latency), minimised.

struct nb201_udp {
    const bench::nb201_objectives_evaluator* evaluator = nullptr;
    const char* accuracy = nullptr; // metric names (owned by main, outlive the problem)
    const char* latency = nullptr;
    std::vector<std::uint32_t>* log = nullptr; // ids of the evaluated cells, in order (optional)

    [[nodiscard]] pagmo::vector_double fitness(const pagmo::vector_double& x) const {
        nb201::cell c;
        for (std::size_t e = 0; e < nb201::num_edges; ++e)
            c[e] = static_cast<std::uint8_t>(x[e]);
        const evaluation ev = evaluator->evaluate(c);
        if (log != nullptr)
            log->push_back(static_cast<std::uint32_t>(nb201::space::id(c)));
        // main() checked that every cell evaluates ok and carries both metrics.
        return {-*ev.metrics.get(accuracy), *ev.metrics.get(latency)};
    }
    [[nodiscard]] std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const {
        return {pagmo::vector_double(nb201::num_edges, 0.0),
                pagmo::vector_double(nb201::num_edges, static_cast<double>(nb201::num_ops - 1))};
    }
    [[nodiscard]] pagmo::vector_double::size_type get_nobj() const { return 2; }
    [[nodiscard]] pagmo::vector_double::size_type get_nix() const { return nb201::num_edges; }
    [[nodiscard]] std::string get_name() const { return "NAS-Bench-201 accuracy / latency"; }
};

// ---------------------------------------------------------------------------------------------

struct settings {
    std::optional<std::string> data;
    std::string dataset = "cifar10";
    std::string device = "pixel3";
    std::vector<std::size_t> pops{20, 52};
    std::vector<std::size_t> budgets{100, 300, 1000};
    std::size_t seeds = 100;
    std::size_t timing_reps = 7;
    std::optional<std::string> json;
};

std::vector<std::size_t> parse_list(const std::string& text, const char* flag) {
    std::vector<std::size_t> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto end = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, end - pos);
        std::size_t used = 0;
        unsigned long long v = 0;
        try {
            v = std::stoull(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || v == 0) {
            throw std::invalid_argument(std::string(flag) + ": '" + item +
                                        "' is not a positive integer");
        }
        out.push_back(static_cast<std::size_t>(v));
        pos = end + 1;
    }
    return out;
}

std::size_t single(const std::string& text, const char* flag) {
    const auto v = parse_list(text, flag);
    if (v.size() != 1)
        throw std::invalid_argument(std::string(flag) + ": one number expected, got '" + text +
                                    "'");
    return v[0];
}

settings parse_args(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--data")
            s.data = value();
        else if (a == "--dataset")
            s.dataset = value();
        else if (a == "--device")
            s.device = value();
        else if (a == "--pops")
            s.pops = parse_list(value(), "--pops");
        else if (a == "--budgets")
            s.budgets = parse_list(value(), "--budgets");
        else if (a == "--seeds")
            s.seeds = single(value(), "--seeds");
        else if (a == "--timing-reps")
            s.timing_reps = single(value(), "--timing-reps");
        else if (a == "--json")
            s.json = value();
        else
            throw std::invalid_argument("unknown argument '" + a + "'");
    }
    for (const auto p : s.pops) {
        if (p < 8 || p % 4 != 0) {
            throw std::invalid_argument("--pops: " + std::to_string(p) +
                                        " (pagmo's nsga2 needs a multiple of 4, and >= 8 here)");
        }
    }
    if (s.seeds < 2)
        throw std::invalid_argument("--seeds: at least 2");
    std::sort(s.budgets.begin(), s.budgets.end());
    s.budgets.erase(std::unique(s.budgets.begin(), s.budgets.end()), s.budgets.end());
    return s;
}

// The objective values of every cell (own directions: accuracy, latency), by dense id.
struct cell_values {
    std::vector<std::array<double, 2>> values;
    std::vector<double> reference; // nadir of the exact front
    double front_hypervolume = 0;
    std::size_t front_size = 0;
};

cell_values all_cells(const bench::nb201_objectives_evaluator& ev, const pareto::objectives& objs) {
    cell_values out;
    out.values.resize(nb201::num_cells);
    pareto::point_set all(objs);
    for (std::uint64_t id = 0; id < nb201::num_cells; ++id) {
        const auto e = ev.evaluate(nb201::space::at(id));
        const auto s = pareto::score(e, objs, {});
        if (!s.feasible()) {
            throw std::runtime_error(
                "cell " + nb201::space::to_string(nb201::space::at(id)) +
                " has no value for an objective; this benchmark needs all 15,625");
        }
        out.values[id] = {s.values[0], s.values[1]};
        all.push_back(s.values);
    }
    // As the CLI's exact_front(): the non-dominated cells, their nadir, their hypervolume.
    const auto front = all.subset(pareto::non_dominated(all));
    out.front_size = front.size();
    for (std::size_t j = 0; j < objs.size(); ++j) {
        const bool max = objs.sense(j) == pareto::direction::maximise;
        double worst = max ? std::numeric_limits<double>::infinity()
                           : -std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < front.size(); ++i) {
            const double v = front.value(i, j);
            worst = max ? std::min(worst, v) : std::max(worst, v);
        }
        out.reference.push_back(worst);
    }
    out.front_hypervolume = pareto::hypervolume(front, out.reference);
    return out;
}

// Hypervolume of the front of the first B evaluations, for each budget B.
std::vector<double> hv_at_budgets(const std::vector<std::uint32_t>& log, const cell_values& cells,
                                  const pareto::objectives& objs,
                                  const std::vector<std::size_t>& budgets) {
    pareto::archive<> front(objs);
    std::vector<double> out;
    std::size_t k = 0;
    for (const auto b : budgets) {
        if (log.size() < b)
            throw std::logic_error("a run made fewer evaluations than the budget");
        for (; k < b; ++k)
            (void)front.insert(cells.values[log[k]]);
        out.push_back(front.hypervolume(cells.reference));
    }
    return out;
}

std::size_t distinct(const std::vector<std::uint32_t>& log, std::size_t n) {
    std::vector<bool> seen(nb201::num_cells, false);
    std::size_t count = 0;
    for (std::size_t k = 0; k < n && k < log.size(); ++k) {
        if (!seen[log[k]]) {
            seen[log[k]] = true;
            ++count;
        }
    }
    return count;
}

struct summary {
    double mean = 0;
    double std = 0;
};

summary summarise(const std::vector<double>& xs) {
    summary s;
    for (const double x : xs)
        s.mean += x;
    s.mean /= static_cast<double>(xs.size());
    for (const double x : xs)
        s.std += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(s.std / static_cast<double>(xs.size())); // population std, as the CLI
    return s;
}

double median(std::vector<double> xs) {
    std::sort(xs.begin(), xs.end());
    const auto n = xs.size();
    return n % 2 == 1 ? xs[n / 2] : 0.5 * (xs[n / 2 - 1] + xs[n / 2]);
}

unsigned pagmo_seed(std::uint64_t run, std::uint64_t task) {
    return static_cast<unsigned>(derive_seed(2024, run, task) & 0xffffffffU);
}

// One pagmo run of `generations` generations; returns the evaluated cells in order.
std::vector<std::uint32_t> pagmo_run(const nb201_udp& base, std::size_t pop,
                                     std::size_t generations, std::size_t run,
                                     double mutation = 0.01) {
    std::vector<std::uint32_t> log;
    log.reserve(pop * (generations + 1));
    nb201_udp udp = base;
    udp.log = &log;
    const pagmo::problem prob{udp};
    pagmo::population population{prob, static_cast<pagmo::population::size_type>(pop),
                                 pagmo_seed(run, 1)};
    const pagmo::nsga2 algo{
        static_cast<unsigned>(generations), 0.95, 10., mutation, 50., pagmo_seed(run, 2)};
    population = algo.evolve(std::move(population));
    return log;
}

using nascent_nsga2 = strategy::nsga2<nb201::space>;

// One nascent run driven by ask/tell: every ask is evaluated and told (repeats too).
std::vector<std::uint32_t> nascent_run(const bench::nb201_objectives_evaluator& ev,
                                       const pareto::objectives& objs, std::size_t pop,
                                       std::size_t generations, std::size_t run) {
    std::vector<std::uint32_t> log;
    const std::size_t total = pop * (generations + 1);
    log.reserve(total);
    nascent_nsga2 algo{nb201::space{}, objs, {.population = pop}};
    rng gen(derive_seed(2024, run, 3));
    for (std::size_t k = 0; k < total; ++k) {
        const auto c = algo.ask(gen);
        algo.tell(c, ev.evaluate(c));
        log.push_back(static_cast<std::uint32_t>(nb201::space::id(c)));
    }
    return log;
}

std::vector<std::uint32_t> random_run(std::size_t total, std::size_t run) {
    std::vector<std::uint32_t> log;
    rng gen(derive_seed(2024, run, 4));
    for (std::size_t k = 0; k < total; ++k) {
        log.push_back(static_cast<std::uint32_t>(nb201::space::id(nb201::space::sample(gen))));
    }
    return log;
}

// ---------------------------------------------------------------------------------------------
// Timing.

struct timing {
    double pagmo_gen = 0;       ///< seconds per generation, pagmo (median over repetitions)
    double nascent_gen = 0;     ///< seconds per generation, nascent (median)
    double pagmo_fitness = 0;   ///< seconds per pagmo::problem::fitness call (median)
    double nascent_fitness = 0; ///< seconds per evaluator.evaluate call (median)
    std::vector<double> ratio;  ///< pagmo / nascent per repetition, whole generation
    std::vector<double> ratio_algorithm; ///< the same with each side's fitness time subtracted
    std::size_t generations = 0;
};

volatile double g_sink = 0; // keeps the timed work observable

// Each repetition times, run by run (alternating which side goes first), pagmo's evolve over G
// generations and nascent's G * NP ask/evaluate/tell steps, then the fitness calls alone: the
// cells each side evaluated in those generations, replayed in the same order through
// pagmo::problem::fitness and through the evaluator (same cache behaviour as in the search).
timing time_generations(const nb201_udp& udp, const bench::nb201_objectives_evaluator& ev,
                        const pareto::objectives& objs, std::size_t pop, std::size_t generations,
                        std::size_t seeds, std::size_t reps) {
    timing t;
    t.generations = generations;
    const pagmo::problem prob{udp}; // log == nullptr: no recording while timed

    // The cells of the generations (not of the initial population), for the fitness replay.
    std::vector<pagmo::vector_double> pagmo_xs;
    std::vector<nb201::cell> nascent_cells;
    for (std::size_t run = 0; run < seeds; ++run) {
        const auto pl = pagmo_run(udp, pop, generations, run);
        const auto nl = nascent_run(ev, objs, pop, generations, run);
        for (std::size_t k = pop; k < pl.size(); ++k) {
            const auto c = nb201::space::at(pl[k]);
            pagmo::vector_double x(nb201::num_edges);
            for (std::size_t e = 0; e < nb201::num_edges; ++e)
                x[e] = c[e];
            pagmo_xs.push_back(std::move(x));
        }
        for (std::size_t k = pop; k < nl.size(); ++k)
            nascent_cells.push_back(nb201::space::at(nl[k]));
    }

    std::vector<double> pagmo_times;
    std::vector<double> nascent_times;
    std::vector<double> pagmo_fit;
    std::vector<double> nascent_fit;
    const double gens = static_cast<double>(seeds * generations);
    for (std::size_t rep = 0; rep < reps; ++rep) {
        double tp = 0;
        double tn = 0;
        for (std::size_t run = 0; run < seeds; ++run) {
            const auto one_pagmo = [&] {
                pagmo::population population{prob, static_cast<pagmo::population::size_type>(pop),
                                             pagmo_seed(run, 1)};
                const pagmo::nsga2 algo{
                    static_cast<unsigned>(generations), 0.95, 10., 0.01, 50., pagmo_seed(run, 2)};
                const double start = thread_seconds();
                population = algo.evolve(std::move(population));
                tp += (thread_seconds() - start);
                g_sink = g_sink + population.get_f()[0][0];
            };
            const auto one_nascent = [&] {
                nascent_nsga2 algo{nb201::space{}, objs, {.population = pop}};
                rng gen(derive_seed(2024, run, 3));
                for (std::size_t k = 0; k < pop; ++k) { // the initial population, not timed
                    const auto c = algo.ask(gen);
                    algo.tell(c, ev.evaluate(c));
                }
                const double start = thread_seconds();
                for (std::size_t k = 0; k < pop * generations; ++k) {
                    const auto c = algo.ask(gen);
                    algo.tell(c, ev.evaluate(c));
                }
                tn += (thread_seconds() - start);
                g_sink = g_sink + static_cast<double>(algo.generation());
            };
            if ((run + rep) % 2 == 0) {
                one_pagmo();
                one_nascent();
            } else {
                one_nascent();
                one_pagmo();
            }
        }
        double sum = 0;
        double start = thread_seconds();
        for (const auto& x : pagmo_xs)
            sum += prob.fitness(x)[1];
        const double fp = (thread_seconds() - start) / static_cast<double>(pagmo_xs.size());
        start = thread_seconds();
        for (const auto& c : nascent_cells)
            sum += ev.evaluate(c).reward;
        const double fn = (thread_seconds() - start) / static_cast<double>(nascent_cells.size());
        g_sink = g_sink + sum;

        const double np = static_cast<double>(pop);
        pagmo_times.push_back(tp / gens);
        nascent_times.push_back(tn / gens);
        pagmo_fit.push_back(fp);
        nascent_fit.push_back(fn);
        t.ratio.push_back(pagmo_times.back() / nascent_times.back());
        t.ratio_algorithm.push_back((pagmo_times.back() - np * fp) /
                                    (nascent_times.back() - np * fn));
    }
    t.pagmo_gen = median(pagmo_times);
    t.nascent_gen = median(nascent_times);
    t.pagmo_fitness = median(pagmo_fit);
    t.nascent_fitness = median(nascent_fit);
    return t;
}

std::string json_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

int run(const settings& s) {
    const auto dir = io::resolve_data_dir(s.data, NASCENT_BENCH_DATA_DIR);
    const auto table = bench::nb201_table::load(dir);
    const auto latency = bench::nb201_latency_table::load(dir, &table);
    const auto dataset = bench::parse_nb201_dataset(s.dataset);
    const auto parsed =
        bench::parse_nb201_objectives("test_acc,latency:" + s.device, table, dataset, &latency);
    const auto objs = bench::to_pareto(parsed);
    const bench::nb201_objectives_evaluator evaluator(table, dataset, &latency, parsed);
    const auto cells = all_cells(evaluator, objs);
    const std::string acc_name(objs.name(0));
    const std::string lat_name(objs.name(1));
    const nb201_udp udp{&evaluator, acc_name.c_str(), lat_name.c_str(), nullptr};

    // The two sides must agree on every objective value: check all cells through the pagmo problem.
    {
        const pagmo::problem prob{udp};
        for (std::uint64_t id = 0; id < nb201::num_cells; ++id) {
            const auto c = nb201::space::at(id);
            pagmo::vector_double x(nb201::num_edges);
            for (std::size_t e = 0; e < nb201::num_edges; ++e)
                x[e] = c[e];
            const auto f = prob.fitness(x);
            if (-f[0] != cells.values[id][0] || f[1] != cells.values[id][1]) {
                throw std::logic_error("pagmo's fitness differs from nascent's values for cell " +
                                       nb201::space::to_string(c));
            }
        }
    }

    std::printf("NAS-Bench-201 %s, objectives %s (max), %s (min, ms); exact front: %zu cells, "
                "hypervolume %.6g,\n"
                "reference point (its nadir): %s=%g, %s=%g; %zu seeds per cell of the table\n",
                s.dataset.c_str(), acc_name.c_str(), lat_name.c_str(), cells.front_size,
                cells.front_hypervolume, acc_name.c_str(), cells.reference[0], lat_name.c_str(),
                cells.reference[1], s.seeds);
    std::printf("pagmo %s nsga2 defaults: cr=0.95 eta_c=10 m=0.01 eta_m=50 (integer genes: "
                "two-point crossover,\n"
                "  uniform resampling of each gene with probability m); nascent nsga2 defaults: "
                "crossover 0.9\n"
                "  (uniform), mutation 1.0 (one edge to another op). Budget = fitness evaluations, "
                "repeats included.\n\n",
                PAGMO_VERSION);

    const std::size_t max_budget = s.budgets.back();
    std::string json = "{\n  \"dataset\": \"" + s.dataset +
                       "\",\n  \"objectives\": \"test_acc,latency:" + s.device +
                       "\",\n  \"seeds\": " + std::to_string(s.seeds) + ",\n  \"reference\": [" +
                       json_number(cells.reference[0]) + ", " + json_number(cells.reference[1]) +
                       "],\n  \"true_front_hypervolume\": " + json_number(cells.front_hypervolume) +
                       ",\n  \"populations\": [\n";

    for (std::size_t pi = 0; pi < s.pops.size(); ++pi) {
        const std::size_t pop = s.pops[pi];
        const std::size_t generations =
            (max_budget + pop - 1) / pop - 1; // NP * (G + 1) >= max budget
        if (generations == 0)
            throw std::invalid_argument("population " + std::to_string(pop) +
                                        " exceeds the largest budget");

        // rows: name -> per budget, per seed hypervolume
        struct row {
            std::string name;
            std::vector<std::vector<double>> hv; // [budget][seed]
            std::vector<double> distinct;        // distinct cells in the largest budget, per seed
        };
        std::vector<row> rows{{"pagmo nsga2 (defaults)", {}, {}},
                              {"nascent nsga2 (ask/tell)", {}, {}},
                              {"pagmo nsga2, m=1/6 (not default)", {}, {}},
                              {"random (with repeats)", {}, {}}};
        for (auto& r : rows)
            r.hv.assign(s.budgets.size(), {});
        const auto start = clock_type::now();
        for (std::size_t run = 0; run < s.seeds; ++run) {
            const std::vector<std::uint32_t> logs[] = {
                pagmo_run(udp, pop, generations, run),
                nascent_run(evaluator, objs, pop, generations, run),
                pagmo_run(udp, pop, generations, run, 1.0 / 6.0),
                random_run(pop * (generations + 1), run)};
            for (std::size_t r = 0; r < rows.size(); ++r) {
                const auto hv = hv_at_budgets(logs[r], cells, objs, s.budgets);
                for (std::size_t b = 0; b < hv.size(); ++b)
                    rows[r].hv[b].push_back(hv[b]);
                rows[r].distinct.push_back(static_cast<double>(distinct(logs[r], max_budget)));
            }
        }
        // nascent as the CLI runs it: budget = distinct cells, repeats free (not the same count of
        // fitness evaluations; for reference).
        {
            const nascent_nsga2 prototype{nb201::space{}, objs, {.population = pop}};
            const auto results = run_multi_objective(nb201::space{}, prototype, evaluator, objs,
                                                     {.budget = max_budget,
                                                      .runs = s.seeds,
                                                      .seed = 2024,
                                                      .reference = cells.reference});
            row r{"nascent, CLI protocol (distinct cells)", {}, {}};
            r.hv.assign(s.budgets.size(), {});
            for (const auto& res : results) {
                for (std::size_t b = 0; b < s.budgets.size(); ++b) {
                    const auto& traj = res.hypervolume;
                    r.hv[b].push_back(traj.empty() ? 0.0
                                                   : traj[std::min(s.budgets[b], traj.size()) - 1]);
                }
                r.distinct.push_back(static_cast<double>(res.queries));
            }
            rows.push_back(std::move(r));
        }
        const double quality_seconds = seconds_since(start);

        std::printf("== population %zu, %zu generations (%zu evaluations per run), %zu seeds\n",
                    pop, generations, pop * (generations + 1), s.seeds);
        std::printf("hypervolume of the front of the first B evaluations, mean +- std (ratio to "
                    "the exact front's)\n");
        std::printf("  %-40s", "");
        for (const auto b : s.budgets)
            std::printf("  %26s", ("B = " + std::to_string(b)).c_str());
        std::printf("  %12s\n", "distinct@max");
        for (const auto& r : rows) {
            std::printf("  %-40s", r.name.c_str());
            for (std::size_t b = 0; b < s.budgets.size(); ++b) {
                const auto m = summarise(r.hv[b]);
                char cell[64];
                std::snprintf(cell, sizeof cell, "%.2f +- %.2f (%.3f)", m.mean, m.std,
                              m.mean / cells.front_hypervolume);
                std::printf("  %26s", cell);
            }
            std::printf("  %12.1f\n", summarise(r.distinct).mean);
        }
        // Difference nascent - pagmo (defaults) with a normal-approximation 95% interval.
        std::printf("  %-40s", "nascent - pagmo (defaults), 95% CI");
        for (std::size_t b = 0; b < s.budgets.size(); ++b) {
            const auto a = summarise(rows[1].hv[b]);
            const auto p = summarise(rows[0].hv[b]);
            const double n = static_cast<double>(s.seeds);
            const double half = 1.96 * std::sqrt((a.std * a.std + p.std * p.std) / (n - 1));
            char cell[64];
            std::snprintf(cell, sizeof cell, "%+.2f +- %.2f", a.mean - p.mean, half);
            std::printf("  %26s", cell);
        }
        std::printf("\n  (quality runs took %.2f s)\n", quality_seconds);

        const auto t =
            time_generations(udp, evaluator, objs, pop, generations, s.seeds, s.timing_reps);
        const double np = static_cast<double>(pop);
        const auto [ratio_lo, ratio_hi] = std::minmax_element(t.ratio.begin(), t.ratio.end());
        const auto [alg_lo, alg_hi] =
            std::minmax_element(t.ratio_algorithm.begin(), t.ratio_algorithm.end());
        std::printf("time per generation (%zu fitness evaluations), median of %zu repetitions of "
                    "%zu runs x %zu "
                    "generations:\n",
                    pop, s.timing_reps, s.seeds, generations);
        std::printf("  pagmo   nsga2::evolve           %8.2f us  (fitness calls via "
                    "pagmo::problem: %6.1f ns each)\n",
                    t.pagmo_gen * 1e6, t.pagmo_fitness * 1e9);
        std::printf("  nascent ask/evaluate/tell       %8.2f us  (evaluator calls:                 "
                    "  %6.1f ns each)\n",
                    t.nascent_gen * 1e6, t.nascent_fitness * 1e9);
        std::printf("  ratio pagmo / nascent, whole generation:           %.2fx  (repetitions: "
                    "%.2f..%.2f)\n",
                    median(t.ratio), *ratio_lo, *ratio_hi);
        std::printf(
            "  ratio pagmo / nascent, fitness calls subtracted:   %.2fx  (repetitions: %.2f..%.2f; "
            "%.2f us vs %.2f us)\n\n",
            median(t.ratio_algorithm), *alg_lo, *alg_hi, (t.pagmo_gen - np * t.pagmo_fitness) * 1e6,
            (t.nascent_gen - np * t.nascent_fitness) * 1e6);

        json += "    {\"population\": " + std::to_string(pop) +
                ", \"generations\": " + std::to_string(generations) + ", \"budgets\": [";
        for (std::size_t b = 0; b < s.budgets.size(); ++b)
            json += (b ? ", " : "") + std::to_string(s.budgets[b]);
        json += "], \"rows\": [";
        for (std::size_t r = 0; r < rows.size(); ++r) {
            json +=
                std::string(r ? ", " : "") + "{\"name\": \"" + rows[r].name + "\", \"hv_mean\": [";
            for (std::size_t b = 0; b < s.budgets.size(); ++b) {
                json += (b ? ", " : "") + json_number(summarise(rows[r].hv[b]).mean);
            }
            json += "], \"hv_std\": [";
            for (std::size_t b = 0; b < s.budgets.size(); ++b) {
                json += (b ? ", " : "") + json_number(summarise(rows[r].hv[b]).std);
            }
            json += "], \"distinct_mean\": " + json_number(summarise(rows[r].distinct).mean) + "}";
        }
        json += "], \"timing\": {\"pagmo_gen_s\": " + json_number(t.pagmo_gen) +
                ", \"nascent_gen_s\": " + json_number(t.nascent_gen) +
                ", \"pagmo_fitness_s\": " + json_number(t.pagmo_fitness) +
                ", \"nascent_fitness_s\": " + json_number(t.nascent_fitness) +
                ", \"ratio_median\": " + json_number(median(t.ratio)) +
                ", \"ratio_algorithm_median\": " + json_number(median(t.ratio_algorithm)) + "}}" +
                (pi + 1 < s.pops.size() ? ",\n" : "\n");
    }
    json += "  ]\n}\n";
    if (s.json) {
        std::ofstream out(*s.json);
        out << json;
        if (!out)
            throw std::runtime_error("cannot write '" + *s.json + "'");
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(parse_args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pagmo_vs_nascent: %s\n", e.what());
        return 2;
    }
}
