using System.Runtime.ExceptionServices;
using Hyperlane.Linux;
using Hyperlane.Linux.Netlink;

namespace Hyperlane.Net.Tap;

/// <summary>
/// Remote mode (<c>remote=&lt;netdev&gt;</c>, dpdk-drivers.md §6.3): steals the unicast traffic of an existing
/// netdev into the TAP and copies its broadcast / IPv6 multicast, with ingress qdiscs and u32 + mirred
/// filters (this kernel has no flower or multiq). Records everything it changes on the remote so that
/// <see cref="Dispose"/> puts it back exactly: its flags (up, promiscuous, all-multicast), MAC and MTU, and
/// no qdisc or filter of ours left (a qdisc that was there before stays). Control path only.
/// </summary>
internal sealed class TapRemote : IDisposable
{
    private static readonly byte[] BroadcastMac = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    private static readonly byte[] Ipv6MulticastMac = [0x33, 0x33, 0, 0, 0, 0];
    private static readonly byte[] Ipv6MulticastMask = [0xff, 0xff, 0, 0, 0, 0];
    private static readonly byte[] GroupBit = [0x01, 0, 0, 0, 0, 0];

    private readonly RtNetlink netlink;
    private readonly int tapIndex;
    private readonly string tapName;
    private readonly LinkInfo saved;
    private readonly bool hadIngress;
    private readonly HashSet<ushort> remoteRules = [];
    private bool addedRemoteIngress;
    private bool addedTapIngress;
    private bool tapRule;
    private bool changedUp;
    private bool changedPromisc;
    private bool changedAllMulti;
    private bool changedMac;
    private bool changedMtu;
    private byte[] mac;
    private bool gone;

    private TapRemote(RtNetlink netlink, LinkInfo remote, int tapIndex, string tapName, bool hadIngress)
    {
        this.netlink = netlink;
        saved = remote;
        this.tapIndex = tapIndex;
        this.tapName = tapName;
        this.hadIngress = hadIngress;
        mac = [.. remote.Address];
    }

    public int Index => saved.Index;

    public string Name => saved.Name;

    /// <summary>The remote's MAC when the port was probed (the port starts with it).</summary>
    public ReadOnlySpan<byte> OriginalMac => saved.Address;

    /// <summary>
    /// Resolves <paramref name="remoteName"/>, copies its MAC to the TAP and installs the rules. On failure
    /// everything added so far is removed and one <see cref="TapRemoteException"/> says which step failed.
    /// </summary>
    public static TapRemote Setup(RtNetlink netlink, string remoteName, int tapIndex, string tapName)
    {
        LinkInfo remote;
        try
        {
            remote = netlink.GetLink(remoteName)
                ?? throw new TapRemoteException($"remote netdev '{remoteName}' does not exist", Errno.ENODEV);
        }
        catch (NetlinkException ex)
        {
            throw new TapRemoteException($"remote netdev '{remoteName}': looking it up failed: {ex.Message}", ex.Error, ex);
        }

        if (remote.Index == tapIndex)
        {
            throw new TapRemoteException($"remote netdev '{remoteName}' is the TAP itself", Errno.EINVAL);
        }

        if (remote.Address is not { Length: 6 })
        {
            throw new TapRemoteException($"remote netdev '{remoteName}' has no Ethernet MAC address (kind {remote.Kind ?? "unknown"})", Errno.EINVAL);
        }

        bool hadIngress = Step($"reading the qdiscs of '{remoteName}'", () => HasIngress(netlink, remote.Index));
        var r = new TapRemote(netlink, remote, tapIndex, tapName, hadIngress);
        try
        {
            r.Install();
            return r;
        }
        catch
        {
            r.Dispose();
            throw;
        }
    }

    /// <summary>The remote netdev was deleted: nothing of it is left to restore.</summary>
    public void MarkGone() => gone = true;

    public void SetPromiscuous(bool on)
    {
        if (on)
        {
            SetRemoteFlag("promiscuous on", () => netlink.SetPromiscuous(Index, true));
            changedPromisc = true;
            AddRemoteRule(TapRemoteRules.Promiscuous, "TAP_REMOTE_PROMISC (u32 all)", U32Match.All, MirredAction.EgressMirror);
        }
        else
        {
            DeleteRemoteRule(TapRemoteRules.Promiscuous, "TAP_REMOTE_PROMISC");
            SetRemoteFlag("promiscuous off", () => netlink.SetPromiscuous(Index, saved.Promiscuous));
        }
    }

