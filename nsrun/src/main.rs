//! The `nsrun` binary: everything lives in the library so that man pages and completions
//! can be generated from the same clap definition.
//!
//! `no_main`: the C `main` comes from [`nsutils_common::sys::entry!`], which skips the
//! parts of Rust's start-up the tool does not need (see there: time and memory per start).

#![forbid(unsafe_code)]
#![no_main]

nsutils_common::sys::entry!(nsrun::main);
