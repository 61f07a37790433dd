namespace Hyperlane.Linux.Netlink;

/// <summary>tc parents (tcm_parent) for filters on the ingress side of an interface (linux/pkt_sched.h).</summary>
public static class TcParent
{
    /// <summary>
    /// ffff:0000, the ingress qdisc's handle: what <c>tc filter add dev X parent ffff:</c> sends. Only the
    /// ingress qdisc accepts it; a clsact qdisc in the same place refuses it (EINVAL).
    /// </summary>
    public const uint Ingress = Nl.IngressHandle;

    /// <summary>
    /// ffff:fff2, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS): what <c>tc filter add dev X ingress</c> sends. The
    /// ingress qdisc and clsact's ingress side both accept it, so a filter added here works under either.
    /// </summary>
    public const uint IngressBlock = (Nl.TC_H_INGRESS & 0xFFFF0000) | Nl.TC_H_MIN_INGRESS;
}
