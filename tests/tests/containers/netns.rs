//! `ip netns add`: `nsenter --netns=NAME` (`/run/netns/NAME`, as `ip netns exec NAME`) enters it, as
//! util-linux's `nsenter --net=/run/netns/NAME` and `ip netns exec` do, and nsls lists it
//! with its NSFS path and NAME.

use harness::{skip, Cmd, Netns};

use crate::{need_tools, tool};

#[test]
fn ip_netns_is_entered_and_listed() {
    if !need_tools(&[("ip", "iproute2")]) {
        return;
    }
    if !harness::is_root() {
        return skip("ip netns add needs root");
    }
    let netns = Netns::add("nsutils-netns");
    let name = netns.name();
    let path = netns.path().display().to_string();
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).expect("netns file"));
    let stat = ["stat", "-L", "-c", "%i", "/proc/self/ns/net"];
    let ours = tool("nsenter", false)
        .arg(format!("--netns={name}"))
        .args(stat)
        .run();
    let ul = Cmd::new("nsenter")
        .arg(format!("--net={path}"))
        .args(stat)
        .run();
    let ipx = Cmd::new("ip")
        .args(["netns", "exec", name])
        .args(stat)
        .run();
    for out in [&ours, &ul, &ipx] {
        assert_eq!(out.ok().out(), ino.to_string(), "{out:?}");
    }
    let out = tool("nsls", false)
        .args(["-t", "net", "-J", "-o", "NS,NSFS,NAME"])
        .run();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("nsls -J");
    let row = v["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .find(|r| r["ns"].as_u64() == Some(ino))
        .unwrap_or_else(|| panic!("{name} not listed:{out:?}"));
    assert!(row["nsfs"].to_string().contains(&path), "{out:?}");
    assert_eq!(row["name"], name, "{out:?}");
}
