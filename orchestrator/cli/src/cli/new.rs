//! `stepwasm new` and `stepwasm build`: start a task function in Rust, Python or JavaScript, and
//! build it into a component, with nothing but this binary and the language's own tools.
//!
//! The binary carries the project templates, the SDKs, the `stepwasm:task` WIT world and the
//! polyglot build script. `new` writes a project with a copy of its SDK (so its native tests
//! run anywhere); `build` runs cargo for Rust, and for Python and JavaScript unpacks the build
//! script and the pinned tool versions into the data directory and runs it there.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use include_dir::{Dir, include_dir};
use stepwasm_orchestrator::DataDir;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static RUST_SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../guest-sdk/src");
static PYTHON_SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../guest-sdk/python/stepwasm");
static JS_SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../guest-sdk/js");
static WIT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../runtime/wit");
const BUILD_SCRIPT: &str = include_str!("../../../../guest-sdk/build-polyglot");
const RUST_TOOLCHAIN: &str = include_str!("../../../../rust-toolchain.toml");

/// The SDK crate's manifest, standing alone (the repository's inherits from its workspace).
const RUST_SDK_MANIFEST: &str = r#"[package]
name = "stepwasm-guest"
description = "Write stepwasm task functions in Rust: typed JSON in, typed JSON or a named error out"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
wit-bindgen = { version = "0.61.1", default-features = false, features = ["macros", "realloc"] }
"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Language {
    Rust,
    Python,
    Js,
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The function's name, which is also its directory's and its deployment name: 1 to 64
    /// letters, digits, '-' and '_'.
    name: String,
    /// The language to write it in.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Language,
    /// Where to create the project [default: ./NAME].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// The function's project directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
}

pub(crate) fn new(args: &NewArgs) -> Result<ExitCode> {
    let name = args.name.as_str();
    let valid =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        bail!("{name:?} cannot name a function: use 1 to 64 letters, digits, '-' and '_'");
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() && dir.read_dir().with_context(|| format!("reading {}", dir.display()))?.next().is_some() {
        bail!("{} already exists and is not empty", dir.display());
    }
    let template = match args.lang {
        Language::Rust => "rust",
        Language::Python => "python",
        Language::Js => "js",
    };
    let template = TEMPLATES.get_dir(template).context("the binary carries every template")?;
    write_dir(template, template.path(), &dir, &|text| text.replace("{{name}}", name))?;
    match args.lang {
        Language::Rust => {
            let sdk = dir.join("stepwasm-guest");
            write_file(&sdk.join("Cargo.toml"), RUST_SDK_MANIFEST.as_bytes())?;
            // The contract sits beside the SDK here, not in the repository's runtime crate.
            write_dir(&RUST_SDK, RUST_SDK.path(), &sdk.join("src"), &|text| {
                text.replace(r#"path: "../runtime/wit""#, r#"path: "wit""#)
            })?;
            write_dir(&WIT, WIT.path(), &sdk.join("wit"), &str::to_owned)?;
            write_file(&dir.join("rust-toolchain.toml"), RUST_TOOLCHAIN.as_bytes())?;
        }
        Language::Python => write_dir(&PYTHON_SDK, PYTHON_SDK.path(), &dir.join("stepwasm"), &str::to_owned)?,
        Language::Js => {
            for file in JS_SDK.files().filter(|file| is_js_sdk_file(file.path())) {
                write_file(&dir.join("stepwasm").join(file.path()), file.contents())?;
            }
        }
    }
    let language = format!("{:?}", args.lang).to_lowercase();
    println!("created the {language} function {name} in {}", dir.display());
    println!("  test it:    {}", test_command(args.lang));
    println!("  build it:   stepwasm build {}", dir.display());
    println!(
        "  deploy it:  stepwasm function deploy {name} {}",
        dir.join("build").join(format!("{name}.wasm")).display()
    );
    Ok(ExitCode::SUCCESS)
}

fn test_command(language: Language) -> &'static str {
    match language {
        Language::Rust => "cargo test",
        Language::Python => "python3 -m unittest",
        Language::Js => "node --test",
    }
}

/// The SDK's modules and manifest: not its tests or its build tools' pins.
fn is_js_sdk_file(path: &Path) -> bool {
    path.parent().is_none_or(|parent| parent.as_os_str().is_empty())
        && path.extension().is_some_and(|extension| extension == "js")
        || path == Path::new("package.json")
}

pub(crate) fn build(args: &BuildArgs, data_dir: &DataDir) -> Result<ExitCode> {
    let dir = args.dir.canonicalize().with_context(|| format!("{} is not a directory", args.dir.display()))?;
    let name = dir.file_name().and_then(|name| name.to_str()).context("the project directory has no name")?.to_owned();
    let out = dir.join("build");
    let status = if dir.join("Cargo.toml").is_file() {
        let status = Command::new("cargo")
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .current_dir(&dir)
            .status()
            .context("running cargo (Rust functions are built with it)")?;
        if status.success() {
            let built = dir.join("target/wasm32-wasip2/release").join(format!("{}.wasm", name.replace('-', "_")));
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let target = out.join(format!("{name}.wasm"));
            std::fs::copy(&built, &target)
                .with_context(|| format!("copying {} to {}", built.display(), target.display()))?;
            println!("built {}", target.display());
        }
        status
    } else {
        let kit = unpack_build_kit(data_dir)?;
        Command::new("python3")
            .arg(kit.join("guest-sdk/build-polyglot"))
            .arg(&out)
            .arg(&dir)
            .arg("--toolchain")
            .arg(data_dir.root().join("polyglot-toolchain"))
            .status()
            .context("running python3 (Python and JavaScript functions are built with it)")?
    };
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Writes the build script with the SDKs, the WIT world and the tools' pins, laid out as in
/// the repository, where the script looks for them. Rewritten each time, so they always match
/// this binary.
fn unpack_build_kit(data_dir: &DataDir) -> Result<PathBuf> {
    let kit = data_dir.root().join("polyglot-kit");
    let sdk = kit.join("guest-sdk");
    write_file(&sdk.join("build-polyglot"), BUILD_SCRIPT.as_bytes())?;
    write_dir(&PYTHON_SDK, PYTHON_SDK.path(), &sdk.join("python/stepwasm"), &str::to_owned)?;
    write_dir(&JS_SDK, JS_SDK.path(), &sdk.join("js"), &str::to_owned)?;
    write_dir(&WIT, WIT.path(), &kit.join("runtime/wit"), &str::to_owned)?;
    Ok(kit)
}

/// Writes every file under `dir` (paths relative to `base`) into `to`, passing text through
/// `edit`.
fn write_dir(dir: &Dir<'_>, base: &Path, to: &Path, edit: &dyn Fn(&str) -> String) -> Result<()> {
    for file in dir.files() {
        // A developer's local caches are not part of what the binary hands out.
        if file
            .path()
            .components()
            .any(|part| matches!(part.as_os_str().to_str(), Some("__pycache__" | "node_modules")))
        {
            continue;
        }
        let relative = file.path().strip_prefix(base).unwrap_or(file.path());
        match file.contents_utf8() {
            Some(text) => write_file(&to.join(relative), edit(text).as_bytes())?,
            None => write_file(&to.join(relative), file.contents())?,
        }
    }
    for inner in dir.dirs() {
        write_dir(inner, base, to, edit)?;
    }
    Ok(())
}

fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}
