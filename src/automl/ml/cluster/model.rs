//! A trained clustering model: its centroids, the summaries the server reports, and
//! the assignment of new rows to clusters.

use std::collections::HashSet;

use super::super::encode::Encoder;
use super::super::error::PredictError;
use super::super::frame::{Column, ColumnData, DataType, Frame, FrameError};
use super::super::linalg::Matrix;
use super::kmeans::{self, Fit};
use super::{present, MAX_ITERATIONS, RESTARTS};

/// The column of a cluster prediction that holds the assigned cluster (0 to k−1).
pub const CLUSTER_COLUMN: &str = "cluster";

/// One feature of a cluster's center, in the feature's own units.
#[derive(Debug, Clone, PartialEq)]
pub enum Center {
    /// A numerical feature: the mean of the cluster's values (NaN if it has none).
    Number(f64),
    /// A categorical feature: the cluster's most frequent level; a datetime feature:
    /// its mean moment as text (`None` if it has none).
    Level(Option<String>),
}

/// A k-means model over some feature columns.
///
/// Plain data (`Send + Sync`); deterministic for a seed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterModel {
    /// The feature columns, in frame order.
    pub features: Vec<String>,
    /// Each feature's type in training (after `feature_types`).
    pub feature_types: Vec<DataType>,
    /// Number of clusters.
    pub k: usize,
    /// The request's seed.
    pub seed: u64,
    /// Training rows per cluster.
    pub sizes: Vec<usize>,
    /// Per cluster, the sum of squared distances of its rows to its centroid (in the
    /// encoded, standardised space).
    pub withinss: Vec<f64>,
    /// Sum of `withinss` (the inertia).
    pub tot_withinss: f64,
    /// Sum of squared distances of the training rows to their overall mean.
    pub totss: f64,
    /// Lloyd passes of the kept restart.
    pub iterations: usize,
    /// Whether the kept restart converged (no assignment changed in its last pass).
    pub converged: bool,
    /// Which restart was kept (0-based).
    pub restart: usize,
    /// Training rows clustered (the usable ones).
    pub rows_used: usize,
    /// Per cluster, per feature, the center in the feature's own units.
    pub centers: Vec<Vec<Center>>,
    /// The encoding of the features (shared with `stored.rs`, which writes it).
    pub(super) encoder: Encoder,
    /// One row per cluster, in the encoded space.
    pub(super) centroids: Matrix,
}

impl ClusterModel {
    /// The model of `fit`, which clustered rows `rows` of `data` (encoded as `x`).
    pub(crate) fn new(
        data: &Frame,
        rows: &[usize],
        x: &Matrix,
        encoder: Encoder,
        fit: Fit,
        seed: u64,
    ) -> ClusterModel {
        let k = fit.centroids.rows();
        let mut sizes = vec![0usize; k];
        let mut withinss = vec![0.0; k];
        for (&c, &d) in fit.assignment.iter().zip(&fit.distances) {
            sizes[c] += 1;
            withinss[c] += d;
        }
        let centers = (0..k)
            .map(|c| {
                let members: Vec<usize> = rows
                    .iter()
                    .zip(&fit.assignment)
                    .filter(|(_, &a)| a == c)
                    .map(|(&r, _)| r)
                    .collect();
                data.columns()
                    .iter()
                    .map(|col| center(col, &members))
                    .collect()
            })
            .collect();
        ClusterModel {
            features: data.column_names().map(str::to_owned).collect(),
            feature_types: data.columns().iter().map(Column::data_type).collect(),
            k,
            seed,
            sizes,
            withinss,
            tot_withinss: fit.inertia,
            totss: total_sum_of_squares(x),
            iterations: fit.iterations,
            converged: fit.converged,
            restart: fit.restart,
            rows_used: rows.len(),
            centers,
            encoder,
            centroids: fit.centroids,
        }
    }

    /// `totss − tot_withinss`: the spread the clustering explains.
    pub fn betweenss(&self) -> f64 {
        (self.totss - self.tot_withinss).max(0.0)
    }

    /// The names of the encoded columns the centroids live in (see
    /// [`centers_std`](Self::centers_std)).
    pub fn encoded_columns(&self) -> Vec<String> {
        self.encoder.column_names()
    }

    /// The centroids in the encoded, standardised space the distances are measured in.
    pub fn centers_std(&self) -> Vec<Vec<f64>> {
        self.centroids.iter_rows().map(<[f64]>::to_vec).collect()
    }

