#pragma once
// The strategy registry: every built-in strategy by name, with a one-line description, its
// options and a factory, in ONE list (`builtin_strategies` below). The CLI's choices, help text
// and "valid: ..." messages, the Python module and plug-ins read it; nothing else lists names.
//
//   const exec::strategy_context<nb201::space> ctx{.options = {.population = 20}};
//   auto rea = exec::make_strategy("rea", ctx);                  // exec::any_strategy<nb201::cell>
//   auto runs = run_protocol(ctx.space, rea, evaluator, {.budget = 150, .runs = 500});
//   auto hb = exec::make_multi_fidelity_strategy("hyperband", ctx); // for run_multi_fidelity
//   exec::visit_strategy("rea", ctx, [&](auto rea) { return run_protocol(ctx.space, rea, ...); });
//
// A factory builds the template strategy for the context's space; make_strategy erases its type
// (any_strategy.hpp: a value for Python and plug-ins), visit_strategy hands it to a generic
// callable (no virtual call per step: what the CLI uses, as fast as a template strategy). Either
// way a search by name gives the same results as the strategy constructed directly.
// The model-based entries take their surrogates from the context (`Surrogates` supplies
// encoder(), hamming_gp() and wl_gp(): they depend on the space's encodings), NSGA-II its
// objectives and constraints; warm-start designs, when given, are asked first by a model-based
// strategy (the others refuse them).
//
// The registry is the one exec/ header that includes strategy/: it is where names meet types.

#include <nascent/concepts.hpp>
#include <nascent/exec/any_strategy.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/pareto/constraints.hpp>
#include <nascent/pareto/points.hpp>
#include <nascent/strategy/bananas.hpp>
#include <nascent/strategy/bohb.hpp>
#include <nascent/strategy/hyperband.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/lstm_controller.hpp>
#include <nascent/strategy/nsga2.hpp>
#include <nascent/strategy/ppo.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>
#include <nascent/strategy/reinforce.hpp>
#include <nascent/strategy/tpe.hpp>
#include <nascent/strategy/warm_start.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace nascent::exec {

/// How a strategy is driven.
enum class strategy_kind : std::uint8_t {
    single_objective, ///< ask/tell on the reward: run_protocol (or, scalarised,
                      ///< run_multi_objective)
    multi_fidelity,   ///< asks for fidelities too: run_multi_fidelity
    multi_objective,  ///< ask/tell on several objectives: run_multi_objective
};

/// What the registry says about a strategy.
struct strategy_info {
    std::string_view name{};
    std::string_view description{}; ///< one line
    std::string_view options{};     ///< the options it reads, with defaults
    strategy_kind kind = strategy_kind::single_objective;
    bool model_based = false; ///< needs the context's surrogates (and takes warm starts)
    bool reward_free = false; ///< ignores the rewards it is told (so any objectives suit it)
};

/// Options common to the strategies; each reads those its entry names.
struct strategy_options {
    std::optional<std::size_t> population; ///< rea: 10; nsga2: 50
    std::size_t sample = 3;                ///< rea: tournament size
};

/// No surrogates: the model-based entries refuse to build.
struct no_surrogates {};

/// Everything a factory may need.
template <SearchSpace S, class Surrogates = no_surrogates>
struct strategy_context {
    using genotype = genotype_t<S>;
    S space{};
    strategy_options options{};
    Surrogates surrogates{};
    /// Designs a model-based strategy asks first (drawn with the run's generator); empty: none.
    std::function<std::vector<genotype>(rng&)> warm_start{};
    std::optional<pareto::objectives> objectives{}; ///< nsga2
    std::vector<pareto::constraint> constraints{};  ///< nsga2
};

