// Reinforcement-learning controllers: the new autograd ops and the LSTM cell against double
// references and finite differences, the policy-gradient losses against their closed forms, the
// estimator against the exact gradient of the expected reward on a tiny space, learning on a toy
// objective, pending asks, reproducibility and bad options.

#include "error_of.hpp"
#include "gradient_check.hpp"

#include <nascent/exec/runner.hpp>
#include <nascent/exec/tbb_executor.hpp>
#include <nascent/space/hyperparameters.hpp>
#include <nascent/space/nb101.hpp>
#include <nascent/space/nb201.hpp>
#include <nascent/strategy/lstm_controller.hpp>
#include <nascent/strategy/policy_gradient.hpp>
#include <nascent/strategy/ppo.hpp>
#include <nascent/strategy/reinforce.hpp>
#include <nascent/tensor/autograd/activations.hpp>
#include <nascent/tensor/autograd/indexing.hpp>
#include <nascent/tensor/autograd/recurrent.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace t = nascent::tensor;
namespace st = nascent::strategy;
namespace nb201 = nascent::nb201;
using nascent::evaluation;
using nascent::test::dt;
using nascent::test::random;
using nascent::test::require_good;

namespace {

double sig(double v) {
    return 1.0 / (1.0 + std::exp(-v));
}

// Reward of the toy objective: how many edges hold a 3x3 convolution (0..6).
struct conv_count {
    static constexpr auto thread_safety = nascent::thread_safety::constant;
    [[nodiscard]] evaluation evaluate(const nb201::cell& c) const {
        double n = 0;
        for (auto op : c.ops)
            n += op == nb201::nor_conv_3x3 ? 1 : 0;
        nascent::metrics m;
        m.set("test_acc@200", n);
        return evaluation::success(n, std::move(m));
    }
};

// Mean reward of samples [from, to) of a run of `strategy` on the toy objective (every ask told).
template <class St>
std::vector<double> rewards_of(St strategy, std::size_t steps, std::uint64_t seed) {
    nascent::rng gen(seed);
    const conv_count f;
    std::vector<double> out;
    for (std::size_t i = 0; i < steps; ++i) {
        const auto g = strategy.ask(gen);
        const auto e = f.evaluate(g);
        out.push_back(e.reward);
        strategy.tell(g, e);
    }
    return out;
}
double mean_of(const std::vector<double>& v, std::size_t from, std::size_t to) {
    return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(from),
                           v.begin() + static_cast<std::ptrdiff_t>(to), 0.0) /
           static_cast<double>(to - from);
}

} // namespace

TEST_CASE("rl ops: sigmoid, tanh, exp and log_softmax against double references") {
    const auto x = random({3, 5}, 1, 2.0);
    require_good(nascent::test::check_gradients(
                     {x}, [](const auto& v) { return t::sigmoid(v[0]); },
                     [](const std::vector<dt>& in) {
                         dt y = in[0];
                         for (auto& v : y.v)
                             v = sig(v);
                         return y;
                     }),
                 "sigmoid");
    require_good(nascent::test::check_gradients(
                     {x}, [](const auto& v) { return t::tanh(v[0]); },
                     [](const std::vector<dt>& in) {
                         dt y = in[0];
                         for (auto& v : y.v)
                             v = std::tanh(v);
                         return y;
                     }),
                 "tanh");
    require_good(nascent::test::check_gradients(
                     {x}, [](const auto& v) { return t::exp(v[0]); },
                     [](const std::vector<dt>& in) {
                         dt y = in[0];
                         for (auto& v : y.v)
                             v = std::exp(v);
                         return y;
                     }),
                 "exp");
    require_good(nascent::test::check_gradients(
                     {x}, [](const auto& v) { return t::log_softmax(v[0]); },
                     [](const std::vector<dt>& in) {
                         dt y = in[0];
                         for (std::size_t r = 0; r < 3; ++r) {
                             double total = 0;
                             for (std::size_t c = 0; c < 5; ++c)
                                 total += std::exp(in[0].v[r * 5 + c]);
                             for (std::size_t c = 0; c < 5; ++c)
                                 y.v[r * 5 + c] = in[0].v[r * 5 + c] - std::log(total);
                         }
                         return y;
                     }),
                 "log_softmax");
    // Large logits stay finite: the max is shifted out.
    const t::variable big(t::ndarray({1, 2}, 1000.0F));
    CHECK(t::log_softmax(big).value()[0] == doctest::Approx(-std::log(2.0)));
}

