// Pareto tools on numpy arrays, and the surrogates: GPs on feature matrices (each vector kernel)
// and the NAS-Bench-201 predictors the model-based strategies use (GP, WL-GP, BANANAS' MLP
// ensemble, GCN) on cells.

#include "common.hpp"

#include "nb201_models.hpp" // the CLI's NAS-Bench-201 surrogates, as the strategies use them

#include <nascent/pareto/hypervolume.hpp>
#include <nascent/pareto/indicators.hpp>
#include <nascent/pareto/sort.hpp>
#include <nascent/surrogate/gp.hpp>
#include <nascent/surrogate/kernels.hpp>

#include <Eigen/Dense>

#include <variant>

namespace nascent::python {
namespace {

using points_array = py::array_t<double, py::array::c_style | py::array::forcecast>;

/// Rows of minimised values: `points` (n x m) with the columns `maximise` names negated.
struct minimised {
    std::vector<double> values;
    std::size_t dims;
    [[nodiscard]] pareto::matrix_view view() const { return {values, dims}; }
};

std::vector<bool> directions(const std::optional<std::vector<bool>>& maximise, std::size_t m) {
    if (!maximise)
        return std::vector<bool>(m, false);
    if (maximise->size() != m)
        throw py::value_error("maximise has " + std::to_string(maximise->size()) + " entries for " +
                              std::to_string(m) + " objectives");
    return *maximise;
}

minimised to_minimised(const points_array& points, const std::optional<std::vector<bool>>& max) {
    if (points.ndim() != 2)
        throw py::value_error("points must be a 2-d array (n points x m objectives), got " +
                              std::to_string(points.ndim()) + " dimensions");
    const auto n = static_cast<std::size_t>(points.shape(0));
    const auto m = static_cast<std::size_t>(points.shape(1));
    const auto senses = directions(max, m);
    minimised out{{points.data(), points.data() + n * m}, m};
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < m; ++j)
            if (senses[j])
                out.values[i * m + j] = -out.values[i * m + j];
    return out;
}

void bind_pareto(py::module_& parent) {
    auto m = parent.def_submodule("pareto", "Non-dominated sorting, hypervolume and IGD on "
                                            "numpy arrays (n points x m objectives).");
    m.def(
        "non_dominated_sort",
        [](const points_array& points, const std::optional<std::vector<bool>>& maximise) {
            const auto p = to_minimised(points, maximise);
            const auto f = pareto::non_dominated_sort(p.view());
            const auto ranks = f.ranks();
            py::array_t<std::int64_t> out(static_cast<py::ssize_t>(ranks.size()));
            std::copy(ranks.begin(), ranks.end(), out.mutable_data());
            return out;
        },
        py::arg("points"), py::arg("maximise") = py::none(),
        "The front of each point (0 = non-dominated). Objectives are minimised unless "
        "`maximise` (one bool per column) says otherwise.");
    m.def(
        "non_dominated",
        [](const points_array& points, const std::optional<std::vector<bool>>& maximise) {
            const auto p = to_minimised(points, maximise);
            const auto idx = pareto::non_dominated(p.view());
            py::array_t<std::int64_t> out(static_cast<py::ssize_t>(idx.size()));
            std::copy(idx.begin(), idx.end(), out.mutable_data());
            return out;
        },
        py::arg("points"), py::arg("maximise") = py::none(),
        "Indices of the non-dominated points, ascending.");
    m.def(
        "hypervolume",
        [](const points_array& points, const std::vector<double>& reference,
           const std::optional<std::vector<bool>>& maximise) {
            const auto p = to_minimised(points, maximise);
            const auto senses = directions(maximise, p.dims);
            if (reference.size() != p.dims)
                throw py::value_error("the reference point has " +
                                      std::to_string(reference.size()) + " values for " +
                                      std::to_string(p.dims) + " objectives");
            std::vector<double> ref(reference);
            for (std::size_t j = 0; j < ref.size(); ++j)
                if (senses[j])
                    ref[j] = -ref[j];
            return pareto::hypervolume(p.view(), ref);
        },
        py::arg("points"), py::arg("reference"), py::arg("maximise") = py::none(),
        "Exact hypervolume dominated by the points and bounded by `reference` (given in the "
        "objectives' own directions).");
    m.def(
        "igd",
        [](const points_array& found, const points_array& front,
           const std::optional<std::vector<bool>>& maximise, bool normalise) {
            const auto a = to_minimised(found, maximise);
            const auto b = to_minimised(front, maximise);
            return pareto::igd(a.view(), b.view(), {.normalise = normalise});
        },
        py::arg("found"), py::arg("front"), py::arg("maximise") = py::none(),
        py::arg("normalise") = false,
        "Inverted generational distance: mean distance from each front point to the nearest "
        "found point (each objective divided by the front's range when `normalise`).");
    m.def(
        "igd_plus",
        [](const points_array& found, const points_array& front,
           const std::optional<std::vector<bool>>& maximise, bool normalise) {
            const auto a = to_minimised(found, maximise);
            const auto b = to_minimised(front, maximise);
            return pareto::igd_plus(a.view(), b.view(), {.normalise = normalise});
        },
        py::arg("found"), py::arg("front"), py::arg("maximise") = py::none(),
        py::arg("normalise") = false, "IGD+: as igd, counting only where found is worse.");
}

// ---- GPs on feature matrices --------------------------------------------------------------------

using matrix_array = py::array_t<double, py::array::c_style | py::array::forcecast>;

Eigen::MatrixXd to_matrix(const matrix_array& x) {
    if (x.ndim() != 2)
        throw py::value_error("X must be a 2-d array (n points x d features), got " +
                              std::to_string(x.ndim()) + " dimensions");
    using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    return Eigen::Map<const row_major>(x.data(), x.shape(0), x.shape(1));
}

std::vector<double> to_vector(const py::array_t<double, py::array::forcecast>& y) {
    if (y.ndim() != 1)
        throw py::value_error("y must be a 1-d array, got " + std::to_string(y.ndim()) +
                              " dimensions");
    const auto n = static_cast<std::size_t>(y.shape(0));
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = y.at(static_cast<py::ssize_t>(i));
    return out;
}

py::tuple to_arrays(const std::vector<prediction>& ps) {
    py::array_t<double> mean(static_cast<py::ssize_t>(ps.size()));
    py::array_t<double> var(static_cast<py::ssize_t>(ps.size()));
    for (std::size_t i = 0; i < ps.size(); ++i) {
        mean.mutable_data()[i] = ps[i].mean;
        var.mutable_data()[i] = ps[i].variance;
    }
    return py::make_tuple(mean, var);
}

class any_gp {
public:
    any_gp(const std::string& kernel, double lengthscale, std::size_t ard,
           const surrogate::gp_options& options)
        : m_kernel(kernel), m_model(make(kernel, lengthscale, ard, options)) {}

