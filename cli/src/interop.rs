//! `tensorbridge bench --interop`: tensorbridge's paths into and out of Burn against Burn's own,
//! alternating in the same run on the same device (built with `--features burn`).

use std::time::{Duration, Instant};

use ndarray::Array1;
use tensorbridge::{DType, Gpu, Result};
use tensorbridge_burn::{Bridge, compare};

/// Median time of `reps` alternations of `a` and `b`, after one warm-up of each.
fn alternate<A, B>(
    reps: usize,
    mut a: impl FnMut() -> Result<A>,
    mut b: impl FnMut() -> Result<B>,
) -> Result<(Duration, Duration)> {
    a()?;
    b()?;
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let start = Instant::now();
        drop(a()?);
        ta.push(start.elapsed());
        let start = Instant::now();
        drop(b()?);
        tb.push(start.elapsed());
    }
    ta.sort();
    tb.sort();
    Ok((ta[reps / 2], tb[reps / 2]))
}

fn burn(e: tensorbridge_burn::Error) -> tensorbridge::Error {
    match e {
        tensorbridge_burn::Error::Tensorbridge(e) => e,
        other => tensorbridge::Error::gpu(other.to_string()),
    }
}

fn row(what: &str, burn: Duration, ours: Duration, goal: f64) {
    let gain = burn.as_secs_f64() / ours.as_secs_f64();
    println!(
        "{what:<44} Burn {:>9.1} ms   tensorbridge {:>9.1} ms   {gain:>5.2}× faster (goal ≥ {goal}×)",
        burn.as_secs_f64() * 1e3,
        ours.as_secs_f64() * 1e3
    );
}

/// Runs the three comparisons on `gpu` and prints them.
pub fn run(gpu: &Gpu) -> Result<()> {
    let bridge = Bridge::new(gpu).map_err(burn)?;
    let reps = 5;
    let n = 32 << 20;
    let a = Array1::from_shape_fn(n, |i| (i % 1000) as f32 * 0.5);
    println!(
        "\ninterop with Burn 0.22 on {} (medians of {reps} alternating runs)",
        gpu.info().name
    );
    let (burn_up, ours_up) = alternate(
        reps,
        || compare::upload_burn(&bridge, &a).map_err(burn),
        || compare::upload_ours(&bridge, &a).map_err(burn),
    )?;
    row("128 MiB f32 ndarray -> Burn tensor", burn_up, ours_up, 4.0);
    let t = compare::upload_ours(&bridge, &a).map_err(burn)?;
    let (burn_rd, ours_rd) = alternate(
        reps,
        || compare::read_burn(t.clone()).map_err(burn),
        || compare::read_ours(&bridge, t.clone()).map_err(burn),
    )?;
    row(
        "Burn tensor (128 MiB f32) -> new ndarray",
        burn_rd,
        ours_rd,
        2.0,
    );
    let mut reused = Array1::<f32>::zeros(n);
    let (burn_rd, ours_rd) = alternate(
        reps,
        || compare::read_burn(t.clone()).map_err(burn),
        || compare::read_into_ours(&bridge, t.clone(), &mut reused).map_err(burn),
    )?;
    row(
        "  ... into a reused ndarray (read_into)",
        burn_rd,
        ours_rd,
        2.0,
    );
    drop(t);
    let dir = std::env::temp_dir().join(format!("tensorbridge-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| tensorbridge::Error::file_cause(&dir, e))?;
    let path = dir.join("w.safetensors");
    let result = (|| {
        let names: Vec<String> = (0..8).map(|k| format!("w{k}")).collect();
        let parts = (0..8)
            .map(|k| {
                let x =
                    Array1::from_shape_fn(16 << 20, |i| ((i * 7 + k) % 4093) as f32 / 17.0 - 100.0);
                gpu.upload(&x)?.cast(DType::BF16)
            })
            .collect::<Result<Vec<_>>>()?;
        let named: Vec<_> = names.iter().map(|s| s.as_str()).zip(parts.iter()).collect();
        gpu.save(&path, &named)?;
        drop(parts);
        let (burn_w, ours_w) = alternate(
            3,
            || compare::weights_burn(bridge.device(), &path).map_err(burn),
            || compare::weights_ours(&bridge, &path).map_err(burn),
        )?;
        row(
            "256 MiB bf16 safetensors (8) -> f32 Burn",
            burn_w,
            ours_w,
            4.0,
        );
        // Both routes must give the same bits.
        let theirs = compare::weights_burn(bridge.device(), &path).map_err(burn)?;
        let ours = compare::weights_ours(&bridge, &path).map_err(burn)?;
        for (x, y) in theirs.into_iter().zip(ours) {
            let (x, y) = (
                compare::read_burn(x).map_err(burn)?,
                compare::read_burn(y).map_err(burn)?,
            );
            let same = x
                .iter()
                .zip(y.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits());
            if !same {
                return Err(tensorbridge::Error::gpu(
                    "the two routes gave different bits",
                ));
            }
        }
        println!("{:<44} the same bits by both routes", "");
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
