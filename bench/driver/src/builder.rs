//! Tools and builds: everything the selected benchmarks need, installed or built once,
//! before anything is measured, into target/bench.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use crate::ctx::{Ctx, Exe};
use crate::model::{Bench, Prog, Tool};
use crate::proc::{self, apt_install, which};
use crate::{log, Result};

pub const GCC: Tool = Tool {
    name: "gcc",
    cmd: "gcc",
    packages: &["gcc", "libc6-dev"],
    version_args: &["--version"],
};
pub const GO: Tool = Tool {
    name: "Go",
    cmd: "go",
    packages: &["golang-go"],
    version_args: &["version"],
};

/// The tools the benchmarks need: Go for Go programs, gcc for C and assembly, and each
/// benchmark's own, in that order, without repeats.
pub fn tools(benches: &[Bench]) -> Vec<Tool> {
    let progs: Vec<Prog> = benches.iter().flat_map(|b| b.progs()).collect();
    let mut t = vec![];
    if progs.iter().any(|p| matches!(p, Prog::Go(_))) {
        t.push(GO);
    }
    if progs.iter().any(|p| matches!(p, Prog::Asm(_) | Prog::C(_))) {
        t.push(GCC);
    }
    for b in benches {
        for x in &b.tools {
            if !t.iter().any(|y: &Tool| y.cmd == x.cmd) {
                t.push(x.clone());
            }
        }
    }
    t
}

/// Installs the tools that are missing (apt-get), and checks for cargo.
pub fn ensure_tools(tools: &[Tool]) -> Result<()> {
    for t in tools {
        if which(t.cmd).is_none() {
            apt_install(t.packages)?;
            if which(t.cmd).is_none() {
                return Err(format!(
                    "{} still missing after installing {}",
                    t.cmd,
                    t.packages.join(" ")
                ));
            }
        }
    }
    if std::env::var_os("CARGO").is_none() && which("cargo").is_none() {
        return Err("cargo not found: install Rust (https://rustup.rs), then re-run".into());
    }
    Ok(())
}

/// The environment of every go command: self-contained, reproducible builds independent
/// of $HOME (CI runs as root): static (no cgo), trimmed paths, caches under
/// target/bench/go, no module or toolchain downloads.
pub fn go_env(c: &Ctx) -> Vec<(String, PathBuf)> {
    let mut env: Vec<(String, PathBuf)> = [
        ("CGO_ENABLED", "0"),
        ("GOFLAGS", "-trimpath"),
        ("GO111MODULE", "on"),
        ("GOTOOLCHAIN", "local"),
        ("GOPROXY", "off"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), PathBuf::from(v)))
    .collect();
    env.push(("GOCACHE".into(), c.out.join("go/cache")));
    env.push(("GOPATH".into(), c.out.join("go/path")));
    env
}

/// The version line of a tool, for the report's header.
pub fn version(c: &Ctx, t: &Tool) -> String {
    let mut cmd = Command::new(t.cmd);
    cmd.args(t.version_args);
    if t.cmd == "go" {
        cmd.envs(go_env(c));
    }
    proc::first_line(&mut cmd).unwrap_or_else(|| "unknown".into())
}

/// Builds every program the benchmarks need into target/bench (gort's examples where
/// cargo puts them), and records them in `c.exes`.
pub fn build_all(c: &mut Ctx, benches: &[Bench]) -> Result<()> {
    let progs: BTreeSet<Prog> = benches.iter().flat_map(|b| b.progs()).collect();
    let mut gort = vec![];
    let mut go = vec![];
    for p in progs {
        match p {
            Prog::Gort("hello") if c.knobs.gort_hello.is_some() => {
                let path = c.knobs.gort_hello.clone().unwrap();
                log(&format!(
                    "using STAND-IN {} for gort's hello (BENCH_GORT_HELLO)",
                    path.display()
                ));
                c.exes.insert(
                    p,
                    Exe {
                        path,
                        stand_in: true,
                    },
                );
            }
            Prog::Gort(e) => gort.push(e),
            Prog::Go(n) => go.push(n),
            Prog::Asm(n) => {
                log(&format!("building bench/{n}.S (gcc -nostdlib -static)"));
                let out = c.out.join(n);
                let src = format!("bench/{n}.S");
                gcc(c, &["-nostdlib", "-static", "-o"], &out, &src)?;
                c.exes.insert(
                    p,
                    Exe {
                        path: out,
                        stand_in: false,
                    },
                );
            }
            Prog::C(n) => {
                log(&format!("building bench/{n}.c (gcc -O2)"));
                let out = c.out.join(n);
                let src = format!("bench/{n}.c");
                gcc(c, &["-O2", "-Wall", "-Wextra", "-o"], &out, &src)?;
                c.exes.insert(
                    p,
                    Exe {
                        path: out,
                        stand_in: false,
                    },
                );
            }
        }
    }
    if !gort.is_empty() {
        build_gort(c, &gort)?;
    }
    if !go.is_empty() {
        build_go(c, &go)?;
    }
    Ok(())
}

