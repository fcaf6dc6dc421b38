//! External subcommands, git-style: `mnemo eval ...` runs `mnemo-eval ...` from beside this
//! binary, so the evaluation harness (which sits above the server) ships as its own binary.

use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

pub(crate) fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let Some((name, rest)) = args.split_first() else {
        bail!("no command given");
    };
    let exe = std::env::current_exe().context("locating the mnemo binary")?;
    let program = exe.with_file_name(format!("mnemo-{name}{}", std::env::consts::EXE_SUFFIX));
    if !program.is_file() {
        bail!(
            "unknown command {name:?}: {} does not exist (for `mnemo eval`, build it with `cargo build --release -p eval`)",
            program.display()
        );
    }
    let status = Command::new(&program)
        .args(rest)
        .status()
        .with_context(|| format!("running {}", program.display()))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}
