//! [`Csr`]: a compressed sparse row matrix of `f32`.

/// A sparse matrix in compressed sparse row form.
///
/// Row `r` holds the columns `indices[indptr[r]..indptr[r + 1]]`, sorted
/// increasingly and without duplicates, with their `values`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Csr {
    /// Number of rows.
    pub n_rows: usize,
    /// Number of columns.
    pub n_cols: usize,
    /// Row start offsets into `indices` and `values`; `n_rows + 1` entries.
    pub indptr: Vec<u64>,
    /// Column index of each stored entry.
    pub indices: Vec<u32>,
    /// Value of each stored entry.
    pub values: Vec<f32>,
}

impl Csr {
    /// Builds a matrix from `(row, column, value)` triplets in any order.
    /// Duplicate `(row, column)` pairs are summed, as in scipy and sprs.
    ///
    /// # Panics
    ///
    /// If a row is not below `n_rows` or a column not below `n_cols`.
    pub fn from_triplets(
        n_rows: usize,
        n_cols: usize,
        triplets: impl IntoIterator<Item = (u32, u32, f32)>,
    ) -> Csr {
        let triplets: Vec<(u32, u32, f32)> = triplets.into_iter().collect();
        // Counting sort by row.
        let mut counts = vec![0u64; n_rows + 1];
        for &(row, col, _) in &triplets {
            assert!(
                (row as usize) < n_rows,
                "row {row} out of range for {n_rows} rows"
            );
            assert!(
                (col as usize) < n_cols,
                "column {col} out of range for {n_cols} columns"
            );
            counts[row as usize + 1] += 1;
        }
        for r in 0..n_rows {
            counts[r + 1] += counts[r];
        }
        let mut next = counts.clone();
        let mut entries = vec![(0u32, 0f32); triplets.len()];
        for (row, col, value) in triplets {
            let slot = &mut next[row as usize];
            entries[*slot as usize] = (col, value);
            *slot += 1;
        }
        // Sort each row by column and merge duplicates, compacting in place.
        let mut indptr = Vec::with_capacity(n_rows + 1);
        indptr.push(0u64);
        let mut indices = Vec::with_capacity(entries.len());
        let mut values = Vec::with_capacity(entries.len());
        for r in 0..n_rows {
            let row = &mut entries[counts[r] as usize..counts[r + 1] as usize];
            row.sort_unstable_by_key(|&(col, _)| col);
            let row_start = indices.len();
            for &(col, value) in row.iter() {
                if indices.len() > row_start && indices.last() == Some(&col) {
                    *values.last_mut().expect("a value per index") += value;
                } else {
                    indices.push(col);
                    values.push(value);
                }
            }
            indptr.push(indices.len() as u64);
        }
        Csr {
            n_rows,
            n_cols,
            indptr,
            indices,
            values,
        }
    }

    /// The column indices and values of row `r`.
    ///
    /// # Panics
    ///
    /// If `r` is not below `n_rows`.
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let range = self.indptr[r] as usize..self.indptr[r + 1] as usize;
        (&self.indices[range.clone()], &self.values[range])
    }

    /// The number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_sorted_rows_from_unordered_triplets() {
        let csr = Csr::from_triplets(3, 4, [(2, 3, 1.0), (0, 2, 2.0), (0, 0, 3.0), (2, 1, 4.0)]);
        assert_eq!(csr.indptr, [0, 2, 2, 4]);
        assert_eq!(csr.row(0), (&[0, 2][..], &[3.0, 2.0][..]));
        assert_eq!(csr.row(1), (&[][..], &[][..]));
        assert_eq!(csr.row(2), (&[1, 3][..], &[4.0, 1.0][..]));
        assert_eq!(csr.nnz(), 4);
    }

    #[test]
    fn sums_duplicates() {
        let csr = Csr::from_triplets(1, 2, [(0, 1, 1.0), (0, 0, 1.0), (0, 1, 2.5)]);
        assert_eq!(csr.row(0), (&[0, 1][..], &[1.0, 3.5][..]));
        assert_eq!(csr.nnz(), 2);
    }

    #[test]
    fn empty_matrix() {
        let csr = Csr::from_triplets(0, 0, []);
        assert_eq!(csr.indptr, [0]);
        assert_eq!(csr.nnz(), 0);
    }

    #[test]
    #[should_panic(expected = "column 5 out of range")]
    fn rejects_out_of_range_columns() {
        Csr::from_triplets(1, 5, [(0, 5, 1.0)]);
    }
}
