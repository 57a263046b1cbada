//! From interaction strengths to confidences (Hu, Koren and Volinsky 2008, eq. 1 and 2).

/// How a stored interaction value `v` becomes a preference `p` and a confidence `c`.
///
/// `v > 0` means the user likes the item (`p = 1`), `v < 0` that they dislike it (`p = 0`, as in
/// implicit's handling of negative values), and `v = 0` is the same as no interaction. The
/// confidence is `c = 1 + alpha * |r|` with `r = v`, or `r = ±1` when `binary` is set, so that
/// star ratings do not make a five-star purchase five times as certain as a one-star one.
///
/// Both travel as one *signed confidence*: `+c` for `p = 1` and `-c` for `p = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Confidence {
    /// Slope of the confidence in the interaction strength.
    pub alpha: f32,
    /// Whether every value counts as strength 1 (sign kept).
    pub binary: bool,
}

impl Confidence {
    /// The signed confidence of a stored value, or `None` for a value that carries no
    /// information (zero).
    pub fn signed(&self, value: f32) -> Option<f32> {
        if value == 0.0 || !value.is_finite() {
            return None;
        }
        let strength = if self.binary { 1.0 } else { value.abs() };
        let c = 1.0 + self.alpha * strength;
        Some(if value > 0.0 { c } else { -c })
    }

    /// Splits a signed confidence into `(c, p)`.
    #[inline]
    pub fn split(signed: f32) -> (f32, f32) {
        if signed > 0.0 {
            (signed, 1.0)
        } else {
            (-signed, 0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_graded_confidences() {
        let binary = Confidence {
            alpha: 2.0,
            binary: true,
        };
        assert_eq!(binary.signed(5.0), Some(3.0));
        assert_eq!(binary.signed(1.0), Some(3.0));
        assert_eq!(binary.signed(-4.0), Some(-3.0));
        assert_eq!(binary.signed(0.0), None);
        let graded = Confidence {
            alpha: 2.0,
            binary: false,
        };
        assert_eq!(graded.signed(5.0), Some(11.0));
        assert_eq!(graded.signed(-0.5), Some(-2.0));
        assert_eq!(Confidence::split(11.0), (11.0, 1.0));
        assert_eq!(Confidence::split(-2.0), (2.0, 0.0));
    }
}
