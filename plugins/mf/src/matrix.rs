//! The training interactions as sprs matrices of signed confidences, by user and by item.

use recsys_plugin_api::CsrView;
use sprs::CsMatI;

use crate::confidence::Confidence;
use crate::error::{MfError, Result};

/// A sparse matrix with `u32` column indices and `usize` row offsets.
pub type Csr = CsMatI<f32, u32, usize>;

/// The interaction matrix as signed confidences (see [`Confidence`]), in CSR form by user and,
/// transposed, by item: the two sides of an ALS sweep.
#[derive(Debug, Clone)]
pub struct ConfidenceMatrix {
    users: Csr,
    items: Csr,
}

impl ConfidenceMatrix {
    /// Converts the host's matrix; zero values are dropped (they carry no information).
    pub fn new(view: &CsrView<'_>, confidence: Confidence) -> Result<Self> {
        let mut indptr = Vec::with_capacity(view.n_rows() + 1);
        let mut indices = Vec::with_capacity(view.nnz());
        let mut data = Vec::with_capacity(view.nnz());
        indptr.push(0);
        for u in 0..view.n_rows() {
            let (items, values) = view.row(u);
            for (&i, &v) in items.iter().zip(values) {
                if let Some(c) = confidence.signed(v) {
                    indices.push(i);
                    data.push(c);
                }
            }
            indptr.push(indices.len());
        }
        let users = Csr::try_new((view.n_rows(), view.n_cols()), indptr, indices, data)
            .map_err(|(_, _, _, e)| MfError::InvalidInput(format!("interaction matrix: {e}")))?;
        let items = users.transpose_view().to_csr();
        Ok(ConfidenceMatrix { users, items })
    }

    /// Number of users.
    pub fn n_users(&self) -> usize {
        self.users.rows()
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.users.cols()
    }

    /// The user x item matrix.
    pub fn by_user(&self) -> &Csr {
        &self.users
    }

    /// The item x user matrix.
    pub fn by_item(&self) -> &Csr {
        &self.items
    }

    /// How many users like each item (positive confidences): the popularity fallback.
    pub fn item_popularity(&self) -> Vec<u32> {
        (0..self.n_items())
            .map(|i| row(&self.items, i).1.iter().filter(|&&c| c > 0.0).count() as u32)
            .collect()
    }
}

/// The column indices and values of row `r`.
#[inline]
pub fn row(m: &Csr, r: usize) -> (&[u32], &[f32]) {
    let range = m.indptr().outer_inds_sz(r);
    (&m.indices()[range.clone()], &m.data()[range])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_both_orientations_and_drops_zeros() {
        let (indptr, indices, values) = (
            [0u64, 2, 4, 5],
            [0u32, 2, 1, 2, 2],
            [1.0f32, 5.0, -1.0, 0.0, 2.0],
        );
        let view = CsrView::new(3, 3, &indptr, &indices, &values).unwrap();
        let m = ConfidenceMatrix::new(
            &view,
            Confidence {
                alpha: 1.0,
                binary: true,
            },
        )
        .unwrap();
        assert_eq!((m.n_users(), m.n_items()), (3, 3));
        assert_eq!(row(m.by_user(), 0), (&[0u32, 2][..], &[2.0f32, 2.0][..]));
        assert_eq!(row(m.by_user(), 1), (&[1u32][..], &[-2.0f32][..]));
        assert_eq!(row(m.by_item(), 2), (&[0u32, 2][..], &[2.0f32, 2.0][..]));
        assert_eq!(m.item_popularity(), vec![1, 0, 2]);
    }
}