TEST_CASE("rl ops: embedding, pick and row_sums scatter their gradients") {
    const std::vector<std::int32_t> rows{2, 0, 2, 1};
    require_good(nascent::test::check_gradients(
                     {random({3, 4}, 2)}, [&](const auto& v) { return t::embedding(v[0], rows); },
                     [&](const std::vector<dt>& in) {
                         dt y{{4, 4}, std::vector<double>(16)};
                         for (std::size_t r = 0; r < 4; ++r) {
                             for (std::size_t c = 0; c < 4; ++c)
                                 y.v[r * 4 + c] =
                                     in[0].v[static_cast<std::size_t>(rows[r]) * 4 + c];
                         }
                         return y;
                     }),
                 "embedding");
    const std::vector<std::int32_t> cols{3, 0, 1, 3};
    require_good(nascent::test::check_gradients(
                     {random({4, 4}, 3)}, [&](const auto& v) { return t::pick(v[0], cols); },
                     [&](const std::vector<dt>& in) {
                         dt y{{4}, std::vector<double>(4)};
                         for (std::size_t r = 0; r < 4; ++r)
                             y.v[r] = in[0].v[r * 4 + static_cast<std::size_t>(cols[r])];
                         return y;
                     }),
                 "pick");
    require_good(nascent::test::check_gradients(
                     {random({3, 5}, 4)}, [](const auto& v) { return t::row_sums(v[0]); },
                     [](const std::vector<dt>& in) {
                         dt y{{3}, std::vector<double>(3)};
                         for (std::size_t r = 0; r < 3; ++r) {
                             for (std::size_t c = 0; c < 5; ++c)
                                 y.v[r] += in[0].v[r * 5 + c];
                         }
                         return y;
                     }),
                 "row_sums");
    const t::variable w(t::ndarray({2, 3}));
    CHECK(nascent::test::error_of([&] { (void)t::embedding(w, std::vector<std::int32_t>{2}); }) ==
          "embedding: index 2 at 0 outside [0, 2)");
}

TEST_CASE("rl ops: the LSTM cell against a double reference (torch.nn.LSTMCell's equations)") {
    constexpr std::size_t n = 2, in = 3, h = 4;
    // Inputs: x, h, c, w_ih, w_hh, bias; output [h' | c'] as [N, 2H].
    const std::vector<t::ndarray> inputs{random({n, in}, 5),         random({n, h}, 6),
                                         random({n, h}, 7),          random({4 * h, in}, 8, 0.5),
                                         random({4 * h, h}, 9, 0.5), random({4 * h}, 10, 0.5)};
    const auto op = [](const std::vector<t::variable>& v) {
        const auto s = t::lstm_cell(v[0], {v[1], v[2]}, {v[3], v[4], v[5]});
        return t::concat({s.h, s.c}, 1);
    };
    const auto ref = [](const std::vector<dt>& v) {
        dt y{{n, 2 * h}, std::vector<double>(n * 2 * h)};
        for (std::size_t r = 0; r < n; ++r) {
            std::vector<double> a(4 * h);
            for (std::size_t k = 0; k < 4 * h; ++k) {
                a[k] = v[5].v[k];
                for (std::size_t j = 0; j < in; ++j)
                    a[k] += v[0].v[r * in + j] * v[3].v[k * in + j];
                for (std::size_t j = 0; j < h; ++j)
                    a[k] += v[1].v[r * h + j] * v[4].v[k * h + j];
            }
            for (std::size_t k = 0; k < h; ++k) {
                const double c =
                    sig(a[h + k]) * v[2].v[r * h + k] + sig(a[k]) * std::tanh(a[2 * h + k]);
                y.v[r * 2 * h + k] = sig(a[3 * h + k]) * std::tanh(c);
                y.v[r * 2 * h + h + k] = c;
            }
        }
        return y;
    };
    require_good(nascent::test::check_gradients(inputs, op, ref), "lstm_cell");
}

