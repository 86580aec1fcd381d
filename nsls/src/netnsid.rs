//! NETNSID: the id our network namespace gives another one (`ip netns list-id`), asked of
//! the kernel with an `RTM_GETNSID` rtnetlink request carrying an fd of that namespace, as
//! lsns does. One socket serves every namespace of a listing.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::sys::socket::{
    bind, recv, send, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol,
    SockType,
};

const RTM_NEWNSID: u16 = 88;
const RTM_GETNSID: u16 = 90;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NETNSA_NSID: u16 = 1;
const NETNSA_FD: u16 = 3;
const NLMSG_HDRLEN: usize = 16;
/// `struct rtgenmsg` (one byte) padded to 4.
const RTGEN_LEN: usize = 4;

/// The answer for one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetNsId {
    /// An id is assigned.
    Id(i32),
    /// None assigned (lsns prints `unassigned`).
    Unassigned,
}

/// An rtnetlink socket for `RTM_GETNSID`.
#[derive(Debug)]
pub struct NsIdQuery {
    sock: OwnedFd,
    seq: u32,
}

impl NsIdQuery {
    /// Open the socket.
    pub fn new() -> nix::Result<NsIdQuery> {
        let sock = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )?;
        bind(sock.as_raw_fd(), &NetlinkAddr::new(0, 0))?;
        Ok(NsIdQuery { sock, seq: 0 })
    }

    /// The id of the network namespace `ns` refers to.
    pub fn query(&mut self, ns: impl AsFd) -> nix::Result<NetNsId> {
        self.seq += 1;
        let len = NLMSG_HDRLEN + RTGEN_LEN + 8;
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&RTM_GETNSID.to_ne_bytes());
        msg.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        // rtgenmsg: family AF_UNSPEC, padded.
        msg.extend_from_slice(&[0u8; RTGEN_LEN]);
        // rtattr NETNSA_FD: the namespace's fd.
        msg.extend_from_slice(&8u16.to_ne_bytes());
        msg.extend_from_slice(&NETNSA_FD.to_ne_bytes());
        msg.extend_from_slice(&(ns.as_fd().as_raw_fd() as u32).to_ne_bytes());
        send(self.sock.as_raw_fd(), &msg, MsgFlags::empty())?;
        let mut buf = [0u8; 256];
        loop {
            let n = recv(self.sock.as_raw_fd(), &mut buf, MsgFlags::empty())?;
            let reply = &buf[..n];
            let u16_at = |o: usize| {
                reply
                    .get(o..o + 2)
                    .map(|b| u16::from_ne_bytes([b[0], b[1]]))
            };
            let u32_at = |o: usize| {
                reply
                    .get(o..o + 4)
                    .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            };
            let Some(ty) = u16_at(4) else {
                return Err(nix::errno::Errno::EPROTO);
            };
            if u32_at(8) != Some(self.seq) {
                continue;
            }
            match ty {
                NLMSG_ERROR => {
                    let code = u32_at(NLMSG_HDRLEN).unwrap_or(0) as i32;
                    return Err(nix::errno::Errno::from_raw(-code));
                }
                RTM_NEWNSID => {
                    let mut off = NLMSG_HDRLEN + RTGEN_LEN;
                    while let (Some(alen), Some(aty)) = (u16_at(off), u16_at(off + 2)) {
                        if alen < 4 {
                            break;
                        }
                        if aty == NETNSA_NSID {
                            let id = u32_at(off + 4).unwrap_or(u32::MAX) as i32;
                            return Ok(if id < 0 {
                                NetNsId::Unassigned
                            } else {
                                NetNsId::Id(id)
                            });
                        }
                        off += (usize::from(alen) + 3) & !3;
                    }
                    return Ok(NetNsId::Unassigned);
                }
                _ => return Err(nix::errno::Errno::EPROTO),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_namespace_has_no_id_of_its_own() {
        let mut q = NsIdQuery::new().expect("netlink socket");
        let me = std::fs::File::open("/proc/self/ns/net").expect("open");
        // The current namespace is "unassigned" (or -1) from its own point of view, unless
        // something assigned it one, which nothing does for the namespace one lives in.
        let id = q.query(&me).expect("query");
        assert!(matches!(id, NetNsId::Unassigned | NetNsId::Id(_)));
    }
}