    public void SetAllMulticast(bool on)
    {
        if (on)
        {
            SetRemoteFlag("all-multicast on", () => netlink.SetAllMulticast(Index, true));
            changedAllMulti = true;
            AddRemoteRule(TapRemoteRules.AllMulticast, "TAP_REMOTE_ALLMULTI (u32 dst & 01:00:00:00:00:00)", U32Match.DestinationMac(GroupBit, GroupBit), MirredAction.EgressMirror);
        }
        else
        {
            DeleteRemoteRule(TapRemoteRules.AllMulticast, "TAP_REMOTE_ALLMULTI");
            SetRemoteFlag("all-multicast off", () => netlink.SetAllMulticast(Index, saved.AllMulticast));
        }
    }

    /// <summary>Sets the remote's MAC and moves the local-MAC rule to it.</summary>
    public void SetMacAddress(byte[] newMac)
    {
        SetRemoteFlag("MAC address set", () => netlink.SetMacAddress(Index, newMac));
        changedMac = true;
        DeleteRemoteRule(TapRemoteRules.LocalMac, "TAP_REMOTE_LOCAL_MAC");
        mac = newMac;
        AddLocalMacRule();
    }

    public void SetMtu(int mtu)
    {
        SetRemoteFlag("MTU set", () => netlink.SetMtu(Index, mtu));
        changedMtu = true;
    }

    public void SetUp()
    {
        SetRemoteFlag("link up", () => netlink.SetLinkUp(Index, true));
        changedUp = true;
    }

    /// <summary>Whether the remote is up with carrier (DPDK checks its IFF_RUNNING).</summary>
    public bool IsRunning()
    {
        if (gone)
        {
            return false;
        }

        var l = netlink.GetLink(Index);
        return l is not null && l.IsUp && l.HasCarrier;
    }

    /// <summary>
    /// Removes every rule and qdisc this port added and restores the remote's flags, MAC and MTU. Goes on
    /// past failures and throws the first one at the end.
    /// </summary>
    public void Dispose()
    {
        ExceptionDispatchInfo? first = null;
        void Try(Action a)
        {
            try
            {
                a();
            }
            catch (Exception ex) when (ex is LinuxException or TimeoutException or TapRemoteException)
            {
                first ??= ExceptionDispatchInfo.Capture(ex);
            }
        }

        if (tapRule)
        {
            Try(() => netlink.DeleteFilter(tapIndex, TapRemoteRules.IngressParent, TapRemoteRules.Tx));
            tapRule = false;
        }

        if (addedTapIngress)
        {
            Try(() => netlink.DeleteQdisc(tapIndex, QdiscKind.Ingress));
            addedTapIngress = false;
        }

        if (!gone)
        {
            foreach (ushort prio in remoteRules)
            {
                Try(() => netlink.DeleteFilter(Index, TapRemoteRules.IngressParent, prio));
            }

            if (addedRemoteIngress)
            {
                Try(() => netlink.DeleteQdisc(Index, QdiscKind.Ingress));
            }

            if (changedMtu)
            {
                Try(() => netlink.SetMtu(Index, saved.Mtu));
            }

            if (changedMac)
            {
                Try(() => netlink.SetMacAddress(Index, saved.Address));
            }

            if (changedPromisc)
            {
                Try(() => netlink.SetPromiscuous(Index, saved.Promiscuous));
            }

            if (changedAllMulti)
            {
                Try(() => netlink.SetAllMulticast(Index, saved.AllMulticast));
            }

            if (changedUp)
            {
                Try(() => netlink.SetLinkUp(Index, saved.IsUp));
            }
        }

        remoteRules.Clear();
        addedRemoteIngress = changedMtu = changedMac = changedPromisc = changedAllMulti = changedUp = false;
        first?.Throw();
    }

    private static bool HasIngress(RtNetlink netlink, int index)
    {
        foreach (var q in netlink.DumpQdiscs(index))
        {
            if (q.Kind == "ingress" || q.Parent == 0xFFFFFFF1)
            {
                return true;
            }
        }

        return false;
    }

    private static T Step<T>(string what, Func<T> f)
    {
        try
        {
            return f();
        }
        catch (NetlinkException ex)
        {
            throw new TapRemoteException($"{what} failed: {ex.Message}", ex.Error, ex);
        }
        catch (TimeoutException ex)
        {
            throw new TapRemoteException($"{what} failed: {ex.Message}", Errno.ETIMEDOUT, ex);
        }
    }

