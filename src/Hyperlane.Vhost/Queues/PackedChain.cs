namespace Hyperlane.Vhost.Queues;

/// <summary>
/// What walking one packed descriptor chain found (<see cref="PackedVhostQueue"/>): how many ring descriptors it
/// occupies (the used index advances by that many), the buffer id to return, and, when it is valid, its elements
/// (in the queue's segment scratch) and their total length.
/// </summary>
internal struct PackedChain
{
    /// <summary>Ring descriptors of the chain (1..ring size), counted even when it is malformed.</summary>
    public int Descriptors;

    /// <summary>The buffer id: the id of the chain's last ring descriptor (§2.8.6), as the guest wrote it.</summary>
    public ushort Id;

    /// <summary>Non-empty elements stored in the segment scratch.</summary>
    public int Segments;

    /// <summary>Sum of the elements' lengths (64-bit: cannot overflow).</summary>
    public ulong Length;

    /// <summary>What is wrong with the chain, or <see cref="VhostQueueFault.None"/>.</summary>
    public VhostQueueFault Fault;

    /// <summary>The ring index of the descriptor the fault was found at.</summary>
    public int FaultIndex;
}