TEST_CASE("reinforce: the loss gradient is the analytic -(1/M) sum_j A_j (onehot(a_j) - p)") {
    // A space with unequal choices (masked logits): 3 positions of 2, 4 and 3 values.
    const nascent::space::hyperparameter_space space{
        {"a", {1, 2}}, {"b", {1, 2, 3, 4}}, {"c", {1, 2, 3}}};
    nascent::rng gen(3);
    st::factorised_policy<nascent::space::hyperparameter_space> policy(space, {.init_std = 1.0},
                                                                       gen);
    const std::vector<std::int32_t> actions{1, 3, 0, 0, 0, 2, 1, 2, 2};
    const std::vector<double> advantage{1.5, -0.5, 2.0};
    const auto lp = policy.log_probabilities();
    for (const double beta : {0.0, 0.3}) {
        CAPTURE(beta);
        const st::learner_settings settings{.entropy_weight = beta};
        policy.parameters()[0].zero_grad();
        st::policy_loss(policy.evaluate(actions, 3), advantage, {}, settings).backward();
        const auto& grad = policy.parameters()[0].grad();
        for (std::size_t i = 0; i < 3; ++i) {
            double entropy = 0;
            for (std::size_t c = 0; c < space.choices(i); ++c)
                entropy -= std::exp(lp[i * 4 + c]) * lp[i * 4 + c];
            for (std::size_t c = 0; c < 4; ++c) {
                double expected = 0;
                if (c < space.choices(i)) {
                    const double p = std::exp(lp[i * 4 + c]);
                    for (std::size_t j = 0; j < 3; ++j) {
                        const double onehot = actions[j * 3 + i] == static_cast<int>(c) ? 1 : 0;
                        expected -= advantage[j] * (onehot - p) / 3.0;
                    }
                    // dH/dtheta_c = -p_c (log p_c + H), and the loss has -beta H.
                    expected += beta * p * (lp[i * 4 + c] + entropy);
                }
                CAPTURE(i);
                CAPTURE(c);
                CHECK(grad[i * 4 + c] == doctest::Approx(expected).epsilon(1e-5));
            }
        }
    }
}

TEST_CASE("reinforce: the estimator's mean is the exact gradient of the expected reward") {
    // 2 x 3 architectures; J(theta) = sum_a pi(a) R(a), dJ/dtheta_ic = sum_a pi(a) R(a)
    // (onehot_i(a)_c - p_ic). With b = 0 the batch loss's gradient is minus the mean of
    // R grad log pi over M samples drawn from pi: its mean is -dJ/dtheta.
    const nascent::space::hyperparameter_space space{{"a", {1, 2}}, {"b", {1, 2, 3}}};
    nascent::rng gen(11);
    st::factorised_policy<nascent::space::hyperparameter_space> policy(space, {.init_std = 0.7},
                                                                       gen);
    const auto reward = [](std::size_t a, std::size_t b) {
        const auto x = static_cast<double>(a);
        const auto y = static_cast<double>(b);
        return 1.0 + 2.0 * x + 0.5 * y * y;
    };
    const auto lp = policy.log_probabilities();
    std::vector<double> exact(6, 0.0);
    for (std::size_t a = 0; a < 2; ++a) {
        for (std::size_t b = 0; b < 3; ++b) {
            const double pi = std::exp(lp[a] + lp[3 + b]);
            for (std::size_t c = 0; c < 3; ++c) {
                if (c < 2)
                    exact[c] += pi * reward(a, b) * ((a == c ? 1 : 0) - std::exp(lp[c]));
                exact[3 + c] += pi * reward(a, b) * ((b == c ? 1 : 0) - std::exp(lp[3 + c]));
            }
        }
    }
    constexpr std::size_t m = 40000;
    std::vector<std::int32_t> actions;
    std::vector<double> rewards;
    for (std::size_t j = 0; j < m; ++j) {
        const auto [g, log_prob] = policy.sample(gen);
        CHECK(log_prob == doctest::Approx(lp[g[0]] + lp[3 + g[1]]).epsilon(1e-6));
        actions.push_back(g[0]);
        actions.push_back(g[1]);
        rewards.push_back(reward(g[0], g[1]));
    }
    st::policy_loss(policy.evaluate(actions, m), rewards, {}, {}).backward();
    const auto& grad = policy.parameters()[0].grad();
    // Standard error of each component: sd(R (onehot - p)) / sqrt(M) <= ~6 / 200 = 0.03.
    for (std::size_t k = 0; k < 6; ++k) {
        if (k == 2)
            continue; // masked entry of the 2-choice position
        CAPTURE(k);
        CHECK(std::abs(-grad[k] - exact[k]) < 0.03);
    }
    CHECK(std::abs(exact[0]) > 0.3); // a gradient worth estimating
    CHECK(std::abs(exact[5]) > 0.2);
}

