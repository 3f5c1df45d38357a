//! gort::process (examples/exec.rs): 16 MiB through `cat` intact, output of both
//! streams and the exit code, std's error kinds for programs that cannot run, a wait
//! that parks the goroutine (a 10 ms ticker keeps ticking at GOMAXPROCS=1), kill,
//! and the child's environment and directory. Natively and under qemu-x86_64, with
//! GOMAXPROCS=1 and the default.

mod common;

use common::*;

#[test]
fn sixteen_mib_through_cat_arrive_intact() {
    each("exec", &["cat"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("cat.bytes"), "16777216", "{mode:?} {procs:?}");
        assert_eq!(r.get("cat.intact"), "true", "{mode:?} {procs:?}");
        assert_eq!(r.get("cat.status"), "exit status 0");
    });
}

/// The PATH lookup skips a file without an execute bit and a directory of the
/// program's name, and takes the next PATH entry (Go's LookPath); it used to
/// stop at the first name that existed and fail with PermissionDenied.
#[test]
fn path_lookup_skips_non_executables_and_directories() {
    let dir = std::env::temp_dir().join(format!("gort-lookpath-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("true")).unwrap();
    std::fs::write(dir.join("sh"), "#!/bin/sh\nexit 1\n").unwrap();
    let path = format!("{}:/usr/bin:/bin", dir.display());
    for &mode in modes() {
        let r = run_env(mode, "exec", &["lookpath"], &[("PATH", &path)]);
        r.assert_exit(0);
        assert_eq!(r.get("lookpath.sh"), "Ok(Some(7))", "{mode:?}");
        assert_eq!(r.get("lookpath.true"), "Ok(Some(0))", "{mode:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_status_errors_kill_and_environment() {
    each("exec", &["output"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("output.stdout"), "\"out\\n\"", "{mode:?} {procs:?}");
        assert_eq!(r.get("output.stderr"), "\"err\\n\"");
        assert_eq!(r.get("output.code"), "Some(3)");
        assert_eq!(r.get("output.status"), "exit status 3");
    });
    for &mode in modes() {
        let r = run(mode, "exec", &["missing"]);
        r.assert_exit(0);
        assert_eq!(r.get("missing.path.kind"), "NotFound", "{mode:?}");
        // Go's exec.Error: the program's name, then why.
        assert_eq!(
            r.get("missing.path"),
            "exec: \"gort-no-such-program\": executable file not found in $PATH"
        );
        assert_eq!(r.get("missing.path.os"), "None");
        assert_eq!(r.get("missing.abs.kind"), "NotFound");
        assert_eq!(
            r.get("missing.abs"),
            "No such file or directory (os error 2)"
        );
        assert_eq!(r.get("missing.noexec.kind"), "PermissionDenied");
        let r = run(mode, "exec", &["kill"]);
        r.assert_exit(0);
        assert_eq!(r.get("kill.signal"), "Some(9)", "{mode:?}");
        assert_eq!(r.get("kill.status"), "signal: killed");
        assert_eq!(r.get("kill.int_status"), "signal: interrupt");
        let r = run(mode, "exec", &["env"]);
        r.assert_exit(0);
        assert_eq!(r.get("env.out"), "\"bar||/tmp\\n\"", "{mode:?}");
    }
}

#[test]
fn waiting_for_a_child_parks_the_goroutine_not_the_p() {
    each("exec", &["wait"], |r, mode, procs| {
        r.assert_exit(0);
        assert_eq!(r.get("wait.status"), "exit status 0");
        // 300 ms of a 10 ms ticker while main waits for `sleep 0.3`.
        assert!(
            r.num("wait.ticks") >= 15,
            "{mode:?} {procs:?}: the ticker stalled while main waited: {}",
            r.stdout
        );
    });
}

/// Start cmd's program with exactly the environment entries env, as bytes (std's
/// Command passes only NAME=value entries): the forked child makes its own execve
/// before std's would.
fn with_raw_environment(cmd: &mut std::process::Command, env: &[&[u8]]) {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |b: &[u8]| CString::new(b).unwrap();
    let path = c(cmd.get_program().as_bytes());
    let argv: Vec<CString> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| c(a.as_bytes()))
        .collect();
    let envp: Vec<CString> = env.iter().map(|e| c(e)).collect();
    let ptrs = |v: &[CString]| -> Vec<usize> {
        v.iter()
            .map(|s| s.as_ptr() as usize)
            .chain(std::iter::once(0))
            .collect()
    };
    let (argv_p, envp_p) = (ptrs(&argv), ptrs(&envp));
    // SAFETY: execve is async-signal-safe; the closure owns the strings and the
    // NULL-terminated arrays of pointers to them, alive in the child at the call.
    unsafe {
        in_child_before_exec(cmd, move || {
            let _strings = (&argv, &envp);
            syscalls::syscall!(
                syscalls::Sysno::execve,
                path.as_ptr(),
                argv_p.as_ptr(),
                envp_p.as_ptr()
            )
        });
    }
}

/// A child gets the environment's entries as bytes: unchanged when the Command
/// changes nothing, and less only what env_remove names otherwise (Go's exec.Cmd,
/// std's Command). gort built it from env::vars, which dropped every entry that was
/// not UTF-8 and wrote an entry without '=' as NAME=.
#[test]
fn a_child_gets_the_environment_byte_for_byte() {
    let env: [&[u8]; 5] = [
        b"PATH=/usr/bin:/bin",
        b"BADVAR=caf\xe9",
        b"GORT_BARE",
        b"K\xff=v",
        b"GOODVAR=ok",
    ];
    for &mode in modes() {
        let mut cmd = command(mode, "exec", &["envpass"]);
        with_raw_environment(&mut cmd, &env);
        let r = run_cmd(cmd, std::time::Duration::from_secs(60));
        r.assert_exit(0);
        // qemu-user hands its guest the NAME=value entries only, in an order of its
        // own: compare those as sets there.
        let kept: Vec<&[u8]> = env
            .iter()
            .copied()
            .filter(|e| mode == Mode::Native || e.contains(&b'='))
            .collect();
        let entries = |list: Vec<&[u8]>| -> Vec<String> {
            let mut v: Vec<String> = list.iter().map(|e| e.escape_ascii().to_string()).collect();
            if mode == Mode::Qemu {
                v.sort();
            }
            v
        };
        let printed = |key: &str| -> Vec<String> {
            let mut v: Vec<String> = r
                .get(key)
                .split_terminator("\\x00")
                .map(String::from)
                .collect();
            if mode == Mode::Qemu {
                v.sort();
            }
            v
        };
        assert_eq!(
            printed("envpass.inherited"),
            entries(kept.clone()),
            "{mode:?}"
        );
        let mut changed: Vec<&[u8]> = kept
            .into_iter()
            .filter(|e| !e.starts_with(b"GOODVAR="))
            .collect();
        changed.push(b"GORT_ADDED=1");
        assert_eq!(printed("envpass.changed"), entries(changed), "{mode:?}");
    }
}

/// A spawn that fails part way through setting up the child's streams closes
/// every descriptor it opened. The parent's pipe ends were raw numbers until all
/// three pipes existed, so EMFILE on the third pipe left the first two open.
#[test]
fn a_spawn_that_runs_out_of_descriptors_leaks_none() {
    for &mode in modes() {
        let mut cmd = command(mode, "exec", &["emfile"]);
        rlimit(&mut cmd, RLIMIT_NOFILE, 64);
        let r = run_cmd(cmd, std::time::Duration::from_secs(60));
        r.assert_exit(0);
        assert_eq!(r.get("emfile.err"), "Some(24)", "{mode:?}: EMFILE");
        assert_eq!(r.get("emfile.leaked"), "0", "{mode:?}");
        assert_eq!(r.get("emfile.then"), "exit status 0", "{mode:?}");
    }
}
