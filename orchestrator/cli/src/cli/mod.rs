//! The `stepwasm` commands. Each subcommand has its own file; this one parses and dispatches.

mod bench;
mod bench_api;
mod bench_engine;
mod bench_invoke;
mod bench_load;
mod bench_parked;
mod bench_server;
mod conformance;
mod demo;
mod grants;
mod invoke;
mod new;
mod run;
mod serve;
mod server_config;
mod stand_ins;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// stepwasm: AWS Step Functions and Lambda, self-hosted, with WebAssembly task functions.
#[derive(Debug, Parser)]
#[command(name = "stepwasm", version, about, long_about = None)]
struct Cli {
    /// Where stepwasm keeps compiled artifacts and durable state
    /// [default: $STEPWASM_DATA_DIR, else $XDG_DATA_HOME/stepwasm, else ~/.local/share/stepwasm]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the AWS Step Functions API (and `/functions`) with a durable store.
    Serve(serve::ServeArgs),
    /// Manage the Wasm task functions of a running server.
    #[command(subcommand)]
    Function(serve::FunctionCommand),
    /// Create or update a state machine on a running server from an ASL file.
    Deploy(serve::DeployArgs),
    /// Run one execution of a state machine, in memory, and print its result.
    Run(run::RunArgs),
    /// Check state machine definitions and print every problem found.
    Validate(run::ValidateArgs),
    /// Run workflow test files (cases with inputs, mocks and expectations) in virtual time.
    Test(test::TestArgs),
    /// Invoke one task function once, in a fresh sandbox, and report what happened.
    Invoke(invoke::InvokeArgs),
    /// Create a task function project in Rust, Python or JavaScript, with a test.
    New(new::NewArgs),
    /// Build a task function project into a component, `build/NAME.wasm`.
    Build(new::BuildArgs),
    /// Run AWS-recorded executions and compare stepwasm's results with AWS's.
    Conformance(conformance::ConformanceArgs),
    /// Measure stepwasm's performance.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// The main job: serve the API and the web console, deploy the sample pipelines through it,
    /// run three sample orders (one completes, one is declined, one is out of stock), start a
    /// large one that waits for approval in the console, and keep serving.
    Demo(demo::DemoArgs),
}

/// Runs the command line and turns its outcome into an exit code.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_dir = stepwasm_orchestrator::DataDir::locate(cli.data_dir.as_deref());
    let outcome = match cli.command {
        Command::Serve(args) => serve::serve(&args, &data_dir),
        Command::Function(command) => serve::function(&command),
        Command::Deploy(args) => serve::deploy(&args),
        Command::Run(args) => run::run(&args, &data_dir),
        Command::Validate(args) => run::validate(&args),
        Command::Test(args) => test::run(&args, &data_dir),
        Command::Invoke(args) => invoke::run(&args, &data_dir),
        Command::New(args) => new::new(&args),
        Command::Build(args) => new::build(&args, &data_dir),
        Command::Conformance(args) => conformance::run(&args, &data_dir),
        Command::Bench(command) => bench::run(&command),
        Command::Demo(args) => demo::run(&args, &data_dir),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
