//! (being written)

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Entry point.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("this subcommand is being written")
}
