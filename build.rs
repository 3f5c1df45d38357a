// Link arguments for the freestanding programs (the examples) only: the unit and
// integration tests are ordinary std programs and must link with the C runtime as usual.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    for kind in ["examples"] {
        for arg in [
            "-nostartfiles",
            "-nostdlib",
            "-static",
            "-no-pie",
            "-Wl,--gc-sections",
            "-Wl,--build-id=none",
            "-Wl,-z,noexecstack",
            &format!("-Wl,-T,{dir}/linker.ld"),
        ] {
            println!("cargo:rustc-link-arg-{kind}={arg}");
        }
    }
    // For crates that depend on gort: their build.rs reads DEP_GORT_LINKER_SCRIPT.
    println!("cargo:linker_script={dir}/linker.ld");
    println!("cargo:rerun-if-changed=linker.ld");
    println!("cargo:rerun-if-changed=build.rs");
    for f in [
        "rt0/rt0_linux_amd64.s",
        "rt0/asm_amd64.s",
        "rt0/sys_linux_amd64.s",
        "rt0/preempt_amd64.s",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
}
