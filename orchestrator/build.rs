//! The web console's files are compiled in with `include_dir!`, which cannot tell Cargo to watch
//! them on stable Rust; this does, so editing `console/` rebuilds the binary that embeds it.

fn main() {
    println!("cargo:rerun-if-changed=console");
}
