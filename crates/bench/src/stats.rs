//! Percentiles of latency samples, in milliseconds.

use serde::Serialize;

/// A latency distribution: sample count and nearest-rank percentiles, in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Dist {
    pub n: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Nearest-rank percentile `p` (0..=1) of sorted `v`.
fn rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// Summarises samples given in milliseconds.
pub fn dist(mut samples_ms: Vec<f64>) -> Dist {
    samples_ms.sort_by(f64::total_cmp);
    let n = samples_ms.len();
    let mean_ms = if n == 0 { f64::NAN } else { samples_ms.iter().sum::<f64>() / n as f64 };
    Dist {
        n,
        p50_ms: rank(&samples_ms, 0.50),
        p99_ms: rank(&samples_ms, 0.99),
        p999_ms: rank(&samples_ms, 0.999),
        max_ms: samples_ms.last().copied().unwrap_or(f64::NAN),
        mean_ms,
    }
}

/// Milliseconds of a duration, as a float.
pub fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let d = dist((1..=1000).map(f64::from).collect());
        assert_eq!((d.p50_ms, d.p99_ms, d.p999_ms, d.max_ms), (500.0, 990.0, 999.0, 1000.0));
        let one = dist(vec![7.0]);
        assert_eq!((one.p50_ms, one.p999_ms), (7.0, 7.0));
    }
}
