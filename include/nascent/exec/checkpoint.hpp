#pragma once
// Checkpoints: versioned JSON holding, per run, every evaluator answer in the order the search
// loop booked it (architecture hash and text, fidelity level, status, reward, metrics). A resumed
// run replays them (search_loop.hpp): it starts again from its seed and takes these answers
// instead of evaluating, so it ends identical to an uninterrupted run, for every strategy, and no
// completed evaluation (a training run) is done twice. The strategy's state, the generator and the
// history are thereby restored exactly without each strategy serialising itself; the cost is the
// strategy's own work over the replayed steps (no evaluations).
//
//   exec::checkpoint_writer ckpt{"run.ckpt.json", problem, space, {.runs = 10, .every = 20}};
//   auto results = run_protocol(space, rea, ev, options, executor, ckpt);
//   // after a kill: resume
//   auto log = exec::load_checkpoint("run.ckpt.json", problem);          // checks the problem
//   options.replay = log.replay();
//   exec::checkpoint_writer again{"run.ckpt.json", problem, space, {.runs = 10}, &log};
//
// `problem` is what identifies the search (space, strategy, seed, budget, data...): a checkpoint
// written for another problem, another format version, or a corrupt or truncated file is refused
// with a one-line error naming what differs, and is never overwritten (the writer only writes
// after loading succeeded). Files are written atomically (io/atomic_write.hpp): a kill -9 leaves
// the previous checkpoint or the new one, never half of one.

#include <nascent/concepts.hpp>
#include <nascent/core/evaluation.hpp>
#include <nascent/exec/callbacks.hpp>
#include <nascent/exec/search_loop.hpp>
#include <nascent/io/atomic_write.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace nascent::exec {

inline constexpr int checkpoint_version = 1;

namespace detail {
/// JSON has no infinities or NaN: they are written as strings.
inline nlohmann::json encode_number(double v) {
    if (std::isfinite(v))
        return v;
    if (std::isnan(v))
        return "nan";
    return v > 0 ? "inf" : "-inf";
}
inline double decode_number(const nlohmann::json& j) {
    if (j.is_number())
        return j.get<double>();
    const auto s = j.get<std::string>();
    if (s == "inf")
        return std::numeric_limits<double>::infinity();
    if (s == "-inf")
        return -std::numeric_limits<double>::infinity();
    if (s == "nan")
        return std::numeric_limits<double>::quiet_NaN();
    throw std::runtime_error("not a number: '" + s + "'");
}
inline std::string hex64(std::uint64_t h) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
    return text;
}
inline eval_status parse_status(const std::string& s) {
    if (s == "ok")
        return eval_status::ok;
    if (s == "failed")
        return eval_status::failed;
    if (s == "out_of_table")
        return eval_status::out_of_table;
    throw std::runtime_error("unknown status '" + s + "'");
}
} // namespace detail

/// The evaluations of a loaded checkpoint, per run. Owns the metric names and reasons its
/// evaluations point to: it must outlive the runs that replay it.
class checkpoint_log {
public:
    checkpoint_log() = default;
    checkpoint_log(const checkpoint_log&) = delete; // the records point into m_names
    checkpoint_log& operator=(const checkpoint_log&) = delete;
    checkpoint_log(checkpoint_log&&) noexcept = default; // set nodes do not move
    checkpoint_log& operator=(checkpoint_log&&) noexcept = default;
    ~checkpoint_log() = default;

    /// For run_options::replay.
    [[nodiscard]] std::span<const std::vector<evaluation_record>> replay() const noexcept {
        return m_runs;
    }
    [[nodiscard]] const std::vector<nlohmann::json>& run_json(std::size_t run) const {
        return m_json.at(run);
    }
    [[nodiscard]] std::size_t runs() const noexcept { return m_runs.size(); }
    [[nodiscard]] bool done(std::size_t run) const { return m_done.at(run); }
    [[nodiscard]] std::size_t evaluations() const noexcept {
        std::size_t n = 0;
        for (const auto& r : m_runs)
            n += r.size();
        return n;
    }

private:
    friend checkpoint_log load_checkpoint(const std::filesystem::path&, const nlohmann::json&);

    std::string_view intern(const std::string& s) { return *m_names.insert(s).first; }

    std::set<std::string, std::less<>> m_names;
    std::vector<std::vector<evaluation_record>> m_runs;
    std::vector<std::vector<nlohmann::json>> m_json; // as read, rewritten by the next writer
    std::vector<bool> m_done;
};

/// Reads a checkpoint written for `problem`. Throws std::runtime_error with one line naming the
/// file and what is wrong (unreadable, not JSON, truncated, version, another problem).
inline checkpoint_log load_checkpoint(const std::filesystem::path& path,
                                      const nlohmann::json& problem) {
    const std::string name = "checkpoint '" + path.string() + "'";
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + name);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::exception&) {
        throw std::runtime_error(name + " is not valid JSON (truncated or corrupt)");
    }
    try {
        if (!j.is_object() || j.value("format", "") != "nascent-checkpoint")
            throw std::runtime_error(name + " is not a nascent checkpoint");
        const int version = j.at("version").get<int>();
        if (version != checkpoint_version) {
            throw std::runtime_error(name + " has format version " + std::to_string(version) +
                                     "; this build reads version " +
                                     std::to_string(checkpoint_version));
        }
        const auto& stored = j.at("problem");
        for (const auto& [key, value] : problem.items()) {
            if (!stored.contains(key) || stored.at(key) != value) {
                throw std::runtime_error(
                    name + " was written for another problem: " + key + " is " +
                    (stored.contains(key) ? stored.at(key).dump() : std::string("absent")) +
                    " there, " + value.dump() + " here");
            }
        }
        checkpoint_log log;
        for (const auto& run : j.at("runs")) {
            auto& records = log.m_runs.emplace_back();
            auto& raw = log.m_json.emplace_back();
            log.m_done.push_back(run.at("done").get<bool>());
            for (const auto& e : run.at("evaluations")) {
                evaluation_record r;
                r.hash = std::stoull(e.at("hash").get<std::string>(), nullptr, 16);
                r.level = e.value("level", std::size_t{0});
                r.result.status = detail::parse_status(e.at("status").get<std::string>());
                r.result.reward = detail::decode_number(e.at("reward"));
                if (e.contains("metrics")) { // [[name, value], ...]: the evaluator's order
                    for (const auto& m : e.at("metrics")) {
                        r.result.metrics.append(log.intern(m.at(0).get<std::string>()),
                                                detail::decode_number(m.at(1)));
                    }
                }
                if (e.contains("reason"))
                    r.result.reason = log.intern(e.at("reason").get<std::string>());
                records.push_back(r);
                raw.push_back(e);
            }
        }
        return log;
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(name + " is malformed: " + e.what());
    } catch (const std::invalid_argument&) {
        throw std::runtime_error(name + " is malformed: a hash is not hexadecimal");
    }
}

