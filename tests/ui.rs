//! Compile-fail and compile-pass tests of `#[derive(Model)]` and `#[derive(Choices)]`.
//!
//! Each file under `tests/ui/fail/` holds one mistake, named after it, with
//! the compiler's expected output beside it in a `.stderr` file. After a
//! deliberate change to a message, regenerate those files with
//! `TRYBUILD=overwrite cargo test --test ui` and read the diff.
//!
//! The expected output is that of rustc 1.95.0, the toolchain this project
//! is pinned to; other compilers word some errors differently.
//! `ui/pass/` holds models that must compile (and run) under strict lints.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
