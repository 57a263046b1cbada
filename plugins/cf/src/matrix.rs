//! The sparse matrix type the plugin computes with, and conversions from the SDK's CSR view.

use recsys_plugin_api::{CsrView, PluginError};
use sprs::CsMatI;

/// A CSR matrix of `f32` with `u32` column indices and `usize` row offsets.
pub(crate) type Csr = CsMatI<f32, u32, usize>;

/// Copies the host's interaction matrix into a [`Csr`]; with `binary`, every stored value
/// becomes 1.
pub(crate) fn from_view(view: &CsrView<'_>, binary: bool) -> Result<Csr, PluginError> {
    let indptr: Vec<usize> = view
        .indptr()
        .iter()
        .map(|&p| usize::try_from(p))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            PluginError::invalid_input("interaction matrix too large for this platform")
        })?;
    let values = if binary {
        vec![1.0; view.nnz()]
    } else {
        view.values().to_vec()
    };
    Csr::try_new(
        (view.n_rows(), view.n_cols()),
        indptr,
        view.indices().to_vec(),
        values,
    )
    .map_err(|(.., e)| PluginError::invalid_input(format!("interaction matrix: {e}")))
}

/// The column indices and values of row `r`.
///
/// # Panics
/// If `r` is not a row of `m` (callers check indices at the API boundary).
pub(crate) fn row(m: &Csr, r: usize) -> (&[u32], &[f32]) {
    let range = m.indptr().outer_inds_sz(r);
    (&m.indices()[range.clone()], &m.data()[range])
}

/// The transpose of `m`, again in CSR form.
pub(crate) fn transpose(m: &Csr) -> Csr {
    m.to_csc().transpose_into()
}

/// Replaces every stored value `v` at `(r, c)` by `f(r, c, v)`; the sparsity pattern is kept.
pub(crate) fn map_values(m: &Csr, f: impl Fn(usize, u32, f32) -> f32) -> Csr {
    let mut data = Vec::with_capacity(m.nnz());
    for r in 0..m.rows() {
        let (cols, vals) = row(m, r);
        data.extend(cols.iter().zip(vals).map(|(&c, &v)| f(r, c, v)));
    }
    let (indptr, indices) = (m.indptr().to_proper().into_owned(), m.indices().to_vec());
    Csr::try_new(m.shape(), indptr, indices, data)
        .unwrap_or_else(|_| unreachable!("the pattern of a valid matrix is valid"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A CSR matrix from dense rows (zeros are not stored).
    pub(crate) fn dense(rows: &[&[f32]]) -> Csr {
        let n_cols = rows.first().map_or(0, |r| r.len());
        let mut indptr = vec![0];
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for r in rows {
            for (c, &v) in r.iter().enumerate() {
                if v != 0.0 {
                    indices.push(c as u32);
                    data.push(v);
                }
            }
            indptr.push(indices.len());
        }
        Csr::new((rows.len(), n_cols), indptr, indices, data)
    }

    #[test]
    fn converts_binarises_and_transposes() {
        let view = CsrView::new(2, 3, &[0, 2, 3], &[0, 2, 1], &[5.0, 3.0, 2.0]).unwrap();
        let raw = from_view(&view, false).unwrap();
        assert_eq!(row(&raw, 0), (&[0u32, 2][..], &[5.0f32, 3.0][..]));
        let bin = from_view(&view, true).unwrap();
        assert_eq!(bin.data(), &[1.0, 1.0, 1.0]);
        let t = transpose(&raw);
        assert_eq!(t.shape(), (3, 2));
        assert_eq!(row(&t, 2), (&[0u32][..], &[3.0f32][..]));
        assert_eq!(row(&t, 1), (&[1u32][..], &[2.0f32][..]));
        let doubled = map_values(&raw, |r, c, v| v * 10.0 + r as f32 + c as f32);
        assert_eq!(doubled.data(), &[50.0, 32.0, 22.0]);
    }
}