TEST_CASE("lstm controller: gradients of the whole controller loss pass finite differences") {
    const nascent::space::hyperparameter_space space{
        {"a", {1, 2, 3}}, {"b", {1, 2}}, {"c", {1, 2, 3}}};
    nascent::rng gen(5);
    const st::lstm_policy_options o{
        .hidden = 4, .layers = 2, .temperature = 1.5, .tanh_constant = 2.0, .init_range = 0.8};
    st::lstm_policy<nascent::space::hyperparameter_space> policy(space, o, gen);
    const std::vector<std::int32_t> actions{2, 1, 0, 0, 0, 2, 1, 1, 1};
    const std::vector<double> advantage{1.0, -2.0, 0.5};
    const st::learner_settings settings{.entropy_weight = 0.2};
    const auto loss = [&] {
        return st::policy_loss(policy.evaluate(actions, 3), advantage, {}, settings);
    };
    loss().backward();
    std::size_t checked = 0;
    std::size_t used = 0;
    for (const auto& p : policy.parameters()) {
        const t::ndarray analytic = p.grad();
        double worst = 0, largest = 0;
        for (std::size_t k = 0; k < p.size(); k += 3) {
            const float saved = p.value()[k];
            constexpr float h = 1e-2F;
            p.mutable_value()[k] = saved + h;
            const double up = loss().item();
            p.mutable_value()[k] = saved - h;
            const double down = loss().item();
            p.mutable_value()[k] = saved;
            const double numeric = (up - down) / (2 * h);
            largest = std::max(largest, std::abs(numeric));
            worst = std::max(worst, std::abs(numeric - analytic[k]));
            ++checked;
        }
        // Every parameter matters but the last position's embedding (nothing reads it).
        used += largest > 1e-4 ? 1 : 0;
        CHECK(worst <= 2e-2 * std::max(largest, 1e-3));
    }
    CHECK(checked > 50);
    CHECK(used + 1 == policy.parameters().size());
    // Sampling and evaluating agree: the log-probability recorded at ask is the graph's.
    const auto [g, log_prob] = policy.sample(gen);
    const std::vector<std::int32_t> a{g[0], g[1], g[2]};
    CHECK(policy.evaluate(a, 1).log_prob.value()[0] == doctest::Approx(log_prob).epsilon(1e-5));
}

TEST_CASE("ppo: the first epoch's gradient is REINFORCE's; clipped samples give none") {
    const nascent::space::hyperparameter_space space{{"a", {1, 2, 3}}, {"b", {1, 2}}};
    nascent::rng gen(8);
    st::factorised_policy<nascent::space::hyperparameter_space> policy(space, {.init_std = 1.0},
                                                                       gen);
    const std::vector<std::int32_t> actions{2, 1, 0, 0};
    const std::vector<double> advantage{1.0, -2.0};
    const auto terms = policy.evaluate(actions, 2);
    const std::vector<double> old{terms.log_prob.value()[0], terms.log_prob.value()[1]};
    const auto grad_of = [&](const std::vector<double>& behaviour, st::policy_update u) {
        policy.parameters()[0].zero_grad();
        const st::learner_settings s{.update = u, .clip = 0.2};
        st::policy_loss(policy.evaluate(actions, 2), advantage, behaviour, s).backward();
        return policy.parameters()[0].grad();
    };
    const auto reinforce = grad_of({}, st::policy_update::reinforce);
    const auto same = grad_of(old, st::policy_update::ppo_clip);
    for (std::size_t k = 0; k < reinforce.size(); ++k)
        CHECK(same[k] == doctest::Approx(reinforce[k]).epsilon(1e-5));
    // Behaviour probabilities far below the current ones: r > 1 + eps for the sample with
    // A > 0 (clipped, no gradient); r < 1 - eps for... the A < 0 sample is not clipped above.
    const auto clipped = grad_of({old[0] - 1.0, old[1] - 1.0}, st::policy_update::ppo_clip);
    policy.parameters()[0].zero_grad();
    st::policy_loss(policy.evaluate(std::vector<std::int32_t>{0, 0}, 1), {-2.0}, {old[1] - 1.0},
                    {.update = st::policy_update::ppo_clip})
        .backward();
    const auto only_second = policy.parameters()[0].grad();
    for (std::size_t k = 0; k < clipped.size(); ++k)
        CHECK(clipped[k] == doctest::Approx(only_second[k] / 2.0).epsilon(1e-5));
}