namespace detail {

[[noreturn]] inline void cannot_build(std::string_view name, const std::string& why) {
    throw std::invalid_argument("strategy '" + std::string(name) + "' " + why);
}

// The built-in entries: info plus make(context), which returns the template strategy.

struct random_entry {
    static constexpr strategy_info info{.name = "random",
                                        .description =
                                            "random search: uniform samples of the space",
                                        .reward_free = true};
    template <class C>
    static auto make(const C& c) {
        return strategy::random_search{c.space};
    }
};

struct rea_entry {
    static constexpr strategy_info info{
        .name = "rea",
        .description = "regularized evolution (Real et al., AAAI 2019): aging population, "
                       "tournament, one mutation",
        .options = "population = 10, sample = 3 (tournament, drawn with replacement)"};
    template <class C>
    static auto make(const C& c) {
        using S = decltype(c.space);
        return strategy::regularized_evolution{
            c.space,
            ops::default_mutator_t<S>{},
            {.population = c.options.population.value_or(10), .sample = c.options.sample}};
    }
};

struct ls_entry {
    static constexpr strategy_info info{.name = "ls",
                                        .description =
                                            "local search: all neighbours in random order, move to "
                                            "the best if it improves, else restart"};
    template <class C>
    static auto make(const C& c) {
        return strategy::local_search{c.space};
    }
};

struct sh_entry {
    static constexpr strategy_info info{
        .name = "sh",
        .description = "successive halving: Hyperband's most exploratory bracket only",
        .options = "eta = ratio of consecutive fidelity levels",
        .kind = strategy_kind::multi_fidelity};
    template <class C>
    static auto make(const C& c) {
        return strategy::successive_halving(c.space);
    }
};

struct hyperband_entry {
    static constexpr strategy_info info{
        .name = "hyperband",
        .description = "Hyperband (Li et al., JMLR 2018): successive halving over every bracket",
        .options = "eta = ratio of consecutive fidelity levels",
        .kind = strategy_kind::multi_fidelity};
    template <class C>
    static auto make(const C& c) {
        return strategy::hyperband{c.space};
    }
};

struct bohb_entry {
    static constexpr strategy_info info{
        .name = "bohb",
        .description =
            "BOHB (Falkner et al., ICML 2018): Hyperband with a TPE sampler (categorical spaces)",
        .options = "eta as hyperband; TPE: top 15%, a third uniform, 64 candidates",
        .kind = strategy_kind::multi_fidelity};
    template <class C>
    static auto make(const C& c) {
        if constexpr (CategoricalSpace<decltype(c.space)>) {
            return strategy::make_bohb(c.space);
        } else {
            cannot_build(info.name, "needs a categorical space");
        }
    }
};

struct nsga2_entry {
    static constexpr strategy_info info{
        .name = "nsga2",
        .description = "NSGA-II (Deb et al., 2002): non-dominated sorting and crowding distance",
        .options = "population = 50; objectives and constraints",
        .kind = strategy_kind::multi_objective};
    template <class C>
    static auto make(const C& c) {
        if (!c.objectives)
            cannot_build(info.name, "needs objectives");
        return strategy::nsga2{c.space,
                               *c.objectives,
                               {.population = c.options.population.value_or(50)},
                               c.constraints};
    }
};

struct bananas_entry {
    static constexpr strategy_info info{.name = "bananas",
                                        .description =
                                            "BANANAS (White et al., AAAI 2021): MLP ensemble, "
                                            "Thompson sampling over mutations of the best",
                                        .options = "surrogates.encoder(); warm start",
                                        .model_based = true};
    template <class C>
    static auto make(const C& c) {
        if constexpr (requires { c.surrogates.encoder(); }) {
            return strategy::bananas(c.space, c.surrogates.encoder());
        } else {
            cannot_build(info.name, "needs surrogates with encoder()");
        }
    }
};

struct bo_gp_entry {
    static constexpr strategy_info info{
        .name = "bo-gp",
        .description = "Bayesian optimisation: GP with a Hamming kernel, expected improvement",
        .options = "surrogates.hamming_gp(); warm start",
        .model_based = true};
    template <class C>
    static auto make(const C& c) {
        if constexpr (requires { c.surrogates.hamming_gp(); }) {
            return strategy::bayesian_optimisation(c.space, c.surrogates.hamming_gp());
        } else {
            cannot_build(info.name, "needs surrogates with hamming_gp()");
        }
    }
};

struct bo_wl_entry {
    static constexpr strategy_info info{.name = "bo-wl",
                                        .description =
                                            "Bayesian optimisation: GP with the Weisfeiler-Lehman "
                                            "kernel (NAS-BOWL, Ru et al., ICLR 2021)",
                                        .options = "surrogates.wl_gp(); warm start",
                                        .model_based = true};
    template <class C>
    static auto make(const C& c) {
        if constexpr (requires { c.surrogates.wl_gp(); }) {
            return strategy::bayesian_optimisation(c.space, c.surrogates.wl_gp());
        } else {
            cannot_build(info.name, "needs surrogates with wl_gp()");
        }
    }
};

// The RL controllers (strategy/reinforce.hpp, lstm_controller.hpp, ppo.hpp): the papers'
// hyper-parameters except the learning rate, which was tuned on NAS-Bench-201 CIFAR-10 only
// (benchmarks/search/rl_protocol.cpp --mode tune; docs/rl.md).
inline constexpr double reinforce_tuned_lr = 0.1;
inline constexpr double lstm_tuned_lr = 0.1;
inline constexpr double ppo_tuned_lr = 0.1;

template <class C>
void needs_categorical(const C& c, std::string_view name) {
    if constexpr (!CategoricalSpace<decltype(c.space)>)
        cannot_build(name, "needs a categorical space");
}

struct reinforce_entry {
    static constexpr strategy_info info{
        .name = "reinforce",
        .description = "REINFORCE (NAS-Bench-201's): factorised categorical policy, Adam, "
                       "moving-average baseline",
        .options = "lr tuned on CIFAR-10 (NB201: 0.001), M = 1, baseline decay 0.9"};
    template <class C>
    static auto make(const C& c) {
        needs_categorical(c, info.name);
        if constexpr (CategoricalSpace<decltype(c.space)>)
            return strategy::reinforce{c.space, {.learning_rate = reinforce_tuned_lr}};
    }
};

struct lstm_entry {
    static constexpr strategy_info info{
        .name = "lstm",
        .description = "LSTM controller (Zoph & Le 2017, ENAS 2018) trained by REINFORCE",
        .options = "2 x 32 units, T = 5, tanh 2.5, lr tuned on CIFAR-10 (ENAS: 0.0035), M = 10"};
    template <class C>
    static auto make(const C& c) {
        needs_categorical(c, info.name);
        if constexpr (CategoricalSpace<decltype(c.space)>)
            return strategy::lstm_controller{c.space, {.learning_rate = lstm_tuned_lr}};
    }
};

struct ppo_entry {
    static constexpr strategy_info info{
        .name = "ppo",
        .description = "PPO-clip (Schulman et al. 2017, as NASNet) on a factorised policy",
        .options = "eps 0.2, 4 epochs, M = 10, lr tuned on CIFAR-10 (NASNet: 0.00035)"};
    template <class C>
    static auto make(const C& c) {
        needs_categorical(c, info.name);
        if constexpr (CategoricalSpace<decltype(c.space)>)
            return strategy::ppo{c.space, {.learning_rate = ppo_tuned_lr}};
    }
};

// Model-based in the registry's sense (it takes warm starts) though it needs no surrogates.
struct tpe_entry {
    static constexpr strategy_info info{
        .name = "tpe",
        .description = "TPE (Bergstra et al., NeurIPS 2011) with Optuna 3.1's defaults: "
                       "univariate Parzen estimators, categorical spaces",
        .options = "10 startup trials, gamma min(ceil(0.1 n), 25), 24 candidates, prior weight 1",
        .model_based = true};
    template <class C>
    static auto make(const C& c) {
        if constexpr (CategoricalSpace<decltype(c.space)>) {
            return strategy::tpe{c.space};
        } else {
            cannot_build(info.name, "needs a categorical space");
        }
    }
};

/// THE list, in the order names are shown.
using builtin_strategies =
    std::tuple<random_entry, rea_entry, ls_entry, sh_entry, hyperband_entry, bohb_entry,
               nsga2_entry, bananas_entry, bo_gp_entry, bo_wl_entry, tpe_entry, reinforce_entry,
               lstm_entry, ppo_entry>;

template <class... Entries>
constexpr auto infos_of(std::tuple<Entries...>*) {
    return std::array<strategy_info, sizeof...(Entries)>{Entries::info...};
}

/// f(strategy) for the entry named `name` (a model-based one warm-started when the context has
/// designs), as type R.
template <class R, class Entry, class C, class F>
R build_and_call(std::string_view name, const C& context, F& f) {
    if constexpr (std::is_void_v<decltype(Entry::make(context))>) {
        Entry::make(context); // throws: this context cannot build it
        throw std::logic_error("unreachable");
    } else if constexpr (!Entry::info.model_based) {
        if (context.warm_start)
            cannot_build(name, "takes no warm start");
        return f(Entry::make(context));
    } else {
        if (context.warm_start)
            return f(strategy::warm_started(Entry::make(context), context.warm_start));
        return f(Entry::make(context));
    }
}

template <class R, class C, class F, class Entry, class... Rest>
R visit_built(std::string_view name, const C& context, F& f, std::tuple<Entry, Rest...>*) {
    if (Entry::info.name == name)
        return build_and_call<R, Entry>(name, context, f);
    if constexpr (sizeof...(Rest) == 0) {
        throw std::logic_error("unreachable: names are checked first");
    } else {
        return visit_built<R>(name, context, f, static_cast<std::tuple<Rest...>*>(nullptr));
    }
}

} // namespace detail