    /// The settings of the training: `k`, `restarts`, `max_iterations`, `seed`.
    pub fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("k", self.k as f64),
            ("restarts", RESTARTS as f64),
            ("max_iterations", MAX_ITERATIONS as f64),
            ("seed", self.seed as f64),
        ]
    }

    /// The cluster of every row of `frame`: its nearest centroid, or `None` when none
    /// of the features has a value in the row.
    ///
    /// # Errors
    /// [`PredictError`] when a feature column is missing or a numerical feature holds
    /// text.
    pub fn assign(&self, frame: &Frame) -> Result<Vec<Option<usize>>, PredictError> {
        let columns = self
            .features
            .iter()
            .map(|f| {
                frame
                    .column(f)
                    .ok_or_else(|| PredictError::MissingFeature(f.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let usable: Vec<usize> = (0..frame.rows())
            .filter(|&r| columns.iter().any(|c| present(c, r)))
            .collect();
        let mut clusters = vec![None; frame.rows()];
        // A chunk of rows at a time, as supervised models predict (see `Fitted::predict`).
        let chunk = super::super::model::predict_chunk_rows(self.encoder.width());
        for rows in usable.chunks(chunk) {
            let x = self.encoder.transform(frame, rows)?;
            for (&r, row) in rows.iter().zip(x.iter_rows()) {
                clusters[r] = Some(kmeans::nearest(row, &self.centroids).0);
            }
        }
        Ok(clusters)
    }

    /// The predictions for `frame`: the `keep_columns` (in the given order,
    /// duplicates once), then [`CLUSTER_COLUMN`] (empty for a row without any feature
    /// value).
    ///
    /// # Errors
    /// As [`assign`](Self::assign); also when a kept column is missing or is named
    /// `cluster`.
    pub fn predict(&self, frame: &Frame, keep_columns: &[String]) -> Result<Frame, PredictError> {
        let mut seen = HashSet::new();
        let mut columns = Vec::new();
        for name in keep_columns.iter().filter(|n| seen.insert(n.as_str())) {
            let column = frame
                .column(name)
                .ok_or_else(|| PredictError::MissingKeepColumn(name.clone()))?;
            columns.push(column.clone());
        }
        let clusters = self.assign(frame)?;
        let values = clusters.iter().map(|c| c.map_or(f64::NAN, |c| c as f64));
        columns.push(Column::numerical(CLUSTER_COLUMN, values.collect()));
        Frame::new(columns).map_err(|e| match e {
            FrameError::DuplicateColumn(name) => PredictError::OutputClash(name),
            other => PredictError::OutputClash(other.to_string()),
        })
    }
}

/// The center of `column` over rows `members`.
fn center(column: &Column, members: &[usize]) -> Center {
    match &column.data {
        ColumnData::Numerical(values) => {
            let present: Vec<f64> = members
                .iter()
                .map(|&r| values[r])
                .filter(|v| v.is_finite())
                .collect();
            Center::Number(present.iter().sum::<f64>() / present.len() as f64)
        }
        ColumnData::Categorical { levels, codes } => {
            let mut counts = vec![0usize; levels.len()];
            members
                .iter()
                .filter_map(|&r| codes[r])
                .for_each(|c| counts[c as usize] += 1);
            // most frequent; ties in level order
            let best = (0..levels.len()).filter(|&l| counts[l] > 0).fold(
                None,
                |best: Option<usize>, l| match best {
                    Some(b) if counts[b] >= counts[l] => Some(b),
                    _ => Some(l),
                },
            );
            Center::Level(best.map(|l| levels[l].clone()))
        }
        ColumnData::Datetime { millis, format } => {
            // the mean moment, written as the column writes its values
            let present: Vec<i64> = members.iter().filter_map(|&r| millis[r]).collect();
            let mean = (!present.is_empty())
                .then(|| present.iter().map(|&m| m as f64).sum::<f64>() / present.len() as f64);
            Center::Level(mean.map(|m| format.format(m.round() as i64)))
        }
    }
}

/// Sum of squared distances of the rows of `x` to their mean.
fn total_sum_of_squares(x: &Matrix) -> f64 {
    let n = x.rows().max(1) as f64;
    let mut mean = vec![0.0; x.cols()];
    for row in x.iter_rows() {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v / n);
    }
    x.iter_rows().map(|row| kmeans::squared(row, &mean)).sum()
}
