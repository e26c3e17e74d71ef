// Compile-time conformance: every role's concept accepts the library's models and rejects types
// that miss a required member. The file has no runtime tests; compiling it is the test.
#include <nascent/bench/nb201_table.hpp>
#include <nascent/concepts.hpp>
#include <nascent/exec/sequential.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/ops/categorical.hpp>
#include <nascent/ops/mutation.hpp>
#include <nascent/space/darts.hpp>
#include <nascent/space/hyperparameters.hpp>
#include <nascent/space/mbconv.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/space/product.hpp>
#include <nascent/strategy/local_search.hpp>
#include <nascent/strategy/random_search.hpp>
#include <nascent/strategy/regularized_evolution.hpp>

#include <string>
#include <vector>

namespace {

using nascent::nb201::cell;
using nb201_space = nascent::nb201::space;

// ---- spaces
static_assert(nascent::SearchSpace<nb201_space>);
static_assert(nascent::EnumerableSpace<nb201_space>);
static_assert(nascent::PrintableSpace<nb201_space>);
static_assert(nascent::CategoricalSpace<nb201_space>);
static_assert(nascent::NeighbourhoodSpace<nb201_space>);
static_assert(nascent::CanonicalSpace<nb201_space>);

struct no_hash_space { // has no hash(): repeats could not be recognised
    using genotype = int;
    template <class G>
    int sample(G&) const {
        return 0;
    }
    bool is_valid(int) const { return true; }
};
static_assert(!nascent::SearchSpace<no_hash_space>);

struct minimal_space { // the least a space needs
    using genotype = int;
    template <class G>
    int sample(G& g) const {
        return static_cast<int>(nascent::uniform_index(g, 10));
    }
    bool is_valid(int x) const { return x >= 0 && x < 10; }
    std::uint64_t hash(int x) const { return static_cast<std::uint64_t>(x); }
};
static_assert(nascent::SearchSpace<minimal_space>);
static_assert(!nascent::EnumerableSpace<minimal_space>);
static_assert(!nascent::CategoricalSpace<minimal_space>);
static_assert(!nascent::NeighbourhoodSpace<minimal_space>);
static_assert(!nascent::PrintableSpace<minimal_space>);

struct non_regular_genotype_space { // genotypes must be comparable values
    struct genotype {
        int x;
    };
    template <class G>
    genotype sample(G&) const {
        return {};
    }
    bool is_valid(const genotype&) const { return true; }
    std::uint64_t hash(const genotype&) const { return 0; }
};
static_assert(!nascent::SearchSpace<non_regular_genotype_space>);

// Composite and macro spaces.
using joint_space =
    nascent::space::product_space<nb201_space, nascent::space::hyperparameter_space>;
static_assert(nascent::SearchSpace<joint_space>);
static_assert(nascent::EnumerableSpace<joint_space>);
static_assert(nascent::PrintableSpace<joint_space>);
static_assert(nascent::NeighbourhoodSpace<joint_space>);
static_assert(!nascent::CategoricalSpace<joint_space>); // a tuple has no g[i]
static_assert(nascent::CategoricalSpace<nascent::space::hyperparameter_space>);
static_assert(nascent::SearchSpace<nascent::darts::cell_space>);
static_assert(nascent::NeighbourhoodSpace<nascent::darts::cell_space>);
static_assert(!nascent::CategoricalSpace<nascent::darts::cell_space>); // inputs must stay distinct
static_assert(nascent::SearchSpace<nascent::darts::space>);
static_assert(!nascent::EnumerableSpace<nascent::darts::space>); // ~1e19 genotypes
static_assert(nascent::SearchSpace<nascent::mbconv::space>);
static_assert(nascent::NeighbourhoodSpace<nascent::mbconv::space>);
static_assert(nascent::PrintableSpace<nascent::mbconv::space>);
static_assert(!nascent::CategoricalSpace<nascent::mbconv::space>); // inactive layers stay canonical
using conditional =
    nascent::space::conditional_space<nb201_space, nascent::space::hyperparameter_space>;
static_assert(nascent::SearchSpace<conditional>);
static_assert(nascent::PrintableSpace<conditional>);

// Every space has a default mutation that REA picks up.
static_assert(nascent::Mutator<nascent::ops::default_mutator_t<joint_space>, joint_space>);
static_assert(nascent::Mutator<nascent::ops::default_mutator_t<nascent::darts::space>,
                               nascent::darts::space>);
static_assert(nascent::Mutator<nascent::ops::default_mutator_t<nascent::mbconv::space>,
                               nascent::mbconv::space>);
static_assert(nascent::Mutator<nascent::ops::default_mutator_t<conditional>, conditional>);
static_assert(nascent::Strategy<nascent::strategy::regularized_evolution<nascent::darts::space>>);
static_assert(nascent::Strategy<nascent::strategy::local_search<nascent::mbconv::space>>);

// ---- operators
static_assert(nascent::Mutator<nascent::ops::point_mutation, nb201_space>);
static_assert(nascent::Crossover<nascent::ops::uniform_crossover, nb201_space>);
static_assert(!nascent::Mutator<nascent::ops::point_mutation, minimal_space>); // not categorical
static_assert(!nascent::Crossover<nascent::ops::point_mutation, nb201_space>); // wrong arity

struct returns_string_mutator {
    template <class S, class G>
    std::string operator()(const S&, const cell&, G&) const {
        return {};
    }
};
static_assert(!nascent::Mutator<returns_string_mutator, nb201_space>);

// ---- evaluators
static_assert(nascent::Evaluator<nascent::bench::nb201_evaluator, cell>);
static_assert(nascent::thread_safety_of<nascent::bench::nb201_evaluator> ==
              nascent::thread_safety::constant);
struct throws_away_status { // returns a bare number: failure could not be data
    double evaluate(const cell&) const { return 0.0; }
};
static_assert(!nascent::Evaluator<throws_away_status, cell>);
struct user_evaluator {
    nascent::evaluation evaluate(const cell&) { return nascent::evaluation::success(1.0); }
};
static_assert(nascent::Evaluator<user_evaluator, cell>);
static_assert(nascent::thread_safety_of<user_evaluator> == nascent::thread_safety::basic);
static_assert(!nascent::Evaluator<nascent::bench::nb201_evaluator, int>); // wrong genotype

// ---- strategies
static_assert(nascent::Strategy<nascent::strategy::random_search<nb201_space>>);
static_assert(nascent::Strategy<nascent::strategy::regularized_evolution<nb201_space>>);
static_assert(nascent::Strategy<nascent::strategy::local_search<nb201_space>>);
static_assert(nascent::Strategy<nascent::strategy::random_search<minimal_space>>);
struct ask_only {
    using genotype = cell;
    template <class G>
    cell ask(G&) {
        return {};
    }
};
static_assert(!nascent::Strategy<ask_only>);
struct returns_batch {
    using genotype = cell;
    template <class G>
    std::vector<cell> ask(G&) {
        return {};
    }
    void tell(const cell&, const nascent::evaluation&) {}
};
static_assert(!nascent::Strategy<returns_batch>);

// CTAD reads well for the common cases.
static_assert(std::same_as<decltype(nascent::strategy::regularized_evolution{nb201_space{}}),
                           nascent::strategy::regularized_evolution<nb201_space>>);

// ---- executors
static_assert(nascent::Executor<nascent::exec::sequential_executor>);
static_assert(nascent::Executor<nascent::exec::tbb_executor>);
struct no_concurrency {
    template <class F>
    void for_each(std::size_t n, const F& f) const {
        for (std::size_t i = 0; i < n; ++i)
            f(i);
    }
};
static_assert(!nascent::Executor<no_concurrency>);

} // namespace
