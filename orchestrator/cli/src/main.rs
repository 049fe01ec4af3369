//! `stepwasm`: the command-line interface of the stepwasm workflow engine.

mod cli;
mod function_source;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // mimalloc asks for transparent huge pages for its arenas. While the heap grows (the
    // in-memory store keeps every execution), each fault then zeroes 2 MiB, and `bench api`
    // spent half its workers' time in the kernel clearing pages: 14–15k StartExecution/s in
    // memory with huge pages, 26–28k without, with no measurable change to the order
    // pipeline. A kernel without the setting simply keeps its default.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    cli::main()
}
