//! The shared core of nsutils: what `nsrun`, `nsenter`, `nsls` and `nsinit` have in common.
//!
//! | module | owns |
//! |---|---|
//! | [`kind`] | the one table of namespace kinds |
//! | [`mount`] | persisting namespaces by bind mount, `/run/netns`, mount propagation |
//! | [`nsfs`] | namespace files: open, check the kind, identity, owner, parent, enter |
//! | [`pidfd`] | pidfds: pin a target, its namespaces, atomic `setns(pidfd, mask)` |
//! | [`proc`] | processes in `/proc` through procfs: children, descendants, status ids |
//! | [`mountinfo`] | the mount table: nsfs bind mounts, escapes |
//! | [`idmap`] | id maps: parse, print, algebra, `/etc/subuid`, writing them |
//! | [`reaper`] | the init loop of nsinit and `nsrun --init`: spawn, reap, forward, shut down |
//! | [`safefile`] | files made, written or mounted onto at a user's path: no symlink followed, only our own removed |
//! | [`spawn`] | fork, exec, wait, exit-status fidelity, fd hygiene |
//! | [`exit`] | the exit-code table and `report` for every `main` |
//! | [`error`] | the one error type |
//! | [`cli`] | shared flags and value parsers |
//! | [`creds`] | the command's groups, gid, uid and kept capabilities |
//! | [`sys`] | the raw syscalls; the only module with `unsafe` |

pub mod cli;
pub mod creds;
pub mod error;
pub mod exit;
pub mod idmap;
pub mod kind;
pub mod mount;
pub mod mountinfo;
pub mod nsfs;
pub mod pidfd;
pub mod proc;
pub mod reaper;
pub mod safefile;
pub mod spawn;
pub mod sys;

pub use error::{Error, Result};
pub use exit::Outcome;
pub use kind::{KindMap, NsKind};
