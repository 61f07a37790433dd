namespace Hyperlane.Linux.Netlink;

/// <summary>
/// Netlink, rtnetlink and tc constants: linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
/// linux/if_addr.h, linux/pkt_sched.h, linux/pkt_cls.h, linux/tc_act/tc_mirred.h, linux/tc_act/tc_gact.h,
/// linux/filter.h.
/// </summary>
internal static class Nl
{
    // socket (linux/netlink.h)
    public const int NETLINK_ROUTE = 0;
    public const int SOL_NETLINK = 270;
    public const int NETLINK_CAP_ACK = 10;
    public const int NETLINK_EXT_ACK = 11;
    public const int SockaddrNlSize = 12;
    public const int MSG_PEEK = 0x2;
    public const int ENOBUFS = 105;

    // struct nlmsghdr: u32 len, u16 type, u16 flags, u32 seq, u32 pid
    public const int HeaderSize = 16;
    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;

    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_MULTI = 0x2;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_DUMP = 0x300;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;

    // struct nlmsgerr: int error + struct nlmsghdr msg, then TLVs (enum nlmsgerr_attrs)
    public const int ErrorHeaderSize = 4 + HeaderSize;
    public const ushort NLMSGERR_ATTR_MSG = 1;

    // struct nlattr / rtattr: u16 len, u16 type
    public const int AttributeHeaderSize = 4;
    public const ushort NLA_TYPE_MASK = 0x3FFF;   // without NLA_F_NESTED (0x8000) and NLA_F_NET_BYTEORDER (0x4000)

    // rtnetlink message types
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_DELLINK = 17;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_GETADDR = 22;
    public const ushort RTM_NEWQDISC = 36;
    public const ushort RTM_DELQDISC = 37;
    public const ushort RTM_GETQDISC = 38;
    public const ushort RTM_NEWTFILTER = 44;
    public const ushort RTM_DELTFILTER = 45;
    public const ushort RTM_GETTFILTER = 46;

    public const uint RTMGRP_LINK = 0x1;

    // struct ifinfomsg: u8 family, u8 pad, u16 type, i32 index, u32 flags, u32 change
    public const int IfInfoMsgSize = 16;
    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_MASTER = 10;
    public const ushort IFLA_OPERSTATE = 16;
    public const ushort IFLA_LINKINFO = 18;
    public const ushort IFLA_INFO_KIND = 1;
    public const int IFNAMSIZ = 16;

    // struct ifaddrmsg: u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index
    public const int IfAddrMsgSize = 8;
    public const ushort IFA_ADDRESS = 1;
    public const ushort IFA_LOCAL = 2;
    public const int AF_UNSPEC = 0;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;

    // struct tcmsg: u8 family, u8 pad1, u16 pad2, i32 ifindex, u32 handle, u32 parent, u32 info
    public const int TcMsgSize = 20;
    public const ushort TCA_KIND = 1;
    public const ushort TCA_OPTIONS = 2;
    public const uint TC_H_ROOT = 0xFFFFFFFF;
    public const uint TC_H_INGRESS = 0xFFFFFFF1;
    public const uint TC_H_MIN_INGRESS = 0xFFF2; // with TC_H_CLSACT (= TC_H_INGRESS) as major: ffff:fff2
    public const uint IngressHandle = 0xFFFF0000;
    public const uint MultiqHandle = 0x00010000;
    public const ushort ETH_P_ALL = 0x0003;

    // u32 classifier (linux/pkt_cls.h)
    public const ushort TCA_U32_SEL = 5;
    public const ushort TCA_U32_ACT = 7;
    public const byte TC_U32_TERMINAL = 1;
    public const int U32SelSize = 16;   // struct tc_u32_sel without keys
    public const int U32KeySize = 16;   // struct tc_u32_key: be32 mask, be32 val, int off, int offmask

    // actions
    public const ushort TCA_ACT_KIND = 1;
    public const ushort TCA_ACT_OPTIONS = 2;
    public const int TC_ACT_OK = 0;
    public const int TC_ACT_SHOT = 2;
    public const int TC_ACT_PIPE = 3;
    public const int TC_ACT_STOLEN = 4;

    // mirred (linux/tc_act/tc_mirred.h)
    public const ushort TCA_MIRRED_PARMS = 2;
    public const int TCA_EGRESS_REDIR = 1;
    public const int TCA_EGRESS_MIRROR = 2;
    public const int TcMirredSize = 28;  // tc_gen (index, capab, action, refcnt, bindcnt) + eaction + ifindex

    // gact (linux/tc_act/tc_gact.h): enum { TCA_GACT_UNSPEC, TCA_GACT_TM, TCA_GACT_PARMS, TCA_GACT_PROB, TCA_GACT_PAD }
    public const ushort TCA_GACT_PARMS = 2;
    public const int TcGactSize = 20;    // struct tc_gact { tc_gen; }: u32 index, u32 capab, int action, int refcnt, int bindcnt

    // bpf classifier (linux/pkt_cls.h): enum { TCA_BPF_UNSPEC, _ACT, _POLICE, _CLASSID, _OPS_LEN, _OPS, _FD, _NAME, _FLAGS, ... }
    public const ushort TCA_BPF_OPS_LEN = 4;
    public const ushort TCA_BPF_OPS = 5;
    public const ushort TCA_BPF_FLAGS = 8;
    public const uint TCA_BPF_FLAG_ACT_DIRECT = 1;

    // classic BPF (linux/filter.h): struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }
    public const int SockFilterSize = 8;
    public const ushort BPF_RET_K = 0x06; // BPF_RET | BPF_K: return the constant k

    public static int Align(int length) => (length + 3) & ~3;

    public static string TypeName(ushort type) => type switch
    {
        RTM_NEWLINK => "RTM_NEWLINK",
        RTM_DELLINK => "RTM_DELLINK",
        RTM_GETLINK => "RTM_GETLINK",
        RTM_NEWADDR => "RTM_NEWADDR",
        RTM_GETADDR => "RTM_GETADDR",
        RTM_NEWQDISC => "RTM_NEWQDISC",
        RTM_DELQDISC => "RTM_DELQDISC",
        RTM_GETQDISC => "RTM_GETQDISC",
        RTM_NEWTFILTER => "RTM_NEWTFILTER",
        RTM_DELTFILTER => "RTM_DELTFILTER",
        RTM_GETTFILTER => "RTM_GETTFILTER",
        _ => $"netlink type {type}",
    };
}
