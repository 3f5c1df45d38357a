//! A user's own crate, set up exactly as README.md says (Cargo.toml, build.rs,
//! .cargo/config.toml), depends on gort by path, builds, and runs natively and under
//! qemu: the instructions users follow must work.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

const MAIN_RS: &str = r#"#![no_std]
#![no_main]

gort::main!(main);

fn main() {
    gort::println!("hello from a user crate, goroutine {}", gort::goid());
    let v: alloc::vec::Vec<u32> = (1..=10).collect();
    gort::println!("sum={}", v.iter().sum::<u32>());
}

extern crate alloc;
"#;

const BUILD_RS: &str = r#"fn main() {
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie", "-Wl,--gc-sections"] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    let script = std::env::var("DEP_GORT_LINKER_SCRIPT").unwrap();
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{script}");
}
"#;

const CONFIG: &str = r#"[build]
target = "x86_64-unknown-linux-gnu"

[target.x86_64-unknown-linux-gnu]
rustflags = ["-C", "relocation-model=static"]
"#;

#[test]
fn a_user_crate_builds_and_runs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/user-crate");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    let manifest = format!(
        "[package]\nname = \"usercrate\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [workspace]\n\n[dependencies]\ngort = {{ path = {:?} }}\n\n\
         [profile.dev]\npanic = \"abort\"\n\n[profile.release]\npanic = \"abort\"\n",
        root.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("build.rs"), BUILD_RS).unwrap();
    std::fs::write(dir.join(".cargo/config.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("src/main.rs"), MAIN_RS).unwrap();
    // gort's own lock file pins the same dependency versions, so no index is needed.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--quiet"])
        .current_dir(&dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "user crate build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bin = dir.join("target/x86_64-unknown-linux-gnu/release/usercrate");
    assert_static_elf(&bin);
    for mode in MODES {
        let cmd = match mode {
            Mode::Native => Command::new(&bin),
            Mode::Qemu => {
                let mut c = Command::new(qemu());
                c.arg(&bin);
                c
            }
        };
        let r = run_cmd(cmd, std::time::Duration::from_secs(30));
        r.assert_exit(0);
        assert_eq!(
            r.stdout, "hello from a user crate, goroutine 1\nsum=55\n",
            "{mode:?}"
        );
    }
}
