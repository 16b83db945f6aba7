//! Summaries over seeds: mean, sample standard deviation and the 95 % Student's t interval of
//! the mean (the t distribution from `statrs`).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Student's t with `df` degrees of freedom (location 0, scale 1).
fn students_t(df: f64) -> StudentsT {
    StudentsT::new(0.0, 1.0, df).expect("Student's t needs df > 0")
}

/// P(T ≤ t) for Student's t with `df` (> 0) degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    students_t(df).cdf(t)
}

/// The `p` quantile (0 < p < 1) of Student's t with `df` (> 0) degrees of freedom.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    students_t(df).inverse_cdf(p)
}

/// Mean, sample standard deviation and 95 % confidence interval of the mean of a few values
/// (one per seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); `None` for one value.
    pub std: Option<f64>,
    /// 95 % confidence interval of the mean, `mean ± t(0.975, n-1) · std / √n`; `None` for one
    /// value.
    pub ci95: Option<[f64; 2]>,
    /// The values, in seed order.
    pub values: Vec<f64>,
}

/// Summarise accuracies (fractions, at least one): as [`summarize`], with the interval clipped to
/// [0, 1], the range an accuracy can take (the t-interval of a few spread-out seeds can reach
/// below 0).
pub fn summarize_accuracy(values: &[f64]) -> Summary {
    let mut s = summarize(values);
    s.ci95 = s.ci95.map(|[lo, hi]| [lo.max(0.0), hi.min(1.0)]);
    s
}

/// Summarise `values` (at least one).
pub fn summarize(values: &[f64]) -> Summary {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let (std, ci95) = if n >= 2 {
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        let s = var.sqrt();
        let half = student_t_quantile(0.975, (n - 1) as f64) * s / (n as f64).sqrt();
        (Some(s), Some([mean - half, mean + half]))
    } else {
        (None, None)
    };
    Summary {
        n,
        mean,
        std,
        ci95,
        values: values.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_cdf_matches_closed_forms_for_one_and_two_degrees_of_freedom() {
        for &t in &[-7.0, -1.5, -0.2, 0.0, 0.3, 1.0, 2.5, 12.7] {
            // df = 1 (Cauchy): 1/2 + atan(t)/π
            let c1 = 0.5 + f64::atan(t) / std::f64::consts::PI;
            assert!((student_t_cdf(t, 1.0) - c1).abs() < 1e-12, "df 1, t {t}");
            // df = 2: 1/2 + t / (2 √(2 + t²))
            let c2 = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            assert!((student_t_cdf(t, 2.0) - c2).abs() < 1e-12, "df 2, t {t}");
        }
    }

    #[test]
    fn t_quantiles_match_printed_tables() {
        // two-sided 95 % critical values, as printed in standard t tables (4 decimals)
        for (df, t) in [
            (1.0, 12.7062),
            (2.0, 4.3027),
            (3.0, 3.1824),
            (4.0, 2.7764),
            (9.0, 2.2622),
            (30.0, 2.0423),
            (120.0, 1.9799),
        ] {
            let q = student_t_quantile(0.975, df);
            assert!((q - t).abs() < 6e-5, "df {df}: {q} vs {t}");
        }
        // df = 2 closed form: t = (2p - 1) √(2 / (1 - (2p-1)²))
        let a: f64 = 2.0 * 0.975 - 1.0;
        let exact = a * (2.0 / (1.0 - a * a)).sqrt();
        assert!((student_t_quantile(0.975, 2.0) - exact).abs() < 1e-9);
    }

    #[test]
    fn accuracy_interval_is_clipped_to_zero_one() {
        // seeds 0.10, 0.10, 0.20 (the synthetic grid's baseline tracks): mean 0.1333, s = 0.05774,
        // t(0.975, 2) = 4.3027, half-width 4.3027 * 0.05774 / sqrt(3) = 0.14343
        let raw = summarize(&[0.1, 0.1, 0.2]);
        let [lo, hi] = raw.ci95.unwrap();
        assert!((lo - (0.133_333 - 0.143_43)).abs() < 1e-4, "{lo}");
        assert!((hi - (0.133_333 + 0.143_43)).abs() < 1e-4, "{hi}");
        let acc = summarize_accuracy(&[0.1, 0.1, 0.2]);
        assert_eq!(acc.ci95, Some([0.0, hi]));
        assert_eq!((acc.mean, acc.std), (raw.mean, raw.std));
        let top = summarize_accuracy(&[1.0, 0.9, 1.0]);
        assert_eq!(top.ci95.unwrap()[1], 1.0);
    }

    #[test]
    fn t_interval_of_five_values_matches_a_hand_calculation() {
        // 0.2, 0.4, 0.4, 0.5, 0.5: mean 2.0 / 5 = 0.4
        //   deviations -0.2, 0, 0, 0.1, 0.1 -> squares 0.04 + 0.01 + 0.01 = 0.06
        //   sample variance 0.06 / 4 = 0.015, std = sqrt(0.015) = 0.122474487
        //   t(0.975, 4) = 2.7764 (table), half-width 2.7764 * 0.122474487 / sqrt(5) = 0.152070
        let s = summarize(&[0.2, 0.4, 0.4, 0.5, 0.5]);
        assert_eq!(s.n, 5);
        assert!((s.mean - 0.4).abs() < 1e-12, "{s:?}");
        assert!((s.std.unwrap() - 0.122_474_487).abs() < 1e-8, "{s:?}");
        let [lo, hi] = s.ci95.unwrap();
        // the table's 4 decimals of t leave ±0.00005 · 0.0548 ≈ 3e-6 in the half-width
        assert!((lo - (0.4 - 0.152_070)).abs() < 1e-5, "{lo}");
        assert!((hi - (0.4 + 0.152_070)).abs() < 1e-5, "{hi}");
        // inside [0, 1] already: clipping changes nothing
        assert_eq!(summarize_accuracy(&s.values).ci95, s.ci95);
        // wide spread reaches above 1 and below 0: 0.05, 0.95 -> mean 0.5, std 0.9 / sqrt 2,
        // t(0.975, 1) = 12.7062, half-width 12.7062 * 0.636396 / sqrt 2 = 5.7178
        let w = summarize_accuracy(&[0.05, 0.95]);
        assert_eq!(w.ci95, Some([0.0, 1.0]));
        let raw = summarize(&[0.05, 0.95]).ci95.unwrap();
        assert!((raw[1] - (0.5 + 5.7178)).abs() < 1e-3, "{raw:?}");
    }

    #[test]
    fn one_value_has_no_spread_and_no_interval() {
        let s = summarize_accuracy(&[0.7]);
        assert_eq!((s.n, s.mean, s.std, s.ci95), (1, 0.7, None, None));
        assert_eq!(s.values, [0.7]);
    }
}
