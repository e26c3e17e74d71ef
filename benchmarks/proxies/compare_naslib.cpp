// Our zero-cost proxies on the NAS-Bench-201 cells that NASLib scored (zc/nb201_cifar10.csv),
// compared by Spearman rank correlation with NASLib's scores of the same proxies and with the
// 200-epoch CIFAR-10 test accuracy. Produces the tables of docs/proxies.md.
//
//   compare_naslib --data DIR --scores FILE [--threads 2] [--batch 32] [--seed 0] [--limit N]
//                  [--report FILE] [--report-only] [--other-scores FILE]
//
// --other-scores adds a table: on the cells both files hold, Spearman between the two runs (e.g.
// seeds 0 and 1, which change the weights and the batch), next to ours vs NASLib on those cells.
//
// Scores are checkpointed to --scores (CSV, one line per cell, appended as cells finish): a
// killed run resumes where it stopped, and --report-only rebuilds the tables from the file.
// Cells run in parallel on TBB, one network per task; each cell's scores depend only on the cell,
// the seed and the batch, so the file's content does not depend on the thread count (its order
// does: rows are keyed by index).

#include <nascent/bench/nb201_table.hpp>
#include <nascent/eval/proxies.hpp>
#include <nascent/io/atomic_write.hpp>
#include <nascent/io/csv.hpp>
#include <nascent/io/data_dir.hpp>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace ev = nascent::eval;

struct options {
    std::optional<std::string> data;
    std::string scores = "nb201_fmnist_scores.csv";
    std::optional<std::string> report;
    std::optional<std::string> other_scores;
    std::size_t threads = 2;
    std::size_t batch = 32;
    std::uint64_t seed = 0;
    std::size_t limit = 0; // 0: all cells
    bool report_only = false;
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--data")
            o.data = value();
        else if (a == "--scores")
            o.scores = value();
        else if (a == "--report")
            o.report = value();
        else if (a == "--other-scores")
            o.other_scores = value();
        else if (a == "--threads")
            o.threads = std::stoul(value());
        else if (a == "--batch")
            o.batch = std::stoul(value());
        else if (a == "--seed")
            o.seed = std::stoull(value());
        else if (a == "--limit")
            o.limit = std::stoul(value());
        else if (a == "--report-only")
            o.report_only = true;
        else
            throw std::invalid_argument("unknown argument '" + a + "'");
    }
    if (o.threads == 0)
        throw std::invalid_argument("--threads 0");
    return o;
}

std::string format(double v) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.17g", v); // "inf", "-inf", "nan" read back by strtod
    return buffer;
}

// index -> our scores and the seconds the cell took, from the checkpoint file.
struct row {
    ev::proxy_scores scores;
    double seconds = 0.0;
};

std::map<std::uint32_t, row> read_scores(const std::string& path) {
    std::map<std::uint32_t, row> out;
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line))
        return out; // no file yet
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        std::stringstream ss(line);
        for (std::string f; std::getline(ss, f, ',');)
            fields.push_back(f);
        if (fields.size() != 3 + ev::proxy_fields.size())
            continue; // a line cut by a kill
        row r;
        for (std::size_t k = 0; k < ev::proxy_fields.size(); ++k) {
            r.scores.*ev::proxy_fields[k].value = std::strtod(fields[2 + k].c_str(), nullptr);
        }
        r.seconds = std::strtod(fields.back().c_str(), nullptr);
        out[static_cast<std::uint32_t>(std::stoul(fields[0]))] = r;
    }
    return out;
}

struct naslib_cell {
    std::uint32_t index;
    std::string arch;
    std::map<std::string, double> scores; // NaN where missing or the -1e8 failure sentinel
};

std::vector<naslib_cell> read_naslib(const nascent::io::data_dir& dir) {
    const auto csv = nascent::io::csv_table::read(dir.file("zc/nb201_cifar10.csv"));
    std::vector<naslib_cell> cells;
    for (std::size_t r = 0; r < csv.rows(); ++r) {
        naslib_cell c{static_cast<std::uint32_t>(csv.integer(r, csv.column("index"), 0, 15624)),
                      std::string(csv.field(r, csv.column("arch"))),
                      {}};
        for (const char* name : {"flops", "params", "synflow", "snip", "grasp", "fisher",
                                 "grad_norm", "l2_norm", "plain", "jacov", "nwot"}) {
            const auto v = csv.number(r, csv.column(name));
            c.scores[name] = v && *v != -1e8 ? *v : std::nan("");
        }
        cells.push_back(std::move(c));
    }
    return cells;
}