struct checkpoint_options {
    std::size_t runs = 1;      ///< runs of the protocol (>= 1)
    std::size_t every = 10;    ///< write after at least this many new evaluations (>= 1)
    nlohmann::json manifest{}; ///< stored beside the problem (exec/manifest.hpp)
};

/// The callback that writes checkpoints. Thread-safe: one writer serves all runs of a protocol.
template <SearchSpace S>
class checkpoint_writer {
public:
    /// `resumed`: the log the runs replay; its evaluations are kept, so the file never loses them.
    checkpoint_writer(std::filesystem::path file, nlohmann::json problem, const S& space,
                      checkpoint_options options, const checkpoint_log* resumed = nullptr)
        : m_file(std::move(file)), m_problem(std::move(problem)), m_space(&space),
          m_options(std::move(options)), m_runs(m_options.runs), m_done(m_options.runs, false) {
        if (m_options.runs == 0)
            throw std::invalid_argument("checkpoint_options: runs must be >= 1, got 0");
        if (m_options.every == 0)
            throw std::invalid_argument("checkpoint_options: every must be >= 1, got 0");
        if (resumed != nullptr) {
            if (resumed->runs() != m_options.runs) {
                throw std::invalid_argument("checkpoint: the resumed log has " +
                                            std::to_string(resumed->runs()) + " runs, not " +
                                            std::to_string(m_options.runs));
            }
            for (std::size_t i = 0; i < m_options.runs; ++i) {
                m_runs[i] = resumed->run_json(i);
                m_done[i] = resumed->done(i);
            }
        }
    }

    template <class G>
    bool on_evaluation(const evaluation_event<G>& e) {
        if (e.replayed)
            return false; // already in the log
        nlohmann::json j{{"hash", detail::hex64(e.hash)},
                         {"status", std::string(to_string(e.result.status))},
                         {"reward", detail::encode_number(e.result.reward)}};
        if (e.level != 0)
            j["level"] = e.level;
        if constexpr (PrintableSpace<S>)
            j["arch"] = std::string(m_space->to_string(e.arch));
        if (!e.result.metrics.empty()) {
            nlohmann::json m = nlohmann::json::array();
            for (std::size_t i = 0; i < e.result.metrics.size(); ++i) {
                m.push_back({std::string(e.result.metrics.name(i)),
                             detail::encode_number(e.result.metrics.value(i))});
            }
            j["metrics"] = std::move(m);
        }
        if (!e.result.reason.empty())
            j["reason"] = std::string(e.result.reason);
        const std::lock_guard lock(m_mutex);
        m_runs.at(e.run).push_back(std::move(j));
        ++m_unwritten;
        return false;
    }

    void on_checkpoint(const checkpoint_event&) {
        const std::lock_guard lock(m_mutex);
        if (m_unwritten >= m_options.every)
            write_locked();
    }

    template <class G>
    void on_run_done(const run_result<G>& r) {
        const std::lock_guard lock(m_mutex);
        m_done.at(r.run) = !r.stopped; // a run a callback (an interrupt) stopped can go on
        write_locked();
    }

    /// Writes now (e.g. on SIGINT / SIGTERM).
    void write() {
        const std::lock_guard lock(m_mutex);
        write_locked();
    }

    [[nodiscard]] const std::filesystem::path& file() const noexcept { return m_file; }

private:
    void write_locked() {
        std::string out = "{\n\"format\": \"nascent-checkpoint\",\n\"version\": " +
                          std::to_string(checkpoint_version) +
                          ",\n\"problem\": " + m_problem.dump() +
                          ",\n\"manifest\": " + m_options.manifest.dump() + ",\n\"runs\": [";
        for (std::size_t i = 0; i < m_runs.size(); ++i) {
            out += i == 0 ? "\n" : ",\n";
            out += "{\"run\": " + std::to_string(i) +
                   ", \"done\": " + (m_done[i] ? "true" : "false") + ", \"evaluations\": [";
            for (std::size_t k = 0; k < m_runs[i].size(); ++k) {
                out += k == 0 ? "\n  " : ",\n  ";
                out += m_runs[i][k].dump();
            }
            out += "]}";
        }
        out += "\n]\n}\n";
        io::write_file_atomically(m_file, out);
        m_unwritten = 0;
    }

    std::filesystem::path m_file;
    nlohmann::json m_problem;
    const S* m_space;
    checkpoint_options m_options;
    std::vector<std::vector<nlohmann::json>> m_runs; // one line per evaluation
    std::vector<bool> m_done;
    std::size_t m_unwritten = 0;
    std::mutex m_mutex;
};

} // namespace nascent::exec