    void fit(const matrix_array& x, const py::array_t<double, py::array::forcecast>& y) {
        auto xs = to_matrix(x);
        const auto ys = to_vector(y);
        if (static_cast<std::size_t>(xs.rows()) != ys.size())
            throw py::value_error("X has " + std::to_string(xs.rows()) + " rows, y has " +
                                  std::to_string(ys.size()) + " values");
        std::visit([&](auto& g) { g.fit_features(std::move(xs), ys); }, m_model);
    }
    [[nodiscard]] py::tuple predict(const matrix_array& x) const {
        const auto xs = to_matrix(x);
        return to_arrays(
            std::visit([&](const auto& g) { return g.predict_features(xs); }, m_model));
    }
    [[nodiscard]] std::vector<double> hyperparameters() const {
        return std::visit(
            [](const auto& g) {
                const auto& t = g.hyperparameters();
                return std::vector<double>(t.data(), t.data() + t.size());
            },
            m_model);
    }
    [[nodiscard]] double log_marginal_likelihood() const {
        return std::visit([](const auto& g) { return g.log_marginal_likelihood(); }, m_model);
    }
    [[nodiscard]] const std::string& kernel() const noexcept { return m_kernel; }

private:
    using model = std::variant<surrogate::gp<surrogate::rbf>, surrogate::gp<surrogate::matern52>,
                               surrogate::gp<surrogate::hamming>>;
    static model make(const std::string& kernel, double l, std::size_t ard,
                      const surrogate::gp_options& o) {
        if (kernel == "rbf")
            return surrogate::gp<surrogate::rbf>(surrogate::rbf({.lengthscale = l, .ard = ard}), {},
                                                 o);
        if (kernel == "matern52")
            return surrogate::gp<surrogate::matern52>(
                surrogate::matern52({.lengthscale = l, .ard = ard}), {}, o);
        if (kernel == "hamming")
            return surrogate::gp<surrogate::hamming>(
                surrogate::hamming({.lengthscale = l, .ard = ard}), {}, o);
        throw py::value_error("unknown kernel '" + kernel + "' (valid: rbf, matern52, hamming)");
    }
    std::string m_kernel;
    model m_model;
};

// ---- NAS-Bench-201 predictors on cells ----------------------------------------------------------

namespace models = cli::nb201_models;

class nb201_predictor {
public:
    nb201_predictor(const std::string& name, std::uint64_t seed)
        : m_name(name), m_model(make(name, seed)) {}