void compute(const options& o, const std::vector<naslib_cell>& cells) {
    auto done = read_scores(o.scores);
    std::vector<const naslib_cell*> todo;
    for (const auto& c : cells) {
        if (o.limit != 0 && todo.size() + done.size() >= o.limit)
            break;
        if (!done.contains(c.index))
            todo.push_back(&c);
    }
    std::fprintf(stderr, "%zu cells scored, %zu to go (batch %zu, seed %llu, %zu threads)\n",
                 done.size(), todo.size(), o.batch, static_cast<unsigned long long>(o.seed),
                 o.threads);
    if (todo.empty())
        return;
    if (done.empty()) {
        std::string header = "index,arch";
        for (const auto& f : ev::proxy_fields)
            header += "," + std::string(f.name);
        std::ofstream(o.scores) << header << ",seconds\n";
    }
    const auto batch = ev::fashion_mnist_batch(o.batch, o.seed);
    const ev::proxy_options proxy_options{.seed = o.seed};
    std::ofstream out(o.scores, std::ios::app);
    std::mutex mutex;
    std::size_t finished = 0;
    tbb::task_arena arena(static_cast<int>(o.threads));
    arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, todo.size(), [&](std::size_t i) {
            const auto& c = *todo[i];
            std::string line = std::to_string(c.index) + "," + c.arch;
            try { // nothing leaves a TBB task: a failed cell is reported and left out
                const auto start = std::chrono::steady_clock::now();
                const auto s =
                    ev::nb201_proxies(nascent::nb201::space::parse(c.arch), proxy_options, &batch);
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                for (const auto& f : ev::proxy_fields)
                    line += "," + format(s.*f.value);
                line += "," + format(seconds) + "\n";
            } catch (const std::exception& e) {
                const std::lock_guard lock(mutex);
                std::fprintf(stderr, "cell %u failed: %s\n", c.index, e.what());
                return;
            }
            const std::lock_guard lock(mutex);
            out << line << std::flush;
            if (++finished % 10 == 0)
                std::fprintf(stderr, "%zu / %zu\n", finished, todo.size());
        });
    });
}

std::string fixed(double v, int digits = 3) {
    if (std::isnan(v))
        return "—";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
    return buffer;
}

