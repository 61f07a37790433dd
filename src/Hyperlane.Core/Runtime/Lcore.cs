namespace Hyperlane.Core.Runtime;

/// <summary>A logical core: an id, the CPU its thread is pinned to, and whether it is the main lcore.</summary>
public sealed record Lcore(int Id, int Cpu, bool IsMain);
