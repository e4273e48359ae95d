//! Dependencies point inward, checked on the imports themselves: every `use` tree and every path in
//! code is parsed (syn) and resolved against the module it is written in (`crate::`, `self::`,
//! `super::`), so grouped imports, nested modules and strings or comments that merely mention a
//! crate are read for what they are.
//!
//! The rules: serenity and poise only in `src/discord`; no reqwest, sled or axum in `domain`; no
//! `orange` in `render` (it words domain values, whichever API they came from).
//!
//! And the map a newcomer reads first, `src/lib.rs`'s doc, names every public module.

use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// What a path names: an item of this crate (its path from the crate root) or another crate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Crate(Vec<String>),
    External(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Crate(path) => write!(f, "crate::{}", path.join("::")),
            Target::External(name) => write!(f, "{name}"),
        }
    }
}

/// Collects the targets of one file's `use` trees and code paths, tracking inline modules so that
/// `super` resolves where it is written.
struct Imports {
    module: Vec<String>,
    found: Vec<Target>,
}

impl Imports {
    /// `segments` as written in `self.module`; `None` for what is not an import (`Self::`, a
    /// one-segment path in code such as a local variable).
    fn resolve(&self, leading_colon: bool, segments: &[String], is_use: bool) -> Option<Target> {
        let first = segments.first()?;
        if leading_colon {
            return Some(Target::External(first.clone()));
        }
        match first.as_str() {
            "crate" => Some(Target::Crate(segments[1..].to_vec())),
            "self" | "super" => {
                let mut module = self.module.clone();
                let mut rest = segments;
                if rest.first().is_some_and(|s| s == "self") {
                    rest = &rest[1..];
                }
                while rest.first().is_some_and(|s| s == "super") {
                    module.pop();
                    rest = &rest[1..];
                }
                module.extend(rest.iter().cloned());
                Some(Target::Crate(module))
            }
            "Self" => None,
            _ if is_use || segments.len() > 1 => Some(Target::External(first.clone())),
            _ => None,
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, leading_colon: bool, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, leading_colon, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.push_use(prefix, leading_colon, &n.ident),
            syn::UseTree::Rename(r) => self.push_use(prefix, leading_colon, &r.ident),
            syn::UseTree::Glob(_) => {
                if let Some(t) = self.resolve(leading_colon, prefix, true) {
                    self.found.push(t);
                }
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, leading_colon, tree);
                }
            }
        }
    }

    fn push_use(&mut self, prefix: &[String], leading_colon: bool, ident: &syn::Ident) {
        let mut path = prefix.to_vec();
        // `use foo::{self}` names `foo` itself.
        if ident != "self" {
            path.push(ident.to_string());
        }
        if let Some(t) = self.resolve(leading_colon, &path, true) {
            self.found.push(t);
        }
    }
}

impl<'ast> Visit<'ast> for Imports {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), item.leading_colon.is_some(), &item.tree);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_some() {
            self.module.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.module.pop();
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(t) = self.resolve(path.leading_colon.is_some(), &segments, false) {
            self.found.push(t);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // The macro's own path (`tracing::info!`); its tokens are not Rust paths yet.
        self.visit_path(&mac.path);
    }
}

/// Every target `source`, the file of module `module`, names.
fn imports(source: &str, module: &[&str]) -> Vec<Target> {
    let file = syn::parse_file(source).unwrap_or_else(|e| panic!("not Rust: {e}"));
    let mut imports = Imports {
        module: module.iter().map(|s| (*s).to_owned()).collect(),
        found: Vec::new(),
    };
    imports.visit_file(&file);
    imports.found
}

/// Why `target`, named in `module`, breaks a rule; `None` if it does not.
fn broken_rule(module: &[&str], target: &Target) -> Option<&'static str> {
    let layer = module.first().copied().unwrap_or("");
    match target {
        Target::External(name) if matches!(name.as_str(), "serenity" | "poise") => {
            (layer != "discord").then_some("the Discord crates belong to src/discord")
        }
        Target::External(name) if matches!(name.as_str(), "reqwest" | "sled" | "axum") => {
            (layer == "domain").then_some("domain does no I/O")
        }
        Target::Crate(path) if path.first().is_some_and(|p| p == "orange") => {
            (layer == "render").then_some("render words domain values, not Orange's models")
        }
        _ => None,
    }
}

/// The broken rules of one file, as `target (why)`.
fn violations(source: &str, module: &[&str]) -> Vec<String> {
    imports(source, module)
        .iter()
        .filter_map(|t| broken_rule(module, t).map(|why| format!("{t} ({why})")))
        .collect()
}

