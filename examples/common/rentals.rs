//! The demo's data: deterministic bike rentals, shared by `examples/automl.rs` and the
//! AutoML benchmark (`benches/src/bin/automl.rs`), which include this file by path.

use std::fmt::Write as _;

/// Deterministic bike-rental data: rentals rise with temperature and on working days,
/// fall with humidity, vary by season and peak at commuting hours.
pub fn rentals_csv(rows: usize, seed: u64, forecast: bool) -> String {
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    let seasons = ["spring", "summer", "fall", "winter"];
    let mut csv = String::from(if forecast {
        "id,hour,temp,humidity,workingday,season\n"
    } else {
        "hour,temp,humidity,workingday,season,rentals\n"
    });
    for id in 0..rows {
        let hour = (next() * 24.0) as u32;
        let season = (next() * 4.0) as usize;
        let temp = 5.0 + 10.0 * season.min(2) as f64 + next() * 12.0;
        let humidity = 30.0 + next() * 60.0;
        let working = next() < 0.7;
        let peak = if matches!(hour, 7..=9 | 16..=19) {
            80.0
        } else {
            0.0
        };
        let rentals = 40.0 + 6.0 * temp - 0.8 * humidity
            + if working { 50.0 } else { 0.0 }
            + peak
            + [0.0, 30.0, 20.0, -20.0][season]
            + (next() - 0.5) * 20.0;
        let day = if working { "yes" } else { "no" };
        if forecast {
            let _ = writeln!(
                csv,
                "{id},{hour},{temp:.1},{humidity:.1},{day},{}",
                seasons[season]
            );
        } else {
            let _ = writeln!(
                csv,
                "{hour},{temp:.1},{humidity:.1},{day},{},{rentals:.1}",
                seasons[season]
            );
        }
    }
    csv
}
