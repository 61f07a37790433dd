using Hyperlane.Linux;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Session;

/// <summary>
/// What the frontend told the session about one vring (SET_VRING_NUM, _ADDR, _BASE, _KICK, _CALL, _ERR, _ENABLE), and
/// the slot its queue is published in. Owned by the session thread; the eventfds are owned here and closed when
/// replaced, when the ring stops (GET_VRING_BASE) and on reset.
/// </summary>
internal sealed class VhostVring : IDisposable
{
    public VhostVring(VhostQueueSlot slot)
    {
        Slot = slot;
    }

    public VhostQueueSlot Slot { get; }

    public int Index => Slot.Index;

    /// <summary>SET_VRING_NUM: the ring size; 0 until set.</summary>
    public uint Num { get; set; }

    /// <summary>SET_VRING_ADDR, once received.</summary>
    public VhostVringAddr? Addr { get; set; }

    /// <summary>SET_VRING_BASE (or the base a retired queue reported), once known.</summary>
    public uint? Base { get; set; }

    /// <summary>SET_VRING_KICK was received (with an fd, or with the invalid-FD flag: poll).</summary>
    public bool HasKick { get; private set; }

    /// <summary>The kick eventfd; null with the invalid-FD flag. The data path polls and never reads it.</summary>
    public EventFd? Kick { get; private set; }

    /// <summary>The call eventfd (interrupt the guest); null when not given or invalid-FD.</summary>
    public EventFd? Call { get; private set; }

    /// <summary>The error eventfd; stored, never signalled.</summary>
    public EventFd? Err { get; private set; }

    /// <summary>SET_VRING_ENABLE.</summary>
    public bool Enabled { get; set; }

    public void SetKick(EventFd? kick)
    {
        Kick?.Dispose();
        Kick = kick;
        HasKick = true;
    }

    /// <summary>Replaces the call eventfd; the old one is returned for the caller to dispose once no queue uses it.</summary>
    public EventFd? ReplaceCall(EventFd? call)
    {
        EventFd? old = Call;
        Call = call;
        return old;
    }

    public void SetErr(EventFd? err)
    {
        Err?.Dispose();
        Err = err;
    }

    /// <summary>GET_VRING_BASE: the ring is stopped; it needs a new kick (and DPDK closes the call fd too). Returns the old call fd to dispose after the retire.</summary>
    public EventFd? Stop()
    {
        Kick?.Dispose();
        Kick = null;
        HasKick = false;
        EventFd? call = Call;
        Call = null;
        return call;
    }

    /// <summary>Back to the state of a new connection (the queue must be retired first).</summary>
    public void Reset()
    {
        Kick?.Dispose();
        Call?.Dispose();
        Err?.Dispose();
        Kick = null;
        Call = null;
        Err = null;
        HasKick = false;
        Num = 0;
        Addr = null;
        Base = null;
        Enabled = false;
    }

    public void Dispose() => Reset();
}
