//! Links the unwinder statically, so the binary does not load `libgcc_s` at start-up: see
//! `nsutils_build` and build/README.md (why, the measurement, the CI tripwire).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    nsutils_build::link_unwinder_statically();
}