/// Every built-in strategy, in the registry's order.
inline constexpr auto strategies =
    detail::infos_of(static_cast<detail::builtin_strategies*>(nullptr));

/// Names of the strategies that satisfy `keep` (all by default), in the registry's order.
template <class Pred = bool (*)(const strategy_info&)>
[[nodiscard]] std::vector<std::string> strategy_names(Pred keep = [](const strategy_info&) {
    return true;
}) {
    std::vector<std::string> out;
    for (const auto& s : strategies) {
        if (keep(s))
            out.emplace_back(s.name);
    }
    return out;
}

namespace detail {
template <class C, class Entry>
inline constexpr bool buildable_from =
    !std::is_void_v<decltype(Entry::make(std::declval<const C&>()))>;

template <class C, class Pred, class... Entries>
void append_buildable(std::vector<std::string>& out, const Pred& keep, std::tuple<Entries...>*) {
    ((buildable_from<C, Entries> && keep(Entries::info) ? void(out.emplace_back(Entries::info.name))
                                                        : void()),
     ...);
}
} // namespace detail

/// Names of the strategies a context of type C can build and that satisfy `keep`: what a "valid:"
/// message on that space offers (its types decide: nsga2 without objectives is still listed).
template <class C, class Pred = bool (*)(const strategy_info&)>
[[nodiscard]] std::vector<std::string> strategy_names_for(Pred keep = [](const strategy_info&) {
    return true;
}) {
    std::vector<std::string> out;
    detail::append_buildable<C>(out, keep, static_cast<detail::builtin_strategies*>(nullptr));
    return out;
}