    private static void Step(string what, Action a) => Step(what, () =>
    {
        a();
        return 0;
    });

    private void Install()
    {
        // 1. The TAP takes the remote's MAC, so the application answers for it.
        Step($"copying the MAC of '{Name}' to TAP '{tapName}'", () => netlink.SetMacAddress(tapIndex, saved.Address));

        // 2. Ingress qdiscs. A qdisc already on the remote is used and left there at close. If one was there,
        //    filters at our priorities can only be left over from a crashed run: clear them first.
        if (!hadIngress)
        {
            addedRemoteIngress = AddIngress(Index, Name);
        }
        else
        {
            foreach (ushort prio in TapRemoteRules.OnRemote)
            {
                Step($"clearing stale filters at priority 0x{prio:x} on '{Name}'", () => netlink.DeleteFilter(Index, TapRemoteRules.IngressParent, prio));
            }
        }

        addedTapIngress = AddIngress(tapIndex, tapName);

        // 3. Rules on the remote's ingress, then the TAP's.
        AddLocalMacRule();
        AddRemoteRule(TapRemoteRules.Broadcast, "TAP_REMOTE_BROADCAST (u32 dst ff:ff:ff:ff:ff:ff)", U32Match.DestinationMac(BroadcastMac), MirredAction.EgressMirror);
        AddRemoteRule(TapRemoteRules.BroadcastV6, "TAP_REMOTE_BROADCASTV6 (u32 dst 33:33:00:00:00:00/ff:ff:00:00:00:00)", U32Match.DestinationMac(Ipv6MulticastMac, Ipv6MulticastMask), MirredAction.EgressMirror);
        AddFilter(tapIndex, tapName, TapRemoteRules.Tx, $"TAP_REMOTE_TX (u32 all → redirect to '{Name}')", U32Match.All, MirredAction.EgressRedirect, Index);
        tapRule = true;
    }

    private bool AddIngress(int index, string name)
    {
        try
        {
            netlink.AddQdisc(index, QdiscKind.Ingress);
            return true;
        }
        catch (NetlinkException ex) when (ex.Error == Errno.EEXIST)
        {
            return false; // there already (hardening TAP-02): use it, and leave it at close
        }
        catch (Exception ex) when (ex is NetlinkException or TimeoutException)
        {
            throw new TapRemoteException($"adding the ingress qdisc on '{name}' failed: {ex.Message}", (ex as LinuxException)?.Error ?? Errno.ETIMEDOUT, ex);
        }
    }

    private void AddLocalMacRule() =>
        AddRemoteRule(TapRemoteRules.LocalMac, $"TAP_REMOTE_LOCAL_MAC (u32 dst {Format(mac)} → redirect)", U32Match.DestinationMac(mac), MirredAction.EgressRedirect);

    private void AddRemoteRule(ushort prio, string name, U32Match match, MirredAction action)
    {
        if (remoteRules.Contains(prio))
        {
            return;
        }

        AddFilter(Index, Name, prio, name, match, action, tapIndex);
        remoteRules.Add(prio);
    }

    private void DeleteRemoteRule(ushort prio, string name)
    {
        if (!remoteRules.Contains(prio))
        {
            return;
        }

        Step($"deleting rule {name} on '{Name}'", () => netlink.DeleteFilter(Index, TapRemoteRules.IngressParent, prio));
        remoteRules.Remove(prio);
    }

    private void AddFilter(int index, string onName, ushort prio, string rule, U32Match match, MirredAction action, int target)
    {
        try
        {
            netlink.AddU32MirredFilter(index, TapRemoteRules.IngressParent, prio, 0, match, action, target);
        }
        catch (NetlinkException ex) when (ex.Error == Errno.EEXIST)
        {
            // Re-add of a rule that is there (hardening TAP-02): it is ours, keep it.
        }
        catch (Exception ex) when (ex is NetlinkException or TimeoutException)
        {
            throw new TapRemoteException($"adding rule {rule} on '{onName}' ingress (priority 0x{prio:x}) failed: {ex.Message}", (ex as LinuxException)?.Error ?? Errno.ETIMEDOUT, ex);
        }
    }

    private void SetRemoteFlag(string what, Action a) => Step($"{what} on remote '{Name}'", a);

    private static string Format(ReadOnlySpan<byte> m) => $"{m[0]:x2}:{m[1]:x2}:{m[2]:x2}:{m[3]:x2}:{m[4]:x2}:{m[5]:x2}";
}