    void fit(const std::vector<nb201::cell>& xs, const std::vector<double>& ys) {
        const py::gil_scoped_release nogil; // training may take seconds
        std::visit([&](auto& g) { g.fit(std::span<const nb201::cell>(xs), ys); }, m_model);
    }
    [[nodiscard]] py::tuple predict(const std::vector<nb201::cell>& xs) const {
        std::vector<prediction> ps;
        {
            const py::gil_scoped_release nogil;
            ps.reserve(xs.size());
            std::visit(
                [&](const auto& g) {
                    for (const auto& c : xs)
                        ps.push_back(g.predict(c));
                },
                m_model);
        }
        return to_arrays(ps);
    }
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }

private:
    using model = std::variant<models::hamming_gp_type, models::wl_gp_type, models::ensemble_type,
                               models::gcn_type>;
    static model make(const std::string& name, std::uint64_t seed) {
        if (name == "gp")
            return models::hamming_gp();
        if (name == "wl-gp")
            return models::wl_gp();
        if (name == "bananas")
            return models::ensemble(seed);
        if (name == "gcn")
            return models::gcn(seed);
        throw py::value_error("unknown predictor '" + name + "' (valid: gp, wl-gp, bananas, gcn)");
    }
    std::string m_name;
    model m_model;
};

void bind_surrogates(py::module_& m) {
    py::class_<any_gp>(m, "GP",
                       "Gaussian-process regression on feature vectors (rows of X); targets "
                       "standardised internally, hyper-parameters by ML-II (L-BFGS, restarts).")
        .def(py::init([](const std::string& kernel, double lengthscale, std::size_t ard,
                         bool optimise, std::size_t restarts, double signal_variance,
                         double noise_variance, std::uint64_t seed) {
                 return any_gp(kernel, lengthscale, ard,
                               {.signal_variance = signal_variance,
                                .noise_variance = noise_variance,
                                .optimise = optimise,
                                .restarts = restarts,
                                .seed = seed});
             }),
             py::arg("kernel") = "rbf", py::kw_only(), py::arg("lengthscale") = 1.0,
             py::arg("ard") = 0, py::arg("optimise") = true, py::arg("restarts") = 2,
             py::arg("signal_variance") = 1.0, py::arg("noise_variance") = 1e-2,
             py::arg("seed") = 0,
             "kernel: 'rbf', 'matern52' or 'hamming' (categorical values compared for equality); "
             "ard: 0 for one length-scale, d for one per column of d columns.")
        .def("fit", &any_gp::fit, py::arg("X"), py::arg("y"),
             "Fit on the rows of X (n x d) and targets y (n); ML-II when `optimise`.")
        .def("predict", &any_gp::predict, py::arg("X"),
             "(mean, variance) of the latent function at each row of X, in target units.")
        .def_property_readonly("kernel", &any_gp::kernel)
        .def_property_readonly("hyperparameters", &any_gp::hyperparameters,
                               "[log sf2, kernel parameters..., log sn2]")
        .def("log_marginal_likelihood", &any_gp::log_marginal_likelihood,
             "The log marginal likelihood of the fitted data at the current hyper-parameters.");

    py::class_<nb201_predictor>(
        m, "NB201Predictor",
        "A predictor of NB201 cells, as the model-based strategies use it: 'gp' (Hamming "
        "kernel, ARD), 'wl-gp' (Weisfeiler-Lehman), 'bananas' (5 MLPs on the path encoding), "
        "'gcn' (3-layer graph convolutional network).")
        .def(py::init<const std::string&, std::uint64_t>(), py::arg("name"), py::kw_only(),
             py::arg("seed") = 0)
        .def("fit", &nb201_predictor::fit, py::arg("cells"), py::arg("y"),
             "Train on cells and their targets (the GIL is released meanwhile).")
        .def("predict", &nb201_predictor::predict, py::arg("cells"),
             "(mean, variance) arrays, one entry per cell.")
        .def_property_readonly("name", &nb201_predictor::name);
}

} // namespace

void bind_pareto_surrogates(py::module_& m) {
    bind_pareto(m);
    bind_surrogates(m);
}

} // namespace nascent::python
