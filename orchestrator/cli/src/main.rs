//! `stepwasm`: the command-line interface of the stepwasm workflow engine.

mod cli;
mod function_source;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