TEST_CASE("rl controllers: mean reward rises on a toy objective (fixed seed)") {
    // Reward = number of 3x3 convolutions among 6 edges; a uniform policy averages 1.2.
    const nb201::space space;
    const auto r = rewards_of(st::reinforce{space, {.learning_rate = 0.05}}, 400, 1);
    CHECK(mean_of(r, 0, 50) < 2.0);
    CHECK(mean_of(r, 350, 400) > 4.0);
    const auto l = rewards_of(st::lstm_controller{space, {.learning_rate = 0.02}}, 400, 1);
    CHECK(mean_of(l, 0, 50) < 2.0);
    CHECK(mean_of(l, 350, 400) > 4.0);
    const auto p = rewards_of(st::ppo{space, {.learning_rate = 0.05}}, 400, 1);
    CHECK(mean_of(p, 0, 50) < 2.0);
    CHECK(mean_of(p, 350, 400) > 4.0);
}

TEST_CASE("rl controllers: asks in flight, tells in any order, one update per batch") {
    const nb201::space space;
    const conv_count f;
    st::reinforce<nb201::space> in_order{space, {.learning_rate = 0.1, .batch = 4}};
    auto reversed = in_order;
    nascent::rng g1(4), g2(4);
    for (int round = 0; round < 3; ++round) {
        std::vector<nb201::cell> a, b;
        for (int k = 0; k < 4; ++k) {
            a.push_back(in_order.ask(g1));
            b.push_back(reversed.ask(g2));
        }
        REQUIRE(a == b);
        CHECK(in_order.learner().pending() == 4);
        for (int k = 0; k < 4; ++k)
            in_order.tell(a[k], f.evaluate(a[k]));
        for (int k = 3; k >= 0; --k) {
            CHECK(reversed.learner().updates() == static_cast<std::size_t>(round));
            reversed.tell(b[k], f.evaluate(b[k]));
        }
        CHECK(reversed.learner().updates() == static_cast<std::size_t>(round + 1));
        CHECK(in_order.learner().baseline() == reversed.learner().baseline());
    }
    // Same samples, same batches in ask order: the same policy.
    const auto pa = in_order.learner().policy()->log_probabilities();
    const auto pb = reversed.learner().policy()->log_probabilities();
    CHECK(std::equal(pa.begin(), pa.end(), pb.begin()));
    // A tell of a genotype never asked is not a sample; a failure leaves the pending list only.
    nascent::rng g3(1);
    auto fresh = in_order;
    const auto asked = fresh.ask(g3);
    fresh.tell(nb201::space::at(5), evaluation::success(1.0));
    CHECK(fresh.learner().pending() == 1);
    fresh.tell(asked, evaluation::failure("diverged"));
    CHECK(fresh.learner().pending() == 0);
}

TEST_CASE("rl controllers: copies are independent and runs reproducible for any thread count") {
    const nb201::space space;
    st::lstm_controller<nb201::space> lstm{space, {.batch = 5}};
    nascent::rng gen(2);
    for (int i = 0; i < 12; ++i) {
        const auto g = lstm.ask(gen);
        lstm.tell(g, conv_count{}.evaluate(g));
    }
    auto copy = lstm;
    nascent::rng ga(3), gb(3);
    for (int i = 0; i < 8; ++i) { // the copy learns on its own; the original must not change
        const auto g = copy.ask(ga);
        copy.tell(g, evaluation::success(i % 2 == 0 ? 6.0 : 0.0));
    }
    auto again = lstm;
    nascent::rng gc(3);
    for (int i = 0; i < 3; ++i)
        CHECK(lstm.ask(gb) == again.ask(gc));

    const conv_count f;
    const nascent::run_options o{.budget = 40, .runs = 6, .seed = 9};
    const auto one = nascent::run_protocol(space, st::ppo{space, {}, st::lstm_policy_options{}}, f,
                                           o, nascent::exec::tbb_executor(1));
    const auto two = nascent::run_protocol(space, st::ppo{space, {}, st::lstm_policy_options{}}, f,
                                           o, nascent::exec::tbb_executor(2));
    for (std::size_t i = 0; i < one.size(); ++i) {
        CHECK(one[i].trajectory == two[i].trajectory);
        CHECK(one[i].best == two[i].best);
    }
    CHECK(one[0].trajectory != one[1].trajectory);
}

