// Link a static executable with no C start files, laid out by gort's linker script
// (gort's build script exports its path).
fn main() {
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--gc-sections",
    ] {
        println!("cargo:rustc-link-arg={arg}");
    }
    let script = std::env::var("DEP_GORT_LINKER_SCRIPT").expect("gort exports its linker script");
    println!("cargo:rustc-link-arg=-Wl,-T,{script}");
}
