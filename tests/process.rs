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
        assert_eq!(r.get("missing.path"), "executable file not found in $PATH");
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