std::string report(const options& o, const std::vector<naslib_cell>& cells,
                   const nascent::bench::nb201_table& table) {
    const auto ours = read_scores(o.scores);
    struct pair_def {
        const char* ours;
        const char* naslib;
        const char* published; // Abdelfattah et al. 2021, NAS-Bench-201 CIFAR-10, Table 2
    };
    const pair_def pairs[] = {
        {"synflow", "synflow", "0.74"}, {"jacob_cov", "jacov", "0.73"},
        {"snip", "snip", "0.60"},       {"grad_norm", "grad_norm", "0.59"},
        {"grasp", "grasp", "0.51"},     {"fisher", "fisher", "0.36"},
        {"nwot", "nwot", ""},           {"plain", "plain", ""},
        {"l2_norm", "l2_norm", ""},     {"params", "params", ""},
        {"flops", "flops", ""},
    };
    std::vector<const naslib_cell*> used;
    double seconds = 0.0;
    for (const auto& c : cells) {
        if (ours.contains(c.index)) {
            used.push_back(&c);
            seconds += ours.at(c.index).seconds;
        }
    }
    std::vector<double> accuracy;
    std::vector<double> naswot;
    for (const auto* c : used) {
        accuracy.push_back(table
                               .accuracy(c->index, nascent::bench::nb201_dataset::cifar10,
                                         nascent::bench::nb201_metric::test_200)
                               .value_or(std::nan("")));
        naswot.push_back(table.naswot(c->index).value_or(std::nan("")));
    }
    std::string md;
    char line[512];
    std::snprintf(
        line, sizeof line,
        "%zu NAS-Bench-201 cells (all of zc/nb201_cifar10.csv scored so far); our data-dependent "
        "proxies on a Fashion-MNIST batch of %zu (seed %llu), NASLib's on CIFAR-10; %.1f s per "
        "cell "
        "(all proxies, one thread's share of %zu).\n\n",
        used.size(), o.batch, static_cast<unsigned long long>(o.seed),
        used.empty() ? 0.0 : seconds / static_cast<double>(used.size()), o.threads);
    md += line;
    md += "| proxy | ours vs NASLib (same proxy) | ours vs test acc | NASLib vs test acc (same "
          "cells) | published vs test acc |\n";
    md += "|---|---:|---:|---:|---:|\n";
    for (const auto& p : pairs) {
        const auto& field = ev::find_proxy(p.ours);
        std::vector<double> a;
        std::vector<double> b;
        for (const auto* c : used) {
            double v = ours.at(c->index).scores.*field.value;
            if (std::string_view(p.ours) == "synflow" &&
                v == -std::numeric_limits<double>::infinity()) {
                v = 0.0; // NASLib reports log(0) as 0
            }
            a.push_back(v);
            b.push_back(c->scores.at(p.naslib));
        }
        std::snprintf(line, sizeof line, "| %s | %s | %s | %s | %s |\n", p.ours,
                      fixed(ev::spearman(a, b)).c_str(), fixed(ev::spearman(a, accuracy)).c_str(),
                      fixed(ev::spearman(b, accuracy)).c_str(), *p.published ? p.published : "—");
        md += line;
    }
    std::vector<double> jc;
    std::vector<double> nw;
    for (const auto* c : used) {
        jc.push_back(ours.at(c->index).scores.jacob_cov);
        nw.push_back(ours.at(c->index).scores.nwot);
    }
    std::snprintf(line, sizeof line,
                  "\nnb201.csv `naswot` (NASWOT v1, the Jacobian score, CIFAR-10, batch 128) vs "
                  "test acc on these "
                  "cells: %s; vs our jacob_cov: %s; vs our nwot: %s.\n",
                  fixed(ev::spearman(naswot, accuracy)).c_str(),
                  fixed(ev::spearman(jc, naswot)).c_str(), fixed(ev::spearman(nw, naswot)).c_str());
    md += line;
    if (o.other_scores) {
        const auto other = read_scores(*o.other_scores);
        std::vector<const naslib_cell*> common;
        for (const auto* c : used) {
            if (other.contains(c->index))
                common.push_back(c);
        }
        std::snprintf(line, sizeof line,
                      "\nRun to run, on the %zu cells both score files hold (%s against %s):\n\n"
                      "| proxy | ours vs ours (other run) | ours vs NASLib (these cells) "
                      "|\n|---|---:|---:|\n",
                      common.size(), o.scores.c_str(), o.other_scores->c_str());
        md += line;
        for (const auto& p : pairs) {
            const auto& field = ev::find_proxy(p.ours);
            std::vector<double> a;
            std::vector<double> b;
            std::vector<double> n;
            for (const auto* c : common) {
                a.push_back(ours.at(c->index).scores.*field.value);
                b.push_back(other.at(c->index).scores.*field.value);
                n.push_back(c->scores.at(p.naslib));
            }
            for (auto& v : a) {
                if (v == -std::numeric_limits<double>::infinity())
                    v = 0.0; // as NASLib reports it
            }
            std::snprintf(line, sizeof line, "| %s | %s | %s |\n", p.ours,
                          fixed(ev::spearman(a, b)).c_str(), fixed(ev::spearman(a, n)).c_str());
            md += line;
        }
    }
    return md;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const auto o = parse(argc, argv);
        const auto dir = nascent::io::resolve_data_dir(o.data, "../shared/data");
        const auto cells = read_naslib(dir);
        if (!o.report_only)
            compute(o, cells);
        const auto table = nascent::bench::nb201_table::load(dir);
        const auto md = report(o, cells, table);
        std::fputs(md.c_str(), stdout);
        if (o.report)
            nascent::io::write_file_atomically(*o.report, md);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "compare_naslib: %s\n", e.what());
        return 2;
    }
}
