//! The `nsenter` binary: everything lives in the library so that man pages and completions
//! can be generated from the same clap definition.
//!
//! `no_main`: the C `main` comes from [`nsutils_common::sys::entry!`], which skips the
//! parts of Rust's start-up the tool does not need (see there: time and memory per start).

#![forbid(unsafe_code)]
// Unit tests of this crate get the test harness's own main.
#![cfg_attr(not(test), no_main)]

#[cfg(not(test))]
nsutils_common::sys::entry!(nsenter::main);
