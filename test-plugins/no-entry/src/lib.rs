//! Test library: a valid shared library that exports a function, but not the recsys entry
//! symbol. Hosts must say so, naming the file, instead of crashing.

/// Some exported function that is not a plugin entry.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn not_a_recsys_plugin() -> i32 {
    42
}