/// The module a file under `src/` is: `render/card.rs` -> `render::card`; `lib.rs`, `main.rs`
/// and `mod.rs` name their directory.
fn module_of(relative: &Path) -> Vec<String> {
    let mut module: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if module
        .last()
        .is_some_and(|m| matches!(m.as_str(), "mod" | "lib" | "main"))
    {
        module.pop();
    }
    module
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("source dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Known breaches, each to be removed by the change that fixes it: (file, target).
const KNOWN: &[(&str, &str)] = &[];

#[test]
fn every_layer_imports_only_what_it_may() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut known_seen = vec![false; KNOWN.len()];
    for path in rust_files(&src) {
        let relative = path.strip_prefix(&src).expect("under src");
        let module = module_of(relative);
        let module: Vec<&str> = module.iter().map(String::as_str).collect();
        let source = std::fs::read_to_string(&path).expect("source");
        let file = relative.to_string_lossy();
        for target in imports(&source, &module) {
            let Some(why) = broken_rule(&module, &target) else {
                continue;
            };
            let named = target.to_string();
            if let Some(i) = KNOWN.iter().position(|&(f, t)| f == file && t == named) {
                known_seen[i] = true;
                continue;
            }
            offenders.push(format!("src/{file}: {target} ({why})"));
        }
    }
    assert!(
        offenders.is_empty(),
        "imports against the layering:\n{}",
        offenders.join("\n")
    );
    for ((file, target), seen) in KNOWN.iter().zip(known_seen) {
        assert!(
            seen,
            "src/{file} no longer imports {target}: delete its line from KNOWN"
        );
    }
}

#[test]
fn the_module_of_a_file() {
    assert_eq!(module_of(Path::new("render/card.rs")), ["render", "card"]);
    assert_eq!(module_of(Path::new("render/mod.rs")), ["render"]);
    assert_eq!(module_of(Path::new("app.rs")), ["app"]);
    assert!(module_of(Path::new("lib.rs")).is_empty());
}

#[test]
fn a_grouped_or_relative_import_of_orange_in_render_is_found() {
    // A grouped import: `crate::orange` appears nowhere as text.
    let grouped = "use crate::{domain::Ticket, orange::SearchPage};";
    assert_eq!(
        violations(grouped, &["render", "card"]),
        ["crate::orange::SearchPage (render words domain values, not Orange's models)"]
    );
    // Through `super`, from a module nested in a file.
    let relative = "mod inner { use super::super::super::orange::{self}; }";
    assert_eq!(violations(relative, &["render", "card"]).len(), 1);
    // The same imports are fine where the rule does not apply.
    assert!(violations(grouped, &["core"]).is_empty());
}

#[test]
fn discord_and_io_crates_are_found_wherever_they_are_named() {
    // A path in code after a URL on the same line (a line scanner that stops at `//` misses it),
    // a use with a leading `::`, an I/O crate in a signature, and a macro path.
    let domain = r#"
        const API: &str = "https://discord.com/api"; type Message = serenity::model::channel::Message;
        use ::poise::Context;
        pub fn fetch() -> reqwest::Client { todo!() }
        fn f() { sled::open("x"); axum::serve!(); }
    "#;
    let found = violations(domain, &["domain", "ticket"]);
    for name in ["serenity", "poise", "reqwest", "sled", "axum"] {
        assert!(
            found.iter().any(|v| v.starts_with(&format!("{name} "))),
            "{name}: {found:?}"
        );
    }
    // Discord crates are at home in src/discord; I/O crates in the adapters.
    assert!(
        violations(domain, &["discord", "bot"])
            .iter()
            .all(|v| !v.contains("Discord"))
    );
    assert!(violations("use sled::Db;", &["store"]).is_empty());
}

#[test]
fn words_in_strings_and_comments_are_not_imports() {
    let text = r#"
        //! Unlike serenity's builders, this module does no I/O (no reqwest, no sled).
        /// Orange refused: see poise's docs.
        const HELP: &str = "use serenity::Http; poise; crate::orange::Client";
        use crate::domain::OrangeStatus;
        fn orange_colour() -> u32 { let orange = 0xff7900; orange }
    "#;
    assert!(violations(text, &["render", "card"]).is_empty());
    assert!(violations(text, &["domain"]).is_empty());
}

#[test]
fn lib_rs_maps_every_module() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    let file = syn::parse_file(&std::fs::read_to_string(path).expect("lib.rs")).expect("Rust");
    let map: String = file
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let unmapped: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if matches!(m.vis, syn::Visibility::Public(_)) => {
                Some(m.ident.to_string())
            }
            _ => None,
        })
        .filter(|name| !map.contains(&format!("[`{name}`]")))
        .collect();
    assert!(
        unmapped.is_empty(),
        "modules missing from lib.rs's map: {unmapped:?}"
    );
}
