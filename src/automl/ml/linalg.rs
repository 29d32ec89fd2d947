//! The little linear algebra the engine needs: a dense matrix and a robust solver for
//! symmetric positive (semi-)definite systems.

/// A dense row-major matrix of `f64`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A `rows × cols` matrix of zeros.
    pub(crate) fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` as a slice.
    pub(crate) fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i` as a mutable slice.
    pub(crate) fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Makes room for `rows` rows in all without reallocating.
    pub(crate) fn reserve_rows(&mut self, rows: usize) {
        let more = rows.saturating_sub(self.rows).saturating_mul(self.cols);
        self.data.reserve(more);
    }

    /// Appends the rows of `other`, which has as many columns.
    pub(crate) fn append_rows(&mut self, other: &Matrix) {
        assert_eq!(self.cols, other.cols, "appending rows of another width");
        self.data.extend_from_slice(&other.data);
        self.rows += other.rows;
    }

    /// Iterates over the rows.
    pub(crate) fn iter_rows(&self) -> impl Iterator<Item = &[f64]> + '_ {
        (0..self.rows).map(move |i| self.row(i))
    }
}

/// Solves `a · x = b` for a symmetric positive semi-definite `n × n` matrix `a`
/// (row-major) by Cholesky factorisation.
///
/// When `a` is singular or nearly so (collinear or constant columns), a ridge that grows
/// from 1e-10 to 1e-2 of the mean diagonal is added until the factorisation succeeds,
/// which picks a minimum-norm-like solution instead of failing. Returns `None` only when
/// the input holds NaN or infinities.
pub(crate) fn solve_spd(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    if a.len() != n * n || a.iter().chain(b).any(|v| !v.is_finite()) {
        return None;
    }
    let mean_diag = (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n.max(1) as f64;
    let scale = if mean_diag > 0.0 { mean_diag } else { 1.0 };
    let jitters = [0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2];
    let l = jitters.iter().find_map(|&j| cholesky(a, n, j * scale))?;
    Some(back_substitute(&l, n, b))
}

/// Lower-triangular `l` with `l · lᵀ = a + jitter · I`, or `None` if not positive definite.
fn cholesky(a: &[f64], n: usize, jitter: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = a[i * n + i] + jitter - dot;
                if d <= 1e-12 * (a[i * n + i].abs() + jitter).max(1e-300) || !d.is_finite() {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - dot) / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `l · lᵀ · x = b` given the Cholesky factor `l`.
fn back_substitute(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
        y[i] = (b[i] - dot) / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let dot: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (y[i] - dot) / l[i * n + i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_well_conditioned_system() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let x = solve_spd(&a, &[2.0, 1.0]).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    }

    #[test]
    fn survives_a_singular_system() {
        // Two identical columns: the Gram matrix has rank one.
        let a = [2.0, 2.0, 2.0, 2.0];
        let x = solve_spd(&a, &[4.0, 4.0]).unwrap();
        assert!((2.0 * x[0] + 2.0 * x[1] - 4.0).abs() < 1e-3, "{x:?}");
        assert!(solve_spd(&[0.0], &[0.0]).is_some());
        assert!(solve_spd(&[f64::NAN], &[1.0]).is_none());
    }

    #[test]
    fn matrix_rows() {
        let mut m = Matrix::zeros(2, 3);
        m.row_mut(1)[2] = 5.0;
        assert_eq!(m.row(1), &[0.0, 0.0, 5.0]);
        assert_eq!(m.iter_rows().count(), 2);
        assert_eq!(Matrix::zeros(4, 0).iter_rows().count(), 4);
    }
}
