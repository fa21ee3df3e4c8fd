//! The command line (native only).

use clap::{Parser, Subcommand};

use crate::{bench, files};
use tensorbridge::{Gpu, GpuOptions};

/// Move arrays onto a GPU and back, and show where the time goes.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every adapter found (backend, device type, features, limits) and mark the default.
    ///
    /// The default is what `Gpu::new()` picks; TENSORBRIDGE_BACKEND=vulkan|metal|dx12|gl and
    /// TENSORBRIDGE_ADAPTER=<part of a name> change it.
    Info,
    /// Time upload, readback and casts next to memcpy and a GPU buffer copy measured in the same
    /// run, and print GB/s and ratios. Example: `tensorbridge bench --sizes 4K,64M`.
    Bench(bench::Args),
    /// Convert between .npy, .npz and .safetensors, casting every array on the device.
    /// Example: `tensorbridge convert weights.npz weights.safetensors --to bf16`.
    Convert(files::ConvertArgs),
    /// For each array: dtype, shape, min, max, mean and a histogram, computed on the device.
    /// Example: `tensorbridge stats model.safetensors --bins 30 --plot hist.png`.
    Stats(files::StatsArgs),
    /// Quantize the float arrays of a file to int8/uint8 on the device; writes codes plus
    /// <name>.scale and <name>.zero_point. Example: `tensorbridge quantize w.npz q.npz --int8
    /// --per-axis 0`.
    Quantize(files::QuantizeArgs),
}

/// Parses the arguments and runs the command; exits with status 1 on error.
pub fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info => info(),
        Command::Bench(args) => bench::run(&args),
        Command::Convert(args) => files::convert(&args),
        Command::Stats(args) => files::stats(&args),
        Command::Quantize(args) => files::quantize(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn info() -> tensorbridge::Result<()> {
    let default = Gpu::with_options(GpuOptions::from_env()?).ok();
    let adapters = Gpu::adapters();
    if adapters.is_empty() {
        println!("no adapters found");
    }
    for (i, a) in adapters.iter().enumerate() {
        let is_default = default
            .as_ref()
            .is_some_and(|g| g.info().name == a.name && g.info().backend == a.backend);
        println!(
            "[{i}] {}{}\n    backend: {:?}   device type: {:?}   driver: {}",
            a.name,
            if is_default { "   (default)" } else { "" },
            a.backend,
            a.device_type,
            a.driver
        );
        if let Some(g) = default.as_ref().filter(|_| is_default) {
            let native = &g.info().native_casts;
            println!(
                "    transfer path: {:?}   chunk: {} MiB   native casts: {}",
                g.info().path.unwrap_or(tensorbridge::TransferPath::Staged),
                g.info().max_chunk_bytes >> 20,
                if native.is_empty() {
                    "none".to_string()
                } else {
                    native.join(" ")
                }
            );
        }
        let l = &a.limits;
        println!(
            "    limits: max_buffer_size {} MiB, max_storage_buffer_binding_size {} MiB, \
             min_storage_buffer_offset_alignment {}, max_compute_workgroups_per_dimension {}",
            l.max_buffer_size >> 20,
            l.max_storage_buffer_binding_size >> 20,
            l.min_storage_buffer_offset_alignment,
            l.max_compute_workgroups_per_dimension
        );
        let names: Vec<&str> = a.features.iter_names().map(|(n, _)| n).collect();
        println!("    features: {}", names.join(" "));
    }
    Ok(())
}
