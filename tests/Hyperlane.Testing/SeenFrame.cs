namespace Hyperlane.Testing;

/// <summary>One lab frame seen by a <see cref="FrameSink"/>: when it was read (Stopwatch), its sequence number and when it was sent.</summary>
public readonly record struct SeenFrame(long RxTimestamp, long Seq, long TxTimestamp, ushort SrcPort);