fn gcc(c: &Ctx, flags: &[&str], out: &std::path::Path, src: &str) -> Result<()> {
    let mut cmd = Command::new("gcc");
    cmd.args(flags).arg(out).arg(src).current_dir(&c.root);
    proc::tool(&mut cmd, &format!("{src} failed to build"))?;
    Ok(())
}

/// `cargo build --release --example E...` in one go; the executables' paths are taken from
/// cargo's JSON messages (the directory depends on the build target in
/// .cargo/config.toml: target/[TRIPLE/]release/examples/E).
fn build_gort(c: &mut Ctx, examples: &[&'static str]) -> Result<()> {
    log(&format!(
        "building gort examples {} (cargo build --release --example ...)",
        examples.join(", ")
    ));
    let mut cmd = Command::new(proc::cargo());
    cmd.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ]);
    for e in examples {
        cmd.args(["--example", e]);
    }
    cmd.current_dir(&c.root);
    let json = proc::tool(&mut cmd, "gort examples failed to build")?;
    for e in examples {
        let path = json
            .lines()
            .filter_map(artifact)
            .filter(|(kind, name, _)| kind == "example" && name == e)
            .map(|(_, _, path)| PathBuf::from(path))
            .next_back()
            .ok_or_else(|| format!("cargo did not report gort example {e}'s executable"))?;
        if !path.is_file() {
            return Err(format!(
                "gort example {e}: {} is missing after the build",
                path.display()
            ));
        }
        c.exes.insert(
            Prog::Gort(e),
            Exe {
                path,
                stand_in: false,
            },
        );
    }
    Ok(())
}

/// From one of cargo's JSON messages, a built executable: (target kind, target name,
/// path). No JSON library: the fields are located by their keys.
fn artifact(line: &str) -> Option<(String, String, String)> {
    if !line.contains(r#""reason":"compiler-artifact""#) {
        return None;
    }
    let target = &line[line.find(r#""target":{"#)?..];
    let kind = json_str(target, r#""kind":[""#)?;
    let name = json_str(target, r#""name":""#)?;
    let exe = json_str(line, r#""executable":""#)?;
    Some((kind, name, exe))
}

/// The JSON string right after the first `key` in `s`, unescaped.
fn json_str(s: &str, key: &str) -> Option<String> {
    let mut chars = s[s.find(key)? + key.len()..].chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                ch => out.push(ch), // \" \\ \/
            },
            ch => out.push(ch),
        }
    }
}

/// `go build -ldflags='-s -w'` (stripped, like gort's release profile) of the packages,
/// in one go, into target/bench/go/bin.
fn build_go(c: &mut Ctx, pkgs: &[&'static str]) -> Result<()> {
    log(&format!(
        "building Go twins bench/go/{{{}}}",
        pkgs.join(",")
    ));
    let bin = c.out.join("go/bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let mut cmd = Command::new("go");
    cmd.args(["build", "-ldflags=-s -w", "-o"])
        .arg(format!("{}/", bin.display()))
        .args(pkgs.iter().map(|p| format!("./{p}")))
        .current_dir(c.root.join("bench/go"))
        .envs(go_env(c));
    proc::tool(&mut cmd, "Go programs in bench/go failed to build")?;
    for p in pkgs {
        let path = bin.join(p);
        if !path.is_file() {
            return Err(format!("go build did not produce {}", path.display()));
        }
        c.exes.insert(
            Prog::Go(p),
            Exe {
                path,
                stand_in: false,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_json() {
        let line = r#"{"reason":"compiler-artifact","package_id":"path+file:///w#gort@0.1.0","manifest_path":"/w/Cargo.toml","target":{"kind":["example"],"crate_types":["bin"],"name":"bench_spawn","src_path":"/w/bench/spawn.rs","edition":"2021","doc":false,"doctest":false,"test":false},"profile":{},"features":[],"filenames":["/w/t/bench_spawn"],"executable":"/w/t/a \"b\"\\c","fresh":true}"#;
        let (k, n, e) = artifact(line).unwrap();
        assert_eq!(
            (k.as_str(), n.as_str(), e.as_str()),
            ("example", "bench_spawn", r#"/w/t/a "b"\c"#)
        );
        assert!(artifact(
            &line.replace(r#""executable":"/w/t/a \"b\"\\c""#, r#""executable":null"#)
        )
        .is_none());
        assert!(artifact(r#"{"reason":"build-finished","success":true}"#).is_none());
    }
}
