//! Compile-fail and compile-pass tests of `#[derive(Model)]`.
//!
//! Each file under `tests/ui/fail/` holds one mistake, named after it, with
//! the compiler's expected output beside it in a `.stderr` file. After a
//! deliberate change to a message, regenerate those files with
//! `TRYBUILD=overwrite cargo test --test ui` and read the diff.
//!
//! The expected output is specific to the pinned toolchain (see
//! `rust-toolchain.toml`); other compilers word some errors differently.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