TEST_CASE("rl controllers: bad options are rejected, non-categorical spaces at compile time") {
    const nb201::space space;
    using nascent::test::error_of;
    CHECK(error_of([&] {
              st::reinforce r{space, {.learning_rate = 0}};
          }) == "reinforce: learning_rate must be > 0 and finite, got 0.000000");
    CHECK(error_of([&] {
              st::reinforce r{space, {.batch = 0}};
          }) == "reinforce: batch must be >= 1, got 0");
    CHECK(error_of([&] {
              st::lstm_controller r{space, {.baseline_decay = 1.0}};
          }) == "lstm_controller: baseline_decay must be in [0, 1), got 1.000000");
    CHECK(error_of([&] {
              st::lstm_controller r{space, {.policy = {.hidden = 0}}};
          }) == "lstm_controller: hidden must be >= 1, got 0");
    CHECK(error_of([&] {
              st::ppo r{space, {.clip = 1.5}};
          }) == "ppo: clip must be in (0, 1), got 1.500000");
    CHECK(error_of([&] { st::ppo r{space, {.epochs = 0}}; }) == "ppo: epochs must be >= 1, got 0");
    static_assert(nascent::Strategy<st::reinforce<nb201::space>>);
    static_assert(nascent::Strategy<st::lstm_controller<nb201::space>>);
    static_assert(nascent::Strategy<st::ppo<nb201::space, st::lstm_policy<nb201::space>>>);
    static_assert(!nascent::CategoricalSpace<nascent::nb101::space>);
}

namespace {
struct reward_log { // a callback: the evaluator's answers in booking order
    std::vector<double>* out;
    template <class Event>
    void on_evaluation(const Event& e) const {
        out->push_back(e.result.reward);
    }
};
} // namespace

TEST_CASE(
    "rl controllers: k = 4 in flight, identical on sequential and TBB executors; they learn") {
    // The search loop asks 4 before it tells (exec/search_loop.hpp); M = 10 makes updates fall
    // inside batches, so asks in flight span policy updates (PPO keeps their behaviour pi).
    const nb201::space space;
    const conv_count f;
    const auto check = [&](const auto& strategy) {
        const nascent::run_options o{.budget = 200, .seed = 5, .in_flight = 4};
        std::vector<double> seq_r, one_r, two_r;
        const auto seq = nascent::run(strategy, f, o, reward_log{&seq_r});
        const auto one =
            nascent::run(strategy, f, o, reward_log{&one_r}, nascent::exec::tbb_executor(1));
        const auto two =
            nascent::run(strategy, f, o, reward_log{&two_r}, nascent::exec::tbb_executor(2));
        CHECK(seq.queries == 200);
        CHECK(!seq.stalled);
        CHECK(seq_r == one_r);
        CHECK(seq_r == two_r);
        CHECK(seq.trajectory == one.trajectory);
        CHECK(seq.trajectory == two.trajectory);
        CHECK(seq.repeats == two.repeats);
        CHECK(seq.best == two.best);
        // A uniform policy averages 1.2 convolutions; the last 50 distinct cells must beat the
        // first 20 by a convolution.
        CHECK(mean_of(seq_r, 0, 20) < 2.5);
        CHECK(mean_of(seq_r, 150, 200) > mean_of(seq_r, 0, 20) + 1.0);
        // k = 1 is another run: the batches differ, so the policy sees other samples.
        std::vector<double> k1_r;
        (void)nascent::run(strategy, f, {.budget = 200, .seed = 5}, reward_log{&k1_r});
        CHECK(k1_r != seq_r);
    };
    SUBCASE("reinforce") {
        check(st::reinforce{space, {.learning_rate = 0.1, .batch = 10}});
    }
    SUBCASE("lstm") {
        check(st::lstm_controller{space, {.learning_rate = 0.02}});
    }
    SUBCASE("ppo") {
        check(st::ppo{space, {.learning_rate = 0.05}});
    }
    SUBCASE("ppo lstm") {
        check(st::ppo{space, {.learning_rate = 0.02}, st::lstm_policy_options{}});
    }
}
