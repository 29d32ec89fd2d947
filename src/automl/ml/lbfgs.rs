//! Limited-memory BFGS: minimises a smooth function from its value and gradient alone.
//!
//! Newton's method needs the Hessian, an `n × n` matrix that costs `rows × n²` to sum
//! and `n³` to factor; for a softmax over 10 classes and 64 features (`n` = 650) that
//! is most of the work. L-BFGS (Nocedal and Wright, *Numerical Optimization*, 2nd ed.,
//! algorithms 7.4 and 7.5) instead keeps the last [`Settings::memory`] steps `s` and
//! gradient changes `y`, which describe the curvature along recent directions, and
//! turns the gradient into a quasi-Newton direction with the two-loop recursion in
//! `O(memory × n)`. Every iteration costs one or a few evaluations of the objective.
//!
//! Steps are chosen by a line search that accepts the first step length meeting the
//! weak Wolfe conditions (enough decrease, and the slope flattened enough); its
//! bracketing by bisection (Lewis and Overton) always ends on a convex function, and
//! the curvature condition keeps every stored pair usable (`sᵀy > 0`).
//!
//! The search stops when the largest gradient entry is at most
//! [`Settings::gradient_tolerance`], when an iteration lowers the objective by less
//! than [`Settings::value_tolerance`] (relative), or after
//! [`Settings::max_iterations`]. It is deterministic: the same function and start give
//! the same iterates. The cancel flag is read before every evaluation.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

/// Sufficient-decrease constant of the Wolfe conditions (`c₁`).
const ARMIJO: f64 = 1e-4;
/// Curvature constant of the weak Wolfe conditions (`c₂`).
const CURVATURE: f64 = 0.9;
/// Most objective evaluations one line search may take.
const MAX_LINE_STEPS: usize = 40;

/// When to stop, and how much history to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    /// Step and gradient-change pairs kept for the curvature estimate.
    pub(crate) memory: usize,
    /// Most iterations (each one line search).
    pub(crate) max_iterations: usize,
    /// Converged once every gradient entry is at most this in absolute value.
    pub(crate) gradient_tolerance: f64,
    /// Converged once an iteration lowers the objective by at most this fraction of
    /// its value (or of 1, whichever is larger).
    pub(crate) value_tolerance: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            memory: 10,
            max_iterations: 1000,
            gradient_tolerance: 1e-7,
            value_tolerance: 1e-13,
        }
    }
}

/// Why the search gave no minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The cancel flag was raised.
    Cancelled,
    /// The objective or its gradient was not finite at the start.
    NotFinite,
}

/// Where the search stopped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Minimum {
    /// The point.
    pub(crate) x: Vec<f64>,
    /// The objective there.
    pub(crate) value: f64,
    /// Iterations taken.
    pub(crate) iterations: usize,
}

/// A point with its objective value and gradient.
#[derive(Debug, Clone)]
struct Point {
    x: Vec<f64>,
    value: f64,
    gradient: Vec<f64>,
}

/// Minimises `objective` from `start`. `objective(x, gradient)` returns the value at
/// `x` and writes the gradient into `gradient` (as long as `x`).
pub(crate) fn minimise(
    mut objective: impl FnMut(&[f64], &mut [f64]) -> f64,
    start: Vec<f64>,
    settings: &Settings,
    cancel: &AtomicBool,
) -> Result<Minimum, Failure> {
    let mut evaluate = |x: Vec<f64>| -> Result<Point, Failure> {
        if cancel.load(Ordering::Relaxed) {
            return Err(Failure::Cancelled);
        }
        let mut gradient = vec![0.0; x.len()];
        let value = objective(&x, &mut gradient);
        Ok(Point { x, value, gradient })
    };
    let mut here = evaluate(start)?;
    if !finite(&here) {
        return Err(Failure::NotFinite);
    }
    let mut history = History::new(settings.memory);
    let mut iterations = 0;
    while iterations < settings.max_iterations
        && max_abs(&here.gradient) > settings.gradient_tolerance
    {
        iterations += 1;
        let mut direction = history.direction(&here.gradient);
        if dot(&direction, &here.gradient) >= 0.0 {
            history.clear();
            direction = here.gradient.iter().map(|g| -g).collect();
        }
        let first = if history.is_empty() {
            (1.0 / norm(&direction)).min(1.0)
        } else {
            1.0
        };
        let Some(next) = line_search(&mut evaluate, &here, &direction, first)? else {
            break;
        };
        let decrease = here.value - next.value;
        history.push(&here, &next);
        here = next;
        if decrease <= settings.value_tolerance * here.value.abs().max(1.0) {
            break;
        }
    }
    Ok(Minimum {
        x: here.x,
        value: here.value,
        iterations,
    })
}

/// Finds a step length along `direction` meeting the weak Wolfe conditions, starting
/// from `step`: the new point, or `None` when no step lowers the objective (the
/// start is a minimum to working precision).
fn line_search(
    evaluate: &mut impl FnMut(Vec<f64>) -> Result<Point, Failure>,
    here: &Point,
    direction: &[f64],
    mut step: f64,
) -> Result<Option<Point>, Failure> {
    let slope = dot(&here.gradient, direction);
    let (mut low, mut high) = (0.0, f64::INFINITY);
    let mut best: Option<Point> = None;
    for _ in 0..MAX_LINE_STEPS {
        let x = here
            .x
            .iter()
            .zip(direction)
            .map(|(x, d)| x + step * d)
            .collect();
        let trial = evaluate(x)?;
        if !finite(&trial) || trial.value > here.value + ARMIJO * step * slope {
            high = step;
        } else if dot(&trial.gradient, direction) < CURVATURE * slope {
            low = step;
            best = Some(trial);
        } else {
            return Ok(Some(trial));
        }
        step = if high.is_finite() {
            0.5 * (low + high)
        } else {
            2.0 * low
        };
    }
    Ok(best.filter(|b| b.value < here.value))
}

