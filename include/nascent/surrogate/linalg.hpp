#pragma once
// Dense kernels of GP fitting: Cholesky factorisation, the inverse of a Cholesky factor and the
// product that turns it into K^-1, each recursive by halves so that the two halves' independent
// work can run on two cores (oneTBB's parallel_invoke; nested calls share TBB's pool).
//
// The split points depend only on the matrix size and every block is computed by the same
// single-threaded Eigen call whichever thread runs it, so results are bit-identical for any
// number of threads. Below 192 rows a block is done by Eigen directly.
//
// Flops: Cholesky n^3/3, inverse of the factor n^3/3, L^-T L^-1 n^3/3: K^-1 in n^3 flops where
// solving K X = I after the factorisation (scikit-learn's cho_solve) takes 2 n^3.

#include <nascent/detail/fork_join.hpp>

#include <Eigen/Dense>

#include <tbb/parallel_invoke.h>

namespace nascent::surrogate::detail {

/// a() and b() as two TBB tasks, with the fork-join's edges declared to ThreadSanitizer.
template <class A, class B>
void invoke_both(const A& a, const B& b) {
    ::nascent::detail::fork_join_edges edges;
    tbb::parallel_invoke(edges.task(a), edges.task(b));
    edges.joined();
}

inline constexpr Eigen::Index linalg_leaf = 192;

/// Split point of n rows: about half, a multiple of 8 (aligned SIMD blocks).
[[nodiscard]] inline Eigen::Index half_of(Eigen::Index n) noexcept {
    return (n / 2 + 7) / 8 * 8;
}

/// c (lower triangle) -= a a^T; the rows of a split into two halves, run as two tasks:
/// [c11 -= a1 a1^T, c22 -= a2 a2^T] and c21 -= a2 a1^T (equal flops).
inline void syrk_lower_subtract(Eigen::Ref<Eigen::MatrixXd> c,
                                const Eigen::Ref<const Eigen::MatrixXd>& a) {
    const Eigen::Index m = c.rows();
    if (m <= linalg_leaf) {
        c.selfadjointView<Eigen::Lower>().rankUpdate(a, -1.0);
        return;
    }
    const Eigen::Index h = half_of(m);
    invoke_both(
        [&] {
            syrk_lower_subtract(c.topLeftCorner(h, h), a.topRows(h));
            syrk_lower_subtract(c.bottomRightCorner(m - h, m - h), a.bottomRows(m - h));
        },
        [&] {
            c.bottomLeftCorner(m - h, h).noalias() -=
                a.bottomRows(m - h) * a.topRows(h).transpose();
        });
}

/// b <- b l^-T for lower-triangular l (rows of b are independent: two halves, two tasks).
inline void solve_right_lower_transpose(const Eigen::Ref<const Eigen::MatrixXd>& l,
                                        Eigen::Ref<Eigen::MatrixXd> b) {
    const Eigen::Index m = b.rows();
    if (m <= linalg_leaf || m * l.rows() <= linalg_leaf * linalg_leaf) {
        l.triangularView<Eigen::Lower>().transpose().template solveInPlace<Eigen::OnTheRight>(b);
        return;
    }
    const Eigen::Index h = half_of(m);
    invoke_both([&] { solve_right_lower_transpose(l, b.topRows(h)); },
                [&] { solve_right_lower_transpose(l, b.bottomRows(m - h)); });
}

/// b <- l^-1 b for lower-triangular l (columns of b are independent).
inline void solve_left_lower(const Eigen::Ref<const Eigen::MatrixXd>& l,
                             Eigen::Ref<Eigen::MatrixXd> b) {
    const Eigen::Index m = b.cols();
    if (m <= linalg_leaf || m * l.rows() <= linalg_leaf * linalg_leaf) {
        l.triangularView<Eigen::Lower>().solveInPlace(b);
        return;
    }
    const Eigen::Index h = half_of(m);
    invoke_both([&] { solve_left_lower(l, b.leftCols(h)); },
                [&] { solve_left_lower(l, b.rightCols(m - h)); });
}

/// a (lower triangle) <- its Cholesky factor; false if a is not (numerically) positive
/// definite. The strict upper triangle is not read and is left as it was.
[[nodiscard]] inline bool cholesky_in_place(Eigen::Ref<Eigen::MatrixXd> a) {
    const Eigen::Index n = a.rows();
    if (n <= linalg_leaf) {
        const Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(a);
        return llt.info() == Eigen::Success;
    }
    const Eigen::Index h = half_of(n);
    if (!cholesky_in_place(a.topLeftCorner(h, h)))
        return false;
    solve_right_lower_transpose(a.topLeftCorner(h, h), a.bottomLeftCorner(n - h, h));
    syrk_lower_subtract(a.bottomRightCorner(n - h, n - h), a.bottomLeftCorner(n - h, h));
    return cholesky_in_place(a.bottomRightCorner(n - h, n - h));
}

/// a (lower triangle) <- its inverse: inv([A 0; B C]) = [A^-1 0; -C^-1 B A^-1 C^-1].
inline void invert_lower_in_place(Eigen::Ref<Eigen::MatrixXd> a) {
    const Eigen::Index n = a.rows();
    if (n <= linalg_leaf) {
        Eigen::MatrixXd id = Eigen::MatrixXd::Identity(n, n);
        a.triangularView<Eigen::Lower>().solveInPlace(id);
        a.triangularView<Eigen::Lower>() = id;
        return;
    }
    const Eigen::Index h = half_of(n);
    auto a11 = a.topLeftCorner(h, h);
    auto b = a.bottomLeftCorner(n - h, h);
    auto a22 = a.bottomRightCorner(n - h, n - h);
    invoke_both([&] { invert_lower_in_place(a11); }, [&] { invert_lower_in_place(a22); });
    // b <- -(C^-1 (B A^-1)): rows of B A^-1 are independent, then columns of C^-1 (.).
    const Eigen::Index r = b.rows();
    const Eigen::Index hr = half_of(r);
    invoke_both(
        [&] { b.topRows(hr) = b.topRows(hr) * a11.triangularView<Eigen::Lower>(); },
        [&] { b.bottomRows(r - hr) = b.bottomRows(r - hr) * a11.triangularView<Eigen::Lower>(); });
    const Eigen::Index c = b.cols();
    const Eigen::Index hc = half_of(c);
    invoke_both(
        [&] { b.leftCols(hc) = -(a22.triangularView<Eigen::Lower>() * b.leftCols(hc)); },
        [&] { b.rightCols(c - hc) = -(a22.triangularView<Eigen::Lower>() * b.rightCols(c - hc)); });
}

/// a (lower triangle) <- lower triangle of a^T a, for lower-triangular a:
/// [P 0; Q R]^T [P 0; Q R] = [P^T P + Q^T Q, .; R^T Q, R^T R].
inline void lower_gram_in_place(Eigen::Ref<Eigen::MatrixXd> a) {
    const Eigen::Index n = a.rows();
    if (n <= linalg_leaf) {
        const Eigen::MatrixXd t = a.triangularView<Eigen::Lower>();
        a.triangularView<Eigen::Lower>() = t.transpose() * t;
        return;
    }
    const Eigen::Index h = half_of(n);
    auto p = a.topLeftCorner(h, h);
    auto q = a.bottomLeftCorner(n - h, h);
    auto r = a.bottomRightCorner(n - h, n - h);
    Eigen::MatrixXd rq;
    // P's update reads Q, R^T Q reads R and Q: both before Q and R change.
    invoke_both(
        [&] {
            lower_gram_in_place(p);
            p.selfadjointView<Eigen::Lower>().rankUpdate(q.transpose());
        },
        [&] { rq = r.triangularView<Eigen::Lower>().transpose() * q; });
    invoke_both([&] { q = rq; }, [&] { lower_gram_in_place(r); });
}

/// l (a Cholesky factor in its lower triangle) <- lower triangle of (l l^T)^-1.
inline void cholesky_inverse_lower_in_place(Eigen::Ref<Eigen::MatrixXd> l) {
    invert_lower_in_place(l);
    lower_gram_in_place(l);
}

} // namespace nascent::surrogate::detail
