//! `stepwasm`: the command-line interface of the stepwasm workflow engine.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