/// The most recent steps `s = x₊ − x` and gradient changes `y = g₊ − g`, with
/// `ρ = 1 / sᵀy`, oldest first.
struct History {
    capacity: usize,
    pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
}

impl History {
    fn new(capacity: usize) -> History {
        History {
            capacity: capacity.max(1),
            pairs: VecDeque::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    fn clear(&mut self) {
        self.pairs.clear();
    }

    /// Records the move from `from` to `to`; a pair without positive curvature (which
    /// the line search prevents except through rounding) is skipped.
    fn push(&mut self, from: &Point, to: &Point) {
        let s: Vec<f64> = to.x.iter().zip(&from.x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = to
            .gradient
            .iter()
            .zip(&from.gradient)
            .map(|(a, b)| a - b)
            .collect();
        let sy = dot(&s, &y);
        if sy.is_nan() || sy <= 1e-12 * norm(&s) * norm(&y) {
            return;
        }
        if self.pairs.len() == self.capacity {
            self.pairs.pop_front();
        }
        self.pairs.push_back((s, y, 1.0 / sy));
    }

    /// The two-loop recursion: `−H g`, where `H` is the inverse-Hessian estimate built
    /// from the pairs on top of the scaled identity `(sᵀy / yᵀy) I` of the newest pair.
    fn direction(&self, gradient: &[f64]) -> Vec<f64> {
        let mut q = gradient.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y, rho) in self.pairs.iter().rev() {
            let alpha = rho * dot(s, &q);
            axpy(-alpha, y, &mut q);
            alphas.push(alpha);
        }
        if let Some((_, y, rho)) = self.pairs.back() {
            let gamma = 1.0 / (rho * dot(y, y));
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, y, rho), alpha) in self.pairs.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            axpy(alpha - beta, s, &mut q);
        }
        q.iter_mut().for_each(|v| *v = -*v);
        q
    }
}

fn finite(point: &Point) -> bool {
    point.value.is_finite() && point.gradient.iter().all(|g| g.is_finite())
}

/// `Σ aᵢ bᵢ` over the shorter length, in four interleaved partial sums (which the
/// compiler can keep in vector registers: a single running sum must be added in
/// order), so always in the same order.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let whole = n - n % 4;
    let mut sums = [0.0; 4];
    for (x, y) in a[..whole].chunks_exact(4).zip(b[..whole].chunks_exact(4)) {
        for k in 0..4 {
            sums[k] += x[k] * y[k];
        }
    }
    let tail: f64 = a[whole..n]
        .iter()
        .zip(&b[whole..n])
        .map(|(x, y)| x * y)
        .sum();
    (sums[0] + sums[1]) + (sums[2] + sums[3]) + tail
}

/// `y += a x`.
pub(crate) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Rosenbrock function, a narrow curved valley with its minimum at (1, 1).
    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        let (a, b) = (x[0], x[1]);
        g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
        g[1] = 200.0 * (b - a * a);
        (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
    }

    #[test]
    fn finds_the_minimum_of_a_curved_valley() {
        let found = minimise(
            rosenbrock,
            vec![-1.2, 1.0],
            &Settings::default(),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!((found.x[0] - 1.0).abs() < 1e-6, "{found:?}");
        assert!((found.x[1] - 1.0).abs() < 1e-6, "{found:?}");
        assert!(found.iterations < 100, "{found:?}");
    }

    #[test]
    fn solves_an_ill_conditioned_quadratic() {
        // f = ½ Σ dᵢ (xᵢ − i)² with curvatures from 1e-4 to 1.
        let d: Vec<f64> = (0..50)
            .map(|i| 10f64.powf(-4.0 * i as f64 / 49.0))
            .collect();
        let f = |x: &[f64], g: &mut [f64]| {
            let mut v = 0.0;
            for i in 0..x.len() {
                let r = x[i] - i as f64;
                g[i] = d[i] * r;
                v += 0.5 * d[i] * r * r;
            }
            v
        };
        let settings = Settings {
            gradient_tolerance: 1e-10,
            value_tolerance: 0.0,
            ..Settings::default()
        };
        let found = minimise(f, vec![0.0; 50], &settings, &AtomicBool::new(false)).unwrap();
        for (i, x) in found.x.iter().enumerate() {
            assert!((x - i as f64).abs() < 1e-5, "x[{i}] = {x}");
        }
    }

    #[test]
    fn stops_when_cancelled_and_refuses_a_non_finite_start() {
        let raised = AtomicBool::new(true);
        let found = minimise(rosenbrock, vec![0.0, 0.0], &Settings::default(), &raised);
        assert_eq!(found, Err(Failure::Cancelled));
        let nan = |_: &[f64], _: &mut [f64]| f64::NAN;
        let found = minimise(
            nan,
            vec![0.0],
            &Settings::default(),
            &AtomicBool::new(false),
        );
        assert_eq!(found, Err(Failure::NotFinite));
    }

    #[test]
    fn a_start_at_the_minimum_takes_no_iteration() {
        let bowl = |x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * x[0];
            x[0] * x[0]
        };
        let found = minimise(
            bowl,
            vec![0.0],
            &Settings::default(),
            &AtomicBool::new(false),
        );
        assert_eq!(found.unwrap().iterations, 0);
    }
}
