namespace Hyperlane.Cli.TestPmd;

/// <summary>What one port did during a forwarding run, for the summary and the final stats.</summary>
public sealed record PortResult(
    ushort Port,
    string Name,
    long RxPackets,
    long TxPackets,
    long RxBytes,
    long TxBytes,
    long RxMissed,
    long RxErrors,
    long RxNoMbuf,
    long TxErrors,
    long FwdDrops,
    double Seconds)
{
    public double RxMpps => Seconds > 0 ? RxPackets / Seconds / 1e6 : 0;

    public double TxMpps => Seconds > 0 ? TxPackets / Seconds / 1e6 : 0;
}
