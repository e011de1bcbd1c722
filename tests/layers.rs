//! The layers of orm-core import one way only (ARCHITECTURE.md): `meta` ->
//! `query` -> `sql` -> `exec` -> `ops` -> the facade (`lib.rs`,
//! `__private.rs`), with `error` shared by all. A file may use its own layer
//! and the layers before it, never a later one. SQL keywords appear in string
//! literals only under `sql/`.

use std::path::{Path, PathBuf};

const LAYERS: [&str; 7] = ["error", "meta", "query", "sql", "exec", "ops", "facade"];

fn rank(layer: &str) -> usize {
    LAYERS.iter().position(|l| *l == layer).unwrap_or(6)
}

/// The layer of a file, from its folder.
fn layer_of(rel: &Path) -> &'static str {
    let first = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or("");
    match first {
        "meta" => "meta",
        "query" => "query",
        "sql" => "sql",
        "exec" => "exec",
        "ops" => "ops",
        "error.rs" => "error",
        _ => "facade",
    }
}

/// The layer a `crate::<name>` path leads to.
fn target_layer(name: &str) -> &'static str {
    match name {
        "meta" => "meta",
        "query" => "query",
        "sql" => "sql",
        "exec" => "exec",
        "ops" => "ops",
        "error" | "Error" | "Result" => "error",
        _ => "facade",
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read orm-core/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code lines of a file: comments and the `#[cfg(test)]` module left out.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let end = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..end]
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("orm-core/src")
}

#[test]
fn layers_import_one_way() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 20, "found {} files", files.len());
    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).expect("under src");
        let layer = layer_of(rel);
        let text = std::fs::read_to_string(file).expect("read file");
        for (n, line) in code_lines(&text) {
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let target = target_layer(&name);
                if rank(target) > rank(layer) {
                    violations.push(format!(
                        "{}:{n}: {layer} uses crate::{name} ({target})",
                        rel.display()
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the layer order:\n{}",
        violations.join("\n")
    );
}

#[test]
fn sql_text_is_written_only_under_sql() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let keywords = [
        "SELECT ",
        "INSERT ",
        "UPDATE ",
        "DELETE FROM",
        " WHERE ",
        " FROM ",
        "JOIN ",
        "UNION",
        "PRAGMA",
        "CREATE ",
        "SAVEPOINT",
        "ROLLBACK",
        "COMMIT",
    ];
    let mut found = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).expect("under src");
        if layer_of(rel) == "sql" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read file");
        for (n, line) in code_lines(&text) {
            // Only string literals: text between quotes on a code line.
            let literals: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
            for lit in literals {
                if keywords.iter().any(|k| lit.contains(k)) {
                    found.push(format!("{}:{n}: {lit}", rel.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL text outside sql/:\n{}",
        found.join("\n")
    );
}