/// "a, b, c", or with `last` = " and ": "a, b and c".
[[nodiscard]] inline std::string join(const std::vector<std::string>& names,
                                      std::string_view last = ", ") {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0)
            out += i + 1 == names.size() ? std::string(last) : std::string(", ");
        out += names[i];
    }
    return out;
}

/// The strategy named `name`; std::invalid_argument "unknown strategy 'x' (valid: ...)" otherwise.
[[nodiscard]] inline const strategy_info& find_strategy(std::string_view name) {
    for (const auto& s : strategies) {
        if (s.name == name)
            return s;
    }
    throw std::invalid_argument("unknown strategy '" + std::string(name) +
                                "' (valid: " + join(strategy_names()) + ")");
}

/// Calls f with the strategy named `name`, built from `context` as its template type (a model-based
/// one warm-started when the context has designs), and returns f's result: by-name dispatch without
/// a virtual call per ask and tell, for callers that run a strategy once it is chosen. f is
/// instantiated for every entry the context's types can build and must return one type for all of
/// them. Unknown names and contexts that cannot build the strategy throw std::invalid_argument.
template <SearchSpace S, class Surrogates, class F>
decltype(auto) visit_strategy(std::string_view name, const strategy_context<S, Surrogates>& context,
                              F&& f) {
    (void)find_strategy(name); // unknown: "valid: ..."
    using result = std::invoke_result_t<F&, decltype(detail::random_entry::make(context))>;
    return detail::visit_built<result>(name, context, f,
                                       static_cast<detail::builtin_strategies*>(nullptr));
}

/// A single-objective or multi-objective strategy by name, type-erased (a multi-fidelity name
/// throws: use make_multi_fidelity_strategy). Bad names and contexts throw std::invalid_argument.
template <SearchSpace S, class Surrogates>
[[nodiscard]] any_strategy<genotype_t<S>>
make_strategy(std::string_view name, const strategy_context<S, Surrogates>& context) {
    if (find_strategy(name).kind == strategy_kind::multi_fidelity) {
        detail::cannot_build(name, "is multi-fidelity (make_multi_fidelity_strategy)");
    }
    return visit_strategy(name, context, [&]<class St>(St&& made) -> any_strategy<genotype_t<S>> {
        if constexpr (Strategy<std::remove_cvref_t<St>>) {
            return any_strategy<genotype_t<S>>(std::forward<St>(made));
        } else {
            detail::cannot_build(name, "is multi-fidelity (make_multi_fidelity_strategy)");
        }
    });
}

/// A multi-fidelity strategy by name (sh, hyperband, bohb), type-erased.
template <SearchSpace S, class Surrogates>
[[nodiscard]] any_multi_fidelity_strategy<genotype_t<S>>
make_multi_fidelity_strategy(std::string_view name,
                             const strategy_context<S, Surrogates>& context) {
    if (find_strategy(name).kind != strategy_kind::multi_fidelity) {
        detail::cannot_build(name, "is not multi-fidelity");
    }
    return visit_strategy(
        name, context, [&]<class St>(St&& made) -> any_multi_fidelity_strategy<genotype_t<S>> {
            if constexpr (MultiFidelityStrategy<std::remove_cvref_t<St>>) {
                return any_multi_fidelity_strategy<genotype_t<S>>(std::forward<St>(made));
            } else {
                detail::cannot_build(name, "is not multi-fidelity");
            }
        });
}

} // namespace nascent::exec
