//! nsls against the real kernel.

use harness::{ns_ino, skip, Cmd};

#[test]
fn finds_a_new_network_namespace() {
    if !harness::is_root() {
        return skip("needs root");
    }
    let mut target = Cmd::tool("nsrun")
        .args(["-n", "sh", "-c", "echo ready; exec sleep 60"])
        .spawn();
    assert_eq!(target.read_line(), "ready");
    let ino = ns_ino(Some(target.pid()), "net");
    let out = Cmd::tool("nsls").args(["-n", "-t", "net"]).run();
    out.ok();
    let row = out
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&ino.to_string()))
        .unwrap_or_else(|| panic!("namespace {ino} not listed:{out:?}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1], "net", "{row}");
    assert_eq!(cols[2], "1", "NPROCS: {row}");
    assert_eq!(cols[3], target.pid().to_string(), "PID: {row}");
}

#[test]
fn bad_type_exits_1() {
    Cmd::tool("nsls")
        .args(["-t", "bogus"])
        .run()
        .code_is(1)
        .stderr_has("bogus");
}
